/*
 * A channel's in-flight copies by message ID, for FIN, REQ and TOUCH.
 *
 * Every delivery inserts and every FIN looks up and deletes, so this is
 * on the hot path; the generic lib/hmap (string keys of any length, its
 * own entry nodes) cost about 480 instructions a message here.  This
 * table is open addressing with linear probing over the copies'
 * pointers: the 16-byte ID is read from the copy's body and hashed as
 * two words, there is no node to allocate, and deletion shifts the
 * following entries back instead of leaving tombstones.  The load stays
 * at most a half; the table halves when an eighth full.  Two copies with
 * the same ID (possible only with IDs from foreign disk queue data) each
 * get their own slot, and deletion removes the given copy.
 *
 * The asserts hold what probing needs: a power-of-two size (the mask),
 * the load at most a half (so a free slot ends every run), and a count
 * that never goes below zero.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "nsqd.h"
#include "xmalloc.h"

#define IDTAB_MIN	16

static size_t
home(const struct idtab *t, const char *id)
{
	uint64_t a, b, h;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	h = a ^ (b * 0x9e3779b97f4a7c15ULL);
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	h ^= h >> 32;
	return (size_t)h & t->mask;
}

static void
place(struct idtab *t, struct cmsg *m)
{
	size_t i = home(t, m->b->id);

	/* Ends: idtab_put keeps the table at most half full (asserted). */
	while (t->v[i] != NULL)
		i = (i + 1) & t->mask;
	t->v[i] = m;
}

static void
rehash(struct idtab *t, size_t cap)
{
	struct cmsg **old = t->v;
	size_t i, oldcap = old != NULL ? t->mask + 1 : 0;

	assert(cap >= IDTAB_MIN && (cap & (cap - 1)) == 0 && 2 * t->n <= cap);
	t->v = xcalloc(cap, sizeof(*t->v));
	t->mask = cap - 1;
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			place(t, old[i]);
	free(old);
}

void
idtab_put(struct idtab *t, struct cmsg *m)
{
	if (t->v == NULL)
		rehash(t, IDTAB_MIN);
	else if (2 * (t->n + 1) > t->mask + 1)
		rehash(t, 2 * (t->mask + 1));
	place(t, m);
	t->n++;
	assert(2 * t->n <= t->mask + 1);
}

struct cmsg *
idtab_get(struct idtab *t, const char *id)
{
	size_t i;

	if (t->v == NULL)
		return NULL;
	for (i = home(t, id); t->v[i] != NULL; i = (i + 1) & t->mask)
		if (memcmp(t->v[i]->b->id, id, MSG_ID_LEN) == 0) {
			t->found = i;
			return t->v[i];
		}
	return NULL;
}

void
idtab_del(struct idtab *t, struct cmsg *m)
{
	size_t i, j, k;

	if (t->v == NULL)
		return;
	/* A FIN's copy was just found by idtab_get: no second probe. */
	if (t->found <= t->mask && t->v[t->found] == m)
		i = t->found;
	else
		for (i = home(t, m->b->id); t->v[i] != m;
		    i = (i + 1) & t->mask)
			if (t->v[i] == NULL)
				return;		/* not here */
	/*
	 * Close the gap at i: an entry further on moves back into it
	 * unless its home lies cyclically in (i, j], where it still is
	 * reachable without passing i.
	 */
	for (j = (i + 1) & t->mask; t->v[j] != NULL; j = (j + 1) & t->mask) {
		k = home(t, t->v[j]->b->id);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->v[i] = t->v[j];
		i = j;
	}
	t->v[i] = NULL;
	assert(t->n > 0);
	t->n--;
	if (t->mask + 1 > IDTAB_MIN && t->n < (t->mask + 1) / 8)
		rehash(t, (t->mask + 1) / 2);
}

void
idtab_free(struct idtab *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
