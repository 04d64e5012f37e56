#!/usr/bin/env python3
"""persist_topics.py: helpers of persist_topics.bats.

  burst PORT DATADIR COUNT   create COUNT topics with channels a and b over
                             one keep-alive HTTP connection; print
                             "creates=N renames=M", M being how many times
                             nsqd.dat was renamed into place (inotify) from
                             the first create until nsqd.dat names them all
  create PORT COUNT          the same creates, no counting
  dat DATADIR COUNT          exit 0 if nsqd.dat names topics t0..t(COUNT-1)
                             each with channels a and b
  stats PORT COUNT           exit 0 if /stats shows exactly those topics
"""
import ctypes
import ctypes.util
import http.client
import json
import os
import struct
import sys
import time

IN_MOVED_TO = 0x80
IN_NONBLOCK = 0o4000


def names(count):
    return ["t%05d" % i for i in range(count)]


def create(port, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = 0
    for t in names(count):
        for path in ("/topic/create?topic=" + t,
                     "/channel/create?topic=%s&channel=a" % t,
                     "/channel/create?topic=%s&channel=b" % t):
            conn.request("POST", path, body=b"")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                sys.exit("%s: HTTP %d" % (path, r.status))
            n += 1
    conn.close()
    return n


def dat_ok(datadir, count):
    try:
        with open(os.path.join(datadir, "nsqd.dat")) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return False
    got = {t["name"]: sorted(c["name"] for c in (t["channels"] or []))
           for t in d["topics"]}
    return all(got.get(t) == ["a", "b"] for t in names(count))


def stats_ok(port, count):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/stats?format=json")
    d = json.loads(conn.getresponse().read())
    got = {t["topic_name"]: sorted(c["channel_name"] for c in t["channels"])
           for t in d["topics"]}
    want = {t: ["a", "b"] for t in names(count)}
    if got != want:
        print("stats: %d topics, %d as expected" % (
            len(got), sum(got.get(t) == ["a", "b"] for t in want)))
        return False
    return True


def burst(port, datadir, count):
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = libc.inotify_init1(IN_NONBLOCK)
    if fd < 0:
        sys.exit("inotify_init1: errno %d" % ctypes.get_errno())
    if libc.inotify_add_watch(fd, datadir.encode(), IN_MOVED_TO) < 0:
        sys.exit("inotify_add_watch: errno %d" % ctypes.get_errno())
    creates = create(port, count)
    deadline = time.monotonic() + 60
    while not dat_ok(datadir, count):
        if time.monotonic() > deadline:
            sys.exit("nsqd.dat never named all %d topics" % count)
        time.sleep(0.05)
    renames = 0
    while True:
        try:
            buf = os.read(fd, 65536)
        except BlockingIOError:
            break
        off = 0
        while off < len(buf):
            _, mask, _, ln = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + ln].rstrip(b"\0")
            if mask & IN_MOVED_TO and name == b"nsqd.dat":
                renames += 1
            off += 16 + ln
    os.close(fd)
    print("creates=%d renames=%d" % (creates, renames))


def main():
    cmd = sys.argv[1]
    if cmd == "burst":
        burst(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif cmd == "create":
        print("creates=%d" % create(int(sys.argv[2]), int(sys.argv[3])))
    elif cmd == "dat":
        sys.exit(0 if dat_ok(sys.argv[2], int(sys.argv[3])) else 1)
    elif cmd == "stats":
        sys.exit(0 if stats_ok(int(sys.argv[2]), int(sys.argv[3])) else 1)
    else:
        sys.exit(__doc__)


main()
