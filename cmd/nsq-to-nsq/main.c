/*
 * nsq-to-nsq: copy the messages of topics from one set of nsqd to
 * another, like Go NSQ's nsq_to_nsq and with its flags: each --topic is
 * consumed on --channel and published to --destination-topic (or a
 * topic of the same name), spread over the --destination-nsqd-tcp-address
 * producers by --mode (round-robin; hostpool: round-robin that leaves
 * out for a while a destination whose publish failed; epsilon-greedy:
 * mostly the fastest), optionally filtered by JSON fields.
 *
 * A message is finished at the source only once the destination
 * acknowledged the PUB or MPUB holding it; a publish that fails sends it
 * back to the source (REQ, with backoff, as Go's Requeue(-1)), so a
 * destination that goes away loses nothing: at most the messages then
 * in flight, written by it but not yet acknowledged, arrive twice.
 * Messages that arrive together (one read from the source) go to each
 * destination as one MPUB, bounded in count and bytes.
 *
 * Beyond Go: --destination-lookupd-http-address publishes to the nsqd
 * that another cluster's nsqlookupd lists for the destination topic
 * (polled every lookupd_poll_interval of --producer-opt); --status-every
 * adds a throughput and lag line to Go's latency lines; and a message is
 * never given up after max_attempts unless --consumer-opt asks it, since
 * a relay that drops what it could not publish loses data.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>

#include <ev.h>

#include "../common/client.h"
#include "../common/tool.h"
#include "filter.h"
#include "lookup.h"
#include "names.h"
#include "nsq.h"
#include "options.h"
#include "rand.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-to-nsq"
#define STOP_WAIT	35.0	/* seconds a stop may take in all */
#define SIGNAL_REPEAT	1.0	/* a signal this soon again is the same */
#define BATCH_MAX	256	/* messages in one MPUB */
#define BATCH_BYTES	(512 * 1024)	/* body bytes in one MPUB */
#define RETRY_FIRST	30.0	/* go-hostpool's initialRetryDelay */
#define RETRY_MAX	900.0	/* go-hostpool's maxRetryInterval */
/* go-hostpool's epsilon-greedy pool, with nsq_to_nsq's arguments. */
#define EPS_BUCKETS	120
#define EPS_DECAY	0.90	/* the exploration rate's, per exploration */
#define EPS_MIN		0.01
#define EPS_INITIAL	0.3
#define EPS_PERIOD	(300.0 / EPS_BUCKETS)	/* 5 min over the buckets */
#define NS		1e9
#define GIVEUP_ATTEMPTS	5	/* go-nsq's default max_attempts */

static struct {
	const char	*channel;
	struct strlist	 consumer_opts;
	struct strlist	 dest_lookupd;
	struct strlist	 dest_nsqd;
	const char	*dest_topic;
	struct strlist	 lookupd;
	int64_t		 max_in_flight;
	const char	*mode;
	struct strlist	 nsqd;
	struct strlist	 producer_opts;
	const char	*require_field;
	const char	*require_value;
	int64_t		 status_every;
	struct strlist	 topics;
	bool		 version;
	struct strlist	 whitelist;
} o = {
	.channel = "nsq_to_nsq",
	.dest_topic = "",
	.max_in_flight = 200,
	.mode = "hostpool",
	.require_field = "",
	.require_value = "",
	.status_every = 250,
};

static const struct opt opts[] = {
	{ "channel", 0, OPT_STR, &o.channel, "CHANNEL", "nsq channel", NULL,
	  0, 0 },
	{ "consumer-opt", 0, OPT_STRLIST, &o.consumer_opts, "KEY,VALUE",
	  "go-nsq consumer option (repeatable)", NULL, 0, 0 },
	{ "destination-lookupd-http-address", 0, OPT_STRLIST,
	  &o.dest_lookupd, "ADDR",
	  "publish to the nsqd this nsqlookupd lists for the destination "
	  "topic (repeatable)", NULL, 0, 0 },
	{ "destination-nsqd-tcp-address", 0, OPT_STRLIST, &o.dest_nsqd,
	  "ADDR", "destination nsqd TCP address (repeatable)", NULL, 0, 0 },
	{ "destination-topic", 0, OPT_STR, &o.dest_topic, "TOPIC",
	  "use this destination topic for all consumed topics (default: the "
	  "consumed topic's name)", NULL, 0, 0 },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "lookupd HTTP address (repeatable)", NULL, 0, 0 },
	{ "max-in-flight", 0, OPT_INT, &o.max_in_flight, "N",
	  "max number of messages to allow in flight", NULL, 0, INT32_MAX },
	{ "mode", 0, OPT_STR, &o.mode, "MODE",
	  "how messages are spread over the destinations: round-robin, "
	  "hostpool or epsilon-greedy", NULL, 0, 0 },
	{ "nsqd-tcp-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd TCP address (repeatable)", NULL, 0, 0 },
	{ "producer-opt", 0, OPT_STRLIST, &o.producer_opts, "KEY,VALUE",
	  "go-nsq producer option (repeatable)", NULL, 0, 0 },
	{ "require-json-field", 0, OPT_STR, &o.require_field, "FIELD",
	  "for JSON messages: only pass messages that contain this field",
	  NULL, 0, 0 },
	{ "require-json-value", 0, OPT_STR, &o.require_value, "VALUE",
	  "for JSON messages: only pass messages in which the required "
	  "field has this value", NULL, 0, 0 },
	{ "status-every", 0, OPT_INT, &o.status_every, "N",
	  "the # of requests between logging status (per destination), 0 "
	  "disables", NULL, 0, INT32_MAX },
	{ "topic", 0, OPT_STRLIST, &o.topics, "TOPIC",
	  "nsq topic (repeatable)", NULL, 0, 0 },
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
	{ "whitelist-json-field", 0, OPT_STRLIST, &o.whitelist, "FIELD",
	  "for JSON messages: pass this field (repeatable)", NULL, 0, 0 },
	CLIENT_TCP_OPTS,
	CLIENT_HTTP_OPTS,
};

/*
 * timer_metrics as Go's tools use it: the last `every` publish
 * latencies, and a line with their percentiles each time the ring turns.
 */
struct tmetrics {
	int64_t		*t;		/* ns */
	size_t		 len, cap;
	int64_t		 every;
	int64_t		 pos;
	char		*prefix;
};

/* Messages on their way to one destination topic of one nsqd. */
struct batch {
	struct nsq_message	**m;
	struct iovec		 *iov;
	bool			 *owned;	/* iov_base is ours to free */
	ev_tstamp		 *start;
	size_t			  n;
	size_t			  bytes;
};

/* One destination nsqd: its producer and go-hostpool's entry. */
struct dest {
	char			*addr;
	struct nsq_producer	*prod;
	bool			 dead;
	ev_tstamp		 next_retry;
	ev_tstamp		 retry_delay;
	struct tmetrics		*tm;		/* per address, or NULL */
	struct batch		*b;		/* one per pool */
	/* epsilon-greedy: publish latencies (ms) by time bucket. */
	int64_t			 eps_counts[EPS_BUCKETS];
	int64_t			 eps_values[EPS_BUCKETS];
	int			 eps_index;
	double			 eps_value;
};

/* A destination topic and the nsqd that may take it. */
struct pool {
	size_t		 idx;
	char		*topic;
	struct dest	**d;
	size_t		 n;
	uint64_t	 counter;	/* round-robin */
	size_t		 next;		/* hostpool */
	double		 epsilon;	/* epsilon-greedy's exploration */
	struct lookup	*lk;
	ev_tstamp	 warned;
};

/* One PUB or MPUB awaiting its reply. */
struct txn {
	struct txn		*prev, *next;
	struct dest		*d;
	struct pool		*pool;
	struct nsq_message	**m;
	ev_tstamp		 *start;
	size_t			  n;
};

struct source {
	struct nsq_consumer	*cons;
	struct pool		*pool;
	struct strlist		 up;	/* nsqd addresses that worked */
};

static struct {
	struct ev_loop		*loop;
	struct nsq_config	*ccfg;
	struct nsq_config	*pcfg;
	bool			 started;	/* the consumers */
	struct source		*src;
	size_t			 nsrc, nstopped;
	struct pool		**pools;
	size_t			 npools;
	struct dest		**dests;
	size_t			 ndests;
	bool			 round_robin;
	bool			 epsilon_greedy;
	ev_timer		 eps_decay;
	bool			 per_address;
	struct filter		 filter;
	bool			 filtering;
	struct txn		*txns;
	struct tmetrics		*agg;
	/* For the throughput and lag line. */
	uint64_t		 relayed;
	ev_tstamp		 since;
	int64_t			 last_ts;
	ev_tstamp		 last_ack;
	bool			 stopping;
	size_t			 nprod_stopped;
	ev_tstamp		 signalled_at;
	ev_prepare		 flush;
	ev_signal		 sigint, sigterm;
	ev_timer		 stop_wait;
	int			 rc;
} st;

/* A line as Go's log package prints it: "2006/01/02 15:04:05 text". */
static void __attribute__((format(printf, 1, 2)))
golog(const char *fmt, ...)
{
	struct timeval tv;
	struct tm tm;
	char ts[32];
	va_list ap;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm);
	va_start(ap, fmt);
	fprintf(stderr, "%s ", ts);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
lib_log_cb(enum nsq_log_level lvl, const char *msg, void *arg)
{
	(void)lvl;
	(void)arg;
	golog("%s", msg);
}

static struct tmetrics *
tm_new(int64_t every, const char *prefix)
{
	struct tmetrics *m;

	m = xcalloc(1, sizeof(*m));
	m->every = every;
	m->prefix = xstrdup(prefix);
	if (every > 0 && every < 100)
		golog("Warning: use more than 100 status values for accurate "
		    "percentiles (configured with %lld)", (long long)every);
	return m;
}

static void
tm_free(struct tmetrics *m)
{
	if (m == NULL)
		return;
	free(m->t);
	free(m->prefix);
	free(m);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t
percentile(double perc, const int64_t *v, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)ceil(perc / 100.0 * (double)n + 0.5);
	if (i >= n)
		i = n - 1;
	return v[i];
}

/* Record one latency; true when the ring turned and a line was printed. */
static bool
tm_status(struct tmetrics *m, int64_t d)
{
	int64_t *s, total = 0;
	size_t i;
	bool looped = false;

	if (m == NULL || m->every == 0)
		return false;
	if (++m->pos > m->every) {
		looped = true;
		m->pos = 1;
	}
	if ((size_t)m->pos > m->len) {
		if (m->len == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->t = xreallocarray(m->t, m->cap, sizeof(*m->t));
		}
		m->t[m->len++] = d;
	} else
		m->t[m->pos - 1] = d;
	if (!looped)
		return false;
	s = xreallocarray(NULL, m->len, sizeof(*s));
	for (i = 0; i < m->len; i++) {
		s[i] = m->t[i];
		total += m->t[i];
	}
	qsort(s, m->len, sizeof(*s), cmp_i64);
	golog("%s finished %zu - 99th: %.02fms - 95th: %.02fms - avg: "
	    "%.02fms", m->prefix, m->len,
	    (double)percentile(99.0, s, m->len) / 1e6,
	    (double)percentile(95.0, s, m->len) / 1e6,
	    (double)(total / (int64_t)m->len) / 1e6);
	free(s);
	return true;
}

/* Beyond Go: how fast messages went through, and how old they arrive. */
static void
throughput_line(void)
{
	ev_tstamp now = ev_now(st.loop), secs = now - st.since;
	double lag;

	lag = (st.last_ack * NS - (double)st.last_ts) / 1e6;
	if (lag < 0)
		lag = 0;
	golog("[aggregate]: relayed %" PRIu64 " in %.3fs - %.0f msg/s - lag: "
	    "%.02fms", st.relayed, secs,
	    secs > 0 ? (double)st.relayed / secs : 0.0, lag);
	st.relayed = 0;
	st.since = now;
}

static void
batch_init(struct batch *b)
{
	b->m = xcalloc(BATCH_MAX, sizeof(*b->m));
	b->iov = xcalloc(BATCH_MAX, sizeof(*b->iov));
	b->owned = xcalloc(BATCH_MAX, sizeof(*b->owned));
	b->start = xcalloc(BATCH_MAX, sizeof(*b->start));
}

static struct dest *
dest_get(const char *addr)
{
	struct dest *d;
	char err[512];
	size_t i;

	for (i = 0; i < st.ndests; i++)
		if (strcmp(st.dests[i]->addr, addr) == 0)
			return st.dests[i];
	d = xcalloc(1, sizeof(*d));
	d->addr = xstrdup(addr);
	d->retry_delay = RETRY_FIRST;
	if ((d->prod = nsq_producer_new(st.loop, addr, st.pcfg, err,
	    sizeof(err))) == NULL)
		errx(1, "failed creating producer %s", err);
	d->b = xcalloc(st.npools, sizeof(*d->b));
	for (i = 0; i < st.npools; i++)
		batch_init(&d->b[i]);
	if (st.per_address) {
		char *prefix = xasprintf("[%s]:", addr);

		d->tm = tm_new(o.status_every, prefix);
		free(prefix);
	}
	st.dests = xreallocarray(st.dests, st.ndests + 1, sizeof(*st.dests));
	st.dests[st.ndests++] = d;
	return d;
}

/* go-hostpool's Get: the next live host, or a dead one due a retry. */
static struct dest *
hostpool_get(struct pool *p)
{
	ev_tstamp now = ev_now(st.loop);
	struct dest *h;
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		k = (i + p->next) % p->n;
		h = p->d[k];
		if (!h->dead) {
			p->next = k + 1;
			return h;
		}
		if (h->next_retry < now) {
			h->retry_delay = h->retry_delay * 2 < RETRY_MAX ?
			    h->retry_delay * 2 : RETRY_MAX;
			h->next_retry = now + h->retry_delay;
			p->next = k + 1;
			return h;
		}
	}
	for (i = 0; i < p->n; i++)
		p->d[i]->dead = false;
	p->next = 0;
	return p->d[0];
}

/* go-hostpool's getWeightedAverageResponseTime: recent buckets weigh more. */
static double
eps_average(const struct dest *h)
{
	double value = 0, last = 0, cur, weight;
	int i, pos;

	for (i = 1; i <= EPS_BUCKETS; i++) {
		pos = (h->eps_index + i) % EPS_BUCKETS;
		weight = (double)i / EPS_BUCKETS;
		if (h->eps_counts[pos] > 0) {
			cur = (double)h->eps_values[pos] /
			    (double)h->eps_counts[pos];
			value += cur * weight;
			last = cur;
		} else
			value += last * weight;
	}
	return value;
}

/*
 * go-hostpool's epsilon-greedy Get: now and then (epsilon, decaying) the
 * standard pool's choice, to explore; else a host drawn with a chance
 * inversely proportional to its weighted mean latency (Linear
 * calculator: 1/v), among those that may be tried and have one.
 */
static struct dest *
epsilon_get(struct pool *p)
{
	ev_tstamp now = ev_now(st.loop);
	struct dest *h, *use = NULL;
	double sum = 0, v, pick, ceiling = 0;
	size_t i;
	bool any = false;

	if (rand_unit() < p->epsilon) {
		p->epsilon *= EPS_DECAY;
		if (p->epsilon < EPS_MIN)
			p->epsilon = EPS_MIN;
		return hostpool_get(p);
	}
	for (i = 0; i < p->n; i++) {
		h = p->d[i];
		h->eps_value = 0;
		if (h->dead && !(h->next_retry < now))
			continue;
		if ((v = eps_average(h)) > 0) {
			h->eps_value = 1.0 / v;
			sum += h->eps_value;
			any = true;
		}
	}
	if (any) {
		pick = rand_unit();
		for (i = 0; i < p->n && use == NULL; i++) {
			h = p->d[i];
			if (h->eps_value <= 0)
				continue;
			ceiling += h->eps_value / sum;
			if (pick <= ceiling)
				use = h;
		}
	}
	if (use == NULL)
		return hostpool_get(p);
	if (use->dead) {
		use->retry_delay = use->retry_delay * 2 < RETRY_MAX ?
		    use->retry_delay * 2 : RETRY_MAX;
		use->next_retry = now + use->retry_delay;
	}
	return use;
}

/* Every 5 minutes / 120, each host's oldest bucket is emptied. */
static void
eps_decay_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dest *h;
	size_t i;

	(void)loop;
	(void)w;
	(void)revents;
	for (i = 0; i < st.ndests; i++) {
		h = st.dests[i];
		h->eps_index = (h->eps_index + 1) % EPS_BUCKETS;
		h->eps_counts[h->eps_index] = 0;
		h->eps_values[h->eps_index] = 0;
	}
}

static void
hostpool_mark(struct dest *d, bool ok)
{
	if (st.round_robin)
		return;
	if (ok)
		d->dead = false;
	else if (!d->dead) {
		d->dead = true;
		d->retry_delay = RETRY_FIRST;
		d->next_retry = ev_now(st.loop) + d->retry_delay;
	}
}

static void
txn_unlink(struct txn *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		st.txns = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

static void
txn_free(struct txn *t)
{
	free(t->m);
	free(t->start);
	free(t);
}

static void	publish(struct txn *, const struct iovec *);
static void	start_consumers(void);

static void
pub_cb(struct nsq_producer *p, int status, const char *errtext, void *arg)
{
	struct txn *t = arg, *one;
	struct iovec iov;
	ev_tstamp now = ev_now(st.loop);
	int64_t d;
	size_t i;

	(void)p;
	txn_unlink(t);
	if (status == 0) {
		hostpool_mark(t->d, true);
		for (i = 0; i < t->n; i++) {
			if (st.epsilon_greedy) {
				/* Go's int64(duration.Seconds() * 1000). */
				t->d->eps_counts[t->d->eps_index]++;
				t->d->eps_values[t->d->eps_index] +=
				    (int64_t)((now - t->start[i]) * 1000);
			}
			st.last_ts = nsq_msg_timestamp(t->m[i]);
			(void)nsq_msg_finish(t->m[i]);
			d = (int64_t)((now - t->start[i]) * NS);
			st.relayed++;
			st.last_ack = now;
			(void)tm_status(t->d->tm, d);
			if (tm_status(st.agg, d))
				throughput_line();
		}
		txn_free(t);
		return;
	}
	/*
	 * nsqd refused the MPUB (one body too big, say): each message is
	 * tried alone, so that one bad message does not hold back the rest.
	 * The messages are still ours; a body the filter rewrote is made
	 * again (the filter gives the same answer twice).
	 */
	if (t->n > 1 && strncmp(errtext, "E_", 2) == 0) {
		for (i = 0; i < t->n; i++) {
			char *out = NULL;
			size_t outlen;

			one = xcalloc(1, sizeof(*one));
			one->d = t->d;
			one->pool = t->pool;
			one->n = 1;
			one->m = xcalloc(1, sizeof(*one->m));
			one->start = xcalloc(1, sizeof(*one->start));
			one->m[0] = t->m[i];
			one->start[0] = t->start[i];
			iov.iov_base = (void *)(uintptr_t)nsq_msg_body(t->m[i],
			    &iov.iov_len);
			if (st.filtering && filter_message(&st.filter,
			    iov.iov_base, iov.iov_len, &out, &outlen) ==
			    FILTER_PASS && out != NULL) {
				iov.iov_base = out;
				iov.iov_len = outlen;
			}
			publish(one, &iov);
			free(out);
		}
		txn_free(t);
		return;
	}
	golog("ERROR: publishing to %s failed: %s", t->d->addr, errtext);
	hostpool_mark(t->d, false);
	for (i = 0; i < t->n; i++)
		(void)nsq_msg_requeue(t->m[i], -1, true);
	txn_free(t);
}

/* Send t's messages (bodies in iov) as one PUB or MPUB. */
static void
publish(struct txn *t, const struct iovec *iov)
{
	char err[512];
	size_t i;
	int r;

	t->next = st.txns;
	t->prev = NULL;
	if (st.txns != NULL)
		st.txns->prev = t;
	st.txns = t;
	if (t->n == 1)
		r = nsq_producer_pub(t->d->prod, t->pool->topic,
		    iov[0].iov_base, iov[0].iov_len, pub_cb, t, err,
		    sizeof(err));
	else
		r = nsq_producer_mpub(t->d->prod, t->pool->topic, iov, t->n,
		    pub_cb, t, err, sizeof(err));
	if (r == 0)
		return;
	txn_unlink(t);
	golog("ERROR: publishing to %s failed: %s", t->d->addr, err);
	for (i = 0; i < t->n; i++)
		(void)nsq_msg_requeue(t->m[i], -1, true);
	txn_free(t);
}

static void
batch_flush(struct dest *d, struct pool *p)
{
	struct batch *b = &d->b[p->idx];
	struct txn *t;
	size_t i;

	if (b->n == 0)
		return;
	t = xcalloc(1, sizeof(*t));
	t->d = d;
	t->pool = p;
	t->n = b->n;
	t->m = xcalloc(b->n, sizeof(*t->m));
	t->start = xcalloc(b->n, sizeof(*t->start));
	memcpy(t->m, b->m, b->n * sizeof(*t->m));
	memcpy(t->start, b->start, b->n * sizeof(*t->start));
	publish(t, b->iov);
	/* The producer copied the bodies. */
	for (i = 0; i < b->n; i++)
		if (b->owned[i])
			free(b->iov[i].iov_base);
	b->n = 0;
	b->bytes = 0;
}

static void
flush_all(void)
{
	size_t i, k;

	for (i = 0; i < st.ndests; i++)
		for (k = 0; k < st.npools; k++)
			batch_flush(st.dests[i], st.pools[k]);
}

static void
flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	flush_all();
}

static void
batch_add(struct dest *d, struct pool *p, struct nsq_message *m,
    void *body, size_t len, bool owned)
{
	struct batch *b = &d->b[p->idx];

	if (b->n > 0 && (b->n == BATCH_MAX || b->bytes + len + 4 >
	    BATCH_BYTES))
		batch_flush(d, p);
	b->m[b->n] = m;
	b->iov[b->n].iov_base = body;
	b->iov[b->n].iov_len = len;
	b->owned[b->n] = owned;
	b->start[b->n] = ev_now(st.loop);
	b->n++;
	b->bytes += len + 4;
}

static void
message_cb(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	struct source *s = arg;
	struct pool *p = s->pool;
	struct dest *d;
	const char *body;
	char *out = NULL;
	size_t len, outlen = 0;

	(void)c;
	body = nsq_msg_body(m, &len);
	if (st.filtering) {
		switch (filter_message(&st.filter, body, len, &out,
		    &outlen)) {
		case FILTER_BAD_JSON:
			golog("ERROR: Unable to decode json: %.*s", (int)len,
			    body);
			(void)nsq_msg_finish(m);
			return;
		case FILTER_DROP:
			(void)nsq_msg_finish(m);
			return;
		case FILTER_MISSING:
			/*
			 * Go backs off and requeues it, and go-nsq's
			 * max_attempts (5) gives it up on the next delivery.
			 * Ours does not give up on a message it failed to
			 * publish, so this one is given up here, at Go's count.
			 */
			if (nsq_msg_attempts(m) > GIVEUP_ATTEMPTS) {
				golog("WRN: msg %s attempted %u times, giving "
				    "up", nsq_msg_id(m),
				    (unsigned)nsq_msg_attempts(m));
				(void)nsq_msg_finish(m);
				return;
			}
			golog("ERROR: missing field to check required value");
			(void)nsq_msg_requeue(m, -1, true);
			return;
		case FILTER_PASS:
			break;
		}
	}
	if (p->n == 0) {
		/* Nowhere to publish yet: a failed publish, for Go. */
		if (ev_now(st.loop) - p->warned >= 1.0) {
			golog("ERROR: no destination nsqd for topic %s yet",
			    p->topic);
			p->warned = ev_now(st.loop);
		}
		free(out);
		(void)nsq_msg_requeue(m, -1, true);
		return;
	}
	if (st.round_robin)
		d = p->d[++p->counter % p->n];
	else if (st.epsilon_greedy)
		d = epsilon_get(p);
	else
		d = hostpool_get(p);
	if (out != NULL)
		batch_add(d, p, m, out, outlen, true);
	else
		batch_add(d, p, m, (void *)(uintptr_t)body, len, false);
}

/* The destination cluster's nsqd for a pool's topic, as listed now. */
static void
listed_cb(void *arg, char *const *addrs, size_t n)
{
	struct pool *p = arg;
	size_t i;

	p->d = xreallocarray(p->d, n ? n : 1, sizeof(*p->d));
	for (i = 0; i < n; i++)
		p->d[i] = dest_get(addrs[i]);
	if (n != p->n)
		golog("INFO: topic %s: %zu destination nsqd", p->topic, n);
	p->n = n;
	if (p->next >= n)
		p->next = 0;
	/*
	 * Consume once every destination topic has somewhere to go, lest
	 * the first messages go back for default_requeue_delay.
	 */
	if (st.started || st.stopping)
		return;
	for (i = 0; i < st.npools; i++)
		if (st.pools[i]->n == 0)
			return;
	start_consumers();
}

static void
conn_cb(struct nsq_consumer *c, const char *addr, enum nsq_conn_event ev,
    const char *err, void *arg)
{
	struct source *s = NULL;
	size_t i;

	(void)arg;
	for (i = 0; i < st.nsrc; i++)
		if (st.src[i].cons == c)
			s = &st.src[i];
	if (s == NULL)
		return;
	/* As Go's ConnectToNSQDs: a given nsqd that never worked is fatal. */
	if (client_conn_never_up(&s->up, addr, ev) && !st.stopping &&
	    o.nsqd.n > 0)
		errx(1, "%s", client_hint(err));
}

static void
prod_stopped_cb(struct nsq_producer *p, void *arg)
{
	(void)p;
	(void)arg;
	if (++st.nprod_stopped == st.ndests)
		ev_break(st.loop, EVBREAK_ALL);
}

/* Every consumer closed: the producers finish what they hold, then go. */
static void
cons_stopped_cb(struct nsq_consumer *c, void *arg)
{
	size_t i;

	(void)c;
	(void)arg;
	if (++st.nstopped < st.nsrc)
		return;
	flush_all();
	if (st.ndests == 0) {
		ev_break(st.loop, EVBREAK_ALL);
		return;
	}
	for (i = 0; i < st.ndests; i++)
		nsq_producer_stop(st.dests[i]->prod, prod_stopped_cb, NULL);
}

static void
stop_all(void)
{
	size_t i;

	if (st.stopping)
		return;
	st.stopping = true;
	if (!st.started) {
		ev_break(st.loop, EVBREAK_ALL);
		return;
	}
	ev_timer_set(&st.stop_wait, STOP_WAIT, 0);
	ev_timer_start(st.loop, &st.stop_wait);
	for (i = 0; i < st.npools; i++)
		if (st.pools[i]->lk != NULL) {
			lookup_free(st.pools[i]->lk);
			st.pools[i]->lk = NULL;
		}
	for (i = 0; i < st.nsrc; i++)
		nsq_consumer_stop(st.src[i].cons, cons_stopped_cb, NULL);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	if (st.stopping) {
		/* A second signal (not the same one twice) ends the wait. */
		if (ev_now(loop) - st.signalled_at >= SIGNAL_REPEAT)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	st.signalled_at = ev_now(loop);
	stop_all();
}

static void
stop_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/*
 * The consumers' configuration, and the producers' in st.pcfg.  As Go,
 * --max-in-flight and the user agent are set after --consumer-opt, so
 * they win over it.  The plain TLS, compression and AUTH flags apply to
 * both sides, after each side's -opt keys.
 */
static struct nsq_config *
make_configs(void)
{
	struct nsq_config *cfg;
	char err[512], *ua, n[32];

	ua = xasprintf("%s/%s nsq-c/%s", PROG, NSQ_VERSION, nsq_version());
	/*
	 * go-nsq's producer dials again at each publish, so one to an nsqd
	 * that is down fails at once and goes back to the source; ours
	 * would wait up to max_backoff_duration before it tried again,
	 * holding those messages in flight meanwhile.
	 */
	st.pcfg = nsq_config_new();
	if (nsq_config_set(st.pcfg, "max_backoff_duration", "0", err,
	    sizeof(err)) == -1)
		errx(1, "%s", err);
	client_config(st.pcfg, &o.producer_opts, "producer-opt");
	if (nsq_config_set(st.pcfg, "user_agent", ua, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	nsq_config_set_logger(st.pcfg, lib_log_cb, NULL, NSQ_LOG_INFO);

	/* Last, so that the consumers' errors name --consumer-opt. */
	cfg = nsq_config_new();
	if (nsq_config_set(cfg, "max_attempts", "0", err, sizeof(err)) == -1)
		errx(1, "%s", err);
	client_config(cfg, &o.consumer_opts, "consumer-opt");
	snprintf(n, sizeof(n), "%lld", (long long)o.max_in_flight);
	if (nsq_config_set(cfg, "user_agent", ua, err, sizeof(err)) == -1 ||
	    nsq_config_set(cfg, "max_in_flight", n, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	nsq_config_set_logger(cfg, lib_log_cb, NULL, NSQ_LOG_INFO);
	free(ua);
	return cfg;
}

/* Go's checks, in Go's order and words; then what Go lacks. */
static void
check_options(void)
{
	size_t i;

	if (o.topics.n == 0 || o.channel[0] == '\0')
		errx(1, "--topic and --channel are required");
	for (i = 0; i < o.topics.n; i++)
		if (!name_valid(o.topics.v[i], strlen(o.topics.v[i])))
			errx(1, "--topic is invalid");
	if (o.dest_topic[0] != '\0' &&
	    !name_valid(o.dest_topic, strlen(o.dest_topic)))
		errx(1, "--destination-topic is invalid");
	if (!name_valid(o.channel, strlen(o.channel)))
		errx(1, "--channel is invalid");
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		errx(1, "--nsqd-tcp-address or --lookupd-http-address "
		    "required");
	if (o.nsqd.n > 0 && o.lookupd.n > 0)
		errx(1, "use --nsqd-tcp-address or --lookupd-http-address not "
		    "both");
	if (o.dest_nsqd.n == 0 && o.dest_lookupd.n == 0)
		errx(1, "--destination-nsqd-tcp-address required");
	if (o.dest_nsqd.n > 0 && o.dest_lookupd.n > 0)
		tool_usage_exit("use --destination-nsqd-tcp-address or "
		    "--destination-lookupd-http-address not both");
	if (strcmp(o.mode, "round-robin") == 0)
		st.round_robin = true;
	else if (strcmp(o.mode, "epsilon-greedy") == 0)
		st.epsilon_greedy = true;
	else if (strcmp(o.mode, "hostpool") != 0)
		/* Go would take it for round-robin, saying nothing. */
		tool_usage_exit("--mode must be round-robin, hostpool or "
		    "epsilon-greedy");
	/* Go would take the value and never look at it. */
	if (o.require_value[0] != '\0' && o.require_field[0] == '\0')
		tool_usage_exit("--require-json-value needs "
		    "--require-json-field");
	tool_uniq(&o.nsqd);
	tool_uniq(&o.lookupd);
	tool_uniq(&o.dest_nsqd);
	tool_uniq(&o.dest_lookupd);
	tool_uniq(&o.topics);
}

/* One pool per destination topic, fed by the addresses or nsqlookupd. */
static void
setup_pools(void)
{
	struct pool *p;
	const char *topic;
	char err[512];
	size_t i, k;

	st.src = xcalloc(o.topics.n, sizeof(*st.src));
	st.nsrc = o.topics.n;
	for (i = 0; i < o.topics.n; i++) {
		topic = o.dest_topic[0] != '\0' ? o.dest_topic :
		    o.topics.v[i];
		p = NULL;
		for (k = 0; k < st.npools; k++)
			if (strcmp(st.pools[k]->topic, topic) == 0)
				p = st.pools[k];
		if (p == NULL) {
			p = xcalloc(1, sizeof(*p));
			p->idx = st.npools;
			p->topic = xstrdup(topic);
			p->warned = -1e9;
			p->epsilon = EPS_INITIAL;
			st.pools = xreallocarray(st.pools, st.npools + 1,
			    sizeof(*st.pools));
			st.pools[st.npools++] = p;
		}
		st.src[i].pool = p;
	}
	st.per_address = o.dest_nsqd.n > 1 || o.dest_lookupd.n > 0;
	for (k = 0; k < o.dest_nsqd.n; k++)
		(void)dest_get(o.dest_nsqd.v[k]);
	for (i = 0; i < st.npools; i++) {
		p = st.pools[i];
		if (o.dest_nsqd.n > 0) {
			p->n = st.ndests;
			p->d = xcalloc(p->n, sizeof(*p->d));
			memcpy(p->d, st.dests, p->n * sizeof(*p->d));
			continue;
		}
		golog("INFO: topic %s: waiting for nsqlookupd to list a "
		    "destination nsqd", p->topic);
		p->lk = lookup_new(st.loop, p->topic, st.pcfg, listed_cb, p);
		for (k = 0; k < o.dest_lookupd.n; k++)
			if (lookup_add(p->lk, o.dest_lookupd.v[k], err,
			    sizeof(err)) == -1)
				errx(1, "%s", err);
	}
}

static void
start_consumers(void)
{
	struct nsq_config *cfg = st.ccfg;
	struct source *s;
	char err[512];
	size_t i, k;

	st.started = true;
	for (i = 0; i < st.nsrc; i++) {
		s = &st.src[i];
		s->cons = nsq_consumer_new(st.loop, o.topics.v[i], o.channel,
		    cfg, message_cb, s, err, sizeof(err));
		if (s->cons == NULL)
			errx(1, "%s", err);
		nsq_consumer_set_conn_cb(s->cons, conn_cb);
	}
	for (i = 0; i < st.nsrc; i++)
		for (k = 0; k < o.nsqd.n; k++)
			if (nsq_consumer_connect_nsqd(st.src[i].cons,
			    o.nsqd.v[k], err, sizeof(err)) == -1)
				errx(1, "%s", err);
	for (i = 0; i < st.nsrc; i++)
		for (k = 0; k < o.lookupd.n; k++)
			if (nsq_consumer_connect_lookupd(st.src[i].cons,
			    o.lookupd.v[k], err, sizeof(err)) == -1)
				errx(1, "%s", err);
}

static void
cleanup(void)
{
	struct txn *t;
	struct dest *d;
	struct pool *p;
	size_t i, k, m;

	/* Dropped without their callbacks: their messages go back. */
	for (i = 0; i < st.ndests; i++)
		nsq_producer_free(st.dests[i]->prod);
	while ((t = st.txns) != NULL) {
		txn_unlink(t);
		for (i = 0; i < t->n; i++)
			(void)nsq_msg_requeue(t->m[i], 0, false);
		txn_free(t);
	}
	for (i = 0; i < st.ndests; i++) {
		d = st.dests[i];
		for (k = 0; k < st.npools; k++) {
			for (m = 0; m < d->b[k].n; m++) {
				(void)nsq_msg_requeue(d->b[k].m[m], 0, false);
				if (d->b[k].owned[m])
					free(d->b[k].iov[m].iov_base);
			}
			free(d->b[k].m);
			free(d->b[k].iov);
			free(d->b[k].owned);
			free(d->b[k].start);
		}
		free(d->b);
		tm_free(d->tm);
		free(d->addr);
		free(d);
	}
	free(st.dests);
	for (i = 0; i < st.nsrc; i++) {
		if (st.src[i].cons != NULL)
			nsq_consumer_free(st.src[i].cons);
		strlist_free(&st.src[i].up);
	}
	free(st.src);
	for (i = 0; i < st.npools; i++) {
		p = st.pools[i];
		lookup_free(p->lk);
		free(p->d);
		free(p->topic);
		free(p);
	}
	free(st.pools);
	tm_free(st.agg);
	filter_free(&st.filter);
	nsq_config_free(st.ccfg);
	nsq_config_free(st.pcfg);
}

int
main(int argc, char **argv)
{
	tool_options(PROG, "[options]", opts, OPTS_LEN(opts), &o.version, argc,
	    argv);
	check_options();
	tool_options_done();
	st.filtering = o.require_field[0] != '\0' || o.whitelist.n > 0;
	filter_init(&st.filter, o.require_field, o.require_value,
	    (const char *const *)o.whitelist.v, o.whitelist.n);

	signal(SIGPIPE, SIG_IGN);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	st.ccfg = make_configs();
	st.agg = tm_new(o.status_every, "[aggregate]:");
	st.since = ev_now(st.loop);
	setup_pools();
	if (o.dest_lookupd.n == 0)
		start_consumers();
	ev_prepare_init(&st.flush, flush_cb);
	ev_prepare_start(st.loop, &st.flush);
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	ev_init(&st.stop_wait, stop_wait_cb);
	if (st.epsilon_greedy) {
		ev_timer_init(&st.eps_decay, eps_decay_cb, EPS_PERIOD,
		    EPS_PERIOD);
		ev_timer_start(st.loop, &st.eps_decay);
	}
	ev_run(st.loop, 0);

	cleanup();
	ev_loop_destroy(st.loop);
	return st.rc;
}
