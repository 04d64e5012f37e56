#!/usr/bin/env bats
# nsqadmin against a real cluster: two nsqlookupd, three nsqd registered
# with both, messages published, a consumer holding some in flight.  The
# JSON of every /api endpoint is compared with the nsqds' own /stats
# (admin_check.py), every action is checked on every nsqd, and so are a
# stopped nsqd, the CSRF refusal, --admin-user, the notifications and
# the history's bound.

load helpers

CHECK="$BATS_TEST_DIRNAME/admin_check.py"

teardown() {
	teardown_daemons
}

# start_admin ARGS...: nsqadmin on a free port, ready when /ping answers.
start_admin() {
	ADMIN_PORT=$(free_port)
	ADMIN="127.0.0.1:$ADMIN_PORT"
	start_bg ADM timeout 280 "$NSQ_BIN_DIR/nsqadmin" \
	    --http-address="$ADMIN" "$@"
	wait_until 20 curl -sf "http://$ADMIN${ADMIN_BASE:-}/ping"
}

# cluster: L1 L2, N1 N2 N3 registered with both.
cluster() {
	start_nsqlookupd -n L1 --broadcast-address=127.0.0.1
	start_nsqlookupd -n L2 --broadcast-address=127.0.0.1
	local lk="--lookupd-tcp-address=127.0.0.1:$L1_TCP_PORT"
	lk="$lk --lookupd-tcp-address=127.0.0.1:$L2_TCP_PORT"
	local n
	for n in N1 N2 N3; do
		# shellcheck disable=SC2086
		start_nsqd -n $n $lk --broadcast-address=127.0.0.1
	done
	PORTS="$N1_HTTP_PORT $N2_HTTP_PORT $N3_HTTP_PORT"
}

lookupds() {
	echo "--lookupd-http-address=127.0.0.1:$L1_HTTP_PORT" \
	    "--lookupd-http-address=127.0.0.1:$L2_HTTP_PORT"
}

pub() {	# pub HTTP_PORT TOPIC N
	local i
	for ((i = 0; i < $3; i++)); do
		curl -sf -XPOST "http://127.0.0.1:$1/pub?topic=$2" -d "m$i" \
		    >/dev/null || return 1
	done
}

# Both lookupds know the topic on every nsqd given.
registered() {	# registered TOPIC COUNT
	local l n
	for l in $L1_HTTP_PORT $L2_HTTP_PORT; do
		n=$(curl -sf "http://127.0.0.1:$l/lookup?topic=$1" |
		    python3 -c 'import json,sys
print(len(json.load(sys.stdin)["producers"]))') || return 1
		[[ $n -eq $2 ]] || return 1
	done
}

# A consumer on N1's t/c that holds up to 2 messages unanswered.
hold_consumer() {
	start_bg SUB timeout 120 python3 -c "
import sys, time
from nsqwire import Conn
c = Conn($N1_TCP_PORT, timeout=100); c.magic()
c.identify({'client_id': 'holder', 'hostname': 'holder-host'})
c.sub('t', 'c'); c.ok(); c.rdy(2)
print('subscribed', flush=True)
time.sleep(100)
"
	wait_until 10 grep -q subscribed "$SUB_LOG"
}

# curl_act METHOD PATH BODY [CURL ARGS...]: as the page sends actions.
curl_act() {
	local m=$1 p=$2 b=$3
	shift 3
	curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -X "$m" \
	    -H 'Content-Type: application/json' \
	    -H "Origin: http://$ADMIN" "$@" --data-binary "$b" \
	    "http://$ADMIN$p"
	echo " $(cat "$BATS_TEST_TMPDIR/body")"
}

# nsqd_field PORT TOPIC [CHANNEL] KEY: a value from that nsqd's /stats
# ("none" when the topic or channel is not there).
nsqd_field() {
	python3 - "$@" <<'EOF'
import json, sys, urllib.request
port, topic = sys.argv[1], sys.argv[2]
chan = sys.argv[3] if len(sys.argv) == 5 else None
key = sys.argv[-1]
s = json.load(urllib.request.urlopen(
    'http://127.0.0.1:%s/stats?format=json' % port, timeout=5))
for t in s['topics']:
    if t['topic_name'] != topic:
        continue
    if chan is None:
        print(json.dumps(t[key])); sys.exit(0)
    for c in t['channels']:
        if c['channel_name'] == chan:
            print(json.dumps(c[key])); sys.exit(0)
print('none')
EOF
}

all_nsqd() {	# all_nsqd WANT TOPIC [CHANNEL] KEY
	local want=$1 p v
	shift
	for p in $PORTS; do
		v=$(nsqd_field "$p" "$@") || return 1
		[[ $v == "$want" ]] || { echo "$p: $v"; return 1; }
	done
}

@test "nsqadmin: bad flags are refused with Go's words or ours" {
	run "$NSQ_BIN_DIR/nsqadmin"
	assert_failure 1
	assert_output --partial "--nsqd-http-address or --lookupd-http-address required"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --lookupd-http-address=127.0.0.1:2
	assert_failure 1
	assert_output --partial "use --nsqd-http-address or --lookupd-http-address not both"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --graphite-url=http://g:80
	assert_failure 2
	assert_output --partial "--graphite-url is not supported"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --proxy-graphite
	assert_failure 2
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --statsd-prefix=x
	assert_failure 2
	assert_output --partial "graphite is not supported"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --http-client-tls-cert=/x
	assert_failure 1
	assert_output --partial "--http-client-tls-key must be specified with --http-client-tls-cert"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --allow-config-from-cidr=nope
	assert_failure 1
	assert_output --partial "failed to parse --allow-config-from-cidr (nope)"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=nocolon
	assert_failure 1
	assert_output --partial "failed to resolve --nsqd-http-address (nocolon)"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 --bogus
	assert_failure 2
	assert_output --partial "flag provided but not defined: -bogus"
	run "$NSQ_BIN_DIR/nsqadmin" --nsqd-http-address=127.0.0.1:1 \
	    --sample-interval=10s --history=15s
	assert_failure 2
	run "$NSQ_BIN_DIR/nsqadmin" --version
	assert_success
	assert_output --regexp '^nsqadmin v1\.3\.0 '
}

@test "nsqadmin: /api JSON matches the nsqds' /stats, summed as Go sums" {
	cluster
	pub "$N1_HTTP_PORT" t 5
	pub "$N2_HTTP_PORT" t 3
	pub "$N3_HTTP_PORT" t 2
	pub "$N2_HTTP_PORT" other 1
	curl -sf -XPOST "http://127.0.0.1:$N1_HTTP_PORT/channel/create?topic=t&channel=c"
	curl -sf -XPOST "http://127.0.0.1:$N2_HTTP_PORT/channel/create?topic=t&channel=c"
	curl -sf -XPOST "http://127.0.0.1:$N3_HTTP_PORT/channel/create?topic=t&channel=d"
	pub "$N1_HTTP_PORT" t 4
	pub "$N2_HTTP_PORT" t 1
	hold_consumer
	wait_until 10 registered t 3
	wait_until 10 registered other 1
	# shellcheck disable=SC2046
	start_admin $(lookupds)
	wait_until 10 test "$(nsqd_field "$N1_HTTP_PORT" t c in_flight_count)" = 2

	run python3 "$CHECK" topics "$ADMIN" other t
	assert_success
	run python3 "$CHECK" topic "$ADMIN" t $PORTS
	assert_success
	assert_output --partial "ok topic message_count = 15"
	run python3 "$CHECK" channel "$ADMIN" t c $PORTS
	assert_success
	assert_output --partial "ok channel in_flight_count = 2"
	assert_output --partial "ok clients = 1"
	run python3 "$CHECK" nodes "$ADMIN" $PORTS
	assert_success
	run python3 "$CHECK" node "$ADMIN" "$N1_HTTP_PORT"
	assert_success
	assert_output --partial "ok total_clients = 1"
	run python3 "$CHECK" counter "$ADMIN" $PORTS
	assert_success
	# A channel nowhere: Go's nil row, the message alone.
	run curl -s "http://$ADMIN/api/topics/t/nowhere"
	assert_output '{"message":""}'
	# A topic nowhere: each nsqlookupd answers 404, so Go's 502.
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics/nowhere"
	assert_output --partial '{"message":"UPSTREAM_ERROR: failed to query any nsqlookupd: got response 404 Not Found \"{\\\"message\\\":\\\"TOPIC_NOT_FOUND'
	assert_output --regexp ' 502$'
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/nodes/127.0.0.1:1"
	assert_output '{"message":"NODE_NOT_FOUND"} 404'
	# ?inactive=true: only topics without producers, with channels.
	run curl -s "http://$ADMIN/api/topics?inactive=true"
	assert_output '{"topics":{},"message":""}'
	run curl -s -w ' %{http_code}' "http://$ADMIN/ping"
	assert_output 'OK 200'
	run curl -s -w ' %{http_code}' -XPUT "http://$ADMIN/api/nodes"
	assert_output '{"message":"METHOD_NOT_ALLOWED"} 405'
}

@test "nsqadmin: nsqd mode (--nsqd-http-address) answers the same" {
	cluster
	pub "$N1_HTTP_PORT" t 2
	pub "$N3_HTTP_PORT" t 3
	start_admin --nsqd-http-address=127.0.0.1:$N1_HTTP_PORT \
	    --nsqd-http-address=127.0.0.1:$N2_HTTP_PORT \
	    --nsqd-http-address=127.0.0.1:$N3_HTTP_PORT
	run python3 "$CHECK" topics "$ADMIN" t
	assert_success
	run python3 "$CHECK" topic "$ADMIN" t $PORTS
	assert_success
	assert_output --partial "ok topic message_count = 5"
	run curl -s "http://$ADMIN/api/nodes"
	assert_output --partial "\"http_port\":$N2_HTTP_PORT"
	assert_output --partial '"remote_addresses":null'
	# Actions reach the nsqd that have the topic, found by their /stats.
	run curl_act POST /api/topics/t '{"action":"pause"}'
	assert_output '200 {"message":""}'
	run nsqd_field "$N1_HTTP_PORT" t paused
	assert_output true
	run nsqd_field "$N3_HTTP_PORT" t paused
	assert_output true
	run curl_act DELETE /api/topics/t ''
	assert_output '200 {"message":""}'
	run all_nsqd none t depth
	assert_success
	# A channel to create needs nsqlookupd, as in Go: 502.
	run curl_act POST /api/topics '{"topic":"t","channel":"c"}'
	assert_output '502 {"message":"UPSTREAM_ERROR: failed to query any nsqlookupd: "}'
}

@test "nsqadmin: every action reaches every nsqd" {
	cluster
	local n
	for n in N1 N2 N3; do
		pub "$(_nsq_var $n HTTP_PORT)" t 1
		curl -sf -XPOST "http://127.0.0.1:$(_nsq_var $n HTTP_PORT)/channel/create?topic=t&channel=c"
	done
	pub "$N1_HTTP_PORT" t 2
	wait_until 10 registered t 3
	# shellcheck disable=SC2046
	start_admin $(lookupds)

	run curl_act POST /api/topics/t '{"action":"pause"}'
	assert_output '200 {"message":""}'
	run all_nsqd true t paused
	assert_success
	run curl_act POST /api/topics/t '{"action":"unpause"}'
	assert_output '200 {"message":""}'
	run all_nsqd false t paused
	assert_success
	run curl_act POST /api/topics/t/c '{"action":"pause"}'
	assert_output '200 {"message":""}'
	run all_nsqd true t c paused
	assert_success
	run curl_act POST /api/topics/t/c '{"action":"unpause"}'
	run all_nsqd false t c paused
	assert_success
	run all_nsqd 0 t c depth
	assert_failure
	run curl_act POST /api/topics/t/c '{"action":"empty"}'
	assert_output '200 {"message":""}'
	run all_nsqd 0 t c depth
	assert_success
	pub "$N2_HTTP_PORT" t 1
	curl -sf -XPOST "http://127.0.0.1:$N2_HTTP_PORT/topic/pause?topic=t"
	pub "$N2_HTTP_PORT" t 1
	run curl_act POST /api/topics/t '{"action":"empty"}'
	assert_output '200 {"message":""}'
	run all_nsqd 0 t depth
	assert_success
	run curl_act POST /api/topics/t '{"action":"bogus"}'
	assert_output '400 {"message":"INVALID_ACTION"}'
	run curl_act POST /api/topics/t ''
	assert_output '400 {"message":"EOF"}'

	# Create: on the nsqlookupd, and the channel on the topic's nsqd.
	run curl_act POST /api/topics '{"topic":"t","channel":"new"}'
	assert_output '200 {"message":""}'
	run all_nsqd 0 t new depth
	assert_success
	run curl_act POST /api/topics '{"topic":"fresh"}'
	assert_output '200 {"message":""}'
	run curl -s "http://127.0.0.1:$L1_HTTP_PORT/topics"
	assert_output --partial '"fresh"'
	run curl -s "http://127.0.0.1:$L2_HTTP_PORT/topics"
	assert_output --partial '"fresh"'
	run curl_act POST /api/topics '{"topic":"bad name!"}'
	assert_output '400 {"message":"INVALID_TOPIC"}'
	run curl_act POST /api/topics '{"topic":"ok","channel":"bad name!"}'
	assert_output '400 {"message":"INVALID_CHANNEL"}'

	# Delete a channel, then the topic, everywhere.
	run curl_act DELETE /api/topics/t/new ''
	assert_output '200 {"message":""}'
	run all_nsqd none t new depth
	assert_success
	run curl_act DELETE /api/topics/t ''
	assert_output '200 {"message":""}'
	run all_nsqd none t depth
	assert_success
	run curl -s "http://127.0.0.1:$L1_HTTP_PORT/lookup?topic=t"
	assert_output --partial 'TOPIC_NOT_FOUND'
}

@test "nsqadmin: DELETE /api/nodes/:node tombstones the topic and deletes it there" {
	cluster
	pub "$N1_HTTP_PORT" tomb 1
	pub "$N2_HTTP_PORT" tomb 1
	wait_until 10 registered tomb 2
	# shellcheck disable=SC2046
	start_admin $(lookupds)
	run curl_act DELETE "/api/nodes/127.0.0.1:$N1_HTTP_PORT" '{"topic":"tomb"}'
	assert_output '200 {"message":""}'
	run nsqd_field "$N1_HTTP_PORT" tomb depth
	assert_output none
	run nsqd_field "$N2_HTTP_PORT" tomb depth
	assert_output 1
	# N1 deleted it and so unregistered: the lookupds name N2 alone.
	wait_until 10 registered tomb 1
	run curl -s "http://127.0.0.1:$L1_HTTP_PORT/lookup?topic=tomb"
	assert_output --partial "\"http_port\":$N2_HTTP_PORT"
	refute_output --partial "\"http_port\":$N1_HTTP_PORT"
	run curl_act DELETE "/api/nodes/127.0.0.1:$N1_HTTP_PORT" 'nope'
	assert_output '400 {"message":"INVALID_BODY"}'
	run curl_act DELETE "/api/nodes/127.0.0.1:$N1_HTTP_PORT" '{"topic":"a b"}'
	assert_output '400 {"message":"INVALID_TOPIC"}'
}

@test "nsqadmin: a stopped nsqd is an error for that node, the rest is answered" {
	cluster
	pub "$N1_HTTP_PORT" t 1
	pub "$N2_HTTP_PORT" t 2
	pub "$N3_HTTP_PORT" t 4
	wait_until 10 registered t 3
	# shellcheck disable=SC2046
	start_admin $(lookupds) --http-client-request-timeout=1s
	kill -STOP "$N3_PID"
	local t0 t1
	t0=$(date +%s)
	run curl -s --max-time 20 "http://$ADMIN/api/topics/t"
	t1=$(date +%s)
	kill -CONT "$N3_PID"
	assert_success
	assert_output --partial '"message_count":3,'
	assert_output --partial "\"message\":\"WARNING: Get \\\"http://127.0.0.1:$N3_HTTP_PORT/stats"
	# One request deadline (1 s), with room for a slow machine.
	[ $((t1 - t0)) -lt 10 ]

	# A closed port in nsqd mode: the others answer, with Go's warning.
	stop_bg ADM || true
	local dead
	dead=$(free_port)
	start_admin --nsqd-http-address=127.0.0.1:$N1_HTTP_PORT \
	    --nsqd-http-address=127.0.0.1:$dead
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/nodes"
	assert_output --partial "\"http_port\":$N1_HTTP_PORT"
	assert_output --partial "WARNING: Get \\\"http://127.0.0.1:$dead/info\\\""
	assert_output --regexp ' 200$'
	# All of them dead: 502 and Go's "failed to query any".
	stop_bg ADM || true
	start_admin --nsqd-http-address=127.0.0.1:$dead
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output --partial '{"message":"UPSTREAM_ERROR: failed to query any nsqd: Get'
	assert_output --regexp ' 502$'
}

@test "nsqadmin: POST, PUT and DELETE without JSON from this host are refused (CSRF)" {
	cluster
	pub "$N1_HTTP_PORT" t 1
	wait_until 10 registered t 1
	# shellcheck disable=SC2046
	start_admin $(lookupds)
	# No Origin nor Referer.
	run curl -s -w ' %{http_code}' -XPOST -H 'Content-Type: application/json' \
	    -d '{"action":"pause"}' "http://$ADMIN/api/topics/t"
	assert_output '{"message":"CSRF_REFUSED: no Origin or Referer header"} 403'
	# A foreign Origin.
	run curl -s -w ' %{http_code}' -XPOST -H 'Content-Type: application/json' \
	    -H 'Origin: http://evil.example:4171' -d '{"action":"pause"}' \
	    "http://$ADMIN/api/topics/t"
	assert_output '{"message":"CSRF_REFUSED: Origin is not this host"} 403'
	# A form's content type, from this very host.
	run curl -s -w ' %{http_code}' -XPOST -H "Origin: http://$ADMIN" \
	    -d 'action=pause' "http://$ADMIN/api/topics/t"
	assert_output '{"message":"CSRF_REFUSED: Content-Type must be application/json"} 403'
	run curl -s -w ' %{http_code}' -XDELETE -H "Referer: http://evil/" \
	    -H 'Content-Type: application/json' "http://$ADMIN/api/topics/t"
	assert_output '{"message":"CSRF_REFUSED: Referer is not this host"} 403'
	run curl -s -w ' %{http_code}' -XPUT -H "Origin: http://$ADMIN" \
	    -d 'debug' "http://$ADMIN/config/log_level"
	assert_output --regexp '403$'
	run nsqd_field "$N1_HTTP_PORT" t paused
	assert_output false
	# A Referer of this host passes.
	run curl -s -w ' %{http_code}' -XPOST -H 'Content-Type: application/json' \
	    -H "Referer: http://$ADMIN/topics/t" -d '{"action":"pause"}' \
	    "http://$ADMIN/api/topics/t"
	assert_output '{"message":""} 200'
	run nsqd_field "$N1_HTTP_PORT" t paused
	assert_output true
}

@test "nsqadmin: --admin-user with --acl-http-header allows and refuses" {
	cluster
	pub "$N1_HTTP_PORT" t 1
	wait_until 10 registered t 1
	# shellcheck disable=SC2046
	start_admin $(lookupds) --admin-user=alice --admin-user=bob \
	    --acl-http-header=X-User
	run curl_act POST /api/topics/t '{"action":"pause"}' -H 'X-User: mallory'
	assert_output '403 {"message":"FORBIDDEN"}'
	run curl_act POST /api/topics/t '{"action":"pause"}'
	assert_output '403 {"message":"FORBIDDEN"}'
	run curl_act DELETE /api/topics/t '' -H 'X-User: eve'
	assert_output '403 {"message":"FORBIDDEN"}'
	run nsqd_field "$N1_HTTP_PORT" t paused
	assert_output false
	run curl_act POST /api/topics/t '{"action":"pause"}' -H 'X-User: bob'
	assert_output '200 {"message":""}'
	run nsqd_field "$N1_HTTP_PORT" t paused
	assert_output true
	# Reading needs no admin.
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output --regexp ' 200$'
}

@test "nsqadmin: each admin action POSTs Go's notification" {
	cluster
	pub "$N1_HTTP_PORT" t 1
	curl -sf -XPOST "http://127.0.0.1:$N1_HTTP_PORT/channel/create?topic=t&channel=c"
	wait_until 10 registered t 1
	local sink sinkport
	sink="$BATS_TEST_TMPDIR/notes"
	sinkport=$(free_port)
	start_bg SINK timeout 120 python3 "$BATS_TEST_DIRNAME/admin_notify_sink.py" \
	    "$sinkport" "$sink"
	wait_until 10 tcp_port_open "$sinkport"
	# shellcheck disable=SC2046
	start_admin $(lookupds) \
	    --notification-http-endpoint="http://127.0.0.1:$sinkport/notify"
	run curl_act POST /api/topics/t/c '{"action":"pause"}' \
	    -u 'carol:secret' -A 'test-agent/1'
	assert_output '200 {"message":""}'
	run curl_act POST /api/topics '{"topic":"n2","channel":"cc"}'
	run curl_act DELETE "/api/nodes/127.0.0.1:$N1_HTTP_PORT" '{"topic":"n2"}'
	wait_until 10 test "$(wc -l <"$sink")" -ge 4
	run python3 - "$sink" "$ADMIN" "$N1_HTTP_PORT" <<'EOF'
import json, socket, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
admin, port = sys.argv[2], sys.argv[3]
acts = sorted(r['body']['action'] for r in rows)
assert acts == ['create_channel', 'create_topic', 'pause_channel',
                'tombstone_topic_producer'], acts
for r in rows:
    b = r['body']
    assert r['content_type'] == 'application/json', r
    assert r['path'] == '/notify', r
    want = ['action', 'topic']
    if b['action'] in ('pause_channel', 'create_channel'):
        want.append('channel')
    if b['action'] == 'tombstone_topic_producer':
        want.append('node')
    want.append('timestamp')
    if b['action'] == 'pause_channel':
        want.append('user')
    want += ['remote_ip', 'user_agent', 'url', 'via']
    assert list(b) == want, (list(b), want)
    assert b['via'] == socket.gethostname(), b
    assert b['remote_ip'].startswith('127.0.0.1:'), b
    assert b['url'].startswith('http://%s/api/' % admin), b
    if b['action'] == 'pause_channel':
        assert b['user'] == 'carol' and b['user_agent'] == 'test-agent/1', b
        assert b['topic'] == 't' and b['channel'] == 'c', b
    if b['action'] == 'tombstone_topic_producer':
        assert b['node'] == '127.0.0.1:' + port, b
print('ok', len(rows))
EOF
	assert_success
	assert_output 'ok 4'
}

@test "nsqadmin: GET and PUT /config/:opt, and --allow-config-from-cidr" {
	cluster
	# shellcheck disable=SC2046
	start_admin $(lookupds)
	run curl -s "http://$ADMIN/config/log_level"
	assert_output '2'
	run curl_act PUT /config/log_level 'debug'
	assert_output '200 1'
	run curl_act PUT /config/log_level 'loud'
	assert_output '400 {"message":"INVALID_VALUE"}'
	run curl_act PUT /config/log_level ''
	assert_output '413 {"message":"INVALID_VALUE"}'
	run curl_act PUT /config/http_address 'x'
	assert_output '400 {"message":"INVALID_OPTION"}'
	run curl -s "http://$ADMIN/config/nsqlookupd_http_addresses"
	assert_output "[\"127.0.0.1:$L1_HTTP_PORT\",\"127.0.0.1:$L2_HTTP_PORT\"]"
	run curl_act PUT /config/nsqlookupd_http_addresses "[\"127.0.0.1:$L2_HTTP_PORT\"]"
	assert_output "200 [\"127.0.0.1:$L2_HTTP_PORT\"]"
	run curl -s "http://$ADMIN/config/acl_http_header"
	assert_output 'X-Forwarded-User'
	run curl -s -w ' %{http_code}' "http://$ADMIN/config/nope"
	assert_output '{"message":"INVALID_OPTION"} 400'
	stop_bg ADM || true
	# shellcheck disable=SC2046
	start_admin $(lookupds) --allow-config-from-cidr=10.0.0.0/8
	run curl -s -w ' %{http_code}' "http://$ADMIN/config/log_level"
	assert_output '{"message":"FORBIDDEN"} 403'
}

@test "nsqadmin: the page and its paths under --base-path" {
	cluster
	# shellcheck disable=SC2046
	ADMIN_BASE=/admin start_admin $(lookupds) --base-path=/admin/
	local p
	for p in /admin /admin/topics /admin/topics/t /admin/topics/t/c \
	    /admin/nodes /admin/nodes/n /admin/counter /admin/lookup; do
		run curl -s -o /dev/null -w '%{http_code} %{content_type}' \
		    "http://$ADMIN$p"
		assert_output '200 text/html'
	done
	run curl -s -w ' %{http_code}' "http://$ADMIN/admin/static/none.js"
	assert_output 'NOT_FOUND 404'
	run curl -s -w ' %{http_code}' "http://$ADMIN/admin/api/topics"
	assert_output --regexp ' 200$'
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output '{"message":"NOT_FOUND"} 404'
	run curl -s -w ' %{http_code}' "http://$ADMIN/admin/ping"
	assert_output 'OK 200'
	# --dev-static-dir: /static/ from the disk.
	stop_bg ADM || true
	mkdir -p "$BATS_TEST_TMPDIR/dev"
	echo 'dev asset' >"$BATS_TEST_TMPDIR/dev/a.js"
	# shellcheck disable=SC2046
	start_admin $(lookupds) --dev-static-dir="$BATS_TEST_TMPDIR/dev"
	run curl -s -w ' %{http_code}' "http://$ADMIN/static/a.js"
	assert_output 'dev asset
 200'
	run curl -s -w ' %{http_code}' --path-as-is "http://$ADMIN/static/.."
	assert_output --regexp ' 404$'
}

@test "nsqadmin: the history samples rates and depths" {
	cluster
	pub "$N1_HTTP_PORT" t 3
	curl -sf -XPOST "http://127.0.0.1:$N1_HTTP_PORT/channel/create?topic=t&channel=c"
	wait_until 10 registered t 1
	# shellcheck disable=SC2046
	start_admin $(lookupds) --sample-interval=1s --history=30s
	wait_until 15 bash -c "curl -s http://$ADMIN/api/history/stats |
	    grep -q '\"samples\":[3-9]'"
	# The 3 held by the topic went to its first channel; 4 more follow.
	pub "$N1_HTTP_PORT" t 4
	wait_until 15 bash -c "curl -s 'http://$ADMIN/api/history?topic=t&channel=c' |
	    grep -q ',7,0\]'"
	run curl -s "http://$ADMIN/api/history?topic=t&channel=c&node=127.0.0.1:$N1_HTTP_PORT"
	assert_output --regexp '^\{"interval":1,"points":\[\[[0-9]+,null,3,0\],'
	# The topic's rates times their intervals add up to the 4 published.
	run python3 -c "
import json, urllib.request
h = json.load(urllib.request.urlopen('http://$ADMIN/api/history?topic=t'))
p = h['points']
assert p[0][1] is None and all(x[1] is not None for x in p[1:]), p
print(round(sum(b[1] * (b[0] - a[0]) for a, b in zip(p, p[1:]))))"
	assert_output 4

	run curl -s "http://$ADMIN/api/history"
	assert_success
	assert_output --regexp '^\{"interval":1,"points":\[\['
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/history?topic=nope"
	assert_output '{"message":"SERIES_NOT_FOUND"} 404'
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/history?channel=c"
	assert_output '{"message":"MISSING_ARG_TOPIC"} 400'
}

@test "nsqadmin: with 1,000 topics the history stays bounded" {
	start_nsqd -n N1 --broadcast-address=127.0.0.1
	python3 - "$N1_HTTP_PORT" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)
for i in range(1000):
    c.request('POST', '/topic/create?topic=many%04d' % i)
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    if i % 10 == 0:
        c.request('POST', '/channel/create?topic=many%04d&channel=c' % i)
        r = c.getresponse(); r.read()
EOF
	# Under AddressSanitizer, freed memory waits in a quarantine (256 MB
	# by default) and would count as growth: keep it small here.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1" \
	    start_admin --nsqd-http-address=127.0.0.1:$N1_HTTP_PORT \
	    --sample-interval=1s --history=10s --history-series=500
	rss() { awk '/^VmRSS/ {print $2}' "/proc/$(pgrep -P "$ADM_PID" nsqadmin || echo "$ADM_PID")/status"; }
	wait_until 30 bash -c "curl -s http://$ADMIN/api/history/stats |
	    grep -q '\"samples\":[2-9]'"
	local r0 r1
	r0=$(rss)
	wait_until 60 bash -c "curl -s http://$ADMIN/api/history/stats |
	    grep -q '\"samples\":\(1[2-9]\|[2-9][0-9]\)'"
	r1=$(rss)
	run curl -s "http://$ADMIN/api/history/stats"
	# 1 cluster + 1 node + 1,000 topics + ... : capped at 500.
	assert_output --regexp '"series":500,"max_series":500,"dropped":[1-9][0-9]*\}'
	echo "RSS ${r0} kB after 2 samples, ${r1} kB after 12" >&3
	# Ten more samples of 1,000 topics, the ring already full: under
	# 4 MiB of growth (the parse of each /stats is freed with its op).
	[ $((r1 - r0)) -lt 4096 ]
}

@test "nsqadmin: --config reads Go's keys, the command line wins" {
	start_nsqd -n N1 --broadcast-address=127.0.0.1
	cat >"$BATS_TEST_TMPDIR/admin.cfg" <<CFG
nsqd_http_addresses = ["127.0.0.1:$N1_HTTP_PORT"]
admin_users = ["ann", "ben"]
acl_http_header = "X-Who"
log_level = "warn"
CFG
	start_admin --config="$BATS_TEST_TMPDIR/admin.cfg" --log-level=info
	run curl -s "http://$ADMIN/config/admin_users"
	assert_output '["ann","ben"]'
	run curl -s "http://$ADMIN/config/acl_http_header"
	assert_output 'X-Who'
	run curl -s "http://$ADMIN/config/nsqd_http_addresses"
	assert_output "[\"127.0.0.1:$N1_HTTP_PORT\"]"
	run curl -s "http://$ADMIN/config/log_level"
	assert_output '2'
	run curl -s "http://$ADMIN/api/topics"
	assert_output '{"topics":null,"message":""}'
}

@test "nsqadmin: a 403 naming https_port is asked again over https, with --http-client-tls-*" {
	local d=$BATS_TEST_TMPDIR hp sp
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" \
	    -out "$d/cert.pem" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=client \
	    -keyout "$d/ckey.pem" -out "$d/ccert.pem" 2>/dev/null
	hp=$(free_port)
	sp=$(free_port)
	start_bg TLS timeout 200 python3 "$BATS_TEST_DIRNAME/admin_tls_stub.py" \
	    "$hp" "$sp" "$d/cert.pem" "$d/key.pem" "$d/ccert.pem"
	wait_until 10 tcp_port_open "$hp"
	wait_until 10 tcp_port_open "$sp"
	# Not trusted: the node's error, in nsqd mode all of them: 502.
	start_admin --nsqd-http-address=127.0.0.1:$hp
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output --partial "UPSTREAM_ERROR: failed to query any nsqd: Get \\\"https://127.0.0.1:$sp/stats?format=json\\\""
	assert_output --regexp ' 502$'
	stop_bg ADM || true
	# The CA given, and a client certificate.
	start_admin --nsqd-http-address=127.0.0.1:$hp \
	    --http-client-tls-root-ca-file="$d/cert.pem" \
	    --http-client-tls-cert="$d/ccert.pem" \
	    --http-client-tls-key="$d/ckey.pem"
	run curl -s "http://$ADMIN/api/topics"
	assert_output '{"topics":["secure"],"message":""}'
	run grep -c 'client_cert=True' "$TLS_LOG"
	assert_output --regexp '^[1-9]'
	stop_bg ADM || true
	# No verification at all.
	start_admin --nsqd-http-address=127.0.0.1:$hp \
	    --http-client-tls-insecure-skip-verify
	run curl -s "http://$ADMIN/api/nodes"
	assert_output --partial '"hostname":"secure-host"'
	assert_output --partial '"message":""'
}

# authed_ta_c: topic ta and its channel c on N1, made with the secret.
authed_ta_c() {
	local u=http://127.0.0.1:$N1_HTTP_PORT
	curl -sf -H 'Authorization: Bearer adm-s3cret' -XPOST \
	    "$u/topic/create?topic=ta" &&
	    curl -sf -H 'Authorization: Bearer adm-s3cret' -XPOST \
		"$u/channel/create?topic=ta&channel=c"
}

# authed_pair: the auth server, N1 with --http-auth-required on it (the
# secret adm-s3cret may do anything), N2 without; topic ta with channel c
# on N1, tb on N2.
authed_pair() {
	export AUTH_CONF=$BATS_TEST_TMPDIR/auth.json
	export AUTH_LOG=$AUTH_CONF.log
	auth_conf '{"secrets": {"adm-s3cret": {"ttl": 3600,
	  "identity": "admin", "authorizations": [{"topic": ".*",
	  "channels": [".*"], "permissions": ["publish", "subscribe"]}]}}}'
	start_authd
	start_nsqd -n N1 --auth-http-address="127.0.0.1:$AUTHD_PORT" \
	    --http-auth-required
	start_nsqd -n N2
	authed_ta_c
	curl -sf -XPOST "http://127.0.0.1:$N2_HTTP_PORT/topic/create?topic=tb"
}

@test "nsqadmin: --auth-secret reaches nsqd run with --http-auth-required" {
	authed_pair
	local nodes="--nsqd-http-address=127.0.0.1:$N1_HTTP_PORT"
	nodes="$nodes --nsqd-http-address=127.0.0.1:$N2_HTTP_PORT"
	# Without the secret N1 refuses (401) and is an error for that node.
	# shellcheck disable=SC2086
	start_admin $nodes
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/nodes"
	assert_output --partial "\"http_port\":$N2_HTTP_PORT"
	refute_output --partial "\"http_port\":$N1_HTTP_PORT"
	assert_output --partial 'WARNING: got response 401 Unauthorized'
	assert_output --partial 'AUTH_REQUIRED'
	assert_output --regexp ' 200$'
	run curl -s "http://$ADMIN/api/topics"
	assert_output --partial '"tb"'
	refute_output --partial '"ta"'
	assert_output --partial 'WARNING: got response 401 Unauthorized'
	stop_bg ADM || true

	# With it both answer: the topics, the nodes, and an action.
	# shellcheck disable=SC2086
	start_admin $nodes --auth-secret=adm-s3cret
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/nodes"
	assert_output --partial "\"http_port\":$N1_HTTP_PORT"
	assert_output --partial "\"http_port\":$N2_HTTP_PORT"
	assert_output --partial '"message":""'
	assert_output --regexp ' 200$'
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output --partial '"ta"'
	assert_output --partial '"tb"'
	assert_output --partial '"message":""'
	run curl -s "http://$ADMIN/api/topics/ta/c"
	assert_output --partial '"paused":false'
	run curl_act POST /api/topics/ta/c '{"action":"pause"}'
	assert_output --regexp '^200 '
	# nsqd's own /stats, read with the secret: paused.
	run curl -sf -H 'Authorization: Bearer adm-s3cret' \
	    "http://127.0.0.1:$N1_HTTP_PORT/stats?format=json&topic=ta&channel=c"
	assert_success
	assert_output --partial '"paused":true'
	run curl_act POST /api/topics/ta '{"action":"empty"}'
	assert_output --regexp '^200 '
	# The auth server was asked for that secret; nsqadmin never logs it.
	run grep -c '"secret": "adm-s3cret"' "$AUTH_LOG"
	assert_success
	run grep -c adm-s3cret "$ADM_LOG"
	assert_output 0
}

@test "nsqadmin: --auth-secret reaches nsqlookupd and the nsqds it names" {
	authed_pair
	stop_bg N1
	start_nsqlookupd -n L1 --broadcast-address=127.0.0.1
	start_nsqd -n N1 --auth-http-address="127.0.0.1:$AUTHD_PORT" \
	    --http-auth-required --broadcast-address=127.0.0.1 \
	    --lookupd-tcp-address="127.0.0.1:$L1_TCP_PORT"
	authed_ta_c
	wait_until 10 eval "curl -sf 'http://127.0.0.1:$L1_HTTP_PORT/lookup?topic=ta' | grep -q producers"
	start_admin --lookupd-http-address="127.0.0.1:$L1_HTTP_PORT"
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics/ta"
	assert_output --partial 'UPSTREAM_ERROR: failed to query any nsqd: got response 401 Unauthorized'
	assert_output --regexp ' 502$'
	stop_bg ADM || true
	start_admin --lookupd-http-address="127.0.0.1:$L1_HTTP_PORT" \
	    --auth-secret adm-s3cret
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics/ta"
	assert_output --partial '"topic_name":"ta"'
	assert_output --partial '"message":""'
	assert_output --regexp ' 200$'
	run curl_act POST /api/topics/ta/c '{"action":"pause"}'
	assert_output --regexp '^200 '
	run curl -sf -H 'Authorization: Bearer adm-s3cret' \
	    "http://127.0.0.1:$N1_HTTP_PORT/stats?format=json&topic=ta&channel=c"
	assert_output --partial '"paused":true'
	run grep -c adm-s3cret "$ADM_LOG"
	assert_output 0

	# An nsqlookupd stand-in that prints each request's Authorization.
	stop_bg ADM || true
	local lp
	lp=$(free_port)
	start_bg FAKEL timeout 120 python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        print(self.path, self.headers.get("Authorization"), flush=True)
        b = b"{\"topics\":[],\"producers\":[]}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$lp"
	wait_until 10 curl -sf "http://127.0.0.1:$lp/ping"
	start_admin --lookupd-http-address="127.0.0.1:$lp" \
	    --auth-secret adm-s3cret
	run curl -s -w ' %{http_code}' "http://$ADMIN/api/topics"
	assert_output --regexp ' 200$'
	run grep -c '^/topics Bearer adm-s3cret$' "$FAKEL_LOG"
	[[ $output -ge 1 ]] || fail "asked /topics with the secret $output times"
	# Every request nsqadmin sent it carried the secret (the /ping is
	# the test's own).
	run grep -c -v -e '^/ping None$' -e ' Bearer adm-s3cret$' "$FAKEL_LOG"
	assert_output 0
}
