/*
 * nsq-bench writer: publishes --size byte messages to --topic, in MPUB
 * commands of --batch-size messages (PUB when it is 1), over
 * --connections connections.
 *
 * Without --rate, each connection has one command awaiting its OK at a
 * time and sends the next when the OK comes, as Go's bench_writer does, so
 * the figures compare.  With --rate R, a timer queues commands at R
 * messages a second, round-robin over the connections, without waiting for
 * answers; nsqd's OKs still count the messages.
 *
 * The command bytes are built once: every batch is the same, so a
 * connection's queue is only a ring of message counts, written straight
 * from the one buffer with writev.
 */
#include <sys/uio.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "xmalloc.h"

#define MAX_IOV		64
#define RATE_TICK_MIN	0.0005		/* s between rate ticks, at least */

/* The PUB (n == 1 and --batch-size 1) or MPUB command for n messages. */
static char *
build_cmd(const struct bench_opts *o, uint32_t n, size_t *lenp)
{
	size_t size = (size_t)o->size, hdr, len, i;
	char *p, *q;

	hdr = strlen(o->topic) + 6;	/* "MPUB " topic "\n" */
	if (o->batch_size == 1)
		len = hdr + 4 + size;
	else
		len = hdr + 8 + n * (4 + size);
	p = xmalloc(len);
	if (o->batch_size == 1) {
		q = p + sprintf(p, "PUB %s\n", o->topic);
		be32enc(q, (uint32_t)size);
		memset(q + 4, 'n', size);
		len = (size_t)(q + 4 + size - p);
	} else {
		q = p + sprintf(p, "MPUB %s\n", o->topic);
		be32enc(q, (uint32_t)(4 + n * (4 + size)));
		be32enc(q + 4, n);
		q += 8;
		for (i = 0; i < n; i++) {
			be32enc(q, (uint32_t)size);
			memset(q + 4, 'n', size);
			q += 4 + size;
		}
	}
	*lenp = len;
	return p;
}

static char *
cmd_for(struct bench *b, uint32_t n, size_t *len)
{
	if (n == (uint32_t)b->o->batch_size) {
		*len = b->cmd_full_len;
		return b->cmd_full;
	}
	if (b->cmd_rem == NULL || b->rem_n != n) {
		free(b->cmd_rem);
		b->cmd_rem = build_cmd(b->o, n, &b->cmd_rem_len);
		b->rem_n = n;
	}
	*len = b->cmd_rem_len;
	return b->cmd_rem;
}

static void
ring_push(struct bconn *c, uint32_t n)
{
	if (c->q_end - c->q_ack == c->ring_cap) {
		uint64_t cap = c->ring_cap ? c->ring_cap * 2 : 16, i;
		uint32_t *r = xreallocarray(NULL, cap, sizeof(*r));

		for (i = c->q_ack; i < c->q_end; i++)
			r[i & (cap - 1)] = c->ring[i & (c->ring_cap - 1)];
		free(c->ring);
		c->ring = r;
		c->ring_cap = cap;
	}
	c->ring[c->q_end++ & (c->ring_cap - 1)] = n;
}

static uint32_t
ring_at(const struct bconn *c, uint64_t i)
{
	return c->ring[i & (c->ring_cap - 1)];
}

/* Queue the next command on c; false once the run stops issuing. */
static bool
issue(struct bench *b, struct bconn *c)
{
	uint64_t n = (uint64_t)b->o->batch_size;

	if (b->stopping)
		return false;
	if (b->o->count > 0) {
		uint64_t left = (uint64_t)b->o->count - b->issued;

		if (left == 0) {
			b->stopping = true;
			return false;
		}
		if (n > left)
			n = left;
	}
	/* A shorter last batch is built now, not while it is written. */
	if (n != (uint64_t)b->o->batch_size) {
		size_t len;

		(void)cmd_for(b, (uint32_t)n, &len);
	}
	ring_push(c, (uint32_t)n);
	b->issued += n;
	b->outstanding++;
	return true;
}

int
writer_flush(struct bconn *c)
{
	struct bench *b = c->b;
	struct iovec iov[MAX_IOV];
	size_t len, left;
	uint64_t i;
	ssize_t n;
	int niov;
	char *cmd;

	for (;;) {
		if (c->woff == 0 && buf_len(&c->out) > 0 && conn_write_out(c))
			return 1;
		if (c->q_wr == c->q_end)
			return 0;
		niov = 0;
		for (i = c->q_wr; i < c->q_end && niov < MAX_IOV; i++) {
			cmd = cmd_for(b, ring_at(c, i), &len);
			if (i == c->q_wr) {
				cmd += c->woff;
				len -= c->woff;
			}
			iov[niov].iov_base = cmd;
			iov[niov].iov_len = len;
			niov++;
		}
		n = writev(c->fd, iov, niov);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			err(1, "write to %s", b->o->addr);
		}
		while (n > 0) {
			(void)cmd_for(b, ring_at(c, c->q_wr), &len);
			left = len - c->woff;
			if ((size_t)n >= left) {
				n -= (ssize_t)left;
				c->q_wr++;
				c->woff = 0;
			} else {
				c->woff += (size_t)n;
				n = 0;
			}
		}
		if (c->woff != 0)
			return 1;	/* the socket is full */
	}
}

static void
maybe_done(struct bench *b)
{
	if (b->stopping && b->outstanding == 0)
		bench_finish(b);
}

void
writer_response(struct bconn *c, const char *p, size_t len)
{
	struct bench *b = c->b;
	uint32_t n;

	if (len != 2 || memcmp(p, "OK", 2) != 0)
		errx(1, "unexpected response from nsqd: %.*s", (int)len, p);
	if (c->q_ack == c->q_wr)
		errx(1, "nsqd answered OK to a command not sent");
	n = ring_at(c, c->q_ack++);
	b->outstanding--;
	b->msgs += n;
	b->bytes += (uint64_t)n * (uint64_t)b->o->size;
	b->t_last = mono_ns();
	if (b->o->rate == 0)
		(void)issue(b, c);
	maybe_done(b);
}

/* Queue what is due at ns after the start, round-robin. */
static void
issue_due(struct bench *b, int64_t ns)
{
	double due = (double)ns / 1e9 * (double)b->o->rate;
	uint64_t touched = 0;

	while (!b->stopping && (double)b->issued < due) {
		if (!issue(b, &b->conns[b->rr++ % b->nconns]))
			break;
		touched++;
	}
	if (touched > 0)
		for (size_t i = 0; i < b->nconns; i++)
			conn_flush(&b->conns[i]);
}

static void
rate_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bench *b = w->data;

	int64_t ns = mono_ns() - b->t_start;

	(void)loop;
	(void)revents;
	issue_due(b, ns < b->o->runfor ? ns : b->o->runfor);
	maybe_done(b);
}

void
writer_start(struct bench *b)
{
	double tick;

	if (b->o->rate == 0) {
		for (size_t i = 0; i < b->nconns; i++) {
			(void)issue(b, &b->conns[i]);
			conn_flush(&b->conns[i]);
		}
		maybe_done(b);
		return;
	}
	tick = (double)b->o->batch_size / (double)b->o->rate;
	if (tick < RATE_TICK_MIN)
		tick = RATE_TICK_MIN;
	ev_timer_init(&b->rate_timer, rate_cb, 0, tick);
	b->rate_timer.data = b;
	ev_timer_start(b->loop, &b->rate_timer);
}

/*
 * With --rate, what the clock owed up to the end is sent first, so a run
 * slowed by a busy machine still publishes rate * runfor messages.
 */
void
writer_stop(struct bench *b)
{
	if (b->o->rate > 0) {
		ev_timer_stop(b->loop, &b->rate_timer);
		issue_due(b, b->o->runfor);
	}
	b->stopping = true;
	maybe_done(b);
}

int
writer_main(const struct bench_opts *o)
{
	struct bench b;
	int64_t ns;

	memset(&b, 0, sizeof(b));
	b.o = o;
	b.writer = true;
	b.loop = ev_default_loop(EVFLAG_AUTO);
	b.cmd_full = build_cmd(o, (uint32_t)o->batch_size, &b.cmd_full_len);
	conns_open(&b);
	ev_run(b.loop, 0);
	ns = b.t_last - b.t_start;
	printf("mode=writer topic=%s conns=%zu size=%lld batch=%lld rate=%lld ",
	    o->topic, b.nconns, (long long)o->size, (long long)o->batch_size,
	    (long long)o->rate);
	print_rates(b.msgs, b.bytes, ns);
	printf("\n");
	fflush(stdout);
	conns_close(&b);
	free(b.cmd_full);
	free(b.cmd_rem);
	return 0;
}
