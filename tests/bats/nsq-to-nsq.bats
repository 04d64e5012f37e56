#!/usr/bin/env bats
# nsq-to-nsq (nsq_to_nsq) between our nsqd: 100,000 messages copied
# exactly once; through nsqlookupd on both sides, spread over two
# destinations; a durable destination SIGKILLed and restarted mid-run
# (every message arrives, duplicates bounded by max-in-flight); round-robin
# over a destination that is down; the JSON field filters; the status
# lines; flag errors; docs.

load helpers
load clients

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	N2N=$NSQ_BIN_DIR/nsq-to-nsq
	[[ -x $PUB && -x $TAIL && -x $N2N ]] ||
	    fail "no nsq-pub/nsq-tail/nsq-to-nsq in $NSQ_BIN_DIR"
}

teardown() {
	teardown_daemons
}

# stat PORT TOPIC [CHANNEL] FIELD: a field of a topic (or of one of its
# channels) in the /stats of the nsqd whose HTTP port is PORT; "none"
# when there is no such topic or channel.  FIELD may be a comma-separated
# list: the values joined by commas.
stat() {
	curl -fsS "http://127.0.0.1:$1/stats?format=json&topic=$2" |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
a = sys.argv[1:]
for t in d["topics"] or []:
    if t["topic_name"] != a[0]:
        continue
    if len(a) == 2:
        print(",".join(str(t[k]) for k in a[1].split(","))); sys.exit(0)
    for c in t["channels"]:
        if c["channel_name"] == a[1]:
            print(",".join(str(c[k]) for k in a[2].split(",")))
            sys.exit(0)
print("none")' "${@:2}"
}

# make_channel PORT TOPIC CHANNEL: create it, so that it keeps what comes.
make_channel() {
	curl -fsS -X POST "http://127.0.0.1:$1/topic/create?topic=$2" &&
	    curl -fsS -X POST \
		"http://127.0.0.1:$1/channel/create?topic=$2&channel=$3"
}

# drained PORT TOPIC: the relay's source channel has nothing waiting,
# deferred or in flight (read in one /stats, so that a message moving
# between them is not missed).
drained() {
	[[ $(stat "$1" "$2" nsq_to_nsq depth,in_flight_count,deferred_count) \
	    == 0,0,0 ]]
}

# tail_dst TOPIC N: the first N messages of TOPIC's channel c at DST.
tail_dst() {
	timeout 60 "$TAIL" --topic "$1" --channel c -n "$2" \
	    --nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" 2>/dev/null
}

# relay NAME ARGS...: nsq-to-nsq in the background.
relay() {
	local name=$1
	shift
	start_bg "$name" timeout 200 "$N2N" "$@"
}

@test "nsq-to-nsq: 100,000 messages copied exactly once" {
	start_nsqd -n SRC
	start_nsqd -n DST
	make_channel "$DST_HTTP_PORT" copy c
	seq 1 100000 | "$PUB" --topic big \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic big --destination-topic copy \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT"
	wait_until 120 eval "[[ \$(stat $DST_HTTP_PORT copy message_count) \
	    == 100000 ]]"
	wait_until 30 drained "$SRC_HTTP_PORT" big
	stop_bg R
	# Nothing more came, and each message once: count and contents.
	assert_equal "$(stat "$DST_HTTP_PORT" copy message_count)" 100000
	assert_equal "$(stat "$DST_HTTP_PORT" copy c depth)" 100000
	assert_equal "$(stat "$SRC_HTTP_PORT" big nsq_to_nsq requeue_count)" 0
	assert_equal "$(stat "$SRC_HTTP_PORT" big nsq_to_nsq timeout_count)" 0
	timeout 120 "$TAIL" --topic copy --channel c -n 100000 \
	    --nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    >"$BATS_TEST_TMPDIR/got" 2>/dev/null
	run bash -c "sort -n '$BATS_TEST_TMPDIR/got' | cmp - <(seq 1 100000)"
	assert_success
	assert_equal "$(stat "$DST_HTTP_PORT" copy c depth)" 0
	# --status-every's lines: Go's latency line, then ours.
	grep -qE '\[aggregate\]: finished 250 - 99th: [0-9.]+ms - 95th: [0-9.]+ms - avg: [0-9.]+ms$' \
	    "$R_LOG" || fail "no latency line: $(tail -5 "$R_LOG")"
	grep -qE '\[aggregate\]: relayed [0-9]+ in [0-9.]+s - [0-9]+ msg/s - lag: [0-9.]+ms$' \
	    "$R_LOG" || fail "no throughput line: $(tail -5 "$R_LOG")"
}

@test "nsq-to-nsq: through nsqlookupd on both sides, over two destinations" {
	start_nsqlookupd -n L1
	start_nsqlookupd -n L2
	start_nsqd -n SRC --lookupd-tcp-address="127.0.0.1:$L1_TCP_PORT"
	start_nsqd -n D1 --lookupd-tcp-address="127.0.0.1:$L2_TCP_PORT"
	start_nsqd -n D2 --lookupd-tcp-address="127.0.0.1:$L2_TCP_PORT"
	# The destination topic exists on both, so L2 lists both.
	make_channel "$D1_HTTP_PORT" t c
	make_channel "$D2_HTTP_PORT" t c
	seq 1 2000 | "$PUB" --topic t \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	wait_until 20 eval "curl -fsS 'http://127.0.0.1:$L2_HTTP_PORT/lookup?topic=t' |
	    grep -o '\"tcp_port\"' | wc -l | grep -qx 2"
	wait_until 20 eval "curl -fsS 'http://127.0.0.1:$L1_HTTP_PORT/lookup?topic=t' |
	    grep -q tcp_port"
	relay R --topic t --status-every 0 \
	    --lookupd-http-address "127.0.0.1:$L1_HTTP_PORT" \
	    --destination-lookupd-http-address "127.0.0.1:$L2_HTTP_PORT"
	local a b
	wait_until 60 eval "[[ \$((\$(stat $D1_HTTP_PORT t message_count) + \
	    \$(stat $D2_HTTP_PORT t message_count))) == 2000 ]]"
	wait_until 30 drained "$SRC_HTTP_PORT" t
	stop_bg R
	a=$(stat "$D1_HTTP_PORT" t message_count)
	b=$(stat "$D2_HTTP_PORT" t message_count)
	assert_equal $((a + b)) 2000
	# hostpool with both alive is round-robin: both took their share.
	((a >= 500 && b >= 500)) || fail "spread $a / $b"
	grep -q 'topic t: 2 destination nsqd' "$R_LOG" ||
	    fail "no discovery line: $(cat "$R_LOG")"
}

@test "nsq-to-nsq: a durable destination SIGKILLed and restarted mid-run" {
	local n=20000 mif=100
	start_nsqd -n SRC
	start_nsqd -n DST --mem-queue-size=0 --sync-every=1
	make_channel "$DST_HTTP_PORT" t c
	echo 0 | "$PUB" --topic t --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic t --max-in-flight $mif --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    --consumer-opt default_requeue_delay,50ms \
	    --consumer-opt backoff_multiplier,50ms
	# Published while the relay runs: the kill comes mid-stream.
	start_bg P timeout 100 bash -c "seq 1 $n | '$PUB' --topic t \
	    --nsqd-tcp-address 127.0.0.1:$SRC_TCP_PORT --rate 4000"
	wait_until 60 eval "(( \$(stat $DST_HTTP_PORT t c depth) >= 4000 ))"
	kill9_nsqd -n DST
	sleep 1
	restart_nsqd -n DST
	wait_bg P 60
	# The relay goes on once the destination is back.
	wait_until 120 drained "$SRC_HTTP_PORT" t
	stop_bg R
	((n += 1))
	# Every message is there at least once; a duplicate is one that was
	# in flight at the kill, so there are at most max-in-flight.
	local depth
	depth=$(stat "$DST_HTTP_PORT" t c depth)
	((depth >= n && depth <= n + mif)) || fail "$depth at the destination"
	timeout 120 "$TAIL" --topic t --channel c -n "$depth" \
	    --nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    >"$BATS_TEST_TMPDIR/got" 2>/dev/null
	run bash -c "sort -un '$BATS_TEST_TMPDIR/got' | cmp - <(seq 0 $((n - 1)))"
	assert_success
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/got")" "$depth"
	grep -q 'ERROR: publishing to' "$R_LOG" ||
	    fail "no publish failure logged: $(tail -5 "$R_LOG")"
}

@test "nsq-to-nsq: hostpool leaves a dead destination out" {
	start_nsqd -n SRC
	start_nsqd -n DST
	make_channel "$DST_HTTP_PORT" t c
	local dead
	dead=$(free_port)
	seq 1 2000 | "$PUB" --topic t --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic t --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$dead" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    --consumer-opt default_requeue_delay,10ms \
	    --consumer-opt backoff_multiplier,10ms
	# Its first failure marks it dead for 30s: the rest go to DST.
	wait_until 60 eval "(( \$(stat $DST_HTTP_PORT t message_count) >= 2000 ))"
	wait_until 30 drained "$SRC_HTTP_PORT" t
	stop_bg R
	assert_equal "$(stat "$DST_HTTP_PORT" t message_count)" 2000
	(($(stat "$SRC_HTTP_PORT" t nsq_to_nsq requeue_count) > 0)) ||
	    fail "nothing was requeued"
	(($(grep -c "ERROR: publishing to 127.0.0.1:$dead" "$R_LOG") < 400)) ||
	    fail "the dead one kept its turn"
}

@test "nsq-to-nsq: round-robin takes turns over the destinations" {
	start_nsqd -n SRC
	start_nsqd -n D1
	start_nsqd -n D2
	seq 1 1000 | "$PUB" --topic t --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic t --mode round-robin --status-every 100 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$D1_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$D2_TCP_PORT"
	wait_until 60 drained "$SRC_HTTP_PORT" t
	wait_until 30 eval "[[ \$(stat $D1_HTTP_PORT t message_count) == 500 && \
	    \$(stat $D2_HTTP_PORT t message_count) == 500 ]]"
	stop_bg R
	# One latency line per destination as well as the aggregate's.
	grep -q "\[127.0.0.1:$D1_TCP_PORT\]: finished 100 - 99th" "$R_LOG" ||
	    fail "no per-destination line: $(tail -5 "$R_LOG")"
}

@test "nsq-to-nsq: epsilon-greedy relays everything over two destinations" {
	start_nsqd -n SRC
	start_nsqd -n D1
	start_nsqd -n D2
	seq 1 3000 | "$PUB" --topic t --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic t --mode epsilon-greedy --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$D1_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$D2_TCP_PORT"
	wait_until 60 drained "$SRC_HTTP_PORT" t
	stop_bg R
	assert_equal $(($(stat "$D1_HTTP_PORT" t message_count) + \
	    $(stat "$D2_HTTP_PORT" t message_count))) 3000
}

@test "nsq-to-nsq: the JSON field filters, as Go's" {
	start_nsqd -n SRC
	start_nsqd -n DST
	make_channel "$DST_HTTP_PORT" j c
	cat >"$BATS_TEST_TMPDIR/in" <<'EOF'
{"a":1,"b":"x","c":{"z":1e2,"y":[1.5,"<&>"],"z":2}}
{"a":2,"b":"y"}
not json
[1,"x"]
{"b":"x"}
{"a":1e2,"b":"x","big":1.5e300,"d":true}
{"b":"x","a":123456789012345678901234,"c":null}
{"b":1,"a":3}
{"b":"x","b":"y","a":4}
{"b":"y","b":"x","a":5,"a":6}
{"a":1e400,"b":"x"}
EOF
	"$PUB" --topic j --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    <"$BATS_TEST_TMPDIR/in"
	relay R --topic j --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    --require-json-field b --require-json-value x \
	    --whitelist-json-field c --whitelist-json-field a \
	    --whitelist-json-field a
	wait_until 30 drained "$SRC_HTTP_PORT" j
	stop_bg R
	assert_equal "$(stat "$DST_HTTP_PORT" j c depth)" 5
	run tail_dst j 5
	assert_success
	# Keys sorted, the last of a name kept, HTML escaped, numbers as
	# Go's float64 (whole ones at the top as integers).
	assert_output "$(cat <<'EOF'
{"a":1,"c":{"y":[1.5,"\u003c\u0026\u003e"],"z":2}}
{}
{"a":100}
{"a":1.2345678901234569e+23,"c":null}
{"a":6}
EOF
)"
	grep -q 'ERROR: Unable to decode json: not json' "$R_LOG" ||
	    fail "no decode error: $(cat "$R_LOG")"
	grep -q 'ERROR: Unable to decode json: \[1,"x"\]' "$R_LOG" ||
	    fail "an array is not a map: $(cat "$R_LOG")"
	grep -q 'ERROR: Unable to decode json: {"a":1e400' "$R_LOG" ||
	    fail "1e400 is no float64: $(cat "$R_LOG")"
	# Dropped ones were finished, not requeued.
	assert_equal "$(stat "$SRC_HTTP_PORT" j nsq_to_nsq requeue_count)" 0
}

@test "nsq-to-nsq: --require-json-value, numbers and a missing field" {
	start_nsqd -n SRC
	start_nsqd -n DST
	make_channel "$DST_HTTP_PORT" n c
	printf '%s\n' '{"n":2}' '{"n":2.0}' '{"n":"2"}' '{"n":3}' '{"n":true}' \
	    '{"n":"2.0"}' '{"m":2}' 'null' '{"n":20e-1,"o":1}' |
	    "$PUB" --topic n --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic n --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT" \
	    --require-json-field n --require-json-value 2 \
	    --consumer-opt default_requeue_delay,10ms \
	    --consumer-opt backoff_multiplier,10ms
	wait_until 60 eval "[[ \$(grep -c 'attempted 6 times, giving up' \
	    \"\$R_LOG\") == 2 ]]"
	wait_until 60 drained "$SRC_HTTP_PORT" n
	stop_bg R
	run tail_dst n 4
	assert_success
	# Passed unchanged (no whitelist); a string compares as text.
	assert_output "$(printf '%s\n' '{"n":2}' '{"n":2.0}' '{"n":"2"}' \
	    '{"n":20e-1,"o":1}')"
	assert_equal "$(stat "$DST_HTTP_PORT" n c depth)" 0
	# The two without the field were backed off, then given up past
	# go-nsq's five attempts.
	grep -q 'ERROR: missing field to check required value' "$R_LOG" ||
	    fail "no missing-field line: $(cat "$R_LOG")"
	assert_equal "$(grep -c 'attempted 6 times, giving up' "$R_LOG")" 2
}

@test "nsq-to-nsq: null with a whitelist is an empty object" {
	start_nsqd -n SRC
	start_nsqd -n DST
	make_channel "$DST_HTTP_PORT" w c
	printf '%s\n' 'null' '{"k":"\u00e9\ud83d\ude00","x":1}' |
	    "$PUB" --topic w --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT"
	relay R --topic w --status-every 0 --whitelist-json-field k \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$DST_TCP_PORT"
	wait_until 30 drained "$SRC_HTTP_PORT" w
	stop_bg R
	run tail_dst w 2
	assert_success
	assert_output "$(printf '%s\n' '{}' '{"k":"é😀"}')"
}

@test "nsq-to-nsq: Go's flag errors, and ours" {
	local s=--nsqd-tcp-address=127.0.0.1:1
	local d=--destination-nsqd-tcp-address=127.0.0.1:2
	run "$N2N" "$s" "$d"
	assert_failure 1
	assert_output --partial -- '--topic and --channel are required'
	run "$N2N" --topic t --channel '' "$s" "$d"
	assert_failure 1
	assert_output --partial -- '--topic and --channel are required'
	run "$N2N" --topic 'bad topic' "$s" "$d"
	assert_failure 1
	assert_output --partial -- '--topic is invalid'
	run "$N2N" --topic t --destination-topic 'a/b' "$s" "$d"
	assert_failure 1
	assert_output --partial -- '--destination-topic is invalid'
	run "$N2N" --topic t --channel 'c!' "$s" "$d"
	assert_failure 1
	assert_output --partial -- '--channel is invalid'
	run "$N2N" --topic t "$d"
	assert_failure 1
	assert_output --partial -- \
	    '--nsqd-tcp-address or --lookupd-http-address required'
	run "$N2N" --topic t "$s" --lookupd-http-address 127.0.0.1:3 "$d"
	assert_failure 1
	assert_output --partial -- \
	    'use --nsqd-tcp-address or --lookupd-http-address not both'
	run "$N2N" --topic t "$s"
	assert_failure 1
	assert_output --partial -- '--destination-nsqd-tcp-address required'
	# What Go lacks or would take and ignore: usage errors, exit 2.
	run "$N2N" --topic t "$s" "$d" \
	    --destination-lookupd-http-address 127.0.0.1:4
	assert_failure 2
	assert_output --partial -- 'use --destination-nsqd-tcp-address or --destination-lookupd-http-address not both'
	run "$N2N" --topic t "$s" "$d" --mode random
	assert_failure 2
	assert_output --partial -- \
	    '--mode must be round-robin, hostpool or epsilon-greedy'
	run "$N2N" --topic t "$s" "$d" --require-json-value x
	assert_failure 2
	assert_output --partial -- '--require-json-value needs --require-json-field'
	run "$N2N" --topic t "$s" "$d" --consumer-opt bogus,1
	assert_failure 2
	assert_output --partial -- 'invalid value "bogus,1" for flag -consumer-opt'
	run "$N2N" --topic t "$s" "$d" --producer-opt dial_timeout,x
	assert_failure 2
	assert_output --partial -- 'invalid value "dial_timeout,x" for flag -producer-opt'
	run "$N2N" --topic t "$s" "$d" --max-in-flight x
	assert_failure 2
	assert_output --partial -- 'invalid value "x" for flag -max-in-flight'
	run "$N2N" --topic t "$s" "$d" --status-every -1
	assert_failure 2
	assert_output --partial -- '-status-every'
	run "$N2N" --bogus
	assert_failure 2
	assert_output --partial -- 'flag provided but not defined: -bogus'
	run "$N2N" --topic t "$s" "$d" extra
	assert_failure 2
	run "$N2N" --version
	assert_success
	assert_output --regexp '^nsq-to-nsq v1\.3\.0 '
	# A given source nsqd that never answers is fatal, as in Go.
	run timeout 20 "$N2N" --topic t "--nsqd-tcp-address=127.0.0.1:$(free_port)" "$d"
	assert_failure 1
}

@test "nsq-to-nsq: SIGTERM with nothing to do exits 0 at once" {
	start_nsqd -n SRC
	relay R --topic idle --status-every 0 \
	    --nsqd-tcp-address "127.0.0.1:$SRC_TCP_PORT" \
	    --destination-nsqd-tcp-address "127.0.0.1:$(free_port)"
	wait_until 20 eval "[[ \$(stat $SRC_HTTP_PORT idle nsq_to_nsq depth) == 0 ]]"
	run stop_bg R
	assert_success
}

@test "nsq-to-nsq: man page and completions cover every option" {
	check_docs nsq-to-nsq
}
