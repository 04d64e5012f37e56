/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * Discovery of a topic's nsqd producers through nsqlookupd's HTTP API:
 * GET /lookup?topic=T on every nsqlookupd given, at once and then every
 * lookupd_poll_interval (the first wait lengthened by a random fraction
 * up to lookupd_poll_jitter of it, as go-nsq does so that consumers
 * restarted together do not poll together).  The producers are the union
 * over the nsqlookupd instances of their last good answer, each named
 * "broadcast_address:tcp_port"; the owner gets that set after every good
 * answer.  A failing nsqlookupd keeps its last answer.
 */
#ifndef NSQ_LOOKUP_H
#define NSQ_LOOKUP_H

#include <stddef.h>

#include <ev.h>

struct lookup;
struct nsq_config;

/* The producers now known (sorted, no duplicates). */
typedef void	lookup_cb(void *arg, char *const *addrs, size_t n);

/* The config is referenced, not copied. */
struct lookup *lookup_new(struct ev_loop *, const char *topic,
	    const struct nsq_config *, lookup_cb *, void *arg);
void	lookup_free(struct lookup *);
/*
 * Add an nsqlookupd ("host:port" or a URL); the first one starts the
 * polling with a query at once.  Adding one twice does nothing.
 */
int	lookup_add(struct lookup *, const char *addr, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Query again soon (at most once a second), e.g. after a disconnect. */
void	lookup_recheck(struct lookup *);
/*
 * The URL of pathq ("/path?query", either part may be empty) at an
 * nsqlookupd (or nsqd) HTTP address as a command line gives it:
 * "host:port" means http://host:port; an http:// or https:// URL is kept,
 * its path a prefix of pathq's path and its query ahead of pathq's (its
 * fragment dropped).  Every tool builds its nsqlookupd URLs here, so each
 * takes the same addresses.  Caller frees.
 */
char	*lookup_http_url(const char *addr, const char *pathq);
/*
 * The /lookup URL queried for addr and topic, as go-nsq builds it: an
 * address with a path of its own ("http://h/x") is queried there instead
 * of at /lookup.  Caller frees.
 */
char	*lookup_url(const char *addr, const char *topic);
/*
 * The producers of a /lookup reply: nsqlookupd 1.x's object, or the
 * older {"status_code":200,"data":{...}} envelope.  Each becomes
 * "host:port" ("[v6]:port" for IPv6).  0 with *addrs (caller frees each
 * and the array) and *n, or -1 with err.
 */
int	lookup_parse(const char *body, size_t len, char ***addrs, size_t *n,
	    char *err, size_t errlen);

#endif
