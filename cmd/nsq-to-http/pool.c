/*
 * Address choice (pool.h), go-hostpool's algorithms: standardHostPool's
 * round robin over live hosts with retry delays, and
 * epsilonGreedyHostPool's weighted choice over 120 buckets of response
 * times rotated every 5min / 120.  The buckets turn when the pool is
 * used rather than on a ticker: the same thing seen from outside.
 */
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "rand.h"
#include "xmalloc.h"

#define RETRY_FIRST	30.0	/* s, go-hostpool's initialRetryDelay */
#define RETRY_MAX	900.0	/* s, its maxRetryInterval */
#define BUCKETS		120
#define DECAY_SPAN	300.0	/* s, defaultDecayDuration */
#define EPS_FIRST	0.3
#define EPS_DECAY	0.9
#define EPS_MIN		0.01

struct host {
	bool	 dead;
	double	 next_retry;
	double	 retry_delay;
	double	 count[BUCKETS];	/* successes in each bucket */
	double	 ms[BUCKETS];		/* their summed response times */
	size_t	 index;			/* the current bucket */
};

struct pool {
	enum pool_mode	 mode;
	size_t		 n;
	struct host	*hosts;
	size_t		 next;		/* hostpool's next index */
	unsigned long long counter;	/* round-robin */
	double		 epsilon;
	double		 epoch;		/* when the buckets last turned */
	bool		 started;
};

static const struct {
	const char	*name;
	enum pool_mode	 mode;
} modes[] = {
	{ "round-robin", POOL_ROUND_ROBIN },
	{ "hostpool", POOL_HOSTPOOL },
	{ "epsilon-greedy", POOL_EPSILON_GREEDY },
};

int
pool_mode_parse(const char *name, enum pool_mode *m)
{
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(name, modes[i].name) == 0) {
			*m = modes[i].mode;
			return 0;
		}
	return -1;
}

struct pool *
pool_new(enum pool_mode mode, size_t n)
{
	struct pool *p;
	size_t i;

	p = xcalloc(1, sizeof(*p));
	p->mode = mode;
	p->n = n;
	p->hosts = xcalloc(n, sizeof(*p->hosts));
	for (i = 0; i < n; i++)
		p->hosts[i].retry_delay = RETRY_FIRST;
	p->epsilon = EPS_FIRST;
	return p;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	free(p->hosts);
	free(p);
}

/* go-hostpool's willRetryHost: the next retry twice as far. */
static void
will_retry(struct host *h, double now)
{
	h->retry_delay = h->retry_delay * 2 < RETRY_MAX ?
	    h->retry_delay * 2 : RETRY_MAX;
	h->next_retry = now + h->retry_delay;
}

/* standardHostPool.getRoundRobin. */
static size_t
round_robin(struct pool *p, double now)
{
	struct host *h;
	size_t i, k;

	for (i = 0; i < p->n; i++) {
		k = (i + p->next) % p->n;
		h = &p->hosts[k];
		if (!h->dead) {
			p->next = k + 1;
			return k;
		}
		if (h->next_retry < now) {
			will_retry(h, now);
			p->next = k + 1;
			return k;
		}
	}
	/* Every host is down: all live again, from the first. */
	for (i = 0; i < p->n; i++)
		p->hosts[i].dead = false;
	p->next = 0;
	return 0;
}

/* Turn every host's buckets once per DECAY_SPAN / BUCKETS gone by. */
static void
decay(struct pool *p, double now)
{
	const double step = DECAY_SPAN / BUCKETS;
	struct host *h;
	size_t i, k, turns;

	if (!p->started) {
		p->started = true;
		p->epoch = now;
		return;
	}
	if (now - p->epoch < step)
		return;
	turns = (size_t)((now - p->epoch) / step);
	p->epoch += (double)turns * step;
	if (turns > BUCKETS)
		turns = BUCKETS;
	for (i = 0; i < p->n; i++) {
		h = &p->hosts[i];
		for (k = 0; k < turns; k++) {
			h->index = (h->index + 1) % BUCKETS;
			h->count[h->index] = 0;
			h->ms[h->index] = 0;
		}
	}
}

/* hostEntry.getWeightedAverageResponseTime: newer buckets weigh more. */
static double
weighted_avg(const struct host *h)
{
	double v = 0, last = 0, cur;
	size_t i, pos;

	for (i = 1; i <= BUCKETS; i++) {
		pos = (h->index + i) % BUCKETS;
		if (h->count[pos] > 0) {
			cur = h->ms[pos] / h->count[pos];
			v += cur * (double)i / BUCKETS;
			last = cur;
		} else
			v += last * (double)i / BUCKETS;
	}
	return v;
}

/* epsilonGreedyHostPool.getEpsilonGreedy, LinearEpsilonValueCalculator. */
static size_t
epsilon_greedy(struct pool *p, double now)
{
	double *val, sum = 0, pick, ceiling = 0;
	size_t i, chosen = SIZE_MAX;
	struct host *h;

	decay(p, now);
	if (rand_unit() < p->epsilon) {
		p->epsilon *= EPS_DECAY;
		if (p->epsilon < EPS_MIN)
			p->epsilon = EPS_MIN;
		return round_robin(p, now);
	}
	val = xcalloc(p->n, sizeof(*val));
	for (i = 0; i < p->n; i++) {
		h = &p->hosts[i];
		if (h->dead && !(h->next_retry < now))
			continue;
		if ((val[i] = weighted_avg(h)) > 0) {
			val[i] = 1.0 / val[i];
			sum += val[i];
		}
	}
	if (sum > 0) {
		pick = rand_unit();
		for (i = 0; i < p->n && chosen == SIZE_MAX; i++) {
			if (val[i] <= 0)
				continue;
			ceiling += val[i] / sum;
			if (pick <= ceiling)
				chosen = i;
		}
	}
	free(val);
	if (chosen == SIZE_MAX)
		return round_robin(p, now);
	if (p->hosts[chosen].dead)
		will_retry(&p->hosts[chosen], now);
	return chosen;
}

size_t
pool_get(struct pool *p, double now)
{
	switch (p->mode) {
	case POOL_ROUND_ROBIN:
		return (size_t)(++p->counter % p->n);
	case POOL_HOSTPOOL:
		return round_robin(p, now);
	case POOL_EPSILON_GREEDY:
		return epsilon_greedy(p, now);
	}
	abort();
}

void
pool_mark(struct pool *p, size_t i, bool ok, double started, double now)
{
	struct host *h = &p->hosts[i];

	if (p->mode == POOL_ROUND_ROBIN)
		return;
	if (!ok) {
		/* Dead from now; a retry that fails keeps its later time. */
		if (!h->dead) {
			h->dead = true;
			h->retry_delay = RETRY_FIRST;
			h->next_retry = now + RETRY_FIRST;
		}
		return;
	}
	h->dead = false;
	if (p->mode == POOL_EPSILON_GREEDY) {
		decay(p, now);
		h->count[h->index]++;
		h->ms[h->index] += (now - started) * 1000.0;
	}
}
