#!/usr/bin/env bats
# make install, as a user of the library meets it: the plain build is
# installed into a temporary prefix (make install PREFIX=$tmp, from the
# repository root, whichever build NSQ_BIN_DIR names), the examples are
# compiled against that prefix with pkg-config alone and run against the
# nsqd under test ($NSQ_BIN_DIR: plain or sanitized, so the installed
# library meets both); the examples the Makefile built beside
# NSQ_BIN_DIR (build/plain/examples, build/asan/examples) run the same
# way.  Then libnsq.so's exports (nm -D: only what nsq.h declares), its
# soname (readelf -d), nsq.pc, a DESTDIR staging, and the systemd units
# (systemd-analyze verify, offline; their man: pages found in the prefix).

load helpers

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	export P=$BATS_FILE_TMPDIR/prefix EX=$BATS_FILE_TMPDIR/ex
	export PKG_CONFIG_PATH=$P/lib/pkgconfig
	local log=$BATS_FILE_TMPDIR/install.log e
	# The plain build, whatever the environment asks of the caller's.
	if ! timeout 900 env -u SANITIZE -u MAKEFLAGS -u MAKELEVEL -u STATIC \
	    make --no-print-directory -C "$ROOT" install PREFIX="$P" \
	    >"$log" 2>&1; then
		tail -40 "$log" >&3
		return 1
	fi
	mkdir -p "$EX"
	for e in producer consumer lookup; do
		# Flags before the source, the order nsq.pc makes work with
		# a gcc that passes --as-needed, and the usual one.
		cc $(pkg-config --cflags --libs nsq) -o "$EX/$e" \
		    "$ROOT/examples/$e.c" >>"$log" 2>&1 &&
		cc -o "$EX/$e.2" "$ROOT/examples/$e.c" \
		    $(pkg-config --cflags --libs nsq) >>"$log" 2>&1 ||
		    { tail -40 "$log" >&3; return 1; }
	done
}

setup() {
	export LD_LIBRARY_PATH=$P/lib
}

teardown() {
	teardown_daemons
}

# The examples make built beside NSQ_BIN_DIR (as lib.bats finds
# libnsq.a): build/asan/examples for build/asan/bin, build/plain/examples
# for bin/.
tree_examples() {
	local d
	for d in "$NSQ_BIN_DIR/../examples" "$NSQ_BIN_DIR/../build/plain/examples"; do
		if [[ -x $d/producer && -x $d/consumer && -x $d/lookup ]]; then
			(cd "$d" && pwd)
			return
		fi
	done
	echo "no examples beside $NSQ_BIN_DIR (run make)" >&2
	return 1
}

# The functions nsq.h ($1) declares: each name followed by "(" outside a
# typedef, the way the header writes one declaration.
declared_functions() {
	grep -v '^typedef' "$1" | grep -oE '\bnsq_[a-z0-9_]+\(' | tr -d '(' |
	    sort -u
}

@test "install: header, both libraries, soname links, nsq.pc, nsq(3), units" {
	local f
	for f in include/nsq.h lib/libnsq.a lib/libnsq.so.0.1.0 \
	    lib/pkgconfig/nsq.pc share/man/man3/nsq.3 \
	    lib/systemd/system/nsqd.service \
	    lib/systemd/system/nsqlookupd.service \
	    lib/systemd/system/nsqadmin.service bin/nsqd bin/nsqlookupd; do
		[[ -f $P/$f ]] || fail "not installed: $f"
	done
	assert_equal "$(readlink "$P/lib/libnsq.so.0")" libnsq.so.0.1.0
	assert_equal "$(readlink "$P/lib/libnsq.so")" libnsq.so.0
	run readelf -d "$P/lib/libnsq.so.0.1.0"
	assert_success
	assert_output --partial 'Library soname: [libnsq.so.0]'
	run pkg-config --modversion nsq
	assert_success
	assert_output 0.1.0
	run pkg-config --cflags nsq
	assert_output --partial "-I$P/include"
	# A static link needs what the library calls: libcurl (a module),
	# -lm; libev is public (nsq.h's loop), so in Libs.
	run pkg-config --print-requires-private nsq
	assert_output --partial libcurl
	run pkg-config --libs nsq
	assert_output --regexp "-L$P/lib .*-lnsq -lev"
	run pkg-config --static --libs nsq
	assert_output --partial -lm
	assert_output --partial -lcurl
}

@test "install: nsq.h compiles alone from the installed include dir (C99, C11, C++)" {
	local std
	for std in c99 c11; do
		run cc -std=$std -pedantic -Wall -Wextra -Werror -fsyntax-only \
		    $(pkg-config --cflags nsq) -x c - <<<'#include <nsq.h>'
		assert_success
	done
	run c++ -Wall -Wextra -Werror -fsyntax-only $(pkg-config --cflags nsq) \
	    -x c++ - <<<'#include <nsq.h>'
	assert_success
	# Only nsq.h is installed: it needs none of lib/'s other headers.
	run ls "$P/include"
	assert_output nsq.h
}

@test "install: libnsq.so exports exactly the functions nsq.h declares" {
	local want got
	want=$(declared_functions "$P/include/nsq.h")
	[[ $(wc -l <<<"$want") -ge 35 ]] || fail "too few declared: $want"
	run nm -D --defined-only "$P/lib/libnsq.so.0.1.0"
	assert_success
	got=$(awk '{ print $NF }' <<<"$output" | sort -u)
	assert_equal "$got" "$want"
	# Each is a function (T), none data.
	run awk '$2 != "T"' <<<"$output"
	refute_output
}

@test "install: the examples link libnsq.so.0 from the prefix" {
	local e
	for e in producer consumer lookup; do
		run readelf -d "$EX/$e"
		assert_output --partial 'Shared library: [libnsq.so.0]'
		run ldd "$EX/$e"
		assert_output --partial "$P/lib/libnsq.so.0"
		run "$EX/$e"
		assert_failure 2
		assert_output --partial "usage: $e"
	done
}

@test "install: a program links libnsq.a statically and runs" {
	start_nsqd
	cc -o "$BATS_TEST_TMPDIR/producer" "$ROOT/examples/producer.c" \
	    $(pkg-config --cflags nsq) "$P/lib/libnsq.a" -lev \
	    $(pkg-config --libs libcurl) -lssl -lcrypto -lsnappy -lz -lm
	run readelf -d "$BATS_TEST_TMPDIR/producer"
	refute_output --partial libnsq
	run timeout 20 "$BATS_TEST_TMPDIR/producer" \
	    "127.0.0.1:$NSQD_TCP_PORT" st <<<$'one\ntwo'
	assert_success
	run curl -sS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=st"
	assert_output --partial '"message_count":2'
}

# roundtrip DIR: DIR's producer publishes lines, its consumer prints them.
roundtrip() {
	local d=$1 want got
	want=$(seq -f 'line %g' 1 50)
	run timeout 30 "$d/producer" "127.0.0.1:$NSQD_TCP_PORT" rt <<<"$want"
	assert_success
	refute_output
	run timeout 30 "$d/consumer" "127.0.0.1:$NSQD_TCP_PORT" rt ch 50
	assert_success
	assert_equal "$output" "$want"
}

@test "install: installed producer publishes lines, consumer prints them" {
	start_nsqd
	roundtrip "$EX"
	# The second compile (flags after the source) works the same.
	run timeout 30 "$EX/producer.2" "127.0.0.1:$NSQD_TCP_PORT" rt2 <<<x
	assert_success
	run timeout 30 "$EX/consumer.2" "127.0.0.1:$NSQD_TCP_PORT" rt2 ch 1
	assert_success
	assert_output x
}

@test "install: the in-tree examples do the same" {
	local d
	d=$(tree_examples)
	start_nsqd
	roundtrip "$d"
}

@test "install: the producer reports what nsqd refuses, and exits 1" {
	start_nsqd --max-msg-size=10
	run timeout 30 "$EX/producer" "127.0.0.1:$NSQD_TCP_PORT" t \
	    <<<$'short\nmuch too long a line'
	assert_failure 1
	assert_output 'producer: E_BAD_MESSAGE PUB message too big 20 > 10'
	run curl -sS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json&topic=t"
	assert_output --partial '"message_count":1'
	# A name nsqd would misread ("PUB bad topic!" is a PUB to "bad")
	# never reaches it.
	run timeout 30 "$EX/producer" "127.0.0.1:$NSQD_TCP_PORT" 'bad topic!' \
	    <<<hello
	assert_failure 1
	assert_output 'producer: invalid topic name'
	run curl -sS "http://127.0.0.1:$NSQD_HTTP_PORT/stats?format=json"
	refute_output --partial '"topic_name":"bad"'
	# Nobody listening: the connection failure, not a hang.
	run timeout 30 "$EX/producer" "127.0.0.1:$(free_port)" t <<<hello
	assert_failure 1
	assert_output --regexp '^producer: .+'
}

@test "install: lookup lists a topic's producers; consumer finds them there" {
	local d
	for d in "$EX" "$(tree_examples)"; do
		start_nsqlookupd -n L
		start_nsqd --broadcast-address=127.0.0.1 \
		    --lookupd-tcp-address="127.0.0.1:$L_TCP_PORT"
		run timeout 20 "$d/producer" "127.0.0.1:$NSQD_TCP_PORT" lk \
		    <<<$'a\nb\nc'
		assert_success
		wait_until 15 curl -sf \
		    "http://127.0.0.1:$L_HTTP_PORT/lookup?topic=lk"
		run timeout 20 "$d/lookup" "127.0.0.1:$L_HTTP_PORT" lk
		assert_success
		assert_output "127.0.0.1:$NSQD_TCP_PORT"
		run timeout 30 "$d/consumer" "http://127.0.0.1:$L_HTTP_PORT" \
		    lk ch 3
		assert_success
		assert_output $'a\nb\nc'
		# A topic nobody has: nsqlookupd's word for it, exit 1.
		run timeout 20 "$d/lookup" "127.0.0.1:$L_HTTP_PORT" nosuch
		assert_failure 1
		assert_output 'lookup: TOPIC_NOT_FOUND'
		run timeout 20 "$d/lookup" "127.0.0.1:$L_HTTP_PORT" 'bad topic!'
		assert_failure 1
		assert_output 'lookup: invalid topic name'
		stop_nsqd
		stop_nsqlookupd -n L
		# nsqlookupd gone: the connection failure, exit 1.
		run timeout 20 "$d/lookup" "127.0.0.1:$L_HTTP_PORT" lk
		assert_failure 1
		assert_output --regexp '^lookup: .+'
	done
}

@test "install: DESTDIR stages a PREFIX=/usr install" {
	local s=$BATS_TEST_TMPDIR/stage
	run timeout 600 env -u SANITIZE -u MAKEFLAGS -u MAKELEVEL -u STATIC \
	    make --no-print-directory -C "$ROOT" install DESTDIR="$s" PREFIX=/usr
	assert_success
	[[ -f $s/usr/lib/libnsq.so.0.1.0 && -f $s/usr/include/nsq.h ]] ||
	    fail "not staged under $s/usr"
	run grep -x 'prefix=/usr' "$s/usr/lib/pkgconfig/nsq.pc"
	assert_success
	run grep -h '^ExecStart=' "$s"/usr/lib/systemd/system/*.service
	assert_line --partial 'ExecStart=/usr/bin/nsqd '
	assert_line --partial 'ExecStart=/usr/bin/nsqlookupd '
	assert_line --partial 'ExecStart=/usr/bin/nsqadmin '
	run grep -rl "$s" "$s/usr/lib/pkgconfig" "$s/usr/lib/systemd"
	refute_output
}

@test "install: systemd-analyze verify passes the installed units" {
	local u units=$P/lib/systemd/system
	command -v systemd-analyze >/dev/null ||
	    fail "no systemd-analyze (scripts/deps.sh test installs systemd)"
	run grep -h '^ExecStart=' "$units"/*.service
	assert_line "ExecStart=$P/bin/nsqd --data-path=/var/lib/nsqd \$NSQD_OPTS"
	assert_line "ExecStart=$P/bin/nsqlookupd \$NSQLOOKUPD_OPTS"
	assert_line --partial "ExecStart=$P/bin/nsqadmin --lookupd-http-address=127.0.0.1:4161"
	# verify wants each ExecStart executable.  nsqadmin may not be built
	# in this tree yet: a stand-in binary in a copy of the prefix then
	# lets its unit be checked too.  (--man=no: the man: pages are
	# checked below against the prefix, without man-db.)
	local root=$P page
	if [[ ! -x $P/bin/nsqadmin ]]; then
		root=$BATS_TEST_TMPDIR/prefix
		cp -a "$P" "$root"
		printf '#!/bin/sh\nexit 0\n' >"$root/bin/nsqadmin"
		chmod +x "$root/bin/nsqadmin"
		for u in "$root"/lib/systemd/system/*.service; do
			sed -i "s|$P/bin|$root/bin|" "$u"
		done
	fi
	for u in nsqd nsqlookupd nsqadmin; do
		run systemd-analyze verify --man=no \
		    "$root/lib/systemd/system/$u.service"
		assert_success
		refute_output
	done
	# Their Documentation= pages are the ones installed (nsqadmin's
	# once nsqadmin is built here).
	for u in nsqd nsqlookupd nsqadmin; do
		page=$(sed -n 's/^Documentation=man:\(.*\)(\(.\))$/man\2\/\1.\2/p' \
		    "$units/$u.service")
		[[ -n $page ]] || fail "$u: no Documentation=man:"
		[[ $u == nsqadmin && ! -x $P/bin/nsqadmin ]] && continue
		[[ -f $P/share/man/$page ]] || fail "$u: no $P/share/man/$page"
	done
	# Each daemon runs as a dynamic user, sandboxed, restarted on failure.
	for u in nsqd nsqlookupd nsqadmin; do
		for k in DynamicUser=yes Restart=on-failure ProtectSystem=strict \
		    ProtectHome=yes NoNewPrivileges=yes PrivateTmp=yes \
		    PrivateDevices=yes ProtectKernelTunables=yes \
		    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
		    LimitNOFILE=65536; do
			grep -qx "$k" "$units/$u.service" || fail "$u: no $k"
		done
	done
	run grep -x StateDirectory=nsqd "$units/nsqd.service"
	assert_success
	run grep -x TimeoutStopSec=300s "$units/nsqd.service"
	assert_success
}

@test "install: the verify check fails a broken unit" {
	local u=$BATS_TEST_TMPDIR/nsqd.service
	sed -e 's/^ProtectSystem=strict/ProtectSystem=very/' \
	    "$P/lib/systemd/system/nsqd.service" >"$u"
	run systemd-analyze verify --man=no "$u"
	assert_output --partial 'protect system value'
	sed -e "s|^ExecStart=$P/bin/nsqd|ExecStart=$P/bin/nosuch|" \
	    "$P/lib/systemd/system/nsqd.service" >"$u"
	run systemd-analyze verify --man=no "$u"
	assert_failure
	assert_output --partial 'is not executable'
}
