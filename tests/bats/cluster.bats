#!/usr/bin/env bats
# Discovery across a cluster: two nsqlookupd and three nsqd on loopback.
# Each nsqd registers with both lookupds (IDENTIFY, REGISTER, PING every
# --lookupd-ping-interval), announces creations and deletions at once,
# and registers everything again after a lookupd restarts.

load helpers

setup() {
	start_nsqlookupd -n L1 --broadcast-address=127.0.0.1
	start_nsqlookupd -n L2 --broadcast-address=127.0.0.1
	local lk="--lookupd-tcp-address=127.0.0.1:$L1_TCP_PORT"
	lk="$lk --lookupd-tcp-address=127.0.0.1:$L2_TCP_PORT"
	# shellcheck disable=SC2086
	start_nsqd -n N1 $lk --lookupd-ping-interval=1s \
	    --broadcast-address=127.0.0.1
	# shellcheck disable=SC2086
	start_nsqd -n N2 $lk --lookupd-ping-interval=1s \
	    --broadcast-address=127.0.0.1
	# shellcheck disable=SC2086
	start_nsqd -n N3 $lk --lookupd-ping-interval=1s \
	    --broadcast-address=127.0.0.1
}

teardown() {
	teardown_daemons
}

pub() {	# pub NSQD_NAME TOPIC BODY
	local port
	port=$(_nsq_var "$1" TCP_PORT)
	python3 - "$port" "$2" "$3" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.pub(sys.argv[2], sys.argv[3].encode()); c.ok()
EOF
}

# producers LOOKUPD TOPIC: sorted "tcp_port" of /lookup's producers.
producers() {
	local port
	port=$(_nsq_var "$1" HTTP_PORT)
	curl -s "http://127.0.0.1:$port/lookup?topic=$2" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(" ".join(sorted(str(p["tcp_port"]) for p in d["producers"])))
except (ValueError, KeyError):
    pass'
}

# ports PORTS...: the sorted, space-separated list producers prints.
ports() {
	printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}

# listed LOOKUPD TOPIC WANT: the lookupd lists exactly WANT (polled).
listed() {
	[ "$(producers "$1" "$2")" = "$3" ]
}

# expect_producers TOPIC PORTS...: both lookupds list exactly those nsqd.
expect_producers() {
	local topic=$1 want
	shift
	want=$(ports "$@")
	wait_until 15 listed L1 "$topic" "$want"
	wait_until 15 listed L2 "$topic" "$want"
}

@test "cluster: both lookupds list exactly the nsqd that have a topic" {
	pub N1 alpha a1
	pub N2 alpha a2
	pub N3 beta b3
	expect_producers alpha "$N1_TCP_PORT" "$N2_TCP_PORT"
	expect_producers beta "$N3_TCP_PORT"
	for l in L1 L2; do
		port=$(_nsq_var $l HTTP_PORT)
		run curl -s "http://127.0.0.1:$port/topics"
		assert_output --partial '"alpha"'
		assert_output --partial '"beta"'
		run curl -s "http://127.0.0.1:$port/nodes"
		for p in "$N1_TCP_PORT" "$N2_TCP_PORT" "$N3_TCP_PORT"; do
			assert_output --partial "\"tcp_port\":$p"
		done
		# /lookup gives what a consumer needs to connect.
		run curl -s "http://127.0.0.1:$port/lookup?topic=beta"
		assert_output --partial "\"broadcast_address\":\"127.0.0.1\""
		assert_output --partial "\"http_port\":$N3_HTTP_PORT"
	done
}

@test "cluster: SUB registers the channel; deleting the topic unregisters it" {
	python3 - "$N2_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic(); c.sub('gamma', 'ch1'); c.ok()
EOF
	for l in L1 L2; do
		port=$(_nsq_var $l HTTP_PORT)
		wait_until 15 sh -c "curl -s 'http://127.0.0.1:$port/channels?topic=gamma' | grep -q '\"ch1\"'"
	done
	expect_producers gamma "$N2_TCP_PORT"
	run curl -s -X POST "http://127.0.0.1:$N2_HTTP_PORT/topic/delete?topic=gamma"
	assert_success
	wait_until 15 listed L1 gamma ""
	wait_until 15 listed L2 gamma ""
}

@test "cluster: a SIGKILLed nsqd vanishes from both lookupds" {
	pub N1 delta d1
	pub N3 delta d3
	expect_producers delta "$N1_TCP_PORT" "$N3_TCP_PORT"
	kill9_nsqd -n N3
	expect_producers delta "$N1_TCP_PORT"
}

@test "cluster: a restarted lookupd gets every registration back within a ping" {
	pub N1 eps e1
	pub N2 eps e2
	expect_producers eps "$N1_TCP_PORT" "$N2_TCP_PORT"
	kill9_nsqlookupd -n L1
	restart_nsqlookupd -n L1
	# Every nsqd reconnects within its 1 s ping interval (backoff is
	# capped by it) and registers everything again.
	expect_producers eps "$N1_TCP_PORT" "$N2_TCP_PORT"
	run curl -s "http://127.0.0.1:$L1_HTTP_PORT/nodes"
	for p in "$N1_TCP_PORT" "$N2_TCP_PORT" "$N3_TCP_PORT"; do
		assert_output --partial "\"tcp_port\":$p"
	done
}

@test "cluster: a tombstoned producer leaves /lookup for the lifetime" {
	stop_nsqlookupd -n L1
	restart_nsqlookupd -n L1 --broadcast-address=127.0.0.1 \
	    --tombstone-lifetime=3s
	pub N1 zeta z1
	pub N2 zeta z2
	expect_producers zeta "$N1_TCP_PORT" "$N2_TCP_PORT"
	run curl -s -X POST \
	    "http://127.0.0.1:$L1_HTTP_PORT/topic/tombstone?topic=zeta&node=127.0.0.1:$N1_HTTP_PORT"
	assert_success
	wait_until 5 listed L1 zeta "$N2_TCP_PORT"
	# L2 was not told: it still lists both.
	listed L2 zeta "$(ports "$N1_TCP_PORT" "$N2_TCP_PORT")"
	# After the lifetime, N1 is back (it keeps registering).
	wait_until 15 listed L1 zeta "$(ports "$N1_TCP_PORT" "$N2_TCP_PORT")"
}

@test "cluster: PUT /config/nsqlookupd_tcp_addresses drops and adds peers live" {
	pub N1 eta h1
	expect_producers eta "$N1_TCP_PORT"
	run curl -s -X PUT --data "[\"127.0.0.1:$L2_TCP_PORT\"]" \
	    "http://127.0.0.1:$N1_HTTP_PORT/config/nsqlookupd_tcp_addresses"
	assert_success
	# N1 left L1 (its connection closed) but stays on L2.
	wait_until 15 listed L1 eta ""
	listed L2 eta "$N1_TCP_PORT"
	run curl -s -X PUT \
	    --data "[\"127.0.0.1:$L1_TCP_PORT\",\"127.0.0.1:$L2_TCP_PORT\"]" \
	    "http://127.0.0.1:$N1_HTTP_PORT/config/nsqlookupd_tcp_addresses"
	assert_success
	expect_producers eta "$N1_TCP_PORT"
}

@test "cluster: a new topic gets the channels lookupd knows for it" {
	python3 - "$N1_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic(); c.sub('theta', 'archive'); c.ok()
EOF
	wait_until 15 sh -c "curl -s 'http://127.0.0.1:$L1_HTTP_PORT/channels?topic=theta' | grep -q archive"
	# The topic is new on N2: N2 asks the lookupds and creates the
	# channel, so the message waits there for the archive consumer.
	pub N2 theta kept
	wait_until 15 sh -c "curl -s 'http://127.0.0.1:$N2_HTTP_PORT/stats?format=json&topic=theta' | grep -q '\"channel_name\":\"archive\"'"
	run curl -s "http://127.0.0.1:$N2_HTTP_PORT/stats?format=json&topic=theta&channel=archive"
	assert_output --partial '"depth":1'
}

@test "cluster: nsq-tail through lookupd reads what was published to every nsqd" {
	pub N1 iota from-n1
	pub N2 iota from-n2
	pub N3 iota from-n3
	expect_producers iota "$N1_TCP_PORT" "$N2_TCP_PORT" "$N3_TCP_PORT"
	run timeout 60 "$NSQ_BIN_DIR/nsq-tail" --topic iota -n 3 \
	    --lookupd-http-address "127.0.0.1:$L1_HTTP_PORT" \
	    --lookupd-http-address "127.0.0.1:$L2_HTTP_PORT" \
	    --consumer-opt lookupd_poll_interval,1s
	assert_success
	[ "$(grep ^from- <<<"$output" | sort | tr '\n' ' ')" = "from-n1 from-n2 from-n3 " ]
}
