/*
 * Unit tests for nsq-stat's numbers (cmd/nsq-stat/table.c, compiled in
 * directly: the Makefile links unit tests with lib only): producers from
 * /lookup answers, a channel's counts summed over /stats answers, and the
 * table's header and rows to the column.  Every truncated prefix of each
 * answer is refused without harm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cmd/nsq-stat/table.c"

static const char lookup1[] =
    "{\"channels\":[\"c\"],\"producers\":["
    "{\"remote_address\":\"127.0.0.1:5000\",\"hostname\":\"a\","
    "\"broadcast_address\":\"10.0.0.1\",\"tcp_port\":4150,"
    "\"http_port\":4151,\"version\":\"1.3.0\"},"
    "{\"remote_address\":\"[::1]:5001\",\"hostname\":\"b\","
    "\"broadcast_address\":\"fe80::1\",\"tcp_port\":4250,"
    "\"http_port\":4251,\"version\":\"1.3.0\"}]}";
static const char lookup2[] =
    "{\"status_code\":200,\"status_txt\":\"OK\",\"data\":{"
    "\"channels\":[],\"producers\":["
    "{\"broadcast_address\":\"10.0.0.1\",\"tcp_port\":4150,"
    "\"http_port\":4151},"
    "{\"broadcast_address\":\"10.0.0.3\",\"tcp_port\":4150,"
    "\"http_port\":4351}]}}";

static void
test_producers(void **state)
{
	struct strlist l = { NULL, 0 };
	char err[256];

	(void)state;
	assert_int_equal(nstat_producers(lookup1, strlen(lookup1), &l, err,
	    sizeof(err)), 0);
	assert_int_equal(nstat_producers(lookup2, strlen(lookup2), &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0], "10.0.0.1:4151");
	assert_string_equal(l.v[1], "[fe80::1]:4251");
	assert_string_equal(l.v[2], "10.0.0.3:4351");
	assert_int_equal(nstat_producers("{\"producers\":null}", 18, &l, err,
	    sizeof(err)), 0);
	assert_int_equal(nstat_producers("{\"producers\":[]}", 16, &l, err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(nstat_producers("{\"message\":\"x\"}", 15, &l, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected answer"));
	assert_int_equal(nstat_producers("{\"producers\":[{\"http_port\":1}]}",
	    31, &l, err, sizeof(err)), -1);
	assert_int_equal(nstat_producers("[]", 2, &l, err, sizeof(err)), -1);
	assert_int_equal(l.n, 3);
	strlist_free(&l);
}

static void
test_producers_prefixes(void **state)
{
	struct strlist l = { NULL, 0 };
	char err[256];
	size_t n;

	(void)state;
	for (n = 0; n < strlen(lookup1); n++) {
		char *p = xmalloc(n + 1);

		memcpy(p, lookup1, n);
		assert_int_equal(nstat_producers(p, n, &l, err, sizeof(err)),
		    -1);
		free(p);
	}
	assert_int_equal(l.n, 0);
}

/* nsqd /stats of topic t (channels c and d) and topic u, Go's shape. */
static const char stats1[] =
    "{\"version\":\"1.3.0\",\"health\":\"OK\",\"start_time\":1,"
    "\"topics\":[{\"topic_name\":\"t\",\"channels\":["
    "{\"channel_name\":\"c\",\"depth\":120,\"backend_depth\":20,"
    "\"in_flight_count\":7,\"deferred_count\":2,\"message_count\":1000,"
    "\"requeue_count\":3,\"timeout_count\":1,\"client_count\":2,"
    "\"clients\":null,\"paused\":false,\"e2e_processing_latency\":"
    "{\"count\":0,\"percentiles\":null}},"
    "{\"channel_name\":\"d\",\"depth\":9999,\"backend_depth\":0,"
    "\"in_flight_count\":0,\"deferred_count\":0,\"message_count\":1,"
    "\"requeue_count\":0,\"timeout_count\":0,\"client_count\":0,"
    "\"clients\":[],\"paused\":false}],"
    "\"depth\":0,\"backend_depth\":0,\"message_count\":1000,"
    "\"paused\":false},"
    "{\"topic_name\":\"u\",\"channels\":[{\"channel_name\":\"c\","
    "\"depth\":5555,\"message_count\":5555}]}],"
    "\"producers\":null}";
/* An older nsqd: no client_count, clients listed; enveloped. */
static const char stats2[] =
    "{\"status_code\":200,\"data\":{\"topics\":[{\"topic_name\":\"t\","
    "\"channels\":[{\"channel_name\":\"c\",\"depth\":30,"
    "\"backend_depth\":10,\"in_flight_count\":1,\"deferred_count\":0,"
    "\"message_count\":500,\"requeue_count\":4,\"timeout_count\":0,"
    "\"clients\":[{\"client_id\":\"x\"},{\"client_id\":\"y\"},"
    "{\"client_id\":\"z\"}]}]}]}}";

static void
test_add(void **state)
{
	static const char strdepth[] = "{\"topics\":[{\"topic_name\":\"t\","
	    "\"channels\":[{\"channel_name\":\"c\",\"depth\":\"9\"}]}]}";
	struct nstat s;
	char err[256];

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(nstat_add(&s, stats1, strlen(stats1), "t", "c", err,
	    sizeof(err)), 0);
	assert_int_equal(nstat_add(&s, stats2, strlen(stats2), "t", "c", err,
	    sizeof(err)), 0);
	assert_int_equal(s.nodes, 2);
	assert_int_equal(s.depth, 150);
	assert_int_equal(s.backend_depth, 30);
	assert_int_equal(s.in_flight, 8);
	assert_int_equal(s.deferred, 2);
	assert_int_equal(s.requeue, 7);
	assert_int_equal(s.timeout, 1);
	assert_int_equal(s.messages, 1500);
	assert_int_equal(s.clients, 5);
	/* A topic filter that named no topic: Go's null. */
	assert_int_equal(nstat_add(&s, "{\"topics\":null}", 15, "t", "c", err,
	    sizeof(err)), 0);
	/* Another channel, another topic: nothing added. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(nstat_add(&s, stats1, strlen(stats1), "t", "zz",
	    err, sizeof(err)), 0);
	assert_int_equal(nstat_add(&s, stats1, strlen(stats1), "v", "c", err,
	    sizeof(err)), 0);
	assert_int_equal(s.nodes, 0);
	assert_int_equal(s.depth, 0);
	assert_int_equal(nstat_add(&s, stats1, strlen(stats1), "u", "c", err,
	    sizeof(err)), 0);
	assert_int_equal(s.depth, 5555);
	assert_int_equal(s.backend_depth, 0);
	/* Bad answers. */
	assert_int_equal(nstat_add(&s, "{}", 2, "t", "c", err, sizeof(err)),
	    -1);
	assert_int_equal(nstat_add(&s, strdepth, strlen(strdepth), "t", "c",
	    err, sizeof(err)), -1);
	assert_int_equal(nstat_add(&s, "nope", 4, "t", "c", err, sizeof(err)),
	    -1);
}

static void
test_add_prefixes(void **state)
{
	struct nstat s;
	char err[256];
	size_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (n = 0; n < strlen(stats1); n++) {
		char *p = xmalloc(n + 1);

		memcpy(p, stats1, n);
		assert_int_equal(nstat_add(&s, p, n, "t", "c", err,
		    sizeof(err)), -1);
		free(p);
	}
	assert_int_equal(s.nodes, 0);
}

static void
test_table(void **state)
{
	struct nstat a, b;
	char row[256];

	(void)state;
	assert_string_equal(nstat_header,
	    "------rate------+----------------depth----------------+"
	    "--------------metadata---------------\n"
	    "ingress  egress |   total     mem    disk inflt   def |"
	    "     req     t-o         msgs clients\n");
	memset(&a, 0, sizeof(a));
	a.depth = 100;
	a.backend_depth = 40;
	a.in_flight = 3;
	a.deferred = 1;
	a.requeue = 2;
	a.timeout = 5;
	a.messages = 1000;
	a.clients = 2;
	nstat_row(row, sizeof(row), NULL, &a, 2.0);
	assert_string_equal(row, "      -       - |     100      60      40 "
	    "    3     1 |       2       5         1000       2");
	b = a;
	b.messages = 1401;	/* +401 in 2s: 200.5 -> 200 */
	b.depth = 120;		/* egress (401 - 20) / 2 = 190.5 -> 190 */
	nstat_row(row, sizeof(row), &a, &b, 2.0);
	assert_string_equal(row, "    200     190 |     120      80      40 "
	    "    3     1 |       2       5         1401       2");
	/* Depth growing faster than messages: a negative egress, truncated
	 * toward zero as Go's int64(float64). */
	b = a;
	b.messages = 1005;
	b.depth = 110;
	nstat_row(row, sizeof(row), &a, &b, 2.0);
	assert_string_equal(row, "      2      -2 |     110      70      40 "
	    "    3     1 |       2       5         1005       2");
	/* Wide numbers push the columns, as %7d does. */
	b.depth = 123456789;
	b.backend_depth = 0;
	nstat_row(row, sizeof(row), NULL, &b, 1.0);
	assert_string_equal(row, "      -       - | 123456789 123456789 "
	    "      0     3     1 |       2       5         1005       2");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_producers),
		cmocka_unit_test(test_producers_prefixes),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_prefixes),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
