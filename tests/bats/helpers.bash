# tests/bats/helpers.bash: the kit every bats suite stands on.
#
# Loaded by each .bats file (`load helpers` in tests/bats, `load
# ../bats/helpers` in tests/interop).  It loads bats-support and bats-assert,
# finds the binaries, and starts, watches and stops daemons and background
# clients so that a test never hangs and never leaves a process behind.
#
# Environment
#   NSQ_BIN_DIR        where nsqd etc. live (scripts/test.sh sets it to an
#                      absolute bin/ or build/asan/bin/); default
#                      $BATS_TEST_DIRNAME/../../bin.
#   NSQ_START_TIMEOUT  seconds a daemon may take to become ready (20).
#   NSQ_STOP_TIMEOUT   seconds a daemon may take to exit on SIGTERM (15).
#   NSQ_WAIT_HTTP=1    readiness also needs `GET /ping` to answer OK.
#   NSQ_LOG_TAIL       lines of a log shown on failure (40).
#   BATS_TEST_TIMEOUT  per-test watchdog of bats itself; default 300 here.
#   PYTHONPATH         gets tests/bats prepended, so `import nsqwire` works in
#                      `python3 - <<'EOF'` snippets from any folder.
#
# Processes have NAMES (shell identifiers).  Every process a test starts
# writes its stdout and stderr to ${NAME}_LOG and has its pid in ${NAME}_PID
# (both exported).  Daemons also export ${NAME}_TCP_PORT, ${NAME}_HTTP_PORT
# and (nsqd) ${NAME}_DATA.  The default names are NSQD and NSQLOOKUPD, so a
# test with one nsqd uses $NSQD_TCP_PORT, $NSQD_HTTP_PORT, $NSQD_DATA,
# $NSQD_LOG, $NSQD_PID; a second one started with `start_nsqd -n N2` has
# $N2_TCP_PORT and so on.
#
#   start_nsqd [-n NAME] [ARGS...]
#       Temp data dir $BATS_TEST_TMPDIR/NAME.data, two free ports, runs
#       $NSQ_BIN_DIR/nsqd --tcp-address=127.0.0.1:T --http-address=
#       127.0.0.1:H --data-path=D ARGS... and waits until its TCP port
#       accepts connections (and /ping answers if NSQ_WAIT_HTTP=1).  If the
#       process dies or the deadline passes it prints the log tail and
#       fails.  A bind clash (another suite took the port; seen as
#       "Address already in use", strerror(EADDRINUSE), in the log) is
#       retried with new ports, up to 3 times.
#   start_nsqlookupd [-n NAME] [ARGS...]
#       The same for nsqlookupd (--tcp-address, --http-address; no data
#       dir).  Default name NSQLOOKUPD.
#   stop_nsqd [-n NAME]       (also stop_nsqlookupd, stop_proc NAME)
#       SIGTERM, wait up to NSQ_STOP_TIMEOUT, then SIGKILL.  Returns the
#       daemon's exit status (128+N if killed by signal N), so a bare
#       `stop_nsqd` in a test asserts a clean exit 0; on a non-zero status
#       it prints the log tail.  Use `stop_nsqd || rc=$?` to inspect it.
#   kill9_nsqd [-n NAME]      (also kill9_proc NAME)
#       SIGKILL and wait until the process is gone.
#   restart_nsqd [-n NAME] [ARGS...]   (also restart_nsqlookupd)
#       Stops it if still running (failing if that exit was not clean),
#       then starts it again on the same ports and data dir.  With ARGS
#       they replace the extra arguments given to start_nsqd, else those
#       are reused.  The log is appended to, after a marker line.
#   start_bg NAME CMD...
#       Any other process (a node client, a python subscriber...) in the
#       background: exports NAME_PID, NAME_LOG; teardown kills it.  Wrap
#       it in `timeout N` as well, so it dies even if teardown does not run.
#   wait_bg NAME TIMEOUT      Waits for it to exit and returns its status;
#       after TIMEOUT seconds it prints the log tail, kills it, returns 124.
#   stop_bg NAME              SIGTERM/SIGKILL (to the command a `timeout`
#                             wrapper runs, not to timeout); returns its
#                             status.
#   proc_alive NAME           True while the process runs.
#   proc_status NAME          Prints the exit status (empty while running,
#                             255 if unknown).
#   teardown_daemons
#       Call it from teardown() (or teardown_file() when the processes
#       were started in setup_file()).  Stops every process this test
#       started, newest first; when the test failed it prints each log's
#       tail; it fails the test if any log holds a sanitizer report.
#   wait_until TIMEOUT CMD...
#       Runs CMD every 0.05 s until it succeeds (returns 0) or TIMEOUT
#       seconds (may be fractional) have passed: then it prints CMD and its
#       last output and returns 1.  CMD's output is kept out of the way
#       while polling.  CMD must itself be quick (use `timeout` if not).
#   free_port
#       Prints a TCP port that is free on 127.0.0.1, taken at random
#       outside the kernel's ephemeral range and not handed out before in
#       this test.  Another suite may still grab it before we bind: start_*
#       retries on a clash.
#   tcp_port_open PORT        True if 127.0.0.1:PORT accepts a connection.
#
# Rules: never call start_* or restart_* under `run` (it forks: the test
# would lose track of the process); call them directly.  stop_*, kill9_*
# and wait_bg may run under `run` to capture the status.  Stopping and
# restarting must happen in the process that started it (setup, test and
# teardown share one; setup_file/teardown_file another).  Every loop here
# is bounded in iterations and in time.

bats_load_library bats-support
bats_load_library bats-assert

NSQ_TESTS_BATS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export NSQ_TESTS_BATS_DIR
export PYTHONPATH="$NSQ_TESTS_BATS_DIR${PYTHONPATH:+:$PYTHONPATH}"
: "${NSQ_BIN_DIR:=$BATS_TEST_DIRNAME/../../bin}"
if [[ -d $NSQ_BIN_DIR ]]; then
	NSQ_BIN_DIR=$(cd "$NSQ_BIN_DIR" && pwd)
fi
export NSQ_BIN_DIR
: "${NSQ_START_TIMEOUT:=20}"
: "${NSQ_STOP_TIMEOUT:=15}"
: "${NSQ_WAIT_HTTP:=0}"
: "${NSQ_LOG_TAIL:=40}"
: "${BATS_TEST_TIMEOUT:=300}"

# Processes started by this shell, oldest first.
_NSQ_PROCS=()
# Log file -> its size when its tail was last shown.
declare -gA _NSQ_SHOWN=()

# _nsq_tmp: the directory for this test's files (per test, or per file when
# called from setup_file).
_nsq_tmp() {
	local d=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-}}}
	if [[ -z $d ]]; then
		d=${TMPDIR:-/tmp}
	fi
	printf '%s\n' "$d"
}

# _nsq_now: sets _NSQ_NOW to the wall clock in microseconds, without a fork.
_nsq_now() {
	_NSQ_NOW=${EPOCHREALTIME//[.,]/}
}

# _nsq_us SECONDS: prints SECONDS (integer or decimal) in microseconds.
_nsq_us() {
	local s=$1 int frac=000000
	int=${s%%.*}
	if [[ $s == *.* ]]; then
		frac=${s#*.}000000
		frac=${frac:0:6}
	fi
	if ! [[ ${int:-0} =~ ^[0-9]+$ && $frac =~ ^[0-9]+$ ]]; then
		echo "bad number of seconds: $s" >&2
		return 1
	fi
	printf '%s\n' $((10#${int:-0} * 1000000 + 10#$frac))
}

# _nsq_name NAME: checks NAME is usable as a variable prefix.
_nsq_name() {
	if ! [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
		echo "bad process name '$1' (letters, digits, _)" >&2
		return 1
	fi
}

# _nsq_var NAME SUFFIX: prints the value of ${NAME}_SUFFIX.
_nsq_var() {
	local v="${1}_$2"
	printf '%s\n' "${!v:-}"
}

wait_until() {
	local timeout=$1 us deadline max i out
	shift
	if [[ $# -eq 0 ]]; then
		echo "usage: wait_until TIMEOUT CMD..." >&2
		return 2
	fi
	us=$(_nsq_us "$timeout") || return 2
	out="$(_nsq_tmp)/.wait_until.$$.out"
	_nsq_now
	deadline=$((_NSQ_NOW + us))
	max=$((us / 50000 + 2))
	for ((i = 0; i < max; i++)); do
		if "$@" >"$out" 2>&1; then
			rm -f "$out"
			return 0
		fi
		_nsq_now
		((_NSQ_NOW < deadline)) || break
		sleep 0.05
	done
	{
		echo "wait_until: timed out after ${timeout}s: $*"
		if [[ -s $out ]]; then
			echo "last output:"
			tail -n 20 "$out"
		fi
	} >&2
	rm -f "$out"
	return 1
}

tcp_port_open() {
	# Under timeout: a connect to a full backlog could block for minutes.
	timeout 2 bash -c 'exec 9<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

free_port() {
	local given
	given="$(_nsq_tmp)/.ports_given"
	python3 - "$given" <<'EOF'
import os, random, socket, sys

given_path = sys.argv[1]
try:
    with open(given_path) as f:
        given = {int(x) for x in f.read().split()}
except OSError:
    given = set()
try:
    with open('/proc/sys/net/ipv4/ip_local_port_range') as f:
        elo, ehi = (int(x) for x in f.read().split())
except (OSError, ValueError):
    elo, ehi = 32768, 60999
# Stay out of the ephemeral range, where outgoing connections take their
# local ports, and away from the well-known and NSQ default ports.
if elo > 12000:
    lo, hi = 10000, elo - 1
elif ehi < 63000:
    lo, hi = ehi + 1, 65535
else:
    lo, hi = 10000, 65535
rng = random.SystemRandom()
for _ in range(500):
    port = rng.randint(lo, hi)
    if port in given:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # No SO_REUSEADDR: a port in TIME_WAIT counts as busy.
        s.bind(('127.0.0.1', port))
    except OSError:
        continue
    finally:
        s.close()
    with open(given_path, 'a') as f:
        f.write('%d\n' % port)
    print(port)
    sys.exit(0)
sys.exit('free_port: no free port found')
EOF
}

# _nsq_tail FILE [FROM_BYTE]: shows the last lines of a log on stderr, and
# remembers how far the log was shown (for teardown_daemons).
_nsq_tail() {
	local f=$1 from=${2:-0}
	if [[ ! -e $f ]]; then
		echo "  (no log file $f)" >&2
		return 0
	fi
	_NSQ_SHOWN[$f]=$(stat -c %s "$f" 2>/dev/null)
	echo "--- last $NSQ_LOG_TAIL lines of $f ---" >&2
	tail -c +$((from + 1)) "$f" | tail -n "$NSQ_LOG_TAIL" | sed 's/^/  | /' >&2
	echo "--- end of $f ---" >&2
}

# _pid_running PID: true if PID exists and is not a zombie.
_pid_running() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	if [[ -r /proc/$1/stat ]]; then
		read -r stat <"/proc/$1/stat" 2>/dev/null || return 0
		stat=${stat##*) }
		[[ ${stat:0:1} != Z ]]
	fi
}

proc_alive() {
	local name=$1 pid st wrapper
	pid=$(_nsq_var "$name" PID)
	st=$(_nsq_var _NSQ_STATUSF "$name")
	wrapper=$(_nsq_var _NSQ_WRAPPER "$name")
	[[ -n $pid && -n $st ]] || return 1
	[[ ! -e $st ]] || return 1
	# Until the wrapper has written the status file the process counts
	# as running, so that a status is there once it does not.  Should
	# the wrapper have been killed (bats' own timeout kills the test's
	# children), fall back to the pid.
	_pid_running "$wrapper" || _pid_running "$pid"
}

proc_status() {
	local name=$1 st
	st=$(_nsq_var _NSQ_STATUSF "$name")
	if [[ -n $st && -s $st ]]; then
		cat "$st"
	elif ! proc_alive "$name"; then
		echo 255
	fi
}

# _proc_wait_exit NAME SECONDS: true once NAME has exited, false if it is
# still running at the deadline.
_proc_wait_exit() {
	local name=$1 us deadline max i
	us=$(_nsq_us "$2") || return 2
	_nsq_now
	deadline=$((_NSQ_NOW + us))
	max=$((us / 20000 + 2))
	for ((i = 0; i < max; i++)); do
		proc_alive "$name" || return 0
		_nsq_now
		((_NSQ_NOW < deadline)) || break
		sleep 0.02
	done
	! proc_alive "$name"
}

# _proc_spawn NAME LOG CMD...: runs CMD in the background under a small
# wrapper shell that records its exit status in a file, so the status is
# known whoever reaps the process.  Exports NAME_PID and NAME_LOG.
_proc_spawn() {
	local name=$1 log=$2 dir pidf statf pid i
	shift 2
	dir=$(_nsq_tmp)
	pidf="$dir/.$name.pid"
	statf="$dir/.$name.status"
	rm -f "$pidf" "$statf" "$pidf.tmp" "$statf.tmp"
	(
		# Bats runs tests with set -eE and traps; the wrapper must
		# not inherit them, nor bats' fd 3 (bats would wait for it),
		# nor say "Killed" on the test's stderr.
		trap - ERR EXIT INT TERM
		set +eE
		exec 3>&- 4>&- </dev/null 2>/dev/null
		"$@" >>"$log" 2>&1 &
		echo "$!" >"$pidf.tmp"
		mv "$pidf.tmp" "$pidf"
		wait "$!"
		echo "$?" >"$statf.tmp"
		mv "$statf.tmp" "$statf"
	) &
	printf -v "_NSQ_WRAPPER_$name" '%s' "$!"
	for ((i = 0; i < 500; i++)); do
		[[ -s $pidf ]] && break
		sleep 0.01
	done
	if [[ ! -s $pidf ]]; then
		echo "_proc_spawn: $name did not start: $*" >&2
		return 1
	fi
	pid=$(<"$pidf")
	export "${name}_PID=$pid" "${name}_LOG=$log"
	printf -v "_NSQ_STATUSF_$name" '%s' "$statf"
	local p found=0
	for p in "${_NSQ_PROCS[@]}"; do
		[[ $p == "$name" ]] && found=1
	done
	((found)) || _NSQ_PROCS+=("$name")
}

# _nsq_listens PID PORT: true if PID holds the listening socket on
# 127.0.0.1:PORT or 0.0.0.0:PORT (so a stranger that owns the port is not
# taken for our daemon).  True when /proc cannot tell.
_nsq_listens() {
	local pid=$1 port fd inode laddr st rest
	port=$(printf '%04X' "$2")
	[[ -r /proc/net/tcp && -d /proc/$pid/fd ]] || return 0
	inode=
	while read -r _ laddr _ st _ _ _ _ _ rest; do
		if [[ $st == 0A && ( $laddr == "0100007F:$port" ||
		    $laddr == "00000000:$port" ) ]]; then
			inode=${rest%% *}
			break
		fi
	done </proc/net/tcp
	[[ -n $inode ]] || return 1
	for fd in /proc/"$pid"/fd/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]] &&
		    return 0
	done
	return 1
}

# _daemon_ready NAME: one readiness probe.
_daemon_ready() {
	local name=$1 pid tcp http
	pid=$(_nsq_var "$name" PID)
	tcp=$(_nsq_var "$name" TCP_PORT)
	http=$(_nsq_var "$name" HTTP_PORT)
	tcp_port_open "$tcp" || return 1
	_nsq_listens "$pid" "$tcp" || return 1
	if [[ $NSQ_WAIT_HTTP == 1 ]]; then
		[[ $(curl -fsS --max-time 1 "http://127.0.0.1:$http/ping" \
		    2>/dev/null) == OK ]] || return 1
	fi
}

# _daemon_launch NAME: starts a registered daemon on its recorded ports and
# waits for it.  Returns 0 ready, 3 bind clash (caller may pick new ports),
# 1 any other failure (log tail shown).
_daemon_launch() {
	local name=$1 kind bin log tcp http data from us deadline max i rc what
	local -n args="_NSQ_ARGS_$name"
	kind=$(_nsq_var _NSQ_KIND "$name")
	bin=$NSQ_BIN_DIR/$kind
	log=$(_nsq_var "$name" LOG)
	tcp=$(_nsq_var "$name" TCP_PORT)
	http=$(_nsq_var "$name" HTTP_PORT)
	local -a cmd=("$bin" "--tcp-address=127.0.0.1:$tcp"
	    "--http-address=127.0.0.1:$http")
	if [[ $kind == nsqd ]]; then
		data=$(_nsq_var "$name" DATA)
		cmd+=("--data-path=$data")
	fi
	cmd+=("${args[@]}")
	from=$(stat -c %s "$log" 2>/dev/null || echo 0)
	printf -- '--- helpers: %s started as: %s\n' "$name" "${cmd[*]}" \
	    >>"$log"
	_proc_spawn "$name" "$log" "${cmd[@]}" || return 1
	us=$(_nsq_us "$NSQ_START_TIMEOUT") || return 1
	_nsq_now
	deadline=$((_NSQ_NOW + us))
	max=$((us / 50000 + 2))
	for ((i = 0; i < max; i++)); do
		if ! proc_alive "$name"; then
			rc=$(proc_status "$name")
			if tail -c +$((from + 1)) "$log" |
			    grep -qi 'address already in use'; then
				return 3
			fi
			echo "$kind ($name) exited with status $rc before" \
			    "it was ready: ${cmd[*]}" >&2
			_nsq_tail "$log" "$from"
			return 1
		fi
		if _daemon_ready "$name"; then
			return 0
		fi
		_nsq_now
		((_NSQ_NOW < deadline)) || break
		sleep 0.05
	done
	what="TCP port $tcp"
	[[ $NSQ_WAIT_HTTP != 1 ]] || what+=" and GET :$http/ping"
	echo "$kind ($name) not ready after ${NSQ_START_TIMEOUT}s" \
	    "(waiting for $what): ${cmd[*]}" >&2
	_nsq_tail "$log" "$from"
	kill -KILL "$(_nsq_var "$name" PID)" 2>/dev/null
	_proc_wait_exit "$name" 5
	return 1
}

# _daemon_start KIND NAME ARGS...: registers and launches a daemon on new
# ports, retrying on a bind clash.
_daemon_start() {
	local kind=$1 name=$2 dir attempt rc tcp http
	shift 2
	_nsq_name "$name" || return 1
	if [[ ! -x $NSQ_BIN_DIR/$kind ]]; then
		echo "start_$kind: no executable $NSQ_BIN_DIR/$kind" \
		    "(run make, or set NSQ_BIN_DIR)" >&2
		return 1
	fi
	if proc_alive "$name"; then
		echo "start_$kind: $name is already running" \
		    "(pid $(_nsq_var "$name" PID))" >&2
		return 1
	fi
	dir=$(_nsq_tmp)
	printf -v "_NSQ_KIND_$name" '%s' "$kind"
	declare -ga "_NSQ_ARGS_$name"
	local -n args="_NSQ_ARGS_$name"
	args=("$@")
	export "${name}_LOG=$dir/$name.log"
	if [[ $kind == nsqd ]]; then
		mkdir -p "$dir/$name.data"
		export "${name}_DATA=$dir/$name.data"
	fi
	for attempt in 1 2 3; do
		tcp=$(free_port) || return 1
		http=$(free_port) || return 1
		export "${name}_TCP_PORT=$tcp" "${name}_HTTP_PORT=$http"
		rc=0
		_daemon_launch "$name" || rc=$?
		[[ $rc -eq 3 ]] || return "$rc"
		echo "start_$kind: $name: port clash on $tcp/$http," \
		    "retrying with new ports" >&2
	done
	echo "start_$kind: $name: ports kept clashing" >&2
	_nsq_tail "$(_nsq_var "$name" LOG)"
	return 1
}

# _proc_stop NAME: SIGTERM, bounded wait, SIGKILL; returns the exit status.
# _proc_target PID: the process a signal meant for PID goes to.  For a
# `timeout` wrapper it is the command it runs, so that timeout itself is
# never signalled: it would pass the signal to its whole process group
# and follow it with SIGCONT, and a SIGCONT that lands while
# LeakSanitizer stops the world at exit leaves a sanitized process
# spinning, its tracer waiting for a stop that never comes (nsq-bench
# echo's test under ASan: about 1 run in 25).  timeout sees its command
# exit and exits with its status.
_proc_target() {
	local pid=$1 kid
	if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == timeout ]]; then
		kid=$(pgrep -P "$pid" 2>/dev/null | head -n 1)
		if [[ -n $kid ]]; then
			echo "$kid"
			return
		fi
	fi
	echo "$pid"
}

_proc_stop() {
	local name=$1 pid rc target
	pid=$(_nsq_var "$name" PID)
	if [[ -z $pid ]]; then
		echo "stop: no process named $name" >&2
		return 1
	fi
	if proc_alive "$name"; then
		target=$(_proc_target "$pid")
		kill -TERM "$target" 2>/dev/null
		if ! _proc_wait_exit "$name" "$NSQ_STOP_TIMEOUT"; then
			echo "stop: $name (pid $pid) still running" \
			    "${NSQ_STOP_TIMEOUT}s after SIGTERM; SIGKILL" >&2
			kill -KILL "$target" "$pid" 2>/dev/null
			_proc_wait_exit "$name" 5
		fi
	fi
	rc=$(proc_status "$name")
	rc=${rc:-255}
	if [[ $rc -ne 0 ]]; then
		echo "stop: $name exited with status $rc" >&2
		_nsq_tail "$(_nsq_var "$name" LOG)"
	fi
	return "$rc"
}

kill9_proc() {
	local name=$1 pid
	pid=$(_nsq_var "$name" PID)
	if [[ -z $pid ]]; then
		echo "kill9: no process named $name" >&2
		return 1
	fi
	if proc_alive "$name"; then
		# The command under a timeout wrapper too, or it would live on.
		kill -KILL "$(_proc_target "$pid")" "$pid" 2>/dev/null
	fi
	if ! _proc_wait_exit "$name" 5; then
		echo "kill9: $name (pid $pid) survived SIGKILL" >&2
		return 1
	fi
}

stop_proc() {
	_proc_stop "$1"
}

# _daemon_restart NAME ARGS...
_daemon_restart() {
	local name=$1 rc
	shift
	if [[ -z $(_nsq_var _NSQ_KIND "$name") ]]; then
		echo "restart: no daemon named $name" >&2
		return 1
	fi
	if proc_alive "$name"; then
		_proc_stop "$name" || return
	fi
	if [[ $# -gt 0 ]]; then
		local -n args="_NSQ_ARGS_$name"
		args=("$@")
	fi
	printf -- '--- helpers: restarting %s\n' "$name" \
	    >>"$(_nsq_var "$name" LOG)"
	rc=0
	_daemon_launch "$name" || rc=$?
	if [[ $rc -eq 3 ]]; then
		echo "restart: $name: its ports are taken" >&2
		_nsq_tail "$(_nsq_var "$name" LOG)"
		rc=1
	fi
	return "$rc"
}

# _nsq_opt_name DEFAULT ARGS...: helper for the [-n NAME] option; sets
# _NSQ_N to the name and _NSQ_SHIFT to the words it used.
_nsq_opt_name() {
	_NSQ_N=$1
	_NSQ_SHIFT=0
	if [[ ${2:-} == -n ]]; then
		_NSQ_N=${3:?-n needs a name}
		_NSQ_SHIFT=2
	fi
}

start_nsqd() {
	_nsq_opt_name NSQD "$@"
	shift "$_NSQ_SHIFT"
	_daemon_start nsqd "$_NSQ_N" "$@"
}

stop_nsqd() {
	_nsq_opt_name NSQD "$@"
	_proc_stop "$_NSQ_N"
}

kill9_nsqd() {
	_nsq_opt_name NSQD "$@"
	kill9_proc "$_NSQ_N"
}

restart_nsqd() {
	_nsq_opt_name NSQD "$@"
	shift "$_NSQ_SHIFT"
	_daemon_restart "$_NSQ_N" "$@"
}

start_nsqlookupd() {
	_nsq_opt_name NSQLOOKUPD "$@"
	shift "$_NSQ_SHIFT"
	_daemon_start nsqlookupd "$_NSQ_N" "$@"
}

stop_nsqlookupd() {
	_nsq_opt_name NSQLOOKUPD "$@"
	_proc_stop "$_NSQ_N"
}

kill9_nsqlookupd() {
	_nsq_opt_name NSQLOOKUPD "$@"
	kill9_proc "$_NSQ_N"
}

restart_nsqlookupd() {
	_nsq_opt_name NSQLOOKUPD "$@"
	shift "$_NSQ_SHIFT"
	_daemon_restart "$_NSQ_N" "$@"
}

start_bg() {
	local name=${1:?usage: start_bg NAME CMD...} dir
	shift
	_nsq_name "$name" || return 1
	if [[ $# -eq 0 ]]; then
		echo "usage: start_bg NAME CMD..." >&2
		return 2
	fi
	if proc_alive "$name"; then
		echo "start_bg: $name is already running" >&2
		return 1
	fi
	dir=$(_nsq_tmp)
	printf -v "_NSQ_KIND_$name" '%s' bg
	_proc_spawn "$name" "$dir/$name.log" "$@"
}

wait_bg() {
	local name=${1:?usage: wait_bg NAME TIMEOUT} timeout=${2:-60} rc
	if [[ -z $(_nsq_var "$name" PID) ]]; then
		echo "wait_bg: no process named $name" >&2
		return 1
	fi
	if ! _proc_wait_exit "$name" "$timeout"; then
		echo "wait_bg: $name still running after ${timeout}s;" \
		    "killing it" >&2
		_nsq_tail "$(_nsq_var "$name" LOG)"
		_proc_stop "$name" >/dev/null 2>&1
		return 124
	fi
	rc=$(proc_status "$name")
	rc=${rc:-255}
	if [[ $rc -ne 0 ]]; then
		echo "wait_bg: $name exited with status $rc" >&2
		_nsq_tail "$(_nsq_var "$name" LOG)"
	fi
	return "$rc"
}

stop_bg() {
	_proc_stop "${1:?usage: stop_bg NAME}"
}

teardown_daemons() {
	local i name pid log bad=0 failed=0
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || failed=1
	for ((i = ${#_NSQ_PROCS[@]} - 1; i >= 0; i--)); do
		name=${_NSQ_PROCS[i]}
		pid=$(_nsq_var "$name" PID)
		if proc_alive "$name"; then
			kill -TERM "$pid" 2>/dev/null
			if ! _proc_wait_exit "$name" "$NSQ_STOP_TIMEOUT"; then
				echo "teardown: $name (pid $pid) ignored" \
				    "SIGTERM; SIGKILL" >&2
				kill -KILL "$pid" 2>/dev/null
				_proc_wait_exit "$name" 5 ||
				    echo "teardown: $name (pid $pid)" \
				    "survived SIGKILL" >&2
			fi
		fi
	done
	for name in "${_NSQ_PROCS[@]}"; do
		log=$(_nsq_var "$name" LOG)
		if [[ -f $log ]] && grep -qE \
		    'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' \
		    "$log"; then
			echo "teardown: sanitizer report in $name's log" >&2
			grep -E -A40 \
			    'ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:' \
			    "$log" | head -n 80 | sed 's/^/  | /' >&2
			bad=1
		elif ((failed)); then
			echo "teardown: $name exit status" \
			    "$(proc_status "$name")" >&2
			if [[ -n ${_NSQ_SHOWN[$log]:-} &&
			    ${_NSQ_SHOWN[$log]} == "$(stat -c %s "$log")" ]]
			then
				echo "  (its log is shown above)" >&2
			else
				_nsq_tail "$log"
			fi
		fi
	done
	_NSQ_PROCS=()
	_NSQ_SHOWN=()
	rm -f "$(_nsq_tmp)/.ports_given"
	return "$bad"
}

# The test auth server (auth_server.py) for nsqd --auth-http-address;
# AUTH_CONF and AUTH_LOG name its files.
# auth_conf JSON: the auth server's configuration (read on every query).
auth_conf() {
	printf '%s\n' "$1" >"$AUTH_CONF.tmp"
	mv "$AUTH_CONF.tmp" "$AUTH_CONF"
}

# start_authd [NAME [ARGS...]]: the test auth server; its port in
# ${NAME}_PORT.
start_authd() {
	local name=${1:-AUTHD} pf=$BATS_TEST_TMPDIR/${1:-AUTHD}.port
	shift || true
	rm -f "$pf"
	start_bg "$name" timeout 280 python3 "$BATS_TEST_DIRNAME/auth_server.py" \
	    --config "$AUTH_CONF" --port-file "$pf" --log "$AUTH_LOG" "$@"
	wait_until 20 test -s "$pf"
	printf -v "${name}_PORT" '%s' "$(cat "$pf")"
	export "${name}_PORT"
}
