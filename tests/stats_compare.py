#!/usr/bin/env python3
"""stats_compare: do two nsqd binaries report the same figures, byte for byte?

    tests/stats_compare.py [-v] [--no-e2e] OLD_NSQD NEW_NSQD [-- FLAG...]

-v prints the new binary's (masked) outputs; --no-e2e leaves out
--e2e-processing-latency-percentile; FLAGs go to both daemons (e.g.
--statsd-exclude-ephemeral --statsd-mem-stats=false).

Starts both on free 127.0.0.1 ports, each with its own data directory,
--mem-queue-size=2 (so some messages are on disk), e2e percentiles and
statsd to a UDP listener of this script, and drives the same workload
into both, step by step: topics (one paused, one without channels, an
ephemeral one, one with messages on disk), channels (one paused, one ephemeral), IDENTIFYed
consumers with messages in flight, finished, requeued, deferred (REQ with
a delay and DPUB) and timed out, and IDENTIFYed producers.  It then
compares every variant of /stats (JSON and text; with and without clients
and memory; topic and channel filters, a missing topic), /metrics and the
lines of the first two statsd pushes (between them: more messages, a
requeue, topics and a channel deleted and made again), and exits 1 on any
difference.  statsd's datagram boundaries move with the length of the e2e
figures, so only the lines are compared; each datagram is checked
against the packet size.

Only what legitimately differs between two runs is masked before the
comparison: start time, uptime, connect times, the remote ports, e2e
latency values (their counts are kept) and malloc's byte figures.  For a
refactoring of stats.c, metrics.c or statsd.c: build the old binary
first, copy it aside, and run this against the new one.
"""

import difflib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'bats'))
from nsqwire import Conn, FRAME_MESSAGE, FRAME_RESPONSE  # noqa: E402

STATSD_INTERVAL = 6  # s: the first push comes after the workload


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Statsd(object):
    """A UDP listener keeping every datagram."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.pkts = []
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                self.pkts.append((time.monotonic(), self.sock.recv(65536)))
            except socket.timeout:
                pass


class Nsqd(object):
    def __init__(self, binary, label, flags):
        self.label = label
        self.dir = tempfile.mkdtemp(prefix='stats-compare-')
        self.tcp = free_port()
        self.http = free_port()
        self.statsd = Statsd()
        self.log = open(os.path.join(self.dir, 'log'), 'w')
        self.p = subprocess.Popen([
            binary, '--tcp-address=127.0.0.1:%d' % self.tcp,
            '--http-address=127.0.0.1:%d' % self.http,
            '--data-path=' + self.dir, '--mem-queue-size=2',
            '--broadcast-address=127.0.0.1',
            '--statsd-address=127.0.0.1:%d' % self.statsd.port,
            '--statsd-interval=%ds' % STATSD_INTERVAL,
            '--statsd-udp-packet-size=300',
            '--statsd-prefix=nsq.%s'] + flags, stdout=self.log,
            stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.get('/ping')
                break
            except OSError:
                if time.monotonic() > deadline or self.p.poll() is not None:
                    raise
                time.sleep(0.05)
        self.conns = {}

    def get(self, path, method='GET', data=None):
        req = urllib.request.Request('http://127.0.0.1:%d%s' % (
            self.http, path), method=method, data=data)
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read()

    def post(self, path, data=b''):
        return self.get(path, 'POST', data)

    def conn(self, name, identify):
        c = Conn(self.tcp)
        c.magic()
        c.identify(json.dumps(identify))
        c.expect(FRAME_RESPONSE, b'OK')
        self.conns[name] = c
        return c

    def close(self):
        for c in self.conns.values():
            c.close()
        self.p.terminate()
        rc = self.p.wait(30)
        self.statsd.stop = True
        self.log.close()
        if rc != 0:
            # A sanitizer build reports there: show it.
            sys.stdout.write(open(os.path.join(self.dir, 'log')).read())
            print('%s: exit status %d' % (self.label, rc))
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def ok_after(c):
    """OK, taking the messages that arrive before it."""
    msgs = []
    while True:
        ftype, data = c.frame()
        if ftype == FRAME_MESSAGE:
            msgs.append(data)
            continue
        assert (ftype, data) == (FRAME_RESPONSE, b'OK'), (ftype, data)
        return msgs


def sync(c):
    c.cmd_body('PUB sync#ephemeral', b'sync')
    return ok_after(c)


def mid(data):
    return data[10:26].decode()


def workload(n):
    """The same steps for each daemon; returns when it is quiet."""
    n.post('/topic/create?topic=alpha')
    n.post('/channel/create?topic=alpha&channel=zeta')
    n.post('/channel/create?topic=alpha&channel=beta')
    n.post('/channel/create?topic=alpha&channel=paused')
    n.post('/channel/pause?topic=alpha&channel=paused')
    n.post('/channel/create?topic=alpha&channel=eph%23ephemeral')
    n.post('/topic/create?topic=held')  # no channel: the topic holds
    n.post('/topic/create?topic=stopped')
    n.post('/channel/create?topic=stopped&channel=c')
    n.post('/topic/pause?topic=stopped')
    n.post('/mpub?topic=held', b'h1\nh2\nh3\nh4\nh5')
    n.post('/mpub?topic=stopped', b's1\ns2\ns3')
    n.post('/pub?topic=alpha', b'first')
    n.post('/mpub?topic=alpha', b'a1\na22\na333\na4444\na5\na6\na7')
    n.post('/pub?topic=alpha&defer=60000', b'deferred')

    p = n.conn('prod', {'client_id': 'prod', 'hostname': 'prodhost',
                        'user_agent': 'compare/1.0'})
    p.cmd_body('PUB alpha', b'from-prod')
    ok_after(p)
    p.cmd_body('PUB held', b'held-prod')
    ok_after(p)
    p.cmd_body('DPUB alpha 60000', b'deferred-prod')
    ok_after(p)

    # beta: one finishes, one requeues now, one defers, one stays in flight.
    c = n.conn('beta', {'client_id': 'beta1', 'hostname': 'bhost',
                        'user_agent': 'compare/1.0', 'sample_rate': 0,
                        'msg_timeout': 60000})
    c.cmd('SUB alpha beta')
    ok_after(c)
    c.cmd('RDY 4')
    got = sync(c)
    while len(got) < 4:
        ftype, data = c.frame()
        assert ftype == FRAME_MESSAGE
        got.append(data)
    c.cmd('RDY 0')
    c.cmd('FIN ' + mid(got[0]))
    c.cmd('REQ %s 0' % mid(got[1]))
    c.cmd('REQ %s 60000' % mid(got[2]))
    n.inflight = mid(got[3])
    # A requeued message may come back before RDY 0 is read; it is
    # finished so the figures do not depend on that race.
    for m in sync(c):
        c.cmd('FIN ' + mid(m))
    sync(c)

    c2 = n.conn('beta2', {'client_id': 'beta2', 'hostname': 'bhost2',
                          'user_agent': 'compare/2.0', 'deflate': False})
    c2.cmd('SUB alpha beta')
    ok_after(c2)

    # zeta: one message times out (RDY 0 after it, so none comes back).
    z = n.conn('zeta', {'client_id': 'zeta', 'hostname': 'zhost',
                        'user_agent': 'compare/1.0', 'msg_timeout': 1000})
    z.cmd('SUB alpha zeta')
    ok_after(z)
    z.cmd('RDY 1')
    z.frame()
    z.cmd('RDY 0')
    sync(z)

    e = n.conn('eph', {'client_id': 'eph', 'hostname': 'ehost',
                       'user_agent': 'compare/1.0'})
    e.cmd('SUB alpha eph#ephemeral')
    ok_after(e)
    e.cmd('RDY 2')
    got = sync(e)
    while len(got) < 2:
        got.append(e.frame()[1])
    e.cmd('FIN ' + mid(got[0]))
    e.cmd('RDY 0')
    sync(e)


def wait_timeout(n):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st = json.loads(n.get('/stats?format=json'))
        for t in st['topics']:
            for ch in t['channels']:
                if ch['channel_name'] == 'zeta' and ch['timeout_count'] == 1:
                    return
        time.sleep(0.05)
    raise AssertionError('%s: no timeout' % n.label)


QUERIES = [
    '', 'include_clients=false', 'include_mem=false',
    'include_clients=false&include_mem=false', 'topic=alpha',
    'topic=alpha&channel=beta', 'channel=c', 'topic=missing',
    'topic=alpha&channel=missing',
]


def mask_json(s, port):
    d = json.loads(s)

    def walk(x):
        if isinstance(x, dict):
            for k in list(x):
                if k in ('start_time', 'connect_ts', 'heap_idle_bytes',
                         'heap_in_use_bytes'):
                    x[k] = 'MASKED'
                elif k == 'remote_address':
                    x[k] = re.sub(r':\d+$', ':PORT', x[k])
                elif k == 'percentiles' and x[k] is not None:
                    for p in x[k]:
                        p['value'] = 'MASKED'
                else:
                    walk(x[k])
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(d)
    # The key order is what is compared, so dump as it came.
    return json.dumps(d, indent=1)


def mask_text(s):
    s = re.sub(r'^start_time .*$', 'start_time MASKED', s, flags=re.M)
    s = re.sub(r'^uptime .*$', 'uptime MASKED', s, flags=re.M)
    s = re.sub(r'(heap_(idle|in_use)_bytes\s+)\d+', r'\1MASKED', s)
    s = re.sub(r'(e2e%: )[^\n]*', r'\1MASKED', s)
    s = re.sub(r'connected: \S+', 'connected: MASKED', s)
    s = re.sub(r'(\[V2 \S+?:)\d+ ', r'\1PORT ', s)
    return s


def mask_metrics(s):
    s = re.sub(r'^(nsqd_start_time_seconds) \d+$', r'\1 MASKED', s,
               flags=re.M)
    s = re.sub(r'^(nsqd_\w+_e2e_processing_latency_seconds(\{[^}]*quantile'
               r'[^}]*\}|_sum\{[^}]*\})) \S+$', r'\1 MASKED', s, flags=re.M)
    return s


def mask_statsd(pkt, n):
    s = pkt.decode()
    s = s.replace('nsq.127_0_0_1_%d.' % n.http, 'nsq.HOST.')
    s = re.sub(r'(e2e_processing_latency_\d+):\d+', r'\1:MASKED', s)
    s = re.sub(r'(mem\.heap_(idle|in_use)_bytes):\d+', r'\1:MASKED', s)
    return s


def between_pushes(n):
    """After the first push: more messages and a requeue, so the second
    push's counters are the change since the first."""
    n.post('/mpub?topic=alpha', b'late1\nlate22')
    # Made again under the same name: counted from 0, as a new object.
    n.post('/topic/delete?topic=held')
    n.post('/pub?topic=held', b'again')
    n.post('/channel/delete?topic=alpha&channel=paused')
    n.post('/channel/create?topic=alpha&channel=paused')
    n.post('/topic/create?topic=newer')
    n.post('/pub?topic=newer', b'new')
    n.post('/topic/delete?topic=stopped')
    n.post('/mpub?topic=stopped', b'1\n2\n3\n4')
    c = n.conns['beta']
    c.cmd('REQ %s 0' % n.inflight)
    sync(c)


def wait_first(n):
    deadline = n.started + 3 * STATSD_INTERVAL
    while not n.statsd.pkts:
        assert time.monotonic() < deadline, '%s: no statsd push' % n.label
        time.sleep(0.05)


def pushes(n):
    """The datagrams of the first two pushes, by the time they came (a
    push is spread over the interval less a second)."""
    t0 = n.statsd.pkts[0][0]
    ends = [t0 + STATSD_INTERVAL - 0.5, t0 + 2 * STATSD_INTERVAL - 0.5]
    while time.monotonic() < ends[1]:
        time.sleep(0.1)
    pkts = list(n.statsd.pkts)
    return ([p for t, p in pkts if t < ends[0]],
            [p for t, p in pkts if ends[0] <= t < ends[1]])


def main(argv):
    flags = []
    if '--' in argv:
        flags = argv[argv.index('--') + 1:]
        argv = argv[:argv.index('--')]
    if '--no-e2e' not in argv:
        flags.append('--e2e-processing-latency-percentile=1,0.99,0.5')
    bins = [a for a in argv[1:] if not a.startswith('-')]
    old, new = Nsqd(bins[0], 'old', flags), Nsqd(bins[1], 'new', flags)
    failed = compared = 0
    try:
        for n in (old, new):
            workload(n)
        for n in (old, new):
            wait_timeout(n)
        outs = {}
        for n in (old, new):
            o = outs[n.label] = []
            for q in QUERIES:
                sep = '&' if q else ''
                o.append(('json ' + q, mask_json(n.get(
                    '/stats?format=json' + sep + q), n.http)))
                o.append(('text ' + q, mask_text(n.get(
                    '/stats' + ('?' + q if q else '')).decode())))
            o.append(('metrics', mask_metrics(n.get('/metrics').decode())))
        for n in (old, new):
            wait_first(n)
        for n in (old, new):
            between_pushes(n)
        for n in (old, new):
            for k, pk in enumerate(pushes(n)):
                # Datagram boundaries move with the length of the e2e
                # figures, so the lines are compared, and the packing
                # checked against the size.
                assert pk, '%s: push %d empty' % (n.label, k)
                for p in pk:
                    assert len(p) <= 300 and p.endswith(b'\n'), p
                outs[n.label].append(('statsd push %d' % k, ''.join(
                    mask_statsd(p, n) for p in pk)))
        for (name, a), (_, b) in zip(outs['old'], outs['new']):
            compared += 1
            if a != b:
                failed += 1
                print('DIFFERS: %s' % name)
                sys.stdout.writelines(difflib.unified_diff(
                    a.splitlines(True), b.splitlines(True), 'old', 'new'))
        assert len(outs['old']) == len(outs['new'])
        if '-v' in argv:
            for name, a in outs['new']:
                print('== %s\n%s' % (name, a))
    finally:
        bad = (old.close() != 0) + (new.close() != 0)
    print('%d outputs compared, %d differ' % (compared, failed))
    return 1 if failed or bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
