/*
 * Unit tests for nsqadmin's stats.c: nsqd's /stats read as Go's
 * clusterinfo reads it, and summed as Go sums it.  The cases are the
 * ones whose answer is not obvious from the JSON alone: the first
 * node's channel row becoming the topic's aggregate (Go shares the
 * pointer), the e2e percentiles merged with Go's min quirk, a nil
 * clients list staying null, Go's unmarshal errors, and producers'
 * tombstones and semver order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buffer.h"
#include "json.h"
#include "../../cmd/nsqadmin/admin.h"

static const char node1[] =
    "{\"topics\":[{\"topic_name\":\"t\",\"depth\":5,\"backend_depth\":1,"
    "\"message_count\":10,\"paused\":false,\"channels\":[{"
    "\"channel_name\":\"c\",\"depth\":2,\"backend_depth\":0,"
    "\"in_flight_count\":1,\"message_count\":7,\"client_count\":1,"
    "\"clients\":[{\"client_id\":\"a\",\"hostname\":\"zz\","
    "\"connect_ts\":990}],\"paused\":false,"
    "\"e2e_processing_latency\":{\"count\":2,\"percentiles\":["
    "{\"quantile\":0.99,\"value\":100}]}}],"
    "\"e2e_processing_latency\":{\"count\":0,\"percentiles\":null}}]}";
static const char node2[] =
    "{\"topics\":[{\"topic_name\":\"t\",\"depth\":3,\"backend_depth\":0,"
    "\"message_count\":4,\"paused\":true,\"channels\":[{"
    "\"channel_name\":\"c\",\"depth\":4,\"backend_depth\":0,"
    "\"in_flight_count\":2,\"message_count\":3,\"client_count\":1,"
    "\"clients\":[{\"client_id\":\"b\",\"hostname\":\"aa\","
    "\"connect_ts\":995}],\"paused\":true,"
    "\"e2e_processing_latency\":{\"count\":1,\"percentiles\":["
    "{\"quantile\":0.99,\"value\":300}]}}],"
    "\"e2e_processing_latency\":{\"count\":0,\"percentiles\":null}}]}";

static struct topic_stats *
parse_one(struct arena *ar, const char *s, const char *node,
    const char *host)
{
	struct vec v;
	struct topic_stats *t;
	struct channel_stats *c;
	char err[256];
	size_t i;

	assert_int_equal(stats_parse(ar, s, strlen(s), 1000, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v.n, 1);
	t = v.v[0];
	t->node = node;
	t->hostname = host;
	for (i = 0; i < t->channels.n; i++) {
		c = t->channels.v[i];
		c->node = node;
		c->hostname = host;
		c->topic_name = t->topic_name;
	}
	return t;
}

static char *
to_json(struct topic_stats *t)
{
	struct buf b;
	struct jw w;
	char *s;

	buf_init(&b, 0, 1 << 20);
	jw_init(&w, &b);
	jw_topic(&w, t);
	assert_int_equal(jw_finish(&w), 0);
	s = strndup((const char *)buf_data(&b), buf_len(&b));
	buf_free(&b);
	return s;
}

static void
test_aggregate_as_go(void **state)
{
	struct arena ar = { 0 };
	struct topic_stats *a, *b, *all;
	struct channel_stats *c;
	struct client_stats *cl;
	char *js;

	(void)state;
	a = parse_one(&ar, node1, "h1:1", "h1");
	b = parse_one(&ar, node2, "h2:2", "h2");
	all = ar_alloc(&ar, sizeof(*all));
	all->node = all->hostname = "";
	all->topic_name = "t";
	topic_stats_add(&ar, all, a);
	topic_stats_add(&ar, all, b);
	assert_string_equal(all->node, "*");
	assert_int_equal(all->depth, 8);
	assert_int_equal(all->message_count, 14);
	assert_true(all->paused);
	assert_int_equal(all->nodes.n, 2);
	/* The aggregate channel row is node 1's own row, summed. */
	assert_int_equal(all->channels.n, 1);
	c = all->channels.v[0];
	assert_ptr_equal(c, a->channels.v[0]);
	assert_string_equal(c->node, "*");
	assert_string_equal(c->hostname, "h1");
	assert_int_equal(c->depth, 6);
	assert_int_equal(c->in_flight_count, 3);
	assert_int_equal(c->message_count, 10);
	assert_true(c->paused);
	assert_int_equal(c->nodes.n, 1);
	assert_ptr_equal(c->nodes.v[0], b->channels.v[0]);
	/* Clients of both, sorted by host name. */
	assert_int_equal(c->clients.n, 2);
	cl = c->clients.v[0];
	assert_string_equal(cl->hostname, "aa");
	/* connected: (1000 - 995) s in ns. */
	assert_int_equal(cl->i[1], INT64_C(5000000000));
	/* e2e: counts summed, max of the maxes, Go's min, weighted mean. */
	assert_int_equal(c->e2e->count, 3);
	assert_string_equal(c->e2e->host, "*");
	{
		struct e2e_pct *p = c->e2e->pcts.v[0];

		assert_int_equal(c->e2e->pcts.n, 1);
		assert_true(p->max == 300);
		assert_true(p->min == 300);
		assert_true(p->count == 3);
		assert_true(p->average > 166.6 && p->average < 166.7);
	}
	js = to_json(all);
	assert_non_null(strstr(js, "\"e2e_processing_latency\":{\"count\":0,"
	    "\"percentiles\":null,\"topic\":\"t\",\"channel\":\"\","
	    "\"host\":\"*\"}}"));
	assert_non_null(strstr(js, "{\"average\":166.66666666666669,"
	    "\"count\":3,\"max\":300,\"min\":300,\"quantile\":0.99,"
	    "\"value\":100}"));
	free(js);
	ar_free(&ar);
}

static void
test_nil_lists(void **state)
{
	static const char s[] = "{\"topics\":[{\"topic_name\":\"x\","
	    "\"channels\":[{\"channel_name\":\"c\",\"clients\":[]}]}]}";
	struct arena ar = { 0 };
	struct channel_stats *agg;
	struct topic_stats *t;

	(void)state;
	t = parse_one(&ar, s, "n:1", "n");
	agg = ar_alloc(&ar, sizeof(*agg));
	agg->node = agg->hostname = agg->topic_name = agg->channel_name = "";
	channel_stats_add(&ar, agg, t->channels.v[0]);
	/* append(nil, empty...) stays nil: null, as Go marshals it. */
	assert_null(agg->clients.v);
	assert_non_null(((struct channel_stats *)
	    t->channels.v[0])->clients.v);
	assert_null(t->e2e);
	ar_free(&ar);
}

static void
test_unmarshal_errors(void **state)
{
	static const char *bad[] = {
		"{\"topics\":[{\"depth\":\"1\"}]}",
		"{\"topics\":[{\"depth\":1.5}]}",
		"{\"topics\":{}}",
		"{\"topics\":[{\"channels\":[{\"paused\":1}]}]}",
		"{\"topics\":[{\"e2e_processing_latency\":{\"percentiles\":"
		    "[{\"quantile\":\"x\"}]}}]}",
		"[1]",
		"{\"topics\":[",
	};
	static const char anycase[] =
	    "{\"TOPICS\":[{\"Topic_Name\":\"a\",\"x\":{}}]}";
	struct arena ar = { 0 };
	struct vec v;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(stats_parse(&ar, bad[i], strlen(bad[i]), 0,
		    &v, err, sizeof(err)), -1);
	/* null and unknown keys are fine, as in Go; keys match any case. */
	assert_int_equal(stats_parse(&ar, "null", 4, 0, &v, err,
	    sizeof(err)), 0);
	assert_null(v.v);
	assert_int_equal(stats_parse(&ar, anycase, strlen(anycase), 0, &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v.n, 1);
	assert_string_equal(((struct topic_stats *)v.v[0])->topic_name, "a");
	ar_free(&ar);
}

static void
test_producers(void **state)
{
	static const char s[] = "{\"producers\":[{\"remote_address\":\"r\","
	    "\"hostname\":\"h\",\"broadcast_address\":\"::1\",\"tcp_port\":1,"
	    "\"http_port\":2,\"version\":\"1.3.0\",\"topics\":[\"a\",\"b\"],"
	    "\"tombstones\":[false,true]},{\"broadcast_address\":\"x\","
	    "\"version\":\"1.2.1\"},{\"version\":\"1.3.0-rc1\"}]}";
	static const char short_tomb[] = "{\"producers\":[{\"topics\":[\"a\"],"
	    "\"tombstones\":[]}]}";
	struct arena ar = { 0 };
	struct producer *p;
	struct vec v;
	char err[256];

	(void)state;
	assert_int_equal(producers_parse(&ar, s, strlen(s), &v, err,
	    sizeof(err)), 0);
	assert_int_equal(v.n, 3);
	p = v.v[0];
	assert_string_equal(producer_http_addr(&ar, p), "[::1]:2");
	assert_int_equal(p->topics.n, 2);
	assert_true(((struct ptopic *)p->topics.v[1])->tombstoned);
	assert_int_equal(producer_ver_cmp(v.v[1], p), -1);
	assert_int_equal(producer_ver_cmp(v.v[2], p), -1);
	assert_int_equal(producer_ver_cmp(v.v[1], v.v[2]), -1);
	/* Go indexes tombstones[i] and panics; here it is an error. */
	assert_int_equal(producers_parse(&ar, short_tomb, strlen(short_tomb),
	    &v, err, sizeof(err)), -1);
	ar_free(&ar);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregate_as_go),
		cmocka_unit_test(test_nil_lists),
		cmocka_unit_test(test_unmarshal_errors),
		cmocka_unit_test(test_producers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
