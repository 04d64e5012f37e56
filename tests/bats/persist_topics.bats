#!/usr/bin/env bats
# nsqd.dat under a burst of creates: it is rewritten far less often than
# topics and channels are created (rewrites coalesce while one is on the
# disk), a clean stop still writes every topic, and after SIGKILL what
# nsqd.dat had named comes back.

load helpers

TOOLS=$BATS_TEST_DIRNAME/persist_topics.py

setup() {
	start_nsqd
}

teardown() {
	teardown_daemons
}

@test "topics: 2,000 topics x 2 channels in a burst, far fewer nsqd.dat rewrites than creates" {
	run timeout 300 python3 "$TOOLS" burst "$NSQD_HTTP_PORT" \
	    "$NSQD_DATA" 2000
	assert_success
	assert_output --partial "creates=6000 "
	local renames=${output##*renames=}
	echo "renames=$renames"
	# One rewrite per create would be 6,000; at least one happened.
	[ "$renames" -ge 1 ]
	[ "$renames" -le 1000 ]
}

@test "topics: 500 topics x 2 channels created, SIGTERM, all restored" {
	run timeout 300 python3 "$TOOLS" create "$NSQD_HTTP_PORT" 500
	assert_success
	assert_output "creates=1500"
	# The exit syncs each of the 1,500 queues' meta files in turn.
	NSQ_STOP_TIMEOUT=120 stop_nsqd
	run python3 "$TOOLS" dat "$NSQD_DATA" 500
	assert_success
	restart_nsqd
	run python3 "$TOOLS" stats "$NSQD_HTTP_PORT" 500
	assert_success
}

@test "topics: 500 topics x 2 channels created, nsqd.dat polled, SIGKILL, all restored" {
	run timeout 300 python3 "$TOOLS" create "$NSQD_HTTP_PORT" 500
	assert_success
	wait_until 60 python3 "$TOOLS" dat "$NSQD_DATA" 500
	kill9_nsqd
	run python3 "$TOOLS" dat "$NSQD_DATA" 500
	assert_success
	restart_nsqd
	run python3 "$TOOLS" stats "$NSQD_HTTP_PORT" 500
	assert_success
}
