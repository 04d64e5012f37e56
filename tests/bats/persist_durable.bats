#!/usr/bin/env bats
# Durable mode (--mem-queue-size=0 --sync-every=1): nsqd answers a PUB or
# MPUB only once it is fsynced, and a message read from disk stays
# tracked until FINed.  Twenty rounds of publish, consume a part,
# SIGKILL, restart: no acknowledged message may be lost, and the only
# messages delivered twice are those in flight (delivered, FIN not
# confirmed) when nsqd was killed.  The publisher logs what it got OK
# for, the consumer what it FINed (persist_tools.py).
#
# A consumer that FINs out of order (--hold-every) is covered too: the
# committed position stays at the oldest unfinished message, and the
# messages finished behind it are kept in the channel's finished set, so
# they do not come back after the crash.

load helpers

TOOLS=$BATS_TEST_DIRNAME/persist_tools.py
ROUNDS=20

setup() {
	start_nsqd --mem-queue-size=0 --sync-every=1
}

teardown() {
	teardown_daemons
}

count() {	# count PATTERN FILE
	grep -c "$1" "$2" || true
}

lingering() {	# lingering FILE N: N consumers reached --linger
	(($(count '^L$' "$1") >= $2))
}

acked_more() {	# acked_more FILE N
	(($(count '^A ' "$1") >= $2))
}

@test "durable: 20 rounds of publish, consume a part, SIGKILL: no acknowledged message lost" {
	local d=$BATS_TEST_TMPDIR r before
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('dur', 'c')
c.ok()
c.close()
EOF
	for ((r = 1; r <= ROUNDS; r++)); do
		# A batch, every message acknowledged.
		run timeout 60 python3 "$TOOLS" pub "$NSQD_TCP_PORT" dur \
		    --log "$d/pub.log" --prefix "r$r-" --count 60 --batch 3
		assert_success
		if ((r % 2 == 0)); then
			# Even rounds: a publisher is still at work when
			# nsqd is killed.
			before=$(count '^A ' "$d/pub.log")
			start_bg PUB timeout 60 python3 "$TOOLS" pub \
			    "$NSQD_TCP_PORT" dur --log "$d/pub.log" \
			    --prefix "r$r-bg-" --count 100000 --batch 2 \
			    --tolerate-close --max-time 50
			wait_until 30 acked_more "$d/pub.log" $((before + 10))
		fi
		# Consume a part: 40 messages, FIN all but the last 3, and
		# stay connected with those in flight.
		start_bg CONS timeout 60 python3 "$TOOLS" consume \
		    "$NSQD_TCP_PORT" dur c --log "$d/cons.log" --rdy 4 \
		    --sync-every 4 --count 40 --leave 3 --linger --max-time 50
		wait_until 30 lingering "$d/cons.log" "$r"
		kill9_nsqd
		wait_bg CONS 20
		if ((r % 2 == 0)); then
			wait_bg PUB 20
		fi
		restart_nsqd
	done

	# Drain what is left.
	run timeout 120 python3 "$TOOLS" consume "$NSQD_TCP_PORT" dur c \
	    --log "$d/cons.log" --rdy 200 --sync-every 100 --until-idle 2 \
	    --max-time 100
	assert_success
	run python3 "$TOOLS" check --pub-log "$d/pub.log" --log "$d/cons.log"
	echo "# $output" >&3
	assert_success
	stop_nsqd
	run python3 "$TOOLS" dqscan "$NSQD_DATA" dur:c
	assert_success
	assert_output "dur:c depth=0"
}

@test "durable: messages a topic held for its first channel survive SIGKILL once" {
	local d=$BATS_TEST_TMPDIR
	# No channel yet: the topic's own disk queue holds them.
	run timeout 60 python3 "$TOOLS" pub "$NSQD_TCP_PORT" late \
	    --log "$d/pub.log" --count 50 --batch 5
	assert_success
	# The first channel takes them over; 20 are consumed, and the
	# consumer's FINs are confirmed before the kill.
	run timeout 60 python3 "$TOOLS" consume "$NSQD_TCP_PORT" late c \
	    --log "$d/cons.log" --rdy 1 --count 20 --max-time 50
	assert_success
	kill9_nsqd
	restart_nsqd
	run timeout 60 python3 "$TOOLS" consume "$NSQD_TCP_PORT" late c \
	    --log "$d/cons.log" --rdy 50 --until-idle 2 --max-time 50
	assert_success
	run python3 "$TOOLS" check --pub-log "$d/pub.log" --exact \
	    --log "$d/cons.log"
	assert_success
	assert_output --partial 'unique=50 confirmed=50'
	stop_nsqd
	run python3 "$TOOLS" dqscan "$NSQD_DATA" late
	assert_output 'late depth=0'
}

@test "durable: FINs out of order do not come back after SIGKILL" {
	local d=$BATS_TEST_TMPDIR r
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('ooo', 'c')
c.ok()
c.close()
EOF
	for ((r = 1; r <= 6; r++)); do
		run timeout 60 python3 "$TOOLS" pub "$NSQD_TCP_PORT" ooo \
		    --log "$d/pub.log" --prefix "r$r-" --count 60 --batch 3
		assert_success
		# Every 5th message is held and FINed later, after others.
		start_bg CONS timeout 60 python3 "$TOOLS" consume \
		    "$NSQD_TCP_PORT" ooo c --log "$d/cons.log" --rdy 8 \
		    --sync-every 4 --count 40 --leave 3 --hold-every 5 \
		    --hold-max 2 --linger --max-time 50
		wait_until 30 lingering "$d/cons.log" "$r"
		kill9_nsqd
		wait_bg CONS 20
		restart_nsqd
	done
	run timeout 120 python3 "$TOOLS" consume "$NSQD_TCP_PORT" ooo c \
	    --log "$d/cons.log" --rdy 200 --sync-every 100 --until-idle 2 \
	    --max-time 100
	assert_success
	run python3 "$TOOLS" check --pub-log "$d/pub.log" --log "$d/cons.log"
	echo "# $output" >&3
	assert_success
	stop_nsqd
	# A clean stop commits everything: no finished set is left behind.
	[ ! -e "$NSQD_DATA/ooo:c.diskqueue.fin.dat" ]
}
