/*
 * GET /metrics: what /stats says, in the Prometheus text exposition
 * format 0.0.4, so a Prometheus server can scrape nsqd without an
 * exporter (Go nsqd has no such endpoint).  Families, in this order:
 *
 *   nsqd_healthy                 gauge    1, or 0 after a disk failure
 *   nsqd_start_time_seconds      gauge
 *   nsqd_tcp_clients             gauge    open V2 connections
 *   nsqd_producers               gauge    connections that published
 *   nsqd_topic_depth, _backend_depth, _paused          gauges {topic}
 *   nsqd_topic_messages_total, _message_bytes_total    counters {topic}
 *   nsqd_channel_depth, _backend_depth, _in_flight, _deferred, _clients,
 *     _paused                                gauges {topic, channel}
 *   nsqd_channel_messages_total, _requeues_total, _timeouts_total
 *                                            counters {topic, channel}
 *   nsqd_topic_e2e_processing_latency_seconds, and
 *   nsqd_channel_e2e_processing_latency_seconds
 *       summaries {quantile} of the time from publish to FIN, when
 *       --e2e-processing-latency-percentile is set: the quantiles, _sum
 *       and _count cover the sliding window, not the daemon's life.
 *
 * Samples of one family are contiguous, topics and channels sorted.  The
 * families, names and HELP texts come from statfields.c's tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nsqd.h"
#include "statfields.h"
#include "xmalloc.h"

/* A label value, escaped: backslash, double quote, newline. */
static void
label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			buf_addf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else
			buf_add(b, s, 1);
	}
}

static void
family(struct buf *b, const struct statfield *f)
{
	buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", f->prom,
	    f->help, f->prom, f->kind == SF_COUNTER ? "counter" :
	    f->kind == SF_SUMMARY ? "summary" : "gauge");
}

/* name{topic="t"[,channel="c"][,quantile="q"]} */
static void
sample_start(struct buf *b, const char *name, const struct topic *t,
    const struct channel *ch)
{
	buf_addf(b, "%s{topic=\"", name);
	label(b, t->name);
	if (ch != NULL) {
		buf_add(b, "\",channel=\"", 11);
		label(b, ch->name);
	}
	buf_add(b, "\"", 1);
}

/* One summary's samples (quantiles, _sum, _count), in seconds. */
static void
summary(struct buf *b, struct nsqd *n, const char *name,
    const struct topic *t, const struct channel *ch, struct quantile *q)
{
	int64_t now = nsqd_now(n);
	char qs[32];
	size_t i;

	for (i = 0; i < n->o->e2e_percentiles.n; i++) {
		double p = n->o->e2e_percentiles.v[i];

		json_fmt_double(p, qs, sizeof(qs));
		sample_start(b, name, t, ch);
		buf_addf(b, ",quantile=\"%s\"} %.9f\n", qs,
		    (double)quantile_query(q, p, now) / 1e9);
	}
	buf_addf(b, "%s_sum", name);
	sample_start(b, "", t, ch);
	buf_addf(b, "} %.9f\n", quantile_sum(q, now) / 1e9);
	buf_addf(b, "%s_count", name);
	sample_start(b, "", t, ch);
	buf_addf(b, "} %llu\n",
	    (unsigned long long)quantile_count(q, now));
}

/*
 * The samples of one topic or channel family f (chans), every topic or
 * channel in order; its HELP and TYPE before the first, none without
 * one (a summary has none where there is no latency).
 */
static void
level_family(struct buf *b, struct nsqd *n, const struct statfield *f,
    bool chans, struct topic **ts, size_t nt, struct channel ***cs,
    const size_t *nc)
{
	const struct sf_level *l = chans ? &sf_channel : &sf_topic;
	struct channel *ch = NULL;
	struct quantile *q;
	size_t i, j;
	bool owned, header = false;
	void *obj;

	for (i = 0; i < nt; i++) {
		for (j = 0; j < (chans ? nc[i] : 1); j++) {
			if (chans)
				ch = cs[i][j];
			obj = chans ? (void *)ch : (void *)ts[i];
			q = NULL;
			owned = false;
			if (f->kind == SF_SUMMARY &&
			    (q = sf_e2e(l, obj, &owned)) == NULL)
				continue;
			if (!header)
				family(b, f);
			header = true;
			if (q != NULL) {
				summary(b, n, f->prom, ts[i], ch, q);
				if (owned)
					quantile_free(q);
				continue;
			}
			sample_start(b, f->prom, ts[i], ch);
			buf_addf(b, "} %llu\n",
			    (unsigned long long)sf_value(f, obj));
		}
	}
}

/* The families of a level in their order: summaries or the others. */
static void
level(struct buf *b, struct nsqd *n, bool chans, bool summaries,
    struct topic **ts, size_t nt, struct channel ***cs, const size_t *nc)
{
	const struct statfield *v[SF_MAX];
	size_t i, k;

	k = sf_order(chans ? &sf_channel : &sf_topic, SF_PROM, v);
	for (i = 0; i < k; i++) {
		if ((v[i]->kind == SF_SUMMARY) == summaries)
			level_family(b, n, v[i], chans, ts, nt, cs, nc);
	}
}

void
metrics_write(struct nsqd *n, struct buf *b)
{
	const struct statfield *v[SF_MAX];
	struct topic **ts;
	struct channel ***cs;
	size_t nt, *nc, i, k;

	k = sf_order(&sf_nsqd, SF_PROM, v);
	for (i = 0; i < k; i++) {
		family(b, v[i]);
		buf_addf(b, "%s %llu\n", v[i]->prom,
		    (unsigned long long)sf_value(v[i], n));
	}
	ts = stats_topics(n, &nt);
	cs = xcalloc(nt + 1, sizeof(*cs));
	nc = xcalloc(nt + 1, sizeof(*nc));
	for (i = 0; i < nt; i++)
		cs[i] = stats_channels(ts[i], &nc[i]);
	level(b, n, false, false, ts, nt, cs, nc);
	level(b, n, true, false, ts, nt, cs, nc);
	if (n->o->e2e_percentiles.n > 0) {
		level(b, n, false, true, ts, nt, cs, nc);
		level(b, n, true, true, ts, nt, cs, nc);
	}
	for (i = 0; i < nt; i++)
		free(cs[i]);
	free(cs);
	free(nc);
	free(ts);
}
