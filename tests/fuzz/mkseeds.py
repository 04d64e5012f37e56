#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets that are not hand-made
(fuzz_diskqueue, fuzz_frame, fuzz_compress, fuzz_config,
fuzz_json_replies, fuzz_nsqd_meta) into tests/fuzz/corpus/<target>/.
Run once from the top directory; the files are committed, so this only
documents how they were made and remakes them after a format change.
Crash inputs the fuzzers found are committed beside them by hand."""
import os
import struct
import zlib

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def put(target, name, data):
    d = os.path.join(TOP, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# fuzz_diskqueue: [meta length][flags][meta][data files]
def rec(b):
    return struct.pack('>i', len(b)) + b


def dq(meta, data, flags=0x06):
    meta = meta.encode()
    return bytes([len(meta), flags]) + meta + data


three = rec(b'one') + rec(b'two') + rec(b'three')
put('fuzz_diskqueue', 'three', dq('3\n0,0\n0,%d\n' % len(three), three))
put('fuzz_diskqueue', 'half_read',
    dq('2\n0,7\n0,%d\n' % len(three), three))
put('fuzz_diskqueue', 'no_meta', dq('', three))
put('fuzz_diskqueue', 'two_files',
    dq('4\n0,0\n1,%d\n' % (len(three) * 2 - len(three)), three + three,
       0x26))
put('fuzz_diskqueue', 'too_big', dq('1\n0,0\n0,8\n',
                                    struct.pack('>i', 1 << 20) + b'xxxx'))
put('fuzz_diskqueue', 'negative', dq('1\n0,0\n0,8\n',
                                     struct.pack('>i', -1) + b'xxxx'))
put('fuzz_diskqueue', 'cut', dq('3\n0,0\n0,%d\n' % len(three), three[:-3]))
put('fuzz_diskqueue', 'depth_lies', dq('99\n0,0\n0,%d\n' % len(three),
                                       three))
put('fuzz_diskqueue', 'past_end', dq('1\n5,999\n3,12\n', three))
put('fuzz_diskqueue', 'garbage_meta', dq('x\ny,z\n-1,-5\n', three))
put('fuzz_diskqueue', 'small_files_commit',
    dq('3\n0,0\n0,%d\n' % len(three), three, 0xc6))
put('fuzz_diskqueue', 'huge_claim', dq('1\n0,0\n0,8\n',
                                       struct.pack('>i', 1 << 30) + b'xxxx',
                                       0x0f))
put('fuzz_diskqueue', 'zero_len', dq('2\n0,0\n0,8\n', rec(b'') + rec(b''),
                                     0x02))


# fuzz_frame: [chunk | max << 5] frames...
def frame(t, b):
    return struct.pack('>ii', len(b) + 4, t) + b


msg = struct.pack('>qH', 1, 1) + b'0123456789abcdef' + b'body'
put('fuzz_frame', 'ok', b'\x00' + frame(0, b'OK'))
put('fuzz_frame', 'heartbeat', b'\x43' + frame(0, b'_heartbeat_'))
put('fuzz_frame', 'error', b'\x65' + frame(1, b'E_INVALID bad'))
put('fuzz_frame', 'messages', b'\x81' + frame(2, msg) * 3)
put('fuzz_frame', 'mixed', b'\x67' + frame(0, b'OK') + frame(2, msg) +
    frame(1, b'E_FIN_FAILED x'))
put('fuzz_frame', 'bad_type', b'\x40' + frame(7, b'x'))
put('fuzz_frame', 'small_size', b'\x40' + struct.pack('>ii', 3, 0))
put('fuzz_frame', 'too_big', b'\x00' + frame(0, b'x' * 64))
put('fuzz_frame', 'empty_data', b'\x02' + frame(0, b''))


# fuzz_compress: [chunk | max << 6] stream
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 if c & 1 else 0)
    return c ^ 0xffffffff


def masked(b):
    c = crc32c(b)
    return (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xffffffff


def schunk(t, body):
    return bytes([t]) + struct.pack('<I', len(body))[:3] + body


sid = schunk(0xff, b'sNaPpY')
plain = b'PUB t\n' + struct.pack('>i', 5) + b'hello'
unc = schunk(0x01, struct.pack('<I', masked(plain)) + plain)
# A snappy block by hand: varint length, then one literal (tag (n-1)<<2).
block = bytes([len(plain), (len(plain) - 1) << 2]) + plain
comp = schunk(0x00, struct.pack('<I', masked(plain)) + block)
put('fuzz_compress', 'snappy_unc', b'\x05' + sid + unc)
put('fuzz_compress', 'snappy_comp', b'\x00' + sid + comp + unc)
put('fuzz_compress', 'snappy_pad', b'\x03' + sid + schunk(0xfe, b'\0' * 5) +
    unc)
put('fuzz_compress', 'snappy_bad_crc', b'\x00' + sid +
    schunk(0x01, b'\0\0\0\0' + plain))
put('fuzz_compress', 'snappy_no_id', b'\x00' + unc)
put('fuzz_compress', 'snappy_reserved', b'\x00' + sid + schunk(0x02, b'x'))
z = zlib.compressobj(6, zlib.DEFLATED, -15)
dfl = z.compress(plain * 3) + z.flush(zlib.Z_SYNC_FLUSH)
dfl += z.compress(b'NOP\n') + z.flush(zlib.Z_SYNC_FLUSH)
put('fuzz_compress', 'deflate', b'\x07' + dfl)
z = zlib.compressobj(9, zlib.DEFLATED, -15)
put('fuzz_compress', 'deflate_bomb', b'\x00' +
    z.compress(b'\0' * 200000) + z.flush(zlib.Z_SYNC_FLUSH))
z = zlib.compressobj(1, zlib.DEFLATED, -15)
put('fuzz_compress', 'deflate_end', b'\x00' + z.compress(b'x') + z.flush())

# fuzz_config: [mode] file
conf = '''# nsqd.cfg
verbose = true
mem_queue_size = 10_000
worker_id = 0x10
msg_timeout = "90s"
data_path = "/var/lib/nsq\\t\\u00e9"
tls_required = "tcp-https"
nsqlookupd_tcp_addresses = [
    "127.0.0.1:4160",  # first
    '127.0.0.2:4160',
]
e2e_processing_latency_percentiles = [0.5, 1, 0.99]
auth_http_addresses = 'a:1'
unknown = "ignored"
'''
put('fuzz_config', 'all', '\x00' + conf)
put('fuzz_config', 'cmdline', '\x01' + conf)
put('fuzz_config', 'ms_duration', '\x00msg_timeout = 60000\n'
    'tls_required = false\nverbose = "t"\n')
put('fuzz_config', 'out_of_range', '\x00worker_id = 4096\n')
put('fuzz_config', 'bad_line', '\x00mem_queue_size 3\n')
put('fuzz_config', 'unterminated', '\x00nsqlookupd_tcp_addresses = [1, 2\n')
put('fuzz_config', 'bad_string', '\x00data_path = "a\\q"\n')
put('fuzz_config', 'crlf', '\x01verbose = false\r\n'
    'e2e_processing_latency_percentiles = [1.0, 0.99,\r\n 0.5]\r\n')

# fuzz_json_replies: one reply, read both ways
put('fuzz_json_replies', 'identify',
    '{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,'
    '"msg_timeout":60000,"tls_v1":false,"deflate":false,'
    '"deflate_level":6,"max_deflate_level":6,"snappy":false,'
    '"sample_rate":0,"auth_required":true,"output_buffer_size":16384,'
    '"output_buffer_timeout":250}')
put('fuzz_json_replies', 'ok', 'OK')
put('fuzz_json_replies', 'identify_types',
    '{"max_rdy_count":"x","auth_required":1,"version":'
    '"0123456789012345678901234567890123456789"}')
put('fuzz_json_replies', 'lookup',
    '{"channels":["c"],"producers":[{"remote_address":"127.0.0.1:5555",'
    '"hostname":"b","broadcast_address":"zeta","tcp_port":4150,'
    '"http_port":4151,"version":"1.3.0"},{"broadcast_address":"::1",'
    '"tcp_port":4250}]}')
put('fuzz_json_replies', 'lookup_old',
    '{"status_code":200,"status_txt":"OK","data":{"channels":[],'
    '"producers":[{"broadcast_address":"h","tcp_port":1}]}}')
put('fuzz_json_replies', 'lookup_bad',
    '{"producers":[{"broadcast_address":"","tcp_port":-1},'
    '{"tcp_port":70000}]}')
put('fuzz_json_replies', 'escapes', '{"version":"\\u00e9\\ud83d\\ude00"}')

# fuzz_nsqd_meta: nsqd.dat, then "\n\xff" and file names a line
dat = ('{"topics":[{"channels":[{"name":"c","paused":false},'
       '{"name":"d","paused":true}],"name":"t","paused":false},'
       '{"channels":[],"name":"u","paused":true}],"version":"1.3.0"}')
put('fuzz_nsqd_meta', 'go', dat)
put('fuzz_nsqd_meta', 'go_files', dat.encode() +
    b'\n\xfft.diskqueue.meta.dat\nt:c.diskqueue.meta.dat\n'
    b'v:e.diskqueue.meta.dat\nw.diskqueue.000000.dat')
put('fuzz_nsqd_meta', 'no_dat', b'\n\xffa.diskqueue.meta.dat\n'
    b'a:b#ephemeral.diskqueue.meta.dat\nbad name.diskqueue.meta.dat')
put('fuzz_nsqd_meta', 'null_channels',
    '{"topics":[{"name":"t","channels":null}]}')
put('fuzz_nsqd_meta', 'bad_entries',
    '{"topics":[{"name":1},{"name":"x#ephemeral"},{"name":"ok",'
    '"paused":"yes"},{"name":"t","channels":[{"nome":"c"}]},7]}')
put('fuzz_nsqd_meta', 'not_object', '[1,2,3]')
put('fuzz_nsqd_meta', 'cut', dat[:40])
