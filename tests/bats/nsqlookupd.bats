#!/usr/bin/env bats
# nsqlookupd against Go nsqlookupd 1.3.0's behaviour: the TCP protocol V1
# byte for byte (tests/bats/lookupwire.py), every HTTP endpoint and error
# with curl, tombstones and inactive producers over time, options, and
# clean exits.  Each test starts its own daemon.

load helpers

# A bare "! cmd" fails a test only as its last command (bash's set -e
# ignores it); "run !" and "run -1" (bats 1.5) check wherever they are.
bats_require_minimum_version 1.5.0

teardown() {
	teardown_daemons
}

# req METHOD PATH: one HTTP request; sets $code, $body and $ctype.
req() {
	local out hdr
	hdr="$BATS_TEST_TMPDIR/headers"
	out=$(curl -sS --max-time 5 -X "$1" -D "$hdr" -w '\n%{http_code}' \
	    "http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT$2")
	code=${out##*$'\n'}
	body=${out%$'\n'*}
	ctype=$(sed -n 's/^Content-Type: \(.*\)\r$/\1/Ip' "$hdr")
}

# expect CODE BODY: the last req's status and body.
expect() {
	assert_equal "$code" "$1"
	assert_equal "$body" "$2"
}

# v1 [PYTHON...]: a python snippet with lookupwire imported and $C open
# to the daemon's TCP port; HTTP is the daemon's HTTP port.
v1() {
	timeout 30 python3 -c "
from lookupwire import *
TCP = int(os.environ['NSQLOOKUPD_TCP_PORT'])
HTTP = int(os.environ['NSQLOOKUPD_HTTP_PORT'])
def get(path):
    st, b = http(HTTP, 'GET', path)
    assert st == 200, (path, st, b)
    return json.loads(b)
def post(path):
    st, b = http(HTTP, 'POST', path)
    assert st == 200 and b == b'', (path, st, b)
C = Conn(TCP)
$(cat)
"
}

@test "nsqlookupd: starts, answers /ping and /info, exits 0 on SIGTERM" {
	start_nsqlookupd
	req GET /ping
	expect 200 OK
	assert_equal "$ctype" "text/plain; charset=utf-8"
	req GET /info
	expect 200 '{"version":"1.3.0"}'
	assert_equal "$ctype" "application/json; charset=utf-8"
	stop_nsqlookupd
	grep -q 'nsqlookupd v1.3.0' "$NSQLOOKUPD_LOG"
	grep -q 'TCP: listening on 127.0.0.1:' "$NSQLOOKUPD_LOG"
}

@test "nsqlookupd: SIGINT with open connections exits 0" {
	start_nsqlookupd
	start_bg HOLD timeout 20 python3 -c "
from lookupwire import *
c = Conn(int(os.environ['NSQLOOKUPD_TCP_PORT']))
c.magic(); c.identify(peer()); c.response_json()
c.register('t', 'c'); c.ok()
print('registered', flush=True)
assert c.closed(15)
"
	wait_until 5 grep -q registered "$HOLD_LOG"
	# An HTTP keep-alive connection stays open too.
	exec 5<>"/dev/tcp/127.0.0.1/$NSQLOOKUPD_HTTP_PORT"
	kill -INT "$NSQLOOKUPD_PID"
	wait_until 10 bash -c "! kill -0 $NSQLOOKUPD_PID 2>/dev/null"
	exec 5>&-
	run proc_status NSQLOOKUPD
	assert_output 0
	wait_bg HOLD 10
}

@test "nsqlookupd: --version, --help, bad flags, bad log level" {
	run "$NSQ_BIN_DIR/nsqlookupd" --version
	assert_success
	assert_output --regexp '^nsqlookupd v1\.3\.0 '
	run "$NSQ_BIN_DIR/nsqlookupd" -version
	assert_success
	run "$NSQ_BIN_DIR/nsqlookupd" --help
	assert_success
	assert_line --index 0 'Usage: nsqlookupd [options]'
	assert_output --partial '--inactive-producer-timeout DURATION'
	assert_output --partial '(default: 5m0s)'
	assert_output --partial '(default: 45s)'
	assert_output --partial '(default: "0.0.0.0:4160")'
	assert_output --partial '(default: "0.0.0.0:4161")'
	run "$NSQ_BIN_DIR/nsqlookupd" --no-such-flag
	assert_equal "$status" 2
	assert_output --partial 'flag provided but not defined: -no-such-flag'
	run "$NSQ_BIN_DIR/nsqlookupd" --tombstone-lifetime=soon
	assert_equal "$status" 2
	run "$NSQ_BIN_DIR/nsqlookupd" stray
	assert_equal "$status" 2
	run "$NSQ_BIN_DIR/nsqlookupd" --log-level=loud
	assert_equal "$status" 1
	assert_output --partial 'invalid log level loud'
}

@test "nsqlookupd: a taken port fails the start with status 1" {
	start_nsqlookupd
	run timeout 10 "$NSQ_BIN_DIR/nsqlookupd" \
	    --tcp-address="127.0.0.1:$NSQLOOKUPD_TCP_PORT" \
	    --http-address=127.0.0.1:0
	assert_equal "$status" 1
	assert_output --partial 'listen (127.0.0.1:'
	run timeout 10 "$NSQ_BIN_DIR/nsqlookupd" --tcp-address=127.0.0.1:0 \
	    --http-address="127.0.0.1:$NSQLOOKUPD_HTTP_PORT"
	assert_equal "$status" 1
}

@test "nsqlookupd: --config, --broadcast-address and the IDENTIFY reply" {
	local cfg=$BATS_TEST_TMPDIR/lookupd.cfg
	printf 'broadcast_address = "from-config"\nlog_prefix = "[L] "\n' \
	    >"$cfg"
	start_nsqlookupd --config="$cfg"
	v1 <<'EOF'
import socket
C.magic()
C.identify(peer())
r = C.reply()
# Go marshals a map: sorted keys.
want = ('{"broadcast_address":"from-config","hostname":"%s",'
        '"http_port":%d,"tcp_port":%d,"version":"1.3.0"}'
        % (socket.gethostname(), HTTP, TCP)).encode()
assert r == want, (r, want)
EOF
	grep -q '^\[L\] ' "$NSQLOOKUPD_LOG"
	# The command line beats the file.
	restart_nsqlookupd --config="$cfg" --broadcast-address=from-flag
	v1 <<'EOF'
C.magic()
C.identify(peer())
assert C.response_json()['broadcast_address'] == 'from-flag'
EOF
	# Default: the host name.
	restart_nsqlookupd --log-level=info
	v1 <<'EOF'
import socket
C.magic()
C.identify(peer())
assert C.response_json()['broadcast_address'] == socket.gethostname()
EOF
}

@test "V1: bad magic gets E_BAD_PROTOCOL and the close" {
	start_nsqlookupd
	v1 <<'EOF'
C.magic(b'  V2')
C.cmd('PING')
C.error('E_BAD_PROTOCOL')
EOF
	v1 <<'EOF'
C.send(b'GET / HTTP/1.1\r\n\r\n')
C.error('E_BAD_PROTOCOL')
EOF
	grep -q "bad protocol magic '  V2'" "$NSQLOOKUPD_LOG"
}

@test "V1: PING before and after IDENTIFY; replies carry no frame type" {
	start_nsqlookupd
	v1 <<'EOF'
C.magic()
C.send(b'PING\n')
C._fill(6, time.monotonic() + 5)
assert bytes(C.buf) == b'\x00\x00\x00\x02OK', bytes(C.buf)
C.buf.clear()
C.identify(peer())
C.response_json()
C.send(b'PING\nPING\n')
C.ok(); C.ok()
C.no_reply()
EOF
}

@test "V1: IDENTIFY registers the peer as a client; twice is fatal" {
	start_nsqlookupd --broadcast-address=lk1
	v1 <<'EOF'
C.magic()
C.identify(peer(tcp_port=4150, http_port=4151, broadcast_address='n1',
                hostname='h1', version='1.3.0'))
r = C.response_json()
assert r['broadcast_address'] == 'lk1' and r['tcp_port'] == TCP and \
    r['http_port'] == HTTP and r['version'] == '1.3.0', r
nodes = get('/nodes')['producers']
me = C.local_address()
assert nodes == [{'remote_address': me, 'hostname': 'h1',
                  'broadcast_address': 'n1', 'tcp_port': 4150,
                  'http_port': 4151, 'version': '1.3.0',
                  'tombstones': [], 'topics': []}], nodes
C.identify(peer())
C.error('E_INVALID cannot IDENTIFY again')
EOF
}

@test "V1: IDENTIFY body errors, each fatal with Go's text" {
	start_nsqlookupd
	v1 <<'EOF'
def fatal(data, text):
    c = Conn(TCP)
    c.magic()
    c.send(data)
    c.error(text)
def ident(j):
    return b'IDENTIFY\n' + body(j)
fatal(ident('{}'), 'E_BAD_BODY IDENTIFY missing fields')
fatal(ident('null'), 'E_BAD_BODY IDENTIFY missing fields')
fatal(ident(json.dumps(peer(version=''))),
      'E_BAD_BODY IDENTIFY missing fields')
fatal(ident(json.dumps(peer(tcp_port=0))),
      'E_BAD_BODY IDENTIFY missing fields')
fatal(ident(json.dumps(peer(http_port=0))),
      'E_BAD_BODY IDENTIFY missing fields')
fatal(ident(json.dumps(peer(broadcast_address=''))),
      'E_BAD_BODY IDENTIFY missing fields')
fatal(ident('{nope'), 'E_BAD_BODY IDENTIFY failed to decode JSON body')
fatal(ident(''), 'E_BAD_BODY IDENTIFY failed to decode JSON body')
fatal(ident('[]'), 'E_BAD_BODY IDENTIFY failed to decode JSON body')
fatal(ident(json.dumps(peer(tcp_port='4150'))),
      'E_BAD_BODY IDENTIFY failed to decode JSON body')
fatal(b'IDENTIFY\n\xff\xff\xff\xfe',
      'E_BAD_BODY IDENTIFY invalid body size -2')
fatal(b'IDENTIFY\n' + struct.pack('>i', 5 * 1024 * 1024 + 1),
      'E_BAD_BODY IDENTIFY body too big 5242881 > 5242880')
# Cut short by the client's close (half-close: it still reads).
c = Conn(TCP)
c.magic()
c.send(b'IDENTIFY\n\x00\x00')
c.shutdown_write()
c.error('E_BAD_BODY IDENTIFY failed to read body size')
c = Conn(TCP)
c.magic()
c.send(b'IDENTIFY\n\x00\x00\x00\x10{"a":')
c.shutdown_write()
c.error('E_BAD_BODY IDENTIFY failed to read body')
# Keys are matched without regard to case; unknown ones are ignored.
c = Conn(TCP)
c.magic()
c.identify('{"BROADCAST_ADDRESS":"b","Tcp_Port":1,"http_port":2,'
           '"version":"v","future":[1,2]}')
c.response_json()
n = get('/nodes')['producers']
assert [(x['broadcast_address'], x['tcp_port'], x['http_port'], x['hostname'])
        for x in n] == [('b', 1, 2, '')], n
EOF
}

@test "V1: commands before IDENTIFY, bad commands and bad names are fatal" {
	start_nsqlookupd
	v1 <<'EOF'
def fatal(lines, text, identify=False):
    c = Conn(TCP)
    c.magic()
    if identify:
        c.identify(peer())
        c.response_json()
    c.send(lines)
    c.error(text)
fatal(b'REGISTER t c\n', 'E_INVALID client must IDENTIFY')
fatal(b'UNREGISTER t\n', 'E_INVALID client must IDENTIFY')
fatal(b'FOO bar\n', 'E_INVALID invalid command FOO')
fatal(b'\n', 'E_INVALID invalid command ')
fatal(b'register t\n', 'E_INVALID invalid command register')
fatal(b'A' * 5000, 'E_INVALID command line too long (over 4096 bytes)')
fatal(b'REGISTER\n', 'E_INVALID REGISTER insufficient number of params',
      True)
fatal(b'UNREGISTER \n', 'E_INVALID UNREGISTER insufficient number of params',
      True)
fatal(b'REGISTER bad/topic\n',
      "E_BAD_TOPIC REGISTER topic name 'bad/topic' is not valid", True)
fatal(b'REGISTER ' + b'x' * 65 + b'\n',
      "E_BAD_TOPIC REGISTER topic name '" + 'x' * 65 + "' is not valid",
      True)
fatal(b'REGISTER t bad*chan\n',
      "E_BAD_CHANNEL REGISTER channel name 'bad*chan' is not valid", True)
fatal(b'UNREGISTER t#eph c\n',
      "E_BAD_TOPIC UNREGISTER topic name 't#eph' is not valid", True)
# Nothing after a fatal error is handled.
c = Conn(TCP)
c.magic()
c.send(b'BAD\nPING\n')
c.error('E_INVALID invalid command BAD')
assert bytes(c.buf) == b'', bytes(c.buf)
EOF
}

@test "V1: REGISTER shows in /lookup, /topics, /channels, /nodes, /debug" {
	start_nsqlookupd
	v1 <<'EOF'
C.magic()
C.identify(peer(broadcast_address='n1', hostname='h1'))
C.response_json()
me = C.local_address()
# Pipelined, trimmed, split in odd places.
for part in [b'REGISTER t1 c1\n REGI', b'STER t1 c2 \r\n', b'REGISTER t2\n']:
    C.send(part)
    time.sleep(0.05)
C.ok(); C.ok(); C.ok()
prod = {'remote_address': me, 'hostname': 'h1', 'broadcast_address': 'n1',
        'tcp_port': 4150, 'http_port': 4151, 'version': '1.3.0'}
st, raw = http(HTTP, 'GET', '/lookup?topic=t1')
assert st == 200
assert raw == ('{"channels":["c1","c2"],"producers":[{"remote_address":"%s",'
               '"hostname":"h1","broadcast_address":"n1","tcp_port":4150,'
               '"http_port":4151,"version":"1.3.0"}]}' % me).encode(), raw
assert get('/lookup?topic=t2') == {'channels': [], 'producers': [prod]}
assert sorted(get('/topics')['topics']) == ['t1', 't2']
assert sorted(get('/channels?topic=t1')['channels']) == ['c1', 'c2']
assert get('/channels?topic=t2') == {'channels': []}
assert get('/channels?topic=none') == {'channels': []}
n = get('/nodes')['producers']
assert len(n) == 1 and sorted(n[0]['topics']) == ['t1', 't2'] and \
    n[0]['tombstones'] == [False, False], n
d = get('/debug')
assert sorted(d) == ['channel:t1:c1', 'channel:t1:c2', 'client::',
                     'topic:t1:', 'topic:t2:'], d
e = d['topic:t1:'][0]
assert list(e) == ['broadcast_address', 'hostname', 'http_port', 'id',
                   'last_update', 'tcp_port', 'tombstoned',
                   'tombstoned_at', 'version'], e
assert e['id'] == me and e['tombstoned'] is False
assert e['tombstoned_at'] == -6795364578871345152
assert abs(e['last_update'] - time.time() * 1e9) < 60e9
# REGISTER again is fine (OK, no duplicate).
C.register('t1', 'c1'); C.ok()
assert len(get('/lookup?topic=t1')['producers']) == 1
EOF
}

@test "V1: UNREGISTER: channels, ephemeral channels and topics" {
	start_nsqlookupd
	v1 <<'EOF'
C.magic()
C.identify(peer())
C.response_json()
for line in ['REGISTER t c', 'REGISTER t e#ephemeral', 'REGISTER t#ephemeral',
             'REGISTER u c']:
    C.cmd(line); C.ok()
C.unregister('t', 'c'); C.ok()
# The channel stays (empty), as in Go; the ephemeral one goes.
C.unregister('t', 'e#ephemeral'); C.ok()
assert get('/channels?topic=t') == {'channels': ['c']}
assert len(get('/lookup?topic=t')['producers']) == 1
# Topic unregistration takes the channels' producers with it.
C.unregister('u'); C.ok()
assert get('/lookup?topic=u') == {'channels': ['c'], 'producers': []}
assert 'channel:u:c' not in get('/debug')
C.unregister('t#ephemeral'); C.ok()
st, b = http(HTTP, 'GET', '/lookup?topic=t%23ephemeral')
assert st == 404, (st, b)
C.unregister('never', 'seen'); C.ok()
C.unregister('never'); C.ok()
EOF
}

@test "V1: closing the connection removes its registrations" {
	start_nsqlookupd
	v1 <<'EOF'
other = Conn(TCP)
other.magic()
other.identify(peer(broadcast_address='other'))
other.response_json()
other.register('t', 'c'); other.ok()
C.magic()
C.identify(peer(broadcast_address='me'))
C.response_json()
C.register('t', 'c'); C.ok()
assert len(get('/lookup?topic=t')['producers']) == 2
C.close()
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    p = get('/lookup?topic=t')['producers']
    if len(p) == 1:
        break
    time.sleep(0.05)
assert [x['broadcast_address'] for x in p] == ['other'], p
assert [x['broadcast_address'] for x in get('/nodes')['producers']] == \
    ['other']
other.close()
deadline = time.monotonic() + 5
while get('/nodes')['producers'] and time.monotonic() < deadline:
    time.sleep(0.05)
assert get('/nodes') == {'producers': []}
# The registrations stay, empty.
assert get('/lookup?topic=t') == {'channels': ['c'], 'producers': []}
assert get('/topics') == {'topics': ['t']}
assert get('/debug') == {}
EOF
	grep -q 'UNREGISTER category:client' "$NSQLOOKUPD_LOG"
}

@test "tombstone: /lookup leaves the producer out for --tombstone-lifetime" {
	start_nsqlookupd --tombstone-lifetime=2s
	v1 <<'EOF'
C.magic()
C.identify(peer(broadcast_address='n1', http_port=4151))
C.response_json()
C.register('t', 'c'); C.ok()
C.register('u'); C.ok()
other = Conn(TCP)
other.magic()
other.identify(peer(broadcast_address='n2', http_port=4151))
other.response_json()
other.register('t'); other.ok()
# The node that does not match is left alone.
post('/topic/tombstone?topic=t&node=n1:9999')
assert len(get('/lookup?topic=t')['producers']) == 2
t0 = time.monotonic()
post('/topic/tombstone?topic=t&node=n1:4151')
p = get('/lookup?topic=t')['producers']
assert [x['broadcast_address'] for x in p] == ['n2'], p
# Only for that topic.
assert len(get('/lookup?topic=u')['producers']) == 1
n = {x['broadcast_address']: x for x in get('/nodes')['producers']}
assert n['n1']['topics'] == ['t', 'u'] and \
    n['n1']['tombstones'] == [True, False], n
e = [x for x in get('/debug')['topic:t:'] if x['id'] == C.local_address()]
assert e[0]['tombstoned'] is True
assert abs(e[0]['tombstoned_at'] - time.time() * 1e9) < 10e9
# Registering again does not lift it.
C.register('t'); C.ok()
assert len(get('/lookup?topic=t')['producers']) == 1
deadline = t0 + 6
while time.monotonic() < deadline:
    if len(get('/lookup?topic=t')['producers']) == 2:
        break
    time.sleep(0.05)
took = time.monotonic() - t0
assert 1.8 <= took < 6, took
n = {x['broadcast_address']: x for x in get('/nodes')['producers']}
assert n['n1']['tombstones'] == [False, False], n
EOF
}

@test "tombstone: UNREGISTER then REGISTER lifts it" {
	start_nsqlookupd --tombstone-lifetime=60s
	v1 <<'EOF'
C.magic()
C.identify(peer(broadcast_address='n1'))
C.response_json()
C.register('t'); C.ok()
post('/topic/tombstone?topic=t&node=n1:4151')
assert get('/lookup?topic=t')['producers'] == []
C.unregister('t'); C.ok()
C.register('t'); C.ok()
assert len(get('/lookup?topic=t')['producers']) == 1
EOF
}

@test "inactive producers leave /lookup and /nodes until they PING" {
	start_nsqlookupd --inactive-producer-timeout=1s
	v1 <<'EOF'
C.magic()
C.identify(peer())
C.response_json()
C.register('t', 'c'); C.ok()
assert len(get('/lookup?topic=t')['producers']) == 1
t0 = time.monotonic()
deadline = t0 + 5
while time.monotonic() < deadline:
    if not get('/lookup?topic=t')['producers']:
        break
    time.sleep(0.05)
took = time.monotonic() - t0
assert 0.8 <= took < 5, took
assert get('/nodes') == {'producers': []}
# Still registered: /debug shows it, and a PING brings it back.
assert 'topic:t:' in get('/debug')
C.ping(); C.ok()
assert len(get('/lookup?topic=t')['producers']) == 1
assert len(get('/nodes')['producers']) == 1
EOF
}

@test "HTTP: create and delete topics and channels" {
	start_nsqlookupd
	req GET /topics
	expect 200 '{"topics":[]}'
	req POST '/topic/create?topic=t1'
	expect 200 ''
	assert_equal "$ctype" ''
	req POST '/topic/create?topic=t1'
	expect 200 ''
	req GET /topics
	expect 200 '{"topics":["t1"]}'
	req GET '/lookup?topic=t1'
	expect 200 '{"channels":[],"producers":[]}'
	req POST '/channel/create?topic=t2&channel=c1'
	expect 200 ''
	req POST '/channel/create?topic=t2&channel=c2%23ephemeral'
	expect 200 ''
	req GET /topics
	expect 200 '{"topics":["t1","t2"]}'
	req GET '/channels?topic=t2'
	expect 200 '{"channels":["c1","c2#ephemeral"]}'
	req GET '/lookup?topic=t2'
	expect 200 '{"channels":["c1","c2#ephemeral"],"producers":[]}'
	req POST '/channel/delete?topic=t2&channel=c1'
	expect 200 ''
	req GET '/channels?topic=t2'
	expect 200 '{"channels":["c2#ephemeral"]}'
	req POST '/channel/delete?topic=t2&channel=c1'
	expect 404 '{"message":"CHANNEL_NOT_FOUND"}'
	# Deleting a topic takes its channels; an unknown one is fine.
	req POST '/topic/delete?topic=t2'
	expect 200 ''
	req GET '/channels?topic=t2'
	expect 200 '{"channels":[]}'
	req GET '/lookup?topic=t2'
	expect 404 '{"message":"TOPIC_NOT_FOUND"}'
	req POST '/topic/delete?topic=nope'
	expect 200 ''
	req GET /topics
	expect 200 '{"topics":["t1"]}'
	# /debug lists only registrations that have producers.
	req GET /debug
	expect 200 '{}'
	req GET /nodes
	expect 200 '{"producers":[]}'
	# The body is not read for parameters, only the query.
	run curl -sS --max-time 5 -d 'topic=t3' \
	    "http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT/topic/create"
	assert_output '{"message":"MISSING_ARG_TOPIC"}'
}

@test "HTTP: every error of every endpoint" {
	start_nsqlookupd
	local p
	for p in /lookup /channels; do
		req GET "$p"
		expect 400 '{"message":"MISSING_ARG_TOPIC"}'
		assert_equal "$ctype" "application/json; charset=utf-8"
		req GET "$p?topic=t&x=%zz"
		expect 400 '{"message":"INVALID_REQUEST"}'
	done
	req GET '/lookup?topic=nope'
	expect 404 '{"message":"TOPIC_NOT_FOUND"}'
	req GET '/lookup?topic='
	expect 404 '{"message":"TOPIC_NOT_FOUND"}'
	for p in /topic/create /topic/delete /topic/tombstone; do
		req POST "$p"
		expect 400 '{"message":"MISSING_ARG_TOPIC"}'
		req POST "$p?topic=t;x"
		expect 400 '{"message":"INVALID_REQUEST"}'
	done
	req POST '/topic/create?topic=bad/name'
	expect 400 '{"message":"INVALID_ARG_TOPIC"}'
	req POST '/topic/create?topic='
	expect 400 '{"message":"INVALID_ARG_TOPIC"}'
	req POST '/topic/tombstone?topic=t'
	expect 400 '{"message":"MISSING_ARG_NODE"}'
	req POST '/topic/tombstone?topic=t&node=x:1'
	expect 200 ''
	for p in /channel/create /channel/delete; do
		req POST "$p"
		expect 400 '{"message":"MISSING_ARG_TOPIC"}'
		req POST "$p?topic=a*b&channel=c"
		expect 400 '{"message":"INVALID_ARG_TOPIC"}'
		req POST "$p?topic=t"
		expect 400 '{"message":"MISSING_ARG_CHANNEL"}'
		req POST "$p?topic=t&channel=c%20d"
		expect 400 '{"message":"INVALID_ARG_CHANNEL"}'
		req POST "$p?topic=t&channel=c&%"
		expect 400 '{"message":"INVALID_REQUEST"}'
	done
	req POST '/channel/delete?topic=t&channel=c'
	expect 404 '{"message":"CHANNEL_NOT_FOUND"}'
	# Router errors.
	req GET /nope
	expect 404 '{"message":"NOT_FOUND"}'
	req GET /debug/pprof
	expect 404 '{"message":"NOT_FOUND"}'
	for p in /topic/create /topic/delete /channel/create /channel/delete \
	    /topic/tombstone; do
		req GET "$p?topic=t&channel=c"
		expect 405 '{"message":"METHOD_NOT_ALLOWED"}'
	done
	for p in /ping /info /debug /lookup /topics /channels /nodes; do
		req POST "$p?topic=t"
		expect 405 '{"message":"METHOD_NOT_ALLOWED"}'
	done
	# Endpoints that take no parameters ignore a bad query, as Go.
	req GET '/topics?%zz'
	expect 200 '{"topics":[]}'
	# Nothing above created anything.
	req GET /topics
	expect 200 '{"topics":[]}'
}

@test "HTTP: Go's wildcard quirk: topic=* matches every topic" {
	start_nsqlookupd
	req POST '/channel/create?topic=a&channel=c1'
	req POST '/channel/create?topic=b&channel=c2'
	req GET '/channels?topic=*'
	expect 200 '{"channels":["c1","c2"]}'
	req GET '/lookup?topic=*'
	expect 200 '{"channels":["c1","c2"],"producers":[]}'
	req POST '/topic/delete?topic=*'
	expect 200 ''
	req GET /topics
	expect 200 '{"topics":[]}'
}

@test "nsqlookupd: every --help option is in the man page and completions" {
	local root=$BATS_TEST_DIRNAME/../.. o text missing=
	text=$(MANWIDTH=250 mandoc -T utf8 "$root/man/nsqlookupd.8" | col -b)
	run mandoc -T lint -W warning "$root/man/nsqlookupd.8"
	assert_success
	for o in $("$NSQ_BIN_DIR/nsqlookupd" --help |
	    grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u) --help; do
		grep -qE -- "$o([^a-z0-9-]|\$)" <<<"$text" ||
		    missing="$missing man:$o"
		grep -qE -- "$o([^a-z0-9-]|\$)" \
		    "$root/completions/bash/nsqlookupd" ||
		    missing="$missing bash:$o"
		grep -qE -- "$o([^a-z0-9-]|\$)" \
		    "$root/completions/zsh/_nsqlookupd" ||
		    missing="$missing zsh:$o"
		grep -qE -- "-l ${o#--}( |\$)" \
		    "$root/completions/fish/nsqlookupd.fish" ||
		    missing="$missing fish:$o"
	done
	[ -z "$missing" ] || fail "missing:$missing"
	bash -n "$root/completions/bash/nsqlookupd"
	zsh -n "$root/completions/zsh/_nsqlookupd"
	fish -n "$root/completions/fish/nsqlookupd.fish"
}

@test "V1: a client that does not read its replies is paused, not buffered" {
	start_nsqlookupd
	v1 <<'EOF2'
import threading
C = Conn(TCP, rcvbuf=4096)
C.magic()
C.identify(peer())
C.response_json()
n = 4000000
# 20 MB of PINGs, 24 MB of replies left unread for a while: more than
# the kernel's buffers hold, so the daemon must stop reading (the
# sender blocks) rather than drop or pile up replies.
th = threading.Thread(target=C.sock.sendall, args=(b'PING\n' * n,))
th.start()
time.sleep(1)
assert th.is_alive()
t = time.monotonic()
assert get('/topics') == {'topics': []}
assert time.monotonic() - t < 2
want = b'\x00\x00\x00\x02OK' * n
C._fill(len(want), time.monotonic() + 60)
assert bytes(C.buf[:len(want)]) == want
del C.buf[:len(want)]
th.join()
C.register('done'); C.ok()
assert get('/topics') == {'topics': ['done']}
EOF2
	run -1 grep -q 'reply dropped' "$NSQLOOKUPD_LOG"
}

@test "V1: the error reply arrives even while the client keeps sending" {
	start_nsqlookupd
	v1 <<'EOF2'
C.magic()
C.send(b'BAD\n' + b'PING\n' * 20000)
for i in range(20):
    try:
        C.send(b'PING\n' * 1000)
    except (BrokenPipeError, ConnectionResetError):
        break
    time.sleep(0.01)
C.error('E_INVALID invalid command BAD')
EOF2
}

@test "V1: after a fatal error a client that neither reads nor closes is dropped" {
	start_nsqlookupd
	exec 6<>"/dev/tcp/127.0.0.1/$NSQLOOKUPD_TCP_PORT"
	printf '  V1BAD\n' >&6
	wait_until 6 grep -q 'closing (linger timeout)' "$NSQLOOKUPD_LOG"
	exec 6>&-
}
