#!/bin/sh
# Installs the Debian packages the build (and, with "test", the test suites)
# need, but only those that are missing: a prepared machine is left alone.
# Then, for "test", the npm client used by the interop suite.  "make"
# installs make alone, for ./make.sh on a machine that has none yet.
#
# The test list names every program the suites call that a minimal Debian
# (debootstrap --variant=minbase) lacks; scripts/fresh-root.sh checks it
# by running the suite on such a root.
set -eu
mode=${1:-build}
# The -dev packages ship the .a archives the static daemons link; g++
# brings libstdc++.a (libsnappy.a is C++) for the default gcc, and
# libc6-dev libc.a.
pkgs="libev-dev libjsmn-dev libcurl4-openssl-dev libhttp-parser-dev zlib1g-dev
libsnappy-dev libssl-dev libpcre2-dev make gcc g++ libc6-dev pkg-config"
case $mode in
build|test)	;;
make)		pkgs=make ;;
*)		echo "usage: $0 build|test|make" >&2; exit 2 ;;
esac
if [ "$mode" = test ]; then
	# time: /usr/bin/time (peak RSS); procps: pgrep; bsdextrautils:
	# col, for the man page checks; cppcheck: make lint; tmux: the
	# terminal tests; strace: the durable mode's fsync-order test.
	# (clang for the fuzz pass is scripts/fuzz.sh's to install.)
	pkgs="$pkgs libcmocka-dev bats bats-assert bats-support curl python3
	    mandoc zsh fish openssl time procps bsdextrautils cppcheck tmux
	    strace"
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
	# promtool checks nsqd's /metrics; the server's recommends (exporter
	# daemons) are not wanted.  systemd brings systemd-analyze, which
	# verifies the installed units offline (install.bats), and readelf
	# (binutils, with gcc) their libraries.  chromium: tests/browser
	# drives nsqadmin's page in it, headless (its recommends are desktop
	# services).
	norec="prometheus systemd chromium"
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
missing_norec=
for p in ${norec:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing_norec="$missing_norec $p"
done
if [ -n "$missing$missing_norec" ]; then
	echo "deps: installing$missing$missing_norec" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	[ -z "$missing" ] || $sudo apt-get install -y -qq $missing >/dev/null
	[ -z "$missing_norec" ] || $sudo apt-get install -y -qq \
	    --no-install-recommends $missing_norec >/dev/null
fi
if [ "$mode" = test ] && [ ! -d tests/interop/node_modules/nsqjs ]; then
	echo "deps: npm ci in tests/interop" >&2
	(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
# puppeteer-core for tests/browser: it drives Debian's chromium and
# fetches no browser of its own.
if [ "$mode" = test ] && [ ! -d tests/browser/node_modules/puppeteer-core ]; then
	echo "deps: npm ci in tests/browser" >&2
	(cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 \
	    npm ci --no-audit --no-fund --loglevel=error)
fi
