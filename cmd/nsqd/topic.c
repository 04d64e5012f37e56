/*
 * Topics: a published message is copied to every channel that exists when
 * it arrives (each copy shares one body).  A topic with no channel, or a
 * paused one, holds messages in its own queue until a channel appears or
 * it is unpaused; a channel created later never sees earlier messages
 * that had already been handed out.  Held messages beyond --mem-queue-size
 * go to the topic's own disk queue, and come back in order.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "nsqd.h"
#include "xmalloc.h"

static struct nsq_body *next_in_memory(struct topic *, int64_t *);

struct topic *
topic_new(struct nsqd *n, const char *name, size_t len)
{
	struct topic *t = xcalloc(1, sizeof(*t));

	t->nsqd = n;
	t->name = xstrndup(name, len);
	t->namelen = len;
	t->ephemeral = name_ephemeral(name, len);
	hmap_init(&t->chan_by_name);
	guid_init(&t->guid, n->o->node_id);
	if (!t->ephemeral && (t->dq = nsqd_open_dq(n, t->name)) == NULL) {
		free(t->name);
		free(t);
		return NULL;
	}
	/* Durable mode commits what was handed on only once it is synced. */
	if (t->dq != NULL && n->durable)
		dq_set_manual_commit(t->dq, true);
	return t;
}

void
topic_free(struct topic *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nchans; i++)
		channel_free(t->chans[i]);
	msgq_clear(&t->q);
	if (t->sync_marked)
		TAILQ_REMOVE(&t->nsqd->topic_sync, t, sync_link);
	if (t->draining)
		TAILQ_REMOVE(&t->nsqd->draining, t, drain_link);
	hmap_free(&t->chan_by_name);
	free(t->chans);
	free(t->name);
	free(t);
}

void
topic_delete(struct topic *t)
{
	struct dq *q = t->dq;

	while (t->nchans > 0) {
		struct channel *ch = t->chans[--t->nchans];

		hmap_del(&t->chan_by_name, ch->name, ch->namelen);
		channel_delete(ch);
	}
	t->dq = NULL;
	nsqd_trim_soon(t->nsqd);
	topic_free(t);
	if (q != NULL && dq_delete(q) == -1)
		log_warn("TOPIC: removing its disk queue");
}

/* At exit: held messages to disk (a defer is lost, as Go), close all. */
void
topic_close(struct topic *t)
{
	struct nsq_body *b;
	size_t i;
	int64_t defer_ns;

	for (i = 0; i < t->nchans; i++)
		channel_close(t->chans[i]);
	if (t->dq == NULL)
		return;
	while ((b = next_in_memory(t, &defer_ns)) != NULL) {
		(void)nsqd_dq_put(t->nsqd, t->dq, t->name, b, 0);
		body_unref(b);
	}
	if (t->nsqd->durable) {
		struct dq_pos pos;

		dq_tell(t->dq, &pos);
		(void)dq_commit(t->dq, &pos);
	}
	if (dq_close(t->dq) == -1)
		log_warn("TOPIC(%s): closing disk queue", t->name);
	t->dq = NULL;
}

/*
 * The next message held in memory, with a reference for the caller, and
 * its defer (0 for none), or NULL.
 */
static struct nsq_body *
next_in_memory(struct topic *t, int64_t *defer_ns)
{
	struct nsq_body *b;
	struct cmsg *m;

	*defer_ns = 0;
	if (!msgq_shift(&t->q, &b, &m))
		return NULL;
	if (m != NULL) {		/* a deferred publish */
		b = m->b;
		b->refs++;
		*defer_ns = m->pq.pri;
		cmsg_free(m);
	}
	return b;
}

/*
 * The next held message: memory first, then disk (a held message has no
 * attempts yet: a record's are ignored).  The caller has a reference.
 */
static struct nsq_body *
topic_next_held(struct topic *t, int64_t *defer_ns)
{
	struct nsq_body *b;
	const void *data;
	uint16_t attempts;
	size_t len;

	if ((b = next_in_memory(t, defer_ns)) != NULL)
		return b;
	if (t->dq == NULL || dq_depth(t->dq) == 0)
		return NULL;
	if (dq_read(t->dq, &data, &len, NULL) != 1) {
		log_warn("TOPIC(%s): disk queue read", t->name);
		return NULL;
	}
	nsqd_mark_sync_topic(t->nsqd, t);
	b = body_from_record(data, len, &attempts);
	b->refs = 1;
	return b;
}

struct channel *
topic_find_channel(struct topic *t, const char *name, size_t len)
{
	return hmap_get(&t->chan_by_name, name, len);
}

/* Whether the topic holds messages (memory or disk). */
static bool
holding(const struct topic *t)
{
	return t->q.n > 0 || (t->dq != NULL && dq_depth(t->dq) > 0);
}

/*
 * Room in the emptiest channel's memory queue: how many held messages to
 * hand on now.  A backlog moves only as fast as some channel consumes it,
 * so with one channel a topic's disk backlog is read once, straight into
 * delivery, instead of being copied to the channel's disk queue first.
 * A channel without room (a slow one) gets its copies on its own disk.
 */
static size_t
room(const struct topic *t)
{
	int64_t max = t->nsqd->o->mem_queue_size, best = 0;
	size_t i;

	for (i = 0; i < t->nchans; i++) {
		int64_t r = max - (int64_t)t->chans[i]->q.n;

		if (r > best)
			best = r;
	}
	/* At --mem-queue-size=0 everything goes through disk anyway. */
	return max == 0 ? DRAIN_BATCH : (size_t)best;
}

/*
 * Hand held messages to the channels (first channel, unpause), at most
 * DRAIN_BATCH per call and no more than a channel has room for: a large
 * backlog (a disk queue of millions) is handed on over many loop turns
 * as channels consume, and clients are served meanwhile.  Until the
 * backlog is gone, new messages join it, so the order holds.  The tick
 * calls again while the topic is on nsqd's draining list, in each loop
 * turn (consumption wakes the loop).  With all set, everything held goes
 * at once, room or not.
 */
static void
drain(struct topic *t, bool all)
{
	struct nsqd *n = t->nsqd;
	struct nsq_body *b;
	int64_t defer_ns;
	size_t i, k = 0, max;

	if (t->paused || t->nchans == 0) {
		if (t->draining) {
			TAILQ_REMOVE(&n->draining, t, drain_link);
			t->draining = false;
		}
		return;
	}
	max = all ? SIZE_MAX : room(t);
	if (!all && max > DRAIN_BATCH)
		max = DRAIN_BATCH;
	while (k++ < max && (b = topic_next_held(t, &defer_ns)) != NULL) {
		for (i = 0; i < t->nchans; i++)
			(void)channel_put(t->chans[i], b, defer_ns);
		body_unref(b);
	}
	if (holding(t) && !t->draining) {
		TAILQ_INSERT_TAIL(&n->draining, t, drain_link);
		t->draining = true;
	} else if (!holding(t) && t->draining) {
		TAILQ_REMOVE(&n->draining, t, drain_link);
		t->draining = false;
	}
}

void
topic_drain(struct topic *t)
{
	drain(t, false);
}

/* Whether the tick should call topic_drain again soon. */
bool
topic_can_drain(const struct topic *t)
{
	return !t->paused && t->nchans > 0 && room(t) > 0;
}

struct channel *
topic_get_channel(struct topic *t, const char *name, size_t len)
{
	struct channel *ch = topic_find_channel(t, name, len);

	if (ch != NULL)
		return ch;
	/*
	 * What the topic still holds was published before this channel and
	 * belongs to the channels that were there (Go's pump has handed it on
	 * by now): give it to them before the new channel joins.
	 */
	if (t->nchans > 0 && !t->paused && holding(t))
		drain(t, true);
	if ((ch = channel_new(t, name, len)) == NULL)
		return NULL;
	if (t->nchans == t->chans_cap) {
		t->chans_cap = t->chans_cap ? t->chans_cap * 2 : 4;
		t->chans = xreallocarray(t->chans, t->chans_cap,
		    sizeof(*t->chans));
	}
	t->chans[t->nchans++] = ch;
	hmap_put(&t->chan_by_name, ch->name, ch->namelen, ch);
	log_info("TOPIC(%s): created CHANNEL(%s)", t->name, ch->name);
	if (!ch->ephemeral)
		t->nsqd->meta_dirty = true;
	lookup_notify(t->nsqd, t, ch, true);
	drain(t, false);
	return ch;
}

/*
 * Delete a channel and what it holds.  Its clients must be gone.  An
 * ephemeral topic goes with its last channel: t is gone then.
 */
void
topic_delete_channel(struct topic *t, struct channel *ch)
{
	size_t i;

	hmap_del(&t->chan_by_name, ch->name, ch->namelen);
	for (i = 0; i < t->nchans; i++) {
		if (t->chans[i] == ch) {
			memmove(&t->chans[i], &t->chans[i + 1],
			    (t->nchans - i - 1) * sizeof(*t->chans));
			t->nchans--;
			break;
		}
	}
	log_info("TOPIC(%s): deleting CHANNEL(%s)", t->name, ch->name);
	if (!ch->ephemeral)
		t->nsqd->meta_dirty = true;
	lookup_notify(t->nsqd, t, ch, false);
	channel_delete(ch);
	if (t->ephemeral && t->nchans == 0)
		nsqd_delete_topic(t->nsqd, t);
}

struct nsq_body *
topic_new_body(struct topic *t, const void *data, size_t len)
{
	struct nsq_body *b = body_alloc(len);

	b->refs = 0;
	b->len = (uint32_t)len;
	b->ts = nsqd_now(t->nsqd);
	guid_hex(guid_next(&t->guid, b->ts), b->id);
	memcpy(b->data, data, len);
	t->message_count++;
	t->message_bytes += len;
	return b;
}

/*
 * A new message from a publisher, undeferred.  When its one channel's
 * queue is on disk (a backlog: nobody reads, or not fast enough), no
 * body is made and freed: the record is written from the publisher's
 * bytes, with the ID and time topic_new_body would have given it.
 */
int
topic_publish(struct topic *t, const void *data, size_t len)
{
	char id[MSG_ID_LEN];
	int64_t ts;

	if (t->nchans != 1 || t->paused || t->draining ||
	    !channel_to_disk(t->chans[0]))
		return topic_put(t, topic_new_body(t, data, len), 0);
	ts = nsqd_now(t->nsqd);
	guid_hex(guid_next(&t->guid, ts), id);
	t->message_count++;
	t->message_bytes += len;
	return channel_put_record(t->chans[0], ts, id, data, len);
}

/*
 * Hand a new message to every channel, or hold it while there is no
 * channel or the topic is paused.  -1 when a disk queue refused it.
 */
int
topic_put(struct topic *t, struct nsq_body *b, int64_t defer_ns)
{
	struct nsqd *n = t->nsqd;
	struct cmsg *m;
	size_t i;
	int r = 0;

	b->refs++;		/* hold it while handing it out */
	if (t->paused || t->nchans == 0 || t->draining) {
		if (t->dq != NULL && ((int64_t)t->q.n >= n->o->mem_queue_size ||
		    dq_depth(t->dq) > 0)) {
			r = nsqd_dq_put(n, t->dq, t->name, b, 0);
			if (r == 0)
				nsqd_mark_sync_topic(n, t);
		} else if (t->dq != NULL ||
		    (int64_t)t->q.n < n->o->mem_queue_size) {
			if (defer_ns > 0) {
				m = cmsg_new(b);
				m->pq.pri = defer_ns;
				msgq_push(&t->q, m);
			} else
				msgq_push_body(&t->q, b);
		}
		/* else an ephemeral topic drops its overflow */
	} else {
		for (i = 0; i < t->nchans; i++) {
			if (channel_put(t->chans[i], b, defer_ns) == -1)
				r = -1;
		}
	}
	body_unref(b);
	return r;
}

void
topic_pause(struct topic *t, bool paused)
{
	t->paused = paused;
	if (!t->ephemeral)
		t->nsqd->meta_dirty = true;
	if (!paused)
		topic_drain(t);
}

/* As Go's Topic.Empty: the held messages go, memory and disk. */
int
topic_empty(struct topic *t)
{
	msgq_clear(&t->q);
	if (t->dq != NULL && dq_empty(t->dq) == -1) {
		log_warn("TOPIC(%s): emptying its disk queue", t->name);
		return -1;
	}
	return 0;
}

void
topic_close_clients(struct topic *t)
{
	size_t i;

	for (i = 0; i < t->nchans; i++)
		channel_close_clients(t->chans[i]);
}
