#!/usr/bin/env bats
# The broadcast address: nsqd warns once when the address it announces to
# nsqlookupd does not resolve (a host name with no /etc/hosts line, as on
# many minimal installs and containers), and the tools give a hint once
# when nsqlookupd lists such an nsqd.  The name used cannot resolve
# anywhere: .invalid is reserved for that (RFC 6761).

load helpers

BAD=does-not-resolve.invalid

setup() {
	TAIL=$NSQ_BIN_DIR/nsq-tail
	NTF=$NSQ_BIN_DIR/nsq-to-file
	STAT=$NSQ_BIN_DIR/nsq-stat
}

teardown() {
	teardown_daemons
}

# stub_lookupd FILE: a stand-in nsqlookupd whose /lookup lists one nsqd at
# $BAD; its port in STUB_PORT.
stub_lookupd() {
	STUB_PORT=$(free_port)
	printf '{"channels":[],"producers":[{"remote_address":"x","hostname":"h","broadcast_address":"%s","tcp_port":4150,"http_port":4151,"version":"1.3.0"}]}' \
	    "$BAD" >"$1"
	start_bg STUB timeout 120 python3 "$BATS_TEST_DIRNAME/lookupd_stub.py" \
	    "$STUB_PORT" "$1"
	wait_until 10 tcp_port_open "$STUB_PORT"
}

# polled FILE N: the stub has answered N lookups.
polled() {
	wait_until 30 eval "[[ -f '$1.log' && \$(grep -c '^/lookup' '$1.log') -ge $2 ]]"
}

@test "nsqd: a broadcast address that does not resolve is warned of once" {
	start_nsqd --broadcast-address="$BAD"
	wait_until 40 grep -q "broadcast address $BAD does not resolve" \
	    "$NSQD_LOG"
	run grep -c "broadcast address $BAD does not resolve" "$NSQD_LOG"
	assert_output 1
	run grep "broadcast address $BAD" "$NSQD_LOG"
	assert_output --partial "WARNING"
	assert_output --partial "set --broadcast-address"
	# It still works: the warning is advice, not a failure.
	[ "$(curl -s "http://127.0.0.1:$NSQD_HTTP_PORT/ping")" = OK ]
	stop_nsqd
}

@test "nsqd: an address that resolves is not warned of" {
	local a
	for a in 127.0.0.1 localhost; do
		start_nsqd -n "N${a//./_}" --log-level=debug \
		    --broadcast-address="$a"
	done
	for a in 127.0.0.1 localhost; do
		local log=N${a//./_}_LOG
		wait_until 20 grep -q "broadcast address $a resolves" \
		    "${!log}"
		run grep -c 'does not resolve' "${!log}"
		assert_output 0
	done
}

@test "nsq-tail: an nsqd listed under a name that does not resolve is hinted at once" {
	local f=$BATS_TEST_TMPDIR/lookup.json
	stub_lookupd "$f"
	start_bg L timeout 120 "$TAIL" --topic t --channel c \
	    --lookupd-http-address "127.0.0.1:$STUB_PORT" \
	    --consumer-opt lookupd_poll_interval,100ms
	polled "$f" 5
	wait_until 10 eval "[[ \$(grep -c 'error connecting to nsqd' \"\$L_LOG\") -ge 2 ]]"
	run grep -c "hint: nsqlookupd lists this nsqd under a name that does not resolve" "$L_LOG"
	assert_output 1
	run grep hint: "$L_LOG"
	assert_output --partial "($BAD:4150)"
	assert_output --partial "--broadcast-address"
}

@test "nsq-tail: an nsqd given directly is not hinted at" {
	# The name is the user's own: the dial error says it all (and, as
	# Go's nsq_tail, it is fatal).
	run timeout 30 "$TAIL" --topic t --channel c \
	    --nsqd-tcp-address "$BAD:4150"
	assert_failure
	assert_output --partial "dial $BAD:4150: "
	refute_output --partial "hint:"
}

@test "nsq-to-file: an nsqd listed under a name that does not resolve is hinted at once" {
	local f=$BATS_TEST_TMPDIR/lookup.json
	stub_lookupd "$f"
	start_bg F timeout 120 "$NTF" --topic t \
	    --output-dir "$BATS_TEST_TMPDIR/out" \
	    --lookupd-http-address "127.0.0.1:$STUB_PORT" \
	    --consumer-opt lookupd_poll_interval,100ms
	polled "$f" 5
	wait_until 10 eval "[[ \$(grep -c 'error connecting to nsqd' \"\$F_LOG\") -ge 2 ]]"
	run grep -c "hint: nsqlookupd lists this nsqd under a name that does not resolve" "$F_LOG"
	assert_output 1
}

@test "nsq-stat: an nsqd listed under a name that does not resolve is hinted at" {
	local f=$BATS_TEST_TMPDIR/lookup.json
	stub_lookupd "$f"
	run timeout 30 "$STAT" --topic t --channel c \
	    --lookupd-http-address "127.0.0.1:$STUB_PORT" --count 1
	assert_failure
	assert_output --partial "hint: nsqlookupd lists an nsqd at $BAD:4151, which does not resolve here"
	assert_output --partial "--broadcast-address"
	assert_output --partial "failed to get nsqd stats"
}
