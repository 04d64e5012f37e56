"""lookupwire: raw nsqlookupd TCP protocol V1 for byte-level tests (stdlib
only).

Bats tests drive nsqlookupd with exact bytes through this module, from
snippets such as

    python3 - <<'EOF'
    from lookupwire import *
    c = Conn(int(os.environ['NSQLOOKUPD_TCP_PORT']))
    c.magic()
    c.identify(peer())
    info = c.response_json()
    c.cmd('REGISTER t c')
    c.ok()
    EOF

(helpers.bash puts this folder on PYTHONPATH; `from lookupwire import *`
also brings in os, sys, json, struct and time).  V1 replies are
[int32 size][data] with no frame type; an error is a reply whose text
starts with its code (E_INVALID ...) and the server then closes.  Sending
never waits; every read has a deadline and raises WireTimeout,
ConnectionClosed or WireError (an AssertionError) saying what came.
"""

import json
import os
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

# The errors, byte helpers, [u32 size][data] bodies and the bounded
# buffered read are the same as for protocol V2.
import nsqwire
from nsqwire import ConnectionClosed, WireError, WireTimeout, _b, _short, body

__all__ = [
    'Conn', 'WireError', 'WireTimeout', 'ConnectionClosed', 'MAGIC_V1',
    'body', 'peer', 'http', 'os', 'sys', 'json', 'struct', 'time',
]

MAGIC_V1 = b'  V1'
# A reply larger than this is taken for garbage rather than read.
MAX_REPLY = 64 * 1024 * 1024


def peer(tcp_port=4150, http_port=4151, broadcast_address='node1',
         hostname='host1', version='1.3.0', **extra):
    """The IDENTIFY fields nsqd sends, as a dict (extra ones added)."""
    d = {'broadcast_address': broadcast_address, 'tcp_port': tcp_port,
         'http_port': http_port, 'hostname': hostname, 'version': version}
    d.update(extra)
    return d


def http(port, method, path, timeout=5):
    """One HTTP request to 127.0.0.1:port -> (status, body bytes)."""
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (int(port), path),
                                 method=method, data=b'' if method == 'POST'
                                 else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Conn(object):
    """One TCP connection to nsqlookupd; timeout is every read's default
    deadline in seconds (and the connect's).  rcvbuf, when given, is set
    as SO_RCVBUF before connecting (a small window: a slow reader).
    Replies read are appended to .log."""

    def __init__(self, port, host='127.0.0.1', timeout=5, rcvbuf=None):
        self.timeout = timeout
        self.buf = bytearray()
        self.log = []
        self.eof = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                 rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, int(port)))
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

    def local_address(self):
        """'ip:port' of our end: the peer id nsqlookupd gives us."""
        host, port = self.sock.getsockname()[:2]
        return '%s:%d' % (host, port)

    def shutdown_write(self):
        """Half-close: the server sees EOF but may still answer."""
        self.sock.shutdown(socket.SHUT_WR)

    # -- sending: never waits ---------------------------------------------

    def send(self, data):
        """Sends raw bytes as they are."""
        self.sock.sendall(_b(data))

    def magic(self, data=MAGIC_V1):
        self.send(data)

    def cmd(self, line):
        """Sends a command line; appends the newline."""
        self.send(_b(line) + b'\n')

    def identify(self, fields=None):
        """Sends IDENTIFY and its body: a dict (as JSON) or str/bytes."""
        if fields is None:
            fields = peer()
        if isinstance(fields, dict):
            fields = json.dumps(fields)
        self.send(b'IDENTIFY\n' + body(fields))

    def register(self, topic, channel=None):
        self.cmd('REGISTER %s' % topic if channel is None
                 else 'REGISTER %s %s' % (topic, channel))

    def unregister(self, topic, channel=None):
        self.cmd('UNREGISTER %s' % topic if channel is None
                 else 'UNREGISTER %s %s' % (topic, channel))

    def ping(self):
        self.cmd('PING')

    # -- reading: always bounded ------------------------------------------

    _fill = nsqwire.Conn._fill

    def reply(self, timeout=None):
        """Reads one reply -> its data (bytes)."""
        t = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + t
        self._fill(4, deadline)
        size, = struct.unpack('>i', self.buf[:4])
        if size < 0 or size > MAX_REPLY:
            raise WireError('bad reply size %d (buffer %s)'
                            % (size, _short(self.buf)))
        self._fill(4 + size, deadline)
        data = bytes(self.buf[4:4 + size])
        del self.buf[:4 + size]
        self.log.append(data)
        return data

    def expect(self, data, timeout=None):
        """Reads a reply and checks it is exactly data."""
        got = self.reply(timeout)
        if got != _b(data):
            raise WireError('expected %s, got %s' % (_short(_b(data)),
                                                     _short(got)))
        return got

    def ok(self, timeout=None):
        return self.expect(b'OK', timeout)

    def response_json(self, timeout=None):
        data = self.reply(timeout)
        try:
            return json.loads(data)
        except ValueError:
            raise WireError('expected JSON, got %s' % _short(data))

    def error(self, text, timeout=None):
        """Expects the error reply `text` exactly, then the close."""
        self.expect(text, timeout)
        if not self.closed(timeout):
            raise WireError('connection still open after %r' % _b(text))

    def closed(self, timeout=None):
        """True if the server closes the connection within timeout (bytes
        that arrive meanwhile are kept in .buf); False if still open."""
        t = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + t
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

    def no_reply(self, timeout=0.3):
        """Checks that nothing arrives within timeout."""
        try:
            data = self.reply(timeout)
        except WireTimeout:
            return True
        raise WireError('expected silence, got %s' % _short(data))
