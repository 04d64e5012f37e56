/*
 * Unit tests for the consumer's flow control (lib/consumer.h): RDY over
 * N connections for several max_in_flight values, the clamps, the moving
 * of RDY when there are more connections than max_in_flight, and the
 * backoff sequence, all driven through fake hooks that record what would
 * go on the wire and which timers would run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "consumer.h"

#define NCONN	16
#define SEC	NSQ_NS_SEC

struct fake {
	struct consumer_rdy		 st;
	struct consumer_rdy_conn	 c[NCONN];
	int64_t				 wire[NCONN];	/* last RDY written */
	int				 writes;
	double				 now;
	int64_t				 backoffs[32];	/* timer lengths */
	int				 nbackoff;
	bool				 retry[NCONN];
	int64_t				 retry_count[NCONN];
	size_t				 rnd;		/* next "random" */
};

static struct fake F;

static int
idx(const struct consumer_rdy_conn *c)
{
	return (int)(c - F.c);
}

static void
f_send(void *arg, struct consumer_rdy_conn *c, int64_t count)
{
	(void)arg;
	F.wire[idx(c)] = count;
	F.writes++;
}

static void
f_backoff(void *arg, int64_t ns)
{
	(void)arg;
	assert_true(F.nbackoff < 32);
	F.backoffs[F.nbackoff++] = ns;
}

static void
f_retry(void *arg, struct consumer_rdy_conn *c, int64_t ns, int64_t count)
{
	(void)arg;
	assert_int_equal(ns, 5 * SEC);
	F.retry[idx(c)] = true;
	F.retry_count[idx(c)] = count;
}

static void
f_retry_cancel(void *arg, struct consumer_rdy_conn *c)
{
	(void)arg;
	F.retry[idx(c)] = false;
}

/* A counter, so that choices are foreseeable and go round. */
static size_t
f_random(void *arg, size_t n)
{
	(void)arg;
	return F.rnd++ % n;
}

static double
f_now(void *arg)
{
	(void)arg;
	return F.now;
}

static const struct consumer_rdy_ops ops = {
	f_send, f_backoff, f_retry, f_retry_cancel, f_random, f_now,
};

static void
setup_fake(int64_t mif)
{
	struct nsq_config *cfg = nsq_config_new();
	int i;

	memset(&F, 0, sizeof(F));
	cfg->max_in_flight = mif;
	consumer_rdy_init(&F.st, cfg, &ops, NULL);
	nsq_config_free(cfg);
	F.now = 1000;
	for (i = 0; i < NCONN; i++) {
		F.c[i].max_rdy = 2500;
		F.c[i].last_msg = F.now;
	}
}

/* Invariants after any step. */
static void
check(void)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < F.st.n; i++) {
		const struct consumer_rdy_conn *c = F.st.conns[i];

		assert_true(c->rdy >= 0);
		assert_true(c->rdy <= c->max_rdy);
		/* What nsqd was told is what we count. */
		assert_int_equal(F.wire[idx(c)], c->rdy);
		sum += c->rdy;
	}
	assert_int_equal(sum, F.st.total);
	assert_true(F.st.total <= F.st.max_in_flight);
}

static void
test_per_conn(void **state)
{
	static const struct {
		int64_t	mif;
		size_t	n;
		int64_t	want;
	} t[] = {
		{ 200, 1, 200 }, { 200, 2, 100 }, { 200, 3, 66 },
		{ 200, 7, 28 }, { 5, 2, 2 }, { 1, 1, 1 }, { 1, 5, 1 },
		{ 2, 5, 1 }, { 10, 10, 1 }, { 10, 11, 1 }, { 0, 3, 0 },
		{ 2500, 4, 625 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setup_fake(t[i].mif);
		F.st.n = t[i].n;
		assert_int_equal(consumer_rdy_per_conn(&F.st), t[i].want);
		F.st.n = 0;
		consumer_rdy_free(&F.st);
	}
}

/* Connections subscribing one after another, for many sizes. */
static void
test_distribution(void **state)
{
	static const int64_t mifs[] = { 1, 2, 3, 5, 10, 200, 2500 };
	size_t m, n, i, with, k;

	(void)state;
	for (m = 0; m < sizeof(mifs) / sizeof(mifs[0]); m++)
		for (n = 1; n <= 8; n++) {
			setup_fake(mifs[m]);
			for (i = 0; i < n; i++) {
				consumer_rdy_add(&F.st, &F.c[i]);
				check();
			}
			if ((int64_t)n <= mifs[m]) {
				/* Everyone has an equal share. */
				for (i = 0; i < n; i++)
					assert_int_equal(F.c[i].rdy,
					    mifs[m] / (int64_t)n);
			} else {
				/* max_in_flight connections have 1. */
				for (i = 0, with = 0; i < n; i++) {
					if (F.c[i].rdy == 1)
						with++;
					else {
						assert_int_equal(F.c[i].rdy,
						    0);
						assert_true(F.retry[i]);
						assert_int_equal(
						    F.retry_count[i], 1);
					}
				}
				assert_int_equal(with, mifs[m]);
			}
			/* Each leaving gives its share to the rest. */
			for (k = 0; k + 1 < n; k++) {
				consumer_rdy_remove(&F.st, &F.c[k]);
				check();
				assert_int_equal(F.c[k].rdy, 0);
			}
			if ((int64_t)n <= mifs[m] || mifs[m] >= 1)
				assert_int_equal(F.c[n - 1].rdy, mifs[m]);
			consumer_rdy_free(&F.st);
		}
}

static void
test_max_rdy_clamp(void **state)
{
	(void)state;
	setup_fake(200);
	F.c[0].max_rdy = 50;
	consumer_rdy_add(&F.st, &F.c[0]);
	check();
	assert_int_equal(F.c[0].rdy, 50);
	F.c[1].max_rdy = 2500;
	consumer_rdy_add(&F.st, &F.c[1]);
	check();
	assert_int_equal(F.c[0].rdy, 50);
	assert_int_equal(F.c[1].rdy, 100);
	consumer_rdy_free(&F.st);
}

/* RDY is written only when it changes. */
static void
test_no_redundant_rdy(void **state)
{
	int w;

	(void)state;
	setup_fake(100);
	consumer_rdy_add(&F.st, &F.c[0]);
	w = F.writes;
	assert_int_equal(consumer_rdy_update(&F.st, &F.c[0], 100), 0);
	assert_int_equal(F.writes, w);
	assert_int_equal(consumer_rdy_update(&F.st, &F.c[0], 40), 0);
	assert_int_equal(F.writes, w + 1);
	assert_int_equal(F.wire[0], 40);
	/* A closing connection takes no RDY. */
	F.c[0].closing = true;
	assert_int_equal(consumer_rdy_update(&F.st, &F.c[0], 10), -1);
	assert_int_equal(F.wire[0], 40);
	consumer_rdy_free(&F.st);
}

/* More connections than max_in_flight: the RDY moves around. */
static void
test_redistribute(void **state)
{
	bool had[5] = { false };
	int round;
	size_t i;

	(void)state;
	setup_fake(2);
	for (i = 0; i < 5; i++)
		consumer_rdy_add(&F.st, &F.c[i]);
	check();
	assert_int_equal(F.st.total, 2);
	for (round = 0; round < 10; round++) {
		/* Idle longer than low_rdy_idle_timeout (10s). */
		F.now += 11;
		consumer_rdy_redistribute(&F.st);
		check();
		assert_int_equal(F.st.total, 2);
		for (i = 0; i < 5; i++)
			if (F.c[i].rdy > 0)
				had[i] = true;
	}
	for (i = 0; i < 5; i++)
		assert_true(had[i]);
	/* A connection that just had a message keeps its RDY. */
	for (i = 0; i < 5; i++)
		if (F.c[i].rdy > 0)
			break;
	F.now += 11;
	F.c[i].last_msg = F.now - 1;
	consumer_rdy_redistribute(&F.st);
	check();
	assert_int_equal(F.c[i].rdy, 1);
	consumer_rdy_free(&F.st);
}

/* Enough max_in_flight for everyone: nothing moves. */
static void
test_redistribute_not_needed(void **state)
{
	int w;
	size_t i;

	(void)state;
	setup_fake(200);
	for (i = 0; i < 3; i++)
		consumer_rdy_add(&F.st, &F.c[i]);
	w = F.writes;
	F.now += 100;
	consumer_rdy_redistribute(&F.st);
	assert_int_equal(F.writes, w);
	for (i = 0; i < 3; i++)
		assert_int_equal(F.c[i].rdy, 66);
	consumer_rdy_free(&F.st);
}

static void
test_backoff_sequence(void **state)
{
	static const int64_t want[] = {
		2 * SEC, 4 * SEC, 8 * SEC, 16 * SEC, 32 * SEC, 64 * SEC,
		64 * SEC, 64 * SEC,
	};
	size_t i, k;
	int with;

	(void)state;
	setup_fake(200);
	consumer_rdy_add(&F.st, &F.c[0]);
	consumer_rdy_add(&F.st, &F.c[1]);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		consumer_rdy_signal(&F.st, CONSUMER_BACKOFF);
		check();
		assert_int_equal(F.nbackoff, (int)i + 1);
		assert_int_equal(F.backoffs[i], want[i]);
		/* Every connection at RDY 0 during the wait. */
		assert_int_equal(F.c[0].rdy, 0);
		assert_int_equal(F.c[1].rdy, 0);
		/* Failures during the wait change nothing. */
		consumer_rdy_signal(&F.st, CONSUMER_BACKOFF);
		consumer_rdy_signal(&F.st, CONSUMER_RESUME);
		assert_int_equal(F.nbackoff, (int)i + 1);
		/* The wait ends: one connection tests with RDY 1. */
		consumer_rdy_resume(&F.st);
		check();
		for (k = 0, with = 0; k < 2; k++)
			with += F.c[k].rdy == 1;
		assert_int_equal(with, 1);
		assert_int_equal(F.st.total, 1);
	}
	/* 128s would pass the 2m maximum: the level stopped at 6. */
	assert_int_equal(F.st.backoff_counter, 6);
	/* Successes climb down one level each, waiting less each time. */
	for (i = 5; i >= 1; i--) {
		int before = F.nbackoff;

		consumer_rdy_signal(&F.st, CONSUMER_RESUME);
		check();
		assert_int_equal(F.st.backoff_counter, (int)i);
		assert_int_equal(F.nbackoff, before + 1);
		assert_int_equal(F.backoffs[before],
		    consumer_backoff_ns(&F.st, (int)i));
		consumer_rdy_resume(&F.st);
	}
	/* The last success ends the backoff: full RDY again. */
	consumer_rdy_signal(&F.st, CONSUMER_RESUME);
	check();
	assert_int_equal(F.st.backoff_counter, 0);
	assert_int_equal(F.c[0].rdy, 100);
	assert_int_equal(F.c[1].rdy, 100);
	consumer_rdy_free(&F.st);
}

static void
test_continue(void **state)
{
	(void)state;
	setup_fake(10);
	consumer_rdy_add(&F.st, &F.c[0]);
	/* Not in backoff: a requeue without backoff changes nothing. */
	consumer_rdy_signal(&F.st, CONSUMER_CONTINUE);
	assert_int_equal(F.nbackoff, 0);
	assert_int_equal(F.c[0].rdy, 10);
	/* In backoff: it waits again at the same level. */
	consumer_rdy_signal(&F.st, CONSUMER_BACKOFF);
	consumer_rdy_resume(&F.st);
	consumer_rdy_signal(&F.st, CONSUMER_CONTINUE);
	assert_int_equal(F.nbackoff, 2);
	assert_int_equal(F.backoffs[1], 2 * SEC);
	assert_int_equal(F.st.backoff_counter, 1);
	assert_int_equal(F.c[0].rdy, 0);
	/* While backing off, new connections get no RDY. */
	consumer_rdy_add(&F.st, &F.c[1]);
	assert_int_equal(F.c[1].rdy, 0);
	consumer_rdy_free(&F.st);
}

static void
test_backoff_options(void **state)
{
	int64_t d;
	int i, lvl;

	(void)state;
	/* max_backoff_duration 0: no backoff at all. */
	setup_fake(10);
	F.st.max_backoff = 0;
	consumer_rdy_add(&F.st, &F.c[0]);
	consumer_rdy_signal(&F.st, CONSUMER_BACKOFF);
	assert_int_equal(F.nbackoff, 0);
	assert_int_equal(F.c[0].rdy, 10);
	consumer_rdy_free(&F.st);
	/* full_jitter: anywhere below the exponential value. */
	setup_fake(10);
	F.st.full_jitter = true;
	F.rnd = 12345;
	for (lvl = 1; lvl <= 6; lvl++)
		for (i = 0; i < 20; i++) {
			d = consumer_backoff_ns(&F.st, lvl);
			assert_true(d >= 0);
			assert_true(d < SEC << lvl);
		}
	consumer_rdy_free(&F.st);
	/* A 100ms multiplier: 200ms, 400ms ... */
	setup_fake(10);
	F.st.multiplier = 100 * NSQ_NS_MS;
	assert_int_equal(consumer_backoff_ns(&F.st, 1), 200 * NSQ_NS_MS);
	assert_int_equal(consumer_backoff_ns(&F.st, 3), 800 * NSQ_NS_MS);
	consumer_rdy_free(&F.st);
}

/* Resuming with no connection left waits a second and tries again. */
static void
test_resume_without_conns(void **state)
{
	(void)state;
	setup_fake(10);
	consumer_rdy_add(&F.st, &F.c[0]);
	consumer_rdy_signal(&F.st, CONSUMER_BACKOFF);
	consumer_rdy_remove(&F.st, &F.c[0]);
	consumer_rdy_resume(&F.st);
	assert_int_equal(F.nbackoff, 2);
	assert_int_equal(F.backoffs[1], SEC);
	consumer_rdy_free(&F.st);
}

static void
test_change_max_in_flight(void **state)
{
	(void)state;
	setup_fake(200);
	consumer_rdy_add(&F.st, &F.c[0]);
	consumer_rdy_add(&F.st, &F.c[1]);
	consumer_rdy_set_max_in_flight(&F.st, 10);
	check();
	assert_int_equal(F.c[0].rdy, 5);
	assert_int_equal(F.c[1].rdy, 5);
	/* 0 pauses every connection. */
	consumer_rdy_set_max_in_flight(&F.st, 0);
	check();
	assert_int_equal(F.c[0].rdy, 0);
	assert_int_equal(F.c[1].rdy, 0);
	consumer_rdy_set_max_in_flight(&F.st, 300);
	check();
	assert_int_equal(F.c[0].rdy, 150);
	assert_int_equal(F.c[1].rdy, 150);
	consumer_rdy_free(&F.st);
}

/* A starved connection's retry succeeds once another one leaves. */
static void
test_retry(void **state)
{
	(void)state;
	setup_fake(1);
	consumer_rdy_add(&F.st, &F.c[0]);
	consumer_rdy_add(&F.st, &F.c[1]);
	assert_int_equal(F.c[0].rdy, 1);
	assert_int_equal(F.c[1].rdy, 0);
	assert_true(F.retry[1]);
	consumer_rdy_remove(&F.st, &F.c[0]);
	check();
	/* The share moved over at once, and the retry was dropped. */
	assert_int_equal(F.c[1].rdy, 1);
	assert_false(F.retry[1]);
	consumer_rdy_free(&F.st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_conn),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_max_rdy_clamp),
		cmocka_unit_test(test_no_redundant_rdy),
		cmocka_unit_test(test_redistribute),
		cmocka_unit_test(test_redistribute_not_needed),
		cmocka_unit_test(test_backoff_sequence),
		cmocka_unit_test(test_continue),
		cmocka_unit_test(test_backoff_options),
		cmocka_unit_test(test_resume_without_conns),
		cmocka_unit_test(test_change_max_in_flight),
		cmocka_unit_test(test_retry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
