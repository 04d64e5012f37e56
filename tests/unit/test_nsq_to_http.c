/*
 * Unit tests for nsq-to-http's parts without I/O (cmd/nsq-to-http/pool.c,
 * endpoint.c and status.c, compiled in directly: the Makefile links unit
 * tests with lib only): go-hostpool's choices on a clock we drive, the
 * --header and --get rules of Go's nsq_to_http, and timer_metrics' line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cmd/nsq-to-http/endpoint.c"
#include "../../cmd/nsq-to-http/pool.c"
#include "../../cmd/nsq-to-http/status.c"

static void
test_round_robin(void **state)
{
	struct pool *p = pool_new(POOL_ROUND_ROBIN, 3);
	static const size_t want[] = { 1, 2, 0, 1, 2, 0, 1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(pool_get(p, 0), want[i]);
		/* Failures change nothing in this mode. */
		pool_mark(p, want[i], false, 0, 0);
	}
	pool_free(p);
}

static void
test_hostpool(void **state)
{
	struct pool *p = pool_new(POOL_HOSTPOOL, 2);
	size_t i;

	(void)state;
	assert_int_equal(pool_get(p, 0), 0);
	pool_mark(p, 0, false, 0, 0);
	/* 0 is dead for 30s: every request goes to 1. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(pool_get(p, 10), 1);
		pool_mark(p, 1, true, 10, 10);
	}
	/* Past 30s it is tried once; a failure keeps it out 60s more. */
	assert_int_equal(pool_get(p, 31), 0);
	pool_mark(p, 0, false, 31, 31);
	assert_int_equal(pool_get(p, 32), 1);
	assert_int_equal(pool_get(p, 90), 1);
	assert_int_equal(pool_get(p, 92), 0);
	/* A success makes it live again: turns resume. */
	pool_mark(p, 0, true, 92, 92);
	assert_int_equal(pool_get(p, 93), 1);
	assert_int_equal(pool_get(p, 93), 0);
	/*
	 * Every host dead: all live again, the first used, and (as Go
	 * leaves its index at 0) used again next.
	 */
	pool_mark(p, 0, false, 94, 94);
	pool_mark(p, 1, false, 94, 94);
	assert_int_equal(pool_get(p, 95), 0);
	assert_int_equal(pool_get(p, 95), 0);
	assert_int_equal(pool_get(p, 95), 1);
	pool_free(p);
}

static void
test_epsilon_greedy(void **state)
{
	struct pool *p = pool_new(POOL_EPSILON_GREEDY, 2);
	size_t i, n[2] = { 0, 0 }, k;
	double t = 0;

	(void)state;
	/* No times known yet: hostpool's turns. */
	assert_int_equal(pool_get(p, t), 0);
	assert_int_equal(pool_get(p, t), 1);
	for (i = 0; i < 2000; i++) {
		t += 0.01;
		k = pool_get(p, t);
		n[k]++;
		/* 0 answers in 50ms, 1 in 0.5ms (Go's ms would say 0). */
		pool_mark(p, k, true, t, t + (k == 0 ? 0.05 : 0.0005));
	}
	assert_true(n[0] > 0);
	assert_true(n[1] > 1800);
	pool_free(p);
}

static void
test_modes(void **state)
{
	enum pool_mode m;

	(void)state;
	assert_int_equal(pool_mode_parse("round-robin", &m), 0);
	assert_int_equal(m, POOL_ROUND_ROBIN);
	assert_int_equal(pool_mode_parse("hostpool", &m), 0);
	assert_int_equal(m, POOL_HOSTPOOL);
	assert_int_equal(pool_mode_parse("epsilon-greedy", &m), 0);
	assert_int_equal(m, POOL_EPSILON_GREEDY);
	assert_int_equal(pool_mode_parse("all", &m), -1);
	assert_int_equal(pool_mode_parse("", &m), -1);
}

static void
test_headers(void **state)
{
	static const char *const good[][3] = {
		{ "header1: value1", "Header1", "value1" },
		{ "header2:value2", "Header2", "value2" },
		{ " x-lower-CASE :  v 2 ", "X-Lower-Case", "v 2" },
		{ "X: a:b", "X", "a:b" },
	};
	static const char *const bad[] = {
		"header1:", ": value2", ":", "novalue", "bad name: v",
		"X: a\001b", "host: x", "Content-Length: 3",
	};
	char err[256], *k, *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ep_parse_header(good[i][0], &k, &v, err,
		    sizeof(err)), 0);
		assert_string_equal(k, good[i][1]);
		assert_string_equal(v, good[i][2]);
		free(k);
		free(v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ep_parse_header(bad[i], &k, &v, err,
		    sizeof(err)), -1);
		assert_null(k);
	}
	assert_int_equal(ep_parse_header("a:", &k, &v, err, sizeof(err)), -1);
	assert_string_equal(err, "--header value format should be 'key=value'");
}

static void
test_header_lines(void **state)
{
	struct strlist out = { NULL, 0 }, n = { NULL, 0 }, v = { NULL, 0 };

	(void)state;
	strlist_add(&n, "Content-Type");
	strlist_add(&v, "text/plain");
	strlist_add(&n, "X-A");
	strlist_add(&v, "1");
	strlist_add(&n, "X-A");
	strlist_add(&v, "2");
	ep_headers(&out, "ua", "application/octet-stream", &n, &v);
	assert_int_equal(out.n, 5);
	assert_string_equal(out.v[0], "User-Agent: ua");
	assert_string_equal(out.v[1], "Content-Type: text/plain");
	assert_string_equal(out.v[2], "X-A: 2");
	assert_string_equal(out.v[3], "Accept:");
	assert_string_equal(out.v[4], "Expect:");
	strlist_free(&out);
	strlist_free(&n);
	strlist_free(&v);
}

static void
test_get(void **state)
{
	char *s, err[256];

	(void)state;
	assert_true(ep_get_ok("http://h/?q=%s"));
	assert_true(ep_get_ok("http://h/?q=%s&p=100%%"));
	assert_true(ep_get_ok("http://h/%%%s"));
	assert_false(ep_get_ok("http://h/"));
	assert_false(ep_get_ok("http://h/%s/%s"));
	assert_false(ep_get_ok("http://h/%%s"));
	s = ep_get_url("http://h/?q=%s&p=100%%&e=%41", "a b/\xc3\xa9~\0z", 9);
	assert_string_equal(s, "http://h/?q=a+b%2F%C3%A9~%00z&p=100%&e=%41");
	free(s);
	assert_int_equal(ep_check_url("http://h:1/?q=%s", true, err,
	    sizeof(err)), 0);
	assert_int_equal(ep_check_url("https://h/x", false, err, sizeof(err)),
	    0);
	assert_int_equal(ep_check_url("ftp://h/x", false, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "unsupported protocol scheme");
	assert_int_equal(ep_check_url("h:1/x", false, err, sizeof(err)), -1);
	assert_string_equal(err, "missing protocol scheme");
	assert_int_equal(ep_check_url("http://", false, err, sizeof(err)),
	    -1);
}

static void
test_status(void **state)
{
	struct status *s = status_new(4, "[aggregate]:");
	static const double t[] = { 0.001, 0.002, 0.003, 0.004, 0.005 };
	char *line = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_null(status_record(s, t[i]));
	/* The 5th replaces the 1st: 2, 3, 4, 5 ms. */
	line = status_record(s, t[4]);
	assert_non_null(line);
	assert_string_equal(line, "[aggregate]: finished 4 - 99th: 5.00ms - "
	    "95th: 5.00ms - avg: 3.50ms");
	free(line);
	for (i = 0; i < 3; i++)
		assert_null(status_record(s, 0.001));
	line = status_record(s, 0.001);
	assert_non_null(line);
	free(line);
	status_free(s);
	s = status_new(0, "x");
	assert_null(status_record(s, 1));
	status_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_hostpool),
		cmocka_unit_test(test_epsilon_greedy),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_header_lines),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
