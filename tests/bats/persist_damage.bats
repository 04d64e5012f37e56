#!/usr/bin/env bats
# Bad disk state is survived, not fatal: damaged or missing queue files,
# a garbage nsqd.dat, a second nsqd on the same data path, a restart
# right after SIGKILL.  Small --max-bytes-per-file, so a queue spans
# several files and damage to one leaves the others readable.

load helpers

TOOLS=$BATS_TEST_DIRNAME/persist_tools.py

teardown() {
	teardown_daemons
}

# mkchan TOPIC CHANNEL: create a channel (SUB, then go away).
mkchan() {
	python3 - "$1" "$2" <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub(sys.argv[1], sys.argv[2])
c.ok()
c.close()
EOF
}

# pub TOPIC PREFIX COUNT: publish, every message acknowledged.
pub() {
	timeout 60 python3 "$TOOLS" pub "$NSQD_TCP_PORT" "$1" \
	    --log "$BATS_TEST_TMPDIR/pub.log" --prefix "$2" --count "$3" \
	    --batch 20 --size 40
}

# drain TOPIC CHANNEL OUT: consume until 2 s pass without a message,
# writing the bodies received, in order, to OUT.
drain() {
	local log=$BATS_TEST_TMPDIR/drain.$RANDOM.log
	timeout 60 python3 "$TOOLS" consume "$NSQD_TCP_PORT" "$1" "$2" \
	    --log "$log" --rdy 50 --sync-every 50 --until-idle 2 \
	    --max-time 50 >/dev/null || return
	sed -n 's/^R \([^ ]*\) .*/\1/p' "$log" >"$3"
}

@test "damage: truncated, corrupted or missing segment files are skipped, the rest is read" {
	local d
	start_nsqd --mem-queue-size=0 --max-bytes-per-file=2048
	d=$NSQD_DATA
	mkchan t c
	pub t m 400
	stop_nsqd
	# Cut file 2 in the middle of its 11th record; give the 6th record
	# of file 5 an impossible length; remove file 8.  What nsqd must
	# deliver is what comes before the damage in those files, and all
	# of the others, in order.
	python3 - "$d" "$BATS_TEST_TMPDIR/want" <<'EOF'
import os, struct, sys
d, out = sys.argv[1:]
def path(i):
    return os.path.join(d, 't:c.diskqueue.%06d.dat' % i)
files = sorted(int(f.split('.')[2]) for f in os.listdir(d)
               if f.startswith('t:c.diskqueue.') and f.endswith('.dat')
               and 'meta' not in f)
assert files == list(range(len(files))) and len(files) >= 8, files
want = []
for i in files:
    data = open(path(i), 'rb').read()
    pos, recs = 0, []
    while pos < len(data):
        (n,) = struct.unpack('>i', data[pos:pos + 4])
        recs.append((pos, data[pos + 30:pos + 4 + n].rstrip(b'.')))
        pos += 4 + n
    if i == 2:
        with open(path(i), 'r+b') as f:
            f.truncate(recs[10][0] + 20)
        recs = recs[:10]
    elif i == 5:
        with open(path(i), 'r+b') as f:
            f.seek(recs[5][0])
            f.write(struct.pack('>i', 0x7fffffff))
        recs = recs[:5]
    elif i == 8:
        os.unlink(path(i))
        recs = []
    want += [b.decode() for _, b in recs]
open(out, 'w').write(''.join(w + '\n' for w in want))
EOF
	restart_nsqd
	drain t c "$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[[ -e $d/t:c.diskqueue.000002.dat.bad && -e $d/t:c.diskqueue.000005.dat.bad ]]
	grep -q 'saving bad file as .*t:c.diskqueue.000002.dat.bad' "$NSQD_LOG"
	grep -q 'invalid message read size (2147483647)' "$NSQD_LOG"
	grep -q 't:c.diskqueue.000008.dat missing at read position 0' \
	    "$NSQD_LOG"
	# Still serving, and the queue goes on normally.
	pub t after 30
	drain t c "$BATS_TEST_TMPDIR/got2"
	run cat "$BATS_TEST_TMPDIR/got2"
	assert_equal "${#lines[@]}" 30
	assert_line --index 0 after000000
	assert_line --index 29 after000029
	stop_nsqd
	run python3 "$TOOLS" dqscan "$d" t:c
	assert_output 't:c depth=0'
}

@test "damage: a garbage or missing meta file loses no message" {
	local d
	start_nsqd --mem-queue-size=0 --max-bytes-per-file=2048
	d=$NSQD_DATA
	mkchan t c
	pub t g 100
	stop_nsqd
	printf 'garbage\n\x00\xff,,\n' >"$d/t:c.diskqueue.meta.dat"
	restart_nsqd
	grep -q 'metadata file .*t:c.diskqueue.meta.dat does not parse; adopted' \
	    "$NSQD_LOG"
	drain t c "$BATS_TEST_TMPDIR/got"
	run sort -u "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 100
	assert_line --index 0 g000000
	assert_line --index 99 g000099

	pub t h 50
	stop_nsqd
	rm "$d/t:c.diskqueue.meta.dat"
	restart_nsqd
	grep -q 'metadata file .*t:c.diskqueue.meta.dat missing; adopted' \
	    "$NSQD_LOG"
	drain t c "$BATS_TEST_TMPDIR/got"
	run sort -u "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 50
	assert_line --index 0 h000000
	assert_line --index 49 h000049
	stop_nsqd
	run python3 "$TOOLS" dqscan "$d" t:c
	assert_output 't:c depth=0'
}

@test "damage: a garbage nsqd.dat is logged and the queues on disk still served" {
	local d
	start_nsqd --mem-queue-size=0
	d=$NSQD_DATA
	mkchan t c
	pub t a 20
	pub held b 20		# no channel: held in the topic's queue
	stop_nsqd
	printf '{"topics":[{"name":' >"$d/nsqd.dat"
	restart_nsqd
	grep -q 'nsqd.dat is damaged' "$NSQD_LOG"
	grep -Eq 'restored [0-9]+ topics/channels from disk queue files' "$NSQD_LOG"
	drain t c "$BATS_TEST_TMPDIR/got"
	run cat "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 20
	drain held first "$BATS_TEST_TMPDIR/got"
	run cat "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 20
	# nsqd.dat is whole again.
	python3 - "$d/nsqd.dat" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = {x['name']: [c['name'] for c in x['channels'] or []]
     for x in d['topics']}
assert t == {'t': ['c'], 'held': ['first']}, t
EOF
	stop_nsqd
}

@test "damage: a second nsqd on the same data path exits with a clear error" {
	start_nsqd
	mkchan t c
	run timeout 20 "$NSQ_BIN_DIR/nsqd" \
	    --tcp-address="127.0.0.1:$(free_port)" \
	    --http-address="127.0.0.1:$(free_port)" --data-path="$NSQD_DATA"
	assert_failure
	(( status != 124 ))
	assert_output --partial "cannot flock directory $NSQD_DATA"
	proc_alive NSQD
	pub t a 5
	drain t c "$BATS_TEST_TMPDIR/got"
	run cat "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 5
	# The second one left nsqd.dat and the queues alone.
	stop_nsqd
	python3 "$TOOLS" dqscan "$NSQD_DATA" t:c
	grep -q '"name":"c"' "$NSQD_DATA/nsqd.dat"
}

@test "damage: a SIGKILLed nsqd restarts at once on the same ports and data" {
	local t0 t1
	start_nsqd --mem-queue-size=0 --sync-every=1
	mkchan t c
	pub t k 50
	# A client connected at the kill, as in real life.
	start_bg HOLD timeout 30 python3 "$TOOLS" consume "$NSQD_TCP_PORT" \
	    t other --log "$BATS_TEST_TMPDIR/hold.log" --max-time 25
	wait_until 10 grep -q 'TOPIC(t): created CHANNEL(other)' "$NSQD_LOG"
	kill9_nsqd
	t0=$EPOCHREALTIME
	restart_nsqd
	t1=$EPOCHREALTIME
	wait_bg HOLD 10
	python3 -c "import sys; d = $t1 - $t0; print(d); sys.exit(d > 5)"
	# Durable mode: the 50 acknowledged messages are all there.
	drain t c "$BATS_TEST_TMPDIR/got"
	run sort -u "$BATS_TEST_TMPDIR/got"
	assert_equal "${#lines[@]}" 50
	stop_nsqd
}
