#!/usr/bin/env bats
# What nsqd's memory holds per queued message: with 300,000 messages of
# 200 bytes queued in memory in one channel, the resident memory they add
# beyond their bodies stays under 64 bytes a message (a body's header and
# malloc's, and one ring slot; no per-channel copy until delivery), and
# once they are drained the memory goes back to the system.  The
# sanitizer build pads every allocation, so it is skipped there.

load helpers

teardown() {
	teardown_daemons
}

bench() {
	timeout 120 "$NSQ_BIN_DIR/nsq-bench" "$@"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$NSQD_PID/status"
}

rss_below() {
	[ "$(rss_kb)" -lt "$1" ]
}

@test "nsqd: a queued message costs under 64 bytes beyond its body, all given back once drained" {
	local n=300000 w r rss0 rss1 per
	if nm "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init ||
	    nm -D "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init; then
		skip "AddressSanitizer pads every allocation"
	fi
	start_nsqd --mem-queue-size=1000000
	run bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --rdy 0 --runfor 0
	assert_success
	rss0=$(rss_kb)
	w=$(bench writer --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --count "$n" --runfor 100s --size 200 --batch-size 200)
	[[ $w == *" msgs=$n "* ]] || fail "writer: $w"
	rss1=$(rss_kb)
	per=$(( ((rss1 - rss0) * 1024 - n * 200) / n ))
	echo "# RSS ${rss0} kB -> ${rss1} kB: $per bytes a message beyond the body" >&3
	run curl -sf "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=sub_bench"
	assert_success
	assert_output --partial "\"depth\":$n,"
	[ "$per" -lt 64 ] || fail "$per bytes a message beyond its body"
	# All of them are still there.
	r=$(bench reader --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --count "$n" --runfor 100s)
	[[ $r == *" msgs=$n "* ]] || fail "reader: $r"
	# Drained, the memory goes back to the system (nsqd trims malloc's
	# free heap every 10 s): within 16 MB of where it started.
	wait_until 60 rss_below $((rss0 + 16384)) ||
	    fail "RSS stayed at $(rss_kb) kB after the drain (from $rss0 kB)"
}
