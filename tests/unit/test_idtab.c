/*
 * Unit tests for nsqd's in-flight table (cmd/nsqd/idtab.c, compiled in
 * here): 200,000 random puts, gets and deletes against a plain array,
 * with real nsqd IDs (hex of consecutive GUIDs, which share long
 * prefixes) and duplicates; after every batch each entry must be
 * reachable from its home slot without crossing an empty slot (what
 * deletion by shifting back has to keep), the count must match, and the
 * load must stay at most a half.  Then draining shrinks the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../cmd/nsqd/idtab.c"
#include "splitmix.h"

#define N	4096

struct item {
	struct cmsg	 m;
	struct nsq_body	 b;
	bool		 in;
};

static void
check_table(const struct idtab *t)
{
	size_t i, j, n = 0;

	if (t->v == NULL) {
		assert_int_equal(t->n, 0);
		return;
	}
	assert_true(2 * t->n <= t->mask + 1);
	for (i = 0; i <= t->mask; i++) {
		if (t->v[i] == NULL)
			continue;
		n++;
		for (j = home(t, t->v[i]->b->id); j != i;
		    j = (j + 1) & t->mask)
			assert_non_null(t->v[j]);
	}
	assert_int_equal(n, t->n);
}

static void
test_random_against_model(void **state)
{
	static struct item it[N];
	struct idtab t = { 0 };
	struct guid_gen g;
	uint64_t seed = 42;
	size_t in = 0;
	int op, i, k;

	(void)state;
	guid_init(&g, 7);
	for (i = 0; i < N; i++) {
		it[i].m.b = &it[i].b;
		/* Every 16th shares the previous one's ID. */
		if (i > 0 && i % 16 == 0)
			memcpy(it[i].b.id, it[i - 1].b.id, MSG_ID_LEN);
		else
			guid_hex(guid_next(&g, 1700000000000000000LL + i),
			    it[i].b.id);
	}
	assert_null(idtab_get(&t, it[0].b.id));
	for (op = 0; op < 200000; op++) {
		k = (int)(rnd(&seed) % N);
		if (!it[k].in) {
			idtab_put(&t, &it[k].m);
			it[k].in = true;
			in++;
		} else if (rnd(&seed) % 3 != 0) {
			idtab_del(&t, &it[k].m);
			it[k].in = false;
			in--;
		} else {
			struct cmsg *m = idtab_get(&t, it[k].b.id);

			assert_non_null(m);
			assert_memory_equal(m->b->id, it[k].b.id, MSG_ID_LEN);
		}
		assert_int_equal(t.n, in);
		if (op % 10000 == 0) {
			check_table(&t);
			for (i = 0; i < N; i++) {
				struct cmsg *m = idtab_get(&t, it[i].b.id);
				bool dup_in = i % 16 == 0 && i > 0 ?
				    it[i - 1].in : (i + 1 < N &&
				    (i + 1) % 16 == 0 && it[i + 1].in);

				if (it[i].in || dup_in)
					assert_non_null(m);
				else
					assert_null(m);
			}
		}
	}
	/* Drain: every copy deletable, and the table shrinks back. */
	for (i = 0; i < N; i++) {
		if (it[i].in) {
			idtab_del(&t, &it[i].m);
			it[i].in = false;
		}
	}
	assert_int_equal(t.n, 0);
	assert_true(t.mask + 1 <= 2 * IDTAB_MIN);
	check_table(&t);
	/* Deleting what is not there changes nothing. */
	idtab_del(&t, &it[1].m);
	assert_int_equal(t.n, 0);
	idtab_free(&t);
	assert_null(t.v);
}

static void
test_duplicates_are_separate(void **state)
{
	static struct item a, b;
	struct idtab t = { 0 };

	(void)state;
	a.m.b = &a.b;
	b.m.b = &b.b;
	memcpy(a.b.id, "0123456789abcdef", MSG_ID_LEN);
	memcpy(b.b.id, "0123456789abcdef", MSG_ID_LEN);
	idtab_put(&t, &a.m);
	idtab_put(&t, &b.m);
	assert_int_equal(t.n, 2);
	idtab_del(&t, &a.m);		/* removes a, not b */
	assert_ptr_equal(idtab_get(&t, "0123456789abcdef"), &b.m);
	idtab_del(&t, &b.m);
	assert_null(idtab_get(&t, "0123456789abcdef"));
	idtab_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_duplicates_are_separate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
