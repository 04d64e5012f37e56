/*
 * Unit tests for lib/pqueue: pop order against a sorted array, removal of
 * arbitrary nodes, re-keying both ways, the empty heap, and 100k random
 * operations cross-checked against a naive model.  After changes the
 * whole heap is checked: parent <= child everywhere and every node's idx
 * is its slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pqueue.h"
#include "splitmix.h"

/* Priorities from a small range, so there are many equal keys. */
static int64_t
rpri(uint64_t *s)
{
	return (int64_t)(rnd(s) % 2001) - 1000;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
check_heap(const struct pqueue *q)
{
	size_t i;

	assert_true(q->n <= q->cap);
	for (i = 0; i < q->n; i++) {
		assert_non_null(q->v[i]);
		assert_int_equal(q->v[i]->idx, i);
		if (i > 0)
			assert_true(q->v[(i - 1) / 2]->pri <= q->v[i]->pri);
	}
}

static void
test_empty(void **state)
{
	struct pqueue q;
	struct pq_node a = { .pri = 5, .idx = PQ_NONE };

	(void)state;
	pq_init(&q);
	assert_null(pq_peek(&q));
	assert_null(pq_pop(&q));
	assert_int_equal(pq_len(&q), 0);
	pq_push(&q, &a);
	assert_ptr_equal(pq_peek(&q), &a);
	assert_int_equal(a.idx, 0);
	assert_ptr_equal(pq_pop(&q), &a);
	assert_int_equal(a.idx, PQ_NONE);
	assert_null(pq_pop(&q));
	assert_null(pq_peek(&q));
	assert_int_equal(pq_len(&q), 0);
	pq_free(&q);
	pq_free(&q);		/* freeing twice is harmless */
	assert_null(pq_pop(&q));
}

/* Pushing random priorities and popping gives them sorted. */
static void
test_push_pop_order(void **state)
{
	enum { N = 5000 };
	struct pq_node *nodes, *x;
	struct pqueue q;
	int64_t *want;
	uint64_t s = 11;
	size_t i;

	(void)state;
	nodes = calloc(N, sizeof(*nodes));
	want = calloc(N, sizeof(*want));
	assert_non_null(nodes);
	assert_non_null(want);
	pq_init(&q);
	for (i = 0; i < N; i++) {
		nodes[i].pri = i % 7 == 0 ? INT64_MIN + (int64_t)i :
		    i % 11 == 0 ? INT64_MAX - (int64_t)i :
		    (int64_t)rnd(&s);
		want[i] = nodes[i].pri;
		pq_push(&q, &nodes[i]);
		assert_int_equal(pq_len(&q), i + 1);
	}
	check_heap(&q);
	qsort(want, N, sizeof(*want), cmp64);
	for (i = 0; i < N; i++) {
		x = pq_peek(&q);
		assert_ptr_equal(pq_pop(&q), x);
		assert_true(x->pri == want[i]);
		assert_int_equal(x->idx, PQ_NONE);
		assert_int_equal(pq_len(&q), N - i - 1);
		if (i % 500 == 0)
			check_heap(&q);
	}
	assert_null(pq_pop(&q));
	pq_free(&q);
	free(nodes);
	free(want);
}

/*
 * Removing arbitrary nodes (the root, the last slot, the middle) keeps
 * the heap ordered and the idx fields right; the rest pop in order.
 */
static void
test_remove(void **state)
{
	enum { N = 600 };
	struct pq_node nodes[N], *x;
	struct pqueue q;
	int64_t want[N];
	uint64_t s = 3;
	size_t i, j, nwant = 0;
	int in[N];

	(void)state;
	pq_init(&q);
	for (i = 0; i < N; i++) {
		nodes[i].pri = rpri(&s);
		pq_push(&q, &nodes[i]);
		in[i] = 1;
	}
	for (j = 0; j < N / 2; j++) {
		switch (j % 3) {
		case 0:
			x = q.v[0];
			break;
		case 1:
			x = q.v[q.n - 1];
			break;
		default:
			x = q.v[rnd(&s) % q.n];
			break;
		}
		pq_remove(&q, x);
		assert_int_equal(x->idx, PQ_NONE);
		in[x - nodes] = 0;
		assert_int_equal(pq_len(&q), N - j - 1);
		check_heap(&q);
	}
	for (i = 0; i < N; i++)
		if (in[i])
			want[nwant++] = nodes[i].pri;
	assert_int_equal(nwant, q.n);
	qsort(want, nwant, sizeof(*want), cmp64);
	for (i = 0; i < nwant; i++) {
		x = pq_pop(&q);
		assert_non_null(x);
		assert_true(in[x - nodes]);
		in[x - nodes] = 0;
		assert_true(x->pri == want[i]);
	}
	assert_null(pq_pop(&q));
	pq_free(&q);
}

/* Re-keying moves a node up to the root and down to the bottom. */
static void
test_update(void **state)
{
	enum { N = 300 };
	struct pq_node nodes[N], *x;
	struct pqueue q;
	uint64_t s = 5;
	int64_t prev;
	size_t i;

	(void)state;
	pq_init(&q);
	for (i = 0; i < N; i++) {
		nodes[i].pri = rpri(&s);
		pq_push(&q, &nodes[i]);
	}
	/* Up: a deep node becomes the minimum. */
	x = q.v[q.n - 1];
	pq_update(&q, x, -5000);
	check_heap(&q);
	assert_ptr_equal(pq_peek(&q), x);
	assert_int_equal(x->idx, 0);
	/* Down: the root becomes the maximum and sinks to a leaf. */
	pq_update(&q, x, 5000);
	check_heap(&q);
	assert_ptr_not_equal(pq_peek(&q), x);
	assert_true(2 * x->idx + 1 >= q.n);
	/* Unchanged priority: nothing moves. */
	i = x->idx;
	pq_update(&q, x, 5000);
	assert_int_equal(x->idx, i);
	/* Many random re-keys, both ways. */
	for (i = 0; i < 3000; i++) {
		x = &nodes[rnd(&s) % N];
		pq_update(&q, x, rpri(&s));
		if (i % 100 == 0)
			check_heap(&q);
	}
	check_heap(&q);
	prev = INT64_MIN;
	for (i = 0; i < N; i++) {
		x = pq_pop(&q);
		assert_non_null(x);
		assert_true(x->pri >= prev);
		prev = x->pri;
	}
	assert_null(pq_pop(&q));
	pq_free(&q);
}

/*
 * 100k random pushes, pops, removals and re-keys.  The model is the set
 * of nodes in the heap; a pop must return a member holding the model's
 * minimum priority.
 */
static void
test_random_model(void **state)
{
	enum { POOL = 2000, OPS = 100000 };
	struct pq_node *nodes, *x;
	struct pqueue q;
	uint64_t s = 99;
	size_t *members, nmem = 0, i, k, op;
	size_t *where;		/* node -> index in members, or PQ_NONE */
	int64_t min;
	size_t pops = 0, removes = 0, updates = 0, maxlen = 0;

	(void)state;
	nodes = calloc(POOL, sizeof(*nodes));
	members = calloc(POOL, sizeof(*members));
	where = calloc(POOL, sizeof(*where));
	assert_non_null(nodes);
	assert_non_null(members);
	assert_non_null(where);
	for (i = 0; i < POOL; i++) {
		nodes[i].idx = PQ_NONE;
		where[i] = PQ_NONE;
	}
	pq_init(&q);
	for (op = 0; op < OPS; op++) {
		unsigned r = (unsigned)(rnd(&s) % 20);

		if (r < 10) {			/* push a free node */
			k = rnd(&s) % POOL;
			if (where[k] != PQ_NONE)
				continue;
			nodes[k].pri = rpri(&s);
			pq_push(&q, &nodes[k]);
			where[k] = nmem;
			members[nmem++] = k;
		} else if (r < 14) {		/* pop */
			x = pq_pop(&q);
			if (nmem == 0) {
				assert_null(x);
				continue;
			}
			assert_non_null(x);
			min = INT64_MAX;
			for (i = 0; i < nmem; i++)
				if (nodes[members[i]].pri < min)
					min = nodes[members[i]].pri;
			assert_true(x->pri == min);
			k = (size_t)(x - nodes);
			assert_true(where[k] != PQ_NONE);
			assert_int_equal(x->idx, PQ_NONE);
			members[where[k]] = members[--nmem];
			where[members[where[k]]] = where[k];
			where[k] = PQ_NONE;
			pops++;
		} else if (r < 17) {		/* remove a member */
			if (nmem == 0)
				continue;
			k = members[rnd(&s) % nmem];
			pq_remove(&q, &nodes[k]);
			assert_int_equal(nodes[k].idx, PQ_NONE);
			members[where[k]] = members[--nmem];
			where[members[where[k]]] = where[k];
			where[k] = PQ_NONE;
			removes++;
		} else {			/* re-key a member */
			if (nmem == 0)
				continue;
			k = members[rnd(&s) % nmem];
			pq_update(&q, &nodes[k], rpri(&s));
			updates++;
		}
		assert_int_equal(pq_len(&q), nmem);
		if (nmem > maxlen)
			maxlen = nmem;
		if (op % 1000 == 0)
			check_heap(&q);
	}
	check_heap(&q);
	assert_true(pops > 10000 && removes > 10000 && updates > 10000);
	assert_true(maxlen > 300);	/* deep heaps, not just a few nodes */
	/* Drain: sorted, and exactly the model's members. */
	min = INT64_MIN;
	while ((x = pq_pop(&q)) != NULL) {
		k = (size_t)(x - nodes);
		assert_true(where[k] != PQ_NONE);
		where[k] = PQ_NONE;
		assert_true(x->pri >= min);
		min = x->pri;
		nmem--;
	}
	assert_int_equal(nmem, 0);
	pq_free(&q);
	free(nodes);
	free(members);
	free(where);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_push_pop_order),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
