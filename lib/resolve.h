/*
 * Archive: libnsqsrv.a (a thread per lookup).
 *
 * getaddrinfo off the event loop.  A name that is not an address may
 * wait seconds for a resolver; resolve_start makes the lookup on one
 * detached thread, which sends the answer down a socket pair the loop
 * watches, and the callback runs from the loop.  (Not getaddrinfo_a:
 * its helper thread leaves with pthread_exit, whose forced unwind makes
 * a static binary sort all of its unwind tables once: 44 million
 * instructions and 0.9 MB of memory, measured in nsqd.)
 *
 * The thread owns its copy of the query and its end of the pair;
 * resolve_cancel shuts the loop's end so that an answer sent before is
 * freed here and one sent after fails and is freed by the thread.
 */
#ifndef NSQ_RESOLVE_H
#define NSQ_RESOLVE_H

struct addrinfo;
struct ev_loop;
struct resolve;

/*
 * The answer: res (the callee frees it with freeaddrinfo) when err is 0,
 * else err is getaddrinfo's code (gai_strerror), EAI_SYSTEM with errno
 * when no answer came.  The request is freed before the call.
 */
typedef void	resolve_cb(void *arg, struct addrinfo *res, int err);
/* The lookup itself, as getaddrinfo (a test seam: resolve_set_fn). */
typedef int	resolve_fn(const char *host, const char *serv,
		    const struct addrinfo *hints, struct addrinfo **res);

/*
 * Look host and serv up with hints (its family, socktype, protocol and
 * flags are copied).  NULL with errno when no thread could start.
 */
struct resolve *resolve_start(struct ev_loop *, const char *host,
	    const char *serv, const struct addrinfo *hints, resolve_cb *,
	    void *arg);
/* Forget the lookup: cb will not run.  NULL is a no-op. */
void	resolve_cancel(struct resolve *);
/* Lookups started from now use fn (NULL: getaddrinfo).  For tests. */
void	resolve_set_fn(resolve_fn *);

#endif
