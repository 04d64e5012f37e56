/*
 * The built-in history, in place of Go's graphite graphs: every
 * --sample-interval the producers' /stats are read (the same calls as
 * GET /api/counter) and one point is kept per series: the cluster, each
 * node, each topic, each channel, each topic on a node and each channel
 * on a node.  A point is the cumulative message count, the depth and
 * the in-flight count; the rate is computed when asked, from two
 * neighbouring samples.
 *
 * Bounded whatever the cluster holds: each series is a fixed ring of
 * --history / --sample-interval slots (24 bytes a slot), and there are
 * at most --history-series of them.  Past that, new series are not
 * kept (and counted as dropped); a series not seen for a whole history
 * window is freed, so a cluster whose topics come and go does not fill
 * the table for good.  Series are made in the order cluster, nodes,
 * topics, channels, then per-node topics and channels, so the cluster
 * views fill the table first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "buffer.h"
#include "hmap.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

struct point {
	int64_t	count, depth, in_flight;	/* count -1: no sample */
};

struct series {
	char		*key;
	size_t		 klen;
	int64_t		 last_tick;
	struct point	*ring;
};

struct history {
	struct admin	*a;
	ev_timer	 timer;
	size_t		 slots;
	int64_t		 tick;		/* samples taken */
	int64_t		*ts;		/* unix seconds of each slot */
	struct hmap	 map;		/* key -> struct series */
	size_t		 max, dropped;
	bool		 running;	/* a sample in progress */
};

/* "node\x1ftopic\x1fchannel", empty parts for "all". */
static char *
series_key(const char *node, const char *topic, const char *channel,
    size_t *len)
{
	char *k = xasprintf("%s\x1f%s\x1f%s", node, topic, channel);

	*len = strlen(k);
	return k;
}

static void
record(struct history *h, const char *node, const char *topic,
    const char *channel, int64_t count, int64_t depth, int64_t in_flight)
{
	struct series *s;
	size_t len, i, slot = (size_t)(h->tick % (int64_t)h->slots);
	char *k = series_key(node, topic, channel, &len);

	if ((s = hmap_get(&h->map, k, len)) == NULL) {
		if (hmap_len(&h->map) >= h->max) {
			h->dropped++;
			free(k);
			return;
		}
		s = xcalloc(1, sizeof(*s));
		s->key = k;
		s->klen = len;
		s->ring = xreallocarray(NULL, h->slots, sizeof(*s->ring));
		for (i = 0; i < h->slots; i++)
			s->ring[i].count = -1;
		hmap_put(&h->map, s->key, s->klen, s);
	} else
		free(k);
	if (s->last_tick == h->tick + 1) {
		/* A second row for the same series this tick: summed. */
		s->ring[slot].count = wadd(s->ring[slot].count, count);
		s->ring[slot].depth = wadd(s->ring[slot].depth, depth);
		s->ring[slot].in_flight = wadd(s->ring[slot].in_flight,
		    in_flight);
		return;
	}
	s->last_tick = h->tick + 1;
	s->ring[slot].count = count;
	s->ring[slot].depth = depth;
	s->ring[slot].in_flight = in_flight;
}

static void
series_free(struct series *s)
{
	free(s->key);
	free(s->ring);
	free(s);
}

/* Clear this tick's slot everywhere; free the series gone for a window. */
static void
sweep(struct history *h)
{
	size_t slot = (size_t)(h->tick % (int64_t)h->slots), pos = 0, n = 0, i;
	struct series *s, **gone;

	h->dropped = 0;
	gone = xreallocarray(NULL, hmap_len(&h->map) + 1, sizeof(*gone));
	while ((s = hmap_next(&h->map, &pos)) != NULL) {
		s->ring[slot].count = -1;
		if (h->tick + 1 - s->last_tick > (int64_t)h->slots)
			gone[n++] = s;
	}
	for (i = 0; i < n; i++) {
		hmap_del(&h->map, gone[i]->key, gone[i]->klen);
		series_free(gone[i]);
	}
	free(gone);
}

static void
sampled(struct op *op)
{
	struct history *h = op->a->hist;
	struct topic_stats *t;
	struct channel_stats *c;
	int64_t cc = 0, cd = 0, ci = 0, tin;
	size_t i, k, pass;
	struct timespec now;

	h->running = false;
	if (op->fatal != NULL) {
		log_warnx("history: %s", op->fatal);
		op_free(op);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	sweep(h);
	h->ts[h->tick % (int64_t)h->slots] = now.tv_sec;
	for (i = 0; i < op->topics.n; i++) {
		t = op->topics.v[i];
		cc = wadd(cc, t->message_count);
		cd = wadd(cd, t->depth);
		for (k = 0; k < t->channels.n; k++) {
			c = t->channels.v[k];
			cd = wadd(cd, c->depth);
			ci = wadd(ci, c->in_flight_count);
		}
	}
	record(h, "", "", "", cc, cd, ci);
	/* Pass 0: nodes; 1: topics; 2: channels; 3: per node. */
	for (pass = 0; pass < 4; pass++)
		for (i = 0; i < op->topics.n; i++) {
			t = op->topics.v[i];
			tin = 0;
			for (k = 0; k < t->channels.n; k++) {
				c = t->channels.v[k];
				tin = wadd(tin, c->in_flight_count);
				if (pass == 2)
					record(h, "", t->topic_name,
					    c->channel_name, c->message_count,
					    c->depth, c->in_flight_count);
				else if (pass == 3)
					record(h, t->node, t->topic_name,
					    c->channel_name, c->message_count,
					    c->depth, c->in_flight_count);
			}
			if (pass == 0) {
				int64_t d = t->depth;

				for (k = 0; k < t->channels.n; k++)
					d = wadd(d, ((struct channel_stats *)
					    t->channels.v[k])->depth);
				record(h, t->node, "", "", t->message_count,
				    d, tin);
			} else if (pass == 1)
				record(h, "", t->topic_name, "",
				    t->message_count, t->depth, tin);
			else if (pass == 3)
				record(h, t->node, t->topic_name, "",
				    t->message_count, t->depth, tin);
		}
	if (op->errs.n > 0)
		log_warnx("history: %s", errs_join(op, &op->errs));
	h->tick++;
	op_free(op);
}

/*
 * A node with no topic has no row in the stats: its series gets a zero
 * point all the same, so a node's graph shows it was asked.
 */
static void
sample_producers(struct op *op)
{
	if (op->fatal != NULL) {
		op->a->hist->running = false;
		log_warnx("history: %s", op->fatal);
		op_free(op);
		return;
	}
	ci_nsqd_stats(op, "", "", false, sampled);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct history *h = w->data;
	struct op *op;

	(void)loop;
	(void)revents;
	/* A slow round is not overlapped by the next one. */
	if (h->running)
		return;
	h->running = true;
	op = op_new(h->a, NULL);
	ci_producers(op, sample_producers);
}

int
history_start(struct admin *a, char *err, size_t errlen)
{
	struct history *h;
	int64_t slots;

	slots = a->o->history / a->o->sample_interval;
	if (slots < 2) {
		snprintf(err, errlen, "--history (%llds) must hold at least "
		    "two --sample-interval", (long long)(a->o->history /
		    NS_SEC));
		return -1;
	}
	if (slots * a->o->history_series > INT64_C(1) << 24) {
		snprintf(err, errlen, "--history / --sample-interval * "
		    "--history-series is %lld points, more than %lld "
		    "(%lld MiB)", (long long)(slots * a->o->history_series),
		    (long long)(INT64_C(1) << 24),
		    (long long)(((INT64_C(1) << 24) *
		    (int64_t)sizeof(struct point)) >> 20));
		return -1;
	}
	h = xcalloc(1, sizeof(*h));
	h->a = a;
	h->slots = (size_t)slots;
	h->max = (size_t)a->o->history_series;
	h->ts = xcalloc(h->slots, sizeof(*h->ts));
	hmap_init(&h->map);
	ev_timer_init(&h->timer, timer_cb, 0.,
	    (double)a->o->sample_interval / 1e9);
	h->timer.data = h;
	ev_timer_start(a->loop, &h->timer);
	a->hist = h;
	return 0;
}

void
history_stop(struct admin *a)
{
	struct history *h = a->hist;
	struct series *s;
	size_t pos = 0;

	if (h == NULL)
		return;
	ev_timer_stop(a->loop, &h->timer);
	while ((s = hmap_next(&h->map, &pos)) != NULL) {
		hmap_del(&h->map, s->key, s->klen);
		series_free(s);
		pos = 0;
	}
	hmap_free(&h->map);
	free(h->ts);
	free(h);
	a->hist = NULL;
}

void
history_reply(struct admin *a, struct http_req *req)
{
	struct history *h = a->hist;
	const char *node = "", *topic = "", *channel = "", *v;
	struct series *s;
	struct point *p, *prev;
	struct buf *b;
	struct jw w;
	size_t len, slot, pslot;
	int64_t i, first, dt;
	char *k;

	if (http_query_valid(req) == -1) {
		http_reply_error(req, 400, "INVALID_REQUEST");
		return;
	}
	if (http_query_get(req, "node", &v) == 1)
		node = v;
	if (http_query_get(req, "topic", &v) == 1)
		topic = v;
	if (http_query_get(req, "channel", &v) == 1)
		channel = v;
	if (channel[0] != '\0' && topic[0] == '\0') {
		http_reply_error(req, 400, "MISSING_ARG_TOPIC");
		return;
	}
	k = series_key(node, topic, channel, &len);
	s = hmap_get(&h->map, k, len);
	free(k);
	if (s == NULL) {
		http_reply_error(req, 404, "SERIES_NOT_FOUND");
		return;
	}
	b = http_reply_begin(req);
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "interval");
	jw_int(&w, a->o->sample_interval / NS_SEC);
	jw_key(&w, "points");
	jw_arr_begin(&w);
	first = h->tick > (int64_t)h->slots ? h->tick - (int64_t)h->slots : 0;
	for (i = first; i < h->tick; i++) {
		slot = (size_t)(i % (int64_t)h->slots);
		p = &s->ring[slot];
		if (p->count < 0)
			continue;
		jw_arr_begin(&w);
		jw_int(&w, h->ts[slot]);
		prev = NULL;
		if (i > first) {
			pslot = (size_t)((i - 1) % (int64_t)h->slots);
			prev = &s->ring[pslot];
			dt = h->ts[slot] - h->ts[pslot];
			if (prev->count < 0 || p->count < prev->count ||
			    dt <= 0)
				prev = NULL;
		}
		if (prev == NULL)
			jw_null(&w);
		else
			jw_double(&w, (double)(p->count - prev->count) /
			    (double)(h->ts[slot] - h->ts[pslot]));
		jw_int(&w, p->depth);
		jw_int(&w, p->in_flight);
		jw_arr_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (jw_finish(&w) == -1)
		buf_fail(b);
	http_reply_end(req, 200, "application/json; charset=utf-8");
}

void
history_reply_stats(struct admin *a, struct http_req *req)
{
	struct history *h = a->hist;
	struct buf *b = http_reply_begin(req);
	struct jw w;

	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "interval");
	jw_int(&w, a->o->sample_interval / NS_SEC);
	jw_key(&w, "slots");
	jw_uint(&w, h->slots);
	jw_key(&w, "samples");
	jw_int(&w, h->tick);
	jw_key(&w, "series");
	jw_uint(&w, hmap_len(&h->map));
	jw_key(&w, "max_series");
	jw_uint(&w, h->max);
	jw_key(&w, "dropped");
	jw_uint(&w, h->dropped);
	jw_obj_end(&w);
	if (jw_finish(&w) == -1)
		buf_fail(b);
	http_reply_end(req, 200, "application/json; charset=utf-8");
}
