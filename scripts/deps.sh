#!/bin/sh
# Installs the Debian packages the build (and, with "test", the test suites)
# need, but only those that are missing: a prepared machine is left alone.
# Then, for "test", the npm client used by the interop suite.
set -eu
mode=${1:-build}
pkgs="libev-dev libjsmn-dev libcurl4-openssl-dev libhttp-parser-dev zlib1g-dev
libsnappy-dev libssl-dev make gcc pkg-config"
if [ "$mode" = test ]; then
	pkgs="$pkgs libcmocka-dev bats bats-assert bats-support curl python3
	    mandoc zsh fish openssl"
	command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq $missing >/dev/null
fi
if [ "$mode" = test ] && [ ! -d tests/interop/node_modules/nsqjs ]; then
	echo "deps: npm ci in tests/interop" >&2
	(cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
