/*
 * Messages in nsqd's memory: shared bodies, the per-channel copies that
 * carry delivery state, and the FIFO queues of topics and channels.
 *
 * A queue is a ring of one word a message.  With a million messages
 * queued, a whole copy each (struct cmsg: 96 bytes with malloc's header)
 * would cost more than twice the body's own overhead, and a queued
 * message that was never delivered has no state of its own: it is just
 * its body.  So a queue entry is the body's pointer, and only a message
 * that has some state (a copy given back after delivery, with its
 * attempts and disk track; a deferred publish a topic holds) is queued
 * as its whole copy, its pointer tagged in the low bit.  Bodies and
 * copies both come from malloc, aligned to at least 8, so that bit is
 * always free.  The ring doubles when full and halves when a quarter
 * full (down to MSGQ_MIN slots), so a drained queue gives its memory
 * back.
 */
#include <stdlib.h>
#include <string.h>

#include "nsqd.h"
#include "xmalloc.h"

#define TAG_MSG		((uintptr_t)1)
#define MSGQ_MIN	16		/* smallest ring */

/*
 * The sanitizer build keeps no free lists: a reused chunk would hide a
 * use after free from AddressSanitizer.
 */
#if defined(__SANITIZE_ADDRESS__)
#define POOLS		0
#else
#define POOLS		1
#endif

/*
 * Bodies come and go at the message rate, and malloc and free were 15%
 * of nsqd's instructions: glibc's per-thread cache keeps only 7 chunks
 * of a size, and a FIFO of thousands of bodies goes through its bins.
 * Freed bodies up to BODY_SMALL bytes are kept on free lists by malloc's
 * own chunk size (16-byte steps, 8 of them the chunk's header), up to
 * BODY_KEEP bytes in all, and reused for the next body of that size:
 * allocating the class's size never makes a chunk bigger than malloc
 * would have made it.
 */
#define BODY_SMALL	1024
#define BODY_CLASSES	((BODY_SMALL + 8 + 15) / 16 + 1)
#define BODY_KEEP	(1 << 20)

static struct nsq_body *body_pool[BODY_CLASSES];
static size_t body_kept;		/* bytes on the lists */

/* malloc's chunk size for size bytes, and its class. */
static size_t
chunk_class(size_t size)
{
	return (size + 8 + 15) / 16;
}

struct nsq_body *
body_alloc(size_t len)
{
	size_t size = sizeof(struct nsq_body) + len, c = chunk_class(size);
	struct nsq_body *b;

	if (size > BODY_SMALL)
		return xmalloc(size);
	if ((b = body_pool[c]) != NULL) {
		memcpy(&body_pool[c], b->data, sizeof(b));
		body_kept -= 16 * c;
		return b;
	}
	return xmalloc(16 * c - 8);
}

void
body_unref(struct nsq_body *b)
{
	size_t size, c;

	if (--b->refs != 0)
		return;
	size = sizeof(*b) + b->len;
	c = chunk_class(size);
	if (POOLS && size <= BODY_SMALL && body_kept + 16 * c <= BODY_KEEP &&
	    b->len >= sizeof(b)) {
		/* The list's link lives in the body's first bytes. */
		memcpy(b->data, &body_pool[c], sizeof(b));
		body_pool[c] = b;
		body_kept += 16 * c;
	} else
		free(b);
}

/*
 * A body from a disk queue record (the queue checked that it holds at
 * least a header), with no reference yet; its attempts in *attempts.
 */
struct nsq_body *
body_from_record(const void *data, size_t len, uint16_t *attempts)
{
	const void *body;
	const char *id;
	struct nsq_body *b;
	size_t blen;
	int64_t ts;

	(void)msg_decode(data, len, &ts, attempts, &id, &body, &blen);
	b = body_alloc(blen);
	b->refs = 0;
	b->len = (uint32_t)blen;
	b->ts = ts;
	memcpy(b->id, id, MSG_ID_LEN);
	memcpy(b->data, body, blen);
	return b;
}

/*
 * Copies come and go at the delivery rate: freed ones are kept on a free
 * list (up to CMSG_KEEP, 768 KB) and reused, which takes malloc and free
 * off the per-message path.  One loop, so no locking.
 */
#define CMSG_KEEP	8192

static struct cmsg *cmsg_pool;
static size_t cmsg_npool;

struct cmsg *
cmsg_new(struct nsq_body *b)
{
	struct cmsg *m = cmsg_pool;

	if (m != NULL) {
		cmsg_pool = m->next;
		cmsg_npool--;
		memset(m, 0, sizeof(*m));
	} else
		m = xcalloc(1, sizeof(*m));
	m->b = b;
	b->refs++;
	m->pq.idx = PQ_NONE;
	return m;
}

void
cmsg_free(struct cmsg *m)
{
	body_unref(m->b);
	if (POOLS && cmsg_npool < CMSG_KEEP) {
		m->next = cmsg_pool;
		cmsg_pool = m;
		cmsg_npool++;
	} else
		free(m);
}

/* Give the pooled copies and bodies back (at exit; before a trim). */
void
msg_pools_free(void)
{
	struct nsq_body *b;
	struct cmsg *m;
	size_t c;

	while ((m = cmsg_pool) != NULL) {
		cmsg_pool = m->next;
		free(m);
	}
	cmsg_npool = 0;
	for (c = 0; c < BODY_CLASSES; c++) {
		while ((b = body_pool[c]) != NULL) {
			memcpy(&body_pool[c], b->data, sizeof(b));
			free(b);
		}
	}
	body_kept = 0;
}

/* Move the n entries into a ring of cap slots, oldest first. */
static void
resize(struct msgq *q, size_t cap)
{
	uintptr_t *v = xreallocarray(NULL, cap, sizeof(*v));
	size_t i, mask = q->cap - 1;

	for (i = 0; i < q->n; i++)
		v[i] = q->v[(q->head + i) & mask];
	free(q->v);
	q->v = v;
	q->cap = cap;
	q->head = 0;
}

static void
push(struct msgq *q, uintptr_t e)
{
	if (q->n == q->cap)
		resize(q, q->cap ? q->cap * 2 : MSGQ_MIN);
	q->v[(q->head + q->n) & (q->cap - 1)] = e;
	q->n++;
}

void
msgq_push_body(struct msgq *q, struct nsq_body *b)
{
	b->refs++;
	push(q, (uintptr_t)b);
}

void
msgq_push(struct msgq *q, struct cmsg *m)
{
	push(q, (uintptr_t)m | TAG_MSG);
}

bool
msgq_shift(struct msgq *q, struct nsq_body **b, struct cmsg **m)
{
	uintptr_t e;

	if (q->n == 0)
		return false;
	e = q->v[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
	if (q->cap > MSGQ_MIN && q->n < q->cap / 4)
		resize(q, q->cap / 2);
	if (e & TAG_MSG) {
		*b = NULL;
		*m = (struct cmsg *)(e & ~TAG_MSG);
	} else {
		*b = (struct nsq_body *)e;
		*m = NULL;
	}
	return true;
}

struct cmsg *
msgq_pop(struct msgq *q)
{
	struct nsq_body *b;
	struct cmsg *m;

	if (!msgq_shift(q, &b, &m))
		return NULL;
	if (m != NULL)
		return m;
	m = cmsg_new(b);
	b->refs--;		/* the queue's reference is the copy's now */
	return m;
}

void
msgq_clear(struct msgq *q)
{
	struct nsq_body *b;
	struct cmsg *m;

	while (msgq_shift(q, &b, &m)) {
		if (m != NULL)
			cmsg_free(m);
		else
			body_unref(b);
	}
	free(q->v);
	q->v = NULL;
	q->cap = q->head = 0;
}
