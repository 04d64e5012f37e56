/*
 * The connection layer of protocol V2: one struct client per TCP
 * connection, driven by libev.  It owns the fd, the read and write
 * buffers, the TLS (OpenSSL over memory BIOs) and compression layers,
 * the heartbeat and read-deadline timers, accept and close; the protocol
 * itself is the V2 engine's (v2.c), which gets plain bytes in c->in and
 * reaches back only through the client interface implemented here
 * (client.h).
 *
 * Writing: frames are appended to c->out (or c->plain, to compress and
 * encrypt) and written once per loop iteration (nsqd.c's tick), or at
 * once when the buffer passes the client's output_buffer_size.  A client
 * whose socket is full stops receiving messages until it drains.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "compress.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "tcp.h"
#include "v2.h"
#include "xmalloc.h"

/* A buffer larger than this is freed once empty, at a heartbeat. */
#define BUF_KEEP	16384

#define OUT_HIGH_WATER	(1 << 20)	/* stop delivering above this */

static void	read_cb(struct ev_loop *, ev_io *, int);
static void	write_cb(struct ev_loop *, ev_io *, int);
static void	heartbeat_cb(struct ev_loop *, ev_timer *, int);
static void	idle_cb(struct ev_loop *, ev_timer *, int);
static void	conn_close(struct client *, const char *);
static void	conn_flush(struct client *);
static int	take_raw(struct client *, const char *, size_t);
static const struct client_ops tcp_ops;

/*
 * client_ops.frames: where frames go, straight out or to be compressed
 * and encrypted at flush.
 */
static struct buf *
conn_frames(struct client *c)
{
	return c->cz != NULL || c->ssl != NULL ? &c->plain : &c->out;
}

/* Bytes waiting to be written, in any stage. */
static size_t
pending(const struct client *c)
{
	return buf_len(&c->out) + buf_len(&c->plain) + buf_len(&c->zbuf);
}

/* Move what OpenSSL wrote to its memory BIO into the output. */
static int
drain_tls(struct client *c)
{
	BIO *w = SSL_get_wbio(c->ssl);
	size_t k;
	int n;

	while ((k = BIO_ctrl_pending(w)) > 0) {
		if (buf_reserve(&c->out, k) == -1)
			return -1;
		n = BIO_read(w, c->out.data + c->out.len, (int)k);
		if (n <= 0)
			return -1;
		c->out.len += (size_t)n;
	}
	return 0;
}

/* Encrypt n plain bytes into the output. */
static int
seal(struct client *c, const char *p, size_t n)
{
	int w;

	while (n > 0) {
		w = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return drain_tls(c);
}

/* client_ops.queued: the tick writes them. */
static void
conn_queued(struct client *c)
{
	nsqd_mark_dirty(c->nsqd, c);
}

/* client_ops.hold */
static void
conn_hold(struct client *c)
{
	ev_io_stop(c->nsqd->loop, &c->rd);
}

/* client_ops.heartbeat */
static void
conn_heartbeat(struct client *c, bool deadline)
{
	double s = (double)c->heartbeat_ns / 1e9;

	if (deadline) {
		ev_timer_stop(c->nsqd->loop, &c->hb);
		ev_timer_stop(c->nsqd->loop, &c->idle);
		c->idle.repeat = 0;
	}
	if (c->heartbeat_ns <= 0)
		return;
	ev_timer_set(&c->hb, s, s);
	ev_timer_start(c->nsqd->loop, &c->hb);
	if (deadline) {
		c->idle.repeat = 2 * s;
		ev_timer_again(c->nsqd->loop, &c->idle);
	}
}

/*
 * client_ops.start_tls: an SSL over memory BIOs in accept state; the
 * compression cz starts once the handshake is done (tls_step).
 */
static int
conn_start_tls(struct client *c, int cz, int level)
{
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());

	if (rb == NULL || wb == NULL ||
	    (c->ssl = SSL_new(c->nsqd->ssl_ctx)) == NULL) {
		BIO_free(rb);
		BIO_free(wb);
		return -1;
	}
	SSL_set_bio(c->ssl, rb, wb);
	SSL_set_accept_state(c->ssl);
	c->cz_pending = cz;
	c->cz_pending_level = level;
	c->cz_started = false;
	/* Go gives the handshake 5 s. */
	c->idle.repeat = 5.;
	ev_timer_again(c->nsqd->loop, &c->idle);
	return 0;
}

/* client_ops.start_compression */
static int
conn_start_compression(struct client *c, int cz, int level)
{
	c->cz = cz_new(cz, level);
	return c->cz != NULL ? 0 : -1;
}

/*
 * client_ops.reread: IDENTIFY just turned TLS or compression on, and
 * whatever the client sent after it is TLS records or compressed
 * already, so it goes through those layers rather than straight to the
 * engine.  Only once: later the layers are already under c->in.
 */
static void
conn_reread(struct client *c)
{
	struct buf rest;

	if (c->cz_started || (c->cz == NULL && c->ssl == NULL))
		return;
	c->cz_started = true;
	buf_init(&rest, buf_len(&c->in), buf_len(&c->in) + 1);
	buf_add(&rest, buf_data(&c->in), buf_len(&c->in));	/* sized for it */
	buf_reset(&c->in);
	(void)take_raw(c, buf_data(&rest), buf_len(&rest));
	buf_free(&rest);
}

/* The answer of the query conn_auth_query started. */
static void
conn_auth_done(void *arg, struct auth_state *st, const char *err)
{
	struct client *c = arg;

	c->authq = NULL;
	if (c->idle.repeat > 0)
		ev_timer_again(c->nsqd->loop, &c->idle);
	v2_auth_done(c, st, err);
}

/*
 * client_ops.auth_query: what Go's QueryAuthd sends of the client (the
 * peer's IP, whether TLS is on, its certificate's common name).  The
 * engine parses nothing meanwhile, but the socket is still read into
 * c->in, so that a client that goes away (a reset) is closed at once and
 * its query cancelled; no read deadline runs, as Go sets none while a
 * command runs.
 */
static int
conn_auth_query(struct client *c)
{
	char ip[256], cn[256] = "";
	int port;

	if (net_split_hostport(c->remote, ip, sizeof(ip), &port) == -1)
		ip[0] = '\0';
	if (c->tls && c->ssl != NULL)
		tls_peer_cn(c->ssl, cn, sizeof(cn));
	c->authq = auth_query_start(c->nsqd, c->auth_secret, ip, c->tls, cn,
	    conn_auth_done, c);
	if (c->authq == NULL)
		return -1;
	ev_timer_stop(c->nsqd->loop, &c->idle);
	return 0;
}

void
client_accept(struct nsqd *n, int fd)
{
	struct client *c = xcalloc(1, sizeof(*c));
	int one = 1;
	size_t maxin;

	c->id = ++n->next_client_id;
	c->fd = fd;
	/* Frames go out whole, once per loop turn: no Nagle delay (as Go). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The largest command: a line and a body of --max-body-size. */
	maxin = V2_MAX_LINE + 4 + (size_t)(n->o->max_body_size >
	    n->o->max_msg_size ? n->o->max_body_size : n->o->max_msg_size);
	/*
	 * No buffer until data needs one: an idle connection costs its
	 * struct, not 32 KB of buffers (see read_cb and flush).
	 */
	buf_init(&c->in, 0, maxin);
	buf_init(&c->out, 0, (size_t)1 << 30);
	buf_init(&c->plain, 0, (size_t)1 << 30);
	buf_init(&c->zbuf, 0, (size_t)1 << 30);
	/* The input limit and one read: as much as c->in may wait for. */
	buf_init(&c->zin, 0, maxin + 65536);
	c->cz_pending = -1;
	net_addr_str(fd, 0, c->remote, sizeof(c->remote));
	v2_init(c, n, &tcp_ops);
	TAILQ_INSERT_TAIL(&n->clients, c, link);

	ev_io_init(&c->rd, read_cb, fd, EV_READ);
	c->rd.data = c;
	ev_io_init(&c->wr, write_cb, fd, EV_WRITE);
	c->wr.data = c;
	ev_init(&c->hb, heartbeat_cb);
	c->hb.data = c;
	/* No magic, or no command, within the client timeout: goodbye. */
	ev_init(&c->idle, idle_cb);
	c->idle.data = c;
	c->idle.repeat = (double)CLIENT_TIMEOUT_NS / 1e9;
	ev_timer_again(n->loop, &c->idle);
	ev_io_start(n->loop, &c->rd);
	log_info("TCP: new client(%s)", c->remote);
}

/* client_ops.ready: the engine's window, and room on the socket. */
static bool
conn_ready(const struct client *c)
{
	return v2_ready(c) && !(c->blocked && pending(c) >= OUT_HIGH_WATER);
}

/* client_ops.send_message */
static void
conn_send_message(struct client *c, struct cmsg *m)
{
	if (v2_message_frame(conn_frames(c), m) == -1) {
		conn_close(c, "output buffer full");
		return;
	}
	if ((int64_t)pending(c) >= c->output_buffer_size)
		conn_flush(c);
	else
		nsqd_mark_dirty(c->nsqd, c);
}

/*
 * Frames -> [compress] -> [encrypt] -> c->out.  -1 when that failed and
 * the connection is closing.
 */
static int
stage(struct client *c)
{
	struct buf *z = c->ssl != NULL ? &c->zbuf : &c->out;
	struct buf *src = &c->plain;

	if (buf_len(&c->plain) == 0)
		return 0;
	if (c->cz != NULL) {
		if (cz_compress(c->cz, buf_data(&c->plain), buf_len(&c->plain),
		    z) == -1) {
			conn_close(c, "compression failed");
			return -1;
		}
		buf_reset(&c->plain);
		src = z;
	}
	if (c->ssl != NULL && buf_len(src) > 0) {
		if (seal(c, buf_data(src), buf_len(src)) == -1) {
			conn_close(c, "TLS write failed");
			return -1;
		}
		buf_reset(src);
	}
	return 0;
}

/* client_ops.flush: write what is buffered; wait for a full socket. */
static void
conn_flush(struct client *c)
{
	ssize_t n;

	if (stage(c) == -1)
		return;

	while (buf_len(&c->out) > 0) {
		n = buf_write_fd(&c->out, c->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->blocked && !c->dead) {
				c->blocked = true;
				ev_io_start(c->nsqd->loop, &c->wr);
			}
			return;
		}
		if (!c->dead)
			log_warn("[%s] write", c->remote);
		buf_reset(&c->out);
		conn_close(c, "write error");
		return;
	}
	if (c->blocked) {
		c->blocked = false;
		ev_io_stop(c->nsqd->loop, &c->wr);
		if (c->ch != NULL && !c->dead)
			channel_pump(c->ch);
	}
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_flush(w->data);
}

/* Plain bytes from the peer (after TLS), into c->in or zin. */
static int
take_plain(struct client *c, const char *p, size_t n)
{
	/*
	 * Compressed bytes wait in zin: the engine inflates them a step at
	 * a time as it parses (conn_refill), as a few bytes can inflate to
	 * megabytes.
	 */
	if (buf_append(c->cz != NULL ? &c->zin : &c->in, p, n) == 0)
		return 0;
	conn_close(c, "input buffer full");
	return -1;
}

/* The most one conn_refill inflates: c->in grows by steps this size. */
#define REFILL_STEP	(256 * 1024)

/* client_ops.refill: inflate the next step of zin into c->in. */
static size_t
conn_refill(struct client *c)
{
	size_t before = buf_len(&c->in), room, used;
	char err[128];

	if (c->cz == NULL || c->dead)
		return 0;
	room = c->in.max - before;
	if (room > REFILL_STEP)
		room = REFILL_STEP;
	if (room == 0)
		return 0;
	if (cz_decompress_max(c->cz, buf_data(&c->zin), buf_len(&c->zin),
	    &c->in, room, &used, err, sizeof(err)) == -1) {
		log_error("[%s] - failed to read command - %s", c->remote, err);
		conn_close(c, "bad compressed stream");
		return 0;
	}
	buf_consume(&c->zin, used);
	return buf_len(&c->in) - before;
}

/*
 * Advance the TLS handshake; when it completes answer OK over TLS, then
 * turn on the compression IDENTIFY negotiated (Go's order).  -1 when the
 * connection is closing.
 */
static int
tls_step(struct client *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (drain_tls(c) == -1) {
		conn_close(c, "TLS output failed");
		return -1;
	}
	nsqd_mark_dirty(c->nsqd, c);
	if (r != 1) {
		int e = SSL_get_error(c->ssl, r);
		char why[256];

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		/* Go's IOLoop line for the FatalClientErr, once. */
		tls_reason(c->ssl, e, why, sizeof(why));
		log_error("[%s] - E_IDENTIFY_FAILED IDENTIFY failed %s - %s",
		    c->remote, why, why);
		/*
		 * OpenSSL's alert is in the output: one try to send it (a
		 * few bytes, which an open socket takes), as a closing
		 * client's output is not flushed.
		 */
		(void)!buf_write_fd(&c->out, c->fd);
		conn_close(c, "TLS handshake failed");
		return -1;
	}
	c->tls_handshaking = false;
	c->tls = true;
	tls_describe(c->ssl, c);
	log_info("[%s] TLS %s %s", c->remote, SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	/* Back to the usual read deadline. */
	c->idle.repeat = c->heartbeat_ns > 0 ?
	    2 * (double)c->heartbeat_ns / 1e9 : 0;
	if (c->idle.repeat > 0)
		ev_timer_again(c->nsqd->loop, &c->idle);
	else
		ev_timer_stop(c->nsqd->loop, &c->idle);
	v2_response(c, "OK");
	if (c->cz_pending >= 0) {
		/* That OK goes out encrypted only; what follows, compressed. */
		if (stage(c) == -1)
			return -1;
		c->cz = cz_new(c->cz_pending, c->cz_pending_level);
		c->cz_pending = -1;
		c->cz_started = true;
		if (c->cz == NULL) {
			conn_close(c, "compression setup failed");
			return -1;
		}
		v2_response(c, "OK");
	}
	return 0;
}

/* Raw bytes from the socket through TLS (if on) into c->in. */
static int
take_raw(struct client *c, const char *p, size_t n)
{
	char tmp[16384];
	int r, e;

	if (c->ssl == NULL)
		return take_plain(c, p, n);
	if (n > 0 && BIO_write(SSL_get_rbio(c->ssl), p, (int)n) != (int)n) {
		conn_close(c, "TLS input failed");
		return -1;
	}
	if (c->tls_handshaking && (tls_step(c) == -1 || c->tls_handshaking))
		return c->dead ? -1 : 0;
	for (;;) {
		r = SSL_read(c->ssl, tmp, sizeof(tmp));
		if (r > 0) {
			if (take_plain(c, tmp, (size_t)r) == -1)
				return -1;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* close_notify: the peer's EOF; we may still write. */
			c->eof = true;
			break;
		}
		conn_close(c, "TLS read failed");
		return -1;
	}
	/* Reading may have produced TLS records to send (key updates). */
	if (drain_tls(c) == -1) {
		conn_close(c, "TLS output failed");
		return -1;
	}
	if (buf_len(&c->out) > 0)
		nsqd_mark_dirty(c->nsqd, c);
	return 0;
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	char raw[65536];
	ssize_t n;

	(void)revents;
	if (c->cz != NULL || c->ssl != NULL) {
		n = read(c->fd, raw, sizeof(raw));
		if (n > 0 && take_raw(c, raw, (size_t)n) == -1)
			return;
	} else if (c->in.cap == 0) {
		/* The first bytes, or the first after a burst: fit them. */
		n = read(c->fd, raw, c->in.max < sizeof(raw) ? c->in.max :
		    sizeof(raw));
		if (n > 0 && buf_append(&c->in, raw, (size_t)n) == -1) {
			conn_close(c, "read error");
			return;
		}
	} else
		n = buf_read_fd(&c->in, c->fd);
	if (n == 0) {
		/* The peer's EOF: the engine finishes, then closes. */
		v2_input_end(c);
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("[%s] read", c->remote);
		conn_close(c, "read error");
		return;
	}
	/* Go's 5 s for the handshake is a deadline, not an idle time. */
	if (c->idle.repeat > 0 && !c->auth_wait && !c->tls_handshaking)
		ev_timer_again(loop, &c->idle);
	v2_input(c);
	/* A TLS close_notify is the peer's EOF too. */
	if (c->eof)
		v2_input_end(c);
}

/*
 * The heartbeat is also when buffers grown by a burst go back: an empty
 * one above BUF_KEEP is freed, at most once a heartbeat interval, so a
 * busy connection does not free and grow its buffers on every read.
 */
static void
heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	if (buf_len(&c->in) == 0 && c->in.cap > BUF_KEEP)
		buf_free(&c->in);
	if (buf_len(&c->out) == 0 && c->out.cap > BUF_KEEP)
		buf_free(&c->out);
	v2_response(c, FRAME_HEARTBEAT);
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	if (c->tls_handshaking)
		log_error("[%s] - E_IDENTIFY_FAILED IDENTIFY failed TLS "
		    "handshake timeout - i/o timeout", c->remote);
	else
		log_error("[%s] - failed to read command - i/o timeout",
		    c->remote);
	conn_close(c, "timeout");
}

/*
 * client_ops.close: stop reading and timers and leave the rest to the
 * tick, so no caller up the stack meets a freed client.
 */
static void
conn_close(struct client *c, const char *why)
{
	struct nsqd *n = c->nsqd;

	if (c->dead)
		return;
	c->dead = true;
	log_info("PROTOCOL(V2): [%s] exiting ioloop (%s)", c->remote, why);
	ev_io_stop(n->loop, &c->rd);
	ev_io_stop(n->loop, &c->wr);
	ev_timer_stop(n->loop, &c->hb);
	ev_timer_stop(n->loop, &c->idle);
	/* A query under way would call back a freed client. */
	auth_query_cancel(c->authq);
	c->authq = NULL;
	if (c->dirty) {
		TAILQ_REMOVE(&n->dirty, c, dirty_link);
		c->dirty = false;
	}
	if (c->awaiting) {
		TAILQ_REMOVE(&n->awaiting, c, await_link);
		c->awaiting = false;
	}
	TAILQ_REMOVE(&n->clients, c, link);
	TAILQ_INSERT_TAIL(&n->dead, c, link);
}

void
client_free(struct client *c)
{
	v2_end(c);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->plain);
	buf_free(&c->zbuf);
	buf_free(&c->zin);
	cz_free(c->cz);
	SSL_free(c->ssl);
	free(c);
}

static const struct client_ops tcp_ops = {
	.ready = conn_ready,
	.send_message = conn_send_message,
	.close = conn_close,
	.flush = conn_flush,
	.frames = conn_frames,
	.queued = conn_queued,
	.hold = conn_hold,
	.heartbeat = conn_heartbeat,
	.start_tls = conn_start_tls,
	.start_compression = conn_start_compression,
	.reread = conn_reread,
	.refill = conn_refill,
	.auth_query = conn_auth_query,
};
