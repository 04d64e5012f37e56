#!/usr/bin/env bats
# Parity with Go nsqd/nsqlookupd 1.3.0, one @test per row of the table in
# parity_cases.py (which names the Go source line each row mirrors and the
# exact reply Go gives); tests/PARITY.md is the audit behind it.  Rows
# whose fix belongs to the V2 engine (cmd/nsqd/tcp.c, being split out
# now) are skipped until then; each skip names the change it waits for.

load helpers

export NSQ_WAIT_HTTP=1

setup() {
	start_nsqd
	start_nsqlookupd
}

teardown() {
	teardown_daemons
}

# parity ID: run the table's row ID against this test's daemons.
parity() {
	run timeout 60 python3 "$BATS_TEST_DIRNAME/parity_cases.py" "$1"
	if [[ $status -ne 0 ]]; then
		echo "$output" >&2
		return 1
	fi
}

@test "every row of parity_cases.py has its @test here" {
	local id missing=0
	for id in $(python3 "$BATS_TEST_DIRNAME/parity_cases.py" --ids); do
		if ! grep -q "^	parity $id\$" "$BATS_TEST_FILENAME"; then
			echo "no @test runs row $id" >&2
			missing=1
		fi
	done
	[[ $missing -eq 0 ]]
}

@test "v2-bad-magic (Go nsqd/tcp.go:45-54)" {
	parity v2-bad-magic
}

@test "v2-invalid-command (Go nsqd/protocol_v2.go:200)" {
	parity v2-invalid-command
}

@test "v2-line-too-long (Go nsqd/protocol_v2.go:64-71, nsqd/client_v2.go:18,196 (bufio.ErrBufferFull: no reply))" {
	parity v2-line-too-long
}

@test "v2-identify-default (Go nsqd/protocol_v2.go:398-439)" {
	parity v2-identify-default
}

@test "v2-identify-twice-after-sub (Go nsqd/protocol_v2.go:352-353)" {
	parity v2-identify-twice-after-sub
}

@test "v2-identify-bad-json (Go nsqd/protocol_v2.go:379-381)" {
	parity v2-identify-bad-json
}

@test "v2-identify-size-0 (Go nsqd/protocol_v2.go:366-368)" {
	parity v2-identify-size-0
}

@test "v2-identify-too-big (Go nsqd/protocol_v2.go:361-363)" {
	parity v2-identify-too-big
}

@test "v2-identify-bad-heartbeat (Go nsqd/client_v2.go:475-488, nsqd/protocol_v2.go:386-388)" {
	parity v2-identify-bad-heartbeat
}

@test "v2-identify-deflate-snappy (Go nsqd/protocol_v2.go:407-408)" {
	parity v2-identify-deflate-snappy
}

@test "v2-auth-disabled (Go nsqd/protocol_v2.go:525-526)" {
	parity v2-auth-disabled
}

@test "v2-auth-params (Go nsqd/protocol_v2.go:496-497)" {
	parity v2-auth-params
}

@test "v2-sub-params (Go nsqd/protocol_v2.go:592-593)" {
	parity v2-sub-params
}

@test "v2-sub-bad-channel (Go nsqd/protocol_v2.go:603-605)" {
	parity v2-sub-bad-channel
}

@test "v2-sub-no-heartbeat (Go nsqd/protocol_v2.go:588-589)" {
	parity v2-sub-no-heartbeat
}

@test "v2-rdy-before-sub (Go nsqd/protocol_v2.go:652-653)" {
	parity v2-rdy-before-sub
}

@test "v2-rdy-range (Go nsqd/protocol_v2.go:666-670)" {
	parity v2-rdy-range
}

@test "v2-fin-before-sub (Go nsqd/protocol_v2.go:680-681)" {
	parity v2-fin-before-sub
}

@test "v2-fin-params (Go nsqd/protocol_v2.go:684-685)" {
	parity v2-fin-params
}

@test "v2-fin-bad-id (Go nsqd/protocol_v2.go:688-690,1003-1006)" {
	parity v2-fin-bad-id
}

@test "v2-req-bad-id (Go nsqd/protocol_v2.go:714-716,1003-1006)" {
	parity v2-req-bad-id
}

@test "v2-touch-bad-id (Go nsqd/protocol_v2.go:942-944,1003-1006)" {
	parity v2-touch-bad-id
}

@test "v2-fin-not-in-flight (Go nsqd/protocol_v2.go:693-696, nsqd/channel.go:490)" {
	parity v2-fin-not-in-flight
}

@test "v2-req-not-in-flight (Go nsqd/protocol_v2.go:740-743, nsqd/channel.go:490)" {
	parity v2-req-not-in-flight
}

@test "v2-cls-before-sub (Go nsqd/protocol_v2.go:752-753)" {
	parity v2-cls-before-sub
}

@test "v2-cls (Go nsqd/protocol_v2.go:756-758)" {
	parity v2-cls
}

@test "v2-pub-params (Go nsqd/protocol_v2.go:768-769)" {
	parity v2-pub-params
}

@test "v2-pub-bad-topic (Go nsqd/protocol_v2.go:773-775)" {
	parity v2-pub-bad-topic
}

@test "v2-pub-size-0 (Go nsqd/protocol_v2.go:783-785)" {
	parity v2-pub-size-0
}

@test "v2-pub-too-big (Go nsqd/protocol_v2.go:788-790)" {
	parity v2-pub-too-big
}

@test "v2-pub (Go nsqd/protocol_v2.go:803-812)" {
	parity v2-pub
}

@test "v2-dpub-range (Go nsqd/protocol_v2.go:888-891)" {
	parity v2-dpub-range
}

@test "v2-dpub-parse (Go nsqd/protocol_v2.go:881-884)" {
	parity v2-dpub-parse
}

@test "v2-mpub-bad-topic (Go nsqd/protocol_v2.go:823-825)" {
	parity v2-mpub-bad-topic
}

@test "v2-mpub-size-0-creates-topic (Go nsqd/protocol_v2.go:832,839-841)" {
	parity v2-mpub-size-0-creates-topic
}

@test "v2-mpub-count-0-creates-topic (Go nsqd/protocol_v2.go:832,966-969)" {
	parity v2-mpub-count-0-creates-topic
}

@test "v2-mpub-msg-size-0 (Go nsqd/protocol_v2.go:980-982)" {
	parity v2-mpub-msg-size-0
}

@test "v2-mpub-body-longer-than-messages (Go nsqd/protocol_v2.go:849-865,959-1000 (the rest of the declared body is read as the next command))" {
	parity v2-mpub-body-longer-than-messages
}

@test "v2-mpub-body-shorter-than-messages (Go nsqd/protocol_v2.go:844-850,959-1000 (the messages are read from the stream past the declared size))" {
	parity v2-mpub-body-shorter-than-messages
}

@test "v2-mpub (Go nsqd/protocol_v2.go:858-865)" {
	parity v2-mpub
}

@test "http-ping (Go nsqd/http.go:57,122-128, internal/http_api/api_response.go:27-47)" {
	parity http-ping
}

@test "http-info-keys (Go nsqd/http.go:144-166)" {
	parity http-info-keys
}

@test "http-not-found (Go internal/http_api/api_response.go:84-96,135-141)" {
	parity http-not-found
}

@test "http-405-allow-pub (Go httprouter router.go:344-372,431-443)" {
	parity http-405-allow-pub
}

@test "http-405-allow-config (Go httprouter router.go:344-372)" {
	parity http-405-allow-config
}

@test "http-options (Go httprouter router.go:422-430)" {
	parity http-options
}

@test "http-pub-empty-no-topic (Go nsqd/http.go:227-231)" {
	parity http-pub-empty-no-topic
}

@test "http-pub-too-big (Go nsqd/http.go:213-214)" {
	parity http-pub-too-big
}

@test "http-pub-missing-topic (Go nsqd/http.go:196-198)" {
	parity http-pub-missing-topic
}

@test "http-pub-invalid-topic (Go nsqd/http.go:202-203)" {
	parity http-pub-invalid-topic
}

@test "http-pub-bad-defer-creates-topic (Go nsqd/http.go:231,237-246)" {
	parity http-pub-bad-defer-creates-topic
}

@test "http-pub (Go nsqd/http.go:256, internal/http_api/api_response.go:66-69,91-96)" {
	parity http-pub
}

@test "http-mpub-binary-bad-creates-topic (Go nsqd/http.go:270,283-289,959-969)" {
	parity http-mpub-binary-bad-creates-topic
}

@test "http-mpub-binary-bad-message (Go nsqd/http.go:288,980-982)" {
	parity http-mpub-binary-bad-message
}

@test "http-mpub-text-too-big-line (Go nsqd/http.go:320-322)" {
	parity http-mpub-text-too-big-line
}

@test "http-topic-create-empty (Go nsqd/http.go:337-340, internal/http_api/api_response.go:72-73,91-96)" {
	parity http-topic-create-empty
}

@test "http-topic-empty-invalid (Go nsqd/http.go:354-356)" {
	parity http-topic-empty-invalid
}

@test "http-topic-delete-unchecked-name (Go nsqd/http.go:378-386)" {
	parity http-topic-delete-unchecked-name
}

@test "http-channel-create-invalid (Go nsqd/http.go:176-179, internal/http_api/topic_channel_args.go:19-21)" {
	parity http-channel-create-invalid
}

@test "http-channel-create-no-topic (Go nsqd/http.go:181-184)" {
	parity http-channel-create-no-topic
}

@test "http-stats-bad-query (Go nsqd/http.go:498-502)" {
	parity http-stats-bad-query
}

@test "http-config-lookupd-default (Go nsqd/options.go:111, apps/nsqd/options.go:140-141, go-options options.go:93-95)" {
	parity http-config-lookupd-default
}

@test "http-config-auth-default (Go nsqd/options.go:112, apps/nsqd/options.go:135-136)" {
	parity http-config-auth-default
}

@test "http-config-e2e-default (Go apps/nsqd/options.go:180-181, internal/app/float_array.go:13)" {
	parity http-config-e2e-default
}

@test "http-config-verbose (Go nsqd/http.go:660-663,668-687 (no Options field))" {
	parity http-config-verbose
}

@test "http-config-put-empty (Go nsqd/http.go:635-637)" {
	parity http-config-put-empty
}

@test "http-freememory (Go nsqd/http.go:89,104-107, internal/http_api/api_response.go:42-43,126-132)" {
	parity http-freememory
}

@test "lhttp-ping (Go nsqlookupd/http.go:33,68-70)" {
	parity lhttp-ping
}

@test "lhttp-topics-empty (Go nsqlookupd/http.go:80-85, nsqlookupd/registration_db.go:127,196-202)" {
	parity lhttp-topics-empty
}

@test "lhttp-channels-empty (Go nsqlookupd/http.go:98-101)" {
	parity lhttp-channels-empty
}

@test "lhttp-nodes-empty (Go nsqlookupd/http.go:267,301-303)" {
	parity lhttp-nodes-empty
}

@test "lhttp-lookup-missing (Go nsqlookupd/http.go:115-118)" {
	parity lhttp-lookup-missing
}

@test "lhttp-tombstone-no-node (Go nsqlookupd/http.go:189-192)" {
	parity lhttp-tombstone-no-node
}

@test "lhttp-405-allow (Go httprouter router.go:344-372)" {
	parity lhttp-405-allow
}

@test "v1-invalid-command (Go nsqlookupd/lookup_protocol_v1.go:100)" {
	parity v1-invalid-command
}

@test "v1-register-first (Go nsqlookupd/lookup_protocol_v1.go:126-127)" {
	parity v1-register-first
}

@test "v1-identify-missing-fields (Go nsqlookupd/lookup_protocol_v1.go:228-231)" {
	parity v1-identify-missing-fields
}

@test "v1-ping (Go nsqlookupd/lookup_protocol_v1.go:263-273)" {
	parity v1-ping
}
# Go 1.3.0 still parses --verbose and --worker-id as booleans that do
# nothing (apps/nsqd/options.go:126,129; apps/nsqlookupd/main.go:28).
@test "--verbose and --worker-id are accepted, change nothing, and are warned of (Go apps/nsqd/options.go:126,129)" {
	start_nsqd -n N2 --verbose --worker-id --node-id=7
	run curl -sS --max-time 10 "http://127.0.0.1:$N2_HTTP_PORT/config/log_level"
	[[ $output == 2 ]] || { echo "log_level $output, want 2 (info)" >&2; false; }
	run curl -sS --max-time 10 "http://127.0.0.1:$N2_HTTP_PORT/config/id"
	[[ $output == 7 ]] || { echo "id $output, want 7" >&2; false; }
	# Beyond Go, one warning each says they do nothing.
	grep -q 'WARNING: --verbose is deprecated and has no effect: use --log-level' "$N2_LOG"
	grep -q 'WARNING: --worker-id is deprecated and has no effect: use --node-id' "$N2_LOG"
	# Accepted: it starts (an unknown flag would exit 2).
	start_nsqlookupd -n L2 --verbose
	grep -q 'WARNING: --verbose is deprecated and has no effect' "$L2_LOG"
	start_nsqd -n N3
	run grep -c 'deprecated' "$N3_LOG"
	[[ $output == 0 ]] || { echo "warned without the flags: $output" >&2; false; }
}
