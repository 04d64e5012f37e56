/*
 * A client connection to nsqd (see conn.h), as an explicit state machine:
 *
 *   CONNECTING --writable, SO_ERROR 0--> IDENTIFYING --JSON or OK-->
 *   [TLS_HANDSHAKE --done--> TLS_OK --OK-->] [COMPRESS_OK --OK-->]
 *   [AUTHENTICATING --JSON-->] READY;  any state --failure--> CLOSED
 *
 * The layers, as go-nsq stacks them: socket <-> TLS <-> snappy or deflate
 * <-> frames.  Each starts at a frame boundary (right after the reply
 * that agreed to it), so the bytes already read past that frame are
 * handed to the new layer: nsqd may send its TLS OK and its compressed
 * OK in one write.  Input: read(2) -> tlsc_feed/tlsc_read -> cz_decompress
 * -> in (frames).  Output: the owner's plain out is sealed (compressed,
 * encrypted) into wire at each flush, and wire goes to the socket.
 * Without layers, in and out meet the socket directly, as before.
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
#include "compress.h"
#include "net.h"
#include "tlsc.h"
#include "xmalloc.h"

#define OUT_MAX		((size_t)1 << 30)
#define IN_INITIAL	16384

enum conn_state {
	CONN_NEW,
	CONN_CONNECTING,
	CONN_IDENTIFYING,
	CONN_TLS_HANDSHAKE,
	CONN_TLS_OK,		/* handshake done: the OK through TLS */
	CONN_COMPRESS_OK,	/* the OK through snappy or deflate */
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
	/* The layers, once nsqd agreed to them (see the top). */
	bool			 layered;	/* out goes through wire */
	struct tlsc		*tls;
	bool			 tls_up;	/* handshake done */
	struct cz		*cz;
	enum { LAYER_NONE, LAYER_TLS, LAYER_CZ } add_layer;
	struct buf		 wire;		/* sealed output */
	struct buf		 plain;		/* TLS output, before cz */
	struct conn_ident	 ident;
	int			 busy;		/* inside the read loop */
	bool			 free_pending;
	bool			 shutdown;	/* close once written */
	char			 why[512];
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
	buf_init(&c->wire, 0, OUT_MAX);
	buf_init(&c->plain, 0, (size_t)cfg->max_frame_size + 8);
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
	return buf_len(&c->out) + buf_len(&c->wire);
}

/* What goes to the socket: wire once there are layers. */
static struct buf *
wbuf(struct conn *c)
{
	return c->layered ? &c->wire : &c->out;
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
	buf_reset(&c->wire);
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
	char why[512];

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
	if (conn_out_len(c) == 0 || c->state != CONN_READY) {
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
	char why[512];

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
	buf_free(&c->wire);
	buf_free(&c->plain);
	tlsc_free(c->tls);
	cz_free(c->cz);
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
	if (conn_out_len(c) > 0 && c->last_write + wt < next)
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
	if (conn_out_len(c) > 0 &&
	    now - c->last_write >= (double)c->cfg->write_timeout / 1e9) {
		conn_failf(c, "write tcp %s: i/o timeout", c->addr);
		return;
	}
	arm_tmo(c);
}

/*
 * Move the owner's plain output through the layers into wire: one
 * compressed unit (deflate sync-flushed) per flush, then encrypted.
 * Held while the TLS handshake runs: nothing is sent then but OpenSSL's.
 */
static int
seal(struct conn *c)
{
	struct buf z;
	char err[256];
	const char *p;
	size_t n;
	int r = 0;

	if (!c->layered || buf_len(&c->out) == 0 ||
	    (c->tls != NULL && !c->tls_up))
		return 0;
	p = buf_data(&c->out);
	n = buf_len(&c->out);
	buf_init(&z, 0, OUT_MAX);
	if (c->cz != NULL) {
		if (cz_compress(c->cz, p, n, &z) == -1) {
			buf_free(&z);
			conn_failf(c, "write tcp %s: cannot compress", c->addr);
			return -1;
		}
		p = buf_data(&z);
		n = buf_len(&z);
	}
	if (c->tls_up) {
		if (tlsc_write(c->tls, p, n, err, sizeof(err)) == -1 ||
		    tlsc_pending(c->tls, &c->wire) == -1)
			r = -1;
	} else if (buf_append(&c->wire, p, n) == -1)
		r = -1;
	buf_free(&z);
	if (r == -1) {
		conn_failf(c, "write tcp %s: output buffer full", c->addr);
		return -1;
	}
	buf_reset(&c->out);
	return 0;
}

void
conn_flush(struct conn *c)
{
	if (c->state == CONN_CLOSED || c->state == CONN_NEW ||
	    c->state == CONN_CONNECTING || seal(c) == -1 ||
	    buf_len(wbuf(c)) == 0)
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
	jw_bool(&w, k->deflate);
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
	jw_bool(&w, k->snappy);
	jw_key(&w, "tls_v1");
	jw_bool(&w, k->tls_v1);
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
	/* Output appended since the last flush goes through the layers. */
	if (seal(c) == -1)
		return;
	while (buf_len(wbuf(c)) > 0) {
		n = send(c->fd, buf_data(wbuf(c)), buf_len(wbuf(c)),
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
		buf_consume(wbuf(c), (size_t)n);
		c->last_write = ev_now(c->loop);
	}
	ev_io_stop(c->loop, &c->wr);
	if (c->shutdown && conn_out_len(c) == 0) {
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
	if ((t = json_obj_get(&j, 0, "tls_v1")) != -1 &&
	    json_get_bool(&j, t, &b) == 0)
		id->tls_v1 = b;
	if ((t = json_obj_get(&j, 0, "snappy")) != -1 &&
	    json_get_bool(&j, t, &b) == 0)
		id->snappy = b;
	if ((t = json_obj_get(&j, 0, "deflate")) != -1 &&
	    json_get_bool(&j, t, &b) == 0)
		id->deflate = b;
	if ((t = json_obj_get(&j, 0, "deflate_level")) != -1 &&
	    json_get_int64(&j, t, &v) == 0)
		id->deflate_level = v;
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

int
conn_parse_auth(struct conn_ident *id, const void *data, size_t len)
{
	struct json j;
	char err[128];
	int64_t v;
	int t;
	char *s;

	if (json_parse(&j, data, len, err, sizeof(err)) == -1 ||
	    json_type(&j, 0) != JSON_OBJECT) {
		json_free(&j);
		return -1;
	}
	if ((t = json_obj_get(&j, 0, "identity")) != -1 &&
	    (s = json_get_str(&j, t, NULL)) != NULL) {
		snprintf(id->identity, sizeof(id->identity), "%s", s);
		free(s);
	}
	if ((t = json_obj_get(&j, 0, "identity_url")) != -1 &&
	    (s = json_get_str(&j, t, NULL)) != NULL) {
		snprintf(id->identity_url, sizeof(id->identity_url), "%s", s);
		free(s);
	}
	if ((t = json_obj_get(&j, 0, "permission_count")) != -1 &&
	    json_get_int64(&j, t, &v) == 0)
		id->permission_count = v;
	json_free(&j);
	return 0;
}

static bool
is_ok(const struct frame *f)
{
	return f->type == FRAME_RESPONSE && f->len == 2 &&
	    memcmp(f->data, "OK", 2) == 0;
}

/* Upgrades done: AUTH if nsqd wants it, else ready. */
static void
upgraded(struct conn *c)
{
	const char *secret = c->cfg->auth_secret;

	if (!c->ident.auth_required) {
		become_ready(c);
		return;
	}
	if (secret == NULL || secret[0] == '\0') {
		conn_failf(c, "nsqd %s requires AUTH: set auth_secret",
		    c->addr);
		return;
	}
	if (frame_auth(&c->out, secret, strlen(secret)) == -1) {
		conn_failf(c, "output buffer full");
		return;
	}
	c->state = CONN_AUTHENTICATING;
	conn_flush(c);
}

/* After TLS (or without it): compression if agreed, else on. */
static void
after_tls(struct conn *c)
{
	if (c->ident.deflate || c->ident.snappy) {
		c->add_layer = LAYER_CZ;
		c->state = CONN_COMPRESS_OK;
		return;
	}
	upgraded(c);
}

/* The IDENTIFY reply: which upgrades follow. */
static void
identified(struct conn *c, const struct frame *f)
{
	if (f->type == FRAME_ERROR) {
		conn_failf(c, "%.*s", (int)f->len, f->data);
		return;
	}
	if (f->type != FRAME_RESPONSE || conn_parse_identify(&c->ident,
	    f->data, f->len) == -1) {
		conn_failf(c, "bad IDENTIFY response from %s", c->addr);
		return;
	}
	/* nsqd agrees only to what was asked; never more. */
	c->ident.tls_v1 = c->ident.tls_v1 && c->cfg->tls_v1;
	c->ident.snappy = c->ident.snappy && c->cfg->snappy;
	c->ident.deflate = c->ident.deflate && c->cfg->deflate;
	if (c->ident.snappy && c->ident.deflate) {
		conn_failf(c, "nsqd %s agreed to both snappy and deflate",
		    c->addr);
		return;
	}
	/*
	 * go-nsq goes on in plain text when nsqd has no TLS; asked for, TLS
	 * is required here: a secret or a message must not leave unsealed.
	 */
	if (c->cfg->tls_v1 && !c->ident.tls_v1) {
		conn_failf(c, "nsqd %s did not agree to TLS (tls_v1 false in "
		    "its IDENTIFY response: it has no --tls-cert)", c->addr);
		return;
	}
	if (c->cfg->snappy && !c->ident.snappy)
		nsq_logf(c->cfg, NSQ_LOG_WARN, "(%s) nsqd did not agree to "
		    "snappy: messages travel uncompressed", c->addr);
	if (c->cfg->deflate && !c->ident.deflate)
		nsq_logf(c->cfg, NSQ_LOG_WARN, "(%s) nsqd did not agree to "
		    "deflate: messages travel uncompressed", c->addr);
	if (c->ident.tls_v1) {
		c->add_layer = LAYER_TLS;
		c->state = CONN_TLS_HANDSHAKE;
		return;
	}
	after_tls(c);
}

static void
authenticated(struct conn *c, const struct frame *f)
{
	if (f->type == FRAME_ERROR) {
		conn_failf(c, "Error authenticating %.*s", (int)f->len,
		    f->data);
		return;
	}
	if (f->type != FRAME_RESPONSE || conn_parse_auth(&c->ident, f->data,
	    f->len) == -1) {
		conn_failf(c, "bad AUTH response from %s", c->addr);
		return;
	}
	nsq_logf(c->cfg, NSQ_LOG_INFO, "(%s) Auth accepted. Identity: "
	    "\"%s\" %s Permissions: %lld", c->addr, c->ident.identity,
	    c->ident.identity_url, (long long)c->ident.permission_count);
	become_ready(c);
}

/* One frame; the owner's callbacks may close or free c. */
static void
handle(struct conn *c, const struct frame *f)
{
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
		identified(c, f);
		return;
	case CONN_TLS_OK:
		if (!is_ok(f)) {
			conn_failf(c, "invalid response from TLS upgrade");
			return;
		}
		after_tls(c);
		return;
	case CONN_COMPRESS_OK:
		if (!is_ok(f)) {
			conn_failf(c, "invalid response from %s upgrade",
			    c->ident.snappy ? "Snappy" : "Deflate");
			return;
		}
		upgraded(c);
		return;
	case CONN_AUTHENTICATING:
		authenticated(c, f);
		return;
	case CONN_READY:
		/*
		 * nsqd --tls-required refuses every command before TLS with
		 * E_INVALID "... (TLS required)": say what is missing.
		 */
		if (f->type == FRAME_ERROR && !c->cfg->tls_v1 &&
		    memmem(f->data, f->len, "(TLS required)", 14) != NULL) {
			conn_failf(c, "nsqd %s requires TLS: set tls_v1 (%.*s)",
			    c->addr, (int)f->len, f->data);
			return;
		}
		c->cb->frame(c, f, c->arg);
		return;
	default:
		return;
	}
}

/* Plain bytes (after TLS) through the decompressor into in. */
static int
in_cz(struct conn *c, const void *p, size_t n)
{
	char err[256];

	if (n == 0)
		return 0;
	if (c->cz == NULL) {
		if (buf_append(&c->in, p, n) == -1) {
			conn_failf(c, "frame too big from %s", c->addr);
			return -1;
		}
		return 0;
	}
	if (cz_decompress(c->cz, p, n, &c->in, err, sizeof(err)) == -1) {
		conn_failf(c, "read tcp %s: %s", c->addr, err);
		return -1;
	}
	return 0;
}

/* Queue what OpenSSL has to send, and send it. */
static int
tls_out(struct conn *c)
{
	if (tlsc_pending(c->tls, &c->wire) == -1) {
		conn_failf(c, "write tcp %s: output buffer full", c->addr);
		return -1;
	}
	conn_flush(c);
	return c->state == CONN_CLOSED ? -1 : 0;
}

/* Bytes from the socket through TLS (handshake or records). */
static int
in_tls(struct conn *c, const void *p, size_t n)
{
	char err[256];
	int r;

	if (tlsc_feed(c->tls, p, n, err, sizeof(err)) == -1) {
		conn_failf(c, "read tcp %s: %s", c->addr, err);
		return -1;
	}
	if (!c->tls_up) {
		r = tlsc_handshake(c->tls, err, sizeof(err));
		if (r == -1) {
			conn_failf(c, "TLS handshake with nsqd %s failed: %s",
			    c->addr, err);
			return -1;
		}
		if (tls_out(c) == -1 || r == 0)
			return 0;
		c->tls_up = true;
		c->state = CONN_TLS_OK;
		nsq_logf(c->cfg, NSQ_LOG_DEBUG, "(%s) TLS up: %s", c->addr,
		    tlsc_version(c->tls));
	}
	r = tlsc_read(c->tls, &c->plain, err, sizeof(err));
	if (r == -1) {
		conn_failf(c, "read tcp %s: %s", c->addr, err);
		return -1;
	}
	if (tls_out(c) == -1)
		return -1;
	if (in_cz(c, buf_data(&c->plain), buf_len(&c->plain)) == -1)
		return -1;
	buf_reset(&c->plain);
	if (r == 1) {
		conn_failf(c, "EOF from %s", c->addr);
		return -1;
	}
	return 0;
}

/*
 * A layer starts at the frame just handled: what in holds past it came
 * through the layers below the new one, so it goes through the new one.
 */
static int
add_layer(struct conn *c)
{
	struct buf rest;
	char err[256], host[256];
	int port, r = 0;

	buf_init(&rest, 0, buf_len(&c->in) + 1);
	if (buf_append(&rest, buf_data(&c->in), buf_len(&c->in)) == -1)
		abort();
	buf_reset(&c->in);
	if (!c->layered) {
		/* Output not yet sent belongs under the new layer. */
		c->layered = true;
		if (buf_append(&c->wire, buf_data(&c->out),
		    buf_len(&c->out)) == -1)
			abort();
		buf_reset(&c->out);
	}
	if (c->add_layer == LAYER_TLS) {
		if (net_split_hostport(c->addr, host, sizeof(host), &port) ==
		    -1)
			host[0] = '\0';
		if ((c->tls = tlsc_new(c->cfg, host, err, sizeof(err))) ==
		    NULL) {
			conn_failf(c, "TLS with nsqd %s: %s", c->addr, err);
			r = -1;
		} else if (tlsc_handshake(c->tls, err, sizeof(err)) == -1) {
			conn_failf(c, "TLS handshake with nsqd %s failed: %s",
			    c->addr, err);
			r = -1;
		} else if (tls_out(c) == -1)
			r = -1;
		else if (buf_len(&rest) > 0)
			r = in_tls(c, buf_data(&rest), buf_len(&rest));
	} else {
		c->cz = cz_new(c->ident.snappy ? CZ_SNAPPY : CZ_DEFLATE,
		    (int)c->cfg->deflate_level);
		if (c->cz == NULL) {
			conn_failf(c, "cannot start compression");
			r = -1;
		} else
			r = in_cz(c, buf_data(&rest), buf_len(&rest));
	}
	c->add_layer = LAYER_NONE;
	buf_free(&rest);
	return r;
}

/* Read what the socket has: into in, or through the layers. */
static ssize_t
read_in(struct conn *c)
{
	char chunk[65536];
	ssize_t n;

	if (!c->layered)
		return buf_read_fd(&c->in, c->fd);
	n = read(c->fd, chunk, sizeof(chunk));
	if (n <= 0)
		return n;
	if ((c->tls != NULL ? in_tls(c, chunk, (size_t)n) :
	    in_cz(c, chunk, (size_t)n)) == -1)
		return -2;
	return n;
}

static void
rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = CONTAINER(w, struct conn, rd);
	struct frame f;
	ssize_t n, r;

	(void)revents;
	c->busy++;
	n = read_in(c);
	if (n == 0 && (c->state == CONN_TLS_HANDSHAKE ||
	    c->state == CONN_TLS_OK))
		/* As nsqd does when it wants a client certificate. */
		conn_failf(c, "nsqd %s closed the connection during the TLS "
		    "upgrade (does it refuse our certificate, or want one: "
		    "tls_cert, tls_key?)", c->addr);
	else if (n == 0)
		conn_failf(c, "EOF from %s", c->addr);
	else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)
		conn_failf(c, "read tcp %s: %s", c->addr, strerror(errno));
	if (n > 0)
		c->last_read = ev_now(loop);
	while (n > 0 && c->state != CONN_CLOSED) {
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
		if (c->add_layer != LAYER_NONE && c->state != CONN_CLOSED &&
		    add_layer(c) == -1)
			break;
	}
	c->busy--;
	if (c->free_pending && c->busy == 0)
		really_free(c);
}
