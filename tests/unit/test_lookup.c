/*
 * Unit tests for lib/lookup's pure parts: the /lookup URL built from an
 * nsqlookupd address (as go-nsq's buildLookupAddr), the URL builder every
 * tool shares (host:port, http:// and https:// addresses, with a path or
 * a query of their own), and the producers of
 * a reply (1.x object, pre-1.0 envelope, IPv6, junk), every truncated
 * prefix of a reply being refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lookup.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_http_url),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_envelope),
		cmocka_unit_test(test_parse_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
