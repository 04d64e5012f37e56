#!/usr/bin/env bats
# nsqadmin with Go nsqd nodes, as in a cluster part way through a move to
# this implementation.  A Go nsqd v1.3.0 node is stood in for by
# go_replay.py serving its recorded answers (tests/fixtures/
# go-nsqd-1.3.0-http); a Go nsqlookupd likewise.
#
# nsqadmin, like Go's, names an nsqd by the broadcast_address:http_port
# of its /info and asks that address for /stats, whatever address it was
# given.  The recording's /info says 127.0.0.1:23065 (and its nsqlookupd's
# /nodes says 127.0.0.1:21261 is the nsqlookupd), so each test copies the
# recording with those two ports replaced by the free ports the replays
# listen on: the node then answers at the address it announces.

load helpers

FIX="$BATS_TEST_DIRNAME/../fixtures/go-nsqd-1.3.0-http"
REPLAY="$BATS_TEST_DIRNAME/go_replay.py"
COMPARE="$BATS_TEST_DIRNAME/admin_gocompare.py"

teardown() {
	teardown_daemons
}

# fixture_copy: $REC, the recording with its nsqd http port replaced by
# $GO_PORT and its nsqlookupd http port by $GOL_PORT.
fixture_copy() {
	GO_PORT=$(free_port)
	GOL_PORT=$(free_port)
	REC="$BATS_TEST_TMPDIR/rec"
	mkdir -p "$REC"
	cp "$FIX"/*.body "$FIX"/*.headers "$REC"/
	sed -i -e "s/23065/$GO_PORT/g" -e "s/21261/$GOL_PORT/g" "$REC"/*
	# The replacement took: the node announces the replay's port.
	grep -q "\"http_port\":$GO_PORT," "$REC/nsqd-info.body"
}

# start_replay NAME ROLE PORT
start_replay() {
	start_bg "$1" timeout 280 python3 "$REPLAY" --dir "$REC" \
	    --role "$2" --port "$3" --log "$BATS_TEST_TMPDIR/$1.requests"
	wait_until 20 curl -sf -o /dev/null "http://127.0.0.1:$3/info"
}

start_admin() {
	ADMIN_PORT=$(free_port)
	ADMIN="127.0.0.1:$ADMIN_PORT"
	start_bg ADM timeout 280 "$NSQ_BIN_DIR/nsqadmin" \
	    --http-address="$ADMIN" "$@"
	wait_until 20 curl -sf "http://$ADMIN/ping"
}

# api PATH PYTHON: the JSON of /api/PATH as `d`, then PYTHON (asserts).
api() {
	curl -sf "http://$ADMIN/api/$1" >"$BATS_TEST_TMPDIR/api.json" ||
	    return 1
	python3 -c "import json, sys
d = json.load(open(sys.argv[1]))
$2" "$BATS_TEST_TMPDIR/api.json"
}

@test "nsqadmin-gonodes: our nsqd and a Go nsqd side by side" {
	fixture_copy
	start_replay GO nsqd "$GO_PORT"
	start_nsqd -n N1 --broadcast-address=127.0.0.1
	local n1=127.0.0.1:$N1_HTTP_PORT go=127.0.0.1:$GO_PORT i
	curl -sf -XPOST "http://$n1/topic/create?topic=t_main"
	curl -sf -XPOST "http://$n1/channel/create?topic=t_main&channel=c_inflight"
	for i in 1 2 3 4; do
		curl -sf -XPOST "http://$n1/pub?topic=t_main" -d "m$i" >/dev/null
	done
	curl -sf -XPOST "http://$n1/pub?topic=ours" -d x >/dev/null
	wait_until 10 eval "curl -sf 'http://$n1/stats?format=json&topic=t_main' |
	    grep -q '\"channel_name\":\"c_inflight\",\"depth\":4,'"
	start_admin --nsqd-http-address="$n1" --nsqd-http-address="$go"

	run api topics "
assert d['topics'] == ['ours', 't_main', 't_paused'], d"
	assert_success

	# A row per node; depths and counts summed as Go sums them: the Go
	# node's t_main has 5 messages, its c_inflight 2 in depth and 3 in
	# flight; ours 4 messages, all in c_inflight's depth.
	run api topics/t_main "
rows = {r['node']: r for r in d['nodes']}
assert sorted(rows) == sorted(['$n1', '$go']), rows.keys()
assert d['node'] == '*'
assert d['depth'] == 0 and d['backend_depth'] == 0, d['depth']
assert d['message_count'] == 9, d['message_count']
assert rows['$go']['hostname'] == 'vm'
assert rows['$go']['message_count'] == 5
assert rows['$n1']['message_count'] == 4
chans = {c['channel_name']: c for c in d['channels']}
assert sorted(chans) == ['c_eph#ephemeral', 'c_inflight', 'c_paused'], chans
ci = chans['c_inflight']
# ours: 4 in depth; Go's: 2 in depth, 3 in flight
assert ci['depth'] == 6 and ci['in_flight_count'] == 3, ci
assert ci['message_count'] == 9, ci
assert chans['c_paused']['paused'] is True
print('ok')"
	assert_success
	assert_output ok

	run api topics/t_main/c_inflight "
rows = {r['node']: r for r in d['nodes']}
assert sorted(rows) == sorted(['$n1', '$go']), rows.keys()
assert d['in_flight_count'] == 3 and d['depth'] == 6, d
assert d['client_count'] == 1, d['client_count']
assert len(d['clients']) == 1, d['clients']
c = d['clients'][0]
assert c['node'] == '$go', c
assert c['client_id'] == 'fixture-consumer', c
assert c['hostname'] == 'fixture-host', c
assert c['user_agent'] == 'fixture-consumer/1.0', c
assert c['in_flight_count'] == 3 and c['ready_count'] == 3, c
assert c['message_count'] == 3 and c['version'] == 'V2', c
print('ok')"
	assert_success
	assert_output ok

	local ours
	ours=$(curl -sf "http://$n1/info" | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["version"])')
	run api nodes "
v = {'%s:%d' % (n['broadcast_address'], n['http_port']): n for n in d['nodes']}
assert sorted(v) == sorted(['$n1', '$go']), v.keys()
assert v['$go']['version'] == '1.3.0', v['$go']
assert v['$go']['hostname'] == 'vm'
assert v['$n1']['version'] == '$ours', v['$n1']
assert [t['topic'] for t in v['$go']['topics']] == ['t_main', 't_paused']
assert sorted(t['topic'] for t in v['$n1']['topics']) == ['ours', 't_main']
print('ok')"
	assert_success
	assert_output ok

	run api "nodes/$go" "
assert d['node'] == '$go', d['node']
assert [t['topic_name'] for t in d['topics']] == ['t_main', 't_paused']
assert d['total_messages'] == 7, d['total_messages']
assert d['total_clients'] == 1, d['total_clients']
assert len(d['topics'][0]['channels']) == 3, d['topics'][0]
assert d['topics'][0]['channels'][1]['clients'][0]['client_id'] == \
    'fixture-consumer', d['topics'][0]['channels'][1]
print('ok')"
	assert_success
	assert_output ok
}

@test "nsqadmin-gonodes: /api answers key by key as Go nsqadmin's" {
	fixture_copy
	start_replay GO nsqd "$GO_PORT"
	start_replay GOL nsqlookupd "$GOL_PORT"
	# The recorded Go nsqadmin was given the nsqlookupd alone.
	start_admin --lookupd-http-address="127.0.0.1:$GOL_PORT"
	local p
	for p in topics:topics topic:topics/t_main \
	    topic-channel:topics/t_main/c_inflight nodes:nodes \
	    "node:nodes/127.0.0.1:$GO_PORT" counter:counter; do
		run python3 "$COMPARE" "$REC/admin-api-${p%%:*}.body" \
		    "http://$ADMIN/api/${p#*:}"
		echo "$output"
		assert_success
	done
	# The answers came from the replays (not an empty cluster).
	grep -q "GET /stats" "$BATS_TEST_TMPDIR/GO.requests"
	grep -q "GET /nodes" "$BATS_TEST_TMPDIR/GOL.requests"
}
