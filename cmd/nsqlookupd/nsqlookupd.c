/*
 * The daemon: the TCP and HTTP listeners, the registry, and the loop's
 * chores.  Connections that close are freed once per loop iteration
 * (ev_prepare), after the callbacks, never inside them.  SIGINT and
 * SIGTERM stop the listeners and close every connection; the loop then
 * ends and main frees the rest.
 */
#include <sys/socket.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "net.h"
#include "nsqlookupd.h"

/* The wall clock in Unix ns, as Go's time.Now().UnixNano(). */
int64_t
lookupd_now(const struct lookupd *l)
{
	struct timespec ts;

	(void)l;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_SEC + ts.tv_nsec;
}

static void
tick_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct lookupd *l = w->data;

	(void)revents;
	client_reap(l);
	if (l->exiting && TAILQ_EMPTY(&l->clients))
		ev_break(loop, EVBREAK_ALL);
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lookupd *l = w->data;

	(void)revents;
	if (!l->exiting)
		ev_io_start(loop, &l->tcp_w);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct lookupd *l = w->data;
	int fd, i;

	(void)revents;
	/* Bounded, so one busy listener cannot starve the loop. */
	for (i = 0; i < 64; i++) {
		fd = accept4(l->tcp_fd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				/* Out of descriptors: pause, not spin. */
				log_warn("TCP: accept");
				ev_io_stop(loop, &l->tcp_w);
				ev_timer_set(&l->accept_pause, 0.1, 0.);
				ev_timer_start(loop, &l->accept_pause);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("TCP: accept");
			return;
		}
		client_accept(l, fd);
	}
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	log_info("NSQLOOKUPD: received signal %d, exiting", w->signum);
	lookupd_stop(w->data);
}

int
lookupd_start(struct lookupd *l, struct ev_loop *loop,
    const struct lookupd_opts *o)
{
	char err[256];
	int http_fd;

	memset(l, 0, sizeof(*l));
	l->loop = loop;
	l->o = o;
	l->tcp_fd = -1;
	reg_init(&l->reg);
	TAILQ_INIT(&l->clients);
	TAILQ_INIT(&l->dead);
	if (gethostname(l->hostname, sizeof(l->hostname) - 1) == -1)
		snprintf(l->hostname, sizeof(l->hostname), "localhost");

	if ((l->tcp_fd = net_listen(o->tcp_address, err, sizeof(err))) == -1) {
		log_error("FATAL: listen (%s) failed - %s", o->tcp_address,
		    err);
		return -1;
	}
	log_info("TCP: listening on %s", net_bound_name(l->tcp_fd,
	    o->tcp_address, err, sizeof(err)));
	if ((http_fd = http_listen(o->http_address, err, sizeof(err))) == -1) {
		log_error("FATAL: listen (%s) failed - %s", o->http_address,
		    err);
		return -1;
	}
	log_info("HTTP: listening on %s", net_bound_name(http_fd,
	    o->http_address, err, sizeof(err)));
	l->conf.tcp_port = net_local_port(l->tcp_fd);
	l->conf.http_port = http_listen_port(http_fd);
	l->conf.broadcast_address = o->broadcast_address;
	l->conf.hostname = l->hostname;
	l->http = lookupd_http_new(l, http_fd);

	ev_io_init(&l->tcp_w, accept_cb, l->tcp_fd, EV_READ);
	l->tcp_w.data = l;
	ev_io_start(loop, &l->tcp_w);
	ev_init(&l->accept_pause, accept_resume_cb);
	l->accept_pause.data = l;
	ev_prepare_init(&l->tick, tick_cb);
	l->tick.data = l;
	ev_prepare_start(loop, &l->tick);
	ev_signal_init(&l->sigint, signal_cb, SIGINT);
	l->sigint.data = l;
	ev_signal_start(loop, &l->sigint);
	ev_signal_init(&l->sigterm, signal_cb, SIGTERM);
	l->sigterm.data = l;
	ev_signal_start(loop, &l->sigterm);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * Stop listening and close every connection; the loop ends once the
 * tick has freed them.
 */
void
lookupd_stop(struct lookupd *l)
{
	if (l->exiting)
		return;
	l->exiting = true;
	ev_io_stop(l->loop, &l->tcp_w);
	ev_timer_stop(l->loop, &l->accept_pause);
	if (l->tcp_fd != -1)
		close(l->tcp_fd);
	l->tcp_fd = -1;
	http_server_accept(l->http, 0);
	client_close_all(l, "exiting");
}

/* After the loop ended (or a failed start): free everything. */
void
lookupd_free(struct lookupd *l)
{
	client_close_all(l, "exiting");
	client_reap(l);
	if (l->http != NULL)
		http_server_free(l->http);
	l->http = NULL;
	if (l->tcp_fd != -1)
		close(l->tcp_fd);
	l->tcp_fd = -1;
	reg_free(&l->reg);
	if (l->loop != NULL) {
		ev_io_stop(l->loop, &l->tcp_w);
		ev_timer_stop(l->loop, &l->accept_pause);
		ev_prepare_stop(l->loop, &l->tick);
		ev_signal_stop(l->loop, &l->sigint);
		ev_signal_stop(l->loop, &l->sigterm);
	}
}
