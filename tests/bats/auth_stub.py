#!/usr/bin/env python3
"""auth_stub.py PORT MODE SECRET LOG: a V2 server that wants AUTH.

Stands in for an nsqd run with --auth-http-address, to test the client
side of AUTH: it answers IDENTIFY with auth_required true, then AUTH:
with MODE "ok", a body equal to SECRET gets the AUTH JSON reply
(identity, identity_url, permission_count) and any other body
E_AUTH_FAILED; with MODE "fail" every AUTH gets E_AUTH_FAILED ("AUTH
failed", nsqd's words), and the connection closes as nsqd closes it.
Once authenticated, PUB and MPUB are answered OK, SUB is answered OK and
one message ("hello-auth") is sent after the first RDY, FIN and NOP are
taken, CLS is answered CLOSE_WAIT.  A command before AUTH gets
E_AUTH_FIRST.  Each AUTH body and each published body goes to LOG, one a
line ("AUTH s3cret", "PUB t body").
"""

import json
import socket
import socketserver
import struct
import sys
import time

FRAME_RESPONSE, FRAME_ERROR, FRAME_MESSAGE = 0, 1, 2


def main():
    port, mode, secret, logpath = (int(sys.argv[1]), sys.argv[2],
                                   sys.argv[3].encode(), sys.argv[4])

    def log(line):
        with open(logpath, 'a') as f:
            f.write(line + '\n')

    class Handler(socketserver.BaseRequestHandler):
        def frame(self, ftype, data):
            self.request.sendall(struct.pack('>ii', len(data) + 4, ftype) +
                                 data)

        def readn(self, n):
            while len(self.buf) < n:
                d = self.request.recv(65536)
                if not d:
                    raise EOFError
                self.buf += d
            out, self.buf = self.buf[:n], self.buf[n:]
            return bytes(out)

        def line(self):
            while b'\n' not in self.buf:
                d = self.request.recv(65536)
                if not d:
                    raise EOFError
                self.buf += d
            i = self.buf.index(b'\n')
            out, self.buf = self.buf[:i], self.buf[i + 1:]
            return bytes(out)

        def body(self):
            n = struct.unpack('>i', self.readn(4))[0]
            return self.readn(n)

        def handle(self):
            self.buf = bytearray()
            authed = False
            sent = False
            try:
                if self.readn(4) != b'  V2':
                    return
                while True:
                    words = self.line().split(b' ')
                    cmd = words[0]
                    if cmd == b'IDENTIFY':
                        self.body()
                        self.frame(FRAME_RESPONSE, json.dumps({
                            'max_rdy_count': 2500, 'version': '1.3.0',
                            'max_msg_timeout': 900000,
                            'msg_timeout': 60000, 'tls_v1': False,
                            'deflate': False, 'deflate_level': 6,
                            'max_deflate_level': 6, 'snappy': False,
                            'sample_rate': 0, 'auth_required': True,
                            'output_buffer_size': 16384,
                            'output_buffer_timeout': 250}).encode())
                    elif cmd == b'AUTH':
                        b = self.body()
                        log('AUTH ' + b.decode('utf-8', 'replace'))
                        if mode != 'ok' or b != secret:
                            self.frame(FRAME_ERROR,
                                       b'E_AUTH_FAILED AUTH failed')
                            return
                        authed = True
                        self.frame(FRAME_RESPONSE, json.dumps({
                            'identity': 'stub-user',
                            'identity_url': 'http://127.0.0.1/u',
                            'permission_count': 1}).encode())
                    elif cmd == b'NOP':
                        pass
                    elif not authed:
                        if cmd in (b'PUB', b'MPUB', b'DPUB'):
                            self.body()
                        self.frame(FRAME_ERROR, b'E_AUTH_FIRST AUTH '
                                   b'required before ' + cmd)
                        return
                    elif cmd == b'PUB':
                        b = self.body()
                        log('PUB %s %s' % (words[1].decode(),
                                           b.decode('utf-8', 'replace')))
                        self.frame(FRAME_RESPONSE, b'OK')
                    elif cmd == b'MPUB':
                        b = self.body()
                        n = struct.unpack('>i', b[:4])[0]
                        off = 4
                        for _ in range(n):
                            m = struct.unpack('>i', b[off:off + 4])[0]
                            log('PUB %s %s' % (words[1].decode(),
                                b[off + 4:off + 4 + m].decode(
                                    'utf-8', 'replace')))
                            off += 4 + m
                        self.frame(FRAME_RESPONSE, b'OK')
                    elif cmd == b'SUB':
                        self.frame(FRAME_RESPONSE, b'OK')
                    elif cmd == b'RDY':
                        if not sent and int(words[1]) > 0:
                            sent = True
                            self.frame(FRAME_MESSAGE, struct.pack(
                                '>qh', time.time_ns(), 1) +
                                b'0123456789abcdef' + b'hello-auth')
                    elif cmd == b'FIN':
                        log('FIN ' + words[1].decode())
                    elif cmd == b'CLS':
                        self.frame(FRAME_RESPONSE, b'CLOSE_WAIT')
                    else:
                        self.frame(FRAME_ERROR, b'E_INVALID invalid '
                                   b'command')
                        return
            except (EOFError, ConnectionError):
                return

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.daemon_threads = True
    srv = socketserver.ThreadingTCPServer(('127.0.0.1', port), Handler)
    print('listening', port, flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
