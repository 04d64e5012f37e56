#!/usr/bin/env bats
# nsqd's HTTP API against a real nsqd with curl: every endpoint's success
# and error replies in Go nsqd 1.3.0's words, /stats field by field after
# a scripted workload, statsd on a loopback UDP port, and /metrics checked
# by promtool (Debian's prometheus package; scripts/deps.sh test).

load helpers

# A bare "! cmd" fails a test only as its last command (bash's set -e
# ignores it); "run !" and "run -1" (bats 1.5) check wherever they are.
bats_require_minimum_version 1.5.0

export NSQ_WAIT_HTTP=1

setup() {
	BODY=$BATS_TEST_TMPDIR/body
	HDRS=$BATS_TEST_TMPDIR/headers
}

teardown() {
	teardown_daemons
}

# api METHOD PATH [CURL ARGS...]: the reply's status in $code, its body in
# $body (and the file $BODY), its headers in $HDRS.
api() {
	local method=$1 path=$2
	shift 2
	code=$(curl -sS --max-time 10 -o "$BODY" -D "$HDRS" -w '%{http_code}' \
	    -X "$method" "$@" "http://127.0.0.1:$NSQD_HTTP_PORT$path")
	body=$(cat "$BODY")
}

# expect CODE BODY METHOD PATH [CURL ARGS...]: the exact status and body.
expect() {
	local want_code=$1 want_body=$2
	shift 2
	api "$@"
	if [[ $code != "$want_code" || $body != "$want_body" ]]; then
		echo "$* -> $code '$body', want $want_code '$want_body'" >&2
		return 1
	fi
}

# err CODE WORD METHOD PATH [CURL ARGS...]: a Go error reply.
err() {
	local c=$1 w=$2
	shift 2
	expect "$c" "{\"message\":\"$w\"}" "$@" || return 1
	grep -qi '^Content-Type: application/json; charset=utf-8' "$HDRS" || {
		echo "$*: no JSON content type" >&2
		return 1
	}
}

# stats_py: python3 with the JSON /stats in `s` (query string in $1).
stats_py() {
	local q=${1:-}
	curl -sS --max-time 10 "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json$q" \
	    >"$BATS_TEST_TMPDIR/stats.json"
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
exec(sys.stdin.read())
' "$BATS_TEST_TMPDIR/stats.json"
}

@test "GET /ping answers OK as plain text; unknown paths and methods" {
	start_nsqd
	expect 200 OK GET /ping
	grep -qi '^Content-Type: text/plain; charset=utf-8' "$HDRS"
	# Go's PlainText (nsqd/http.go:57) sends no X-NSQ-Content-Type.
	! grep -qi '^X-NSQ-Content-Type' "$HDRS"
	err 404 NOT_FOUND GET /nope
	err 405 METHOD_NOT_ALLOWED POST /ping
	err 405 METHOD_NOT_ALLOWED GET /pub
	err 404 NOT_FOUND GET /debug/pprof/
	# Go's PlainText panics on freeMemory's nil (api_response.go:42).
	err 500 INTERNAL_ERROR POST /debug/freememory
}

@test "GET /info has Go's fields in Go's order" {
	start_nsqd --broadcast-address=bcast.example --max-deflate-level=4
	api GET /info
	[ "$code" = 200 ]
	python3 - "$BODY" <<'EOF'
import json, os, socket, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ['version', 'broadcast_address', 'hostname', 'http_port',
    'tcp_port', 'start_time', 'max_heartbeat_interval',
    'max_output_buffer_size', 'max_output_buffer_timeout',
    'max_deflate_level'], list(d)
assert d['version'] == '1.3.0'
assert d['broadcast_address'] == 'bcast.example'
assert d['hostname'] == socket.gethostname()
assert d['http_port'] == int(os.environ['NSQD_HTTP_PORT'])
assert d['tcp_port'] == int(os.environ['NSQD_TCP_PORT'])
assert abs(d['start_time'] - __import__('time').time()) < 60
assert d['max_heartbeat_interval'] == 60 * 10**9
assert d['max_output_buffer_size'] == 65536
assert d['max_output_buffer_timeout'] == 30 * 10**9
assert d['max_deflate_level'] == 4
EOF
}

@test "POST /pub publishes, a consumer gets it, defer defers it" {
	start_nsqd
	expect 200 OK POST '/pub?topic=t' --data-binary 'hello world'
	grep -qi '^Content-Type: text/plain' "$HDRS"
	# The topic held it; the new channel gets it.
	expect 200 '' POST '/channel/create?topic=t&channel=c'
	expect 200 OK POST '/pub?topic=t&defer=60000' --data-binary 'later'
	expect 200 OK POST '/pub?topic=t&defer=0' --data-binary 'now'
	stats_py '&topic=t' <<'EOF'
ch = s['topics'][0]['channels'][0]
assert ch['deferred_count'] == 1 and ch['depth'] == 2, ch
assert s['topics'][0]['message_count'] == 3
assert s['topics'][0]['message_bytes'] == 11 + 5 + 3
EOF
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(5)
got = [m.body for m in c.messages(2)]
assert got == [b'hello world', b'now'], got
c.no_frame(0.3)
EOF
}

@test "POST /pub errors: Go's codes, words and order" {
	start_nsqd --max-msg-size=10 --max-req-timeout=5s
	err 400 MSG_EMPTY POST '/pub?topic=t' --data-binary ''
	# The body is looked at before the query.
	err 400 MSG_EMPTY POST '/pub' --data-binary ''
	err 413 MSG_TOO_BIG POST '/pub?topic=t' --data-binary '12345678901'
	err 413 MSG_TOO_BIG POST '/pub' --data-binary '12345678901'
	# Chunked: the size is found while reading.
	err 413 MSG_TOO_BIG POST '/pub?topic=t' -H 'Transfer-Encoding: chunked' \
	    --data-binary '12345678901'
	expect 200 OK POST '/pub?topic=t' --data-binary '1234567890'
	err 400 MISSING_ARG_TOPIC POST '/pub' --data-binary x
	err 400 INVALID_TOPIC POST '/pub?topic=a/b' --data-binary x
	err 400 INVALID_TOPIC POST '/pub?topic=' --data-binary x
	err 400 INVALID_REQUEST POST '/pub?topic=t&x=%zz' --data-binary x
	err 400 INVALID_DEFER POST '/pub?topic=d1&defer=abc' --data-binary x
	err 400 INVALID_DEFER POST '/pub?topic=d2&defer=-1' --data-binary x
	err 400 INVALID_DEFER POST '/pub?topic=d3&defer=5001' --data-binary x
	expect 200 OK POST '/pub?topic=d4&defer=5000' --data-binary x
	# As Go, the topic is made before the defer is looked at.
	stats_py <<'EOF'
names = [t['topic_name'] for t in s['topics']]
assert names == ['d1', 'd2', 'd3', 'd4', 't'], names
assert [t['message_count'] for t in s['topics']] == [0, 0, 0, 1, 1]
EOF
}

@test "POST /pub: a chunk without its CRLF is 400, closed, not published" {
	start_nsqd
	expect 200 '' POST '/topic/create?topic=desync'
	# The probe's request: "XX" where the CRLF after "hello" belongs.
	# http-parser alone skipped those two bytes and published "helloabc".
	python3 - <<'EOF'
import os, socket
s = socket.create_connection(('127.0.0.1',
    int(os.environ['NSQD_HTTP_PORT'])), timeout=10)
s.sendall(b'POST /pub?topic=desync HTTP/1.1\r\nHost: x\r\n'
    b'Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n')
got = b''
while True:     # the server closes after the reply
    b = s.recv(4096)
    if not b:
        break
    got += b
    assert len(got) < 65536, got
s.close()
head, _, body = got.partition(b'\r\n\r\n')
assert head.startswith(b'HTTP/1.1 400 Bad Request\r\n'), got
assert b'\r\nConnection: close' in head, got
assert body == b'{"message":"BAD_REQUEST"}', got
EOF
	stats_py '&topic=desync' <<'EOF'
t = s['topics'][0]
assert t['topic_name'] == 'desync' and t['message_count'] == 0, t
EOF
	# Its valid neighbour is published whole.
	expect 200 OK POST '/pub?topic=desync' -H 'Transfer-Encoding: chunked' \
	    --data-binary 'helloabc'
	stats_py '&topic=desync' <<'EOF'
t = s['topics'][0]
assert t['message_count'] == 1 and t['message_bytes'] == 8, t
EOF
}

@test "POST /mpub text: lines, empty lines skipped, limits" {
	start_nsqd --max-msg-size=5 --max-body-size=40
	expect 200 OK POST '/mpub?topic=t' --data-binary $'a\nbb\n\nccc\n\n'
	expect 200 OK POST '/mpub?topic=t' --data-binary $'d\ne'
	expect 200 OK POST '/mpub?topic=t&binary=false' --data-binary $'f\n'
	expect 200 OK POST '/mpub?topic=t&binary=0' --data-binary $'\n\n'
	expect 200 OK POST '/mpub?topic=t' --data-binary ''
	err 413 MSG_TOO_BIG POST '/mpub?topic=t' --data-binary $'ok\n123456\nx'
	err 413 BODY_TOO_BIG POST '/mpub?topic=t' \
	    --data-binary "$(printf 'x%.0s' {1..41})"
	err 413 BODY_TOO_BIG POST '/mpub?topic=t' -H 'Transfer-Encoding: chunked' \
	    --data-binary "$(printf 'x%.0s' {1..41})"
	err 400 MISSING_ARG_TOPIC POST '/mpub' --data-binary x
	err 400 INVALID_TOPIC POST '/mpub?topic=b@d' --data-binary x
	stats_py '&topic=t' <<'EOF'
t = s['topics'][0]
# a bb ccc d e f: nothing of the refused bodies went in.
assert t['message_count'] == 6, t
assert t['message_bytes'] == 1 + 2 + 3 + 1 + 1 + 1, t
assert t['depth'] == 6
EOF
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(10)
got = [m.body for m in c.messages(6)]
assert got == [b'a', b'bb', b'ccc', b'd', b'e', b'f'], got
EOF
}

@test "POST /mpub binary: Go's readMPUB and its 413 words" {
	start_nsqd --max-msg-size=8 --max-body-size=64
	python3 - <<'EOF'
import struct, urllib.request, urllib.error, os, json
port = os.environ['NSQD_HTTP_PORT']
def post(q, data):
    req = urllib.request.Request('http://127.0.0.1:%s/mpub?%s' % (port, q),
                                 data=data, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
def mp(*bodies):
    return struct.pack('>I', len(bodies)) + b''.join(
        struct.pack('>I', len(b)) + b for b in bodies)
assert post('topic=b&binary=true', mp(b'one', b'two\nx', b'')[:-4 - 0] if False else mp(b'one', b'two\nx')) == (200, b'OK')
assert post('topic=b&binary=1', mp(b'3')) == (200, b'OK')
# Trailing bytes after the last message are ignored, as Go reads no more.
assert post('topic=b&binary=true', mp(b'4') + b'junk') == (200, b'OK')
def bad(q, data, word):
    code, body = post(q, data)
    assert (code, json.loads(body)) == (413, {'message': word}), (q, data, code, body)
bad('topic=b&binary=true', b'', 'BAD_BODY')
bad('topic=b&binary=true', b'\0\0', 'BAD_BODY')
bad('topic=b&binary=true', struct.pack('>I', 0), 'BAD_BODY')
bad('topic=b&binary=true', struct.pack('>i', -1), 'BAD_BODY')
bad('topic=b&binary=true', struct.pack('>I', 13), 'BAD_BODY')   # > (64-4)/5
bad('topic=b&binary=true', struct.pack('>I', 2) + struct.pack('>I', 1) + b'a',
    'BAD_MESSAGE')
bad('topic=b&binary=true', struct.pack('>II', 1, 0), 'BAD_MESSAGE')
bad('topic=b&binary=true', struct.pack('>II', 1, 9) + b'123456789', 'BAD_MESSAGE')
bad('topic=b&binary=true', struct.pack('>II', 1, 5) + b'abc', 'BAD_MESSAGE')
# Any other value of binary means binary, with a warning.
assert post('topic=b&binary=yes', mp(b'5')) == (200, b'OK')
code, body = post('topic=b&binary=true', b'x' * 65)
assert (code, json.loads(body)) == (413, {'message': 'BODY_TOO_BIG'})
EOF
	grep -q "deprecated value 'yes' used for /mpub binary param" "$NSQD_LOG"
	stats_py '&topic=b' <<'EOF'
t = s['topics'][0]
assert t['message_count'] == 5, t
assert t['message_bytes'] == 3 + 5 + 1 + 1 + 1, t
EOF
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('b', 'c')
c.ok()
c.rdy(10)
got = [m.body for m in c.messages(5)]
assert got == [b'one', b'two\nx', b'3', b'4', b'5'], got
EOF
}

@test "topic create, empty, pause, unpause, delete and their errors" {
	start_nsqd
	expect 200 '' POST '/topic/create?topic=t1'
	[ ! -s "$BODY" ]
	run -1 grep -qi '^Content-Type' "$HDRS"	# 1: no such line
	err 400 MISSING_ARG_TOPIC POST /topic/create
	err 400 INVALID_TOPIC POST '/topic/create?topic=x%20y'
	err 400 INVALID_REQUEST POST '/topic/create?topic=t1;x'
	expect 200 OK POST '/mpub?topic=t1' --data-binary $'1\n2\n3'
	expect 200 '' POST '/topic/empty?topic=t1'
	stats_py '&topic=t1' <<'EOF'
assert s['topics'][0]['depth'] == 0, s
assert s['topics'][0]['message_count'] == 3
EOF
	err 400 MISSING_ARG_TOPIC POST /topic/empty
	err 400 INVALID_TOPIC POST '/topic/empty?topic=a:b'
	err 404 TOPIC_NOT_FOUND POST '/topic/empty?topic=nope'
	expect 200 '' POST '/topic/pause?topic=t1'
	stats_py '&topic=t1' <<'EOF'
assert s['topics'][0]['paused'] is True
EOF
	wait_until 5 grep -q '"paused":true' "$NSQD_DATA/nsqd.dat"
	expect 200 '' POST '/topic/unpause?topic=t1'
	wait_until 5 grep -q '"paused":false' "$NSQD_DATA/nsqd.dat"
	err 400 MISSING_ARG_TOPIC POST /topic/pause
	err 404 TOPIC_NOT_FOUND POST '/topic/pause?topic=nope'
	# No name check on pause and delete: an invalid name is just absent.
	err 404 TOPIC_NOT_FOUND POST '/topic/unpause?topic=a/b'
	err 404 TOPIC_NOT_FOUND POST '/topic/delete?topic=a/b'
	err 404 TOPIC_NOT_FOUND POST '/topic/delete?topic='
	err 400 MISSING_ARG_TOPIC POST /topic/delete
	expect 200 '' POST '/channel/create?topic=t1&channel=c1'
	expect 200 '' POST '/topic/delete?topic=t1'
	err 404 TOPIC_NOT_FOUND POST '/topic/delete?topic=t1'
	stats_py <<'EOF'
assert s['topics'] == [], s
EOF
	wait_until 5 bash -c '! grep -q t1 "$NSQD_DATA/nsqd.dat"'
	[ -z "$(ls "$NSQD_DATA" | grep '^t1')" ]
}

@test "channel create, empty, pause, unpause, delete and their errors" {
	start_nsqd
	err 404 TOPIC_NOT_FOUND POST '/channel/create?topic=t&channel=c'
	expect 200 '' POST '/topic/create?topic=t'
	expect 200 '' POST '/channel/create?topic=t&channel=c'
	expect 200 '' POST '/channel/create?topic=t&channel=c'
	for ep in create delete empty pause unpause; do
		err 400 MISSING_ARG_TOPIC POST "/channel/$ep?channel=c"
		err 400 INVALID_ARG_TOPIC POST "/channel/$ep?topic=a*&channel=c"
		err 400 MISSING_ARG_CHANNEL POST "/channel/$ep?topic=t"
		err 400 INVALID_ARG_CHANNEL POST "/channel/$ep?topic=t&channel=c%21"
		err 404 TOPIC_NOT_FOUND POST "/channel/$ep?topic=u&channel=c"
		err 400 INVALID_REQUEST POST "/channel/$ep?topic=t&channel=c&%"
	done
	for ep in delete empty pause unpause; do
		err 404 CHANNEL_NOT_FOUND POST "/channel/$ep?topic=t&channel=x"
	done
	expect 200 OK POST '/mpub?topic=t' --data-binary $'1\n2\n3\n4'
	expect 200 OK POST '/pub?topic=t&defer=100000' --data-binary d
	stats_py <<'EOF'
ch = s['topics'][0]['channels'][0]
assert (ch['depth'], ch['deferred_count']) == (4, 1), ch
EOF
	expect 200 '' POST '/channel/empty?topic=t&channel=c'
	stats_py <<'EOF'
ch = s['topics'][0]['channels'][0]
assert (ch['depth'], ch['deferred_count'], ch['in_flight_count']) == (0, 0, 0), ch
assert ch['message_count'] == 5
EOF
	expect 200 '' POST '/channel/pause?topic=t&channel=c'
	wait_until 5 grep -q '"name":"c","paused":true' "$NSQD_DATA/nsqd.dat"
	expect 200 '' POST '/channel/unpause?topic=t&channel=c'
	wait_until 5 grep -q '"name":"c","paused":false' "$NSQD_DATA/nsqd.dat"
	expect 200 '' POST '/channel/delete?topic=t&channel=c'
	err 404 CHANNEL_NOT_FOUND POST '/channel/delete?topic=t&channel=c'
	stats_py <<'EOF'
assert s['topics'][0]['channels'] == [], s
EOF
}

@test "channel pause stops delivery to a connected consumer, unpause resumes" {
	start_nsqd
	expect 200 '' POST '/topic/create?topic=t'
	expect 200 '' POST '/channel/create?topic=t&channel=c'
	python3 - <<'EOF'
import urllib.request
from nsqwire import *
port = os.environ['NSQD_HTTP_PORT']
def post(path, data=b''):
    r = urllib.request.urlopen(urllib.request.Request(
        'http://127.0.0.1:%s%s' % (port, path), data=data, method='POST'),
        timeout=10)
    assert r.status == 200
c = Conn(int(os.environ['NSQD_TCP_PORT']), skip_heartbeats=True)
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(10)
post('/pub?topic=t', b'1')
m = c.message()
assert m.body == b'1'
c.fin(m.id)
post('/channel/pause?topic=t&channel=c')
post('/pub?topic=t', b'2')
c.no_frame(0.5)
post('/channel/unpause?topic=t&channel=c')
m = c.message()
assert m.body == b'2', m
c.fin(m.id)
# A paused topic holds messages for all its channels.
post('/topic/pause?topic=t')
post('/pub?topic=t', b'3')
c.no_frame(0.5)
post('/topic/unpause?topic=t')
m = c.message()
assert m.body == b'3', m
c.fin(m.id)
EOF
}

@test "deleting a channel closes its consumers' connections, as Go" {
	start_nsqd
	python3 - <<'EOF'
import urllib.request
from nsqwire import *
port = os.environ['NSQD_HTTP_PORT']
c = Conn(int(os.environ['NSQD_TCP_PORT']), skip_heartbeats=True)
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(1)
urllib.request.urlopen(urllib.request.Request(
    'http://127.0.0.1:%s/pub?topic=t' % port, data=b'x', method='POST'),
    timeout=10)
m = c.message()
r = urllib.request.urlopen(urllib.request.Request(
    'http://127.0.0.1:%s/channel/delete?topic=t&channel=c' % port,
    data=b'', method='POST'), timeout=10)
assert r.status == 200
assert c.closed(5)
EOF
	expect 200 '' POST '/topic/delete?topic=t'
	expect 200 OK GET /ping
}

@test "/stats JSON field by field, and the text format, after a workload" {
	start_nsqd --mem-queue-size=2 --msg-timeout=1s
	python3 - <<'EOF2'
import re, socket, urllib.request
from nsqwire import *
tcp = int(os.environ['NSQD_TCP_PORT'])
http = 'http://127.0.0.1:%s' % os.environ['NSQD_HTTP_PORT']

def get(path):
    with urllib.request.urlopen(http + path, timeout=10) as r:
        assert r.status == 200
        return r.read().decode()

def post(path):
    r = urllib.request.urlopen(urllib.request.Request(
        http + path, data=b'', method='POST'), timeout=10)
    assert r.status == 200

def stats(q=''):
    return json.loads(get('/stats?format=json' + q))

p = Conn(tcp)
p.magic()
p.identify({'client_id': 'prod', 'hostname': 'ph', 'user_agent': 'pa/1'})
p.ok()
p.mpub('work', [b'm1', b'm2', b'm3', b'm4', b'm5'])   # held: no channel
p.ok()
p.pub('other', b'xyz')
p.ok()
s = stats()
w = [t for t in s['topics'] if t['topic_name'] == 'work'][0]
assert (w['depth'], w['backend_depth'], w['channels']) == (5, 3, []), w

c = Conn(tcp, skip_heartbeats=True)
c.magic()
c.identify({'client_id': 'cons', 'hostname': 'ch', 'user_agent': 'ca/2'})
c.ok()
c.sub('work', 'zch')
c.ok()
post('/channel/create?topic=work&channel=ach')   # after the hand-over
post('/topic/create?topic=aaa')
c.rdy(3)
m1, m2, m3 = c.messages(3)
c.fin(m1.id)            # m4 comes
c.req(m2.id, 0)         # m2 comes again
c.req(m3.id, 60000)     # deferred
more = c.messages(3)
assert sorted(m.body for m in more) == [b'm2', b'm4', b'm5'], more
c.rdy(0)
# All three time out (1 s) and wait in the queue; nothing is in flight.
deadline = time.time() + 10
while stats('&topic=work&channel=zch')['topics'][0]['channels'][0][
        'timeout_count'] < 3:
    assert time.time() < deadline
    time.sleep(0.1)

s = stats()
assert list(s) == ['version', 'health', 'start_time', 'topics', 'memory',
                   'producers'], list(s)
assert s['version'] == '1.3.0' and s['health'] == 'OK'
assert abs(s['start_time'] - time.time()) < 120
assert [t['topic_name'] for t in s['topics']] == ['aaa', 'other', 'work']
TKEYS = ['topic_name', 'channels', 'depth', 'backend_depth', 'message_count',
         'message_bytes', 'paused', 'e2e_processing_latency']
CKEYS = ['channel_name', 'depth', 'backend_depth', 'in_flight_count',
         'deferred_count', 'message_count', 'requeue_count', 'timeout_count',
         'client_count', 'clients', 'paused', 'e2e_processing_latency']
KEYS = ['client_id', 'hostname', 'version', 'remote_address', 'state',
        'ready_count', 'in_flight_count', 'message_count', 'finish_count',
        'requeue_count', 'connect_ts', 'sample_rate', 'deflate', 'snappy',
        'user_agent', 'tls', 'tls_cipher_suite', 'tls_version',
        'tls_negotiated_protocol', 'tls_negotiated_protocol_is_mutual']
NOE2E = {'count': 0, 'percentiles': None}
for t in s['topics']:
    assert list(t) == TKEYS, list(t)
    assert t['e2e_processing_latency'] == NOE2E
    for ch in t['channels']:
        assert list(ch) == CKEYS, list(ch)
aaa, other, work = s['topics']
assert aaa == dict(topic_name='aaa', channels=[], depth=0, backend_depth=0,
    message_count=0, message_bytes=0, paused=False,
    e2e_processing_latency=NOE2E), aaa
assert other == dict(topic_name='other', channels=[], depth=1,
    backend_depth=0, message_count=1, message_bytes=3, paused=False,
    e2e_processing_latency=NOE2E), other
assert (work['depth'], work['backend_depth'], work['message_count'],
        work['message_bytes'], work['paused']) == (0, 0, 5, 10, False), work
ach, zch = work['channels']
assert ach == dict(channel_name='ach', depth=0, backend_depth=0,
    in_flight_count=0, deferred_count=0, message_count=0, requeue_count=0,
    timeout_count=0, client_count=0, clients=[], paused=False,
    e2e_processing_latency=NOE2E), ach
cl = zch.pop('clients')
assert zch == dict(channel_name='zch', depth=3, backend_depth=0,
    in_flight_count=0, deferred_count=1, message_count=5, requeue_count=2,
    timeout_count=3, client_count=1, paused=False,
    e2e_processing_latency=NOE2E), zch
assert len(cl) == 1 and list(cl[0]) == KEYS, cl
cs = cl[0]
ts = cs.pop('connect_ts')
assert abs(ts - time.time()) < 60, ts
assert cs == dict(client_id='cons', hostname='ch', version='V2',
    remote_address='127.0.0.1:%d' % c.sock.getsockname()[1], state=3,
    ready_count=0, in_flight_count=0, message_count=6, finish_count=1,
    requeue_count=2, sample_rate=0, deflate=False, snappy=False,
    user_agent='ca/2', tls=False, tls_cipher_suite='', tls_version='',
    tls_negotiated_protocol='', tls_negotiated_protocol_is_mutual=False), cs
assert list(s['memory']) == ['heap_objects', 'heap_idle_bytes',
    'heap_in_use_bytes', 'heap_released_bytes', 'gc_pause_usec_100',
    'gc_pause_usec_99', 'gc_pause_usec_95', 'next_gc_bytes',
    'gc_total_runs'], s['memory']
assert all(type(v) is int and v >= 0 for v in s['memory'].values())
# 3 queued + 1 deferred + 1 held by "other".
assert s['memory']['heap_objects'] == 5, s['memory']
assert len(s['producers']) == 1, s['producers']
pr = s['producers'][0]
pkeys = KEYS[:15] + ['pub_counts'] + KEYS[15:]
assert list(pr) == pkeys, list(pr)
assert (pr['client_id'], pr['hostname'], pr['user_agent'], pr['state'],
        pr['remote_address']) == ('prod', 'ph', 'pa/1', 0,
        '127.0.0.1:%d' % p.sock.getsockname()[1]), pr
assert pr['pub_counts'] == [{'topic': 'work', 'count': 5},
                            {'topic': 'other', 'count': 1}], pr

# Filters.
s = stats('&include_clients=false')
assert s['producers'] is None
assert all(ch['clients'] is None for t in s['topics'] for ch in t['channels'])
assert s['topics'][2]['channels'][1]['client_count'] == 1
assert stats('&include_clients=0')['producers'] is None
assert stats('&include_clients=bogus')['producers'] is not None
s = stats('&include_mem=false')
assert list(s) == ['version', 'health', 'start_time', 'topics',
                   'producers'], list(s)
assert 'memory' not in stats('&include_mem=0')
assert 'memory' in stats('&include_mem=nope')
s = stats('&topic=nope')
assert s['topics'] is None and s['producers'] is None, s
s = stats('&topic=other')
assert [t['topic_name'] for t in s['topics']] == ['other']
assert s['producers'][0]['pub_counts'] == [{'topic': 'other', 'count': 1}]
s = stats('&topic=aaa')
assert 'pub_counts' not in s['producers'][0], s['producers']
s = stats('&channel=zch')
assert [t['topic_name'] for t in s['topics']] == ['work']
assert [ch['channel_name'] for ch in s['topics'][0]['channels']] == ['zch']
s = stats('&topic=work&channel=nope')
assert s['topics'] == [] and len(s['producers']) == 1, s
s = stats('&topic=work&channel=ach&include_clients=false')
assert [ch['channel_name'] for ch in s['topics'][0]['channels']] == ['ach']

# The text format (informational in Go, but tools scrape it).
txt = get('/stats').split('\n')
port_c = c.sock.getsockname()[1]
port_p = p.sock.getsockname()[1]
assert re.fullmatch(r'nsqd v1\.3\.0 \(built w/.+\)', txt[0]), txt[0]
assert re.fullmatch(r'start_time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d'
                    r'(Z|[+-]\d\d:\d\d)', txt[1]), txt[1]
assert re.fullmatch(r'uptime (\d+h)?(\d+m)?[\d.]+(s|ms|µs|ns)', txt[2]), txt[2]
assert txt[3:7] == ['', 'Health: OK', '', 'Memory:'], txt[3:7]
for i, k in enumerate(['heap_objects', 'heap_idle_bytes',
        'heap_in_use_bytes', 'heap_released_bytes', 'gc_pause_usec_100',
        'gc_pause_usec_99', 'gc_pause_usec_95', 'next_gc_bytes',
        'gc_total_runs']):
    assert re.fullmatch(r'   %-25s\t\d+' % k, txt[7 + i]), txt[7 + i]
rest = txt[16:]
want = [
    '',
    'Topics:',
    '   [aaa            ] depth: 0     be-depth: 0     msgs: 0        e2e%: ',
    '',
    '   [other          ] depth: 1     be-depth: 0     msgs: 1        e2e%: ',
    '',
    '   [work           ] depth: 0     be-depth: 0     msgs: 5        e2e%: ',
    '      [ach                      ] depth: 0     be-depth: 0     inflt: 0    def: 0    re-q: 0     timeout: 0     msgs: 0        e2e%: ',
    '      [zch                      ] depth: 3     be-depth: 0     inflt: 0    def: 1    re-q: 2     timeout: 3     msgs: 5        e2e%: ',
]
assert rest[:len(want)] == want, rest
rest = rest[len(want):]
assert re.fullmatch(r'        \[V2 %s\] state: 3 inflt: 0    rdy: 0    '
    r'fin: 1        re-q: 2        msgs: 6        connected: \d+s'
    % re.escape('%-21s' % ('ch:%d ca/2' % port_c)), rest[0]), rest[0]
assert rest[1:3] == ['', 'Producers:'], rest
assert re.fullmatch(r'   \[V2 %s\] msgs: 6        topics: work=5,other=1 '
    r'connected: \d+s' % re.escape('%-21s' % ('ph:%d pa/1' % port_p)),
    rest[3]), rest[3]
assert rest[4:] == [''], rest
txt = get('/stats?include_mem=false&include_clients=false&topic=nope')
assert txt.split('\n')[3:] == ['', 'Health: OK', '', 'Topics: None', '',
                               'Producers: None', ''], txt
EOF2
}

@test "e2e processing latency percentiles over the window" {
	start_nsqd --e2e-processing-latency-percentile=0.5 \
	    --e2e-processing-latency-percentile=1.0 \
	    --e2e-processing-latency-window-time=3s
	expect 200 '' POST '/topic/create?topic=lonely'
	python3 - <<'EOF'
import urllib.request
from nsqwire import *
http = 'http://127.0.0.1:%s' % os.environ['NSQD_HTTP_PORT']
def stats(q=''):
    with urllib.request.urlopen(http + '/stats?format=json' + q,
                                timeout=10) as r:
        return json.loads(r.read())
c = Conn(int(os.environ['NSQD_TCP_PORT']), skip_heartbeats=True)
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(10)
p = Conn(int(os.environ['NSQD_TCP_PORT']))
p.magic()
p.mpub('t', [b'a', b'b', b'c', b'd'])
p.ok()
ms = c.messages(4)
time.sleep(0.3)
for m in ms:
    c.fin(m.id)
c.nop()
time.sleep(0.2)
s = stats()
lonely, t = s['topics']
# No channel, no aggregate: Go's empty result.
assert lonely['e2e_processing_latency'] == {'count': 0, 'percentiles': None}
for e in (t['e2e_processing_latency'],
          t['channels'][0]['e2e_processing_latency']):
    assert list(e) == ['count', 'percentiles'] and e['count'] == 4, e
    # Command-line percentiles are kept in decreasing order, as Go.
    assert [list(p) for p in e['percentiles']] == [['quantile', 'value']] * 2
    assert [p['quantile'] for p in e['percentiles']] == [1.0, 0.5], e
    hi, lo = (p['value'] for p in e['percentiles'])
    assert 0.3e9 <= lo <= hi < 10e9, e
with urllib.request.urlopen(http + '/config/e2e_processing_latency_percentiles',
                            timeout=10) as r:
    assert json.loads(r.read()) == [1, 0.5]
# After the window, the values are gone.
deadline = time.time() + 10
while stats()['topics'][1]['channels'][0]['e2e_processing_latency']['count']:
    assert time.time() < deadline
    time.sleep(0.2)
EOF
	api GET /stats
	grep -qE '^      \[c  +\] .* e2e%: [0-9.]+[mµn]?s, [0-9.]+[mµn]?s$' "$BODY"
}

@test "GET and PUT /config/:opt round-trip" {
	start_nsqd --lookupd-tcp-address=127.0.0.1:4160 --msg-timeout=30s \
	    --max-rdy-count=77 --node-id=12
	expect 200 '["127.0.0.1:4160"]' GET /config/nsqlookupd_tcp_addresses
	grep -qi '^Content-Type: application/json' "$HDRS"
	expect 200 30000000000 GET /config/msg_timeout
	expect 200 77 GET /config/max_rdy_count
	expect 200 12 GET /config/id
	expect 200 2 GET /config/log_level
	expect 200 true GET /config/snappy
	expect 200 0 GET /config/tls_required
	# Go's defaults are empty non-nil slices (nsqd/options.go:111-112).
	expect 200 '[]' GET /config/auth_http_addresses
	expect 200 '[]' GET /config/e2e_processing_latency_percentiles
	expect 200 "127.0.0.1:$NSQD_TCP_PORT" GET /config/tcp_address
	grep -qi '^Content-Type: text/plain' "$HDRS"
	expect 200 '' GET /config/topology_zone
	expect 200 "$NSQD_HTTP_PORT" GET /config/broadcast_http_port
	expect 200 "$NSQD_TCP_PORT" GET /config/broadcast_tcp_port
	err 400 INVALID_OPTION GET /config/nope
	err 400 INVALID_OPTION GET /config/node_id
	err 400 INVALID_OPTION GET /config/worker_id
	# httprouter has no route for an empty :opt.
	err 404 NOT_FOUND GET /config/
	err 404 NOT_FOUND GET /config/a/b

	expect 200 '["a:1","b:2"]' PUT /config/nsqlookupd_tcp_addresses \
	    --data-binary ' ["a:1", "b:2"] '
	expect 200 '["a:1","b:2"]' GET /config/nsqlookupd_tcp_addresses
	expect 200 '[]' PUT /config/nsqlookupd_tcp_addresses --data-binary '[]'
	expect 200 null PUT /config/nsqlookupd_tcp_addresses --data-binary null
	err 400 INVALID_VALUE PUT /config/nsqlookupd_tcp_addresses \
	    --data-binary '["a", 1]'
	err 400 INVALID_VALUE PUT /config/nsqlookupd_tcp_addresses \
	    --data-binary '"a"'
	err 400 INVALID_VALUE PUT /config/nsqlookupd_tcp_addresses \
	    --data-binary '[1'
	err 413 INVALID_VALUE PUT /config/nsqlookupd_tcp_addresses \
	    --data-binary ''
	head -c 1048577 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
	err 413 INVALID_VALUE PUT /config/log_level \
	    --data-binary "@$BATS_TEST_TMPDIR/big"
	err 400 INVALID_OPTION PUT /config/msg_timeout --data-binary 5
	err 400 INVALID_VALUE PUT /config/log_level --data-binary loud

	run -1 grep -q 'DEBUG' "$NSQD_LOG"
	expect 200 1 PUT /config/log_level --data-binary debug
	expect 200 1 GET /config/log_level
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.pub('t', b'x')
c.ok()
EOF
	wait_until 5 grep -q 'DEBUG: .*PUB t' "$NSQD_LOG"
	expect 200 4 PUT /config/log_level --data-binary ERROR
}

@test "statsd: Go's names over UDP, packed and prefixed" {
	start_bg UDP timeout 60 python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    d = s.recv(65536)
    out.write(("%d:" % len(d)).encode() + d + b"\0")
' "$BATS_TEST_TMPDIR/udp.port" "$BATS_TEST_TMPDIR/udp.out"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/udp.port"
	start_nsqd --statsd-address="127.0.0.1:$(cat "$BATS_TEST_TMPDIR/udp.port")" \
	    --statsd-interval=1s --statsd-udp-packet-size=200 \
	    --broadcast-address=10.0.0.1 --statsd-exclude-ephemeral \
	    --e2e-processing-latency-percentile=0.99
	prefix="nsq.10_0_0_1_$NSQD_HTTP_PORT."
	expect 200 "$prefix" GET /config/statsd_prefix
	expect 200 '' POST '/topic/create?topic=t'
	expect 200 '' POST '/channel/create?topic=t&channel=c'
	expect 200 '' POST '/topic/create?topic=e%23ephemeral'
	expect 200 '' POST '/channel/create?topic=t&channel=c2%23ephemeral'
	expect 200 OK POST '/mpub?topic=t' --data-binary $'ab\ncd\nef'
	# A push after the publish, then one more: the counters' change is 0.
	wait_until 10 grep -qa 'topic.t.message_count:3|c' \
	    "$BATS_TEST_TMPDIR/udp.out"
	wait_until 10 bash -c 'grep -a "topic.t.message_count:3|c" "$0" |
	    grep -qa "topic.t.message_count:0|c"; tr "\0" "\n" <"$0" |
	    sed -n "/message_count:3|c/,\$p" | grep -q "message_count:0|c"' \
	    "$BATS_TEST_TMPDIR/udp.out"
	python3 - "$BATS_TEST_TMPDIR/udp.out" "$prefix" <<'EOF'
import sys
raw = open(sys.argv[1], 'rb').read()
prefix = sys.argv[2]
pkts = []
while raw:
    n, rest = raw.split(b':', 1)
    n = int(n)
    pkts.append(rest[:n])
    assert rest[n:n + 1] == b'\0'
    raw = rest[n + 1:]
lines = []
for p in pkts:
    # Whole lines, packed up to the packet size.
    assert len(p) <= 200, p
    assert p.endswith(b'\n'), p
    lines += p.decode().split('\n')[:-1]
for l in lines:
    assert l.startswith(prefix), l
    assert 'ephemeral' not in l, l
lines = [l[len(prefix):] for l in lines]
want = [
    'topic.t.message_count:3|c',
    'topic.t.message_bytes:6|c',
    'topic.t.depth:0|g',
    'topic.t.backend_depth:0|g',
    'topic.t.e2e_processing_latency_99:0|g',
    'topic.t.channel.c.message_count:3|c',
    'topic.t.channel.c.depth:3|g',
    'topic.t.channel.c.backend_depth:0|g',
    'topic.t.channel.c.in_flight_count:0|g',
    'topic.t.channel.c.deferred_count:0|g',
    'topic.t.channel.c.requeue_count:0|c',
    'topic.t.channel.c.timeout_count:0|c',
    'topic.t.channel.c.clients:0|g',
    'topic.t.channel.c.e2e_processing_latency_99:0|g',
]
i = lines.index(want[0])
push = lines[i:i + len(want) + 9]
assert push[:len(want)] == want, push
mem = [l.split(':')[0] for l in push[len(want):]]
assert mem == ['mem.heap_objects', 'mem.heap_idle_bytes',
    'mem.heap_in_use_bytes', 'mem.heap_released_bytes',
    'mem.gc_pause_usec_100', 'mem.gc_pause_usec_99', 'mem.gc_pause_usec_95',
    'mem.next_gc_bytes', 'mem.gc_runs'], push
assert all(l.endswith('|g') for l in push[len(want):-1]), push
assert push[-1] == 'mem.gc_runs:0|c', push
after = lines[i + len(push):]
assert after[:2] == ['topic.t.message_count:0|c',
                     'topic.t.message_bytes:0|c'], after[:2]
assert 'topic.t.channel.c.message_count:0|c' in after
assert len(pkts) >= 4, len(pkts)
EOF
	grep -q "STATSD: pushing stats to 127.0.0.1:" "$NSQD_LOG"
}

@test "statsd: without mem stats, with a plain prefix; a push is spread" {
	start_bg UDP timeout 60 python3 -c '
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
out = open(sys.argv[2], "a", buffering=1)
while True:
    d = s.recv(65536)
    out.write("%.3f %s\n" % (time.monotonic(), d.decode().replace("\n", " ")))
' "$BATS_TEST_TMPDIR/udp.port" "$BATS_TEST_TMPDIR/udp.out"
	wait_until 10 test -s "$BATS_TEST_TMPDIR/udp.port"
	start_nsqd --statsd-address="127.0.0.1:$(cat "$BATS_TEST_TMPDIR/udp.port")" \
	    --statsd-interval=3s --statsd-udp-packet-size=100 \
	    --statsd-prefix=app --statsd-mem-stats=false
	for t in 1 2 3 4 5 6; do
		expect 200 '' POST "/topic/create?topic=t$t"
	done
	expect 200 app. GET /config/statsd_prefix
	wait_until 10 grep -q 'app.topic.t6.backend_depth' "$BATS_TEST_TMPDIR/udp.out"
	python3 - "$BATS_TEST_TMPDIR/udp.out" <<'EOF'
import sys
rows = [l.rstrip('\n').split(' ', 1) for l in open(sys.argv[1])]
assert not any('mem.' in r[1] for r in rows), rows
i = [k for k, r in enumerate(rows) if 'app.topic.t1.message_count' in r[1]][0]
j = [k for k, r in enumerate(rows) if 'app.topic.t6.backend_depth' in r[1]][0]
push = rows[i:j + 1]
# 24 lines of 31 bytes: 3 to a packet of at most 100.
assert len(push) == 8, push
assert all(len(r[1]) <= 100 and r[1].count('|') == 3 for r in push), push
# Spread over the interval less a second: 2 s / 8 apart, the first at once.
span = float(push[-1][0]) - float(push[0][0])
assert 1.2 < span < 2.5, (span, push)
EOF
}

@test "GET /metrics is valid Prometheus text 0.0.4 with the right values" {
	if ! command -v promtool >/dev/null; then
		echo "promtool missing: scripts/deps.sh test installs it" >&2
		return 1
	fi
	start_nsqd --e2e-processing-latency-percentile=0.99,0.5
	api GET /metrics
	[ "$code" = 200 ]
	grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$HDRS"
	promtool check metrics <"$BODY"
	expect 200 '' POST '/topic/create?topic=t'
	expect 200 '' POST '/channel/create?topic=t&channel=b'
	expect 200 '' POST '/channel/create?topic=t&channel=a'
	expect 200 OK POST '/mpub?topic=t' --data-binary $'1\n22\n333'
	expect 200 OK POST '/pub?topic=t&defer=60000' --data-binary 'd'
	expect 200 OK POST '/pub?topic=held' --data-binary 'h'
	start_bg CONS timeout 60 python3 -c '
from nsqwire import *
c = Conn(int(os.environ["NSQD_TCP_PORT"]), skip_heartbeats=True)
c.magic()
c.sub("t", "a")
c.ok()
c.rdy(2)
m, n = c.messages(2)
c.rdy(0)
c.fin(m.id)
c.req(n.id, 0)
c.pub("t", b"4444")
c.ok()
open(sys.argv[1], "w").close()
time.sleep(60)
' "$BATS_TEST_TMPDIR/go"
	wait_until 10 test -e "$BATS_TEST_TMPDIR/go"
	api GET /metrics
	[ "$code" = 200 ]
	promtool check metrics <"$BODY"
	python3 - "$BODY" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
assert text.endswith('\n')
name_re = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lab_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
line_re = re.compile(r'(%s)(\{%s(?:,%s)*\})? (\S+)' % (name_re, lab_re, lab_re))
fams, types, samples, seen = {}, {}, {}, []
for l in text.split('\n')[:-1]:
    if l.startswith('# HELP '):
        n = l.split(' ')[2]
        assert n not in fams, 'HELP twice: ' + n
        fams[n] = True
        continue
    if l.startswith('# TYPE '):
        _, _, n, t = l.split(' ')
        assert t in ('gauge', 'counter', 'summary'), l
        types[n] = t
        continue
    m = line_re.fullmatch(l)
    assert m, 'bad sample line: %r' % l
    name, labels, value = m.groups()
    float(value)
    base = re.sub(r'_(sum|count)$', '', name)
    fam = name if name in types else base
    assert fam in types, 'sample without TYPE: ' + l
    # A family's samples are contiguous.
    if seen and seen[-1] != fam:
        assert fam not in seen, 'family split: ' + fam
    if not seen or seen[-1] != fam:
        seen.append(fam)
    samples[name + (labels or '')] = float(value)
def v(k):
    assert k in samples, (k, sorted(samples))
    return samples[k]
assert v('nsqd_healthy') == 1
assert v('nsqd_tcp_clients') == 1 and v('nsqd_producers') == 1
assert v('nsqd_topic_messages_total{topic="t"}') == 5
assert v('nsqd_topic_message_bytes_total{topic="t"}') == 11
assert v('nsqd_topic_depth{topic="held"}') == 1
assert v('nsqd_topic_depth{topic="t"}') == 0
assert v('nsqd_topic_paused{topic="t"}') == 0
a = lambda f: v('nsqd_channel_%s{topic="t",channel="a"}' % f)
b = lambda f: v('nsqd_channel_%s{topic="t",channel="b"}' % f)
assert a('messages_total') == 5 and b('messages_total') == 5
assert a('depth') == 3 and b('depth') == 4     # a: 2 handed out, 1 back
assert a('in_flight') == 0 and a('deferred') == 1 and b('deferred') == 1
assert a('requeues_total') == 1 and a('timeouts_total') == 0
assert a('clients') == 1 and b('clients') == 0
assert a('backend_depth') == 0 and a('paused') == 0
e = 'nsqd_channel_e2e_processing_latency_seconds'
assert types[e] == 'summary'
assert v(e + '_count{topic="t",channel="a"}') == 1
assert v(e + '{topic="t",channel="a",quantile="0.99"}') >= 0
assert v(e + '{topic="t",channel="a",quantile="0.5"}') >= 0
assert v(e + '_count{topic="t",channel="b"}') == 0
t = 'nsqd_topic_e2e_processing_latency_seconds'
assert v(t + '_count{topic="t"}') == 1
assert t + '_count{topic="held"}' not in samples   # no channel
keys = [k for k in samples if k.startswith('nsqd_channel_depth{')]
assert keys == ['nsqd_channel_depth{topic="t",channel="a"}',
                'nsqd_channel_depth{topic="t",channel="b"}'], keys
EOF
}

@test "an unhealthy nsqd: /ping 500 NOK, /pub 503 EXITING, /stats health" {
	start_nsqd --mem-queue-size=0 --sync-every=1 --max-bytes-per-file=64
	expect 200 '' POST '/topic/create?topic=t'
	# The disk queue's second file cannot be made: writes then fail.
	mkdir "$NSQD_DATA/t.diskqueue.000001.dat"
	expect 200 OK POST '/pub?topic=t' --data-binary "$(printf 'x%.0s' {1..60})"
	api POST '/pub?topic=t' --data-binary "$(printf 'y%.0s' {1..60})"
	[ "$code" = 503 ] && [ "$body" = '{"message":"EXITING"}' ] ||
	    { echo "$code $body" >&2; false; }
	api GET /ping
	[ "$code" = 500 ]
	[[ $body == "NOK - "* ]]
	health=$body
	stats_py <<EOF
assert s['health'] == '''$health''', s['health']
EOF
	api GET /metrics
	grep -qx 'nsqd_healthy 0' "$BODY"
	rmdir "$NSQD_DATA/t.diskqueue.000001.dat"
	expect 200 OK POST '/pub?topic=t' --data-binary 'z'
	expect 200 OK GET /ping
}

@test "--tls-required answers every plain HTTP request 403 TLS_REQUIRED" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -keyout "$BATS_TEST_TMPDIR/key" -out "$BATS_TEST_TMPDIR/cert" \
	    2>/dev/null
	local hp
	hp=$(free_port)
	NSQ_WAIT_HTTP=0 start_nsqd --tls-required=true \
	    --tls-cert="$BATS_TEST_TMPDIR/cert" --tls-key="$BATS_TEST_TMPDIR/key" \
	    --https-address=127.0.0.1:$hp
	wait_until 5 curl -s "http://127.0.0.1:$NSQD_HTTP_PORT/ping"
	expect 403 "{\"message\": \"TLS_REQUIRED\", \"https_port\": $hp}" \
	    GET /ping
	expect 403 "{\"message\": \"TLS_REQUIRED\", \"https_port\": $hp}" \
	    POST '/pub?topic=t' --data-binary x
}

@test "--http-address '' serves no HTTP" {
	NSQ_WAIT_HTTP=0 start_nsqd --http-address=
	run curl -s --max-time 2 "http://127.0.0.1:$NSQD_HTTP_PORT/ping"
	[ "$status" -ne 0 ]
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.pub('t', b'x')
c.ok()
EOF
}
