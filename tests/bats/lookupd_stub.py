#!/usr/bin/env python3
"""lookupd_stub.py PORT FILE: a stand-in for nsqlookupd's GET /lookup.

Answers GET /lookup?topic=... with the contents of FILE (read afresh on
every request, so a test changes the answer by rewriting FILE; a missing
FILE answers 404 TOPIC_NOT_FOUND as nsqlookupd does for an unknown topic),
and appends each request line and its Accept header to FILE.log.  Other
paths get 404.  Used by the nsq-tail suite to test discovery without
nsqlookupd.
"""

import http.server
import os
import sys


def main():
    port, path = int(sys.argv[1]), sys.argv[2]

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body):
            self.send_response(code)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with open(path + '.log', 'a') as log:
                log.write('%s accept=%s\n' % (
                    self.path, self.headers.get('Accept', '')))
            if not self.path.startswith('/lookup?'):
                self.reply(404, b'{"message":"NOT_FOUND"}')
                return
            try:
                with open(path, 'rb') as f:
                    body = f.read()
            except FileNotFoundError:
                self.reply(404, b'{"message":"TOPIC_NOT_FOUND"}')
                return
            self.reply(200, body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    print('listening', port, flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
