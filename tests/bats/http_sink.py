#!/usr/bin/env python3
"""A test HTTP sink for nsq-to-http's suite.

Listens on 127.0.0.1 at a free port (written to --port-file once it
listens) and appends one JSON line per request to --record: method, path,
headers, body (UTF-8, undecodable bytes replaced), the status answered
and the times it came and was answered.  --fail-first N answers 500 to the first N requests;
--sleep-first N makes the first N requests wait --sleep seconds before
answering 503 (a client with a shorter timeout gives up first); --delay
waits that long before every answer; --redirect PATH answers 307 to
that path for every other one.  Requests are served on threads, so
one that sleeps holds up no other.
"""
import argparse
import json
import os
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A client may open --n connections at once.
    request_queue_size = 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--record', required=True)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--fail-first', type=int, default=0)
    ap.add_argument('--sleep-first', type=int, default=0)
    ap.add_argument('--sleep', type=float, default=0)
    ap.add_argument('--delay', type=float, default=0)
    ap.add_argument('--redirect', default='',
                    help='answer 307 to Location REDIRECT for other paths')
    args = ap.parse_args()
    lock = threading.Lock()
    count = [0]
    out = open(args.record, 'a', encoding='utf-8')

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()
            # Headers and body go out in two writes: without this, Nagle
            # and the client's delayed ACK hold the second for 40ms.
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)

        def handle_any(self):
            start = time.time()
            n = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(n) if n else b''
            with lock:
                count[0] += 1
                k = count[0]
            if k <= args.fail_first:
                code = 500
            elif k <= args.fail_first + args.sleep_first:
                code = 503
                time.sleep(args.sleep)
            elif args.redirect and self.path != args.redirect:
                code = 307
            else:
                code = 200
            if args.delay:
                time.sleep(args.delay)
            rec = {'n': k, 'method': self.command, 'path': self.path,
                   'headers': [[h, v] for h, v in self.headers.items()],
                   'body': body.decode('utf-8', 'replace'),
                   'status': code, 'start': start, 't': time.time()}
            with lock:
                out.write(json.dumps(rec) + '\n')
                out.flush()
            reply = b'ok\n' if code == 200 else b'no\n'
            try:
                self.send_response(code)
                if code == 307:
                    self.send_header('Location', args.redirect)
                self.send_header('Content-Length', str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass

        do_GET = do_POST = do_PUT = handle_any

    srv = Server(('127.0.0.1', 0), Handler)
    with open(args.port_file + '.tmp', 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(args.port_file + '.tmp', args.port_file)
    srv.serve_forever()


if __name__ == '__main__':
    main()
