#!/usr/bin/env python3
"""https_stub.py PORT CERT KEY NSQD_TCP NSQD_HTTP LOG: HTTPS before nsqd.

An HTTPS server on 127.0.0.1:PORT (certificate CERT, key KEY) standing
in for an nsqlookupd or nsqd served over HTTPS: GET /lookup?topic=T
answers that T is on the nsqd at 127.0.0.1:NSQD_TCP (as nsqlookupd's
JSON says it); every other GET is fetched from that nsqd's plain HTTP
port NSQD_HTTP and handed back as it came.  Each request line goes to
LOG with its Authorization header ("/lookup?topic=t auth=Bearer s").
"""

import http.server
import ssl
import sys
import urllib.error
import urllib.request
import json


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    tcp, http_port, logpath = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body, ctype='application/json'):
            self.send_response(code)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with open(logpath, 'a') as log:
                log.write('%s auth=%s\n' % (
                    self.path, self.headers.get('Authorization', '')))
            if self.path.startswith('/lookup?'):
                self.reply(200, json.dumps({'channels': [], 'producers': [{
                    'remote_address': '127.0.0.1:1', 'hostname': 'stub',
                    'broadcast_address': '127.0.0.1', 'tcp_port': tcp,
                    'http_port': http_port, 'version': '1.3.0'}]}).encode())
                return
            req = urllib.request.Request(
                'http://127.0.0.1:%d%s' % (http_port, self.path),
                headers={'Accept': self.headers.get('Accept', '*/*')})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    self.reply(r.status, r.read(),
                               r.headers.get('Content-Type', ''))
            except urllib.error.HTTPError as e:
                self.reply(e.code, e.read())

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print('listening', port, flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
