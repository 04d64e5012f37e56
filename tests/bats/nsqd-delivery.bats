#!/usr/bin/env bats
# nsqd delivery semantics seen on the wire (wire spec 2.7 and 6): RDY as a
# window, load balancing within a channel, fan-out across channels, what a
# new channel sees, ephemeral topics and channels, and redelivery of what
# a departing consumer had in flight.

load nsqd_helpers

teardown() {
	teardown_daemons
}

@test "nsqd delivery: RDY is a window of messages in flight; RDY 0 stops" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'c')
mpublish('t', [b'm%d' % i for i in range(5)])
c.no_frame(0.3)              # RDY 0 after SUB: nothing yet
c.rdy(2)
first = c.messages(2)
c.no_frame(0.5)              # exactly 2 while both are in flight
c.fin(first[0].id)
third = c.message()
c.no_frame(0.5)              # one FIN, one more
c.rdy(0)
c.fin(first[1].id)
c.fin(third.id)
assert sync(c) == []
c.no_frame(0.5)              # RDY 0: nothing, with none in flight
c.rdy(5)
rest = c.messages(2)
got = [m.body for m in first + [third] + rest]
assert sorted(got) == [b'm%d' % i for i in range(5)], got
assert all(m.attempts == 1 for m in first + [third] + rest)
for m in rest:
    c.fin(m.id)
assert sync(c) == []
c.no_frame(0.3)
# Raising RDY while messages are in flight widens the window at once.
c.rdy(1)
assert sync(c) == []
mpublish('t', [b'n%d' % i for i in range(4)])
a = c.messages(1)
c.no_frame(0.3)
c.rdy(4)
b = c.messages(3)
assert sorted(m.body for m in a + b) == [b'n%d' % i for i in range(4)]
# Lowered below what is in flight: nothing until in flight < RDY again.
c.rdy(2)
mpublish('t', [b'o0', b'o1'])
c.no_frame(0.3)
c.fin(a[0].id)
c.fin(b[0].id)
c.no_frame(0.3)              # 2 in flight, RDY 2
c.fin(b[1].id)
o = c.messages(1)
c.no_frame(0.3)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: consumers of one channel share its messages" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
a = subscriber('t', 'c', rdy=1)
b = subscriber('t', 'c', rdy=1)
bodies = [b'%02d' % i for i in range(20)]
mpublish('t', bodies)
got = collect([a, b], len(bodies))
all_ = [m.body for m in got[0] + got[1]]
assert sorted(all_) == bodies, all_            # each message once overall
assert got[0] and got[1], 'one consumer got everything: %r' % got
a.no_frame(0.3)
b.no_frame(0.1)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: every channel of a topic gets every message" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
a = subscriber('t', 'one', rdy=10)
b = subscriber('t', 'two', rdy=10)
e = subscriber('t', 'three#ephemeral', rdy=10)
bodies = [b'f%d' % i for i in range(5)]
publish('t', *bodies[:2])
mpublish('t', bodies[2:])
seen = []
for c in (a, b, e):
    got = c.messages(5)
    assert sorted(m.body for m in got) == bodies, got
    seen.append(sorted((m.body, m.id, m.ts, m.attempts) for m in got))
    for m in got:
        c.fin(m.id)
    c.no_frame(0.2)
# Each channel's copy has the same ID and timestamp.
assert seen[0] == seen[1] == seen[2], seen
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: a new channel does not get earlier messages; a topic with no channel keeps them" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
# A topic without channels holds what is published...
publish('held', b'h1', b'h2')
mpublish('held', [b'h3'])
a = subscriber('held', 'first', rdy=10)
got = (a.pending + a.messages(3 - len(a.pending)))
assert sorted(m.body for m in got) == [b'h1', b'h2', b'h3'], got
for m in got:
    a.fin(m.id)
# ...and hands it to the first channel only: a second one created later
# sees nothing of it, only what comes after.
b = subscriber('held', 'second', rdy=10)
assert b.pending == []
b.no_frame(0.5)
publish('held', b'h4')
for x in (a, b):
    m = check_message(x.message(), b'h4', 1)
    x.fin(m.id)
    assert sync(x) == []
# A channel without consumers keeps its copies for the next one.
b.close()
publish('held', b'h5')
c = subscriber('held', 'third', rdy=10)
assert c.pending == []
c.no_frame(0.5)
d = subscriber('held', 'second', rdy=10)
m = (d.pending or [d.message()])[0]
assert m.body == b'h5', m
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: an #ephemeral channel goes with its last client" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'e#ephemeral')
publish('t', b'old1', b'old2')
# Both consumers of the channel leave, the messages unread.
d = subscriber('t', 'e#ephemeral')
c.close()
d.close()
# The server sees the closes asynchronously and there is no HTTP API to
# ask it: give it a moment.
time.sleep(0.5)
n = subscriber('t', 'e#ephemeral', rdy=10)
assert n.pending == [], n.pending
n.no_frame(0.5)
publish('t', b'new')
check_message(n.message(), b'new', 1)
# A durable channel keeps its messages over the same sequence.
c = subscriber('t2', 'durable')
publish('t2', b'kept')
c.close()
time.sleep(0.5)
n = subscriber('t2', 'durable', rdy=10)
m = (n.pending or [n.message()])[0]
check_message(m, b'kept', 1)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: an ephemeral topic drops messages beyond --mem-queue-size and never writes to disk" {
	start_nsqd --mem-queue-size=5
	wire <<'EOF'
from nsqdtest import *
bodies = [b'e%02d' % i for i in range(12)]
publish('eph#ephemeral', *bodies[:6])
mpublish('eph#ephemeral', bodies[6:])
# The same into a durable topic: its overflow goes to disk instead.
publish('dur', *bodies[:6])
mpublish('dur', bodies[6:])
c = subscriber('eph#ephemeral', 'c#ephemeral', rdy=20)
got = c.pending + drain(c, 0.7)
assert [m.body for m in got] == bodies[:5], got
d = subscriber('dur', 'c', rdy=20)
got = d.pending + drain(d, 0.7)
assert sorted(m.body for m in got) == bodies, got
# An ephemeral channel of a durable topic drops its overflow as well.
e = subscriber('dur', 'x#ephemeral')
mpublish('dur', bodies)
e.rdy(20)
got = drain(e, 0.7)
assert [m.body for m in got] == bodies[:5], got
EOF
	# The durable topic spilled to a disk queue; nothing is named after
	# the ephemeral topic or channel.
	compgen -G "$NSQD_DATA/dur.diskqueue.*" >/dev/null
	run find "$NSQD_DATA" -name '*eph*'
	assert_output ''
	run find "$NSQD_DATA" -name '*#*'
	assert_output ''
	assert_serving
	stop_nsqd
	# Nor after a clean shutdown (which writes what is in memory out).
	run find "$NSQD_DATA" -name '*eph*'
	assert_output ''
	run find "$NSQD_DATA" -name '*#*'
	assert_output ''
	if [[ -e $NSQD_DATA/nsqd.dat ]]; then
		run grep -c ephemeral "$NSQD_DATA/nsqd.dat"
		assert_output 0
	fi
}

@test "nsqd delivery: a consumer that leaves with messages in flight: they go to another at once" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
b = subscriber('t', 'c')                       # RDY 0 for now
a = subscriber('t', 'c', rdy=5)                # default msg_timeout: 60 s
bodies = [b'r%d' % i for i in range(3)]
publish('t', *bodies)
got = a.pending + a.messages(3 - len(a.pending))
assert sorted(m.body for m in got) == bodies
ids = {m.id for m in got}
a.close()                                      # no FIN, no REQ
b.rdy(10)
# Long before their 60 s timeout, with one more attempt on the count.
again = b.messages(3, timeout=20)
assert {m.id for m in again} == ids, again
assert all(m.attempts == 2 for m in again), again
for m in again:
    b.fin(m.id)
assert sync(b) == []
# Likewise after CLS and close with one in flight.
c = subscriber('t', 'c', rdy=1)
b.rdy(0)
assert sync(b) == []
publish('t', b'cls')
m = c.message()
c.cls()
c.expect(FRAME_RESPONSE, b'CLOSE_WAIT')
c.close()
b.rdy(1)
m2 = check_message(b.message(timeout=20), b'cls', 2)
assert m2.id == m.id
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: sample_rate delivers a sample, the rest is dropped for the channel" {
	start_nsqd
	wire <<'EOF2'
from nsqdtest import *
c = subscriber('s', 'c', rdy=300, identify={'sample_rate': 10})
a = subscriber('s', 'all', rdy=300)
mpublish('s', [b'x%03d' % i for i in range(200)])
got = drain(c, 0.7)
# About 11% (Go keeps a message when rand(100) <= 10); the bounds are
# many standard deviations wide.
assert 2 <= len(got) <= 80, len(got)
assert len({m.body for m in got}) == len(got)
# What was sampled out is gone, not queued for someone else.
d = subscriber('s', 'c', rdy=300)
assert d.pending == []
d.no_frame(0.5)
# The other channel of the topic got everything.
assert len(a.messages(200)) == 200
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: --mem-queue-size=0 still hands messages to ready consumers, #ephemeral too" {
	# Go's queues become unbuffered handoffs: durable channels go through
	# the disk queue, an ephemeral one delivers to a consumer that is
	# ready and drops only what nobody can take at once.
	start_nsqd --mem-queue-size=0
	wire <<'EOF2'
from nsqdtest import *
d = subscriber('z', 'durable', rdy=10)
e = subscriber('z', 'tail#ephemeral', rdy=10)
for i in range(3):
    publish('z', b'z%d' % i)
    for c in (d, e):
        m = check_message(c.message(), b'z%d' % i, 1)
        c.fin(m.id)
        assert sync(c) == []
# Nobody ready on the ephemeral channel: dropped, not kept for later.
e.rdy(0)
assert sync(e) == []
publish('z', b'unseen')
check_message(d.message(), b'unseen', 1)
e.rdy(10)
e.no_frame(0.5)
EOF2
	run find "$NSQD_DATA" -name '*#*'
	assert_output ''
	assert_serving
	stop_nsqd
}

@test "nsqd delivery: ephemeral topics and channels come and go with messages in flight and deferred" {
	start_nsqd
	wire <<'EOF2'
from nsqdtest import *
for i in range(15):
    c = subscriber('churn#ephemeral', 'c#ephemeral', rdy=10,
                   identify={'msg_timeout': 1000})
    mpublish('churn#ephemeral', [b'%d-%d' % (i, k) for k in range(6)])
    got = c.pending + c.messages(6 - len(c.pending))
    assert {m.body for m in got} == {b'%d-%d' % (i, k) for k in range(6)}
    # One finished, one requeued now, one deferred, one touched, two left
    # in flight; then the last client goes and takes both with it.
    c.fin(got[0].id)
    c.req(got[1].id, 0)
    c.req(got[2].id, 60000)
    c.touch(got[3].id)
    c.dpub('churn#ephemeral', 60000, b'later')
    ok_after(c)              # the REQ 0 one may come back first
    c.close()
    time.sleep(0.05)
# Whatever was left went with them: a new subscriber starts empty.
time.sleep(0.3)
n = subscriber('churn#ephemeral', 'c#ephemeral', rdy=10)
assert n.pending == []
n.no_frame(0.5)
EOF2
	assert_serving
	stop_nsqd
}
