/*
 * The producer (nsq.h): commands to one nsqd, in order, pipelined.
 *
 * A command is encoded once, when it is submitted, and waits in the
 * queue; while the connection is ready and fewer than publish_window
 * commands await their reply, the head of the queue is copied into the
 * connection's output buffer (its own copy is dropped then) and moves to
 * the in-flight list.  nsqd answers commands in order, one response or
 * error frame each, so every reply belongs to the oldest command in
 * flight.
 *
 * When the connection breaks, the commands in flight fail (nsqd may or
 * may not have them).  If it broke before IDENTIFY completed, the queued
 * commands fail too: they were waiting for that very attempt.  The next
 * attempt is made when there is work, after a wait that doubles from 1s
 * to max_backoff_duration while attempts keep failing; a connection that
 * reached READY resets the wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "buffer.h"
#include "config.h"
#include "conn.h"
#include "frame.h"
#include "names.h"
#include "nsq.h"
#include "xmalloc.h"

struct pcmd {
	struct pcmd	*next;
	nsq_pub_cb	*cb;
	void		*arg;
	char		*data;		/* encoded; NULL once written */
	size_t		 len;
};

struct pcmd_list {
	struct pcmd	*head;
	struct pcmd	**tail;
	size_t		 n;
};

struct nsq_producer {
	struct ev_loop		*loop;
	char			*addr;
	struct nsq_config	*cfg;
	struct conn		*conn;
	struct pcmd_list	 queue;		/* not yet written */
	struct pcmd_list	 flight;	/* written, awaiting reply */
	size_t			 queued_bytes;
	ev_timer		 retry;		/* wait before reconnecting */
	int64_t			 backoff;	/* the next wait, ns */
	bool			 stopping;
	ev_timer		 stop_t;
	void			(*stopped)(struct nsq_producer *, void *);
	void			*stopped_arg;
};

static void	p_ready(struct conn *, void *);
static void	p_frame(struct conn *, const struct frame *, void *);
static void	p_closed(struct conn *, const char *, void *);
static void	retry_cb(struct ev_loop *, ev_timer *, int);
static void	stop_cb(struct ev_loop *, ev_timer *, int);

static const struct conn_cb p_conn_cb = { p_ready, p_frame, p_closed };

#define CONTAINER(p, type, member)					\
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static void
list_init(struct pcmd_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->n = 0;
}

static void
list_push(struct pcmd_list *l, struct pcmd *c)
{
	c->next = NULL;
	*l->tail = c;
	l->tail = &c->next;
	l->n++;
}

static struct pcmd *
list_pop(struct pcmd_list *l)
{
	struct pcmd *c = l->head;

	if (c == NULL)
		return NULL;
	l->head = c->next;
	if (l->head == NULL)
		l->tail = &l->head;
	l->n--;
	return c;
}

static void
cmd_free(struct pcmd *c)
{
	free(c->data);
	free(c);
}

struct nsq_producer *
nsq_producer_new(struct ev_loop *loop, const char *addr,
    const struct nsq_config *cfg, char *err, size_t errlen)
{
	struct nsq_producer *p;

	if (nsq_config_check(cfg, err, errlen) == -1)
		return NULL;
	if (addr == NULL || addr[0] == '\0') {
		errbuf_set(err, errlen, "%s", "empty nsqd address");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->addr = strdup(addr)) == NULL ||
	    (p->cfg = nsq_config_dup(cfg)) == NULL) {
		if (p != NULL)
			free(p->addr);
		free(p);
		errbuf_set(err, errlen, "%s", "out of memory");
		return NULL;
	}
	p->loop = loop;
	list_init(&p->queue);
	list_init(&p->flight);
	ev_init(&p->retry, retry_cb);
	ev_init(&p->stop_t, stop_cb);
	return p;
}

const char *
nsq_producer_addr(const struct nsq_producer *p)
{
	return p->addr;
}

size_t
nsq_producer_pending(const struct nsq_producer *p)
{
	return p->queue.n + p->flight.n;
}

size_t
nsq_producer_pending_bytes(const struct nsq_producer *p)
{
	return p->queued_bytes + (p->conn != NULL ? conn_out_len(p->conn) : 0);
}

static void
p_connect(struct nsq_producer *p)
{
	nsq_logf(p->cfg, NSQ_LOG_INFO, "(%s) connecting to nsqd", p->addr);
	p->conn = conn_new(p->loop, p->addr, p->cfg, &p_conn_cb, p);
	conn_connect(p->conn);
}

/* The stop is complete once nothing is pending: close, then say so. */
static void
maybe_stopped(struct nsq_producer *p)
{
	if (!p->stopping || nsq_producer_pending(p) > 0 ||
	    ev_is_active(&p->stop_t))
		return;
	if (p->conn != NULL) {
		conn_free(p->conn);
		p->conn = NULL;
	}
	ev_timer_stop(p->loop, &p->retry);
	ev_timer_set(&p->stop_t, 0, 0);
	ev_timer_start(p->loop, &p->stop_t);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_producer *p = CONTAINER(w, struct nsq_producer, stop_t);

	(void)loop;
	(void)revents;
	if (p->stopped != NULL)
		p->stopped(p, p->stopped_arg);
}

/* Move queued commands into the connection while the window allows. */
static void
pump(struct nsq_producer *p)
{
	struct pcmd *c;

	if (p->conn == NULL) {
		if (p->queue.n > 0 && !ev_is_active(&p->retry))
			p_connect(p);
		return;
	}
	if (!conn_ready(p->conn))
		return;
	while (p->queue.n > 0 &&
	    p->flight.n < (size_t)p->cfg->publish_window) {
		c = list_pop(&p->queue);
		p->queued_bytes -= c->len;
		if (buf_append(conn_out(p->conn), c->data, c->len) == -1) {
			/* Cannot happen below the 1 GiB output bound. */
			c->cb(p, -1, "output buffer full", c->arg);
			cmd_free(c);
			continue;
		}
		free(c->data);
		c->data = NULL;
		list_push(&p->flight, c);
	}
	conn_flush(p->conn);
}

/* Fail every command of list l with text why. */
static void
fail_all(struct nsq_producer *p, struct pcmd_list *l, const char *why)
{
	struct pcmd_list tmp = *l;
	struct pcmd *c;

	/* Callbacks may submit more: they go to a fresh list. */
	if (tmp.head == NULL)
		return;
	list_init(l);
	if (l == &p->queue)
		p->queued_bytes = 0;
	while ((c = tmp.head) != NULL) {
		tmp.head = c->next;
		c->cb(p, -1, why, c->arg);
		cmd_free(c);
	}
}

static void
p_ready(struct conn *conn, void *arg)
{
	struct nsq_producer *p = arg;

	(void)conn;
	nsq_logf(p->cfg, NSQ_LOG_INFO, "(%s) connected to nsqd", p->addr);
	p->backoff = 0;
	pump(p);
}

static void
p_frame(struct conn *conn, const struct frame *f, void *arg)
{
	struct nsq_producer *p = arg;
	struct pcmd *c;
	char *text;

	(void)conn;
	if (f->type == FRAME_MESSAGE) {
		nsq_logf(p->cfg, NSQ_LOG_WARN, "(%s) unexpected message "
		    "frame", p->addr);
		return;
	}
	if ((c = list_pop(&p->flight)) == NULL) {
		nsq_logf(p->cfg, NSQ_LOG_WARN, "(%s) unexpected %s frame: "
		    "%.*s", p->addr, f->type == FRAME_ERROR ? "error" :
		    "response", (int)(f->len > 200 ? 200 : f->len), f->data);
		return;
	}
	if (f->type == FRAME_RESPONSE)
		c->cb(p, 0, NULL, c->arg);
	else {
		text = xstrndup(f->data, f->len);
		nsq_logf(p->cfg, NSQ_LOG_ERROR, "(%s) %s", p->addr, text);
		c->cb(p, -1, text, c->arg);
		free(text);
	}
	cmd_free(c);
	pump(p);
	maybe_stopped(p);
}

static void
p_closed(struct conn *conn, const char *why, void *arg)
{
	struct nsq_producer *p = arg;
	bool was_ready = conn_was_ready(conn);
	int64_t max = p->cfg->max_backoff_duration;

	conn_free(conn);
	p->conn = NULL;
	if (was_ready)
		nsq_logf(p->cfg, NSQ_LOG_WARN, "(%s) connection closed: %s",
		    p->addr, why);
	else
		nsq_logf(p->cfg, NSQ_LOG_ERROR, "(%s) connection failed: %s",
		    p->addr, why);
	fail_all(p, &p->flight, why);
	if (!was_ready) {
		fail_all(p, &p->queue, why);
		if (p->backoff == 0)
			p->backoff = NS_SEC;
		else if (p->backoff < max / 2)
			p->backoff *= 2;
		else
			p->backoff = max;
		if (p->backoff > max)
			p->backoff = max;
		if (p->backoff > 0) {
			ev_timer_set(&p->retry, (double)p->backoff / 1e9, 0);
			ev_timer_start(p->loop, &p->retry);
		}
	}
	if (!p->stopping)
		pump(p);
	maybe_stopped(p);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsq_producer *p = CONTAINER(w, struct nsq_producer, retry);

	(void)loop;
	(void)revents;
	pump(p);
}

/* Queue an encoded command. */
static int
submit(struct nsq_producer *p, struct buf *b, nsq_pub_cb *cb, void *arg)
{
	struct pcmd *c;

	c = xcalloc(1, sizeof(*c));
	c->cb = cb;
	c->arg = arg;
	c->len = buf_len(b);
	c->data = b->data;	/* the buffer's storage, now the command's */
	list_push(&p->queue, c);
	p->queued_bytes += c->len;
	pump(p);
	return 0;
}

static int
check(struct nsq_producer *p, const char *topic, char *err, size_t errlen)
{
	if (p->stopping) {
		errbuf_set(err, errlen, "%s", "producer stopped");
		return -1;
	}
	if (topic == NULL || topic[0] == '\0') {
		errbuf_set(err, errlen, "%s", "empty topic name");
		return -1;
	}
	/*
	 * nsqd would read "PUB a b" as a PUB to "a": a name it could
	 * misread never reaches it.
	 */
	if (!name_valid(topic, strlen(topic))) {
		errbuf_set(err, errlen, "%s", "invalid topic name");
		return -1;
	}
	return 0;
}

int
nsq_producer_pub(struct nsq_producer *p, const char *topic, const void *body,
    size_t len, nsq_pub_cb *cb, void *arg, char *err, size_t errlen)
{
	size_t sz;
	struct buf b;

	if (check(p, topic, err, errlen) == -1)
		return -1;
	if (len == 0) {
		errbuf_set(err, errlen, "%s", "empty message body");
		return -1;
	}
	sz = 4 + strlen(topic) + 2 + 4 + len;
	buf_init(&b, sz, sz);
	if (frame_pub(&b, topic, body, len) == -1) {
		buf_free(&b);
		errbuf_set(err, errlen, "%s", "message too large");
		return -1;
	}
	return submit(p, &b, cb, arg);
}

int
nsq_producer_dpub(struct nsq_producer *p, const char *topic, int64_t defer_ms,
    const void *body, size_t len, nsq_pub_cb *cb, void *arg, char *err,
    size_t errlen)
{
	size_t sz;
	struct buf b;

	if (check(p, topic, err, errlen) == -1)
		return -1;
	if (len == 0 || defer_ms < 0) {
		errbuf_set(err, errlen, "%s", len == 0 ? "empty message body" :
		    "negative defer time");
		return -1;
	}
	sz = 5 + strlen(topic) + 1 + 20 + 1 + 4 + len;
	buf_init(&b, sz, sz);
	if (frame_dpub(&b, topic, defer_ms, body, len) == -1) {
		buf_free(&b);
		errbuf_set(err, errlen, "%s", "message too large");
		return -1;
	}
	return submit(p, &b, cb, arg);
}

int
nsq_producer_mpub(struct nsq_producer *p, const char *topic,
    const struct iovec *msgs, size_t n, nsq_pub_cb *cb, void *arg, char *err,
    size_t errlen)
{
	size_t sz, i;
	struct buf b;

	if (check(p, topic, err, errlen) == -1)
		return -1;
	if (n == 0) {
		errbuf_set(err, errlen, "%s", "no messages");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (msgs[i].iov_len == 0) {
			errbuf_set(err, errlen, "%s", "empty message body");
			return -1;
		}
	sz = frame_mpub_size(topic, msgs, n);
	buf_init(&b, sz, sz);
	if (frame_mpub(&b, topic, msgs, n) == -1) {
		buf_free(&b);
		errbuf_set(err, errlen, "%s", "messages too large");
		return -1;
	}
	return submit(p, &b, cb, arg);
}

void
nsq_producer_stop(struct nsq_producer *p,
    void (*stopped)(struct nsq_producer *, void *), void *arg)
{
	if (p->stopping)
		return;
	p->stopping = true;
	p->stopped = stopped;
	p->stopped_arg = arg;
	maybe_stopped(p);
}

void
nsq_producer_free(struct nsq_producer *p)
{
	struct pcmd *c;

	if (p == NULL)
		return;
	conn_free(p->conn);
	ev_timer_stop(p->loop, &p->retry);
	ev_timer_stop(p->loop, &p->stop_t);
	while ((c = list_pop(&p->queue)) != NULL)
		cmd_free(c);
	while ((c = list_pop(&p->flight)) != NULL)
		cmd_free(c);
	nsq_config_free(p->cfg);
	free(p->addr);
	free(p);
}
