#!/usr/bin/env bats
# The start-up audit: no option is accepted and ignored.  For each
# program, every option its --help lists has a row in tests/OPTIONS.audit
# naming a test that runs the program with it and observes its effect, or
# the arguments it is refused with (exit 2, the option named); the checker
# (tests/options_audit.py) verifies each row.  A new option without
# evidence fails here.

load helpers

audit() {
	[ -x "$NSQ_BIN_DIR/$1" ] || fail "no $1 in $NSQ_BIN_DIR"
	run python3 "$BATS_TEST_DIRNAME/../options_audit.py" check \
	    "$NSQ_BIN_DIR" "$1"
	echo "$output"
	assert_success
	assert_output --regexp "^$1: [0-9]+ options, [0-9]+ with evidence$"
}

@test "audit: nsqd: every option has a test that observes it, or is refused" {
	audit nsqd
}

@test "audit: nsqlookupd: every option has a test that observes it, or is refused" {
	audit nsqlookupd
}

@test "audit: nsq-pub: every option has a test that observes it, or is refused" {
	audit nsq-pub
}

@test "audit: nsq-tail: every option has a test that observes it, or is refused" {
	audit nsq-tail
}

@test "audit: nsq-to-file: every option has a test that observes it, or is refused" {
	audit nsq-to-file
}

@test "audit: nsq-stat: every option has a test that observes it, or is refused" {
	audit nsq-stat
}

@test "audit: nsq-bench: every option has a test that observes it, or is refused" {
	audit nsq-bench
}

@test "audit: nsq-to-http: every option has a test that observes it, or is refused" {
	audit nsq-to-http
}

@test "audit: nsq-to-nsq: every option has a test that observes it, or is refused" {
	audit nsq-to-nsq
}

@test "audit: nsqadmin: every option has a test that observes it, or is refused" {
	audit nsqadmin
}

@test "audit: every program in the bin directory has its audit test here" {
	local p
	for p in "$NSQ_BIN_DIR"/*; do
		[ -x "$p" ] || continue
		grep -q "^	audit $(basename "$p")\$" "$BATS_TEST_FILENAME" ||
		    fail "no audit test for $(basename "$p")"
	done
}
