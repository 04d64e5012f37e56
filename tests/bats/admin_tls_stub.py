"""An nsqd stand-in that requires TLS on HTTP, for nsqadmin's retry over
https (Go's GETV1: a 403 naming https_port) and its --http-client-tls-*
options.  Plain HTTP on HTTP_PORT answers every request 403
{"message":"TLS_REQUIRED","https_port":HTTPS_PORT}; HTTPS on HTTPS_PORT
(CERT, KEY) answers /info and /stats with one topic, "secure", and
records whether the client sent a certificate.
Usage: admin_tls_stub.py HTTP_PORT HTTPS_PORT CERT KEY [CLIENT_CA]"""
import http.server
import json
import ssl
import sys
import threading

HTTP_PORT, HTTPS_PORT = int(sys.argv[1]), int(sys.argv[2])


def reply(h, code, obj):
    b = json.dumps(obj).encode()
    h.send_response(code)
    h.send_header('Content-Type', 'application/json')
    h.send_header('Content-Length', str(len(b)))
    h.end_headers()
    h.wfile.write(b)


class Plain(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        reply(self, 403, {'message': 'TLS_REQUIRED',
                          'https_port': HTTPS_PORT})
    do_POST = do_GET

    def log_message(self, *a):
        pass


class Secure(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        peer = self.connection.getpeercert()
        print('https %s client_cert=%s' % (self.path, bool(peer)),
              flush=True)
        if self.path.startswith('/info'):
            reply(self, 200, {'version': '1.3.0',
                              'broadcast_address': '127.0.0.1',
                              'hostname': 'secure-host',
                              'http_port': HTTP_PORT, 'tcp_port': 1})
        else:
            reply(self, 200, {'topics': [{'topic_name': 'secure',
                                          'channels': [], 'depth': 1,
                                          'backend_depth': 0,
                                          'message_count': 1,
                                          'paused': False}]})

    def log_message(self, *a):
        pass


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
if len(sys.argv) > 5:
    ctx.load_verify_locations(sys.argv[5])
    ctx.verify_mode = ssl.CERT_OPTIONAL
s = http.server.HTTPServer(('127.0.0.1', HTTPS_PORT), Secure)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
threading.Thread(target=s.serve_forever, daemon=True).start()
http.server.HTTPServer(('127.0.0.1', HTTP_PORT), Plain).serve_forever()
