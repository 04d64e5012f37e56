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
 * Samples of one family are contiguous, topics and channels sorted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "nsqd.h"
#include "xmalloc.h"

/* A label value, escaped: backslash, double quote, newline. */
static void
label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			(void)!buf_appendf(b, "\\%c", *s);
		else if (*s == '\n')
			(void)!buf_append(b, "\\n", 2);
		else
			(void)!buf_append(b, s, 1);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	(void)!buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* name{topic="t"[,channel="c"][,quantile="q"]} */
static void
sample_start(struct buf *b, const char *name, const struct topic *t,
    const struct channel *ch)
{
	(void)!buf_appendf(b, "%s{topic=\"", name);
	label(b, t->name);
	if (ch != NULL) {
		(void)!buf_append(b, "\",channel=\"", 11);
		label(b, ch->name);
	}
	(void)!buf_append(b, "\"", 1);
}

enum tfield { T_DEPTH, T_BACKEND, T_PAUSED, T_MSGS, T_BYTES };
enum cfield { C_DEPTH, C_BACKEND, C_INFLIGHT, C_DEFERRED, C_CLIENTS,
    C_PAUSED, C_MSGS, C_REQUEUES, C_TIMEOUTS };

static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} tfams[] = {
	{ "nsqd_topic_depth", "gauge",
	  "Messages held by the topic, in memory and on disk." },
	{ "nsqd_topic_backend_depth", "gauge",
	  "Messages held in the topic's disk queue." },
	{ "nsqd_topic_paused", "gauge", "1 while the topic is paused." },
	{ "nsqd_topic_messages_total", "counter",
	  "Messages published to the topic." },
	{ "nsqd_topic_message_bytes_total", "counter",
	  "Bytes of message bodies published to the topic." },
}, cfams[] = {
	{ "nsqd_channel_depth", "gauge",
	  "Messages queued in the channel, in memory and on disk." },
	{ "nsqd_channel_backend_depth", "gauge",
	  "Messages queued in the channel's disk queue." },
	{ "nsqd_channel_in_flight", "gauge",
	  "Messages sent to a client and not yet finished." },
	{ "nsqd_channel_deferred", "gauge",
	  "Messages deferred (DPUB, REQ with a delay)." },
	{ "nsqd_channel_clients", "gauge", "Clients subscribed." },
	{ "nsqd_channel_paused", "gauge", "1 while the channel is paused." },
	{ "nsqd_channel_messages_total", "counter",
	  "Messages the channel received from its topic." },
	{ "nsqd_channel_requeues_total", "counter",
	  "Messages requeued by clients (REQ)." },
	{ "nsqd_channel_timeouts_total", "counter",
	  "Messages requeued because their client timed out." },
};

static uint64_t
tvalue(const struct topic *t, int f)
{
	switch (f) {
	case T_DEPTH:
		return (uint64_t)topic_depth(t);
	case T_BACKEND:
		return (uint64_t)topic_backend_depth(t);
	case T_PAUSED:
		return t->paused;
	case T_MSGS:
		return t->message_count;
	default:
		return t->message_bytes;
	}
}

static uint64_t
cvalue(const struct channel *ch, int f)
{
	switch (f) {
	case C_DEPTH:
		return (uint64_t)channel_depth(ch);
	case C_BACKEND:
		return (uint64_t)channel_backend_depth(ch);
	case C_INFLIGHT:
		return ch->inflight.n;
	case C_DEFERRED:
		return ch->deferred_pq.n;
	case C_CLIENTS:
		return ch->nclients;
	case C_PAUSED:
		return ch->paused;
	case C_MSGS:
		return ch->message_count;
	case C_REQUEUES:
		return ch->requeue_count;
	default:
		return ch->timeout_count;
	}
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
		(void)!buf_appendf(b, ",quantile=\"%s\"} %.9f\n", qs,
		    (double)quantile_query(q, p, now) / 1e9);
	}
	(void)!buf_appendf(b, "%s_sum", name);
	sample_start(b, "", t, ch);
	(void)!buf_appendf(b, "} %.9f\n", quantile_sum(q, now) / 1e9);
	(void)!buf_appendf(b, "%s_count", name);
	sample_start(b, "", t, ch);
	(void)!buf_appendf(b, "} %llu\n",
	    (unsigned long long)quantile_count(q, now));
}

void
metrics_write(struct nsqd *n, struct buf *b)
{
	struct topic **ts;
	struct channel ***cs;
	struct client *c;
	size_t nt, *nc, i, j, f;
	uint64_t nclients = 0, nprod = 0;
	bool header;

	for (c = TAILQ_FIRST(&n->clients); c != NULL;
	    c = TAILQ_NEXT(c, link)) {
		nclients++;
		nprod += c->npubs > 0;
	}
	family(b, "nsqd_healthy", "gauge",
	    "1 when healthy; 0 after a failed disk queue write.");
	(void)!buf_appendf(b, "nsqd_healthy %d\n", n->health[0] == '\0');
	family(b, "nsqd_start_time_seconds", "gauge",
	    "When nsqd started, in seconds since the epoch.");
	(void)!buf_appendf(b, "nsqd_start_time_seconds %lld\n",
	    (long long)n->start_time);
	family(b, "nsqd_tcp_clients", "gauge", "Open TCP connections.");
	(void)!buf_appendf(b, "nsqd_tcp_clients %llu\n",
	    (unsigned long long)nclients);
	family(b, "nsqd_producers", "gauge",
	    "TCP connections that have published.");
	(void)!buf_appendf(b, "nsqd_producers %llu\n",
	    (unsigned long long)nprod);

	ts = stats_topics(n, &nt);
	cs = xcalloc(nt + 1, sizeof(*cs));
	nc = xcalloc(nt + 1, sizeof(*nc));
	for (i = 0; i < nt; i++)
		cs[i] = stats_channels(ts[i], &nc[i]);
	for (f = 0; f < sizeof(tfams) / sizeof(tfams[0]) && nt > 0; f++) {
		family(b, tfams[f].name, tfams[f].type, tfams[f].help);
		for (i = 0; i < nt; i++) {
			sample_start(b, tfams[f].name, ts[i], NULL);
			(void)!buf_appendf(b, "} %llu\n",
			    (unsigned long long)tvalue(ts[i], (int)f));
		}
	}
	for (f = 0; f < sizeof(cfams) / sizeof(cfams[0]); f++) {
		header = false;
		for (i = 0; i < nt; i++) {
			for (j = 0; j < nc[i]; j++) {
				if (!header)
					family(b, cfams[f].name, cfams[f].type,
					    cfams[f].help);
				header = true;
				sample_start(b, cfams[f].name, ts[i],
				    cs[i][j]);
				(void)!buf_appendf(b, "} %llu\n",
				    (unsigned long long)cvalue(cs[i][j],
				    (int)f));
			}
		}
	}
	if (n->o->e2e_percentiles.n > 0) {
		const char *tn = "nsqd_topic_e2e_processing_latency_seconds";
		const char *cn = "nsqd_channel_e2e_processing_latency_seconds";

		header = false;
		for (i = 0; i < nt; i++) {
			struct quantile *q = stats_topic_e2e(ts[i]);

			if (q == NULL)
				continue;
			if (!header)
				family(b, tn, "summary", "Time from publish "
				    "to FIN over the topic's channels, in the "
				    "sliding window.");
			header = true;
			summary(b, n, tn, ts[i], NULL, q);
			quantile_free(q);
		}
		header = false;
		for (i = 0; i < nt; i++) {
			for (j = 0; j < nc[i]; j++) {
				if (cs[i][j]->e2e == NULL)
					continue;
				if (!header)
					family(b, cn, "summary", "Time from "
					    "publish to FIN, in the sliding "
					    "window.");
				header = true;
				summary(b, n, cn, ts[i], cs[i][j],
				    cs[i][j]->e2e);
			}
		}
	}
	for (i = 0; i < nt; i++)
		free(cs[i]);
	free(cs);
	free(nc);
	free(ts);
}
