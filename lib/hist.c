/*
 * Log-linear histogram (see hist.h).  Values below 2^7 have a bucket each;
 * a larger value v with its highest set bit at position m keeps its top 7
 * bits (64..127) and drops s = m - 6 low bits, and bucket 128 + (s - 1) *
 * 64 + (top - 64) holds it.  Every bucket of a power of two is as wide as
 * 1/64 of its values, the precision HdrHistogram calls two significant
 * digits.
 */
#include <math.h>
#include <string.h>

#include "hist.h"

#define SUB	(1u << HIST_SUB_BITS)	/* 128 exact buckets */
#define HALF	(SUB / 2)		/* 64 buckets a power of two */

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned
hist_bucket(uint64_t v)
{
	unsigned m, s;

	if (v < SUB)
		return (unsigned)v;
	m = 63 - (unsigned)__builtin_clzll(v);
	s = m - (HIST_SUB_BITS - 1);
	return SUB + (s - 1) * HALF + (unsigned)((v >> s) - HALF);
}

uint64_t
hist_bucket_low(unsigned i)
{
	unsigned k, s;

	if (i < SUB)
		return i;
	k = i - SUB;
	s = k / HALF + 1;
	return (uint64_t)(k % HALF + HALF) << s;
}

uint64_t
hist_bucket_high(unsigned i)
{
	unsigned k, s;

	if (i < SUB)
		return i;
	k = i - SUB;
	s = k / HALF + 1;
	/* The last bucket ends at UINT64_MAX; the shift must not overflow. */
	return hist_bucket_low(i) + (((uint64_t)1 << s) - 1);
}

void
hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_bucket(v)]++;
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	if (src->n == 0)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, hi;
	unsigned i;

	if (h->n == 0)
		return 0;
	if (q <= 0)
		return h->min;
	rank = (uint64_t)ceil(q * (double)h->n);
	if (rank < 1)
		rank = 1;
	if (rank >= h->n)
		return h->max;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	hi = hist_bucket_high(i);
	return hi > h->max ? h->max : hi;
}
