/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * A log-linear histogram of unsigned 64-bit values (latencies in ns): exact
 * below 128, then 64 buckets per power of two, so a quantile is within
 * 1/64 (1.6%) of the true value whatever the range, in a fixed 30 KB and
 * O(1) per value.  The minimum, maximum and sum are kept exactly.
 */
#ifndef NSQ_HIST_H
#define NSQ_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	7
#define HIST_BUCKETS	(128 + 57 * 64)

struct hist {
	uint64_t	n;		/* values added */
	uint64_t	min;		/* UINT64_MAX when empty */
	uint64_t	max;
	uint64_t	sum;		/* wraps after 2^64 */
	uint64_t	b[HIST_BUCKETS];
};

void	 hist_init(struct hist *);
void	 hist_add(struct hist *, uint64_t v);
/* Add every value of src to dst. */
void	 hist_merge(struct hist *dst, const struct hist *src);
/*
 * The q-quantile (0 < q <= 1) by the nearest-rank rule: the smallest
 * recorded value v such that at least ceil(q * n) values are <= v, given
 * as the upper bound of v's bucket but never above the maximum.  0 when
 * the histogram is empty.
 */
uint64_t hist_quantile(const struct hist *, double q);
/* The bucket of v, and the smallest and largest values of bucket i. */
unsigned hist_bucket(uint64_t v);
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

#endif
