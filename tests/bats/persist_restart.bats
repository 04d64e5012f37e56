#!/usr/bin/env bats
# Clean restarts under load: 100,000 messages on a topic with two
# channels and --mem-queue-size=1000 (so most of them sit in the disk
# queues), nsqd stopped with SIGTERM and started again twice while slow
# consumers read, then everything drained.  Each channel must see every
# body, and once a FIN has been processed that body never comes back
# (persist_tools.py explains how a FIN is known to be processed).

load helpers

TOOLS=$BATS_TEST_DIRNAME/persist_tools.py
N=100000

setup() {
	start_nsqd --mem-queue-size=1000
}

teardown() {
	teardown_daemons
}

# consumed LOG: how many FINs LOG has confirmed.
consumed() {
	grep -c '^K ' "$1" || true
}

# at_least N LOG: the consumer behind LOG has confirmed N more FINs
# than it had when the mark was taken.
at_least() {
	(($(consumed "$2") >= $1))
}

@test "restart: 100,000 messages over two SIGTERM restarts, each body once per channel" {
	local d=$BATS_TEST_TMPDIR ch mark
	# Both channels exist before the first message.
	python3 - <<'EOF'
from nsqwire import *
for ch in ('c1', 'c2'):
    c = Conn(int(os.environ['NSQD_TCP_PORT']))
    c.magic()
    c.sub('big', ch)
    c.ok()
    c.close()
EOF
	run timeout 120 python3 "$TOOLS" pub "$NSQD_TCP_PORT" big \
	    --log "$d/pub.log" --count $N --batch 500 --size 40
	assert_success
	assert_output --partial "acked=$N"

	# Slow readers (RDY 5, a few ms a message) that reconnect across
	# the restarts.
	for ch in c1 c2; do
		start_bg "CONS_$ch" timeout 150 python3 "$TOOLS" consume \
		    "$NSQD_TCP_PORT" big "$ch" --log "$d/$ch.log" --rdy 5 \
		    --delay 0.002 --sync-every 5 --reconnect \
		    --stop-file "$d/stop" --max-time 140
	done
	for mark in 300 600; do
		for ch in c1 c2; do
			wait_until 60 at_least "$mark" "$d/$ch.log"
		done
		restart_nsqd
	done
	for ch in c1 c2; do
		wait_until 60 at_least 900 "$d/$ch.log"
	done
	touch "$d/stop"
	for ch in c1 c2; do
		wait_bg "CONS_$ch" 30
	done
	# Both consumers lost their connection at each restart.
	for ch in c1 c2; do
		(($(grep -c '^X$' "$d/$ch.log") == 2))
	done

	# Drain the rest, fast.
	for ch in c1 c2; do
		run timeout 150 python3 "$TOOLS" consume "$NSQD_TCP_PORT" big \
		    "$ch" --log "$d/$ch.log" --rdy 1000 --sync-every 5000 \
		    --until-idle 2 --max-time 140
		assert_success
	done
	for ch in c1 c2; do
		run python3 "$TOOLS" check --count $N --exact --log "$d/$ch.log"
		echo "# $ch: $output" >&3
		assert_success
	done
	stop_nsqd
	# Nothing is left, and the files say so in Go's format.
	for ch in c1 c2; do
		run python3 "$TOOLS" dqscan "$NSQD_DATA" "big:$ch"
		assert_success
		assert_output "big:$ch depth=0"
	done
}

@test "restart: SIGTERM writes queued, in-flight, deferred and held messages to disk" {
	local d=$BATS_TEST_TMPDIR
	cat >"$d/client.py" <<'EOF'
from nsqwire import *
port = int(os.environ['NSQD_TCP_PORT'])
c = Conn(port)
c.magic()
c.sub('t', 'c')
c.ok()
# In memory (--mem-queue-size=1000): 10 queued, 5 deferred by DPUB.
for i in range(10):
    c.pub('t', b'q%d' % i)
    c.ok()
for i in range(5):
    c.dpub('t', 3600 * 1000, b'd%d' % i)
    c.ok()
# A topic with no channel holds its messages, a deferred one too.
for i in range(3):
    c.pub('held', b'h%d' % i)
    c.ok()
c.dpub('held', 3600 * 1000, b'hd')
c.ok()
# Of the queued ones: 4 stay in flight, 3 are REQed for an hour.
c.rdy(7)
ms = c.messages(7)
c.rdy(0)
for m in ms[4:]:
    c.req(m.id, 3600 * 1000)
c.no_frame(0.5)
open(os.environ['BATS_TEST_TMPDIR'] + '/ready', 'w').close()
# Still connected, 4 in flight, when nsqd gets SIGTERM.
assert c.closed(timeout=30), 'nsqd did not close the connection'
EOF
	start_bg CLIENT timeout 60 python3 "$d/client.py"
	wait_until 30 test -e "$d/ready"
	restart_nsqd
	wait_bg CLIENT 30
	grep -q 'CHANNEL(t:c): wrote 15 messages to disk' "$NSQD_LOG"
	# Everything is back, at once: a defer does not survive a restart
	# (as in Go, where it goes through the disk queue).
	python3 - <<'EOF'
from nsqwire import *
port = int(os.environ['NSQD_TCP_PORT'])
def take(topic, chan, n):
    c = Conn(port, timeout=10)
    c.magic()
    c.sub(topic, chan)
    c.ok()
    c.rdy(100)
    ms = c.messages(n)
    c.no_frame(1.0)
    for m in ms:
        c.fin(m.id)
    c.close()
    return ms
ms = take('t', 'c', 15)
want = {b'q%d' % i for i in range(10)} | {b'd%d' % i for i in range(5)}
assert {m.body for m in ms} == want, ms
# The 7 delivered before come back with their attempt counted.
assert sorted(m.attempts for m in ms) == [1] * 8 + [2] * 7, ms
ms = take('held', 'first', 4)
assert {m.body for m in ms} == {b'h0', b'h1', b'h2', b'hd'}, ms
EOF
}
