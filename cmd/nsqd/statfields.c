/*
 * The tables of statfields.h.  Each entry gives the JSON key, how the
 * value is read, whether it is a gauge or a counter, its places in the
 * text format, /metrics and statsd (0: left out) and its names there.
 * The names and orders are Go nsqd 1.3.0's (stats.go, statsd.go,
 * http.go's printStats); /metrics is ours (metrics.c says its shape).
 */
#include <assert.h>
#include <string.h>

#include "nsqd.h"
#include "statfields.h"

static int64_t
t_depth(const void *t)
{
	return topic_depth(t);
}

static int64_t
t_backend_depth(const void *t)
{
	return topic_backend_depth(t);
}

static int64_t
ch_depth(const void *ch)
{
	return channel_depth(ch);
}

static int64_t
ch_backend_depth(const void *ch)
{
	return channel_backend_depth(ch);
}

static int64_t
c_state(const void *c)
{
	return ((const struct client *)c)->state;
}

static int64_t
n_healthy(const void *n)
{
	return ((const struct nsqd *)n)->health[0] == '\0';
}

static int64_t
n_tcp_clients(const void *n)
{
	const struct client *c;
	int64_t k = 0;

	TAILQ_FOREACH(c, &((const struct nsqd *)n)->clients, link)
		k++;
	return k;
}

static int64_t
n_producers(const void *n)
{
	const struct client *c;
	int64_t k = 0;

	TAILQ_FOREACH(c, &((const struct nsqd *)n)->clients, link)
		k += c->npubs > 0;
	return k;
}

#define N(m)	offsetof(struct nsqd, m)
#define T(m)	offsetof(struct topic, m)
#define CH(m)	offsetof(struct channel, m)
#define C(m)	offsetof(struct client, m)
#define M(m)	offsetof(struct nsqd_mem, m)

/* Only /metrics: the top of the JSON document is stats.c's. */
static const struct statfield nsqd_f[] = {
	{ .type = SF_GET, .get = n_healthy, .pos = { 0, 1, 0 },
	  .prom = "nsqd_healthy",
	  .help = "1 when healthy; 0 after a failed disk queue write." },
	{ .type = SF_I64, .off = N(start_time), .pos = { 0, 2, 0 },
	  .prom = "nsqd_start_time_seconds",
	  .help = "When nsqd started, in seconds since the epoch." },
	{ .type = SF_GET, .get = n_tcp_clients, .pos = { 0, 3, 0 },
	  .prom = "nsqd_tcp_clients", .help = "Open TCP connections." },
	{ .type = SF_GET, .get = n_producers, .pos = { 0, 4, 0 },
	  .prom = "nsqd_producers",
	  .help = "TCP connections that have published." },
};

/* The text format writes the name and "*P " (paused) itself. */
static const struct statfield topic_f[] = {
	{ .key = "topic_name", .type = SF_STR, .off = T(name) },
	{ .key = "channels", .type = SF_NEST, .nest = SF_N_CHANNELS },
	{ .key = "depth", .type = SF_GET, .get = t_depth, .kind = SF_GAUGE,
	  .pos = { 1, 1, 3 }, .text = "depth", .width = 5,
	  .prom = "nsqd_topic_depth", .statsd = "depth",
	  .help = "Messages held by the topic, in memory and on disk." },
	{ .key = "backend_depth", .type = SF_GET, .get = t_backend_depth,
	  .kind = SF_GAUGE, .pos = { 2, 2, 4 }, .text = "be-depth",
	  .width = 5, .prom = "nsqd_topic_backend_depth",
	  .statsd = "backend_depth",
	  .help = "Messages held in the topic's disk queue." },
	{ .key = "message_count", .type = SF_U64, .off = T(message_count),
	  .kind = SF_COUNTER, .pos = { 3, 4, 1 }, .text = "msgs", .width = 8,
	  .prom = "nsqd_topic_messages_total", .statsd = "message_count",
	  .help = "Messages published to the topic." },
	{ .key = "message_bytes", .type = SF_U64, .off = T(message_bytes),
	  .kind = SF_COUNTER, .pos = { 0, 5, 2 },
	  .prom = "nsqd_topic_message_bytes_total", .statsd = "message_bytes",
	  .help = "Bytes of message bodies published to the topic." },
	{ .key = "paused", .type = SF_BOOL, .off = T(paused),
	  .kind = SF_GAUGE, .pos = { 0, 3, 0 }, .prom = "nsqd_topic_paused",
	  .help = "1 while the topic is paused." },
	{ .key = "e2e_processing_latency", .type = SF_NEST, .nest = SF_N_E2E,
	  .kind = SF_SUMMARY, .pos = { 4, 6, 5 }, .text = "e2e%",
	  .prom = "nsqd_topic_e2e_processing_latency_seconds",
	  .statsd = "e2e_processing_latency",
	  .help = "Time from publish to FIN over the topic's channels, in "
	  "the sliding window." },
};

static const struct statfield channel_f[] = {
	{ .key = "channel_name", .type = SF_STR, .off = CH(name) },
	{ .key = "depth", .type = SF_GET, .get = ch_depth, .kind = SF_GAUGE,
	  .pos = { 1, 1, 2 }, .text = "depth", .width = 5,
	  .prom = "nsqd_channel_depth", .statsd = "depth",
	  .help = "Messages queued in the channel, in memory and on disk." },
	{ .key = "backend_depth", .type = SF_GET, .get = ch_backend_depth,
	  .kind = SF_GAUGE, .pos = { 2, 2, 3 }, .text = "be-depth",
	  .width = 5, .prom = "nsqd_channel_backend_depth",
	  .statsd = "backend_depth",
	  .help = "Messages queued in the channel's disk queue." },
	{ .key = "in_flight_count", .type = SF_SIZE, .off = CH(inflight.n),
	  .kind = SF_GAUGE, .pos = { 3, 3, 4 }, .text = "inflt", .width = 4,
	  .prom = "nsqd_channel_in_flight", .statsd = "in_flight_count",
	  .help = "Messages sent to a client and not yet finished." },
	{ .key = "deferred_count", .type = SF_SIZE, .off = CH(deferred_pq.n),
	  .kind = SF_GAUGE, .pos = { 4, 4, 5 }, .text = "def", .width = 4,
	  .prom = "nsqd_channel_deferred", .statsd = "deferred_count",
	  .help = "Messages deferred (DPUB, REQ with a delay)." },
	{ .key = "message_count", .type = SF_U64, .off = CH(message_count),
	  .kind = SF_COUNTER, .pos = { 7, 7, 1 }, .text = "msgs", .width = 8,
	  .prom = "nsqd_channel_messages_total", .statsd = "message_count",
	  .help = "Messages the channel received from its topic." },
	{ .key = "requeue_count", .type = SF_U64, .off = CH(requeue_count),
	  .kind = SF_COUNTER, .pos = { 5, 8, 6 }, .text = "re-q", .width = 5,
	  .prom = "nsqd_channel_requeues_total", .statsd = "requeue_count",
	  .help = "Messages requeued by clients (REQ)." },
	{ .key = "timeout_count", .type = SF_U64, .off = CH(timeout_count),
	  .kind = SF_COUNTER, .pos = { 6, 9, 7 }, .text = "timeout",
	  .width = 5, .prom = "nsqd_channel_timeouts_total",
	  .statsd = "timeout_count",
	  .help = "Messages requeued because their client timed out." },
	{ .key = "client_count", .type = SF_SIZE, .off = CH(nclients),
	  .kind = SF_GAUGE, .pos = { 0, 5, 8 }, .prom = "nsqd_channel_clients",
	  .statsd = "clients", .help = "Clients subscribed." },
	{ .key = "clients", .type = SF_NEST, .nest = SF_N_CLIENTS },
	{ .key = "paused", .type = SF_BOOL, .off = CH(paused),
	  .kind = SF_GAUGE, .pos = { 0, 6, 0 }, .prom = "nsqd_channel_paused",
	  .help = "1 while the channel is paused." },
	{ .key = "e2e_processing_latency", .type = SF_NEST, .nest = SF_N_E2E,
	  .kind = SF_SUMMARY, .pos = { 8, 10, 9 }, .text = "e2e%",
	  .prom = "nsqd_channel_e2e_processing_latency_seconds",
	  .statsd = "e2e_processing_latency",
	  .help = "Time from publish to FIN, in the sliding window." },
};

/*
 * A consumer's text line; a producer's (pub_counts) is stats.c's.  The
 * auth fields are Go's omitempty ones: they show once AUTH has answered
 * (authed only with authorizations, the identities when not empty).
 */
static const struct statfield client_f[] = {
	{ .key = "client_id", .type = SF_STR, .off = C(client_id) },
	{ .key = "hostname", .type = SF_STR, .off = C(hostname) },
	{ .key = "version", .type = SF_LIT, .lit = "V2" },
	{ .key = "remote_address", .type = SF_CHARS, .off = C(remote) },
	{ .key = "state", .type = SF_GET, .get = c_state, .pos = { 1 },
	  .text = "state" },
	{ .key = "ready_count", .type = SF_I64, .off = C(rdy), .pos = { 3 },
	  .text = "rdy", .width = 4 },
	{ .key = "in_flight_count", .type = SF_I64, .off = C(in_flight),
	  .pos = { 2 }, .text = "inflt", .width = 4 },
	{ .key = "message_count", .type = SF_U64, .off = C(message_count),
	  .kind = SF_COUNTER, .pos = { 6 }, .text = "msgs", .width = 8 },
	{ .key = "finish_count", .type = SF_U64, .off = C(finish_count),
	  .kind = SF_COUNTER, .pos = { 4 }, .text = "fin", .width = 8 },
	{ .key = "requeue_count", .type = SF_U64, .off = C(requeue_count),
	  .kind = SF_COUNTER, .pos = { 5 }, .text = "re-q", .width = 8 },
	{ .key = "connect_ts", .type = SF_I64, .off = C(connect_ts) },
	{ .key = "sample_rate", .type = SF_INT, .off = C(sample_rate) },
	{ .key = "deflate", .type = SF_BOOL, .off = C(deflate) },
	{ .key = "snappy", .type = SF_BOOL, .off = C(snappy) },
	{ .key = "user_agent", .type = SF_STR, .off = C(user_agent) },
	{ .key = "authed", .type = SF_BOOL, .off = C(authed),
	  .omitempty = true },
	{ .key = "auth_identity", .type = SF_STR, .off = C(auth_identity),
	  .omitempty = true },
	{ .key = "auth_identity_url", .type = SF_STR,
	  .off = C(auth_identity_url), .omitempty = true },
	{ .key = "pub_counts", .type = SF_NEST, .nest = SF_N_PUBS },
	{ .key = "tls", .type = SF_BOOL, .off = C(tls) },
	{ .key = "tls_cipher_suite", .type = SF_CHARS, .off = C(tls_cipher) },
	{ .key = "tls_version", .type = SF_CHARS, .off = C(tls_version) },
	{ .key = "tls_negotiated_protocol", .type = SF_LIT, .lit = "" },
	{ .key = "tls_negotiated_protocol_is_mutual", .type = SF_FALSE },
};

/* The text format labels these with their JSON keys; statsd: "mem.". */
static const struct statfield mem_f[] = {
	{ .key = "heap_objects", .type = SF_U64, .off = M(heap_objects),
	  .pos = { 1, 0, 1 }, .statsd = "heap_objects" },
	{ .key = "heap_idle_bytes", .type = SF_U64, .off = M(heap_idle_bytes),
	  .pos = { 2, 0, 2 }, .statsd = "heap_idle_bytes" },
	{ .key = "heap_in_use_bytes", .type = SF_U64,
	  .off = M(heap_in_use_bytes), .pos = { 3, 0, 3 },
	  .statsd = "heap_in_use_bytes" },
	{ .key = "heap_released_bytes", .type = SF_U64,
	  .off = M(heap_released_bytes), .pos = { 4, 0, 4 },
	  .statsd = "heap_released_bytes" },
	{ .key = "gc_pause_usec_100", .type = SF_U64,
	  .off = M(gc_pause_usec_100), .pos = { 5, 0, 5 },
	  .statsd = "gc_pause_usec_100" },
	{ .key = "gc_pause_usec_99", .type = SF_U64,
	  .off = M(gc_pause_usec_99), .pos = { 6, 0, 6 },
	  .statsd = "gc_pause_usec_99" },
	{ .key = "gc_pause_usec_95", .type = SF_U64,
	  .off = M(gc_pause_usec_95), .pos = { 7, 0, 7 },
	  .statsd = "gc_pause_usec_95" },
	{ .key = "next_gc_bytes", .type = SF_U64, .off = M(next_gc_bytes),
	  .pos = { 8, 0, 8 }, .statsd = "next_gc_bytes" },
	{ .key = "gc_total_runs", .type = SF_U64, .off = M(gc_total_runs),
	  .kind = SF_COUNTER, .pos = { 9, 0, 9 }, .statsd = "gc_runs" },
};

#define LEVEL(v)	{ v, sizeof(v) / sizeof(v[0]) }

const struct sf_level sf_nsqd = LEVEL(nsqd_f);
const struct sf_level sf_topic = LEVEL(topic_f);
const struct sf_level sf_channel = LEVEL(channel_f);
const struct sf_level sf_client = LEVEL(client_f);
const struct sf_level sf_mem = LEVEL(mem_f);

size_t
sf_order(const struct sf_level *l, enum sf_out o,
    const struct statfield **v)
{
	const struct statfield *at[SF_MAX + 1] = { NULL };
	size_t i, k = 0;

	assert(l->n <= SF_MAX);
	for (i = 0; i < l->n; i++) {
		unsigned r = l->f[i].pos[o];

		assert(r <= SF_MAX && (r == 0 || at[r] == NULL));
		if (r > 0)
			at[r] = &l->f[i];
	}
	for (i = 1; i <= SF_MAX; i++) {
		if (at[i] != NULL)
			v[k++] = at[i];
	}
	return k;
}

struct quantile *
sf_e2e(const struct sf_level *l, void *obj, bool *owned)
{
	*owned = l == &sf_topic;
	if (*owned)
		return stats_topic_e2e(obj);
	return ((struct channel *)obj)->e2e;
}

bool
sf_signed(const struct statfield *f)
{
	return f->type == SF_I64 || f->type == SF_INT || f->type == SF_GET;
}

uint64_t
sf_value(const struct statfield *f, const void *obj)
{
	const char *p = (const char *)obj + f->off;
	uint64_t u;
	int64_t i;
	size_t z;
	int d;
	bool b;

	switch (f->type) {
	case SF_U64:
		memcpy(&u, p, sizeof(u));
		return u;
	case SF_SIZE:
		memcpy(&z, p, sizeof(z));
		return z;
	case SF_I64:
		memcpy(&i, p, sizeof(i));
		return (uint64_t)i;
	case SF_INT:
		memcpy(&d, p, sizeof(d));
		return (uint64_t)(int64_t)d;
	case SF_BOOL:
		memcpy(&b, p, sizeof(b));
		return b;
	case SF_GET:
		return (uint64_t)f->get(obj);
	default:
		return 0;
	}
}

const char *
sf_str(const struct statfield *f, const void *obj)
{
	const char *p = (const char *)obj + f->off, *s;

	switch (f->type) {
	case SF_STR:
		memcpy(&s, p, sizeof(s));
		return s;
	case SF_CHARS:
		return p;
	case SF_LIT:
		return f->lit;
	default:
		return "";
	}
}
