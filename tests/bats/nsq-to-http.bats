#!/usr/bin/env bats
# nsq-to-http (nsq_to_http) against a real nsqd and test HTTP sinks
# (http_sink.py): every message delivered once and finished, 500s and
# timeouts retried, GET's %s, headers and content type, the three
# --mode choices over two sinks, SIGTERM mid-run, status lines, flag
# errors and its docs.

load helpers
load clients

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TOHTTP=$NSQ_BIN_DIR/nsq-to-http
	[[ -x $PUB && -x $TOHTTP ]] ||
	    fail "no nsq-pub/nsq-to-http in $NSQ_BIN_DIR"
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	T=$BATS_TEST_TMPDIR
}

teardown() {
	teardown_daemons
}

# pub TOPIC: stdin to TOPIC, one message a line.
pub() {
	"$PUB" --topic "$1" --nsqd-tcp-address "$ADDR" "${@:2}"
}

# sink NAME [ARGS...]: an http_sink.py in the background; its records in
# $T/NAME.jsonl, its port in ${NAME}_PORT.
sink() {
	local name=$1
	shift
	start_bg "$name" timeout 300 python3 \
	    "$NSQ_TESTS_BATS_DIR/http_sink.py" --record "$T/$name.jsonl" \
	    --port-file "$T/$name.port" "$@"
	wait_until 10 test -s "$T/$name.port"
	printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
	touch "$T/$name.jsonl"
}

# tohttp ARGS...: nsq-to-http in the background (name H) on the test's
# nsqd, its log in $H_LOG.
tohttp() {
	start_bg H timeout 120 "$TOHTTP" --nsqd-tcp-address "$ADDR" "$@"
	wait_until 20 grep -q ') subscribed$' "$H_LOG"
}

# ok_count NAME...: the distinct bodies the sinks answered 200 to.
ok_count() {
	local f args=()
	for f in "$@"; do args+=("$T/$f.jsonl"); done
	python3 - "${args[@]}" <<'EOF'
import json, sys
bodies = set()
for p in sys.argv[1:]:
    for line in open(p):
        r = json.loads(line)
        if r['status'] == 200:
            bodies.add(r['body'])
print(len(bodies))
EOF
}

# channel_stat TOPIC FIELD: a field of channel nsq_to_http in /stats.
channel_stat() {
	curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=$1" |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
for t in d["topics"] or []:
    for c in t["channels"]:
        if c["channel_name"] == "nsq_to_http":
            print(c[sys.argv[1]])' "$2"
}

# drained TOPIC: the channel holds nothing, in flight or deferred.
drained() {
	[[ $(channel_stat "$1" depth) == 0 &&
	    $(channel_stat "$1" in_flight_count) == 0 &&
	    $(channel_stat "$1" deferred_count) == 0 ]]
}

@test "nsq-to-http: 1000 messages, each POSTed once and finished" {
	sink S1
	seq 1 1000 | pub once
	tohttp --topic once --post "http://127.0.0.1:$S1_PORT/in"
	wait_until 60 eval '[[ $(wc -l <"$T/S1.jsonl") -ge 1000 ]]'
	wait_until 20 drained once
	stop_bg H
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1000, len(recs)
bodies = sorted(int(r['body']) for r in recs)
assert bodies == list(range(1, 1001)), 'not each message exactly once'
for r in recs:
    h = {k.lower(): v for k, v in r['headers']}
    assert r['method'] == 'POST' and r['path'] == '/in', r
    assert h['content-type'] == 'application/octet-stream', h
    assert h['user-agent'].startswith('nsq-to-http v1.3.0'), h
    assert 'accept' not in h and 'expect' not in h, h
EOF
	run channel_stat once message_count
	assert_output 1000
}

@test "nsq-to-http: 500s are requeued with backoff and arrive later" {
	sink S1 --fail-first 5
	seq 1 20 | pub fail
	tohttp --topic fail --post "http://127.0.0.1:$S1_PORT/" \
	    --consumer-opt default_requeue_delay,100ms \
	    --consumer-opt backoff_multiplier,50ms
	wait_until 60 eval '[[ $(ok_count S1) -eq 20 ]]'
	wait_until 20 drained fail
	stop_bg H
	# A body answered 500 came again (attempts > 1) and was taken.
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
failed = {r['body'] for r in recs if r['status'] == 500}
ok = [r['body'] for r in recs if r['status'] == 200]
assert len(failed) >= 1, 'no 500 seen'
assert failed <= set(ok), (failed, ok)
assert sorted(ok, key=int) == [str(i) for i in range(1, 21)], ok
EOF
	run grep -c 'Handler returned error (got status code 500) for msg' \
	    "$H_LOG"
	assert_output 5
	grep -q 'backing off' "$H_LOG" || fail "no backoff in the log"
}

@test "nsq-to-http: a request timeout requeues; the message arrives later" {
	sink S1 --sleep-first 2 --sleep 3
	seq 1 10 | pub slow
	tohttp --topic slow --post "http://127.0.0.1:$S1_PORT/" \
	    --http-client-request-timeout 300ms \
	    --consumer-opt default_requeue_delay,100ms \
	    --consumer-opt backoff_multiplier,50ms
	wait_until 60 eval '[[ $(ok_count S1) -eq 10 ]]'
	wait_until 20 drained slow
	grep -q 'Handler returned error (.*timed out.*) for msg' "$H_LOG" ||
	    fail "no timeout in the log"
	stop_bg H
	# The slow requests were given up before the sink's late 503s.
	wait_until 10 eval \
	    '[[ $(grep -c "\"status\": 503" "$T/S1.jsonl") -eq 2 ]]'
	run ok_count S1
	assert_output 10
}

@test "nsq-to-http: an endpoint that refuses connections loses nothing" {
	local port
	port=$(free_port)
	seq 1 3 | pub refused
	tohttp --topic refused --post "http://127.0.0.1:$port/" \
	    --consumer-opt default_requeue_delay,100ms \
	    --consumer-opt backoff_multiplier,50ms
	wait_until 20 grep -q \
	    "Handler returned error (POST http://127.0.0.1:$port/: " "$H_LOG"
	run stop_bg H
	assert_success
	run channel_stat refused in_flight_count
	assert_output 0
	assert_equal "$(($(channel_stat refused depth) +
	    $(channel_stat refused deferred_count)))" 3
}

@test "nsq-to-http: GET with the escaped body in %s, headers" {
	sink S1
	printf 'hello world/&\xc3\xa9\n2\n' | pub get
	tohttp --topic get \
	    --get "http://127.0.0.1:$S1_PORT/q?m=%s&p=100%%&e=%41" \
	    --header 'X-Test: yes' --header ' x-lower-case :  v2 '
	wait_until 30 eval '[[ $(wc -l <"$T/S1.jsonl") -ge 2 ]]'
	stop_bg H
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
paths = sorted(r['path'] for r in recs)
assert paths == ['/q?m=2&p=100%&e=%41',
                 '/q?m=hello+world%2F%26%C3%A9&p=100%&e=%41'], paths
for r in recs:
    h = dict(r['headers'])
    assert r['method'] == 'GET' and r['body'] == '', r
    assert h['X-Test'] == 'yes' and h['X-Lower-Case'] == 'v2', h
    assert 'Content-Type' not in h, h
EOF
}

@test "nsq-to-http: POST --content-type and --header (replacing a default)" {
	sink S1
	python3 -c 'print("x" * 5000)' | pub ct
	tohttp --topic ct --post "http://127.0.0.1:$S1_PORT/p" \
	    --content-type 'text/plain; charset=utf-8' \
	    --header 'User-Agent: mine' --header 'X-A: 1' --header 'x-a: 2'
	wait_until 30 eval '[[ $(wc -l <"$T/S1.jsonl") -ge 1 ]]'
	stop_bg H
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
[r] = [json.loads(l) for l in open(sys.argv[1])]
names = [k.lower() for k, v in r['headers']]
h = dict(r['headers'])
assert r['body'] == 'x' * 5000, len(r['body'])
assert h['Content-Type'] == 'text/plain; charset=utf-8', h
assert h['User-Agent'] == 'mine' and h['X-A'] == '2', h
assert names.count('user-agent') == 1 and names.count('x-a') == 1, names
assert 'expect' not in names, names
EOF
}

@test "nsq-to-http: --n requests at once, on one thread" {
	sink S1 --delay 0.3
	seq 1 12 | pub par
	tohttp --topic par --n 3 --post "http://127.0.0.1:$S1_PORT/"
	# While requests run, the process has its one thread.
	wait_until 10 eval '[[ $(wc -l <"$T/S1.jsonl") -ge 1 ]]'
	local pid
	pid=$(_proc_target "$H_PID")
	run ls "/proc/$pid/task"
	assert_equal "${#lines[@]}" 1
	wait_until 30 eval '[[ $(ok_count S1) -eq 12 ]]'
	stop_bg H
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ev = sorted([(r['start'], 1) for r in recs] + [(r['t'], -1) for r in recs])
cur = top = 0
for t, d in ev:
    cur += d
    top = max(top, cur)
assert top == 3, 'at most %d at once' % top
EOF
}

@test "nsq-to-http: past max_attempts a message is given up, as go-nsq does" {
	sink S1 --fail-first 1000
	echo doomed | pub doom
	tohttp --topic doom --post "http://127.0.0.1:$S1_PORT/" \
	    --consumer-opt max_attempts,2 \
	    --consumer-opt default_requeue_delay,50ms \
	    --consumer-opt backoff_multiplier,20ms
	wait_until 30 grep -q 'attempted 3 times, giving up' "$H_LOG"
	wait_until 20 drained doom
	stop_bg H
	run wc -l <"$T/S1.jsonl"
	assert_output 2
}

@test "nsq-to-http: a 307 is followed with the body, as Go's client does" {
	sink S1 --redirect /there
	seq 1 3 | pub redir
	tohttp --topic redir --post "http://127.0.0.1:$S1_PORT/here"
	wait_until 30 eval '[[ $(ok_count S1) -eq 3 ]]'
	wait_until 20 drained redir
	stop_bg H
	python3 - "$T/S1.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 6, recs
for r in recs:
    assert r['method'] == 'POST', r
    assert (r['path'], r['status']) in (('/here', 307), ('/there', 200)), r
assert sorted(r['body'] for r in recs if r['status'] == 200) == \
    ['1', '2', '3'], recs
EOF
	run grep -c 'Handler returned error' "$H_LOG"
	assert_output 0
}

@test "nsq-to-http: --mode round-robin alternates over two sinks" {
	sink S1
	sink S2
	seq 1 20 | pub rr
	tohttp --topic rr --mode round-robin --n 1 \
	    --post "http://127.0.0.1:$S1_PORT/" \
	    --post "http://127.0.0.1:$S2_PORT/"
	wait_until 30 eval '[[ $(ok_count S1 S2) -eq 20 ]]'
	stop_bg H
	python3 - "$T/S1.jsonl" "$T/S2.jsonl" <<'EOF'
import json, sys
recs = []
for i, p in enumerate(sys.argv[1:]):
    recs += [(json.loads(l)['t'], i) for l in open(p)]
order = [i for t, i in sorted(recs)]
assert order.count(0) == 10 and order.count(1) == 10, order
assert all(a != b for a, b in zip(order, order[1:])), order
assert order[0] == 1, 'Go starts at the second address'
EOF
}

@test "nsq-to-http: --mode hostpool avoids a failing sink" {
	sink S1 --fail-first 1000
	sink S2
	seq 1 20 | pub hp
	tohttp --topic hp --n 1 --consumer-opt default_requeue_delay,50ms \
	    --consumer-opt backoff_multiplier,20ms \
	    --post "http://127.0.0.1:$S1_PORT/" \
	    --post "http://127.0.0.1:$S2_PORT/"
	wait_until 30 eval '[[ $(ok_count S2) -eq 20 ]]'
	wait_until 20 drained hp
	stop_bg H
	# The first request went to the first sink, which is then dead for
	# the next 30s: nothing more goes there.
	run wc -l <"$T/S1.jsonl"
	assert_output 1
}

@test "nsq-to-http: --mode epsilon-greedy prefers the faster sink" {
	sink SLOW --delay 0.05
	sink FAST
	seq 1 300 | pub eg
	tohttp --topic eg --mode epsilon-greedy --n 1 \
	    --post "http://127.0.0.1:$SLOW_PORT/" \
	    --post "http://127.0.0.1:$FAST_PORT/"
	wait_until 60 eval '[[ $(ok_count SLOW FAST) -eq 300 ]]'
	stop_bg H
	local slow fast
	slow=$(wc -l <"$T/SLOW.jsonl")
	fast=$(wc -l <"$T/FAST.jsonl")
	((slow > 0 && fast > 3 * slow)) ||
	    fail "fast sink $fast requests, slow sink $slow"
}

@test "nsq-to-http: SIGTERM mid-run loses nothing and exits 0" {
	# Each request takes 0.2s and 10 run at once: at the signal, 10 are
	# running and up to 190 more wait, in flight.
	sink S1 --delay 0.2
	seq 1 300 | pub term
	tohttp --topic term --n 10 --post "http://127.0.0.1:$S1_PORT/"
	wait_until 30 eval '[[ $(wc -l <"$T/S1.jsonl") -ge 20 ]]'
	local before got depth deferred
	before=$(wc -l <"$T/S1.jsonl")
	run stop_bg H
	assert_success
	grep -q 'stopped$' "$H_LOG" || fail "no stop in the log"
	# The running requests were let finish, and their messages answered.
	(($(wc -l <"$T/S1.jsonl") > before)) || fail "no request ended after"
	run channel_stat term in_flight_count
	assert_output 0
	got=$(ok_count S1)
	depth=$(channel_stat term depth)
	deferred=$(channel_stat term deferred_count)
	((got < 300)) || fail "all 300 sent before the signal"
	assert_equal "$((got + depth + deferred))" 300
	assert_equal "$(wc -l <"$T/S1.jsonl")" "$got"
	# And the rest is still there for the next run.
	tohttp --topic term --n 50 --post "http://127.0.0.1:$S1_PORT/"
	wait_until 60 eval '[[ $(ok_count S1) -eq 300 ]]'
	wait_until 20 drained term
	assert_equal "$(wc -l <"$T/S1.jsonl")" 300
}

@test "nsq-to-http: --status-every prints Go's status lines" {
	sink S1
	seq 1 11 | pub st
	tohttp --topic st --status-every 5 --n 1 \
	    --post "http://127.0.0.1:$S1_PORT/"
	wait_until 30 eval '[[ $(ok_count S1) -eq 11 ]]'
	local line='\[aggregate\]: finished 5 - 99th: [0-9.]*ms'
	line+=' - 95th: [0-9.]*ms - avg: [0-9.]*ms$'
	wait_until 10 eval '[[ $(grep -c "$line" "$H_LOG") -eq 2 ]]'
	grep -q 'Warning: use more than 100 status values for accurate '\
'percentiles (configured with 5)' "$H_LOG" || fail "no warning"
	stop_bg H
}

@test "nsq-to-http: bad flags are refused with Go's words" {
	local base=(--nsqd-tcp-address "$ADDR")
	run "$TOHTTP" "${base[@]}" --post http://127.0.0.1:1/
	assert_failure 1
	assert_output --partial '--topic and --channel are required'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --get 'http://127.0.0.1:1/%s'
	assert_failure 1
	assert_output --partial 'use --get or --post not both'
	run "$TOHTTP" "${base[@]}" --topic t
	assert_failure 1
	assert_output --partial '--get or --post required'
	run "$TOHTTP" --topic t --post http://127.0.0.1:1/
	assert_failure 1
	assert_output --partial '--nsqd-tcp-address or --lookupd-http-address required'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --mode fastest
	assert_failure 1
	assert_output --partial 'invalid --mode "fastest"'
	run "$TOHTTP" "${base[@]}" --topic t --post ftp://127.0.0.1:1/
	assert_failure 1
	assert_output --partial 'invalid --post address "ftp://127.0.0.1:1/"'
	run "$TOHTTP" "${base[@]}" --topic t --post 127.0.0.1:1/x
	assert_failure 1
	assert_output --partial 'missing protocol scheme'
	run "$TOHTTP" "${base[@]}" --topic t --get 'http://127.0.0.1:1/'
	assert_failure 1
	assert_output --partial 'invalid GET address - must be a printf string'
	run "$TOHTTP" "${base[@]}" --topic t --get 'http://[::1/%s'
	assert_failure 1
	assert_output --partial 'invalid --get address'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --header novalue
	assert_failure 1
	assert_output --partial "--header value format should be 'key=value'"
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --header 'X:'
	assert_failure 1
	assert_output --partial "--header value format should be 'key=value'"
	run "$TOHTTP" "${base[@]}" --topic t --get 'http://127.0.0.1:1/%s' \
	    --content-type text/plain
	assert_failure 1
	assert_output --partial '--content-type only used with --post'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --content-type ''
	assert_failure 1
	assert_output --partial '--content-type requires a value when used'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --sample 1.5
	assert_failure 1
	assert_output --partial 'ERROR: --sample must be between 0.0 and 1.0'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --sample half
	assert_failure 2
	assert_output --partial 'invalid value "half" for flag -sample: parse error'
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ --n 0
	assert_failure 2
	run "$TOHTTP" "${base[@]}" --topic t --post http://127.0.0.1:1/ \
	    --consumer-opt no_such_option,1
	assert_failure 2
	assert_output --partial 'invalid value "no_such_option,1" for flag -consumer-opt'
	run "$TOHTTP" "${base[@]}" --topic 'bad topic' --post http://127.0.0.1:1/
	assert_failure 1
	assert_output --partial 'invalid topic name'
	run "$TOHTTP" --topic t --nsqd-tcp-address 127.0.0.1:1 \
	    --post http://127.0.0.1:1/
	assert_failure 1
	run "$TOHTTP" --bogus
	assert_failure 2
	assert_output --partial 'flag provided but not defined: -bogus'
}

@test "nsq-to-http: --lookupd-http-address finds the nsqd with the topic" {
	start_nsqlookupd --broadcast-address=127.0.0.1
	start_nsqd -n N2 --broadcast-address=127.0.0.1 \
	    --lookupd-tcp-address="127.0.0.1:$NSQLOOKUPD_TCP_PORT"
	sink S1
	seq 1 10 | "$PUB" --topic lk --nsqd-tcp-address "127.0.0.1:$N2_TCP_PORT"
	local url="http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT/lookup?topic=lk"
	wait_until 20 eval 'curl -fsS "$url" | grep -q tcp_port'
	start_bg H timeout 120 "$TOHTTP" --topic lk \
	    --lookupd-http-address "127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    --post "http://127.0.0.1:$S1_PORT/"
	wait_until 30 eval '[[ $(ok_count S1) -eq 10 ]]'
	stop_bg H
}

@test "nsq-to-http: --sample 0 finishes every message unsent" {
	sink S1
	seq 1 30 | pub samp
	tohttp --topic samp --sample 0 --post "http://127.0.0.1:$S1_PORT/"
	wait_until 20 drained samp
	stop_bg H
	run wc -l <"$T/S1.jsonl"
	assert_output 0
}

@test "nsq-to-http: docs: man page and completions know every option" {
	check_docs nsq-to-http
}
