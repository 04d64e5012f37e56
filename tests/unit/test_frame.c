/*
 * Unit tests for lib/frame: the V2 frame decoder fed whole, by every
 * truncated prefix and byte by byte, its refusals, and the command
 * encoders byte for byte (with their all-or-nothing rollback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "buffer.h"
#include "frame.h"

/* A frame of type t around data. */
static size_t
mkframe(unsigned char *out, int t, const void *data, size_t len)
{
	be32enc(out, (uint32_t)(len + 4));
	be32enc(out + 4, (uint32_t)t);
	memcpy(out + 8, data, len);
	return len + 8;
}

static void
test_decode_whole(void **state)
{
	unsigned char b[64];
	struct frame f;
	size_t n;

	(void)state;
	n = mkframe(b, FRAME_RESPONSE, "OK", 2);
	assert_int_equal(frame_decode(b, n, 1024, &f), (ssize_t)n);
	assert_int_equal(f.type, FRAME_RESPONSE);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.data, "OK", 2);
	/* An empty error frame is still a frame. */
	n = mkframe(b, FRAME_ERROR, "", 0);
	assert_int_equal(frame_decode(b, n, 1024, &f), 8);
	assert_int_equal(f.type, FRAME_ERROR);
	assert_int_equal(f.len, 0);
}

static void
test_decode_every_prefix(void **state)
{
	unsigned char b[128];
	const char *msg = "\x15\x6b\x3a\x4c\x2f\x00\x00\x00\x00\x01"
	    "0123456789abcdefhello";
	struct frame f;
	size_t n, i;

	(void)state;
	n = mkframe(b, FRAME_MESSAGE, msg, 31);
	for (i = 0; i < n; i++)
		assert_int_equal(frame_decode(b, i, 1024, &f), 0);
	assert_int_equal(frame_decode(b, n, 1024, &f), (ssize_t)n);
	assert_int_equal(f.type, FRAME_MESSAGE);
	assert_int_equal(f.len, 31);
	assert_memory_equal(f.data, msg, 31);
}

/* Frames arriving one byte at a time through a struct buf, as conn.c. */
static void
test_decode_byte_by_byte(void **state)
{
	unsigned char stream[256];
	struct buf in;
	struct frame f;
	size_t n = 0, i;
	ssize_t r;
	int got = 0;

	(void)state;
	n += mkframe(stream + n, FRAME_RESPONSE, "_heartbeat_", 11);
	n += mkframe(stream + n, FRAME_ERROR, "E_INVALID bad", 13);
	n += mkframe(stream + n, FRAME_RESPONSE, "{\"a\":1}", 7);
	buf_init(&in, 4, 1024);
	for (i = 0; i < n; i++) {
		assert_int_equal(buf_append(&in, stream + i, 1), 0);
		while ((r = frame_decode(buf_data(&in), buf_len(&in), 1024,
		    &f)) > 0) {
			switch (got++) {
			case 0:
				assert_int_equal(f.len, 11);
				assert_memory_equal(f.data, "_heartbeat_", 11);
				break;
			case 1:
				assert_int_equal(f.type, FRAME_ERROR);
				assert_memory_equal(f.data, "E_INVALID bad",
				    13);
				break;
			case 2:
				assert_memory_equal(f.data, "{\"a\":1}", 7);
				break;
			}
			buf_consume(&in, (size_t)r);
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(got, 3);
	assert_int_equal(buf_len(&in), 0);
	buf_free(&in);
}

static void
test_decode_refuses(void **state)
{
	unsigned char b[64];
	struct frame f;

	(void)state;
	/* size below 4 */
	be32enc(b, 3);
	assert_int_equal(frame_decode(b, 4, 1024, &f), -1);
	/* over the maximum, refused from the size alone */
	be32enc(b, 4 + 2000);
	assert_int_equal(frame_decode(b, 4, 1024, &f), -1);
	/* at the maximum: fine (needs more) */
	be32enc(b, 4 + 1024);
	be32enc(b + 4, FRAME_RESPONSE);
	assert_int_equal(frame_decode(b, 8, 1024, &f), 0);
	/* unknown type */
	mkframe(b, 3, "x", 1);
	assert_int_equal(frame_decode(b, 9, 1024, &f), -1);
	mkframe(b, -1, "x", 1);
	assert_int_equal(frame_decode(b, 9, 1024, &f), -1);
}

static void
test_encode_simple(void **state)
{
	struct buf b;
	const char *id = "0123456789abcdef";

	(void)state;
	buf_init(&b, 16, 4096);
	assert_int_equal(frame_magic(&b), 0);
	assert_int_equal(frame_sub(&b, "t", "c#ephemeral"), 0);
	assert_int_equal(frame_rdy(&b, 200), 0);
	assert_int_equal(frame_fin(&b, id), 0);
	assert_int_equal(frame_req(&b, id, 1500), 0);
	assert_int_equal(frame_req(&b, id, -5), 0);
	assert_int_equal(frame_touch(&b, id), 0);
	assert_int_equal(frame_nop(&b), 0);
	assert_int_equal(frame_cls(&b), 0);
	{
		const char *want = "  V2SUB t c#ephemeral\nRDY 200\n"
		    "FIN 0123456789abcdef\nREQ 0123456789abcdef 1500\n"
		    "REQ 0123456789abcdef 0\nTOUCH 0123456789abcdef\n"
		    "NOP\nCLS\n";

		assert_int_equal(buf_len(&b), strlen(want));
		assert_memory_equal(buf_data(&b), want, strlen(want));
	}
	buf_free(&b);
}

static void
test_encode_bodies(void **state)
{
	struct buf b;
	const unsigned char *p;
	struct iovec v[3];

	(void)state;
	buf_init(&b, 16, 4096);
	assert_int_equal(frame_pub(&b, "top", "hi", 2), 0);
	assert_int_equal(buf_len(&b), 8 + 4 + 2);
	assert_memory_equal(buf_data(&b), "PUB top\n\0\0\0\2hi", 14);
	buf_reset(&b);
	assert_int_equal(frame_dpub(&b, "top", 250, "x", 1), 0);
	assert_memory_equal(buf_data(&b), "DPUB top 250\n\0\0\0\1x", 18);
	buf_reset(&b);
	assert_int_equal(frame_identify(&b, "{}", 2), 0);
	assert_memory_equal(buf_data(&b), "IDENTIFY\n\0\0\0\2{}", 15);
	buf_reset(&b);

	v[0].iov_base = (void *)(uintptr_t)"a";
	v[0].iov_len = 1;
	v[1].iov_base = (void *)(uintptr_t)"bcd";
	v[1].iov_len = 3;
	v[2].iov_base = (void *)(uintptr_t)"\0\n";
	v[2].iov_len = 2;
	assert_int_equal(frame_mpub(&b, "t", v, 3), 0);
	assert_int_equal(buf_len(&b), frame_mpub_size("t", v, 3));
	p = (const unsigned char *)buf_data(&b);
	assert_memory_equal(p, "MPUB t\n", 7);
	/* body = count + 3 x (len + data) */
	assert_int_equal(be32dec(p + 7), 4 + (4 + 1) + (4 + 3) + (4 + 2));
	assert_int_equal(be32dec(p + 11), 3);
	assert_int_equal(be32dec(p + 15), 1);
	assert_memory_equal(p + 19, "a", 1);
	assert_int_equal(be32dec(p + 20), 3);
	assert_memory_equal(p + 24, "bcd", 3);
	assert_int_equal(be32dec(p + 27), 2);
	assert_memory_equal(p + 31, "\0\n", 2);
	buf_free(&b);
}

/* A command that does not fit leaves the buffer as it was. */
static void
test_encode_rollback(void **state)
{
	struct buf b;
	char big[100];
	struct iovec v[2];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 8, 64);
	assert_int_equal(frame_nop(&b), 0);
	/* Consumed bytes before a compaction must not confuse the mark. */
	assert_int_equal(frame_nop(&b), 0);
	buf_consume(&b, 4);
	assert_int_equal(frame_pub(&b, "t", big, sizeof(big)), -1);
	assert_int_equal(buf_len(&b), 4);
	assert_memory_equal(buf_data(&b), "NOP\n", 4);
	v[0].iov_base = big;
	v[0].iov_len = 30;
	v[1].iov_base = big;
	v[1].iov_len = 30;
	assert_int_equal(frame_mpub(&b, "t", v, 2), -1);
	assert_int_equal(buf_len(&b), 4);
	/* A long topic fits when the buffer allows: no fixed line limit. */
	buf_free(&b);
	buf_init(&b, 8, 4096);
	memset(big, 't', sizeof(big));
	big[99] = '\0';
	assert_int_equal(frame_pub(&b, big, "m", 1), 0);
	assert_int_equal(buf_len(&b), 4 + 99 + 1 + 4 + 1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_whole),
		cmocka_unit_test(test_decode_every_prefix),
		cmocka_unit_test(test_decode_byte_by_byte),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_encode_simple),
		cmocka_unit_test(test_encode_bodies),
		cmocka_unit_test(test_encode_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
