#!/usr/bin/env python3
"""The soak test: a small cluster under churn for a bounded time.

    soak.py --bin DIR [--seconds N] [--seed S] [--producers P]
            [--consumers C] [--rate R] [--workdir DIR] [--keep]

One nsqlookupd and two nsqd (durable mode: --mem-queue-size=0
--sync-every=1, a short --msg-timeout) on free 127.0.0.1 ports in a
temporary directory.  Producers publish unique bodies (PUB and MPUB) to
an nsqd they pick at random, and count a message as published only when
its OK arrives.  Consumers find the nsqd through nsqlookupd, subscribe,
and per message FIN it, REQ it, TOUCH then FIN it, let it time out, or
drop the connection with it in flight; every few seconds a producer or a
consumer disconnects on purpose.  Mid-run the first nsqd is restarted
with SIGTERM and later with SIGKILL, and nsqlookupd with SIGTERM.  A
sampler reads each daemon's RSS and open fds every second.

Producers together publish at most R messages a second (2000), so that
the consumers keep up.  After N seconds the producers stop, and the
consumers drain until every published message has been finished, or
both nsqd hold nothing more for the channel (what is missing then is
lost), or 120 s pass (a failure: not drained).  Then one line:

    soak: 30s published 41200 received 41200 lost 0 duplicated 95 ...

with RSS first/last/peak (kB) and fds first/last of each daemon.  It
exits 1 if any published message was never received (lost > 0) or a
daemon died unasked, 0 otherwise.  Every loop is bounded by the run's
deadline; every socket has a timeout.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOPIC = 'soak'
CHANNEL = 'ch'
MSG_TIMEOUT_MS = 2000


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Daemon:
    """One nsqd or nsqlookupd on fixed ports, restartable."""

    def __init__(self, binary, name, args, workdir):
        self.binary, self.name, self.args = binary, name, args
        self.log = open(os.path.join(workdir, name + '.log'), 'ab')
        self.proc = None
        self.samples = []       # (rss_kb, fds)
        self.expected_exit = False

    def start(self, tcp_port, deadline=30):
        self.expected_exit = False
        self.proc = subprocess.Popen([self.binary] + self.args,
                                     stdout=self.log, stderr=self.log)
        end = time.time() + deadline
        while time.time() < end:
            if self.proc.poll() is not None:
                raise SystemExit('%s exited at start: %d (see %s)'
                                 % (self.name, self.proc.returncode,
                                    self.log.name))
            try:
                socket.create_connection(('127.0.0.1', tcp_port),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit('%s not listening on %d after %ds'
                         % (self.name, tcp_port, deadline))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.expected_exit = True
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise SystemExit('%s did not exit in %ds on signal %d'
                             % (self.name, timeout, sig))
        if sig == signal.SIGTERM and self.proc.returncode != 0:
            raise SystemExit('%s exited %d on SIGTERM (see %s)'
                             % (self.name, self.proc.returncode,
                                self.log.name))

    def sample(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            rss = 0
            with open('/proc/%d/status' % p.pid) as f:
                for line in f:
                    if line.startswith('VmRSS:'):
                        rss = int(line.split()[1])
            fds = len(os.listdir('/proc/%d/fd' % p.pid))
        except OSError:
            return
        self.samples.append((rss, fds))

    def died_unasked(self):
        return (self.proc is not None and self.proc.poll() is not None
                and not self.expected_exit)


class Wire:
    """A minimal V2 connection: commands out, frames in, with timeouts."""

    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(('127.0.0.1', port),
                                          timeout=timeout)
        self.buf = b''
        self.s.sendall(b'  V2')

    def send(self, data):
        self.s.sendall(data)

    def cmd_body(self, line, data):
        self.send(line + b'\n' + struct.pack('>I', len(data)) + data)

    def frame(self):
        while True:
            while len(self.buf) < 8:
                self._recv()
            size, ftype = struct.unpack('>II', self.buf[:8])
            while len(self.buf) < 4 + size:
                self._recv()
            data = self.buf[8:4 + size]
            self.buf = self.buf[4 + size:]
            if ftype == 0 and data == b'_heartbeat_':
                self.send(b'NOP\n')
                continue
            return ftype, data

    def _recv(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError('closed')
        self.buf += d

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Soak:
    def __init__(self, opts):
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.lock = threading.Lock()
        self.published = set()
        self.fins = {}              # body -> times finished
        self.stop_pub = threading.Event()
        self.stop_all = threading.Event()
        self.errors = []
        self.stats = {'pub_err': 0, 'req': 0, 'touch': 0, 'timeout': 0,
                      'drop': 0, 'reconnect': 0}
        self.dir = opts.workdir or tempfile.mkdtemp(prefix='nsq-soak.')
        os.makedirs(self.dir, exist_ok=True)
        b = opts.bin
        self.lk_tcp, self.lk_http = free_port(), free_port()
        self.lookupd = Daemon(os.path.join(b, 'nsqlookupd'), 'nsqlookupd',
                              ['--tcp-address=127.0.0.1:%d' % self.lk_tcp,
                               '--http-address=127.0.0.1:%d' % self.lk_http,
                               '--broadcast-address=127.0.0.1'], self.dir)
        self.nsqd = []
        for name in ('nsqd-a', 'nsqd-b'):
            tcp, http = free_port(), free_port()
            data = os.path.join(self.dir, name)
            os.makedirs(data, exist_ok=True)
            d = Daemon(os.path.join(b, 'nsqd'), name,
                       ['--tcp-address=127.0.0.1:%d' % tcp,
                        '--http-address=127.0.0.1:%d' % http,
                        '--data-path=' + data, '--mem-queue-size=0',
                        '--sync-every=1',
                        '--msg-timeout=%dms' % MSG_TIMEOUT_MS,
                        '--broadcast-address=127.0.0.1',
                        '--lookupd-tcp-address=127.0.0.1:%d' % self.lk_tcp,
                        '--lookupd-ping-interval=1s'], self.dir)
            d.tcp, d.http = tcp, http
            self.nsqd.append(d)

    def note(self, key):
        with self.lock:
            self.stats[key] += 1

    # Producers: a message counts as published once its OK is read.
    def producer(self, k):
        rng = random.Random(self.o.seed * 1000 + k)
        seq = 0
        rate = self.o.rate / self.o.producers     # messages a second
        t_start = time.time()
        while not self.stop_pub.is_set():
            d = rng.choice(self.nsqd)
            try:
                w = Wire(d.tcp)
                for _ in range(rng.randint(20, 400)):
                    if self.stop_pub.is_set():
                        break
                    # Held to the rate, so the consumers keep up.
                    ahead = seq / rate - (time.time() - t_start)
                    if ahead > 0:
                        time.sleep(min(ahead, 1))
                        continue
                    n = 1 if rng.random() < 0.5 else rng.randint(2, 50)
                    bodies = [b'p%d-%d' % (k, seq + i) for i in range(n)]
                    seq += n
                    if n == 1:
                        w.cmd_body(b'PUB ' + TOPIC.encode(), bodies[0])
                    else:
                        w.cmd_body(b'MPUB ' + TOPIC.encode(),
                                   struct.pack('>I', n) + b''.join(
                                       struct.pack('>I', len(x)) + x
                                       for x in bodies))
                    ftype, data = w.frame()
                    if ftype == 0 and data == b'OK':
                        with self.lock:
                            self.published.update(bodies)
                    else:
                        self.note('pub_err')
                        break
                w.close()           # a disconnect on purpose, now and then
            except (OSError, ConnectionError, struct.error):
                self.note('pub_err')
                time.sleep(0.1)

    def lookup(self):
        url = 'http://127.0.0.1:%d/lookup?topic=%s' % (self.lk_http, TOPIC)
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                d = json.load(r)
            return [p['tcp_port'] for p in d.get('producers') or []]
        except (OSError, ValueError, KeyError):
            return []

    # Consumers: FIN most, REQ, TOUCH, time out or drop some.
    def consumer(self, k):
        rng = random.Random(self.o.seed * 2000 + k)
        while not self.stop_all.is_set():
            ports = self.lookup()
            if not ports:
                time.sleep(0.2)
                continue
            # Spread over the nsqd listed: consumer k takes the k-th.
            port = sorted(ports)[k % len(ports)]
            try:
                w = Wire(port, timeout=MSG_TIMEOUT_MS / 1000 + 1)
                w.send(b'SUB %s %s\n' % (TOPIC.encode(), CHANNEL.encode()))
                f = w.frame()
                if f != (0, b'OK'):
                    if os.environ.get('SOAK_DEBUG'):
                        print('consumer %d port %d: SUB answered %r'
                              % (k, port, f), flush=True)
                    w.close()
                    time.sleep(0.2)
                    continue
                w.send(b'RDY 20\n')
                handled = 0
                limit = rng.randint(100, 2000)
                while not self.stop_all.is_set() and handled < limit:
                    ftype, data = w.frame()
                    if ftype != 2:
                        continue
                    mid, body = data[10:26], data[26:]
                    handled += 1
                    r = rng.random()
                    if r < 0.80:
                        w.send(b'FIN ' + mid + b'\n')
                        self.finished(body)
                    elif r < 0.88:
                        w.send(b'REQ ' + mid + b' %d\n' % rng.choice(
                            (0, 0, 100)))
                        self.note('req')
                    elif r < 0.93:
                        w.send(b'TOUCH ' + mid + b'\n')
                        w.send(b'FIN ' + mid + b'\n')
                        self.finished(body)
                        self.note('touch')
                    elif r < 0.97:
                        self.note('timeout')    # left to time out
                    else:
                        self.note('drop')
                        break                   # dropped with it in flight
                w.close()
                if os.environ.get('SOAK_DEBUG'):
                    print('consumer %d port %d: handled %d' % (k, port,
                                                              handled),
                          flush=True)
                self.note('reconnect')
            except (OSError, ConnectionError, struct.error) as e:
                if os.environ.get('SOAK_DEBUG'):
                    print('consumer %d port %d: %r' % (k, port, e),
                          flush=True)
                time.sleep(0.1)

    def finished(self, body):
        with self.lock:
            self.fins[body] = self.fins.get(body, 0) + 1

    def held(self):
        """Messages the nsqd still hold for the channel (depth, in flight,
        deferred), or -1 when one cannot be asked."""
        n = 0
        self.held_detail = []
        for d in self.nsqd:
            url = 'http://127.0.0.1:%d/stats?format=json&topic=%s' % (
                d.http, TOPIC)
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    st = json.load(r)
            except (OSError, ValueError):
                return -1
            for t in st.get('topics') or []:
                n += t.get('depth', 0)
                detail = '%s topic depth %d' % (d.name, t.get('depth', 0))
                for c in t.get('channels') or []:
                    n += (c.get('depth', 0) + c.get('in_flight_count', 0) +
                          c.get('deferred_count', 0))
                    detail += ', channel depth %d in flight %d deferred %d' \
                        ' clients %d' % (
                            c.get('depth', 0), c.get('in_flight_count', 0),
                            c.get('deferred_count', 0),
                            len(c.get('clients') or []))
                self.held_detail.append(detail)
        return n

    def sampler(self):
        while not self.stop_all.wait(1):
            for d in [self.lookupd] + self.nsqd:
                d.sample()
            for d in [self.lookupd] + self.nsqd:
                if d.died_unasked():
                    self.errors.append('%s died (status %s)' % (
                        d.name, d.proc.returncode))
                    self.stop_pub.set()
                    self.stop_all.set()

    def chaos(self, t0):
        """SIGTERM, lookupd and SIGKILL restarts at a quarter, a half and
        three quarters of the run, give or take a little."""
        a = self.nsqd[0]
        n = self.o.seconds
        plan = [(0.25, 'term'), (0.5, 'lookupd'), (0.75, 'kill')]
        for frac, what in plan:
            at = t0 + n * frac + self.rng.uniform(-0.05, 0.05) * n
            while time.time() < at and not self.stop_all.is_set():
                time.sleep(0.1)
            if self.stop_all.is_set():
                return
            try:
                if what == 'term':
                    a.stop(signal.SIGTERM)
                    a.start(a.tcp)
                elif what == 'kill':
                    a.stop(signal.SIGKILL)
                    a.start(a.tcp)
                else:
                    self.lookupd.stop(signal.SIGTERM)
                    self.lookupd.start(self.lk_tcp)
                print('soak: %5.1fs %s restarted' % (
                    time.time() - t0, {'term': 'nsqd-a (SIGTERM)',
                                       'kill': 'nsqd-a (SIGKILL)',
                                       'lookupd': 'nsqlookupd'}[what]),
                      flush=True)
            except SystemExit as e:
                self.errors.append(str(e))
                self.stop_pub.set()
                self.stop_all.set()
                return

    def run(self):
        o = self.o
        self.lookupd.start(self.lk_tcp)
        for d in self.nsqd:
            d.start(d.tcp)
            # The channel first, so that no message waits in a topic
            # without one.
            for what in ('topic/create?topic=%s' % TOPIC,
                         'channel/create?topic=%s&channel=%s'
                         % (TOPIC, CHANNEL)):
                urllib.request.urlopen(urllib.request.Request(
                    'http://127.0.0.1:%d/%s' % (d.http, what),
                    method='POST'), timeout=5).read()
        t0 = time.time()
        threads = [threading.Thread(target=self.sampler, daemon=True),
                   threading.Thread(target=self.chaos, args=(t0,),
                                    daemon=True)]
        threads += [threading.Thread(target=self.producer, args=(k,),
                                     daemon=True)
                    for k in range(o.producers)]
        threads += [threading.Thread(target=self.consumer, args=(k,),
                                     daemon=True)
                    for k in range(o.consumers)]
        for t in threads:
            t.start()
        end = t0 + o.seconds
        while time.time() < end and not self.stop_pub.is_set():
            time.sleep(0.2)
        self.stop_pub.set()
        # Drain: until every published message was finished, or both
        # nsqd hold nothing more for the channel three checks in a row
        # (what is still missing then is lost), or the deadline.
        drain_end = time.time() + 120
        empty = 0
        self.undrained = None
        while not self.stop_all.is_set():
            with self.lock:
                left = len(self.published - self.fins.keys())
            if left == 0:
                break
            held = self.held()
            empty = empty + 1 if held == 0 else 0
            if empty >= 3:
                break
            if time.time() >= drain_end:
                self.undrained = held
                self.held_detail.append('nsqlookupd lists %r'
                                        % self.lookup())
                break
            time.sleep(1)
        self.stop_all.set()
        for t in threads:
            t.join(10)
        for d in [self.lookupd] + self.nsqd:
            d.sample()
        for d in self.nsqd + [self.lookupd]:
            try:
                d.stop(signal.SIGTERM)
            except SystemExit as e:
                self.errors.append(str(e))
        return self.report(time.time() - t0)

    def report(self, took):
        with self.lock:
            pub = len(self.published)
            got = len(self.published & self.fins.keys())
            lost = pub - got
            dup = sum(n - 1 for n in self.fins.values() if n > 1)
        parts = ['soak: %ds published %d received %d lost %d duplicated %d'
                 % (self.o.seconds, pub, got, lost, dup)]
        for d in self.nsqd + [self.lookupd]:
            s = d.samples or [(0, 0)]
            parts.append('%s RSS %d/%d/%d kB fds %d/%d' % (
                d.name, s[0][0], s[-1][0], max(x[0] for x in s),
                s[0][1], s[-1][1]))
        print(' | '.join(parts), flush=True)
        print('soak: churn: %s; %.0fs in all; logs in %s' % (
            ', '.join('%s %d' % kv for kv in sorted(self.stats.items())),
            took, self.dir), flush=True)
        if self.undrained is not None:
            self.errors.append('not drained in 120s: the nsqd still hold '
                               '%d messages (%s)' % (
                                   self.undrained,
                                   '; '.join(self.held_detail)))
        for e in self.errors:
            print('soak: error: ' + e, flush=True)
        if lost:
            missing = sorted(self.published - self.fins.keys())[:10]
            print('soak: never received, for example: %s' % b' '.join(
                missing).decode(), flush=True)
        ok = lost == 0 and not self.errors and pub > 0
        if ok and not self.o.keep and not self.o.workdir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', required=True)
    ap.add_argument('--seconds', type=int, default=300)
    ap.add_argument('--seed', type=int, default=int(time.time()))
    ap.add_argument('--producers', type=int, default=4)
    ap.add_argument('--consumers', type=int, default=4)
    ap.add_argument('--rate', type=int, default=2000,
                    help='messages a second, all producers together')
    ap.add_argument('--workdir')
    ap.add_argument('--keep', action='store_true',
                    help='keep the logs and data of a passing run')
    o = ap.parse_args()
    if not 10 <= o.seconds <= 86400:
        ap.error('--seconds must be in [10, 86400]')
    print('soak: %ds, seed %d, %d producers, %d consumers' % (
        o.seconds, o.seed, o.producers, o.consumers), flush=True)
    s = Soak(o)
    try:
        rc = s.run()
    finally:
        for d in s.nsqd + [s.lookupd]:
            if d.proc is not None and d.proc.poll() is None:
                d.proc.kill()
    sys.exit(rc)


if __name__ == '__main__':
    main()
