"""Checks of nsqadmin's JSON against the nsqds' own /stats.

Used by tests/bats/nsqadmin.bats:

  admin_check.py topic ADMIN TOPIC NSQD_HTTP_PORT...
  admin_check.py channel ADMIN TOPIC CHANNEL NSQD_HTTP_PORT...
  admin_check.py nodes ADMIN NSQD_HTTP_PORT...
  admin_check.py node ADMIN NSQD_HTTP_PORT
  admin_check.py counter ADMIN NSQD_HTTP_PORT...
  admin_check.py topics ADMIN TOPIC...

ADMIN is host:port.  Each prints what it compared and exits 1 with the
difference when a key or a value is not what Go nsqadmin 1.3.0 gives.
"""
import json
import sys
import urllib.request

TOPIC_KEYS = ['node', 'hostname', 'topic_name', 'depth', 'memory_depth',
              'backend_depth', 'message_count', 'nodes', 'channels',
              'paused', 'e2e_processing_latency']
CHANNEL_KEYS = ['node', 'hostname', 'topic_name', 'channel_name', 'depth',
                'memory_depth', 'backend_depth', 'in_flight_count',
                'deferred_count', 'requeue_count', 'timeout_count',
                'message_count', 'client_count', 'nodes', 'clients',
                'paused', 'e2e_processing_latency']
CLIENT_KEYS = ['node', 'remote_address', 'version', 'client_id',
               'hostname', 'user_agent', 'connect_ts', 'connected',
               'in_flight_count', 'ready_count', 'finish_count',
               'requeue_count', 'message_count', 'sample_rate', 'deflate',
               'snappy', 'authed', 'auth_identity', 'auth_identity_url',
               'tls', 'tls_cipher_suite', 'tls_version',
               'tls_negotiated_protocol',
               'tls_negotiated_protocol_is_mutual']
PRODUCER_KEYS = ['remote_addresses', 'remote_address', 'hostname',
                 'broadcast_address', 'tcp_port', 'http_port', 'version',
                 'topics', 'out_of_date']
E2E_KEYS = ['count', 'percentiles', 'topic', 'channel', 'host']


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def keys(obj, want, what):
    if list(obj.keys()) != want:
        fail('%s keys %r, want %r' % (what, list(obj.keys()), want))


def eq(got, want, what):
    if got != want:
        fail('%s = %r, want %r' % (what, got, want))
    print('ok %s = %r' % (what, got))


def nsqd_topic(port, topic):
    s = get('http://127.0.0.1:%s/stats?format=json&topic=%s' % (port, topic))
    for t in s['topics'] or []:
        if t['topic_name'] == topic:
            return t
    return None


def check_topic(admin, topic, ports):
    a = get('http://%s/api/topics/%s' % (admin, topic))
    keys(a, TOPIC_KEYS + ['message'], 'topic')
    eq(a['message'], '', 'message')
    rows = [(p, nsqd_topic(p, topic)) for p in ports]
    rows = [(p, t) for p, t in rows if t is not None]
    eq(a['node'], '*', 'node')
    eq(a['topic_name'], topic, 'topic_name')
    for k in ('depth', 'backend_depth', 'message_count'):
        eq(a[k], sum(t[k] for _, t in rows), 'topic ' + k)
    eq(a['memory_depth'], a['depth'] - a['backend_depth'], 'memory_depth')
    eq(sorted(n['node'] for n in a['nodes']),
       sorted('127.0.0.1:%s' % p for p, _ in rows), 'nodes')
    for n in a['nodes']:
        keys(n, TOPIC_KEYS, 'topic node row')
        t = dict(rows)[n['node'].split(':')[1]]
        eq(n['message_count'], t['message_count'], n['node'] + ' count')
        eq(n['depth'], t['depth'], n['node'] + ' depth')
    keys(a['e2e_processing_latency'], E2E_KEYS, 'e2e')
    eq(a['e2e_processing_latency']['host'], '*', 'e2e host')
    names = sorted({c['channel_name'] for _, t in rows for c in t['channels']})
    eq(sorted(c['channel_name'] for c in a['channels'] or []), names, 'channels')
    for c in a['channels'] or []:
        keys(c, CHANNEL_KEYS, 'channel')
        per = [ch for _, t in rows for ch in t['channels']
               if ch['channel_name'] == c['channel_name']]
        for k in ('depth', 'in_flight_count', 'message_count',
                  'requeue_count', 'client_count'):
            eq(c[k], sum(ch[k] for ch in per), c['channel_name'] + ' ' + k)
        # Go's aggregate is the first node's row, the others beneath it.
        eq(len(c['nodes'] or []), len(per) - 1 if len(per) > 1 else 0,
           c['channel_name'] + ' nodes below the first')


def check_channel(admin, topic, channel, ports):
    a = get('http://%s/api/topics/%s/%s' % (admin, topic, channel))
    keys(a, CHANNEL_KEYS + ['message'], 'channel')
    per = []
    for p in ports:
        t = nsqd_topic(p, topic)
        for c in (t or {}).get('channels', []):
            if c['channel_name'] == channel:
                per.append((p, c))
    eq(a['node'], '*', 'node')
    for k in ('depth', 'in_flight_count', 'deferred_count', 'message_count',
              'requeue_count', 'timeout_count', 'client_count'):
        eq(a[k], sum(c[k] for _, c in per), 'channel ' + k)
    eq(sorted(n['node'] for n in a['nodes']),
       sorted('127.0.0.1:%s' % p for p, _ in per), 'nodes')
    nclients = sum(len(c['clients']) for _, c in per)
    eq(len(a['clients'] or []), nclients, 'clients')
    for c in a['clients'] or []:
        keys(c, CLIENT_KEYS, 'client')
        if not c['node'].startswith('127.0.0.1:'):
            fail('client node %r' % c['node'])


def check_nodes(admin, ports):
    a = get('http://%s/api/nodes' % admin)
    keys(a, ['nodes', 'message'], 'nodes')
    eq(sorted(str(n['http_port']) for n in a['nodes']), sorted(ports),
       'node ports')
    for n in a['nodes']:
        keys(n, PRODUCER_KEYS, 'producer')
        # Each nsqd registers with both nsqlookupd.
        eq(len(n['remote_addresses']), 2, 'remote_addresses')


def check_node(admin, port):
    a = get('http://%s/api/nodes/127.0.0.1:%s' % (admin, port))
    keys(a, ['node', 'topics', 'total_messages', 'total_clients', 'message'],
         'node')
    s = get('http://127.0.0.1:%s/stats?format=json' % port)
    eq(a['node'], '127.0.0.1:%s' % port, 'node')
    eq(a['total_messages'], sum(t['message_count'] for t in s['topics'] or []),
       'total_messages')
    eq(a['total_clients'], sum(len(c['clients']) for t in s['topics'] or []
                               for c in t['channels']), 'total_clients')
    eq(sorted(t['topic_name'] for t in a['topics']),
       sorted(t['topic_name'] for t in s['topics'] or []), 'topics')


def check_counter(admin, ports):
    a = get('http://%s/api/counter' % admin)
    keys(a, ['stats', 'message'], 'counter')
    want = {}
    for p in ports:
        s = get('http://127.0.0.1:%s/stats?format=json' % p)
        for t in s['topics'] or []:
            for c in t['channels']:
                k = '%s:%s:127.0.0.1:%s' % (t['topic_name'],
                                            c['channel_name'], p)
                want[k] = c['message_count']
    eq(sorted(a['stats']), sorted(want), 'counter keys')
    for k, v in a['stats'].items():
        keys(v, ['node', 'topic_name', 'channel_name', 'message_count'],
             'counter row')
        eq(v['message_count'], want[k], k)


def check_topics(admin, topics):
    a = get('http://%s/api/topics' % admin)
    keys(a, ['topics', 'message'], 'topics')
    eq(a['topics'], sorted(topics), 'topics')


def main():
    cmd, admin = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if cmd == 'topic':
        check_topic(admin, args[0], args[1:])
    elif cmd == 'channel':
        check_channel(admin, args[0], args[1], args[2:])
    elif cmd == 'nodes':
        check_nodes(admin, args)
    elif cmd == 'node':
        check_node(admin, args[0])
    elif cmd == 'counter':
        check_counter(admin, args)
    elif cmd == 'topics':
        check_topics(admin, args)
    else:
        fail('unknown check ' + cmd)


if __name__ == '__main__':
    main()
