/*
 * Unit tests for the consumer.  First its flow control (lib/rdy.h):
 * RDY over N connections for several max_in_flight values, the clamps,
 * the moving of RDY when there are more connections than max_in_flight,
 * and the backoff sequence, all driven through fake hooks that record
 * what would go on the wire and which timers would run.  Then the whole
 * consumer against a fake nsqd on the same loop: SUB and RDY, message
 * fields, FIN/REQ/TOUCH bytes, max attempts, backoff on the wire, NOP,
 * CLS/CLOSE_WAIT, and messages outliving their connection.
 */
#include <sys/socket.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <ev.h>

#include "buffer.h"
#include "config.h"
#include "frame.h"
#include "message.h"
#include "net.h"
#include "nsq.h"
#include "rdy.h"

#define NCONN	16
#define SEC	NS_SEC

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
	F.st.multiplier = 100 * NS_MS;
	assert_int_equal(consumer_backoff_ns(&F.st, 1), 200 * NS_MS);
	assert_int_equal(consumer_backoff_ns(&F.st, 3), 800 * NS_MS);
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

/*
 * The whole consumer against a fake nsqd.
 */

#define MAXLINES	256

struct srv {
	struct ev_loop	*loop;
	int		 lfd, fd, port;
	ev_io		 acc, rd;
	struct buf	 in, out;
	bool		 identified;
	char		 lines[MAXLINES][64];	/* commands after IDENTIFY */
	int		 nlines;
};

static struct srv V;

/* The consumer's side. */
static struct nsq_consumer *C;
static struct nsq_message *held[16];
static int nheld, nmsg, ngiveup, nup, ndown;
static char msgdesc[16][96];
static bool cstopped;
static enum { KEEP, FINISH, REQUEUE_BACKOFF } policy;

static void
v_frame(int type, const void *data, size_t len)
{
	assert_int_equal(buf_append_u32(&V.out, (uint32_t)(len + 4)), 0);
	assert_int_equal(buf_append_u32(&V.out, (uint32_t)type), 0);
	assert_int_equal(buf_append(&V.out, data, len), 0);
	while (buf_len(&V.out) > 0 && V.fd != -1) {
		ssize_t n = send(V.fd, buf_data(&V.out), buf_len(&V.out),
		    MSG_NOSIGNAL);

		if (n <= 0)
			break;
		buf_consume(&V.out, (size_t)n);
	}
}

static void
v_msg(const char *id, uint16_t attempts, const char *body)
{
	unsigned char m[MSG_HEADER_LEN + 64];
	size_t n = strlen(body);

	msg_header_encode(m, INT64_C(1700000000000000000), attempts, id);
	memcpy(m + MSG_HEADER_LEN, body, n);
	v_frame(FRAME_MESSAGE, m, MSG_HEADER_LEN + n);
}

static void
v_close(void)
{
	if (V.fd == -1)
		return;
	ev_io_stop(V.loop, &V.rd);
	close(V.fd);
	V.fd = -1;
}

/* One command at the front of V.in: bytes used, or 0. */
static size_t
v_command(void)
{
	const char *p = buf_data(&V.in), *nl;
	size_t n = buf_len(&V.in), line, size;
	const char *j = "{\"max_rdy_count\":2500,\"version\":\"1.3.0\","
	    "\"max_msg_timeout\":900000,\"msg_timeout\":60000}";

	if (!V.identified) {
		if (n < 4 || (nl = memchr(p + 4, '\n', n - 4)) == NULL)
			return 0;
		line = (size_t)(nl - p) + 1;
		if (n < line + 4 || n < line + 4 + be32dec(nl + 1))
			return 0;
		V.identified = true;
		v_frame(FRAME_RESPONSE, j, strlen(j));
		return line + 4 + be32dec(nl + 1);
	}
	if ((nl = memchr(p, '\n', n)) == NULL)
		return 0;
	line = (size_t)(nl - p) + 1;
	size = line;
	assert_true(V.nlines < MAXLINES);
	snprintf(V.lines[V.nlines++], sizeof(V.lines[0]), "%.*s",
	    (int)line - 1, p);
	if (strncmp(p, "SUB ", 4) == 0)
		v_frame(FRAME_RESPONSE, "OK", 2);
	else if (strncmp(p, "CLS\n", 4) == 0)
		v_frame(FRAME_RESPONSE, "CLOSE_WAIT", 10);
	return size;
}

static void
v_read(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;
	size_t used;

	(void)loop;
	(void)w;
	(void)revents;
	n = buf_read_fd(&V.in, V.fd);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		v_close();
		return;
	}
	while (V.fd != -1 && (used = v_command()) > 0)
		buf_consume(&V.in, used);
}

static void
v_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)w;
	(void)revents;
	if ((fd = accept(V.lfd, NULL, NULL)) == -1)
		return;
	v_close();
	net_set_nonblock(fd);
	V.fd = fd;
	V.identified = false;
	buf_reset(&V.in);
	buf_reset(&V.out);
	ev_io_init(&V.rd, v_read, fd, EV_READ);
	ev_io_start(loop, &V.rd);
}

/* Whether the fake nsqd got command line s (from index from on). */
static int
v_saw(const char *s, int from)
{
	int i;

	for (i = from; i < V.nlines; i++)
		if (strcmp(V.lines[i], s) == 0)
			return i;
	return -1;
}

static void
on_msg(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	size_t len;
	const char *b = nsq_msg_body(m, &len);

	assert_ptr_equal(c, C);
	assert_string_equal((const char *)arg, "arg");
	snprintf(msgdesc[nmsg % 16], sizeof(msgdesc[0]),
	    "%s %u %.*s %s %s %lld", nsq_msg_id(m),
	    (unsigned)nsq_msg_attempts(m), (int)len, b, nsq_msg_topic(m),
	    nsq_msg_nsqd(m) != NULL ? "nsqd" : "-",
	    (long long)nsq_msg_timestamp(m));
	assert_int_equal(b[len], '\0');
	nmsg++;
	switch (policy) {
	case KEEP:
		held[nheld++] = m;
		break;
	case FINISH:
		assert_int_equal(nsq_msg_finish(m), 0);
		break;
	case REQUEUE_BACKOFF:
		assert_int_equal(nsq_msg_requeue(m, 0, true), 0);
		break;
	}
}

static void
on_giveup(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	(void)c;
	(void)arg;
	assert_int_equal(nsq_msg_attempts(m), 6);
	ngiveup++;
}

static void
on_conn(struct nsq_consumer *c, const char *addr, enum nsq_conn_event ev,
    const char *err, void *arg)
{
	(void)c;
	(void)addr;
	(void)arg;
	if (ev == NSQ_CONN_UP)
		nup++;
	else {
		assert_non_null(err);
		ndown++;
	}
}

static void
on_stopped(struct nsq_consumer *c, void *arg)
{
	(void)c;
	(void)arg;
	cstopped = true;
}

static void
v_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void
v_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
	bool (*done)(void) = w->data;

	(void)revents;
	if (done != NULL && done())
		ev_break(loop, EVBREAK_ONE);
}

/* Run the loop until done() or seconds pass; whether done() held. */
static bool
v_run(bool (*done)(void), double seconds)
{
	ev_timer t;
	ev_prepare p;

	ev_now_update(V.loop);
	ev_timer_init(&t, v_timeout, seconds, 0);
	ev_timer_start(V.loop, &t);
	ev_prepare_init(&p, v_prepare);
	p.data = (void *)done;
	ev_prepare_start(V.loop, &p);
	ev_run(V.loop, 0);
	ev_timer_stop(V.loop, &t);
	ev_prepare_stop(V.loop, &p);
	return done == NULL || done();
}

static const char *want_line;
static int want_from, want_msgs;

static bool
saw_line(void)
{
	return v_saw(want_line, want_from) != -1;
}

static bool
got_msgs(void)
{
	return nmsg >= want_msgs;
}

static bool
is_cstopped(void)
{
	return cstopped;
}

/* Wait for command line s from index from; its index. */
static int
expect_line(const char *s, int from)
{
	want_line = s;
	want_from = from;
	if (!v_run(saw_line, 5))
		fail_msg("nsqd never got \"%s\" (%d lines, last \"%s\")", s,
		    V.nlines, V.nlines > 0 ? V.lines[V.nlines - 1] : "");
	return v_saw(s, from);
}

static int
v_setup(void **state)
{
	char err[256];

	(void)state;
	memset(&V, 0, sizeof(V));
	V.loop = ev_loop_new(EVFLAG_AUTO);
	V.fd = -1;
	V.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(V.lfd != -1);
	V.port = net_local_port(V.lfd);
	buf_init(&V.in, 4096, 1 << 20);
	buf_init(&V.out, 4096, 1 << 20);
	ev_io_init(&V.acc, v_accept, V.lfd, EV_READ);
	ev_io_start(V.loop, &V.acc);
	nheld = nmsg = ngiveup = nup = ndown = 0;
	cstopped = false;
	policy = KEEP;
	return 0;
}

static int
v_teardown(void **state)
{
	(void)state;
	nsq_consumer_free(C);
	C = NULL;
	while (nheld > 0)
		(void)nsq_msg_finish(held[--nheld]);
	v_close();
	ev_io_stop(V.loop, &V.acc);
	close(V.lfd);
	buf_free(&V.in);
	buf_free(&V.out);
	ev_loop_destroy(V.loop);
	return 0;
}

/* A consumer of t/c with options "k,v" ..., connected to the fake. */
static void
v_consumer(const char *const *kv)
{
	struct nsq_config *cfg = nsq_config_new();
	char err[256], addr[64];

	assert_int_equal(nsq_config_set(cfg, "max_in_flight", "5", err,
	    sizeof(err)), 0);
	for (; kv != NULL && *kv != NULL; kv++)
		assert_int_equal(nsq_config_set_opt(cfg, *kv, err,
		    sizeof(err)), 0);
	C = nsq_consumer_new(V.loop, "t", "c", cfg, on_msg,
	    (void *)(uintptr_t)"arg", err, sizeof(err));
	assert_non_null(C);
	nsq_config_free(cfg);
	nsq_consumer_set_giveup_cb(C, on_giveup);
	nsq_consumer_set_conn_cb(C, on_conn);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", V.port);
	assert_int_equal(nsq_consumer_connect_nsqd(C, addr, err,
	    sizeof(err)), 0);
	expect_line("SUB t c", 0);
	expect_line("RDY 5", 0);
	assert_int_equal(nup, 1);
}

static void
test_live_messages(void **state)
{
	struct nsq_consumer_stats st;

	(void)state;
	v_consumer(NULL);
	v_msg("000000000000000a", 1, "one");
	v_msg("000000000000000b", 2, "two");
	v_msg("000000000000000c", 1, "three");
	want_msgs = 3;
	assert_true(v_run(got_msgs, 5));
	assert_string_equal(msgdesc[0], "000000000000000a 1 one t nsqd "
	    "1700000000000000000");
	assert_string_equal(msgdesc[1], "000000000000000b 2 two t nsqd "
	    "1700000000000000000");
	assert_int_equal(nheld, 3);
	/* Answered later, each its own command. */
	assert_int_equal(nsq_msg_finish(held[0]), 0);
	assert_int_equal(nsq_msg_requeue(held[1], 1500, false), 0);
	assert_int_equal(nsq_msg_touch(held[2]), 0);
	expect_line("FIN 000000000000000a", 0);
	expect_line("REQ 000000000000000b 1500", 0);
	expect_line("TOUCH 000000000000000c", 0);
	assert_int_equal(nsq_msg_requeue(held[2], -1, false), 0);
	/* -1: default_requeue_delay (90s) times attempts (1). */
	expect_line("REQ 000000000000000c 90000", 0);
	nheld = 0;
	nsq_consumer_stats(C, &st);
	assert_int_equal(st.received, 3);
	assert_int_equal(st.finished, 1);
	assert_int_equal(st.requeued, 2);
	assert_int_equal(st.connections, 1);
	/* A requeue without backoff leaves RDY alone. */
	assert_int_equal(v_saw("RDY 0", 0), -1);
}

static void
test_live_max_attempts(void **state)
{
	struct nsq_consumer_stats st;

	(void)state;
	v_consumer(NULL);
	v_msg("00000000000000aa", 6, "tired");
	expect_line("FIN 00000000000000aa", 0);
	assert_int_equal(ngiveup, 1);
	assert_int_equal(nmsg, 0);
	v_msg("00000000000000ab", 5, "fine");
	want_msgs = 1;
	assert_true(v_run(got_msgs, 5));
	nsq_consumer_stats(C, &st);
	assert_int_equal(st.given_up, 1);
}

static void
test_live_backoff(void **state)
{
	static const char *const kv[] = { "backoff_multiplier,20ms", NULL };
	int i;

	(void)state;
	v_consumer(kv);
	policy = REQUEUE_BACKOFF;
	v_msg("00000000000000b1", 1, "bad");
	i = expect_line("REQ 00000000000000b1 0", 0);
	/* All connections to RDY 0, then after 40ms one tries RDY 1. */
	i = expect_line("RDY 0", i);
	i = expect_line("RDY 1", i);
	/* Success climbs out of backoff: back to the full count. */
	policy = FINISH;
	v_msg("00000000000000b2", 1, "good");
	i = expect_line("FIN 00000000000000b2", i);
	expect_line("RDY 5", i);
}

static bool
got_nop(void)
{
	return v_saw("NOP", 0) != -1;
}

static void
test_live_heartbeat_and_stop(void **state)
{
	(void)state;
	v_consumer(NULL);
	v_frame(FRAME_RESPONSE, "_heartbeat_", 11);
	assert_true(v_run(got_nop, 5));
	/* A message held across the stop is answered before the close. */
	v_msg("00000000000000c1", 1, "held");
	want_msgs = 1;
	assert_true(v_run(got_msgs, 5));
	nsq_consumer_stop(C, on_stopped, NULL);
	expect_line("CLS", 0);
	v_run(NULL, 0.1);
	assert_false(cstopped);
	assert_int_equal(nsq_msg_finish(held[0]), 0);
	nheld = 0;
	assert_true(v_run(is_cstopped, 5));
	assert_true(v_saw("FIN 00000000000000c1", 0) != -1);
	assert_int_equal(ndown, 1);
}

/*
 * Starved as go-nsq counts it: RDY 5 gives a threshold of 4 (85%,
 * truncated); answering one message ends it.
 */
static void
test_live_starved(void **state)
{
	(void)state;
	v_consumer(NULL);
	assert_false(nsq_consumer_is_starved(C));
	v_msg("00000000000000e1", 1, "s1");
	v_msg("00000000000000e2", 1, "s2");
	v_msg("00000000000000e3", 1, "s3");
	want_msgs = 3;
	assert_true(v_run(got_msgs, 5));
	assert_false(nsq_consumer_is_starved(C));
	v_msg("00000000000000e4", 1, "s4");
	want_msgs = 4;
	assert_true(v_run(got_msgs, 5));
	assert_true(nsq_consumer_is_starved(C));
	assert_int_equal(nsq_msg_finish(held[--nheld]), 0);
	assert_false(nsq_consumer_is_starved(C));
}

static bool
got_down(void)
{
	return ndown > 0;
}

/* Messages outlive their connection and their consumer. */
static void
test_live_zombies(void **state)
{
	(void)state;
	v_consumer(NULL);
	v_msg("00000000000000d1", 1, "z1");
	v_msg("00000000000000d2", 1, "z2");
	v_msg("00000000000000d3", 1, "z3");
	want_msgs = 3;
	assert_true(v_run(got_msgs, 5));
	v_close();
	assert_true(v_run(got_down, 5));
	/* The connection is gone: answering fails but is safe. */
	assert_int_equal(nsq_msg_finish(held[0]), -1);
	assert_int_equal(nsq_msg_touch(held[1]), -1);
	nsq_consumer_free(C);
	C = NULL;
	assert_int_equal(nsq_msg_requeue(held[1], 0, true), -1);
	assert_string_equal(nsq_msg_id(held[2]), "00000000000000d3");
	assert_int_equal(nsq_msg_finish(held[2]), -1);
	nheld = 0;
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
		cmocka_unit_test_setup_teardown(test_live_messages, v_setup,
		    v_teardown),
		cmocka_unit_test_setup_teardown(test_live_max_attempts,
		    v_setup, v_teardown),
		cmocka_unit_test_setup_teardown(test_live_backoff, v_setup,
		    v_teardown),
		cmocka_unit_test_setup_teardown(test_live_heartbeat_and_stop,
		    v_setup, v_teardown),
		cmocka_unit_test_setup_teardown(test_live_zombies, v_setup,
		    v_teardown),
		cmocka_unit_test_setup_teardown(test_live_starved, v_setup,
		    v_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
