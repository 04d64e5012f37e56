#!/usr/bin/env bats
# nsqd TCP protocol V2, the success path of every command, in raw bytes
# (wire spec 2.4-2.6): what each answers (OK, JSON, CLOSE_WAIT, nothing)
# and what it does to delivery.

load nsqd_helpers

teardown() {
	teardown_daemons
}

@test "nsqd: IDENTIFY without feature_negotiation answers OK" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.identify({'client_id': 'c1', 'hostname': 'h', 'user_agent': 'bats/1'})
c.ok()
# The same with every field at its "use the default" value.
d = connect()
d.identify({'feature_negotiation': False, 'heartbeat_interval': 0,
            'output_buffer_size': 0, 'output_buffer_timeout': 0,
            'sample_rate': 0, 'msg_timeout': 0, 'tls_v1': False,
            'deflate': False, 'snappy': False,
            'short_id': 'old', 'long_id': 'old.example'})
d.ok()
sync(c)
sync(d)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: IDENTIFY feature_negotiation reply has Go's keys, order and defaults" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.identify({'feature_negotiation': True})
raw = c.expect(FRAME_RESPONSE)
# Go's json.Marshal of its struct: compact, fields in declaration order.
want = (b'{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,'
        b'"msg_timeout":60000,"tls_v1":false,"deflate":false,'
        b'"deflate_level":6,"max_deflate_level":6,"snappy":false,'
        b'"sample_rate":0,"auth_required":false,"output_buffer_size":16384,'
        b'"output_buffer_timeout":250}')
assert raw == want, raw
sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: IDENTIFY feature_negotiation reports the effective values" {
	start_nsqd --max-rdy-count=200 --max-msg-timeout=120s \
	    --max-deflate-level=3 --msg-timeout=30s \
	    --output-buffer-timeout=100ms
	wire <<'EOF'
from nsqdtest import *
import collections
c = connect()
c.identify({'feature_negotiation': True, 'msg_timeout': 5000,
            'sample_rate': 42, 'output_buffer_size': 4096,
            'output_buffer_timeout': 50, 'heartbeat_interval': 2000})
raw = c.expect(FRAME_RESPONSE)
got = json.loads(raw, object_pairs_hook=collections.OrderedDict)
want = collections.OrderedDict([
    ('max_rdy_count', 200), ('version', '1.3.0'),
    ('max_msg_timeout', 120000), ('msg_timeout', 5000), ('tls_v1', False),
    ('deflate', False), ('deflate_level', 3), ('max_deflate_level', 3),
    ('snappy', False), ('sample_rate', 42), ('auth_required', False),
    ('output_buffer_size', 4096), ('output_buffer_timeout', 50)])
assert list(got.items()) == list(want.items()), raw
assert b' ' not in raw, raw

# Server-side defaults show through when the client leaves them at 0.
d = connect()
d.identify({'feature_negotiation': True})
got = d.response_json()
assert got['msg_timeout'] == 30000, got
assert got['output_buffer_timeout'] == 100, got
assert got['output_buffer_size'] == 16384, got

# output_buffer_size -1: no buffering, which also zeroes the timeout.
e = connect()
e.identify({'feature_negotiation': True, 'output_buffer_size': -1})
got = e.response_json()
assert got['output_buffer_size'] == 1, got
assert got['output_buffer_timeout'] == 0, got
# output_buffer_timeout -1 alone disables the timeout only.
f = connect()
f.identify({'feature_negotiation': True, 'output_buffer_timeout': -1})
got = f.response_json()
assert got['output_buffer_size'] == 16384, got
assert got['output_buffer_timeout'] == 0, got
# The negotiated msg_timeout is the highest allowed.
g = connect()
g.identify({'feature_negotiation': True, 'msg_timeout': 120000})
assert g.response_json()['msg_timeout'] == 120000
for x in (c, d, e, f, g):
    sync(x)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: PUB, SUB, RDY and FIN deliver one message once" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
p = connect()
p.pub('t', b'hello')
p.ok()
c = connect()
c.sub('t', 'c')
c.ok()
c.rdy(1)
m = check_message(c.message(), b'hello', 1)
before = time.time_ns()
assert m.ts <= before, (m.ts, before)
c.fin(m.id)
# FIN has no reply, and the message does not come back.
assert sync(c) == []
c.no_frame(0.3)
# Binary bodies travel untouched.
blob = bytes(range(256)) * 4
p.pub('t', blob)
p.ok()
m2 = check_message(c.message(), blob, 1)
assert m2.id != m.id
c.fin(m2.id)
sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: MPUB publishes every body, in order" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('mt', 'c', rdy=20)
bodies = [b'm%02d' % i for i in range(10)] + [b'\x00\n\r\x01' * 3]
mpublish('mt', bodies)
got = c.messages(len(bodies))
assert [m.body for m in got] == bodies, got
assert len({m.id for m in got}) == len(bodies)
for m in got:
    check_message(m, attempts=1)
    c.fin(m.id)
sync(c)
c.no_frame(0.3)
# A single-message MPUB works too.
mpublish('mt', [b'solo'])
check_message(c.message(), b'solo', 1)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: DPUB answers OK and delivers after its defer; DPUB 0 at once" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('dt', 'c', rdy=5)
p = connect()
t0 = time.monotonic()
p.dpub('dt', 300, b'later')
p.ok()
m = check_message(c.message(timeout=10), b'later', 1)
assert time.monotonic() - t0 >= 0.25, time.monotonic() - t0
c.fin(m.id)
p.dpub('dt', 0, b'now')
p.ok()
m = check_message(c.message(), b'now', 1)
c.fin(m.id)
sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: REQ 0 redelivers at once with attempts+1; REQ with a delay later" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('rq', 'c', rdy=1)
publish('rq', b'again')
m = check_message(c.message(), b'again', 1)
c.req(m.id, 0)
m2 = check_message(c.message(), b'again', 2)
assert m2.id == m.id and m2.ts == m.ts
t0 = time.monotonic()
c.req(m2.id, 400)
m3 = check_message(c.message(timeout=10), b'again', 3)
assert time.monotonic() - t0 >= 0.35, time.monotonic() - t0
c.fin(m3.id)
sync(c)
c.no_frame(0.3)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: TOUCH answers nothing and keeps the message in flight" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('tt', 'c', rdy=1)
publish('tt', b'x')
m = check_message(c.message(), b'x', 1)
c.touch(m.id)
assert sync(c) == []
c.touch(m.id)
c.fin(m.id)
assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: CLS answers CLOSE_WAIT, stops delivery, still takes FIN" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = subscriber('ct', 'c', rdy=1)
publish('ct', b'one', b'two')
m = check_message(c.message(), b'one', 1)
c.cls()
c.expect(FRAME_RESPONSE, b'CLOSE_WAIT')
# RDY after CLS is ignored (not an error), FIN of the in-flight one works.
c.rdy(5)
c.fin(m.id)
assert sync(c) == []
c.no_frame(0.5)
# REQ and TOUCH are still taken too.
publish('ct', b'three')
d = subscriber('ct', 'c', rdy=1)
md = (d.pending or [d.message()])[0]
d.cls()
d.expect(FRAME_RESPONSE, b'CLOSE_WAIT')
d.touch(md.id)
d.req(md.id, 0)
assert sync(d) == []
d.no_frame(0.3)
d.close()
c.close()
# The other messages wait for another consumer.
e = subscriber('ct', 'c', rdy=5)
got = e.pending + drain(e)
assert sorted(m.body for m in got) == [b'three', b'two'], got
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: NOP answers nothing, in any state" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.nop()
c.nop()
assert sync(c) == []
c.sub('nt', 'c')
c.ok()
c.nop()
assert sync(c) == []
c.no_frame(0.2)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: AUTH without an auth server is E_AUTH_DISABLED (fatal)" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth(b'secret')
fatal(c, b'E_AUTH_DISABLED AUTH disabled')
# After IDENTIFY too; and the IDENTIFY reply says no auth is required.
d = connect({'feature_negotiation': True})
assert d.features['auth_required'] is False
d.auth(b's')
fatal(d, b'E_AUTH_DISABLED AUTH disabled')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: a topic and channel named up to 64 bytes, #ephemeral too" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
names = ['a' * 64, 'x' * 54 + '#ephemeral', 'Az09._-', 'e#ephemeral']
for t in names:
    for ch in names:
        c = subscriber(t, ch, rdy=1)
        publish(t, b'n')
        m = (c.pending or [c.message()])[0]
        check_message(m, b'n', 1)
        c.fin(m.id)
        sync(c)
        c.close()
    # Topics reached through PUB only, too.
    with connect() as p:
        p.pub(t, b'x')
        p.ok()
        p.mpub(t, [b'y'])
        p.ok()
        p.dpub(t, 0, b'z')
        p.ok()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: commands end with \\n or \\r\\n" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.send(b'PUB crlf\r\n' + body(b'a'))
c.ok()
c.send(b'SUB crlf c\r\n')
c.ok()
c.send(b'RDY 1\r\n')
m = check_message(c.message(), b'a', 1)
c.send(b'FIN ' + m.id + b'\r\n')
c.send(b'NOP\r\n')
assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd: IDENTIFY asking for TLS and compression the server does not offer gets plain OK frames" {
	# No --tls-cert, compression switched off: Go answers false for each
	# and carries on unencrypted and uncompressed.
	start_nsqd --deflate=false --snappy=false
	wire <<'EOF2'
from nsqdtest import *
c = connect()
c.identify({'feature_negotiation': True, 'tls_v1': True, 'deflate': True,
            'deflate_level': 9, 'snappy': True})
got = c.response_json()
assert got['tls_v1'] is False and got['deflate'] is False, got
# Go's deflate_level is 6 (capped at --max-deflate-level), deflate or not.
assert got['snappy'] is False and got['deflate_level'] == 6, got
# The next frames are plain: no "OK" of an upgrade, nothing compressed.
c.no_frame(0.3)
c.sub('t', 'c')
c.ok()
c.rdy(1)
publish('t', b'plain')
check_message(c.message(), b'plain', 1)
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd: messages at the default limits travel intact (1 MiB PUB, 5 MiB MPUB)" {
	start_nsqd
	wire <<'EOF2'
from nsqdtest import *
import hashlib
c = subscriber('big', 'c', rdy=20)
one = bytes(range(256)) * 4096                    # --max-msg-size 1 MiB
p = connect()
p.pub('big', one)
p.ok(timeout=30)
# --max-body-size 5 MiB: 4 + 5 * (4 + n) bytes, n = 1048571, is 1 short.
five = [bytes([i]) * 1048571 for i in range(4)] + [b'\xff' * 1048572]
assert len(mpub_body(five)) == 5 * 1024 * 1024
# Two of them pipelined in one write, then a message one byte too big.
p.send((b'MPUB big\n' + body(mpub_body(five))) * 2)
p.ok(timeout=30)
p.ok(timeout=30)
p.send(b'PUB big\n' + struct.pack('>i', len(one) + 1))
fatal(p, b'E_BAD_MESSAGE PUB message too big 1048577 > 1048576')
got = c.messages(11, timeout=60)
digest = lambda b: hashlib.sha1(b).hexdigest()
want = sorted(digest(b) for b in [one] + five + five)
assert sorted(digest(m.body) for m in got) == want
for m in got:
    c.fin(m.id)
assert sync(c, timeout=30) == []
EOF2
	assert_serving
	stop_nsqd
}
