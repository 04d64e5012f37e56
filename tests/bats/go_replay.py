#!/usr/bin/env python3
"""Stand in for a Go nsqd (or nsqlookupd) node by replaying recorded answers.

    go_replay.py [--dir DIR] [--role nsqd|nsqlookupd] [--port N]
                 [--port-file FILE] [--log FILE]

Listens on 127.0.0.1 (port --port, default 0 = a free one; the port is
written to --port-file once it listens) and answers GET requests with the
bodies recorded from Go NSQ v1.3.0 in DIR (default
tests/fixtures/go-nsqd-1.3.0-http next to this file), with the recorded
status, Content-Type and X-Nsq-Content-Type headers.

--role nsqd serves /stats (topic= in the query gives nsqd-stats-topic,
include_clients=false gives nsqd-stats-noclients, both give
nsqd-stats-noclients with its topics cut to that topic as Go nsqd would
answer, otherwise nsqd-stats),
/info and /ping.  --role nsqlookupd serves /nodes, /topics, /channels,
/lookup and /info.  Any other path answers 404 with an empty body.  The
answers are the recorded ones whatever the query's topic is.  --log
appends one line per request: method, path and the status answered.
"""
import argparse
import json
import os
import socketserver
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "..", "fixtures", "go-nsqd-1.3.0-http")
KEEP = ("content-type", "x-nsq-content-type")

ROUTES = {
    "nsqd": {"/info": "nsqd-info", "/ping": "nsqd-ping"},
    "nsqlookupd": {"/nodes": "lookupd-nodes", "/topics": "lookupd-topics",
                   "/channels": "lookupd-channels", "/lookup": "lookupd-lookup",
                   "/info": "lookupd-info"},
}


def load(directory, name):
    """Return (status, [(header, value)], body) of one recording."""
    with open(os.path.join(directory, name + ".headers"), "rb") as f:
        lines = f.read().decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            if k.strip().lower() in KEEP:
                headers.append((k.strip(), v.strip()))
    with open(os.path.join(directory, name + ".body"), "rb") as f:
        body = f.read()
    return status, headers, body


def pick(role, path, query):
    if role == "nsqd" and path == "/stats":
        q = parse_qs(query)
        if q.get("topic") and q.get("include_clients") == ["false"]:
            return ("nsqd-stats-noclients", q["topic"][0])
        if q.get("topic"):
            return "nsqd-stats-topic"
        if q.get("include_clients") == ["false"]:
            return "nsqd-stats-noclients"
        return "nsqd-stats"
    return ROUTES[role].get(path)


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=DEFAULT_DIR, help="recordings directory")
    ap.add_argument("--role", choices=sorted(ROUTES), default="nsqd")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--log", help="append one line per request here")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            u = urlsplit(self.path)
            name = pick(args.role, u.path, u.query)
            topic = None
            if isinstance(name, tuple):
                name, topic = name
            if name is None:
                status, headers, body = 404, [], b""
            else:
                status, headers, body = load(args.dir, name)
            if topic is not None:
                # Go nsqd's topic filter: only that topic's entry kept.
                doc = json.loads(body)
                doc["topics"] = [t for t in doc["topics"]
                                 if t["topic_name"] == topic]
                body = json.dumps(doc, separators=(",", ":")).encode()
            # Go's net/http sends no Server header: only the status and Date.
            self.send_response_only(status)
            self.send_header("Date", self.date_time_string())
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if args.log:
                with open(args.log, "a") as f:
                    f.write("%s %s %d\n" % (self.command, self.path, status))

        def log_message(self, *a):
            pass

    srv = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
