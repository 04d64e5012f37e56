#!/usr/bin/env bats
# nsqd on a data directory written by Go nsqd 1.3.0
# (tests/fixtures/go-nsqd-1.3.0, see its README), and the reverse: what
# our nsqd leaves behind must be a data directory Go nsqd can read
# (go-diskqueue file names, meta text "%d\n%d,%d\n%d,%d\n", records
# between the read and write positions, nsqd.dat with the paused flags).

load helpers

FIXTURE=$BATS_TEST_DIRNAME/../fixtures/go-nsqd-1.3.0/data

setup() {
	# start_nsqd uses $BATS_TEST_TMPDIR/NSQD.data: fill it first, with
	# a copy (nsqd rewrites and deletes files).
	mkdir -p "$BATS_TEST_TMPDIR/NSQD.data"
	cp -a "$FIXTURE"/. "$BATS_TEST_TMPDIR/NSQD.data/"
	start_nsqd --mem-queue-size=100
}

teardown() {
	teardown_daemons
}

# check_data_dir DIR: every file is nsqd.dat or a go-diskqueue file, no
# temporary file is left, every meta file is in Go's exact format and
# agrees with its data files.
check_data_dir() {
	python3 - "$1" <<'EOF'
import os, re, sys
from persist_tools import dqscan
d = sys.argv[1]
names = set()
for f in sorted(os.listdir(d)):
    if f == 'nsqd.dat':
        continue
    m = re.match(r'^(.+)\.diskqueue\.(\d{6}\.dat|meta\.dat)$', f)
    assert m, 'unexpected file in the data dir: %s' % f
    names.add(m.group(1))
for n in sorted(names):
    depth, _ = dqscan(d, n)
    print(n, depth)
EOF
}

@test "gofixture: every message reaches its channel with identical bodies" {
	FIXTURE=$FIXTURE python3 - <<'EOF'
from nsqwire import *
from persist_tools import dqscan
port = int(os.environ['NSQD_TCP_PORT'])

def drain(topic, chan, n):
    c = Conn(port, timeout=20, auto_nop=True)
    c.magic()
    c.sub(topic, chan)
    c.ok()
    c.rdy(200)
    got = []
    for i in range(n):
        m = c.message()
        assert m.attempts == 1, m
        assert len(m.id) == 16 and all(x in b'0123456789abcdef'
                                       for x in m.id), m
        got.append(m.body)
        c.fin(m.id)
    c.no_frame(1.0)
    c.close()
    return got

# Go wrote the 100 messages of its memory queue after the others at
# exit: the files' order is 0100..1002, 0000..0099, and so is ours.
fixture = os.environ['FIXTURE']
want = [b'archive-%04d' % i for i in range(1000)]
want += [bytes(range(256)), b'x' * 102400, b'line1\nline2\r\n\0end']
got = drain('archive', 'c1', 1003)
assert sorted(got) == sorted(want), \
    [b[:20] for b in set(got) ^ set(want)][:5]
assert got == dqscan(fixture, 'archive:c1')[1]

# No channel until now: the 300 held messages go to the first one.
got = drain('pending', 'first', 300)
assert sorted(got) == [b'pending-%04d' % i for i in range(300)], got[:3]
assert got == dqscan(fixture, 'pending')[1]

# c2 is paused, paused_topic too: nothing comes.
for topic, chan in (('archive', 'c2'), ('paused_topic', 'c')):
    c = Conn(port, auto_nop=True)
    c.magic()
    c.sub(topic, chan)
    c.ok()
    c.rdy(100)
    c.no_frame(1.0)
    c.close()
EOF
	stop_nsqd

	# The paused flags and the channel created since are in nsqd.dat.
	python3 - "$NSQD_DATA/nsqd.dat" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = {x['name']: x for x in d['topics']}
assert set(t) == {'archive', 'pending', 'paused_topic'}, t
ch = lambda n: {c['name']: c['paused'] for c in (t[n]['channels'] or [])}
assert ch('archive') == {'c1': False, 'c2': True}, t['archive']
assert ch('pending') == {'first': False}, t['pending']
assert ch('paused_topic') == {'c': False}, t['paused_topic']
assert [t[n]['paused'] for n in ('archive', 'pending', 'paused_topic')] \
    == [False, False, True], t
assert d['version'] == '1.3.0', d
EOF

	run check_data_dir "$NSQD_DATA"
	assert_success
	# c2 still holds all 1003; c1 and pending:first are consumed; the
	# paused topic still holds its message, its new channel nothing.
	assert_line 'archive:c1 0'
	assert_line 'archive:c2 1003'
	assert_line 'pending 0'
	assert_line 'pending:first 0'
	assert_line 'paused_topic 1'
	assert_line 'paused_topic:c 0'

	# c2's records on disk are still the fixture's bodies, byte-exact.
	python3 - "$NSQD_DATA" <<'EOF'
import sys
from persist_tools import dqscan
_, bodies = dqscan(sys.argv[1], 'archive:c2')
want = [b'archive-%04d' % i for i in range(1000)]
want += [bytes(range(256)), b'x' * 102400, b'line1\nline2\r\n\0end']
assert sorted(bodies) == sorted(want)
_, bodies = dqscan(sys.argv[1], 'paused_topic')
assert bodies == [b'held-while-paused'], bodies
EOF
}

@test "gofixture: a second start on our own files keeps the paused state" {
	stop_nsqd
	restart_nsqd
	python3 - <<'EOF'
from nsqwire import *
port = int(os.environ['NSQD_TCP_PORT'])
for topic, chan in (('archive', 'c2'), ('paused_topic', 'c')):
    c = Conn(port, auto_nop=True)
    c.magic()
    c.sub(topic, chan)
    c.ok()
    c.rdy(100)
    c.no_frame(1.0)
    c.close()
c = Conn(port, timeout=20, auto_nop=True)
c.magic()
c.sub('archive', 'c1')
c.ok()
c.rdy(100)
got = set()
for i in range(1003):
    m = c.message()
    got.add(m.body)
    c.fin(m.id)
assert len(got) == 1003 and b'line1\nline2\r\n\0end' in got
EOF
	stop_nsqd
	run check_data_dir "$NSQD_DATA"
	assert_success
	assert_line 'archive:c1 0'
	assert_line 'archive:c2 1003'
	assert_line 'paused_topic 1'
	grep -q '"name":"c2","paused":true' "$NSQD_DATA/nsqd.dat"
	grep -q '"name":"paused_topic","paused":true' "$NSQD_DATA/nsqd.dat"
}
