/*
 * The broadcast address check.  nsqd tells nsqlookupd to send consumers
 * to --broadcast-address (the host name by default, as in Go).  On many
 * containers and minimal installs the host name resolves nowhere (no line
 * for it in /etc/hosts, no DNS record), and then every consumer that finds
 * this nsqd through nsqlookupd fails to connect while nsqd looks healthy.
 * Go says nothing; we resolve the address once at start and log one
 * warning that names the address and the flag.
 *
 * The lookup must not hold up the loop (a resolver that does not answer
 * can take many seconds), so it runs with getaddrinfo_a(3): glibc resolves
 * it on a thread of its own, and a timer on the loop polls gai_error()
 * until the answer is in.  Nothing else is shared with that thread.
 */

#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "nsqd.h"
#include "xmalloc.h"

#define POLL_EVERY	0.05	/* s between looks at the answer */
#define GIVE_UP		30.0	/* s: then it counts as not resolving */

struct bcheck {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		*name;
	ev_timer	 poll;
	ev_tstamp	 started;
};

static void
warn_unresolved(const char *name, const char *why)
{
	log_warnx("NSQ: broadcast address %s does not resolve (%s): "
	    "consumers that find this nsqd through nsqlookupd will not be "
	    "able to connect; set --broadcast-address to a name or IP they "
	    "can reach", name, why);
}

static void
bcheck_release(struct ev_loop *loop, struct bcheck *b)
{
	ev_timer_stop(loop, &b->poll);
	if (b->cb.ar_result != NULL)
		freeaddrinfo(b->cb.ar_result);
	free(b->name);
	free(b);
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsqd *n = w->data;
	struct bcheck *b = n->bcheck;
	int r;

	(void)revents;
	r = gai_error(&b->cb);
	if (r == EAI_INPROGRESS) {
		if (ev_now(loop) - b->started < GIVE_UP)
			return;
		/* The resolver still owns cb: leave it be, stop looking. */
		warn_unresolved(b->name, "no answer in 30s");
		ev_timer_stop(loop, &b->poll);
		return;
	}
	if (r != 0)
		warn_unresolved(b->name, gai_strerror(r));
	else
		log_debug("NSQ: broadcast address %s resolves", b->name);
	n->bcheck = NULL;
	bcheck_release(loop, b);
}

void
broadcast_check_start(struct nsqd *n, const char *name)
{
	struct gaicb *list[1];
	struct sigevent sev;
	struct bcheck *b;
	int r;

	b = xcalloc(1, sizeof(*b));
	b->name = xstrdup(name);
	b->hints.ai_socktype = SOCK_STREAM;
	b->cb.ar_name = b->name;
	b->cb.ar_request = &b->hints;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_NONE;
	list[0] = &b->cb;
	if ((r = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		log_warnx("NSQ: cannot check that broadcast address %s "
		    "resolves: %s", name, gai_strerror(r));
		free(b->name);
		free(b);
		return;
	}
	b->started = ev_now(n->loop);
	ev_timer_init(&b->poll, poll_cb, POLL_EVERY, POLL_EVERY);
	b->poll.data = n;
	ev_timer_start(n->loop, &b->poll);
	n->bcheck = b;
}

void
broadcast_check_stop(struct nsqd *n)
{
	struct bcheck *b = n->bcheck;

	if (b == NULL)
		return;
	n->bcheck = NULL;
	/* A lookup still running keeps its memory: the process is ending. */
	if (gai_cancel(&b->cb) == EAI_NOTCANCELED) {
		ev_timer_stop(n->loop, &b->poll);
		return;
	}
	bcheck_release(n->loop, b);
}
