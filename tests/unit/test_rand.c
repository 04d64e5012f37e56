/* Unit tests for lib/rand: ranges, coverage, and one state per thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rand.h"

/* Draws stay in range, and every value of a small range comes up. */
static void
test_ranges(void **state)
{
	unsigned seen[10] = { 0 };
	unsigned i;
	double d;

	(void)state;
	for (i = 0; i < 10000; i++) {
		assert_true(rand_below(1) == 0);
		seen[rand_below(10)]++;
		d = rand_unit();
		assert_true(d >= 0 && d < 1);
	}
	/* 1000 expected each: 700 is far below any honest draw. */
	for (i = 0; i < 10; i++)
		assert_true(seen[i] > 700);
}

/* Two draws in a row differ (a stuck state would repeat). */
static void
test_moves(void **state)
{
	uint64_t a, b;

	(void)state;
	a = rand_u64();
	b = rand_u64();
	assert_true(a != b);
}

static void *
draw4(void *arg)
{
	uint64_t *v = arg;
	int i;

	for (i = 0; i < 4; i++)
		v[i] = rand_u64();
	return NULL;
}

/* A thread has its own state, seeded apart: its stream is not ours. */
static void
test_threads_apart(void **state)
{
	uint64_t mine[4], theirs[4];
	pthread_t t;

	(void)state;
	draw4(mine);
	assert_int_equal(pthread_create(&t, NULL, draw4, theirs), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(memcmp(mine, theirs, sizeof(mine)) != 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_moves),
		cmocka_unit_test(test_threads_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
