/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * A hash map from byte-string keys to pointers: open addressing with
 * linear probing and backward-shift deletion (no tombstones).  The map
 * stores the key pointer, not a copy: the key's bytes must stay valid and
 * unchanged while the entry exists (keys usually live in the value, e.g.
 * a topic's name or a message's ID).  Iteration order is unspecified.
 */
#ifndef NSQ_HMAP_H
#define NSQ_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_ent {
	const void	*key;	/* NULL: empty slot */
	uint32_t	 klen;
	uint32_t	 hash;
	void		*val;
};

struct hmap {
	struct hmap_ent	*ent;
	size_t		 cap;	/* power of two, or 0 */
	size_t		 n;
};

void	hmap_init(struct hmap *);
void	hmap_free(struct hmap *);
void	*hmap_get(const struct hmap *, const void *key, size_t klen);
/* Insert or replace; returns the previous value or NULL. */
void	*hmap_put(struct hmap *, const void *key, size_t klen, void *val);
/* Remove; returns the removed value or NULL. */
void	*hmap_del(struct hmap *, const void *key, size_t klen);
/*
 * Iterate: *pos starts at 0; returns the next value or NULL at the end.
 * The map must not change during an iteration.
 */
void	*hmap_next(const struct hmap *, size_t *pos);
uint32_t hmap_hash(const void *, size_t);

static inline size_t
hmap_len(const struct hmap *m)
{
	return m->n;
}

#endif
