/*
 * Topics: a published message is copied to every channel that exists when
 * it arrives (each copy shares one body).  A topic with no channel, or a
 * paused one, holds messages in its own queue until a channel appears or
 * it is unpaused; a channel created later never sees earlier messages
 * that had already been handed out.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "nsqd.h"
#include "xmalloc.h"

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
	return t;
}

void
topic_free(struct topic *t)
{
	struct cmsg *m;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nchans; i++)
		channel_free(t->chans[i]);
	while ((m = msgq_pop(&t->q)) != NULL)
		cmsg_free(m);
	hmap_free(&t->chan_by_name);
	free(t->chans);
	free(t->name);
	free(t);
}

struct channel *
topic_find_channel(struct topic *t, const char *name, size_t len)
{
	return hmap_get(&t->chan_by_name, name, len);
}

/* Hand every held message to the channels (first channel, unpause). */
static void
topic_drain(struct topic *t)
{
	struct cmsg *m;
	size_t i;

	if (t->paused || t->nchans == 0)
		return;
	while ((m = msgq_pop(&t->q)) != NULL) {
		int64_t defer_ns = m->pq.pri;

		/* The held copy goes to the first channel, new ones to the rest. */
		for (i = 1; i < t->nchans; i++)
			channel_put(t->chans[i], cmsg_new(m->b), defer_ns);
		m->pq.pri = 0;
		channel_put(t->chans[0], m, defer_ns);
	}
}

struct channel *
topic_get_channel(struct topic *t, const char *name, size_t len)
{
	struct channel *ch = topic_find_channel(t, name, len);

	if (ch != NULL)
		return ch;
	ch = channel_new(t, name, len);
	if (t->nchans == t->chans_cap) {
		t->chans_cap = t->chans_cap ? t->chans_cap * 2 : 4;
		t->chans = xreallocarray(t->chans, t->chans_cap,
		    sizeof(*t->chans));
	}
	t->chans[t->nchans++] = ch;
	hmap_put(&t->chan_by_name, ch->name, ch->namelen, ch);
	log_info("TOPIC(%s): created CHANNEL(%s)", t->name, ch->name);
	topic_drain(t);
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
	channel_free(ch);
	if (t->ephemeral && t->nchans == 0)
		nsqd_delete_topic(t->nsqd, t);
}

/*
 * Whether n more messages fit in memory wherever they would be queued.
 * Ephemeral queues always "fit": what overflows them is dropped, as Go.
 */
bool
topic_can_accept(const struct topic *t, size_t n)
{
	int64_t max = t->nsqd->o->mem_queue_size;
	size_t i;

	if (t->ephemeral)
		return true;
	if (t->paused || t->nchans == 0)
		return (int64_t)(t->q.n + n) <= max;
	for (i = 0; i < t->nchans; i++) {
		const struct channel *ch = t->chans[i];

		if (!ch->ephemeral && (int64_t)(ch->q.n + n) > max)
			return false;
	}
	return true;
}

struct nsq_body *
topic_new_body(struct topic *t, const void *data, size_t len)
{
	struct nsq_body *b = xmalloc(sizeof(*b) + len);

	b->refs = 0;
	b->len = (uint32_t)len;
	b->ts = nsqd_now(t->nsqd);
	guid_hex(guid_next(&t->guid, b->ts), b->id);
	memcpy(b->data, data, len);
	t->message_count++;
	t->message_bytes += len;
	return b;
}

/* Overflow of an ephemeral queue is dropped, as Go does. */
static bool
full(const struct nsqd *n, bool ephemeral, size_t queued)
{
	return ephemeral && (int64_t)queued >= n->o->mem_queue_size;
}

void
topic_put(struct topic *t, struct nsq_body *b, int64_t defer_ns)
{
	struct cmsg *m;
	size_t i;

	if (t->paused || t->nchans == 0) {
		if (full(t->nsqd, t->ephemeral, t->q.n)) {
			if (b->refs == 0)
				free(b);
			return;
		}
		m = cmsg_new(b);
		m->pq.pri = defer_ns;
		msgq_push(&t->q, m);
		return;
	}
	b->refs++;		/* hold it while handing out copies */
	for (i = 0; i < t->nchans; i++) {
		struct channel *ch = t->chans[i];

		if (defer_ns == 0 && full(t->nsqd, ch->ephemeral, ch->q.n))
			continue;
		channel_put(ch, cmsg_new(b), defer_ns);
	}
	body_unref(b);
}

void
topic_pause(struct topic *t, bool paused)
{
	t->paused = paused;
	if (!paused)
		topic_drain(t);
}
