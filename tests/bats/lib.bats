#!/usr/bin/env bats
# lib/nsq.h promises that the client library starts no thread, never
# prints and never exits.  The promise is checked on the archive C
# programs link, libnsq.a: none of its objects may refer to a function
# that would break it.  (A write(2) to fd 2 is not visible to nm; stderr
# and stdout are, and no client object has a reason to name them.
# __assert_fail is allowed: nsq.h says a broken invariant is asserted.)
#
# The same holds for the shared library, libnsq.so (its undefined
# dynamic symbols).  The archive sits beside the bin folder under test:
# build/asan/libnsq.a for build/asan/bin, build/plain/libnsq.a for bin/,
# and the shared library beside it.  NSQ_LIB overrides.

load helpers

client_archive() {
	local d
	if [[ -n ${NSQ_LIB:-} ]]; then
		echo "$NSQ_LIB"
		return
	fi
	for d in "$NSQ_BIN_DIR/.." "$NSQ_BIN_DIR/../build/plain"; do
		if [[ -f $d/libnsq.a ]]; then
			echo "$d/libnsq.a"
			return
		fi
	done
	echo "no libnsq.a beside $NSQ_BIN_DIR (run make)" >&2
	return 1
}

# Functions that start a thread, print, log or end the process.
FORBIDDEN='pthread_create|thrd_create|fork|exit|_exit|_Exit|quick_exit'
FORBIDDEN+='|printf|vprintf|fprintf|vfprintf|dprintf|vdprintf'
FORBIDDEN+='|__printf_chk|__vprintf_chk|__fprintf_chk|__vfprintf_chk'
FORBIDDEN+='|__dprintf_chk|__vdprintf_chk|puts|fputs|putchar|fputc|putc'
FORBIDDEN+='|fwrite|fflush|perror|psignal|psiginfo'
FORBIDDEN+='|err|errx|verr|verrx|warn|warnx|vwarn|vwarnx|error|error_at_line'
FORBIDDEN+='|openlog|syslog|vsyslog|__syslog_chk|__vsyslog_chk'
FORBIDDEN+='|stderr|stdout'

@test "lib: libnsq.a holds the client API" {
	local a
	a=$(client_archive)
	run nm --defined-only "$a"
	assert_success
	# An empty or misbuilt archive must not pass the checks below.
	for sym in nsq_config_new nsq_producer_new nsq_consumer_new \
	    nsq_consumer_connect_lookupd; do
		grep -qE " T $sym\$" <<<"$output" ||
		    { echo "$a defines no $sym"; return 1; }
	done
}

@test "lib: libnsq.a starts no thread, prints nothing, never exits" {
	local a bad
	a=$(client_archive)
	run nm -A -u "$a"
	assert_success
	[[ -n $output ]]
	bad=$(awk -v re="^($FORBIDDEN)(@.*)?\$" \
	    '$NF ~ re { print }' <<<"$output")
	if [[ -n $bad ]]; then
		echo "client objects that refer to forbidden symbols:"
		echo "$bad"
		return 1
	fi
}

# The shared library beside the archive (the same objects built again
# with -fPIC).
shared_lib() {
	local a
	a=$(client_archive) || return 1
	[[ -f ${a%.a}.so.0.1.0 ]] ||
	    { echo "no libnsq.so.0.1.0 beside $a (run make)" >&2; return 1; }
	echo "${a%.a}.so.0.1.0"
}

@test "lib: libnsq.so holds the client API" {
	local so
	so=$(shared_lib)
	run nm -D --defined-only "$so"
	assert_success
	for sym in nsq_config_new nsq_producer_new nsq_consumer_new \
	    nsq_consumer_connect_lookupd nsq_lookup_producers; do
		grep -qE " T $sym\$" <<<"$output" ||
		    { echo "$so exports no $sym"; return 1; }
	done
}

@test "lib: libnsq.so starts no thread, prints nothing, never exits" {
	local so bad
	so=$(shared_lib)
	run nm -D -u "$so"
	assert_success
	[[ -n $output ]]
	bad=$(awk -v re="^($FORBIDDEN)(@.*)?\$" \
	    '$NF ~ re { print }' <<<"$output")
	if [[ -n $bad ]]; then
		echo "libnsq.so refers to forbidden symbols:"
		echo "$bad"
		return 1
	fi
}

@test "lib: the check catches what it looks for (libnsqsrv.a fails it)" {
	local a bad
	a=$(client_archive)
	a=${a%/libnsq.a}/libnsqsrv.a
	run nm -A -u "$a"
	assert_success
	bad=$(awk -v re="^($FORBIDDEN)(@.*)?\$" \
	    '$NF ~ re { print $NF }' <<<"$output" | sort -u)
	# The daemons' archive has the syncer thread and log.c's exit.
	grep -qx pthread_create <<<"$bad"
	grep -qx exit <<<"$bad"
}
