/*
 * Unit tests for lib/conn's IDENTIFY reply parser (conn_parse_identify):
 * "OK" negotiates nothing, a JSON object sets what it carries, values of
 * the wrong type are ignored, anything else is refused.  The connection
 * itself is driven by the producer and consumer tests and the bats suites.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "conn.h"

static void
fresh(struct conn_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->max_rdy_count = 2500;
}

static int
parse(struct conn_ident *id, const char *s)
{
	return conn_parse_identify(id, s, strlen(s));
}

static void
test_identify_ok(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "OK"), 0);
	assert_int_equal(id.max_rdy_count, 2500);
	assert_false(id.auth_required);
	assert_string_equal(id.version, "");
}

static void
test_identify_json(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "{\"max_rdy_count\":100,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"msg_timeout\":60000,\"auth_required\":true,\"snappy\":false}"),
	    0);
	assert_int_equal(id.max_rdy_count, 100);
	assert_int_equal(id.msg_timeout_ms, 60000);
	assert_int_equal(id.max_msg_timeout_ms, 900000);
	assert_true(id.auth_required);
	assert_string_equal(id.version, "1.3.0");
}

static void
test_identify_wrong_types(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "{\"max_rdy_count\":\"7\","
	    "\"auth_required\":1,\"version\":"
	    "\"0123456789012345678901234567890123456789\"}"), 0);
	assert_int_equal(id.max_rdy_count, 2500);
	assert_false(id.auth_required);
	/* Cut to fit, still a string. */
	assert_int_equal(strlen(id.version), sizeof(id.version) - 1);
	assert_memory_equal(id.version, "0123456789", 10);
}

static void
test_identify_refused(void **state)
{
	static const char *bad[] = { "", "O", "OKAY", "[]", "\"OK\"", "7",
	    "{", "{\"version\":}", "null" };
	struct conn_ident id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&id);
		assert_int_equal(parse(&id, bad[i]), -1);
		assert_int_equal(id.max_rdy_count, 2500);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify_ok),
		cmocka_unit_test(test_identify_json),
		cmocka_unit_test(test_identify_wrong_types),
		cmocka_unit_test(test_identify_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
