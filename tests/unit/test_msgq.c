/*
 * Unit tests for nsqd's memory queues (cmd/nsqd/msgq.c, compiled in here:
 * it needs only lib/): FIFO order of bare bodies and whole copies mixed,
 * across the ring's wrap-around, growth and shrinking; body reference
 * counts (every body freed exactly when its last holder lets go, which
 * the sanitizer build would catch as a leak or a use after free); popping
 * a bare body as a copy; clearing; a body read back from a record; and
 * the bodies' free lists (reuse by chunk size, the limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cmd/nsqd/msgq.c"

static struct nsq_body *
body(uint32_t tag)
{
	struct nsq_body *b = xcalloc(1, sizeof(*b) + sizeof(tag));

	b->len = sizeof(tag);
	memcpy(b->data, &tag, sizeof(tag));
	return b;
}

static uint32_t
tag_of(const struct nsq_body *b)
{
	uint32_t t;

	memcpy(&t, b->data, sizeof(t));
	return t;
}

/* Push i as a bare body, or as a copy with attempts i when i % 3 == 0. */
static void
push_i(struct msgq *q, uint32_t i)
{
	struct nsq_body *b = body(i);

	b->refs = 1;			/* the test's own reference */
	if (i % 3 == 0) {
		struct cmsg *m = cmsg_new(b);

		m->attempts = (uint16_t)i;
		msgq_push(q, m);
	} else
		msgq_push_body(q, b);
	assert_int_equal(b->refs, 2);
	body_unref(b);
}

static void
shift_i(struct msgq *q, uint32_t want)
{
	struct nsq_body *b;
	struct cmsg *m;

	assert_true(msgq_shift(q, &b, &m));
	if (want % 3 == 0) {
		assert_null(b);
		assert_non_null(m);
		assert_int_equal(tag_of(m->b), want);
		assert_int_equal(m->attempts, (uint16_t)want);
		assert_int_equal(m->b->refs, 1);
		cmsg_free(m);
	} else {
		assert_null(m);
		assert_non_null(b);
		assert_int_equal(tag_of(b), want);
		assert_int_equal(b->refs, 1);
		body_unref(b);
	}
}

static void
test_fifo_wrap_grow_shrink(void **state)
{
	struct msgq q = { 0 };
	uint32_t in = 0, out = 0;
	int round, k;

	(void)state;
	assert_false(msgq_shift(&q, &(struct nsq_body *){ NULL },
	    &(struct cmsg *){ NULL }));
	/* Keep a few in the ring while many pass: the head wraps. */
	for (k = 0; k < 5; k++)
		push_i(&q, in++);
	for (k = 0; k < 1000; k++) {
		push_i(&q, in++);
		shift_i(&q, out++);
	}
	assert_int_equal(q.n, 5);
	assert_int_equal(q.cap, MSGQ_MIN);
	/* Grow well past the minimum, then drain: the ring shrinks back. */
	for (round = 0; round < 3; round++) {
		for (k = 0; k < 10000; k++)
			push_i(&q, in++);
		assert_int_equal(q.n, 10005);
		assert_true(q.cap >= q.n && (q.cap & (q.cap - 1)) == 0);
		assert_true(q.cap < 2 * 10005 + MSGQ_MIN);
		while (q.n > 5)
			shift_i(&q, out++);
		assert_true(q.cap <= 4 * 5 + MSGQ_MIN);
	}
	while (q.n > 0)
		shift_i(&q, out++);
	assert_int_equal(in, out);
	msgq_clear(&q);
	assert_null(q.v);
	msg_pools_free();
}

static void
test_pop_makes_copy(void **state)
{
	struct msgq q = { 0 };
	struct nsq_body *b = body(7);
	struct cmsg *m;

	(void)state;
	b->refs = 1;
	msgq_push_body(&q, b);
	body_unref(b);			/* the queue holds the only one */
	m = msgq_pop(&q);
	assert_non_null(m);
	assert_ptr_equal(m->b, b);
	assert_int_equal(b->refs, 1);
	assert_int_equal(m->attempts, 0);
	assert_int_equal(m->pq.idx, PQ_NONE);
	assert_null(msgq_pop(&q));
	cmsg_free(m);			/* frees the body */
	msgq_clear(&q);
	msg_pools_free();
}

static void
test_clear_frees_all(void **state)
{
	struct msgq q = { 0 };
	uint32_t i;

	(void)state;
	for (i = 0; i < 3000; i++)
		push_i(&q, i);
	msgq_clear(&q);			/* ASan reports a leak otherwise */
	assert_int_equal(q.n, 0);
	assert_null(q.v);
	push_i(&q, 1);			/* usable again */
	shift_i(&q, 1);
	msgq_clear(&q);
	msg_pools_free();
}

static void
test_body_from_record(void **state)
{
	unsigned char rec[MSG_HEADER_LEN + 5];
	struct nsq_body *b;
	uint16_t attempts = 0;

	(void)state;
	msg_header_encode(rec, 1234567890123LL, 3, "0123456789abcdef");
	memcpy(rec + MSG_HEADER_LEN, "hello", 5);
	b = body_from_record(rec, sizeof(rec), &attempts);
	assert_int_equal(attempts, 3);
	assert_int_equal(b->refs, 0);
	assert_int_equal(b->len, 5);
	assert_int_equal(b->ts, 1234567890123LL);
	assert_memory_equal(b->id, "0123456789abcdef", MSG_ID_LEN);
	assert_memory_equal(b->data, "hello", 5);
	b->refs = 1;
	body_unref(b);
}

/* A body from body_alloc, filled to its last byte, with one reference. */
static struct nsq_body *
full_body(size_t len, int fill)
{
	struct nsq_body *b = body_alloc(len);

	memset(b, 0, sizeof(*b));
	b->refs = 1;
	b->len = (uint32_t)len;
	memset(b->data, fill, len);
	return b;
}

static void
test_body_pool(void **state)
{
	struct nsq_body *a, *b, *c, *big, *big2, *tiny;

	(void)state;
	a = full_body(193, 'a');
	body_unref(a);
	/* The same chunk size (193..200 bytes of body: 240-byte chunks). */
	b = full_body(200, 'b');
	if (POOLS)
		assert_ptr_equal(b, a);
	/* A bigger chunk size does not take a smaller chunk. */
	body_unref(b);
	c = full_body(300, 'c');
	assert_ptr_not_equal(c, b);
	assert_int_equal(c->data[299], 'c');
	/* Bodies past BODY_SMALL and bodies too short for the link are
	   never kept. */
	big = full_body(BODY_SMALL, 'B');
	body_unref(big);
	big2 = full_body(BODY_SMALL, 'C');
	tiny = full_body(3, 't');
	body_unref(tiny);
	body_unref(big2);
	body_unref(c);
	/* At most BODY_KEEP bytes are kept: 10,000 x 240 B are 2.4 MB. */
	{
		static struct nsq_body *v[10000];
		size_t i;

		for (i = 0; i < 10000; i++)
			v[i] = full_body(200, 'v');
		for (i = 0; i < 10000; i++)
			body_unref(v[i]);
		assert_true(body_kept <= BODY_KEEP);
		if (POOLS)
			assert_true(body_kept > BODY_KEEP - 240);
	}
	msg_pools_free();
	assert_int_equal(body_kept, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_wrap_grow_shrink),
		cmocka_unit_test(test_pop_makes_copy),
		cmocka_unit_test(test_clear_frees_all),
		cmocka_unit_test(test_body_from_record),
		cmocka_unit_test(test_body_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
