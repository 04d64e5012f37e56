#!/usr/bin/env bats
# HTTPS (--https-address) and the TLS options as Go nsqd v1.3.0 reads them:
# nsqd.go (listen HTTPS only with a certificate; buildTLSConfig), http.go
# (ServeHTTP's TLS_REQUIRED answer, which exempts nothing, /ping included),
# apps/nsqd/options.go (tlsRequiredOption, tlsVersionTable), client_v2.go
# (the TCP handshake's 5 s deadline).  Certificates are made at test time.

load helpers
load tls_certs

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	make_certs "$CERTS" || {
		cat "$CERTS/make.log" >&2
		return 1
	}
}

teardown() {
	teardown_daemons
}

# start_https [ARGS...]: nsqd with the server certificate and HTTPS on a
# free port ($HTTPS_PORT), ready on all three ports.
start_https() {
	local name=()
	if [[ ${1:-} == -n ]]; then
		name=(-n "$2")
		shift 2
	fi
	HTTPS_PORT=$(free_port)
	export HTTPS_PORT
	start_nsqd "${name[@]}" --https-address=127.0.0.1:$HTTPS_PORT \
	    --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key" "$@"
	# (That probe is a handshake error, "EOF", in the log, as in Go.)
	wait_until 10 tcp_port_open "$HTTPS_PORT"
}

# handshake_errors LOG: how many handshake errors LOG has.
handshake_errors() {
	grep -c 'TLS handshake error from' "$1"
}

# req URL [CURL ARGS...]: $code, $body, and $hdrs (the headers but Date).
req() {
	local url=$1
	shift
	code=$(curl -sS --max-time 10 -o "$BATS_TEST_TMPDIR/body" \
	    -D "$BATS_TEST_TMPDIR/hdrs" -w '%{http_code}' "$@" "$url") ||
	    return 1
	body=$(cat "$BATS_TEST_TMPDIR/body")
	hdrs=$(grep -vi '^Date:' "$BATS_TEST_TMPDIR/hdrs" | tr -d '\r')
}

# https PATH [CURL ARGS...] and http PATH [CURL ARGS...]
https() {
	local p=$1
	shift
	req "https://127.0.0.1:$HTTPS_PORT$p" --cacert "$CERTS/ca.pem" "$@"
}
http() {
	local p=$1
	shift
	req "http://127.0.0.1:$NSQD_HTTP_PORT$p" "$@"
}

# tcp_pub_plain: a plain TCP PUB; prints OK or the error frame.
tcp_pub_plain() {
	python3 - "$NSQD_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.pub("t", b"x")
kind, data = c.frame()
print(data.decode())
EOF
}

# tls_tcp [CERT KEY] [MAXVER]: IDENTIFY tls_v1, handshake verifying the
# server with the CA, then PUB; prints OK or the exception's class.
tls_tcp() {
	python3 - "$NSQD_TCP_PORT" "$CERTS" "${1:-}" "${2:-}" "${3:-}" <<'EOF'
import ssl, sys
from nsqwire import Conn
port, certs, cert, key, maxv = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(certs + "/ca.pem")
if cert:
    ctx.load_cert_chain(cert, key)
if maxv:
    ctx.maximum_version = getattr(ssl.TLSVersion, maxv)
c = Conn(int(port)); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True})
assert c.response_json()["tls_v1"] is True
try:
    c.sock = ctx.wrap_socket(c.sock, server_hostname="127.0.0.1")
    c.ok()
    c.pub("t", b"x"); c.ok()
    print("OK", c.sock.version())
except Exception as e:
    print("refused", type(e).__name__, e)
EOF
}

@test "https: /ping, /stats, /pub, /info answer as on plain HTTP" {
	start_https
	for p in /ping /info '/stats?format=json' /nosuch '/config/tls_required'; do
		http "$p"
		local c1=$code b1=$body h1=$hdrs
		https "$p"
		[[ $code == "$c1" ]] || fail "$p: https $code, http $c1"
		# /info and /stats carry a start time only: equal within a run.
		[[ $body == "$b1" || $p == '/stats?format=json' ]] ||
		    fail "$p: https '$body', http '$b1'"
		[[ $hdrs == "$h1" ]] || fail "$p: headers differ:
$hdrs
---
$h1"
	done
	https /ping
	assert_equal "$code $body" "200 OK"
	https '/pub?topic=t' --data-binary hello
	assert_equal "$code $body" "200 OK"
	https '/stats?format=json&topic=t'
	[[ $body == *'"message_count":1'* ]] || fail "$body"
	grep -q "HTTPS: listening on 127.0.0.1:$HTTPS_PORT" "$NSQD_LOG"
}

@test "https: plain HTTP on the HTTPS port gets Go's 400, and no log line" {
	start_https
	local before
	before=$(handshake_errors "$NSQD_LOG")
	run curl -sS --max-time 10 -i "http://127.0.0.1:$HTTPS_PORT/ping"
	assert_success
	assert_output "$(printf 'HTTP/1.0 400 Bad Request\r\n\r\n%s' \
	    'Client sent an HTTP request to an HTTPS server.')"
	run handshake_errors "$NSQD_LOG"
	assert_output "$before"
}

@test "https: listened on only with a certificate, as Go decides" {
	local hp
	hp=$(free_port)
	start_nsqd --https-address=127.0.0.1:$hp
	run tcp_port_open "$hp"
	assert_failure
	run grep -c HTTPS "$NSQD_LOG"
	assert_output 0
	# A certificate and --https-address '': no HTTPS either.
	start_nsqd -n T --https-address= --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/server.key"
	run grep -c HTTPS "$T_LOG"
	assert_output 0
	# Go listens on HTTPS with "tcp" only: a path is no address.
	run "$NSQ_BIN_DIR/nsqd" --tcp-address=127.0.0.1:0 --http-address= \
	    --data-path="$BATS_TEST_TMPDIR" --https-address="$BATS_TEST_TMPDIR/s" \
	    --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key"
	assert_failure
	assert_output --partial "missing port in address"
}

@test "https: --tls-required=false: plain TCP, HTTP and HTTPS all served" {
	start_https --tls-required=false
	run tcp_pub_plain
	assert_output OK
	http /ping
	assert_equal "$code $body" "200 OK"
	https /ping
	assert_equal "$code $body" "200 OK"
	http /config/tls_required
	assert_equal "$body" 0
}

@test "https: --tls-required=tcp-https: TCP needs TLS; HTTP and HTTPS served" {
	start_https --tls-required=TCP-HTTPS
	run tcp_pub_plain
	assert_output "E_INVALID cannot PUB in current state (TLS required)"
	run tls_tcp
	assert_output --partial "OK TLSv1.3"
	http /ping
	assert_equal "$code $body" "200 OK"
	http '/pub?topic=t' --data-binary x
	assert_equal "$code $body" "200 OK"
	https /ping
	assert_equal "$code $body" "200 OK"
	https /config/tls_required
	assert_equal "$body" 1
}

@test "https: --tls-required=true: plain HTTP is 403 TLS_REQUIRED, /ping too" {
	start_https --tls-required
	local want="{\"message\": \"TLS_REQUIRED\", \"https_port\": $HTTPS_PORT}"
	run tcp_pub_plain
	assert_output "E_INVALID cannot PUB in current state (TLS required)"
	# Go's ServeHTTP answers before its router: every path and method.
	for p in /ping /stats /nosuch; do
		http "$p"
		assert_equal "$code $body" "403 $want"
	done
	http '/pub?topic=t' --data-binary x
	assert_equal "$code $body" "403 $want"
	http /ping -X DELETE
	assert_equal "$code $body" "403 $want"
	# Go spells it X-Nsq-Content-Type (tests/PARITY.md): names compared
	# without case.
	assert_equal "${hdrs,,}" "$(tr A-Z a-z <<<"HTTP/1.1 403 Forbidden
Content-Type: application/json; charset=utf-8
X-NSQ-Content-Type: nsq; version=1.0
Content-Length: ${#want}
")"
	https /ping
	assert_equal "$code $body" "200 OK"
	https '/pub?topic=t' --data-binary x
	assert_equal "$code $body" "200 OK"
	https /config/tls_required
	assert_equal "$body" 2
}

@test "https: --tls-required=true without HTTPS names port 0, as Go" {
	start_nsqd --https-address= --tls-required=1 \
	    --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key"
	http /ping
	assert_equal "$code $body" \
	    '403 {"message": "TLS_REQUIRED", "https_port": 0}'
}

@test "https: --tls-required takes Go's values only" {
	run "$NSQ_BIN_DIR/nsqd" --tcp-address=127.0.0.1:0 --http-address= \
	    --data-path="$BATS_TEST_TMPDIR" --tls-required=Yes
	assert_equal "$status" 2
	assert_output --partial 'invalid value "Yes" for flag -tls-required: strconv.ParseBool: parsing "yes": invalid syntax'
}

@test "https: require-verify: no certificate or a foreign one refused, the CA's accepted (HTTPS and TCP)" {
	start_https --tls-client-auth-policy=require-verify \
	    --tls-root-ca-file="$CERTS/ca.pem"
	run https /ping
	assert_failure
	run https /ping --cert "$CERTS/rogue.pem" --key "$CERTS/rogue.key"
	assert_failure
	# The client is told why: OpenSSL's alert.
	assert_output --partial "alert unknown ca"
	https /ping --cert "$CERTS/client.pem" --key "$CERTS/client.key"
	assert_equal "$code $body" "200 OK"
	# The TCP client gets OpenSSL's alert too.
	run tls_tcp
	assert_output --partial "refused SSLError"
	assert_output --partial "alert certificate required"
	run tls_tcp "$CERTS/rogue.pem" "$CERTS/rogue.key"
	assert_output --partial "refused SSLError"
	assert_output --partial "alert unknown ca"
	run tls_tcp "$CERTS/client.pem" "$CERTS/client.key"
	assert_output --partial "OK TLSv1.3"
	# One line for each failed handshake, with its reason (and the probe).
	wait_until 5 test "$(handshake_errors "$NSQD_LOG")" = 3
	run grep -c 'E_IDENTIFY_FAILED IDENTIFY failed' "$NSQD_LOG"
	assert_output 2
	grep -q 'TLS handshake error from 127.0.0.1:[0-9]*: peer did not return a certificate' "$NSQD_LOG"
	grep -q 'certificate verify failed' "$NSQD_LOG"
	# A policy makes TLS required, as Go: plain HTTP is refused.
	http /ping
	assert_equal "$code" 403
}

@test "https: require: any client certificate will do, none will not" {
	start_https --tls-client-auth-policy=require
	run https /ping
	assert_failure
	https /ping --cert "$CERTS/rogue.pem" --key "$CERTS/rogue.key"
	assert_equal "$code $body" "200 OK"
	run tls_tcp "$CERTS/rogue.pem" "$CERTS/rogue.key"
	assert_output --partial "OK TLSv1.3"
	https /config/tls_required --cert "$CERTS/rogue.pem" \
	    --key "$CERTS/rogue.key"
	assert_equal "$body" 2
	# A policy leaves tcp-https as it is (Go changes only "false").
	start_nsqd -n K --https-address= --tls-required=tcp-https \
	    --tls-client-auth-policy=require \
	    --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key"
	run curl -sS "http://127.0.0.1:$K_HTTP_PORT/config/tls_required"
	assert_output 1
	run curl -sS "http://127.0.0.1:$K_HTTP_PORT/ping"
	assert_output OK
}

@test "https: --tls-min-version=TLS1.2 is accepted, tls1.3 refuses a TLS 1.2 client" {
	start_https --tls-min-version=TLS1.2
	http /config/tls_min_version
	assert_equal "$body" 771
	https /ping --tls-max 1.2
	assert_equal "$code $body" "200 OK"
	start_https -n T --tls-min-version=tls1.3
	HP13=$HTTPS_PORT
	run req "https://127.0.0.1:$HP13/ping" --cacert "$CERTS/ca.pem" \
	    --tls-max 1.2
	assert_failure
	req "https://127.0.0.1:$HP13/ping" --cacert "$CERTS/ca.pem" --tlsv1.3
	assert_equal "$code $body" "200 OK"
	NSQD_TCP_PORT=$T_TCP_PORT run tls_tcp "" "" TLSv1_2
	assert_output --partial refused
	NSQD_TCP_PORT=$T_TCP_PORT run tls_tcp
	assert_output --partial "OK TLSv1.3"
	run curl -s "http://127.0.0.1:$T_HTTP_PORT/config/tls_min_version"
	assert_output 772
}

@test "https: --tls-min-version takes only Go's table: ssl3.0 and tls1.4 refused" {
	for v in ssl3.0 tls1.4 TLSv1.2; do
		run "$NSQ_BIN_DIR/nsqd" --tcp-address=127.0.0.1:0 \
		    --http-address= --data-path="$BATS_TEST_TMPDIR" \
		    --tls-min-version=$v
		assert_equal "$status" 2
		local l
		l=$(tr 'A-Z' 'a-z' <<<"$v")
		assert_output --partial "invalid value \"$v\" for flag -tls-min-version: unknown tlsVersionOption \"$l\""
	done
}

@test "https: bad certificate, key or CA files are fatal at start-up" {
	local d=$BATS_TEST_TMPDIR
	echo garbage >"$d/garbage.pem"
	local args=(--tcp-address=127.0.0.1:0 --http-address= --https-address=
	    --data-path="$d")
	run "$NSQ_BIN_DIR/nsqd" "${args[@]}" --tls-cert="$d/none.pem" \
	    --tls-key="$CERTS/server.key"
	assert_failure
	assert_output --partial "FATAL: failed to load TLS key pair"
	run "$NSQ_BIN_DIR/nsqd" "${args[@]}" --tls-cert="$d/garbage.pem" \
	    --tls-key="$CERTS/server.key"
	assert_failure
	assert_output --partial "FATAL: failed to load TLS key pair"
	# A key that is not the certificate's.
	run "$NSQ_BIN_DIR/nsqd" "${args[@]}" --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/client.key"
	assert_failure
	assert_output --partial "FATAL: failed to load TLS key pair"
	run "$NSQ_BIN_DIR/nsqd" "${args[@]}" --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/server.key" --tls-root-ca-file="$d/garbage.pem"
	assert_failure
	assert_output --partial "FATAL: failed to load root CA"
	run "$NSQ_BIN_DIR/nsqd" "${args[@]}" --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/server.key" --tls-root-ca-file="$d/none.pem"
	assert_failure
	assert_output --partial "FATAL: failed to load root CA"
}

@test "https: an expired or foreign server certificate fails a verifying client" {
	HTTPS_PORT=$(free_port)
	start_nsqd --https-address=127.0.0.1:$HTTPS_PORT \
	    --tls-cert="$CERTS/expired.pem" --tls-key="$CERTS/expired.key"
	wait_until 10 tcp_port_open "$HTTPS_PORT"
	run curl -sS --max-time 10 --cacert "$CERTS/ca.pem" \
	    "https://127.0.0.1:$HTTPS_PORT/ping"
	assert_failure
	assert_output --partial expired
	start_https -n W
	run curl -sS --max-time 10 --cacert "$CERTS/other-ca.pem" \
	    "https://127.0.0.1:$HTTPS_PORT/ping"
	assert_failure
	# The server logs the client's alert, once per handshake.
	wait_until 5 grep -q 'TLS handshake error from .*alert' "$NSQD_LOG"
	wait_until 5 grep -q 'TLS handshake error from .*alert' "$W_LOG"
	run handshake_errors "$W_LOG"
	assert_output 2
}

@test "https: a TLS record in one-byte writes works (HTTPS and TCP)" {
	start_https
	run timeout 60 python3 - "$HTTPS_PORT" "$NSQD_TCP_PORT" "$CERTS" <<'EOF'
import socket, ssl, struct, sys, time
from nsqwire import body
hp, tp, certs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(certs + "/ca.pem")

def drip(s, data):
    for i in range(len(data)):
        s.sendall(data[i:i + 1])
        time.sleep(0.0005)

def session(s, first=b""):
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
    for _ in range(50):
        try:
            t.do_handshake()
            break
        except ssl.SSLWantReadError:
            drip(s, out.read())
            inc.write(s.recv(65536))
    drip(s, out.read())
    return t, inc, out

def roundtrip(s, t, inc, out, data, until):
    t.write(data)
    drip(s, out.read())
    got = b""
    deadline = time.time() + 20
    while not until(got) and time.time() < deadline:
        try:
            got += t.read(65536)
        except ssl.SSLWantReadError:
            d = s.recv(65536)
            if not d:
                break
            inc.write(d)
    return got

s = socket.create_connection(("127.0.0.1", hp), timeout=20)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
t, inc, out = session(s)
got = roundtrip(s, t, inc, out, b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
                lambda g: g.endswith(b"\r\n\r\nOK"))
assert got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(b"OK"), got
print("https ok")

s = socket.create_connection(("127.0.0.1", tp), timeout=20)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
drip(s, b"  V2IDENTIFY\n" + body(b'{"feature_negotiation":true,"tls_v1":true}'))
got = b""
while len(got) < 4 or len(got) < 4 + struct.unpack(">i", got[:4])[0]:
    got += s.recv(65536)
t, inc, out = session(s)
ok = struct.pack(">ii", 6, 0) + b"OK"
got = roundtrip(s, t, inc, out, b"PUB t\n" + body(b"drip"),
                lambda g: len(g) >= 2 * len(ok))
assert got == ok + ok, got
print("tcp ok")
EOF
	assert_success
	assert_output "https ok
tcp ok"
}

@test "https: a client closing mid-handshake is cleaned up; nsqd goes on" {
	start_https
	run timeout 60 python3 - "$HTTPS_PORT" "$NSQD_TCP_PORT" <<'EOF'
import socket, ssl, sys
from nsqwire import Conn
hp, tp = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out)
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
for i in range(20):
    s = socket.create_connection(("127.0.0.1", hp), timeout=10)
    s.sendall(hello[:len(hello) * i // 20])
    s.close()
for i in range(10):
    c = Conn(tp); c.magic()
    c.identify({"feature_negotiation": True, "tls_v1": True})
    c.response_json()
    c.send(hello[:len(hello) * i // 10])
    c.close()
d = Conn(tp); d.magic(); d.pub("t", b"x"); d.ok()
print("ok")
EOF
	assert_success
	assert_output ok
	https /ping
	assert_equal "$code $body" "200 OK"
	# Each closed handshake is one line (the empty ones too, as Go).
	wait_until 5 test "$(handshake_errors "$NSQD_LOG")" = 21
	# teardown_daemons fails the test on any sanitizer (leak) report.
	stop_nsqd
}

@test "https: a stalled handshake is dropped in bounded time while others are served" {
	start_https
	run timeout 60 python3 - "$HTTPS_PORT" "$NSQD_TCP_PORT" "$CERTS" <<'EOF'
import socket, ssl, subprocess, sys, time
from nsqwire import Conn
hp, tp, certs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out)
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()

def gone(s, start, limit):
    # Seconds from start until the server closes, None past limit; a
    # byte a second keeps an idle timer alive, but not a deadline.
    s.settimeout(1)
    i = 10
    while time.time() - start < limit:
        try:
            if s.recv(65536) == b"":
                return time.time() - start
        except socket.timeout:
            pass
        except ConnectionResetError:
            return time.time() - start
        try:
            if i < len(hello) - 1:
                s.send(hello[i:i + 1]); i += 1
        except OSError:
            return time.time() - start
    return None

# HTTPS: a ClientHello cut short, then a byte a second.
h = socket.create_connection(("127.0.0.1", hp), timeout=10)
h0 = time.time()
h.sendall(hello[:10])
# TCP: tls_v1 asked, then the same.
c = Conn(tp); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True})
c.response_json()
c0 = time.time()
c.send(hello[:10])
# Others are served meanwhile.
d = Conn(tp); d.magic(); d.pub("t", b"x"); d.ok()
r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert",
                    certs + "/ca.pem", "https://127.0.0.1:%d/ping" % hp],
                   capture_output=True)
assert r.stdout == b"OK", r
# Go's 5 s for TCP, 10 s for HTTPS here; generous bounds, a byte a
# second sent all along.
tt = gone(c.sock, c0, 30)
assert tt is not None and tt < 20, "TCP handshake not dropped: %s" % tt
ht = gone(h, h0, 40)
assert ht is not None and ht < 30, "HTTPS handshake not dropped: %s" % ht
print("ok")
EOF
	assert_success
	assert_output ok
	grep -q 'IDENTIFY failed TLS handshake timeout' "$NSQD_LOG"
	grep -q 'TLS handshake error from .*: TLS handshake timeout' "$NSQD_LOG"
}

@test "https: /stats names a TLS client's version and suite as Go does" {
	start_https
	cat >"$BATS_TEST_TMPDIR/sub.py" <<'EOF2'
import ssl, sys, time
from nsqwire import Conn
def sub(channel, tls12):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")
    c = Conn(int(sys.argv[1])); c.magic()
    c.identify({"feature_negotiation": True, "tls_v1": True})
    c.response_json()
    c.sock = ctx.wrap_socket(c.sock)
    c.ok(); c.sub("t", channel); c.ok()
    return c
a = sub("tls13", False); b = sub("tls12", True)
print("subscribed", flush=True)
time.sleep(50)
EOF2
	start_bg SUB timeout 60 python3 "$BATS_TEST_TMPDIR/sub.py" \
	    "$NSQD_TCP_PORT"
	wait_until 20 grep -q subscribed "$SUB_LOG"
	run python3 - "$NSQD_HTTP_PORT" <<'EOF2'
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(
    "http://127.0.0.1:%s/stats?format=json" % sys.argv[1], timeout=10))
for ch in s["topics"][0]["channels"]:
    c = ch["clients"][0]
    print(ch["channel_name"], c["tls"], c["tls_version"],
          c["tls_cipher_suite"], repr(c["tls_negotiated_protocol"]),
          c["tls_negotiated_protocol_is_mutual"])
EOF2
	assert_success
	# TLS 1.3's suites are not in Go's list: "Unknown <id>".
	assert_line "tls12 True TLS1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 '' False"
	assert_line --regexp "^tls13 True TLS1.3 Unknown (4865|4866|4867) '' False$"
}
