#!/usr/bin/env python3
"""auth_server: a test auth server for nsqd's --auth-http-address (stdlib).

    auth_server.py --config CONF --port-file F [--port N] [--log L]
                   [--tls-cert CERT --tls-key KEY] [--https-port P]

Listens on 127.0.0.1 (port N, or a free one when 0 or absent), writes the
port to F once it listens, and answers GET or POST /auth (or any path:
a full-URL --auth-http-address may name another) the way nsqd's auth
servers do.  CONF is JSON, read again on every query, so a test changes
the server's behaviour by rewriting it:

    {"secrets": {"SECRET": {
         "ttl": 3600, "identity": "alice", "identity_url": "http://u",
         "authorizations": [{"topic": "^t\\\\d$", "channels": [".*"],
                             "permissions": ["publish", "subscribe"]}],
         "sleep": 0,          seconds to wait before answering
         "status": 200,       HTTP status
         "raw": "..."         body sent as is instead of the JSON
     }},
     "default": {...}}        for a secret not listed (else 403)

Every query is appended to the log L (default CONF.log) as one JSON line
{"method", "path", "params"} (params: the query or POST values, one value
per key), and GET /count answers the number of queries so far (with
?secret=S, of that secret's).  With --tls-cert and --tls-key it speaks
https only.  With --https-port every query is answered 403
{"message": "TLS_REQUIRED", "https_port": P}, as an NSQ daemon that
requires TLS answers plain http (Go's clients then ask again over https).
"""

import argparse
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(conf_path, log_path, https_port=None):
    queries = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            sys.stderr.write('auth_server: ' + (fmt % args) + '\n')

        def reply(self, status, body, ctype='application/json'):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def params(self):
            u = urllib.parse.urlsplit(self.path)
            if self.command == 'POST':
                n = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(n).decode('utf-8', 'replace')
                ctype = self.headers.get('Content-Type', '')
                if ctype.startswith('application/json'):
                    vals = json.loads(raw)
                    return {k: (v[0] if isinstance(v, list) and v else v)
                            for k, v in vals.items()}
                q = urllib.parse.parse_qs(raw, keep_blank_values=True)
            else:
                q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
            return {k: v[0] for k, v in q.items()}

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            if u.path == '/count':
                q = urllib.parse.parse_qs(u.query)
                s = q.get('secret', [None])[0]
                with LOCK:
                    n = sum(1 for p in queries
                            if s is None or p.get('secret') == s)
                self.reply(200, '%d\n' % n, 'text/plain')
                return
            self.auth()

        def do_POST(self):
            self.auth()

        def auth(self):
            try:
                p = self.params()
            except (ValueError, AttributeError) as e:
                self.reply(400, json.dumps({'message': str(e)}))
                return
            with LOCK:
                queries.append(p)
                with open(log_path, 'a') as f:
                    f.write(json.dumps({'method': self.command,
                                        'path': urllib.parse.urlsplit(
                                            self.path).path,
                                        'params': p}) + '\n')
            if https_port is not None:
                self.reply(403, json.dumps({'message': 'TLS_REQUIRED',
                                            'https_port': https_port}))
                return
            with open(conf_path) as f:
                conf = json.load(f)
            entry = conf.get('secrets', {}).get(p.get('secret', ''))
            if entry is None:
                entry = conf.get('default')
            if entry is None:
                self.reply(403, json.dumps({'message': 'unknown secret'}))
                return
            if entry.get('sleep'):
                time.sleep(float(entry['sleep']))
            status = int(entry.get('status', 200))
            if 'raw' in entry:
                self.reply(status, entry['raw'])
                return
            body = {k: entry[k] for k in ('ttl', 'identity', 'identity_url',
                                          'authorizations') if k in entry}
            self.reply(status, json.dumps(body))

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--port-file', required=True)
    ap.add_argument('--log')
    ap.add_argument('--tls-cert')
    ap.add_argument('--tls-key')
    ap.add_argument('--https-port', type=int)
    a = ap.parse_args()
    log_path = a.log or a.config + '.log'
    open(log_path, 'a').close()
    srv = Server(('127.0.0.1', a.port), make_handler(a.config, log_path,
                                                     a.https_port))
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
