/*
 * Unit tests for lib/names against Go nsqd's rule: 1..64 bytes matching
 * ^[.a-zA-Z0-9_-]+(#ephemeral)?$, the suffix counting toward the 64.
 * Each name is checked from an allocation of exactly its length, so a
 * read past the end shows up under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"

#define EPH	"#ephemeral"
#define EPHLEN	10

/* The name's bytes in an allocation of exactly n bytes. */
static bool
valid(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	bool r;

	assert_non_null(p);
	memcpy(p, s, n);
	r = name_valid(p, n);
	free(p);
	return r;
}

static bool
ephemeral(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	bool r;

	assert_non_null(p);
	memcpy(p, s, n);
	r = name_ephemeral(p, n);
	free(p);
	return r;
}

/* Go's character class, written out independently. */
static bool
go_class(int c)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

	return c != 0 && memchr(set, c, sizeof(set) - 1) != NULL;
}

static void
test_lengths(void **state)
{
	char s[80];

	(void)state;
	memset(s, 'a', sizeof(s));
	assert_false(valid(s, 0));
	assert_true(valid(s, 1));
	assert_true(valid(s, 63));
	assert_true(valid(s, 64));
	assert_false(valid(s, 65));
	assert_false(valid(s, 80));
	/* With the suffix: the whole name counts. */
	memcpy(s + 1, EPH, EPHLEN);
	assert_true(valid(s, 1 + EPHLEN));
	assert_true(ephemeral(s, 1 + EPHLEN));
	memset(s, 'a', sizeof(s));
	memcpy(s + 64 - EPHLEN, EPH, EPHLEN);
	assert_true(valid(s, 64));
	assert_true(ephemeral(s, 64));
	memset(s, 'a', sizeof(s));
	memcpy(s + 65 - EPHLEN, EPH, EPHLEN);
	assert_false(valid(s, 65));
	/* The suffix does not exempt the 64-byte limit's body either. */
	memset(s, 'a', sizeof(s));
	memcpy(s + 64, EPH, EPHLEN);
	assert_false(valid(s, 64 + EPHLEN));
}

/* Every byte value as a one-byte name, and inside a longer name. */
static void
test_every_byte(void **state)
{
	char s[3 + EPHLEN];
	int c, nvalid = 0;

	(void)state;
	for (c = 0; c < 256; c++) {
		s[0] = (char)c;
		assert_int_equal(valid(s, 1), go_class(c));
		assert_false(ephemeral(s, 1));
		nvalid += go_class(c);
		/* In the middle and at each end of a name. */
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		assert_int_equal(valid(s, 3), go_class(c));
		assert_int_equal(valid(s + 1, 2), go_class(c));
		assert_int_equal(valid(s, 2), go_class(c));
		/* Before the suffix. */
		memcpy(s + 2, EPH, EPHLEN);
		assert_int_equal(valid(s, 2 + EPHLEN), go_class(c));
		assert_int_equal(valid(s + 1, 1 + EPHLEN), go_class(c));
	}
	assert_int_equal(nvalid, 26 + 26 + 10 + 3);
}

static void
test_suffix(void **state)
{
	static const struct {
		const char	*s;
		bool		 valid;
		bool		 eph;
	} cases[] = {
		{ "#ephemeral", false, false },
		{ "a#ephemeral", true, true },
		{ ".#ephemeral", true, true },
		{ "a#ephemeralx", false, false },
		{ "a#ephemera", false, false },
		{ "a#Ephemeral", false, false },
		{ "a#EPHEMERAL", false, false },
		{ "a#b", false, false },
		{ "a#", false, false },
		{ "#", false, false },
		{ "#a", false, false },
		{ "a##ephemeral", false, true },
		{ "a#ephemeral#ephemeral", false, true },
		{ "#ephemeral#ephemeral", false, true },
		{ "a ephemeral", false, false },
		{ "aephemeral", true, false },
		{ "a#ephemeral\n", false, false },
		{ "a\n", false, false },
		{ ".", true, false },
		{ "-", true, false },
		{ "_", true, false },
		{ "..", true, false },
		{ "a:b", false, false },
		{ "a/b", false, false },
		{ "a b", false, false },
		{ "test_topic-1.0", true, false },
		{ "\xc3\xa9", false, false },	/* UTF-8 e-acute */
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].s);
		assert_int_equal(valid(cases[i].s, n), cases[i].valid);
		if (cases[i].valid)
			assert_int_equal(ephemeral(cases[i].s, n),
			    cases[i].eph);
		else if (cases[i].eph)
			/* Ends in the suffix, though not a valid name. */
			assert_true(ephemeral(cases[i].s, n));
	}
}

/* The length given is the name: NULs count, bytes past it do not. */
static void
test_length_not_nul(void **state)
{
	(void)state;
	assert_false(valid("a\0b", 3));
	assert_false(valid("\0", 1));
	assert_true(valid("ab#", 2));
	assert_true(valid("a#ephemeral", 1));
	assert_false(valid("a#ephemeral", 2));
	assert_true(ephemeral("a#ephemeralx", 11));
	assert_false(ephemeral("a#ephemeral", 10));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_suffix),
		cmocka_unit_test(test_length_not_nul),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
