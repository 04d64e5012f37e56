#!/bin/sh
# Builds each tests/fuzz/fuzz_*.c with clang's libFuzzer, ASan and UBSan
# against the lib sources, then runs each for FUZZ_SECONDS (default 60).
# Seeds come from tests/fuzz/corpus/<target>/ (and <target>.dict when
# present); the working corpus and any crash files go to build/fuzz/.
# clang and its libFuzzer runtime are installed when missing, as
# scripts/deps.sh does for the rest.
#
#   scripts/fuzz.sh [target...]      e.g. scripts/fuzz.sh fuzz_http
set -eu
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
CLANG=${CLANG:-clang}
out=build/fuzz
# The Makefile's LDLIBS, for the lib sources that need them.
libs="-lev -lhttp_parser -lcurl -lz -lsnappy -lssl -lcrypto -lpcre2-8 -lm"
mkdir -p "$out"

# can_fuzz: does clang link a libFuzzer target here?
can_fuzz() {
	command -v "$CLANG" >/dev/null 2>&1 || return 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)'\
'{ (void)d; (void)n; return 0; }\n' >"$out/probe.c"
	"$CLANG" -fsanitize=fuzzer,address,undefined -o "$out/probe" \
	    "$out/probe.c" >/dev/null 2>&1
}

if ! can_fuzz; then
	pkgs=clang
	if command -v "$CLANG" >/dev/null 2>&1; then
		v=$("$CLANG" --version |
		    sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
		pkgs="$pkgs libclang-rt-$v-dev"
	else
		pkgs="$pkgs libclang-rt-dev"
	fi
	echo "fuzz: installing $pkgs" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq $pkgs >/dev/null
	can_fuzz || { echo "fuzz: clang cannot build libFuzzer targets" >&2;
	    exit 1; }
fi

cflags="-std=c11 -g -O1 -D_GNU_SOURCE -DNSQ_VERSION=\"fuzz\" -Ilib -Wall \
    -Wextra -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

# lib_archive: lib's sources, instrumented, as $out/libnsq.a (once).
lib_archive() {
	[ -f "$out/libnsq.a" ] && [ -z "$(find lib -newer "$out/libnsq.a" \
	    -name '*.[ch]')" ] && return 0
	mkdir -p "$out/lib"
	for f in lib/*.c; do
		# shellcheck disable=SC2086
		"$CLANG" $cflags -fsanitize=fuzzer-no-link,address,undefined \
		    -c -o "$out/lib/$(basename "$f" .c).o" "$f"
	done
	rm -f "$out/libnsq.a"
	ar rcs "$out/libnsq.a" "$out"/lib/*.o
}

if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(for f in tests/fuzz/fuzz_*.c; do
		[ -f "$f" ] && basename "$f" .c
	done)
fi
[ -n "$targets" ] || { echo "fuzz: no targets" >&2; exit 1; }

status=0
for t in $targets; do
	echo "== fuzz $t (${secs}s)"
	# A target on a program's own code (nsqd's V2 engine, its nsqd.dat)
	# links that program's sources (but its main.c) and lib as an
	# archive, so that only the members they use come in (nsqd has a
	# lookup_free of its own); the others compile theirs in and take
	# every lib source.
	srcs=
	lib=lib/*.c
	case $t in
	fuzz_nsqd_v2|fuzz_nsqd_meta)
		srcs=$(for f in cmd/nsqd/*.c; do
			[ "$f" = cmd/nsqd/main.c ] || echo "$f"
		done)
		lib_archive
		lib=$out/libnsq.a ;;
	fuzz_admin_stats)
		srcs=cmd/nsqadmin/stats.c ;;
	esac
	# shellcheck disable=SC2086
	"$CLANG" $cflags -fsanitize=fuzzer,address,undefined \
	    -o "$out/$t" "tests/fuzz/$t.c" $srcs $lib $libs
	corpus=$out/corpus/$t
	mkdir -p "$corpus" "$out/artifacts"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
	fi
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict=-dict=tests/fuzz/$t.dict
	# shellcheck disable=SC2086
	if ! "$out/$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$out/artifacts/$t-" $dict "$corpus"; then
		echo "fuzz: $t FAILED (see $out/artifacts/)" >&2
		status=1
	fi
done
exit $status
