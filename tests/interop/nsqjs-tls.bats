#!/usr/bin/env bats
# Interop over TLS: the npm nsqjs client (tls, tlsVerification, ca) and
# our tools on our nsqd, both ways, every connection verified against a
# CA made here by the openssl CLI: what nsq-pub --tls publishes the nsqjs
# Reader gets exactly once, what the nsqjs Writer publishes nsq-tail --tls
# prints exactly once; with snappy and deflate on top of TLS too.

load ../bats/helpers
load interop

setup_file() {
	make_server_cert
}

setup() {
	need_nsqjs
	need_tools
	start_nsqd --tls-cert="$CERTS/server.pem" --tls-key="$CERTS/server.key" \
	    --tls-required=true --snappy=true --deflate=true
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	teardown_daemons
}

@test "nsqjs-tls: nsq-pub --tls to the nsqjs Reader over TLS, exactly once" {
	local n=5000 z
	for z in "" --snappy --deflate; do
		start_bg R timeout 150 node "$JS/reader.js" \
		    --port "$NSQD_TCP_PORT" --topic "P$z" --channel c \
		    --count $n --no-dups --linger-ms 500 --timeout 140 \
		    --tls-ca "$CERTS/ca.pem" $z
		wait_until 20 grep -q '^subscribed ' "$R_LOG"
		run bash -c "seq -f 'p-%06g' 1 $n | timeout 60 '$PUB' \
		    --topic 'P$z' --nsqd-tcp-address '$ADDR' --batch-size 100 \
		    --tls --tls-ca-file '$CERTS/ca.pem' $z"
		assert_success
		wait_bg R 150
		run grep '^summary: ' "$R_LOG"
		assert_output --regexp "^summary: expected=$n distinct=$n duplicates=0 .* result=ok$"
		stop_bg R || :
		rm -f "$R_LOG"
	done
	# Every client spoke TLS: --tls-required refuses any other.
	run grep -c 'TLS TLSv1' "$NSQD_LOG"
	[[ $output -ge 6 ]] || fail "nsqd logged $output TLS connections"
}

@test "nsqjs-tls: the nsqjs Writer over TLS to nsq-tail --tls, exactly once" {
	local n=5000 z
	for z in "" --snappy --deflate; do
		run timeout 130 node "$JS/writer.js" --port "$NSQD_TCP_PORT" \
		    --topic "W$z" --count $n --batch 100 --mode mixed \
		    --timeout 120 --tls-ca "$CERTS/ca.pem" $z
		assert_success
		assert_line --partial "published=$n acked=$n failed=0"
		run bash -c "timeout 60 '$TAIL' --topic 'W$z' --channel c \
		    --nsqd-tcp-address '$ADDR' -n $n --tls \
		    --tls-ca-file '$CERTS/ca.pem' $z >'$BATS_TEST_TMPDIR/out'"
		assert_success
		# n lines, every one of the Writer's, none twice.
		run grep -c '^m-[0-9]*$' "$BATS_TEST_TMPDIR/out"
		assert_output $n
		run bash -c "sort -u '$BATS_TEST_TMPDIR/out' | wc -l"
		assert_output $n
	done
}
