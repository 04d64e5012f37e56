#!/usr/bin/env bats
# nsqadmin's page in a real browser: Debian's chromium, headless, driven
# by puppeteer-core (pinned in package.json, installed by
# scripts/deps.sh test with npm ci; it downloads no browser).  One
# cluster for the file: nsqlookupd, two nsqd, nsqadmin, a producer and a
# consumer; ui-check.js opens every view, compares it with the nsqd
# nodes' /stats, clicks the actions and writes a screenshot of each view
# under build/screenshots/ (NSQ_SCREENSHOT_DIR to change it).

load ../bats/helpers

# start_nsqadmin NAME BASE ARGS...: nsqadmin on a free port, ready when
# BASE/ping answers; exports NAME_HTTP_PORT.
start_nsqadmin() {
	local name=$1 base=$2 port
	shift 2
	port=$(free_port)
	start_bg "$name" timeout 280 "$NSQ_BIN_DIR/nsqadmin" \
	    --http-address="127.0.0.1:$port" "$@"
	export "${name}_HTTP_PORT=$port"
	wait_until 20 curl -sf "http://127.0.0.1:$port$base/ping"
}

setup_file() {
	export PUPPETEER_SKIP_DOWNLOAD=1
	[[ -x $NSQ_BIN_DIR/nsqadmin ]] ||
	    fail "no nsqadmin in $NSQ_BIN_DIR (make)"
	start_nsqlookupd
	local l="--lookupd-tcp-address=127.0.0.1:$NSQLOOKUPD_TCP_PORT"
	start_nsqd -n N1 --broadcast-address=127.0.0.1 "$l"
	start_nsqd -n N2 --broadcast-address=127.0.0.1 "$l"
	start_nsqadmin ADMIN "" \
	    --lookupd-http-address="127.0.0.1:$NSQLOOKUPD_HTTP_PORT"
	local n
	for n in $N1_HTTP_PORT $N2_HTTP_PORT; do
		curl -sf -X POST "http://127.0.0.1:$n/topic/create?topic=backlog"
		curl -sf -X POST "http://127.0.0.1:$n/topic/create?topic=orders"
		curl -sf -X POST "http://127.0.0.1:$n/channel/create?topic=backlog&channel=slow"
		curl -sf -X POST "http://127.0.0.1:$n/channel/create?topic=orders&channel=billing"
		# stash: messages held at the topic (no channel), emptied
		# by the page; doomed: tombstoned on one node, its channel
		# gone deleted, then the topic deleted, all by clicks.
		curl -sf -X POST "http://127.0.0.1:$n/topic/create?topic=stash"
		curl -sf -X POST "http://127.0.0.1:$n/topic/create?topic=doomed"
		curl -sf -X POST "http://127.0.0.1:$n/channel/create?topic=doomed&channel=gone"
	done
	seq 1 30 | "$NSQ_BIN_DIR/nsq-pub" --topic=stash \
	    --nsqd-tcp-address="127.0.0.1:$N1_TCP_PORT" \
	    --nsqd-tcp-address="127.0.0.1:$N2_TCP_PORT"
	seq 1 100 | "$NSQ_BIN_DIR/nsq-pub" --topic=backlog \
	    --nsqd-tcp-address="127.0.0.1:$N1_TCP_PORT" \
	    --nsqd-tcp-address="127.0.0.1:$N2_TCP_PORT"
	start_bg PUB timeout 280 sh -c "yes message | '$NSQ_BIN_DIR/nsq-pub' \
	    --topic=orders --rate=40 \
	    --nsqd-tcp-address=127.0.0.1:$N1_TCP_PORT \
	    --nsqd-tcp-address=127.0.0.1:$N2_TCP_PORT"
	start_bg SUB timeout 280 sh -c "'$NSQ_BIN_DIR/nsq-tail' \
	    --topic=orders --channel=workers \
	    --nsqd-tcp-address=127.0.0.1:$N1_TCP_PORT \
	    --nsqd-tcp-address=127.0.0.1:$N2_TCP_PORT >/dev/null"
}

teardown_file() {
	teardown_daemons
}

setup() {
	ADMIN="http://127.0.0.1:$ADMIN_HTTP_PORT"
}

@test "the page and its files come from the binary, each with its type" {
	run curl -sf -D - -o /dev/null "$ADMIN/"
	assert_success
	assert_output --partial "Content-Type: text/html"
	run curl -sf "$ADMIN/topics/orders/workers"
	assert_success
	assert_output --partial '/static/app.js'
	run curl -sf -D - -o /dev/null "$ADMIN/static/app.js"
	assert_output --partial "Content-Type: text/javascript"
	run curl -sf -D - -o /dev/null "$ADMIN/static/app.css"
	assert_output --partial "Content-Type: text/css"
	run curl -s -o /dev/null -w '%{http_code}' "$ADMIN/static/nothing.js"
	assert_output 404
}

@test "every view in headless chromium matches nsqd, and the actions work" {
	[[ -x /usr/bin/chromium ]] ||
	    fail "chromium is not installed (scripts/deps.sh test)"
	[[ -d $BATS_TEST_DIRNAME/node_modules/puppeteer-core ]] ||
	    fail "puppeteer-core is missing: scripts/deps.sh test (npm ci in tests/browser)"
	local shots=${NSQ_SCREENSHOT_DIR:-$BATS_TEST_DIRNAME/../../build/screenshots}
	# The consumer is connected to both nodes before the check begins.
	wait_until 20 sh -c "curl -sf 'http://127.0.0.1:$N2_HTTP_PORT/stats?format=json&topic=orders&channel=workers' | grep -q '\"client_id\"'"
	run timeout 200 node "$BATS_TEST_DIRNAME/ui-check.js" \
	    --admin "$ADMIN" \
	    --nsqd "127.0.0.1:$N1_HTTP_PORT,127.0.0.1:$N2_HTTP_PORT" \
	    --lookupd "127.0.0.1:$NSQLOOKUPD_HTTP_PORT" \
	    --topic orders --channel workers \
	    --empty-topic backlog --empty-channel slow \
	    --stash-topic stash --doomed-topic doomed --doomed-channel gone \
	    --shots "$shots" --timeout 180
	echo "$output"
	assert_success
	assert_output --partial "summary: passed="
	refute_output --partial "not ok"
	local v
	for v in topics topic channel nodes node counter lookup \
	    topic-paused topic-emptied tombstoned channel-deleted \
	    topic-deleted; do
		[[ -s $shots/$v.png ]] || fail "no screenshot $shots/$v.png"
	done
}

@test "under --base-path the page finds its files and its API" {
	start_nsqadmin BASED /admin --base-path=/admin \
	    --lookupd-http-address="127.0.0.1:$NSQLOOKUPD_HTTP_PORT"
	local b="http://127.0.0.1:$BASED_HTTP_PORT/admin"
	run curl -sf "$b/topics/orders"
	assert_success
	assert_output --partial 'app.js'
	run curl -sf -D - -o /dev/null "$b/static/app.js"
	assert_success
	assert_output --partial "Content-Type: text/javascript"
	run curl -sf "$b/api/topics"
	assert_success
	assert_output --partial '"orders"'
	run timeout 60 node "$BATS_TEST_DIRNAME/ui-check.js" --admin "$b" \
	    --nsqd "127.0.0.1:$N1_HTTP_PORT" --smoke orders --timeout 50
	echo "$output"
	assert_success
	refute_output --partial "not ok"
}

@test "a node that does not answer: the page shows the API's message" {
	local gone
	gone=$(free_port)
	start_nsqadmin DEAD "" --nsqd-http-address="127.0.0.1:$N1_HTTP_PORT" \
	    --nsqd-http-address="127.0.0.1:$gone"
	run timeout 60 node "$BATS_TEST_DIRNAME/ui-check.js" \
	    --admin "http://127.0.0.1:$DEAD_HTTP_PORT" \
	    --nsqd "127.0.0.1:$N1_HTTP_PORT" --dead "127.0.0.1:$gone" \
	    --timeout 50
	echo "$output"
	assert_success
	refute_output --partial "not ok"
}

@test "a thousand topics: all listed, filtered, one request per node a poll" {
	local i
	for i in $(seq 1 1000); do
		echo "url = \"http://127.0.0.1:$N2_HTTP_PORT/topic/create?topic=many_$i\""
		echo 'output = "/dev/null"'
	done >"$BATS_TEST_TMPDIR/curl.cfg"
	run curl -sf -X POST -K "$BATS_TEST_TMPDIR/curl.cfg"
	assert_success
	run timeout 100 node "$BATS_TEST_DIRNAME/ui-check.js" \
	    --admin "$ADMIN" \
	    --nsqd "127.0.0.1:$N1_HTTP_PORT,127.0.0.1:$N2_HTTP_PORT" \
	    --many 1000 --timeout 90
	echo "$output"
	assert_success
	refute_output --partial "not ok"
}
