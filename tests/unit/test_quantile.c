/* Unit tests for lib/quantile: ranks, accuracy bound, windows, merging. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "quantile.h"

#define SEC	1000000000LL

/* The value of rank ceil(p * n) among sorted v[0, n). */
static int64_t
exact(const int64_t *v, size_t n, double p)
{
	size_t r = (size_t)ceil(p * (double)n);

	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return v[r - 1];
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
test_empty(void **state)
{
	struct quantile *q = quantile_new(10 * SEC, 0);

	(void)state;
	assert_int_equal(quantile_count(q, 0), 0);
	assert_int_equal(quantile_query(q, 0.5, 0), 0);
	assert_int_equal(quantile_query(q, 1.0, 0), 0);
	assert_true(quantile_sum(q, 0) == 0);
	quantile_free(q);
	quantile_free(NULL);
}

static void
test_small_values_exact(void **state)
{
	struct quantile *q = quantile_new(10 * SEC, 0);
	int i;

	(void)state;
	/* 1..60: all below 64, so every rank is exact. */
	for (i = 60; i >= 1; i--)
		quantile_insert(q, i, 0);
	assert_int_equal(quantile_count(q, 0), 60);
	assert_int_equal(quantile_query(q, 0.5, 0), 30);
	assert_int_equal(quantile_query(q, 0.99, 0), 60);
	assert_int_equal(quantile_query(q, 0.9, 0), 54);
	assert_int_equal(quantile_query(q, 0.01, 0), 1);
	assert_int_equal(quantile_query(q, 0, 0), 1);
	assert_int_equal(quantile_query(q, 1, 0), 60);
	assert_true(quantile_sum(q, 0) == 1830);
	/* Negative durations (clock steps) count as 0. */
	quantile_insert(q, -5, 0);
	assert_int_equal(quantile_query(q, 0, 0), 0);
	quantile_free(q);
}

static void
test_accuracy_bound(void **state)
{
	static const double ps[] = { 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95,
	    0.99, 0.999, 1.0 };
	struct quantile *q = quantile_new(60 * SEC, 0);
	int64_t *v;
	size_t n = 20000, i, j;
	uint64_t x = 88172645463325252ULL;

	(void)state;
	v = calloc(n, sizeof(*v));
	assert_non_null(v);
	/* Log-uniform values from 1 us to ~1000 s (xorshift). */
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (int64_t)(1000.0 * pow(10, (double)(x % 1000000) /
		    1000000.0 * 9));
		quantile_insert(q, v[i], (int64_t)i);
	}
	qsort(v, n, sizeof(*v), cmp64);
	for (j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
		int64_t want = exact(v, n, ps[j]);
		int64_t got = quantile_query(q, ps[j], (int64_t)n);

		assert_true(llabs(got - want) <= want / 128 + 1);
	}
	assert_int_equal(quantile_query(q, 1.0, (int64_t)n), v[n - 1]);
	assert_int_equal(quantile_query(q, 0.0, (int64_t)n), v[0]);
	free(v);
	quantile_free(q);
}

static void
test_huge_values(void **state)
{
	struct quantile *q = quantile_new(10 * SEC, 0);

	(void)state;
	quantile_insert(q, INT64_MAX, 0);
	quantile_insert(q, (int64_t)1 << 50, 0);
	quantile_insert(q, 1000, 0);
	assert_int_equal(quantile_query(q, 1, 0), INT64_MAX);
	/* Above the last bucket's range the largest value is reported. */
	assert_int_equal(quantile_query(q, 0.6, 0), INT64_MAX);
	assert_int_equal(quantile_query(q, 0.2, 0), 1000);
	quantile_free(q);
}

static void
test_window_rotation(void **state)
{
	struct quantile *q = quantile_new(10 * SEC, 0);

	(void)state;
	quantile_insert(q, 100, 1 * SEC);
	/* Half a window later the value is still there (other half). */
	quantile_insert(q, 200, 6 * SEC);
	assert_int_equal(quantile_count(q, 6 * SEC), 2);
	assert_int_equal(quantile_query(q, 0, 6 * SEC), 100);
	/* Exactly at the boundary nothing moves (Go's "after"). */
	assert_int_equal(quantile_count(q, 10 * SEC), 2);
	/* One more half: the first value's half is cleared. */
	assert_int_equal(quantile_count(q, 10 * SEC + 1), 1);
	assert_int_equal(quantile_query(q, 0, 10 * SEC + 1), 200);
	assert_int_equal(quantile_count(q, 15 * SEC + 1), 0);
	/* A long pause empties everything at once. */
	quantile_insert(q, 300, 16 * SEC);
	assert_int_equal(quantile_count(q, 16 * SEC), 1);
	assert_int_equal(quantile_count(q, 1000 * SEC), 0);
	quantile_insert(q, 400, 1000 * SEC);
	assert_int_equal(quantile_count(q, 1000 * SEC), 1);
	assert_int_equal(quantile_query(q, 0.5, 1000 * SEC), 400);
	quantile_free(q);
}

static void
test_zero_window(void **state)
{
	struct quantile *q = quantile_new(0, 0);

	(void)state;
	quantile_insert(q, 5, 0);
	assert_int_equal(quantile_count(q, 0), 1);
	assert_int_equal(quantile_count(q, INT64_MAX / 2), 0);
	quantile_free(q);
}

static void
test_merge(void **state)
{
	struct quantile *a = quantile_new(10 * SEC, 0);
	struct quantile *b = quantile_new(10 * SEC, 0);
	struct quantile *m = quantile_new(10 * SEC, 0);
	int i;

	(void)state;
	for (i = 1; i <= 30; i++)
		quantile_insert(a, i, 0);
	for (i = 31; i <= 60; i++)
		quantile_insert(b, i, 6 * SEC);
	quantile_merge(m, a, 6 * SEC);
	quantile_merge(m, b, 6 * SEC);
	assert_int_equal(quantile_count(m, 6 * SEC), 60);
	assert_int_equal(quantile_query(m, 0.5, 6 * SEC), 30);
	assert_int_equal(quantile_query(m, 1, 6 * SEC), 60);
	/* The merged halves age as the sources' halves would. */
	assert_int_equal(quantile_count(m, 11 * SEC), 30);
	assert_int_equal(quantile_query(m, 0, 11 * SEC), 31);
	/* Sources are unchanged. */
	assert_int_equal(quantile_count(a, 6 * SEC), 30);
	quantile_free(a);
	quantile_free(b);
	quantile_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_accuracy_bound),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_window_rotation),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
