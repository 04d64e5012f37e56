#!/bin/sh
# `make run`: nsqlookupd (when built) and nsqd on their default ports, with
# ./data as nsqd's data path, and nsqadmin on :4171 over that nsqlookupd,
# in the foreground.  Ctrl-C (or SIGTERM) stops them all cleanly: nsqd
# writes what it holds in memory to ./data first.
set -eu
cd "$(dirname "$0")/.."
mkdir -p data
lookupd_pid=
lookupd_args=
if [ -x bin/nsqlookupd ]; then
	# Announced to nsqd, which asks it for a new topic's channels.
	bin/nsqlookupd --broadcast-address=127.0.0.1 &
	lookupd_pid=$!
	lookupd_args=--lookupd-tcp-address=127.0.0.1:4160
fi
# A local demo: nsqd announces 127.0.0.1 to nsqlookupd, so consumers find it
# whether or not this machine's host name resolves (Go's default, and ours
# otherwise, is the host name).
bin/nsqd --data-path=data --broadcast-address=127.0.0.1 $lookupd_args &
nsqd_pid=$!
admin_pid=
if [ -x bin/nsqadmin ] && [ -n "$lookupd_pid" ]; then
	# The web page and its JSON API: http://127.0.0.1:4171/
	bin/nsqadmin --http-address=127.0.0.1:4171 \
	    --lookupd-http-address=127.0.0.1:4161 &
	admin_pid=$!
fi
stop() {
	if [ -n "$admin_pid" ]; then
		kill -TERM "$admin_pid" 2>/dev/null || true
		wait "$admin_pid" 2>/dev/null || true
	fi
	kill -TERM "$nsqd_pid" 2>/dev/null || true
	wait "$nsqd_pid" 2>/dev/null || true
	if [ -n "$lookupd_pid" ]; then
		kill -TERM "$lookupd_pid" 2>/dev/null || true
		wait "$lookupd_pid" 2>/dev/null || true
	fi
}
trap 'stop; exit 0' INT TERM
wait "$nsqd_pid"
status=$?
stop
exit "$status"
