/*
 * Binary min-heap over node pointers (see pqueue.h).  Sift loops move the
 * hole rather than swapping, and keep every moved node's idx current.
 *
 * A wrong idx or a parent later than its child would hand out deadlines
 * out of order and remove the wrong node.  Every build asserts that a
 * node removed or re-keyed is the one at its idx; NSQ_DEBUG_CHECKS (the
 * SANITIZE=1 build) also walks the whole heap after each change.
 */
#include <assert.h>
#include <stdlib.h>

#include "pqueue.h"
#include "xmalloc.h"

void
pq_init(struct pqueue *q)
{
	q->v = NULL;
	q->n = q->cap = 0;
}

void
pq_free(struct pqueue *q)
{
	free(q->v);
	pq_init(q);
}

#ifdef NSQ_DEBUG_CHECKS
/* The heap order and every index, over the whole heap: O(n). */
static void
check(const struct pqueue *q)
{
	size_t i;

	assert(q->n <= q->cap);
	for (i = 0; i < q->n; i++) {
		assert(q->v[i]->idx == i);
		assert(i == 0 || q->v[(i - 1) / 2]->pri <= q->v[i]->pri);
	}
}
#else
#define check(q)	((void)0)
#endif

static void
sift_up(struct pqueue *q, size_t i)
{
	struct pq_node *x = q->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (q->v[parent]->pri <= x->pri)
			break;
		q->v[i] = q->v[parent];
		q->v[i]->idx = i;
		i = parent;
	}
	q->v[i] = x;
	x->idx = i;
}

static void
sift_down(struct pqueue *q, size_t i)
{
	struct pq_node *x = q->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->v[c + 1]->pri < q->v[c]->pri)
			c++;
		if (x->pri <= q->v[c]->pri)
			break;
		q->v[i] = q->v[c];
		q->v[i]->idx = i;
		i = c;
	}
	q->v[i] = x;
	x->idx = i;
}

void
pq_push(struct pqueue *q, struct pq_node *x)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xreallocarray(q->v, q->cap, sizeof(*q->v));
	}
	q->v[q->n] = x;
	x->idx = q->n++;
	sift_up(q, x->idx);
	check(q);
}

struct pq_node *
pq_peek(const struct pqueue *q)
{
	return q->n ? q->v[0] : NULL;
}

void
pq_remove(struct pqueue *q, struct pq_node *x)
{
	size_t i = x->idx;
	struct pq_node *last;

	assert(i < q->n && q->v[i] == x);
	last = q->v[--q->n];
	x->idx = PQ_NONE;
	if (i == q->n) {
		check(q);
		return;
	}
	q->v[i] = last;
	last->idx = i;
	if (i > 0 && q->v[(i - 1) / 2]->pri > last->pri)
		sift_up(q, i);
	else
		sift_down(q, i);
	check(q);
}

struct pq_node *
pq_pop(struct pqueue *q)
{
	struct pq_node *x;

	if (q->n == 0)
		return NULL;
	x = q->v[0];
	pq_remove(q, x);
	return x;
}

void
pq_update(struct pqueue *q, struct pq_node *x, int64_t pri)
{
	int64_t old = x->pri;

	assert(x->idx < q->n && q->v[x->idx] == x);
	x->pri = pri;
	if (pri < old)
		sift_up(q, x->idx);
	else
		sift_down(q, x->idx);
	check(q);
}
