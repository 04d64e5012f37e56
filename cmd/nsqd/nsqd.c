/*
 * The daemon: listeners, the topic registry, and the loop-level chores
 * that keep callbacks simple.  Output produced during a loop iteration is
 * flushed once, just before the loop blocks again (ev_prepare), so a burst
 * of deliveries becomes one write per client; connections that close are
 * freed there too, after the iteration's callbacks, never inside them.
 */
#include <sys/socket.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "nsqd.h"
#include "xmalloc.h"

int64_t
nsqd_now(const struct nsqd *n)
{
	return (int64_t)(ev_now(n->loop) * 1e9);
}

struct topic *
nsqd_find_topic(struct nsqd *n, const char *name, size_t len)
{
	return hmap_get(&n->topics, name, len);
}

struct topic *
nsqd_get_topic(struct nsqd *n, const char *name, size_t len)
{
	struct topic *t = nsqd_find_topic(n, name, len);

	if (t != NULL)
		return t;
	t = topic_new(n, name, len);
	hmap_put(&n->topics, t->name, t->namelen, t);
	log_info("TOPIC(%s): created", t->name);
	return t;
}

/* Delete a topic with its channels; clients of them must be gone. */
void
nsqd_delete_topic(struct nsqd *n, struct topic *t)
{
	log_info("TOPIC(%s): deleting", t->name);
	hmap_del(&n->topics, t->name, t->namelen);
	topic_free(t);
}

void
nsqd_mark_dirty(struct nsqd *n, struct client *c)
{
	if (c->dirty || c->dead)
		return;
	c->dirty = true;
	TAILQ_INSERT_TAIL(&n->dirty, c, dirty_link);
}

/*
 * Runs once per loop iteration, before the loop blocks, when no callback
 * is on the stack: free the clients that closed (their in-flight messages
 * go back to their channels, which may deliver them to others), then
 * write every client's pending output.
 */
static void
tick_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct nsqd *n = w->data;
	struct client *c;

	(void)revents;
	while ((c = TAILQ_FIRST(&n->dead)) != NULL) {
		TAILQ_REMOVE(&n->dead, c, link);
		client_free(c);
	}
	while ((c = TAILQ_FIRST(&n->dirty)) != NULL) {
		TAILQ_REMOVE(&n->dirty, c, dirty_link);
		c->dirty = false;
		client_flush(c);
	}
	/* A flush that failed closed a client: free it in this pass too. */
	if (!TAILQ_EMPTY(&n->dead))
		tick_cb(loop, w, revents);
	else if (n->exiting && TAILQ_EMPTY(&n->clients))
		ev_break(loop, EVBREAK_ALL);
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nsqd *n = w->data;

	(void)revents;
	if (!n->exiting)
		ev_io_start(loop, &n->tcp_w);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nsqd *n = w->data;
	int fd, i;

	(void)revents;
	/* Bounded, so one busy listener cannot starve the loop. */
	for (i = 0; i < 64; i++) {
		fd = accept4(n->tcp_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("TCP: accept");
				ev_io_stop(loop, &n->tcp_w);
				ev_timer_set(&n->accept_pause, 0.1, 0.);
				ev_timer_start(loop, &n->accept_pause);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("TCP: accept");
			return;
		}
		client_accept(n, fd);
	}
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct nsqd *n = w->data;

	(void)loop;
	(void)revents;
	log_info("NSQ: received signal %d, exiting", w->signum);
	nsqd_stop(n);
}

int
nsqd_start(struct nsqd *n, struct ev_loop *loop, struct nsqd_opts *o)
{
	char err[256];

	memset(n, 0, sizeof(*n));
	n->loop = loop;
	n->o = o;
	hmap_init(&n->topics);
	TAILQ_INIT(&n->clients);
	TAILQ_INIT(&n->dirty);
	TAILQ_INIT(&n->dead);
	n->start_time = (int64_t)time(NULL);
	srand((unsigned)(time(NULL) ^ getpid()));

	if ((n->tcp_fd = net_listen(o->tcp_address, err, sizeof(err))) == -1) {
		log_error("FATAL: %s", err);
		return -1;
	}
	n->tcp_port = net_local_port(n->tcp_fd);
	log_info("TCP: listening on %s", o->tcp_address);

	ev_io_init(&n->tcp_w, accept_cb, n->tcp_fd, EV_READ);
	n->tcp_w.data = n;
	ev_io_start(loop, &n->tcp_w);
	ev_init(&n->accept_pause, accept_resume_cb);
	n->accept_pause.data = n;
	ev_prepare_init(&n->tick, tick_cb);
	n->tick.data = n;
	ev_prepare_start(loop, &n->tick);
	ev_signal_init(&n->sigint, signal_cb, SIGINT);
	n->sigint.data = n;
	ev_signal_start(loop, &n->sigint);
	ev_signal_init(&n->sigterm, signal_cb, SIGTERM);
	n->sigterm.data = n;
	ev_signal_start(loop, &n->sigterm);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * Stop accepting and close every client; the loop ends once the tick
 * has freed them.
 */
void
nsqd_stop(struct nsqd *n)
{
	struct client *c;

	if (n->exiting)
		return;
	n->exiting = true;
	ev_io_stop(n->loop, &n->tcp_w);
	ev_timer_stop(n->loop, &n->accept_pause);
	close(n->tcp_fd);
	n->tcp_fd = -1;
	/* client_close moves each client to the dead list. */
	while ((c = TAILQ_FIRST(&n->clients)) != NULL)
		client_close(c, "exiting");
}

/* Free what is left after the loop ended. */
void
nsqd_free(struct nsqd *n)
{
	struct topic *t;
	size_t pos = 0;

	while ((t = hmap_next(&n->topics, &pos)) != NULL)
		topic_free(t);
	hmap_free(&n->topics);
	ev_prepare_stop(n->loop, &n->tick);
	ev_signal_stop(n->loop, &n->sigint);
	ev_signal_stop(n->loop, &n->sigterm);
}
