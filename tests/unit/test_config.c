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
	nsq_config_free(c);
}

/* The TLS, compression and AUTH options land where conn.c reads them. */
static void
test_upgrades(void **state)
{
	struct nsq_config *c = nsq_config_new(), *d;
	char err[256];

	(void)state;
	assert_false(c->tls_v1);
	assert_false(c->snappy);
	assert_false(c->deflate);
	assert_int_equal(c->tls_min_version, 0);
	assert_string_equal(c->tls_root_ca_file, "");
	/* A bare key is true, as go-nsq's ConfigFlag. */
	assert_int_equal(nsq_config_set_opt(c, "tls_v1", err, sizeof(err)),
	    0);
	assert_true(c->tls_v1);
	assert_int_equal(nsq_config_set_opt(c, "snappy,true", err,
	    sizeof(err)), 0);
	assert_true(c->snappy);
	assert_int_equal(nsq_config_set_opt(c, "deflate,1", err, sizeof(err)),
	    0);
	assert_true(c->deflate);
	assert_int_equal(nsq_config_set_opt(c, "deflate_level,9", err,
	    sizeof(err)), 0);
	assert_int_equal(c->deflate_level, 9);
	assert_int_equal(nsq_config_set_opt(c, "tls-insecure-skip-verify,t",
	    err, sizeof(err)), 0);
	assert_true(c->tls_insecure_skip_verify);
	/* Go's names, in any case. */
	assert_int_equal(nsq_config_set_opt(c, "tls_min_version,TLS1.2", err,
	    sizeof(err)), 0);
	assert_int_equal(c->tls_min_version, 0x0303);
	assert_int_equal(nsq_config_set_opt(c, "tls_min_version,tls1.0", err,
	    sizeof(err)), 0);
	assert_int_equal(c->tls_min_version, 0x0301);
	assert_int_equal(nsq_config_set_opt(c, "auth_secret,s3cret", err,
	    sizeof(err)), 0);
	assert_string_equal(c->auth_secret, "s3cret");
	/* One half of the client certificate alone is refused. */
	assert_int_equal(nsq_config_set_opt(c, "tls_cert,/x/cert.pem", err,
	    sizeof(err)), 0);
	assert_int_equal(nsq_config_check(c, err, sizeof(err)), -1);
	assert_string_equal(err, "tls_cert and tls_key must be set together");
	/* Both, but unreadable: the check loads them. */
	assert_int_equal(nsq_config_set_opt(c, "tls_key,/x/key.pem", err,
	    sizeof(err)), 0);
	assert_int_equal(nsq_config_check(c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "tls_cert /x/cert.pem: "));
	/* go-nsq's name: false keeps the secret from nsqlookupd. */
	assert_true(c->lookupd_authorization);
	assert_int_equal(nsq_config_set_opt(c, "skip_lookupd_authorization,"
	    "false", err, sizeof(err)), 0);
	assert_false(c->lookupd_authorization);
	d = nsq_config_dup(c);
	assert_non_null(d);
	assert_string_equal(d->tls_cert, "/x/cert.pem");
	assert_string_equal(d->tls_key, "/x/key.pem");
	assert_true(d->tls_v1 && d->snappy && d->deflate);
	nsq_config_free(d);
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
		{ "snappy,maybe", "failed to coerce option snappy (maybe) - "
		  "strconv.ParseBool: parsing \"maybe\": invalid syntax" },
		{ "tls_min_version,tls9", "ERROR: tls9 is not a tls version" },
		{ "tls_root_ca_file,/nonexistent/ca.pem", "ERROR: failed to "
		  "read custom Certificate Authority file open "
		  "/nonexistent/ca.pem: no such file or directory" },
		{ "tls_root_ca_file,/dev/null", "ERROR: failed to append "
		  "certificates from Certificate Authority file" },
		{ "local_addr,127.0.0.1:0",
		  "local_addr is not supported by this client" },
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
		cmocka_unit_test(test_upgrades),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
