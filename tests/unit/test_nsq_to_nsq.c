/*
 * Unit tests for nsq-to-nsq's JSON filters (cmd/nsq-to-nsq/filter.c):
 * each rule of Go's nsq_to_nsq on bodies, the whitelist's output against
 * what Go's json.Marshal prints, and every truncated prefix of a body,
 * which must be judged (bad JSON) without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cmd/nsq-to-nsq/filter.c"

struct tcase {
	const char		*body;
	enum filter_result	 want;
	const char		*out;	/* NULL: the body unchanged */
};

static void
run(const char *field, const char *value, const char *const *wl, size_t nwl,
    const struct tcase *tc, size_t n)
{
	struct filter f;
	char *out;
	size_t i, len;
	enum filter_result r;

	filter_init(&f, field, value, wl, nwl);
	for (i = 0; i < n; i++) {
		r = filter_message(&f, tc[i].body, strlen(tc[i].body), &out,
		    &len);
		if (r != tc[i].want)
			fail_msg("%s: got %d, want %d", tc[i].body, r,
			    tc[i].want);
		if (tc[i].out == NULL)
			assert_null(out);
		else {
			assert_non_null(out);
			assert_int_equal(len, strlen(tc[i].out));
			assert_memory_equal(out, tc[i].out, len);
		}
		free(out);
	}
	filter_free(&f);
}

static void
test_require_field(void **state)
{
	static const struct tcase tc[] = {
		{ "{\"a\":1}", FILTER_PASS, NULL },
		{ "{\"b\":1}", FILTER_DROP, NULL },
		{ "null", FILTER_DROP, NULL },
		{ "[1]", FILTER_BAD_JSON, NULL },
		{ "\"a\"", FILTER_BAD_JSON, NULL },
		{ "{\"a\":1", FILTER_BAD_JSON, NULL },
		{ "{\"a\":1} x", FILTER_BAD_JSON, NULL },
		{ "{\"a\":1e999}", FILTER_BAD_JSON, NULL },
		{ "{\"b\":[1e999],\"a\":1}", FILTER_BAD_JSON, NULL },
		{ " {\"a\":null} ", FILTER_PASS, NULL },
		{ "{\"A\":1}", FILTER_DROP, NULL },
		{ "{\"\\u0061\":1}", FILTER_PASS, NULL },
	};

	(void)state;
	run("a", "", NULL, 0, tc, sizeof(tc) / sizeof(tc[0]));
}

static void
test_require_value(void **state)
{
	static const struct tcase s[] = {
		{ "{\"a\":\"x\"}", FILTER_PASS, NULL },
		{ "{\"a\":\"y\"}", FILTER_DROP, NULL },
		{ "{\"a\":\"x\",\"a\":\"y\"}", FILTER_DROP, NULL },
		{ "{\"a\":\"y\",\"a\":\"x\"}", FILTER_PASS, NULL },
		{ "{\"a\":1}", FILTER_DROP, NULL },
		{ "{\"b\":\"x\"}", FILTER_MISSING, NULL },
		{ "null", FILTER_MISSING, NULL },
	};
	static const struct tcase num[] = {
		{ "{\"a\":1.5}", FILTER_PASS, NULL },
		{ "{\"a\":15e-1}", FILTER_PASS, NULL },
		{ "{\"a\":\"1.5\"}", FILTER_PASS, NULL },
		{ "{\"a\":\"1.50\"}", FILTER_DROP, NULL },
		{ "{\"a\":2}", FILTER_DROP, NULL },
		{ "{\"a\":true}", FILTER_DROP, NULL },
		{ "{\"a\":[1.5]}", FILTER_DROP, NULL },
	};
	static const struct tcase t[] = {
		{ "{\"a\":true}", FILTER_DROP, NULL },
		{ "{\"a\":\"true\"}", FILTER_PASS, NULL },
	};

	(void)state;
	run("a", "x", NULL, 0, s, sizeof(s) / sizeof(s[0]));
	run("a", "1.5", NULL, 0, num, sizeof(num) / sizeof(num[0]));
	/* A value that is no number matches strings only. */
	run("a", "true", NULL, 0, t, sizeof(t) / sizeof(t[0]));
}

static void
test_go_float(void **state)
{
	double d;

	(void)state;
	assert_true(parse_go_float("2", &d) && d == 2);
	assert_true(parse_go_float("-1e3", &d) && d == -1000);
	assert_true(parse_go_float("Inf", &d));
	assert_true(parse_go_float("0x1p-2", &d) && d == 0.25);
	assert_false(parse_go_float(" 2", &d));
	assert_false(parse_go_float("2 ", &d));
	assert_false(parse_go_float("0x10", &d));
	assert_false(parse_go_float("nan(1)", &d));
	assert_false(parse_go_float("1e999", &d));
	assert_false(parse_go_float("x", &d));
}

static void
test_whitelist(void **state)
{
	static const char *const wl[] = { "z", "a", "c", "a", "n" };
	static const struct tcase tc[] = {
		{ "{\"a\":1,\"b\":2,\"z\":\"<&>\"}", FILTER_PASS,
		  "{\"a\":1,\"z\":\"\\u003c\\u0026\\u003e\"}" },
		{ "{\"b\":2}", FILTER_PASS, "{}" },
		{ "null", FILTER_PASS, "{}" },
		{ "{\"a\":1e2,\"c\":{\"y\":1e2,\"x\":[1.50,null,true]}}",
		  FILTER_PASS, "{\"a\":100,\"c\":{\"x\":[1.5,null,true],"
		  "\"y\":100}}" },
		{ "{\"a\":1.5e300}", FILTER_PASS, "{\"a\":1.5e+300}" },
		{ "{\"a\":-0}", FILTER_PASS, "{\"a\":0}" },
		{ "{\"c\":[-0.0]}", FILTER_PASS, "{\"c\":[-0]}" },
		{ "{\"a\":0.000001}", FILTER_PASS, "{\"a\":0.000001}" },
		{ "{\"a\":1e-7}", FILTER_PASS, "{\"a\":1e-7}" },
		{ "{\"a\":1,\"a\":2}", FILTER_PASS, "{\"a\":2}" },
		{ "{\"c\":{\"k\":1,\"k\":2,\"j\":3}}", FILTER_PASS,
		  "{\"c\":{\"j\":3,\"k\":2}}" },
		{ "{\"c\":{\"b\\u0000\":1,\"b\":2}}", FILTER_PASS,
		  "{\"c\":{\"b\":2,\"b\\u0000\":1}}" },
		{ "{\"n\":\"\\ud800\\u00e9\"}", FILTER_PASS,
		  "{\"n\":\"\xef\xbf\xbd\xc3\xa9\"}" },
		{ "{\"n\":\"\\u2028\"}", FILTER_PASS,
		  "{\"n\":\"\\u2028\"}" },
		{ "{\"c\":{}}", FILTER_PASS, "{\"c\":{}}" },
		{ "{\"c\":[]}", FILTER_PASS, "{\"c\":[]}" },
		{ "[]", FILTER_BAD_JSON, NULL },
	};

	(void)state;
	run("", "", wl, sizeof(wl) / sizeof(wl[0]), tc,
	    sizeof(tc) / sizeof(tc[0]));
}

static void
test_prefixes(void **state)
{
	static const char *const wl[] = { "a", "c" };
	const char *doc = "{\"a\":[1,{\"b\":\"\\u00e9\"}],\"c\":{\"d\":-2.5e3},"
	    "\"e\":null}";
	struct filter f;
	char *out;
	size_t i, len;

	(void)state;
	filter_init(&f, "a", "", wl, 2);
	for (i = 0; i < strlen(doc); i++) {
		assert_int_equal(filter_message(&f, doc, i, &out, &len),
		    FILTER_BAD_JSON);
		assert_null(out);
	}
	assert_int_equal(filter_message(&f, doc, strlen(doc), &out, &len),
	    FILTER_PASS);
	assert_string_equal(out,
	    "{\"a\":[1,{\"b\":\"\xc3\xa9\"}],\"c\":{\"d\":-2500}}");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_require_field),
		cmocka_unit_test(test_require_value),
		cmocka_unit_test(test_go_float),
		cmocka_unit_test(test_whitelist),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
