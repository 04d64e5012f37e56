#!/usr/bin/env bats
# nsqd's AUTH against --auth-http-address servers (tests/bats/auth_server.py
# stands in for one), in raw V2 bytes: every error code and text Go nsqd
# 1.3.0 sends (protocol_v2.go AUTH and CheckAuth), the authorization
# patterns as Go's regexp.MatchString matches them, the TTL, the queries
# nsqd sends, bad auth servers, and a slow one that holds up only the
# client waiting for it.

load nsqd_helpers

setup() {
	export AUTH_CONF=$BATS_TEST_TMPDIR/auth.json
	export AUTH_LOG=$AUTH_CONF.log
	auth_conf '{"secrets": {
	  "all": {"ttl": 3600, "identity": "alice",
	    "identity_url": "https://example.invalid/alice",
	    "authorizations": [{"topic": ".*", "channels": [".*"],
	      "permissions": ["publish", "subscribe"]}]},
	  "digits": {"ttl": 3600, "identity": "bob",
	    "authorizations": [{"topic": "^t\\d+$", "channels": [".*"],
	      "permissions": ["publish"]},
	      {"topic": "(?i)^Orders$", "channels": ["^ch\\d$", "^(?i)audit$"],
	      "permissions": ["subscribe"]}]},
	  "loose": {"ttl": 3600,
	    "authorizations": [{"topic": "t\\d", "channels": ["c"],
	      "permissions": ["subscribe"]}, {"topic": "t\\d",
	      "channels": [""], "permissions": ["publish"]}]},
	  "pubc": {"ttl": 3600,
	    "authorizations": [{"topic": ".*", "channels": ["c"],
	      "permissions": ["publish"]}]},
	  "none": {"ttl": 3600, "identity": "nobody", "authorizations": []},
	  "nochan": {"ttl": 3600, "authorizations": [{"topic": ".*",
	      "channels": [], "permissions": ["publish", "subscribe"]}]},
	  "slow": {"ttl": 3600, "sleep": 3, "identity": "slow",
	    "authorizations": [{"topic": ".*", "channels": [".*"],
	      "permissions": ["publish", "subscribe"]}]},
	  "short": {"ttl": 1, "identity": "short",
	    "authorizations": [{"topic": ".*", "channels": [".*"],
	      "permissions": ["publish", "subscribe"]}]},
	  "e500": {"status": 500, "raw": "{\"message\": \"boom\"}"},
	  "badjson": {"raw": "{\"ttl\": 3600, \"authorizations\": ["},
	  "badtype": {"raw": "{\"ttl\": \"3600\", \"authorizations\": []}"},
	  "badregex": {"ttl": 3600, "authorizations": [{"topic": "(",
	      "channels": [".*"], "permissions": ["publish"]}]},
	  "badchan": {"ttl": 3600, "authorizations": [{"topic": ".*",
	      "channels": ["[z-a]"], "permissions": ["publish"]}]},
	  "badperm": {"ttl": 3600, "authorizations": [{"topic": ".*",
	      "channels": [".*"], "permissions": ["admin"]}]},
	  "negttl": {"ttl": -5, "authorizations": [{"topic": ".*",
	      "channels": [".*"], "permissions": ["publish"]}]},
	  "zerottl": {"authorizations": [{"topic": ".*",
	      "channels": [".*"], "permissions": ["publish"]}]},
	  "timeout": {"ttl": 3600, "sleep": 4, "authorizations": []}
	}}'
	start_authd
}

teardown() {
	teardown_daemons
}

# queries [SECRET]: how many queries the auth server has had (of SECRET).
queries() {
	curl -sf "http://127.0.0.1:$AUTHD_PORT/count${1:+?secret=$1}"
}

# authed nsqd: started with the auth server.
start_authed_nsqd() {
	start_nsqd --auth-http-address="127.0.0.1:$AUTHD_PORT" "$@"
}

@test "nsqd auth: IDENTIFY says auth_required, AUTH answers Go's JSON" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect({'feature_negotiation': True})
assert c.features['auth_required'] is True, c.features
c.auth('all')
c.expect(FRAME_RESPONSE, b'{"identity":"alice","identity_url":'
         b'"https://example.invalid/alice","permission_count":1}')
c.pub('t', b'x')
c.ok()
c.sub('t', 'c')
c.ok()
EOF
}

@test "nsqd auth: without --auth-http-address, auth_required is false and AUTH is E_AUTH_DISABLED" {
	start_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect({'feature_negotiation': True})
assert c.features['auth_required'] is False, c.features
c.auth('all')
fatal(c, b'E_AUTH_DISABLED AUTH disabled')
alive()
EOF
}

@test "nsqd auth: PUB, MPUB, DPUB and SUB before AUTH are E_AUTH_FIRST" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
for send, cmd in ((lambda c: c.pub('t', b'x'), 'PUB'),
                  (lambda c: c.mpub('t', [b'x', b'y']), 'MPUB'),
                  (lambda c: c.dpub('t', 10, b'x'), 'DPUB'),
                  (lambda c: c.sub('t', 'c'), 'SUB')):
    c = connect()
    c.nop()
    send(c)
    fatal(c, b'E_AUTH_FIRST AUTH required before ' + cmd.encode())
# IDENTIFY and NOP need no AUTH; the topic was never made.
c = connect({'client_id': 'x'})
c.nop()
c.auth('all')
c.response_json()
EOF
	run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json"
	assert_success
	refute_output --partial '"topic_name":"t"'
	# Nothing asked the auth server but the one AUTH.
	run queries
	assert_output 1
}

@test "nsqd auth: AUTH twice, unknown secret, no authorizations" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
c.response_json()
c.auth('all')
fatal(c, b'E_INVALID AUTH already set')
# The server refuses the secret (403): E_AUTH_FAILED, no detail.
c = connect()
c.auth('no-such-secret')
fatal(c, b'E_AUTH_FAILED AUTH failed')
c = connect()
c.auth('none')
fatal(c, b'E_UNAUTHORIZED AUTH no authorizations found')
# AUTH in SUB state is refused before the body is looked at.
c = connect()
c.auth('all')
c.response_json()
c.sub('t', 'c')
c.ok()
c.auth('all')
fatal(c, b'E_INVALID cannot AUTH in current state')
EOF
	# Go keeps the auth server's words in the log only.  A 403 over http
	# is asked again over https at the reply's https_port (here none: 0).
	grep -q "AUTH failed failed to auth against 127.0.0.1:$AUTHD_PORT - dial" "$NSQD_LOG"
}

@test "nsqd auth: topic and channel patterns with \\d and (?i), per permission" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
def authed(secret):
    c = connect()
    c.auth(secret)
    c.response_json()
    return c

def allowed(secret, send):
    c = authed(secret)
    send(c)
    c.ok()
    c.close()

def denied(secret, send, text):
    c = authed(secret)
    send(c)
    fatal(c, text)

allowed('digits', lambda c: c.pub('t1', b'x'))
allowed('digits', lambda c: c.pub('t123', b'x'))
allowed('digits', lambda c: c.mpub('t9', [b'x', b'y']))
allowed('digits', lambda c: c.dpub('t7', 5, b'x'))
denied('digits', lambda c: c.pub('tx', b'x'),
       b'E_UNAUTHORIZED AUTH failed for PUB on "tx" ""')
denied('digits', lambda c: c.pub('t1x', b'x'),
       b'E_UNAUTHORIZED AUTH failed for PUB on "t1x" ""')
denied('digits', lambda c: c.mpub('orders', [b'x']),
       b'E_UNAUTHORIZED AUTH failed for MPUB on "orders" ""')
denied('digits', lambda c: c.dpub('x1', 5, b'x'),
       b'E_UNAUTHORIZED AUTH failed for DPUB on "x1" ""')
# (?i) on the topic; the channel patterns, one of them with (?i) too.
allowed('digits', lambda c: c.sub('ORDERS', 'ch1'))
allowed('digits', lambda c: c.sub('orders', 'AUDIT'))
denied('digits', lambda c: c.sub('orders', 'ch12'),
       b'E_UNAUTHORIZED AUTH failed for SUB on "orders" "ch12"')
denied('digits', lambda c: c.sub('orderz', 'ch1'),
       b'E_UNAUTHORIZED AUTH failed for SUB on "orderz" "ch1"')
# publish-only topics cannot be subscribed to.
denied('digits', lambda c: c.sub('t1', 'ch1'),
       b'E_UNAUTHORIZED AUTH failed for SUB on "t1" "ch1"')
# Unanchored patterns match anywhere in the name, as MatchString.
allowed('loose', lambda c: c.pub('xt1y', b'x'))
allowed('loose', lambda c: c.sub('at5', 'abc'))
denied('loose', lambda c: c.sub('at5', 'xyz'),
       b'E_UNAUTHORIZED AUTH failed for SUB on "at5" "xyz"')
# A publish is matched against the channel patterns with "".
denied('pubc', lambda c: c.pub('t', b'x'),
       b'E_UNAUTHORIZED AUTH failed for PUB on "t" ""')
# No channel pattern: nothing matches, not even a publish's "".
denied('nochan', lambda c: c.pub('t', b'x'),
       b'E_UNAUTHORIZED AUTH failed for PUB on "t" ""')
EOF
}

@test "nsqd auth: the query is Go's: GET /auth with secret, remote_ip, tls, common_name" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('a b&c=d')
fatal(c, b'E_AUTH_FAILED AUTH failed')
EOF
	run python3 -c '
import json, sys
q = [json.loads(l) for l in open(sys.argv[1])]
assert len(q) == 1, q
assert q[0]["method"] == "GET" and q[0]["path"] == "/auth", q
assert q[0]["params"] == {"secret": "a b&c=d", "remote_ip": "127.0.0.1",
    "tls": "false", "common_name": ""}, q
print("ok")' "$AUTH_LOG"
	assert_success
	assert_output ok
}

@test "nsqd auth: an auth server named localhost" {
	start_nsqd --auth-http-address="localhost:$AUTHD_PORT"
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
assert c.response_json()['identity'] == 'alice'
EOF
}

@test "nsqd auth: --auth-http-request-method=post and a full URL" {
	start_nsqd --auth-http-address="http://127.0.0.1:$AUTHD_PORT/v1/check" \
	    --auth-http-request-method=post
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
c.response_json()
c.pub('t', b'x')
c.ok()
EOF
	run python3 -c '
import json, sys
q = [json.loads(l) for l in open(sys.argv[1])]
assert len(q) == 1, q
assert q[0]["method"] == "POST" and q[0]["path"] == "/v1/check", q
assert q[0]["params"] == {"secret": "all", "remote_ip": "127.0.0.1",
    "tls": "false", "common_name": ""}, q
print("ok")' "$AUTH_LOG"
	assert_success
	assert_output ok
}

@test "nsqd auth: bad addresses and methods refuse to start" {
	run "$NSQ_BIN_DIR/nsqd" --auth-http-request-method=put
	assert_failure
	assert_output --partial "--auth-http-request-method must be post or get"
	run "$NSQ_BIN_DIR/nsqd" --auth-http-address=ftp://127.0.0.1:1/x
	assert_failure 2
	assert_output --partial 'invalid value "ftp://127.0.0.1:1/x" for flag -auth-http-address'
}

@test "nsqd auth: every bad --auth-http-address is a usage error naming the flag" {
	local a
	for a in '' 'http://' 'http:///auth' 'http://:4181/auth' 'ftp://x' \
	    '127.0.0.1:99999' '127.0.0.1:x' 'http://127.0.0.1:-1/auth' \
	    'foo bar' 'a"b:1' 'http://[::1/auth'; do
		# Bounded: were the value taken, nsqd would start and serve.
		run timeout 10 "$NSQ_BIN_DIR/nsqd" --auth-http-address="$a" \
		    --data-path="$BATS_TEST_TMPDIR" --tcp-address=127.0.0.1:0 \
		    --http-address=127.0.0.1:0 --https-address=127.0.0.1:0
		[ "$status" -eq 2 ] || fail "'$a': status $status: $output"
		assert_output --partial "invalid value \"$a\" for flag -auth-http-address"
	done
}

@test "nsqd auth: past the TTL the authorization is fetched again" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
import urllib.request
def count():
    u = 'http://127.0.0.1:%s/count?secret=short' % os.environ['AUTHD_PORT']
    return int(urllib.request.urlopen(u, timeout=5).read())
c = connect()
c.auth('short')
c.response_json()
assert count() == 1
c.pub('t', b'x')
c.ok()
# ttl is 1 s: publish until nsqd asks again (bounded: 10 s).
deadline = time.monotonic() + 10
while count() < 2 and time.monotonic() < deadline:
    c.pub('t', b'x')
    c.ok()
    time.sleep(0.2)
assert count() == 2, count()
# A client past its TTL whose server now fails gets E_AUTH_FAILED.
conf = json.load(open(os.environ['AUTH_CONF']))
conf['secrets']['short'] = {'status': 500, 'raw': 'down'}
open(os.environ['AUTH_CONF'] + '.tmp', 'w').write(json.dumps(conf))
os.rename(os.environ['AUTH_CONF'] + '.tmp', os.environ['AUTH_CONF'])
deadline = time.monotonic() + 10
while True:
    c.pub('t', b'x')
    ftype, data = c.frame()
    if ftype == FRAME_ERROR:
        assert data == b'E_AUTH_FAILED AUTH failed', data
        assert c.closed()
        break
    assert data == b'OK' and time.monotonic() < deadline, data
    time.sleep(0.2)
EOF
	grep -q 'got response 500 Internal Server Error "down"' "$NSQD_LOG"
}

@test "nsqd auth: a TTL refetch that takes the authorization away is E_UNAUTHORIZED" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('short')
c.response_json()
conf = json.load(open(os.environ['AUTH_CONF']))
conf['secrets']['short']['authorizations'][0]['topic'] = '^other$'
open(os.environ['AUTH_CONF'] + '.tmp', 'w').write(json.dumps(conf))
os.rename(os.environ['AUTH_CONF'] + '.tmp', os.environ['AUTH_CONF'])
deadline = time.monotonic() + 10
while True:
    c.pub('t', b'x')
    ftype, data = c.frame()
    if ftype == FRAME_ERROR:
        assert data == b'E_UNAUTHORIZED AUTH failed for PUB on "t" ""', data
        assert c.closed()
        break
    assert data == b'OK' and time.monotonic() < deadline, data
    time.sleep(0.2)
EOF
}

@test "nsqd auth: a slow auth server holds up only the client waiting for it" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
import select, urllib.request
def count(s):
    u = 'http://127.0.0.1:%s/count?secret=%s' % (os.environ['AUTHD_PORT'], s)
    return int(urllib.request.urlopen(u, timeout=5).read())
fast = connect()
fast.auth('all')
fast.response_json()
slow = connect()
slow.auth('slow')
slow.pub('t', b'behind the AUTH')
# The slow query has reached the auth server (which sleeps 3 s)...
deadline = time.monotonic() + 10
while count('slow') < 1:
    assert time.monotonic() < deadline
    time.sleep(0.02)
# ...and meanwhile the other client is served, round trip after round trip.
for i in range(5):
    fast.pub('t', b'fast %d' % i)
    fast.ok()
# Still nothing for the waiting client: its AUTH has not been answered.
r, _, _ = select.select([slow.sock], [], [], 0)
assert not r and not slow.buf, 'the slow client was answered early'
# Then it is, and its PUB after.
j = slow.response_json(timeout=15)
assert j['identity'] == 'slow', j
slow.ok()
fast.pub('t', b'fast again')
fast.ok()
EOF
}

@test "nsqd auth: a client that resets while its AUTH waits is dropped, the others go on" {
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
import socket, urllib.request
def count(s):
    u = 'http://127.0.0.1:%s/count?secret=%s' % (os.environ['AUTHD_PORT'], s)
    return int(urllib.request.urlopen(u, timeout=5).read())
gone = connect()
gone.auth('slow')
deadline = time.monotonic() + 10
while count('slow') < 1:
    assert time.monotonic() < deadline
    time.sleep(0.02)
# A reset (SO_LINGER 0) while the query is in flight.
gone.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
gone.close()
c = connect()
c.auth('all')
c.response_json()
c.pub('t', b'x')
c.ok()
time.sleep(3.5)   # past the slow answer, which nobody may use now
c.pub('t', b'y')
c.ok()
EOF
	grep -q 'exiting ioloop (read error)' "$NSQD_LOG"
	stop_nsqd
}

@test "nsqd auth: bad auth server answers are E_AUTH_FAILED for that client only" {
	start_authed_nsqd --http-client-request-timeout=1s
	wire <<'EOF'
from nsqdtest import *
good = connect()
good.auth('all')
good.response_json()
for secret in ('e500', 'badjson', 'badtype', 'badregex', 'badchan',
               'badperm', 'negttl', 'zerottl', 'timeout'):
    c = connect()
    c.auth(secret)
    fatal(c, b'E_AUTH_FAILED AUTH failed', timeout=10)
    good.pub('t', secret.encode())
    good.ok()
EOF
	grep -q 'unable to compile topic "("' "$NSQD_LOG"
	grep -q 'unable to compile channel "\[z-a\]"' "$NSQD_LOG"
	grep -q 'unknown permission admin' "$NSQD_LOG"
	grep -q 'invalid TTL -5 (must be >0)' "$NSQD_LOG"
	grep -q 'invalid TTL 0 (must be >0)' "$NSQD_LOG"
}

@test "nsqd auth: a huge auth reply is E_AUTH_FAILED" {
	python3 -c '
import json, sys
conf = json.load(open(sys.argv[1]))
conf["secrets"]["huge"] = {"ttl": 3600, "identity": "x" * (2 << 20),
    "authorizations": [{"topic": ".*", "channels": [".*"],
    "permissions": ["publish"]}]}
json.dump(conf, open(sys.argv[1], "w"))' "$AUTH_CONF"
	start_authed_nsqd
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('huge')
fatal(c, b'E_AUTH_FAILED AUTH failed', timeout=10)
c = connect()
c.auth('all')
c.response_json()
EOF
	grep -q 'response body too large' "$NSQD_LOG"
}

@test "nsqd auth: servers are tried in turn; all down is E_AUTH_FAILED" {
	local dead
	dead=$(free_port)
	start_authed_nsqd --auth-http-address="127.0.0.1:$dead"
	wire <<'EOF'
from nsqdtest import *
# Whichever is tried first, the live one answers.
for i in range(6):
    c = connect()
    c.auth('all')
    c.response_json()
    c.close()
EOF
	stop_nsqd
	start_nsqd --auth-http-address="127.0.0.1:$dead" \
	    --auth-http-address="127.0.0.1:$(free_port)"
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
fatal(c, b'E_AUTH_FAILED AUTH failed')
EOF
	grep -q "failed to auth against 127.0.0.1:$dead - dial" "$NSQD_LOG"
	grep -q "; failed to auth against 127.0.0.1:" "$NSQD_LOG"
}

@test "nsqd auth: /stats shows authed, auth_identity and auth_identity_url" {
	start_authed_nsqd
	cat >"$BATS_TEST_TMPDIR/subs.py" <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
c.response_json()
c.sub('st', 'c')
c.ok()
d = connect()
d.auth('digits')
d.response_json()
d.sub('orders', 'ch1')
d.ok()
e = connect()
e.sub('nobody', 'c')   # refused: not in the stats
time.sleep(50)
EOF
	start_bg SUBS timeout 60 python3 "$BATS_TEST_TMPDIR/subs.py"
	wait_until 20 eval "curl -sf 'http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json' | grep -q '\"orders\"'"
	run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=st"
	assert_success
	assert_output --partial '"user_agent":"","authed":true,"auth_identity":"alice","auth_identity_url":"https://example.invalid/alice","tls":false'
	# omitempty: no identity_url, no key.
	run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=orders"
	assert_success
	assert_output --partial '"user_agent":"","authed":true,"auth_identity":"bob","tls":false'
	stop_bg SUBS || true
}

# certs DIR: a self-signed server certificate for 127.0.0.1 and a client
# certificate with CN=client-cn.
certs() {
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 \
	    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=client-cn \
	    -keyout "$1/ckey.pem" -out "$1/ccert.pem" 2>/dev/null
}

@test "nsqd auth: an https auth server, checked against --tls-root-ca-file; tls and common_name sent" {
	local d=$BATS_TEST_TMPDIR/certs
	certs "$d"
	start_authd HTTPS --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	start_nsqd --auth-http-address="https://127.0.0.1:$HTTPS_PORT/auth" \
	    --tls-root-ca-file="$d/cert.pem" --tls-cert="$d/cert.pem" \
	    --tls-key="$d/key.pem" --tls-client-auth-policy=require
	CERTS=$d wire <<'EOF'
from nsqdtest import *
import ssl
c = connect({'feature_negotiation': True, 'tls_v1': True})
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
d = os.environ['CERTS']
ctx.load_cert_chain(d + '/ccert.pem', d + '/ckey.pem')
c.sock = ctx.wrap_socket(c.sock)
c.ok()
c.auth('all')
j = c.response_json()
assert j['identity'] == 'alice', j
c.pub('t', b'x')
c.ok()
EOF
	run python3 -c '
import json, sys
q = [json.loads(l) for l in open(sys.argv[1])]
assert len(q) == 1, q
assert q[0]["params"] == {"secret": "all", "remote_ip": "127.0.0.1",
    "tls": "true", "common_name": "client-cn"}, q
print("ok")' "$AUTH_LOG"
	assert_success
	assert_output ok
}

@test "nsqd auth: an https auth server whose certificate does not verify is E_AUTH_FAILED" {
	local d=$BATS_TEST_TMPDIR/certs
	certs "$d"
	start_authd HTTPS --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	# No --tls-root-ca-file: the system's roots do not know this one.
	start_nsqd --auth-http-address="https://127.0.0.1:$HTTPS_PORT/auth"
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
fatal(c, b'E_AUTH_FAILED AUTH failed')
EOF
	grep -q 'certificate verify failed' "$NSQD_LOG"
}

@test "nsqd auth: a 403 with https_port is asked again over https there, as Go's GETV1" {
	local d=$BATS_TEST_TMPDIR/certs
	certs "$d"
	start_authd HTTPS --tls-cert "$d/cert.pem" --tls-key "$d/key.pem"
	start_authd REDIR --https-port "$HTTPS_PORT"
	start_nsqd --auth-http-address="127.0.0.1:$REDIR_PORT" \
	    --tls-root-ca-file="$d/cert.pem"
	wire <<'EOF'
from nsqdtest import *
c = connect()
c.auth('all')
j = c.response_json()
assert j['identity'] == 'alice', j
EOF
	run grep -c '"path": "/auth"' "$AUTH_LOG"
	assert_output 2
}

# http STATUS_AND_BODY_FILE SECRET CURL_ARGS...: status of a request to
# nsqd's HTTP API with "Authorization: Bearer SECRET" ("" for none).
http() {
	local out=$1 secret=$2
	shift 2
	curl -s -o "$out" -w '%{http_code}' --max-time 20 \
	    ${secret:+-H "Authorization: Bearer $secret"} "$@"
}

@test "nsqd auth: --http-auth-required needs a bearer secret on every route but /ping" {
	start_authed_nsqd --http-auth-required
	local u=http://127.0.0.1:$NSQD_HTTP_PORT b=$BATS_TEST_TMPDIR/body
	run http "$b" "" "$u/ping"
	assert_output 200
	for path in /stats /info /metrics /config/log_level; do
		run http "$b" "" "$u$path"
		assert_output 401
		run cat "$b"
		assert_output '{"message":"AUTH_REQUIRED"}'
	done
	run http "$b" "" -H "Authorization: Basic eDp5" "$u/stats"
	assert_output 401
	run http "$b" no-such-secret "$u/stats"
	assert_output 401
	run cat "$b"
	assert_output '{"message":"AUTH_FAILED"}'
	run http "$b" none "$u/info"
	assert_output 401
	for path in /stats /info /metrics /config/log_level; do
		run http "$b" digits "$u$path"
		assert_output 200
	done
	# Cached for the TTL: one query per secret.
	run queries digits
	assert_output 1
}

@test "nsqd auth: --http-auth-required checks the topic and channel of each route" {
	start_authed_nsqd --http-auth-required
	local u=http://127.0.0.1:$NSQD_HTTP_PORT b=$BATS_TEST_TMPDIR/body
	run http "$b" digits -d x "$u/pub?topic=t1"
	assert_output 200
	run http "$b" digits -d x "$u/pub?topic=orders"
	assert_output 403
	run cat "$b"
	assert_output '{"message":"FORBIDDEN"}'
	run http "$b" digits --data-binary $'a\nb' "$u/mpub?topic=t22"
	assert_output 200
	# Topic and channel operations need publish and subscribe.
	run http "$b" digits -X POST "$u/topic/create?topic=t1"
	assert_output 403
	run http "$b" all -X POST "$u/topic/create?topic=t1"
	assert_output 200
	run http "$b" all -X POST "$u/channel/create?topic=t1&channel=c"
	assert_output 200
	run http "$b" loose -X POST "$u/channel/pause?topic=t1&channel=c"
	assert_output 200
	run http "$b" loose -X POST "$u/channel/pause?topic=t1&channel=zz"
	assert_output 403
	run http "$b" digits -X POST "$u/topic/delete?topic=t1"
	assert_output 403
	# /config PUT needs an authorization for ".*" topics.
	run http "$b" digits -X PUT -d debug "$u/config/log_level"
	assert_output 403
	run http "$b" all -X PUT -d debug "$u/config/log_level"
	assert_output 200
	# A missing topic is still the handler's own 400.
	run http "$b" all -d x "$u/pub"
	assert_output 400
}

@test "nsqd auth: a slow auth server holds up only the HTTP request waiting for it" {
	start_authed_nsqd --http-auth-required
	local u=http://127.0.0.1:$NSQD_HTTP_PORT b=$BATS_TEST_TMPDIR/body
	run http "$b" all "$u/stats"
	assert_output 200
	start_bg SLOWREQ curl -s -o "$BATS_TEST_TMPDIR/slow" -w '%{http_code}' \
	    --max-time 30 -H "Authorization: Bearer slow" "$u/info"
	wait_until 10 eval '[[ $(queries slow) -ge 1 ]]'
	# The cached secret is served while the other waits.
	run http "$b" all -d x "$u/pub?topic=t"
	assert_output 200
	run proc_alive SLOWREQ
	assert_success
	run wait_bg SLOWREQ 20
	assert_success
	run cat "$SLOWREQ_LOG"
	assert_output 200
}

@test "nsqd auth: --http-auth-required without an auth server refuses to start" {
	run "$NSQ_BIN_DIR/nsqd" --http-auth-required
	assert_failure
	assert_output --partial "--http-auth-required needs an --auth-http-address"
}

@test "nsqd auth: SIGTERM while an HTTP request and an AUTH wait for the auth server" {
	start_authed_nsqd --http-auth-required
	local u=http://127.0.0.1:$NSQD_HTTP_PORT
	start_bg SLOWREQ curl -s -o /dev/null --max-time 30 \
	    -H "Authorization: Bearer slow" "$u/info"
	cat >"$BATS_TEST_TMPDIR/slowauth.py" <<'EOF'
from nsqdtest import *
c = connect()
c.auth('slow')
time.sleep(20)
EOF
	start_bg SLOWTCP timeout 30 python3 "$BATS_TEST_TMPDIR/slowauth.py"
	wait_until 10 eval '[[ $(queries slow) -ge 2 ]]'
	# A clean exit 0, with nothing leaked or used after free (the
	# sanitized build's teardown reads the log).
	stop_nsqd
}

# gate_queries: the auth server's queries, one "tls common_name" line each.
gate_queries() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    p = json.loads(l)["params"]
    print(p["tls"], p["common_name"] or "-")' "$AUTH_LOG"
}

@test "nsqd auth: --http-auth-required says tls=true over HTTPS, with a client certificate's common_name" {
	local d=$BATS_TEST_TMPDIR/certs hp b=$BATS_TEST_TMPDIR/body
	certs "$d"
	hp=$(free_port)
	start_authed_nsqd --http-auth-required --https-address=127.0.0.1:$hp \
	    --tls-cert="$d/cert.pem" --tls-key="$d/key.pem"
	wait_until 10 tcp_port_open "$hp"
	run http "$b" all "http://127.0.0.1:$NSQD_HTTP_PORT/info"
	assert_output 200
	run http "$b" all -k "https://127.0.0.1:$hp/info"
	assert_output 200
	# The answer for plain HTTP is not the one for TLS: asked again.
	run gate_queries
	assert_output "$(printf 'false -\ntrue -')"
	stop_nsqd
	: >"$AUTH_LOG"
	hp=$(free_port)
	start_nsqd -n N2 --auth-http-address="127.0.0.1:$AUTHD_PORT" \
	    --http-auth-required --https-address=127.0.0.1:$hp --tls-cert="$d/cert.pem" \
	    --tls-key="$d/key.pem" --tls-client-auth-policy=require
	wait_until 10 tcp_port_open "$hp"
	run http "$b" all -k --cert "$d/ccert.pem" --key "$d/ckey.pem" \
	    "https://127.0.0.1:$hp/info"
	assert_output 200
	run gate_queries
	assert_output "true client-cn"
}
