#!/usr/bin/env bats
# The soak script's own short run (make soak runs it for SOAK_SECONDS):
# 30 s of publishing and consuming through nsqlookupd on two durable
# nsqd, with REQs, timeouts, TOUCHes and drops, nsqd restarted with
# SIGTERM and SIGKILL and nsqlookupd restarted; nothing published may be
# lost, and the summary line must be there.

load helpers

@test "soak: 30 s of churn and restarts lose no published message" {
	run timeout 280 python3 "$BATS_TEST_DIRNAME/../soak/soak.py" \
	    --bin "$NSQ_BIN_DIR" --seconds 30 --workdir "$BATS_TEST_TMPDIR/soak"
	echo "$output"
	assert_success
	assert_output --regexp 'nsqd-a \(SIGTERM\) restarted'
	assert_output --regexp 'nsqlookupd restarted'
	assert_output --regexp 'nsqd-a \(SIGKILL\) restarted'
	assert_output --regexp 'soak: 30s published [1-9][0-9]* received [0-9]+ lost 0 duplicated [0-9]+ \| nsqd-a RSS [0-9]+/[0-9]+/[0-9]+ kB fds [0-9]+/[0-9]+'
	# Nothing of the daemons' logs says a sanitizer found something.
	run grep -l 'ERROR: \(Address\|Leak\|Undefined\)Sanitizer\|runtime error:' \
	    "$BATS_TEST_TMPDIR"/soak/*.log
	assert_failure 1
}
