#!/usr/bin/env bats
# nsq-stat (nsq_stat) against real daemons: the depths after a known
# publish, memory and disk apart; in flight, deferred and requeued counts
# held by a raw subscriber; the rates between two samples; the sum over
# two nsqd found through nsqlookupd, also at an http:// URL; the live view
# on a terminal; Go's errors; docs.

load helpers
load clients

HEADER1='------rate------+----------------depth----------------+--------------metadata---------------'
HEADER2='ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients'

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	STAT=$NSQ_BIN_DIR/nsq-stat
	[[ -x $PUB && -x $STAT ]] || fail "no nsq-pub/nsq-stat in $NSQ_BIN_DIR"
}

teardown() {
	teardown_daemons
}

# pub TOPIC [PORT]: stdin to TOPIC on an nsqd (default the test's).
pub() {
	"$PUB" --topic "$1" --nsqd-tcp-address "127.0.0.1:${2:-$NSQD_TCP_PORT}"
}

# mkchan TOPIC CHANNEL [HTTP_PORT]: the channel, so that it gets messages.
mkchan() {
	curl -fsS -X POST "http://127.0.0.1:${3:-$NSQD_HTTP_PORT}/topic/create?topic=$1" &&
	curl -fsS -X POST "http://127.0.0.1:${3:-$NSQD_HTTP_PORT}/channel/create?topic=$1&channel=$2"
}

# row N: the Nth table row of $output, its fields one per word.
row() {
	local -a rows
	mapfile -t rows < <(grep -vE '^(-|ingress)' <<<"$output")
	echo "${rows[$1]}"
}

@test "nsq-stat: --count 2: the depths after a known publish, memory and disk" {
	start_nsqd --mem-queue-size=100
	mkchan t c
	seq 1 500 | pub t
	run timeout 30 "$STAT" --topic t --channel c \
	    --nsqd-http-address "127.0.0.1:$NSQD_HTTP_PORT" --count 2 \
	    --interval 200ms
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 "$HEADER1"
	assert_line --index 1 "$HEADER2"
	# Nothing moves: rates 0; 500 deep, 100 in memory, 400 on disk.
	local want='      0       0 |     500     100     400     0     0 |       0       0          500       0'
	assert_line --index 2 "$want"
	assert_line --index 3 "$want"
}

@test "nsq-stat: an --nsqd-http-address given twice is counted once" {
	start_nsqd
	mkchan t c
	seq 1 5 | pub t
	run timeout 30 "$STAT" --topic t --channel c --count 1 \
	    --nsqd-http-address "127.0.0.1:$NSQD_HTTP_PORT" \
	    --nsqd-http-address "127.0.0.1:$NSQD_HTTP_PORT"
	assert_success
	read -r -a f <<<"$(row 0)"
	assert_equal "${f[3]}" 5
}

@test "nsq-stat: in flight, deferred, requeued and clients of a subscriber" {
	start_nsqd
	mkchan h c
	seq 1 500 | pub h
	start_bg HOLD timeout 60 python3 -c '
from nsqwire import *
c = Conn(int(sys.argv[1]), timeout=10)
c.magic()
c.sub("h", "c")
c.ok()
c.rdy(8)
ms = [c.message() for _ in range(8)]
c.rdy(0)
c.req(ms[0].id, 60000)
print("held", flush=True)
time.sleep(50)
' "$NSQD_TCP_PORT"
	wait_until 20 grep -q held "$HOLD_LOG"
	run timeout 30 "$STAT" --topic h --channel c \
	    --nsqd-http-address "127.0.0.1:$NSQD_HTTP_PORT" --count 1 \
	    --interval 200ms
	assert_success
	assert_equal "$(row 0)" '      0       0 |     492     492       0     7     1 |       1       0          500       1'
}

@test "nsq-stat: ingress and egress between two samples" {
	start_nsqd
	mkchan r c
	local out=$BATS_TEST_TMPDIR/stat.out
	start_bg S bash -c "exec timeout 30 '$STAT' --topic r --channel c \
	    --nsqd-http-address 127.0.0.1:$NSQD_HTTP_PORT --count 1 \
	    --interval 3s >'$out'"
	# The first sample is taken at once (it prints the header).
	wait_until 10 grep -q ingress "$out"
	seq 1 600 | pub r
	wait_bg S 30
	run cat "$out"
	# 600 in 3s: ingress 200; all still queued: egress 0.
	assert_equal "$(row 0)" '    200       0 |     600     600       0     0     0 |       0       0          600       0'
}

@test "nsq-stat: sums two nsqd found through nsqlookupd" {
	start_nsqlookupd
	local lk="--lookupd-tcp-address=127.0.0.1:$NSQLOOKUPD_TCP_PORT"
	start_nsqd -n A "$lk" --broadcast-address=127.0.0.1
	start_nsqd -n B "$lk" --broadcast-address=127.0.0.1
	mkchan s c "$A_HTTP_PORT"
	mkchan s c "$B_HTTP_PORT"
	seq 1 100 | pub s "$A_TCP_PORT"
	seq 1 250 | pub s "$B_TCP_PORT"
	wait_until 20 eval "[[ \$(curl -fsS 'http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT/lookup?topic=s' | grep -o http_port | wc -l) -eq 2 ]]"
	run timeout 30 "$STAT" --topic s --channel c \
	    --lookupd-http-address "127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    --count 1 --interval 200ms
	assert_success
	assert_equal "$(row 0)" '      0       0 |     350     350       0     0     0 |       0       0          350       0'
	# A channel no nsqd has: Go's error.
	run timeout 30 "$STAT" --topic s --channel nope \
	    --lookupd-http-address "127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    --count 1 --interval 200ms
	assert_failure 1
	assert_output --partial 'nsq-stat: failed to find channel(nope) in stats metadata for topic(s)'
	# A topic nsqlookupd does not know.
	run timeout 30 "$STAT" --topic nope --channel c \
	    --lookupd-http-address "127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    --count 1 --interval 200ms
	assert_failure 1
	assert_output --partial 'nsq-stat: failed to get topic producers - '
	assert_output --partial 'TOPIC_NOT_FOUND'
}

@test "nsq-stat: --lookupd-http-address takes an http:// URL, as the other tools" {
	# Go's nsq_stat refuses a scheme here; the tools share one URL
	# builder (lookup_http_url), so nsq-stat takes what nsq-tail takes.
	start_nsqlookupd
	start_nsqd "--lookupd-tcp-address=127.0.0.1:$NSQLOOKUPD_TCP_PORT" \
	    --broadcast-address=127.0.0.1
	mkchan u c
	seq 1 30 | pub u
	wait_until 20 eval "curl -fsS 'http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT/lookup?topic=u' | grep -q http_port"
	local a
	for a in "http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    "http://127.0.0.1:$NSQLOOKUPD_HTTP_PORT/"; do
		run timeout 30 "$STAT" --topic u --channel c \
		    --lookupd-http-address "$a" --count 1 --interval 200ms
		assert_success
		assert_equal "$(row 0)" '      0       0 |      30      30       0     0     0 |       0       0           30       0'
	done
}

@test "nsq-stat: a terminal gets a live view redrawn in place" {
	command -v script >/dev/null || fail "no script(1) (util-linux)"
	start_nsqd
	mkchan v c
	seq 1 42 | pub v
	run timeout 30 script -qec "'$STAT' --topic v --channel c \
	    --nsqd-http-address 127.0.0.1:$NSQD_HTTP_PORT --count 2 \
	    --interval 200ms" /dev/null
	assert_success
	# The header once; the first sample at once with its rates as "-",
	# then each row over the last one (\r, then erase to the end).
	[[ $(grep -c -- '------rate' <<<"$output") -eq 1 ]] || fail "$output"
	local esc=$'\e'
	[[ $output == *$'\r      -       - |      42      42       0     0     0 |       0       0           42       0'"$esc[K"* ]] ||
	    fail "no live first row: $(od -c <<<"$output" | head -20)"
	[[ $(grep -o $'\r      0       0 |      42' <<<"$output" | wc -l) -eq 2 ]] ||
	    fail "not two rows redrawn: $(od -c <<<"$output" | head -30)"
}

@test "nsq-stat: Go's errors, an unreachable nsqd, --help and --version" {
	run "$STAT" --help
	assert_success
	assert_line --partial -- '--nsqd-http-address ADDR'
	run "$STAT" --version
	assert_success
	assert_output --regexp '^nsq-stat v1\.3\.0 '
	run "$STAT" --channel c --nsqd-http-address 127.0.0.1:1
	assert_failure 1
	assert_output 'nsq-stat: --topic and --channel are required'
	run "$STAT" --topic t --channel c
	assert_failure 1
	assert_output 'nsq-stat: --nsqd-http-address or --lookupd-http-address required'
	run "$STAT" --topic t --channel c --nsqd-http-address a:1 \
	    --lookupd-http-address b:2
	assert_failure 1
	assert_output 'nsq-stat: use --nsqd-http-address or --lookupd-http-address not both'
	run "$STAT" --topic t --channel c --nsqd-http-address http://a:1
	assert_failure 1
	assert_output 'nsq-stat: --nsqd-http-address error - address should not contain scheme'
	# Go also refuses a scheme on --lookupd-http-address; here it is a
	# URL as in nsq-tail and nsq-to-file (tested above), so only the
	# nsqd addresses keep Go's refusal.
	run "$STAT" --topic t --channel c --nsqd-http-address a:1 --count 0
	assert_failure 1
	assert_output 'nsq-stat: --count should be positive'
	run "$STAT" --topic t --channel c --nsqd-http-address a:1 --count x
	assert_failure 2
	assert_line --index 0 'invalid value "x" for flag -count: parse error'
	run "$STAT" --topic t --channel c --nsqd-http-address a:1 --interval 0s
	assert_failure 1
	assert_output 'nsq-stat: --interval should be positive'
	run "$STAT" --topic t --channel c --nsqd-http-address a:1 \
	    --http-client-request-timeout 0s
	assert_failure 1
	assert_output 'nsq-stat: --http-client-request-timeout should be positive'
	run "$STAT" --topic 'bad topic!' --channel c --nsqd-http-address a:1
	assert_failure 1
	assert_output 'nsq-stat: invalid topic name'
	run "$STAT" --topic t --channel 'c c' --nsqd-http-address a:1
	assert_failure 1
	assert_output 'nsq-stat: invalid channel name'
	run "$STAT" --no-such-flag
	assert_failure 2
	assert_line --index 0 'flag provided but not defined: -no-such-flag'
	# Nothing listens: the connect timeout applies.
	local t0=$SECONDS
	run timeout 30 "$STAT" --topic t --channel c \
	    --nsqd-http-address "127.0.0.1:$(free_port)" --count 1 \
	    --http-client-connect-timeout 500ms
	assert_failure 1
	assert_output --partial 'nsq-stat: failed to get nsqd stats - 127.0.0.1:'
	((SECONDS - t0 < 10)) || fail "took $((SECONDS - t0))s"
}

@test "nsq-stat: every --help option is in the man page and completions" {
	check_docs nsq-stat
}
