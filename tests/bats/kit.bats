#!/usr/bin/env bats
# The test kit's own checks (helpers.bash, nsqwire.py), with no daemon:
# background processes are plain shell commands and the wire peer is a
# few lines of python, so a broken kit shows up here and not as a
# puzzling failure in a daemon test.

load helpers

# A bare "! cmd" fails a test only as its last command (bash's set -e
# ignores it); "run !" and "run -1" (bats 1.5) check wherever they are.
bats_require_minimum_version 1.5.0

teardown() {
	teardown_daemons
}

@test "kit: free_port hands out distinct free ports" {
	local a b c
	a=$(free_port)
	b=$(free_port)
	c=$(free_port)
	[[ $a =~ ^[0-9]+$ && $a != "$b" && $b != "$c" && $a != "$c" ]]
	run tcp_port_open "$a"
	assert_failure
}

@test "kit: wait_until polls, and times out with the last output" {
	local f=$BATS_TEST_TMPDIR/flag
	(sleep 0.3; touch "$f") 3>&- &
	wait_until 5 test -e "$f"
	run wait_until 0.3 sh -c 'echo still-not; false'
	assert_failure
	assert_output --partial 'timed out after 0.3s'
	assert_output --partial 'still-not'
}

@test "kit: start_bg / wait_bg report exit status and output" {
	start_bg B1 sh -c 'echo hello; exit 4'
	run wait_bg B1 5
	assert_equal "$status" 4
	grep -qx hello "$B1_LOG"
	run proc_status B1
	assert_output 4
}

@test "kit: wait_bg kills a process past its deadline (124)" {
	start_bg SLOW sleep 60
	proc_alive SLOW
	run wait_bg SLOW 0.3
	assert_equal "$status" 124
	run ! proc_alive SLOW
}

@test "kit: stop_bg sends SIGTERM, then SIGKILL to a process ignoring it" {
	start_bg T1 sleep 60
	run stop_bg T1
	assert_equal "$status" 143
	NSQ_STOP_TIMEOUT=0.3
	start_bg T2 sh -c 'trap "" TERM; while :; do sleep 0.1; done'
	run stop_bg T2
	assert_equal "$status" 137
	run ! proc_alive T2
}

@test "kit: teardown_daemons stops what the test left running" {
	start_bg LEFT sleep 60
	local pid=$LEFT_PID
	teardown_daemons
	run ! kill -0 "$pid"
}

@test "kit: start_nsqd fails at once when the binary is missing" {
	NSQ_BIN_DIR=$BATS_TEST_TMPDIR/none
	run start_nsqd
	assert_failure
	assert_output --partial "no executable $BATS_TEST_TMPDIR/none/nsqd"
}

@test "kit: nsqwire frames, heartbeats, messages, close" {
	python3 - <<'EOF'
import socket, threading
from nsqwire import *

srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen()
got = []

def serve():
    s, _ = srv.accept()
    got.append(s.recv(4))
    hb = frame_bytes(FRAME_RESPONSE, HEARTBEAT)
    msg = struct.pack('>qH', 123, 7) + b'0123456789abcdef' + b'body'
    data = (hb + frame_bytes(FRAME_MESSAGE, msg) + hb +
            frame_bytes(FRAME_ERROR, b'E_INVALID nope'))
    for i in range(len(data)):          # byte by byte
        s.sendall(data[i:i + 1])
    s.settimeout(2)
    buf = b''
    while buf.count(b'\n') < 2:
        buf += s.recv(100)
    got.append(buf)
    s.close()

threading.Thread(target=serve, daemon=True).start()
c = Conn(srv.getsockname()[1], auto_nop=True)
c.magic()
m = c.message()
assert (m.ts, m.attempts, m.id, m.body) == (
    123, 7, b'0123456789abcdef', b'body'), m
try:
    c.ok()
    raise SystemExit('expect() accepted an error frame')
except WireError as e:
    assert 'E_INVALID nope' in str(e), e
assert c.heartbeats == 2
assert c.closed(2)
try:
    c.frame(0.2)
    raise SystemExit('frame() after close did not raise')
except ConnectionClosed:
    pass
assert got == [MAGIC_V2, b'NOP\nNOP\n'], got
EOF
}

@test "kit: nsqwire read deadline raises WireTimeout" {
	python3 - <<'EOF'
import socket
from nsqwire import *
srv = socket.socket()
srv.bind(('127.0.0.1', 0))
srv.listen()
c = Conn(srv.getsockname()[1], timeout=0.2)
t = time.monotonic()
try:
    c.frame()
    raise SystemExit('no timeout')
except WireTimeout:
    pass
assert time.monotonic() - t < 1.5
assert not c.closed(0.1)
assert c.no_frame(0.1)
assert mpub_body([b'a', 'bc']) == b'\0\0\0\x02\0\0\0\x01a\0\0\0\x02bc'
assert body(b'xyz') == b'\0\0\0\x03xyz'
EOF
}
