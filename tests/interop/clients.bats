#!/usr/bin/env bats
# Interop: our tools with the npm nsqjs client, both ways, on our nsqd:
# what nsq-pub publishes nsqjs's Reader gets exactly once, and what
# nsqjs's Writer publishes (PUB and MPUB) nsq-tail prints exactly once.

load ../bats/helpers
load interop

setup() {
	need_nsqjs
	need_tools
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	teardown_daemons
}

@test "interop: nsq-pub to the nsqjs Reader, 20000 messages exactly once" {
	local n=20000
	start_bg R timeout 150 node "$JS/reader.js" --port "$NSQD_TCP_PORT" \
	    --topic P --channel c --count $n --no-dups --linger-ms 1000 \
	    --timeout 140
	wait_until 20 grep -q '^subscribed ' "$R_LOG"
	run bash -c "seq -f 'p-%06g' 1 $n | timeout 60 '$PUB' --topic P \
	    --nsqd-tcp-address '$ADDR' --batch-size 100"
	assert_success
	wait_bg R 150
	run grep '^summary: ' "$R_LOG"
	assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .* result=ok$"
}

@test "interop: the nsqjs Writer (PUB and MPUB) to nsq-tail, exactly once" {
	local n=20000
	run timeout 130 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic W --count $n --batch 100 --mode mixed --timeout 120
	assert_success
	assert_line --partial "acked=$n failed=0"
	timeout 60 "$TAIL" --topic W --channel c --nsqd-tcp-address "$ADDR" \
	    -n $n >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
	    fail "nsq-tail failed: $(tail -5 "$BATS_TEST_TMPDIR/err")"
	run bash -c "sort '$BATS_TEST_TMPDIR/out' | uniq -d | wc -l"
	assert_output 0
	run bash -c "sort '$BATS_TEST_TMPDIR/out' | \
	    diff -q - <(seq -f 'm-%06g' 1 $n)"
	assert_success
}

@test "interop: nsq-tail --format json reads what nsqjs wrote, attempts 1" {
	run timeout 60 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic J --count 50 --batch 10 --mode mpub --timeout 50
	assert_success
	timeout 30 "$TAIL" --topic J --channel c --nsqd-tcp-address "$ADDR" \
	    -n 50 --format json >"$BATS_TEST_TMPDIR/j" 2>/dev/null ||
	    fail "nsq-tail failed"
	python3 - "$BATS_TEST_TMPDIR/j" <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert len(objs) == 50, len(objs)
assert sorted(o['body'] for o in objs) == ['m-%06d' % i for i in range(1, 51)]
assert all(o['attempts'] == 1 and o['topic'] == 'J' for o in objs)
assert len({o['id'] for o in objs}) == 50
EOF
}
