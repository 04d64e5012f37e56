/*
 * nsq-bench reader: subscribes --connections connections to --topic (each
 * to the next --channel in turn), sends RDY --rdy on each, and FINs every
 * message it gets, as Go's bench_reader does.  It stops after --runfor, or
 * once --count messages have come, but never before nsqd has answered its
 * SUBs, so that "--rdy 0 --runfor 0" creates channels and leaves.
 *
 * The time of a run is from the RDYs to the last message received, so a
 * reader started on a full queue measures the drain, and one left running
 * past the end of the messages is not charged for the wait.  Each
 * message's latency is the time from nsqd's timestamp in its header (when
 * nsqd accepted the publish, Unix ns) to the read that brought it: with
 * both processes on one machine the two clocks are one.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "message.h"
#include "xmalloc.h"

void
reader_message(struct bconn *c, const char *p, size_t len, int64_t now)
{
	struct bench *b = c->b;
	char fin[4 + MSG_ID_LEN + 1];
	int64_t ts, lat;
	uint16_t attempts;

	if (len < MSG_HEADER_LEN)
		errx(1, "message frame of %zu bytes from nsqd", len);
	ts = (int64_t)be64dec(p);
	attempts = be16dec(p + 8);
	b->msgs++;
	b->bytes += len - MSG_HEADER_LEN;
	if (attempts > 1)
		b->redelivered++;
	lat = now - ts;
	hist_add(&b->lat, lat > 0 ? (uint64_t)lat : 0);
	b->got = true;
	memcpy(fin, "FIN ", 4);
	memcpy(fin + 4, p + 10, MSG_ID_LEN);
	fin[4 + MSG_ID_LEN] = '\n';
	conn_queue(c, fin, sizeof(fin));
}

void
reader_read_done(struct bconn *c)
{
	struct bench *b = c->b;

	if (b->got) {
		b->t_last = mono_ns();
		b->got = false;
	}
	conn_flush(c);
	if (b->o->count > 0 && b->msgs >= (uint64_t)b->o->count)
		bench_finish(b);
}

/*
 * SUB goes with the RDY at the start, as Go's bench_reader sends them, so
 * that the run's time includes nsqd's work to set up the subscription.
 */
void
reader_start(struct bench *b)
{
	char line[256];
	int len;

	for (size_t i = 0; i < b->nconns; i++) {
		struct bconn *c = &b->conns[i];

		len = snprintf(line, sizeof(line), "SUB %s %s\nRDY %lld\n",
		    b->o->topic, c->channel, (long long)b->o->rdy);
		conn_queue(c, line, (size_t)len);
		c->oks = 1;
		b->subs_pending++;
		conn_flush(c);
	}
}

void
reader_response(struct bconn *c, const char *p, size_t len)
{
	struct bench *b = c->b;

	if (c->oks == 0 || len != 2 || memcmp(p, "OK", 2) != 0)
		errx(1, "unexpected response from nsqd: %.*s", (int)len, p);
	c->oks--;
	if (--b->subs_pending == 0 && b->stopping)
		bench_finish(b);
}

/* The end of --runfor; a run always sees its SUBs answered. */
void
reader_stop(struct bench *b)
{
	b->stopping = true;
	if (b->subs_pending == 0)
		bench_finish(b);
}

static double
us(uint64_t ns)
{
	return (double)ns / 1e3;
}

int
reader_main(const struct bench_opts *o)
{
	struct bench b;
	int64_t ns;

	memset(&b, 0, sizeof(b));
	b.o = o;
	b.loop = ev_default_loop(EVFLAG_AUTO);
	hist_init(&b.lat);
	conns_open(&b);
	ev_run(b.loop, 0);
	ns = b.msgs > 0 ? b.t_last - b.t_start : mono_ns() - b.t_start;
	printf("mode=reader topic=%s channels=%zu conns=%zu rdy=%lld ",
	    o->topic, o->channels.n, b.nconns, (long long)o->rdy);
	print_rates(b.msgs, b.bytes, ns);
	printf(" redelivered=%llu nonfatal=%llu lat_p50_us=%.1f "
	    "lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f\n",
	    (unsigned long long)b.redelivered,
	    (unsigned long long)b.nonfatal,
	    us(hist_quantile(&b.lat, 0.5)), us(hist_quantile(&b.lat, 0.99)),
	    us(hist_quantile(&b.lat, 0.999)), us(b.lat.max));
	fflush(stdout);
	conns_close(&b);
	return 0;
}
