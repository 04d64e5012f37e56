#!/usr/bin/env bats
# nsqd under bad input: truncated frames, garbage, huge lines, input one
# byte at a time, pipelining, clients that never read.  Nothing may crash
# nsqd, hang it or leak into what it delivers.  Each test ends with
# nsqd still serving and exiting 0 on SIGTERM.

load nsqd_helpers

setup() {
	start_nsqd
}

teardown() {
	teardown_daemons
}

@test "nsqd abuse: a client that disconnects at any byte publishes only whole commands" {
	wire <<'EOF'
from nsqdtest import *
head = MAGIC_V2 + b'IDENTIFY\n' + body(b'{"client_id":"cut"}')
pub = b'PUB cut\n' + body(b'whole-pub')
mpub = b'MPUB cut\n' + body(mpub_body([b'whole-m1', b'whole-m2']))
dpub = b'DPUB cut 0\n' + body(b'whole-dpub')
data = head + pub + mpub + dpub
ends = {len(head + pub): [b'whole-pub'],
        len(head + pub + mpub): [b'whole-m1', b'whole-m2'],
        len(data): [b'whole-dpub']}
want = []
for cut in range(len(data) + 1):
    c = Conn(PORT)
    c.send(data[:cut])
    c.close()
    for end, bodies in ends.items():
        if cut >= end:
            want.extend(bodies)
c = subscriber('cut', 'c', rdy=1000)
# The server may still be reading the last connections: wait for the
# count, then check that nothing else comes.
got = c.pending + c.messages(len(want) - len(c.pending), timeout=20)
got += drain(c, 0.5)
# Whatever arrived is exactly the whole commands (order across
# connections is not defined).
assert sorted(m.body for m in got) == sorted(want), (len(got), len(want))
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: half a PUB body, then close or half-close" {
	wire <<'EOF'
from nsqdtest import *
import struct
for closer in ('close', 'shut_wr'):
    c = connect()
    c.send(b'PUB half\n' + struct.pack('>i', 100) + b'x' * 50)
    if closer == 'close':
        c.close()
        continue
    shut_wr(c)
    # The server sees EOF and closes; Go first says why.
    assert c.closed(10), 'server did not close after EOF'
    f, data = c.frame()
    assert (f, data) == (FRAME_ERROR,
                         b'E_BAD_MESSAGE PUB failed to read message body'), data
    assert not c.buf, bytes(c.buf)
# The same halfway through an IDENTIFY and an MPUB.
for partial in (b'IDENTIFY\n' + struct.pack('>i', 50) + b'{"a', b'MPUB half\n' +
                struct.pack('>ii', 100, 3) + b'\x00\x00', b'SUB half', b'  V'):
    c = Conn(PORT)
    if partial != b'  V':
        c.magic()
    c.send(partial)
    c.close()
s = subscriber('half', 'c', rdy=10)
assert s.pending == []
s.no_frame(0.5)
# Whole commands before a half-close are still answered, then the close.
c = connect()
c.send(b'PUB half\n' + body(b'whole') + b'MPUB half\n' +
       body(mpub_body([b'whole too'])) + b'NOP\n')
shut_wr(c)
c.ok()
c.ok()
assert c.closed(10)
got = s.messages(2)
assert sorted(m.body for m in got) == [b'whole', b'whole too'], got
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: a half-close mid-command gets Go's error for the missing part" {
	wire <<'EOF'
from nsqdtest import *
import zlib
P = struct.pack
BM, BB = b'E_BAD_MESSAGE ', b'E_BAD_BODY '
# What was sent before the half-close -> Go's fatal error frame (its
# failed read of the missing part), or None: no frame, just the close
# (EOF inside the line, or at a command boundary).
cases = [
    (b'PUB t\n', BM + b'PUB failed to read message body size'),
    (b'PUB t\n\x00\x00', BM + b'PUB failed to read message body size'),
    (b'PUB t\n' + P('>i', 10), BM + b'PUB failed to read message body'),
    (b'PUB t\n' + P('>i', 10) + b'abc', BM + b'PUB failed to read message body'),
    (b'DPUB t 10\n\x00', BM + b'DPUB failed to read message body size'),
    (b'DPUB t 10\n' + P('>i', 10) + b'abc',
     BM + b'DPUB failed to read message body'),
    (b'MPUB t\n\x00', BB + b'MPUB failed to read body size'),
    (b'MPUB t\n' + P('>i', 100) + b'\x00\x00',
     BB + b'MPUB failed to read message count'),
    (b'MPUB t\n' + P('>ii', 100, 3) + b'\x00\x00',
     BM + b'MPUB failed to read message(0) body size'),
    (b'MPUB t\n' + P('>iii', 100, 3, 5) + b'ab',
     BM + b'MPUB failed to read message body'),
    (b'MPUB t\n' + P('>iii', 100, 3, 2) + b'ab\x00',
     BM + b'MPUB failed to read message(1) body size'),
    # What Go reads of the stream before the EOF is still checked first.
    (b'MPUB t\n' + P('>ii', 100, 0), BB + b'MPUB invalid message count 0'),
    (b'IDENTIFY\n\x00\x00\x00', BB + b'IDENTIFY failed to read body size'),
    (b'IDENTIFY\n' + P('>i', 50) + b'{"a', BB + b'IDENTIFY failed to read body'),
    (b'AUTH\n', BB + b'AUTH failed to read body size'),
    (b'AUTH\n' + P('>i', 5) + b'ab', BB + b'AUTH failed to read body'),
    (b'PUB t', None), (b'IDENTIFY', None), (b'', None), (b'NOP\n', None),
    (b'NOP\nPUB t', None), (b'PUB t\n' + body(b'x'), None),
]
for data, want in cases:
    c = connect()
    c.send(data)
    shut_wr(c)
    assert c.closed(10), ('server did not close after EOF', data)
    if want is not None:
        f, got = c.frame()
        assert (f, got) == (FRAME_ERROR, want), (data, got)
    elif data.endswith(body(b'x')):
        c.ok()
    assert not c.buf, (data, bytes(c.buf))
# Answers owed come first: the OKs, then the error.
c = connect()
c.send(b'PUB t\n' + body(b'a') + b'NOP\nMPUB t\n' + body(mpub_body([b'b'])) +
       b'PUB t\n' + P('>i', 9) + b'ab')
shut_wr(c)
assert c.closed(10)
c.ok()
c.ok()
fatal(c, BM + b'PUB failed to read message body')
# Through deflate the error comes compressed, as everything else.
c = connect({'feature_negotiation': True, 'deflate': True})
assert c.features['deflate'], c.features
d = zlib.compressobj(6, zlib.DEFLATED, -15)
c.send(d.compress(b'PUB t\n' + P('>i', 9) + b'ab') + d.flush(zlib.Z_SYNC_FLUSH))
shut_wr(c)
assert c.closed(10)
plain = zlib.decompressobj(-15).decompress(bytes(c.buf))
assert plain == frame_bytes(FRAME_RESPONSE, b'OK') + frame_bytes(
    FRAME_ERROR, BM + b'PUB failed to read message body'), plain
# A full close at the same points: nothing to read, nothing may break.
for data, _ in cases:
    c = connect()
    c.send(data)
    c.close()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: garbage after the magic gets an error and a close" {
	wire <<'EOF'
from nsqdtest import *
import random
rng = random.Random(20240601)
conns = []
for i in range(40):
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    junk = junk.replace(b'\n', b'') + b'\n'
    c = connect()
    c.send(junk)
    conns.append(c)
# Lines with no newline: 20000 bytes is more than Go's 16 KiB buffer and
# our line limit.
for i in range(3):
    c = connect()
    try:
        c.send(bytes(rng.randrange(1, 256) for _ in range(20000)).replace(
            b'\n', b'.'))
    except (BrokenPipeError, ConnectionResetError):
        pass
    conns.append(c)
deadline = time.monotonic() + 20
for c in conns:
    assert c.closed(max(0.1, deadline - time.monotonic())), 'still open'
    # A frame, if one made it before the close, is an error.
    while len(c.buf) >= 8:
        f, data = c.frame(timeout=0.1)
        assert f == FRAME_ERROR and data.startswith(b'E_'), (f, data)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: a 10 MB line without newline is refused and closed" {
	wire <<'EOF'
from nsqdtest import *
c = connect()
chunk = b'A' * 65536
sent = 0
try:
    while sent < 10 * 1024 * 1024:
        c.send(chunk)
        sent += len(chunk)
except (BrokenPipeError, ConnectionResetError):
    pass
assert c.closed(20), 'server kept a 10 MB line open'
while len(c.buf) >= 8:
    f, data = c.frame(timeout=0.1)
    assert f == FRAME_ERROR and data.startswith(b'E_INVALID'), (f, data)
# Nor did it take a 10 MB body behind a PUB line it had to refuse.
d = connect()
try:
    d.send(b'PUB big\n' + struct.pack('>i', 10 * 1024 * 1024) + chunk * 4)
except (BrokenPipeError, ConnectionResetError):
    pass
assert d.closed(20)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: every command sent one byte at a time works" {
	wire <<'EOF'
from nsqdtest import *
p = Conn(PORT)
send_slowly(p, MAGIC_V2 + b'IDENTIFY\n' +
            body(b'{"client_id":"slow","feature_negotiation":true}'))
assert p.response_json()['version'] == '1.3.0'
send_slowly(p, b'PUB slow\n' + body(b'hello, slowly'))
p.ok()
send_slowly(p, b'MPUB slow\n' + body(mpub_body([b'm1', b'm2'])))
p.ok()
send_slowly(p, b'DPUB slow 0\n' + body(b'd'))
p.ok()
c = Conn(PORT)
send_slowly(c, MAGIC_V2 + b'SUB slow c\r\n')
c.ok()
send_slowly(c, b'RDY 4\n')
got = c.messages(4)
assert sorted(m.body for m in got) == [b'd', b'hello, slowly', b'm1', b'm2']
for m in got:
    send_slowly(c, b'FIN ' + m.id + b'\n')
send_slowly(c, b'NOP\n')
assert sync(c) == []
c.no_frame(0.3)
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: a pipeline of 2000 commands in one write" {
	wire <<'EOF'
from nsqdtest import *
c = connect()
n = 2000
data = b''.join(b'PUB pipe\n' + body(b'p%04d' % i) for i in range(n // 2))
data += b''.join(b'NOP\nPUB pipe\n' + body(b'q%04d' % i)
                 for i in range(n // 4))
# Extra parameters, up to a long line, are ignored as Go does.
data += b'PUB pipe' + b' x' * 1000 + b'\n' + body(b'long line')
c.send(data)
for i in range(n // 2 + n // 4 + 1):
    c.ok(timeout=20)
s = subscriber('pipe', 'c', rdy=2500)
got = s.pending + s.messages(n // 2 + n // 4 + 1 - len(s.pending),
                             timeout=30)
assert len({m.body for m in got}) == len(got) == n // 2 + n // 4 + 1
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: a consumer that never reads does not stall the others" {
	wire <<'EOF'
from nsqdtest import *
# It asks for everything and reads nothing; its socket fills up.
stuck = subscriber('flood', 'stuck', rdy=2500)
ok = subscriber('flood', 'ok', rdy=2500)
big = b'z' * 16000
with connect() as p:
    for i in range(60):
        p.mpub('flood', [big] * 10)
        p.ok(timeout=30)
# The other channel gets all 600 messages meanwhile.
n = 0
deadline = time.monotonic() + 60
while n < 600:
    m = ok.message(timeout=max(0.1, deadline - time.monotonic()))
    ok.fin(m.id)
    n += 1
# And brand new clients are served at once.
alive()
stuck.close()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: connections that come and go without a word" {
	wire <<'EOF'
from nsqdtest import *
import socket
idle = []
for i in range(100):
    c = Conn(PORT)
    c.send(MAGIC_V2[:i % 5])
    if i % 10 == 0:
        idle.append(c)          # stays open, silent
    elif i % 3 == 0:
        # Reset instead of a clean close.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack('ii', 1, 0))
        c.close()
    else:
        c.close()
alive()
for c in idle:
    c.close()
EOF
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: SIGTERM with clients mid-command exits 0 and keeps what was in flight" {
	cat >"$BATS_TEST_TMPDIR/hold.py" <<'EOF2'
from nsqdtest import *
import struct
c = subscriber('keep', 'c', rdy=5)
publish('keep', b'k1', b'k2', b'k3')
got = c.pending + c.messages(3 - len(c.pending))
assert sorted(m.body for m in got) == [b'k1', b'k2', b'k3']
half = connect()
half.send(b'PUB keep\n' + struct.pack('>i', 100) + b'half')
bare = Conn(PORT)
print('ready', flush=True)
for x in (c, half, bare):
    assert x.closed(30), 'nsqd did not close a client when stopping'
print('closed', flush=True)
EOF2
	start_bg HOLD timeout 60 python3 "$BATS_TEST_TMPDIR/hold.py"
	wait_until 20 grep -q ready "$HOLD_LOG"
	stop_nsqd
	wait_bg HOLD 20
	grep -q closed "$HOLD_LOG"
	# The three messages in flight at shutdown were saved, not the half
	# PUB; each comes back once, one attempt on.
	restart_nsqd
	wire <<'EOF2'
from nsqdtest import *
c = subscriber('keep', 'c', rdy=10)
got = c.pending + drain(c, 0.7)
assert sorted(m.body for m in got) == [b'k1', b'k2', b'k3'], got
assert all(m.attempts == 2 for m in got), got
EOF2
	assert_serving
	stop_nsqd
}

@test "nsqd abuse: pipelined and byte-by-byte commands in durable mode keep their order" {
	# --mem-queue-size=0 --sync-every=1: each publish is answered only
	# after its fsync, and what follows it waits.
	restart_nsqd --mem-queue-size=0 --sync-every=1
	wire <<'EOF2'
from nsqdtest import *
def session(topic):
    return (b'PUB ' + topic + b'\n' + body(b'a') +
            b'MPUB ' + topic + b'\n' + body(mpub_body([b'b', b'c'])) +
            b'NOP\n' + b'DPUB ' + topic + b' 0\n' + body(b'd') +
            b'SUB ' + topic + b' c\n' + b'RDY 10\n')
c = connect()
c.send(session(b'dur1'))
for _ in range(4):
    c.ok()
got = c.messages(4)
assert sorted(m.body for m in got) == [b'a', b'b', b'c', b'd'], got
s = connect()
send_slowly(s, session(b'dur2'), pause=0.001)
for _ in range(4):
    s.ok()
got = s.messages(4)
assert sorted(m.body for m in got) == [b'a', b'b', b'c', b'd'], got
# A fatal error behind a publish comes after that publish's OK.
f = connect()
f.send(b'PUB dur3\n' + body(b'x') + b'BOGUS\n' + b'PUB dur3\n' + body(b'y'))
f.ok()
fatal(f, b'E_INVALID invalid command BOGUS')
g = subscriber('dur3', 'c', rdy=10)
got = g.pending + drain(g)
assert [m.body for m in got] == [b'x'], got
# So does a publish's own fatal error (a bad topic name, a bad size):
# the OK owed for the publish before it still arrives first.
for bad, err in ((b'PUB bad!\n' + body(b'y'),
                  b'E_BAD_TOPIC PUB topic name "bad!" is not valid'),
                 (b'MPUB dur4\n' + struct.pack('>i', 0),
                  b'E_BAD_BODY MPUB invalid body size 0')):
    h = connect()
    h.send(b'PUB dur4\n' + body(b'kept') + bad)
    h.ok()
    fatal(h, err)
k = subscriber('dur4', 'c', rdy=10)
got = k.pending + drain(k)
assert [m.body for m in got] == [b'kept', b'kept'], got
EOF2
	assert_serving
	stop_nsqd
}

# The python prelude of the deflate tests: Z(port), a connection that
# negotiated deflate, sends compressed and reads inflated frames.
zwire_prelude='
from nsqdtest import *
import struct, zlib
class Z(object):
    def __init__(self, port):
        self.c = connect({"feature_negotiation": True, "deflate": True},
                         port=port, timeout=30)
        assert self.c.features["deflate"], self.c.features
        self.d = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.i = zlib.decompressobj(-15)
        self.plain = bytearray(self.i.decompress(bytes(self.c.buf)))
        self.c.buf.clear()
        # The OK that starts deflate comes deflated.
        assert self.frame() == (FRAME_RESPONSE, b"OK")
    def send(self, data):
        self.c.send(self.d.compress(data) + self.d.flush(zlib.Z_SYNC_FLUSH))
    def frame(self, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.plain) < 8 or len(self.plain) < 4 + struct.unpack(
                ">i", self.plain[:4])[0]:
            assert time.monotonic() < deadline, bytes(self.plain[:200])
            self.c._fill(1, deadline)
            self.plain += self.i.decompress(bytes(self.c.buf))
            self.c.buf.clear()
        n, t = struct.unpack(">ii", self.plain[:8])
        data = bytes(self.plain[8:4 + n])
        del self.plain[:4 + n]
        return t, data
'

# vmhwm NAME: the peak RSS of daemon NAME in KiB.
vmhwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$(_nsq_var "$1" PID)/status"
}

@test "nsqd abuse: deflate input inflates in steps, never past the input limit" {
	stop_nsqd
	# The input buffer holds at most 16 KiB + 4 + 2048 bytes here.
	start_nsqd -n Z --max-msg-size=1024 --max-body-size=2048
	wire <<EOF
$zwire_prelude
z = Z($Z_TCP_PORT)
# 20,000 PUBs (220 KB plain) in one write of a few KB.
z.send(b''.join([b'PUB t\n' + body(b'%05d' % i) for i in range(20000)]))
for i in range(20000):
    assert z.frame() == (FRAME_RESPONSE, b'OK'), i
# A body past --max-msg-size is Go's error, as without deflate.
z.send(b'PUB t\n' + body(b'\0' * 1025))
got = z.frame()
assert got == (FRAME_ERROR,
    b'E_BAD_MESSAGE PUB message too big 1025 > 1024'), got
EOF
	run curl -sf "http://127.0.0.1:$Z_HTTP_PORT/stats?format=json&topic=t"
	assert_success
	assert_output --partial '"message_count":20000'
	assert_serving Z
}

@test "nsqd abuse: a deflate bomb of big PUBs is taken whole, in bounded memory" {
	stop_nsqd
	start_nsqd -n Z --max-msg-size=4194304 --max-body-size=4194304
	wire <<EOF
$zwire_prelude
z = Z($Z_TCP_PORT)
# Three 4 MiB bodies of zeros: 12 MiB plain from about 12 KB.
z.send((b'PUB t\n' + body(b'\0' * 4194304)) * 3)
for i in range(3):
    assert z.frame() == (FRAME_RESPONSE, b'OK'), i
EOF
	run curl -sf "http://127.0.0.1:$Z_HTTP_PORT/stats?format=json&topic=t"
	assert_success
	assert_output --partial '"message_count":3'
	hwm=$(vmhwm Z)
	[ "$hwm" -lt 65536 ] || fail "VmHWM ${hwm} kB"
	assert_serving Z
}
