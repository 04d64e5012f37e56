#!/usr/bin/env bats
# nsqd timers seen on the wire: heartbeats and the read deadline, the
# in-flight timeout with TOUCH, deferred delivery (DPUB, REQ with a delay).
# Timing checks are lower bounds (or generous deadlines): the machine may
# be slow, but a timer must never fire early.

load nsqd_helpers

setup() {
	start_nsqd
}

teardown() {
	teardown_daemons
}

@test "nsqd timing: heartbeat_interval 1000 sends _heartbeat_ about every second" {
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'c', rdy=1, identify={'heartbeat_interval': 1000})
t0 = time.monotonic()
beats = []
while len(beats) < 3:
    f, data = c.frame(timeout=15)
    assert (f, data) == (FRAME_RESPONSE, HEARTBEAT), (f, data)
    beats.append(time.monotonic())
    c.nop()                  # answering keeps the connection alive
gaps = [b - a for a, b in zip([t0] + beats, beats)]
assert all(g >= 0.8 for g in gaps), gaps
# Three seconds (more than two intervals) later it is still open and works.
publish('t', b'still here')
m = check_message(c.message(), b'still here', 1)
c.fin(m.id)
assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: a client silent for 2 heartbeat intervals is disconnected" {
	wire <<'EOF'
from nsqdtest import *
s = connect({'heartbeat_interval': 1000})
t0 = time.monotonic()
# heartbeat_interval -1: no heartbeats and no read deadline.
q = connect({'heartbeat_interval': -1})
assert s.closed(timeout=20), 'silent client still connected after 20 s'
waited = time.monotonic() - t0
assert waited >= 1.7, waited
# The heartbeats it was sent before the close are intact frames.
n = 0
while True:
    try:
        f, data = s.frame(timeout=1)
    except ConnectionClosed:
        break
    assert (f, data) == (FRAME_RESPONSE, HEARTBEAT), (f, data)
    n += 1
assert n >= 1, 'no heartbeat before the close'
# Meanwhile the other one got nothing and is still open...
q.no_frame(0.1)
sync(q)
# ...but may not SUB.
q.sub('t', 'c')
fatal(q, b'E_INVALID cannot SUB with heartbeats disabled')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: a message not FINed within msg_timeout comes back, attempts 2" {
	wire <<'EOF'
from nsqdtest import *
# To the same consumer.
a = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 1000})
publish('t', b'slow')
m = check_message(a.message(), b'slow', 1)
t0 = time.monotonic()
m2 = check_message(a.message(timeout=15), b'slow', 2)
t1 = time.monotonic()
assert m2.id == m.id and m2.ts == m.ts
assert t1 - t0 >= 0.9, t1 - t0
# To another consumer, when the first stops taking messages.
a.rdy(0)
b = subscriber('t', 'c', rdy=1)
m3 = check_message(b.message(timeout=15), b'slow', 3)
assert time.monotonic() - t1 >= 0.9, time.monotonic() - t1
# The first consumer's FIN now fails, without closing it.
a.fin(m.id)
soft(a, b'E_FIN_FAILED FIN ' + m.id + b' failed client does not own message')
b.fin(m3.id)
assert sync(b) == []
a.fin(m.id)
soft(a, b'E_FIN_FAILED FIN ' + m.id + b' failed ID not in flight')
a.no_frame(0.2)
b.no_frame(0.2)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: after the in-flight timeout FIN gets E_FIN_FAILED, REQ and TOUCH too" {
	wire <<'EOF'
from nsqdtest import *
a = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 1000})
watch = subscriber('t', 'c')
publish('t', b'late')
m = check_message(a.message(), b'late', 1)
a.rdy(0)
watch.rdy(1)
# The watcher gets it once it has timed out at the first consumer.
m2 = check_message(watch.message(timeout=15), b'late', 2)
watch.req(m2.id, 60000)      # deferred: in flight nowhere
assert sync(watch) == []
for cmd, name in ((a.fin, b'FIN'), (a.touch, b'TOUCH')):
    cmd(m.id)
    soft(a, b'E_' + name + b'_FAILED ' + name + b' ' + m.id +
         b' failed ID not in flight')
a.req(m.id, 0)
soft(a, b'E_REQ_FAILED REQ ' + m.id + b' failed ID not in flight')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: TOUCH keeps a message in flight past its msg_timeout" {
	wire <<'EOF'
from nsqdtest import *
a = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 1000})
watch = subscriber('t', 'c')
publish('t', b'long job')
m = check_message(a.message(), b'long job', 1)
t0 = time.monotonic()
watch.rdy(1)                 # would get it, were it to time out
# 2.4 s of work, touching every 0.4 s: more than twice the timeout.
while time.monotonic() - t0 < 2.4:
    a.touch(m.id)
    a.no_frame(0.4)
a.fin(m.id)
assert sync(a) == []         # no E_FIN_FAILED: it was still in flight
watch.no_frame(0.1)
# Finished for good: it does not come back.
a.no_frame(1.3)
watch.no_frame(0.1)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: DPUB 1500 then PUB: the PUB arrives first, the DPUB >= 1.4 s" {
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'c', rdy=10)
p = connect()
t0 = time.monotonic()
p.dpub('t', 1500, b'deferred')
p.ok()
p.pub('t', b'direct')
p.ok()
first = check_message(c.message(timeout=10), b'direct', 1)
c.fin(first.id)
second = check_message(c.message(timeout=15), b'deferred', 1)
waited = time.monotonic() - t0
assert waited >= 1.4, waited
c.fin(second.id)
assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: REQ with a delay: later messages pass it, it returns >= 1.4 s" {
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'c', rdy=10)
publish('t', b'retry me')
m = check_message(c.message(), b'retry me', 1)
t0 = time.monotonic()
c.req(m.id, 1500)
assert sync(c) == []
publish('t', b'newer')
n = check_message(c.message(), b'newer', 1)
c.fin(n.id)
m2 = check_message(c.message(timeout=15), b'retry me', 2)
waited = time.monotonic() - t0
assert waited >= 1.4, waited
assert m2.id == m.id and m2.ts == m.ts
c.fin(m2.id)
assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: TOUCH cannot keep a message past --max-msg-timeout" {
	restart_nsqd --max-msg-timeout=2s
	wire <<'EOF2'
from nsqdtest import *
a = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 1000})
publish('t', b'forever')
m = check_message(a.message(), b'forever', 1)
t0 = time.monotonic()
# Touch every 0.3 s; past 2 s after delivery the touches stop counting.
while True:
    a.touch(m.id)
    try:
        m2 = a.message(timeout=0.3)
        break
    except WireTimeout:
        assert time.monotonic() - t0 < 15, 'TOUCH kept it in flight for good'
waited = time.monotonic() - t0
assert waited >= 1.9, waited
check_message(m2, b'forever', 2)
a.fin(m2.id)
# A TOUCH that raced the timeout may have failed softly: skip its error.
a.pub(SYNC_TOPIC, b'x')
while True:
    f, data = a.frame()
    if f == FRAME_ERROR:
        assert data.startswith(b'E_TOUCH_FAILED TOUCH ' + m.id), data
        continue
    assert (f, data) == (FRAME_RESPONSE, b'OK'), (f, data)
    break
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd timing: messages of consumers with different msg_timeouts come back each at its own" {
	# 1 s and 6 s: the gap leaves seconds of slack for a loaded machine.
	wire <<'EOF'
from nsqdtest import *
a = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 1000})
publish('t', b'one')
m1 = check_message(a.message(), b'one', 1)
t0 = time.monotonic()
b = subscriber('t', 'c', rdy=1, identify={'msg_timeout': 6000})
publish('t', b'two')
m2 = check_message(b.message(), b'two', 1)
a.rdy(0)
b.rdy(0)
w = subscriber('t', 'c', rdy=5)
r1 = check_message(w.message(timeout=30), b'one', 2)
t1 = time.monotonic() - t0
r2 = check_message(w.message(timeout=30), b'two', 2)
t2 = time.monotonic() - t0
assert r1.id == m1.id and r2.id == m2.id
assert t1 >= 0.9, t1
assert t2 >= 5.9 and t2 - t1 >= 3, (t1, t2)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd timing: a TOUCH capped by --max-msg-timeout times out before a later delivery" {
	# msg_timeout 3 s, cap 4 s: 'first' is touched 1.5 s after delivery
	# (its deadline: the cap, 4 s), 'second' is delivered then (4.5 s).
	restart_nsqd --max-msg-timeout=4s
	wire <<'EOF2'
from nsqdtest import *
a = subscriber('t', 'c', rdy=2, identify={'msg_timeout': 3000})
publish('t', b'first')
m1 = check_message(a.message(), b'first', 1)
t0 = time.monotonic()
a.no_frame(1.5)
publish('t', b'second')
m2 = check_message(a.message(), b'second', 1)
a.touch(m1.id)
assert sync(a) == []
a.rdy(0)
w = subscriber('t', 'c', rdy=2)
# Deadline order, whenever the timer runs: first, then second.
r1 = check_message(w.message(timeout=30), b'first', 2)
r2 = check_message(w.message(timeout=30), b'second', 2)
assert time.monotonic() - t0 >= 3.9, time.monotonic() - t0
EOF2
	assert_serving
	stop_nsqd
}
