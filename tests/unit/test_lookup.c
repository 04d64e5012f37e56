/*
 * Unit tests for lib/lookup's pure parts: the /lookup URL built from an
 * nsqlookupd address (as go-nsq's buildLookupAddr), the URL builder every
 * tool shares (host:port, http:// and https:// addresses, with a path or
 * a query of their own), and the producers of
 * a reply (1.x object, pre-1.0 envelope, IPv6, junk), every truncated
 * prefix of a reply being refused.  And the public one-shot query
 * (nsq_lookup_*) against a stub nsqlookupd on lib/http: producers, the
 * reply's message for an error status, junk, a refused connection, and
 * nsq_lookup_free cancelling a query without its callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include <ev.h>

#include "http.h"
#include "lookup.h"
#include "nsq.h"

static void
test_url(void **state)
{
	static const struct {
		const char	*addr, *topic, *want;
	} t[] = {
		{ "127.0.0.1:4161", "t",
		  "http://127.0.0.1:4161/lookup?topic=t" },
		{ "h:1", "a#ephemeral",
		  "http://h:1/lookup?topic=a%23ephemeral" },
		{ "http://h:1", "t", "http://h:1/lookup?topic=t" },
		{ "http://h:1/", "t", "http://h:1/lookup?topic=t" },
		{ "https://h/x/lookup", "t", "https://h/x/lookup?topic=t" },
		{ "http://h:1/?a=b", "t", "http://h:1/lookup?a=b&topic=t" },
		{ "http://h:1/l?a=b", "t.x-y_z",
		  "http://h:1/l?a=b&topic=t.x-y_z" },
		{ "[::1]:4161", "t", "http://[::1]:4161/lookup?topic=t" },
		{ "http://h:1/x/", "t", "http://h:1/x/?topic=t" },
		{ "https://h:1/l#frag", "t", "https://h:1/l?topic=t" },
		{ "h:1", "a b&c", "http://h:1/lookup?topic=a+b%26c" },
	};
	size_t i;
	char *u;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		u = lookup_url(t[i].addr, t[i].topic);
		assert_string_equal(u, t[i].want);
		free(u);
	}
}

/* One builder for every tool's nsqlookupd URLs: /topics, /lookup, /stats. */
static void
test_http_url(void **state)
{
	static const struct {
		const char	*addr, *pathq, *want;
	} t[] = {
		{ "127.0.0.1:4161", "/topics", "http://127.0.0.1:4161/topics" },
		{ "http://h:1", "/topics", "http://h:1/topics" },
		{ "https://h:1", "/topics", "https://h:1/topics" },
		{ "https://h:1/", "/topics", "https://h:1/topics" },
		{ "https://h/x", "/topics", "https://h/x/topics" },
		{ "https://h/x/", "/lookup?topic=t",
		  "https://h/x/lookup?topic=t" },
		{ "h:1/x", "/lookup?topic=t", "http://h:1/x/lookup?topic=t" },
		{ "http://h/?a=b#f", "/topics", "http://h/topics?a=b" },
		{ "http://h:1/p?a=b", "/lookup?topic=t",
		  "http://h:1/p/lookup?a=b&topic=t" },
		{ "http://h:1/p?", "/lookup?topic=t",
		  "http://h:1/p/lookup?topic=t" },
		{ "http://h:1/p", "?topic=t", "http://h:1/p?topic=t" },
		{ "http://h:1/p?a=b", "", "http://h:1/p?a=b" },
		{ "[::1]:4151", "/stats?format=json&topic=t",
		  "http://[::1]:4151/stats?format=json&topic=t" },
	};
	size_t i;
	char *u;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		u = lookup_http_url(t[i].addr, t[i].pathq);
		assert_string_equal(u, t[i].want);
		free(u);
	}
}

static void
free_addrs(char **a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i]);
	free(a);
}

static const char reply[] =
    "{\"channels\":[\"c\"],\"producers\":["
    "{\"remote_address\":\"127.0.0.1:5555\",\"hostname\":\"b\","
    "\"broadcast_address\":\"zeta\",\"tcp_port\":4150,\"http_port\":4151,"
    "\"version\":\"1.3.0\"},"
    "{\"broadcast_address\":\"alpha\",\"tcp_port\":4250},"
    "{\"broadcast_address\":\"::1\",\"tcp_port\":4350},"
    "{\"broadcast_address\":\"\",\"tcp_port\":1},"
    "{\"broadcast_address\":\"noport\"},"
    "{\"broadcast_address\":\"bad\",\"tcp_port\":70000},"
    "7]}";

static void
test_parse(void **state)
{
	char **a, err[128];
	size_t n;

	(void)state;
	assert_int_equal(lookup_parse(reply, strlen(reply), &a, &n, err,
	    sizeof(err)), 0);
	/* Sorted; the unusable entries left out. */
	assert_int_equal(n, 3);
	assert_string_equal(a[0], "[::1]:4350");
	assert_string_equal(a[1], "alpha:4250");
	assert_string_equal(a[2], "zeta:4150");
	free_addrs(a, n);
}

static void
test_parse_envelope(void **state)
{
	const char *r = "{\"status_code\":200,\"status_txt\":\"OK\",\"data\":"
	    "{\"channels\":[],\"producers\":[{\"broadcast_address\":\"h\","
	    "\"tcp_port\":1}]}}";
	const char *empty = "{\"channels\":[],\"producers\":[]}";
	char **a, err[128];
	size_t n;

	(void)state;
	assert_int_equal(lookup_parse(r, strlen(r), &a, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_string_equal(a[0], "h:1");
	free_addrs(a, n);
	assert_int_equal(lookup_parse(empty, strlen(empty), &a, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	free_addrs(a, n);
}

static void
test_parse_refuses(void **state)
{
	static const char *bad[] = {
		"", "[]", "{}", "{\"producers\":{}}", "{\"producers\":7}",
		"not json", "{\"data\":{\"producers\":3}}",
	};
	char **a, err[128];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(lookup_parse(bad[i], strlen(bad[i]), &a, &n,
		    err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
	/* Every truncated reply is refused, never half read. */
	for (i = 0; i < strlen(reply); i++)
		assert_int_equal(lookup_parse(reply, i, &a, &n, err,
		    sizeof(err)), -1);
}

/* The stub nsqlookupd: /lookup answers by topic. */
static struct http_req	*held;

static void
stub_lookup(struct http_req *req, void *arg)
{
	const char *t = NULL;

	(void)arg;
	if (http_query_get(req, "topic", &t) != 1)
		t = "";
	if (strcmp(t, "t") == 0)
		http_reply(req, 200, "application/json", reply, strlen(reply));
	else if (strcmp(t, "missing") == 0)
		http_reply_error(req, 404, "TOPIC_NOT_FOUND");
	else if (strcmp(t, "junk") == 0)
		http_reply(req, 200, "application/json", "[1,", 3);
	else if (strcmp(t, "boom") == 0)
		http_reply(req, 500, "text/plain", "boom", 4);
	else {
		/* "slow": never answered while the client waits. */
		held = req;
		http_req_hold(req);
	}
}

struct answer {
	int	 calls;
	int	 status;
	size_t	 n;
	char	 first[64];
	char	 err[256];
};

static void
answer_cb(struct nsq_lookup *l, int status, char *const *addrs, size_t n,
    const char *err, void *arg)
{
	struct answer *a = arg;

	(void)l;
	a->calls++;
	a->status = status;
	a->n = n;
	snprintf(a->first, sizeof(a->first), "%s", n > 0 ? addrs[0] : "");
	snprintf(a->err, sizeof(a->err), "%s", err != NULL ? err : "");
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until the lookup has nothing pending, or 10 s. */
static void
run_until_answered(struct ev_loop *loop, struct nsq_lookup *l)
{
	ev_timer t;
	int i;

	ev_timer_init(&t, timeout_cb, 0.02, 0.02);
	ev_timer_start(loop, &t);
	for (i = 0; i < 500 && nsq_lookup_pending(l) > 0; i++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &t);
}

static void
test_nsq_lookup(void **state)
{
	static const struct http_route routes[] = {
		{ "GET", "/lookup", stub_lookup, 0, NULL },
	};
	static const char *topics[] = { "t", "missing", "junk", "boom" };
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct http_server *srv;
	struct nsq_config *cfg = nsq_config_new();
	struct nsq_lookup *l;
	struct answer a[4], slow;
	char addr[64], err[256];
	int fd, port;
	size_t i;

	(void)state;
	fd = http_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(fd >= 0);
	port = http_listen_port(fd);
	srv = http_server_new(loop, fd, routes, 1, NULL, NULL);
	assert_non_null(srv);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	l = nsq_lookup_new(loop, cfg, err, sizeof(err));
	assert_non_null(l);
	nsq_config_free(cfg);

	memset(a, 0, sizeof(a));
	for (i = 0; i < 4; i++)
		assert_int_equal(nsq_lookup_producers(l, addr, topics[i],
		    answer_cb, &a[i], err, sizeof(err)), 0);
	assert_int_equal(nsq_lookup_pending(l), 4);
	run_until_answered(loop, l);
	assert_int_equal(nsq_lookup_pending(l), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(a[i].calls, 1);
	assert_int_equal(a[0].status, 0);
	assert_int_equal(a[0].n, 3);
	assert_string_equal(a[0].first, "[::1]:4350");
	assert_int_equal(a[1].status, -1);
	assert_string_equal(a[1].err, "TOPIC_NOT_FOUND");
	assert_int_equal(a[2].status, -1);
	assert_true(a[2].err[0] != '\0');
	assert_int_equal(a[3].status, -1);
	assert_string_equal(a[3].err, "got response 500: boom");

	/* Refused before any request. */
	assert_int_equal(nsq_lookup_producers(l, "", "t", answer_cb, &slow,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "empty nsqlookupd address");
	assert_int_equal(nsq_lookup_producers(l, addr, "a b", answer_cb,
	    &slow, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid topic name");

	/* Freed while a query waits: no callback, nothing leaked. */
	memset(&slow, 0, sizeof(slow));
	assert_int_equal(nsq_lookup_producers(l, addr, "slow", answer_cb,
	    &slow, err, sizeof(err)), 0);
	for (i = 0; i < 200 && held == NULL; i++)
		ev_run(loop, EVRUN_ONCE);
	assert_non_null(held);
	nsq_lookup_free(l);
	assert_int_equal(slow.calls, 0);

	/* Nobody listening: the connection failure. */
	http_server_free(srv);
	http_reply_text(held, 200, "late");	/* only frees it now */
	held = NULL;
	cfg = nsq_config_new();
	l = nsq_lookup_new(loop, cfg, err, sizeof(err));
	nsq_config_free(cfg);
	memset(&slow, 0, sizeof(slow));
	assert_int_equal(nsq_lookup_producers(l, addr, "t", answer_cb, &slow,
	    err, sizeof(err)), 0);
	run_until_answered(loop, l);
	assert_int_equal(slow.calls, 1);
	assert_int_equal(slow.status, -1);
	assert_true(slow.err[0] != '\0');
	nsq_lookup_free(l);
	nsq_lookup_free(NULL);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_http_url),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_envelope),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_nsq_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
