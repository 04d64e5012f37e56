#!/usr/bin/env python3
"""bench/idle.py HOST:PORT PID COUNT: open COUNT TCP connections to nsqd,
each sending the V2 magic and an IDENTIFY and reading the answer, then
leave them idle; print the connections opened, nsqd's RSS (KiB,
/proc/PID/status) before and with them, and the bytes each costs.  The
connections are closed when it exits."""
import json
import socket
import struct
import sys
import time


def rss(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    addr, pid, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host, port = addr.rsplit(":", 1)
    body = json.dumps({"client_id": "idle", "hostname": "bench",
                       "feature_negotiation": True}).encode()
    hello = b"  V2IDENTIFY\n" + struct.pack(">I", len(body)) + body
    time.sleep(0.5)
    before = rss(pid)
    conns = []
    for _ in range(count):
        c = socket.create_connection((host, int(port)), timeout=30)
        c.sendall(hello)
        conns.append(c)
    for c in conns:
        head = c.recv(8)
        if len(head) != 8:
            sys.exit("idle: a connection closed before IDENTIFY's answer")
    time.sleep(1)
    after = rss(pid)
    print("conns %d rss_kib %d %d bytes_each %d" % (
        len(conns), before, after, (after - before) * 1024 // len(conns)))


if __name__ == "__main__":
    main()
