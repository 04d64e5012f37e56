/*
 * Channels: each holds its copies of a topic's messages and hands them to
 * its subscribed clients, round-robin among those ready for more (RDY is a
 * window: a client is ready while in_flight < rdy).
 *
 * A copy is in exactly one place: the memory queue, the deferred heap
 * (REQ with a delay, DPUB) or in flight (a lane by deadline, the table by
 * ID, and its owner's list).  In-flight deadlines are delivery time plus
 * the owner's message timeout, so among copies with the same timeout
 * they come in delivery order: a lane is a FIFO for one timeout value
 * (there is one per value in use, nearly always one), and insertion,
 * FIN and timeout are O(1), where a heap of thousands of scattered nodes
 * cost a sift and its cache misses for every FIN.  Only a TOUCH capped
 * by --max-msg-timeout (or a step back of the clock) lands before the
 * tail; it is placed by walking back from the tail.  The lanes and the
 * deferred heap each have one libev timer set no later than their
 * earliest deadline, so nothing scans: a timer that fires early (its
 * message was FINed) just re-arms for the new head.
 *
 * Beyond --mem-queue-size, messages go to the channel's disk queue, and
 * once anything is there new ones follow it, so the order holds.  A
 * message read back from disk keeps a track entry until it is finished;
 * the queue's committed position (what its meta file records) stays at
 * the oldest unfinished one, so after a crash every message that was read
 * but not finished is delivered again.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "names.h"
#include "nsqd.h"
#include "xmalloc.h"

static void	inflight_timer_cb(struct ev_loop *, ev_timer *, int);
static void	fins_load(struct channel *);
static void	fins_remove(struct channel *);
static void	deferred_timer_cb(struct ev_loop *, ev_timer *, int);
static void	track_commit(struct channel *);

/* A drained track ring larger than this is freed. */
#define TRACKS_KEEP	4096
/*
 * The queue's committed position follows the finished reads at most
 * this many moves behind (and at every sync, before its meta file and
 * finished set are written): a dq_commit per FIN was a tenth of the
 * instructions a message took.
 */
#define TRACKS_COMMIT_EVERY 256

static inline struct track *
track_at(const struct channel *ch, uint64_t seq)
{
	return &ch->tr.v[seq & (ch->tr.cap - 1)];
}

/* The message copy a (deferred) heap node belongs to. */
static struct cmsg *
pq_msg(struct pq_node *p)
{
	return (struct cmsg *)((char *)p - offsetof(struct cmsg, pq));
}

struct channel *
channel_new(struct topic *t, const char *name, size_t len)
{
	struct channel *ch = xcalloc(1, sizeof(*ch));

	ch->nsqd = t->nsqd;
	ch->topic = t;
	ch->name = xstrndup(name, len);
	ch->namelen = len;
	ch->ephemeral = name_ephemeral(name, len);
	if (!ch->ephemeral) {
		char *qname = xasprintf("%s:%s", t->name, ch->name);

		ch->dq = nsqd_open_dq(t->nsqd, qname);
		free(qname);
		if (ch->dq == NULL) {
			free(ch->name);
			free(ch);
			return NULL;
		}
		dq_set_manual_commit(ch->dq, true);
		fins_load(ch);
	}
	TAILQ_INIT(&ch->lanes);
	pq_init(&ch->deferred_pq);
	ev_init(&ch->inflight_timer, inflight_timer_cb);
	ch->inflight_timer.data = ch;
	ev_init(&ch->deferred_timer, deferred_timer_cb);
	ch->deferred_timer.data = ch;
	if (t->nsqd->o->e2e_percentiles.n > 0)
		ch->e2e = quantile_new(t->nsqd->o->e2e_window,
		    nsqd_now(t->nsqd));
	return ch;
}

/*
 * Drop every message copy held in memory (queued, deferred, in flight:
 * their clients' in-flight counts go down) and every disk-read track.
 * The disk queue is left as it is.
 */
static void
forget_memory(struct channel *ch)
{
	struct cmsg *m;
	struct lane *l;
	size_t i;

	ev_timer_stop(ch->nsqd->loop, &ch->inflight_timer);
	ev_timer_stop(ch->nsqd->loop, &ch->deferred_timer);
	msgq_clear(&ch->q);
	for (i = 0; i < ch->deferred_pq.n; i++)
		cmsg_free(pq_msg(ch->deferred_pq.v[i]));
	ch->deferred_pq.n = 0;
	while ((l = TAILQ_FIRST(&ch->lanes)) != NULL) {
		while ((m = TAILQ_FIRST(&l->q)) != NULL) {
			TAILQ_REMOVE(&l->q, m, fl);
			TAILQ_REMOVE(&m->owner->inflight, m, cl);
			m->owner->in_flight--;
			cmsg_free(m);
		}
		TAILQ_REMOVE(&ch->lanes, l, link);
		free(l);
	}
	idtab_free(&ch->inflight);
	free(ch->tr.v);
	memset(&ch->tr, 0, sizeof(ch->tr));
}

/*
 * Free a channel and every message it holds.  Clients must have been
 * removed (their connections closed) first.
 */
void
channel_free(struct channel *ch)
{
	if (ch == NULL)
		return;
	forget_memory(ch);
	pq_free(&ch->deferred_pq);
	idtab_free(&ch->inflight);
	if (ch->sync_marked)
		TAILQ_REMOVE(&ch->nsqd->chan_sync, ch, sync_link);
	quantile_free(ch->e2e);
	free(ch->clients);
	free(ch->name);
	free(ch);
}

/* Delete: free, and remove the disk queue's files. */
void
channel_delete(struct channel *ch)
{
	struct dq *q = ch->dq;

	if (q != NULL)
		fins_remove(ch);
	ch->dq = NULL;
	channel_free(ch);
	if (q != NULL && dq_delete(q) == -1)
		log_warn("CHANNEL: removing its disk queue");
}

/*
 * Finished messages past the committed position.  The committed position
 * cannot pass an unfinished message, so when a consumer finishes messages
 * out of order the later ones are also listed, by position, in
 * "<queue>.diskqueue.fin.dat" (one "file,offset" line each; go-diskqueue
 * ignores the file), written with the queue's syncs.  After a crash they
 * are skipped as the queue is read again, so only what was unfinished
 * (in flight) at the crash comes back.
 */
static char *
fin_path(const struct channel *ch)
{
	return xasprintf("%s/%s:%s.diskqueue.fin.dat", ch->nsqd->data_path,
	    ch->topic->name, ch->name);
}

static int
pos_cmp(const struct dq_pos *a, const struct dq_pos *b)
{
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return 0;
}

static int
pos_qcmp(const void *a, const void *b)
{
	return pos_cmp(a, b);
}

/* Read the finished set a crash left (sorted); none is fine. */
static void
fins_load(struct channel *ch)
{
	char *path = fin_path(ch), line[64];
	struct dq_pos p;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		free(path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		long long a, b;

		if (sscanf(line, "%lld,%lld", &a, &b) != 2 || a < 0 || b < 0)
			continue;
		p.file = a;
		p.off = b;
		ch->skip = xreallocarray(ch->skip, ch->nskip + 1,
		    sizeof(*ch->skip));
		ch->skip[ch->nskip++] = p;
	}
	fclose(f);
	free(path);
	qsort(ch->skip, ch->nskip, sizeof(*ch->skip), pos_qcmp);
	ch->fins_on_disk = true;
	if (ch->nskip > 0)
		log_info("CHANNEL(%s:%s): %zu messages finished before a crash "
		    "will be skipped", ch->topic->name, ch->name, ch->nskip);
}

/* Whether the record at pos was finished before a crash. */
static bool
fins_skip(struct channel *ch, const struct dq_pos *pos)
{
	while (ch->skip_i < ch->nskip &&
	    pos_cmp(&ch->skip[ch->skip_i], pos) < 0)
		ch->skip_i++;
	if (ch->skip_i < ch->nskip &&
	    pos_cmp(&ch->skip[ch->skip_i], pos) == 0) {
		ch->skip_i++;
		return true;
	}
	return false;
}

/*
 * With the queue's sync: commit what a FIN has not committed yet, then
 * write the finished set, the finished tracks behind the oldest
 * unfinished one.  No such track: no file.  0 or -1.
 */
int
channel_save_fins(struct channel *ch)
{
	const struct track *tr;
	char *path, *tmp;
	FILE *f;
	uint64_t s;
	bool any = false;
	int r = 0;

	if (ch->dq != NULL && ch->uncommitted > 0)
		track_commit(ch);
	if (!ch->fins_dirty || ch->dq == NULL)
		return 0;
	ch->fins_dirty = false;
	for (s = ch->tr.head; s != ch->tr.tail && !any; s++)
		any = track_at(ch, s)->done;
	path = fin_path(ch);
	if (!any) {
		if (ch->fins_on_disk && unlink(path) == -1 && errno != ENOENT)
			r = -1;
		ch->fins_on_disk = false;
		free(path);
		return r;
	}
	tmp = xasprintf("%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		r = -1;
	else {
		for (s = ch->tr.head; s != ch->tr.tail; s++) {
			tr = track_at(ch, s);
			if (tr->done)
				fprintf(f, "%lld,%lld\n", (long long)tr->pos.file,
				    (long long)tr->pos.off);
		}
		if (fflush(f) != 0 || fsync(fileno(f)) == -1)
			r = -1;
		if (fclose(f) != 0)
			r = -1;
		if (r == 0 && rename(tmp, path) == -1)
			r = -1;
	}
	if (r == -1) {
		log_warn("CHANNEL(%s:%s): writing %s", ch->topic->name,
		    ch->name, path);
		unlink(tmp);
		ch->fins_dirty = true;
	} else
		ch->fins_on_disk = true;
	free(tmp);
	free(path);
	return r;
}

/* Remove the finished set's file (the queue is done with or deleted). */
static void
fins_remove(struct channel *ch)
{
	char *path = fin_path(ch);

	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("CHANNEL(%s:%s): removing %s", ch->topic->name,
		    ch->name, path);
	ch->fins_on_disk = false;
	free(path);
}

/* A new track for a record read at pos, at the tail: its seq. */
static uint64_t
track_push(struct channel *ch, const struct dq_pos *pos)
{
	struct tracks *t = &ch->tr;
	struct track *v, *tr;
	size_t cap;
	uint64_t s;

	if (t->tail - t->head == t->cap) {
		/* Full: twice the room, each at its seq's new slot. */
		cap = t->cap ? t->cap * 2 : 64;
		v = xreallocarray(NULL, cap, sizeof(*v));
		for (s = t->head; s != t->tail; s++)
			v[s & (cap - 1)] = t->v[s & (t->cap - 1)];
		free(t->v);
		t->v = v;
		t->cap = cap;
	}
	s = t->tail++;
	tr = &t->v[s & (t->cap - 1)];
	tr->pos = *pos;
	tr->done = false;
	return s;
}

/* Commit the queue up to the oldest unfinished read (or all it read). */
static void
track_commit(struct channel *ch)
{
	struct dq_pos pos;

	ch->uncommitted = 0;
	if (ch->tr.head != ch->tr.tail)
		pos = track_at(ch, ch->tr.head)->pos;
	else
		dq_tell(ch->dq, &pos);
	if (dq_commit(ch->dq, &pos) == -1)
		log_warn("CHANNEL(%s): disk queue commit", ch->name);
}

/*
 * A disk-read message is finished (or will be written again): let the
 * committed position move past every finished message at the front; a
 * finished one left behind an unfinished one joins the finished set.
 */
static void
track_finish(struct channel *ch, uint64_t seq)
{
	struct tracks *t = &ch->tr;
	bool moved = false;

	track_at(ch, seq)->done = true;
	if (seq != t->head)
		ch->fins_dirty = true;
	while (t->head != t->tail && track_at(ch, t->head)->done) {
		t->head++;
		moved = true;
	}
	if (moved && ch->fins_on_disk)
		ch->fins_dirty = true;	/* the set shrank */
	if (ch->fins_dirty)
		nsqd_mark_sync_channel(ch->nsqd, ch);
	if (!moved)
		return;
	if (t->head == t->tail) {
		if (t->cap > TRACKS_KEEP) {
			/* A backlog drained: give its room back. */
			free(t->v);
			t->v = NULL;
			t->cap = 0;
		}
		track_commit(ch);
	} else if (++ch->uncommitted >= TRACKS_COMMIT_EVERY)
		track_commit(ch);
	nsqd_mark_sync_channel(ch->nsqd, ch);
}

static void
track_done(struct channel *ch, struct cmsg *m)
{
	uint64_t t = m->tr;

	if (t == 0)
		return;
	m->tr = 0;
	track_finish(ch, t - 1);
}

/* The next message from the disk queue, or NULL. */
static struct cmsg *
read_disk(struct channel *ch)
{
	const void *data;
	struct dq_pos pos;
	struct cmsg *m;
	uint64_t tr;
	uint16_t attempts;
	size_t len;

	for (;;) {
		if (ch->dq == NULL || dq_depth(ch->dq) == 0)
			return NULL;
		if (dq_read(ch->dq, &data, &len, &pos) != 1) {
			log_warn("CHANNEL(%s): disk queue read", ch->name);
			return NULL;
		}
		tr = track_push(ch, &pos);
		if (ch->nskip == 0 || !fins_skip(ch, &pos))
			break;
		/* Finished before a crash: done already. */
		track_finish(ch, tr);
		if (ch->skip_i == ch->nskip) {
			free(ch->skip);
			ch->skip = NULL;
			ch->nskip = ch->skip_i = 0;
		}
	}
	m = cmsg_new(body_from_record(data, len, &attempts));
	m->attempts = attempts;
	m->tr = tr + 1;
	return m;
}

/* Whether a message can be had (memory or disk). */
static bool
has_messages(const struct channel *ch)
{
	return ch->q.n > 0 || (ch->dq != NULL && dq_depth(ch->dq) > 0);
}

/* Drop a message for good (sampled out, channel emptied). */
static void
drop(struct channel *ch, struct cmsg *m)
{
	track_done(ch, m);
	cmsg_free(m);
}

/* Arm t for the time when (ns) unless it is already due no later. */
static void
arm_at(struct channel *ch, ev_timer *t, int64_t when)
{
	struct nsqd *n = ch->nsqd;
	double after;

	after = (double)(when - nsqd_now(n)) / 1e9;
	if (after < 0)
		after = 0;
	if (ev_is_active(t)) {
		if (ev_timer_remaining(n->loop, t) <= after)
			return;
		ev_timer_stop(n->loop, t);
	}
	ev_timer_set(t, after, 0.);
	ev_timer_start(n->loop, t);
}

/* Arm the deferred timer for the heap's head. */
static void
arm_deferred(struct channel *ch)
{
	struct pq_node *head = pq_peek(&ch->deferred_pq);

	if (head != NULL)
		arm_at(ch, &ch->deferred_timer, head->pri);
}

/* Arm the in-flight timer for the earliest head of the lanes. */
static void
arm_inflight(struct channel *ch)
{
	struct lane *l;
	struct cmsg *m;
	int64_t when = INT64_MAX;

	TAILQ_FOREACH(l, &ch->lanes, link) {
		if ((m = TAILQ_FIRST(&l->q)) != NULL && m->deadline < when)
			when = m->deadline;
	}
	if (when != INT64_MAX)
		arm_at(ch, &ch->inflight_timer, when);
}

/* The lane of a message timeout, made if need be. */
static struct lane *
lane_get(struct channel *ch, int64_t timeout)
{
	struct lane *l;

	for (l = TAILQ_FIRST(&ch->lanes); l != NULL; l = TAILQ_NEXT(l, link))
		if (l->timeout == timeout)
			return l;
	l = xmalloc(sizeof(*l));
	l->timeout = timeout;
	TAILQ_INIT(&l->q);
	TAILQ_INSERT_TAIL(&ch->lanes, l, link);
	return l;
}

/*
 * Put an in-flight copy in its lane by deadline: at the tail, unless a
 * capped TOUCH (or the wall clock stepping back) made it earlier than
 * the tail's.  The lane must stay in deadline order: the timer and the
 * timeout sweep look at its head only, so a copy out of order would time
 * out late, or a later one early.  lane_remove() asserts it.
 */
static void
lane_insert(struct lane *l, struct cmsg *m)
{
	struct cmsg *p = TAILQ_LAST(&l->q, cmsg_list);

	while (p != NULL && p->deadline > m->deadline)
		p = TAILQ_PREV(p, cmsg_list, fl);
	if (p == NULL)
		TAILQ_INSERT_HEAD(&l->q, m, fl);
	else
		TAILQ_INSERT_AFTER(&l->q, p, m, fl);
}

/*
 * Take a copy out of its lane.  A lane left empty goes unless it is the
 * only one (the usual case, kept to save a malloc per delivery).
 */
static void
lane_remove(struct channel *ch, struct cmsg *m)
{
	struct lane *l = lane_get(ch, m->owner->msg_timeout_ns);
	struct cmsg *next = TAILQ_NEXT(m, fl);

	/*
	 * Its lane exists and holds something (lane_get made none), and the
	 * copy is not later than the one after it: every copy leaves
	 * through here, so each pair of neighbours is checked when the
	 * earlier one leaves.  (The insertion walk itself cannot break the
	 * order; a deadline changed in place, or a copy put in by another
	 * path, would.)
	 */
	assert(!TAILQ_EMPTY(&l->q));
	assert(next == NULL || m->deadline <= next->deadline);
	TAILQ_REMOVE(&l->q, m, fl);
	if (TAILQ_EMPTY(&l->q) && (TAILQ_FIRST(&ch->lanes) != l ||
	    TAILQ_NEXT(l, link) != NULL)) {
		TAILQ_REMOVE(&ch->lanes, l, link);
		free(l);
	}
}

static void
defer_msg(struct channel *ch, struct cmsg *m, int64_t delay_ns)
{
	m->pq.pri = nsqd_now(ch->nsqd) + delay_ns;
	pq_push(&ch->deferred_pq, &m->pq);
	arm_deferred(ch);
}

/* Whether a client could take a message right now. */
static bool
has_ready(const struct channel *ch)
{
	size_t i;

	if (ch->paused)
		return false;
	for (i = 0; i < ch->nclients; i++) {
		if (client_ready(ch->clients[i]))
			return true;
	}
	return false;
}

/*
 * Queue a message the topic handed us (counts it).  Memory while there is
 * room and nothing waits on disk; else the disk queue.  Only a disk write
 * can fail.
 */
int
channel_put(struct channel *ch, struct nsq_body *b, int64_t defer_ns)
{
	struct nsqd *n = ch->nsqd;
	int r;

	ch->message_count++;
	if (defer_ns > 0) {
		defer_msg(ch, cmsg_new(b), defer_ns);
		return 0;
	}
	if (channel_to_disk(ch)) {
		r = nsqd_dq_put(n, ch->dq, ch->name, b, 0);
		if (r == 0) {
			nsqd_mark_sync_channel(n, ch);
			channel_pump(ch);
		}
		return r;
	}
	if (ch->dq == NULL && (int64_t)ch->q.n >= n->o->mem_queue_size &&
	    !(ch->q.n == 0 && has_ready(ch))) {
		/*
		 * An ephemeral channel drops its overflow, as Go.  At
		 * --mem-queue-size=0 Go's queue is an unbuffered handoff:
		 * a client ready at that moment still gets the message.
		 */
		return 0;
	}
	msgq_push_body(&ch->q, b);
	channel_pump(ch);
	return 0;
}

bool
channel_to_disk(const struct channel *ch)
{
	return ch->dq != NULL &&
	    ((int64_t)ch->q.n >= ch->nsqd->o->mem_queue_size ||
	    dq_depth(ch->dq) > 0);
}

/*
 * channel_put's disk branch for a new message given by its parts: the
 * record is written from the publisher's bytes (see topic_publish).
 */
int
channel_put_record(struct channel *ch, int64_t ts, const char id[MSG_ID_LEN],
    const void *data, size_t len)
{
	int r;

	ch->message_count++;
	r = nsqd_dq_write(ch->nsqd, ch->dq, ch->name, ts, id, data, len);
	if (r == 0) {
		nsqd_mark_sync_channel(ch->nsqd, ch);
		channel_pump(ch);
	}
	return r;
}

/* Write a copy to the disk queue with its attempts: 1, or 0 if not. */
static int
save(struct channel *ch, const struct cmsg *m)
{
	return nsqd_dq_put(ch->nsqd, ch->dq, ch->name, m->b, m->attempts) == 0;
}

/*
 * At exit: every message in memory (queued, in flight, deferred) is
 * appended to the disk queue with its attempts, what was read from disk
 * counts as done (it was written again), and the queue is synced and
 * closed.  An ephemeral channel's messages are dropped.
 */
void
channel_close(struct channel *ch)
{
	struct nsq_body *b;
	struct cmsg *m;
	struct lane *l;
	struct dq_pos pos;
	size_t i;
	int64_t saved = 0;

	if (ch->dq == NULL)
		return;
	while (msgq_shift(&ch->q, &b, &m)) {
		if (m != NULL) {
			saved += save(ch, m);
			cmsg_free(m);
		} else {
			saved += nsqd_dq_put(ch->nsqd, ch->dq, ch->name, b,
			    0) == 0;
			body_unref(b);
		}
	}
	TAILQ_FOREACH(l, &ch->lanes, link) {
		TAILQ_FOREACH(m, &l->q, fl)
			saved += save(ch, m);
	}
	for (i = 0; i < ch->deferred_pq.n; i++)
		saved += save(ch, pq_msg(ch->deferred_pq.v[i]));
	dq_tell(ch->dq, &pos);
	if (dq_commit(ch->dq, &pos) == -1 || dq_close(ch->dq) == -1)
		log_warn("CHANNEL(%s): closing disk queue", ch->name);
	/* All that was read is committed: no finished set is needed. */
	if (ch->fins_on_disk || ch->nskip > 0)
		fins_remove(ch);
	ch->dq = NULL;
	if (saved > 0)
		log_info("CHANNEL(%s:%s): wrote %lld messages to disk",
		    ch->topic->name, ch->name, (long long)saved);
}

/* Back into the queue (timeout, REQ 0, owner gone); not counted again. */
static void
requeue(struct channel *ch, struct cmsg *m)
{
	m->owner = NULL;
	msgq_push(&ch->q, m);	/* whole: it has attempts, maybe a track */
}

static struct client *
next_ready(struct channel *ch)
{
	size_t i, k;

	for (k = 0; k < ch->nclients; k++) {
		i = (ch->rr + k) % ch->nclients;
		if (client_ready(ch->clients[i])) {
			ch->rr = (i + 1) % ch->nclients;
			return ch->clients[i];
		}
	}
	return NULL;
}

/* Deliver queued messages while some client has room for them. */
void
channel_pump(struct channel *ch)
{
	struct client *c;
	struct cmsg *m;
	struct lane *l;

	if (ch->paused)
		return;
	while (has_messages(ch) && (c = next_ready(ch)) != NULL) {
		if ((m = msgq_pop(&ch->q)) == NULL &&
		    (m = read_disk(ch)) == NULL)
			break;
		if (c->sample_rate > 0 &&
		    (int)rand_below(100) > c->sample_rate) {
			/* Sampled out: dropped for this channel, as Go. */
			drop(ch, m);
			continue;
		}
		m->attempts++;
		m->owner = c;
		m->delivered_at = nsqd_now(ch->nsqd);
		m->deadline = m->delivered_at + c->msg_timeout_ns;
		l = lane_get(ch, c->msg_timeout_ns);
		lane_insert(l, m);
		if (TAILQ_FIRST(&l->q) == m)
			arm_at(ch, &ch->inflight_timer, m->deadline);
		idtab_put(&ch->inflight, m);
		TAILQ_INSERT_TAIL(&c->inflight, m, cl);
		c->in_flight++;
		c->message_count++;
		client_send_message(c, m);
		/* The one client's window is full: nobody else to ask. */
		if (ch->nclients == 1 && !client_ready(c))
			break;
	}
}

int
channel_add_client(struct channel *ch, struct client *c)
{
	int64_t max = ch->nsqd->o->max_channel_consumers;

	if (max > 0 && (int64_t)ch->nclients >= max)
		return -1;
	if (ch->nclients == ch->clients_cap) {
		ch->clients_cap = ch->clients_cap ? ch->clients_cap * 2 : 4;
		ch->clients = xreallocarray(ch->clients, ch->clients_cap,
		    sizeof(*ch->clients));
	}
	ch->clients[ch->nclients++] = c;
	return 0;
}

/* Take an in-flight copy out of the in-flight structures. */
static void
unflight(struct channel *ch, struct cmsg *m)
{
	lane_remove(ch, m);
	idtab_del(&ch->inflight, m);
	TAILQ_REMOVE(&m->owner->inflight, m, cl);
	m->owner->in_flight--;
}

/*
 * Detach a client; its in-flight messages go back to the queue at once
 * (Go leaves them to time out).  An ephemeral channel goes with its last
 * client, and may take its ephemeral topic along: ch is gone then.
 */
void
channel_remove_client(struct channel *ch, struct client *c)
{
	struct cmsg *m;
	size_t i;

	while ((m = TAILQ_FIRST(&c->inflight)) != NULL) {
		unflight(ch, m);
		requeue(ch, m);
	}
	for (i = 0; i < ch->nclients; i++) {
		if (ch->clients[i] == c) {
			ch->clients[i] = ch->clients[--ch->nclients];
			break;
		}
	}
	if (ch->rr >= ch->nclients)
		ch->rr = 0;
	c->ch = NULL;
	if (ch->ephemeral && ch->nclients == 0) {
		topic_delete_channel(ch->topic, ch);
		return;
	}
	channel_pump(ch);
}

static struct cmsg *
owned(struct channel *ch, struct client *c, const char *id,
    const char **why)
{
	struct cmsg *m = idtab_get(&ch->inflight, id);

	if (m == NULL) {
		*why = "ID not in flight";
		return NULL;
	}
	if (m->owner != c) {
		*why = "client does not own message";
		return NULL;
	}
	return m;
}

int
channel_fin(struct channel *ch, struct client *c, const char *id,
    const char **why)
{
	struct cmsg *m;

	if ((m = owned(ch, c, id, why)) == NULL)
		return -1;
	unflight(ch, m);
	c->finish_count++;
	/* End-to-end: from the publish to the FIN, as Go measures it. */
	if (ch->e2e != NULL) {
		int64_t now = nsqd_now(ch->nsqd);

		quantile_insert(ch->e2e, now - m->b->ts, now);
	}
	drop(ch, m);
	channel_pump(ch);
	return 0;
}

int
channel_req(struct channel *ch, struct client *c, const char *id,
    int64_t delay_ns, const char **why)
{
	struct cmsg *m;

	if ((m = owned(ch, c, id, why)) == NULL)
		return -1;
	unflight(ch, m);
	m->owner = NULL;
	c->requeue_count++;
	ch->requeue_count++;
	if (delay_ns > 0)
		defer_msg(ch, m, delay_ns);
	else
		requeue(ch, m);
	channel_pump(ch);
	return 0;
}

int
channel_touch(struct channel *ch, struct client *c, const char *id,
    const char **why)
{
	struct cmsg *m;
	struct lane *l;
	int64_t deadline, max = ch->nsqd->o->max_msg_timeout;

	if ((m = owned(ch, c, id, why)) == NULL)
		return -1;
	deadline = nsqd_now(ch->nsqd) + c->msg_timeout_ns;
	if (deadline - m->delivered_at >= max)
		deadline = m->delivered_at + max;
	l = lane_get(ch, c->msg_timeout_ns);
	TAILQ_REMOVE(&l->q, m, fl);
	m->deadline = deadline;
	lane_insert(l, m);
	arm_inflight(ch);
	return 0;
}

void
channel_pause(struct channel *ch, bool paused)
{
	ch->paused = paused;
	if (!ch->ephemeral)
		ch->nsqd->meta_dirty = true;
	if (!paused)
		channel_pump(ch);
}

static void
inflight_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct channel *ch = w->data;
	int64_t now = nsqd_now(ch->nsqd);
	struct lane *l, *next;
	struct cmsg *m;

	(void)loop;
	(void)revents;
	/* unflight may free an emptied lane: take the next one first. */
	for (l = TAILQ_FIRST(&ch->lanes); l != NULL; l = next) {
		next = TAILQ_NEXT(l, link);
		while ((m = TAILQ_FIRST(&l->q)) != NULL && m->deadline <= now) {
			bool last = TAILQ_NEXT(m, fl) == NULL;

			unflight(ch, m);
			ch->timeout_count++;
			requeue(ch, m);
			if (last)
				break;		/* l may be gone */
		}
	}
	channel_pump(ch);
	arm_inflight(ch);
}

static void
deferred_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct channel *ch = w->data;
	int64_t now = nsqd_now(ch->nsqd);
	struct pq_node *p;
	struct cmsg *m;

	(void)loop;
	(void)revents;
	while ((p = pq_peek(&ch->deferred_pq)) != NULL && p->pri <= now) {
		pq_pop(&ch->deferred_pq);
		m = pq_msg(p);
		requeue(ch, m);
	}
	channel_pump(ch);
	arm_deferred(ch);
}

/*
 * As Go's Channel.Empty: in-flight and deferred messages are forgotten
 * (their clients' in-flight counts go to 0), then the memory queue and
 * the disk queue.  Disk reads not yet finished are forgotten too: the
 * emptied queue starts a new file.
 */
int
channel_empty(struct channel *ch)
{
	forget_memory(ch);
	if (ch->dq != NULL) {
		if (dq_empty(ch->dq) == -1) {
			log_warn("CHANNEL(%s): emptying its disk queue",
			    ch->name);
			return -1;
		}
		nsqd_mark_sync_channel(ch->nsqd, ch);
	}
	return 0;
}

/*
 * Deleting a channel closes its clients' connections, as Go's
 * Channel.Delete does.  They are detached here so that freeing them
 * later does not touch the channel.
 */
void
channel_close_clients(struct channel *ch)
{
	struct client *c;

	while (ch->nclients > 0) {
		c = ch->clients[--ch->nclients];
		c->ch = NULL;
		client_close(c, "channel deleted");
	}
	ch->rr = 0;
}
