/*
 * Unit tests for lib/compress: round trips through each stream kind,
 * delivery in every split and byte by byte, truncated and corrupt input,
 * and the CRC-32C known answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buffer.h"
#include "compress.h"

static char plain[200000];

static void
fill(void)
{
	size_t i;

	/* Text that compresses, then random bytes that do not. */
	for (i = 0; i < 100000; i++)
		plain[i] = "FIN 0123456789abcdef\n"[i % 21];
	srand(7);
	for (; i < sizeof(plain); i++)
		plain[i] = (char)rand();
}

/* Compress plain in three writes (three flushable units). */
static void
make_stream(enum cz_kind kind, struct buf *wire)
{
	struct cz *w = cz_new(kind, 6);

	assert_non_null(w);
	buf_init(wire, 0, 1 << 22);
	assert_int_equal(cz_compress(w, plain, 50000, wire), 0);
	assert_int_equal(cz_compress(w, plain + 50000, 70001, wire), 0);
	assert_int_equal(cz_compress(w, plain + 120001,
	    sizeof(plain) - 120001, wire), 0);
	cz_free(w);
}

/* Decompress wire in pieces of step bytes; compare with plain. */
static void
check_pieces(enum cz_kind kind, const struct buf *wire, size_t step)
{
	struct cz *r = cz_new(kind, 6);
	struct buf out;
	char err[128];
	size_t off;

	buf_init(&out, 0, 1 << 22);
	for (off = 0; off < buf_len(wire); off += step) {
		size_t n = buf_len(wire) - off < step ? buf_len(wire) - off :
		    step;

		assert_int_equal(cz_decompress(r, buf_data(wire) + off, n,
		    &out, err, sizeof(err)), 0);
	}
	assert_int_equal(buf_len(&out), sizeof(plain));
	assert_memory_equal(buf_data(&out), plain, sizeof(plain));
	buf_free(&out);
	cz_free(r);
}

static void
test_round_trips(void **state)
{
	enum cz_kind kinds[] = { CZ_DEFLATE, CZ_SNAPPY };
	size_t steps[] = { 1, 7, 4096, 65536, 1 << 22 };
	struct buf wire;
	size_t i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		make_stream(kinds[k], &wire);
		/* Something was actually compressed. */
		assert_true(buf_len(&wire) < sizeof(plain));
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			check_pieces(kinds[k], &wire, steps[i]);
		buf_free(&wire);
	}
}

/* Every prefix decodes to a prefix of plain, or fails cleanly. */
static void
test_truncated(void **state)
{
	enum cz_kind kinds[] = { CZ_DEFLATE, CZ_SNAPPY };
	struct buf wire, out;
	char err[128];
	size_t k, len;

	(void)state;
	for (k = 0; k < 2; k++) {
		make_stream(kinds[k], &wire);
		for (len = 0; len < buf_len(&wire);
		    len += 1 + len / 64) {
			struct cz *r = cz_new(kinds[k], 6);
			char *copy = malloc(len + 1);

			memcpy(copy, buf_data(&wire), len);
			buf_init(&out, 0, 1 << 22);
			if (cz_decompress(r, copy, len, &out, err,
			    sizeof(err)) == 0)
				assert_memory_equal(buf_data(&out), plain,
				    buf_len(&out));
			buf_free(&out);
			free(copy);
			cz_free(r);
		}
		buf_free(&wire);
	}
}

static void
test_snappy_corrupt(void **state)
{
	struct buf wire, out;
	struct cz *r;
	char err[128], *p;

	(void)state;
	make_stream(CZ_SNAPPY, &wire);
	p = wire.data + wire.off;
	/* Flip a checksum byte of the first data chunk (after the id). */
	p[10 + 4] ^= 0x55;
	r = cz_new(CZ_SNAPPY, 0);
	buf_init(&out, 0, 1 << 22);
	assert_int_equal(cz_decompress(r, buf_data(&wire), buf_len(&wire),
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "snappy checksum mismatch");
	cz_free(r);
	buf_free(&out);

	/* A data chunk before the stream identifier. */
	r = cz_new(CZ_SNAPPY, 0);
	assert_int_equal(cz_decompress(r, "\x01\x05\x00\x00\0\0\0\0x", 9,
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "snappy stream without identifier");
	cz_free(r);

	/* An unskippable reserved chunk type. */
	r = cz_new(CZ_SNAPPY, 0);
	assert_int_equal(cz_decompress(r, "\xff\x06\x00\x00sNaPpY"
	    "\x02\x00\x00\x00", 14, &out, err, sizeof(err)), -1);
	cz_free(r);
	buf_free(&wire);
}

static void
test_deflate_garbage(void **state)
{
	struct cz *r = cz_new(CZ_DEFLATE, 6);
	struct buf out;
	char err[128];

	(void)state;
	buf_init(&out, 0, 1 << 20);
	/* A block type 3 (reserved) is invalid deflate. */
	assert_int_equal(cz_decompress(r, "\xff\xff\xff\xff", 4, &out, err,
	    sizeof(err)), -1);
	buf_free(&out);
	cz_free(r);
}

static void
test_output_limit(void **state)
{
	struct buf wire, out;
	struct cz *r;
	char err[128];

	(void)state;
	make_stream(CZ_DEFLATE, &wire);
	r = cz_new(CZ_DEFLATE, 6);
	buf_init(&out, 0, 1000);
	assert_int_equal(cz_decompress(r, buf_data(&wire), buf_len(&wire),
	    &out, err, sizeof(err)), -1);
	assert_string_equal(err, "decompressed data too large");
	buf_free(&out);
	buf_free(&wire);
	cz_free(r);
}

/*
 * cz_decompress_max: 1 MiB of zeros from a few KB, taken 1000 bytes at a
 * time, input passed again from where the last step left it.
 */
static void
bounded_steps(enum cz_kind kind)
{
	struct cz *w = cz_new(kind, 6), *r = cz_new(kind, 6);
	struct buf wire, out;
	char *zeros = calloc(1, 1 << 20), err[128];
	size_t off = 0, used, total = 0, before;
	int steps = 0;

	assert_non_null(zeros);
	buf_init(&wire, 0, 1 << 20);
	assert_int_equal(cz_compress(w, zeros, 1 << 20, &wire), 0);
	assert_true(buf_len(&wire) < 65536);
	buf_init(&out, 0, 4096);
	while (total < (1 << 20) && steps++ < 5000) {
		before = buf_len(&out);
		assert_int_equal(cz_decompress_max(r, buf_data(&wire) + off,
		    buf_len(&wire) - off, &out, 1000, &used, err, sizeof(err)),
		    0);
		assert_true(buf_len(&out) - before <= 1000);
		assert_true(off + used <= buf_len(&wire));
		off += used;
		total += buf_len(&out) - before;
		assert_int_equal(memcmp(buf_data(&out), zeros, buf_len(&out)),
		    0);
		buf_reset(&out);
	}
	assert_int_equal(total, 1 << 20);
	assert_int_equal(off, buf_len(&wire));
	/* Nothing more: a call with no input adds nothing. */
	assert_int_equal(cz_decompress_max(r, "", 0, &out, 1000, &used, err,
	    sizeof(err)), 0);
	assert_int_equal(buf_len(&out), 0);
	buf_free(&out);
	buf_free(&wire);
	free(zeros);
	cz_free(w);
	cz_free(r);
}

static void
test_bounded_steps(void **state)
{
	(void)state;
	bounded_steps(CZ_DEFLATE);
	bounded_steps(CZ_SNAPPY);
}

static void
test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(cz_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(cz_crc32c("", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_snappy_corrupt),
		cmocka_unit_test(test_deflate_garbage),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_bounded_steps),
		cmocka_unit_test(test_crc32c),
	};

	fill();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
