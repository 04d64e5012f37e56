/* Unit tests for lib/hist: bucket edges, quantiles against sorted data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

/* Every bucket's range follows the previous one's, and v lands in it. */
static void
test_buckets_tile(void **state)
{
	unsigned i;

	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (i = 1; i < HIST_BUCKETS; i++) {
		assert_true(hist_bucket_low(i) == hist_bucket_high(i - 1) + 1);
		assert_int_equal(hist_bucket(hist_bucket_low(i)), i);
		assert_int_equal(hist_bucket(hist_bucket_high(i)), i);
	}
	assert_true(hist_bucket_high(HIST_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket(127), 127);
	assert_int_equal(hist_bucket(128), 128);
	assert_int_equal(hist_bucket(129), 128);
	assert_int_equal(hist_bucket(130), 129);
}

/* A bucket is never wider than 1/64 of its smallest value. */
static void
test_precision(void **state)
{
	unsigned i;

	(void)state;
	for (i = 128; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);

		assert_true(hi - lo <= lo / 64);
	}
}

static void
test_empty(void **state)
{
	struct hist h;

	(void)state;
	hist_init(&h);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	assert_int_equal(hist_quantile(&h, 1.0), 0);
	assert_int_equal(h.n, 0);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Quantiles of random data are within a bucket's width of the exact
 * nearest-rank value, and never below it; the maximum is exact.
 */
static void
test_quantiles_vs_sorted(void **state)
{
	static uint64_t v[20000];
	static const double qs[] = { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0 };
	struct hist h;
	size_t i, k, n = sizeof(v) / sizeof(v[0]);

	(void)state;
	srand(7);
	hist_init(&h);
	for (i = 0; i < n; i++) {
		/* Spread over six decades, as latencies are. */
		v[i] = (uint64_t)rand() % 1000 *
		    (uint64_t)(1 + rand() % 1000000);
		hist_add(&h, v[i]);
	}
	qsort(v, n, sizeof(v[0]), cmp_u64);
	assert_true(h.min == v[0]);
	assert_true(h.max == v[n - 1]);
	for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)(qs[k] * (double)n + 0.999999);
		uint64_t want = v[rank - 1], got = hist_quantile(&h, qs[k]);

		assert_true(got >= want);
		assert_true(got - want <= want / 64 + 1);
	}
	assert_true(hist_quantile(&h, 1.0) == v[n - 1]);
}

static void
test_small_exact(void **state)
{
	struct hist h;
	uint64_t i;

	(void)state;
	hist_init(&h);
	for (i = 1; i <= 100; i++)
		hist_add(&h, i);
	assert_int_equal(hist_quantile(&h, 0.5), 50);
	assert_int_equal(hist_quantile(&h, 0.99), 99);
	assert_int_equal(hist_quantile(&h, 0.999), 100);
	assert_int_equal(hist_quantile(&h, 0.01), 1);
	assert_int_equal(h.sum, 5050);
}

static void
test_merge(void **state)
{
	struct hist a, b;

	(void)state;
	hist_init(&a);
	hist_init(&b);
	hist_add(&a, 10);
	hist_add(&b, 1000000);
	hist_add(&b, 5);
	hist_merge(&a, &b);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.min, 5);
	assert_int_equal(a.max, 1000000);
	assert_int_equal(hist_quantile(&a, 0.5), 10);
	hist_init(&b);
	hist_merge(&a, &b);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.min, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_tile),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_quantiles_vs_sorted),
		cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
