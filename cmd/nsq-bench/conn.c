/*
 * Connections to nsqd for the writer and the reader: a non-blocking
 * connect, the V2 handshake (magic and IDENTIFY), the
 * frame decoder, and the start of the run once every connection is ready
 * (at --deadline if one was given), so that connecting is never timed.
 *
 * A run is a benchmark, not a client library: any protocol surprise or
 * fatal error frame ends the program with a message, and nothing is
 * retried.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "xmalloc.h"

#define IN_CAP		(256 * 1024)
#define OUT_MAX		(64 * 1024 * 1024)
#define GUARD_NS	(30 * NS_SEC)	/* past --runfor: nsqd is stuck */

static const char heartbeat[] = "_heartbeat_";

static void	read_cb(struct ev_loop *, ev_io *, int);
static void	write_cb(struct ev_loop *, ev_io *, int);

void
conn_queue(struct bconn *c, const void *p, size_t len)
{
	if (buf_append(&c->out, p, len) == -1)
		errx(1, "output to nsqd piled up past %d bytes", OUT_MAX);
}

int
conn_write_out(struct bconn *c)
{
	ssize_t n;

	while (buf_len(&c->out) > 0) {
		n = buf_write_fd(&c->out, c->fd);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			err(1, "write to %s", c->b->o->addr);
		}
	}
	buf_compact(&c->out);
	return 0;
}

void
conn_flush(struct bconn *c)
{
	int pending;

	if (c->state == CS_CONNECTING)
		return;
	pending = c->b->writer ? writer_flush(c) : conn_write_out(c);
	if (pending)
		ev_io_start(c->b->loop, &c->wr);
	else
		ev_io_stop(c->b->loop, &c->wr);
}

/* Append one V2 command with a body: NAME\n [size] body. */
static void
queue_body_cmd(struct bconn *c, const char *line, const char *body)
{
	unsigned char sz[4];

	be32enc(sz, (uint32_t)strlen(body));
	conn_queue(c, line, strlen(line));
	conn_queue(c, sz, sizeof(sz));
	conn_queue(c, body, strlen(body));
}

static void
handshake(struct bconn *c)
{
	char host[128] = "nsq-bench", id[256];

	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "{\"client_id\":\"nsq-bench\","
	    "\"hostname\":\"%s\",\"user_agent\":\"nsq-bench/%s\","
	    "\"feature_negotiation\":false}", host, NSQ_VERSION);
	conn_queue(c, "  V2", 4);
	queue_body_cmd(c, "IDENTIFY\n", id);
	c->oks = 1;
	c->state = CS_HANDSHAKE;
	ev_io_start(c->b->loop, &c->rd);
	conn_flush(c);
}

static void
connected(struct bconn *c)
{
	socklen_t len = sizeof(int);
	int e = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	if (e != 0)
		errx(1, "dial %s: %s", c->b->o->addr, strerror(e));
	handshake(c);
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bconn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == CS_CONNECTING) {
		ev_io_stop(c->b->loop, &c->wr);
		connected(c);
		return;
	}
	conn_flush(c);
}

static void
end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = w->data;

	(void)loop;
	(void)revents;
	if (b->writer)
		writer_stop(b);
	else
		reader_stop(b);
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = w->data;

	(void)loop;
	(void)revents;
	errx(1, "the run did not end %lld s after --runfor: %llu messages "
	    "still unanswered", (long long)(GUARD_NS / NS_SEC),
	    (unsigned long long)b->outstanding);
}

/* Every connection is ready and the deadline (if any) has come. */
static void
begin(struct bench *b)
{
	double runfor = (double)b->o->runfor / 1e9;

	ev_now_update(b->loop);
	b->t_start = mono_ns();
	b->t_last = b->t_start;
	b->running = true;
	ev_timer_init(&b->end_timer, end_cb, runfor, 0);
	b->end_timer.data = b;
	ev_timer_start(b->loop, &b->end_timer);
	ev_timer_init(&b->guard_timer, guard_cb,
	    runfor + (double)GUARD_NS / 1e9, 0);
	b->guard_timer.data = b;
	ev_timer_start(b->loop, &b->guard_timer);
	for (size_t i = 0; i < b->nconns; i++)
		b->conns[i].state = CS_RUNNING;
	if (b->writer)
		writer_start(b);
	else
		reader_start(b);
}

static void
start_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	begin(w->data);
}

void
conns_ready(struct bench *b, struct bconn *c)
{
	int64_t wait;

	c->state = CS_READY;
	if (++b->nready < b->nconns)
		return;
	wait = b->o->deadline_ns > 0 ? b->o->deadline_ns - real_ns() : 0;
	if (wait <= 0) {
		begin(b);
		return;
	}
	fprintf(stderr, "nsq-bench: sleeping until %s UTC (%.3f s)\n",
	    b->o->deadline, (double)wait / 1e9);
	ev_timer_init(&b->start_timer, start_cb, (double)wait / 1e9, 0);
	b->start_timer.data = b;
	ev_timer_start(b->loop, &b->start_timer);
}

static void
on_response(struct bconn *c, const char *p, size_t len)
{
	if (len == sizeof(heartbeat) - 1 && memcmp(p, heartbeat, len) == 0) {
		conn_queue(c, "NOP\n", 4);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		if (len != 2 || memcmp(p, "OK", 2) != 0)
			errx(1, "nsqd answered the handshake with %.*s",
			    (int)len, p);
		if (--c->oks == 0)
			conns_ready(c->b, c);
		return;
	}
	if (c->state == CS_RUNNING) {
		if (c->b->writer)
			writer_response(c, p, len);
		else
			reader_response(c, p, len);
		return;
	}
	errx(1, "unexpected response from nsqd: %.*s", (int)len, p);
}

static void
on_error(struct bconn *c, const char *p, size_t len)
{
	static const char *const nonfatal[] = {
		"E_FIN_FAILED", "E_REQ_FAILED", "E_TOUCH_FAILED",
	};

	for (size_t i = 0; i < sizeof(nonfatal) / sizeof(nonfatal[0]); i++) {
		size_t n = strlen(nonfatal[i]);

		if (len >= n && memcmp(p, nonfatal[i], n) == 0) {
			if (c->b->nonfatal++ == 0)
				warnx("nsqd: %.*s", (int)len, p);
			return;
		}
	}
	errx(1, "nsqd: %.*s", (int)len, p);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bconn *c = w->data;
	struct bench *b = c->b;
	const char *p;
	uint32_t size, type;
	int64_t now = 0;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = buf_read_fd(&c->in, c->fd);
	if (n == 0)
		errx(1, "nsqd closed the connection");
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		err(1, "read from %s", b->o->addr);
	}
	while (buf_len(&c->in) >= 8) {
		p = buf_data(&c->in);
		size = be32dec(p);
		if (size < 4 || size > MAX_FRAME)
			errx(1, "bad frame size %u from nsqd", size);
		if (buf_len(&c->in) - 4 < size)
			break;
		type = be32dec(p + 4);
		switch (type) {
		case FRAME_RESPONSE:
			on_response(c, p + 8, size - 4);
			break;
		case FRAME_ERROR:
			on_error(c, p + 8, size - 4);
			break;
		case FRAME_MESSAGE:
			if (b->writer || c->state != CS_RUNNING)
				errx(1, "unexpected message frame");
			if (now == 0)
				now = real_ns();
			reader_message(c, p + 8, size - 4, now);
			break;
		default:
			errx(1, "unknown frame type %u from nsqd", type);
		}
		buf_consume(&c->in, 4 + (size_t)size);
		if (b->finished)
			return;
	}
	if (!b->writer && c->state == CS_RUNNING)
		reader_read_done(c);
	else
		conn_flush(c);
}

void
conns_open(struct bench *b)
{
	const struct bench_opts *o = b->o;
	char errbuf[256];

	b->nconns = (size_t)o->connections;
	b->conns = xcalloc(b->nconns, sizeof(*b->conns));
	for (size_t i = 0; i < b->nconns; i++) {
		struct bconn *c = &b->conns[i];

		c->b = b;
		c->fd = net_connect(o->addr, errbuf, sizeof(errbuf));
		if (c->fd == -1)
			errx(1, "%s", errbuf);
		buf_init(&c->in, IN_CAP, MAX_FRAME + 8);
		buf_init(&c->out, 4096, OUT_MAX);
		if (o->channels.n > 0)
			c->channel = o->channels.v[i % o->channels.n];
		ev_io_init(&c->rd, read_cb, c->fd, EV_READ);
		ev_io_init(&c->wr, write_cb, c->fd, EV_WRITE);
		c->rd.data = c;
		c->wr.data = c;
		c->state = CS_CONNECTING;
		ev_io_start(b->loop, &c->wr);
	}
}

/*
 * The last FINs are written with the socket blocking for at most a
 * second, so that nsqd does not requeue messages the run counted.
 */
static void
drain_out(struct bconn *c)
{
	struct timeval tv = { 1, 0 };
	int fl;

	if (buf_len(&c->out) == 0 || c->state == CS_CONNECTING)
		return;
	fl = fcntl(c->fd, F_GETFL);
	if (fl != -1)
		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (buf_len(&c->out) > 0 && buf_write_fd(&c->out, c->fd) > 0)
		;
}

void
conns_close(struct bench *b)
{
	for (size_t i = 0; i < b->nconns; i++) {
		struct bconn *c = &b->conns[i];

		ev_io_stop(b->loop, &c->rd);
		ev_io_stop(b->loop, &c->wr);
		if (!b->writer)
			drain_out(c);
		close(c->fd);
		buf_free(&c->in);
		buf_free(&c->out);
		free(c->ring);
	}
	free(b->conns);
	b->conns = NULL;
	b->nconns = 0;
}

void
bench_finish(struct bench *b)
{
	if (b->finished)
		return;
	b->finished = true;
	ev_timer_stop(b->loop, &b->end_timer);
	ev_timer_stop(b->loop, &b->guard_timer);
	ev_timer_stop(b->loop, &b->rate_timer);
	ev_break(b->loop, EVBREAK_ALL);
}
