#!/usr/bin/env python3
"""bench/topics.py HOST:PORT PID COUNT [CYCLES]: create COUNT topics with
two channels each over one keep-alive HTTP connection, delete them all,
CYCLES times (default 2); print per cycle the create and delete seconds,
nsqd's RSS (KiB, /proc/PID/status) before, at peak (VmHWM) and after
the delete, and the seconds the first and the second half of the
creates took (equal when a create costs the same however many exist)."""
import http.client
import sys
import time


def rss(pid, key="VmRSS"):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


def post(conn, path):
    conn.request("POST", path, body=b"")
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("topics: %s: HTTP %d" % (path, r.status))


def main():
    addr, pid, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cycles = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    verbose = len(sys.argv) > 5
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    for cyc in range(1, cycles + 1):
        before = rss(pid)
        t0 = time.monotonic()
        lap = t0
        for i in range(count):
            t = "bt%06d" % i
            post(conn, "/topic/create?topic=" + t)
            post(conn, "/channel/create?topic=%s&channel=a" % t)
            post(conn, "/channel/create?topic=%s&channel=b" % t)
            if i + 1 == count // 2:
                half = time.monotonic()
            if verbose and (i + 1) % 1000 == 0:
                now = time.monotonic()
                print("create %d: %.2fs rss %d" % (i + 1, now - lap,
                      rss(pid)), flush=True)
                lap = now
        t1 = time.monotonic()
        peak = rss(pid)
        lap = t1
        for i in range(count):
            post(conn, "/topic/delete?topic=bt%06d" % i)
            if verbose and (i + 1) % 1000 == 0:
                now = time.monotonic()
                print("delete %d: %.2fs rss %d" % (i + 1, now - lap,
                      rss(pid)), flush=True)
                lap = now
        t2 = time.monotonic()
        # A coalesced trim may run a turn later: poll briefly.
        after = rss(pid)
        for _ in range(60):
            time.sleep(0.05)
            conn.request("GET", "/ping")
            conn.getresponse().read()
            after = rss(pid)
        print("cycle %d create %.2fs delete %.2fs rss_kib before %d "
              "peak %d after %d hwm %d halves %.2fs %.2fs" % (
                  cyc, t1 - t0, t2 - t1, before, peak, after,
                  rss(pid, "VmHWM"), half - t0, t1 - half), flush=True)


main()
