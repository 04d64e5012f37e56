#!/usr/bin/env bats
# nsqd TCP protocol V2 errors, in raw bytes: every code and text of wire
# spec 2.4 and the IDENTIFY validation texts of 2.5, word for word as Go
# nsqd 1.3.0 sends them.  Fatal errors must be followed by the close;
# E_FIN_FAILED, E_REQ_FAILED and E_TOUCH_FAILED must leave the connection
# usable.  Each test ends by checking nsqd still serves.

load nsqd_helpers

# Small limits, so that "too big" and "out of range" are cheap to reach.
LIMITS=(--max-msg-size=100 --max-body-size=1000 --max-rdy-count=100
    --max-req-timeout=5s)

setup() {
	start_nsqd "${LIMITS[@]}"
}

teardown() {
	teardown_daemons
}

@test "nsqd errors: bad protocol magic is E_BAD_PROTOCOL, then close" {
	wire <<'EOF'
from nsqdtest import *
for magic in (b'  V1', b'  v2', b'V2  ', b'GET / HTTP/1.1\r\n\r\n',
              b'\x00\x00\x00\x00', b'\xff\xff\xff\xff', b'IDENTIFY\n'):
    c = Conn(PORT)
    c.send(magic)
    fatal(c, b'E_BAD_PROTOCOL')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: unknown commands are fatal E_INVALID invalid command" {
	wire <<'EOF'
from nsqdtest import *
fatal_case(b'FOO\n', b'E_INVALID invalid command FOO')
fatal_case(b'pub t\n', b'E_INVALID invalid command pub')
fatal_case(b'\n', b'E_INVALID invalid command ')
fatal_case(b'\r\n', b'E_INVALID invalid command ')
fatal_case(b' PUB t\n', b'E_INVALID invalid command ')
fatal_case(b'PUBX t\n', b'E_INVALID invalid command PUBX')
fatal_case(b'GET / HTTP/1.1\r\n', b'E_INVALID invalid command GET')
# After SUB too; and the command before it was handled.
fatal_case(b'NOP\nBOGUS 1 2\n', b'E_INVALID invalid command BOGUS',
           sub=('t', 'c'))
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: IDENTIFY state, body size and JSON" {
	wire <<'EOF'
from nsqdtest import *
import struct
fatal_case(b'IDENTIFY\n' + body(b'{}'),
           b'E_INVALID cannot IDENTIFY in current state', sub=('t', 'c'))
# Checked as soon as the size arrives: no body needs to follow.
fatal_case(b'IDENTIFY\n' + struct.pack('>i', 1001),
           b'E_BAD_BODY IDENTIFY body too big 1001 > 1000')
fatal_case(b'IDENTIFY\n' + struct.pack('>i', 0x7fffffff),
           b'E_BAD_BODY IDENTIFY body too big 2147483647 > 1000')
fatal_case(b'IDENTIFY\n' + struct.pack('>i', 0),
           b'E_BAD_BODY IDENTIFY invalid body size 0')
fatal_case(b'IDENTIFY\n' + struct.pack('>i', -1),
           b'E_BAD_BODY IDENTIFY invalid body size -1')
for bad in (b'{', b'[]', b'"x"', b'{"a":1}x', b'not json',
            b'{"heartbeat_interval":"1000"}', b'{"msg_timeout":1.5}',
            b'{"feature_negotiation":1}', b'{"client_id":5}'):
    fatal_case(b'IDENTIFY\n' + body(bad),
               b'E_BAD_BODY IDENTIFY failed to decode JSON body')
# A body of exactly --max-body-size is fine; so is a second IDENTIFY.
with connect() as c:
    c.identify(b'{"client_id":"' + b'x' * (1000 - 16) + b'"}')
    c.ok()
    c.identify({})
    c.ok()
    sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: IDENTIFY field validation texts (Go's order)" {
	wire <<'EOF'
from nsqdtest import *
def bad(fields, text):
    fatal_case(b'IDENTIFY\n' + body(json.dumps(fields)),
               b'E_BAD_BODY IDENTIFY ' + text.encode())
for v in (100, 999, 60001, -2):
    bad({'heartbeat_interval': v}, 'heartbeat interval (%d) is invalid' % v)
# --min-output-buffer-timeout 25ms, --max-output-buffer-timeout 30s
for v in (1, 24, 30001, -2):
    bad({'output_buffer_timeout': v},
        'output buffer timeout (%d) is invalid' % v)
# 64 .. --max-output-buffer-size (64 KiB)
for v in (1, 63, 65537, -2):
    bad({'output_buffer_size': v}, 'output buffer size (%d) is invalid' % v)
for v in (100, -1, 1000):
    bad({'sample_rate': v}, 'sample rate (%d) is invalid' % v)
# 1000 .. --max-msg-timeout (15m)
for v in (1, 999, 900001, -1):
    bad({'msg_timeout': v}, 'msg timeout (%d) is invalid' % v)
# Go checks heartbeat, output buffer timeout, size, sample rate, msg
# timeout, in that order.
bad({'msg_timeout': 1, 'sample_rate': 100, 'output_buffer_size': 1,
     'output_buffer_timeout': 1, 'heartbeat_interval': 1},
    'heartbeat interval (1) is invalid')
bad({'msg_timeout': 1, 'sample_rate': 100, 'output_buffer_size': 1,
     'output_buffer_timeout': 1}, 'output buffer timeout (1) is invalid')
bad({'msg_timeout': 1, 'sample_rate': 100, 'output_buffer_size': 1},
    'output buffer size (1) is invalid')
bad({'msg_timeout': 1, 'sample_rate': 100}, 'sample rate (100) is invalid')
# The boundaries themselves are accepted.
for ok in ({'heartbeat_interval': 1000}, {'heartbeat_interval': 60000},
           {'heartbeat_interval': -1}, {'output_buffer_timeout': 25},
           {'output_buffer_timeout': 30000}, {'output_buffer_size': 64},
           {'output_buffer_size': 65536}, {'sample_rate': 99},
           {'msg_timeout': 1000}, {'msg_timeout': 900000}):
    with connect(ok) as c:
        sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: AUTH state, parameters and body size" {
	wire <<'EOF'
from nsqdtest import *
import struct
fatal_case(b'AUTH\n' + body(b's'), b'E_INVALID cannot AUTH in current state',
           sub=('t', 'c'))
fatal_case(b'AUTH x\n' + body(b's'),
           b'E_INVALID AUTH invalid number of parameters')
fatal_case(b'AUTH\n' + struct.pack('>i', 1001),
           b'E_BAD_BODY AUTH body too big 1001 > 1000')
fatal_case(b'AUTH\n' + struct.pack('>i', 0),
           b'E_BAD_BODY AUTH invalid body size 0')
fatal_case(b'AUTH\n' + struct.pack('>i', -7),
           b'E_BAD_BODY AUTH invalid body size -7')
fatal_case(b'AUTH\n' + body(b'secret'), b'E_AUTH_DISABLED AUTH disabled')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: SUB state, parameters and names" {
	wire <<'EOF'
from nsqdtest import *
fatal_case(b'SUB t c2\n', b'E_INVALID cannot SUB in current state',
           sub=('t', 'c'))
fatal_case(b'SUB t\n', b'E_INVALID SUB insufficient number of parameters')
fatal_case(b'SUB\n', b'E_INVALID SUB insufficient number of parameters')
# Names: 1..64 bytes of [.a-zA-Z0-9_-], optionally ending in #ephemeral.
bad_names = [b'bad!', b'a' * 65, b'x' * 55 + b'#ephemeral', b'#ephemeral',
             b'a#ephemeralx', b'a#ephemeral#ephemeral', b'a#b', b'a:b',
             b'a/b', b'a\tb', b'']
for n in bad_names:
    q = json.dumps(n.decode()).encode()    # %q of these is plain JSON
    fatal_case(b'SUB ' + n + b' c\n',
               b'E_BAD_TOPIC SUB topic name ' + q + b' is not valid')
    fatal_case(b'SUB t ' + n + b'\n',
               b'E_BAD_CHANNEL SUB channel name ' + q + b' is not valid')
# The topic is checked before the channel.
fatal_case(b'SUB bad! bad!\n', b'E_BAD_TOPIC SUB topic name "bad!" is not valid')
# Single spaces separate: a double space makes an empty channel name.
fatal_case(b'SUB t  c\n', b'E_BAD_CHANNEL SUB channel name "" is not valid')
# Go quotes with %q: a quote and a backslash are escaped.
fatal_case(b'SUB a"b c\n', b'E_BAD_TOPIC SUB topic name "a\\"b" is not valid')
fatal_case(b'SUB a\\b c\n',
           b'E_BAD_TOPIC SUB topic name "a\\\\b" is not valid')
# Heartbeats disabled: no SUB.
fatal_case(b'SUB t c\n', b'E_INVALID cannot SUB with heartbeats disabled',
           identify={'heartbeat_interval': -1})
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: SUB names are quoted as Go's %q (UTF-8, controls)" {
	wire <<'EOF'
from nsqdtest import *
# Printable UTF-8 stays as is; control and invalid bytes are escaped.
fatal_case('SUB café c\n'.encode(),
           'E_BAD_TOPIC SUB topic name "café" is not valid'.encode())
fatal_case(b'SUB a\x01b c\n',
           b'E_BAD_TOPIC SUB topic name "a\\x01b" is not valid')
fatal_case(b'SUB a\xffb c\n',
           b'E_BAD_TOPIC SUB topic name "a\\xffb" is not valid')
fatal_case(b'SUB a\x7fb c\n',
           b'E_BAD_TOPIC SUB topic name "a\\x7fb" is not valid')
cases = [
    (b'a\x07b', b'a\\ab'), (b'a\x08b', b'a\\bb'), (b'a\x0cb', b'a\\fb'),
    (b'a\x0bb', b'a\\vb'), (b'a\rb', b'a\\rb'), (b'a\x1bb', b'a\\x1bb'),
    (b'a\x00b', b'a\\x00b'),
    # Latin-1: NBSP and the soft hyphen are not printable, the rest is.
    ('a\u00a0b'.encode(), b'a\\u00a0b'), ('a\u00adb'.encode(), b'a\\u00adb'),
    ('\u00a1\u00ff'.encode(), '\u00a1\u00ff'.encode()),
    # Beyond: printable runes as is, separators and format runes escaped.
    ('\u65e5\U0001f600'.encode(), '\u65e5\U0001f600'.encode()),
    ('a\u2028b'.encode(), b'a\\u2028b'), ('a\ufeffb'.encode(), b'a\\ufeffb'),
    # Invalid UTF-8 (overlong, surrogate, truncated) goes byte by byte.
    (b'\xc0\x80', b'\\xc0\\x80'), (b'\xed\xa0\x80', b'\\xed\\xa0\\x80'),
    (b'a\xe6\x97', b'a\\xe6\\x97'), (b'\x80', b'\\x80'),
]
for name, quoted in cases:
    fatal_case(b'SUB ' + name + b' c\n',
               b'E_BAD_TOPIC SUB topic name "' + quoted + b'" is not valid')
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: PUB parameters, topic and body size vs --max-msg-size" {
	wire <<'EOF'
from nsqdtest import *
import struct
fatal_case(b'PUB\n', b'E_INVALID PUB insufficient number of parameters')
fatal_case(b'PUB bad!\n' + body(b'x'),
           b'E_BAD_TOPIC PUB topic name "bad!" is not valid')
fatal_case(b'PUB ' + b'a' * 65 + b'\n' + body(b'x'),
           b'E_BAD_TOPIC PUB topic name "' + b'a' * 65 + b'" is not valid')
for size in (0, -1, -2147483648):
    fatal_case(b'PUB t\n' + struct.pack('>i', size),
               b'E_BAD_MESSAGE PUB invalid message body size %d' % size)
# Refused from the size alone, before any body byte.
for size in (101, 1000, 2147483647):
    fatal_case(b'PUB t\n' + struct.pack('>i', size),
               b'E_BAD_MESSAGE PUB message too big %d > 100' % size)
# Exactly --max-msg-size is fine; extra parameters are ignored, as Go.
with connect() as c:
    c.pub('t', b'm' * 100)
    c.ok()
    c.send(b'PUB t extra params\n' + body(b'y'))
    c.ok()
    # PUB is allowed after SUB too.
    c.sub('t', 'c')
    c.ok()
    c.pub('t', b'z')
    c.ok()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: MPUB body size, count and message sizes" {
	wire <<'EOF'
from nsqdtest import *
import struct
def mp(payload, size=None):
    if size is None:
        size = len(payload)
    return b'MPUB t\n' + struct.pack('>i', size) + payload
def i32(*v):
    return b''.join(struct.pack('>i', x) for x in v)

fatal_case(b'MPUB\n', b'E_INVALID MPUB insufficient number of parameters')
# Go repeats the code in this one's text.
fatal_case(b'MPUB bad!\n' + body(mpub_body([b'x'])),
           b'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad!" is not valid')
for size in (0, -1):
    fatal_case(b'MPUB t\n' + i32(size),
               b'E_BAD_BODY MPUB invalid body size %d' % size)
for size in (1001, 2147483647):
    fatal_case(b'MPUB t\n' + i32(size),
               b'E_BAD_BODY MPUB body too big %d > 1000' % size)
# Count: 1 .. (max-body-size - 4) / 5 = 199.
for n in (0, -1, 200, 2147483647):
    fatal_case(mp(i32(n, 1) + b'x'),
               b'E_BAD_BODY MPUB invalid message count %d' % n)
# Go reads the messages from the stream, past the body size: a message
# cut short is waited for, so these cases end the stream (eof).
fatal_case(mp(i32(199)), b'E_BAD_MESSAGE MPUB failed to read message(0) body size',
           eof=True)
fatal_case(mp(i32(2, 1) + b'x'),
           b'E_BAD_MESSAGE MPUB failed to read message(1) body size', eof=True)
fatal_case(mp(i32(2, 0)), b'E_BAD_MESSAGE MPUB invalid message(0) body size 0')
fatal_case(mp(i32(2, 1) + b'x' + i32(-3)),
           b'E_BAD_MESSAGE MPUB invalid message(1) body size -3')
fatal_case(mp(i32(1, 101) + b'x' * 101),
           b'E_BAD_MESSAGE MPUB message too big 101 > 100')
fatal_case(mp(i32(2, 1) + b'x' + i32(5) + b'ab'),
           b'E_BAD_MESSAGE MPUB failed to read message body', eof=True)
# An invalid MPUB publishes none of its messages.
with subscriber('t', 'c', rdy=10) as c:
    c.no_frame(0.3)
    # The limits themselves are fine: 100-byte messages, a 1000-byte body,
    # 199 one-byte messages in a body of 4 + 199 * 5 = 999 bytes.
    mpublish('t', [b'a' * 100] * 9)
    got = c.messages(9)
    mpublish('t', [b'b'] * 199)
    c.rdy(100)
    for m in got:
        c.fin(m.id)
    n = 0
    while n < 199:
        m = c.message()
        assert m.body == b'b', m
        c.fin(m.id)
        n += 1
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: DPUB parameters, timeout vs --max-req-timeout, body size" {
	wire <<'EOF'
from nsqdtest import *
import struct
fatal_case(b'DPUB t\n', b'E_INVALID DPUB insufficient number of parameters')
fatal_case(b'DPUB\n', b'E_INVALID DPUB insufficient number of parameters')
fatal_case(b'DPUB bad! 10\n' + body(b'x'),
           b'E_BAD_TOPIC DPUB topic name "bad!" is not valid')
for t in (b'abc', b'-1', b'1.5', b'+1', b'10ms'):
    fatal_case(b'DPUB t ' + t + b'\n' + body(b'x'),
               b'E_INVALID DPUB could not parse timeout ' + t)
for t in (5001, 3600000):
    fatal_case(b'DPUB t %d\n' % t + body(b'x'),
               b'E_INVALID DPUB timeout %d out of range 0-5000' % t)
for size in (0, -1):
    fatal_case(b'DPUB t 10\n' + struct.pack('>i', size),
               b'E_BAD_MESSAGE DPUB invalid message body size %d' % size)
fatal_case(b'DPUB t 10\n' + struct.pack('>i', 101),
           b'E_BAD_MESSAGE DPUB message too big 101 > 100')
# The limits themselves, and an empty timeout (Go reads it as 0).
with connect() as c:
    c.dpub('t', 5000, b'x' * 100)
    c.ok()
    c.send(b'DPUB t \n' + body(b'y'))
    c.ok()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: RDY state, parsing and range vs --max-rdy-count" {
	wire <<'EOF'
from nsqdtest import *
fatal_case(b'RDY 1\n', b'E_INVALID cannot RDY in current state')
fatal_case(b'RDY 1\n', b'E_INVALID cannot RDY in current state',
           identify={})
for v in (b'x', b'-1', b'1.0', b'+1'):
    fatal_case(b'RDY ' + v + b'\n', b'E_INVALID RDY could not parse count ' + v,
               sub=('t', 'c'))
for v in (101, 2500, 1000000):
    fatal_case(b'RDY %d\n' % v,
               b'E_INVALID RDY count %d out of range 0-100' % v,
               sub=('t', 'c'))
# 0, the maximum, and a bare RDY (count 1) are fine.
with subscriber('t', 'c') as c:
    c.cmd('RDY 0')
    c.cmd('RDY 100')
    c.cmd('RDY')
    assert sync(c) == []
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: FIN, REQ, TOUCH states, parameters and message IDs" {
	wire <<'EOF'
from nsqdtest import *
ID = b'0123456789abcdef'
for cmd in (b'FIN', b'REQ', b'TOUCH'):
    line = cmd + b' ' + ID + (b' 0' if cmd == b'REQ' else b'') + b'\n'
    fatal_case(line, b'E_INVALID cannot ' + cmd + b' in current state')
    fatal_case(line, b'E_INVALID cannot ' + cmd + b' in current state',
               identify={})
    fatal_case(cmd + b'\n',
               b'E_INVALID ' + cmd + b' insufficient number of params',
               sub=('t', 'c'))
    for bad in (b'abc', ID + b'0', ID[:15], b''):
        fatal_case(cmd + b' ' + bad + (b' 0' if cmd == b'REQ' else b'') +
                   b'\n', b'E_INVALID invalid message ID', sub=('t', 'c'))
fatal_case(b'REQ ' + ID + b'\n', b'E_INVALID REQ insufficient number of params',
           sub=('t', 'c'))
# (An empty timeout is 0 for Go: see the E_REQ_FAILED test.)
for t in (b'x', b'-1', b'1.5'):
    fatal_case(b'REQ ' + ID + b' ' + t + b'\n',
               b'E_INVALID REQ could not parse timeout ' + t, sub=('t', 'c'))
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: E_FIN_FAILED, E_REQ_FAILED, E_TOUCH_FAILED are not fatal" {
	wire <<'EOF'
from nsqdtest import *
ID = b'0123456789abcdef'
a = subscriber('t', 'c', rdy=1)
b = subscriber('t', 'c', rdy=1)
# Not in flight at all.
a.fin(ID)
soft(a, b'E_FIN_FAILED FIN ' + ID + b' failed ID not in flight')
a.req(ID, 0)
soft(a, b'E_REQ_FAILED REQ ' + ID + b' failed ID not in flight')
a.send(b'REQ ' + ID + b' \n')
soft(a, b'E_REQ_FAILED REQ ' + ID + b' failed ID not in flight')
a.touch(ID)
soft(a, b'E_TOUCH_FAILED TOUCH ' + ID + b' failed ID not in flight')
# In flight, but at the other consumer.
publish('t', b'one')
got = collect([a, b], 1, fin=False)
owner, other = (a, b) if got[0] else (b, a)
m = (got[0] or got[1])[0]
other.fin(m.id)
soft(other, b'E_FIN_FAILED FIN ' + m.id + b' failed client does not own message')
other.req(m.id, 0)
soft(other, b'E_REQ_FAILED REQ ' + m.id + b' failed client does not own message')
other.touch(m.id)
soft(other, b'E_TOUCH_FAILED TOUCH ' + m.id + b' failed client does not own message')
# The owner can still finish it; a second FIN fails softly.
owner.fin(m.id)
assert sync(owner) == []
owner.fin(m.id)
soft(owner, b'E_FIN_FAILED FIN ' + m.id + b' failed ID not in flight')
# Several soft errors in a row, then normal work.
for _ in range(5):
    owner.fin(ID)
for _ in range(5):
    owner.expect(FRAME_ERROR, b'E_FIN_FAILED FIN ' + ID + b' failed ID not in flight')
publish('t', b'two')
got = collect([a, b], 1)
assert [x.body for x in got[0] + got[1]] == [b'two']
sync(a)
sync(b)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: CLS before SUB or twice is fatal" {
	wire <<'EOF'
from nsqdtest import *
fatal_case(b'CLS\n', b'E_INVALID cannot CLS in current state')
fatal_case(b'CLS\n', b'E_INVALID cannot CLS in current state', identify={})
with connect() as c:
    c.sub('t', 'c')
    c.ok()
    c.cls()
    c.expect(FRAME_RESPONSE, b'CLOSE_WAIT')
    c.cls()
    fatal(c, b'E_INVALID cannot CLS in current state')
# SUB, IDENTIFY and AUTH after CLS are refused too (state is closing).
for cmd, text in ((b'SUB t c\n', b'E_INVALID cannot SUB in current state'),
                  (b'IDENTIFY\n' + body(b'{}'),
                   b'E_INVALID cannot IDENTIFY in current state'),
                  (b'AUTH\n' + body(b's'),
                   b'E_INVALID cannot AUTH in current state')):
    with connect() as c:
        c.sub('t', 'c')
        c.ok()
        c.cls()
        c.expect(FRAME_RESPONSE, b'CLOSE_WAIT')
        c.send(cmd)
        fatal(c, text)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: REQ timeout over --max-req-timeout is clamped, not refused" {
	restart_nsqd --max-req-timeout=1s
	wire <<'EOF'
from nsqdtest import *
c = subscriber('t', 'c', rdy=1)
publish('t', b'r')
m = check_message(c.message(), b'r', 1)
t0 = time.monotonic()
c.req(m.id, 3600000)
assert sync(c) == []        # no error, connection open
m2 = check_message(c.message(timeout=15), b'r', 2)
waited = time.monotonic() - t0
assert waited >= 0.9, waited
# Clamped to 1 s, so well before the hour asked for.
assert waited < 15, waited
c.fin(m2.id)
sync(c)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: --max-channel-consumers refuses one more with E_SUB_FAILED" {
	restart_nsqd --max-channel-consumers=2
	wire <<'EOF'
from nsqdtest import *
for ch in ('c', 'e#ephemeral'):
    a = subscriber('t', ch, rdy=1)
    b = subscriber('t', ch, rdy=1)
    fatal_case(('SUB t %s\n' % ch).encode(),
               ('E_SUB_FAILED SUB failed consumers for t:%s exceeds limit '
                'of 2' % ch).encode())
    # Another channel of the topic is not affected.
    subscriber('t', ch + '2' if ch == 'c' else 'x#ephemeral').close()
    # Once one leaves, there is room again (the server notices the close
    # asynchronously: retry until then).
    a.close()
    deadline = time.monotonic() + 10
    while True:
        c = connect()
        c.sub('t', ch)
        f, data = c.frame()
        if f == FRAME_RESPONSE and data == b'OK':
            c.rdy(1)
            sync(c)
            break
        assert data.startswith(b'E_SUB_FAILED'), data
        assert time.monotonic() < deadline, 'no room after a consumer left'
        time.sleep(0.05)
    # The survivors of the ephemeral channel keep getting messages.
    publish('t', b'm')
    got = collect([b, c], 1)
    b.close()
    c.close()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd errors: IDENTIFY JSON is decoded as Go's encoding/json does" {
	wire <<'EOF2'
from nsqdtest import *
def ok(raw):
    with connect() as c:
        c.identify(raw)
        c.ok()
        sync(c)
def bad(raw, text):
    fatal_case(b'IDENTIFY\n' + body(raw), b'E_BAD_BODY IDENTIFY ' + text)
# Unknown fields of any shape are ignored; null leaves a field alone.
ok(b'{"foo":[1,2,{"a":null}],"bar":"x","heartbeat_interval":null}')
ok(b' \t\r\n{ "client_id" : "spaced" } \n')
ok(b'{"client_id":"caf\\u00e9 \\"q\\" \\\\"}')
# Keys match case-insensitively, as Go matches struct tags.
bad(b'{"HEARTBEAT_INTERVAL":100}', b'heartbeat interval (100) is invalid')
bad(b'{"Msg_Timeout":999}', b'msg timeout (999) is invalid')
# The last of duplicate keys wins.
bad(b'{"msg_timeout":2000,"msg_timeout":999}', b'msg timeout (999) is invalid')
ok(b'{"msg_timeout":999,"msg_timeout":2000}')
with connect() as c:
    c.identify(b'{"feature_negotiation":true,"msg_timeout":999,'
               b'"msg_timeout":2000}')
    assert c.response_json()['msg_timeout'] == 2000
# A literal null is an empty object to Go.
ok(b'null')
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd errors: command lines up to Go's 16 KiB read buffer work, longer ones close" {
	wire <<'EOF2'
from nsqdtest import *
# Go reads a line into a 16 KiB bufio.Reader: 16384 bytes with the \n.
line = b'PUB t' + b' x' * 8189
line += b'y' * (16383 - len(line)) + b'\n'
assert len(line) == 16384
with connect() as c:
    c.send(line + body(b'long'))
    c.ok()
    sync(c)
# One byte more and Go gives up on the connection.
with connect() as c:
    c.send(line[:-1] + b'z\n' + body(b'too long'))
    assert c.closed(10), 'a 16385-byte line was not refused'
    while len(c.buf) >= 8:
        f, data = c.frame(timeout=1)
        assert f == FRAME_ERROR and data.startswith(b'E_INVALID'), data
s = subscriber('t', 'c', rdy=10)
got = s.pending + drain(s)
assert [m.body for m in got] == [b'long'], got
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd: IDENTIFY asking for both deflate and snappy gets E_IDENTIFY_FAILED" {
	wire <<'EOF2'
from nsqdtest import *
c = connect()
c.identify({'feature_negotiation': True, 'deflate': True, 'snappy': True})
c.error('E_IDENTIFY_FAILED cannot enable both deflate and snappy compression')
assert c.closed(5)
EOF2
	assert_serving
	stop_nsqd
}
