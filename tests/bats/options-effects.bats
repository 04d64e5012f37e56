#!/usr/bin/env bats
# Options that no other test observed, each shown to do what it says (the
# start-up audit, options-audit.bats, points here): log prefixes, what nsqd
# announces to nsqlookupd and how often it pings, the periodic disk sync,
# message IDs carrying the node ID, a tail's RDY, nsq-to-file's time
# rotation with and without empty files, and every program's --version.

load helpers

teardown() {
	teardown_daemons
}

@test "effects: --log-prefix starts the log lines of nsqd, nsqlookupd and nsq-to-file" {
	start_nsqlookupd --log-prefix='[lookup-x] '
	start_nsqd --log-prefix='[nsqd-x] '
	wait_until 10 grep -q '^\[nsqd-x\] ' "$NSQD_LOG"
	wait_until 10 grep -q '^\[lookup-x\] ' "$NSQLOOKUPD_LOG"
	run grep -v -e '^\[nsqd-x\] ' -e '^--- helpers: ' "$NSQD_LOG"
	assert_output ''
	run grep -v -e '^\[lookup-x\] ' -e '^--- helpers: ' "$NSQLOOKUPD_LOG"
	assert_output ''
	run timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic t \
	    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --output-dir "$BATS_TEST_TMPDIR/out" --exit-when-idle 500ms \
	    --log-prefix='[ntf-x] '
	assert_success
	assert_line --regexp '^\[ntf-x\] '
}

# A stand-in nsqlookupd: records each IDENTIFY body and each PING.
lookupd_stub() {
	python3 - "$1" "$2" <<'EOF' &
import socket, struct, sys, threading
port, rec = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(4); s.settimeout(120)
def reply(c, b):
    c.sendall(struct.pack(">l", len(b)) + b)
def serve(c):
    f = c.makefile("rb")
    if f.read(4) != b"  V1":
        return
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.split()[0]
        with open(rec, "a") as out:
            if cmd == b"IDENTIFY":
                n = struct.unpack(">l", f.read(4))[0]
                out.write("IDENTIFY " + f.read(n).decode() + "\n")
                reply(c, b'{"tcp_port":1,"http_port":2,"version":"1.3.0",'
                      b'"broadcast_address":"stub","hostname":"stub"}')
            else:
                out.write(cmd.decode() + "\n")
                reply(c, b"OK")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	echo $! >"$BATS_TEST_TMPDIR/stub.pid"
}

@test "effects: nsqd announces its topology and broadcast ports, and pings every --lookupd-ping-interval" {
	local port rec=$BATS_TEST_TMPDIR/lookupd.rec
	port=$(free_port)
	lookupd_stub "$port" "$rec"
	wait_until 10 tcp_port_open "$port"
	start_nsqd --lookupd-tcp-address="127.0.0.1:$port" \
	    --lookupd-ping-interval=200ms --topology-region=eu-x \
	    --topology-zone=eu-x-1 --broadcast-tcp-port=14150 \
	    --broadcast-http-port=14151
	wait_until 20 grep -q IDENTIFY "$rec"
	# Go's default interval, 15 s, would send none in this time.
	pings() { test "$(grep -c '^PING$' "$1")" -ge "$2"; }
	wait_until 20 pings "$rec" 3
	kill "$(cat "$BATS_TEST_TMPDIR/stub.pid")"
	run python3 - "$rec" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("IDENTIFY "):
        d = json.loads(line[9:])
        print(d["topology_region"], d["topology_zone"], d["tcp_port"],
              d["http_port"])
        break
EOF
	assert_success
	assert_output "eu-x eu-x-1 14150 14151"
}

# meta_depth DATA TOPIC: the depth the topic's disk queue meta file holds.
meta_depth() {
	head -1 "$1/$2.diskqueue.meta.dat" 2>/dev/null
}

# depth_is DATA TOPIC N: meta_depth is N.
depth_is() {
	test "$(meta_depth "$1" "$2")" = "$3"
}

@test "effects: --sync-timeout syncs the disk queue's meta file on its timer" {
	start_nsqd --mem-queue-size=0 --sync-every=1000000 --sync-timeout=200ms
	curl -fsS -d hello "http://127.0.0.1:$NSQD_HTTP_PORT/pub?topic=st"
	wait_until 20 depth_is "$NSQD_DATA" st 1
	start_nsqd -n SLOW --mem-queue-size=0 --sync-every=1000000 \
	    --sync-timeout=1h
	curl -fsS -d hello "http://127.0.0.1:$SLOW_HTTP_PORT/pub?topic=st"
	# With an hour between syncs, nothing has written the depth yet.
	sleep 2
	run meta_depth "$SLOW_DATA" st
	refute_output 1
}

@test "effects: --node-id is the node part of every message ID" {
	local n
	for n in 5 1000; do
		start_nsqd -n N$n --node-id=$n
		run python3 - "$(eval echo \$N${n}_TCP_PORT)" "$n" <<'EOF'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1])); c.magic()
c.pub("ids", b"x"); c.ok()
c.sub("ids", "c"); c.ok(); c.rdy(1)
m = c.message()
# Go's guid: 41 bits of time, 10 of node ID, 12 of sequence, in hex.
node = (int(m.id, 16) >> 12) & 0x3ff
print(node)
EOF
		assert_success
		assert_output "$n"
	done
}

@test "effects: nsq-tail --max-in-flight (or --consumer-opt max_in_flight) is the RDY it sends" {
	start_nsqd
	start_bg TAIL timeout 60 "$NSQ_BIN_DIR/nsq-tail" --topic mif \
	    --channel c --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --max-in-flight 7
	rdy() {
		curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=mif" |
		    python3 -c 'import json, sys
d = json.load(sys.stdin)
print([cl["ready_count"] for t in d["topics"] for c in t["channels"]
       for cl in c["clients"]])'
	}
	rdy_is() { test "$(rdy)" = "$1"; }
	wait_until 20 rdy_is "[7]"
	stop_bg TAIL || true
	# Beyond Go, which sets both after the options and so ignores them:
	# --consumer-opt max_in_flight and user_agent are taken.
	start_bg TAIL2 timeout 60 "$NSQ_BIN_DIR/nsq-tail" --topic mif \
	    --channel c --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --consumer-opt max_in_flight,9 --consumer-opt user_agent,tail-x/2
	wait_until 20 rdy_is "[9]"
	run curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=mif"
	assert_output --partial '"user_agent":"tail-x/2"'
}

@test "effects: nsq-to-file --rotate-interval rotates on time; --skip-empty-files opens no empty file" {
	start_nsqd
	local a=127.0.0.1:$NSQD_TCP_PORT d
	for d in keep skip; do
		curl -fsS -d one "http://127.0.0.1:$NSQD_HTTP_PORT/pub?topic=ri_$d"
	done
	# Each runs past two 1 s rotations with one message, then idles out.
	start_bg KEEP timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic ri_keep \
	    --nsqd-tcp-address "$a" --output-dir "$BATS_TEST_TMPDIR/keep" \
	    --rotate-interval 1s --sync-interval 300ms --exit-when-idle 3500ms
	start_bg SKIP timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic ri_skip \
	    --nsqd-tcp-address "$a" --output-dir "$BATS_TEST_TMPDIR/skip" \
	    --rotate-interval 1s --sync-interval 300ms --exit-when-idle 3500ms \
	    --skip-empty-files
	wait_bg KEEP 60
	wait_bg SKIP 60
	# Without --skip-empty-files a rotation opens the next file at once.
	run find "$BATS_TEST_TMPDIR/keep" -type f -empty
	assert_success
	[ -n "$output" ] || fail "no empty file in keep/: $(ls -l "$BATS_TEST_TMPDIR/keep")"
	run find "$BATS_TEST_TMPDIR/skip" -type f -empty
	assert_success
	assert_output ''
	run cat "$BATS_TEST_TMPDIR"/keep/* "$BATS_TEST_TMPDIR"/skip/*
	assert_output $'one\none'
}

@test "effects: every program's --version names it and Go's version" {
	local p n=0
	for p in "$NSQ_BIN_DIR"/*; do
		[ -x "$p" ] || continue
		run "$p" --version
		assert_success
		# nsq-bench, no Go program, has only its own version.
		assert_output --regexp "^$(basename "$p") (v1\.3\.0 \(nsq in C [0-9.]+\)|[0-9.]+)\$"
		n=$((n + 1))
	done
	((n >= 7)) || fail "only $n programs in $NSQ_BIN_DIR"
}

@test "effects: nsqd refuses a config file key that no option knows" {
	local cfg=$BATS_TEST_TMPDIR/nsqd.cfg
	printf 'mem_queue_size = 5\nmem_queue_sise = 6\n' >"$cfg"
	run "$NSQ_BIN_DIR/nsqd" --config "$cfg" --data-path "$BATS_TEST_TMPDIR"
	assert_failure 2
	assert_output --partial "$cfg:2: unknown option mem_queue_sise"
	printf '[nsqd]\nmem_queue_size = 5\n' >"$cfg"
	run "$NSQ_BIN_DIR/nsqlookupd" --config "$cfg"
	assert_failure 2
	assert_output --partial "$cfg:2: mem_queue_size: only top-level keys are options"
}

@test "effects: --max-heartbeat-interval bounds IDENTIFY's heartbeat_interval" {
	start_nsqd --max-heartbeat-interval=2s
	run python3 - "$NSQD_TCP_PORT" <<'EOF2'
import sys
from nsqwire import Conn
for hb in (2000, 2001):
    c = Conn(int(sys.argv[1])); c.magic()
    c.identify({"heartbeat_interval": hb})
    print(hb, c.frame())
EOF2
	assert_success
	assert_line --index 0 --regexp "^2000 \(0, b'OK'\)$"
	assert_line --index 1 "2001 (1, b'E_BAD_BODY IDENTIFY heartbeat interval (2001) is invalid')"
}

@test "effects: nsq-bench --deadline holds the run until the time given" {
	start_nsqd
	local at
	at=$(date -u -d '+3 seconds' '+%Y-%m-%d %H:%M:%S')
	start_bg BENCH timeout 60 "$NSQ_BIN_DIR/nsq-bench" writer \
	    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" --topic dl \
	    --runfor 1s --deadline "$at"
	depth() {
		curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=dl" |
		    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(t["message_count"] for t in d["topics"] or []))'
	}
	# Connected, waiting: a second later nothing has been published yet.
	sleep 1
	run depth
	assert_output 0
	wait_bg BENCH 60
	run depth
	[ "$output" -gt 0 ] || fail "nothing published after the deadline: $output"
}

@test "effects: nsq-pub --producer-opt sets go-nsq's options (user_agent)" {
	start_nsqd
	start_bg PUB timeout 60 sh -c "(echo one; sleep 30) |
	    '$NSQ_BIN_DIR/nsq-pub' --topic po \
	    --nsqd-tcp-address 127.0.0.1:$NSQD_TCP_PORT \
	    --producer-opt user_agent,agent-x/1.0"
	agent() {
		curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json" |
		    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(c["user_agent"] for c in d.get("producers", [])))'
	}
	agent_is() { test "$(agent)" = "$1"; }
	wait_until 20 agent_is agent-x/1.0
}

@test "effects: nsq-to-file --gzip-level trades size for speed" {
	start_nsqd
	local lvl
	for lvl in 1 9; do
		seq 1 20000 | curl -fsS --data-binary @- \
		    "http://127.0.0.1:$NSQD_HTTP_PORT/mpub?topic=gz$lvl" >/dev/null
		run timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic gz$lvl \
		    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
		    --output-dir "$BATS_TEST_TMPDIR/gz$lvl" --gzip \
		    --gzip-level $lvl --exit-when-idle 1s
		assert_success
	done
	local s1 s9
	s1=$(cat "$BATS_TEST_TMPDIR"/gz1/* | wc -c)
	s9=$(cat "$BATS_TEST_TMPDIR"/gz9/* | wc -c)
	((s9 < s1)) || fail "level 9 ($s9 bytes) not smaller than level 1 ($s1)"
	run sh -c "zcat '$BATS_TEST_TMPDIR'/gz9/* | wc -l"
	assert_output 20000
}

@test "effects: nsq-to-file --log-level warn leaves out the info lines" {
	start_nsqd
	run timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic ll \
	    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --output-dir "$BATS_TEST_TMPDIR/out" --exit-when-idle 500ms \
	    --log-level warn
	assert_success
	refute_output --partial 'INFO:'
	run timeout 60 "$NSQ_BIN_DIR/nsq-to-file" --topic ll \
	    --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --output-dir "$BATS_TEST_TMPDIR/out" --exit-when-idle 500ms
	assert_success
	assert_output --partial 'INFO:'
}

# A peer that accepts HTTP connections and never answers.
silent_server() {
	python3 - "$1" <<'EOF2' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
held = []
end = time.time() + 120
s.settimeout(1)
while time.time() < end:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
EOF2
	echo $! >"$BATS_TEST_TMPDIR/silent.pid"
}

@test "effects: --http-client-request-timeout ends a request nobody answers (nsq-stat, nsq-to-file)" {
	local port
	port=$(free_port)
	silent_server "$port"
	wait_until 10 tcp_port_open "$port"
	run timeout 30 "$NSQ_BIN_DIR/nsq-stat" --topic t --channel c \
	    --nsqd-http-address "127.0.0.1:$port" --count 1 \
	    --http-client-request-timeout 700ms
	assert_failure 1
	assert_output --partial "nsq-stat: failed to get nsqd stats - 127.0.0.1:$port"
	assert_output --regexp '[Tt]imeout|timed out'
	run timeout 30 "$NSQ_BIN_DIR/nsq-to-file" --topic-pattern 'x.*' \
	    --lookupd-http-address "127.0.0.1:$port" \
	    --output-dir "$BATS_TEST_TMPDIR/out" --exit-when-idle 2s \
	    --http-client-request-timeout 700ms
	assert_output --regexp '[Tt]imeout|timed out'
	kill "$(cat "$BATS_TEST_TMPDIR/silent.pid")"
}

# A listener whose accept queue is full: a connect to it hangs until the
# client's connect timeout (SYNs are dropped; nothing leaves 127.0.0.1).
full_listener() {
	python3 - "$1" <<'EOF2' &
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(0)
held = []
for i in range(3):
    c = socket.socket(); c.setblocking(False)
    try:
        c.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    held.append(c)
time.sleep(120)
EOF2
	echo $! >"$BATS_TEST_TMPDIR/full.pid"
	sleep 0.5
}

@test "effects: --http-client-connect-timeout ends a connect that hangs (nsq-stat, nsq-to-file, nsq-to-http)" {
	local port
	port=$(free_port)
	full_listener "$port"
	run timeout 30 "$NSQ_BIN_DIR/nsq-stat" --topic t --channel c \
	    --nsqd-http-address "127.0.0.1:$port" --count 1 \
	    --http-client-connect-timeout 600ms \
	    --http-client-request-timeout 20s
	assert_failure 1
	assert_output --regexp '[Tt]imeout|timed out'
	run timeout 30 "$NSQ_BIN_DIR/nsq-to-file" --topic-pattern 'x.*' \
	    --lookupd-http-address "127.0.0.1:$port" \
	    --output-dir "$BATS_TEST_TMPDIR/out" --exit-when-idle 2s \
	    --http-client-connect-timeout 600ms \
	    --http-client-request-timeout 20s
	assert_output --regexp '[Tt]imeout|timed out'
	start_nsqd
	curl -fsS -d x "http://127.0.0.1:$NSQD_HTTP_PORT/pub?topic=ct" >/dev/null
	start_bg NTH timeout 60 "$NSQ_BIN_DIR/nsq-to-http" --topic ct \
	    --channel c --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --post "http://127.0.0.1:$port/" \
	    --http-client-connect-timeout 600ms \
	    --http-client-request-timeout 20s
	# The request fails on the connect timeout, long before the
	# request timeout, and the message is requeued.
	requeued() {
		curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=ct" |
		    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(c["requeue_count"] for t in d["topics"] for c in t["channels"]))'
	}
	nonzero() { [ "$(requeued)" -gt 0 ]; }
	wait_until 15 nonzero
	kill "$(cat "$BATS_TEST_TMPDIR/full.pid")"
}

@test "effects: nsq-to-http --max-in-flight is the RDY it sends" {
	start_nsqd
	start_bg NTH timeout 60 "$NSQ_BIN_DIR/nsq-to-http" --topic mf \
	    --channel c --nsqd-tcp-address "127.0.0.1:$NSQD_TCP_PORT" \
	    --post "http://127.0.0.1:1/" --max-in-flight 13
	rdy() {
		curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=mf" |
		    python3 -c 'import json, sys
d = json.load(sys.stdin)
print([cl["ready_count"] for t in d["topics"] for c in t["channels"]
       for cl in c["clients"]])'
	}
	rdy_is() { test "$(rdy)" = "$1"; }
	wait_until 20 rdy_is "[13]"
}

@test "effects: nsqadmin --log-prefix starts its lines; --verbose is warned of, as Go's has no effect" {
	local port
	port=$(free_port)
	start_bg ADMIN timeout 60 "$NSQ_BIN_DIR/nsqadmin" \
	    --http-address "127.0.0.1:$port" --log-prefix='[admin-x] ' \
	    --lookupd-http-address 127.0.0.1:1 --verbose
	wait_until 20 tcp_port_open "$port"
	run curl -fsS "http://127.0.0.1:$port/ping"
	assert_output OK
	stop_bg ADMIN || true
	run grep -v -e '^\[admin-x\] ' -e '^--- helpers: ' "$ADMIN_LOG"
	assert_output ''
	run grep -c 'WARNING: --verbose is deprecated and has no effect' "$ADMIN_LOG"
	assert_output 1
}

@test "effects: nsqadmin --http-client-connect-timeout ends a connect to an nsqd that hangs" {
	local port aport
	port=$(free_port)
	aport=$(free_port)
	full_listener "$port"
	start_bg ADMIN timeout 60 "$NSQ_BIN_DIR/nsqadmin" \
	    --http-address "127.0.0.1:$aport" \
	    --nsqd-http-address "127.0.0.1:$port" \
	    --http-client-connect-timeout 600ms \
	    --http-client-request-timeout 20s
	wait_until 20 tcp_port_open "$aport"
	run timeout 15 curl -sS "http://127.0.0.1:$aport/api/nodes/127.0.0.1:$port"
	assert_success
	assert_output --regexp '[Tt]imeout|timed out'
	kill "$(cat "$BATS_TEST_TMPDIR/full.pid")"
}

@test "effects: nsqd --http-client-connect-timeout ends a connect to an auth server that hangs" {
	local port
	port=$(free_port)
	full_listener "$port"
	start_nsqd --auth-http-address="127.0.0.1:$port" \
	    --http-client-connect-timeout=600ms \
	    --http-client-request-timeout=30s
	# Answered long before the 30 s request timeout: the connect's.
	run python3 - "$NSQD_TCP_PORT" <<'EOF2'
import sys
from nsqwire import Conn
c = Conn(int(sys.argv[1]), timeout=15); c.magic()
c.identify({"feature_negotiation": True}); c.response_json()
c.auth("secret")
print(c.frame(timeout=15))
EOF2
	assert_success
	assert_output "(1, b'E_AUTH_FAILED AUTH failed')"
	kill "$(cat "$BATS_TEST_TMPDIR/full.pid")"
}
