#!/usr/bin/env bats
# TLS on the TCP protocol: negotiated in IDENTIFY (tls_v1), the handshake
# on the same connection, OK over TLS, compression on top of TLS, and
# --tls-required refusing plain clients.

load helpers

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	mkdir -p "$CERTS"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	    -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" 2>/dev/null
}

teardown() {
	teardown_daemons
}

@test "tls: tls_v1 upgrades the connection; PUB and SUB work over TLS" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem"
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import json, socket, ssl, struct, sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True})
resp = c.response_json()
assert resp["tls_v1"] is True, resp
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
c.sock = ctx.wrap_socket(c.sock)
c.ok()                                  # OK over TLS
c.pub("t", b"secret"); c.ok()
c.sub("t", "c"); c.ok(); c.rdy(1)
m = c.message(); assert m.body == b"secret", m.body
c.fin(m.id); c.nop()
print("version", c.sock.version())
EOF
	assert_success
	assert_output --partial "version TLSv1."
}

@test "tls: a client that does not ask for TLS is told tls_v1 false" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem"
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.identify({"feature_negotiation": True})
assert c.response_json()["tls_v1"] is False
c.pub("t", b"plain"); c.ok()
EOF
	assert_success
}

@test "tls: without --tls-cert, tls_v1 is answered false and the link stays plain" {
	start_nsqd
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True})
assert c.response_json()["tls_v1"] is False
c.pub("t", b"plain"); c.ok()
EOF
	assert_success
}

@test "tls: --tls-required refuses commands before TLS with Go's words" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem" \
	    --tls-required
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.pub("t", b"x")
c.error("E_INVALID cannot PUB in current state (TLS required)")
assert c.closed(5)
EOF
	assert_success
}

@test "tls: deflate on top of TLS, in Go's order of OKs" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem"
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import socket, ssl, struct, sys, zlib
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True, "deflate": True})
r = c.response_json()
assert r["tls_v1"] and r["deflate"] and r["deflate_level"] == 6, r
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(c.sock)
def frame(read):
    size, kind = struct.unpack(">ii", read(8))
    return kind, read(size - 4)
buf = b""
def raw(n):
    global buf
    while len(buf) < n:
        buf += t.recv(65536)
    out, buf = buf[:n], buf[n:]
    return out
assert frame(raw) == (0, b"OK")             # TLS OK, not compressed
inf = zlib.decompressobj(-15)
plain = inf.decompress(buf); buf = b""
def zread(n):
    global plain
    while len(plain) < n:
        plain += inf.decompress(t.recv(65536))
    out, plain = plain[:n], plain[n:]
    return out
assert frame(zread) == (0, b"OK")           # deflate OK
d = zlib.compressobj(6, zlib.DEFLATED, -15)
body = b"over tls and deflate"
t.sendall(d.compress(b"PUB t\n" + struct.pack(">i", len(body)) + body)
          + d.flush(zlib.Z_SYNC_FLUSH))
assert frame(zread) == (0, b"OK")
print("ok")
EOF
	assert_success
	assert_output "ok"
}

@test "tls: EOF or close_notify mid-body gets Go's error over TLS" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem"
	run timeout 60 python3 - "$NSQD_TCP_PORT" <<'EOF'
import socket, ssl, struct, sys
from nsqwire import Conn, body
port = int(sys.argv[1])
cut = b"PUB t\n" + struct.pack(">i", 10) + b"abc"
want = b"E_BAD_MESSAGE PUB failed to read message body"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
# TCP half-close under TLS (no close_notify).
c = Conn(port); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True}); c.response_json()
c.sock = ctx.wrap_socket(c.sock)
c.ok()
c.send(cut)
socket.socket.shutdown(c.sock, socket.SHUT_WR)  # the TCP socket's own
assert c.frame() == (1, want)
assert c.closed(10)
# close_notify: the peer's EOF in TLS terms; the reply still goes out.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"  V2IDENTIFY\n" + body(b'{"feature_negotiation":true,"tls_v1":true}'))
got = b""
while len(got) < 4 or len(got) < 4 + struct.unpack(">i", got[:4])[0]:
    got += s.recv(65536)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out)
def pump():
    data = out.read()
    if data:
        s.sendall(data)
for _ in range(20):
    try:
        t.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
        inc.write(s.recv(65536))
pump()
t.write(cut)
try:
    t.unwrap()                          # sends close_notify
except ssl.SSLWantReadError:
    pass
pump()
plain = b""
while True:
    try:
        plain += t.read(65536)
    except ssl.SSLWantReadError:
        data = s.recv(65536)
        if not data:
            break
        inc.write(data)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
frame = lambda k, d: struct.pack(">ii", len(d) + 4, k) + d
assert plain == frame(0, b"OK") + frame(1, want), plain
print("ok")
EOF
	assert_success
	assert_output "ok"
}

@test "tls: a broken handshake closes the connection and nsqd goes on" {
	start_nsqd --https-address= --tls-cert="$CERTS/cert.pem" --tls-key="$CERTS/key.pem"
	run python3 - "$NSQD_TCP_PORT" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.identify({"feature_negotiation": True, "tls_v1": True})
c.response_json()
c.send(b"this is not a TLS ClientHello\n" * 10)
assert c.closed(10)
d = Conn(int(sys.argv[1])); d.magic(); d.pub("t", b"x"); d.ok()
EOF
	assert_success
}

@test "tls: nsqd refuses to start with --tls-required and no certificate" {
	run "$NSQ_BIN_DIR/nsqd" --tcp-address=127.0.0.1:0 --http-address= \
	    --data-path="$BATS_TEST_TMPDIR" --tls-required
	assert_failure
	assert_output --partial "cannot require TLS client connections without TLS key and cert"
}
