/*
 * Go's internal/clusterinfo over lib/httpc: every nsqlookupd and nsqd
 * asked at once, each call ending in one continuation.  A call's
 * outcome follows Go's: when every address failed, op->fatal ("failed
 * to query any nsqd: ..."); when some did, their errors in op->errs and
 * the rest of the answer as usual.  Each request has its own deadline
 * (--http-client-request-timeout, and --http-client-connect-timeout for
 * the connect), so a stopped node costs one timeout and no more.
 *
 * The error texts are Go's where they come from nsqadmin itself ("got
 * response 500 Internal Server Error \"...\"", "failed to query any
 * nsqlookupd: ..."); a transport failure is "Get \"URL\": " and curl's
 * words where Go's net package would have its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <http_parser.h>

#include "admin.h"
#include "buffer.h"
#include "httpc.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "text.h"
#include "xmalloc.h"

/* Biggest upstream reply read: a /stats of many thousand topics. */
#define FAN_MAX_BODY	((size_t)256 << 20)
#define ACCEPT_V1	"application/vnd.nsq; version=1.0"

struct op *
op_new(struct admin *a, struct http_req *req)
{
	struct op *op = xcalloc(1, sizeof(*op));

	op->a = a;
	op->req = req;
	LIST_INSERT_HEAD(&a->ops, op, entry);
	return op;
}

void
op_free(struct op *op)
{
	if (op == NULL)
		return;
	LIST_REMOVE(op, entry);
	ar_free(&op->ar);
	free(op);
}

struct fan {
	struct op	*op;
	const char	*method;
	struct fan_res	*res;
	size_t		 n, left;
	fan_fn		*k;
};

struct fan_one {
	struct fan	*f;
	size_t		 i;
};

static const char *
go_method(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return "Get";
	if (strcmp(m, "POST") == 0)
		return "Post";
	return m;
}

static void fan_cb(struct httpc_req *, long, const char *, size_t,
    const char *, void *);

static bool
fan_issue(struct fan_one *one, const char *url, char *err, size_t errlen)
{
	struct admin *a = one->f->op->a;

	const char *hdrs[] = { "Accept: " ACCEPT_V1, a->bearer_hdr };

	/* --auth-secret goes to every nsqd and nsqlookupd asked. */
	return httpc_request(a->hc, one->f->method, url, hdrs,
	    a->bearer_hdr != NULL ? 2 : 1, NULL, 0,
	    a->o->request_timeout / NS_MS, FAN_MAX_BODY, fan_cb, one, err,
	    errlen) != NULL;
}

/*
 * Go's GETV1/POSTV1: a 403 to an http URL names the https_port to ask
 * instead (an nsqd with --tls-required).  The https URL, or NULL with
 * *why set when the body is not JSON.
 */
static const char *
https_endpoint(struct arena *ar, const char *url, const char *body,
    size_t len, const char **why)
{
	struct json j;
	char err[256];
	const char *h, *rest, *colon;
	int64_t port = 0;
	int t;

	*why = NULL;
	if (json_parse(&j, body, len, err, sizeof(err)) == -1) {
		*why = ar_strdup(ar, err);
		return NULL;
	}
	if (json_type(&j, 0) == JSON_OBJECT &&
	    (t = json_obj_get_go(&j, 0, "https_port")) >= 0)
		(void)json_get_int64(&j, t, &port);
	json_free(&j);
	h = url + strlen("http://");
	rest = h + strcspn(h, "/?#");
	colon = NULL;
	if (h[0] == '[')
		colon = memchr(h, ']', (size_t)(rest - h)) != NULL ?
		    (const char *)memchr(h, ']', (size_t)(rest - h)) + 1 : NULL;
	else
		colon = memchr(h, ':', (size_t)(rest - h));
	if (colon == NULL || *colon != ':') {
		*why = ar_printf(ar, "address %.*s: missing port in address",
		    (int)(rest - h), h);
		return NULL;
	}
	return ar_printf(ar, "https://%.*s:%lld%s", (int)(colon - h), h,
	    (long long)port, rest);
}

static void
fan_cb(struct httpc_req *hr, long status, const char *body, size_t len,
    const char *err, void *arg)
{
	struct fan_one *one = arg;
	struct fan *f = one->f;
	struct fan_res *r = &f->res[one->i];
	struct arena *ar = &f->op->ar;
	const char *st, *https, *why;
	char *q, e2[256];

	(void)hr;
	if (err == NULL && status == 403 &&
	    strncmp(r->url, "http://", 7) == 0) {
		https = https_endpoint(ar, r->url, body, len, &why);
		if (https == NULL) {
			r->status = status;
			r->err = why;
			if (--f->left == 0)
				f->k(f->op, f->res, f->n);
			return;
		}
		r->url = https;
		log_info("CI: querying %s", https);
		if (fan_issue(one, https, e2, sizeof(e2)))
			return;
		r->err = ar_printf(ar, "%s \"%s\": %s", go_method(f->method),
		    https, e2);
		if (--f->left == 0)
			f->k(f->op, f->res, f->n);
		return;
	}
	r->status = status;
	r->body = ar_strndup(ar, body, len);
	r->len = len;
	if (err != NULL)
		r->err = ar_printf(ar, "%s \"%s\": %s", go_method(f->method),
		    r->url, err);
	else if (status != 200) {
		st = http_status_str((enum http_status)status);
		q = text_goquote_str(r->body);
		r->err = ar_printf(ar, "got response %ld %s %s", status,
		    st != NULL ? st : "", q);
		free(q);
	}
	if (--f->left == 0)
		f->k(f->op, f->res, f->n);
}

void
fan(struct op *op, const char *method, char **urls, size_t n, fan_fn *k)
{
	struct fan *f;
	struct fan_one *one;
	char err[256];
	size_t i;

	f = ar_alloc(&op->ar, sizeof(*f));
	f->op = op;
	f->method = method;
	f->n = f->left = n;
	f->k = k;
	f->res = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(*f->res));
	if (n == 0) {
		k(op, f->res, 0);
		return;
	}
	/* One more, so a request that fails at once cannot end the fan. */
	f->left++;
	for (i = 0; i < n; i++) {
		f->res[i].url = urls[i];
		one = ar_alloc(&op->ar, sizeof(*one));
		one->f = f;
		one->i = i;
		/* The history's rounds would fill the log: debug only. */
		if (op->req != NULL)
			log_info("CI: querying %s", urls[i]);
		else
			log_debug("CI: querying %s", urls[i]);
		if (!fan_issue(one, urls[i], err, sizeof(err))) {
			f->res[i].err = ar_printf(&op->ar, "%s \"%s\": %s",
			    go_method(method), urls[i], err);
			f->left--;
		}
	}
	if (--f->left == 0)
		k(op, f->res, n);
}

const char *
errs_join(struct op *op, const struct vec *v)
{
	struct buf b;
	const char *s;
	size_t i;

	buf_init(&b, 0, (size_t)64 << 20);
	for (i = 0; i < v->n; i++) {
		if (i > 0)
			buf_add(&b, "\n", 1);
		buf_add(&b, v->v[i], strlen(v->v[i]));
	}
	s = ar_strndup(&op->ar, buf_failed(&b) ? "" : (const char *)
	    buf_data(&b), buf_failed(&b) ? 0 : buf_len(&b));
	buf_free(&b);
	return s;
}

/* Go's outcome: all failed -> fatal with prefix, some -> op->errs. */
static void
outcome(struct op *op, struct vec *errs, size_t n, const char *what)
{
	op->fatal = NULL;
	op->errs = *errs;
	if (errs->n == n) {
		op->fatal = ar_printf(&op->ar, "failed to query any %s: %s",
		    what, errs_join(op, errs));
		memset(&op->errs, 0, sizeof(op->errs));
	}
}

static char *
qesc(struct op *op, const char *s)
{
	char *e = text_query_escape(s), *r;

	r = ar_strdup(&op->ar, e);
	free(e);
	return r;
}

static char **
urls_for(struct op *op, char **addrs, size_t n, const char *fmt,
    const char *arg)
{
	char **u = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(*u));
	size_t i;

	for (i = 0; i < n; i++)
		u[i] = ar_printf(&op->ar, fmt, addrs[i], arg);
	return u;
}

/* GET fmt (its %s: each address, then arg) of every address in to. */
static void
fan_get(struct op *op, const struct strlist *to, const char *fmt,
    const char *arg, fan_fn *done)
{
	fan(op, "GET", urls_for(op, to->v, to->n, fmt, arg), to->n, done);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
uniq_sorted(struct vec *v)
{
	size_t i, o;

	if (v->n == 0)
		return;
	qsort(v->v, v->n, sizeof(void *), cmp_str);
	for (i = 1, o = 1; i < v->n; i++)
		if (strcmp(v->v[i], v->v[o - 1]) != 0)
			v->v[o++] = v->v[i];
	v->n = o;
}

/* Collect a string list member from each reply (GetLookupdTopics...). */
static void
names_done(struct op *op, struct fan_res *r, size_t n, const char *member,
    const char *inner, const char *what)
{
	struct vec errs = { 0 };
	struct json j;
	char err[256];
	size_t i;
	int arr, k, t;
	char *s;

	memset(&op->names, 0, sizeof(op->names));
	for (i = 0; i < n; i++) {
		if (r[i].err != NULL) {
			vec_push(&op->ar, &errs, (void *)r[i].err);
			continue;
		}
		if (json_parse(&j, r[i].body, r[i].len, err,
		    sizeof(err)) == -1) {
			vec_push(&op->ar, &errs, ar_strdup(&op->ar, err));
			continue;
		}
		arr = json_type(&j, 0) == JSON_OBJECT ?
		    json_obj_get_go(&j, 0, member) : -1;
		for (k = 0; arr >= 0 && k < json_size(&j, arr); k++) {
			t = json_arr_at(&j, arr, k);
			if (inner != NULL)
				t = json_obj_get_go(&j, t, inner);
			if ((s = json_get_str(&j, t, NULL)) == NULL)
				continue;
			vec_push(&op->ar, &op->names, ar_strdup(&op->ar, s));
			free(s);
		}
		json_free(&j);
	}
	uniq_sorted(&op->names);
	outcome(op, &errs, n, what);
	op->k(op);
}

static void
lookupd_topics_done(struct op *op, struct fan_res *r, size_t n)
{
	names_done(op, r, n, "topics", NULL, "nsqlookupd");
}

void
ci_lookupd_topics(struct op *op, op_fn *k)
{
	struct admin_opts *o = op->a->o;

	op->k = k;
	fan_get(op, &o->lookupd, "http://%s/topics%s", "",
	    lookupd_topics_done);
}

static void
nsqd_topics_done(struct op *op, struct fan_res *r, size_t n)
{
	names_done(op, r, n, "topics", "topic_name", "nsqd");
}

void
ci_nsqd_topics(struct op *op, op_fn *k)
{
	struct admin_opts *o = op->a->o;

	op->k = k;
	fan_get(op, &o->nsqd, "http://%s/stats?format=json%s", "",
	    nsqd_topics_done);
}

static void
lookupd_channels_done(struct op *op, struct fan_res *r, size_t n)
{
	names_done(op, r, n, "channels", NULL, "nsqlookupd");
}

void
ci_lookupd_topic_channels(struct op *op, op_fn *k)
{
	struct admin_opts *o = op->a->o;

	op->k = k;
	fan_get(op, &o->lookupd, "http://%s/channels?topic=%s",
	    qesc(op, op->topic), lookupd_channels_done);
}

static int
cmp_ptopic(const void *a, const void *b)
{
	return strcmp((*(struct ptopic *const *)a)->topic,
	    (*(struct ptopic *const *)b)->topic);
}

/*
 * The producers of one nsqlookupd's reply in got, or -1 with the
 * request's or the parser's error pushed on errs.
 */
static int
reply_producers(struct op *op, const struct fan_res *r, struct vec *errs,
    struct vec *got)
{
	char err[256];

	if (r->err != NULL) {
		vec_push(&op->ar, errs, (void *)r->err);
		return -1;
	}
	if (producers_parse(&op->ar, r->body, r->len, got, err,
	    sizeof(err)) == -1) {
		vec_push(&op->ar, errs, ar_strdup(&op->ar, err));
		return -1;
	}
	return 0;
}

/* GetLookupdProducers: /nodes of each, one producer per TCP address. */
static void
lookupd_nodes_done(struct op *op, struct fan_res *r, size_t n)
{
	struct admin_opts *o = op->a->o;
	struct vec errs = { 0 }, got, keys = { 0 };
	struct producer *p, *q, *maxp = NULL;
	const char *key;
	size_t i, j, m;

	memset(&op->producers, 0, sizeof(op->producers));
	for (i = 0; i < n; i++) {
		if (reply_producers(op, &r[i], &errs, &got) == -1)
			continue;
		for (j = 0; j < got.n; j++) {
			p = got.v[j];
			key = producer_tcp_addr(&op->ar, p);
			q = NULL;
			for (m = 0; m < keys.n; m++)
				if (strcmp(keys.v[m], key) == 0) {
					q = op->producers.v[m];
					break;
				}
			if (q == NULL) {
				vec_push(&op->ar, &keys, (void *)key);
				vec_push(&op->ar, &op->producers, p);
				if (maxp == NULL ||
				    producer_ver_cmp(maxp, p) < 0)
					maxp = p;
				if (p->topics.n > 1)
					qsort(p->topics.v, p->topics.n,
					    sizeof(void *), cmp_ptopic);
				q = p;
			}
			vec_push(&op->ar, &q->remote_addresses,
			    ar_printf(&op->ar, "%s/%s", o->lookupd.v[i],
			    p->remote_address[0] != '\0' ? p->remote_address :
			    "N/A"));
		}
	}
	for (i = 0; i < op->producers.n; i++) {
		p = op->producers.v[i];
		if (maxp != NULL && producer_ver_cmp(p, maxp) < 0)
			p->out_of_date = true;
	}
	sort_by_host(&op->producers, BY_PRODUCER);
	outcome(op, &errs, n, "nsqlookupd");
	if (op->fatal != NULL)
		memset(&op->producers, 0, sizeof(op->producers));
	op->k(op);
}

/*
 * A producer from one nsqd's /info reply (version, addresses, ports), or
 * NULL with the request's or the parser's error pushed on errs.
 */
static struct producer *
info_producer(struct op *op, const struct fan_res *r, struct vec *errs)
{
	struct producer *p;
	struct json j;
	char err[256];
	int t;

	if (r->err != NULL) {
		vec_push(&op->ar, errs, (void *)r->err);
		return NULL;
	}
	if (json_parse(&j, r->body, r->len, err, sizeof(err)) == -1) {
		vec_push(&op->ar, errs, ar_strdup(&op->ar, err));
		return NULL;
	}
	p = ar_alloc(&op->ar, sizeof(*p));
	p->remote_address = p->hostname = p->broadcast_address =
	    p->version = "";
#define INFO_STR(key, field) do {					\
	char *s_;							\
	if ((t = json_obj_get_go(&j, 0, key)) >= 0 &&			\
	    (s_ = json_get_str(&j, t, NULL)) != NULL) {			\
		p->field = ar_strdup(&op->ar, s_);			\
		free(s_);						\
	}								\
} while (0)
	INFO_STR("version", version);
	INFO_STR("broadcast_address", broadcast_address);
	INFO_STR("hostname", hostname);
#undef INFO_STR
	if ((t = json_obj_get_go(&j, 0, "http_port")) >= 0)
		(void)json_get_int64(&j, t, &p->http_port);
	if ((t = json_obj_get_go(&j, 0, "tcp_port")) >= 0)
		(void)json_get_int64(&j, t, &p->tcp_port);
	json_free(&j);
	return p;
}

/* GetNSQDProducers: /info then /stats of each nsqd. */
struct np {
	char		**addrs;
	size_t		  n;
	struct fan_res	 *info;
};

static void
nsqd_producers_stats(struct op *op, struct fan_res *r, size_t n)
{
	struct np *np = op->data;
	struct vec errs = { 0 }, topics;
	struct producer *p;
	struct ptopic *pt;
	char err[256];
	size_t i, k, ri = 0;

	memset(&op->producers, 0, sizeof(op->producers));
	for (i = 0; i < np->n; i++) {
		if ((p = info_producer(op, &np->info[i], &errs)) == NULL) {
			/* A node that answered has its /stats asked too. */
			if (np->info[i].err == NULL)
				ri++;
			continue;
		}
		/* The stats reply of this node. */
		if (ri >= n || r[ri].err != NULL) {
			if (ri < n)
				vec_push(&op->ar, &errs, (void *)r[ri].err);
			ri++;
			continue;
		}
		if (stats_parse(&op->ar, r[ri].body, r[ri].len, 0, &topics,
		    err, sizeof(err)) == -1) {
			vec_push(&op->ar, &errs, ar_strdup(&op->ar, err));
			ri++;
			continue;
		}
		ri++;
		for (k = 0; k < topics.n; k++) {
			pt = ar_alloc(&op->ar, sizeof(*pt));
			pt->topic = ((struct topic_stats *)
			    topics.v[k])->topic_name;
			vec_push(&op->ar, &p->topics, pt);
		}
		vec_push(&op->ar, &op->producers, p);
	}
	outcome(op, &errs, np->n, "nsqd");
	if (op->fatal != NULL)
		memset(&op->producers, 0, sizeof(op->producers));
	op->k(op);
}

static void
nsqd_producers_info(struct op *op, struct fan_res *r, size_t n)
{
	struct np *np = op->data;
	char **urls;
	size_t i, m = 0;

	np->info = r;
	urls = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(*urls));
	/* Only the nodes whose /info answered are asked for /stats. */
	for (i = 0; i < n; i++)
		if (r[i].err == NULL)
			urls[m++] = ar_printf(&op->ar, "http://%s/stats?"
			    "format=json&include_clients=false",
			    np->addrs[i]);
	fan(op, "GET", urls, m, nsqd_producers_stats);
}

void
ci_nsqd_producers(struct op *op, char **addrs, size_t n, op_fn *k)
{
	struct np *np = ar_alloc(&op->ar, sizeof(*np));

	np->addrs = addrs;
	np->n = n;
	op->data = np;
	op->k = k;
	fan(op, "GET", urls_for(op, addrs, n, "http://%s/info%s", ""), n,
	    nsqd_producers_info);
}

void
ci_producers(struct op *op, op_fn *k)
{
	struct admin_opts *o = op->a->o;

	if (o->lookupd.n > 0) {
		op->k = k;
		fan_get(op, &o->lookupd, "http://%s/nodes%s", "",
		    lookupd_nodes_done);
		return;
	}
	ci_nsqd_producers(op, o->nsqd.v, o->nsqd.n, k);
}

/* GetLookupdTopicProducers: union of /lookup by HTTP address. */
static void
lookupd_lookup_done(struct op *op, struct fan_res *r, size_t n)
{
	struct vec errs = { 0 }, got, keys = { 0 };
	struct producer *p;
	const char *key;
	size_t i, j, m;

	memset(&op->producers, 0, sizeof(op->producers));
	for (i = 0; i < n; i++) {
		if (reply_producers(op, &r[i], &errs, &got) == -1)
			continue;
		for (j = 0; j < got.n; j++) {
			p = got.v[j];
			key = producer_http_addr(&op->ar, p);
			for (m = 0; m < keys.n; m++)
				if (strcmp(keys.v[m], key) == 0)
					break;
			if (m < keys.n)
				continue;
			vec_push(&op->ar, &keys, (void *)key);
			vec_push(&op->ar, &op->producers, p);
		}
	}
	outcome(op, &errs, n, "nsqlookupd");
	if (op->fatal != NULL)
		memset(&op->producers, 0, sizeof(op->producers));
	op->k(op);
}

/* GetNSQDTopicProducers: the nsqd whose /stats has the topic, then /info. */
struct ntp {
	struct fan_res	*stats;
	size_t		*idx;
	struct vec	 errs;
};

static void
ntp_info(struct op *op, struct fan_res *r, size_t n)
{
	struct ntp *x = op->data;
	struct admin_opts *o = op->a->o;
	struct producer *p;
	size_t i;

	memset(&op->producers, 0, sizeof(op->producers));
	for (i = 0; i < n; i++) {
		const char *addr = o->nsqd.v[x->idx[i]];

		if ((p = info_producer(op, &r[i], &x->errs)) == NULL)
			continue;
		/* Go's fallback to the address asked, for old nsqd. */
		if (p->broadcast_address[0] == '\0' || p->hostname[0] ==
		    '\0') {
			const char *c = strrchr(addr, ':');
			char *h = ar_strndup(&op->ar, addr, c != NULL ?
			    (size_t)(c - addr) : strlen(addr));

			if (h[0] == '[') {
				h++;
				h[strlen(h) - 1] = '\0';
			}
			if (p->broadcast_address[0] == '\0') {
				p->broadcast_address = h;
				p->http_port = c != NULL ? atoi(c + 1) : 0;
			}
			if (p->hostname[0] == '\0')
				p->hostname = h;
		}
		p->topics.v = NULL;
		vec_push(&op->ar, &p->topics, ar_alloc(&op->ar,
		    sizeof(struct ptopic)));
		((struct ptopic *)p->topics.v[0])->topic = op->topic;
		vec_push(&op->ar, &op->producers, p);
	}
	outcome(op, &x->errs, o->nsqd.n, "nsqd");
	if (op->fatal != NULL)
		memset(&op->producers, 0, sizeof(op->producers));
	op->k(op);
}

static void
ntp_stats(struct op *op, struct fan_res *r, size_t n)
{
	struct ntp *x = op->data;
	struct admin_opts *o = op->a->o;
	struct vec topics;
	char err[256], **urls;
	size_t i, k, m = 0;

	x->stats = r;
	x->idx = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(size_t));
	urls = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(*urls));
	for (i = 0; i < n; i++) {
		if (r[i].err != NULL) {
			vec_push(&op->ar, &x->errs, (void *)r[i].err);
			continue;
		}
		if (stats_parse(&op->ar, r[i].body, r[i].len, 0, &topics,
		    err, sizeof(err)) == -1) {
			vec_push(&op->ar, &x->errs, ar_strdup(&op->ar, err));
			continue;
		}
		for (k = 0; k < topics.n; k++)
			if (strcmp(((struct topic_stats *)
			    topics.v[k])->topic_name, op->topic) == 0)
				break;
		if (k == topics.n)
			continue;
		x->idx[m] = i;
		urls[m++] = ar_printf(&op->ar, "http://%s/info", o->nsqd.v[i]);
	}
	fan(op, "GET", urls, m, ntp_info);
}

void
ci_topic_producers(struct op *op, op_fn *k)
{
	struct admin_opts *o = op->a->o;
	struct ntp *x;

	op->k = k;
	if (o->lookupd.n > 0) {
		fan_get(op, &o->lookupd, "http://%s/lookup?topic=%s",
		    qesc(op, op->topic), lookupd_lookup_done);
		return;
	}
	x = ar_alloc(&op->ar, sizeof(*x));
	op->data = x;
	fan_get(op, &o->nsqd,
	    "http://%s/stats?format=json&topic=%s&include_clients=false",
	    qesc(op, op->topic), ntp_stats);
}

/* GetNSQDStats. */
struct nstats {
	const char	*topic, *channel;
	const char	**addrs;
	struct producer	**prods;
};

static void
nsqd_stats_done(struct op *op, struct fan_res *r, size_t n)
{
	struct nstats *x = op->data;
	struct vec errs = { 0 }, topics;
	struct topic_stats *t;
	struct channel_stats *c, *cs;
	struct client_stats *cl;
	const char *key;
	char err[256];
	size_t i, k, m, q;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&op->topics, 0, sizeof(op->topics));
	memset(&op->chmap, 0, sizeof(op->chmap));
	memset(&op->chmap_keys, 0, sizeof(op->chmap_keys));
	for (i = 0; i < n; i++) {
		const char *addr = x->addrs[i];

		if (r[i].err != NULL) {
			vec_push(&op->ar, &errs, (void *)r[i].err);
			continue;
		}
		if (stats_parse(&op->ar, r[i].body, r[i].len, now.tv_sec,
		    &topics, err, sizeof(err)) == -1) {
			vec_push(&op->ar, &errs, ar_strdup(&op->ar, err));
			continue;
		}
		for (k = 0; k < topics.n; k++) {
			t = topics.v[k];
			t->node = addr;
			t->hostname = x->prods[i]->hostname;
			t->memory_depth = wsub(t->depth, t->backend_depth);
			if (x->topic[0] != '\0' &&
			    strcmp(t->topic_name, x->topic) != 0)
				continue;
			vec_push(&op->ar, &op->topics, t);
			for (m = 0; m < t->channels.n; m++) {
				c = t->channels.v[m];
				c->node = addr;
				c->hostname = x->prods[i]->hostname;
				c->topic_name = t->topic_name;
				c->memory_depth = wsub(c->depth,
				    c->backend_depth);
				key = x->topic[0] != '\0' ? c->channel_name :
				    ar_printf(&op->ar, "%s:%s", t->topic_name,
				    c->channel_name);
				cs = NULL;
				for (q = 0; q < op->chmap_keys.n; q++)
					if (strcmp(op->chmap_keys.v[q],
					    key) == 0) {
						cs = op->chmap.v[q];
						break;
					}
				if (cs == NULL) {
					cs = ar_alloc(&op->ar, sizeof(*cs));
					cs->node = addr;
					cs->hostname = "";
					cs->topic_name = t->topic_name;
					cs->channel_name = c->channel_name;
					vec_push(&op->ar, &op->chmap_keys,
					    (void *)key);
					vec_push(&op->ar, &op->chmap, cs);
				}
				for (q = 0; q < c->clients.n; q++) {
					cl = c->clients.v[q];
					cl->s[0] = addr;
				}
				channel_stats_add(&op->ar, cs, c);
			}
		}
	}
	sort_by_host(&op->topics, BY_TOPIC);
	outcome(op, &errs, n, "nsqd");
	if (op->fatal != NULL) {
		memset(&op->topics, 0, sizeof(op->topics));
		memset(&op->chmap, 0, sizeof(op->chmap));
		memset(&op->chmap_keys, 0, sizeof(op->chmap_keys));
	}
	op->k(op);
}

void
ci_nsqd_stats(struct op *op, const char *topic, const char *channel,
    bool clients, op_fn *k)
{
	struct nstats *x = ar_alloc(&op->ar, sizeof(*x));
	size_t i, n = op->producers.n;
	char **urls;

	x->topic = topic != NULL ? topic : "";
	x->channel = channel != NULL ? channel : "";
	x->addrs = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(char *));
	x->prods = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(void *));
	urls = ar_alloc(&op->ar, (n > 0 ? n : 1) * sizeof(char *));
	for (i = 0; i < n; i++) {
		x->prods[i] = op->producers.v[i];
		x->addrs[i] = producer_http_addr(&op->ar, x->prods[i]);
		urls[i] = ar_printf(&op->ar, "http://%s/stats?format=json%s%s"
		    "%s%s%s", x->addrs[i],
		    x->topic[0] != '\0' ? "&topic=" : "",
		    x->topic[0] != '\0' ? qesc(op, x->topic) : "",
		    x->topic[0] != '\0' && x->channel[0] != '\0' ?
		    "&channel=" : "",
		    x->topic[0] != '\0' && x->channel[0] != '\0' ?
		    qesc(op, x->channel) : "",
		    clients ? "" : "&include_clients=false");
	}
	op->data = x;
	op->k = k;
	fan(op, "GET", urls, n, nsqd_stats_done);
}

/* POSTs: errors only, never a "failed to query any". */
static void
post_done(struct op *op, struct fan_res *r, size_t n)
{
	size_t i;

	op->fatal = NULL;
	memset(&op->errs, 0, sizeof(op->errs));
	for (i = 0; i < n; i++)
		if (r[i].err != NULL)
			vec_push(&op->ar, &op->errs, (void *)r[i].err);
	op->k(op);
}

void
ci_lookupd_post(struct op *op, const char *uri, const char *qs, op_fn *k)
{
	struct admin_opts *o = op->a->o;
	char **urls;
	size_t i;

	urls = ar_alloc(&op->ar, (o->lookupd.n + 1) * sizeof(char *));
	for (i = 0; i < o->lookupd.n; i++)
		urls[i] = ar_printf(&op->ar, "http://%s/%s?%s",
		    o->lookupd.v[i], uri, qs);
	op->k = k;
	fan(op, "POST", urls, o->lookupd.n, post_done);
}

void
ci_producers_post(struct op *op, const char *uri, const char *qs, op_fn *k)
{
	char **urls;
	size_t i, n = op->producers.n;

	urls = ar_alloc(&op->ar, (n + 1) * sizeof(char *));
	for (i = 0; i < n; i++)
		urls[i] = ar_printf(&op->ar, "http://%s/%s?%s",
		    producer_http_addr(&op->ar, op->producers.v[i]), uri, qs);
	op->k = k;
	fan(op, "POST", urls, n, post_done);
}
