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
	skip_under_asan "AddressSanitizer pads every allocation"
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

# skip_under_asan WHY: RSS figures mean nothing for a sanitized nsqd.
skip_under_asan() {
	if nm "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init ||
	    nm -D "$NSQ_BIN_DIR/nsqd" 2>/dev/null | grep -q __asan_init; then
		skip "$1"
	fi
}

# An idle connection holds no 16 KB buffers: 2,000 connections that sent
# "  V2" and IDENTIFY and then idle add under 4,096 bytes each to nsqd's
# resident memory (they cost over 9,000 when each had its buffers from
# the start).
@test "nsqd: an idle connection after IDENTIFY costs under 4096 bytes" {
	local per
	skip_under_asan "AddressSanitizer pads every allocation"
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

# A burst grows a connection's buffers; at its next heartbeat an emptied
# buffer above 16 KB is freed.  20 connections each MPUB about 1 MiB
# (heartbeat every second), then idle: nsqd's resident memory must come
# back to within 4 MB of where it was before the bursts.  Without the
# shrink it stays about 20 MB up (each input buffer kept at 1 MiB).
@test "nsqd: buffers grown by a burst are freed at the connection's next heartbeat" {
	skip_under_asan "AddressSanitizer keeps freed memory in quarantine"
	# --mem-queue-size=0: the messages go to disk, so what stays in
	# memory is the connections' buffers.
	start_nsqd --max-body-size=2097152 --mem-queue-size=0
	run timeout 120 python3 - "$NSQD_PID" "$NSQD_TCP_PORT" <<'PY'
import json, socket, struct, sys, time
pid, port, n = sys.argv[1], int(sys.argv[2]), 20
def rss():
    with open("/proc/%s/status" % pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
def frame(c):
    head = b""
    while len(head) < 8:
        d = c.recv(8 - len(head))
        assert d, "closed"
        head += d
    size, ftype = struct.unpack(">II", head)
    data = b""
    while len(data) < size - 4:
        d = c.recv(size - 4 - len(data))
        assert d, "closed"
        data += d
    return ftype, data
body = json.dumps({"client_id": "burst", "hostname": "h",
    "heartbeat_interval": 1000, "feature_negotiation": True}).encode()
cs = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    c.settimeout(10)
    c.sendall(b"  V2IDENTIFY\n" + struct.pack(">I", len(body)) + body)
    frame(c)
    cs.append(c)
time.sleep(0.5)
r0 = rss()
msgs = [bytes([65 + i % 26]) * 4096 for i in range(250)]
mb = struct.pack(">I", len(msgs)) + b"".join(
    struct.pack(">I", len(m)) + m for m in msgs)
for c in cs:
    c.sendall(b"MPUB burst\n" + struct.pack(">I", len(mb)) + mb)
for c in cs:
    while True:
        t, d = frame(c)
        if t == 0 and d == b"OK":
            break
        assert t == 0 and d == b"_heartbeat_", (t, d)
        c.sendall(b"NOP\n")
up = rss() - r0
# Heartbeats come each second; answer them and watch memory go back.
deadline = time.time() + 30
while time.time() < deadline and rss() - r0 > 4096:
    for c in cs:
        c.settimeout(0.05)
        try:
            t, d = frame(c)
            if d == b"_heartbeat_":
                c.sendall(b"NOP\n")
        except socket.timeout:
            pass
print(up, rss() - r0)
PY
	assert_success
	local up left
	read -r up left <<<"$output"
	echo "# up ${up} kB after the bursts, ${left} kB left" >&3
	[ "$up" -gt 8192 ] || fail "the bursts grew nsqd by only ${up} kB"
	[ "$left" -le 4096 ] || fail "${left} kB still held after the heartbeats"
}
