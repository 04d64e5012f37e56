/*
 * --http-auth-required (ours; Go nsqd 1.3.0 leaves its HTTP API open):
 * every HTTP request but /ping carries "Authorization: Bearer <secret>",
 * which is checked against the --auth-http-address servers as AUTH's
 * secret is (auth.c), and the answers are cached per secret (and TLS state) for their
 * TTL.  The request is held (http_req_hold) while the servers are
 * asked, so the loop serves everyone else meanwhile.  What each route
 * needs:
 *
 *   /pub, /mpub                    publish on the topic
 *   /topic/<op>                    publish and subscribe on the topic
 *                                  (the channel "")
 *   /channel/<op>                  publish on the topic and subscribe on
 *                                  the topic and channel
 *   PUT /config/<opt>              an authorization for topic ".*"
 *   everything else                a secret with an authorization
 *
 * Refusals are 401 {"message":"AUTH_REQUIRED"} (no bearer secret),
 * 401 {"message":"AUTH_FAILED"} (the servers refused it, or it has no
 * authorization) and 403 {"message":"FORBIDDEN"}.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth.h"
#include "hmap.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "nsqd.h"
#include "xmalloc.h"

/* Cached answers kept at most; past it the cache starts again. */
#define GATE_MAX_CACHED	4096

struct cached {
	char			*secret;	/* the key */
	struct auth_state	*st;
};

struct waiting {
	struct http_gate	*g;
	struct http_req		*req;
	const struct http_route	*orig;
	char			*secret;	/* the cache key (cache_key) */
	struct auth_query	*q;
	TAILQ_ENTRY(waiting)	 link;
};

TAILQ_HEAD(waiting_list, waiting);

struct http_gate {
	struct nsqd		*n;
	struct http_route	*orig;
	size_t			 norig;
	struct hmap		 cache;
	struct waiting_list	 waiting;
};

/* The caller's route for req, as lib/http matched it (exact, or a prefix). */
static const struct http_route *
find_orig(const struct http_gate *g, const struct http_req *req)
{
	const char *path = http_req_path(req), *m = http_req_method(req);
	const struct http_route *r;
	size_t i, k;

	for (i = 0; i < g->norig; i++) {
		r = &g->orig[i];
		if (r->method != NULL && strcmp(r->method, m) != 0)
			continue;
		k = strlen(r->path);
		if (strcmp(r->path, path) == 0 || (k >= 2 &&
		    strcmp(r->path + k - 2, "/*") == 0 &&
		    strncmp(r->path, path, k - 1) == 0))
			return r;
	}
	return NULL;
}

static bool
has(struct http_req *req, const char *key, const char **v)
{
	return http_query_get(req, key, v) == 1;
}

/* Whether st lets req through; its route is orig. */
static bool
permitted(struct http_req *req, const struct auth_state *st)
{
	const char *path = http_req_path(req), *t, *c;

	if (strcmp(path, "/pub") == 0 || strcmp(path, "/mpub") == 0)
		return !has(req, "topic", &t) ||
		    auth_state_allows(st, false, t, strlen(t), "", 0);
	if (strncmp(path, "/topic/", 7) == 0)
		return !has(req, "topic", &t) ||
		    (auth_state_allows(st, false, t, strlen(t), "", 0) &&
		    auth_state_allows(st, true, t, strlen(t), "", 0));
	if (strncmp(path, "/channel/", 9) == 0) {
		if (!has(req, "topic", &t))
			return true;	/* the handler's 400 says why */
		if (!has(req, "channel", &c))
			c = "";
		return auth_state_allows(st, false, t, strlen(t), "", 0) &&
		    auth_state_allows(st, true, t, strlen(t), c, strlen(c));
	}
	if (strncmp(path, "/config/", 8) == 0 &&
	    strcmp(http_req_method(req), "PUT") == 0)
		return auth_state_has_topic(st, ".*");
	return true;
}

/* With an answer: 401, 403, or the route's own handler. */
static void
decide(struct http_gate *g, struct http_req *req,
    const struct http_route *orig, const struct auth_state *st)
{
	if (st == NULL || st->nperms == 0) {
		http_reply_error(req, 401, "AUTH_FAILED");
		return;
	}
	if (!permitted(req, st)) {
		http_reply_error(req, 403, "FORBIDDEN");
		return;
	}
	orig->fn(req, g->n);
}

static void
cache_put(struct http_gate *g, const char *secret, struct auth_state *st)
{
	struct cached *e = hmap_get(&g->cache, secret, strlen(secret));
	size_t pos = 0;

	if (e != NULL) {
		auth_state_free(e->st);
		e->st = st;
		return;
	}
	if (hmap_len(&g->cache) >= GATE_MAX_CACHED) {
		while ((e = hmap_next(&g->cache, &pos)) != NULL) {
			auth_state_free(e->st);
			free(e->secret);
			free(e);
		}
		hmap_free(&g->cache);
		hmap_init(&g->cache);
	}
	e = xcalloc(1, sizeof(*e));
	e->secret = xstrdup(secret);
	e->st = st;
	(void)hmap_put(&g->cache, e->secret, strlen(e->secret), e);
}

static void
waiting_free(struct waiting *w)
{
	TAILQ_REMOVE(&w->g->waiting, w, link);
	free(w->secret);
	free(w);
}

static void
answered(void *arg, struct auth_state *st, const char *err)
{
	struct waiting *w = arg;
	struct http_gate *g = w->g;

	w->q = NULL;
	if (st != NULL) {
		st->expires = ev_now(g->n->loop) + (double)st->ttl;
		cache_put(g, w->secret, st);
	} else
		log_warnx("HTTP: [%s] AUTH failed %s", http_req_peer(w->req),
		    err != NULL ? err : "");
	/* A client gone meanwhile gets nothing done for it. */
	if (http_req_closed(w->req))
		http_reply_error(w->req, 401, "AUTH_FAILED");
	else
		decide(g, w->req, w->orig, st);
	waiting_free(w);
}

/*
 * The cache's key: "1" or "0" for TLS, the common name, a NUL-free
 * separator, the secret (a header value holds no newline).  Caller frees.
 */
static char *
cache_key(bool tls, const char *cn, const char *secret)
{
	size_t l = strlen(cn) + strlen(secret) + 4;
	char *k = xmalloc(l);

	snprintf(k, l, "%c%s\n%s", tls ? '1' : '0', cn, secret);
	return k;
}

/* The handler of every gated route. */
static void
gate(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	struct http_gate *g = n->http_gate;
	const struct http_route *orig = find_orig(g, req);
	const char *h = http_req_header(req, "Authorization");
	const char *secret;
	struct cached *e;
	struct waiting *w;
	char ip[256], cn[256] = "", *key;
	SSL *ssl;
	int port;

	if (orig == NULL) {
		http_reply_error(req, 500, "INTERNAL_ERROR");
		return;
	}
	if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || h[7] == '\0') {
		http_reply_error(req, 401, "AUTH_REQUIRED");
		return;
	}
	secret = h + 7;
	/*
	 * As the TCP AUTH: tls says whether this request came over TLS (the
	 * HTTPS listener), common_name is a client certificate's, if any.
	 * Both are in the query, so they are in the cache's key with the
	 * secret: an answer given for TLS is not reused over plain HTTP.
	 */
	if ((ssl = http_req_ssl(req)) != NULL)
		tls_peer_cn(ssl, cn, sizeof(cn));
	key = cache_key(ssl != NULL, cn, secret);
	e = hmap_get(&g->cache, key, strlen(key));
	if (e != NULL && e->st->expires >= ev_now(n->loop)) {
		free(key);
		decide(g, req, orig, e->st);
		return;
	}
	if (net_split_hostport(http_req_peer(req), ip, sizeof(ip), &port) ==
	    -1)
		ip[0] = '\0';
	w = xcalloc(1, sizeof(*w));
	w->g = g;
	w->req = req;
	w->orig = orig;
	w->secret = key;
	TAILQ_INSERT_TAIL(&g->waiting, w, link);
	w->q = auth_query_start(n, secret, ip, ssl != NULL, cn, answered, w);
	if (w->q == NULL) {
		waiting_free(w);
		http_reply_error(req, 401, "AUTH_FAILED");
		return;
	}
	http_req_hold(req);
}

int
http_auth_routes(struct nsqd *n, const struct http_route *routes,
    size_t nroutes, struct http_route **out)
{
	struct http_gate *g = n->http_gate;
	size_t i;

	/* HTTP and HTTPS serve the same routes: one gate and cache. */
	if (g == NULL) {
		g = xcalloc(1, sizeof(*g));
		g->n = n;
		g->orig = xreallocarray(NULL, nroutes, sizeof(*routes));
		memcpy(g->orig, routes, nroutes * sizeof(*routes));
		g->norig = nroutes;
		hmap_init(&g->cache);
		TAILQ_INIT(&g->waiting);
	}
	*out = xreallocarray(NULL, nroutes, sizeof(*routes));
	memcpy(*out, routes, nroutes * sizeof(*routes));
	for (i = 0; i < nroutes; i++)
		if (strcmp(routes[i].path, "/ping") != 0)
			(*out)[i].fn = gate;
	n->http_gate = g;
	return 0;
}

void
http_auth_free(struct nsqd *n)
{
	struct http_gate *g = n->http_gate;
	struct waiting *w;
	struct cached *e;
	size_t pos = 0;

	if (g == NULL)
		return;
	/* Held requests still need their reply, which frees them. */
	while ((w = TAILQ_FIRST(&g->waiting)) != NULL) {
		auth_query_cancel(w->q);
		http_reply_error(w->req, 503, "EXITING");
		waiting_free(w);
	}
	while ((e = hmap_next(&g->cache, &pos)) != NULL) {
		auth_state_free(e->st);
		free(e->secret);
		free(e);
	}
	hmap_free(&g->cache);
	free(g->orig);
	free(g);
	n->http_gate = NULL;
}
