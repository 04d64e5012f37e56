#!/usr/bin/env bats
# nsq-pub and nsq-tail with AUTH against our own nsqd, started with
# --auth-http-address at the test auth server (tests/bats/auth_server.py):
# plain TCP, TLS, snappy, deflate and TLS+snappy, each message read back
# once; a denied topic or channel told in nsqd's E_UNAUTHORIZED words; the
# flag and the -opt key forms of the secret.

load helpers
load clients
load tls_certs

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	make_certs "$CERTS" >/dev/null 2>&1
}

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	[[ -x $PUB && -x $TAIL ]] || fail "no nsq-pub/nsq-tail in $NSQ_BIN_DIR"
	export AUTH_CONF=$BATS_TEST_TMPDIR/auth.json
	export AUTH_LOG=$AUTH_CONF.log
	# s3cret: publish to topics ok*, subscribe to their channel c only;
	# pubonly: publish anything, subscribe nothing.
	auth_conf '{"secrets": {
	  "s3cret": {"ttl": 3600, "identity": "alice",
	    "authorizations": [{"topic": "^ok", "channels": [".*"],
	      "permissions": ["publish"]}, {"topic": "^ok",
	      "channels": ["^c$"], "permissions": ["subscribe"]}]},
	  "pubonly": {"ttl": 3600, "identity": "bob",
	    "authorizations": [{"topic": ".*", "channels": [".*"],
	      "permissions": ["publish"]}]}
	}}'
	start_authd
	start_nsqd --auth-http-address="127.0.0.1:$AUTHD_PORT" \
	    --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key" \
	    --https-address="127.0.0.1:$(free_port)" --snappy=true \
	    --deflate=true
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	teardown_daemons
}

# authed_roundtrip TOPIC ARGS...: three messages published with ARGS and
# the secret, read back by nsq-tail with the same ARGS, each once.
authed_roundtrip() {
	local topic=$1 got i
	shift
	run bash -c 'printf "%s-1\n%s-2\n%s-3\n" "$2" "$2" "$2" |
	    timeout 30 "$0" --topic "$2" --nsqd-tcp-address "$1" \
	    --auth-secret s3cret "${@:3}"' "$PUB" "$ADDR" "$topic" "$@"
	assert_success
	run timeout 30 "$TAIL" --topic "$topic" --channel c \
	    --nsqd-tcp-address "$ADDR" -n 3 --auth-secret s3cret "$@"
	assert_success
	assert_output --partial 'Auth accepted. Identity: "alice"'
	got=$output
	run grep -c "^$topic-" <<<"$got"
	assert_output 3
	for i in 1 2 3; do
		run grep -cx "$topic-$i" <<<"$got"
		assert_output 1
	done
}

@test "clients-auth: nsq-pub and nsq-tail with AUTH over plain TCP, TLS, snappy, deflate, TLS+snappy" {
	authed_roundtrip okplain
	authed_roundtrip oktls --tls --tls-ca-file "$CERTS/ca.pem"
	authed_roundtrip oksnappy --snappy
	authed_roundtrip okdeflate --deflate --deflate-level 3
	authed_roundtrip oktlssnappy --tls --tls-ca-file "$CERTS/ca.pem" --snappy
	# Every connection authenticated against the auth server.
	run grep -c '"secret": "s3cret"' "$AUTH_LOG"
	[[ $output -ge 10 ]] || fail "auth server saw $output queries"
	# The tls and compression connections were what they said.
	run grep -c "TLS TLSv1" "$NSQD_LOG"
	[[ $output -ge 4 ]] || fail "nsqd logged $output TLS connections"
}

@test "clients-auth: nsq-pub to a denied topic says E_UNAUTHORIZED and exits non-zero" {
	run bash -c 'echo x | timeout 30 "$0" --topic denied \
	    --nsqd-tcp-address "$1" --auth-secret s3cret' "$PUB" "$ADDR"
	assert_failure
	assert_output --partial "E_UNAUTHORIZED"
	assert_output --partial "AUTH failed for PUB on \"denied\" \"\""
	# Nothing reached the topic.
	run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=denied"
	assert_success
	refute_output --partial '"message_count":1'
	# Over TLS the same.
	run bash -c 'echo x | timeout 30 "$0" --topic denied --tls \
	    --tls-ca-file "$2" --nsqd-tcp-address "$1" --auth-secret s3cret' \
	    "$PUB" "$ADDR" "$CERTS/ca.pem"
	assert_failure
	assert_output --partial "E_UNAUTHORIZED"
}

@test "clients-auth: nsq-tail on a denied channel or topic says E_UNAUTHORIZED and exits 1" {
	run timeout 30 "$TAIL" --topic okt --channel other \
	    --nsqd-tcp-address "$ADDR" -n 1 --auth-secret s3cret
	assert_failure 1
	assert_output --partial "E_UNAUTHORIZED"
	assert_output --partial "AUTH failed for SUB on \"okt\" \"other\""
	run timeout 30 "$TAIL" --topic okt --channel c \
	    --nsqd-tcp-address "$ADDR" -n 1 --auth-secret pubonly
	assert_failure 1
	assert_output --partial "AUTH failed for SUB on \"okt\" \"c\""
}

@test "clients-auth: --auth-secret and the -opt auth_secret key; the flag wins" {
	# The key alone.
	run bash -c 'echo via-opt | timeout 30 "$0" --topic okopt \
	    --nsqd-tcp-address "$1" --producer-opt auth_secret,s3cret' \
	    "$PUB" "$ADDR"
	assert_success
	run timeout 30 "$TAIL" --topic okopt --channel c \
	    --nsqd-tcp-address "$ADDR" -n 1 --consumer-opt auth_secret,s3cret
	assert_success
	assert_line via-opt
	# Both: the flag's secret is the one sent (pubonly may not subscribe).
	run timeout 30 "$TAIL" --topic okopt --channel c \
	    --nsqd-tcp-address "$ADDR" -n 1 --consumer-opt auth_secret,s3cret \
	    --auth-secret pubonly
	assert_failure 1
	assert_output --partial "AUTH failed for SUB"
	# s3cret may not publish to "denied", pubonly may: the flag is sent.
	run bash -c 'echo flag-wins | timeout 30 "$0" --topic denied \
	    --nsqd-tcp-address "$1" --producer-opt auth_secret,s3cret \
	    --auth-secret pubonly' "$PUB" "$ADDR"
	assert_success
	run grep -c '"secret": "pubonly"' "$AUTH_LOG"
	[[ $output -ge 1 ]] || fail "pubonly never sent"
}

@test "clients-auth: nsq-to-nsq and nsq-to-http with --auth-secret" {
	local n2n=$NSQ_BIN_DIR/nsq-to-nsq toh=$NSQ_BIN_DIR/nsq-to-http
	local t=$BATS_TEST_TMPDIR
	run bash -c 'printf "r1\nr2\n" | timeout 30 "$0" --topic okrelay \
	    --nsqd-tcp-address "$1" --auth-secret s3cret' "$PUB" "$ADDR"
	assert_success
	# Without the secret: nsqd's words, the flag named, exit 1.
	run timeout 30 "$n2n" --topic okrelay --channel c \
	    --nsqd-tcp-address "$ADDR" --destination-nsqd-tcp-address "$ADDR"
	assert_failure 1
	assert_output --partial "requires AUTH: use --auth-secret (or --consumer-opt auth_secret,SECRET)"
	# Consumed and published again with the secret, on both sides.
	start_bg R timeout 120 "$n2n" --topic okrelay --channel c \
	    --nsqd-tcp-address "$ADDR" --destination-nsqd-tcp-address "$ADDR" \
	    --destination-topic okcopy --auth-secret s3cret --snappy --tls \
	    --tls-ca-file "$CERTS/ca.pem"
	start_bg S1 timeout 120 python3 "$BATS_TEST_DIRNAME/http_sink.py" \
	    --record "$t/S1.jsonl" --port-file "$t/S1.port"
	wait_until 10 test -s "$t/S1.port"
	run timeout 30 "$toh" --topic okcopy --channel c \
	    --nsqd-tcp-address "$ADDR" --post "http://127.0.0.1:$(cat "$t/S1.port")/"
	assert_failure 1
	assert_output --partial "requires AUTH: use --auth-secret (or --consumer-opt auth_secret,SECRET)"
	start_bg H timeout 120 "$toh" --topic okcopy --channel c \
	    --nsqd-tcp-address "$ADDR" --auth-secret s3cret --deflate \
	    --deflate-level 2 --post "http://127.0.0.1:$(cat "$t/S1.port")/"
	wait_until 30 eval '[[ -f "$t/S1.jsonl" && $(wc -l <"$t/S1.jsonl") -ge 2 ]]'
	stop_bg H
	stop_bg R
	run python3 -c 'import json, sys
print(" ".join(sorted(json.loads(l)["body"] for l in open(sys.argv[1]))))' \
	    "$t/S1.jsonl"
	assert_output "r1 r2"
}
