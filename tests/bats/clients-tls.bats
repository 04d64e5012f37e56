#!/usr/bin/env bats
# The tools over TLS, snappy, deflate and AUTH, negotiated in IDENTIFY as
# go-nsq does: nsq-pub and nsq-tail against our nsqd (verified against a
# CA made here, refused against another, with a client certificate for
# --tls-client-auth-policy=require-verify), the words that name a missing
# option (--tls-required, auth_required), AUTH against a stub V2 server
# (tests/bats/auth_stub.py), and https:// nsqlookupd and nsqd HTTP
# addresses through a stub HTTPS server (tests/bats/https_stub.py).
# Certificates are made at test time by the openssl CLI; no key is kept.

load helpers
load clients

# mkcert NAME CA SAN: a key and a certificate for SAN signed by CA.
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" \
	    -keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$CERTS/$1.ext"
	openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/$2.pem" \
	    -CAkey "$CERTS/$2.key" -CAcreateserial -days 2 \
	    -extfile "$CERTS/$1.ext" -out "$CERTS/$1.pem" 2>/dev/null
}

# mkexpired NAME CA: a certificate for 127.0.0.1 that expired in 2020
# (openssl ca is the CLI that takes explicit dates).
mkexpired() {
	local d=$CERTS/$1.ca
	mkdir -p "$d"
	: >"$d/index.txt"
	echo 01 >"$d/serial"
	cat >"$d/ca.cnf" <<-EOF
	[ca]
	default_ca = d
	[d]
	database = $d/index.txt
	new_certs_dir = $d
	serial = $d/serial
	default_md = sha256
	policy = p
	x509_extensions = ext
	[p]
	commonName = supplied
	[ext]
	subjectAltName = DNS:localhost,IP:127.0.0.1
	EOF
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" \
	    -keyout "$CERTS/$1.key" -out "$CERTS/$1.csr" 2>/dev/null
	openssl ca -batch -config "$d/ca.cnf" -cert "$CERTS/$2.pem" \
	    -keyfile "$CERTS/$2.key" -in "$CERTS/$1.csr" -out "$CERTS/$1.pem" \
	    -startdate 20200101000000Z -enddate 20200102000000Z -notext \
	    2>/dev/null
}

mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	    -keyout "$CERTS/$1.key" -out "$CERTS/$1.pem" 2>/dev/null
}

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	mkdir -p "$CERTS"
	mkca ca
	mkca otherca
	mkcert server ca "DNS:localhost,IP:127.0.0.1"
	mkcert elsewhere ca "DNS:elsewhere.example"
	mkcert client ca "DNS:client"
	mkcert rogue otherca "DNS:client"
	mkcert dnsonly ca "DNS:localhost"
	mkexpired expired ca
}

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	[[ -x $PUB && -x $TAIL ]] || fail "no nsq-pub/nsq-tail in $NSQ_BIN_DIR"
}

teardown() {
	teardown_daemons
}

tls_nsqd() {
	start_nsqd --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key" \
	    --https-address=127.0.0.1:"$(free_port)" \
	    "$@"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

# client_stat FIELD: FIELD of the one client of topic t, channel c.
client_stat() {
	curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=t" |
	    python3 -c 'import json,sys
d = json.load(sys.stdin)
cl = [c for t in d["topics"] for ch in t["channels"] for c in ch["clients"]]
print(" ".join(str(c[sys.argv[1]]).lower() for c in cl))' "$1"
}

# roundtrip ARGS...: one message published and read back with ARGS on both
# tools; nsq-tail stays subscribed until its stats are read.
roundtrip() {
	local msg="hello $*"
	run bash -c 'echo "$2" | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" "${@:3}"' "$PUB" "$ADDR" "$msg" "$@"
	assert_success
	tail_bg T --topic t --channel c --nsqd-tcp-address "$ADDR" -n 1 "$@"
	wait_bg T 30
	run cat "$BATS_TEST_TMPDIR/T.out"
	assert_output "$msg"
}

@test "clients-tls: nsq-pub and nsq-tail over TLS, verified against a CA" {
	tls_nsqd
	roundtrip --tls --tls-ca-file "$CERTS/ca.pem"
	# The -opt keys say the same.
	run bash -c 'echo via-opt | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --producer-opt tls_v1,true \
	    --producer-opt "tls_root_ca_file,$2" \
	    --producer-opt tls_min_version,TLS1.2' "$PUB" "$ADDR" "$CERTS/ca.pem"
	assert_success
	run timeout 30 "$TAIL" --topic t --channel c --nsqd-tcp-address "$ADDR" \
	    -n 1 --consumer-opt tls_v1 --consumer-opt "tls_root_ca_file,$CERTS/ca.pem"
	assert_success
	assert_line via-opt
	# nsqd saw TLS on every connection.
	run grep -c "TLS TLSv1" "$NSQD_LOG"
	[[ $output -ge 4 ]] || fail "nsqd logged $output TLS connections"
}

@test "clients-tls: the client in nsqd's stats is tls, snappy or deflate as asked" {
	local mode args want f name
	tls_nsqd --snappy=true --deflate=true
	for mode in tls snappy deflate tls+snappy tls+deflate; do
		args=()
		[[ $mode == tls* ]] && args+=(--tls --tls-ca-file "$CERTS/ca.pem")
		[[ $mode == *snappy ]] && args+=(--snappy)
		[[ $mode == *deflate ]] && args+=(--deflate --deflate-level 3)
		run bash -c 'seq 1 300 | sed "s/^/$2 /" | timeout 30 "$0" \
		    --topic t --batch-size 7 --nsqd-tcp-address "$1" "${@:3}"' \
		    "$PUB" "$ADDR" "$mode" "${args[@]}"
		assert_success
		name=S${mode//+/_}
		tail_bg "$name" --topic t --channel c \
		    --nsqd-tcp-address "$ADDR" -n 300 "${args[@]}"
		wait_bg "$name" 30
		run wc -l <"$BATS_TEST_TMPDIR/$name.out"
		assert_output 300
		run grep -c "^$mode " "$BATS_TEST_TMPDIR/$name.out"
		assert_output 300
		# Subscribed and idle: nsqd's view of the connection.
		name=I${mode//+/_}
		tail_bg "$name" --topic t --channel c \
		    --nsqd-tcp-address "$ADDR" "${args[@]}"
		subscribed "$name"
		want=
		for f in tls snappy deflate; do
			[[ $mode == *$f* ]] && want+=" true" || want+=" false"
		done
		want=${want# }
		run echo $(client_stat tls) $(client_stat snappy) \
		    $(client_stat deflate)
		assert_output "$want"
		stop_bg "$name" || :
	done
}

@test "clients-tls: a wrong CA, a wrong name or an expired certificate fails with OpenSSL's reason, no hang" {
	tls_nsqd
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1" \
	    --tls --tls-ca-file "$2"' "$PUB" "$ADDR" "$CERTS/otherca.pem"
	assert_failure 1
	assert_output --partial "TLS handshake with nsqd $ADDR failed: certificate verify failed"
	assert_output --partial "not published: line 1"
	# No CA file: the system's store, which does not know ours.
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" --tls -n 1
	assert_failure 1
	assert_output --partial "TLS handshake with nsqd $ADDR failed: certificate verify failed"
	# --tls-insecure-skip-verify: what the wrong CA refused goes through.
	run bash -c 'echo skipped | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --tls --tls-ca-file "$2" \
	    --tls-insecure-skip-verify' "$PUB" "$ADDR" "$CERTS/otherca.pem"
	assert_success
	# Signed by our CA, but for another name than the address's host.
	stop_nsqd
	start_nsqd --tls-cert="$CERTS/elsewhere.pem" \
	    --tls-key="$CERTS/elsewhere.key"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1" \
	    --tls --tls-ca-file "$2"' "$PUB" "$ADDR" "$CERTS/ca.pem"
	assert_failure 1
	assert_output --partial "TLS handshake with nsqd $ADDR failed: certificate verify failed (IP address mismatch)"
	# A DNS name is checked as such (and sent as SNI): localhost:PORT
	# passes with a certificate for localhost alone.
	stop_nsqd
	start_nsqd --tls-cert="$CERTS/dnsonly.pem" --tls-key="$CERTS/dnsonly.key"
	run bash -c 'echo by-name | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "localhost:$1" --tls --tls-ca-file "$2"' \
	    "$PUB" "$NSQD_TCP_PORT" "$CERTS/ca.pem"
	assert_success
	# Signed by our CA, for the right name, but expired.
	stop_nsqd
	start_nsqd --tls-cert="$CERTS/expired.pem" --tls-key="$CERTS/expired.key"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1 \
	    --tls --tls-ca-file "$CERTS/ca.pem"
	assert_failure 1
	assert_output --partial "TLS handshake with nsqd $ADDR failed: certificate verify failed (certificate has expired)"
	# An nsqd with no TLS at all: asked for, TLS is not skipped.
	stop_nsqd
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1" \
	    --tls --tls-ca-file "$2"' "$PUB" "$ADDR" "$CERTS/ca.pem"
	assert_failure 1
	assert_output --partial "nsqd $ADDR did not agree to TLS"
}

@test "clients-tls: a client certificate for --tls-client-auth-policy=require-verify" {
	tls_nsqd --tls-client-auth-policy=require-verify \
	    --tls-root-ca-file="$CERTS/ca.pem"
	roundtrip --tls --tls-ca-file "$CERTS/ca.pem" \
	    --tls-cert "$CERTS/client.pem" --tls-key "$CERTS/client.key"
	# Without one, or with one of another CA: refused, and said so.
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1" \
	    --tls --tls-ca-file "$2"' "$PUB" "$ADDR" "$CERTS/ca.pem"
	assert_failure 1
	# nsqd sends OpenSSL's alert before it closes; the client says
	# which, or that it closed.
	assert_output --regexp "nsqd $ADDR closed the connection during the TLS upgrade|alert certificate required"
	assert_output --partial "not published: line 1"
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1 \
	    --tls --tls-ca-file "$CERTS/ca.pem" \
	    --tls-cert "$CERTS/rogue.pem" --tls-key "$CERTS/rogue.key"
	assert_failure 1
	assert_output --partial "$ADDR"
}

@test "clients-tls: nsqd --tls-required: the tools name the missing option" {
	tls_nsqd --tls-required=true
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1"' \
	    "$PUB" "$ADDR"
	assert_failure 1
	assert_output --partial "nsqd $ADDR requires TLS: use --tls (or --producer-opt tls_v1,true)"
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1
	assert_failure 1
	assert_output --partial "nsqd $ADDR requires TLS: use --tls (or --consumer-opt tls_v1,true)"
	roundtrip --tls --tls-ca-file "$CERTS/ca.pem"
}

@test "clients-tls: bad TLS flag values are refused at start, exit 2" {
	run "$PUB" --topic t --nsqd-tcp-address 127.0.0.1:1 --tls-min-version tls9
	assert_failure 2
	assert_output 'invalid value "tls9" for flag -tls-min-version: ERROR: tls9 is not a tls version'
	run "$TAIL" --topic t --nsqd-tcp-address 127.0.0.1:1 --tls-ca-file /nonexistent
	assert_failure 2
	assert_output --partial "failed to read custom Certificate Authority file open /nonexistent: no such file or directory"
	run "$PUB" --topic t --nsqd-tcp-address 127.0.0.1:1 --tls-cert "$CERTS/client.pem"
	assert_failure 2
	assert_output "tls_cert and tls_key must be set together"
	run "$PUB" --topic t --nsqd-tcp-address 127.0.0.1:1 --tls \
	    --tls-cert "$CERTS/client.pem" --tls-key "$CERTS/rogue.key"
	assert_failure 2
	assert_output --partial "tls_key $CERTS/rogue.key: "
	run "$PUB" --topic t --nsqd-tcp-address 127.0.0.1:1 --deflate-level 10
	assert_failure 2
}

# auth_stub MODE: the stub V2 server that wants AUTH with secret s3cret.
auth_stub() {
	local port
	port=$(free_port)
	start_bg AUTH timeout 120 python3 "$BATS_TEST_DIRNAME/auth_stub.py" \
	    "$port" "$1" s3cret "$BATS_TEST_TMPDIR/auth.log"
	wait_until 10 tcp_port_open "$port"
	ADDR=127.0.0.1:$port
}

@test "clients-tls: AUTH: the secret is sent, the reply read, then PUB and SUB" {
	auth_stub ok
	run bash -c 'printf "a1\na2\n" | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --auth-secret s3cret' "$PUB" "$ADDR"
	assert_success
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1 \
	    --consumer-opt auth_secret,s3cret
	assert_success
	assert_line hello-auth
	assert_line --partial 'Auth accepted. Identity: "stub-user" http://127.0.0.1/u Permissions: 1'
	run cat "$BATS_TEST_TMPDIR/auth.log"
	assert_line --index 0 "AUTH s3cret"
	assert_line "PUB t a1"
	assert_line "PUB t a2"
	assert_line "FIN 0123456789abcdef"
}

@test "clients-tls: AUTH: no secret, or a refused one, is said in words" {
	auth_stub ok
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1"' \
	    "$PUB" "$ADDR"
	assert_failure 1
	assert_output --partial "nsqd $ADDR requires AUTH: use --auth-secret (or --producer-opt auth_secret,SECRET)"
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1
	assert_failure 1
	assert_output --partial "nsqd $ADDR requires AUTH: use --auth-secret (or --consumer-opt auth_secret,SECRET)"
	run bash -c 'echo x | timeout 30 "$0" --topic t --nsqd-tcp-address "$1" \
	    --auth-secret wrong' "$PUB" "$ADDR"
	assert_failure 1
	assert_output --partial "Error authenticating E_AUTH_FAILED AUTH failed"
	stop_bg AUTH || :
	auth_stub fail
	run timeout 30 "$TAIL" --topic t --nsqd-tcp-address "$ADDR" -n 1 \
	    --auth-secret s3cret
	assert_failure 1
	assert_output --partial "Error authenticating E_AUTH_FAILED AUTH failed"
}

# https_stub: HTTPS (our CA's certificate) before the test's nsqd.
https_stub() {
	HTTPS_PORT=$(free_port)
	start_bg HTTPS timeout 120 python3 "$BATS_TEST_DIRNAME/https_stub.py" \
	    "$HTTPS_PORT" "$CERTS/server.pem" "$CERTS/server.key" \
	    "$NSQD_TCP_PORT" "$NSQD_HTTP_PORT" "$BATS_TEST_TMPDIR/https.log"
	wait_until 10 tcp_port_open "$HTTPS_PORT"
}

@test "clients-tls: https:// nsqlookupd for nsq-tail, with the CA and the Bearer secret" {
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	https_stub
	echo over-https | "$PUB" --topic t --nsqd-tcp-address "$ADDR"
	run timeout 30 "$TAIL" --topic t --channel c -n 1 \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls-ca-file "$CERTS/ca.pem" --auth-secret s3cret
	assert_success
	assert_line over-https
	run grep -c "^/lookup?topic=t auth=Bearer s3cret$" \
	    "$BATS_TEST_TMPDIR/https.log"
	[[ $output -ge 1 ]] || fail "no Bearer on /lookup: $(cat "$BATS_TEST_TMPDIR/https.log")"
	# go-nsq's skip_lookupd_authorization,false: no secret to nsqlookupd.
	: >"$BATS_TEST_TMPDIR/https.log"
	echo again | "$PUB" --topic t --nsqd-tcp-address "$ADDR"
	run timeout 30 "$TAIL" --topic t --channel c -n 1 \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls-ca-file "$CERTS/ca.pem" --auth-secret s3cret \
	    --consumer-opt skip_lookupd_authorization,false
	assert_success
	assert_line again
	run cat "$BATS_TEST_TMPDIR/https.log"
	assert_line "/lookup?topic=t auth="
	# Another CA: the lookup fails and says why.
	tail_bg W --topic t --channel c \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls-ca-file "$CERTS/otherca.pem"
	wait_until 20 grep -qi "certificate" "$W_LOG"
	stop_bg W || :
}

@test "clients-tls: nsq-stat reads an https:// nsqlookupd with the CA and the Bearer secret" {
	local stat=$NSQ_BIN_DIR/nsq-stat
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	https_stub
	echo x | "$PUB" --topic t --nsqd-tcp-address "$ADDR"
	curl -sf -X POST "http://127.0.0.1:$NSQD_HTTP_PORT/channel/create?topic=t&channel=c"
	echo y | "$PUB" --topic t --nsqd-tcp-address "$ADDR"
	run timeout 30 "$stat" --topic t --channel c --count 1 \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls-ca-file "$CERTS/ca.pem" --auth-secret s3cret
	assert_success
	assert_equal "${#lines[@]}" 3
	read -r -a f <<<"${lines[2]}"
	assert_equal "${f[3]}" 2
	run grep -c "^/lookup?topic=t auth=Bearer s3cret$" \
	    "$BATS_TEST_TMPDIR/https.log"
	[[ $output -ge 1 ]] || fail "no Bearer on /lookup: $(cat "$BATS_TEST_TMPDIR/https.log")"
	# The system's store does not know our CA.
	run timeout 30 "$stat" --topic t --channel c --count 1 \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT"
	assert_output --partial "certificate"
}

@test "clients-tls: nsq-to-file through an https:// nsqlookupd, with the CA and the Bearer secret" {
	local out=$BATS_TEST_TMPDIR/out
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	https_stub
	printf 'f1\nf2\nf3\n' | "$PUB" --topic t --nsqd-tcp-address "$ADDR"
	run timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic t --channel c \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls-ca-file "$CERTS/ca.pem" --auth-secret s3cret \
	    --output-dir "$out" --exit-when-idle 2s
	assert_success
	run bash -c "cat '$out'/t.*.log"
	assert_output "$(printf 'f1\nf2\nf3')"
	run grep -c "^/lookup?topic=t auth=Bearer s3cret$" \
	    "$BATS_TEST_TMPDIR/https.log"
	[[ $output -ge 1 ]] || fail "no Bearer on /lookup: $(cat "$BATS_TEST_TMPDIR/https.log")"
}

@test "clients-tls: a consumer whose TLS fails keeps reconnecting with backoff, no crash" {
	start_nsqd --tls-cert="$CERTS/elsewhere.pem" \
	    --tls-key="$CERTS/elsewhere.key"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	https_stub
	tail_bg B --topic t --channel c \
	    --lookupd-http-address "https://127.0.0.1:$HTTPS_PORT" \
	    --tls --tls-ca-file "$CERTS/ca.pem" \
	    --consumer-opt lookupd_poll_interval,1s
	wait_until 30 eval "[[ \$(grep -c 'error connecting to nsqd - TLS handshake with nsqd $ADDR failed: certificate verify failed (IP address mismatch)' \"\$B_LOG\") -ge 2 ]]"
	proc_alive B || fail "nsq-tail ended: $(cat "$B_LOG")"
	stop_bg B || :
}

@test "clients-tls: nsq-to-nsq from a TLS-only nsqd to another, --tls on both sides" {
	local n2n=$NSQ_BIN_DIR/nsq-to-nsq ca=$CERTS/ca.pem
	start_nsqd -n SRC --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/server.key" --tls-required=true --deflate=true \
	    --tls-client-auth-policy=require-verify --tls-root-ca-file="$ca" \
	    --https-address="127.0.0.1:$(free_port)"
	start_nsqd -n DST --tls-cert="$CERTS/server.pem" \
	    --tls-key="$CERTS/server.key" --tls-required=true \
	    --https-address="127.0.0.1:$(free_port)"
	local src=127.0.0.1:$SRC_TCP_PORT dst=127.0.0.1:$DST_TCP_PORT
	run bash -c 'printf "m1\nm2\nm3\n" | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --tls --tls-ca-file "$2" --tls-cert "$3" \
	    --tls-key "$4"' "$PUB" "$src" "$ca" "$CERTS/client.pem" \
	    "$CERTS/client.key"
	assert_success
	# Without --tls the source's refusal is named as the flag.
	run timeout 30 "$n2n" --topic t --channel c --nsqd-tcp-address "$src" \
	    --destination-nsqd-tcp-address "$dst"
	assert_failure 1
	assert_output --partial "nsqd $src requires TLS: use --tls (or --consumer-opt tls_v1,true)"
	# The plain flags serve the consumer (with the client certificate
	# SRC requires) and the producer.
	start_bg R timeout 120 "$n2n" --topic t --channel c \
	    --nsqd-tcp-address "$src" --destination-nsqd-tcp-address "$dst" \
	    --destination-topic copy --tls --tls-ca-file "$ca" \
	    --tls-min-version tls1.2 --tls-cert "$CERTS/client.pem" \
	    --tls-key "$CERTS/client.key" --deflate --deflate-level 3
	run timeout 60 "$TAIL" --topic copy --channel c -n 3 \
	    --nsqd-tcp-address "$dst" --tls --tls-ca-file "$ca"
	assert_success
	run grep -c '^m[123]$' <<<"$output"
	assert_output 3
	stop_bg R
	run bash -c "grep -c 'TLS TLSv1' '$DST_LOG'"
	[[ $output -ge 2 ]] || fail "DST logged $output TLS connections"
}

@test "clients-tls: nsq-to-http consumes from a TLS-only nsqd with --tls" {
	local toh=$NSQ_BIN_DIR/nsq-to-http t=$BATS_TEST_TMPDIR
	tls_nsqd --tls-required=true --snappy=true \
	    --tls-client-auth-policy=require-verify \
	    --tls-root-ca-file="$CERTS/ca.pem"
	start_bg S1 timeout 120 python3 "$BATS_TEST_DIRNAME/http_sink.py" \
	    --record "$t/S1.jsonl" --port-file "$t/S1.port"
	wait_until 10 test -s "$t/S1.port"
	local url=http://127.0.0.1:$(cat "$t/S1.port")/in
	run bash -c 'printf "h1\nh2\nh3\n" | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --tls --tls-ca-file "$2" --tls-cert "$3" \
	    --tls-key "$4"' "$PUB" "$ADDR" "$CERTS/ca.pem" "$CERTS/client.pem" \
	    "$CERTS/client.key"
	assert_success
	run timeout 30 "$toh" --topic t --nsqd-tcp-address "$ADDR" --post "$url"
	assert_failure 1
	assert_output --partial "nsqd $ADDR requires TLS: use --tls (or --consumer-opt tls_v1,true)"
	start_bg H timeout 120 "$toh" --topic t --nsqd-tcp-address "$ADDR" \
	    --post "$url" --tls --tls-ca-file "$CERTS/ca.pem" --snappy \
	    --tls-cert "$CERTS/client.pem" --tls-key "$CERTS/client.key"
	wait_until 30 eval '[[ -f "$t/S1.jsonl" && $(wc -l <"$t/S1.jsonl") -ge 3 ]]'
	stop_bg H
	run python3 -c 'import json, sys
print(" ".join(sorted(json.loads(l)["body"] for l in open(sys.argv[1]))))' \
	    "$t/S1.jsonl"
	assert_output "h1 h2 h3"
}

@test "clients-tls: nsq-to-http and nsq-to-nsq: --tls-insecure-skip-verify reaches an nsqd whose CA they lack" {
	local toh=$NSQ_BIN_DIR/nsq-to-http n2n=$NSQ_BIN_DIR/nsq-to-nsq
	local t=$BATS_TEST_TMPDIR
	# The certificate names another host and no CA of the tools signed
	# it: only skipping the check lets them in.
	local https_port ch
	https_port=$(free_port)
	start_nsqd --tls-cert="$CERTS/elsewhere.pem" \
	    --tls-key="$CERTS/elsewhere.key" --tls-required=true \
	    --https-address=127.0.0.1:"$https_port"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	# Channels h (nsq-to-http) and r (nsq-to-nsq) each get both messages.
	curl -sfk -X POST "https://127.0.0.1:$https_port/topic/create?topic=t" ||
	    fail "topic t not created"
	for ch in h r; do
		curl -sfk -X POST "https://127.0.0.1:$https_port/channel/create?topic=t&channel=$ch" ||
		    fail "channel $ch not created"
	done
	run bash -c 'printf "s1\ns2\n" | timeout 30 "$0" --topic t \
	    --nsqd-tcp-address "$1" --tls --tls-insecure-skip-verify' \
	    "$PUB" "$ADDR"
	assert_success
	start_bg S1 timeout 120 python3 "$BATS_TEST_DIRNAME/http_sink.py" \
	    --record "$t/S1.jsonl" --port-file "$t/S1.port"
	wait_until 10 test -s "$t/S1.port"
	local url=http://127.0.0.1:$(cat "$t/S1.port")/in
	# Verified against the system's store, the handshake is refused.
	run timeout 30 "$toh" --topic t --channel h --nsqd-tcp-address "$ADDR" \
	    --post "$url" --tls
	assert_failure
	assert_output --partial "certificate verify failed"
	start_bg H timeout 120 "$toh" --topic t --channel h \
	    --nsqd-tcp-address "$ADDR" --post "$url" --tls \
	    --tls-insecure-skip-verify
	wait_until 60 eval '[[ -f "$t/S1.jsonl" && $(wc -l <"$t/S1.jsonl") -ge 2 ]]'
	stop_bg H
	run python3 -c 'import json, sys
print(" ".join(sorted(json.loads(l)["body"] for l in open(sys.argv[1]))))' \
	    "$t/S1.jsonl"
	assert_output "s1 s2"
	# nsq-to-nsq from channel r to topic copy on the same nsqd, both
	# sides unverified.
	run timeout 30 "$n2n" --topic t --channel r --nsqd-tcp-address "$ADDR" \
	    --destination-nsqd-tcp-address "$ADDR" --destination-topic copy \
	    --tls
	assert_failure
	assert_output --partial "certificate verify failed"
	start_bg R timeout 120 "$n2n" --topic t --channel r \
	    --nsqd-tcp-address "$ADDR" --destination-nsqd-tcp-address "$ADDR" \
	    --destination-topic copy --tls --tls-insecure-skip-verify
	run timeout 60 "$TAIL" --topic copy --channel c -n 2 \
	    --nsqd-tcp-address "$ADDR" --tls --tls-insecure-skip-verify
	assert_success
	run grep -c '^s[12]$' <<<"$output"
	assert_output 2
	stop_bg R
}
