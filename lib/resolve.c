/*
 * resolve.h: getaddrinfo on a detached thread, the answer through a
 * socket pair, as cmd/nsqd/broadcast.c first did it.  The answer is one
 * struct answer, sent in one send(2) of a few bytes on an AF_UNIX
 * stream, which arrives whole.
 */

#include <sys/socket.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "resolve.h"
#include "xmalloc.h"

struct answer {
	int		 err;
	int		 sys_errno;
	struct addrinfo	*res;
};

struct resolve {
	struct ev_loop	*loop;
	ev_io		 w;		/* the loop's end of the pair */
	resolve_cb	*cb;
	void		*arg;
};

/* What the thread owns. */
struct query {
	int		 fd;		/* its end of the pair */
	resolve_fn	*fn;
	struct addrinfo	 hints;
	char		*serv;		/* in name's allocation, or NULL */
	char		 name[];
};

static resolve_fn *lookup_fn;

static int
sys_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	return getaddrinfo(host, serv, hints, res);
}

static void *
lookup(void *arg)
{
	struct query *q = arg;
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.err = q->fn(q->name, q->serv, &q->hints, &a.res);
	a.sys_errno = a.err == EAI_SYSTEM ? errno : 0;
	if (a.err != 0)
		a.res = NULL;
	/* Cancelled: the loop's end is shut, this fails, we free. */
	if (send(q->fd, &a, sizeof(a), MSG_NOSIGNAL) != (ssize_t)sizeof(a) &&
	    a.res != NULL)
		freeaddrinfo(a.res);
	close(q->fd);
	free(q);
	return NULL;
}

static void
release(struct resolve *r)
{
	ev_io_stop(r->loop, &r->w);
	close(r->w.fd);
	free(r);
}

static void
answer_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct resolve *r = w->data;
	resolve_cb *cb = r->cb;
	void *arg = r->arg;
	struct answer a;
	ssize_t got;

	(void)loop;
	(void)revents;
	got = recv(w->fd, &a, sizeof(a), MSG_DONTWAIT);
	if (got == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got != (ssize_t)sizeof(a)) {
		memset(&a, 0, sizeof(a));
		a.err = EAI_SYSTEM;
		a.sys_errno = got == -1 ? errno : EPIPE;
	}
	release(r);
	errno = a.sys_errno;
	cb(arg, a.res, a.err);
}

struct resolve *
resolve_start(struct ev_loop *loop, const char *host, const char *serv,
    const struct addrinfo *hints, resolve_cb *cb, void *arg)
{
	size_t hl = strlen(host), sl = serv != NULL ? strlen(serv) : 0;
	struct resolve *r;
	struct query *q;
	pthread_attr_t attr;
	pthread_t t;
	int sv[2], e;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return NULL;
	q = xcalloc(1, sizeof(*q) + hl + 1 + sl + 1);
	memcpy(q->name, host, hl + 1);
	if (serv != NULL) {
		q->serv = q->name + hl + 1;
		memcpy(q->serv, serv, sl + 1);
	}
	q->hints.ai_family = hints->ai_family;
	q->hints.ai_socktype = hints->ai_socktype;
	q->hints.ai_protocol = hints->ai_protocol;
	q->hints.ai_flags = hints->ai_flags;
	q->fn = lookup_fn != NULL ? lookup_fn : sys_getaddrinfo;
	q->fd = sv[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* getaddrinfo needs little: no 8 MB stack for it. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	e = pthread_create(&t, &attr, lookup, q);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		close(sv[0]);
		close(sv[1]);
		free(q);
		errno = e;
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	ev_io_init(&r->w, answer_cb, sv[0], EV_READ);
	r->w.data = r;
	ev_io_start(loop, &r->w);
	return r;
}

void
resolve_cancel(struct resolve *r)
{
	struct answer a;

	if (r == NULL)
		return;
	/*
	 * After the shutdown the thread's send fails (it frees its
	 * answer); one sent before is in the socket, freed here.
	 */
	(void)shutdown(r->w.fd, SHUT_RD);
	if (recv(r->w.fd, &a, sizeof(a), MSG_DONTWAIT) == (ssize_t)sizeof(a) &&
	    a.res != NULL)
		freeaddrinfo(a.res);
	release(r);
}

void
resolve_set_fn(resolve_fn *fn)
{
	lookup_fn = fn;
}
