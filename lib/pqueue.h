/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * An intrusive binary min-heap keyed by an int64 priority (a deadline in
 * nanoseconds).  Elements embed a struct pq_node; the heap stores pointers
 * and keeps each node's index, so removal and re-keying are O(log n).
 * The heap owns no elements.
 */
#ifndef NSQ_PQUEUE_H
#define NSQ_PQUEUE_H

#include <stddef.h>
#include <stdint.h>

#define PQ_NONE	((size_t)-1)

struct pq_node {
	int64_t	pri;
	size_t	idx;		/* PQ_NONE when not in a heap */
};

struct pqueue {
	struct pq_node	**v;
	size_t		  n;
	size_t		  cap;
};

void	pq_init(struct pqueue *);
void	pq_free(struct pqueue *);
void	pq_push(struct pqueue *, struct pq_node *);
/* The minimum, or NULL. */
struct pq_node *pq_peek(const struct pqueue *);
struct pq_node *pq_pop(struct pqueue *);
/* Remove a node that is in this heap. */
void	pq_remove(struct pqueue *, struct pq_node *);
/* Change a queued node's priority. */
void	pq_update(struct pqueue *, struct pq_node *, int64_t pri);

static inline size_t
pq_len(const struct pqueue *q)
{
	return q->n;
}

#endif
