/*
 * Unit tests for nsqd's authorization (cmd/nsqd/auth.c): the auth
 * server's reply decoded and validated as Go's QueryAuthd does, the
 * patterns matched as Go's IsAllowed (regexp.MatchString: anywhere in the
 * name, RE2's \d and (?i)), AUTH's reply JSON, and the request nsqd
 * sends (Go's url.Values.Encode for GET, its JSON for POST).  Every
 * prefix of a valid reply must be refused without a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "../../cmd/nsqd/auth.h"

static struct auth_state *
parse_ok(const char *s)
{
	char err[256] = "";
	struct auth_state *st = auth_state_parse(s, strlen(s), err,
	    sizeof(err));

	if (st == NULL)
		fail_msg("%s: %s", s, err);
	return st;
}

static void
parse_bad(const char *s, const char *why)
{
	char err[256] = "";

	if (auth_state_parse(s, strlen(s), err, sizeof(err)) != NULL)
		fail_msg("accepted %s", s);
	if (why != NULL && strstr(err, why) == NULL)
		fail_msg("%s: %s (wanted %s)", s, err, why);
}

#define GOOD	"{\"ttl\":3600,\"identity\":\"alice\"," \
	"\"identity_url\":\"http://u\",\"authorizations\":[" \
	"{\"topic\":\"^t\\\\d+$\",\"channels\":[\"^ch\\\\d$\"," \
	"\"(?i)^audit$\"],\"permissions\":[\"subscribe\"]}," \
	"{\"topic\":\"(?i)^orders$\",\"channels\":[\".*\"]," \
	"\"permissions\":[\"publish\"]}]}"

static void
test_parse(void **state)
{
	struct auth_state *st;

	(void)state;
	st = parse_ok(GOOD);
	assert_int_equal(st->ttl, 3600);
	assert_string_equal(st->identity, "alice");
	assert_string_equal(st->identity_url, "http://u");
	assert_int_equal(st->nperms, 2);
	assert_true(st->perms[0].subscribe);
	assert_false(st->perms[0].publish);
	assert_int_equal(st->perms[0].nchannels, 2);
	auth_state_free(st);

	/* Go's decoder: keys in any case, the last one wins, null is zero. */
	st = parse_ok("{\"TTL\":1,\"Identity\":\"a\",\"identity\":\"b\","
	    "\"identity_url\":null,\"authorizations\":null,\"x\":[1]}");
	assert_int_equal(st->ttl, 1);
	assert_string_equal(st->identity, "b");
	assert_string_equal(st->identity_url, "");
	assert_int_equal(st->nperms, 0);
	auth_state_free(st);
	st = parse_ok("{\"ttl\":2,\"authorizations\":[null,{\"topic\":null,"
	    "\"channels\":[null],\"permissions\":null}]}");
	assert_int_equal(st->nperms, 2);
	assert_false(st->perms[1].publish || st->perms[1].subscribe);
	auth_state_free(st);
}

static void
test_parse_bad(void **state)
{
	(void)state;
	parse_bad("", NULL);
	parse_bad("{", NULL);
	parse_bad("[]", "auth.State");
	parse_bad("\"x\"", "auth.State");
	parse_bad("null", "invalid TTL 0 (must be >0)");
	parse_bad("{}", "invalid TTL 0 (must be >0)");
	parse_bad("{\"ttl\":-1}", "invalid TTL -1 (must be >0)");
	parse_bad("{\"ttl\":1.5}", "State.ttl");
	parse_bad("{\"ttl\":\"5\"}", "State.ttl");
	parse_bad("{\"ttl\":99999999999999999999}", "State.ttl");
	parse_bad("{\"ttl\":5,\"identity\":5}", NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":{}}", NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":[1]}", NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"topic\":1}]}", NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"channels\":\"x\"}]}",
	    NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"permissions\":[1]}]}",
	    NULL);
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"topic\":\".*\","
	    "\"permissions\":[\"publish\",\"admin\"]}]}",
	    "unknown permission admin");
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"topic\":\"(\","
	    "\"permissions\":[\"publish\"]}]}",
	    "unable to compile topic \"(\"");
	parse_bad("{\"ttl\":5,\"authorizations\":[{\"topic\":\"a\","
	    "\"channels\":[\"ok\",\"[z-a]\"]}]}",
	    "unable to compile channel \"[z-a]\"");
	/* Go checks the permissions before the patterns, the TTL last. */
	parse_bad("{\"ttl\":0,\"authorizations\":[{\"topic\":\"(\","
	    "\"permissions\":[\"x\"]}]}", "unknown permission x");
	parse_bad("{\"ttl\":0,\"authorizations\":[{\"topic\":\"(\"}]}",
	    "unable to compile topic");
	parse_bad("{\"ttl\":5,\"expires\":5}", "Expires");
}

/* Every cut of a valid reply is refused (or, whole, accepted). */
static void
test_parse_prefixes(void **state)
{
	const char *s = GOOD;
	size_t n = strlen(s), i;
	char err[256];
	struct auth_state *st;

	(void)state;
	for (i = 0; i < n; i++) {
		st = auth_state_parse(s, i, err, sizeof(err));
		assert_null(st);
	}
	st = auth_state_parse(s, n, err, sizeof(err));
	assert_non_null(st);
	auth_state_free(st);
}

#define ALLOWED(st, t, c) \
	auth_state_allowed(st, t, strlen(t), c, strlen(c))

static void
test_allowed(void **state)
{
	struct auth_state *st = parse_ok(GOOD);

	(void)state;
	/* Subscribe: topic \d+, channel ch\d or (?i)audit. */
	assert_true(ALLOWED(st, "t1", "ch1"));
	assert_true(ALLOWED(st, "t123", "AUDIT"));
	assert_false(ALLOWED(st, "t1", "ch12"));
	assert_false(ALLOWED(st, "t1x", "ch1"));
	assert_false(ALLOWED(st, "tx", "ch1"));
	/* \d is ASCII, as RE2's. */
	assert_false(ALLOWED(st, "t\xd9\xa1", "ch1"));
	/* The subscribe authorization does not let one publish. */
	assert_false(ALLOWED(st, "t1", ""));
	/* Publish: (?i)orders, the channel "" against ".*". */
	assert_true(ALLOWED(st, "ORDERS", ""));
	assert_true(ALLOWED(st, "orders", ""));
	assert_false(ALLOWED(st, "orders", "c"));
	assert_false(ALLOWED(st, "orders2", ""));
	auth_state_free(st);

	/* Unanchored: a match anywhere, as regexp.MatchString. */
	st = parse_ok("{\"ttl\":5,\"authorizations\":[{\"topic\":\"t\\\\d\","
	    "\"channels\":[\"c\"],\"permissions\":[\"subscribe\","
	    "\"publish\"]}]}");
	assert_true(ALLOWED(st, "xt1y", "abc"));
	assert_false(ALLOWED(st, "xt1y", "xyz"));
	/* A publish is matched against the channels with "": "c" fails. */
	assert_false(ALLOWED(st, "t1", ""));
	auth_state_free(st);

	/* No channel patterns: nothing at all. */
	st = parse_ok("{\"ttl\":5,\"authorizations\":[{\"topic\":\"\","
	    "\"permissions\":[\"subscribe\",\"publish\"]}]}");
	assert_false(ALLOWED(st, "t", ""));
	assert_false(ALLOWED(st, "t", "c"));
	auth_state_free(st);
}

static void
test_reply_json(void **state)
{
	struct auth_state *st = parse_ok("{\"ttl\":5,\"identity\":\"a<b\","
	    "\"authorizations\":[null,null,null]}");
	char *s;

	(void)state;
	s = auth_reply_json(st);
	assert_string_equal(s, "{\"identity\":\"a\\u003cb\",\"identity_url\":"
	    "\"\",\"permission_count\":3}");
	free(s);
	auth_state_free(st);
}

static void
test_request(void **state)
{
	char *url, *body, err[256];

	(void)state;
	auth_request_parts("127.0.0.1:4181", false, "a b&c=d/é", "10.0.0.1",
	    false, "", &url, &body);
	assert_string_equal(url, "http://127.0.0.1:4181/auth?common_name="
	    "&remote_ip=10.0.0.1&secret=a+b%26c%3Dd%2F%C3%A9&tls=false");
	assert_null(body);
	free(url);
	auth_request_parts("https://auth.example/v1/x", false, "s", "::1",
	    true, "cn x", &url, &body);
	assert_string_equal(url, "https://auth.example/v1/x?common_name=cn+x"
	    "&remote_ip=%3A%3A1&secret=s&tls=true");
	free(url);
	auth_request_parts("h:1", true, "s\"", "1.2.3.4", false, "", &url,
	    &body);
	assert_string_equal(url, "http://h:1/auth");
	assert_string_equal(body, "{\"common_name\":[\"\"],\"remote_ip\":"
	    "[\"1.2.3.4\"],\"secret\":[\"s\\\"\"],\"tls\":[\"false\"]}");
	free(url);
	free(body);

	assert_int_equal(auth_check_address("127.0.0.1:4181", err,
	    sizeof(err)), 0);
	assert_int_equal(auth_check_address("http://h/x", err, sizeof(err)),
	    0);
	assert_int_equal(auth_check_address("https://h:8443/", err,
	    sizeof(err)), 0);
	assert_int_equal(auth_check_address("ftp://h/x", err, sizeof(err)),
	    -1);
	assert_int_equal(auth_check_address("http:///x", err, sizeof(err)),
	    -1);
}

static int
quiet(void **state)
{
	(void)state;
	log_init("[test] ", LOG_LEVEL_FATAL);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_reply_json),
		cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, quiet, NULL);
}
