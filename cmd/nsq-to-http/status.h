/*
 * nsq-to-http's --status-every lines, as Go's nsq_to_http prints them
 * with bitly/timer_metrics: the last N request times of a group (every
 * address, "[aggregate]:", and each address, "[URL]:", when there are
 * several) kept in a ring; every N records after the first N a line
 * "<prefix> finished N - 99th: 1.23ms - 95th: 1.01ms - avg: 0.52ms".
 */
#ifndef NSQ_TO_HTTP_STATUS_H
#define NSQ_TO_HTTP_STATUS_H

#include <stddef.h>

struct status;

/* every 0: records nothing, prints nothing. */
struct status *status_new(size_t every, const char *prefix);
void	status_free(struct status *);
/*
 * Record one request time (seconds).  Returns the line to print (no
 * newline, caller frees) when this record completes a round, else NULL.
 */
char	*status_record(struct status *, double seconds);

#endif
