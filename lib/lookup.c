/*
 * nsqlookupd polling (see lookup.h) over httpc.  Each nsqlookupd keeps
 * the set of its last good answer; the owner is given their union after
 * every good answer, so a producer disappears only when no nsqlookupd
 * lists it any more, and an nsqlookupd that is down changes nothing.
 * A topic nsqlookupd does not know (404) is a good answer: no producers.
 * It is logged once (until an answer lists the topic again), so that a
 * user waiting for a topic sees why nothing comes, and then not at every
 * poll.
 */
#include <sys/queue.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errbuf.h"
#include "httpc.h"
#include "json.h"
#include "lookup.h"
#include "names.h"
#include "rand.h"
#include "text.h"
#include "xmalloc.h"

#define LOOKUP_MAX_BODY		(4 * 1024 * 1024)
#define LOOKUP_ACCEPT		"application/vnd.nsq; version=1.0"
#define RECHECK_MIN_GAP		1.0	/* seconds between rechecks */

struct lk_ep {
	struct lookup		*lk;
	char			*addr;
	char			*url;
	struct httpc_req	*req;		/* the query running */
	char			**set;		/* last good answer */
	size_t			 n;
	bool			 not_found_said; /* 404 logged already */
};

struct lookup {
	struct ev_loop		*loop;
	char			*topic;
	const struct nsq_config	*cfg;
	lookup_cb		*cb;
	void			*arg;
	struct httpc		*h;
	struct lk_ep		**eps;
	size_t			 neps;
	ev_timer		 poll;
	ev_timer		 recheck;
	ev_tstamp		 last_round;
};

#define CONTAINER(p, type, member)					\
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static void	poll_cb(struct ev_loop *, ev_timer *, int);
static void	recheck_cb(struct ev_loop *, ev_timer *, int);

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

struct lookup *
lookup_new(struct ev_loop *loop, const char *topic,
    const struct nsq_config *cfg, lookup_cb *cb, void *arg)
{
	struct lookup *lk;

	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return NULL;
	lk->loop = loop;
	lk->cfg = cfg;
	lk->cb = cb;
	lk->arg = arg;
	if ((lk->topic = strdup(topic)) == NULL ||
	    (lk->h = httpc_new(loop)) == NULL) {
		free(lk->topic);
		free(lk);
		return NULL;
	}
	/* go-nsq sends the secret to nsqlookupd unless told not to. */
	httpc_use_config(lk->h, cfg, cfg->lookupd_authorization);
	ev_init(&lk->poll, poll_cb);
	ev_init(&lk->recheck, recheck_cb);
	return lk;
}

void
lookup_free(struct lookup *lk)
{
	size_t i;

	if (lk == NULL)
		return;
	ev_timer_stop(lk->loop, &lk->poll);
	ev_timer_stop(lk->loop, &lk->recheck);
	httpc_free(lk->h);	/* cancels the queries, no callbacks */
	for (i = 0; i < lk->neps; i++) {
		free(lk->eps[i]->addr);
		free(lk->eps[i]->url);
		strv_free(lk->eps[i]->set, lk->eps[i]->n);
		free(lk->eps[i]);
	}
	free(lk->eps);
	free(lk->topic);
	free(lk);
}

/*
 * Where the path of a URL starts (after "scheme://host"), and the
 * lengths of that path and of the query after it (fragments dropped).
 */
static const char *
url_split(const char *url, size_t *pathlen, const char **query,
    size_t *querylen)
{
	const char *host = strstr(url, "://") + 3;
	const char *path = host + strcspn(host, "/?#");

	*pathlen = strcspn(path, "?#");
	*query = "";
	*querylen = 0;
	if (path[*pathlen] == '?') {
		*query = path + *pathlen + 1;
		*querylen = strcspn(*query, "#");
	}
	return path;
}

char *
lookup_http_url(const char *addr, const char *pathq)
{
	const char *url, *path, *aq, *pq;
	char *withscheme = NULL, *r;
	size_t plen, aqlen, pplen;

	url = addr;
	if (strstr(addr, "://") == NULL)
		url = withscheme = xasprintf("http://%s", addr);
	path = url_split(url, &plen, &aq, &aqlen);
	pplen = strcspn(pathq, "?");
	pq = pathq[pplen] == '?' ? pathq + pplen + 1 : "";
	/* "http://h/x/" and "/topics" join as "http://h/x/topics". */
	if (plen > 0 && path[plen - 1] == '/' && pathq[0] == '/')
		plen--;
	r = xasprintf("%.*s%.*s%s%.*s%s%s", (int)(path + plen - url), url,
	    (int)pplen, pathq, aqlen > 0 || pq[0] != '\0' ? "?" : "",
	    (int)aqlen, aq, aqlen > 0 && pq[0] != '\0' ? "&" : "", pq);
	free(withscheme);
	return r;
}

char *
lookup_url(const char *addr, const char *topic)
{
	const char *path, *aq;
	char *url, *t, *r;
	size_t plen, aqlen;

	url = strstr(addr, "://") == NULL ? xasprintf("http://%s", addr) :
	    xstrdup(addr);
	path = url_split(url, &plen, &aq, &aqlen);
	t = text_query_escape(topic);
	/* As go-nsq: an address with a path of its own names the endpoint. */
	r = xasprintf("%s?topic=%s", plen == 0 || (plen == 1 &&
	    path[0] == '/') ? "/lookup" : "", t);
	free(t);
	t = lookup_http_url(url, r);
	free(r);
	free(url);
	return t;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
lookup_parse(const char *body, size_t len, char ***addrsp, size_t *np,
    char *err, size_t errlen)
{
	struct json j;
	char **addrs = NULL, *host;
	size_t n = 0;
	int root = 0, prods, i, cnt, e, t;
	int64_t port;

	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT) {
		snprintf(err, errlen, "lookup reply is not a JSON object");
		json_free(&j);
		return -1;
	}
	/* nsqlookupd before 1.0 wraps its answer in "data". */
	if (json_obj_get(&j, 0, "producers") == -1 &&
	    (t = json_obj_get(&j, 0, "data")) != -1 &&
	    json_type(&j, t) == JSON_OBJECT)
		root = t;
	prods = json_obj_get(&j, root, "producers");
	if (prods == -1 || json_type(&j, prods) != JSON_ARRAY) {
		snprintf(err, errlen, "lookup reply has no producers array");
		json_free(&j);
		return -1;
	}
	cnt = json_size(&j, prods);
	addrs = xcalloc((size_t)cnt + 1, sizeof(*addrs));
	for (i = 0; i < cnt; i++) {
		e = json_arr_at(&j, prods, i);
		if (json_type(&j, e) != JSON_OBJECT)
			continue;
		t = json_obj_get(&j, e, "broadcast_address");
		if (t == -1 || (host = json_get_str(&j, t, NULL)) == NULL)
			continue;
		t = json_obj_get(&j, e, "tcp_port");
		if (host[0] == '\0' || t == -1 ||
		    json_get_int64(&j, t, &port) == -1 || port <= 0 ||
		    port > 65535) {
			free(host);
			continue;
		}
		if (strchr(host, ':') != NULL)
			addrs[n++] = xasprintf("[%s]:%lld", host,
			    (long long)port);
		else
			addrs[n++] = xasprintf("%s:%lld", host,
			    (long long)port);
		free(host);
	}
	json_free(&j);
	qsort(addrs, n, sizeof(*addrs), strp_cmp);
	*addrsp = addrs;
	*np = n;
	return 0;
}

/* Give the owner the union of every nsqlookupd's last answer. */
static void
emit(struct lookup *lk)
{
	char **all = NULL;
	size_t n = 0, cap = 0, i, k, out;

	for (i = 0; i < lk->neps; i++)
		for (k = 0; k < lk->eps[i]->n; k++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				all = xreallocarray(all, cap, sizeof(*all));
			}
			all[n++] = lk->eps[i]->set[k];
		}
	if (n > 1)
		qsort(all, n, sizeof(*all), strp_cmp);
	for (i = 0, out = 0; i < n; i++)
		if (out == 0 || strcmp(all[out - 1], all[i]) != 0)
			all[out++] = all[i];
	lk->cb(lk->arg, all, out);
	free(all);
}

static void
answer_cb(struct httpc_req *req, long status, const char *body, size_t len,
    const char *err, void *arg)
{
	struct lk_ep *ep = arg;
	struct lookup *lk = ep->lk;
	char **addrs = NULL, why[256];
	size_t n = 0;

	(void)req;
	ep->req = NULL;
	if (err != NULL) {
		nsq_logf(lk->cfg, NSQ_LOG_ERROR, "error querying nsqlookupd "
		    "(%s) - %s", ep->url, err);
		return;
	}
	if (status == 404) {
		/* TOPIC_NOT_FOUND: no producer has the topic yet. */
		if (!ep->not_found_said)
			nsq_logf(lk->cfg, NSQ_LOG_WARN, "nsqlookupd (%s) - "
			    "TOPIC_NOT_FOUND: no nsqd has topic %s yet; "
			    "polling every %gs", ep->addr, lk->topic,
			    (double)lk->cfg->lookupd_poll_interval / 1e9);
		ep->not_found_said = true;
		addrs = xcalloc(1, sizeof(*addrs));
	} else if (status != 200) {
		nsq_logf(lk->cfg, NSQ_LOG_ERROR, "error querying nsqlookupd "
		    "(%s) - got response %ld: %.*s", ep->url, status,
		    (int)(len > 200 ? 200 : len), body);
		return;
	} else if (lookup_parse(body, len, &addrs, &n, why,
	    sizeof(why)) == -1) {
		nsq_logf(lk->cfg, NSQ_LOG_ERROR, "error querying nsqlookupd "
		    "(%s) - %s", ep->url, why);
		return;
	}
	if (status == 200)
		ep->not_found_said = false;
	strv_free(ep->set, ep->n);
	ep->set = addrs;
	ep->n = n;
	emit(lk);
}

/* Query every nsqlookupd that has no query running. */
static void
round_start(struct lookup *lk)
{
	struct lk_ep *ep;
	char err[256];
	size_t i;

	lk->last_round = ev_now(lk->loop);
	for (i = 0; i < lk->neps; i++) {
		ep = lk->eps[i];
		if (ep->req != NULL)
			continue;
		nsq_logf(lk->cfg, NSQ_LOG_INFO, "querying nsqlookupd %s",
		    ep->url);
		ep->req = httpc_get(lk->h, ep->url, LOOKUP_ACCEPT,
		    lk->cfg->lookupd_poll_timeout / NS_MS, LOOKUP_MAX_BODY,
		    answer_cb, ep, err, sizeof(err));
		if (ep->req == NULL)
			nsq_logf(lk->cfg, NSQ_LOG_ERROR, "error querying "
			    "nsqlookupd (%s) - %s", ep->url, err);
	}
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lookup *lk = CONTAINER(w, struct lookup, poll);

	(void)loop;
	(void)revents;
	round_start(lk);
}

static void
recheck_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lookup *lk = CONTAINER(w, struct lookup, recheck);

	(void)loop;
	(void)revents;
	round_start(lk);
}

void
lookup_recheck(struct lookup *lk)
{
	ev_tstamp wait;

	if (lk->neps == 0 || ev_is_active(&lk->recheck))
		return;
	wait = lk->last_round + RECHECK_MIN_GAP - ev_now(lk->loop);
	ev_timer_set(&lk->recheck, wait > 0 ? wait : 0, 0);
	ev_timer_start(lk->loop, &lk->recheck);
}

int
lookup_add(struct lookup *lk, const char *addr, char *err, size_t errlen)
{
	struct lk_ep *ep;
	double iv, jitter;
	char *url;
	size_t i;

	if (addr == NULL || addr[0] == '\0') {
		snprintf(err, errlen, "empty nsqlookupd address");
		return -1;
	}
	url = lookup_url(addr, lk->topic);
	for (i = 0; i < lk->neps; i++)
		if (strcmp(lk->eps[i]->url, url) == 0) {
			free(url);
			return 0;
		}
	ep = xcalloc(1, sizeof(*ep));
	ep->lk = lk;
	ep->addr = xstrdup(addr);
	ep->url = url;
	lk->eps = xreallocarray(lk->eps, lk->neps + 1, sizeof(*lk->eps));
	lk->eps[lk->neps++] = ep;
	if (lk->neps == 1) {
		round_start(lk);
		iv = (double)lk->cfg->lookupd_poll_interval / 1e9;
		jitter = rand_unit() * lk->cfg->lookupd_poll_jitter * iv;
		ev_timer_set(&lk->poll, iv + jitter, iv);
		ev_timer_start(lk->loop, &lk->poll);
	} else
		round_start(lk);
	return 0;
}

/*
 * The public one-shot query (nsq.h): one httpc of its own, so that
 * nsq_lookup_free() cancels every query without a callback, and a copy
 * of the configuration for its timeout and logger.
 */
struct nsq_lookup_q {
	LIST_ENTRY(nsq_lookup_q) entry;
	struct nsq_lookup	*nl;
	struct httpc_req	*req;
	nsq_lookup_cb		*cb;
	void			*arg;
};

LIST_HEAD(nsq_lookup_qs, nsq_lookup_q);

struct nsq_lookup {
	struct httpc		*h;
	struct nsq_config	*cfg;
	struct nsq_lookup_qs	 queries;
	size_t			 pending;
};

struct nsq_lookup *
nsq_lookup_new(struct ev_loop *loop, const struct nsq_config *cfg,
    char *err, size_t errlen)
{
	struct nsq_lookup *nl;

	if (nsq_config_check(cfg, err, errlen) == -1)
		return NULL;
	if ((nl = calloc(1, sizeof(*nl))) == NULL ||
	    (nl->cfg = nsq_config_dup(cfg)) == NULL ||
	    (nl->h = httpc_new(loop)) == NULL) {
		if (nl != NULL)
			nsq_config_free(nl->cfg);
		free(nl);
		errbuf_set(err, errlen, "%s", "out of memory");
		return NULL;
	}
	LIST_INIT(&nl->queries);
	return nl;
}

size_t
nsq_lookup_pending(const struct nsq_lookup *nl)
{
	return nl->pending;
}

void
nsq_lookup_free(struct nsq_lookup *nl)
{
	struct nsq_lookup_q *q;

	if (nl == NULL)
		return;
	while ((q = LIST_FIRST(&nl->queries)) != NULL) {
		LIST_REMOVE(q, entry);
		httpc_cancel(q->req);
		free(q);
	}
	httpc_free(nl->h);
	nsq_config_free(nl->cfg);
	free(nl);
}

/* The "message" (or older "status_txt") of an error reply, if any. */
static char *
reply_message(const char *body, size_t len)
{
	struct json j;
	char why[64], *m = NULL;
	int t;

	if (json_parse(&j, body, len, why, sizeof(why)) == -1)
		return NULL;
	if (json_type(&j, 0) == JSON_OBJECT &&
	    ((t = json_obj_get(&j, 0, "message")) != -1 ||
	    (t = json_obj_get(&j, 0, "status_txt")) != -1))
		m = json_get_str(&j, t, NULL);
	json_free(&j);
	return m;
}

static void
query_cb(struct httpc_req *req, long status, const char *body, size_t len,
    const char *err, void *arg)
{
	struct nsq_lookup_q *q = arg;
	struct nsq_lookup *nl = q->nl;
	char **addrs = NULL, why[256], *m;
	size_t n = 0;

	(void)req;
	LIST_REMOVE(q, entry);
	nl->pending--;
	if (err != NULL)
		snprintf(why, sizeof(why), "%s", err);
	else if (status != 200) {
		if ((m = reply_message(body, len)) != NULL && m[0] != '\0')
			snprintf(why, sizeof(why), "%s", m);
		else
			snprintf(why, sizeof(why), "got response %ld: %.*s",
			    status, (int)(len > 200 ? 200 : len), body);
		free(m);
	} else if (lookup_parse(body, len, &addrs, &n, why,
	    sizeof(why)) == 0) {
		q->cb(nl, 0, addrs, n, NULL, q->arg);
		strv_free(addrs, n);
		free(q);
		return;
	}
	q->cb(nl, -1, NULL, 0, why, q->arg);
	free(q);
}

int
nsq_lookup_producers(struct nsq_lookup *nl, const char *addr,
    const char *topic, nsq_lookup_cb *cb, void *arg, char *err,
    size_t errlen)
{
	struct nsq_lookup_q *q;
	char *url;

	if (addr == NULL || addr[0] == '\0') {
		errbuf_set(err, errlen, "%s", "empty nsqlookupd address");
		return -1;
	}
	if (topic == NULL || !name_valid(topic, strlen(topic))) {
		errbuf_set(err, errlen, "%s", "invalid topic name");
		return -1;
	}
	q = xcalloc(1, sizeof(*q));
	q->nl = nl;
	q->cb = cb;
	q->arg = arg;
	url = lookup_url(addr, topic);
	nsq_logf(nl->cfg, NSQ_LOG_INFO, "querying nsqlookupd %s", url);
	q->req = httpc_get(nl->h, url, LOOKUP_ACCEPT,
	    nl->cfg->lookupd_poll_timeout / NS_MS, LOOKUP_MAX_BODY, query_cb,
	    q, err, errlen);
	free(url);
	if (q->req == NULL) {
		free(q);
		return -1;
	}
	LIST_INSERT_HEAD(&nl->queries, q, entry);
	nl->pending++;
	return 0;
}
