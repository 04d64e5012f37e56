#!/usr/bin/env bats
# nsq-pub (to_nsq) against a real nsqd: what is delivered, what the exit
# status and stderr say when nsqd refuses or is gone, delimiters, --rate,
# batching, several nsqd, signals, bounded memory, and its docs.
# Messages are read back with nsq-tail (or with nsqwire.py where the
# bytes matter).

load helpers
load clients

setup() {
	PUB=$NSQ_BIN_DIR/nsq-pub
	TAIL=$NSQ_BIN_DIR/nsq-tail
	[[ -x $PUB && -x $TAIL ]] || fail "no nsq-pub/nsq-tail in $NSQ_BIN_DIR"
	start_nsqd
	ADDR=127.0.0.1:$NSQD_TCP_PORT
}

teardown() {
	if [[ -S $BATS_TEST_TMPDIR/tmux.sock ]]; then
		tmux -S "$BATS_TEST_TMPDIR/tmux.sock" kill-server 2>/dev/null || :
	fi
	teardown_daemons
}

@test "nsq-pub: 200000 lines arrive once each through nsq-tail" {
	run bash -c "seq 1 200000 | timeout 120 '$PUB' --topic big \
	    --nsqd-tcp-address '$ADDR'"
	assert_success
	assert_output ''
	drain big 200000 >"$BATS_TEST_TMPDIR/out"
	[[ $(wc -l <"$BATS_TEST_TMPDIR/out") -eq 200000 ]]
	run bash -c "sort -n '$BATS_TEST_TMPDIR/out' | diff -q - <(seq 1 200000)"
	assert_success
}

@test "nsq-pub: delimiter, a last record without one, empty records skipped" {
	printf 'a,b,,c,,,d' | "$PUB" --topic d1 --delimiter , \
	    --nsqd-tcp-address "$ADDR"
	printf '\n\none\n\n\ntwo' | "$PUB" --topic d1 --nsqd-tcp-address "$ADDR"
	echo END | "$PUB" --topic d1 --nsqd-tcp-address "$ADDR"
	run drain d1 7
	assert_success
	assert_output "$(printf 'a\nb\nc\nd\none\ntwo\nEND')"
}

@test "nsq-pub: bodies are published byte for byte (NUL, CR, binary)" {
	printf 'x\0y\r\n\xff\xfe\n' | "$PUB" --topic bin --nsqd-tcp-address "$ADDR"
	python3 - <<'EOF'
from nsqwire import *
c = Conn(int(os.environ['NSQD_TCP_PORT']))
c.magic()
c.cmd('SUB bin c'); c.ok()
c.rdy(2)
a, b = c.message(), c.message()
assert a.body == b'x\x00y\r', a.body
assert b.body == b'\xff\xfe', b.body
EOF
}

@test "nsq-pub: --batch-size does not change what is delivered" {
	local bs
	for bs in 1 7 200 1000; do
		seq 1 3000 | "$PUB" --topic "b$bs" --batch-size "$bs" \
		    --nsqd-tcp-address "$ADDR"
		drain "b$bs" 3000 >"$BATS_TEST_TMPDIR/b$bs"
		run diff -q "$BATS_TEST_TMPDIR/b$bs" <(seq 1 3000)
		assert_success
	done
}

@test "nsq-pub: each message goes to every --nsqd-tcp-address" {
	start_nsqd -n N2
	seq 1 500 | "$PUB" --topic two --nsqd-tcp-address "$ADDR" \
	    --nsqd-tcp-address "127.0.0.1:$N2_TCP_PORT"
	drain two 500 | sort -n >"$BATS_TEST_TMPDIR/n1"
	drain two 500 "127.0.0.1:$N2_TCP_PORT" | sort -n >"$BATS_TEST_TMPDIR/n2"
	run diff -q "$BATS_TEST_TMPDIR/n1" <(seq 1 500)
	assert_success
	run diff -q "$BATS_TEST_TMPDIR/n2" <(seq 1 500)
	assert_success
}

@test "nsq-pub: an --nsqd-tcp-address given twice is one nsqd (as to_nsq)" {
	seq 1 3 | "$PUB" --topic dup --nsqd-tcp-address "$ADDR" \
	    --nsqd-tcp-address "$ADDR"
	run curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=dup"
	assert_success
	run python3 -c 'import json, sys
print(json.loads(sys.argv[1])["topics"][0]["message_count"])' "$output"
	assert_output 3
}

@test "nsq-pub: a topic name nsqd would misread is refused before connecting" {
	local t
	for t in 'bad topic!' 'a b' "$(printf 'x%.0s' {1..65})" 'n#ephemeral#x'; do
		run bash -c "echo x | '$PUB' --topic '$t' \
		    --nsqd-tcp-address 127.0.0.1:1"
		assert_failure 1
		assert_output 'nsq-pub: invalid topic name'
	done
	run bash -c "echo x | '$PUB' --topic 'bad topic!' \
	    --nsqd-tcp-address '$ADDR'"
	assert_failure 1
	run curl -fsS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json"
	assert_success
	refute_output --partial '"topic_name":"bad"'
}

@test "nsq-pub: a stopped nsqd means exit 1 and a count of what was published" {
	stop_nsqd
	run bash -c "seq 1 5 | '$PUB' --topic t --nsqd-tcp-address '$ADDR'"
	assert_failure 1
	assert_output --partial "nsq-pub: published 0 of 5 messages"
	assert_output --partial "nsq-pub: not published: lines 1-5"
	assert_output --partial "Connection refused"
}

@test "nsq-pub: nsqd's refusal is reported with the lines not published" {
	# One body over --max-msg-size: nsqd refuses the whole MPUB.  (A
	# bad topic name no longer reaches nsqd: nsq-pub refuses it first.)
	restart_nsqd --max-msg-size=10
	run bash -c "printf 'a\n\nbbbbbbbbbbbbbbbbbbbb\nc\n' | '$PUB' --topic t \
	    --nsqd-tcp-address '$ADDR'"
	assert_failure 1
	assert_output --partial 'E_BAD_MESSAGE MPUB message too big 20 > 10'
	assert_output --partial 'published 0 of 3 messages'
	assert_output --partial 'not published: lines 1, 3-4'
}

@test "nsq-pub: a failure stops the reading and names the last line read" {
	# A record over nsqd's --max-msg-size is refused (E_BAD_MESSAGE).
	restart_nsqd --max-msg-size=100
	run bash -c "{ seq 1 10; head -c 300 /dev/zero | tr '\0' x; echo; \
	    seq 12 100000; } | '$PUB' --topic t --batch-size 1 \
	    --nsqd-tcp-address '$ADDR'"
	assert_failure 1
	assert_output --partial 'E_BAD_MESSAGE'
	assert_output --regexp 'published ([0-9]+) of ([0-9]+) messages'
	assert_output --regexp 'not published: lines? ([0-9, -]*, )?([0-9]+-)?11([^0-9]|$)'
	assert_output --regexp 'input not read after line [0-9]+'
}

@test "nsq-pub: --rate holds messages back (lower bound on the time)" {
	local t0 t1
	t0=$EPOCHREALTIME
	seq 1 21 | "$PUB" --topic rate --rate 20 --nsqd-tcp-address "$ADDR"
	t1=$EPOCHREALTIME
	# 21 messages at 20/s, the first at once: at least 1 s.
	run python3 -c "import sys; sys.exit(0 if $t1 - $t0 >= 0.95 else 1)"
	assert_success
	run drain rate 21
	assert_output "$(seq 1 21)"
}

@test "nsq-pub: SIGTERM stops the reading, waits for the acks, exits 0" {
	local fifo=$BATS_TEST_TMPDIR/in
	mkfifo "$fifo"
	start_bg P bash -c "exec '$PUB' --topic sig --nsqd-tcp-address '$ADDR' \
	    <'$fifo'"
	exec 7>"$fifo"
	seq 1 10 >&7
	# The ten lines are published while stdin stays open.
	run drain sig 10
	assert_output "$(seq 1 10)"
	kill -TERM "$P_PID"
	run wait_bg P 10
	assert_success
	exec 7>&-
	grep -q 'interrupted: 10 messages published' "$P_LOG"
}

@test "nsq-pub: a large input is published in bounded memory" {
	local f=$BATS_TEST_TMPDIR/big rss
	python3 -c "
import sys
line = b'x' * 199 + b'\n'
with open('$f', 'wb') as f:
    for i in range(300000):
        f.write(b'%06d' % i + line[6:])
"
	[[ $(stat -c %s "$f") -eq 60000000 ]]
	run /usr/bin/time -f 'maxrss=%M' timeout 120 "$PUB" --topic mem \
	    --nsqd-tcp-address "$ADDR" <"$f"
	assert_success
	rss=$(sed -n 's/^maxrss=//p' <<<"$output")
	echo "max RSS: ${rss} KiB" >&3
	if ! asan; then
		# 60 MB went through; far less may stay in memory.
		((rss < 40000))
	fi
}

@test "nsq-pub: on a terminal, progress then one final summary line" {
	command -v script >/dev/null || fail "no script(1) (util-linux)"
	# --rate 2 makes the run last past the first progress tick (1s).
	run timeout 30 script -qec "seq 1 5 | '$PUB' --topic prog --rate 2 \
	    --nsqd-tcp-address '$ADDR'" /dev/null
	assert_success
	assert_output --regexp 'nsq-pub: [0-9] messages published, [0-9]+/s'
	# The progress line is erased and the summary takes its place.
	local last=${output##*$'\e[K'}
	[[ $last =~ ^'nsq-pub: 5 messages published in '[0-9]+\.[0-9]s$'\r'?$ ]] ||
	    fail "last: $(printf %q "$last")"
	run timeout 30 script -qec "echo x | '$PUB' --topic prog \
	    --nsqd-tcp-address '$ADDR'" /dev/null
	assert_success
	assert_output --regexp 'nsq-pub: 1 message published in [0-9.]+s'
	# Not a terminal: nothing on stderr.
	run bash -c "echo y | '$PUB' --topic prog --nsqd-tcp-address '$ADDR' 2>&1"
	assert_success
	assert_output ''
}

@test "nsq-pub: input typed at the terminal gets no progress line over it" {
	command -v tmux >/dev/null || fail "no tmux"
	local sock=$BATS_TEST_TMPDIR/tmux.sock pane
	tmux -S "$sock" -f /dev/null new-session -d -x 100 -y 10 \
	    "'$PUB' --topic typed --nsqd-tcp-address '$ADDR'; echo rc=\$?; sleep 60"
	tmux -S "$sock" send-keys 'hello' Enter
	wait_until 20 eval "curl -fsS 'http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=typed' |
	    grep -q '\"message_count\":1'"
	# Past the first progress tick (1s after the start).
	sleep 1.5
	tmux -S "$sock" send-keys 'wor'
	sleep 1.2
	pane=$(tmux -S "$sock" capture-pane -p)
	[[ $pane != *'published, '* ]] || fail "progress drawn: $pane"
	[[ $pane == *'wor'* ]] || fail "typing lost: $pane"
	tmux -S "$sock" send-keys 'ld' Enter C-d
	wait_until 20 eval "tmux -S '$sock' capture-pane -p | grep -q '^rc='"
	pane=$(tmux -S "$sock" capture-pane -p)
	tmux -S "$sock" kill-server
	[[ $pane == *$'\n''world'$'\n'* ]] || fail "pane: $pane"
	[[ $pane == *'nsq-pub: 2 messages published in '*'rc=0'* ]] ||
	    fail "pane: $pane"
}

@test "nsq-pub: flags in Go's forms, --help, --version, usage errors" {
	run "$PUB" -version
	assert_success
	assert_output --regexp '^nsq-pub v1\.3\.0 '
	run "$PUB" --help
	assert_success
	assert_line --partial -- '--nsqd-tcp-address ADDR'
	run bash -c "echo go | '$PUB' -topic=gofl -nsqd-tcp-address '$ADDR' \
	    -batch-size=1"
	assert_success
	run drain gofl 1
	assert_output go
	run "$PUB" --bogus
	assert_failure 2
	assert_line 'flag provided but not defined: -bogus'
	run "$PUB" --nsqd-tcp-address "$ADDR"
	assert_failure 1
	assert_output 'nsq-pub: --topic required'
	run "$PUB" --topic t
	assert_failure 1
	assert_output 'nsq-pub: --nsqd-tcp-address required'
	run "$PUB" --topic t --nsqd-tcp-address "$ADDR" --delimiter ab
	assert_failure 1
	assert_output 'nsq-pub: --delimiter must be a single byte'
	run "$PUB" --topic t --nsqd-tcp-address "$ADDR" \
	    --producer-opt max_in_flight,x
	assert_failure 2
	assert_output --partial 'invalid value "max_in_flight,x" for flag -producer-opt'
}

@test "nsq-pub: every --help option is in the man page and completions" {
	check_docs nsq-pub
}
