#!/usr/bin/env bats
# nsq-to-file (nsq_to_file) against a real nsqd: 100,000 messages over gzip
# rotations with --exit-when-idle; syncs when starved or idle; two nsqd;
# no max_attempts; SIGTERM then a rerun gives every message exactly once,
# SIGKILL then a rerun loses none; file name tokens; the lock that makes a
# second run refuse; SIGHUP and the work dir; --topic-pattern discovery
# through a real nsqlookupd; flag errors; docs.

load helpers
load clients

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	NTF=$NSQ_BIN_DIR/nsq-to-file
	[[ -x $PUB && -x $NTF ]] || fail "no nsq-pub/nsq-to-file in $NSQ_BIN_DIR"
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	teardown_daemons
}

# pub TOPIC [ARGS]: stdin to TOPIC on the test's nsqd.
pub() {
	"$PUB" --topic "$1" --nsqd-tcp-address "$ADDR" "${@:2}"
}

# ntf ARGS: nsq-to-file on the test's nsqd, into $OUT, under timeout.
ntf() {
	timeout 120 "$NTF" --nsqd-tcp-address "$ADDR" --output-dir "$OUT" "$@"
}

# records DIR: every record of the files in DIR, gzip or not.
records() {
	zcat -f "$1"/* 2>/dev/null
}

# channel_stat TOPIC FIELD: a field of channel nsq_to_file in nsqd's /stats.
channel_stat() {
	curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=$1" |
	    python3 -c 'import json, sys
d = json.load(sys.stdin)
for t in d["topics"] or []:
    for c in t["channels"]:
        if c["channel_name"] == "nsq_to_file":
            print(c[sys.argv[1]])' "$2"
}

@test "nsq-to-file: 100,000 messages over gzip rotations, --exit-when-idle" {
	seq 1 100000 | pub big
	run ntf --topic big --gzip --rotate-size 50000 --exit-when-idle 1s
	assert_success
	local n
	n=$(ls "$OUT" | wc -l)
	((n > 5)) || fail "only $n files: $(ls "$OUT")"
	# Every file is whole gzip, and together they are exactly the input.
	for f in "$OUT"/*; do
		[[ $f == *.gz ]] || fail "not a .gz name: $f"
		gzip -t "$f" || fail "bad gzip file $f"
	done
	run bash -c "zcat '$OUT'/* | sort -n | cmp - <(seq 1 100000)"
	assert_success
	# Everything was finished: nothing waits or is in flight at nsqd.
	assert_equal "$(channel_stat big depth)" 0
	assert_equal "$(channel_stat big in_flight_count)" 0
	assert_equal "$(channel_stat big requeue_count)" 0
	assert_equal "$(channel_stat big timeout_count)" 0
}

@test "nsq-to-file: a batch below the starvation mark waits for the idle exit" {
	# 150 < 85% of max-in-flight 200: no sync until the end, yet the
	# idle exit syncs and finishes them (the sync interval is 30s).
	seq 1 150 | pub few
	local t0=$SECONDS
	run ntf --topic few --exit-when-idle 1s
	assert_success
	((SECONDS - t0 < 20)) || fail "took $((SECONDS - t0))s"
	assert_equal "$(records "$OUT" | sort -n)" "$(seq 1 150)"
	assert_equal "$(channel_stat few depth)" 0
	assert_equal "$(channel_stat few in_flight_count)" 0
}

@test "nsq-to-file: starved with max-in-flight 10: synced without waiting" {
	seq 1 1000 | pub starve
	start_bg S timeout 60 "$NTF" --nsqd-tcp-address "$ADDR" \
	    --output-dir "$OUT" --topic starve --max-in-flight 10
	# No idle exit, a 30s sync interval: only starvation syncs.
	wait_until 20 eval "[[ \$(cat '$OUT'/* 2>/dev/null | wc -l) -eq 1000 ]]"
	wait_until 10 eval "[[ \$(channel_stat starve in_flight_count) == 0 ]]"
	stop_bg S
}

@test "nsq-to-file: two nsqd, max-in-flight 10 split over them" {
	start_nsqd -n N2
	seq 1 5000 | pub two
	seq 5001 10000 | "$PUB" --topic two \
	    --nsqd-tcp-address "127.0.0.1:$N2_TCP_PORT"
	run ntf --topic two --nsqd-tcp-address "127.0.0.1:$N2_TCP_PORT" \
	    --max-in-flight 10 --exit-when-idle 1s
	assert_success
	run bash -c "cat '$OUT'/* | sort -n | cmp - <(seq 1 10000)"
	assert_success
}

@test "nsq-to-file: a message delivered many times before is still archived" {
	echo worn | pub worn
	# Six deliveries given back: the next one is its 7th attempt, past
	# go-nsq's default max_attempts of 5.
	python3 -c '
from nsqwire import *
c = Conn(int(sys.argv[1]))
c.magic()
c.sub("worn", "nsq_to_file")
c.ok()
c.rdy(1)
for i in range(6):
    m = c.message()
    assert m.attempts == i + 1, m.attempts
    c.req(m.id, 0)
c.rdy(0)
c.cls()
' "$NSQD_TCP_PORT"
	run ntf --topic worn --exit-when-idle 1s
	assert_success
	assert_equal "$(cat "$OUT"/*)" worn
}

# The two-run test: the first run (STOP is TERM or KILL) is stopped while
# messages flow in, then a rerun takes the rest.  Prints nothing; leaves
# the records of both runs in $OUT.
two_runs() {
	local sig=$1 n
	# No timeout(1) around it: SIGKILL must reach nsq-to-file itself.
	start_bg A "$NTF" --nsqd-tcp-address "$ADDR" \
	    --output-dir "$OUT" --topic mid --gzip --rotate-size 100000
	subscribed A
	start_bg P bash -c "seq 1 100000 | '$PUB' --topic mid \
	    --nsqd-tcp-address '$ADDR' --rate 40000"
	sleep 1
	if [[ $sig == TERM ]]; then
		stop_bg A
	else
		kill9_proc A
	fi
	wait_bg P 60
	n=$(records "$OUT" | wc -l)
	echo "first run archived $n" >&2
	((n > 0 && n < 100000)) || fail "not stopped mid-archive: $n records"
	run ntf --topic mid --gzip --rotate-size 100000 --exit-when-idle 1s
	assert_success
	for f in "$OUT"/*; do
		gzip -t "$f" || fail "bad gzip file $f"
	done
}

@test "nsq-to-file: SIGTERM mid-archive, then a rerun: every message exactly once" {
	two_runs TERM
	run bash -c "zcat '$OUT'/* | sort -n | cmp - <(seq 1 100000)"
	assert_success
	assert_equal "$(channel_stat mid depth)" 0
	assert_equal "$(channel_stat mid in_flight_count)" 0
}

@test "nsq-to-file: SIGKILL mid-archive, then a rerun: nothing lost" {
	two_runs KILL
	# Duplicates are allowed (written, not yet finished), loss is not;
	# and the files are whole: every record is a whole input line.
	run bash -c "zcat '$OUT'/* | sort -nu | cmp - <(seq 1 100000)"
	assert_success
	run bash -c "zcat '$OUT'/* | grep -cvE '^[0-9]+\$'"
	assert_output 0
	assert_equal "$(channel_stat mid depth)" 0
}

@test "nsq-to-file: file name tokens, <REV> rules and --host-identifier" {
	seq 1 3 | pub names
	start_bg N "$NTF" --nsqd-tcp-address "$ADDR" --output-dir "$OUT" \
	    --topic names --exit-when-idle 1s --rotate-size 1000000 \
	    --filename-format '<TOPIC>/<HOST>.<PID>.<DATETIME><REV>.txt' \
	    --datetime-format '%Y%m%d' --host-identifier 'id-<SHORT_HOST>'
	local pid=$N_PID
	wait_bg N 30
	local short day
	short=$(hostname)
	short=${short%%.*}
	day=$(date +%Y%m%d)
	[[ -f "$OUT/names/id-$short.$pid.$day-000000.txt" ]] ||
	    fail "not found; there is: $(cd "$OUT" && find . -type f)"
	assert_equal "$(cat "$OUT/names/id-$short.$pid.$day-000000.txt")" \
	    "$(seq 1 3)"
	# Without gzip, rotation or a work dir, <REV> goes away.
	seq 4 5 | pub names
	run ntf --topic names --exit-when-idle 1s --datetime-format '%Y'
	assert_success
	assert_equal "$(cat "$OUT/names.$short.$(date +%Y).log")" "$(seq 4 5)"
	# With gzip it is mandatory: Go's message.
	run ntf --topic names --gzip --filename-format '<TOPIC>.log'
	assert_failure 1
	assert_output --partial 'missing <REV> in --filename-format when gzip, rotation, or work dir enabled'
}

@test "nsq-to-file: a second run on the same topic and dir refuses (lock)" {
	seq 1 10 | pub locked
	start_bg A timeout 60 "$NTF" --nsqd-tcp-address "$ADDR" \
	    --output-dir "$OUT" --topic locked --sync-interval 100ms
	subscribed A
	run ntf --topic locked --exit-when-idle 1s
	assert_failure 1
	# A_PID is timeout's: nsq-to-file is its child.
	assert_output "nsq-to-file: topic locked: another nsq-to-file (pid $(pgrep -P "$A_PID")) is archiving it into $OUT: refusing to run"
	# Another topic in the same directory is no conflict.
	seq 1 2 | pub other
	run ntf --topic other --exit-when-idle 1s
	assert_success
	stop_bg A
	# The lock went with its process.
	run ntf --topic locked --exit-when-idle 1s
	assert_success
	assert_equal "$(cat "$OUT"/locked.* | sort -n)" "$(seq 1 10)"
	assert_equal "$(cat "$OUT"/other.*)" "$(seq 1 2)"
}

@test "nsq-to-file: SIGHUP closes the file; a work dir moves it out" {
	local work=$BATS_TEST_TMPDIR/work
	start_bg H timeout 60 "$NTF" --nsqd-tcp-address "$ADDR" \
	    --output-dir "$OUT" --work-dir "$work" --topic hup \
	    --sync-interval 100ms
	subscribed H
	seq 1 5 | pub hup
	wait_until 10 eval "cat '$work'/hup.* 2>/dev/null | grep -qx 5"
	[[ -z $(ls "$OUT") ]] || fail "moved before closed: $(ls "$OUT")"
	local first
	first=$(ls "$work")
	kill -HUP "$H_PID"
	wait_until 10 eval "[[ \$(ls '$OUT' | wc -l) -eq 1 ]]"
	# The closed file moved out.  The next one may already be open in the
	# work dir: as Go's, the next sync tick opens it, message or not.
	[[ $(ls "$OUT") == "$first" ]] || fail "moved: $(ls "$OUT"), not $first"
	[[ ! -e $work/$first ]] || fail "$first left in the work dir"
	seq 6 8 | pub hup
	wait_until 10 eval "cat '$work'/hup.* 2>/dev/null | grep -qx 8"
	stop_bg H
	run ls "$OUT"
	assert_equal "${#lines[@]}" 2
	assert_line --regexp '^hup\..*-000000\..*\.log$'
	assert_line --regexp '^hup\..*-000001\..*\.log$'
	assert_equal "$(cat "$OUT"/*-000000.* )" "$(seq 1 5)"
	assert_equal "$(cat "$OUT"/*-000001.* )" "$(seq 6 8)"
}

@test "nsq-to-file: --topic-pattern discovers topics through nsqlookupd" {
	stop_nsqd
	start_nsqlookupd
	local lk=127.0.0.1:$NSQLOOKUPD_HTTP_PORT
	start_nsqd -n D --lookupd-tcp-address="127.0.0.1:$NSQLOOKUPD_TCP_PORT" \
	    --broadcast-address=127.0.0.1
	ADDR=127.0.0.1:$D_TCP_PORT
	seq 1 3 | pub logs.a
	seq 4 6 | pub logs.b
	seq 7 9 | pub other
	wait_until 20 eval "curl -fsS 'http://$lk/topics' | grep -q other"
	# An http:// URL here (lookup_http_url), host:port in the runs below.
	start_bg L timeout 60 "$NTF" --lookupd-http-address "http://$lk/" \
	    --output-dir "$OUT" --topic-pattern '^logs\.' \
	    --topic-refresh 300ms --exit-when-idle 3s \
	    --consumer-opt lookupd_poll_interval,300ms
	wait_until 20 eval "cat '$OUT'/logs.b.* 2>/dev/null | grep -qx 6"
	# A topic made while it runs is found at the next refresh.
	seq 10 12 | pub logs.c
	wait_bg L 30
	assert_equal "$(cat "$OUT"/logs.a.*)" "$(seq 1 3)"
	assert_equal "$(cat "$OUT"/logs.b.*)" "$(seq 4 6)"
	assert_equal "$(cat "$OUT"/logs.c.*)" "$(seq 10 12)"
	[[ -z $(ls "$OUT" | grep -v '^logs\.') ]] || fail "$(ls "$OUT")"
	run grep -c 'skipping topic other' "$L_LOG"
	assert_output 1
	# Every topic it finds is locked by another run: it refuses.
	start_bg K timeout 60 "$NTF" --lookupd-http-address "$lk" \
	    --output-dir "$OUT" --topic logs.a
	subscribed K
	run timeout 30 "$NTF" --lookupd-http-address "$lk" \
	    --output-dir "$OUT" --topic-pattern '^logs\.a$' --exit-when-idle 5s
	assert_failure 1
	assert_output --partial 'skipping topic logs.a: another nsq-to-file (pid'
	assert_output --partial 'every topic to archive is locked by another nsq-to-file: refusing to run'
}

@test "nsq-to-file: --topic-pattern is a Go regexp: \\d, (?i), unanchored" {
	seq 1 2 | pub pa1
	seq 3 4 | pub pax
	seq 5 6 | pub PageViews
	seq 7 8 | pub spa
	run ntf --topic pa1 --topic pax --topic PageViews --topic spa \
	    --topic-pattern '^pa\d$|(?i)^PAGE|s(?-i)pa' --exit-when-idle 2s
	assert_success
	assert_line --partial 'skipping topic pax (doesn'"'"'t match pattern'
	refute_line --partial 'skipping topic pa1 '
	refute_line --partial 'skipping topic PageViews '
	refute_line --partial 'skipping topic spa '
	assert_equal "$(cat "$OUT"/pa1.*)" "$(seq 1 2)"
	assert_equal "$(cat "$OUT"/PageViews.*)" "$(seq 5 6)"
	assert_equal "$(cat "$OUT"/spa.*)" "$(seq 7 8)"
	[[ -z $(ls "$OUT" | grep '^pax\.') ]] || fail "$(ls "$OUT")"
	# A pattern Go would refuse is refused before anything starts.
	run "$NTF" --topic-pattern '(?i' --lookupd-http-address a:1 \
	    --output-dir "$BATS_TEST_TMPDIR/none"
	assert_failure 2
	assert_line --index 0 --partial 'invalid value "(?i" for flag -topic-pattern: '
	[[ ! -e $BATS_TEST_TMPDIR/none ]] || fail "made its output dir"
}

@test "nsq-to-file: an --nsqd-tcp-address given twice is one; names checked first" {
	seq 1 3 | pub twice
	run ntf --nsqd-tcp-address "$ADDR" --topic twice --exit-when-idle 2s
	assert_success
	refute_output --partial 'already connected'
	assert_equal "$(cat "$OUT"/twice.*)" "$(seq 1 3)"
	# A bad channel or a bad second topic: refused before any consumer.
	run ntf --topic-pattern x --lookupd-http-address 127.0.0.1:1 \
	    --channel 'bad ch'
	assert_failure 1
	assert_output 'nsq-to-file: invalid channel name'
	run ntf --topic ok --topic 'bad topic!'
	assert_failure 1
	assert_output 'nsq-to-file: couldn'"'"'t create logger for topic bad topic!: invalid topic name'
}

@test "nsq-to-file: an nsqd never reached makes --exit-when-idle fail" {
	run timeout 30 "$NTF" --nsqd-tcp-address 127.0.0.1:1 --topic t \
	    --output-dir "$OUT" --exit-when-idle 1s
	assert_failure 1
	assert_output --partial 'never connected to nsqd 127.0.0.1:1'
}

@test "nsq-to-file: flags in Go's forms, --help, --version, Go's errors" {
	run "$NTF" --help
	assert_success
	assert_line --partial -- '--topic-pattern REGEX'
	assert_line --partial -- '--exit-when-idle DURATION'
	run "$NTF" -version
	assert_success
	assert_output --regexp '^nsq-to-file v1\.3\.0 '
	run "$NTF" --no-such-flag
	assert_failure 2
	assert_line --index 0 'flag provided but not defined: -no-such-flag'
	run "$NTF" --nsqd-tcp-address 127.0.0.1:1
	assert_failure 1
	assert_output 'nsq-to-file: --topic or --topic-pattern required'
	run "$NTF" --topic t
	assert_failure 1
	assert_output 'nsq-to-file: --nsqd-tcp-address or --lookupd-http-address required.'
	run "$NTF" --topic t --nsqd-tcp-address a:1 --lookupd-http-address b:2
	assert_failure 1
	assert_output 'nsq-to-file: use --nsqd-tcp-address or --lookupd-http-address not both'
	run "$NTF" --topic-pattern x --nsqd-tcp-address a:1
	assert_failure 1
	assert_output 'nsq-to-file: --lookupd-http-address must be specified when no --topic specified'
	run "$NTF" --topic t --nsqd-tcp-address a:1 --gzip-level=10
	assert_failure 1
	assert_output 'nsq-to-file: invalid --gzip-level value (10), should be 1-9'
	run "$NTF" --topic t --nsqd-tcp-address a:1 --channel=
	assert_failure 1
	assert_output 'nsq-to-file: --channel is required'
	run "$NTF" --topic t --nsqd-tcp-address a:1 --log-level=loud
	assert_failure 1
	assert_output 'nsq-to-file: --log-level is invalid'
	run "$NTF" --topic t --nsqd-tcp-address a:1 \
	    --http-client-connect-timeout 0s
	assert_failure 1
	assert_output 'nsq-to-file: --http-client-connect-timeout should be positive'
	run "$NTF" --topic-pattern '(' --lookupd-http-address a:1
	assert_failure 2
	assert_line --index 0 'invalid value "(" for flag -topic-pattern: missing closing parenthesis at offset 1'
	assert_line --index 1 'Usage: nsq-to-file [options]'
	run "$NTF" --topic 'bad topic!' --nsqd-tcp-address a:1 \
	    --output-dir "$OUT"
	assert_failure 1
	assert_output --partial 'bad topic!'
	[[ -z $(ls -A "$OUT") ]] || fail "left behind: $(ls -A "$OUT")"
}

@test "nsq-to-file: every --help option is in the man page and completions" {
	check_docs nsq-to-file
}
