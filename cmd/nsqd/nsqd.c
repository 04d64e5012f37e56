/*
 * The daemon: listeners, the topic registry, and the loop-level chores
 * that keep callbacks simple.  Output produced during a loop iteration is
 * flushed once, just before the loop blocks again (ev_prepare), so a burst
 * of deliveries becomes one write per client; connections that close are
 * freed there too, after the iteration's callbacks, never inside them.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "net.h"
#include "nsqd.h"
#include "tcp.h"
#include "v2.h"
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

/* The topic, created if need be; NULL if its disk queue failed. */
struct topic *
nsqd_get_topic(struct nsqd *n, const char *name, size_t len)
{
	struct topic *t = nsqd_find_topic(n, name, len);

	if (t != NULL)
		return t;
	if ((t = topic_new(n, name, len)) == NULL)
		return NULL;
	hmap_put(&n->topics, t->name, t->namelen, t);
	log_info("TOPIC(%s): created", t->name);
	if (!t->ephemeral)
		n->meta_dirty = true;
	lookup_notify(n, t, NULL, true);
	if (!n->loading)
		lookup_precreate(n, t);
	return t;
}

/* Delete a topic with its channels and files; their clients must be gone. */
void
nsqd_delete_topic(struct nsqd *n, struct topic *t)
{
	log_info("TOPIC(%s): deleting", t->name);
	hmap_del(&n->topics, t->name, t->namelen);
	if (!t->ephemeral)
		n->meta_dirty = true;
	lookup_notify(n, t, NULL, false);
	topic_delete(t);
}

/* The ports announced: --broadcast-*-port, or the ones listened on. */
int
nsqd_broadcast_tcp_port(const struct nsqd *n)
{
	return (int)n->o->broadcast_tcp_port;
}

int
nsqd_broadcast_http_port(const struct nsqd *n)
{
	return (int)n->o->broadcast_http_port;
}

/* lib/diskqueue's lines already start with "DISKQUEUE(<queue>) ". */
static void
dq_logger(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("%s", msg);
}

struct dq *
nsqd_open_dq(struct nsqd *n, const char *name)
{
	struct dq_opts qo;
	struct dq *q;
	char err[256];

	memset(&qo, 0, sizeof(qo));
	qo.dir = n->data_path;
	qo.name = name;
	qo.max_bytes_per_file = n->o->max_bytes_per_file;
	qo.min_msg_size = MSG_HEADER_LEN;
	qo.max_msg_size = (int32_t)n->o->max_msg_size + MSG_HEADER_LEN;
	/* Durable mode syncs once per loop turn instead (group commit). */
	qo.sync_every = n->durable ? 0 : n->o->sync_every;
	qo.logger = dq_logger;
	qo.syncer = n->syncer;
	if ((q = dq_open(&qo, err, sizeof(err))) == NULL) {
		log_error("DISKQUEUE(%s): %s", name, err);
		nsqd_set_health(n, err);
	}
	return q;
}

const char *
nsqd_health(const struct nsqd *n)
{
	static char buf[sizeof(n->health) + 8];

	if (n->health[0] == '\0')
		return "OK";
	snprintf(buf, sizeof(buf), "NOK - %s", n->health);
	return buf;
}

void
nsqd_set_health(struct nsqd *n, const char *err)
{
	snprintf(n->health, sizeof(n->health), "%s", err ? err : "");
}

static int
dq_put_logged(struct nsqd *n, struct dq *q, const char *name,
    const unsigned char hdr[MSG_HEADER_LEN], const void *data, size_t len)
{
	char err[256];

	if (dq_put2(q, hdr, MSG_HEADER_LEN, data, len) == -1) {
		snprintf(err, sizeof(err), "failed to write to disk queue "
		    "%s: %s", name, strerror(errno));
		log_error("%s", err);
		nsqd_set_health(n, err);
		return -1;
	}
	if (n->health[0] != '\0')
		nsqd_set_health(n, NULL);
	return 0;
}

int
nsqd_dq_put(struct nsqd *n, struct dq *q, const char *name,
    const struct nsq_body *b, uint16_t attempts)
{
	unsigned char hdr[MSG_HEADER_LEN];

	msg_header_encode(hdr, b->ts, attempts, b->id);
	return dq_put_logged(n, q, name, hdr, b->data, b->len);
}

int
nsqd_dq_write(struct nsqd *n, struct dq *q, const char *name, int64_t ts,
    const char id[MSG_ID_LEN], const void *data, size_t len)
{
	unsigned char hdr[MSG_HEADER_LEN];

	msg_header_encode(hdr, ts, 0, id);
	return dq_put_logged(n, q, name, hdr, data, len);
}

void
nsqd_mark_sync_channel(struct nsqd *n, struct channel *ch)
{
	if (ch->sync_marked)
		return;
	ch->sync_marked = true;
	TAILQ_INSERT_TAIL(&n->chan_sync, ch, sync_link);
}

void
nsqd_mark_sync_topic(struct nsqd *n, struct topic *t)
{
	if (t->sync_marked)
		return;
	t->sync_marked = true;
	TAILQ_INSERT_TAIL(&n->topic_sync, t, sync_link);
}

void
nsqd_await_sync(struct nsqd *n, struct client *c)
{
	if (c->awaiting)
		return;
	c->awaiting = true;
	TAILQ_INSERT_TAIL(&n->awaiting, c, await_link);
}

/* Durable: on disk now (data only when that is enough); else soon. */
static int
sync_dq(struct dq *q, bool now)
{
	return now ? dq_sync_data(q) : dq_sync_soon(q);
}

/*
 * Sync every queue written since the last sync: channels first, then the
 * topics whose held messages were handed on to them (in durable mode a
 * topic commits what it handed on only now), so a crash in between
 * repeats a message rather than losing it.  Returns false if any failed.
 * With now (durable mode) everything written is on disk on return
 * (dq_sync_data); else the fsyncs run on the syncer's thread and a
 * failure is logged when it happens (the default mode's periodic syncs).
 */
static bool
sync_queues(struct nsqd *n, bool now)
{
	struct channel *ch;
	struct topic *t;
	bool ok = true;

	while ((ch = TAILQ_FIRST(&n->chan_sync)) != NULL) {
		TAILQ_REMOVE(&n->chan_sync, ch, sync_link);
		ch->sync_marked = false;
		if (ch->dq == NULL)
			continue;
		if (channel_save_fins(ch) == -1 || sync_dq(ch->dq, now) == -1) {
			log_warn("CHANNEL(%s): sync", ch->name);
			nsqd_set_health(n, "failed to sync a disk queue");
			ok = false;
		}
	}
	while ((t = TAILQ_FIRST(&n->topic_sync)) != NULL) {
		TAILQ_REMOVE(&n->topic_sync, t, sync_link);
		t->sync_marked = false;
		if (t->dq == NULL)
			continue;
		if (n->durable && ok) {
			struct dq_pos pos;

			dq_tell(t->dq, &pos);
			(void)dq_commit(t->dq, &pos);
		}
		if (sync_dq(t->dq, now) == -1) {
			log_warn("TOPIC(%s): sync", t->name);
			nsqd_set_health(n, "failed to sync a disk queue");
			ok = false;
		}
	}
	return ok;
}

bool
nsqd_sync(struct nsqd *n)
{
	return sync_queues(n, true);
}

static void
sync_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	(void)sync_queues(w->data, false);
}

/*
 * A backlog of a million messages leaves hundreds of MB free inside
 * malloc's heap once it drains, and glibc gives back only the top of the
 * heap by itself.  When more of the heap is free than in use (and at
 * least TRIM_MIN), give the free pages back to the system.
 */
#define TRIM_EVERY	10.		/* seconds */
#define TRIM_MIN	(4 << 20)

static void
trim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mallinfo2 mi = mallinfo2();

	(void)loop;
	(void)w;
	(void)revents;
	if (mi.fordblks >= TRIM_MIN && mi.fordblks > mi.uordblks) {
		log_debug("NSQ: returning %zu MB of free heap to the system",
		    mi.fordblks >> 20);
		msg_pools_free();
		malloc_trim(0);
	}
}

/*
 * Deleting thousands of topics frees their structures all over the heap,
 * below what is still in use: glibc's own trim gives none of it back.
 * Once deletes have paused for TRIM_QUIET, trim as the periodic check
 * would (one trim per sweep, whatever its length).
 */
#define TRIM_QUIET	1.		/* seconds */

void
nsqd_trim_soon(struct nsqd *n)
{
	ev_timer_again(n->loop, &n->trim_soon);
}

static void
trim_soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_timer_stop(loop, w);
	trim_cb(loop, w, revents);
}

/* Nothing to do: the tick after it writes nsqd.dat (tick_cb). */
static void
meta_wake_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void
busy_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	/*
	 * Only keeps the loop from blocking while clients await a sync or
	 * a topic hands a backlog on.
	 */
	(void)revents;
	ev_idle_stop(loop, w);
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
	/*
	 * Backlogs being handed to channels: a batch each per turn, while a
	 * channel has room (else its consumption frees room and the next
	 * turn goes on: no busy loop while nobody consumes).
	 */
	if (!TAILQ_EMPTY(&n->draining)) {
		struct topic *t, *next;
		bool more = false;

		for (t = TAILQ_FIRST(&n->draining); t != NULL; t = next) {
			next = TAILQ_NEXT(t, drain_link);
			if (topic_can_drain(t))
				topic_drain(t);
			if (t->draining && topic_can_drain(t))
				more = true;
		}
		if (more)
			ev_idle_start(loop, &n->busy);
	}
	if (n->meta_dirty && !n->meta_busy && nsqd_now(n) >= n->meta_retry) {
		int64_t wait = n->meta_next - nsqd_now(n);

		if (wait <= 0)
			meta_save_async(n);
		else if (!ev_is_active(&n->meta_wake)) {
			/* Paced (meta.c): a turn then, if none comes before. */
			ev_timer_set(&n->meta_wake, (double)wait / 1e9, 0.);
			ev_timer_start(loop, &n->meta_wake);
		}
	}
	/*
	 * Group commit: one fsync per queue answers this turn's publishes,
	 * and makes this turn's FINs and topic hand-overs stick before this
	 * turn's output, or a crash would bring back finished messages.
	 */
	if (n->durable && (!TAILQ_EMPTY(&n->awaiting) ||
	    !TAILQ_EMPTY(&n->chan_sync) || !TAILQ_EMPTY(&n->topic_sync))) {
		bool ok = sync_queues(n, true);
		struct client_list ready;

		TAILQ_INIT(&ready);
		TAILQ_CONCAT(&ready, &n->awaiting, await_link);
		while ((c = TAILQ_FIRST(&ready)) != NULL) {
			TAILQ_REMOVE(&ready, c, await_link);
			c->awaiting = false;
			v2_synced(c, ok);
		}
		/* Publishes taken from buffered input wait for the next turn. */
		if (!TAILQ_EMPTY(&n->awaiting))
			ev_idle_start(loop, &n->busy);
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

/*
 * The broker's state with nothing opened: what nsqd_start begins with,
 * and all that the V2 engine's unit test and the fuzzers need of it.
 */
void
nsqd_init(struct nsqd *n, struct ev_loop *loop, struct nsqd_opts *o)
{
	memset(n, 0, sizeof(*n));
	n->loop = loop;
	n->o = o;
	hmap_init(&n->topics);
	TAILQ_INIT(&n->clients);
	TAILQ_INIT(&n->dirty);
	TAILQ_INIT(&n->dead);
	TAILQ_INIT(&n->awaiting);
	TAILQ_INIT(&n->chan_sync);
	TAILQ_INIT(&n->topic_sync);
	TAILQ_INIT(&n->precreates);
	TAILQ_INIT(&n->draining);
	n->start_time = (int64_t)time(NULL);
	n->durable = o->mem_queue_size == 0 && o->sync_every == 1;
	n->data_path = o->data_path[0] != '\0' ? o->data_path : ".";
	n->lock_fd = -1;
	n->tcp_fd = -1;
}

int
nsqd_start(struct nsqd *n, struct ev_loop *loop, struct nsqd_opts *o)
{
	char err[256];

	nsqd_init(n, loop, o);
	gethostname(n->hostname, sizeof(n->hostname) - 1);
	/* Go's default broadcast address: the host name. */
	if (o->broadcast_address[0] == '\0')
		o->broadcast_address = n->hostname;

	/* One nsqd per data path. */
	n->lock_fd = open(n->data_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (n->lock_fd == -1 || flock(n->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		log_error("FATAL: cannot flock directory %s (possibly in use "
		    "by another instance of nsqd): %s", n->data_path,
		    strerror(errno));
		return -1;
	}
	if ((n->syncer = syncer_new(loop)) == NULL) {
		log_error("FATAL: starting the disk sync thread: %s",
		    strerror(errno));
		return -1;
	}
	if (n->durable)
		log_info("NSQ: durable mode: a publish is answered after its "
		    "fsync");
	if (tls_setup(n) == -1 || auth_setup(n) == -1)
		return -1;
	n->tls_required = o->tls_required_mode != TLS_NOT_REQUIRED;
	if (meta_load(n) == -1)
		return -1;

	if ((n->tcp_fd = net_listen(o->tcp_address, err, sizeof(err))) == -1) {
		log_error("FATAL: %s", err);
		return -1;
	}
	n->tcp_port = net_local_port(n->tcp_fd);
	log_info("TCP: listening on %s", net_bound_name(n->tcp_fd,
	    o->tcp_address, err, sizeof(err)));
	if (o->broadcast_tcp_port == 0)
		o->broadcast_tcp_port = n->tcp_port;
	n->http_port = -1;
	if (o->http_address[0] != '\0' && http_start(n) == -1)
		return -1;
	if (o->broadcast_http_port == 0 && n->http_port > 0)
		o->broadcast_http_port = n->http_port;
	/* As Go: HTTPS only with a certificate, and then by default. */
	if (n->ssl_ctx != NULL && o->https_address[0] != '\0' &&
	    https_start(n) == -1)
		return -1;
	if (o->statsd_address[0] != '\0' && statsd_start(n) == -1)
		return -1;

	ev_io_init(&n->tcp_w, accept_cb, n->tcp_fd, EV_READ);
	n->tcp_w.data = n;
	ev_io_start(loop, &n->tcp_w);
	ev_init(&n->accept_pause, accept_resume_cb);
	n->accept_pause.data = n;
	ev_prepare_init(&n->tick, tick_cb);
	n->tick.data = n;
	ev_prepare_start(loop, &n->tick);
	ev_idle_init(&n->busy, busy_cb);
	if (!n->durable && o->sync_timeout > 0) {
		double st = (double)o->sync_timeout / 1e9;

		ev_timer_init(&n->sync_timer, sync_timer_cb, st, st);
		n->sync_timer.data = n;
		ev_timer_start(loop, &n->sync_timer);
	}
	ev_timer_init(&n->trim_timer, trim_cb, TRIM_EVERY, TRIM_EVERY);
	ev_timer_start(loop, &n->trim_timer);
	ev_init(&n->trim_soon, trim_soon_cb);
	n->trim_soon.repeat = TRIM_QUIET;
	ev_init(&n->meta_wake, meta_wake_cb);
	ev_signal_init(&n->sigint, signal_cb, SIGINT);
	n->sigint.data = n;
	ev_signal_start(loop, &n->sigint);
	ev_signal_init(&n->sigterm, signal_cb, SIGTERM);
	n->sigterm.data = n;
	ev_signal_start(loop, &n->sigterm);
	signal(SIGPIPE, SIG_IGN);
	lookup_set_peers(n, &o->lookupd_tcp_addresses);
	broadcast_check_start(n, o->broadcast_address);
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
	http_stop(n);
	statsd_stop(n);
	/* client_close moves each client to the dead list. */
	while ((c = TAILQ_FIRST(&n->clients)) != NULL)
		client_close(c, "exiting");
}

/*
 * After the loop ended: every message in memory goes to disk, the queues
 * are synced and closed, nsqd.dat is written, and all is freed.
 */
void
nsqd_free(struct nsqd *n)
{
	struct topic *t;
	size_t pos = 0;

	broadcast_check_stop(n);
	lookup_precreate_free(n);
	lookup_free(n);
	tls_free(n);
	auth_free(n);
	http_free(n);
	statsd_stop(n);
	/* A rewrite still running finishes before the final one. */
	syncer_drain(n->syncer);
	(void)meta_save(n);
	while ((t = hmap_next(&n->topics, &pos)) != NULL)
		topic_close(t);
	pos = 0;
	while ((t = hmap_next(&n->topics, &pos)) != NULL)
		topic_free(t);
	hmap_free(&n->topics);
	syncer_free(n->syncer);		/* the queues' last jobs are done */
	n->syncer = NULL;
	msg_pools_free();
	if (n->lock_fd != -1)
		close(n->lock_fd);
	ev_timer_stop(n->loop, &n->sync_timer);
	ev_timer_stop(n->loop, &n->trim_timer);
	ev_timer_stop(n->loop, &n->trim_soon);
	ev_timer_stop(n->loop, &n->meta_wake);
	ev_idle_stop(n->loop, &n->busy);
	ev_prepare_stop(n->loop, &n->tick);
	ev_signal_stop(n->loop, &n->sigint);
	ev_signal_stop(n->loop, &n->sigterm);
}
