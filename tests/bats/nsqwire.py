"""nsqwire: raw NSQ TCP protocol V2 for byte-level tests (stdlib only).

Bats tests drive nsqd with exact bytes through this module, from snippets
such as

    python3 - <<'EOF'
    from nsqwire import *
    c = Conn(int(os.environ['NSQD_TCP_PORT']))
    c.magic()
    c.pub('t', b'hello')
    c.ok()
    c.cmd('SUB t c')
    c.ok()
    c.rdy(1)
    m = c.message()
    assert m.body == b'hello' and m.attempts == 1
    c.fin(m.id)
    EOF

(helpers.bash puts this folder on PYTHONPATH and `from nsqwire import *`
also brings in os, sys, json, struct and time).  Sending never waits for a
reply; reading is explicit (frame, expect, ok, message, closed) and always
has a deadline, so a snippet cannot hang: on a timeout it raises
WireTimeout, on a close ConnectionClosed, on a wrong frame WireError, and
python3 exits non-zero with a message that says what arrived instead.
"""

import json
import os
import socket
import struct
import sys
import time

__all__ = [
    'Conn', 'Message', 'WireError', 'WireTimeout', 'ConnectionClosed',
    'FRAME_RESPONSE', 'FRAME_ERROR', 'FRAME_MESSAGE', 'MAGIC_V2',
    'HEARTBEAT', 'body', 'mpub_body', 'frame_bytes', 'parse_message',
    'os', 'sys', 'json', 'struct', 'time',
]

FRAME_RESPONSE = 0
FRAME_ERROR = 1
FRAME_MESSAGE = 2
MAGIC_V2 = b'  V2'
HEARTBEAT = b'_heartbeat_'
# A frame larger than this is taken for garbage rather than read.
MAX_FRAME = 64 * 1024 * 1024

_TYPE_NAMES = {FRAME_RESPONSE: 'response', FRAME_ERROR: 'error',
               FRAME_MESSAGE: 'message'}


class WireError(AssertionError):
    """The server sent something other than what the test expected."""


class WireTimeout(WireError):
    """Nothing (or not enough) arrived before the deadline."""


class ConnectionClosed(WireError):
    """The server closed the connection (EOF or reset)."""


def _b(x):
    """Bytes from str (UTF-8) or bytes."""
    if isinstance(x, str):
        return x.encode()
    return bytes(x)


def body(data):
    """[u32 size][data]: the body that follows a PUB/IDENTIFY/... line."""
    data = _b(data)
    return struct.pack('>I', len(data)) + data


def mpub_body(bodies):
    """The MPUB payload without its outer size: [u32 n]{[u32 len][bytes]}."""
    out = [struct.pack('>I', len(bodies))]
    for m in bodies:
        m = _b(m)
        out.append(struct.pack('>I', len(m)) + m)
    return b''.join(out)


def frame_bytes(ftype, data):
    """A server frame as it travels: [i32 size][i32 type][data]."""
    data = _b(data)
    return struct.pack('>ii', len(data) + 4, ftype) + data


class Message(object):
    """A decoded message frame: ts (int ns), attempts, id (16 bytes), body."""

    __slots__ = ('ts', 'attempts', 'id', 'body')

    def __init__(self, ts, attempts, mid, mbody):
        self.ts = ts
        self.attempts = attempts
        self.id = mid
        self.body = mbody

    def __repr__(self):
        return 'Message(ts=%d, attempts=%d, id=%r, body=%s)' % (
            self.ts, self.attempts, self.id, _short(self.body))


def parse_message(data):
    """Decodes a message frame's data: [i64 ts][u16 attempts][16 id][body]."""
    if len(data) < 26:
        raise WireError('message frame too short (%d bytes): %r'
                        % (len(data), data))
    ts, attempts = struct.unpack('>qH', data[:10])
    return Message(ts, attempts, bytes(data[10:26]), bytes(data[26:]))


def _short(data, n=200):
    data = bytes(data)
    if len(data) > n:
        return repr(data[:n]) + '... (%d bytes)' % len(data)
    return repr(data)


def _show(ftype, data):
    return '%s frame %s' % (_TYPE_NAMES.get(ftype, 'type-%d' % ftype),
                            _short(data))


class Conn(object):
    """One TCP connection to nsqd.

    timeout is the default deadline in seconds of every read (and of the
    connect).  With skip_heartbeats, `_heartbeat_` responses are dropped
    by the readers; auto_nop also answers each with NOP (and implies
    skip_heartbeats).  Every frame read is appended to .log as (type,
    data), which helps when printing what happened.
    """

    def __init__(self, port, host='127.0.0.1', timeout=5,
                 skip_heartbeats=False, auto_nop=False):
        self.timeout = timeout
        self.skip_heartbeats = skip_heartbeats or auto_nop
        self.auto_nop = auto_nop
        self.buf = bytearray()
        self.log = []
        self.heartbeats = 0
        self.eof = False
        self.sock = socket.create_connection((host, int(port)),
                                             timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes our side (idempotent)."""
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    # -- sending: never waits for a reply --------------------------------

    def send(self, data):
        """Sends raw bytes as they are."""
        self.sock.sendall(_b(data))

    def magic(self, data=MAGIC_V2):
        """Sends the protocol magic (two spaces and V2)."""
        self.send(data)

    def cmd(self, line):
        """Sends a command line; appends the newline."""
        self.send(_b(line) + b'\n')

    def cmd_body(self, line, data):
        """Sends a command line followed by [u32 size][data]."""
        self.send(_b(line) + b'\n' + body(data))

    def identify(self, fields=None):
        """Sends IDENTIFY with fields (a dict, or str/bytes sent as is)."""
        if fields is None:
            fields = {}
        if isinstance(fields, dict):
            fields = json.dumps(fields)
        self.cmd_body('IDENTIFY', fields)

    def auth(self, secret):
        self.cmd_body('AUTH', secret)

    def sub(self, topic, channel):
        self.cmd('SUB %s %s' % (topic, channel))

    def pub(self, topic, data):
        self.cmd_body('PUB %s' % topic, data)

    def dpub(self, topic, defer_ms, data):
        self.cmd_body('DPUB %s %d' % (topic, defer_ms), data)

    def mpub(self, topic, bodies):
        self.cmd_body('MPUB %s' % topic, mpub_body(bodies))

    def rdy(self, n):
        self.cmd('RDY %d' % n)

    def fin(self, mid):
        self.cmd(b'FIN ' + _b(mid))

    def req(self, mid, ms=0):
        self.cmd(b'REQ ' + _b(mid) + b' ' + _b(str(ms)))

    def touch(self, mid):
        self.cmd(b'TOUCH ' + _b(mid))

    def nop(self):
        self.cmd('NOP')

    def cls(self):
        self.cmd('CLS')

    # -- reading: always bounded ------------------------------------------

    def _fill(self, need, deadline):
        """Reads until the buffer holds `need` bytes."""
        while len(self.buf) < need:
            if self.eof:
                raise ConnectionClosed(
                    'connection closed by server (have %d of %d bytes: %s)'
                    % (len(self.buf), need, _short(self.buf)))
            left = deadline - time.monotonic()
            if left <= 0:
                raise WireTimeout(
                    'timed out waiting for data (have %d of %d bytes: %s)'
                    % (len(self.buf), need, _short(self.buf)))
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                self.eof = True
                continue
            self.buf += chunk

    def read_raw(self, n, timeout=None):
        """Reads exactly n raw bytes."""
        deadline = time.monotonic() + self._t(timeout)
        self._fill(n, deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _t(self, timeout):
        return self.timeout if timeout is None else timeout

    def frame(self, timeout=None):
        """Reads one frame -> (type, data).  Heartbeats are returned too
        unless skip_heartbeats/auto_nop was set."""
        deadline = time.monotonic() + self._t(timeout)
        while True:
            self._fill(8, deadline)
            size, ftype = struct.unpack('>ii', self.buf[:8])
            if size < 4 or size > MAX_FRAME:
                raise WireError('bad frame size %d (buffer %s)'
                                % (size, _short(self.buf)))
            self._fill(4 + size, deadline)
            data = bytes(self.buf[8:4 + size])
            del self.buf[:4 + size]
            self.log.append((ftype, data))
            if ftype == FRAME_RESPONSE and data == HEARTBEAT:
                self.heartbeats += 1
                if self.auto_nop:
                    self.nop()
                if self.skip_heartbeats:
                    continue
            return ftype, data

    def expect(self, ftype, data=None, prefix=None, timeout=None):
        """Reads a frame and checks its type, and its data (exactly, or
        that it starts with prefix).  Returns the data."""
        got_type, got = self.frame(timeout)
        ok = got_type == ftype
        if ok and data is not None:
            ok = got == _b(data)
        if ok and prefix is not None:
            ok = got.startswith(_b(prefix))
        if not ok:
            want = _TYPE_NAMES.get(ftype, 'type-%d' % ftype) + ' frame'
            if data is not None:
                want += ' %r' % _b(data)
            if prefix is not None:
                want += ' starting with %r' % _b(prefix)
            raise WireError('expected %s, got %s'
                            % (want, _show(got_type, got)))
        return got

    def ok(self, timeout=None):
        """Expects the response OK."""
        return self.expect(FRAME_RESPONSE, b'OK', timeout=timeout)

    def error(self, prefix=None, timeout=None):
        """Expects an error frame (starting with prefix, e.g. b'E_INVALID');
        returns its data."""
        return self.expect(FRAME_ERROR, prefix=prefix, timeout=timeout)

    def response_json(self, timeout=None):
        """Expects a response frame holding JSON; returns it decoded."""
        data = self.expect(FRAME_RESPONSE, timeout=timeout)
        try:
            return json.loads(data)
        except ValueError:
            raise WireError('expected a JSON response, got %s'
                            % _show(FRAME_RESPONSE, data))

    def message(self, timeout=None):
        """Expects a message frame; returns a Message."""
        ftype, data = self.frame(timeout)
        if ftype != FRAME_MESSAGE:
            raise WireError('expected a message frame, got %s'
                            % _show(ftype, data))
        return parse_message(data)

    def messages(self, n, timeout=None):
        """Reads n message frames within one deadline; returns the list."""
        deadline = time.monotonic() + self._t(timeout)
        out = []
        for _ in range(n):
            out.append(self.message(max(0.0, deadline - time.monotonic())))
        return out

    def no_frame(self, timeout=0.5):
        """Checks that no frame (heartbeats aside, if skipped) arrives
        within timeout; raises WireError showing it if one does."""
        try:
            ftype, data = self.frame(timeout)
        except WireTimeout:
            return True
        raise WireError('expected silence, got %s' % _show(ftype, data))

    def closed(self, timeout=None):
        """True if the server closes the connection (EOF or reset) within
        timeout; bytes that arrive meanwhile are kept in .buf.  False if
        it is still open at the deadline."""
        deadline = time.monotonic() + self._t(timeout)
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                chunk = b''
            if not chunk:
                self.eof = True
            else:
                self.buf += chunk
        return True


def _main(argv):
    """python3 nsqwire.py PORT: a smoke check that nsqd speaks V2: sends
    the magic and IDENTIFY, prints the JSON reply."""
    c = Conn(int(argv[1]))
    c.magic()
    c.identify({'feature_negotiation': True})
    print(json.dumps(c.response_json()))
    return 0


if __name__ == '__main__':
    sys.exit(_main(sys.argv))
