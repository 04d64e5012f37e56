#!/usr/bin/env python3
"""Checks, from an strace of a durable nsqd, that no OK went out before
the fdatasync (or fsync) that covers its message.

    fsync_order.py TRACE CONNS PUBS

TRACE is `strace -f -ttt -T -s 65536 -xx -e trace=read,recvfrom,write,
writev,pwrite64,sendmsg,sendto,fdatasync,fsync -o TRACE nsqd ...` while CONNS
publishers each sent PUBS messages, PUB after PUB without waiting, with
the bodies "c<k>-<i>" (publisher k, message i).  For message (k, i):

  - its record is in a write (pwrite, writev) to a queue file: the first write
    whose data holds the body; its end is w_end;
  - the sync that covers it is the first fdatasync/fsync on that same fd
    that began after w_end; its end is s_end;
  - its OK is the i-th OK frame nsqd wrote on publisher k's socket (the fd
    whose first read held "c<k>-0"), in a write that began at ok_start.

It asserts s_end <= ok_start for every message, and that every message
has its record, its sync and its OK.  It prints one line with the counts
and the smallest margin between a sync's end and its OK.
"""
import re
import sys

LINE = re.compile(
    r'^(\d+)\s+(\d+\.\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$')
OK_FRAME = b'\x00\x00\x00\x06\x00\x00\x00\x00OK'


def unescape(s):
    """strace -xx string contents (every byte as \\xNN) to bytes."""
    return bytes(int(h, 16) for h in re.findall(r'\\x([0-9a-f]{2})', s))


def strings(args):
    """Every quoted string in a syscall's arguments, as bytes."""
    return [unescape(m) for m in re.findall(r'"((?:\\x[0-9a-f]{2})*)"', args)]


def parse(path):
    """Calls as (name, fd, start, end, data) with unfinished ones joined."""
    pending = {}
    calls = []
    for line in open(path, errors='replace'):
        m = LINE.match(line.rstrip('\n'))
        if not m:
            continue
        pid, ts = m.group(1), float(m.group(2))
        if m.group(3):          # "<... name resumed> rest"
            name = m.group(3)
            start, head = pending.pop((pid, name), (ts, ''))
            rest = head + m.group(5)
        else:
            name, rest = m.group(4), m.group(5)
            if rest.endswith('<unfinished ...>'):
                pending[(pid, name)] = (ts, rest[:-len('<unfinished ...>')])
                continue
            start = ts
        d = re.search(r'<(\d+\.\d+)>$', rest)
        dur = float(d.group(1)) if d else 0.0
        fd = re.match(r'\s*(\d+)', rest)
        if fd is None:
            continue
        # A resumed call's duration is its whole time; its end is
        # start + duration either way.
        calls.append((name, int(fd.group(1)), start, start + dur,
                      b''.join(strings(rest))))
    calls.sort(key=lambda c: c[2])
    return calls


def main():
    path, nconns, npubs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    calls = parse(path)
    writes = ('write', 'writev', 'pwrite64', 'sendmsg', 'sendto')
    reads = ('read', 'recvfrom')
    syncs = ('fdatasync', 'fsync')

    sock_of = {}                # publisher k -> socket fd
    for name, fd, _, _, data in calls:
        if name in reads:
            for k in range(nconns):
                if k not in sock_of and b'c%d-0' % k in data and \
                        b'PUB' in data:
                    sock_of[k] = fd
    if len(sock_of) != nconns:
        sys.exit('found the sockets of %d publishers of %d: %r'
                 % (len(sock_of), nconns, sock_of))
    socks = set(sock_of.values())

    record = {}                 # (k, i) -> (fd, w_end)
    oks = {fd: [] for fd in socks}      # socket fd -> OK start times
    for name, fd, start, end, data in calls:
        if name not in writes:
            continue
        if fd in socks:
            oks[fd] += [start] * data.count(OK_FRAME)
            continue
        for m in re.finditer(rb'c(\d+)-(\d+)', data):
            key = (int(m.group(1)), int(m.group(2)))
            record.setdefault(key, (fd, end))
    sync_list = [(fd, start, end) for name, fd, start, end, _ in calls
                 if name in syncs]

    bad, margin = [], None
    for k in range(nconns):
        ok_times = oks[sock_of[k]]
        if len(ok_times) != npubs:
            sys.exit('publisher %d: %d OKs for %d PUBs'
                     % (k, len(ok_times), npubs))
        for i in range(npubs):
            if (k, i) not in record:
                sys.exit('message c%d-%d was never written to a queue file'
                         % (k, i))
            fd, w_end = record[(k, i)]
            cover = next((s for s in sync_list
                          if s[0] == fd and s[1] >= w_end), None)
            if cover is None:
                bad.append('c%d-%d: OK at %.6f, no sync of fd %d after '
                           'its write at %.6f' % (k, i, ok_times[i], fd,
                                                  w_end))
                continue
            gap = ok_times[i] - cover[2]
            if gap < 0:
                bad.append('c%d-%d: OK at %.6f before its sync ended at '
                           '%.6f (write ended %.6f)' % (k, i, ok_times[i],
                                                        cover[2], w_end))
            margin = gap if margin is None else min(margin, gap)
    if bad:
        print('\n'.join(bad[:20]))
        sys.exit('%d of %d OKs went out before their sync'
                 % (len(bad), nconns * npubs))
    print('%d messages from %d publishers: every OK after its sync '
          '(%d syncs; least margin %.6f s)'
          % (nconns * npubs, nconns, len(sync_list), margin))


if __name__ == '__main__':
    main()
