# tests/bats/nsqd_helpers.bash: what the nsqd-*.bats suites share, on top
# of helpers.bash.  Loaded with `load nsqd_helpers` (it loads helpers).
#
#   wire [ARGS...]
#       Runs the python snippet on stdin (`from nsqdtest import *` gives
#       nsqwire and the checks of nsqdtest.py) under a 60 s deadline
#       ($WIRE_TIMEOUT), so a test fails rather than hangs.
#   assert_serving [NAME]
#       The daemon (default NSQD) is running and still serves: a PUB to a
#       new topic reaches a new subscriber.  Tests that abuse nsqd end
#       with it, then with `stop_nsqd` (a clean exit 0 on SIGTERM).

load "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/helpers"

wire() {
	timeout "${WIRE_TIMEOUT:-60}" python3 - "$@"
}

assert_serving() {
	local name=${1:-NSQD} port
	if ! proc_alive "$name"; then
		echo "$name is not running (status $(proc_status "$name"))" >&2
		return 1
	fi
	port=$(_nsq_var "$name" TCP_PORT)
	timeout 30 python3 -c \
	    'import sys; from nsqdtest import alive; alive(int(sys.argv[1]))' \
	    "$port"
}
