/*
 * Unit tests for lib/text: UTF-8 decoding as Go's utf8.DecodeRune (every
 * input of up to three bytes checked against a decoder written from RFC
 * 3629, every truncated prefix of each sequence, overlongs, surrogates,
 * U+FFFD only for errors of width 1), encoding as utf8.EncodeRune round
 * tripping every scalar value, and the outputs of Go's strconv.Quote,
 * encoding/json and url.QueryEscape on control bytes, invalid UTF-8 and
 * unprintable runes.  The expected strings are Go's own outputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buffer.h"
#include "text.h"

/*
 * RFC 3629 read literally: the lead byte gives the length, the rest are
 * continuation bytes, and the value must need that length, be no
 * surrogate and not pass U+10FFFF.  Go's rule is the same, width 1 and
 * U+FFFD on any failure.
 */
static size_t
ref_decode(const unsigned char *s, size_t n, uint32_t *r)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t v;

	*r = TEXT_RUNE_ERROR;
	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*r = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		v = s[0] & 0x07;
	} else
		return 1;
	if (n < len)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min[len] || (v >= 0xd800 && v < 0xe000) || v > 0x10ffff)
		return 1;
	*r = v;
	return len;
}

static void
test_decode_table(void **state)
{
	static const struct {
		const char	*s;
		size_t		 n;
		uint32_t	 r;
		size_t		 w;
	} t[] = {
		{ "", 0, 0xfffd, 0 },
		{ "a", 1, 'a', 1 },
		{ "\0", 1, 0, 1 },
		{ "\x7f", 1, 0x7f, 1 },
		{ "\xc2\x80", 2, 0x80, 2 },
		{ "\xdf\xbf", 2, 0x7ff, 2 },
		{ "\xc0\x80", 2, 0xfffd, 1 },		/* overlong NUL */
		{ "\xc1\xbf", 2, 0xfffd, 1 },		/* overlong */
		{ "\xe0\x80\x80", 3, 0xfffd, 1 },	/* overlong */
		{ "\xe0\x9f\xbf", 3, 0xfffd, 1 },	/* overlong */
		{ "\xe0\xa0\x80", 3, 0x800, 3 },
		{ "\xed\x9f\xbf", 3, 0xd7ff, 3 },
		{ "\xed\xa0\x80", 3, 0xfffd, 1 },	/* U+D800 */
		{ "\xed\xbf\xbf", 3, 0xfffd, 1 },	/* U+DFFF */
		{ "\xee\x80\x80", 3, 0xe000, 3 },
		{ "\xef\xbf\xbd", 3, 0xfffd, 3 },	/* a real U+FFFD */
		{ "\xef\xbf\xbf", 3, 0xffff, 3 },
		{ "\xf0\x8f\xbf\xbf", 4, 0xfffd, 1 },	/* overlong */
		{ "\xf0\x90\x80\x80", 4, 0x10000, 4 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff, 4 },
		{ "\xf4\x90\x80\x80", 4, 0xfffd, 1 },	/* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, 0xfffd, 1 },
		{ "\xf8\x88\x80\x80\x80", 5, 0xfffd, 1 },
		{ "\x80", 1, 0xfffd, 1 },		/* lone continuation */
		{ "\xbf\x80", 2, 0xfffd, 1 },
		{ "\xfe", 1, 0xfffd, 1 },
		{ "\xff", 1, 0xfffd, 1 },
		{ "\xe2\x82z", 3, 0xfffd, 1 },		/* cut by ASCII */
		{ "\xc3\xa9z", 3, 0xe9, 2 },
	};
	size_t i;
	uint32_t r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = 0;
		assert_int_equal(text_utf8_decode(t[i].s, t[i].n, &r), t[i].w);
		assert_int_equal(r, t[i].r);
	}
}

/* Every truncated prefix of a well-formed sequence is one error byte. */
static void
test_decode_prefixes(void **state)
{
	static const char *const seq[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xef\xbf\xbd", "\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf",
	};
	size_t i, k, len;
	uint32_t r;

	(void)state;
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		len = strlen(seq[i]);
		for (k = 0; k < len; k++) {
			r = 0;
			assert_int_equal(text_utf8_decode(seq[i], k, &r),
			    k == 0 ? 0 : 1);
			assert_int_equal(r, 0xfffd);
			assert_false(k > 0 && text_utf8_valid(seq[i], k));
		}
		assert_int_equal(text_utf8_decode(seq[i], len, &r), len);
		assert_true(text_utf8_valid(seq[i], len));
	}
}

/* Every input of up to three bytes, and the four-byte leads, as the RFC. */
static void
test_decode_exhaustive(void **state)
{
	unsigned char s[4];
	uint32_t a, b, x;
	size_t wa, wb;

	(void)state;
	for (x = 0; x < 1U << 24; x++) {
		s[0] = (unsigned char)(x >> 16);
		s[1] = (unsigned char)(x >> 8);
		s[2] = (unsigned char)x;
		s[3] = 0x80;
		wa = text_utf8_decode(s, 3, &a);
		wb = ref_decode(s, 3, &b);
		if (wa != wb || a != b)
			fail_msg("%02x %02x %02x: %zu U+%04x, want %zu U+%04x",
			    s[0], s[1], s[2], wa, a, wb, b);
		/* With a continuation byte after, for the four-byte forms. */
		if (s[0] >= 0xf0) {
			wa = text_utf8_decode(s, 4, &a);
			wb = ref_decode(s, 4, &b);
			if (wa != wb || a != b)
				fail_msg("%02x %02x %02x 80: %zu, want %zu",
				    s[0], s[1], s[2], wa, wb);
		}
	}
}

/* EncodeRune round-trips every scalar value; others become U+FFFD. */
static void
test_encode(void **state)
{
	char o[TEXT_UTF8_MAX];
	uint32_t r, back;
	size_t k;

	(void)state;
	for (r = 0; r <= 0x10ffff; r++) {
		k = text_utf8_encode(o, r);
		assert_in_range(k, 1, TEXT_UTF8_MAX);
		assert_int_equal(text_utf8_decode(o, k, &back), k);
		if (r >= 0xd800 && r < 0xe000)
			assert_int_equal(back, 0xfffd);
		else
			assert_int_equal(back, r);
	}
	assert_int_equal(text_utf8_encode(o, 0x110000), 3);
	assert_memory_equal(o, "\xef\xbf\xbd", 3);
	assert_int_equal(text_utf8_encode(o, UINT32_MAX), 3);
	assert_memory_equal(o, "\xef\xbf\xbd", 3);
	assert_int_equal(text_utf8_encode(o, 0x7ff), 2);
	assert_memory_equal(o, "\xdf\xbf", 2);
}

static void
test_valid(void **state)
{
	(void)state;
	assert_true(text_utf8_valid("", 0));
	assert_true(text_utf8_valid("abc\0d", 5));
	assert_true(text_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    14));
	assert_false(text_utf8_valid("a\xff", 2));
	assert_false(text_utf8_valid("\xed\xa0\x80", 3));
	assert_false(text_utf8_valid("\xc0\xaf", 2));
	assert_false(text_utf8_valid("ok\xe2\x82", 4));
	assert_false(text_utf8_valid("\xf4\x90\x80\x80", 4));
}

static void
test_isprint(void **state)
{
	static const uint32_t yes[] = {
		' ', 'a', '~', 0xa1, 0xe9, 0xff, 0x100, 0x4e2d, 0x20ac, 0xfffd,
		0x1f600, 0x10000,
	};
	static const uint32_t no[] = {
		0, 0x1f, 0x7f, 0x80, 0x9f, 0xa0, 0xad, 0x1680, 0x2000, 0x200b,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff, 0xfff9, 0xe000,
		0xf8ff, 0xfdd0, 0xfffe, 0xffff, 0x1fffe, 0xe0001, 0xf0000,
		0x10ffff, 0xd800,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!text_isprint(yes[i]))
			fail_msg("U+%04x should be printable", yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (text_isprint(no[i]))
			fail_msg("U+%04x should not be printable", no[i]);
}

/* Test output: what f appended for s[0, n), NUL-terminated in b. */
static const char *
run(int (*f)(struct buf *, const char *, size_t), struct buf *b,
    const char *s, size_t n)
{
	buf_reset(b);
	assert_int_equal(f(b, s, n), 0);
	assert_int_equal(buf_append(b, "", 1), 0);
	return buf_data(b);
}

struct qcase {
	const char	*s;
	size_t		 n;
	const char	*want;
};

#define Q(lit, want)	{ lit, sizeof(lit) - 1, want }

static void
test_goquote(void **state)
{
	/* strconv.Quote's output for each input. */
	static const struct qcase t[] = {
		Q("", "\"\""),
		Q("abc", "\"abc\""),
		Q("a\"b\\c'", "\"a\\\"b\\\\c'\""),
		Q("\a\b\f\n\r\t\v", "\"\\a\\b\\f\\n\\r\\t\\v\""),
		Q("\0\x01\x06\x0e\x1b\x1f\x7f",
		    "\"\\x00\\x01\\x06\\x0e\\x1b\\x1f\\x7f\""),
		Q("a\0b", "\"a\\x00b\""),
		Q("caf\xc3\xa9", "\"caf\xc3\xa9\""),
		Q("\xe6\x97\xa5\xe6\x9c\xac", "\"\xe6\x97\xa5\xe6\x9c\xac\""),
		Q("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
		Q("\xef\xbf\xbd", "\"\xef\xbf\xbd\""),
		Q("\xc3", "\"\\xc3\""),
		Q("a\xffz", "\"a\\xffz\""),
		Q("\xfe\xff", "\"\\xfe\\xff\""),
		Q("\xe2\x82", "\"\\xe2\\x82\""),
		Q("\xc0\xaf", "\"\\xc0\\xaf\""),
		Q("\xed\xa0\x80", "\"\\xed\\xa0\\x80\""),
		Q("\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""),
		Q("\xc2\x80", "\"\\u0080\""),
		Q("\xc2\x85", "\"\\u0085\""),
		Q("\xc2\xa0", "\"\\u00a0\""),
		Q("\xc2\xad", "\"\\u00ad\""),
		Q("\xe2\x80\x8b", "\"\\u200b\""),
		Q("\xe2\x80\xa8", "\"\\u2028\""),
		Q("\xe3\x80\x80", "\"\\u3000\""),
		Q("\xef\xbb\xbf", "\"\\ufeff\""),
		Q("\xee\x80\x80", "\"\\ue000\""),
		Q("\xef\xbf\xbe", "\"\\ufffe\""),
		Q("\xf3\xa0\x80\x81", "\"\\U000e0001\""),
		Q("\xf3\xb0\x80\x80", "\"\\U000f0000\""),
		Q("\xf4\x8f\xbf\xbf", "\"\\U0010ffff\""),
		Q("t\xc3\xa9st\n\xff#ephemeral",
		    "\"t\xc3\xa9st\\n\\xff#ephemeral\""),
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 16, 4096);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(run(text_goquote, &b, t[i].s, t[i].n),
		    t[i].want);
	buf_free(&b);
}

static void
test_goquote_str(void **state)
{
	char *q;

	(void)state;
	q = text_goquote_str("");
	assert_string_equal(q, "\"\"");
	free(q);
	q = text_goquote_str("x=\xff\t\"");
	assert_string_equal(q, "\"x=\\xff\\t\\\"\"");
	free(q);
	/* The worst growth, four bytes out for one in. */
	q = text_goquote_str("\x01\x02\x03\x80\xff");
	assert_string_equal(q, "\"\\x01\\x02\\x03\\x80\\xff\"");
	free(q);
}

static void
test_json_quote(void **state)
{
	/* encoding/json's output (Go 1.22 and later) for each input. */
	static const struct qcase t[] = {
		Q("", "\"\""),
		Q("plain /text/", "\"plain /text/\""),
		Q("<a href=\"x\">&</a>",
		    "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026"
		    "\\u003c/a\\u003e\""),
		Q("\"\\", "\"\\\"\\\\\""),
		Q("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""),
		Q("\0\x01\a\v\x1b\x1f", "\"\\u0000\\u0001\\u0007\\u000b"
		    "\\u001b\\u001f\""),
		Q("\x7f", "\"\x7f\""),
		Q("caf\xc3\xa9", "\"caf\xc3\xa9\""),
		Q("\xef\xbf\xbd", "\"\xef\xbf\xbd\""),
		Q("\xc2\x80", "\"\xc2\x80\""),
		Q("\xff", "\"\\ufffd\""),
		Q("a\xe2\x82z", "\"a\\ufffd\\ufffdz\""),
		Q("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""),
		Q("\xc0\xaf", "\"\\ufffd\\ufffd\""),
		Q("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\""),
		Q("\xe2\x80\xaa", "\"\xe2\x80\xaa\""),
		Q("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),
	};
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 16, 4096);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(run(text_json_quote, &b, t[i].s, t[i].n),
		    t[i].want);
	buf_free(&b);
}

/*
 * Every prefix of a mixed string quotes to well-formed UTF-8 between two
 * quotes, with no raw control byte: a cut sequence never leaks through.
 */
static void
test_quote_prefixes(void **state)
{
	static const char s[] = "a\"\xc3\xa9\n\xe2\x82\xac<\xf0\x9f\x98\x80"
	    "\xe2\x80\xa8\xff\x01\xc2\x85z";
	int (*const f[])(struct buf *, const char *, size_t) = {
		text_goquote, text_json_quote,
	};
	struct buf b;
	const char *o;
	size_t i, k, j, n;

	(void)state;
	buf_init(&b, 16, 4096);
	for (i = 0; i < 2; i++)
		for (k = 0; k < sizeof(s); k++) {
			o = run(f[i], &b, s, k);
			n = strlen(o);
			assert_true(n >= 2 && o[0] == '"' && o[n - 1] == '"');
			assert_true(text_utf8_valid(o, n));
			for (j = 0; j < n; j++)
				assert_false((unsigned char)o[j] < 0x20 ||
				    o[j] == 0x7f);
		}
	buf_free(&b);
}

/* A full buffer is an error, never an overrun. */
static void
test_quote_full(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4, 8);
	assert_int_equal(text_goquote(&b, "\x01\x02\x03", 3), -1);
	buf_reset(&b);
	assert_int_equal(text_json_quote(&b, "<<<", 3), -1);
	buf_reset(&b);
	assert_int_equal(text_json_quote(&b, "abcdef", 6), 0);
	assert_int_equal(buf_len(&b), 8);
	buf_free(&b);
}

static void
test_query_escape(void **state)
{
	/* url.QueryEscape's output for each input. */
	static const struct {
		const char	*s, *want;
	} t[] = {
		{ "", "" },
		{ "t.x-y_z~AZ09", "t.x-y_z~AZ09" },
		{ "a#ephemeral", "a%23ephemeral" },
		{ "a b", "a+b" },
		{ "&=?/+%", "%26%3D%3F%2F%2B%25" },
		{ "caf\xc3\xa9", "caf%C3%A9" },
		{ "\x01\x7f\xff", "%01%7F%FF" },
	};
	size_t i;
	char *e;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		e = text_query_escape(t[i].s);
		assert_string_equal(e, t[i].want);
		free(e);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_prefixes),
		cmocka_unit_test(test_decode_exhaustive),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_isprint),
		cmocka_unit_test(test_goquote),
		cmocka_unit_test(test_goquote_str),
		cmocka_unit_test(test_json_quote),
		cmocka_unit_test(test_quote_prefixes),
		cmocka_unit_test(test_quote_full),
		cmocka_unit_test(test_query_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
