"""parity_cases: what Go nsqd/nsqlookupd 1.3.0 answer, case by case.

One table, CASES: each row is something a client can observe (a V2 or
V1 exchange, or an HTTP request), the exact reply Go 1.3.0 gives, the Go
source line that decides it (read at tag v1.3.0 of nsqio/nsq, or of
julienschmidt/httprouter v1.3.0 and mreiferson/go-options v1.0.0, the
versions its go.mod pins), and our code that must match.  tests/PARITY.md
is the audit these rows come from; tests/bats/parity.bats has one @test
per row and runs it with

    python3 parity_cases.py ID

against the daemons whose ports are in the environment (NSQD_TCP_PORT,
NSQD_HTTP_PORT, NSQLOOKUPD_TCP_PORT, NSQLOOKUPD_HTTP_PORT).  `python3
parity_cases.py --ids` lists the rows.

Row fields:
  id      the name parity.bats runs it by
  go      Go file:line(s)
  ours    our file and function
  proto   'v2' (nsqd TCP), 'v1' (nsqlookupd TCP), 'http' (nsqd) or
          'lhttp' (nsqlookupd)
  v2/v1:  pre   steps first: 'identify' (IDENTIFY {}), 'sub' (SUB {t} c)
          send  raw bytes after the magic; {t} becomes a fresh topic name
          want  frames expected in order: (kind, bytes) with kind 'err',
                'resp' (V2 frame types) or 'reply' (V1, no frame type)
          end   'close': then the server closes, nothing more sent;
                'open': the connection still works (a PUB gets OK);
                'silent': the server closes without sending anything
  http:   method, path ({t} as above), body (bytes or None), status,
          rbody (exact body bytes), hdr ({name: value, or None when Go
          sends no such header})
  after   checks once the exchange is done: 'topic' ({t} exists in
          /stats), 'no-topic' ({t} does not)
"""
import http.client
import json
import os
import socket
import struct
import sys
import time

JSON = 'application/json; charset=utf-8'
TEXT = 'text/plain; charset=utf-8'
NSQ = 'nsq; version=1.0'


def _size(n):
    return struct.pack('>i', n)


def _body(b):
    return _size(len(b)) + b


def _mpub(bodies):
    return _size(len(bodies)) + b''.join(_body(b) for b in bodies)


IDENTIFY_FN = _body(b'{"feature_negotiation":true}')

# Go's IDENTIFY reply with nsqd's defaults (protocol_v2.go:411-439,
# nsqd/options.go:128-152, client_v2.go:18,196-203).
IDENTIFY_REPLY = (
    b'{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,'
    b'"msg_timeout":60000,"tls_v1":false,"deflate":false,'
    b'"deflate_level":6,"max_deflate_level":6,"snappy":false,'
    b'"sample_rate":0,"auth_required":false,"output_buffer_size":16384,'
    b'"output_buffer_timeout":250}')

V2F = 'cmd/nsqd/tcp.c'
HTTPF = 'cmd/nsqd/http.c'
LIBH = 'lib/http.c'

CASES = [
    # ---- nsqd TCP, protocol V2 ------------------------------------------
    dict(id='v2-bad-magic', go='nsqd/tcp.go:45-54', ours=V2F + ' process',
         proto='v2', magic=b'  V9', send=b'',
         want=[('err', b'E_BAD_PROTOCOL')], end='close'),
    dict(id='v2-invalid-command', go='nsqd/protocol_v2.go:200',
         ours=V2F + ' parse', proto='v2', send=b'FOO bar\n',
         want=[('err', b'E_INVALID invalid command FOO')], end='close'),
    dict(id='v2-line-too-long', go='nsqd/protocol_v2.go:64-71, '
         'nsqd/client_v2.go:18,196 (bufio.ErrBufferFull: no reply)',
         ours=V2F + ' parse', proto='v2', send=b'X' * 20000 + b'\n',
         want=[], end='silent'),
    dict(id='v2-identify-default', go='nsqd/protocol_v2.go:398-439',
         ours=V2F + ' cmd_identify', proto='v2',
         send=b'IDENTIFY\n' + IDENTIFY_FN,
         want=[('resp', IDENTIFY_REPLY)], end='open'),
    dict(id='v2-identify-twice-after-sub', go='nsqd/protocol_v2.go:352-353',
         ours=V2F + ' cmd_identify', proto='v2', pre=['sub'],
         send=b'IDENTIFY\n' + _body(b'{}'),
         want=[('err', b'E_INVALID cannot IDENTIFY in current state')],
         end='close'),
    dict(id='v2-identify-bad-json', go='nsqd/protocol_v2.go:379-381',
         ours=V2F + ' cmd_identify', proto='v2',
         send=b'IDENTIFY\n' + _body(b'{'),
         want=[('err', b'E_BAD_BODY IDENTIFY failed to decode JSON body')],
         end='close'),
    dict(id='v2-identify-size-0', go='nsqd/protocol_v2.go:366-368',
         ours=V2F + ' cmd_identify', proto='v2',
         send=b'IDENTIFY\n' + _size(0),
         want=[('err', b'E_BAD_BODY IDENTIFY invalid body size 0')],
         end='close'),
    dict(id='v2-identify-too-big', go='nsqd/protocol_v2.go:361-363',
         ours=V2F + ' cmd_identify', proto='v2',
         send=b'IDENTIFY\n' + _size(5242881),
         want=[('err', b'E_BAD_BODY IDENTIFY body too big 5242881 > '
                b'5242880')], end='close'),
    dict(id='v2-identify-bad-heartbeat', go='nsqd/client_v2.go:475-488, '
         'nsqd/protocol_v2.go:386-388', ours=V2F + ' cmd_identify',
         proto='v2',
         send=b'IDENTIFY\n' + _body(b'{"heartbeat_interval":999999999}'),
         want=[('err', b'E_BAD_BODY IDENTIFY heartbeat interval '
                b'(999999999) is invalid')], end='close'),
    dict(id='v2-identify-deflate-snappy', go='nsqd/protocol_v2.go:407-408',
         ours=V2F + ' cmd_identify', proto='v2',
         send=b'IDENTIFY\n' + _body(b'{"feature_negotiation":true,'
                                    b'"deflate":true,"snappy":true}'),
         want=[('err', b'E_IDENTIFY_FAILED cannot enable both deflate '
                b'and snappy compression')], end='close'),
    dict(id='v2-auth-disabled', go='nsqd/protocol_v2.go:525-526',
         ours=V2F + ' cmd_auth', proto='v2',
         send=b'AUTH\n' + _body(b'secret'),
         want=[('err', b'E_AUTH_DISABLED AUTH disabled')], end='close'),
    dict(id='v2-auth-params', go='nsqd/protocol_v2.go:496-497',
         ours=V2F + ' cmd_auth', proto='v2', send=b'AUTH x\n',
         want=[('err', b'E_INVALID AUTH invalid number of parameters')],
         end='close'),
    dict(id='v2-sub-params', go='nsqd/protocol_v2.go:592-593',
         ours=V2F + ' cmd_sub', proto='v2', send=b'SUB {t}\n',
         want=[('err', b'E_INVALID SUB insufficient number of '
                b'parameters')], end='close'),
    dict(id='v2-sub-bad-channel', go='nsqd/protocol_v2.go:603-605',
         ours=V2F + ' cmd_sub', proto='v2', send=b'SUB {t} a!b\n',
         want=[('err', b'E_BAD_CHANNEL SUB channel name "a!b" is not '
                b'valid')], end='close'),
    dict(id='v2-sub-no-heartbeat', go='nsqd/protocol_v2.go:588-589',
         ours=V2F + ' cmd_sub', proto='v2',
         send=b'IDENTIFY\n' + _body(b'{"heartbeat_interval":-1}') +
         b'SUB {t} c\n',
         want=[('resp', b'OK'), ('err', b'E_INVALID cannot SUB with '
                                        b'heartbeats disabled')],
         end='close'),
    dict(id='v2-rdy-before-sub', go='nsqd/protocol_v2.go:652-653',
         ours=V2F + ' cmd_rdy', proto='v2', send=b'RDY 1\n',
         want=[('err', b'E_INVALID cannot RDY in current state')],
         end='close'),
    dict(id='v2-rdy-range', go='nsqd/protocol_v2.go:666-670',
         ours=V2F + ' cmd_rdy', proto='v2', pre=['sub'], send=b'RDY 2501\n',
         want=[('err', b'E_INVALID RDY count 2501 out of range 0-2500')],
         end='close'),
    dict(id='v2-fin-before-sub', go='nsqd/protocol_v2.go:680-681',
         ours=V2F + ' check_id_cmd', proto='v2', send=b'FIN 1\n',
         want=[('err', b'E_INVALID cannot FIN in current state')],
         end='close'),
    dict(id='v2-fin-params', go='nsqd/protocol_v2.go:684-685',
         ours=V2F + ' check_id_cmd', proto='v2', pre=['sub'],
         send=b'FIN\n',
         want=[('err', b'E_INVALID FIN insufficient number of params')],
         end='close'),
    dict(id='v2-fin-bad-id', go='nsqd/protocol_v2.go:688-690,1003-1006',
         ours=V2F + ' check_id_cmd', proto='v2', pre=['sub'],
         send=b'FIN 123\n',
         want=[('err', b'E_INVALID invalid message ID')], end='close'),
    dict(id='v2-req-bad-id', go='nsqd/protocol_v2.go:714-716,1003-1006',
         ours=V2F + ' check_id_cmd', proto='v2', pre=['sub'],
         send=b'REQ 123 0\n',
         want=[('err', b'E_INVALID invalid message ID')], end='close'),
    dict(id='v2-touch-bad-id', go='nsqd/protocol_v2.go:942-944,1003-1006',
         ours=V2F + ' check_id_cmd', proto='v2', pre=['sub'],
         send=b'TOUCH 123\n',
         want=[('err', b'E_INVALID invalid message ID')], end='close'),
    dict(id='v2-fin-not-in-flight', go='nsqd/protocol_v2.go:693-696, '
         'nsqd/channel.go:490', ours=V2F + ' cmd_fin', proto='v2',
         pre=['sub'], send=b'FIN 0123456789abcdef\n',
         want=[('err', b'E_FIN_FAILED FIN 0123456789abcdef failed ID not '
                b'in flight')], end='open'),
    dict(id='v2-req-not-in-flight', go='nsqd/protocol_v2.go:740-743, '
         'nsqd/channel.go:490', ours=V2F + ' cmd_req', proto='v2',
         pre=['sub'], send=b'REQ 0123456789abcdef 0\n',
         want=[('err', b'E_REQ_FAILED REQ 0123456789abcdef failed ID not '
                b'in flight')], end='open'),
    dict(id='v2-cls-before-sub', go='nsqd/protocol_v2.go:752-753',
         ours=V2F + ' cmd_cls', proto='v2', send=b'CLS\n',
         want=[('err', b'E_INVALID cannot CLS in current state')],
         end='close'),
    dict(id='v2-cls', go='nsqd/protocol_v2.go:756-758',
         ours=V2F + ' cmd_cls', proto='v2', pre=['sub'], send=b'CLS\n',
         want=[('resp', b'CLOSE_WAIT')], end=None),
    dict(id='v2-pub-params', go='nsqd/protocol_v2.go:768-769',
         ours=V2F + ' cmd_pub', proto='v2', send=b'PUB\n',
         want=[('err', b'E_INVALID PUB insufficient number of '
                b'parameters')], end='close'),
    dict(id='v2-pub-bad-topic', go='nsqd/protocol_v2.go:773-775',
         ours=V2F + ' cmd_pub', proto='v2', send=b'PUB a!b\n',
         want=[('err', b'E_BAD_TOPIC PUB topic name "a!b" is not valid')],
         end='close'),
    dict(id='v2-pub-size-0', go='nsqd/protocol_v2.go:783-785',
         ours=V2F + ' pub_one', proto='v2', send=b'PUB {t}\n' + _size(0),
         want=[('err', b'E_BAD_MESSAGE PUB invalid message body size 0')],
         end='close', after=['no-topic']),
    dict(id='v2-pub-too-big', go='nsqd/protocol_v2.go:788-790',
         ours=V2F + ' pub_one', proto='v2',
         send=b'PUB {t}\n' + _size(1048577),
         want=[('err', b'E_BAD_MESSAGE PUB message too big 1048577 > '
                b'1048576')], end='close', after=['no-topic']),
    dict(id='v2-pub', go='nsqd/protocol_v2.go:803-812',
         ours=V2F + ' pub_one', proto='v2', send=b'PUB {t}\n' + _body(b'x'),
         want=[('resp', b'OK')], end='open', after=['topic']),
    dict(id='v2-dpub-range', go='nsqd/protocol_v2.go:888-891',
         ours=V2F + ' cmd_dpub', proto='v2', send=b'DPUB {t} 3600001\n',
         want=[('err', b'E_INVALID DPUB timeout 3600001 out of range '
                b'0-3600000')], end='close'),
    dict(id='v2-dpub-parse', go='nsqd/protocol_v2.go:881-884',
         ours=V2F + ' cmd_dpub', proto='v2', send=b'DPUB {t} x\n',
         want=[('err', b'E_INVALID DPUB could not parse timeout x')],
         end='close'),
    dict(id='v2-mpub-bad-topic', go='nsqd/protocol_v2.go:823-825',
         ours=V2F + ' cmd_mpub', proto='v2', send=b'MPUB a!b\n',
         want=[('err', b'E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "a!b" is '
                b'not valid')], end='close'),
    dict(id='v2-mpub-size-0-creates-topic',
         go='nsqd/protocol_v2.go:832,839-841', ours=V2F + ' cmd_mpub',
         proto='v2', send=b'MPUB {t}\n' + _size(0),
         want=[('err', b'E_BAD_BODY MPUB invalid body size 0')],
         end='close', after=['topic']),
    dict(id='v2-mpub-count-0-creates-topic',
         go='nsqd/protocol_v2.go:832,966-969', ours=V2F + ' cmd_mpub',
         proto='v2', send=b'MPUB {t}\n' + _body(_size(0)),
         want=[('err', b'E_BAD_BODY MPUB invalid message count 0')],
         end='close', after=['topic']),
    dict(id='v2-mpub-msg-size-0', go='nsqd/protocol_v2.go:980-982',
         ours=V2F + ' cmd_mpub', proto='v2',
         send=b'MPUB {t}\n' + _body(_size(1) + _size(0)),
         want=[('err', b'E_BAD_MESSAGE MPUB invalid message(0) body '
                b'size 0')], end='close'),
    dict(id='v2-mpub-body-longer-than-messages',
         go='nsqd/protocol_v2.go:849-865,959-1000 (the rest of the '
         'declared body is read as the next command)',
         ours=V2F + ' cmd_mpub', proto='v2',
         send=b'MPUB {t}\n' + _size(13) + _mpub([b'a']) + b'NOP\n',
         want=[('resp', b'OK')], end='open', after=['topic']),
    dict(id='v2-mpub-body-shorter-than-messages',
         go='nsqd/protocol_v2.go:844-850,959-1000 (the messages are read '
         'from the stream past the declared size)',
         ours=V2F + ' cmd_mpub', proto='v2',
         send=b'MPUB {t}\n' + _size(5) + _mpub([b'a']),
         want=[('resp', b'OK')], end='open', after=['topic']),
    dict(id='v2-mpub', go='nsqd/protocol_v2.go:858-865',
         ours=V2F + ' cmd_mpub', proto='v2',
         send=b'MPUB {t}\n' + _body(_mpub([b'a', b'b'])),
         want=[('resp', b'OK')], end='open', after=['topic']),
    # ---- nsqd HTTP --------------------------------------------------------
    dict(id='http-ping', go='nsqd/http.go:57,122-128, '
         'internal/http_api/api_response.go:27-47', ours=HTTPF + ' h_ping',
         proto='http', method='GET', path='/ping', status=200, rbody=b'OK',
         hdr={'Content-Type': TEXT, 'X-NSQ-Content-Type': None}),
    dict(id='http-info-keys', go='nsqd/http.go:144-166',
         ours=HTTPF + ' h_info', proto='http', method='GET', path='/info',
         status=200, keys=['version', 'broadcast_address', 'hostname',
                           'http_port', 'tcp_port', 'start_time',
                           'max_heartbeat_interval',
                           'max_output_buffer_size',
                           'max_output_buffer_timeout',
                           'max_deflate_level'],
         hdr={'Content-Type': JSON, 'X-NSQ-Content-Type': NSQ}),
    dict(id='http-not-found', go='internal/http_api/api_response.go:'
         '84-96,135-141', ours=LIBH + ' req_builtin', proto='http',
         method='GET', path='/nope', status=404,
         rbody=b'{"message":"NOT_FOUND"}',
         hdr={'Content-Type': JSON, 'X-NSQ-Content-Type': NSQ}),
    dict(id='http-405-allow-pub', go='httprouter router.go:344-372,431-443',
         ours=LIBH + ' req_builtin', proto='http', method='GET',
         path='/pub', status=405, rbody=b'{"message":"METHOD_NOT_ALLOWED"}',
         hdr={'Allow': 'OPTIONS, POST', 'X-NSQ-Content-Type': NSQ}),
    dict(id='http-405-allow-config', go='httprouter router.go:344-372',
         ours=LIBH + ' req_builtin', proto='http', method='DELETE',
         path='/config/msg_timeout', status=405,
         rbody=b'{"message":"METHOD_NOT_ALLOWED"}',
         hdr={'Allow': 'GET, OPTIONS, PUT'}),
    dict(id='http-options', go='httprouter router.go:422-430',
         ours=LIBH + ' req_builtin', proto='http', method='OPTIONS',
         path='/pub', status=200, rbody=b'',
         hdr={'Allow': 'OPTIONS, POST', 'X-NSQ-Content-Type': None,
              'Content-Type': None}),
    dict(id='http-pub-empty-no-topic', go='nsqd/http.go:227-231',
         ours=HTTPF + ' h_pub', proto='http', method='POST',
         path='/pub?topic={t}', body=b'', status=400,
         rbody=b'{"message":"MSG_EMPTY"}', after=['no-topic']),
    dict(id='http-pub-too-big', go='nsqd/http.go:213-214',
         ours=LIBH + ' on_headers_complete', proto='http', method='POST',
         path='/pub?topic={t}', body=b'x' * 1048577, status=413,
         rbody=b'{"message":"MSG_TOO_BIG"}', after=['no-topic']),
    dict(id='http-pub-missing-topic', go='nsqd/http.go:196-198',
         ours=HTTPF + ' topic_from_query', proto='http', method='POST',
         path='/pub', body=b'x', status=400,
         rbody=b'{"message":"MISSING_ARG_TOPIC"}'),
    dict(id='http-pub-invalid-topic', go='nsqd/http.go:202-203',
         ours=HTTPF + ' topic_from_query', proto='http', method='POST',
         path='/pub?topic=a!b', body=b'x', status=400,
         rbody=b'{"message":"INVALID_TOPIC"}'),
    dict(id='http-pub-bad-defer-creates-topic',
         go='nsqd/http.go:231,237-246', ours=HTTPF + ' h_pub',
         proto='http', method='POST', path='/pub?topic={t}&defer=x',
         body=b'x', status=400, rbody=b'{"message":"INVALID_DEFER"}',
         after=['topic']),
    dict(id='http-pub', go='nsqd/http.go:256, '
         'internal/http_api/api_response.go:66-69,91-96',
         ours=HTTPF + ' h_pub', proto='http', method='POST',
         path='/pub?topic={t}', body=b'x', status=200, rbody=b'OK',
         hdr={'Content-Type': TEXT, 'X-NSQ-Content-Type': NSQ}),
    dict(id='http-mpub-binary-bad-creates-topic',
         go='nsqd/http.go:270,283-289,959-969',
         ours=HTTPF + ' h_mpub', proto='http', method='POST',
         path='/mpub?topic={t}&binary=true', body=_size(0), status=413,
         rbody=b'{"message":"BAD_BODY"}', after=['topic']),
    dict(id='http-mpub-binary-bad-message',
         go='nsqd/http.go:288,980-982', ours=HTTPF + ' check_mpub',
         proto='http', method='POST', path='/mpub?topic={t}&binary=1',
         body=_size(1) + _size(0), status=413,
         rbody=b'{"message":"BAD_MESSAGE"}'),
    dict(id='http-mpub-text-too-big-line', go='nsqd/http.go:320-322',
         ours=HTTPF + ' h_mpub', proto='http', method='POST',
         path='/mpub?topic={t}', body=b'a\n' + b'x' * 1048577, status=413,
         rbody=b'{"message":"MSG_TOO_BIG"}', after=['topic']),
    dict(id='http-topic-create-empty', go='nsqd/http.go:337-340, '
         'internal/http_api/api_response.go:72-73,91-96',
         ours=HTTPF + ' h_topic_create', proto='http', method='POST',
         path='/topic/create?topic={t}', status=200, rbody=b'',
         hdr={'Content-Type': None, 'X-NSQ-Content-Type': NSQ},
         after=['topic']),
    dict(id='http-topic-empty-invalid', go='nsqd/http.go:354-356',
         ours=HTTPF + ' existing_topic', proto='http', method='POST',
         path='/topic/empty?topic=a!b', status=400,
         rbody=b'{"message":"INVALID_TOPIC"}'),
    dict(id='http-topic-delete-unchecked-name', go='nsqd/http.go:378-386',
         ours=HTTPF + ' existing_topic', proto='http', method='POST',
         path='/topic/delete?topic=a!b', status=404,
         rbody=b'{"message":"TOPIC_NOT_FOUND"}'),
    dict(id='http-channel-create-invalid', go='nsqd/http.go:176-179, '
         'internal/http_api/topic_channel_args.go:19-21',
         ours=HTTPF + ' topic_channel', proto='http', method='POST',
         path='/channel/create?topic=a!b&channel=c', status=400,
         rbody=b'{"message":"INVALID_ARG_TOPIC"}'),
    dict(id='http-channel-create-no-topic', go='nsqd/http.go:181-184',
         ours=HTTPF + ' topic_channel', proto='http', method='POST',
         path='/channel/create?topic={t}&channel=c', status=404,
         rbody=b'{"message":"TOPIC_NOT_FOUND"}', after=['no-topic']),
    dict(id='http-stats-bad-query', go='nsqd/http.go:498-502',
         ours=HTTPF + ' query_ok', proto='http', method='GET',
         path='/stats?a=%zz', status=400,
         rbody=b'{"message":"INVALID_REQUEST"}'),
    dict(id='http-config-lookupd-default', go='nsqd/options.go:111, '
         'apps/nsqd/options.go:140-141, go-options options.go:93-95',
         ours=HTTPF + ' reply_option', proto='http', method='GET',
         path='/config/nsqlookupd_tcp_addresses', status=200, rbody=b'[]',
         hdr={'Content-Type': JSON}),
    dict(id='http-config-auth-default', go='nsqd/options.go:112, '
         'apps/nsqd/options.go:135-136', ours=HTTPF + ' reply_option',
         proto='http', method='GET', path='/config/auth_http_addresses',
         status=200, rbody=b'[]'),
    dict(id='http-config-e2e-default', go='apps/nsqd/options.go:180-181, '
         'internal/app/float_array.go:13', ours=HTTPF + ' reply_option',
         proto='http', method='GET',
         path='/config/e2e_processing_latency_percentiles', status=200,
         rbody=b'[]'),
    dict(id='http-config-verbose', go='nsqd/http.go:660-663,668-687 '
         '(no Options field)', ours=HTTPF + ' reply_option', proto='http',
         method='GET', path='/config/verbose', status=400,
         rbody=b'{"message":"INVALID_OPTION"}'),
    dict(id='http-config-put-empty', go='nsqd/http.go:635-637',
         ours=HTTPF + ' h_config', proto='http', method='PUT',
         path='/config/log_level', body=b'', status=413,
         rbody=b'{"message":"INVALID_VALUE"}'),
    dict(id='http-freememory', go='nsqd/http.go:89,104-107, '
         'internal/http_api/api_response.go:42-43,126-132',
         ours=HTTPF + ' h_freememory', proto='http', method='POST',
         path='/debug/freememory', status=500,
         rbody=b'{"message":"INTERNAL_ERROR"}'),

    # ---- nsqlookupd -------------------------------------------------------
    dict(id='lhttp-ping', go='nsqlookupd/http.go:33,68-70',
         ours='cmd/nsqlookupd/http.c h_ping', proto='lhttp', method='GET',
         path='/ping', status=200, rbody=b'OK',
         hdr={'Content-Type': TEXT, 'X-NSQ-Content-Type': None}),
    dict(id='lhttp-topics-empty', go='nsqlookupd/http.go:80-85, '
         'nsqlookupd/registration_db.go:127,196-202',
         ours='cmd/nsqlookupd/http.c h_topics', proto='lhttp',
         method='GET', path='/topics', status=200,
         rbody=b'{"topics":[]}'),
    dict(id='lhttp-channels-empty', go='nsqlookupd/http.go:98-101',
         ours='cmd/nsqlookupd/http.c h_channels', proto='lhttp',
         method='GET', path='/channels?topic={t}', status=200,
         rbody=b'{"channels":[]}'),
    dict(id='lhttp-nodes-empty', go='nsqlookupd/http.go:267,301-303',
         ours='cmd/nsqlookupd/http.c h_nodes', proto='lhttp',
         method='GET', path='/nodes', status=200,
         rbody=b'{"producers":[]}'),
    dict(id='lhttp-lookup-missing', go='nsqlookupd/http.go:115-118',
         ours='cmd/nsqlookupd/http.c h_lookup', proto='lhttp',
         method='GET', path='/lookup?topic={t}', status=404,
         rbody=b'{"message":"TOPIC_NOT_FOUND"}'),
    dict(id='lhttp-tombstone-no-node', go='nsqlookupd/http.go:189-192',
         ours='cmd/nsqlookupd/http.c h_topic_tombstone', proto='lhttp',
         method='POST', path='/topic/tombstone?topic={t}', status=400,
         rbody=b'{"message":"MISSING_ARG_NODE"}'),
    dict(id='lhttp-405-allow', go='httprouter router.go:344-372',
         ours=LIBH + ' req_builtin', proto='lhttp', method='GET',
         path='/topic/create', status=405,
         rbody=b'{"message":"METHOD_NOT_ALLOWED"}',
         hdr={'Allow': 'OPTIONS, POST'}),
    dict(id='v1-invalid-command', go='nsqlookupd/lookup_protocol_v1.go:100',
         ours='cmd/nsqlookupd/v1.c', proto='v1', send=b'FOO\n',
         want=[('reply', b'E_INVALID invalid command FOO')], end='close'),
    dict(id='v1-register-first', go='nsqlookupd/lookup_protocol_v1.go:'
         '126-127', ours='cmd/nsqlookupd/v1.c cmd_register', proto='v1',
         send=b'REGISTER t\n',
         want=[('reply', b'E_INVALID client must IDENTIFY')], end='close'),
    dict(id='v1-identify-missing-fields', go='nsqlookupd/'
         'lookup_protocol_v1.go:228-231', ours='cmd/nsqlookupd/v1.c '
         'cmd_identify', proto='v1',
         send=b'IDENTIFY\n' + _body(b'{"tcp_port":1}'),
         want=[('reply', b'E_BAD_BODY IDENTIFY missing fields')],
         end='close'),
    dict(id='v1-ping', go='nsqlookupd/lookup_protocol_v1.go:263-273',
         ours='cmd/nsqlookupd/v1.c', proto='v1', send=b'PING\n',
         want=[('reply', b'OK')], end=None),
]

BY_ID = {c['id']: c for c in CASES}
assert len(BY_ID) == len(CASES), 'duplicate case ids'


class Fail(AssertionError):
    pass


def _port(name):
    return int(os.environ[name])


class Sock(object):
    def __init__(self, port, timeout=5):
        self.s = socket.create_connection(('127.0.0.1', port), timeout)
        self.buf = b''
        self.timeout = timeout

    def send(self, b):
        self.s.sendall(b)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail('timeout: have %r' % self.buf[:200])
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                raise Fail('closed: have %r' % self.buf[:200])
            self.buf += chunk

    def take(self, n, deadline):
        self._fill(n, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def v2_frame(self):
        """A frame, heartbeats skipped: (kind, data)."""
        deadline = time.monotonic() + self.timeout
        while True:
            size, ftype = struct.unpack('>ii', self.take(8, deadline))
            data = self.take(size - 4, deadline)
            if ftype == 0 and data == b'_heartbeat_':
                continue
            return {0: 'resp', 1: 'err', 2: 'msg'}.get(ftype, ftype), data

    def v1_reply(self):
        deadline = time.monotonic() + self.timeout
        size, = struct.unpack('>i', self.take(4, deadline))
        return 'reply', self.take(size, deadline)

    def closed(self):
        """True once the server closed; the bytes it sent meanwhile stay
        in .buf."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False


def topic_exists(t):
    c = http.client.HTTPConnection('127.0.0.1', _port('NSQD_HTTP_PORT'),
                                   timeout=5)
    c.request('GET', '/stats?format=json&topic=' + t)
    s = json.loads(c.getresponse().read())
    return any(x['topic_name'] == t for x in (s['topics'] or []))


def check_after(case, t):
    for a in case.get('after', []):
        if a == 'topic' and not topic_exists(t):
            raise Fail('topic %s does not exist afterwards' % t)
        if a == 'no-topic' and topic_exists(t):
            raise Fail('topic %s exists afterwards' % t)


def run_tcp(case, t):
    v1 = case['proto'] == 'v1'
    s = Sock(_port('NSQLOOKUPD_TCP_PORT' if v1 else 'NSQD_TCP_PORT'))
    read = s.v1_reply if v1 else s.v2_frame
    s.send(case.get('magic', b'  V1' if v1 else b'  V2'))
    for step in case.get('pre', []):
        if step == 'identify':
            s.send(b'IDENTIFY\n' + _body(b'{}'))
        elif step == 'sub':
            s.send(b'SUB ' + t.encode() + b' c\n')
        got = read()
        if got != ('resp', b'OK'):
            raise Fail('%s: got %r' % (step, got))
    s.send(case['send'].replace(b'{t}', t.encode()))
    for want in case['want']:
        got = read()
        if got != want:
            raise Fail('want %r\n got %r' % (want, got))
    end = case['end']
    if end in ('close', 'silent'):
        if not s.closed():
            raise Fail('connection still open')
        if s.buf:
            raise Fail('bytes before the close: %r' % s.buf[:200])
    elif end == 'open':
        s.send(b'PUB ' + t.encode() + b'\n' + _body(b'alive'))
        got = read()
        if got != ('resp', b'OK'):
            raise Fail('connection not usable: %r' % (got,))
    check_after(case, t)


def run_http(case, t):
    port = _port('NSQLOOKUPD_HTTP_PORT' if case['proto'] == 'lhttp'
                 else 'NSQD_HTTP_PORT')
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    body = case.get('body')
    headers = {}
    if body is not None:
        headers['Content-Length'] = str(len(body))
    try:
        c.request(case['method'], case['path'].replace('{t}', t),
                  body=body, headers=headers)
    except (BrokenPipeError, ConnectionResetError):
        pass    # refused before the whole body went: the reply is there
    r = c.getresponse()
    data = r.read()
    if r.status != case['status']:
        raise Fail('status %d, want %d (body %r)'
                   % (r.status, case['status'], data[:200]))
    if 'rbody' in case and data != case['rbody']:
        raise Fail('body %r\nwant %r' % (data[:300], case['rbody']))
    if 'keys' in case:
        got = list(json.loads(data))
        if got != case['keys']:
            raise Fail('keys %r\nwant %r' % (got, case['keys']))
    for name, want in case.get('hdr', {}).items():
        got = r.getheader(name)
        if got != want:
            raise Fail('header %s: %r, want %r' % (name, got, want))
    check_after(case, t)


def run(case_id):
    case = BY_ID[case_id]
    t = 'parity-%s-%d' % (case_id, os.getpid())
    if case['proto'] in ('v1', 'v2'):
        run_tcp(case, t)
    else:
        run_http(case, t)


def main(argv):
    if argv[1:] == ['--ids']:
        for c in CASES:
            print(c['id'])
        return 0
    case = BY_ID.get(argv[1]) if len(argv) == 2 else None
    if case is None:
        print('usage: parity_cases.py ID | --ids', file=sys.stderr)
        return 2
    try:
        run(argv[1])
    except Fail as e:
        print('%s (Go %s; ours %s): %s' % (case['id'], case['go'],
                                           case['ours'], e),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
