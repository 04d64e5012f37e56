/*
 * The consumer (nsq.h) and its flow control (rdy.h, the RDY engine).
 *
 * Each connection (struct cconn) goes CONNECTING -> SUBSCRIBING (SUB sent
 * after IDENTIFY) -> SUBSCRIBED (RDY flows) -> CLOSING (CLS sent, or
 * CLOSE_WAIT received and messages still unanswered) -> CLOSED.  A message
 * keeps its connection alive: a closed connection with unanswered
 * messages stays allocated, as a zombie, until the last one is answered,
 * so that answering is always safe and simply fails when the connection
 * is gone (nsqd then times the message out and delivers it again).
 *
 * Connections come from two places.  Direct addresses are reconnected
 * after a close, waiting 1s, 2s, 4s ... up to lookupd_poll_interval.
 * nsqlookupd answers (lookup.c) give the full set of producers: missing
 * connections are made, and connections to producers no longer listed
 * are closed with CLS; a close makes the next poll come sooner.
 *
 * The RDY part below the consumer follows go-nsq, step for step; it is
 * driven through struct consumer_rdy_ops so that the unit tests can run
 * it without sockets.
 */
#include <sys/queue.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "buffer.h"
#include "config.h"
#include "conn.h"
#include "frame.h"
#include "lookup.h"
#include "message.h"
#include "names.h"
#include "nsq.h"
#include "rand.h"
#include "rdy.h"
#include "xmalloc.h"

#define RDY_RETRY_NS	(5 * NS_SEC)
#define STOP_TIMEOUT	30.0	/* seconds a stop waits for CLOSE_WAIT */

/*
 * Flow control (go-nsq consumer.go), free of I/O.
 */

void
consumer_rdy_init(struct consumer_rdy *st, const struct nsq_config *cfg,
    const struct consumer_rdy_ops *ops, void *arg)
{
	memset(st, 0, sizeof(*st));
	st->max_in_flight = cfg->max_in_flight;
	st->multiplier = cfg->backoff_multiplier;
	st->max_backoff = cfg->max_backoff_duration;
	st->low_rdy_idle = cfg->low_rdy_idle_timeout;
	st->low_rdy_timeout = cfg->low_rdy_timeout;
	st->full_jitter = cfg->backoff_full_jitter;
	st->ops = ops;
	st->arg = arg;
}

void
consumer_rdy_free(struct consumer_rdy *st)
{
	free(st->conns);
	st->conns = NULL;
	st->n = st->cap = 0;
}

int64_t
consumer_rdy_per_conn(const struct consumer_rdy *st)
{
	double b = (double)st->max_in_flight, s;

	if (st->n == 0)
		return st->max_in_flight;
	s = b / (double)st->n;
	return (int64_t)fmin(fmax(1, s), b);
}

bool
consumer_rdy_in_backoff(const struct consumer_rdy *st)
{
	return st->backoff_counter > 0;
}

static bool
in_backoff_timeout(const struct consumer_rdy *st)
{
	return st->backoff_duration > 0;
}

int64_t
consumer_backoff_ns(const struct consumer_rdy *st, int level)
{
	double d = (double)st->multiplier * pow(2, level);
	int64_t ns;

	ns = d > (double)INT64_MAX ? INT64_MAX : (int64_t)d;
	if (st->full_jitter && ns > 0)
		ns = (int64_t)st->ops->random(st->arg, (size_t)ns);
	return ns;
}

/* sendRDY: record the count and write it when it changes. */
static int
send_rdy(struct consumer_rdy *st, struct consumer_rdy_conn *c, int64_t count)
{
	int64_t last = c->rdy;

	if (count == 0 && last == 0)
		return 0;
	st->total += count - c->rdy;
	c->rdy = count;
	c->last_rdy_at = st->ops->now(st->arg);
	if (count == last)
		return 0;
	st->ops->send(st->arg, c, count);
	return 0;
}

int
consumer_rdy_update(struct consumer_rdy *st, struct consumer_rdy_conn *c,
    int64_t count)
{
	int64_t possible;

	if (c->closing)
		return -1;
	if (count > c->max_rdy)
		count = c->max_rdy;
	if (c->retry) {
		c->retry = false;
		st->ops->retry_cancel(st->arg, c);
	}
	/*
	 * Lowering is always allowed (go-nsq refuses it too when the total
	 * is over a max_in_flight that was just reduced, keeping the old
	 * counts); raising never passes max_in_flight over all connections.
	 */
	if (count <= c->rdy)
		return send_rdy(st, c, count);
	possible = st->max_in_flight - st->total + c->rdy;
	if (possible > 0 && possible < count)
		count = possible;
	if (possible <= 0 && count > 0) {
		if (c->rdy == 0) {
			/* Try again later rather than starve for ever. */
			c->retry = true;
			st->ops->retry_timer(st->arg, c, RDY_RETRY_NS, count);
		}
		return -1;
	}
	return send_rdy(st, c, count);
}

static void
maybe_update(struct consumer_rdy *st, struct consumer_rdy_conn *c)
{
	if (consumer_rdy_in_backoff(st) || in_backoff_timeout(st))
		return;
	(void)consumer_rdy_update(st, c, consumer_rdy_per_conn(st));
}

void
consumer_rdy_add(struct consumer_rdy *st, struct consumer_rdy_conn *c)
{
	size_t i;

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 8;
		st->conns = xreallocarray(st->conns, st->cap,
		    sizeof(*st->conns));
	}
	st->conns[st->n++] = c;
	/* Lower the others first, so that the new one finds room. */
	for (i = 0; i + 1 < st->n; i++)
		maybe_update(st, st->conns[i]);
	maybe_update(st, c);
}

void
consumer_rdy_remove(struct consumer_rdy *st, struct consumer_rdy_conn *c)
{
	bool had_retry = c->retry;
	int64_t rdy = c->rdy;
	size_t i;

	for (i = 0; i < st->n; i++)
		if (st->conns[i] == c)
			break;
	if (i == st->n)
		return;
	st->conns[i] = st->conns[--st->n];
	st->total -= c->rdy;
	c->rdy = 0;
	c->closing = true;
	if (c->retry) {
		c->retry = false;
		st->ops->retry_cancel(st->arg, c);
	}
	if ((had_retry || rdy > 0) &&
	    ((int64_t)st->n == st->max_in_flight ||
	    consumer_rdy_in_backoff(st)))
		st->need_redistribute = true;
	/* Offer the share that went away to the connections left. */
	for (i = 0; i < st->n; i++)
		maybe_update(st, st->conns[i]);
}

void
consumer_rdy_redistribute(struct consumer_rdy *st)
{
	struct consumer_rdy_conn **possible;
	double now, idle, rto;
	int64_t avail;
	size_t i, k, np = 0;

	if (in_backoff_timeout(st) || st->n == 0)
		return;
	if ((int64_t)st->n > st->max_in_flight)
		st->need_redistribute = true;
	if (consumer_rdy_in_backoff(st) && st->n > 1)
		st->need_redistribute = true;
	if (!st->need_redistribute)
		return;
	st->need_redistribute = false;
	now = st->ops->now(st->arg);
	idle = (double)st->low_rdy_idle / 1e9;
	rto = (double)st->low_rdy_timeout / 1e9;
	possible = xcalloc(st->n, sizeof(*possible));
	for (i = 0; i < st->n; i++) {
		struct consumer_rdy_conn *c = st->conns[i];

		if (c->rdy > 0 && (now - c->last_msg > idle ||
		    now - c->last_rdy_at > rto))
			(void)consumer_rdy_update(st, c, 0);
		possible[np++] = c;
	}
	avail = st->max_in_flight - st->total;
	if (consumer_rdy_in_backoff(st))
		avail = 1 - st->total;
	while (np > 0 && avail > 0) {
		avail--;
		k = st->ops->random(st->arg, np);
		(void)consumer_rdy_update(st, possible[k], 1);
		possible[k] = possible[--np];
	}
	free(possible);
}

static void
start_backoff(struct consumer_rdy *st, int64_t ns)
{
	st->backoff_duration = ns > 0 ? ns : 1;
	st->ops->backoff_timer(st->arg, ns);
}

void
consumer_rdy_signal(struct consumer_rdy *st, enum consumer_signal sig)
{
	bool updated = false;
	int64_t d, per;
	size_t i;

	/*
	 * Signals during a backoff wait are dropped, so that many failures
	 * (or successes) at once move the level by one step only.
	 */
	if (in_backoff_timeout(st))
		return;
	switch (sig) {
	case CONSUMER_RESUME:
		if (st->backoff_counter > 0) {
			st->backoff_counter--;
			updated = true;
		}
		break;
	case CONSUMER_BACKOFF:
		if (consumer_backoff_ns(st, st->backoff_counter + 1) <=
		    st->max_backoff) {
			st->backoff_counter++;
			updated = true;
		}
		break;
	case CONSUMER_CONTINUE:
		break;
	}
	if (st->backoff_counter == 0 && updated) {
		per = consumer_rdy_per_conn(st);
		for (i = 0; i < st->n; i++)
			(void)consumer_rdy_update(st, st->conns[i], per);
	} else if (st->backoff_counter > 0) {
		d = consumer_backoff_ns(st, st->backoff_counter);
		if (d > st->max_backoff)
			d = st->max_backoff;
		for (i = 0; i < st->n; i++)
			(void)consumer_rdy_update(st, st->conns[i], 0);
		start_backoff(st, d);
	}
}

void
consumer_rdy_resume(struct consumer_rdy *st)
{
	struct consumer_rdy_conn *c;
	size_t i, live = 0, k;

	st->backoff_duration = 0;
	for (i = 0; i < st->n; i++)
		if (!st->conns[i]->closing)
			live++;
	if (live == 0) {
		start_backoff(st, NS_SEC);
		return;
	}
	k = st->ops->random(st->arg, live);
	for (i = 0, c = NULL; i < st->n; i++)
		if (!st->conns[i]->closing && k-- == 0) {
			c = st->conns[i];
			break;
		}
	/* While backing off, one message at a time tests the waters. */
	if (c == NULL || consumer_rdy_update(st, c, 1) == -1)
		start_backoff(st, NS_SEC);
}

void
consumer_rdy_set_max_in_flight(struct consumer_rdy *st, int64_t n)
{
	size_t i;

	if (st->max_in_flight == n)
		return;
	st->max_in_flight = n;
	for (i = 0; i < st->n; i++)
		maybe_update(st, st->conns[i]);
}

/*
 * The consumer.
 */

enum cc_state {
	CC_CONNECTING,
	CC_SUBSCRIBING,
	CC_SUBSCRIBED,
	CC_CLOSING,
	CC_CLOSED,
};

struct cconn {
	TAILQ_ENTRY(cconn)	 entry;
	struct nsq_consumer	*cons;	/* NULL once the consumer is freed */
	struct conn		*conn;
	char			*addr;
	enum cc_state		 state;
	bool			 cls_sent;
	bool			 close_wait;	/* nsqd answered CLS */
	bool			 in_rdy;
	bool			 zombie;	/* closed, answers awaited */
	struct consumer_rdy_conn rc;
	ev_timer		 retry_t;	/* RDY retry */
	int64_t			 retry_count;
	int64_t			 inflight;	/* messages unanswered */
};

TAILQ_HEAD(cconn_list, cconn);

/* A direct nsqd address and its reconnect timer. */
struct daddr {
	struct nsq_consumer	*cons;
	char			*addr;
	ev_timer		 t;
	int64_t			 backoff;	/* ns */
};

struct nsq_consumer {
	struct ev_loop		*loop;
	char			*topic;
	char			*channel;
	struct nsq_config	*cfg;
	nsq_msg_cb		*cb;
	void			*arg;
	nsq_msg_cb		*giveup_cb;
	nsq_conn_cb		*conn_cb;
	struct cconn_list	 conns;		/* open or opening */
	struct cconn_list	 zombies;
	struct consumer_rdy	 rdy;
	struct daddr		**direct;
	size_t			 ndirect;
	struct lookup		*lk;
	char			**listed;	/* nsqlookupd's producers */
	size_t			 nlisted;
	char			**hinted;	/* listed, did not resolve */
	size_t			 nhinted;
	ev_timer		 backoff_t;
	ev_timer		 redistribute_t;
	ev_timer		 stop_t;	/* forced close of a stop */
	ev_timer		 stopped_t;	/* tells of the stop */
	bool			 stopping;
	void			(*stopped)(struct nsq_consumer *, void *);
	void			*stopped_arg;
	struct nsq_consumer_stats stats;
};

struct nsq_message {
	struct cconn	*cc;
	char		 id[NSQ_MSG_ID_LEN + 1];
	int64_t		 ts;
	uint16_t	 attempts;
	size_t		 len;
	char		 body[];	/* len bytes and a NUL */
};

#define CONTAINER(p, type, member)					\
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static void	cc_ready(struct conn *, void *);
static void	cc_frame(struct conn *, const struct frame *, void *);
static void	cc_closed(struct conn *, const char *, void *);
static const struct conn_cb cc_cb = { cc_ready, cc_frame, cc_closed };

static void	connect_addr(struct nsq_consumer *, const char *);
static void	check_stopped(struct nsq_consumer *);
static void	stopped_cb(struct ev_loop *, ev_timer *, int);
static void	stop_timeout_cb(struct ev_loop *, ev_timer *, int);

/* RDY hooks. */

static void
op_send(void *arg, struct consumer_rdy_conn *rc, int64_t count)
{
	struct cconn *cc = CONTAINER(rc, struct cconn, rc);

	(void)arg;
	if (cc->conn == NULL || !conn_ready(cc->conn))
		return;
	if (frame_rdy(conn_out(cc->conn), count) == -1) {
		conn_close(cc->conn, "output buffer full");
		return;
	}
	conn_flush(cc->conn);
}

static void
op_backoff_timer(void *arg, int64_t ns)
{
	struct nsq_consumer *c = arg;

	nsq_logf(c->cfg, NSQ_LOG_WARN, "[%s/%s] backing off for %.3fs "
	    "(backoff level %d), setting all to RDY 0", c->topic, c->channel,
	    (double)ns / 1e9, c->rdy.backoff_counter);
	ev_timer_stop(c->loop, &c->backoff_t);
	ev_timer_set(&c->backoff_t, (double)ns / 1e9, 0);
	ev_timer_start(c->loop, &c->backoff_t);
}

static void
op_retry_timer(void *arg, struct consumer_rdy_conn *rc, int64_t ns,
    int64_t count)
{
	struct nsq_consumer *c = arg;
	struct cconn *cc = CONTAINER(rc, struct cconn, rc);

	cc->retry_count = count;
	ev_timer_stop(c->loop, &cc->retry_t);
	ev_timer_set(&cc->retry_t, (double)ns / 1e9, 0);
	ev_timer_start(c->loop, &cc->retry_t);
}

static void
op_retry_cancel(void *arg, struct consumer_rdy_conn *rc)
{
	struct nsq_consumer *c = arg;
	struct cconn *cc = CONTAINER(rc, struct cconn, rc);

	ev_timer_stop(c->loop, &cc->retry_t);
}

static size_t
op_random(void *arg, size_t n)
{
	(void)arg;
	return (size_t)rand_below(n);
}

static double
op_now(void *arg)
{
	struct nsq_consumer *c = arg;

	return ev_now(c->loop);
}

static const struct consumer_rdy_ops rdy_ops = {
	op_send, op_backoff_timer, op_retry_timer, op_retry_cancel,
	op_random, op_now,
};

static void
backoff_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_consumer *c = CONTAINER(w, struct nsq_consumer, backoff_t);

	(void)loop;
	(void)revents;
	if (c->stopping) {
		c->rdy.backoff_duration = 0;
		return;
	}
	nsq_logf(c->cfg, NSQ_LOG_WARN, "[%s/%s] backoff timeout expired, "
	    "sending RDY 1", c->topic, c->channel);
	consumer_rdy_resume(&c->rdy);
}

static void
redistribute_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_consumer *c = CONTAINER(w, struct nsq_consumer,
	    redistribute_t);

	(void)loop;
	(void)revents;
	if (!c->stopping)
		consumer_rdy_redistribute(&c->rdy);
}

static void
rdy_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct cconn *cc = CONTAINER(w, struct cconn, retry_t);

	(void)loop;
	(void)revents;
	if (cc->cons == NULL || !cc->in_rdy)
		return;
	cc->rc.retry = false;
	(void)consumer_rdy_update(&cc->cons->rdy, &cc->rc, cc->retry_count);
}

/* Construction. */


struct nsq_consumer *
nsq_consumer_new(struct ev_loop *loop, const char *topic, const char *channel,
    const struct nsq_config *cfg, nsq_msg_cb *cb, void *arg, char *err,
    size_t errlen)
{
	struct nsq_consumer *c;
	double iv;

	if (nsq_config_check(cfg, err, errlen) == -1)
		return NULL;
	if (topic == NULL || !name_valid(topic, strlen(topic))) {
		errbuf_set(err, errlen, "invalid topic name");
		return NULL;
	}
	if (channel == NULL || !name_valid(channel, strlen(channel))) {
		errbuf_set(err, errlen, "invalid channel name");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->topic = strdup(topic)) == NULL ||
	    (c->channel = strdup(channel)) == NULL ||
	    (c->cfg = nsq_config_dup(cfg)) == NULL) {
		if (c != NULL) {
			free(c->topic);
			free(c->channel);
		}
		free(c);
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->cb = cb;
	c->arg = arg;
	TAILQ_INIT(&c->conns);
	TAILQ_INIT(&c->zombies);
	consumer_rdy_init(&c->rdy, c->cfg, &rdy_ops, c);
	ev_init(&c->backoff_t, backoff_cb);
	ev_init(&c->redistribute_t, redistribute_cb);
	ev_init(&c->stopped_t, stopped_cb);
	ev_init(&c->stop_t, stop_timeout_cb);
	iv = (double)c->cfg->rdy_redistribute_interval / 1e9;
	ev_timer_set(&c->redistribute_t, iv, iv);
	ev_timer_start(loop, &c->redistribute_t);
	return c;
}

void
nsq_consumer_set_giveup_cb(struct nsq_consumer *c, nsq_msg_cb *cb)
{
	c->giveup_cb = cb;
}

void
nsq_consumer_set_conn_cb(struct nsq_consumer *c, nsq_conn_cb *cb)
{
	c->conn_cb = cb;
}

const char *
nsq_consumer_topic(const struct nsq_consumer *c)
{
	return c->topic;
}

void
nsq_consumer_stats(const struct nsq_consumer *c, struct nsq_consumer_stats *s)
{
	struct cconn *cc;

	*s = c->stats;
	s->connections = 0;
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL;
	    cc = TAILQ_NEXT(cc, entry))
		if (cc->state == CC_SUBSCRIBED)
			s->connections++;
}

bool
nsq_consumer_is_starved(const struct nsq_consumer *c)
{
	struct cconn *cc;

	for (cc = TAILQ_FIRST(&c->conns); cc != NULL;
	    cc = TAILQ_NEXT(cc, entry)) {
		if (cc->state != CC_SUBSCRIBED || cc->inflight == 0)
			continue;
		/* As go-nsq: the threshold is truncated, RDY 1 gives 0. */
		if (cc->inflight >= (int64_t)((double)cc->rc.rdy * 0.85))
			return true;
	}
	return false;
}

void
nsq_consumer_set_max_in_flight(struct nsq_consumer *c, int64_t n)
{
	if (n < 0)
		n = 0;
	c->cfg->max_in_flight = n;
	consumer_rdy_set_max_in_flight(&c->rdy, n);
}

/* Connections. */

static struct cconn *
find_conn(struct nsq_consumer *c, const char *addr)
{
	struct cconn *cc;

	for (cc = TAILQ_FIRST(&c->conns); cc != NULL;
	    cc = TAILQ_NEXT(cc, entry))
		if (strcmp(cc->addr, addr) == 0)
			return cc;
	return NULL;
}

static struct daddr *
find_direct(struct nsq_consumer *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->ndirect; i++)
		if (strcmp(c->direct[i]->addr, addr) == 0)
			return c->direct[i];
	return NULL;
}

static bool
is_listed(struct nsq_consumer *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nlisted; i++)
		if (strcmp(c->listed[i], addr) == 0)
			return true;
	return false;
}

static void
connect_addr(struct nsq_consumer *c, const char *addr)
{
	struct cconn *cc;

	if (c->stopping || find_conn(c, addr) != NULL)
		return;
	nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] (%s) connecting to nsqd",
	    c->topic, c->channel, addr);
	cc = xcalloc(1, sizeof(*cc));
	cc->cons = c;
	cc->addr = xstrdup(addr);
	cc->state = CC_CONNECTING;
	ev_init(&cc->retry_t, rdy_retry_cb);
	cc->conn = conn_new(c->loop, addr, c->cfg, &cc_cb, cc);
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	conn_connect(cc->conn);
}

static void
cc_free(struct cconn *cc)
{
	struct nsq_consumer *c = cc->cons;

	if (c != NULL)
		ev_timer_stop(c->loop, &cc->retry_t);
	conn_free(cc->conn);
	free(cc->addr);
	free(cc);
}

/* Send CLS: nsqd stops sending and answers CLOSE_WAIT. */
static void
cc_start_close(struct cconn *cc)
{
	struct nsq_consumer *c = cc->cons;

	if (cc->state == CC_CONNECTING || cc->state == CC_SUBSCRIBING) {
		conn_close(cc->conn, "closing");
		return;
	}
	if (cc->state != CC_SUBSCRIBED || cc->cls_sent)
		return;
	cc->cls_sent = true;
	if (cc->in_rdy) {
		consumer_rdy_remove(&c->rdy, &cc->rc);
		cc->in_rdy = false;
	}
	cc->state = CC_CLOSING;
	if (frame_cls(conn_out(cc->conn)) == -1) {
		conn_close(cc->conn, "output buffer full");
		return;
	}
	conn_flush(cc->conn);
}

static void
cc_ready(struct conn *conn, void *arg)
{
	struct cconn *cc = arg;
	struct nsq_consumer *c = cc->cons;

	if (frame_sub(conn_out(conn), c->topic, c->channel) == -1) {
		conn_close(conn, "output buffer full");
		return;
	}
	cc->state = CC_SUBSCRIBING;
	conn_flush(conn);
}

static void
subscribed(struct cconn *cc)
{
	struct nsq_consumer *c = cc->cons;
	const struct conn_ident *id = conn_ident(cc->conn);
	struct daddr *d;

	cc->state = CC_SUBSCRIBED;
	nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] (%s) subscribed", c->topic,
	    c->channel, cc->addr);
	if (id->max_rdy_count < c->rdy.max_in_flight)
		nsq_logf(c->cfg, NSQ_LOG_WARN, "[%s/%s] (%s) max RDY count "
		    "%lld < consumer max in flight %lld, truncation possible",
		    c->topic, c->channel, cc->addr,
		    (long long)id->max_rdy_count,
		    (long long)c->rdy.max_in_flight);
	if ((d = find_direct(c, cc->addr)) != NULL)
		d->backoff = 0;
	cc->rc.max_rdy = id->max_rdy_count;
	cc->rc.last_msg = ev_now(c->loop);
	cc->in_rdy = true;
	consumer_rdy_add(&c->rdy, &cc->rc);
	if (c->conn_cb != NULL)
		c->conn_cb(c, cc->addr, NSQ_CONN_UP, NULL, c->arg);
}

static bool
is_soft_error(const struct frame *f)
{
	static const char *const soft[] = {
		"E_FIN_FAILED", "E_REQ_FAILED", "E_TOUCH_FAILED",
	};
	size_t i, n;

	for (i = 0; i < sizeof(soft) / sizeof(soft[0]); i++) {
		n = strlen(soft[i]);
		if (f->len >= n && memcmp(f->data, soft[i], n) == 0)
			return true;
	}
	return false;
}

static void	message(struct cconn *, const struct frame *);

static void
cc_frame(struct conn *conn, const struct frame *f, void *arg)
{
	struct cconn *cc = arg;
	struct nsq_consumer *c = cc->cons;

	switch (f->type) {
	case FRAME_MESSAGE:
		message(cc, f);
		return;
	case FRAME_ERROR:
		if (cc->state == CC_SUBSCRIBING) {
			/* nsqd closes after this; say why. */
			char why[256];

			snprintf(why, sizeof(why), "%.*s", (int)f->len,
			    f->data);
			conn_close(conn, why);
			return;
		}
		nsq_logf(c->cfg, is_soft_error(f) ? NSQ_LOG_WARN :
		    NSQ_LOG_ERROR, "[%s/%s] (%s) protocol error - %.*s",
		    c->topic, c->channel, cc->addr, (int)f->len, f->data);
		return;
	case FRAME_RESPONSE:
		if (cc->state == CC_SUBSCRIBING) {
			if (f->len == 2 && memcmp(f->data, "OK", 2) == 0)
				subscribed(cc);
			else
				conn_close(conn, "unexpected reply to SUB");
			return;
		}
		if (f->len == 10 && memcmp(f->data, "CLOSE_WAIT", 10) == 0) {
			nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] (%s) received "
			    "CLOSE_WAIT from nsqd", c->topic, c->channel,
			    cc->addr);
			cc->close_wait = true;
			if (cc->in_rdy) {
				consumer_rdy_remove(&c->rdy, &cc->rc);
				cc->in_rdy = false;
			}
			cc->state = CC_CLOSING;
			if (cc->inflight == 0)
				conn_shutdown(conn, "CLOSE_WAIT");
		}
		return;
	}
}

static void
message(struct cconn *cc, const struct frame *f)
{
	struct nsq_consumer *c = cc->cons;
	struct nsq_message *m;
	const char *id;
	const void *body;
	size_t len;
	int64_t ts;
	uint16_t attempts;

	if (msg_decode(f->data, f->len, &ts, &attempts, &id, &body,
	    &len) == -1) {
		conn_close(cc->conn, "message frame shorter than its header");
		return;
	}
	m = xmalloc(sizeof(*m) + len + 1);
	m->cc = cc;
	memcpy(m->id, id, NSQ_MSG_ID_LEN);
	m->id[NSQ_MSG_ID_LEN] = '\0';
	m->ts = ts;
	m->attempts = attempts;
	m->len = len;
	if (len > 0)
		memcpy(m->body, body, len);
	m->body[len] = '\0';
	cc->inflight++;
	cc->rc.last_msg = ev_now(c->loop);
	c->stats.received++;
	if (c->cfg->max_attempts > 0 && attempts > c->cfg->max_attempts) {
		nsq_logf(c->cfg, NSQ_LOG_WARN, "[%s/%s] msg %s attempted %u "
		    "times, giving up", c->topic, c->channel, m->id,
		    (unsigned)attempts);
		c->stats.given_up++;
		if (c->giveup_cb != NULL)
			c->giveup_cb(c, m, c->arg);
		(void)nsq_msg_finish(m);
		return;
	}
	c->cb(c, m, c->arg);
}

/* A message was answered: the connection may now close. */
static void
msg_done(struct cconn *cc)
{
	cc->inflight--;
	if (cc->inflight > 0)
		return;
	if (cc->zombie) {
		if (cc->cons != NULL)
			TAILQ_REMOVE(&cc->cons->zombies, cc, entry);
		cc_free(cc);
		return;
	}
	if (cc->state == CC_CLOSING && cc->close_wait && cc->conn != NULL)
		conn_shutdown(cc->conn, "CLOSE_WAIT");
}

static void
schedule_reconnect(struct nsq_consumer *c, struct daddr *d)
{
	int64_t max = c->cfg->lookupd_poll_interval;

	if (d->backoff == 0)
		d->backoff = NS_SEC;
	else
		d->backoff = d->backoff > max / 2 ? max : d->backoff * 2;
	if (d->backoff > max)
		d->backoff = max;
	nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] (%s) re-connecting in %.3fs",
	    c->topic, c->channel, d->addr, (double)d->backoff / 1e9);
	ev_timer_stop(c->loop, &d->t);
	ev_timer_set(&d->t, (double)d->backoff / 1e9, 0);
	ev_timer_start(c->loop, &d->t);
}

/*
 * nsqlookupd listed addr and it does not resolve here: the nsqd there
 * announces a broadcast address its consumers cannot reach (its host name,
 * by default).  Say so once for each address; the dial error repeats.
 */
static void
hint_unresolved(struct nsq_consumer *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->nhinted; i++)
		if (strcmp(c->hinted[i], addr) == 0)
			return;
	c->hinted = xreallocarray(c->hinted, c->nhinted + 1,
	    sizeof(*c->hinted));
	c->hinted[c->nhinted++] = xstrdup(addr);
	nsq_logf(c->cfg, NSQ_LOG_WARN, "[%s/%s] (%s) hint: nsqlookupd lists "
	    "this nsqd under a name that does not resolve here; start that "
	    "nsqd with --broadcast-address set to a name or IP its consumers "
	    "can reach", c->topic, c->channel, addr);
}

static void
cc_closed(struct conn *conn, const char *why, void *arg)
{
	struct cconn *cc = arg;
	struct nsq_consumer *c = cc->cons;
	bool was_up = cc->state >= CC_SUBSCRIBED;
	bool unresolved = conn_unresolved(conn);
	struct daddr *d;

	if (cc->in_rdy) {
		consumer_rdy_remove(&c->rdy, &cc->rc);
		cc->in_rdy = false;
	}
	ev_timer_stop(c->loop, &cc->retry_t);
	cc->state = CC_CLOSED;
	conn_free(conn);
	cc->conn = NULL;
	TAILQ_REMOVE(&c->conns, cc, entry);
	if (was_up)
		nsq_logf(c->cfg, c->stopping ? NSQ_LOG_INFO : NSQ_LOG_WARN,
		    "[%s/%s] (%s) connection closed: %s", c->topic,
		    c->channel, cc->addr, why);
	else
		nsq_logf(c->cfg, c->stopping ? NSQ_LOG_INFO : NSQ_LOG_ERROR,
		    "[%s/%s] (%s) error connecting to nsqd - %s", c->topic,
		    c->channel, cc->addr, why);
	if (unresolved && !c->stopping && is_listed(c, cc->addr))
		hint_unresolved(c, cc->addr);
	if (c->conn_cb != NULL)
		c->conn_cb(c, cc->addr, was_up ? NSQ_CONN_DOWN :
		    NSQ_CONN_FAILED, why, c->arg);
	if (!c->stopping) {
		if ((d = find_direct(c, cc->addr)) != NULL)
			schedule_reconnect(c, d);
		else if (c->lk != NULL)
			lookup_recheck(c->lk);
	}
	if (cc->inflight > 0) {
		cc->zombie = true;
		TAILQ_INSERT_TAIL(&c->zombies, cc, entry);
	} else
		cc_free(cc);
	check_stopped(c);
}

static void
reconnect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daddr *d = CONTAINER(w, struct daddr, t);

	(void)loop;
	(void)revents;
	connect_addr(d->cons, d->addr);
}

int
nsq_consumer_connect_nsqd(struct nsq_consumer *c, const char *addr,
    char *err, size_t errlen)
{
	struct daddr *d;

	if (c->stopping) {
		errbuf_set(err, errlen, "consumer stopped");
		return -1;
	}
	if (addr == NULL || addr[0] == '\0') {
		errbuf_set(err, errlen, "empty nsqd address");
		return -1;
	}
	if (find_direct(c, addr) != NULL) {
		errbuf_set(err, errlen, "already connected");
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	d->cons = c;
	d->addr = xstrdup(addr);
	ev_init(&d->t, reconnect_cb);
	c->direct = xreallocarray(c->direct, c->ndirect + 1,
	    sizeof(*c->direct));
	c->direct[c->ndirect++] = d;
	connect_addr(c, addr);
	return 0;
}

/* The producers nsqlookupd lists now. */
static void
listed_cb(void *arg, char *const *addrs, size_t n)
{
	struct nsq_consumer *c = arg;
	struct cconn *cc, *next;
	size_t i;

	if (c->stopping)
		return;
	for (i = 0; i < c->nlisted; i++)
		free(c->listed[i]);
	free(c->listed);
	c->listed = xcalloc(n + 1, sizeof(*c->listed));
	for (i = 0; i < n; i++)
		c->listed[i] = xstrdup(addrs[i]);
	c->nlisted = n;
	for (i = 0; i < n; i++)
		connect_addr(c, addrs[i]);
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL; cc = next) {
		next = TAILQ_NEXT(cc, entry);
		if (find_direct(c, cc->addr) != NULL ||
		    is_listed(c, cc->addr) || cc->cls_sent)
			continue;
		nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] (%s) no longer listed "
		    "by nsqlookupd, closing", c->topic, c->channel, cc->addr);
		cc_start_close(cc);
	}
}

int
nsq_consumer_connect_lookupd(struct nsq_consumer *c, const char *addr,
    char *err, size_t errlen)
{
	if (c->stopping) {
		errbuf_set(err, errlen, "consumer stopped");
		return -1;
	}
	if (c->lk == NULL &&
	    (c->lk = lookup_new(c->loop, c->topic, c->cfg, listed_cb,
	    c)) == NULL) {
		errbuf_set(err, errlen, "cannot start an HTTP client");
		return -1;
	}
	return lookup_add(c->lk, addr, err, errlen);
}

/* Stopping. */

static void
stopped_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_consumer *c = CONTAINER(w, struct nsq_consumer, stopped_t);

	(void)loop;
	(void)revents;
	nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] stopped", c->topic,
	    c->channel);
	if (c->stopped != NULL)
		c->stopped(c, c->stopped_arg);
}

static void
check_stopped(struct nsq_consumer *c)
{
	if (!c->stopping || !TAILQ_EMPTY(&c->conns) ||
	    ev_is_active(&c->stopped_t))
		return;
	ev_timer_stop(c->loop, &c->stop_t);
	ev_timer_set(&c->stopped_t, 0, 0);
	ev_timer_start(c->loop, &c->stopped_t);
}

static void
stop_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_consumer *c = CONTAINER(w, struct nsq_consumer, stop_t);
	struct cconn *cc;

	(void)loop;
	(void)revents;
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL;
	    cc = TAILQ_NEXT(cc, entry))
		if (cc->conn != NULL)
			conn_close(cc->conn, "stop timed out");
}

void
nsq_consumer_stop(struct nsq_consumer *c,
    void (*stopped)(struct nsq_consumer *, void *), void *arg)
{
	struct cconn *cc, *next;
	size_t i;

	if (c->stopping)
		return;
	nsq_logf(c->cfg, NSQ_LOG_INFO, "[%s/%s] stopping...", c->topic,
	    c->channel);
	c->stopping = true;
	c->stopped = stopped;
	c->stopped_arg = arg;
	ev_timer_stop(c->loop, &c->redistribute_t);
	ev_timer_stop(c->loop, &c->backoff_t);
	for (i = 0; i < c->ndirect; i++)
		ev_timer_stop(c->loop, &c->direct[i]->t);
	lookup_free(c->lk);
	c->lk = NULL;
	/* No connection may take the RDY another one gives up. */
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL;
	    cc = TAILQ_NEXT(cc, entry))
		cc->rc.closing = true;
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL; cc = next) {
		next = TAILQ_NEXT(cc, entry);
		cc_start_close(cc);
	}
	if (!TAILQ_EMPTY(&c->conns)) {
		ev_timer_set(&c->stop_t, STOP_TIMEOUT, 0);
		ev_timer_start(c->loop, &c->stop_t);
	}
	check_stopped(c);
}

void
nsq_consumer_free(struct nsq_consumer *c)
{
	struct cconn *cc;
	size_t i;

	if (c == NULL)
		return;
	lookup_free(c->lk);
	while ((cc = TAILQ_FIRST(&c->conns)) != NULL) {
		TAILQ_REMOVE(&c->conns, cc, entry);
		ev_timer_stop(c->loop, &cc->retry_t);
		conn_free(cc->conn);
		cc->conn = NULL;
		cc->state = CC_CLOSED;
		if (cc->inflight > 0) {
			cc->zombie = true;
			cc->cons = NULL;
		} else {
			cc->cons = NULL;
			cc_free(cc);
		}
	}
	while ((cc = TAILQ_FIRST(&c->zombies)) != NULL) {
		TAILQ_REMOVE(&c->zombies, cc, entry);
		cc->cons = NULL;
	}
	for (i = 0; i < c->ndirect; i++) {
		ev_timer_stop(c->loop, &c->direct[i]->t);
		free(c->direct[i]->addr);
		free(c->direct[i]);
	}
	free(c->direct);
	for (i = 0; i < c->nlisted; i++)
		free(c->listed[i]);
	free(c->listed);
	for (i = 0; i < c->nhinted; i++)
		free(c->hinted[i]);
	free(c->hinted);
	ev_timer_stop(c->loop, &c->backoff_t);
	ev_timer_stop(c->loop, &c->redistribute_t);
	ev_timer_stop(c->loop, &c->stop_t);
	ev_timer_stop(c->loop, &c->stopped_t);
	consumer_rdy_free(&c->rdy);
	nsq_config_free(c->cfg);
	free(c->topic);
	free(c->channel);
	free(c);
}

/* Messages. */

const char *
nsq_msg_id(const struct nsq_message *m)
{
	return m->id;
}

int64_t
nsq_msg_timestamp(const struct nsq_message *m)
{
	return m->ts;
}

uint16_t
nsq_msg_attempts(const struct nsq_message *m)
{
	return m->attempts;
}

const void *
nsq_msg_body(const struct nsq_message *m, size_t *len)
{
	if (len != NULL)
		*len = m->len;
	return m->body;
}

const char *
nsq_msg_topic(const struct nsq_message *m)
{
	return m->cc->cons != NULL ? m->cc->cons->topic : "";
}

const char *
nsq_msg_nsqd(const struct nsq_message *m)
{
	return m->cc->addr;
}

/* Write one response command for m; -1 if its connection is gone. */
static int
respond(struct nsq_message *m, int (*enc)(struct buf *, const char *,
    int64_t), int64_t arg)
{
	struct cconn *cc = m->cc;

	if (cc->conn == NULL || !conn_ready(cc->conn))
		return -1;
	if (enc(conn_out(cc->conn), m->id, arg) == -1) {
		conn_close(cc->conn, "output buffer full");
		return -1;
	}
	conn_flush(cc->conn);
	return 0;
}

static int
enc_fin(struct buf *b, const char *id, int64_t unused)
{
	(void)unused;
	return frame_fin(b, id);
}

static int
enc_req(struct buf *b, const char *id, int64_t ms)
{
	return frame_req(b, id, ms);
}

static int
enc_touch(struct buf *b, const char *id, int64_t unused)
{
	(void)unused;
	return frame_touch(b, id);
}

int
nsq_msg_finish(struct nsq_message *m)
{
	struct cconn *cc = m->cc;
	struct nsq_consumer *c = cc->cons;
	int r;

	r = respond(m, enc_fin, 0);
	if (c != NULL) {
		c->stats.finished++;
		if (!c->stopping)
			consumer_rdy_signal(&c->rdy, CONSUMER_RESUME);
	}
	free(m);
	msg_done(cc);
	return r;
}

int
nsq_msg_requeue(struct nsq_message *m, int64_t delay_ms, bool backoff)
{
	struct cconn *cc = m->cc;
	struct nsq_consumer *c = cc->cons;
	int64_t max;
	int r;

	if (delay_ms < 0 && c != NULL) {
		delay_ms = c->cfg->default_requeue_delay / NS_MS *
		    m->attempts;
		max = c->cfg->max_requeue_delay / NS_MS;
		if (delay_ms > max)
			delay_ms = max;
	}
	if (delay_ms < 0)
		delay_ms = 0;
	r = respond(m, enc_req, delay_ms);
	if (c != NULL) {
		c->stats.requeued++;
		if (!c->stopping)
			consumer_rdy_signal(&c->rdy, backoff ?
			    CONSUMER_BACKOFF : CONSUMER_CONTINUE);
	}
	free(m);
	msg_done(cc);
	return r;
}

int
nsq_msg_touch(struct nsq_message *m)
{
	return respond(m, enc_touch, 0);
}
