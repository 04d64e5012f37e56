#!/usr/bin/env python3
"""Compare one nsqadmin /api answer with the one Go nsqadmin v1.3.0 gave.

    admin_gocompare.py EXPECTED.body URL

Both are parsed as JSON and walked together: every object must have the
same keys, every value the same JSON type (null only where Go has null)
and the same value, lists the same length in the same order.  Skipped
(their values depend on the clock, not on the cluster): "connected" (the
time since the client's connect_ts, computed when asked).  Prints one
line per difference and exits 1 if there is any.
"""
import json
import sys
import urllib.request

SKIP = {"connected"}


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return "object"


def walk(want, got, path, out):
    if kind(want) != kind(got):
        out.append("%s: type %s, Go has %s (%s vs %s)" % (
            path, kind(got), kind(want), json.dumps(got)[:80],
            json.dumps(want)[:80]))
        return
    if isinstance(want, dict):
        for k in sorted(set(want) - set(got)):
            out.append("%s: key %r missing" % (path, k))
        for k in sorted(set(got) - set(want)):
            out.append("%s: key %r not in Go's" % (path, k))
        for k in sorted(set(want) & set(got)):
            if k not in SKIP:
                walk(want[k], got[k], "%s.%s" % (path, k), out)
    elif isinstance(want, list):
        if len(want) != len(got):
            out.append("%s: %d items, Go has %d" % (path, len(got),
                                                    len(want)))
        for i, (w, g) in enumerate(zip(want, got)):
            walk(w, g, "%s[%d]" % (path, i), out)
    elif want != got:
        out.append("%s: %s, Go has %s" % (path, json.dumps(got),
                                          json.dumps(want)))


def main():
    with open(sys.argv[1], "rb") as f:
        want = json.load(f)
    with urllib.request.urlopen(sys.argv[2], timeout=10) as r:
        got = json.load(r)
    out = []
    walk(want, got, "$", out)
    for line in out:
        print(line)
    if out:
        sys.exit(1)
    print("ok %s" % sys.argv[2])


if __name__ == "__main__":
    main()
