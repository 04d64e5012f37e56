"""An HTTP endpoint for nsqadmin's notifications: each POST's
Content-Type and body are appended to FILE as one JSON line, answered
200.  Usage: admin_notify_sink.py PORT FILE"""
import http.server
import json
import sys


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = self.rfile.read(n).decode()
        with open(sys.argv[2], 'a') as f:
            f.write(json.dumps({'content_type':
                                self.headers.get('Content-Type'),
                                'path': self.path,
                                'body': json.loads(body)}) + '\n')
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
