/*
 * Unit tests for lib/regex: patterns mean what Go's regexp.MatchString
 * makes of them (expected results taken from Go's RE2 semantics), bad
 * patterns are refused with PCRE2's reason and offset, and subjects are
 * read from allocations of exactly their length (ASan sees overreads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "regex.h"

/* Match pattern against s (len bytes) copied into an exact allocation. */
static int
match_n(const char *pattern, const char *s, size_t len)
{
	char err[256], *p;
	struct re *re;
	int r;

	re = re_compile(pattern, err, sizeof(err));
	if (re == NULL)
		fail_msg("%s: %s", pattern, err);
	assert_string_equal(re_pattern(re), pattern);
	p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	r = re_match(re, p, len, err, sizeof(err));
	free(p);
	re_free(re);
	return r;
}

static int
match(const char *pattern, const char *s)
{
	return match_n(pattern, s, strlen(s));
}

static void
test_go_semantics(void **state)
{
	static const struct {
		const char	*pat, *s;
		int		 want;
	} cases[] = {
		/* The report: \d and (?i) as Go reads them. */
		{ "^pa\\d$", "pa1", 1 },
		{ "^pa\\d$", "pa12", 0 },
		{ "^pa\\d$", "pax", 0 },
		{ "(?i)^PA", "pageviews", 1 },
		{ "(?i)^PA", "xpa", 0 },
		/* Unanchored, as MatchString. */
		{ "views", "pageviews", 1 },
		{ "^views", "pageviews", 0 },
		{ "", "anything", 1 },
		{ "", "", 1 },
		/* $ is the end of the text, not before a final newline. */
		{ "a$", "a\n", 0 },
		{ "(?m)a$", "a\nb", 1 },
		{ "a\\z", "a", 1 },
		/* \d \w \s are ASCII; "." is one code point in UTF-8. */
		{ "^\\d$", "\xd9\xa3", 0 },		/* ARABIC-INDIC 3 */
		{ "^\\w$", "\xc3\xa9", 0 },		/* e acute */
		{ "^.$", "\xc3\xa9", 1 },
		{ "^\\p{L}$", "\xc3\xa9", 1 },
		{ "^[[:alpha:]]+$", "abc", 1 },
		{ "^\\x{e9}$", "\xc3\xa9", 1 },
		/* Flags and classes people write in topic patterns. */
		{ "^(clicks|views)\\.(v1|v2)$", "views.v2", 1 },
		{ "^[a-z]+_[0-9]{2,3}$", "ab_123", 1 },
		{ "^[a-z]+_[0-9]{2,3}$", "ab_1234", 0 },
		{ "(?s)a.b", "a\nb", 1 },
		{ "a.b", "a\nb", 0 },
		{ "#ephemeral$", "tail1#ephemeral", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (match(cases[i].pat, cases[i].s) != cases[i].want)
			fail_msg("%s against \"%s\": want %d", cases[i].pat,
			    cases[i].s, cases[i].want);
}

/* Go matches past a byte that is not UTF-8; so must we. */
static void
test_invalid_utf8_subject(void **state)
{
	(void)state;
	assert_int_equal(match("b", "a\xff" "b"), 1);
	assert_int_equal(match("^a", "a\xff"), 1);
	assert_int_equal(match("^b", "\xff" "b"), 0);
	assert_int_equal(match_n("a", "", 0), 0);
	/* A NUL byte is part of the subject. */
	assert_int_equal(match_n("b$", "a\0b", 3), 1);
}

static void
test_bad_patterns(void **state)
{
	static const char *bad[] = {
		"(", "a)", "[a-", "a{2,1}", "\\", "*a", "\\C", "\xff",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (re_compile(bad[i], err, sizeof(err)) != NULL)
			fail_msg("%s compiled", bad[i]);
		assert_non_null(strstr(err, " at offset "));
	}
	assert_null(re_compile("ab(c", err, sizeof(err)));
	assert_string_equal(err, "missing closing parenthesis at offset 4");
	/* A short err buffer is cut, never overrun. */
	assert_null(re_compile("(", err, 8));
	assert_int_equal(strlen(err), 7);
	assert_null(re_compile("(", NULL, 0));
	re_free(NULL);
}

/* Catastrophic backtracking ends in -1 with a reason, not a hang. */
static void
test_match_limit(void **state)
{
	char err[256], s[64];
	struct re *re;

	(void)state;
	re = re_compile("^(a+)+$", err, sizeof(err));
	assert_non_null(re);
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 2] = 'b';
	err[0] = '\0';
	assert_int_equal(re_match(re, s, sizeof(s) - 1, err, sizeof(err)),
	    -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(re_match(re, "aaa", 3, err, sizeof(err)), 1);
	assert_int_equal(re_match(re, NULL, 0, err, sizeof(err)), 0);
	re_free(re);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_semantics),
		cmocka_unit_test(test_invalid_utf8_subject),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_match_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
