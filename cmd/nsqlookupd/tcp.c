/*
 * TCP connections from nsqd: one struct client per connection on the
 * libev loop, feeding the V1 engine (v1.c) and writing its replies.
 *
 * Reading: bytes accumulate in c->in, bounded by the largest command the
 * engine accepts; the engine consumes whole commands.  Writing: replies
 * are written at once; when the socket is full, reading stops until the
 * replies drain (a client that does not read cannot make us buffer), and
 * so does parsing when the engine pauses above its output mark.
 *
 * Ending: on EOF the rest of the input is handled (Go answers an
 * IDENTIFY cut short), the replies flushed, and the connection closed.
 * After a fatal error the peer is unregistered at once, the error reply
 * flushed, our side shut down, and the input drained for a moment before
 * closing, so that the client reads the error rather than a reset.
 * Closed clients are freed by the loop's tick, never inside a callback.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "nsqlookupd.h"
#include "xmalloc.h"

#define LINGER_SECS	2.0

struct client {
	struct lookupd		*l;
	int			 fd;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 linger;
	struct buf		 in;
	struct v1_session	 s;
	bool			 eof;		/* the client shut its side */
	bool			 quitting;	/* last replies, then close */
	bool			 lingering;	/* draining input after quit */
	bool			 dead;		/* on the dead list */
	TAILQ_ENTRY(client)	 link;
};

static void	read_cb(struct ev_loop *, ev_io *, int);
static void	write_cb(struct ev_loop *, ev_io *, int);
static void	linger_cb(struct ev_loop *, ev_timer *, int);
static void	process(struct client *);

/*
 * The last replies are out: close, or, if the client may still be
 * sending, shut our side and drain theirs until EOF or the deadline.
 */
static void
finish(struct client *c)
{
	if (c->eof) {
		client_close(c, "EOF");
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	ev_io_start(c->l->loop, &c->rd);
}

/*
 * Write what is buffered.  False if the client was closed; when the
 * socket is full, reading stops and the write watcher waits.
 */
static bool
flush(struct client *c)
{
	struct buf *out = &c->s.out;
	ssize_t n;

	/* Ends: each write takes bytes from a bounded buffer, or we leave. */
	while (buf_len(out) > 0) {
		n = buf_write_fd(out, c->fd);
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ev_is_active(&c->wr))
				log_debug("[%s] output blocked; reading "
				    "paused", c->s.remote);
			ev_io_stop(c->l->loop, &c->rd);
			ev_io_start(c->l->loop, &c->wr);
			return true;
		}
		log_warn("[%s] write", c->s.remote);
		client_close(c, "write error");
		return false;
	}
	buf_compact(out);
	ev_io_stop(c->l->loop, &c->wr);
	return true;
}

/*
 * The session is over: unregister now, then send the last replies.  A
 * client that reads none of them is closed after LINGER_SECS anyway.
 */
static void
quit(struct client *c)
{
	c->quitting = true;
	ev_io_stop(c->l->loop, &c->rd);
	v1_end(&c->s);
	ev_timer_set(&c->linger, LINGER_SECS, 0.);
	ev_timer_start(c->l->loop, &c->linger);
	if (flush(c) && buf_len(&c->s.out) == 0)
		finish(c);
}

/*
 * Run the engine over the input.  It pauses when its replies pass a mark;
 * they are written and it goes on.  Each pass consumes input, of which
 * there is at most V1_MAX_INPUT, so the loop ends.
 */
static void
process(struct client *c)
{
	int r;

	for (;;) {
		r = v1_input(&c->s, &c->in, lookupd_now(c->l));
		if (r == V1_CLOSE) {
			quit(c);
			return;
		}
		if (!flush(c))
			return;
		if (buf_len(&c->s.out) > 0)
			return;		/* write_cb carries on */
		if (r == V1_PAUSED)
			continue;
		if (c->eof) {
			v1_eof(&c->s, &c->in);
			quit(c);
		}
		return;
	}
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	if (c->dead || !flush(c) || buf_len(&c->s.out) > 0)
		return;
	if (c->quitting)
		finish(c);
	else {
		process(c);
		if (!c->dead && !c->quitting && !c->eof &&
		    buf_len(&c->s.out) == 0)
			ev_io_start(loop, &c->rd);
	}
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	char sink[4096];
	ssize_t n;

	(void)loop;
	(void)revents;
	if (c->lingering) {
		n = read(c->fd, sink, sizeof(sink));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			client_close(c, "closed");
		return;
	}
	n = buf_read_fd(&c->in, c->fd);
	if (n == 0) {
		c->eof = true;
		ev_io_stop(c->l->loop, &c->rd);
	} else if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("[%s] read", c->s.remote);
		client_close(c, "read error");
		return;
	}
	process(c);
}

static void
linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	client_close(w->data, "linger timeout");
}

void
client_accept(struct lookupd *l, int fd)
{
	static unsigned long long unix_seq;
	struct client *c = xcalloc(1, sizeof(*c));
	char remote[64];

	c->l = l;
	c->fd = fd;
	net_addr_str(fd, 0, remote, sizeof(remote));
	/* Unix socket peers have no address: give each its own id. */
	if (strcmp(remote, "@") == 0)
		snprintf(remote, sizeof(remote), "@%llu", ++unix_seq);
	buf_init(&c->in, 4096, V1_MAX_INPUT);
	v1_init(&c->s, &l->reg, &l->conf, remote);
	TAILQ_INSERT_TAIL(&l->clients, c, link);
	ev_io_init(&c->rd, read_cb, fd, EV_READ);
	c->rd.data = c;
	ev_io_init(&c->wr, write_cb, fd, EV_WRITE);
	c->wr.data = c;
	ev_init(&c->linger, linger_cb);
	c->linger.data = c;
	ev_io_start(l->loop, &c->rd);
	log_info("TCP: new client(%s)", c->s.remote);
}

/*
 * Begin closing: unregister the peer, stop the watchers, and leave the
 * rest to the tick, so that no caller up the stack meets a freed client.
 */
void
client_close(struct client *c, const char *why)
{
	struct lookupd *l = c->l;

	if (c->dead)
		return;
	c->dead = true;
	if (c->s.got_magic)
		log_info("CLIENT(%s): closing (%s)", c->s.remote, why);
	v1_end(&c->s);
	ev_io_stop(l->loop, &c->rd);
	ev_io_stop(l->loop, &c->wr);
	ev_timer_stop(l->loop, &c->linger);
	TAILQ_REMOVE(&l->clients, c, link);
	TAILQ_INSERT_TAIL(&l->dead, c, link);
}

void
client_close_all(struct lookupd *l, const char *why)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&l->clients)) != NULL)
		client_close(c, why);
}

void
client_reap(struct lookupd *l)
{
	struct client *c;

	while ((c = TAILQ_FIRST(&l->dead)) != NULL) {
		TAILQ_REMOVE(&l->dead, c, link);
		close(c->fd);
		buf_free(&c->in);
		v1_free(&c->s);
		free(c);
	}
}
