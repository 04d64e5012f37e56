/*
 * A client connection to nsqd (see conn.h), as an explicit state machine:
 *
 *   CONNECTING --writable, SO_ERROR 0--> IDENTIFYING --JSON or OK-->
 *   [AUTHENTICATING --JSON-->] READY;  any state --failure--> CLOSED
 *
 * Reading loops while whole frames are buffered; heartbeats are answered
 * here and never reach the owner.  The write watcher runs only while the
 * output buffer holds bytes.  Deadlines share one timer set to the
 * earliest of: the read deadline (read_timeout after the last byte came
 * in) and, while output is pending, the write deadline (write_timeout
 * after the last byte went out), as go-nsq's per-call deadlines.
 *
 * The owner is told of a close from a zero-delay timer, never from inside
 * its own call, so it can free the connection there.  conn_free() inside
 * a frame callback is deferred until the read loop unwinds.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "config.h"
#include "conn.h"
#include "frame.h"
#include "json.h"
#include "net.h"
#include "xmalloc.h"

#define OUT_MAX		((size_t)1 << 30)
#define IN_INITIAL	16384

enum conn_state {
	CONN_NEW,
	CONN_CONNECTING,
	CONN_IDENTIFYING,
	CONN_AUTHENTICATING,
	CONN_READY,
	CONN_CLOSED,
};

struct conn {
	struct ev_loop		*loop;
	char			*addr;
	const struct nsq_config	*cfg;
	const struct conn_cb	*cb;
	void			*arg;
	enum conn_state		 state;
	bool			 was_ready;
	bool			 unresolved;	/* the host name, at connect */
	int			 fd;
	ev_io			 rd, wr;
	ev_timer		 dial;		/* connect deadline */
	ev_timer		 tmo;		/* read and write deadlines */
	ev_timer		 reap;		/* tells the owner of a close */
	ev_tstamp		 last_read;
	ev_tstamp		 last_write;
	struct buf		 in, out;
	struct conn_ident	 ident;
	int			 busy;		/* inside the read loop */
	bool			 free_pending;
	bool			 shutdown;	/* close once written */
	char			 why[256];
	char			 shutdown_why[256];
};

#define CONTAINER(p, type, member)					\
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static void	rd_cb(struct ev_loop *, ev_io *, int);
static void	wr_cb(struct ev_loop *, ev_io *, int);
static void	dial_cb(struct ev_loop *, ev_timer *, int);
static void	tmo_cb(struct ev_loop *, ev_timer *, int);
static void	reap_cb(struct ev_loop *, ev_timer *, int);
static void	really_free(struct conn *);

struct conn *
conn_new(struct ev_loop *loop, const char *addr, const struct nsq_config *cfg,
    const struct conn_cb *cb, void *arg)
{
	struct conn *c;

	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->addr = xstrdup(addr);
	c->cfg = cfg;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	c->state = CONN_NEW;
	buf_init(&c->in, IN_INITIAL, (size_t)cfg->max_frame_size + 8);
	buf_init(&c->out, 0, OUT_MAX);
	ev_init(&c->rd, rd_cb);
	ev_init(&c->wr, wr_cb);
	ev_init(&c->dial, dial_cb);
	ev_init(&c->tmo, tmo_cb);
	ev_init(&c->reap, reap_cb);
	c->ident.max_rdy_count = 2500;
	return c;
}

const struct conn_ident *
conn_ident(const struct conn *c)
{
	return &c->ident;
}

bool
conn_ready(const struct conn *c)
{
	return c->state == CONN_READY;
}

bool
conn_unresolved(const struct conn *c)
{
	return c->unresolved;
}

bool
conn_was_ready(const struct conn *c)
{
	return c->was_ready;
}

struct buf *
conn_out(struct conn *c)
{
	return &c->out;
}

size_t
conn_out_len(const struct conn *c)
{
	return buf_len(&c->out);
}

static void
stop_io(struct conn *c)
{
	ev_io_stop(c->loop, &c->rd);
	ev_io_stop(c->loop, &c->wr);
	ev_timer_stop(c->loop, &c->dial);
	ev_timer_stop(c->loop, &c->tmo);
}

void
conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	stop_io(c);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	snprintf(c->why, sizeof(c->why), "%s", why);
	buf_reset(&c->out);
	ev_timer_set(&c->reap, 0, 0);
	ev_timer_start(c->loop, &c->reap);
}

static void
conn_failf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_failf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char why[256];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	conn_close(c, why);
}

void
conn_shutdown(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSED)
		return;
	if (buf_len(&c->out) == 0 || c->state != CONN_READY) {
		conn_close(c, why);
		return;
	}
	c->shutdown = true;
	snprintf(c->shutdown_why, sizeof(c->shutdown_why), "%s", why);
	conn_flush(c);
}

static void
reap_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, reap);
	char why[256];

	(void)loop;
	(void)revents;
	/* The owner may free c in the callback: nothing of c after it. */
	memcpy(why, c->why, sizeof(why));
	c->cb->closed(c, why, c->arg);
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->busy > 0) {
		/* Inside our read loop: close quietly, free on the way out. */
		if (c->state != CONN_CLOSED) {
			c->state = CONN_CLOSED;
			stop_io(c);
			if (c->fd != -1) {
				close(c->fd);
				c->fd = -1;
			}
		}
		ev_timer_stop(c->loop, &c->reap);
		c->free_pending = true;
		return;
	}
	really_free(c);
}

static void
really_free(struct conn *c)
{
	stop_io(c);
	ev_timer_stop(c->loop, &c->reap);
	if (c->fd != -1)
		close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->addr);
	free(c);
}

/* Set the deadline timer to the earliest deadline now in force. */
static void
arm_tmo(struct conn *c)
{
	ev_tstamp now = ev_now(c->loop), next, rt, wt;

	if (c->state == CONN_CLOSED || c->state == CONN_NEW ||
	    c->state == CONN_CONNECTING)
		return;
	rt = (double)c->cfg->read_timeout / 1e9;
	wt = (double)c->cfg->write_timeout / 1e9;
	next = c->last_read + rt;
	if (buf_len(&c->out) > 0 && c->last_write + wt < next)
		next = c->last_write + wt;
	ev_timer_stop(c->loop, &c->tmo);
	ev_timer_set(&c->tmo, next > now ? next - now : 0, 0);
	ev_timer_start(c->loop, &c->tmo);
}

static void
tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, tmo);
	ev_tstamp now = ev_now(loop);

	(void)revents;
	if (now - c->last_read >= (double)c->cfg->read_timeout / 1e9) {
		conn_failf(c, "read tcp %s: i/o timeout", c->addr);
		return;
	}
	if (buf_len(&c->out) > 0 &&
	    now - c->last_write >= (double)c->cfg->write_timeout / 1e9) {
		conn_failf(c, "write tcp %s: i/o timeout", c->addr);
		return;
	}
	arm_tmo(c);
}

void
conn_flush(struct conn *c)
{
	if (c->state == CONN_CLOSED || c->state == CONN_NEW ||
	    c->state == CONN_CONNECTING || buf_len(&c->out) == 0)
		return;
	if (!ev_is_active(&c->wr)) {
		/* The write deadline counts from when output is waiting. */
		c->last_write = ev_now(c->loop);
		ev_io_start(c->loop, &c->wr);
		arm_tmo(c);
	}
}

static void
dial_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, dial);

	(void)loop;
	(void)revents;
	conn_failf(c, "dial tcp %s: i/o timeout", c->addr);
}

/* The IDENTIFY body, keys sorted as Go marshals a map. */
static int
identify_json(struct conn *c, struct buf *b)
{
	const struct nsq_config *k = c->cfg;
	struct jw w;

	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "client_id");
	jw_str(&w, k->client_id);
	jw_key(&w, "deflate");
	jw_bool(&w, false);
	jw_key(&w, "deflate_level");
	jw_int(&w, k->deflate_level);
	jw_key(&w, "feature_negotiation");
	jw_bool(&w, true);
	jw_key(&w, "heartbeat_interval");
	jw_int(&w, k->heartbeat_interval < 0 ? -1 :
	    k->heartbeat_interval / NS_MS);
	jw_key(&w, "hostname");
	jw_str(&w, k->hostname);
	jw_key(&w, "msg_timeout");
	jw_int(&w, k->msg_timeout / NS_MS);
	jw_key(&w, "output_buffer_size");
	jw_int(&w, k->output_buffer_size);
	jw_key(&w, "output_buffer_timeout");
	jw_int(&w, k->output_buffer_timeout < 0 ? -1 :
	    k->output_buffer_timeout / NS_MS);
	jw_key(&w, "sample_rate");
	jw_int(&w, k->sample_rate);
	jw_key(&w, "snappy");
	jw_bool(&w, false);
	jw_key(&w, "tls_v1");
	jw_bool(&w, false);
	jw_key(&w, "user_agent");
	jw_str(&w, k->user_agent);
	jw_obj_end(&w);
	return jw_finish(&w);
}

/* Connected: send the magic and IDENTIFY, start reading. */
static void
connected(struct conn *c)
{
	struct buf body;

	ev_timer_stop(c->loop, &c->dial);
	ev_io_stop(c->loop, &c->wr);
	buf_init(&body, 512, 1 << 20);
	if (identify_json(c, &body) == -1 ||
	    frame_magic(&c->out) == -1 ||
	    frame_identify(&c->out, buf_data(&body), buf_len(&body)) == -1) {
		buf_free(&body);
		conn_failf(c, "cannot encode IDENTIFY");
		return;
	}
	buf_free(&body);
	c->state = CONN_IDENTIFYING;
	c->last_read = ev_now(c->loop);
	ev_io_set(&c->rd, c->fd, EV_READ);
	ev_io_start(c->loop, &c->rd);
	ev_io_set(&c->wr, c->fd, EV_WRITE);
	conn_flush(c);
	arm_tmo(c);
}

void
conn_connect(struct conn *c)
{
	char err[256];

	if (c->state != CONN_NEW)
		return;
	c->state = CONN_CONNECTING;
	c->fd = net_connect(c->addr, err, sizeof(err));
	if (c->fd == -1) {
		c->unresolved = errno == ENOENT;
		conn_close(c, err);
		return;
	}
	ev_io_set(&c->wr, c->fd, EV_WRITE);
	ev_io_start(c->loop, &c->wr);
	ev_timer_set(&c->dial, (double)c->cfg->dial_timeout / 1e9, 0);
	ev_timer_start(c->loop, &c->dial);
}

static void
wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, wr);
	socklen_t sl;
	ssize_t n;
	int e;

	(void)loop;
	(void)revents;
	if (c->state == CONN_CONNECTING) {
		e = 0;
		sl = sizeof(e);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
			e = errno;
		if (e == EINPROGRESS || e == EALREADY)
			return;
		if (e != 0) {
			conn_failf(c, "dial tcp %s: %s", c->addr, strerror(e));
			return;
		}
		connected(c);
		return;
	}
	while (buf_len(&c->out) > 0) {
		n = send(c->fd, buf_data(&c->out), buf_len(&c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			conn_failf(c, "write tcp %s: %s", c->addr,
			    strerror(errno));
			return;
		}
		buf_consume(&c->out, (size_t)n);
		c->last_write = ev_now(c->loop);
	}
	ev_io_stop(c->loop, &c->wr);
	if (c->shutdown) {
		conn_close(c, c->shutdown_why);
		return;
	}
	arm_tmo(c);
}

int
conn_parse_identify(struct conn_ident *id, const void *data, size_t len)
{
	struct json j;
	char err[128];
	int64_t v;
	bool b;
	int t;
	char *s;

	if (len == 2 && memcmp(data, "OK", 2) == 0)
		return 0;
	if (json_parse(&j, data, len, err, sizeof(err)) == -1 ||
	    json_type(&j, 0) != JSON_OBJECT) {
		json_free(&j);
		return -1;
	}
	if ((t = json_obj_get(&j, 0, "max_rdy_count")) != -1 &&
	    json_get_int64(&j, t, &v) == 0)
		id->max_rdy_count = v;
	if ((t = json_obj_get(&j, 0, "msg_timeout")) != -1 &&
	    json_get_int64(&j, t, &v) == 0)
		id->msg_timeout_ms = v;
	if ((t = json_obj_get(&j, 0, "max_msg_timeout")) != -1 &&
	    json_get_int64(&j, t, &v) == 0)
		id->max_msg_timeout_ms = v;
	if ((t = json_obj_get(&j, 0, "auth_required")) != -1 &&
	    json_get_bool(&j, t, &b) == 0)
		id->auth_required = b;
	if ((t = json_obj_get(&j, 0, "version")) != -1 &&
	    (s = json_get_str(&j, t, NULL)) != NULL) {
		snprintf(id->version, sizeof(id->version), "%s", s);
		free(s);
	}
	json_free(&j);
	return 0;
}

static void
become_ready(struct conn *c)
{
	c->state = CONN_READY;
	c->was_ready = true;
	c->cb->ready(c, c->arg);
}

/* One frame; the owner's callbacks may close or free c. */
static void
handle(struct conn *c, const struct frame *f)
{
	const char *secret = c->cfg->auth_secret;

	if (f->type == FRAME_RESPONSE && f->len == strlen(FRAME_HEARTBEAT) &&
	    memcmp(f->data, FRAME_HEARTBEAT, f->len) == 0) {
		if (frame_nop(&c->out) == -1) {
			conn_failf(c, "output buffer full");
			return;
		}
		conn_flush(c);
		return;
	}
	switch (c->state) {
	case CONN_IDENTIFYING:
		if (f->type == FRAME_ERROR) {
			conn_failf(c, "%.*s", (int)f->len, f->data);
			return;
		}
		if (f->type != FRAME_RESPONSE || conn_parse_identify(&c->ident,
		    f->data, f->len) == -1) {
			conn_failf(c, "bad IDENTIFY response from %s", c->addr);
			return;
		}
		if (!c->ident.auth_required) {
			become_ready(c);
			return;
		}
		if (secret == NULL || secret[0] == '\0') {
			conn_failf(c, "%s requires AUTH but auth_secret is not "
			    "set", c->addr);
			return;
		}
		if (frame_auth(&c->out, secret, strlen(secret)) == -1) {
			conn_failf(c, "output buffer full");
			return;
		}
		c->state = CONN_AUTHENTICATING;
		conn_flush(c);
		return;
	case CONN_AUTHENTICATING:
		if (f->type != FRAME_RESPONSE) {
			conn_failf(c, "%.*s", (int)f->len, f->data);
			return;
		}
		become_ready(c);
		return;
	case CONN_READY:
		c->cb->frame(c, f, c->arg);
		return;
	default:
		return;
	}
}

static void
rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, rd);
	struct frame f;
	ssize_t n, r;

	(void)revents;
	n = buf_read_fd(&c->in, c->fd);
	if (n == 0) {
		conn_failf(c, "EOF from %s", c->addr);
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_failf(c, "read tcp %s: %s", c->addr, strerror(errno));
		return;
	}
	c->last_read = ev_now(loop);
	c->busy++;
	while (c->state != CONN_CLOSED) {
		r = frame_decode(buf_data(&c->in), buf_len(&c->in),
		    (size_t)c->cfg->max_frame_size, &f);
		if (r == 0)
			break;
		if (r == -1) {
			conn_failf(c, "invalid frame from %s", c->addr);
			break;
		}
		handle(c, &f);
		buf_consume(&c->in, (size_t)r);
	}
	c->busy--;
	if (c->free_pending && c->busy == 0)
		really_free(c);
}
