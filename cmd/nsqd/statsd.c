/*
 * statsd (Go nsqd/statsd.go): every --statsd-interval, the figures of
 * /stats go over UDP to --statsd-address as statsd lines, with Go's
 * names (the fields, their names and order are statfields.c's):
 *
 *   <prefix>topic.<t>.message_count:<n>|c     (counters: the change
 *   <prefix>topic.<t>.message_bytes:<n>|c      since the last push)
 *   <prefix>topic.<t>.depth:<n>|g, .backend_depth,
 *       .e2e_processing_latency_<pct> (gauges)
 *   <prefix>topic.<t>.channel.<c>.message_count|requeue_count|timeout_count (c)
 *   <prefix>topic.<t>.channel.<c>.depth|backend_depth|in_flight_count|
 *       deferred_count|clients|e2e_processing_latency_<pct> (g)
 *   <prefix>mem.heap_objects ... mem.next_gc_bytes (g), mem.gc_runs (c)
 *
 * Lines are packed into datagrams of at most --statsd-udp-packet-size
 * (a longer line goes alone), and the datagrams are spread over the
 * interval less a second, the first at once, as Go's SpreadWriter does,
 * so a big nsqd does not burst.  The prefix's "%s" becomes
 * <broadcast-address>_<broadcast-http-port> with '.' and ':' turned into
 * '_', and a '.' is appended if missing (the option then reads so, as in
 * Go).  The socket is made again for each push, so a statsd that moves
 * is found; the address is resolved with getaddrinfo(), which may block
 * the loop if it is a name and DNS is slow: give an address.  The
 * counters' values at the last push are statsd's own (struct sd_snap).
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "net.h"
#include "nsqd.h"
#include "options.h"
#include "statfields.h"
#include "xmalloc.h"

/*
 * A topic's or a channel's counters at the last push, by field index in
 * its level: statsd sends counters as the change since then.  Kept here,
 * not in the topic or channel: only statsd needs them.
 */
struct sd_snap {
	char		*topic;
	char		*channel;	/* NULL: the topic's own */
	const void	*obj;		/* whose they were */
	uint64_t	 v[];
};

struct statsd {
	struct nsqd	*n;
	ev_timer	 tick;
	ev_timer	 spread;
	int		 fd;
	struct buf	*pkts;		/* datagrams of this push */
	size_t		 npkts;
	size_t		 next;		/* the next one to send */
	struct buf	 line;
	struct buf	 cur;		/* the datagram being filled */
	bool		 line_warned;	/* a line too long, logged */
	struct sd_snap	**snap;		/* the last push's, sorted */
	size_t		 nsnap;
	struct sd_snap	**fresh;	/* this push's, in push order */
	size_t		 nfresh;
	uint64_t	 mem[SF_MAX];	/* memory counters, last push */
};

/*
 * The --statsd-prefix as given, kept: the option now holds the expanded
 * one (and the given string may be the option parser's allocation).
 */
static const char *given_prefix;

static void	tick_cb(struct ev_loop *, ev_timer *, int);
static void	spread_cb(struct ev_loop *, ev_timer *, int);

/* Go's statsd.HostKey of net.JoinHostPort(addr, port). */
static char *
host_key(const char *addr, int64_t port)
{
	char *k, *p;

	if (strchr(addr, ':') != NULL)
		k = xasprintf("[%s]:%lld", addr, (long long)port);
	else
		k = xasprintf("%s:%lld", addr, (long long)port);
	for (p = k; *p != '\0'; p++) {
		if (*p == '.' || *p == ':')
			*p = '_';
	}
	return k;
}

/* Every "%s" in fmt replaced by key, and a '.' at the end. */
static char *
make_prefix(const char *fmt, const char *key)
{
	struct buf b;
	const char *p;
	char *s;

	/* Bounded by the command line's length only: it cannot fail. */
	buf_init(&b, 64, SIZE_MAX / 2);
	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			buf_add(&b, key, strlen(key));
			p++;
		} else
			buf_add(&b, p, 1);
	}
	if (buf_len(&b) > 0 && buf_data(&b)[buf_len(&b) - 1] != '.')
		buf_add(&b, ".", 1);
	s = xstrndup(buf_data(&b), buf_len(&b));
	buf_free(&b);
	return s;
}

static void
send_pkt(struct statsd *s, const struct buf *p)
{
	if (s->fd == -1)
		return;
	if (send(s->fd, buf_data(p), buf_len(p), MSG_DONTWAIT) == -1 &&
	    errno != ECONNREFUSED)
		log_warn("STATSD: send");
}

/* Finish a push: send what is left at once, close the socket. */
static void
flush_all(struct statsd *s)
{
	ev_timer_stop(s->n->loop, &s->spread);
	while (s->next < s->npkts)
		send_pkt(s, &s->pkts[s->next++]);
	while (s->npkts > 0)
		buf_free(&s->pkts[--s->npkts]);
	free(s->pkts);
	s->pkts = NULL;
	s->next = 0;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

/* The datagram being filled becomes one to send. */
static void
end_pkt(struct statsd *s)
{
	if (buf_len(&s->cur) == 0)
		return;
	s->pkts = xreallocarray(s->pkts, s->npkts + 1, sizeof(*s->pkts));
	s->pkts[s->npkts++] = s->cur;
	buf_init(&s->cur, 512, 1 << 20);
}

/* One line, as Go's BoundaryBufferedWriter places it. */
static void
emit(struct statsd *s, const char *stat, int64_t v, char type)
{
	size_t max = (size_t)s->n->o->statsd_udp_packet_size;

	buf_reset(&s->line);
	buf_addf(&s->line, "%s%s:%lld|%c\n",
	    s->n->o->statsd_prefix, stat, (long long)v, type);
	if (buf_failed(&s->line)) {
		/* Over 64 KiB, past any datagram: never sent, said once. */
		if (!s->line_warned)
			log_warnx("STATSD: a line of %s%s is too long to send",
			    s->n->o->statsd_prefix, stat);
		s->line_warned = true;
		return;
	}
	if (buf_len(&s->cur) + buf_len(&s->line) > max)
		end_pkt(s);
	/* A datagram is at most max bytes and the line fits an empty one. */
	if (buf_append(&s->cur, buf_data(&s->line), buf_len(&s->line)) == -1) {
		end_pkt(s);
		buf_add(&s->cur, buf_data(&s->line), buf_len(&s->line));
	}
}

static void
emit_e2e(struct statsd *s, const char *stat, struct quantile *q)
{
	struct nsqd *n = s->n;
	char name[1500];
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < n->o->e2e_percentiles.n; i++) {
		double p = n->o->e2e_percentiles.v[i];

		snprintf(name, sizeof(name), "%s_%.0f", stat, p * 100.0);
		emit(s, name, quantile_query(q, p, nsqd_now(n)), 'g');
	}
}

/* Snapshots in (topic, channel) order, a topic's own first. */
static int
snap_cmp(const char *topic, const char *channel, const struct sd_snap *b)
{
	int c = strcmp(topic, b->topic);

	if (c != 0 || (channel == NULL && b->channel == NULL))
		return c;
	if (channel == NULL || b->channel == NULL)
		return channel == NULL ? -1 : 1;
	return strcmp(channel, b->channel);
}

static int
snap_sort(const void *a, const void *b)
{
	const struct sd_snap *x = *(struct sd_snap *const *)a;

	return snap_cmp(x->topic, x->channel, *(struct sd_snap *const *)b);
}

/* The last push's counters of this topic or channel, or NULL. */
static const struct sd_snap *
snap_find(const struct statsd *s, const char *topic, const char *channel)
{
	size_t lo = 0, hi = s->nsnap, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = snap_cmp(topic, channel, s->snap[mid]);
		if (c == 0)
			return s->snap[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void
snap_free(struct sd_snap **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i]->topic);
		free(v[i]->channel);
		free(v[i]);
	}
	free(v);
}

/* This push's snapshots become the last push's. */
static void
snap_rotate(struct statsd *s)
{
	snap_free(s->snap, s->nsnap);
	qsort(s->fresh, s->nfresh, sizeof(*s->fresh), snap_sort);
	s->snap = s->fresh;
	s->nsnap = s->nfresh;
	s->fresh = NULL;
	s->nfresh = 0;
}

/*
 * The counters obj had at the last push, and a snapshot of its counters
 * now.  A topic or channel deleted and made again under its name is
 * another object (so it counts from 0, as when the counters lived in
 * it); a new one at the same address is told by a counter lower than
 * the snapshot's.
 */
static const uint64_t *
snap_take(struct statsd *s, const struct sf_level *l, void *obj,
    const char *topic, const char *channel)
{
	static const uint64_t zero[SF_MAX];
	const struct sd_snap *old = snap_find(s, topic, channel);
	struct sd_snap *sn;
	size_t i;

	sn = xcalloc(1, sizeof(*sn) + l->n * sizeof(sn->v[0]));
	sn->topic = xstrdup(topic);
	sn->channel = channel != NULL ? xstrdup(channel) : NULL;
	sn->obj = obj;
	for (i = 0; i < l->n; i++) {
		if (l->f[i].kind != SF_COUNTER)
			continue;
		sn->v[i] = sf_value(&l->f[i], obj);
		if (old != NULL && sn->v[i] < old->v[i])
			old = NULL;
	}
	s->fresh = xreallocarray(s->fresh, s->nfresh + 1, sizeof(*s->fresh));
	s->fresh[s->nfresh++] = sn;
	return old != NULL && old->obj == obj ? old->v : zero;
}

/*
 * The statsd lines of one object: the fields the table gives statsd, in
 * its order, as <base>.<name>; counters as the change since prev (and
 * prev then set to now when it is writable).
 */
static void
emit_level(struct statsd *s, const struct sf_level *l, void *obj,
    const char *base, const uint64_t *prev, uint64_t *now)
{
	const struct statfield *v[SF_MAX];
	struct quantile *q;
	char stat[1100];
	uint64_t cur;
	size_t i, k, f;
	bool owned;

	k = sf_order(l, SF_STATSD, v);
	for (i = 0; i < k; i++) {
		f = (size_t)(v[i] - l->f);
		snprintf(stat, sizeof(stat), "%s.%s", base, v[i]->statsd);
		if (v[i]->nest == SF_N_E2E) {
			q = sf_e2e(l, obj, &owned);
			emit_e2e(s, stat, q);
			if (owned)
				quantile_free(q);
			continue;
		}
		cur = sf_value(v[i], obj);
		if (v[i]->kind != SF_COUNTER) {
			emit(s, stat, (int64_t)cur, 'g');
			continue;
		}
		emit(s, stat, (int64_t)(cur - prev[f]), 'c');
		if (now != NULL)
			now[f] = cur;
	}
}

static bool
excluded(const struct nsqd *n, const char *name)
{
	return n->o->statsd_exclude_ephemeral &&
	    name_ephemeral(name, strlen(name));
}

/* Connected UDP socket to --statsd-address; -1 (logged) on failure. */
static int
dial(const char *addr)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[16];
	int p, fd = -1;

	if (net_split_hostport(addr, host, sizeof(host), &p) == -1)
		goto fail;
	snprintf(port, sizeof(port), "%d", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
	    &res) != 0)
		goto fail;
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd != -1 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd != -1)
		return fd;
fail:
	log_error("failed to create UDP socket to statsd(%s)", addr);
	return -1;
}

static void
push(struct statsd *s)
{
	struct nsqd *n = s->n;
	struct nsqd_opts *o = n->o;
	struct topic **ts;
	struct channel **cs;
	char base[1024];
	size_t nt, nc, i, j;
	double gap;

	flush_all(s);
	if ((s->fd = dial(o->statsd_address)) == -1)
		return;
	log_info("STATSD: pushing stats to %s", o->statsd_address);
	ts = stats_topics(n, &nt);
	for (i = 0; i < nt; i++) {
		struct topic *t = ts[i];

		if (excluded(n, t->name))
			continue;
		snprintf(base, sizeof(base), "topic.%s", t->name);
		emit_level(s, &sf_topic, t, base,
		    snap_take(s, &sf_topic, t, t->name, NULL), NULL);
		cs = stats_channels(t, &nc);
		for (j = 0; j < nc; j++) {
			struct channel *ch = cs[j];

			if (excluded(n, ch->name))
				continue;
			snprintf(base, sizeof(base), "topic.%s.channel.%s",
			    t->name, ch->name);
			emit_level(s, &sf_channel, ch, base,
			    snap_take(s, &sf_channel, ch, t->name, ch->name),
			    NULL);
		}
		free(cs);
	}
	free(ts);
	snap_rotate(s);
	if (o->statsd_mem_stats) {
		struct nsqd_mem m;

		stats_mem(n, &m);
		emit_level(s, &sf_mem, &m, "mem", s->mem, s->mem);
	}
	end_pkt(s);
	if (s->npkts == 0) {
		flush_all(s);
		return;
	}
	/* The first at once, the rest evenly over the interval less 1 s. */
	send_pkt(s, &s->pkts[s->next++]);
	gap = ((double)o->statsd_interval / 1e9 - 1.0) / (double)s->npkts;
	if (s->next == s->npkts || gap <= 0) {
		flush_all(s);
		return;
	}
	ev_timer_set(&s->spread, gap, gap);
	ev_timer_start(n->loop, &s->spread);
}

static void
spread_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct statsd *s = w->data;

	(void)loop;
	(void)revents;
	if (s->next < s->npkts)
		send_pkt(s, &s->pkts[s->next++]);
	if (s->next == s->npkts)
		flush_all(s);
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	push(w->data);
}

int
statsd_start(struct nsqd *n)
{
	struct nsqd_opts *o = n->o;
	struct statsd *s;
	double iv = (double)o->statsd_interval / 1e9;
	char *key, every[64];

	if (o->statsd_interval <= 0) {
		log_error("FATAL: --statsd-interval must be positive");
		return -1;
	}
	if (o->statsd_prefix[0] != '\0') {
		key = host_key(o->broadcast_address, o->broadcast_http_port);
		given_prefix = o->statsd_prefix;
		o->statsd_prefix = make_prefix(given_prefix, key);
		free(key);
	}
	s = xcalloc(1, sizeof(*s));
	s->n = n;
	s->fd = -1;
	buf_init(&s->line, 256, 1 << 16);
	buf_init(&s->cur, 512, 1 << 20);
	ev_timer_init(&s->tick, tick_cb, iv, iv);
	s->tick.data = s;
	ev_init(&s->spread, spread_cb);
	s->spread.data = s;
	ev_timer_start(n->loop, &s->tick);
	n->statsd = s;
	format_duration(o->statsd_interval, every, sizeof(every));
	log_info("STATSD: every %s to %s, prefix \"%s\" (from \"%s\")",
	    every, o->statsd_address, o->statsd_prefix,
	    given_prefix != NULL ? given_prefix : "");
	return 0;
}

/* At exit: what a push has not sent yet goes at once, as Go's. */
void
statsd_stop(struct nsqd *n)
{
	struct statsd *s = n->statsd;

	if (s == NULL)
		return;
	ev_timer_stop(n->loop, &s->tick);
	flush_all(s);
	buf_free(&s->line);
	buf_free(&s->cur);
	snap_free(s->snap, s->nsnap);
	free(s);
	n->statsd = NULL;
}
