#!/usr/bin/env bats
# Interop: the npm nsqjs client (pinned in package.json) against our nsqd.
# The node scripts beside this file do the client work and print one
# "summary: ... result=ok" line; each has its own deadline and is also run
# under timeout(1), so nothing here can hang.

load ../bats/helpers
load interop

setup() {
	need_nsqjs
	start_nsqd
}

teardown() {
	teardown_daemons
}

# subscribed NAME: waits until background reader NAME has subscribed.
subscribed() {
	wait_until 20 grep -q '^subscribed ' "$(_nsq_var "$1" LOG)"
}

# summary_of NAME: the summary line of background client NAME.
summary_of() {
	grep '^summary: ' "$(_nsq_var "$1" LOG)" | tail -n 1
}

@test "nsqjs: 20000 messages by PUB and MPUB reach two channels exactly once" {
	local n=20000
	start_bg R1 timeout 150 node "$JS/reader.js" --port "$NSQD_TCP_PORT" \
	    --topic T --channel c1 --count $n --no-dups --linger-ms 1000 \
	    --timeout 140
	start_bg R2 timeout 150 node "$JS/reader.js" --port "$NSQD_TCP_PORT" \
	    --topic T --channel c2 --count $n --no-dups --linger-ms 1000 \
	    --timeout 140
	subscribed R1
	subscribed R2

	run timeout 130 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic T --count $n --batch 100 --mode mixed --timeout 120
	assert_success
	assert_line "summary: published=$n acked=$n failed=0 pub_cmds=10000 mpub_cmds=100 first_error=\"\" result=ok"

	wait_bg R1 150
	wait_bg R2 150
	run summary_of R1
	assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .* result=ok$"
	run summary_of R2
	assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .* result=ok$"
}

@test "nsqjs: TOUCH keeps a held message, REQ brings it back with attempts 2" {
	# msg_timeout 1 s, each message held 2.5 s while touched every 0.3 s:
	# without TOUCH nsqd would time it out and redeliver it while held.
	start_bg RT timeout 100 node "$JS/req-touch.js" \
	    --port "$NSQD_TCP_PORT" --topic RT --channel c --count 200 \
	    --msg-timeout 1000 --hold-ms 2500 --touch-ms 300 \
	    --requeue-ms 200 --linger-ms 1500 --timeout 90
	subscribed RT

	run timeout 60 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic RT --count 200 --batch 20 --timeout 50
	assert_success
	assert_line --partial 'result=ok'

	wait_bg RT 100
	run summary_of RT
	assert_output --regexp '^summary: expected=200 first=200 second=200 touches=[0-9]+ violations=0 errors=0 result=ok$'
}

@test "nsqjs: REQ 0 without holding redelivers at once" {
	start_bg RQ timeout 60 node "$JS/req-touch.js" \
	    --port "$NSQD_TCP_PORT" --topic RQ --channel c --count 500 \
	    --max-in-flight 50 --linger-ms 500 --timeout 50
	subscribed RQ

	run timeout 60 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic RQ --count 500 --timeout 50
	assert_success

	wait_bg RQ 60
	run summary_of RQ
	assert_output --regexp '^summary: expected=500 first=500 second=500 .* violations=0 errors=0 result=ok$'
}

@test "nsqjs: PUB to an invalid topic name gets E_BAD_TOPIC, not a hang" {
	run timeout 30 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic 'bad/topic' --count 1 --mode pub --expect-error E_BAD_TOPIC \
	    --timeout 20
	assert_success
	assert_line --regexp '^summary: published=1 acked=0 failed=1 .*first_error="E_BAD_TOPIC .* result=ok$'
}

@test "nsqjs: MPUB to a 65-byte topic name gets E_BAD_TOPIC, not a hang" {
	local long
	long=$(printf 't%.0s' {1..65})
	run timeout 30 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic "$long" --count 3 --batch 3 --mode mpub \
	    --expect-error E_BAD_TOPIC --timeout 20
	assert_success
	assert_line --regexp '^summary: published=3 acked=0 failed=3 pub_cmds=0 mpub_cmds=1 first_error="E_BAD_TOPIC .* result=ok$'
}

@test "nsqjs: after a refused publish nsqd still serves new clients" {
	run timeout 30 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic 'bad*topic' --count 1 --expect-error E_BAD_TOPIC --timeout 20
	assert_success
	run timeout 30 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic fine --count 10 --batch 5 --timeout 20
	assert_success
	assert_line --partial 'acked=10 failed=0'
}

# compressed Z: a Writer and a Reader that both negotiate compression Z
# move 5000 messages exactly once.
compressed() {
	local n=5000 z=$1
	start_bg R timeout 100 node "$JS/reader.js" --port "$NSQD_TCP_PORT" \
	    --topic "T$z" --channel c --count $n --no-dups --linger-ms 500 \
	    --timeout 90 --"$z"
	subscribed R
	run timeout 100 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic "T$z" --count $n --batch 100 --mode mixed --timeout 90 \
	    --"$z"
	assert_success
	assert_line --partial "published=$n acked=$n failed=0"
	wait_bg R 100
	run summary_of R
	assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .* result=ok$"
}

@test "nsqjs: a Writer and a Reader with deflate" {
	compressed deflate
}

@test "nsqjs: a Writer and a Reader with snappy" {
	compressed snappy
}
