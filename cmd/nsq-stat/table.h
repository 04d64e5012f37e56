/*
 * nsq-stat's numbers: the producers of a /lookup answer, one channel's
 * counts summed over the /stats answers of every nsqd, and the table
 * rows Go's nsq_stat prints.  No I/O, so the unit tests pin the parsing,
 * the sums and the columns down.
 */
#ifndef NSQ_STAT_TABLE_H
#define NSQ_STAT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strlist;

/* One channel's counts, summed over the nsqd that have it. */
struct nstat {
	int64_t	depth;
	int64_t	backend_depth;	/* "disk"; "mem" is depth - this */
	int64_t	in_flight;
	int64_t	deferred;
	int64_t	requeue;
	int64_t	timeout;
	int64_t	messages;
	int64_t	clients;
	size_t	nodes;		/* nsqd that had the channel */
};

/*
 * The HTTP addresses ("broadcast_address:http_port", IPv6 addresses in
 * brackets) of the producers in an nsqlookupd /lookup answer (nsqlookupd
 * 1.x's object or the older {"data":{...}} envelope), added to out unless
 * already there.  0, or -1 with the reason in err.
 */
int	nstat_producers(const char *body, size_t len, struct strlist *out,
	    char *err, size_t errlen);
/*
 * Add topic/channel's counts from one nsqd's /stats?format=json answer
 * to s (nothing when that nsqd lacks them; s->nodes counts those that
 * have them).  client_count is used when present, else the length of
 * clients.  0, or -1 with the reason in err.
 */
int	nstat_add(struct nstat *s, const char *body, size_t len,
	    const char *topic, const char *channel, char *err,
	    size_t errlen);
/* The two header lines of Go's table, each ending in a newline. */
extern const char nstat_header[];
/*
 * One row (no newline): ingress = messages gained / interval and egress =
 * (messages gained - depth gained) / interval, each truncated as Go's
 * int64(float64), then the depths and counts of cur.  prev NULL: the
 * rates show as "-" (nsq-stat's live view of its first sample).
 */
void	nstat_row(char *out, size_t len, const struct nstat *prev,
	    const struct nstat *cur, double interval);

#endif
