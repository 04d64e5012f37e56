#!/usr/bin/env bats
# nsq-tail (nsq_tail) against a real nsqd: -n and what happens to the
# messages past it, a closed stdout (| head -3), --format json,
# --print-topic over two topics, signals, reconnection, discovery
# through a stub of nsqlookupd's /lookup, flag errors and its docs.

load helpers
load clients

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	[[ -x $PUB && -x $TAIL ]] || fail "no nsq-pub/nsq-tail in $NSQ_BIN_DIR"
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	teardown_daemons
}

# pub TOPIC: stdin to TOPIC on the test's nsqd.
pub() {
	"$PUB" --topic "$1" --nsqd-tcp-address "$ADDR" "${@:2}"
}

@test "nsq-tail: -n stops after N; messages past N go back, none lost" {
	# Two topics, each consumer with max-in-flight N: up to 2N messages
	# arrive, N are printed, the rest must be given back to nsqd.
	seq 1 10 | pub ka
	seq 11 20 | pub kb
	run bash -c "timeout 30 '$TAIL' --topic ka --topic kb --channel c \
	    --nsqd-tcp-address '$ADDR' -n 3 2>/dev/null"
	assert_success
	assert_equal "${#lines[@]}" 3
	printf '%s\n' "${lines[@]}" >"$BATS_TEST_TMPDIR/all"
	run bash -c "timeout 30 '$TAIL' --topic ka --topic kb --channel c \
	    --nsqd-tcp-address '$ADDR' -n 17 2>/dev/null"
	assert_success
	assert_equal "${#lines[@]}" 17
	printf '%s\n' "${lines[@]}" >>"$BATS_TEST_TMPDIR/all"
	run bash -c "sort -n '$BATS_TEST_TMPDIR/all' | diff - <(seq 1 20)"
	assert_success
}

@test "nsq-tail: | head -3 ends quietly with status 0 while messages flow" {
	local err=$BATS_TEST_TMPDIR/err rcf=$BATS_TEST_TMPDIR/rc
	start_bg H bash -c "timeout 60 '$TAIL' --topic flow \
	    --nsqd-tcp-address '$ADDR' 2>'$err' | head -3 \
	    >'$BATS_TEST_TMPDIR/out'; echo \${PIPESTATUS[0]} >'$rcf'"
	wait_until 20 grep -q ') subscribed$' "$err"
	seq 1 20000 | pub flow
	wait_bg H 30
	assert_equal "$(cat "$rcf")" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$(seq 1 3)"
	run grep -Ei 'broken pipe|stdout|error' "$err"
	assert_failure
}

@test "nsq-tail: | head -3 ends even when no more messages come" {
	local err=$BATS_TEST_TMPDIR/err rcf=$BATS_TEST_TMPDIR/rc
	start_bg H bash -c "timeout 60 '$TAIL' --topic few \
	    --nsqd-tcp-address '$ADDR' 2>'$err' | head -3 \
	    >'$BATS_TEST_TMPDIR/out'; echo \${PIPESTATUS[0]} >'$rcf'"
	wait_until 20 grep -q ') subscribed$' "$err"
	seq 1 3 | pub few
	wait_bg H 20
	assert_equal "$(cat "$rcf")" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" "$(seq 1 3)"
}

@test "nsq-tail: --format json, with a binary body in base64" {
	printf 'hello "you"\t<&>,\xff\xfe\x00,\xc3\xa9t\xc3\xa9' |
	    pub js --delimiter ,
	timeout 30 "$TAIL" --topic js --channel c --nsqd-tcp-address "$ADDR" \
	    -n 3 --format json >"$BATS_TEST_TMPDIR/j" 2>/dev/null ||
	    fail "nsq-tail --format json failed"
	python3 - "$BATS_TEST_TMPDIR/j" <<'EOF'
import base64, json, re, sys, time
lines = open(sys.argv[1], 'rb').read().split(b'\n')
assert lines[-1] == b'', lines
objs = [json.loads(l) for l in lines[:-1]]
assert len(objs) == 3, objs
now = time.time_ns()
for o in objs:
    assert list(o)[:5] == ['id', 'timestamp', 'attempts', 'topic', 'body'], o
    assert re.fullmatch(r'[0-9a-f]{16}', o['id']), o
    assert abs(now - o['timestamp']) < 120e9, o
    assert o['attempts'] == 1 and o['topic'] == 'js', o
bodies = {o['body'] if not o.get('body_base64')
          else base64.b64decode(o['body']) for o in objs}
assert bodies == {'hello "you"\t<&>', b'\xff\xfe\x00', '\u00e9t\u00e9'}, bodies
assert sum(1 for o in objs if o.get('body_base64') is True) == 1, objs
EOF
}

@test "nsq-tail: --print-topic over two topics" {
	printf 'a1\na2\n' | pub ta
	printf 'b1\nb2\n' | pub tb
	run bash -c "timeout 30 '$TAIL' --topic ta --topic tb --channel c \
	    --nsqd-tcp-address '$ADDR' --print-topic -n 4 2>/dev/null | sort"
	assert_success
	assert_output "$(printf 'ta | a1\nta | a2\ntb | b1\ntb | b2')"
}

@test "nsq-tail: the default channel is a new ephemeral one" {
	tail_bg T --topic eph --nsqd-tcp-address "$ADDR" -n 1
	subscribed T
	grep -qE '\[eph/tail[0-9]{6}#ephemeral\]' "$T_LOG"
	echo x | pub eph
	run wait_bg T 20
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/T.out")" x
}

@test "nsq-tail: SIGTERM and SIGINT close the connections and exit 0" {
	local sig
	for sig in TERM INT; do
		tail_bg "S$sig" --topic s --nsqd-tcp-address "$ADDR"
		subscribed "S$sig"
		kill -"$sig" "$(_nsq_var "S$sig" PID)"
		run wait_bg "S$sig" 20
		assert_success
		grep -q 'received CLOSE_WAIT' "$(_nsq_var "S$sig" LOG)"
		grep -q 'stopped$' "$(_nsq_var "S$sig" LOG)"
	done
}

@test "nsq-tail: reconnects to a restarted nsqd" {
	tail_bg R --topic re --channel c --nsqd-tcp-address "$ADDR"
	subscribed R
	echo one | pub re
	lines_in "$BATS_TEST_TMPDIR/R.out" 1
	restart_nsqd
	subscribed R 2
	echo two | pub re
	lines_in "$BATS_TEST_TMPDIR/R.out" 2
	assert_equal "$(cat "$BATS_TEST_TMPDIR/R.out")" "$(printf 'one\ntwo')"
	grep -q 're-connecting in' "$R_LOG"
}

@test "nsq-tail: an nsqd that cannot be reached at start is an error" {
	stop_nsqd
	run timeout 20 "$TAIL" --topic t --nsqd-tcp-address "$ADDR"
	assert_failure 1
	assert_output --partial 'Connection refused'
}

@test "nsq-tail: nsqlookupd discovery (stub /lookup): connect, then drop" {
	local port f=$BATS_TEST_TMPDIR/lookup.json
	port=$(free_port)
	printf '{"channels":[],"producers":[{"remote_address":"x",%s}]}' \
	    "\"hostname\":\"h\",\"broadcast_address\":\"127.0.0.1\",\"tcp_port\":$NSQD_TCP_PORT,\"http_port\":1,\"version\":\"1.3.0\"" \
	    >"$f"
	start_bg STUB timeout 120 python3 "$BATS_TEST_DIRNAME/lookupd_stub.py" \
	    "$port" "$f"
	wait_until 10 tcp_port_open "$port"
	tail_bg L --topic disc --channel c \
	    --lookupd-http-address "127.0.0.1:$port" \
	    --consumer-opt lookupd_poll_interval,200ms
	subscribed L
	grep -q "^/lookup?topic=disc accept=application/vnd.nsq; version=1.0" \
	    "$f.log"
	printf 'd1\nd2\n' | pub disc
	lines_in "$BATS_TEST_TMPDIR/L.out" 2
	# The producer leaves nsqlookupd's list: its connection is closed.
	echo '{"channels":[],"producers":[]}' >"$f.new"
	mv "$f.new" "$f"
	wait_until 10 grep -q 'no longer listed by nsqlookupd, closing' "$L_LOG"
	wait_until 10 grep -q 'connection closed: CLOSE_WAIT' "$L_LOG"
	# Listed again: connected again.
	printf '{"producers":[{"broadcast_address":"127.0.0.1","tcp_port":%s}]}' \
	    "$NSQD_TCP_PORT" >"$f.new"
	mv "$f.new" "$f"
	subscribed L 2
	echo d3 | pub disc
	lines_in "$BATS_TEST_TMPDIR/L.out" 3
	assert_equal "$(cat "$BATS_TEST_TMPDIR/L.out")" "$(printf 'd1\nd2\nd3')"
	# The polls were spaced by the interval, not back to back.
	local n
	n=$(wc -l <"$f.log")
	((n < 200))
}

@test "nsq-tail: an unknown topic at nsqlookupd (404) is no producer yet" {
	local port f=$BATS_TEST_TMPDIR/none.json
	port=$(free_port)
	start_bg STUB timeout 120 python3 "$BATS_TEST_DIRNAME/lookupd_stub.py" \
	    "$port" "$f"
	wait_until 10 tcp_port_open "$port"
	tail_bg L --topic later --channel c -n 1 \
	    --lookupd-http-address "http://127.0.0.1:$port/" \
	    --consumer-opt lookupd_poll_interval,200ms
	wait_until 10 grep -q '^/lookup?topic=later' "$f.log"
	# Said once, then polled quietly.
	wait_until 10 eval "[[ \$(grep -c '^/lookup?topic=later' '$f.log') -ge 4 ]]"
	run grep -c 'TOPIC_NOT_FOUND: no nsqd has topic later yet' "$L_LOG"
	assert_output 1
	echo late | pub later
	printf '{"producers":[{"broadcast_address":"127.0.0.1","tcp_port":%s}]}' \
	    "$NSQD_TCP_PORT" >"$f"
	run wait_bg L 20
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/L.out")" late
	run grep -c 'error querying' "$L_LOG"
	assert_output 0
}

@test "nsq-tail: an --nsqd-tcp-address given twice is one" {
	seq 1 4 | pub twice
	run timeout 20 "$TAIL" --topic twice --channel c -n 4 \
	    --nsqd-tcp-address "$ADDR" --nsqd-tcp-address "$ADDR"
	assert_success
	refute_output --partial 'already connected'
	assert_equal "$(grep -c '^[0-9]' <<<"$output")" 4
	run grep -c 'connecting to nsqd' <<<"$output"
	assert_output 1
}

@test "nsq-tail: flags in Go's forms, --help, --version, Go's errors" {
	run "$TAIL" -version
	assert_success
	assert_output --regexp '^nsq-tail v1\.3\.0 '
	run "$TAIL" -help
	assert_success
	assert_line --partial -- '--lookupd-http-address ADDR'
	echo go | pub gof
	run bash -c "timeout 20 '$TAIL' -topic=gof -channel c -n=1 \
	    -nsqd-tcp-address '$ADDR' 2>/dev/null"
	assert_success
	assert_output go
	run "$TAIL" --topic t
	assert_failure 1
	assert_output 'nsq-tail: --nsqd-tcp-address or --lookupd-http-address required'
	run "$TAIL" --topic t --nsqd-tcp-address "$ADDR" \
	    --lookupd-http-address 127.0.0.1:1
	assert_failure 1
	assert_output 'nsq-tail: use --nsqd-tcp-address or --lookupd-http-address not both'
	run "$TAIL" --nsqd-tcp-address "$ADDR"
	assert_failure 1
	assert_output 'nsq-tail: --topic required'
	run "$TAIL" --topic t --nsqd-tcp-address "$ADDR" --format xml
	assert_failure 1
	assert_output 'nsq-tail: --format must be text or json'
	run "$TAIL" --topic 'bad topic' --nsqd-tcp-address "$ADDR"
	assert_failure 1
	assert_output --partial 'invalid topic name'
	run "$TAIL" --topic t --nsqd-tcp-address "$ADDR" --consumer-opt nope,1
	assert_failure 2
	assert_output --partial 'invalid option nope'
	run "$TAIL" -x
	assert_failure 2
	assert_line 'flag provided but not defined: -x'
}

@test "nsq-tail: every --help option is in the man page and completions" {
	check_docs nsq-tail
}
