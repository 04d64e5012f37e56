#!/usr/bin/env bash
# bench/run.sh: the `make bench` report.  Runs a bounded matrix of
# nsq-bench workloads, each row against a fresh nsqd (bin/nsqd) on free
# loopback ports with its own temp data dir and default settings unless
# the row names others, and prints one table:
#
#   pub, sub       msg/s and MiB/s of message bodies.  A row publishes
#                  alone for BENCH_RUNFOR (channels made beforehand, so
#                  publishing fills them), then a reader drains every
#                  message: "sub" is the drain.  The latency row runs both
#                  at once.
#   cpu/1M         nsqd's utime+stime (/proc/PID/stat) over the phase, in
#                  seconds per million messages published (pub) or
#                  delivered (sub).
#   peak RSS       nsqd's VmHWM at the end of the row.
#   p50..max       latency from nsqd's timestamp in the message header to
#                  receipt, in microseconds.
#   pub/ceil       pub MiB/s as a fraction of plain loopback TCP (a sender
#                  and a sink, nsq-bench loopback): the physical ceiling.
#
# Before the table, the PUB round-trip floor: the PUB (batch 1) row's
# writer against nsq-bench echo, a server that answers each PUB with OK
# and does nothing else; after it, that row's pub cpu/1M and msg/s as
# multiples of the floor's (what the kernel's wakeups cost any server).
#
# Then: durable mode's publish rate beside the default's, nsq-to-nsq's
# relay rate between two nsqd (BENCH_RELAY_MSGS messages of 200 B queued
# at one, relayed to the other: from the relay's start until the last one
# is counted in the destination's /stats; its CPU and peak RSS are
# nsq-to-nsq's own), the topics row (BENCH_TOPICS topics with 2
# channels each created over one keep-alive HTTP connection and deleted,
# twice: seconds, and nsqd's RSS before, when created and after the
# delete), the bytes an idle connection costs (BENCH_IDLE connections
# that said IDENTIFY; with GO_NSQD, Go nsqd's too), an idle nsqd's RSS,
# the memory beyond the bodies of 1,000,000 messages queued in
# memory, and nsqd's instructions per message under callgrind (a count
# that a noisy machine does not move).
#
# Environment:
#   BENCH_RUNFOR     duration of a timed phase (default 5s)
#   BENCH_REPEAT     runs of each throughput row and of the floor; the run
#                    with the median pub msg/s (latency row: median p99) is
#                    shown (default 1)
#   BENCH_VERBOSE    1 prints every nsq-bench summary line at the end
#   BENCH_CALLGRIND  0 skips the callgrind run (default 1)
#   BENCH_CG_MSGS    messages of the callgrind workload (default 200000)
#   BENCH_KEEP       a directory to keep the logs and callgrind output in
#   BENCH_BASE_NSQD  another nsqd (an older build) to run the first row
#                    and the callgrind workload against too, for a before
#                    and after in one run
#   BENCH_RELAY_MSGS messages of the nsq-to-nsq relay row (default 1000000)
#   BENCH_TOPICS     topics of the topics row (default 10000)
#   BENCH_IDLE       connections of the idle row (default 10000)
#   GO_NSQD          a Go nsqd binary: the idle row measures it too
#   BENCH_ONLY       "relay": run the nsq-to-nsq relay row alone;
#                    "callgrind": the instructions-a-message row alone;
#                    "idle": the idle-connections row alone;
#                    "topics": the topics row alone
#   NSQ_BIN_DIR      where nsqd and nsq-bench are (default bin)
set -u
cd "$(dirname "$0")/.." || exit 1

BIN=${NSQ_BIN_DIR:-bin}
RUNFOR=${BENCH_RUNFOR:-5s}
REPEAT=${BENCH_REPEAT:-1}
CALLGRIND=${BENCH_CALLGRIND:-1}
CG_MSGS=${BENCH_CG_MSGS:-200000}
RELAY_MSGS=${BENCH_RELAY_MSGS:-1000000}
TOPICS=${BENCH_TOPICS:-10000}
IDLE_CONNS=${BENCH_IDLE:-10000}
TICK=$(getconf CLK_TCK)
DRAIN_MAX=300s			# a drain that takes longer has failed
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nsq-bench.XXXXXX")
NSQD_PID=
ECHO_PID=
SRC_PID=
RELAY_PID=
ROWN=0

for p in nsqd nsq-bench nsq-to-nsq; do
	[ -x "$BIN/$p" ] || { echo "bench: no $BIN/$p (make all)" >&2; exit 1; }
done

cleanup() {
	local p
	for p in $RELAY_PID $SRC_PID; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$ECHO_PID" ]; then
		kill -KILL "$ECHO_PID" 2>/dev/null
		wait "$ECHO_PID" 2>/dev/null
	fi
	if [ -n "$NSQD_PID" ]; then
		kill -KILL "$NSQD_PID" 2>/dev/null
		wait "$NSQD_PID" 2>/dev/null
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		mkdir -p "$BENCH_KEEP"
		cp "$TMP"/*.log "$TMP"/callgrind.out "$BENCH_KEEP"/ 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() {
	# shellcheck disable=SC2016
	timeout 2 bash -c 'exec 9<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

# listening PID PORT TRIES: 0 once PORT takes connections, polling every
# 0.1 s up to TRIES times; else PID is killed and reaped, and 1.
listening() {
	local i
	for ((i = 0; i < $3; i++)); do
		port_open "$2" && return 0
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

# start_nsqd [--wrap CMD] ARGS...: a fresh nsqd in a new data dir; sets
# NSQD_PID, ADDR, HTTP and DATA.  Retried on new ports if it does not come up.
start_nsqd() {
	local wrap=""
	if [ "${1:-}" = --wrap ]; then
		wrap=$2
		shift 2
	fi
	for _ in 1 2 3; do
		ROWN=$((ROWN + 1))
		DATA=$TMP/data$ROWN
		LOG=$TMP/nsqd$ROWN.log
		mkdir -p "$DATA"
		ADDR=127.0.0.1:$(free_port)
		HTTP=127.0.0.1:$(free_port)
		# shellcheck disable=SC2086
		$wrap "${NSQD_BIN:-$BIN/nsqd}" --tcp-address="$ADDR" \
		    --http-address="$HTTP" \
		    --data-path="$DATA" "$@" >"$LOG" 2>&1 &
		NSQD_PID=$!
		listening "$NSQD_PID" "${ADDR#*:}" 300 && return 0
		NSQD_PID=
	done
	echo "bench: nsqd did not start; its log:" >&2
	tail -n 20 "$LOG" >&2
	exit 1
}

# stop_nsqd: SIGTERM (nsqd writes what it holds to disk), then SIGKILL.
stop_nsqd() {
	local i
	kill -TERM "$NSQD_PID" 2>/dev/null
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$NSQD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NSQD_PID" 2>/dev/null
	wait "$NSQD_PID" 2>/dev/null
	NSQD_PID=
	rm -rf "$DATA"
}

cpu_ticks() {	# cpu_ticks [PID]: utime + stime of PID (default nsqd)
	local s
	read -r s <"/proc/${1:-$NSQD_PID}/stat"
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

status_kb() {	# status_kb VmHWM|VmRSS
	awk -v k="$1:" '$1 == k { print $2 }' "/proc/$NSQD_PID/status"
}

bench() {
	"$BIN/nsq-bench" "$@" --nsqd-tcp-address "$ADDR"
}

# seconds DURATION: a Go duration ("5s", "1m30s", "500ms") in seconds.
seconds() {
	awk -v d="$1" 'BEGIN {
		u["h"] = 3600; u["m"] = 60; u["s"] = 1; u["ms"] = 1e-3
		u["us"] = 1e-6; u["µs"] = 1e-6; u["ns"] = 1e-9
		t = 0
		while (match(d, /^[0-9.]+(h|ms|m|s|us|µs|ns)/)) {
			n = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
			match(n, /^[0-9.]+/)
			t += substr(n, 1, RLENGTH) * u[substr(n, RLENGTH + 1)]
		}
		if (d != "") { print "bad duration" > "/dev/stderr"; exit 1 }
		print t
	}'
}

kv() {	# kv KEY LINE
	local re="(^| )$1=([^ ]*)"
	[[ $2 =~ $re ]] && printf '%s\n' "${BASH_REMATCH[2]}"
}

# calc FORMAT EXPR A B: printf FORMAT of EXPR over a and b ("-" when b
# is 0 or empty).
calc() {
	awk -v a="${3:-0}" -v b="${4:-0}" \
	    "BEGIN { if (b + 0 == 0) print \"-\"; else printf \"$1\", $2 }"
}

# cpu_per_m TICKS MSGS: CPU seconds per million messages.
cpu_per_m() {
	calc %.2f "a / $TICK / (b / 1e6)" "$1" "$2"
}

fmt_row() {	# the 13 cells of a row
	printf '%-26s %9s %7s %9s %7s %7s %7s %8s %8s %8s %8s %8s %6s\n' "$@"
}

mb() {	# kB -> MB (10^6)
	awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'
}

pct() {	# pct A B: A / B as a percentage
	calc %.1f%% "100 * a / b" "$1" "$2"
}

raw() {	# keep every summary line for the record
	printf '%s\n' "$*" >>"$TMP/raw.log"
}

fail() {	# a row went wrong: say so, and exit non-zero at the end
	echo "bench: $*" >&2
	touch "$TMP/failed"
}

# repeat FUNC ARGS...: runs a row function REPEAT times (each prints
# "KEY<TAB>ROW"), prints the row with the median KEY and sets MEDIAN_KEY
# and MEDIAN_ROW.
repeat() {
	local i n line
	: >"$TMP/rep"
	for ((i = 0; i < REPEAT; i++)); do
		"$@" >>"$TMP/rep"
	done
	MEDIAN_KEY=0
	MEDIAN_ROW=
	n=$(wc -l <"$TMP/rep")
	[ "$n" -gt 0 ] || return 0
	line=$(sort -t $'\t' -k1,1g "$TMP/rep" | sed -n "$(((n + 1) / 2))p")
	MEDIAN_KEY=${line%%$'\t'*}
	MEDIAN_ROW=${line#*$'\t'}
	printf '  %-28s %s\n' "$2:" "$(cut -f1 "$TMP/rep" | sort -g | xargs)" \
	    >>"$TMP/spread"
	printf '%s\n' "${line#*$'\t'}"
}

# channels_args N: --channel c0 ... --channel cN-1 (one: the default ch).
channels_args() {
	local i
	if [ "$1" -eq 1 ]; then
		echo "--channel ch"
		return
	fi
	for ((i = 0; i < $1; i++)); do
		printf -- '--channel c%d ' "$i"
	done
}

# pubsub LABEL NCHAN "NSQD ARGS" WRITER ARGS...: publish alone for RUNFOR
# into NCHAN channels, then drain them all; prints "PUB_MSG_S<TAB>ROW".
pubsub() {
	local label=$1 nchan=$2 nsqd_args=$3 ch w r c0 c1 c2 n want got
	shift 3
	ch=$(channels_args "$nchan")
	# shellcheck disable=SC2086
	start_nsqd $nsqd_args
	# shellcheck disable=SC2086
	r=$(bench reader $ch --connections "$nchan" --rdy 0 --runfor 0) ||
	    { fail "$label: cannot create channels"; stop_nsqd; return; }
	c0=$(cpu_ticks)
	w=$(bench writer --runfor "$RUNFOR" "$@") ||
	    { fail "$label: the writer failed"; stop_nsqd; return; }
	c1=$(cpu_ticks)
	raw "$label: $w"
	n=$(kv msgs "$w")
	want=$((n * nchan))
	# shellcheck disable=SC2086
	r=$(bench reader $ch --connections $((nchan > NCPU ? nchan : NCPU)) \
	    --count "$want" --runfor "$DRAIN_MAX") ||
	    fail "$label: the reader failed"
	c2=$(cpu_ticks)
	raw "$label: $r"
	got=$(kv msgs "$r")
	[ "${got:-0}" -eq "$want" ] ||
	    fail "$label: published $want deliveries, read ${got:-0}"
	printf '%s\t' "$(kv msg_s "$w")"
	fmt_row "$label" "$(kv msg_s "$w")" "$(kv mib_s "$w")" \
	    "$(kv msg_s "$r")" "$(kv mib_s "$r")" \
	    "$(cpu_per_m $((c1 - c0)) "$n")" \
	    "$(cpu_per_m $((c2 - c1)) "${got:-0}")" \
	    "$(mb "$(status_kb VmHWM)")" "-" "-" "-" "-" \
	    "$(pct "$(kv mib_s "$w")" "$CEIL_MIB")"
	stop_nsqd
}

# Latency at a fixed rate: a reader on the channel while the writer
# publishes 50,000 PUBs a second; CPU is both together.
latency_row() {
	local label=$1 rate=$2 w r c0 c1 n rp secs
	shift 2
	start_nsqd
	bench reader --rdy 0 --runfor 0 >/dev/null ||
	    { fail "$label: cannot create the channel"; stop_nsqd; return; }
	secs=$(awk -v s="$(seconds "$RUNFOR")" 'BEGIN { print s + 3 }')
	rp=$TMP/lat-reader.out
	bench reader --runfor "${secs}s" >"$rp" &
	sleep 0.3
	c0=$(cpu_ticks)
	w=$(bench writer --runfor "$RUNFOR" --rate "$rate" "$@") ||
	    fail "$label: the writer failed"
	wait $! || fail "$label: the reader failed"
	c1=$(cpu_ticks)
	r=$(cat "$rp")
	raw "$label: $w"
	raw "$label: $r"
	n=$(kv msgs "$w")
	[ "$(kv msgs "$r")" = "$n" ] ||
	    fail "$label: published $n, read $(kv msgs "$r")"
	printf '%s\t' "$(kv lat_p99_us "$r")"
	fmt_row "$label" "$(kv msg_s "$w")" "$(kv mib_s "$w")" "-" "-" \
	    "$(cpu_per_m $((c1 - c0)) "$n")*" "*" \
	    "$(mb "$(status_kb VmHWM)")" "$(kv lat_p50_us "$r")" \
	    "$(kv lat_p99_us "$r")" "$(kv lat_p999_us "$r")" \
	    "$(kv lat_max_us "$r")" "$(pct "$(kv mib_s "$w")" "$CEIL_MIB")"
	stop_nsqd
}

# echo_floor: the PUB (batch 1) row's writer for RUNFOR against nsq-bench
# echo, which answers each PUB with OK and does nothing else: what a round
# trip costs any server here.  Prints "MSG_S<TAB>LINE", as rows do.
echo_floor() {
	local addr w c0 c1 cpu out=$TMP/echo.out
	for _ in 1 2 3; do
		addr=127.0.0.1:$(free_port)
		"$BIN/nsq-bench" echo --nsqd-tcp-address "$addr" \
		    --runfor 300s >"$out" 2>&1 &
		ECHO_PID=$!
		listening "$ECHO_PID" "${addr#*:}" 50 && break
		ECHO_PID=
	done
	if [ -z "$ECHO_PID" ]; then
		fail "echo floor: nsq-bench echo did not start: $(cat "$out")"
		return
	fi
	c0=$(cpu_ticks "$ECHO_PID")
	w=$("$BIN/nsq-bench" writer --runfor "$RUNFOR" --size 200 \
	    --batch-size 1 --nsqd-tcp-address "$addr") ||
	    fail "echo floor: the writer failed"
	c1=$(cpu_ticks "$ECHO_PID")
	kill -TERM "$ECHO_PID" 2>/dev/null
	wait "$ECHO_PID" 2>/dev/null || fail "echo floor: echo failed"
	ECHO_PID=
	raw "echo floor: $w"
	raw "echo floor: $(cat "$out")"
	cpu=$(cpu_per_m $((c1 - c0)) "$(kv msgs "$w")")
	printf '%s\t' "$(kv msg_s "$w")"
	echo "PUB round-trip floor (minimal echo server, $(kv conns "$w")" \
	    "connections): $(kv msg_s "$w") msg/s, $cpu s CPU per 1M"
}

# dest_count: the destination's message_count of topic relay (0 if none).
dest_count() {
	local n
	n=$(curl -fsS "http://$HTTP/stats?format=json&topic=relay" 2>/dev/null |
	    grep -o '"message_count":[0-9]*' | head -n 1)
	echo "${n#*:}"
}

# relay_row: nsq-to-nsq between two fresh nsqd: RELAY_MSGS messages of
# 200 B queued at the source (on its channel nsq_to_nsq) before the relay
# starts; timed from its start until the destination's /stats counts them
# all.  Prints "MSG_S<TAB>LINE", as rows do.
relay_row() {
	local w t0 t1 c0 c1 got=0 i src src_data hwm rate
	start_nsqd
	SRC_PID=$NSQD_PID
	src=$ADDR
	src_data=$DATA
	NSQD_PID=
	bench reader --topic relay --channel nsq_to_nsq --rdy 0 --runfor 0 \
	    >/dev/null 2>&1 || true
	w=$("$BIN/nsq-bench" writer --topic relay --count "$RELAY_MSGS" \
	    --runfor "$DRAIN_MAX" --size 200 --batch-size 200 \
	    --nsqd-tcp-address "$src") || fail "relay: the writer failed"
	raw "relay: $w"
	start_nsqd
	bench reader --topic relay --channel ch --rdy 0 --runfor 0 \
	    >/dev/null 2>&1 || fail "relay: no destination channel"
	t0=$EPOCHREALTIME
	"$BIN/nsq-to-nsq" --topic relay --nsqd-tcp-address "$src" \
	    --destination-nsqd-tcp-address "$ADDR" --status-every 0 \
	    >"$TMP/relay.log" 2>&1 &
	RELAY_PID=$!
	c0=$(cpu_ticks "$RELAY_PID")
	for ((i = 0; i < 6000; i++)); do
		got=$(dest_count)
		[ "${got:-0}" -ge "$RELAY_MSGS" ] && break
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.05
	done
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$RELAY_PID" 2>/dev/null || echo "$c0")
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$RELAY_PID/status" \
	    2>/dev/null)
	kill -TERM "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null || fail "relay: nsq-to-nsq failed:" \
	    "$(tail -n 5 "$TMP/relay.log")"
	RELAY_PID=
	[ "${got:-0}" -eq "$RELAY_MSGS" ] ||
	    fail "relay: $RELAY_MSGS queued, ${got:-0} at the destination"
	rate=$(awk -v n="$RELAY_MSGS" -v a="$t0" -v b="$t1" \
	    'BEGIN { printf "%.0f", n / (b - a) }')
	printf '%s\t' "$rate"
	echo "nsq-to-nsq relay between two nsqd ($RELAY_MSGS x 200 B" \
	    "queued at the source): $rate msg/s," \
	    "$(cpu_per_m $((c1 - c0)) "$RELAY_MSGS") s CPU per 1M," \
	    "peak RSS $(mb "${hwm:-0}") MB"
	stop_nsqd
	NSQD_PID=$SRC_PID
	DATA=$src_data
	SRC_PID=
	stop_nsqd
}

# topics_row: TOPICS topics with two channels each created over one
# keep-alive HTTP connection (bench/topics.py), then all deleted; twice,
# against one fresh nsqd.  Prints the line.
topics_row() {
	local out c1 c2 h1 h2
	start_nsqd
	out=$(python3 bench/topics.py "$HTTP" "$NSQD_PID" "$TOPICS" 2) ||
	    fail "topics: bench/topics.py failed"
	raw "topics: $out"
	c1=$(grep '^cycle 1 ' <<<"$out")
	c2=$(grep '^cycle 2 ' <<<"$out")
	# cycle N create S delete S rss_kib before K peak K after K hwm K
	# halves S S
	read -r _ _ _ cr1 _ de1 _ _ b1 _ p1 _ a1 _ _ _ h1 h2 <<<"$c1"
	read -r _ _ _ cr2 _ de2 _ _ b2 _ p2 _ a2 _ _ <<<"$c2"
	echo "$TOPICS topics x 2 channels (HTTP, one connection):" \
	    "create $cr1 (first half $h1, second $h2), delete $de1;" \
	    "RSS $(mb "$b1") -> $(mb "$p1") -> $(mb "$a1") MB" \
	    "(before, created, 3 s after the delete);" \
	    "second cycle create $cr2, delete $de2," \
	    "RSS $(mb "$b2") -> $(mb "$p2") -> $(mb "$a2") MB"
	stop_nsqd
}

# idle_row: bytes a connection costs nsqd once it has said IDENTIFY and
# gone quiet, over BENCH_IDLE connections; and Go nsqd's in the same run
# when GO_NSQD names its binary.
idle_row() {
	local out per goper n=$IDLE_CONNS
	if ! ulimit -n $((n + 1024)) 2>/dev/null; then
		echo "idle connections: skipped (cannot raise the open-file" \
		    "limit to $((n + 1024)))"
		return
	fi
	start_nsqd
	out=$(python3 bench/idle.py "$ADDR" "$NSQD_PID" "$n") ||
	    fail "idle: bench/idle.py failed"
	stop_nsqd
	raw "idle: $out"
	per=$(awk '{ print $7 }' <<<"$out")
	if [ -n "${GO_NSQD:-}" ]; then
		NSQD_BIN=$GO_NSQD start_nsqd
		out=$(python3 bench/idle.py "$ADDR" "$NSQD_PID" "$n") ||
		    fail "idle: bench/idle.py failed against $GO_NSQD"
		stop_nsqd
		raw "idle ($GO_NSQD): $out"
		goper=$(awk '{ print $7 }' <<<"$out")
		echo "$n idle connections after IDENTIFY: $per bytes each;" \
		    "$GO_NSQD $goper bytes each (ours" \
		    "$(calc %.2f "a / b" "$per" "$goper") of that)"
	else
		echo "$n idle connections after IDENTIFY: $per bytes each"
	fi
}

# cg_ir NSQD OUT: the callgrind workload against NSQD, callgrind's output
# in OUT; sets CG_IR to nsqd's instructions a message (not in a
# subshell: the cleanup must know the nsqd it started).
cg_ir() {
	local w r ir
	NSQD_BIN=$1 start_nsqd --wrap \
	    "valgrind --tool=callgrind --callgrind-out-file=$2"
	bench reader --rdy 0 --runfor 0 >/dev/null ||
	    fail "callgrind: no channel"
	w=$(bench writer --count "$CG_MSGS" --runfor "$DRAIN_MAX" \
	    --size 200 --batch-size 200 --connections 1) ||
	    fail "callgrind: the writer failed"
	r=$(bench reader --count "$CG_MSGS" --runfor "$DRAIN_MAX" \
	    --connections 1) || fail "callgrind: the reader failed"
	[ "$(kv msgs "$r")" = "$CG_MSGS" ] ||
	    fail "callgrind: read $(kv msgs "$r")"
	raw "callgrind ($1): $w"
	raw "callgrind ($1): $r"
	stop_nsqd
	ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$2")
	CG_IR=$(calc %.0f "a / b" "$ir" "$CG_MSGS")
}

# callgrind_row: the instructions-a-message line (and the baseline's).
callgrind_row() {
	local cg ir base
	if [ "$CALLGRIND" != 0 ]; then
		if ! command -v valgrind >/dev/null; then
			echo "callgrind: valgrind is not installed; skipped"
		else
			cg=$TMP/callgrind.out
			cg_ir "$BIN/nsqd" "$cg"
			ir=$CG_IR
			echo "callgrind: $CG_MSGS x 200 B, MPUB 200, published then" \
			    "drained, one connection each: nsqd $ir instructions a" \
			    "message (start-up and exit included)"
			if [ -n "${BENCH_BASE_NSQD:-}" ]; then
				cg_ir "$BENCH_BASE_NSQD" "$TMP/callgrind.base"
				base=$CG_IR
				echo "callgrind: the same for $BENCH_BASE_NSQD:" \
				    "$base instructions a message; this nsqd takes" \
				    "$(calc %.3f "a / b" "$ir" "$base") of that"
			fi
			echo "hottest functions (self Ir):"
			callgrind_annotate "$cg" 2>/dev/null |
			    awk '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ && n < 12 {
				sub(/ \[[^]]*\]$/, ""); print "  " $0; n++ }'
		fi
	fi
}

if ! seconds "$RUNFOR" >/dev/null; then
	echo "bench: BENCH_RUNFOR=$RUNFOR" >&2
	exit 2
fi
NCPU=$(nproc)
if [ "${BENCH_ONLY:-}" = topics ]; then
	topics_row
	[ ! -e "$TMP/failed" ]
	exit
fi
if [ "${BENCH_ONLY:-}" = idle ]; then
	idle_row
	[ ! -e "$TMP/failed" ]
	exit
fi
if [ "${BENCH_ONLY:-}" = callgrind ]; then
	callgrind_row
	[ ! -e "$TMP/failed" ]
	exit
fi
if [ "${BENCH_ONLY:-}" = relay ]; then
	repeat relay_row "nsq-to-nsq relay"
	[ ! -e "$TMP/failed" ]
	exit
fi
echo "nsq-bench matrix: $(date -u '+%Y-%m-%d %H:%M UTC'), $NCPU CPUs," \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
    "phases of $RUNFOR, $REPEAT run(s) a row"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

l=$("$BIN/nsq-bench" loopback --connections 1 --runfor 3s) || exit 1
raw "loopback: $l"
CEIL_MIB=$(kv mib_s "$l")
echo "loopback TCP ceiling (1 sender, 1 sink): $CEIL_MIB MiB/s," \
    "$(kv msg_s "$l") msg/s of 200 B"
repeat echo_floor "PUB round-trip floor"
FLOOR_MSG_S=$MEDIAN_KEY
FLOOR_CPU=$(sed -n 's/.*, \([0-9.]*\) s CPU per 1M$/\1/p' <<<"$MEDIAN_ROW")
echo
fmt_row "row" "pub" "pub" "sub" "sub" "cpu/1M" "cpu/1M" "peak" "p50" "p99" \
    "p99.9" "max" "pub/"
fmt_row "" "msg/s" "MiB/s" "msg/s" "MiB/s" "pub s" "sub s" "RSS MB" "us" \
    "us" "us" "us" "ceil"

repeat pubsub "200 B, MPUB 200" 1 "" --size 200 --batch-size 200
DEFAULT_PUB=$MEDIAN_KEY
if [ -n "${BENCH_BASE_NSQD:-}" ]; then
	# The same row against the other nsqd, for a before and after.
	NSQD_BIN=$BENCH_BASE_NSQD repeat pubsub "  the same, base nsqd" 1 "" \
	    --size 200 --batch-size 200
fi
repeat pubsub "200 B, PUB (batch 1)" 1 "" --size 200 --batch-size 1
# Its pub msg/s and cpu/1M: the row's cells after the label.
PUB1_ROW=$(awk '{ print $1, $5 }' <<<"${MEDIAN_ROW#"200 B, PUB (batch 1)"}")
repeat pubsub "100 B, MPUB 200" 1 "" --size 100 --batch-size 200
repeat pubsub "200 B, MPUB 200, 16 conns" 1 "" --size 200 --batch-size 200 \
    --connections 16
repeat pubsub "200 B, MPUB 200, 4 channels" 4 "" --size 200 --batch-size 200
repeat latency_row "50,000 msg/s PUB, 200 B" 50000 --size 200 --batch-size 1
repeat pubsub "durable, 200 B, MPUB 200" 1 \
    "--mem-queue-size=0 --sync-every=1" --size 200 --batch-size 200
DURABLE_PUB=$MEDIAN_KEY
repeat relay_row "nsq-to-nsq relay" >"$TMP/relay.line"
topics_row >"$TMP/topics.line"
idle_row >"$TMP/idle.line"

# 1,000,000 messages queued in memory in one channel: RSS beyond the
# bodies, against the same nsqd's RSS just before publishing; then drain.
start_nsqd --mem-queue-size=1000000
bench reader --rdy 0 --runfor 0 >/dev/null || fail "memq: no channel"
sleep 0.5
rss0=$(status_kb VmRSS)
c0=$(cpu_ticks)
w=$(bench writer --count 1000000 --runfor "$DRAIN_MAX" --size 200) ||
    fail "memq: the writer failed"
c1=$(cpu_ticks)
sleep 0.5
rss1=$(status_kb VmRSS)
r=$(bench reader --count 1000000 --runfor "$DRAIN_MAX") ||
    fail "memq: the reader failed"
[ "$(kv msgs "$r")" = 1000000 ] || fail "memq: read $(kv msgs "$r")"
c2=$(cpu_ticks)
raw "mem-queue 1M: $w"
raw "mem-queue 1M: $r"
fmt_row "200 B, MPUB 200, memq 1M" "$(kv msg_s "$w")" "$(kv mib_s "$w")" \
    "$(kv msg_s "$r")" "$(kv mib_s "$r")" \
    "$(cpu_per_m $((c1 - c0)) "$(kv msgs "$w")")" \
    "$(cpu_per_m $((c2 - c1)) "$(kv msgs "$r")")" \
    "$(mb "$(status_kb VmHWM)")" "-" "-" "-" "-" \
    "$(pct "$(kv mib_s "$w")" "$CEIL_MIB")"
stop_nsqd

start_nsqd
sleep 1
idle_rss=$(status_kb VmRSS)
idle_anon=$(status_kb RssAnon)
idle_file=$(status_kb RssFile)
idle_hwm=$(status_kb VmHWM)
# file-backed pages: the binary's alone when it is linked statically (the
# default build), the shared libraries' too when it is not (STATIC=0)
if grep -q '\.so[.0-9]*$' "/proc/$NSQD_PID/maps"; then
	idle_what="the binary and shared libraries"
else
	idle_what="the static binary"
fi
stop_nsqd

echo
echo "* the latency row publishes and reads at once: its cpu/1M is both," \
    "and sub is pub."
echo "sub is the drain of what was published (4 channels: every delivery)."
if [ "$REPEAT" -gt 1 ]; then
	echo "every run's pub msg/s (latency row: p99 us), the median shown:"
	cat "$TMP/spread"
fi
echo
read -r pub1_msg_s pub1_cpu <<<"$PUB1_ROW"
[[ ${pub1_cpu:-} =~ ^[0-9.]+$ ]] || pub1_cpu=-
[[ ${pub1_msg_s:-} =~ ^[0-9.]+$ ]] || pub1_msg_s=-
echo "PUB (batch 1) against the echo floor: nsqd $pub1_cpu s CPU per 1M" \
    "= $(calc %.2f "a / b" "$pub1_cpu" "$FLOOR_CPU") x its ${FLOOR_CPU:--};" \
    "$pub1_msg_s msg/s =" \
    "$(calc %.2f "a / b" "$pub1_msg_s" "$FLOOR_MSG_S") x its ${FLOOR_MSG_S:--}"
echo "durable (--mem-queue-size=0 --sync-every=1) pub: $DURABLE_PUB msg/s," \
    "$(calc %.3f "a / b" "$DURABLE_PUB" "$DEFAULT_PUB")" \
    "of the default mode's $DEFAULT_PUB"
cat "$TMP/relay.line"
cat "$TMP/topics.line"
cat "$TMP/idle.line"
echo "idle nsqd: RSS $(mb "$idle_rss") MB ($idle_rss kB):" \
    "anonymous $(mb "$idle_anon") MB," \
    "file-backed ($idle_what) $(mb "$idle_file") MB;" \
    "VmHWM $(mb "$idle_hwm") MB"
echo "1,000,000 x 200 B queued in memory:" \
    "RSS $(mb "$rss0") -> $(mb "$rss1") MB," \
    "$(calc %.1f "((a - b) * 1024 - 1e6 * 200) / 1e6" "$rss1" "$rss0")" \
    "bytes a message beyond its body"

callgrind_row

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${BENCH_VERBOSE:-0}" != 0 ]; then
	echo
	cat "$TMP/raw.log"
fi
[ ! -e "$TMP/failed" ]
