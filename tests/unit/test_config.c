/*
 * Unit tests for lib/config: go-nsq's option names, defaults, bounds and
 * error words, the "key,value" form of --consumer-opt, and the options
 * refused because this library lacks the feature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

static void
test_defaults(void **state)
{
	struct nsq_config *c = nsq_config_new();

	(void)state;
	assert_int_equal(c->max_in_flight, 1);
	assert_int_equal(c->heartbeat_interval, 30 * NS_SEC);
	assert_int_equal(c->read_timeout, 60 * NS_SEC);
	assert_int_equal(c->write_timeout, NS_SEC);
	assert_int_equal(c->lookupd_poll_interval, 60 * NS_SEC);
	assert_true(c->lookupd_poll_jitter == 0.3);
	assert_int_equal(c->max_attempts, 5);
	assert_int_equal(c->default_requeue_delay, 90 * NS_SEC);
	assert_int_equal(c->max_backoff_duration, 120 * NS_SEC);
	assert_int_equal(c->output_buffer_size, 16384);
	assert_true(strncmp(c->user_agent, "nsq-c/", 6) == 0);
	assert_null(strchr(c->client_id, '.'));
	nsq_config_free(c);
}

static void
test_set(void **state)
{
	struct nsq_config *c = nsq_config_new();
	char err[256];

	(void)state;
	assert_int_equal(nsq_config_set(c, "max_in_flight", "200", err,
	    sizeof(err)), 0);
	assert_int_equal(c->max_in_flight, 200);
	/* '-' is '_', as go-nsq's Set. */
	assert_int_equal(nsq_config_set(c, "max-attempts", "9", err,
	    sizeof(err)), 0);
	assert_int_equal(c->max_attempts, 9);
	assert_int_equal(nsq_config_set_opt(c, "lookupd_poll_interval,15s",
	    err, sizeof(err)), 0);
	assert_int_equal(c->lookupd_poll_interval, 15 * NS_SEC);
	assert_int_equal(nsq_config_set_opt(c, "user_agent,a,b c", err,
	    sizeof(err)), 0);
	assert_string_equal(c->user_agent, "a,b c");
	assert_int_equal(nsq_config_set_opt(c, "lookupd_poll_jitter,0.5",
	    err, sizeof(err)), 0);
	assert_true(c->lookupd_poll_jitter == 0.5);
	assert_int_equal(nsq_config_set_opt(c, "backoff_strategy,full_jitter",
	    err, sizeof(err)), 0);
	assert_true(c->backoff_full_jitter);
	/* A bare key is true: fine for a feature that is off. */
	assert_int_equal(nsq_config_set_opt(c, "tls_v1,false", err,
	    sizeof(err)), 0);
	nsq_config_free(c);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*kv, *want;
	} t[] = {
		{ "nope,1", "invalid option nope" },
		{ "max_in_flight,-1", "invalid max_in_flight ! -1 < 0" },
		{ "max_attempts,70000",
		  "invalid max_attempts ! 70000 > 65535" },
		{ "read_timeout,10ms", "invalid read_timeout ! 10ms < 100ms" },
		{ "read_timeout,6m", "invalid read_timeout ! 6m0s > 5m0s" },
		{ "max_in_flight,x", "failed to coerce option max_in_flight (x)"
		  " - strconv.ParseInt: parsing \"x\": invalid syntax" },
		/* strconv's errors quote the value as strconv.Quote. */
		{ "max_in_flight,a\"\x01", "failed to coerce option "
		  "max_in_flight (a\"\x01) - strconv.ParseInt: parsing "
		  "\"a\\\"\\x01\": invalid syntax" },
		{ "lookupd_poll_jitter,\xff", "failed to coerce option "
		  "lookupd_poll_jitter (\xff) - strconv.ParseFloat: parsing "
		  "\"\\xff\": invalid syntax" },
		{ "dial_timeout,1000", "failed to coerce option dial_timeout "
		  "(1000) - time: invalid duration \"1000\"" },
		{ "snappy", "snappy is not supported by this client" },
		{ "tls_v1,true", "tls_v1 is not supported by this client" },
		{ "tls_cert,/x", "tls_cert is not supported by this client" },
		{ "lookupd_poll_jitter,2",
		  "invalid lookupd_poll_jitter ! 2 > 1" },
		{ "backoff_strategy,linear", "failed to coerce option "
		  "backoff_strategy (linear) - invalid backoff strategy "
		  "'linear'" },
	};
	struct nsq_config *c = nsq_config_new();
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(nsq_config_set_opt(c, t[i].kv, err,
		    sizeof(err)), -1);
		assert_string_equal(err, t[i].want);
	}
	/* Across options, as go-nsq's Validate. */
	assert_int_equal(nsq_config_set_opt(c, "heartbeat_interval,2m", err,
	    sizeof(err)), 0);
	assert_int_equal(nsq_config_check(c, err, sizeof(err)), -1);
	assert_string_equal(err, "HeartbeatInterval 2m0s must be less than "
	    "ReadTimeout 1m0s");
	nsq_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
