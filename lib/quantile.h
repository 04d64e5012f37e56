/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * Quantiles of a stream of durations over a sliding time window, for
 * nsqd's end-to-end processing latency (--e2e-processing-latency-
 * percentile and --e2e-processing-latency-window-time).
 *
 * Go nsqd keeps two bmizerany/perks targeted streams, each covering half
 * the window: inserts go to the current half; once half a window has
 * passed the other half is cleared and becomes current, and a query
 * merges both.  The halves rotate the same way here, but each half is a
 * log-linear histogram instead of a sketch: values below 64 are counted
 * exactly, larger ones in buckets 1/64 of their power of two wide (up to
 * 2^48 ns, about 78 hours; larger values share the last bucket).  So the
 * rank is exact, and the value reported for quantile q is within 1/128
 * (0.8 %) of the value of rank ceil(q * n) among the n values in the
 * window; the smallest and largest values are kept exactly.  Memory is
 * fixed (two arrays of 2752 counters), merging is exact (counts add),
 * and an insert is O(1).
 *
 * Times are caller-supplied nanoseconds (the library reads no clock).
 */
#ifndef NSQ_QUANTILE_H
#define NSQ_QUANTILE_H

#include <stdint.h>

struct quantile;

/* A window of window_ns (halves of window_ns / 2) starting at now. */
struct quantile *quantile_new(int64_t window_ns, int64_t now);
/* NULL is fine. */
void	quantile_free(struct quantile *);
/* Count value v (negative counts as 0). */
void	quantile_insert(struct quantile *, int64_t v, int64_t now);
/*
 * Add everything src holds into dst, half for half (as Go's Merge does
 * for a topic's aggregate of its channels).  Both are first moved to now.
 */
void	quantile_merge(struct quantile *dst, struct quantile *src,
	    int64_t now);
/* Values in the window. */
uint64_t quantile_count(struct quantile *, int64_t now);
/* Their sum (as a double: it may pass int64). */
double	quantile_sum(struct quantile *, int64_t now);
/* The estimate of quantile p in [0, 1] (see above); 0 when empty. */
int64_t	quantile_query(struct quantile *, double p, int64_t now);

#endif
