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

# An idle connection holds no 16 KB buffers: 2,000 connections that sent
# "  V2" and IDENTIFY and then idle add under 4,096 bytes each to nsqd's
# resident memory (they cost over 9,000 when each had its buffers from
# the start).
@test "nsqd: an idle connection after IDENTIFY costs under 4096 bytes" {
	local per
	if nm "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init ||
	    nm -D "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init; then
		skip "AddressSanitizer pads every allocation"
	fi
	ulimit -n 4096 2>/dev/null || skip "cannot raise the open-file limit"
	start_nsqd
	run timeout 120 python3 - "$NSQD_PID" "$NSQD_TCP_PORT" <<'PY'
import json, socket, struct, sys, time
pid, port, n = sys.argv[1], int(sys.argv[2]), 2000
def rss():
    with open("/proc/%s/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
body = json.dumps({"client_id": "idle", "hostname": "h",
    "feature_negotiation": True}).encode()
r0 = rss()
cs = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"  V2IDENTIFY\n" + struct.pack(">I", len(body)) + body)
    cs.append(c)
for c in cs:
    c.settimeout(10)
    head = c.recv(8)
    assert len(head) == 8, head
time.sleep(1)
print((rss() - r0) * 1024 // n)
PY
	assert_success
	per=$output
	echo "# $per bytes an idle connection" >&3
	[ "$per" -lt 4096 ] || fail "$per bytes an idle connection"
}
