/*
 * What nsqd reports about itself: GET /stats as JSON (the document
 * nsqadmin, nsq_stat and our nsq-stat read, field for field and in Go's
 * key order, with Go's null versus [] and names sorted) or as text, and
 * the figures /metrics and statsd share.  Which fields each level shows,
 * in what order and under which names, is statfields.c's tables; this
 * file walks them and writes the nested parts (channels, clients,
 * pub_counts, e2e latency) and the document's top.
 *
 * Go's memory block comes from its runtime; a C daemon has no garbage
 * collector, so the keys are kept and filled from what glibc's
 * mallinfo2() says: heap_in_use_bytes is what malloc handed out (arena
 * and mmapped chunks), heap_idle_bytes what it holds free,
 * heap_objects the message copies held in memory (queued, in flight,
 * deferred and held by topics); heap_released_bytes and the GC figures
 * are 0.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "nsqd.h"
#include "options.h"
#include "statfields.h"
#include "xmalloc.h"

static int
cmp_topic(const void *a, const void *b)
{
	return strcmp((*(struct topic *const *)a)->name,
	    (*(struct topic *const *)b)->name);
}

static int
cmp_channel(const void *a, const void *b)
{
	return strcmp((*(struct channel *const *)a)->name,
	    (*(struct channel *const *)b)->name);
}

struct topic **
stats_topics(struct nsqd *n, size_t *np)
{
	struct topic **v, *t;
	size_t pos = 0, k = 0;

	*np = 0;
	if (hmap_len(&n->topics) == 0)
		return NULL;
	v = xreallocarray(NULL, hmap_len(&n->topics), sizeof(*v));
	while ((t = hmap_next(&n->topics, &pos)) != NULL)
		v[k++] = t;
	qsort(v, k, sizeof(*v), cmp_topic);
	*np = k;
	return v;
}

struct channel **
stats_channels(struct topic *t, size_t *np)
{
	struct channel **v;

	*np = 0;
	if (t->nchans == 0)
		return NULL;
	v = xreallocarray(NULL, t->nchans, sizeof(*v));
	memcpy(v, t->chans, t->nchans * sizeof(*v));
	qsort(v, t->nchans, sizeof(*v), cmp_channel);
	*np = t->nchans;
	return v;
}

int64_t
topic_backend_depth(const struct topic *t)
{
	return t->dq != NULL ? dq_depth(t->dq) : 0;
}

int64_t
topic_depth(const struct topic *t)
{
	return (int64_t)t->q.n + topic_backend_depth(t);
}

int64_t
channel_backend_depth(const struct channel *ch)
{
	return ch->dq != NULL ? dq_depth(ch->dq) : 0;
}

/* As Go: the memory queue and the disk queue, not in flight/deferred. */
int64_t
channel_depth(const struct channel *ch)
{
	return (int64_t)ch->q.n + channel_backend_depth(ch);
}

struct quantile *
stats_topic_e2e(struct topic *t)
{
	struct quantile *q = NULL;
	int64_t now = nsqd_now(t->nsqd);
	size_t i;

	for (i = 0; i < t->nchans; i++) {
		if (t->chans[i]->e2e == NULL)
			continue;
		if (q == NULL)
			q = quantile_new(t->nsqd->o->e2e_window, now);
		quantile_merge(q, t->chans[i]->e2e, now);
	}
	return q;
}

void
stats_mem(struct nsqd *n, struct nsqd_mem *m)
{
	struct mallinfo2 mi = mallinfo2();
	struct topic *t;
	size_t pos = 0, i;

	memset(m, 0, sizeof(*m));
	m->heap_in_use_bytes = mi.uordblks + mi.hblkhd;
	m->heap_idle_bytes = mi.fordblks;
	while ((t = hmap_next(&n->topics, &pos)) != NULL) {
		m->heap_objects += t->q.n;
		for (i = 0; i < t->nchans; i++) {
			struct channel *ch = t->chans[i];

			m->heap_objects += ch->q.n + ch->inflight.n +
			    ch->deferred_pq.n;
		}
	}
}

/* {"count":N,"percentiles":[{"quantile":q,"value":ns}...] | null} */
static void
jw_e2e(struct jw *w, struct nsqd *n, struct quantile *q)
{
	int64_t now = nsqd_now(n);
	size_t i;

	jw_obj_begin(w);
	jw_key(w, "count");
	jw_uint(w, q != NULL ? quantile_count(q, now) : 0);
	jw_key(w, "percentiles");
	if (q == NULL)
		jw_null(w);
	else {
		jw_arr_begin(w);
		for (i = 0; i < n->o->e2e_percentiles.n; i++) {
			double p = n->o->e2e_percentiles.v[i];

			/* Go marshals a map: keys sorted. */
			jw_obj_begin(w);
			jw_key(w, "quantile");
			jw_double(w, p);
			jw_key(w, "value");
			jw_double(w, (double)quantile_query(q, p, now));
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/*
 * A client's pub_counts: with a topic filter only that topic's count.
 * (Go 1.3.0 stops after the first entry of its map, so a producer of
 * several topics shows one of them, at random; here all are listed.)
 */
static size_t
pub_counts(const struct client *c, const char *topic, size_t *first)
{
	size_t i, k = 0;

	*first = c->npubs;
	for (i = 0; i < c->npubs; i++) {
		if (topic[0] != '\0' && strcmp(c->pubs[i].topic, topic) != 0)
			continue;
		if (k++ == 0)
			*first = i;
	}
	return k;
}

/*
 * The topics a filter selects, as Go's GetStats: a topic filter naming
 * no topic selects nothing and *missing is set (Go then answers null
 * topics and null producers); a channel filter leaves out the topics
 * without that channel.
 */
static struct topic **
select_topics(struct nsqd *n, const char *topic, const char *channel,
    size_t *np, bool *missing)
{
	struct topic **v, *t;
	size_t k = 0, i;

	*missing = false;
	if (topic[0] != '\0') {
		*np = 0;
		if ((t = nsqd_find_topic(n, topic, strlen(topic))) == NULL) {
			*missing = true;
			return NULL;
		}
		v = xmalloc(sizeof(*v));
		v[0] = t;
		*np = 1;
	} else
		v = stats_topics(n, np);
	if (channel[0] == '\0')
		return v;
	for (i = 0; i < *np; i++) {
		if (topic_find_channel(v[i], channel, strlen(channel)) != NULL)
			v[k++] = v[i];
	}
	*np = k;
	return v;
}

static struct channel **
select_channels(struct topic *t, const char *channel, size_t *np)
{
	struct channel **v, *ch;

	if (channel[0] == '\0')
		return stats_channels(t, np);
	*np = 0;
	if ((ch = topic_find_channel(t, channel, strlen(channel))) == NULL)
		return NULL;
	v = xmalloc(sizeof(*v));
	v[0] = ch;
	*np = 1;
	return v;
}

/* What the nested fields of one /stats request show. */
struct jctx {
	struct nsqd	*n;
	const char	*topic;		/* the filters, "" for none */
	const char	*channel;
	bool		 clients;
};

static void	jw_fields(struct jw *, const struct sf_level *, void *,
		    const struct jctx *);

/* A client's pub_counts, left out when it has none (omitempty). */
static void
jw_pubs(struct jw *w, const struct client *c, const char *topic)
{
	size_t i, first;

	if (pub_counts(c, topic, &first) == 0)
		return;
	jw_key(w, "pub_counts");
	jw_arr_begin(w);
	for (i = first; i < c->npubs; i++) {
		if (topic[0] != '\0' && strcmp(c->pubs[i].topic, topic) != 0)
			continue;
		jw_obj_begin(w);
		jw_key(w, "topic");
		jw_str(w, c->pubs[i].topic);
		jw_key(w, "count");
		jw_uint(w, c->pubs[i].count);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void
jw_nest(struct jw *w, const struct sf_level *l, const struct statfield *f,
    void *obj, const struct jctx *x)
{
	struct channel **cs, *ch = obj;
	struct quantile *q;
	size_t i, nc;
	bool owned;

	if (f->nest == SF_N_PUBS) {
		jw_pubs(w, obj, x->topic);
		return;
	}
	jw_key(w, f->key);
	switch (f->nest) {
	case SF_N_CHANNELS:
		jw_arr_begin(w);
		cs = select_channels(obj, x->channel, &nc);
		for (i = 0; i < nc; i++)
			jw_fields(w, &sf_channel, cs[i], x);
		free(cs);
		jw_arr_end(w);
		break;
	case SF_N_CLIENTS:
		if (!x->clients) {
			jw_null(w);
			break;
		}
		jw_arr_begin(w);
		for (i = 0; i < ch->nclients; i++)
			jw_fields(w, &sf_client, ch->clients[i], x);
		jw_arr_end(w);
		break;
	default:
		q = sf_e2e(l, obj, &owned);
		jw_e2e(w, x->n, q);
		if (owned)
			quantile_free(q);
		break;
	}
}

/* One object: the level's fields with a JSON key, in table order. */
static void
jw_fields(struct jw *w, const struct sf_level *l, void *obj,
    const struct jctx *x)
{
	const struct statfield *f;
	uint64_t v;
	size_t i;

	jw_obj_begin(w);
	for (i = 0; i < l->n; i++) {
		f = &l->f[i];
		if (f->key == NULL)
			continue;
		if (f->type == SF_NEST) {
			jw_nest(w, l, f, obj, x);
			continue;
		}
		v = sf_value(f, obj);
		if (f->omitempty && (f->type == SF_STR || f->type == SF_CHARS ?
		    sf_str(f, obj) == NULL || sf_str(f, obj)[0] == '\0' :
		    v == 0))
			continue;
		jw_key(w, f->key);
		switch (f->type) {
		case SF_STR:
		case SF_CHARS:
		case SF_LIT:
			jw_str(w, sf_str(f, obj));
			break;
		case SF_BOOL:
		case SF_FALSE:
			jw_bool(w, v != 0);
			break;
		default:
			if (sf_signed(f))
				jw_int(w, (int64_t)v);
			else
				jw_uint(w, v);
			break;
		}
	}
	jw_obj_end(w);
}

int
stats_json(struct nsqd *n, struct buf *b, const char *topic,
    const char *channel, bool clients, bool mem)
{
	struct jctx x = { n, topic, channel, clients };
	struct topic **ts;
	struct client *c;
	struct jw w;
	size_t nt, i;
	bool missing, any = false;

	ts = select_topics(n, topic, channel, &nt, &missing);
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_key(&w, "health");
	jw_str(&w, nsqd_health(n));
	jw_key(&w, "start_time");
	jw_int(&w, n->start_time);
	jw_key(&w, "topics");
	if (missing)
		jw_null(&w);
	else
		jw_arr_begin(&w);
	for (i = 0; i < nt; i++)
		jw_fields(&w, &sf_topic, ts[i], &x);
	free(ts);
	if (!missing)
		jw_arr_end(&w);
	if (mem) {
		struct nsqd_mem m;

		stats_mem(n, &m);
		jw_key(&w, "memory");
		jw_fields(&w, &sf_mem, &m, &x);
	}
	/* Go's nil slice: null unless some producer is there. */
	jw_key(&w, "producers");
	if (clients && !missing) {
		for (c = TAILQ_FIRST(&n->clients); c != NULL;
		    c = TAILQ_NEXT(c, link)) {
			if (c->npubs == 0)
				continue;
			if (!any)
				jw_arr_begin(&w);
			any = true;
			jw_fields(&w, &sf_client, c, &x);
		}
	}
	if (any)
		jw_arr_end(&w);
	else
		jw_null(&w);
	jw_obj_end(&w);
	return jw_finish(&w);
}

/* Go's e2e%: the percentiles' values as durations, ", "-separated. */
static void
text_e2e(struct buf *b, struct nsqd *n, struct quantile *q)
{
	int64_t now = nsqd_now(n);
	char d[64];
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < n->o->e2e_percentiles.n; i++) {
		format_duration(quantile_query(q, n->o->e2e_percentiles.v[i],
		    now), d, sizeof(d));
		buf_addf(b, "%s%s", i ? ", " : "", d);
	}
}

/* The time since connect_ts, in whole seconds, as Go's duration. */
static void
connected(struct nsqd *n, const struct client *c, char *d, size_t len)
{
	int64_t s = (int64_t)ev_now(n->loop) - c->connect_ts;

	format_duration((s > 0 ? s : 0) * NS_SEC, d, len);
}

/*
 * The fields of obj the text format takes, each as "label: value " (the
 * value left-aligned in its width), e2e as "e2e%: " and the durations.
 */
static void
text_fields(struct buf *b, struct nsqd *n, const struct sf_level *l,
    void *obj)
{
	const struct statfield *v[SF_MAX];
	struct quantile *q;
	size_t i, k;
	bool owned;

	k = sf_order(l, SF_TEXT, v);
	for (i = 0; i < k; i++) {
		if (v[i]->nest == SF_N_E2E) {
			buf_addf(b, "%s: ", v[i]->text);
			q = sf_e2e(l, obj, &owned);
			text_e2e(b, n, q);
			if (owned)
				quantile_free(q);
		} else if (sf_signed(v[i]))
			buf_addf(b, "%s: %-*lld ", v[i]->text,
			    v[i]->width, (long long)sf_value(v[i], obj));
		else
			buf_addf(b, "%s: %-*llu ", v[i]->text,
			    v[i]->width,
			    (unsigned long long)sf_value(v[i], obj));
	}
}

static void
text_client(struct buf *b, struct nsqd *n, struct client *c,
    const char *topic)
{
	const char *port = strrchr(c->remote, ':');
	char id[512], d[64];
	uint64_t total = 0;
	size_t i, first;

	snprintf(id, sizeof(id), "%s:%s %s", c->hostname,
	    port != NULL ? port + 1 : "", c->user_agent);
	connected(n, c, d, sizeof(d));
	if (pub_counts(c, topic, &first) > 0) {
		for (i = first; i < c->npubs; i++) {
			if (topic[0] == '\0' ||
			    strcmp(c->pubs[i].topic, topic) == 0)
				total += c->pubs[i].count;
		}
		buf_addf(b, "[V2 %-21s] msgs: %-8llu topics: ", id,
		    (unsigned long long)total);
		for (i = first; i < c->npubs; i++) {
			if (topic[0] != '\0' &&
			    strcmp(c->pubs[i].topic, topic) != 0)
				continue;
			buf_addf(b, "%s%s=%llu", i > first ? "," : "",
			    c->pubs[i].topic,
			    (unsigned long long)c->pubs[i].count);
		}
		buf_addf(b, " connected: %s", d);
		return;
	}
	buf_addf(b, "[V2 %-21s] ", id);
	text_fields(b, n, &sf_client, c);
	buf_addf(b, "connected: %s", d);
}

/* The start time in local time, RFC 3339 as Go prints it. */
static void
start_time(const struct nsqd *n, char *when, size_t len)
{
	time_t st = (time_t)n->start_time;
	struct tm tm;

	localtime_r(&st, &tm);
	strftime(when, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* RFC 3339 wants +hh:mm (or Z, which Go prints for UTC). */
	if (tm.tm_gmtoff == 0)
		strftime(when, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else {
		size_t l = strlen(when);

		memmove(when + l - 1, when + l - 2, 3);
		when[l - 2] = ':';
	}
}

/* The text format of Go's printStats (informational; tools read JSON). */
void
stats_text(struct nsqd *n, struct buf *b, const char *topic,
    const char *channel, bool clients, bool mem)
{
	struct topic **ts;
	struct channel **cs;
	struct client *c;
	char when[64], up[64];
	size_t nt, nc, nf, i, j, k;
	bool missing, any = false;

	start_time(n, when, sizeof(when));
	format_duration((int64_t)((ev_now(n->loop) - (double)n->start_time) *
	    1e9), up, sizeof(up));
	buf_addf(b, "nsqd v%s (built w/nsq in C %s)\n",
	    NSQ_COMPAT_VERSION, NSQ_VERSION);
	buf_addf(b, "start_time %s\nuptime %s\n", when, up);
	buf_addf(b, "\nHealth: %s\n", nsqd_health(n));
	if (mem) {
		const struct statfield *v[SF_MAX];
		struct nsqd_mem m;

		stats_mem(n, &m);
		buf_addf(b, "\nMemory:\n");
		nf = sf_order(&sf_mem, SF_TEXT, v);
		for (i = 0; i < nf; i++)
			buf_addf(b, "   %-25s\t%llu\n", v[i]->key,
			    (unsigned long long)sf_value(v[i], &m));
	}
	ts = select_topics(n, topic, channel, &nt, &missing);
	buf_addf(b, nt == 0 ? "\nTopics: None\n" : "\nTopics:");
	for (i = 0; i < nt; i++) {
		struct topic *t = ts[i];

		buf_addf(b, "\n%s[%-15s] ", t->paused ? "*P " : "   ",
		    t->name);
		text_fields(b, n, &sf_topic, t);
		buf_add(b, "\n", 1);
		cs = select_channels(t, channel, &nc);
		for (j = 0; j < nc; j++) {
			struct channel *ch = cs[j];

			buf_addf(b, "%s[%-25s] ",
			    ch->paused ? "   *P " : "      ", ch->name);
			text_fields(b, n, &sf_channel, ch);
			buf_add(b, "\n", 1);
			if (!clients)
				continue;
			for (k = 0; k < ch->nclients; k++) {
				buf_add(b, "        ", 8);
				text_client(b, n, ch->clients[k], topic);
				buf_add(b, "\n", 1);
			}
		}
		free(cs);
	}
	free(ts);
	if (clients && !missing) {
		for (c = TAILQ_FIRST(&n->clients); c != NULL;
		    c = TAILQ_NEXT(c, link)) {
			if (c->npubs == 0)
				continue;
			if (!any)
				buf_addf(b, "\nProducers:\n");
			any = true;
			buf_add(b, "   ", 3);
			text_client(b, n, c, topic);
			buf_add(b, "\n", 1);
		}
	}
	if (!any)
		buf_addf(b, "\nProducers: None\n");
}

