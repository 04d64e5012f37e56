/*
 * The registration database, as Go nsqlookupd's RegistrationDB: which
 * nsqd (peer) produces which topic and holds which channel.
 *
 * Registrations are found by their full name in a hash map and kept in a
 * list in creation order, which is the order every listing shows (Go's
 * is a map's random order).  A search with a "*" key or subkey walks the
 * list, as Go walks its map; cluster sizes keep that short.  Producers of
 * one registration are a hash map from peer id to struct producer, whose
 * key bytes are the peer's id: a peer leaves every registration before
 * it is freed (v1_end), so those bytes stay valid.
 */
#include <stdlib.h>
#include <string.h>

#include "nsqlookupd.h"
#include "xmalloc.h"

/* "cat\0key\0subkey" into dst (NULL: just measure); its length. */
static size_t
reg_name(char *dst, const char *cat, const char *key, const char *subkey)
{
	size_t c = strlen(cat), k = strlen(key), s = strlen(subkey);

	if (dst != NULL) {
		memcpy(dst, cat, c + 1);
		memcpy(dst + c + 1, key, k + 1);
		memcpy(dst + c + 1 + k + 1, subkey, s);
	}
	return c + 1 + k + 1 + s;
}

void
reg_init(struct registry *r)
{
	hmap_init(&r->by_name);
	TAILQ_INIT(&r->list);
}

static void
registration_free(struct registration *g)
{
	size_t pos = 0;
	struct producer *p;

	while ((p = hmap_next(&g->producers, &pos)) != NULL)
		free(p);
	hmap_free(&g->producers);
	free(g);
}

void
reg_free(struct registry *r)
{
	struct registration *g;

	while ((g = TAILQ_FIRST(&r->list)) != NULL) {
		TAILQ_REMOVE(&r->list, g, link);
		registration_free(g);
	}
	hmap_free(&r->by_name);
}

struct registration *
reg_get(struct registry *r, const char *cat, const char *key,
    const char *subkey)
{
	char stackname[256], *name = stackname;
	struct registration *g;
	size_t n = reg_name(NULL, cat, key, subkey);

	if (n + 1 > sizeof(stackname))
		name = xmalloc(n + 1);
	reg_name(name, cat, key, subkey);
	g = hmap_get(&r->by_name, name, n);
	if (name != stackname)
		free(name);
	return g;
}

struct registration *
reg_add(struct registry *r, const char *cat, const char *key,
    const char *subkey)
{
	struct registration *g;
	size_t n;

	if ((g = reg_get(r, cat, key, subkey)) != NULL)
		return g;
	n = reg_name(NULL, cat, key, subkey);
	g = xcalloc(1, sizeof(*g) + n + 1);
	reg_name(g->name, cat, key, subkey);
	g->namelen = n;
	g->category = g->name;
	g->key = g->category + strlen(cat) + 1;
	g->subkey = g->key + strlen(key) + 1;
	hmap_init(&g->producers);
	hmap_put(&r->by_name, g->name, g->namelen, g);
	TAILQ_INSERT_TAIL(&r->list, g, link);
	return g;
}

void
reg_remove(struct registry *r, struct registration *g)
{
	hmap_del(&r->by_name, g->name, g->namelen);
	TAILQ_REMOVE(&r->list, g, link);
	registration_free(g);
}

struct producer *
reg_producer(struct registration *g, const struct peer *peer)
{
	return hmap_get(&g->producers, peer->id, strlen(peer->id));
}

bool
reg_add_producer(struct registry *r, const char *cat, const char *key,
    const char *subkey, struct peer *peer)
{
	struct registration *g = reg_add(r, cat, key, subkey);
	struct producer *p;

	if (reg_producer(g, peer) != NULL)
		return false;
	p = xcalloc(1, sizeof(*p));
	p->peer = peer;
	hmap_put(&g->producers, peer->id, strlen(peer->id), p);
	return true;
}

bool
reg_remove_producer(struct registration *g, const struct peer *peer,
    size_t *left)
{
	struct producer *p = reg_producer(g, peer);
	bool removed = false;

	if (p != NULL && p->peer == peer) {
		hmap_del(&g->producers, peer->id, strlen(peer->id));
		free(p);
		removed = true;
	}
	if (left != NULL)
		*left = hmap_len(&g->producers);
	return removed;
}

static bool
matches(const struct registration *g, const char *cat, const char *key,
    const char *subkey)
{
	return strcmp(g->category, cat) == 0 &&
	    (strcmp(key, "*") == 0 || strcmp(g->key, key) == 0) &&
	    (strcmp(subkey, "*") == 0 || strcmp(g->subkey, subkey) == 0);
}

static void
regvec_push(struct regvec *v, struct registration *g)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = g;
}

static void
prodvec_push(struct prodvec *v, struct producer *p)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = p;
}

void
reg_find(struct registry *r, const char *cat, const char *key,
    const char *subkey, struct regvec *out)
{
	struct registration *g;

	if (strcmp(key, "*") != 0 && strcmp(subkey, "*") != 0) {
		if ((g = reg_get(r, cat, key, subkey)) != NULL)
			regvec_push(out, g);
		return;
	}
	for (g = TAILQ_FIRST(&r->list); g != NULL; g = TAILQ_NEXT(g, link))
		if (matches(g, cat, key, subkey))
			regvec_push(out, g);
}

void
reg_find_producers(struct registry *r, const char *cat, const char *key,
    const char *subkey, struct prodvec *out)
{
	struct regvec regs = { NULL, 0, 0 };
	struct hmap seen;
	struct producer *p;
	size_t i, pos;

	reg_find(r, cat, key, subkey, &regs);
	hmap_init(&seen);
	for (i = 0; i < regs.n; i++) {
		pos = 0;
		while ((p = hmap_next(&regs.v[i]->producers, &pos)) != NULL) {
			if (hmap_get(&seen, p->peer->id,
			    strlen(p->peer->id)) != NULL)
				continue;
			hmap_put(&seen, p->peer->id, strlen(p->peer->id), p);
			prodvec_push(out, p);
		}
	}
	hmap_free(&seen);
	regvec_free(&regs);
}

void
reg_lookup_peer(struct registry *r, const struct peer *peer,
    struct regvec *out)
{
	struct registration *g;

	for (g = TAILQ_FIRST(&r->list); g != NULL; g = TAILQ_NEXT(g, link))
		if (reg_producer(g, peer) != NULL)
			regvec_push(out, g);
}

bool
reg_tombstoned(const struct producer *p, int64_t now, int64_t lifetime)
{
	return p->tombstoned && now - p->tombstoned_at < lifetime;
}

bool
reg_active(const struct producer *p, int64_t now, int64_t inactive_timeout,
    int64_t lifetime)
{
	return now - p->peer->last_update <= inactive_timeout &&
	    !reg_tombstoned(p, now, lifetime);
}

void
regvec_free(struct regvec *v)
{
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

void
prodvec_free(struct prodvec *v)
{
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	free(p->id);
	free(p->remote_address);
	free(p->hostname);
	free(p->broadcast_address);
	free(p->version);
	free(p);
}
