/*
 * nsq-to-http's choice of address for each message (--mode), as Go's
 * nsq_to_http makes it with go-hostpool:
 *
 * round-robin     each address in turn (the first message to the second
 *                 address, as Go's counter starts at 1), whatever they
 *                 answer.
 * hostpool        each live address in turn; one that fails is dead and
 *                 skipped, tried again after 30s, then after 60s, 120s
 *                 ... up to 900s while it keeps failing, live again on
 *                 its first success; when every address is dead they
 *                 are all made live again and the first one is used.
 * epsilon-greedy  hostpool's liveness; beyond it, most requests go to an
 *                 address drawn with a weight of 1 / its average response
 *                 time (successes over the last 5 minutes, recent ones
 *                 weighing more), so the fastest gets the most.  The rest
 *                 (30% at first, 0.9 times less after each, down to 1%)
 *                 explore in hostpool's order.  Go measures in whole
 *                 milliseconds, so that an address answering within 1ms
 *                 is never drawn; this measures in microseconds.
 *
 * Times are seconds on the caller's clock (ev_now).
 */
#ifndef NSQ_TO_HTTP_POOL_H
#define NSQ_TO_HTTP_POOL_H

#include <stdbool.h>
#include <stddef.h>

enum pool_mode {
	POOL_ROUND_ROBIN,
	POOL_HOSTPOOL,
	POOL_EPSILON_GREEDY,
};

struct pool;

/* -1 if name is no mode. */
int	pool_mode_parse(const char *name, enum pool_mode *)
	    __attribute__((warn_unused_result));
struct pool *pool_new(enum pool_mode, size_t naddrs);
void	pool_free(struct pool *);
/* The address (index) for the next request. */
size_t	pool_get(struct pool *, double now);
/* The request to address i, started at started, ended now: ok or not. */
void	pool_mark(struct pool *, size_t i, bool ok, double started,
	    double now);

#endif
