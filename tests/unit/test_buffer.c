/*
 * Unit tests for lib/buffer: bounds, growth up to max exactly,
 * compaction keeping unread bytes, codecs, and reads and writes on pipes
 * (a full buffer, EAGAIN, EOF, partial writes); the sticky error of the
 * buf_add* appenders.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"

static void
test_append_consume(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4, 64);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_len(&b), 5);
	assert_memory_equal(buf_data(&b), "hello", 5);
	buf_consume(&b, 2);
	assert_int_equal(buf_len(&b), 3);
	assert_memory_equal(buf_data(&b), "llo", 3);
	buf_compact(&b);
	assert_int_equal(b.off, 0);
	assert_memory_equal(buf_data(&b), "llo", 3);
	buf_consume(&b, 3);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

static void
test_max_enforced(void **state)
{
	struct buf b;
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 8, 64);
	assert_int_equal(buf_append(&b, big, 64), 0);
	assert_int_equal(buf_append(&b, "y", 1), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_len(&b), 64);
	/* Consuming frees room for more. */
	buf_consume(&b, 10);
	assert_int_equal(buf_append(&b, big, 10), 0);
	assert_int_equal(buf_len(&b), 64);
	assert_true(b.cap <= 64);
	buf_free(&b);
}

static void
test_codecs(void **state)
{
	struct buf b;
	const unsigned char *p;

	(void)state;
	buf_init(&b, 0, 1024);
	assert_int_equal(buf_append_u16(&b, 0x0102), 0);
	assert_int_equal(buf_append_u32(&b, 0x03040506), 0);
	assert_int_equal(buf_append_u64(&b, 0x0708090a0b0c0d0eULL), 0);
	p = (const unsigned char *)buf_data(&b);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[13], 0x0e);
	assert_int_equal(be16dec(p), 0x0102);
	assert_int_equal(be32dec(p + 2), 0x03040506);
	assert_true(be64dec(p + 6) == 0x0708090a0b0c0d0eULL);
	assert_int_equal(be32dec("\xff\xff\xff\xff"), 0xffffffffu);
	buf_free(&b);
}

static void
test_appendf_and_fd(void **state)
{
	struct buf b, r;
	int fds[2];

	(void)state;
	buf_init(&b, 0, 128);
	buf_init(&r, 0, 128);
	assert_int_equal(buf_appendf(&b, "%s=%d", "n", 42), 0);
	assert_int_equal(buf_len(&b), 4);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(buf_write_fd(&b, fds[1]), 4);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(buf_read_fd(&r, fds[0]), 4);
	assert_memory_equal(buf_data(&r), "n=42", 4);
	close(fds[0]);
	close(fds[1]);
	buf_free(&b);
	buf_free(&r);
}

/* Byte i of a test pattern, so moved data can be checked in place. */
static char
pat(size_t i)
{
	return (char)('A' + (i * 7 + i / 26) % 26);
}

static void
assert_pattern(const struct buf *b, size_t from)
{
	size_t i;

	for (i = 0; i < buf_len(b); i++)
		if (buf_data(b)[i] != pat(from + i))
			fail_msg("byte %zu: '%c', want '%c'", i,
			    buf_data(b)[i], pat(from + i));
}

/* Growth doubles and ends at max exactly, never beyond it. */
static void
test_reserve_to_max(void **state)
{
	struct buf b;
	size_t i, prev;
	char c;

	(void)state;
	buf_init(&b, 0, 1000);
	assert_null(b.data);
	assert_int_equal(buf_reserve(&b, 1000), 0);
	assert_int_equal(b.cap, 1000);
	assert_int_equal(buf_reserve(&b, 1001), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(b.cap, 1000);
	buf_free(&b);

	/* Byte by byte from a small start: 10, 20, 40, 80, 100. */
	buf_init(&b, 10, 100);
	prev = b.cap;
	assert_int_equal(prev, 10);
	for (i = 0; i < 100; i++) {
		c = pat(i);
		assert_int_equal(buf_append(&b, &c, 1), 0);
		assert_true(b.cap <= 100);
		if (b.cap != prev) {
			assert_int_equal(b.cap, prev * 2 > 100 ? 100 :
			    prev * 2);
			prev = b.cap;
		}
	}
	assert_int_equal(b.cap, 100);
	assert_int_equal(buf_len(&b), 100);
	c = 'z';
	errno = 0;
	assert_int_equal(buf_append(&b, &c, 1), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_len(&b), 100);
	assert_pattern(&b, 0);
	/* Reserving nothing in a full buffer is fine. */
	assert_int_equal(buf_reserve(&b, 0), 0);
	buf_free(&b);

	/* A cap larger than max is clamped; sizes that overflow fail. */
	buf_init(&b, 500, 64);
	assert_int_equal(b.cap, 64);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -1);
	assert_int_equal(buf_reserve(&b, 63), 0);
	assert_int_equal(buf_reserve(&b, 64), -1);
	assert_int_equal(buf_len(&b), 1);
	buf_free(&b);
}

/*
 * Reserving room that only exists behind the read cursor compacts, and
 * the unread bytes arrive at the front intact; room at the end does not
 * move anything.
 */
static void
test_reserve_compacts(void **state)
{
	struct buf b;
	char src[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	buf_init(&b, 64, 64);
	assert_int_equal(buf_append(&b, src, 40), 0);
	buf_consume(&b, 25);
	assert_int_equal(buf_reserve(&b, 24), 0);	/* fits at the end */
	assert_int_equal(b.off, 25);
	assert_pattern(&b, 25);
	assert_int_equal(buf_reserve(&b, 40), 0);	/* needs the front */
	assert_int_equal(b.off, 0);
	assert_int_equal(buf_len(&b), 15);
	assert_pattern(&b, 25);
	assert_int_equal(buf_append(&b, src + 40, 24), 0);
	assert_int_equal(buf_len(&b), 39);
	assert_pattern(&b, 25);
	assert_int_equal(b.cap, 64);
	buf_free(&b);

	/* Growing with a read cursor keeps the unread bytes too. */
	buf_init(&b, 16, 1024);
	assert_int_equal(buf_append(&b, src, 16), 0);
	buf_consume(&b, 5);
	assert_int_equal(buf_append(&b, src + 16, 48), 0);
	assert_int_equal(buf_len(&b), 59);
	assert_pattern(&b, 5);
	buf_free(&b);
}

/* Compaction moves exactly the unread bytes, for every cursor. */
static void
test_compact(void **state)
{
	struct buf b;
	char src[100];
	size_t i, off;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	buf_init(&b, 0, 128);
	for (off = 0; off <= sizeof(src); off++) {
		buf_reset(&b);
		assert_int_equal(buf_append(&b, src, sizeof(src)), 0);
		buf_consume(&b, off);
		buf_compact(&b);
		assert_int_equal(b.off, 0);
		assert_int_equal(buf_len(&b), sizeof(src) - off);
		assert_pattern(&b, off);
		buf_compact(&b);		/* again: nothing moves */
		assert_int_equal(buf_len(&b), sizeof(src) - off);
		assert_pattern(&b, off);
	}
	/* Reset keeps the allocation. */
	i = b.cap;
	buf_reset(&b);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(b.cap, i);
	/* Consuming more than there is empties the buffer. */
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	buf_consume(&b, 10);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(b.off, 0);
	buf_free(&b);
	buf_free(&b);
	buf_free(NULL);
}

/*
 * Reading into a buffer at its maximum fails with ENOBUFS and keeps the
 * data; consuming makes room again, and the next read lands after the
 * unread bytes.
 */
static void
test_read_fd_full(void **state)
{
	struct buf b;
	char src[64], drain[64];
	size_t i;
	int fds[2];

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	buf_init(&b, 0, 16);
	/* Empty pipe: EAGAIN, not a hang. */
	errno = 0;
	assert_int_equal(buf_read_fd(&b, fds[0]), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(write(fds[1], src, sizeof(src)), sizeof(src));
	assert_int_equal(buf_read_fd(&b, fds[0]), 16);
	assert_int_equal(b.cap, 16);
	errno = 0;
	assert_int_equal(buf_read_fd(&b, fds[0]), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_len(&b), 16);
	assert_pattern(&b, 0);
	buf_consume(&b, 5);
	assert_int_equal(buf_read_fd(&b, fds[0]), 5);
	assert_int_equal(buf_len(&b), 16);
	assert_pattern(&b, 5);
	assert_int_equal(buf_read_fd(&b, fds[0]), -1);
	assert_int_equal(errno, ENOBUFS);
	/* Drain it all through the buffer, then EOF reads 0. */
	buf_consume(&b, 16);
	assert_int_equal(buf_read_fd(&b, fds[0]), 16);
	assert_pattern(&b, 21);
	buf_consume(&b, 16);
	close(fds[1]);
	i = 37;
	while (i < sizeof(src)) {
		ssize_t n = buf_read_fd(&b, fds[0]);

		assert_true(n > 0);
		assert_pattern(&b, i);
		i += (size_t)n;
		buf_consume(&b, (size_t)n);
	}
	assert_int_equal(buf_read_fd(&b, fds[0]), 0);
	assert_int_equal(read(fds[0], drain, sizeof(drain)), 0);
	close(fds[0]);
	buf_free(&b);
}

/* Big reads grow the buffer, stay within max and keep every byte. */
static void
test_read_fd_growth(void **state)
{
	enum { TOTAL = 60000 };
	struct buf b;
	char *src;
	size_t i, got = 0;
	int fds[2], rounds = 0;
	ssize_t n;

	(void)state;
	src = malloc(TOTAL);
	assert_non_null(src);
	for (i = 0; i < TOTAL; i++)
		src[i] = pat(i);
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	assert_int_equal(write(fds[1], src, TOTAL), TOTAL);
	close(fds[1]);
	buf_init(&b, 0, 50001);
	while (rounds++ < 1000) {
		n = buf_read_fd(&b, fds[0]);
		if (n == -1 && errno == ENOBUFS) {
			assert_int_equal(b.cap, 50001);
			assert_int_equal(buf_len(&b), 50001);
			assert_pattern(&b, got);
			got += 20000;
			buf_consume(&b, 20000);
			continue;
		}
		assert_true(n >= 0);
		assert_true(b.cap <= 50001);
		if (n == 0)
			break;
	}
	assert_int_equal(got + buf_len(&b), TOTAL);
	assert_pattern(&b, got);
	close(fds[0]);
	buf_free(&b);
	free(src);
}

/* appendf may fill the buffer to its maximum exactly, and no further. */
static void
test_appendf_bounds(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0, 8);
	assert_int_equal(buf_appendf(&b, "%s", "abcd"), 0);
	assert_int_equal(buf_appendf(&b, "%d", 1234), 0);
	assert_int_equal(buf_len(&b), 8);
	assert_memory_equal(buf_data(&b), "abcd1234", 8);
	assert_int_equal(buf_appendf(&b, "%s", "x"), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_appendf(&b, "%s", ""), 0);
	assert_int_equal(buf_len(&b), 8);
	buf_consume(&b, 3);
	assert_int_equal(buf_appendf(&b, "%s", "wxyz"), -1);
	assert_int_equal(buf_len(&b), 5);
	assert_int_equal(buf_appendf(&b, "%c%c%c", 'x', 'y', 'z'), 0);
	assert_memory_equal(buf_data(&b), "d1234xyz", 8);
	buf_free(&b);
	/* A format longer than max fails and leaves the buffer alone. */
	buf_init(&b, 0, 4);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	assert_int_equal(buf_appendf(&b, "%s", "cde"), -1);
	assert_int_equal(buf_len(&b), 2);
	assert_memory_equal(buf_data(&b), "ab", 2);
	buf_free(&b);
}

/* Writing an empty buffer writes nothing; a partial write consumes. */
static void
test_write_fd(void **state)
{
	enum { BIG = 200000 };	/* more than a pipe holds */
	struct buf b;
	char *big, in[16];
	ssize_t n;
	int fds[2];

	(void)state;
	big = malloc(BIG);
	assert_non_null(big);
	memset(big, 'q', BIG);
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	buf_init(&b, 0, BIG);
	assert_int_equal(buf_write_fd(&b, fds[1]), 0);
	assert_int_equal(buf_append(&b, big, BIG), 0);
	n = buf_write_fd(&b, fds[1]);
	assert_true(n > 0 && n < BIG);
	assert_int_equal(buf_len(&b), BIG - (size_t)n);
	errno = 0;
	assert_int_equal(buf_write_fd(&b, fds[1]), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(buf_len(&b), BIG - (size_t)n);
	assert_int_equal(read(fds[0], in, sizeof(in)), sizeof(in));
	assert_memory_equal(in, "qqqqqqqqqqqqqqqq", sizeof(in));
	close(fds[0]);
	close(fds[1]);
	buf_free(&b);
	free(big);
}

/*
 * The first buf_add that does not fit fails the buffer: it stays failed,
 * later appends of both kinds do nothing (even ones that would fit), the
 * bytes before the failure stay as they were, and reset clears it.
 */
static void
test_sticky_error(void **state)
{
	struct buf b;
	char big[40];
	int i;

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 4, 32);
	buf_add(&b, "abc", 3);
	buf_addf(&b, "%d", 42);
	buf_add_u16(&b, 0x0102);
	buf_add_u32(&b, 0x03040506);
	buf_add_u64(&b, 0x0708090a0b0c0d0eULL);
	assert_false(buf_failed(&b));
	assert_int_equal(buf_len(&b), 19);
	assert_memory_equal(buf_data(&b), "abc42\x01\x02\x03\x04\x05\x06"
	    "\x07\x08\x09\x0a\x0b\x0c\x0d\x0e", 19);
	/* 19 + 14 > 32: refused whole, and the buffer is failed. */
	buf_add(&b, big, 14);
	assert_true(buf_failed(&b));
	assert_int_equal(buf_len(&b), 19);
	/* One byte would fit, but nothing is appended any more. */
	for (i = 0; i < 3; i++) {
		buf_add(&b, "y", 1);
		buf_addf(&b, "%s", "z");
		buf_add_u16(&b, 1);
		buf_add_u32(&b, 1);
		buf_add_u64(&b, 1);
		assert_true(buf_failed(&b));
	}
	errno = 0;
	assert_int_equal(buf_append(&b, "y", 1), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(buf_appendf(&b, "y"), -1);
	assert_int_equal(buf_append_u32(&b, 1), -1);
	assert_int_equal(buf_reserve(&b, 1), -1);
	assert_int_equal(buf_len(&b), 19);
	assert_memory_equal(buf_data(&b), "abc42", 5);
	/* Consuming does not clear it: the contents are still incomplete. */
	buf_consume(&b, buf_len(&b));
	assert_true(buf_failed(&b));
	buf_add(&b, "y", 1);
	assert_int_equal(buf_len(&b), 0);
	/* Reset does. */
	buf_reset(&b);
	assert_false(buf_failed(&b));
	buf_add(&b, big, 32);
	assert_false(buf_failed(&b));
	assert_int_equal(buf_len(&b), 32);
	/* buf_addf fails the same way, text exactly at max still fits. */
	buf_reset(&b);
	buf_addf(&b, "%.*s", 32, big);
	assert_false(buf_failed(&b));
	buf_addf(&b, "%d", 7);
	assert_true(buf_failed(&b));
	assert_int_equal(buf_len(&b), 32);
	buf_free(&b);
	/* init and free leave no error behind either. */
	buf_init(&b, 0, 2);
	buf_add(&b, "abc", 3);
	assert_true(buf_failed(&b));
	buf_free(&b);
	assert_false(buf_failed(&b));
	buf_init(&b, 0, 2);
	assert_false(buf_failed(&b));
	buf_free(&b);
}

/*
 * A checked append that fails leaves the buffer usable (its caller
 * reacted), and a read into a full buffer is not an append failure.
 */
static void
test_checked_not_sticky(void **state)
{
	struct buf b;
	char big[16];
	int fds[2];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 4, 16);
	assert_int_equal(buf_append(&b, big, 12), 0);
	assert_int_equal(buf_append(&b, big, 5), -1);
	assert_int_equal(buf_appendf(&b, "%s", "12345"), -1);
	assert_int_equal(buf_append_u64(&b, 1), -1);
	assert_int_equal(buf_reserve(&b, 5), -1);
	assert_false(buf_failed(&b));
	assert_int_equal(buf_append(&b, big, 4), 0);
	assert_int_equal(buf_len(&b), 16);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "abc", 3), 3);
	errno = 0;
	assert_int_equal(buf_read_fd(&b, fds[0]), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_false(buf_failed(&b));
	buf_consume(&b, 16);
	assert_int_equal(buf_read_fd(&b, fds[0]), 3);
	assert_memory_equal(buf_data(&b), "abc", 3);
	close(fds[0]);
	close(fds[1]);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_consume),
		cmocka_unit_test(test_max_enforced),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_appendf_and_fd),
		cmocka_unit_test(test_reserve_to_max),
		cmocka_unit_test(test_reserve_compacts),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_read_fd_full),
		cmocka_unit_test(test_read_fd_growth),
		cmocka_unit_test(test_appendf_bounds),
		cmocka_unit_test(test_write_fd),
		cmocka_unit_test(test_sticky_error),
		cmocka_unit_test(test_checked_not_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
