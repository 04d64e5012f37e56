#!/usr/bin/env bats
# Interop through discovery: an nsqjs Reader that knows only the
# nsqlookupd HTTP addresses finds every nsqd that has the topic and
# receives what was published to each of them.

load ../bats/helpers

setup() {
	JS=$BATS_TEST_DIRNAME
	start_nsqlookupd -n L1
	start_nsqlookupd -n L2
	local i
	for i in 1 2 3; do
		start_nsqd -n "N$i" \
		    --lookupd-tcp-address="127.0.0.1:$L1_TCP_PORT" \
		    --lookupd-tcp-address="127.0.0.1:$L2_TCP_PORT" \
		    --lookupd-ping-interval=1s --broadcast-address=127.0.0.1
	done
}

teardown() {
	teardown_daemons
}

summary_of() {
	grep '^summary: ' "$(_nsq_var "$1" LOG)" | tail -n 1
}

@test "nsqjs: a Reader given only lookupd addresses gets messages from all three nsqd" {
	local i port
	# 500 messages on each nsqd, distinct bodies.
	for i in 1 2 3; do
		port=$(_nsq_var "N$i" TCP_PORT)
		run timeout 60 node "$JS/writer.js" --port "$port" --topic T \
		    --count 500 --prefix "n$i-" --mode mpub --batch 100 \
		    --timeout 50
		assert_success
	done
	start_bg R timeout 100 node "$JS/reader.js" \
	    --lookupd "127.0.0.1:$L1_HTTP_PORT,127.0.0.1:$L2_HTTP_PORT" \
	    --topic T --channel c --count 1500 --no-dups --linger-ms 500 \
	    --timeout 90
	wait_bg R 100
	run summary_of R
	assert_output --regexp "^summary: expected=1500 distinct=1500 duplicates=0 .* result=ok$"
}
