#!/usr/bin/env bats
# A full disk: the data path is a 2 MiB tmpfs (the suites run as root;
# not being able to mount it is a failure, not a skip), mostly taken by a
# filler file.  PUB must fail with E_PUB_FAILED while nsqd goes on
# serving, nothing it acknowledged may be lost, and once the filler is
# removed PUB works again.

load helpers

TOOLS=$BATS_TEST_DIRNAME/persist_tools.py

setup() {
	FS=$BATS_TEST_TMPDIR/NSQD.data
	mkdir -p "$FS"
	if ! mount -t tmpfs -o size=2m tmpfs "$FS"; then
		echo "cannot mount a tmpfs on $FS (these tests need root" \
		    "and mount(2))" >&2
		return 1
	fi
	MOUNTED=1
	# 1.5 MiB of the 2: about 500 KiB are left for nsqd.
	dd if=/dev/zero of="$FS/filler" bs=64k count=24 status=none
}

teardown() {
	teardown_daemons
	if [[ -n ${MOUNTED:-} ]]; then
		umount "$FS" || umount -l "$FS"
	fi
}

mkchan() {	# mkchan TOPIC CHANNEL
	python3 - "$1" "$2" <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub(sys.argv[1], sys.argv[2])
c.ok()
c.close()
EOF
}

# fill: publish 4000-byte messages until nsqd refuses one; it must be
# E_PUB_FAILED after some were acknowledged.
fill() {
	run timeout 60 python3 "$TOOLS" pub "$NSQD_TCP_PORT" t \
	    --log "$BATS_TEST_TMPDIR/pub.log" --prefix full --count 2000 \
	    --size 4000 --tolerate-close
	assert_success
	grep -q '^E E_PUB_FAILED PUB failed ' \
	    "$BATS_TEST_TMPDIR/pub.log"
	(($(grep -c '^A ' "$BATS_TEST_TMPDIR/pub.log") >= 20))
}

# still_serving: a PUB is refused again, the connection closes, and a
# consumer on another channel is served.
still_serving() {
	python3 - <<'EOF'
from nsqwire import *
port = int(os.environ['NSQD_TCP_PORT'])
c = Conn(port)
c.magic()
c.pub('t', b'x' * 4000)
c.error(b'E_PUB_FAILED')
assert c.closed(), 'E_PUB_FAILED must close the connection'
# Reading goes on: the channel holds what was acknowledged.
c = Conn(port, auto_nop=True)
c.magic()
c.sub('t', 'c')
c.ok()
c.rdy(5)
for m in c.messages(5):
    assert m.body.startswith(b'full'), m
c.close()
EOF
}

# drain_check: consume t/c to the end; every acknowledged body is there.
drain_check() {
	run timeout 100 python3 "$TOOLS" consume "$NSQD_TCP_PORT" t c \
	    --log "$BATS_TEST_TMPDIR/cons.log" --rdy 50 --sync-every 50 \
	    --until-idle 2 --max-time 90
	assert_success
	run python3 "$TOOLS" check --pub-log "$BATS_TEST_TMPDIR/pub.log" \
	    --log "$BATS_TEST_TMPDIR/cons.log"
	echo "# $output" >&3
	assert_success
}

@test "fulldisk: E_PUB_FAILED when the disk is full; nothing acknowledged lost; PUB works once space is freed" {
	start_nsqd --mem-queue-size=0
	mkchan t c
	fill
	proc_alive NSQD
	still_serving
	proc_alive NSQD
	rm "$FS/filler"
	run timeout 30 python3 "$TOOLS" pub "$NSQD_TCP_PORT" t \
	    --log "$BATS_TEST_TMPDIR/pub.log" --prefix after --count 20 \
	    --size 4000
	assert_success
	drain_check
	stop_nsqd
}

@test "fulldisk: durable mode, E_PUB_FAILED on a failed fsync; acknowledged messages survive SIGKILL" {
	start_nsqd --mem-queue-size=0 --sync-every=1
	mkchan t c
	fill
	still_serving
	# A crash while the disk is full keeps what was acknowledged.
	kill9_nsqd
	rm "$FS/filler"
	restart_nsqd
	run timeout 30 python3 "$TOOLS" pub "$NSQD_TCP_PORT" t \
	    --log "$BATS_TEST_TMPDIR/pub.log" --prefix after --count 20 \
	    --size 4000
	assert_success
	drain_check
	stop_nsqd
}

@test "fulldisk: creating channels on a full disk neither kills nsqd nor floods its log" {
	start_nsqd --mem-queue-size=0
	mkchan t c
	fill
	# Take the last free pages too: nsqd.dat cannot be rewritten now.
	dd if=/dev/zero of="$FS/filler2" bs=4k count=1000 status=none ||
	    true
	mkchan t c2
	mkchan t c3
	# Traffic turns the loop: 500 commands, each waiting for its reply.
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.sub('t', 'c3')
c.ok()
for i in range(500):
    c.fin(b'0000000000000000')
    c.error(b'E_FIN_FAILED')
EOF
	sleep 1
	proc_alive NSQD
	run grep -c 'failed to persist metadata' "$NSQD_LOG"
	echo "# metadata failures logged: $output" >&3
	((output <= 10))
	rm "$FS/filler" "$FS/filler2"
	mkchan t c4
	wait_until 10 grep -q '"name":"c4"' "$FS/nsqd.dat"
	stop_nsqd
	grep -q '"name":"c3"' "$FS/nsqd.dat"
}
