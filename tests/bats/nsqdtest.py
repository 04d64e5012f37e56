"""nsqdtest: checks shared by the nsqd-*.bats suites, on top of nsqwire.

    python3 - <<'EOF'
    from nsqdtest import *
    c = connect()                       # magic sent, nothing else
    c.cmd('FOO')
    fatal(c, 'E_INVALID invalid command FOO')
    alive()
    EOF

`from nsqdtest import *` also brings in everything nsqwire exports.  The
port is $NSQD_TCP_PORT unless given.  Every read has a deadline (nsqwire),
so a snippet fails with a message instead of hanging.

The helpers assert exact Go nsqd 1.3.0 texts: fatal() wants the error
frame and then the close; soft() wants the error frame and then proof that
the connection still works (sync()).
"""

import itertools
import re
import socket

from nsqwire import *  # noqa: F401,F403
from nsqwire import __all__ as _wire_all

__all__ = list(_wire_all) + [
    'PORT', 'SYNC_TOPIC', 'connect', 'subscriber', 'sync', 'ok_after', 'fatal',
    'fatal_case', 'soft', 'publish', 'mpublish', 'alive', 'check_message',
    'collect', 'drain', 'send_slowly', 'shut_wr', 'unique',
]

PORT = int(os.environ.get('NSQD_TCP_PORT', '0') or 0)
# Publishing here proves a connection is open and that the server has
# handled everything sent before (commands are handled in order).  It is
# ephemeral so it never writes to disk, and nobody consumes it.
SYNC_TOPIC = 'sync#ephemeral'

_seq = itertools.count(1)


def unique(prefix='t'):
    """A topic or channel name not used before by this process."""
    return '%s-%d-%d' % (prefix, os.getpid(), next(_seq))


def connect(identify=None, port=None, **kw):
    """A connection with the magic sent.  With identify (a dict) it also
    sends IDENTIFY and expects OK, or returns the JSON reply in .features
    when the dict asks for feature_negotiation."""
    c = Conn(port or PORT, **kw)
    c.magic()
    c.features = None
    if identify is not None:
        c.identify(identify)
        if identify.get('feature_negotiation'):
            c.features = c.response_json()
        else:
            c.ok()
    return c


def sync(c, timeout=None):
    """Publishes to SYNC_TOPIC and waits for its OK.  Returns the messages
    that arrived before it (a subscribed connection may get some)."""
    c.pub(SYNC_TOPIC, b'sync')
    return ok_after(c, timeout)


def ok_after(c, timeout=None):
    """Expects OK, taking any messages that arrive before it; returns
    them."""
    msgs = []
    deadline = time.monotonic() + c._t(timeout)
    while True:
        ftype, data = c.frame(max(0.0, deadline - time.monotonic()))
        if ftype == FRAME_MESSAGE:
            msgs.append(parse_message(data))
            continue
        if ftype == FRAME_RESPONSE and data == b'OK':
            return msgs
        raise WireError('expected OK, got type %d %r' % (ftype, data))


def subscriber(topic, channel, rdy=0, identify=None, **kw):
    """Connects, IDENTIFYs if asked, SUBs (expecting OK), sends RDY when
    rdy > 0, and syncs, so the server has the RDY when this returns."""
    c = connect(identify, **kw)
    c.sub(topic, channel)
    c.ok()
    if rdy:
        c.rdy(rdy)
    c.pending = sync(c)
    return c


def fatal(c, text, timeout=5):
    """Expects the error frame `text` exactly, then the server's close."""
    c.expect(FRAME_ERROR, text, timeout=timeout)
    if not c.closed(timeout):
        raise WireError('connection still open after fatal %r' % text)
    if c.buf:
        raise WireError('bytes after fatal %r: %r' % (text, bytes(c.buf)))


def fatal_case(data, text, identify=None, sub=None, eof=False):
    """A fresh connection (IDENTIFYed and SUBscribed to (topic, channel)
    if asked) sends raw bytes (then EOF, with eof) and must get fatal
    error `text`."""
    with connect(identify) as c:
        if sub is not None:
            c.sub(*sub)
            c.ok()
        c.send(data)
        if eof:
            shut_wr(c)
        fatal(c, text)


def soft(c, text, timeout=5):
    """Expects the error frame `text`, and the connection to stay usable."""
    c.expect(FRAME_ERROR, text, timeout=timeout)
    return sync(c)


def publish(topic, *bodies):
    """PUBs each body on a new connection, expecting OK each time."""
    with connect() as c:
        for b in bodies:
            c.pub(topic, b)
            c.ok()


def mpublish(topic, bodies):
    with connect() as c:
        c.mpub(topic, bodies)
        c.ok()


_ID = re.compile(rb'^[0-9a-f]{16}$')


def check_message(m, body=None, attempts=None):
    """Checks a Message's header is sane (ID 16 lowercase hex digits, a
    timestamp within a day of now) and its body/attempts if given."""
    if not _ID.match(m.id):
        raise WireError('bad message ID %r' % m.id)
    if abs(m.ts - time.time_ns()) > 86400 * 10**9:
        raise WireError('message timestamp %d is far from now' % m.ts)
    if body is not None and m.body != (body.encode()
                                       if isinstance(body, str) else body):
        raise WireError('expected body %r, got %r' % (body, m.body))
    if attempts is not None and m.attempts != attempts:
        raise WireError('expected attempts %d, got %r' % (attempts, m))
    return m


def collect(conns, n, timeout=10, fin=True):
    """Reads messages from several connections until n have arrived in
    all, FINing each if fin.  Returns {index: [Message...]}."""
    got = {i: [] for i in range(len(conns))}
    deadline = time.monotonic() + timeout
    total = 0
    while total < n:
        if time.monotonic() > deadline:
            raise WireTimeout('collect: %d of %d messages: %r'
                              % (total, n, got))
        for i, c in enumerate(conns):
            try:
                m = c.message(timeout=0.05)
            except WireTimeout:
                continue
            got[i].append(m)
            total += 1
            if fin:
                c.fin(m.id)
    return got


def drain(c, quiet=0.5):
    """Reads messages until none arrives for `quiet` seconds."""
    out = []
    while True:
        try:
            out.append(c.message(timeout=quiet))
        except WireTimeout:
            return out


def send_slowly(c, data, pause=0.002):
    """Sends data one byte per send() with a short pause between."""
    for i in range(len(data)):
        c.send(data[i:i + 1])
        time.sleep(pause)


def shut_wr(c):
    """Half-closes our side (the server sees EOF; we can still read)."""
    c.sock.shutdown(socket.SHUT_WR)


def alive(port=None):
    """nsqd still serves: a new topic gets a PUB, a new subscriber gets
    that message, and FIN takes it."""
    t = unique('alive')
    with connect(port=port) as p:
        p.pub(t, b'alive?')
        p.ok()
    with connect(port=port) as c:
        c.sub(t, 'ch')
        c.ok()
        c.rdy(1)
        m = check_message(c.message(), b'alive?', 1)
        c.fin(m.id)
        sync(c)
    return True
