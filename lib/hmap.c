/*
 * Open-addressing hash map (see hmap.h).  Load is kept under 3/4; removal
 * shifts later members of the probe run back so lookups never meet holes.
 * The asserts hold what the probing needs: a power-of-two capacity (the
 * mask) and a free slot (a full table would probe for ever).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmalloc.h"

/*
 * Eight bytes at a time, each word mixed by a multiply and rotate (keys
 * are short: names and 16-byte message IDs, where a byte-wise FNV showed
 * in profiles), then a final avalanche so the low bits used for the slot
 * depend on every byte.
 */
uint32_t
hmap_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h ^= w * 0xff51afd7ed558ccdULL;
		h = (h << 31 | h >> 33) * 0xc4ceb9fe1a85ec53ULL;
	}
	if (n > 0) {
		w = 0;
		memcpy(&w, s, n);
		h ^= w * 0xff51afd7ed558ccdULL;
		h = (h << 31 | h >> 33) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

void
hmap_init(struct hmap *m)
{
	m->ent = NULL;
	m->cap = m->n = 0;
}

void
hmap_free(struct hmap *m)
{
	free(m->ent);
	hmap_init(m);
}

static size_t
find(const struct hmap *m, const void *key, size_t klen, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	/* A free slot ends the walk: n < cap. */
	assert(m->cap > 0 && (m->cap & mask) == 0 && m->n < m->cap);
	for (;;) {
		const struct hmap_ent *e = &m->ent[i];

		if (e->key == NULL)
			return i;
		if (e->hash == h && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

void *
hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	i = find(m, key, klen, hmap_hash(key, klen));
	return m->ent[i].key ? m->ent[i].val : NULL;
}

static void
grow(struct hmap *m)
{
	struct hmap_ent *old = m->ent;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->ent = xcalloc(m->cap, sizeof(*m->ent));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != NULL)
			m->ent[find(m, old[i].key, old[i].klen,
			    old[i].hash)] = old[i];
	}
	free(old);
}

void *
hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
	uint32_t h = hmap_hash(key, klen);
	struct hmap_ent *e;
	void *prev;

	assert(klen <= UINT32_MAX);
	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	assert((m->n + 1) * 4 <= m->cap * 3);
	e = &m->ent[find(m, key, klen, h)];
	if (e->key != NULL) {
		prev = e->val;
		e->key = key;	/* the new value owns the key now */
		e->val = val;
		return prev;
	}
	e->key = key;
	e->klen = (uint32_t)klen;
	e->hash = h;
	e->val = val;
	m->n++;
	return NULL;
}

void *
hmap_del(struct hmap *m, const void *key, size_t klen)
{
	size_t mask, i, j;
	void *val;

	if (m->n == 0)
		return NULL;
	mask = m->cap - 1;
	i = find(m, key, klen, hmap_hash(key, klen));
	if (m->ent[i].key == NULL)
		return NULL;
	val = m->ent[i].val;
	assert(m->n > 0);
	m->n--;
	/* Backward shift: pull later run members into the hole. */
	for (j = (i + 1) & mask; m->ent[j].key != NULL; j = (j + 1) & mask) {
		size_t home = m->ent[j].hash & mask;

		/* Move j to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->ent[i] = m->ent[j];
			i = j;
		}
	}
	m->ent[i].key = NULL;
	return val;
}

void *
hmap_next(const struct hmap *m, size_t *pos)
{
	while (*pos < m->cap) {
		const struct hmap_ent *e = &m->ent[(*pos)++];

		if (e->key != NULL)
			return e->val;
	}
	return NULL;
}
