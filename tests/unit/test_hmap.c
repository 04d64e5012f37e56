/*
 * Unit tests for lib/hmap: put/get/del/replace, binary keys, keys that
 * live inside their values, iteration, deletions whose backward shift
 * wraps around the end of the table, and 100k random operations against
 * a naive model.  The table is checked structurally too: every entry is
 * reachable from its home slot without crossing an empty slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hmap.h"
#include "splitmix.h"

/*
 * The table invariants: n counts the used slots, stored hashes are
 * right, and the probe run from each entry's home slot to the entry has
 * no hole (else a lookup would stop early).
 */
static void
check_table(const struct hmap *m)
{
	size_t i, j, used = 0, mask;

	if (m->cap == 0) {
		assert_int_equal(m->n, 0);
		return;
	}
	assert_int_equal(m->cap & (m->cap - 1), 0);
	assert_true(m->n * 4 <= m->cap * 3);
	mask = m->cap - 1;
	for (i = 0; i < m->cap; i++) {
		const struct hmap_ent *e = &m->ent[i];

		if (e->key == NULL)
			continue;
		used++;
		assert_int_equal(e->hash, hmap_hash(e->key, e->klen));
		for (j = e->hash & mask; j != i; j = (j + 1) & mask)
			assert_non_null(m->ent[j].key);
		assert_ptr_equal(hmap_get(m, e->key, e->klen), e->val);
	}
	assert_int_equal(used, m->n);
}

static void
test_basic(void **state)
{
	struct hmap m;
	int a = 1, b = 2, c = 3;

	(void)state;
	hmap_init(&m);
	assert_null(hmap_get(&m, "x", 1));
	assert_null(hmap_del(&m, "x", 1));
	assert_int_equal(hmap_len(&m), 0);
	assert_null(hmap_put(&m, "alpha", 5, &a));
	assert_null(hmap_put(&m, "beta", 4, &b));
	assert_int_equal(hmap_len(&m), 2);
	assert_ptr_equal(hmap_get(&m, "alpha", 5), &a);
	assert_ptr_equal(hmap_get(&m, "beta", 4), &b);
	assert_null(hmap_get(&m, "alph", 4));
	assert_null(hmap_get(&m, "alphaa", 6));
	assert_null(hmap_get(&m, "gamma", 5));
	/* Replace: the old value comes back, the count stays. */
	assert_ptr_equal(hmap_put(&m, "alpha", 5, &c), &a);
	assert_int_equal(hmap_len(&m), 2);
	assert_ptr_equal(hmap_get(&m, "alpha", 5), &c);
	/* Delete: the value comes back once. */
	assert_ptr_equal(hmap_del(&m, "alpha", 5), &c);
	assert_null(hmap_del(&m, "alpha", 5));
	assert_null(hmap_get(&m, "alpha", 5));
	assert_int_equal(hmap_len(&m), 1);
	assert_ptr_equal(hmap_get(&m, "beta", 4), &b);
	assert_ptr_equal(hmap_del(&m, "beta", 4), &b);
	assert_int_equal(hmap_len(&m), 0);
	assert_null(hmap_get(&m, "beta", 4));
	check_table(&m);
	/* Reusable after free. */
	hmap_free(&m);
	assert_null(hmap_get(&m, "beta", 4));
	assert_null(hmap_put(&m, "beta", 4, &b));
	assert_ptr_equal(hmap_get(&m, "beta", 4), &b);
	hmap_free(&m);
	hmap_free(&m);
}

/* Keys are bytes: NULs inside, prefixes and the empty key are distinct. */
static void
test_binary_keys(void **state)
{
	static const struct {
		const char	*k;
		size_t		 len;
	} keys[] = {
		{ "", 0 }, { "a", 1 }, { "a\0", 2 }, { "a\0b", 3 },
		{ "a\0c", 3 }, { "\0", 1 }, { "\0\0", 2 }, { "\0a", 2 },
		{ "\xff\x00\xfe", 3 }, { "b", 1 },
	};
	enum { N = sizeof(keys) / sizeof(keys[0]) };
	struct hmap m;
	int vals[N];
	size_t i;
	char *copy;

	(void)state;
	hmap_init(&m);
	for (i = 0; i < N; i++)
		assert_null(hmap_put(&m, keys[i].k, keys[i].len, &vals[i]));
	assert_int_equal(hmap_len(&m), N);
	check_table(&m);
	for (i = 0; i < N; i++) {
		/* Look up through a different pointer to equal bytes. */
		copy = malloc(keys[i].len + 1);
		assert_non_null(copy);
		memcpy(copy, keys[i].k, keys[i].len);
		assert_ptr_equal(hmap_get(&m, copy, keys[i].len), &vals[i]);
		free(copy);
	}
	assert_null(hmap_get(&m, "a\0d", 3));
	assert_ptr_equal(hmap_del(&m, "a\0b", 3), &vals[3]);
	assert_null(hmap_get(&m, "a\0b", 3));
	assert_ptr_equal(hmap_get(&m, "a\0c", 3), &vals[4]);
	assert_ptr_equal(hmap_get(&m, "a", 1), &vals[1]);
	assert_ptr_equal(hmap_del(&m, "", 0), &vals[0]);
	assert_ptr_equal(hmap_get(&m, "\0", 1), &vals[5]);
	check_table(&m);
	hmap_free(&m);
}

struct item {
	char	name[24];
	int	n;
};

static struct item *
item_new(const char *name, int n)
{
	struct item *it = calloc(1, sizeof(*it));

	assert_non_null(it);
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->n = n;
	return it;
}

/*
 * Keys that live in their values: replacing a value hands the key over
 * to the new value, so the old one can be freed at once (ASan would see
 * the map reading freed memory otherwise).
 */
static void
test_key_in_value(void **state)
{
	struct hmap m;
	struct item *a, *b, *c, *it;
	size_t pos;
	int k;

	(void)state;
	hmap_init(&m);
	a = item_new("topic-a", 1);
	b = item_new("topic-b", 2);
	assert_null(hmap_put(&m, a->name, strlen(a->name), a));
	assert_null(hmap_put(&m, b->name, strlen(b->name), b));
	c = item_new("topic-a", 3);
	assert_ptr_equal(hmap_put(&m, c->name, strlen(c->name), c), a);
	memset(a, 'Z', sizeof(*a));
	free(a);
	assert_ptr_equal(hmap_get(&m, "topic-a", 7), c);
	/* Growing rehashes through the key pointers: all still valid. */
	for (k = 0; k < 100; k++) {
		char name[24];

		snprintf(name, sizeof(name), "t%d", k);
		it = item_new(name, 10 + k);
		assert_null(hmap_put(&m, it->name, strlen(it->name), it));
	}
	check_table(&m);
	assert_ptr_equal(hmap_get(&m, "topic-a", 7), c);
	assert_ptr_equal(hmap_del(&m, "topic-a", 7), c);
	free(c);
	assert_ptr_equal(hmap_get(&m, "topic-b", 7), b);
	assert_int_equal(hmap_len(&m), 101);
	pos = 0;
	while ((it = hmap_next(&m, &pos)) != NULL)
		free(it);
	hmap_free(&m);
}

/* Iteration visits every entry exactly once, also after deletes. */
static void
test_iterate(void **state)
{
	enum { N = 1000 };
	struct hmap m;
	char keys[N][8];
	int vals[N], seen[N], *v;
	size_t pos, i, count;

	(void)state;
	hmap_init(&m);
	pos = 0;
	assert_null(hmap_next(&m, &pos));
	for (i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		vals[i] = (int)i;
		assert_null(hmap_put(&m, keys[i], strlen(keys[i]), &vals[i]));
	}
	for (i = 0; i < N; i += 3)
		assert_ptr_equal(hmap_del(&m, keys[i], strlen(keys[i])),
		    &vals[i]);
	memset(seen, 0, sizeof(seen));
	pos = 0;
	count = 0;
	while ((v = hmap_next(&m, &pos)) != NULL) {
		assert_in_range(*v, 0, N - 1);
		assert_int_equal(seen[*v], 0);
		seen[*v] = 1;
		count++;
	}
	assert_int_equal(count, hmap_len(&m));
	for (i = 0; i < N; i++)
		assert_int_equal(seen[i], i % 3 != 0);
	/* At the end it stays at the end. */
	assert_null(hmap_next(&m, &pos));
	hmap_free(&m);
}

/* A key of the form "w<n>" whose home slot in a 16-slot table is home. */
static void
key_with_home(char out[16], unsigned home, unsigned *next)
{
	for (;; (*next)++) {
		snprintf(out, 16, "w%u", *next);
		if ((hmap_hash(out, strlen(out)) & 15) == home) {
			(*next)++;
			return;
		}
	}
}

/*
 * Deletions in a 16-slot table whose probe runs wrap from slot 15 to
 * slot 0: every key deleted from every insertion order of a run that
 * straddles the end, then every deletion order of it, two deep.
 */
static void
test_wrap_delete(void **state)
{
	/* Homes near the end, so runs wrap; 11 keys keep cap at 16. */
	static const unsigned homes[] = { 14, 15, 15, 15, 0, 0, 1, 13, 15,
	    14, 2 };
	enum { K = sizeof(homes) / sizeof(homes[0]) };
	char keys[K][16];
	int vals[K];
	unsigned next = 0;
	size_t order[K], i, j, d1, d2, trial;
	uint64_t s = 42;
	struct hmap m;
	int wrapped = 0;

	(void)state;
	for (i = 0; i < K; i++) {
		key_with_home(keys[i], homes[i], &next);
		vals[i] = (int)i;
	}
	for (trial = 0; trial < 50; trial++) {
		/* A random insertion order (the identity first). */
		for (i = 0; i < K; i++)
			order[i] = i;
		for (i = K - 1; trial > 0 && i > 0; i--) {
			size_t r = rnd(&s) % (i + 1), t = order[i];

			order[i] = order[r];
			order[r] = t;
		}
		for (d1 = 0; d1 < K; d1++) {
			for (d2 = 0; d2 < K; d2++) {
				hmap_init(&m);
				for (i = 0; i < K; i++) {
					j = order[i];
					assert_null(hmap_put(&m, keys[j],
					    strlen(keys[j]), &vals[j]));
				}
				assert_int_equal(m.cap, 16);
				/* Slot 0 holds a key whose home is 13..15. */
				if (m.ent[0].key != NULL &&
				    (m.ent[0].hash & 15) >= 13)
					wrapped++;
				check_table(&m);
				assert_ptr_equal(hmap_del(&m, keys[d1],
				    strlen(keys[d1])), &vals[d1]);
				check_table(&m);
				if (d2 != d1)
					assert_ptr_equal(hmap_del(&m,
					    keys[d2], strlen(keys[d2])),
					    &vals[d2]);
				check_table(&m);
				for (i = 0; i < K; i++)
					assert_ptr_equal(hmap_get(&m, keys[i],
					    strlen(keys[i])),
					    i == d1 || i == d2 ? NULL :
					    &vals[i]);
				assert_int_equal(hmap_len(&m),
				    K - 1 - (d2 != d1));
				hmap_free(&m);
			}
		}
	}
	assert_true(wrapped > 0);
}

/*
 * 100k random puts, replaces, gets and deletes over 3000 keys (text and
 * binary) against an array model.  The map grows past several sizes and
 * shrinks back, so deletions meet wrapped runs in every table size.
 */
static void
test_random_model(void **state)
{
	enum { NK = 3000, OPS = 100000 };
	struct hmap m;
	char (*keys)[12];
	size_t *klen, i, k, op, n = 0, pos, count;
	int **model, *vals, *v;
	uint64_t s = 2024;
	size_t dels = 0, hits = 0;

	(void)state;
	keys = calloc(NK, sizeof(*keys));
	klen = calloc(NK, sizeof(*klen));
	model = calloc(NK, sizeof(*model));
	vals = calloc(2 * NK, sizeof(*vals));
	assert_non_null(keys);
	assert_non_null(klen);
	assert_non_null(model);
	assert_non_null(vals);
	for (i = 0; i < NK; i++) {
		if (i % 4 == 0) {	/* binary: NULs and high bytes */
			keys[i][0] = '\0';
			memcpy(keys[i] + 1, &i, sizeof(i));
			keys[i][9] = (char)0xff;
			klen[i] = 10;
		} else
			klen[i] = (size_t)snprintf(keys[i], sizeof(keys[i]),
			    "key.%zu", i);
	}
	hmap_init(&m);
	for (op = 0; op < OPS; op++) {
		/* Phases: grow for a while, then mostly delete. */
		unsigned r = (unsigned)(rnd(&s) % 10);
		int growing = (op / 20000) % 2 == 0;

		k = rnd(&s) % NK;
		if (r < (growing ? 5u : 2u)) {
			v = &vals[2 * k + (rnd(&s) & 1)];
			assert_ptr_equal(hmap_put(&m, keys[k], klen[k], v),
			    model[k]);
			if (model[k] == NULL)
				n++;
			model[k] = v;
		} else if (r < 8) {
			assert_ptr_equal(hmap_del(&m, keys[k], klen[k]),
			    model[k]);
			if (model[k] != NULL) {
				n--;
				dels++;
			}
			model[k] = NULL;
		} else {
			v = hmap_get(&m, keys[k], klen[k]);
			assert_ptr_equal(v, model[k]);
			if (v != NULL)
				hits++;
		}
		assert_int_equal(hmap_len(&m), n);
		if (op % 5000 == 0) {
			check_table(&m);
			for (i = 0; i < NK; i++)
				assert_ptr_equal(hmap_get(&m, keys[i],
				    klen[i]), model[i]);
		}
	}
	check_table(&m);
	assert_true(dels > 10000);
	assert_true(hits > 1000);
	/* Iteration agrees with the model. */
	pos = 0;
	count = 0;
	while ((v = hmap_next(&m, &pos)) != NULL) {
		k = (size_t)(v - vals) / 2;
		assert_ptr_equal(model[k], v);
		count++;
	}
	assert_int_equal(count, n);
	hmap_free(&m);
	free(keys);
	free(klen);
	free(model);
	free(vals);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_binary_keys),
		cmocka_unit_test(test_key_in_value),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_wrap_delete),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
