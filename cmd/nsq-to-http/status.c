/*
 * Request time metrics (status.h), timer_metrics' arithmetic: its
 * percentile is element ceil(p/100 * n + 0.5) of the sorted times (the
 * last one past the end), its average the sum over n, in whole
 * nanoseconds as Go's time.Duration.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "status.h"
#include "xmalloc.h"

struct status {
	size_t	 every;
	size_t	 pos;
	size_t	 n;
	int64_t	*t;		/* ns */
	int64_t	*sorted;
	char	*prefix;
};

struct status *
status_new(size_t every, const char *prefix)
{
	struct status *s;

	s = xcalloc(1, sizeof(*s));
	s->every = every;
	s->prefix = xstrdup(prefix);
	if (every > 0) {
		s->t = xcalloc(every, sizeof(*s->t));
		s->sorted = xcalloc(every, sizeof(*s->sorted));
	}
	return s;
}

void
status_free(struct status *s)
{
	if (s == NULL)
		return;
	free(s->t);
	free(s->sorted);
	free(s->prefix);
	free(s);
}

static int
cmp64(const void *a, const void *b)
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

char *
status_record(struct status *s, double seconds)
{
	int64_t total = 0, avg;
	size_t i;
	int looped = 0;

	if (s->every == 0)
		return NULL;
	if (++s->pos > s->every) {
		looped = 1;
		s->pos = 1;
	}
	s->t[s->pos - 1] = (int64_t)(seconds * 1e9);
	if (s->pos > s->n)
		s->n = s->pos;
	if (!looped)
		return NULL;
	for (i = 0; i < s->n; i++) {
		total += s->t[i];
		s->sorted[i] = s->t[i];
	}
	qsort(s->sorted, s->n, sizeof(*s->sorted), cmp64);
	avg = total / (int64_t)s->n;
	return xasprintf("%s finished %zu - 99th: %.02fms - 95th: %.02fms - "
	    "avg: %.02fms", s->prefix, s->n,
	    (double)percentile(99.0, s->sorted, s->n) / 1e6,
	    (double)percentile(95.0, s->sorted, s->n) / 1e6,
	    (double)avg / 1e6);
}
