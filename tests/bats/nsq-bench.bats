#!/usr/bin/env bats
# nsq-bench against a real nsqd: the counts in its summary lines add up
# (what the writer had acknowledged is what readers get, no more, no
# less), and its modes and errors behave.  No speed is asserted: the
# machine is shared and the suite also runs under the sanitizers.

load helpers

teardown() {
	teardown_daemons
}

bench() {
	timeout 60 "$NSQ_BIN_DIR/nsq-bench" "$@"
}

# kv KEY LINE: the value of KEY=value in a summary line.
kv() {
	local re="(^| )$1=([^ ]*)"
	[[ $2 =~ $re ]] || { echo "no $1= in: $2" >&2; return 1; }
	printf '%s\n' "${BASH_REMATCH[2]}"
}

@test "nsq-bench: a reader drains exactly what the writer published" {
	local w r n
	start_nsqd
	# Create the channel first, so that publishing fills it.
	run bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --rdy 0 --runfor 0
	assert_success
	assert_output --partial "mode=reader"
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --runfor 1s --size 100 --batch-size 50)
	n=$(kv msgs "$w")
	[ "$n" -gt 0 ]
	[ "$(kv bytes "$w")" -eq $((n * 100)) ]
	[ $((n % 50)) -eq 0 ]
	r=$(bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --count "$n" --runfor 50s --connections 3)
	[ "$(kv msgs "$r")" -eq "$n" ] || fail "wrote $n, read: $r"
	[ "$(kv bytes "$r")" -eq $((n * 100)) ]
	[ "$(kv redelivered "$r")" -eq 0 ]
	[ "$(kv nonfatal "$r")" -eq 0 ]
	# Nothing is left over: every message was FINed once.
	r=$(bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --runfor 500ms)
	[ "$(kv msgs "$r")" -eq 0 ] || fail "left over: $r"
}

@test "nsq-bench: --count with a short last batch, PUB, and fan-out" {
	local w r
	start_nsqd
	run bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic fan --channel a --channel b --connections 2 --rdy 0 \
	    --runfor 0
	assert_success
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic fan --count 1234 --batch-size 100 --connections 3)
	[ "$(kv msgs "$w")" -eq 1234 ]
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic fan --count 66 --batch-size 1 --connections 4)
	[ "$(kv msgs "$w")" -eq 66 ]
	[ "$(kv batch "$w")" -eq 1 ]
	# Each of the two channels holds every message.
	r=$(bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic fan --channel a --channel b --connections 4 \
	    --count 2600 --runfor 50s)
	[ "$(kv msgs "$r")" -eq 2600 ] || fail "read: $r"
	[ "$(kv channels "$r")" -eq 2 ]
	r=$(bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic fan --channel a --channel b --connections 2 \
	    --runfor 500ms)
	[ "$(kv msgs "$r")" -eq 0 ] || fail "left over: $r"
}

@test "nsq-bench: --rate paces the writer and the reader measures latency" {
	local w r
	start_nsqd
	start_bg READER timeout 30 "$NSQ_BIN_DIR/nsq-bench" reader \
	    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" --topic lat \
	    --count 1000 --runfor 20s
	# The reader's SUB creates the channel before anything is published.
	wait_until 10 grep -q "TOPIC(lat): created CHANNEL(ch)" "$NSQD_LOG"
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --topic lat --rate 2000 --batch-size 1 --count 1000)
	[ "$(kv msgs "$w")" -eq 1000 ]
	[ "$(kv rate "$w")" -eq 2000 ]
	# 1000 messages at 2000/s take about half a second, not less.
	awk -v s="$(kv secs "$w")" 'BEGIN { exit !(s >= 0.45) }' ||
	    fail "too fast for the rate: $w"
	wait_bg READER 25
	r=$(grep '^mode=reader' "$READER_LOG")
	[ "$(kv msgs "$r")" -eq 1000 ] || fail "read: $r"
	for k in lat_p50_us lat_p99_us lat_p999_us lat_max_us; do
		kv "$k" "$r" | grep -Eq '^[0-9]+\.[0-9]$'
	done
	awk -v a="$(kv lat_p50_us "$r")" -v b="$(kv lat_p99_us "$r")" \
	    -v c="$(kv lat_max_us "$r")" \
	    'BEGIN { exit !(0 < a && a <= b && b <= c) }'
}

@test "nsq-bench: loopback measures a sender and a sink" {
	run bench loopback --runfor 300ms --connections 2 --size 100 \
	    --batch-size 10
	assert_success
	[ "$(kv chunk "$output")" -eq 1040 ]
	[ "$(kv bytes "$output")" -gt 0 ]
	[ "$(kv msgs "$output")" -eq $(($(kv bytes "$output") / 100)) ]
}

@test "nsq-bench: a PUB writer runs against echo, the round-trip floor" {
	local port w e
	port=$(free_port)
	start_bg ECHO timeout 60 "$NSQ_BIN_DIR/nsq-bench" echo \
	    --nsqd-tcp-address "127.0.0.1:$port" --runfor 50s
	wait_until 10 tcp_port_open "$port"
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$port" \
	    --batch-size 1 --size 200 --runfor 1s --connections 2)
	[ "$(kv msgs "$w")" -gt 0 ] || fail "writer: $w"
	[ "$(kv batch "$w")" -eq 1 ]
	# MPUB too, and a short last batch: echo counts the messages.
	run bench writer --nsqd-tcp-address "127.0.0.1:$port" \
	    --batch-size 100 --size 10 --count 250 --connections 1
	assert_success
	[ "$(kv msgs "$output")" -eq 250 ]
	# SIGTERM ends it cleanly with its summary: what it acknowledged.
	stop_bg ECHO
	e=$(grep '^mode=echo' "$ECHO_LOG")
	[ "$(kv msgs "$e")" -eq $(($(kv msgs "$w") + 250)) ] ||
	    fail "echo: $e, writer: $w"
	[ "$(kv bytes "$e")" -eq $(($(kv bytes "$w") + 2500)) ]
	[ "$(kv conns "$e")" -ge 3 ]
}

@test "nsq-bench: echo rejects what it does not speak" {
	local port
	port=$(free_port)
	start_bg ECHO timeout 60 "$NSQ_BIN_DIR/nsq-bench" echo \
	    --nsqd-tcp-address "127.0.0.1:$port" --runfor 50s
	wait_until 10 tcp_port_open "$port"
	run bench reader --nsqd-tcp-address "127.0.0.1:$port" --runfor 1s
	assert_failure 1
	assert_output --partial "E_INVALID invalid command SUB"
	stop_bg ECHO
	grep -q '^mode=echo .*msgs=0 ' "$ECHO_LOG"
}

@test "nsq-bench: usage errors exit 2, a failed run exits 1" {
	local port
	run bench
	assert_failure 2
	run bench fly
	assert_failure 2
	assert_output --partial "unknown mode fly"
	run bench writer --topic 'no spaces'
	assert_failure 2
	run bench writer --nope
	assert_failure 2
	assert_output --partial "flag provided but not defined: -nope"
	run bench reader --deadline tomorrow
	assert_failure 2
	run bench --help
	assert_success
	assert_output --partial "--nsqd-tcp-address"
	port=$(free_port)
	run bench writer --nsqd-tcp-address "127.0.0.1:$port" --runfor 100ms
	assert_failure 1
	assert_output --partial "refused"
	# An error frame from nsqd ends the run with its text.
	start_nsqd --max-msg-size=100
	run bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --size 200 --batch-size 1 --runfor 100ms
	assert_failure 1
	assert_output --partial "E_BAD_MESSAGE"
}
