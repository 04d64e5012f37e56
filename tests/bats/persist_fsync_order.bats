#!/usr/bin/env bats
# Power loss, not just SIGKILL: in durable mode (--mem-queue-size=0
# --sync-every=1) an OK must never reach the wire before the fdatasync
# that covers its message.  nsqd runs under strace while concurrent
# publishers pipeline PUBs; fsync_order.py matches each message's record
# in a queue file, the first sync of that file after it, and its OK on
# the publisher's socket, and fails on any OK written before its sync
# ended.

load helpers

teardown() {
	teardown_daemons
}

CONNS=4
PUBS=150

@test "fsync order: in durable mode every OK follows the sync of its message" {
	command -v strace >/dev/null || fail "strace is not installed (scripts/deps.sh test)"
	local trace=$BATS_TEST_TMPDIR/nsqd.strace tcp http pid
	tcp=$(free_port)
	http=$(free_port)
	mkdir -p "$BATS_TEST_TMPDIR/data"
	# LeakSanitizer cannot run under ptrace; the leak checks are the
	# other tests' (the sanitized pass runs them all).
	start_bg TRACED env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    timeout 200 strace -f -ttt -T -s 65536 -xx -o "$trace" \
	    -e trace=read,recvfrom,write,writev,pwrite64,sendmsg,sendto,fdatasync,fsync \
	    "$NSQ_BIN_DIR/nsqd" --tcp-address="127.0.0.1:$tcp" \
	    --http-address="127.0.0.1:$http" \
	    --data-path="$BATS_TEST_TMPDIR/data" --mem-queue-size=0 --sync-every=1
	wait_until 60 tcp_port_open "$tcp"
	run python3 - "$tcp" "$CONNS" "$PUBS" <<'EOF2'
import sys, threading
from nsqwire import Conn, body
port, nconns, npubs = map(int, sys.argv[1:])
errors = []
def publish(k):
    try:
        c = Conn(port, timeout=60); c.magic()
        # All the PUBs at once, then every OK: pipelined, so that the
        # publishers' messages share group commits.
        c.send(b"".join(b"PUB fsync_order\n" + body(b"c%d-%d" % (k, i))
                        for i in range(npubs)))
        for i in range(npubs):
            c.ok()
    except Exception as e:
        errors.append("publisher %d: %r" % (k, e))
ts = [threading.Thread(target=publish, args=(k,)) for k in range(nconns)]
for t in ts: t.start()
for t in ts: t.join(120)
if errors:
    sys.exit("\n".join(errors))
print("published", nconns * npubs)
EOF2
	assert_success
	assert_output "published $((CONNS * PUBS))"
	# SIGTERM to nsqd itself (strace would detach and leave it running).
	pid=$(ps -eo pid=,comm=,args= | awk -v a="--tcp-address=127.0.0.1:$tcp" \
	    '$2 == "nsqd" && index($0, a) { print $1 }')
	[ -n "$pid" ] || fail "no traced nsqd found"
	kill -TERM "$pid"
	run wait_bg TRACED 60
	assert_success
	run python3 "$BATS_TEST_DIRNAME/fsync_order.py" "$trace" "$CONNS" "$PUBS"
	echo "$output"
	assert_success
	assert_output --partial "$((CONNS * PUBS)) messages from $CONNS publishers: every OK after its sync"
}
