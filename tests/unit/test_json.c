/*
 * Unit tests for lib/json: strict parsing (every truncated prefix of valid
 * documents is rejected), accessors, unescaping, deep nesting, numbers,
 * and the writer's output against what Go's json.Marshal prints.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buffer.h"
#include "json.h"
#include "xmalloc.h"

static int
parse(struct json *j, const char *s)
{
	char err[128];

	return json_parse(j, s, strlen(s), err, sizeof(err));
}

static void
test_parse_object(void **state)
{
	const char *doc = " {\"a\": 1, \"b\": [true, false, null, \"x\"],"
	    " \"c\": {\"d\": -2.5e3}, \"e\": \"\"}\n";
	struct json j;
	int a, b, c, d, k;
	int64_t i;
	double f;
	bool bv;

	(void)state;
	assert_int_equal(parse(&j, doc), 0);
	assert_int_equal(json_type(&j, 0), JSON_OBJECT);
	assert_int_equal(json_size(&j, 0), 4);
	a = json_obj_get(&j, 0, "a");
	assert_int_equal(json_type(&j, a), JSON_PRIMITIVE);
	assert_int_equal(json_prim_kind(&j, a), '0');
	assert_int_equal(json_get_int64(&j, a, &i), 0);
	assert_int_equal(i, 1);
	b = json_obj_get(&j, 0, "b");
	assert_int_equal(json_type(&j, b), JSON_ARRAY);
	assert_int_equal(json_size(&j, b), 4);
	assert_int_equal(json_prim_kind(&j, json_arr_at(&j, b, 0)), 't');
	assert_int_equal(json_prim_kind(&j, json_arr_at(&j, b, 1)), 'f');
	assert_int_equal(json_prim_kind(&j, json_arr_at(&j, b, 2)), 'n');
	assert_int_equal(json_type(&j, json_arr_at(&j, b, 3)), JSON_STRING);
	assert_int_equal(json_arr_at(&j, b, 4), -1);
	assert_int_equal(json_arr_at(&j, b, -1), -1);
	assert_int_equal(json_get_bool(&j, json_arr_at(&j, b, 0), &bv), 0);
	assert_true(bv);
	assert_int_equal(json_get_bool(&j, json_arr_at(&j, b, 1), &bv), 0);
	assert_false(bv);
	assert_int_equal(json_get_bool(&j, json_arr_at(&j, b, 2), &bv), -1);
	assert_int_equal(json_get_bool(&j, json_arr_at(&j, b, 3), &bv), -1);
	c = json_obj_get(&j, 0, "c");
	d = json_obj_get(&j, c, "d");
	assert_int_equal(json_get_double(&j, d, &f), 0);
	assert_true(f == -2500.0);
	assert_int_equal(json_get_int64(&j, d, &i), -1);
	assert_int_equal(json_obj_get(&j, 0, "d"), -1);
	assert_int_equal(json_obj_get(&j, 0, "zz"), -1);
	assert_int_equal(json_obj_get(&j, b, "a"), -1);
	/* Keys by index; json_next on a key skips its value. */
	k = json_obj_key_at(&j, 0, 0);
	assert_true(json_tok_eq(&j, k, "a"));
	assert_int_equal(json_next(&j, k), json_obj_key_at(&j, 0, 1));
	assert_true(json_tok_eq(&j, json_obj_key_at(&j, 0, 1), "b"));
	assert_true(json_tok_eq(&j, json_obj_key_at(&j, 0, 3), "e"));
	assert_int_equal(json_obj_key_at(&j, 0, 4), -1);
	assert_int_equal(json_obj_key_at(&j, b, 0), -1);
	/* The value after a container is past its subtree. */
	assert_int_equal(json_next(&j, b), json_obj_key_at(&j, 0, 2));
	assert_int_equal(json_next(&j, 0), j.ntok);
	assert_true(json_tok_eq(&j, json_obj_get(&j, 0, "e"), ""));
	/* Out of range tokens are harmless. */
	assert_int_equal(json_type(&j, -1), JSON_UNDEF);
	assert_int_equal(json_type(&j, j.ntok), JSON_UNDEF);
	assert_int_equal(json_next(&j, j.ntok), -1);
	assert_null(json_get_str(&j, a, NULL));
	json_free(&j);
	json_free(&j);
}

static void
test_top_level(void **state)
{
	struct json j;
	int64_t i;
	double f;
	char *s;
	size_t n;

	(void)state;
	assert_int_equal(parse(&j, "5"), 0);
	assert_int_equal(j.ntok, 1);
	assert_int_equal(json_get_int64(&j, 0, &i), 0);
	assert_int_equal(i, 5);
	json_free(&j);
	assert_int_equal(parse(&j, " -1.5e3 "), 0);
	assert_int_equal(json_get_double(&j, 0, &f), 0);
	assert_true(f == -1500.0);
	json_free(&j);
	assert_int_equal(parse(&j, "null"), 0);
	assert_int_equal(json_prim_kind(&j, 0), 'n');
	json_free(&j);
	assert_int_equal(parse(&j, "\"hi\""), 0);
	s = json_get_str(&j, 0, &n);
	assert_string_equal(s, "hi");
	assert_int_equal(n, 2);
	free(s);
	json_free(&j);
	assert_int_equal(parse(&j, "[]"), 0);
	assert_int_equal(json_size(&j, 0), 0);
	assert_int_equal(json_arr_at(&j, 0, 0), -1);
	json_free(&j);
	assert_int_equal(parse(&j, "{}"), 0);
	assert_int_equal(json_obj_get(&j, 0, ""), -1);
	json_free(&j);
}

static void
test_reject(void **state)
{
	static const char *bad[] = {
		"", " ", "\n", "[1 2]", "{\"a\":1,}", "[1,]", "[,1]", "[,]",
		"tru", "truex", "nul", "nulll", "fals", "True", "1.", ".5",
		"01", "-", "-a", "1e", "1e+", "1.e5", "+1", "0x10", "Infinity",
		"NaN", "'a'", "{\"a\" 1}", "{\"a\":}", "{1:2}", "{a:1}",
		"\"a\":1", "1 2", "[1]]", "[1]x", "[}", "{]", "{\"a\":1}}",
		"\"\\x\"", "\"\\u12g4\"", "\"\\u12\"", "\"a\nb\"", "\"a\tb\"",
		"[\"a\",,]", "{,}", "{\"a\":1 \"b\":2}", "[[]", "[]]", "}",
		"]", ",", ":", "[1:2]", "{\"a\",1}", "\"abc", "\"\\\"",
		"[\"\\uD83D\\u\"]", "[-]", "[--1]", "[1-]", "[1e5.0]",
		"{\"a\":{\"b\":[}}", "\xef\xbb\xbf{}", "[1,\x01]",
	};
	char err[128];
	struct json j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (json_parse(&j, bad[i], strlen(bad[i]), err,
		    sizeof(err)) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_null(j.tok);
		json_free(&j);
	}
	/* A NUL byte is never JSON, not even at the end. */
	assert_int_equal(json_parse(&j, "[1]\0", 4, err, sizeof(err)), -1);
	assert_int_equal(json_parse(&j, "\"a\0\"", 4, err, sizeof(err)), -1);
	/* Messages in Go's words where they exist. */
	assert_int_equal(json_parse(&j, "[1,", 3, err, sizeof(err)), -1);
	assert_string_equal(err, "unexpected end of JSON input");
	assert_int_equal(json_parse(&j, "[1}", 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid character '}'"));
}

static void
test_truncated_prefixes(void **state)
{
	static const char *docs[] = {
		"{\"a\":[1,2.5,-3e-2,{\"b\":\"c\\u00e9\\n\"}],\"d\":true,"
		    "\"e\":null,\"f\":false,\"g\":{}}",
		"[\"\\ud83d\\ude00\",0,-0.0,1E+2,[],[[]],{\"\":\"\"}]",
		"  {\"identify\": {\"client_id\": \"x\", \"heartbeat_interval\""
		    ": 30000, \"feature_negotiation\": true}}  ",
		"\"a\\\\b\\\"c\"",
	};
	struct json j;
	char err[128];
	size_t d, n, len;

	(void)state;
	for (d = 0; d < sizeof(docs) / sizeof(docs[0]); d++) {
		len = strlen(docs[d]);
		assert_int_equal(json_parse(&j, docs[d], len, err,
		    sizeof(err)), 0);
		json_free(&j);
		/* Trailing white space is not significant. */
		while (len > 0 && docs[d][len - 1] == ' ')
			len--;
		for (n = 0; n < len; n++) {
			char *copy = xmalloc(n + 1);

			/* A tight copy lets ASan catch any over-read. */
			memcpy(copy, docs[d], n);
			if (json_parse(&j, copy, n, err, sizeof(err)) != -1)
				fail_msg("doc %zu prefix %zu accepted", d, n);
			json_free(&j);
			free(copy);
		}
	}
}

static void
test_deep_nesting(void **state)
{
	size_t depth = JSON_MAX_DEPTH, i;
	char *s = xmalloc(2 * (depth + 1) + 1), err[128];
	struct json j;

	(void)state;
	for (i = 0; i < depth; i++) {
		s[i] = '[';
		s[2 * depth - 1 - i] = ']';
	}
	assert_int_equal(json_parse(&j, s, 2 * depth, err, sizeof(err)), 0);
	assert_int_equal(j.ntok, (int)depth);
	assert_int_equal(json_next(&j, 0), (int)depth);
	assert_int_equal(json_arr_at(&j, 0, 0), 1);
	assert_int_equal(json_size(&j, (int)depth - 1), 0);
	json_free(&j);
	/* Unbalanced at depth. */
	assert_int_equal(json_parse(&j, s, 2 * depth - 1, err, sizeof(err)),
	    -1);
	/* One more level is refused, as Go's decoder does. */
	memmove(s + 1, s, 2 * depth);
	s[0] = '[';
	s[2 * depth + 1] = ']';
	assert_int_equal(json_parse(&j, s, 2 * depth + 2, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "exceeded max depth");
	/* Deep objects. */
	for (i = 0; i < 1000; i++)
		memcpy(s + 5 * i, "{\"a\":", 5);
	s[5000] = '1';
	memset(s + 5001, '}', 1000);
	assert_int_equal(json_parse(&j, s, 6001, err, sizeof(err)), 0);
	assert_int_equal(j.ntok, 2001);
	assert_int_equal(json_obj_get(&j, 0, "a"), 2);
	json_free(&j);
	free(s);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char	*s;
		int		 ok;
		int64_t		 v;
	} ints[] = {
		{ "0", 1, 0 }, { "-0", 1, 0 }, { "42", 1, 42 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "-9223372036854775808", 1, INT64_MIN },
		{ "9223372036854775808", 0, 0 },
		{ "-9223372036854775809", 0, 0 },
		{ "18446744073709551616", 0, 0 },
		{ "99999999999999999999999999", 0, 0 },
		{ "1.5", 0, 0 }, { "1.0", 0, 0 }, { "1e3", 0, 0 },
		{ "1E3", 0, 0 }, { "\"1\"", 0, 0 }, { "true", 0, 0 },
		{ "null", 0, 0 }, { "[1]", 0, 0 },
	};
	struct json j;
	int64_t v;
	double f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		assert_int_equal(parse(&j, ints[i].s), 0);
		v = 12345;
		if (ints[i].ok) {
			assert_int_equal(json_get_int64(&j, 0, &v), 0);
			assert_true(v == ints[i].v);
		} else {
			assert_int_equal(json_get_int64(&j, 0, &v), -1);
			assert_true(v == 12345);
		}
		json_free(&j);
	}
	assert_int_equal(parse(&j, "[1e308, 1e309, -1e309, 1e-400, 0.1,"
	    " 123456789012345678901234567890, \"1\"]"), 0);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 0), &f), 0);
	assert_true(f == 1e308);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 1), &f), -1);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 2), &f), -1);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 3), &f), 0);
	assert_true(f == 0);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 4), &f), 0);
	assert_true(f == 0.1);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 5), &f), 0);
	assert_true(f == 123456789012345678901234567890.0);
	assert_int_equal(json_get_double(&j, json_arr_at(&j, 0, 6), &f), -1);
	json_free(&j);
}

static void
test_strings(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
		size_t		 len;
	} t[] = {
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8 },
		{ "\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6 },
		{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4 },
		{ "\"\\uD83D\\uDE00x\"", "\xf0\x9f\x98\x80x", 5 },
		{ "\"\\ud800\"", "\xef\xbf\xbd", 3 },
		{ "\"\\udc00\"", "\xef\xbf\xbd", 3 },
		{ "\"\\ud800\\u0041\"", "\xef\xbf\xbd" "A", 4 },
		{ "\"\\ud800\\ud800\"", "\xef\xbf\xbd\xef\xbf\xbd", 6 },
		{ "\"a\\u0000b\"", "a\0b", 3 },
		{ "\"\xff" "a\"", "\xef\xbf\xbd" "a", 4 },
		{ "\"\xe2\x82\"", "\xef\xbf\xbd\xef\xbf\xbd", 6 },
		{ "\"\xed\xa0\x80\"", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		    9 },
		{ "\"\xc3\xa9\xf0\x9f\x98\x80\"", "\xc3\xa9\xf0\x9f\x98\x80",
		    6 },
		{ "\"\x7f\"", "\x7f", 1 },
	};
	struct json j;
	size_t i, n;
	char *s;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(parse(&j, t[i].in), 0);
		s = json_get_str(&j, 0, &n);
		assert_non_null(s);
		assert_int_equal(n, t[i].len);
		assert_memory_equal(s, t[i].out, n);
		assert_int_equal(s[n], '\0');
		free(s);
		json_free(&j);
	}
	assert_int_equal(parse(&j, "{\"a\\u0062c\":1,\"x\":2,\"x\":3,"
	    "\"X\":4,\"Hb\":5}"), 0);
	assert_int_equal(json_obj_get(&j, 0, "abc"), 2);
	assert_true(json_tok_eq(&j, 1, "abc"));
	assert_false(json_tok_eq(&j, 1, "ab"));
	assert_false(json_tok_eq(&j, 1, "abcd"));
	assert_false(json_tok_eq(&j, 2, "1"));
	/* First exact match; Go's way: last match, case-insensitive. */
	assert_int_equal(json_obj_get(&j, 0, "x"), 4);
	assert_int_equal(json_obj_get(&j, 0, "X"), 8);
	assert_int_equal(json_obj_get_go(&j, 0, "x"), 8);
	assert_int_equal(json_obj_get_go(&j, 0, "hB"), 10);
	assert_int_equal(json_obj_get_go(&j, 0, "ABC"), 2);
	assert_int_equal(json_obj_get_go(&j, 0, "y"), -1);
	json_free(&j);
}

static char *
wstr(const char *s, size_t n)
{
	static char out[1024];
	struct buf b;
	struct jw w;

	buf_init(&b, 0, 4096);
	jw_init(&w, &b);
	jw_strn(&w, s, n);
	assert_int_equal(jw_finish(&w), 0);
	assert_true(buf_len(&b) < sizeof(out));
	memcpy(out, buf_data(&b), buf_len(&b));
	out[buf_len(&b)] = '\0';
	buf_free(&b);
	return out;
}

static void
test_write_escapes(void **state)
{
	char c, want[16];
	int i;

	(void)state;
	/* Every control character, as Go 1.22+ writes it. */
	for (i = 0; i < 0x20; i++) {
		c = (char)i;
		switch (i) {
		case '\b':
			strcpy(want, "\"\\b\"");
			break;
		case '\f':
			strcpy(want, "\"\\f\"");
			break;
		case '\n':
			strcpy(want, "\"\\n\"");
			break;
		case '\r':
			strcpy(want, "\"\\r\"");
			break;
		case '\t':
			strcpy(want, "\"\\t\"");
			break;
		default:
			snprintf(want, sizeof(want), "\"\\u00%02x\"", i);
			break;
		}
		assert_string_equal(wstr(&c, 1), want);
	}
	assert_string_equal(wstr("\x7f", 1), "\"\x7f\"");
	assert_string_equal(wstr("a\"b\\c/d", 7), "\"a\\\"b\\\\c/d\"");
	assert_string_equal(wstr("<a href='x'>&amp;</a>", 21),
	    "\"\\u003ca href='x'\\u003e\\u0026amp;\\u003c/a\\u003e\"");
	assert_string_equal(wstr("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa", 9),
	    "\"\\u2028\\u2029\xe2\x80\xaa\"");
	assert_string_equal(wstr("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Invalid UTF-8, byte by byte. */
	assert_string_equal(wstr("a\xff" "b", 3), "\"a\\ufffdb\"");
	assert_string_equal(wstr("\xe2\x82", 2), "\"\\ufffd\\ufffd\"");
	assert_string_equal(wstr("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"");
	assert_string_equal(wstr("\xed\xa0\x80", 3),
	    "\"\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(wstr("\xf4\x90\x80\x80", 4),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(wstr("\xf4\x8f\xbf\xbf", 4),
	    "\"\xf4\x8f\xbf\xbf\"");
	assert_string_equal(wstr("a\0b", 3), "\"a\\u0000b\"");
	assert_string_equal(wstr("", 0), "\"\"");
}

/* Write s, parse it back, and expect the same bytes. */
static void
roundtrip(const char *s, size_t n)
{
	struct buf b;
	struct jw w;
	struct json j;
	char err[128], *back;
	size_t blen;

	buf_init(&b, 0, 1 << 16);
	jw_init(&w, &b);
	jw_strn(&w, s, n);
	assert_int_equal(jw_finish(&w), 0);
	assert_int_equal(json_parse(&j, buf_data(&b), buf_len(&b), err,
	    sizeof(err)), 0);
	back = json_get_str(&j, 0, &blen);
	assert_non_null(back);
	assert_int_equal(blen, n);
	assert_memory_equal(back, s, n);
	free(back);
	json_free(&j);
	buf_free(&b);
}

static void
test_roundtrip(void **state)
{
	char all[128], u[4];
	uint32_t cps[] = { 0x80, 0x7ff, 0x800, 0xfffd, 0xffff, 0x10000,
	    0x10ffff, 0x2028, 0x2029, 0xe000, 0xd7ff };
	size_t i;

	(void)state;
	for (i = 0; i < 128; i++)
		all[i] = (char)i;
	roundtrip(all, sizeof(all));
	roundtrip("", 0);
	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		uint32_t r = cps[i];
		size_t n;

		if (r < 0x800) {
			u[0] = (char)(0xc0 | (r >> 6));
			u[1] = (char)(0x80 | (r & 0x3f));
			n = 2;
		} else if (r < 0x10000) {
			u[0] = (char)(0xe0 | (r >> 12));
			u[1] = (char)(0x80 | ((r >> 6) & 0x3f));
			u[2] = (char)(0x80 | (r & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | (r >> 18));
			u[1] = (char)(0x80 | ((r >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((r >> 6) & 0x3f));
			u[3] = (char)(0x80 | (r & 0x3f));
			n = 4;
		}
		roundtrip(u, n);
	}
}

static void
test_write_documents(void **state)
{
	struct buf b;
	struct jw w;

	(void)state;
	buf_init(&b, 0, 1 << 16);
	/*
	 * nsqd's IDENTIFY response as Go marshals its struct, and a
	 * /stats fragment with nested arrays and escapes.
	 */
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "max_rdy_count");
	jw_int(&w, 2500);
	jw_key(&w, "version");
	jw_str(&w, "1.3.0");
	jw_key(&w, "max_msg_timeout");
	jw_int(&w, 900000);
	jw_key(&w, "tls_v1");
	jw_bool(&w, false);
	jw_key(&w, "deflate");
	jw_bool(&w, true);
	jw_key(&w, "sample_rate");
	jw_int(&w, 0);
	jw_key(&w, "auth_required");
	jw_bool(&w, false);
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), 0);
	assert_int_equal(buf_len(&b), strlen("{\"max_rdy_count\":2500,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"tls_v1\":false,\"deflate\":true,\"sample_rate\":0,"
	    "\"auth_required\":false}"));
	assert_memory_equal(buf_data(&b), "{\"max_rdy_count\":2500,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"tls_v1\":false,\"deflate\":true,\"sample_rate\":0,"
	    "\"auth_required\":false}", buf_len(&b));

	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "topics");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_key(&w, "topic_name");
	jw_str(&w, "t<1>&");
	jw_key(&w, "channels");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_key(&w, "paused");
	jw_bool(&w, false);
	jw_key(&w, "e2e_processing_latency");
	jw_obj_begin(&w);
	jw_key(&w, "count");
	jw_uint(&w, UINT64_MAX);
	jw_key(&w, "percentiles");
	jw_null(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "q");
	jw_arr_begin(&w);
	jw_double(&w, 0.99);
	jw_double(&w, 1);
	jw_int(&w, INT64_MIN);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_str(&w, "");
	jw_arr_end(&w);
	jw_key(&w, "");
	jw_raw(&w, "{\"r\":1}", 7);
	jw_obj_end(&w);
	assert_int_equal(jw_finish(&w), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_string_equal(buf_data(&b), "{\"topics\":[{\"topic_name\":"
	    "\"t\\u003c1\\u003e\\u0026\",\"channels\":[],\"paused\":false,"
	    "\"e2e_processing_latency\":{\"count\":18446744073709551615,"
	    "\"percentiles\":null}},{}],\"q\":[0.99,1,-9223372036854775808,"
	    "[],\"\"],\"\":{\"r\":1}}");

	/* Top-level scalars. */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_str(&w, "x");
	assert_int_equal(jw_finish(&w), 0);
	assert_int_equal(buf_len(&b), 3);
	buf_free(&b);
}

static void
test_write_errors(void **state)
{
	struct buf b;
	struct jw w;
	int i;

	(void)state;
	buf_init(&b, 0, 1024);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	assert_int_equal(jw_finish(&w), -1);	/* unbalanced */
	buf_reset(&b);
	jw_init(&w, &b);
	jw_arr_end(&w);
	assert_int_equal(jw_finish(&w), -1);
	buf_reset(&b);
	jw_init(&w, &b);
	jw_double(&w, NAN);
	assert_int_equal(jw_finish(&w), -1);
	buf_reset(&b);
	jw_init(&w, &b);
	jw_double(&w, -INFINITY);
	assert_int_equal(jw_finish(&w), -1);
	/* Nesting beyond 63 levels. */
	buf_reset(&b);
	jw_init(&w, &b);
	for (i = 0; i < 70; i++)
		jw_arr_begin(&w);
	for (i = 0; i < 70; i++)
		jw_arr_end(&w);
	assert_int_equal(jw_finish(&w), -1);
	buf_reset(&b);
	jw_init(&w, &b);
	for (i = 0; i < 63; i++)
		jw_arr_begin(&w);
	for (i = 0; i < 63; i++)
		jw_arr_end(&w);
	assert_int_equal(jw_finish(&w), 0);
	buf_free(&b);
	/* The buffer's maximum. */
	buf_init(&b, 0, 8);
	jw_init(&w, &b);
	jw_str(&w, "0123456789");
	assert_int_equal(jw_finish(&w), -1);
	buf_free(&b);
}

static const struct {
	double		 d;
	const char	*s;
} floats[] = {
	/* Expected strings from Python's shortest repr, Go's layout. */
	{ 0x1.fae147ae147aep-1, "0.99" },
	{ 0x1.0000000000000p+0, "1" },
	{ 0x1.9000000000000p+6, "100" },
	{ 0x1.5af1d78b58c40p+66, "100000000000000000000" },
	{ 0x1.b1ae4d6e2ef50p+69, "1e+21" },
	{ 0x1.0c6f7a0b5ed8dp-20, "0.000001" },
	{ 0x1.ad7f29abcaf48p-24, "1e-7" },
	{ 0x1.d6f34547df3b6p+26, "123456789.123" },
	{ 0x1.3333333333334p-2, "0.30000000000000004" },
	{ -0x0.0p+0, "-0" },
	{ 0x1.fffffffffffffp+1023, "1.7976931348623157e+308" },
	{ 0x0.0000000000001p-1022, "5e-324" },
	{ 0x1.91eb851eb851fp+1, "3.14" },
	{ 0x1.a36e2eb1c432dp-16, "0.000025" },
	{ 0x1.1eb2d66005835p+997, "1.5e+300" },
	{ 0x1.56a95319d63e1p+63, "12345678901234567000" },
	{ -0x1.8000000000000p+0, "-1.5" },
	{ 0x1.0000000000000p-1, "0.5" },
	{ 0x1.56e1fc2f8f359p-997, "1e-300" },
	{ 0x1.b1ae4d6e2ef4fp+69, "999999999999999900000" },
	{ 0x1.b1ae4d6e2ef50p+69, "1e+21" },
	{ 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
	{ 0x0.0000000000001p-1022, "5e-324" },
	{ 0x1.0000000000000p+53, "9007199254740992" },
	{ 0x1.0000000000000p+70, "1.1805916207174113e+21" },
	{ 0x1.0000000000000p-20, "9.5367431640625e-7" },
	{ 0x1.c6bf526340000p+49, "1000000000000000" },
	{ 0x1.1c37937e08000p+53, "10000000000000000" },
	{ 0x1.0823f71155233p-23, "1.23e-7" },
	{ 0x1.4b3fd5942cd96p-20, "0.000001234" },
	{ 0x1.1666666666666p+2, "4.35" },
	{ 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
	{ -0x1.74de452e6b438p+811, "-1.989032661366619e+244" },
	{ 0x1.3270e269e0d37p+594, "7.761117632285041e+178" },
	{ 0x1.c7fd0a6a3a450p-826, "3.980498358697587e-249" },
	{ -0x1.f0824128b2f33p+292, "-1.5432835417340557e+88" },
	{ 0x1.8e811892f902bp-638, "1.3647584518757569e-192" },
	{ -0x1.1985d5d9dc9f8p-684, "-1.3701135617873088e-206" },
	{ -0x1.25d940ed90475p+655, "-1.7160537630466207e+197" },
	{ 0x1.675cc81e74ef5p-144, "6.294675241195386e-44" },
	{ 0x1.0a35a099950d8p-671, "1.0613447212142254e-202" },
	{ 0x1.d549b6f03675ap+689, "4.708325160387546e+207" },
	{ 0x1.c172411e20b8fp-38, "6.387016158513563e-12" },
	{ -0x1.16ece1738f7d9p-814, "-9.973130378568733e-246" },
	{ 0x1.1ddb66cad4a26p-781, "8.779753225680271e-236" },
	{ -0x1.192cfd3ac94afp-755, "-5.795503248498993e-228" },
	{ -0x1.c105d1fb17c23p+809, "-5.988180159386011e+243" },
	{ -0x1.0b33839263059p-488, "-1.306052388527796e-147" },
	{ -0x1.f48f1a09f76b5p-684, "-2.436117699484841e-206" },
	{ 0x1.630f1f29d0da9p-770, "2.233386999150174e-232" },
	{ -0x1.60af593bd04cfp-673, "-3.51527970626667e-203" },
	{ 0x1.1e29c658cda14p-820, "1.5987381841032883e-247" },
	{ 0x1.8d190f9ebdaccp-118, "4.6678633181812096e-36" },
	{ -0x1.1973e0becd7b0p-791, "-8.441872792105456e-239" },
	{ 0x1.7beaddbc496cbp-478, "1.9015657400796622e-144" },
	{ 0x1.cb2424a23d596p+693, "7.370437700706684e+208" },
	{ -0x1.a63ec24ede6a4p-857, "-1.7163996725272777e-258" },
	{ -0x1.766581e27a1c0p-733, "-3.2367190832119987e-221" },
	{ -0x1.d05584ef8aa38p-777, "-2.2818334634712625e-234" },
	{ -0x1.7ba94d0eda82fp-278, "-3.0536383926309363e-84" },
	{ 0x1.1dbe22e44158bp-601, "1.3449551894627777e-181" },
	{ -0x1.a736994e3bf91p-732, "-7.317495976062606e-221" },
	{ 0x1.850c5a38fd547p-254, "5.249822308814304e-77" },
	{ 0x1.135d25f557203p-624, "1.5450754142984396e-188" },
	{ -0x1.ce4228c38fb29p-155, "-3.953625698224792e-47" },
	{ -0x1.a70c31012f037p-760, "-2.72491267476498e-229" },
	{ -0x1.769b10f4205b4p-536, "-6.505141861548772e-162" },
	{ 0x1.5052434b9b5dfp+1010, "1.441484839555994e+304" },
	{ -0x1.ed162ae2eb154p-894, "-1.4583679262758548e-269" },
	{ -0x1.877186d76b07ep+112, "-7.939416668807721e+33" },
	{ 0x1.1af10506bf2efp+884, "1.4255183989699612e+266" },
	{ -0x1.6a78795e761d1p+711, "-1.525315701232403e+214" },
	{ -0x1.768665ae6aeb0p+6, "-93.63124725844932" },
	{ -0x1.90774c2fe4b30p+8, "-400.46600627263524" },
	{ 0x1.266125b378892p+9, "588.7589630449822" },
	{ 0x1.8dfd266af5188p+8, "397.9888674591425" },
	{ -0x1.ffce96258947bp+8, "-511.80697855569423" },
	{ 0x1.29b1e11a1fe30p+7, "148.84742051734202" },
	{ 0x1.9324e12e3b920p+5, "50.393007622902815" },
	{ 0x1.772332e8ef38cp+9, "750.2749911468577" },
	{ 0x1.cae3fcfa35634p+8, "458.89057887843524" },
	{ -0x1.a81fdd47c29fap+8, "-424.1244702196269" },
	{ 0x1.e02cc2ce266d8p+9, "960.3496949851642" },
	{ -0x1.7def292802266p+9, "-763.8684434900758" },
	{ -0x1.47823b0184da0p+7, "-163.75435642954562" },
	{ 0x1.012413f5c1c92p+9, "514.2818591304988" },
	{ -0x1.5c03f589575a8p+9, "-696.0309306789904" },
	{ -0x1.612e47e934e40p+4, "-22.073799048388764" },
	{ -0x1.cccaf133bf63cp+9, "-921.5854859051246" },
	{ 0x1.506e84bf67b60p+8, "336.4317130687905" },
	{ 0x1.08922449c26c8p+9, "529.1417324256263" },
	{ 0x1.241a90168c0d8p+7, "146.05188055476788" },
	{ 0x1.0000000000000p+211, "3.291009114642412e+63" },
	{ 0x1.0000000000000p+319, "1.067993517960455e+96" },
	{ 0x1.0000000000000p+360, "2.3485425827738332e+108" },
	{ 0x1.0000000000000p+960, "9.7453140114e+288" },
	{ 0x1.0000000000000p+794, "1.0418772551374772e+239" },
	{ 0x1.0000000000000p-793, "1.9196119217864076e-239" },
	{ 0x1.0000000000000p-691, "9.733588819431218e-209" },
	{ 0x1.0000000000000p+31, "2147483648" },
	{ 0x1.0000000000000p+867, "9.840252457850897e+260" },
	{ 0x1.0000000000000p-808, "5.858190679279809e-244" },
	{ 0x1.0000000000000p-826, "2.2347223965758547e-249" },
	{ 0x1.0000000000000p+194, "2.5108406941546723e+58" },
	{ 0x1.0000000000000p+751, "1.1844773043065711e+226" },
	{ 0x1.0000000000000p+91, "2.4758800785707605e+27" },
	{ 0x1.0000000000000p+506, "2.094969989053531e+152" },
	{ 0x1.0000000000000p+347, "2.8668732699875894e+104" },
	{ 0x1.0000000000000p-982, "2.446494580089078e-296" },
	{ 0x1.0000000000000p+817, "8.739899877464283e+245" },
	{ 0x1.0000000000000p+381, "4.92525077454931e+114" },
	{ 0x1.0000000000000p-386, "6.344854593289123e-117" },
	{ 0x1.0000000000000p-595, "7.71174356832923e-180" },
	{ 0x1.0000000000000p+948, "2.379227053564453e+285" },
	{ 0x1.0000000000000p-833, "1.7458768723248864e-251" },
	{ 0x1.0000000000000p-181, "3.2626522339992623e-55" },
	{ 0x1.0000000000000p+103, "1.0141204801825835e+31" },
	{ 0x1.0000000000000p-545, "8.682651365176084e-165" },
	{ 0x1.0000000000000p-60, "8.673617379884035e-19" },
	{ 0x1.0000000000000p+555, "1.1793632577567317e+167" },
	{ 0x1.0000000000000p+527, "4.39347050248359e+158" },
	{ 0x1.0000000000000p+959, "4.8726570057e+288" },
	{ 0x1.0000000000000p-744, "1.0806454419566534e-224" },
	{ 0x1.0000000000000p-393, "4.9569176510071274e-119" },
	{ 0x1.0000000000000p+765, "1.9406476153758862e+230" },
	{ 0x1.0000000000000p+571, "7.729075046034517e+171" },
	{ 0x1.0000000000000p+64, "18446744073709552000" },
	{ 0x1.0000000000000p-514, "1.8645851828000517e-155" },
	{ 0x1.0000000000000p+689, "2.568425733177917e+207" },
	{ 0x1.0000000000000p+66, "73786976294838210000" },
	{ 0x1.0000000000000p+627, "5.569385519558344e+188" },
	{ 0x1.0000000000000p+395, "8.06953086902159e+118" },
	{ 0x1.0000000000000p+484, "4.994797680505588e+145" },
	{ 0x1.0000000000000p-129, "1.4693679385278594e-39" },
	{ 0x1.0000000000000p-456, "5.374300886053671e-138" },
	{ 0x1.0000000000000p-735, "5.5329046628180653e-222" },
	{ 0x1.0000000000000p-353, "5.450188595210433e-107" },
	{ 0x1.0000000000000p-455, "1.0748601772107342e-137" },
	{ 0x1.0000000000000p-124, "4.70197740328915e-38" },
	{ 0x1.0000000000000p-119, "1.504632769052528e-36" },
	{ 0x0.2000000000000p-1022, "2.781342323134e-309" },
	{ 0x1.0000000000000p+912, "3.462231039250696e+274" },
	{ 0x1.0000000000000p-328, "1.82877982605164e-99" },
	{ 0x1.0000000000000p+2, "4" },
	{ 0x1.0000000000000p+80, "1.2089258196146292e+24" },
	{ 0x0.0000000010000p-1022, "3.2379e-319" },
	{ 0x1.0000000000000p-478, "1.2813331809171846e-144" },
	{ 0x1.0000000000000p+642, "1.824976247048878e+193" },
	{ 0x1.0000000000000p+438, "7.098034416949286e+131" },
	{ 0x1.0000000000000p+231, "3.450873173395282e+69" },
	{ 0x1.0000000000000p-560, "2.6497349136889905e-169" },
	{ 0x1.0000000000000p-853, "1.664997932743918e-257" },
};

static void
test_write_doubles(void **state)
{
	char out[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		n = json_fmt_double(floats[i].d, out, sizeof(out));
		assert_string_equal(out, floats[i].s);
		assert_int_equal(n, strlen(floats[i].s));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_object),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_write_escapes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_write_documents),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_write_doubles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
