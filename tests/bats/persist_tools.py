"""persist_tools: publisher, consumer and checkers for the persist*.bats
suites (nsqd's disk queues, restarts and crashes).  Stdlib only, on top
of nsqwire.

    python3 persist_tools.py pub PORT TOPIC --log FILE [options]
    python3 persist_tools.py consume PORT TOPIC CHANNEL --log FILE [options]
    python3 persist_tools.py check --pub-log F --log F... [options]
    python3 persist_tools.py dqscan DIR NAME

Bodies are ASCII words (PREFIX + a zero-padded number, optionally padded
with '.' to --size), so the logs are text with one event a line:

    publisher:  S <body>   sent          A <body>   answered OK
    consumer:   R <body>   received      F <body>   FIN sent
                K <body>   the FIN was processed by nsqd
                L          every FIN is confirmed, lingering (--linger)
                X          the connection was lost
                Q          the consumer closed the connection (CLS)

nsqd does not answer a FIN, so the consumer confirms its FINs by sending
`FIN 0000000000000000` (never in flight): nsqd handles commands in order
and answers that one with a non-fatal E_FIN_FAILED, so once that error
arrives every FIN sent before it has been processed (K).  A FIN sent but
not confirmed when the connection died may or may not have been taken:
that message may come back once more, legitimately.

Every read and every loop is bounded (--max-time, nsqwire deadlines).
"""

import argparse
import os
import re
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nsqwire import (Conn, ConnectionClosed, WireError, WireTimeout,  # noqa
                     FRAME_ERROR, FRAME_MESSAGE, FRAME_RESPONSE,
                     parse_message)

SYNC_ID = b'0000000000000000'


def make_body(prefix, i, size):
    b = ('%s%06d' % (prefix, i)).encode()
    if len(b) < size:
        b += b'.' * (size - len(b))
    return b


def word(body):
    """The logged form of a body: without the '.' padding."""
    return body.rstrip(b'.').decode('ascii', 'backslashreplace')


def connect(port, deadline, timeout=5):
    """Connects, retrying (nsqd may be restarting) until deadline."""
    last = None
    while time.monotonic() < deadline:
        try:
            return Conn(port, timeout=timeout, auto_nop=True)
        except OSError as e:
            last = e
            time.sleep(0.05)
    raise WireTimeout('could not connect to port %d: %s' % (port, last))


# -- publisher -------------------------------------------------------------

def cmd_pub(a):
    """Publishes --count bodies PREFIX000000.., --batch per MPUB (1: PUB),
    one command at a time, logging S/A lines.  Exit 0 when all were
    answered OK; with --tolerate-close a lost connection or an error
    frame ends it with 0 too (the log says how far it got)."""
    log = open(a.log, 'a', buffering=1)
    deadline = time.monotonic() + a.max_time
    c = connect(a.port, deadline)
    c.magic()
    sent = acked = 0
    i = a.start
    end = a.start + a.count
    status = 0
    try:
        while i < end:
            if time.monotonic() > deadline:
                raise WireTimeout('pub: --max-time reached')
            if a.stop_file and os.path.exists(a.stop_file):
                break
            n = min(a.batch, end - i)
            bodies = [make_body(a.prefix, j, a.size)
                      for j in range(i, i + n)]
            log.write(''.join('S %s\n' % word(b) for b in bodies))
            if a.batch == 1:
                c.pub(a.topic, bodies[0])
            else:
                c.mpub(a.topic, bodies)
            sent += n
            ftype, data = c.frame(timeout=a.reply_timeout)
            if ftype != FRAME_RESPONSE or data != b'OK':
                log.write('E %s\n' % data.decode('ascii', 'replace'))
                print('pub: got %r after %d acked' % (data, acked))
                status = 0 if a.tolerate_close else 1
                break
            log.write(''.join('A %s\n' % word(b) for b in bodies))
            acked += n
            i += n
            if a.delay:
                time.sleep(a.delay)
    except (ConnectionClosed, ConnectionError) as e:
        log.write('X\n')
        print('pub: connection lost after %d acked: %s' % (acked, e))
        status = 0 if a.tolerate_close else 1
    print('pub: sent=%d acked=%d' % (sent, acked))
    return status


# -- consumer --------------------------------------------------------------

class Consumer(object):
    def __init__(self, a, log):
        self.a = a
        self.log = log
        self.received = 0
        self.finned = 0
        self.confirmed = 0
        self.unconfirmed = []	# FINs sent since the last sync FIN
        self.markers = []	# batches awaiting their E_FIN_FAILED
        self.held = []		# delivered, deliberately not FINed

    def sync(self, c):
        """Sends the sync FIN for the FINs not yet covered by one."""
        if not self.unconfirmed:
            return
        self.markers.append(self.unconfirmed)
        self.unconfirmed = []
        c.fin(SYNC_ID)

    def on_error(self, data):
        if data.startswith(b'E_FIN_FAILED') and SYNC_ID in data \
                and self.markers:
            batch = self.markers.pop(0)
            self.log.write(''.join('K %s\n' % w for w in batch))
            self.confirmed += len(batch)
            return
        raise WireError('consumer: unexpected error frame %r' % data)

    def done(self):
        a = self.a
        return a.count and self.received >= a.count

    def session(self, c, deadline):
        """One connection: returns 'stop', 'idle' or 'done'."""
        a = self.a
        idle_since = time.monotonic()
        c.magic()
        c.sub(a.topic, a.channel)
        c.ok()
        c.rdy(a.rdy)
        while True:
            now = time.monotonic()
            if now > deadline:
                return 'stop'
            if a.stop_file and os.path.exists(a.stop_file):
                return 'stop'
            if self.done():
                return 'done'
            if a.until_idle and now - idle_since > a.until_idle:
                return 'idle'
            try:
                ftype, data = c.frame(timeout=0.1)
            except WireTimeout:
                self.sync(c)
                continue
            if ftype == FRAME_ERROR:
                self.on_error(data)
                continue
            if ftype != FRAME_MESSAGE:
                raise WireError('consumer: unexpected frame %r' % data)
            idle_since = time.monotonic()
            m = parse_message(data)
            w = word(m.body)
            self.log.write('R %s %d\n' % (w, m.attempts))
            self.received += 1
            if a.count and self.received > a.count - a.leave:
                pass	# --leave: in flight until the connection ends
            elif a.hold_every and self.received % a.hold_every == 0:
                # Held back, FINed later (out of order) once more
                # than --hold-max are held.
                self.held.append((m.id, w))
                if len(self.held) > a.hold_max:
                    self.fin(c, *self.held.pop(0))
            else:
                self.fin(c, m.id, w)
            if a.delay:
                time.sleep(a.delay)

    def fin(self, c, mid, w):
        c.fin(mid)
        self.log.write('F %s\n' % w)
        self.finned += 1
        self.unconfirmed.append(w)
        if len(self.unconfirmed) >= self.a.sync_every:
            self.sync(c)

    def finish(self, c):
        """Stop deliveries and wait (bounded) until every FIN sent is
        confirmed.  Messages that still arrive are logged, not FINed."""
        c.rdy(0)
        self.sync(c)
        end = time.monotonic() + 10
        while self.markers and time.monotonic() < end:
            try:
                ftype, data = c.frame(timeout=0.5)
            except WireTimeout:
                continue
            if ftype == FRAME_ERROR:
                self.on_error(data)
            elif ftype == FRAME_MESSAGE:
                m = parse_message(data)
                self.log.write('R %s %d\n' % (word(m.body), m.attempts))
                self.received += 1
        if self.markers:
            raise WireTimeout('consumer: FINs not confirmed in 10s')


def linger(cons, c, deadline):
    """--linger: after --count, keep the connection (and what is in
    flight on it) open until nsqd closes it or the deadline passes."""
    cons.finish(c)
    cons.log.write('L\n')
    while time.monotonic() < deadline:
        try:
            ftype, data = c.frame(timeout=0.5)
        except WireTimeout:
            continue
        if ftype == FRAME_MESSAGE:
            m = parse_message(data)
            cons.log.write('R %s %d\n' % (word(m.body), m.attempts))
            cons.received += 1
    raise WireTimeout('consume --linger: still connected at --max-time')


def cmd_consume(a):
    """Consumes TOPIC/CHANNEL logging R/F/K/X lines.  Stops at --count
    messages, after --until-idle seconds without one, when --stop-file
    appears, or at --max-time (an error).  With --reconnect a lost
    connection is retried (nsqd restarting) until the deadline; without,
    it ends the run with exit 0 (the kill the test was waiting for).
    --leave N: the last N of --count messages are not FINed; --linger:
    once --count are in, stay connected until nsqd goes away."""
    log = open(a.log, 'a', buffering=1)
    deadline = time.monotonic() + a.max_time
    cons = Consumer(a, log)
    why = None
    while why is None:
        c = None
        try:
            c = connect(a.port, deadline)
            r = cons.session(c, deadline)
            if r == 'done' and a.linger:
                linger(cons, c, deadline)
            if r == 'stop' and time.monotonic() > deadline:
                raise WireTimeout('consume: --max-time reached')
            cons.finish(c)
            c.cls()
            log.write('Q\n')
            why = r
        except (ConnectionClosed, ConnectionError) as e:
            log.write('X\n')
            cons.unconfirmed = []
            cons.markers = []
            cons.held = []
            if not a.reconnect:
                why = 'closed (%s)' % e
        finally:
            if c is not None:
                c.close()
    print('consume %s/%s: received=%d finned=%d confirmed=%d end=%s'
          % (a.topic, a.channel, cons.received, cons.finned,
             cons.confirmed, why))
    return 0


# -- checks ------------------------------------------------------------------

def read_events(paths):
    ev = []
    for p in paths:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                parts = line.split()
                if parts:
                    ev.append(parts)
    return ev


def cmd_check(a):
    """Checks consumer logs (chronological, concatenated in the order
    given) against what was published: --count bodies PREFIX000000.. or
    the A lines of --pub-log.  Fails on: a published/acked body never
    FINed (or FINed, then received again and not FINed); a body received
    again after its FIN was confirmed; with --exact, a body that was not
    published.  Prints one summary line."""
    if a.pub_log:
        pev = read_events([a.pub_log])
        sent = {e[1] for e in pev if e[0] == 'S'}
        want = {e[1] for e in pev if e[0] == 'A'}
    else:
        want = {'%s%06d' % (a.prefix, i) for i in range(a.count)}
        sent = set(want)
    ev = read_events(a.log)
    state = {}		# body -> 'R' | 'F' | 'K'
    nrecv = {}
    confirmed = {}
    problems = []
    inflight_dups = after_fin = at_kills = 0
    session = set()	# received on this connection, FIN not confirmed
    justified = set()	# such bodies when a connection ended
    for e in ev:
        if e[0] in ('X', 'Q'):
            if e[0] == 'X':
                at_kills += len(session)
            justified |= session
            session = set()
            continue
        if len(e) < 2:		# L
            continue
        w = e[1]
        if e[0] == 'R':
            if w in nrecv and w not in justified:
                problems.append('%s delivered again, but was not in '
                                'flight when a connection ended' % w)
            session.add(w)
            if w not in sent:
                problems.append('received %s, which was never sent' % w)
            if state.get(w) == 'K':
                after_fin += 1
                problems.append('%s came back after its FIN was '
                                'confirmed' % w)
            if w in nrecv:
                inflight_dups += 1
            nrecv[w] = nrecv.get(w, 0) + 1
            state[w] = 'R'
        elif e[0] == 'F':
            state[w] = 'F'
        elif e[0] == 'K':
            session.discard(w)
            justified.discard(w)
            state[w] = 'K'
            confirmed[w] = confirmed.get(w, 0) + 1
    # A FIN sent but never confirmed counts as consumed if the body
    # did not come back; one received and never FINed is lost.
    lost = sorted(w for w in want if state.get(w) not in ('K', 'F'))
    if lost:
        problems.append('%d acknowledged bodies never consumed: %s' % (
            len(lost), ' '.join(lost[:10])))
    if a.exact:
        extra = sorted(w for w in state if w not in want)
        if extra:
            problems.append('%d bodies consumed but not published: %s'
                            % (len(extra), ' '.join(extra[:10])))
    print('check: sent=%d acked=%d received=%d unique=%d confirmed=%d '
          'redelivered=%d inflight_at_kills=%d after_confirmed_fin=%d '
          'lost=%d problems=%d'
          % (len(sent), len(want), sum(nrecv.values()), len(nrecv),
             len(confirmed), inflight_dups, at_kills, after_fin, len(lost),
             len(problems)))
    for p in problems[:20]:
        print('  ' + p)
    return 1 if problems else 0


# -- disk queue files --------------------------------------------------------

META_RE = re.compile(rb'^(-?\d+)\n(\d+),(\d+)\n(\d+),(\d+)\n$')


def dqscan(d, name, max_msg=1024 * 1024 + 26):
    """Reads queue NAME in directory d the way go-diskqueue would: checks
    the meta file's exact format, that the write file is writePos long,
    that every record between the read and write positions has a valid
    length; returns (depth, [bodies]) of the unread records."""
    with open(os.path.join(d, '%s.diskqueue.meta.dat' % name), 'rb') as f:
        text = f.read()
    m = META_RE.match(text)
    if not m:
        raise AssertionError('%s: meta file not in Go format: %r'
                             % (name, text))
    depth, rf, rp, wf, wp = (int(x) for x in m.groups())
    wpath = os.path.join(d, '%s.diskqueue.%06d.dat' % (name, wf))
    wsize = os.path.getsize(wpath) if os.path.exists(wpath) else 0
    if wsize != wp:
        raise AssertionError('%s: write file %d is %d bytes, meta says %d'
                             % (name, wf, wsize, wp))
    bodies = []
    f_, pos = rf, rp
    while (f_, pos) < (wf, wp):
        path = os.path.join(d, '%s.diskqueue.%06d.dat' % (name, f_))
        with open(path, 'rb') as fh:
            data = fh.read()
        end = wp if f_ == wf else len(data)
        while pos < end:
            if end - pos < 4:
                raise AssertionError('%s: %s torn at %d' % (name, path, pos))
            (n,) = struct.unpack('>i', data[pos:pos + 4])
            if n < 26 or n > max_msg or pos + 4 + n > end:
                raise AssertionError('%s: %s bad record length %d at %d'
                                     % (name, path, n, pos))
            bodies.append(data[pos + 4 + 26:pos + 4 + n])
            pos += 4 + n
        f_, pos = f_ + 1, 0
        if f_ > wf:
            break
    if len(bodies) != depth:
        raise AssertionError('%s: meta depth %d but %d records unread'
                             % (name, depth, len(bodies)))
    return depth, bodies


def cmd_dqscan(a):
    depth, bodies = dqscan(a.dir, a.name)
    print('%s depth=%d' % (a.name, depth))
    for b in bodies:
        print(word(b) if a.words else repr(b))
    return 0


def main(argv):
    p = argparse.ArgumentParser(prog='persist_tools.py')
    sub = p.add_subparsers(dest='cmd', required=True)

    s = sub.add_parser('pub')
    s.add_argument('port', type=int)
    s.add_argument('topic')
    s.add_argument('--log', required=True)
    s.add_argument('--prefix', default='m')
    s.add_argument('--start', type=int, default=0)
    s.add_argument('--count', type=int, default=100)
    s.add_argument('--batch', type=int, default=1)
    s.add_argument('--size', type=int, default=0)
    s.add_argument('--delay', type=float, default=0)
    s.add_argument('--reply-timeout', type=float, default=20)
    s.add_argument('--max-time', type=float, default=120)
    s.add_argument('--stop-file')
    s.add_argument('--tolerate-close', action='store_true')
    s.set_defaults(fn=cmd_pub)

    s = sub.add_parser('consume')
    s.add_argument('port', type=int)
    s.add_argument('topic')
    s.add_argument('channel')
    s.add_argument('--log', required=True)
    s.add_argument('--rdy', type=int, default=10)
    s.add_argument('--delay', type=float, default=0)
    s.add_argument('--count', type=int, default=0)
    s.add_argument('--until-idle', type=float, default=0)
    s.add_argument('--sync-every', type=int, default=1)
    s.add_argument('--hold-every', type=int, default=0)
    s.add_argument('--hold-max', type=int, default=3)
    s.add_argument('--leave', type=int, default=0)
    s.add_argument('--linger', action='store_true')
    s.add_argument('--stop-file')
    s.add_argument('--reconnect', action='store_true')
    s.add_argument('--max-time', type=float, default=120)
    s.set_defaults(fn=cmd_consume)

    s = sub.add_parser('check')
    s.add_argument('--pub-log')
    s.add_argument('--prefix', default='m')
    s.add_argument('--count', type=int, default=0)
    s.add_argument('--exact', action='store_true')
    s.add_argument('--log', nargs='+', required=True)
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser('dqscan')
    s.add_argument('dir')
    s.add_argument('name')
    s.add_argument('--words', action='store_true')
    s.set_defaults(fn=cmd_dqscan)

    a = p.parse_args(argv)
    return a.fn(a)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
