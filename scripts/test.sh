#!/usr/bin/env bash
# Runs the test suites and prints one closing line "N passed, N failed",
# summed over every suite.  Every suite speaks TAP (cmocka with
# CMOCKA_MESSAGE_OUTPUT=TAP, bats --tap); a suite program that dies without
# reporting a failure (a sanitizer abort, a crash) counts as one failure.
# The lint (make lint: cppcheck) counts as one test, and each fuzz
# target's 10-second pass as one.
#
#   scripts/test.sh unit|bats|interop|browser|asan|lint|fuzz|all
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# tally NAME CMD...: run CMD, echo its output, count its TAP lines.
tally() {
	local name=$1 rc p f
	shift
	echo "== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

unit() {	# $1: build dir
	local t
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP tally "unit $(basename "$t") ($1)" "$t"
	done
}

bats_suite() {	# $1: bin dir, $2: test folder
	local files
	files=$(ls "$2"/*.bats 2>/dev/null)
	[ -n "$files" ] || return 0
	NSQ_BIN_DIR=$PWD/$1 tally "bats $2 ($1)" bats --tap $files
}

# make lint as one TAP test: cppcheck's findings above it, then ok/not ok.
lint() {
	tally "lint (cppcheck)" sh -c 'echo 1..1
	    if make --no-print-directory lint; then echo "ok 1 - make lint"
	    else echo "not ok 1 - make lint"; fi'
}

# Each libFuzzer target for FUZZ_SECONDS (10 here) as one TAP test: a
# short pass that every parser still runs clean on its seeds and a little
# more (make fuzz runs them for longer).
fuzz() {
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} tally "fuzz (\${FUZZ_SECONDS:-10} s a target)" \
	    sh -c 'set -- tests/fuzz/fuzz_*.c; echo "1..$#"; i=0
	    mkdir -p build/fuzz
	    for f; do
		i=$((i + 1)); t=$(basename "$f" .c)
		if scripts/fuzz.sh "$t" >"build/fuzz/$t.log" 2>&1; then
			echo "ok $i - fuzz $t: $(grep -o "stat::number_of_executed_units: [0-9]*" "build/fuzz/$t.log")"
		else
			tail -20 "build/fuzz/$t.log"
			echo "not ok $i - fuzz $t"
		fi
	    done'
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case ${1:-all} in
unit)		unit build/plain ;;
bats)		bats_suite bin tests/bats ;;
interop)	bats_suite bin tests/interop ;;
browser)	bats_suite bin tests/browser ;;
asan)		unit build/asan; bats_suite build/asan/bin tests/bats ;;
lint)		lint ;;
fuzz)		fuzz ;;
all)
	unit build/plain
	bats_suite bin tests/bats
	bats_suite bin tests/interop
	bats_suite bin tests/browser
	unit build/asan
	bats_suite build/asan/bin tests/bats
	lint
	fuzz
	;;
*)	echo "usage: $0 unit|bats|interop|browser|asan|lint|fuzz|all" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
