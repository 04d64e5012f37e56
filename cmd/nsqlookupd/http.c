/*
 * nsqlookupd's HTTP API, as Go nsqlookupd 1.3.0's http.go: discovery for
 * clients (/lookup, /topics, /channels, /nodes) and administration
 * (/topic/create, /topic/delete, /channel/create, /channel/delete,
 * /topic/tombstone), over lib/http.
 *
 * Replies are byte for byte what Go's encoding/json makes of the same
 * values: structs keep their field order, maps come out with sorted keys,
 * empty lists are [] (never null).  Errors are {"message":"..."} with
 * Go's status and text; a query string that does not parse is 400
 * INVALID_REQUEST wherever Go parses one.  A parameter that is present
 * but empty counts as given, as in Go.  Lists are in registration order
 * where Go's follow its map's random order.
 *
 * Replies are built in lib/http's reply buffer: one past its limit
 * (HTTP_REPLY_MAX) is answered 500 INTERNAL_ERROR and logged once, never
 * sent cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "nsqlookupd.h"
#include "options.h"
#include "xmalloc.h"

/* time.Time{}.UnixNano() in Go: year 1 overflows int64 and wraps. */
#define GO_ZERO_TIME_UNIXNANO	(-6795364578871345152LL)

/*
 * Parse the query as Go's http_api.NewReqParams does; false (after a 400
 * INVALID_REQUEST) if it does not parse.
 */
static bool
params_ok(struct http_req *req)
{
	if (http_query_valid(req) == 0)
		return true;
	http_reply_error(req, 400, "INVALID_REQUEST");
	return false;
}

/* A parameter that must be given: false after a 400 `missing`. */
static bool
param(struct http_req *req, const char *key, const char *missing,
    const char **val)
{
	if (http_query_get(req, key, val) == 1)
		return true;
	http_reply_error(req, 400, missing);
	return false;
}

/* A parseable query with a topic (not validated, as in Go). */
static bool
topic_param(struct http_req *req, const char **topic)
{
	return params_ok(req) &&
	    param(req, "topic", "MISSING_ARG_TOPIC", topic);
}

/* Go's http_api.GetTopicChannelArgs. */
static bool
topic_channel(struct http_req *req, const char **topic, const char **channel)
{
	if (!param(req, "topic", "MISSING_ARG_TOPIC", topic))
		return false;
	if (!name_valid(*topic, strlen(*topic))) {
		http_reply_error(req, 400, "INVALID_ARG_TOPIC");
		return false;
	}
	if (!param(req, "channel", "MISSING_ARG_CHANNEL", channel))
		return false;
	if (!name_valid(*channel, strlen(*channel))) {
		http_reply_error(req, 400, "INVALID_ARG_CHANNEL");
		return false;
	}
	return true;
}

/* A 200 with no body, as Go's V1 answer to a nil result. */
static void
reply_empty(struct http_req *req)
{
	http_reply(req, 200, NULL, "", 0);
}

/*
 * A JSON reply built in the request's reply buffer (jw_init on
 * http_reply_begin).  A document past lib/http's reply limit is answered
 * 500 there (and logged by http_warn); one the writer refused, here.
 */
static void
reply_json(struct http_req *req, struct jw *w)
{
	if (jw_finish(w) == -1 && !buf_failed(http_reply_begin(req)))
		http_reply_error(req, 500, "INTERNAL_ERROR");
	else
		http_reply_end(req, 200, "application/json; charset=utf-8");
}

/* The keys (or subkeys) of registrations as a JSON list. */
static void
jw_reg_names(struct jw *w, const struct regvec *v, bool subkeys)
{
	size_t i;

	jw_arr_begin(w);
	for (i = 0; i < v->n; i++)
		jw_str(w, subkeys ? v->v[i]->subkey : v->v[i]->key);
	jw_arr_end(w);
}

static void
h_ping(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_text(req, 200, "OK");
}

static void
h_info(struct http_req *req, void *arg)
{
	struct jw w;

	(void)arg;
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_obj_end(&w);
	reply_json(req, &w);
}

static void
h_topics(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct regvec regs = { NULL, 0, 0 };
	struct jw w;

	reg_find(&l->reg, "topic", "*", "", &regs);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "topics");
	jw_reg_names(&w, &regs, false);
	jw_obj_end(&w);
	regvec_free(&regs);
	reply_json(req, &w);
}

static void
h_channels(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct regvec regs = { NULL, 0, 0 };
	const char *topic;
	struct jw w;

	if (!topic_param(req, &topic))
		return;
	reg_find(&l->reg, "channel", topic, "*", &regs);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "channels");
	jw_reg_names(&w, &regs, true);
	jw_obj_end(&w);
	regvec_free(&regs);
	reply_json(req, &w);
}

/* Go's PeerInfo, in its field order. */
static void
jw_peer(struct jw *w, const struct peer *p)
{
	jw_key(w, "remote_address");
	jw_str(w, p->remote_address);
	jw_key(w, "hostname");
	jw_str(w, p->hostname);
	jw_key(w, "broadcast_address");
	jw_str(w, p->broadcast_address);
	jw_key(w, "tcp_port");
	jw_int(w, p->tcp_port);
	jw_key(w, "http_port");
	jw_int(w, p->http_port);
	jw_key(w, "version");
	jw_str(w, p->version);
}

static void
h_lookup(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	const struct lookupd_opts *o = l->o;
	struct regvec regs = { NULL, 0, 0 };
	struct prodvec prods = { NULL, 0, 0 };
	int64_t now = lookupd_now(l);
	const char *topic;
	struct jw w;
	size_t i;

	if (!topic_param(req, &topic))
		return;
	reg_find(&l->reg, "topic", topic, "", &regs);
	if (regs.n == 0) {
		regvec_free(&regs);
		http_reply_error(req, 404, "TOPIC_NOT_FOUND");
		return;
	}
	regvec_free(&regs);
	reg_find(&l->reg, "channel", topic, "*", &regs);
	reg_find_producers(&l->reg, "topic", topic, "", &prods);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "channels");
	jw_reg_names(&w, &regs, true);
	jw_key(&w, "producers");
	jw_arr_begin(&w);
	for (i = 0; i < prods.n; i++) {
		if (!reg_active(prods.v[i], now, o->inactive_producer_timeout,
		    o->tombstone_lifetime))
			continue;
		jw_obj_begin(&w);
		jw_peer(&w, prods.v[i]->peer);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	regvec_free(&regs);
	prodvec_free(&prods);
	reply_json(req, &w);
}

static void
h_nodes(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	const struct lookupd_opts *o = l->o;
	struct prodvec prods = { NULL, 0, 0 };
	struct regvec regs = { NULL, 0, 0 };
	int64_t now = lookupd_now(l);
	struct producer *tp;
	struct peer *p;
	struct jw w;
	size_t i, k;

	reg_find_producers(&l->reg, "client", "", "", &prods);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "producers");
	jw_arr_begin(&w);
	for (i = 0; i < prods.n; i++) {
		/* Tombstoned nodes are listed: only inactivity counts. */
		if (!reg_active(prods.v[i], now, o->inactive_producer_timeout,
		    0))
			continue;
		p = prods.v[i]->peer;
		regs.n = 0;
		reg_lookup_peer(&l->reg, p, &regs);
		jw_obj_begin(&w);
		jw_peer(&w, p);
		jw_key(&w, "tombstones");
		jw_arr_begin(&w);
		for (k = 0; k < regs.n; k++) {
			if (strcmp(regs.v[k]->category, "topic") != 0)
				continue;
			tp = reg_producer(regs.v[k], p);
			jw_bool(&w, tp != NULL && tp->peer == p &&
			    reg_tombstoned(tp, now, o->tombstone_lifetime));
		}
		jw_arr_end(&w);
		jw_key(&w, "topics");
		jw_arr_begin(&w);
		for (k = 0; k < regs.n; k++)
			if (strcmp(regs.v[k]->category, "topic") == 0)
				jw_str(&w, regs.v[k]->key);
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	regvec_free(&regs);
	prodvec_free(&prods);
	reply_json(req, &w);
}

struct debug_ent {
	char			*name;	/* "category:key:subkey" */
	struct registration	*g;
};

static int
debug_cmp(const void *a, const void *b)
{
	return strcmp(((const struct debug_ent *)a)->name,
	    ((const struct debug_ent *)b)->name);
}

/*
 * Go marshals a map of "category:key:subkey" to lists of maps: keys are
 * sorted at both levels, and registrations without producers are absent.
 */
static void
h_debug(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct registration *g;
	struct debug_ent *ents = NULL;
	struct producer *p;
	struct jw w;
	size_t n = 0, cap = 0, i, pos;

	for (g = TAILQ_FIRST(&l->reg.list); g != NULL;
	    g = TAILQ_NEXT(g, link)) {
		if (hmap_len(&g->producers) == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ents = xreallocarray(ents, cap, sizeof(*ents));
		}
		ents[n].name = xasprintf("%s:%s:%s", g->category, g->key,
		    g->subkey);
		ents[n++].g = g;
	}
	if (n > 0)
		qsort(ents, n, sizeof(*ents), debug_cmp);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	for (i = 0; i < n; i++) {
		jw_key(&w, ents[i].name);
		jw_arr_begin(&w);
		pos = 0;
		while ((p = hmap_next(&ents[i].g->producers, &pos)) != NULL) {
			jw_obj_begin(&w);
			jw_key(&w, "broadcast_address");
			jw_str(&w, p->peer->broadcast_address);
			jw_key(&w, "hostname");
			jw_str(&w, p->peer->hostname);
			jw_key(&w, "http_port");
			jw_int(&w, p->peer->http_port);
			jw_key(&w, "id");
			jw_str(&w, p->peer->id);
			jw_key(&w, "last_update");
			jw_int(&w, p->peer->last_update);
			jw_key(&w, "tcp_port");
			jw_int(&w, p->peer->tcp_port);
			jw_key(&w, "tombstoned");
			jw_bool(&w, p->tombstoned);
			jw_key(&w, "tombstoned_at");
			jw_int(&w, p->tombstoned ? p->tombstoned_at :
			    GO_ZERO_TIME_UNIXNANO);
			jw_key(&w, "version");
			jw_str(&w, p->peer->version);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		free(ents[i].name);
	}
	jw_obj_end(&w);
	free(ents);
	reply_json(req, &w);
}

static void
h_topic_create(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	const char *topic;

	if (!topic_param(req, &topic))
		return;
	if (!name_valid(topic, strlen(topic))) {
		http_reply_error(req, 400, "INVALID_ARG_TOPIC");
		return;
	}
	log_info("DB: adding topic(%s)", topic);
	reg_add(&l->reg, "topic", topic, "");
	reply_empty(req);
}

/* Removes every match, so "*" (not a valid name) empties all, as Go. */
static void
h_topic_delete(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct regvec regs = { NULL, 0, 0 };
	const char *topic;
	size_t i;

	if (!topic_param(req, &topic))
		return;
	reg_find(&l->reg, "channel", topic, "*", &regs);
	for (i = 0; i < regs.n; i++) {
		log_info("DB: removing channel(%s) from topic(%s)",
		    regs.v[i]->subkey, topic);
		reg_remove(&l->reg, regs.v[i]);
	}
	regs.n = 0;
	reg_find(&l->reg, "topic", topic, "", &regs);
	for (i = 0; i < regs.n; i++) {
		log_info("DB: removing topic(%s)", topic);
		reg_remove(&l->reg, regs.v[i]);
	}
	regvec_free(&regs);
	reply_empty(req);
}

static void
h_channel_create(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	const char *topic, *channel;

	if (!params_ok(req) || !topic_channel(req, &topic, &channel))
		return;
	log_info("DB: adding channel(%s) in topic(%s)", channel, topic);
	reg_add(&l->reg, "channel", topic, channel);
	log_info("DB: adding topic(%s)", topic);
	reg_add(&l->reg, "topic", topic, "");
	reply_empty(req);
}

static void
h_channel_delete(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct registration *g;
	const char *topic, *channel;

	if (!params_ok(req) || !topic_channel(req, &topic, &channel))
		return;
	if ((g = reg_get(&l->reg, "channel", topic, channel)) == NULL) {
		http_reply_error(req, 404, "CHANNEL_NOT_FOUND");
		return;
	}
	log_info("DB: removing channel(%s) from topic(%s)", channel, topic);
	reg_remove(&l->reg, g);
	reply_empty(req);
}

/* node is "<broadcast_address>:<http_port>" of the producer. */
static void
h_topic_tombstone(struct http_req *req, void *arg)
{
	struct lookupd *l = arg;
	struct prodvec prods = { NULL, 0, 0 };
	const char *topic, *node;
	struct peer *p;
	char *this;
	size_t i;

	if (!params_ok(req) ||
	    !param(req, "topic", "MISSING_ARG_TOPIC", &topic) ||
	    !param(req, "node", "MISSING_ARG_NODE", &node))
		return;
	log_info("DB: setting tombstone for producer@%s of topic(%s)", node,
	    topic);
	reg_find_producers(&l->reg, "topic", topic, "", &prods);
	for (i = 0; i < prods.n; i++) {
		p = prods.v[i]->peer;
		this = xasprintf("%s:%lld", p->broadcast_address,
		    (long long)p->http_port);
		if (strcmp(this, node) == 0) {
			prods.v[i]->tombstoned = true;
			prods.v[i]->tombstoned_at = lookupd_now(l);
		}
		free(this);
	}
	prodvec_free(&prods);
	reply_empty(req);
}

static const struct http_route routes[] = {
	{ "GET", "/ping", h_ping, 0, NULL },
	{ "GET", "/info", h_info, 0, NULL },
	{ "GET", "/debug", h_debug, 0, NULL },
	{ "GET", "/lookup", h_lookup, 0, NULL },
	{ "GET", "/topics", h_topics, 0, NULL },
	{ "GET", "/channels", h_channels, 0, NULL },
	{ "GET", "/nodes", h_nodes, 0, NULL },
	{ "POST", "/topic/create", h_topic_create, 0, NULL },
	{ "POST", "/topic/delete", h_topic_delete, 0, NULL },
	{ "POST", "/channel/create", h_channel_create, 0, NULL },
	{ "POST", "/channel/delete", h_channel_delete, 0, NULL },
	{ "POST", "/topic/tombstone", h_topic_tombstone, 0, NULL },
};

/* Go's http_api.Log line: status, method, URI, client, time taken. */
static void
access_log(const struct http_req *req, int status, void *arg)
{
	char took[64];
	double secs;

	(void)arg;
	if (log_get_level() > LOG_LEVEL_INFO)
		return;
	secs = ev_time() - http_req_start(req);
	format_duration((int64_t)(secs * 1e9), took, sizeof(took));
	log_info("%d %s %s (%s) %s", status, http_req_method(req),
	    http_req_uri(req), http_req_peer(req), took);
}

/* lib/http answered 500 for a reply that could not go out whole. */
static void
http_warn(const struct http_req *req, const char *why, void *arg)
{
	(void)arg;
	log_error("HTTP: %s %s: %s", http_req_method(req), http_req_uri(req),
	    why);
}

struct http_server *
lookupd_http_new(struct lookupd *l, int fd)
{
	struct http_server *srv;

	srv = http_server_new(l->loop, fd, routes,
	    sizeof(routes) / sizeof(routes[0]), NULL, l);
	http_server_set_log(srv, access_log);
	http_server_set_warn(srv, http_warn);
	return srv;
}
