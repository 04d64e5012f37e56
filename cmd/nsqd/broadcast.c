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
 * can take many seconds): lib/resolve.h makes it on a detached thread
 * (and says why not getaddrinfo_a).  If nsqd stops first, the lookup is
 * cancelled and its answer dropped.
 */

#include <sys/socket.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "log.h"
#include "nsqd.h"
#include "resolve.h"
#include "xmalloc.h"

struct bcheck {
	struct resolve	*rq;
	char		*name;
};

static void
bcheck_release(struct bcheck *b)
{
	resolve_cancel(b->rq);
	free(b->name);
	free(b);
}

static void
answer_cb(void *arg, struct addrinfo *res, int r)
{
	struct nsqd *n = arg;
	struct bcheck *b = n->bcheck;

	b->rq = NULL;
	if (r == EAI_SYSTEM)
		log_warnx("NSQ: no answer on whether broadcast address %s "
		    "resolves", b->name);
	else if (r != 0)
		log_warnx("NSQ: broadcast address %s does not resolve (%s): "
		    "consumers that find this nsqd through nsqlookupd will "
		    "not be able to connect; set --broadcast-address to a "
		    "name or IP they can reach", b->name, gai_strerror(r));
	else
		log_debug("NSQ: broadcast address %s resolves", b->name);
	if (res != NULL)
		freeaddrinfo(res);
	n->bcheck = NULL;
	bcheck_release(b);
}

void
broadcast_check_start(struct nsqd *n, const char *name)
{
	struct addrinfo hints;
	struct bcheck *b;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	b = xcalloc(1, sizeof(*b));
	b->name = xstrdup(name);
	n->bcheck = b;
	if ((b->rq = resolve_start(n->loop, name, NULL, &hints, answer_cb,
	    n)) == NULL) {
		log_warn("NSQ: cannot check that broadcast address %s "
		    "resolves", name);
		n->bcheck = NULL;
		bcheck_release(b);
	}
}

void
broadcast_check_stop(struct nsqd *n)
{
	if (n->bcheck == NULL)
		return;
	bcheck_release(n->bcheck);
	n->bcheck = NULL;
}
