/*
 * Sliding-window quantiles over two rotating log-linear histograms (see
 * quantile.h for the accuracy this gives and why).
 *
 * Bucket layout: index v for v < SUB; above, for v with highest set bit
 * e (SUB_BITS <= e <= MAX_EXP), index SUB + (e - SUB_BITS) * SUB + the
 * SUB_BITS bits below the highest one.  A bucket [lo, lo + w) has
 * w = 2^(e - SUB_BITS) <= lo / SUB, so its middle is within w / 2 <=
 * lo / 128 of any value in it.
 */
#include <stdlib.h>
#include <string.h>

#include "quantile.h"
#include "xmalloc.h"

#define SUB_BITS	6
#define SUB		(1 << SUB_BITS)
#define MAX_EXP		47
#define NBUCKETS	(SUB + (MAX_EXP - SUB_BITS + 1) * SUB)

struct half {
	uint64_t	n;
	double		sum;
	int64_t		min;
	int64_t		max;
	uint64_t	b[NBUCKETS];
};

struct quantile {
	int64_t		move;		/* half a window, >= 1 */
	int64_t		last_move;
	int		cur;
	struct half	h[2];
};

static void
half_reset(struct half *h)
{
	memset(h, 0, sizeof(*h));
}

static int
bucket(int64_t v)
{
	uint64_t u = (uint64_t)v;
	int e;

	if (u < SUB)
		return (int)u;
	e = 63 - __builtin_clzll(u);
	if (e > MAX_EXP)
		return NBUCKETS - 1;
	return SUB + (e - SUB_BITS) * SUB +
	    (int)((u >> (e - SUB_BITS)) & (SUB - 1));
}

/* The middle of bucket i. */
static int64_t
bucket_mid(int i)
{
	int k, e, s;
	int64_t lo, w;

	if (i < SUB)
		return i;
	k = i - SUB;
	e = k / SUB + SUB_BITS;
	s = k % SUB;
	w = (int64_t)1 << (e - SUB_BITS);
	lo = (int64_t)(SUB + s) * w;
	return lo + w / 2;
}

struct quantile *
quantile_new(int64_t window_ns, int64_t now)
{
	struct quantile *q = xcalloc(1, sizeof(*q));

	q->move = window_ns / 2 > 0 ? window_ns / 2 : 1;
	q->last_move = now;
	return q;
}

void
quantile_free(struct quantile *q)
{
	free(q);
}

/*
 * Rotate as Go does: each time half a window has passed since the last
 * move, the other half is cleared and becomes current.  Past two moves
 * both halves are empty, so the loop is cut short.
 */
static void
advance(struct quantile *q, int64_t now)
{
	int64_t moves;

	if (now <= q->last_move + q->move)
		return;
	moves = (now - q->last_move - 1) / q->move;
	if (moves >= 2) {
		half_reset(&q->h[0]);
		half_reset(&q->h[1]);
		if (moves % 2)
			q->cur ^= 1;
		q->last_move += moves * q->move;
		return;
	}
	q->cur ^= 1;
	half_reset(&q->h[q->cur]);
	q->last_move += q->move;
}

static void
half_add(struct half *h, int64_t v, uint64_t count)
{
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (h->n == 0 || v > h->max)
		h->max = v;
	h->n += count;
	h->sum += (double)v * (double)count;
	h->b[bucket(v)] += count;
}

void
quantile_insert(struct quantile *q, int64_t v, int64_t now)
{
	advance(q, now);
	half_add(&q->h[q->cur], v < 0 ? 0 : v, 1);
}

static void
half_merge(struct half *dst, const struct half *src)
{
	int i;

	if (src->n == 0)
		return;
	if (dst->n == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->n == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->sum += src->sum;
	for (i = 0; i < NBUCKETS; i++)
		dst->b[i] += src->b[i];
}

void
quantile_merge(struct quantile *dst, struct quantile *src, int64_t now)
{
	advance(dst, now);
	advance(src, now);
	half_merge(&dst->h[dst->cur], &src->h[src->cur]);
	half_merge(&dst->h[dst->cur ^ 1], &src->h[src->cur ^ 1]);
}

uint64_t
quantile_count(struct quantile *q, int64_t now)
{
	advance(q, now);
	return q->h[0].n + q->h[1].n;
}

double
quantile_sum(struct quantile *q, int64_t now)
{
	advance(q, now);
	return q->h[0].sum + q->h[1].sum;
}

int64_t
quantile_query(struct quantile *q, double p, int64_t now)
{
	const struct half *a = &q->h[0], *b = &q->h[1];
	uint64_t n, rank, seen = 0;
	int64_t min, max, v;
	int i;

	advance(q, now);
	n = a->n + b->n;
	if (n == 0)
		return 0;
	min = a->n == 0 ? b->min : b->n == 0 ? a->min :
	    (a->min < b->min ? a->min : b->min);
	max = a->n == 0 ? b->max : b->n == 0 ? a->max :
	    (a->max > b->max ? a->max : b->max);
	/* The rank of quantile p: ceil(p * n), within [1, n]. */
	if (!(p > 0))
		rank = 1;
	else if (p >= 1)
		rank = n;
	else {
		double r = p * (double)n;

		rank = (uint64_t)r;
		if ((double)rank < r)
			rank++;
		if (rank < 1)
			rank = 1;
		if (rank > n)
			rank = n;
	}
	if (rank == 1)
		return min;
	if (rank == n)
		return max;
	for (i = 0; i < NBUCKETS; i++) {
		seen += a->b[i] + b->b[i];
		if (seen >= rank)
			break;
	}
	if (i >= NBUCKETS - 1)
		return max;
	v = bucket_mid(i);
	if (v < min)
		v = min;
	if (v > max)
		v = max;
	return v;
}
