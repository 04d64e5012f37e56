#!/usr/bin/env bats
# Interop with AUTH over TLS: the npm nsqjs client (authSecret, with tls,
# tlsVerification and ca) and our tools (--tls --auth-secret) on our nsqd
# run with --auth-http-address (tests/bats/auth_server.py stands in for
# the auth server), both ways, exactly once; nsqd's /stats shows the
# nsqjs client authed with the auth server's identity; a secret the auth
# server refuses, or one with no authorizations, is an error nsqjs
# reports with nsqd's code, and nothing is delivered.

load ../bats/helpers
load interop

setup_file() {
	make_server_cert
}

setup() {
	need_nsqjs
	need_tools
	export AUTH_CONF=$BATS_TEST_TMPDIR/auth.json
	export AUTH_LOG=$AUTH_CONF.log
	auth_conf '{"secrets": {
	  "js-s3cret": {"ttl": 3600, "identity": "jsuser",
	    "identity_url": "https://example.invalid/jsuser",
	    "authorizations": [{"topic": ".*", "channels": [".*"],
	      "permissions": ["publish", "subscribe"]}]},
	  "empty": {"ttl": 3600, "identity": "nobody", "authorizations": []}
	}}'
	# The auth server of tests/bats (start_authd looks in this directory).
	local pf=$BATS_TEST_TMPDIR/AUTHD.port
	start_bg AUTHD timeout 280 python3 "$BATS_TEST_DIRNAME/../bats/auth_server.py" \
	    --config "$AUTH_CONF" --port-file "$pf" --log "$AUTH_LOG"
	wait_until 20 test -s "$pf"
	AUTHD_PORT=$(cat "$pf")
	start_nsqd --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key" \
	    --tls-required=tcp-https --auth-http-address="127.0.0.1:$AUTHD_PORT"
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	teardown_daemons
}

# authed_client CLIENT_ID: nsqd's /stats has a TLS client CLIENT_ID authed
# as jsuser (exit 1 and the clients printed otherwise).
authed_client() {
	curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json" |
	    python3 -c '
import json, sys
want = sys.argv[1]
s = json.load(sys.stdin)
cs = [c for t in s["topics"] for ch in t["channels"] for c in ch["clients"]]
cs += s.get("producers") or []
for c in cs:
    if (c.get("client_id") == want and c.get("authed") is True and
            c.get("auth_identity") == "jsuser" and
            c.get("auth_identity_url") == "https://example.invalid/jsuser" and
            c.get("tls") is True):
        sys.exit(0)
print(json.dumps(cs))
sys.exit(1)' "$1"
}

@test "nsqjs-auth: nsq-pub --tls --auth-secret to the nsqjs Reader with TLS and authSecret, exactly once" {
	local n=3000
	start_bg R timeout 150 node "$JS/reader.js" \
	    --port "$NSQD_TCP_PORT" --topic P --channel c \
	    --count $n --no-dups --linger-ms 500 --timeout 140 \
	    --tls-ca "$CERTS/ca.pem" --auth-secret js-s3cret
	wait_until 20 grep -q '^subscribed ' "$R_LOG"
	# nsqjs's client_id is the host's short name.
	local id
	id=$(curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json" |
	    python3 -c 'import json,sys
s = json.load(sys.stdin)
print(s["topics"][0]["channels"][0]["clients"][0]["client_id"])')
	run authed_client "$id"
	assert_success
	run bash -c "seq -f 'p-%06g' 1 $n | timeout 60 '$PUB' \
	    --topic P --nsqd-tcp-address '$ADDR' --batch-size 100 \
	    --tls --tls-ca-file '$CERTS/ca.pem' --auth-secret js-s3cret"
	assert_success
	wait_bg R 150
	run grep '^summary: ' "$R_LOG"
	assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .*errors=0 .* result=ok$"
	# The auth server was asked for that secret, by both.
	run grep -c '"secret": "js-s3cret"' "$AUTH_LOG"
	assert_success
}

@test "nsqjs-auth: the nsqjs Writer with TLS and authSecret to nsq-tail --tls --auth-secret, exactly once" {
	local n=3000
	run timeout 130 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
	    --topic W --count $n --batch 100 --mode mixed \
	    --timeout 120 --tls-ca "$CERTS/ca.pem" --auth-secret js-s3cret
	assert_success
	assert_line --partial "published=$n acked=$n failed=0"
	run bash -c "timeout 60 '$TAIL' --topic W --channel c \
	    --nsqd-tcp-address '$ADDR' -n $n --tls \
	    --tls-ca-file '$CERTS/ca.pem' --auth-secret js-s3cret \
	    >'$BATS_TEST_TMPDIR/out'"
	assert_success
	run grep -c '^m-[0-9]*$' "$BATS_TEST_TMPDIR/out"
	assert_output $n
	run bash -c "sort -u '$BATS_TEST_TMPDIR/out' | wc -l"
	assert_output $n
	# nsqd logged the writer's AUTH with the auth server's identity.
	run grep -c 'AUTH: identity=jsuser identity_url=https://example.invalid/jsuser' "$NSQD_LOG"
	[[ $output -ge 2 ]] || fail "nsqd logged $output AUTHs as jsuser"
}

@test "nsqjs-auth: a refused secret is E_AUTH_FAILED, one with no authorizations E_UNAUTHORIZED, and nothing is delivered" {
	local secret code
	for secret in no-such-secret empty; do
		code=E_AUTH_FAILED
		[[ $secret == empty ]] && code=E_UNAUTHORIZED
		# The Writer: refused before ready, with nsqd's code.
		run timeout 60 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
		    --topic "W$secret" --count 10 --timeout 30 \
		    --tls-ca "$CERTS/ca.pem" --auth-secret "$secret" \
		    --expect-error $code
		assert_success
		assert_line --regexp "^summary: published=0 acked=0 .*first_error=.*$code.* result=ok$"
		run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json"
		assert_success
		refute_output --partial "\"topic_name\":\"W$secret\""

		# The Reader: ten messages wait on its channel; it gets none.
		curl -sf -XPOST "http://127.0.0.1:$NSQD_HTTP_PORT/topic/create?topic=R$secret"
		curl -sf -XPOST "http://127.0.0.1:$NSQD_HTTP_PORT/channel/create?topic=R$secret&channel=c"
		run bash -c "seq -f 'r-%06g' 1 10 | timeout 60 '$PUB' \
		    --topic 'R$secret' --nsqd-tcp-address '$ADDR' \
		    --tls --tls-ca-file '$CERTS/ca.pem' --auth-secret js-s3cret"
		assert_success
		run timeout 60 node "$JS/reader.js" --port "$NSQD_TCP_PORT" \
		    --topic "R$secret" --channel c --count 1 --timeout 5 \
		    --tls-ca "$CERTS/ca.pem" --auth-secret "$secret"
		assert_failure 3
		assert_output --partial "reader: error event: Error: $code"
		assert_line --regexp '^summary: expected=1 distinct=0 duplicates=0 .* result=timeout$'
		refute_output --partial subscribed
		run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=R$secret&channel=c"
		assert_output --partial '"depth":10,'
		assert_output --partial '"message_count":10,'
	done
	run grep -c 'AUTH: identity=nobody' "$NSQD_LOG"
	assert_output 0
}
