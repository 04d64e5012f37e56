/* Unit tests for lib/buffer: bounds, growth, compaction, codecs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_consume),
		cmocka_unit_test(test_max_enforced),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_appendf_and_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
