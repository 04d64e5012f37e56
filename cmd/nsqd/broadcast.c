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
 * can take many seconds), so one detached thread makes it and sends the
 * result, an int, down a socket pair that the loop watches.  The thread
 * owns what it uses (the name, its end of the pair) and shares nothing
 * else: if nsqd stops first, the loop closes its end, the thread's send
 * fails quietly, and the thread ends with the process.  (getaddrinfo_a
 * would do the same, but its helper thread leaves with pthread_exit,
 * whose forced unwind makes a static binary sort all of its unwind tables
 * once: 44 million instructions and 0.9 MB of memory, measured.)
 */

#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "nsqd.h"
#include "xmalloc.h"

struct bcheck {
	ev_io	 w;		/* the loop's end of the pair */
	char	*name;
};

/* What the thread owns. */
struct bquery {
	int	 fd;		/* its end of the pair */
	char	 name[];
};

static void *
resolve(void *arg)
{
	struct bquery *q = arg;
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(q->name, NULL, &hints, &res);
	if (r == 0)
		freeaddrinfo(res);
	/* The loop may be gone: then this fails, and nothing is lost. */
	(void)!send(q->fd, &r, sizeof(r), MSG_NOSIGNAL);
	close(q->fd);
	free(q);
	return NULL;
}

static void
bcheck_release(struct ev_loop *loop, struct bcheck *b)
{
	ev_io_stop(loop, &b->w);
	close(b->w.fd);
	free(b->name);
	free(b);
}

static void
answer_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nsqd *n = w->data;
	struct bcheck *b = n->bcheck;
	ssize_t got;
	int r;

	(void)revents;
	got = recv(w->fd, &r, sizeof(r), 0);
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got != (ssize_t)sizeof(r))
		log_warnx("NSQ: no answer on whether broadcast address %s "
		    "resolves", b->name);
	else if (r != 0)
		log_warnx("NSQ: broadcast address %s does not resolve (%s): "
		    "consumers that find this nsqd through nsqlookupd will "
		    "not be able to connect; set --broadcast-address to a "
		    "name or IP they can reach", b->name, gai_strerror(r));
	else
		log_debug("NSQ: broadcast address %s resolves", b->name);
	n->bcheck = NULL;
	bcheck_release(loop, b);
}

void
broadcast_check_start(struct nsqd *n, const char *name)
{
	struct bquery *q;
	struct bcheck *b;
	pthread_attr_t attr;
	pthread_t t;
	size_t len = strlen(name);
	int sv[2], e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("NSQ: cannot check that broadcast address %s "
		    "resolves: socketpair", name);
		return;
	}
	q = xmalloc(sizeof(*q) + len + 1);
	memcpy(q->name, name, len + 1);
	q->fd = sv[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* getaddrinfo needs little: no 8 MB stack for it. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	e = pthread_create(&t, &attr, resolve, q);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		log_warnx("NSQ: cannot check that broadcast address %s "
		    "resolves: %s", name, strerror(e));
		close(sv[0]);
		close(sv[1]);
		free(q);
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->name = xstrdup(name);
	ev_io_init(&b->w, answer_cb, sv[0], EV_READ);
	b->w.data = n;
	ev_io_start(n->loop, &b->w);
	n->bcheck = b;
}

void
broadcast_check_stop(struct nsqd *n)
{
	if (n->bcheck == NULL)
		return;
	bcheck_release(n->loop, n->bcheck);
	n->bcheck = NULL;
}
