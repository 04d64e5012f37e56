/*
 * nsqd's /stats and nsqlookupd's producers read into Go clusterinfo's
 * structs, their aggregation (TopicStats.Add, ChannelStats.Add,
 * E2eProcessingLatencyAggregate.Add) and their JSON, key for key.
 *
 * The aggregation shares pointers exactly as Go's does: the first node's
 * channel row becomes the topic's aggregate row, and is then also what
 * that node's own row shows.  Go nsqadmin's page and scripts see that
 * shape, so it is kept.  Everything lives in the caller's arena.
 *
 * This file knows no socket or loop: tests/fuzz/fuzz_admin_stats.c feeds
 * stats_parse() and producers_parse() directly.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "json.h"
#include "xmalloc.h"

/* Arena blocks: at least 16 KiB, or the one allocation that is bigger. */
struct ablk {
	struct ablk	*next;
	size_t		 used, cap;
	max_align_t	 data[];
};

void *
ar_alloc(struct arena *a, size_t n)
{
	struct ablk *b = a->head;
	size_t al = sizeof(max_align_t), cap;
	void *p;

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (b == NULL || b->cap - b->used < n) {
		cap = n > 16384 ? n : 16384;
		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *
ar_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = ar_alloc(a, n + 1);

	/* s may be NULL when n is 0 (an empty buffer's data). */
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
ar_strdup(struct arena *a, const char *s)
{
	return ar_strndup(a, s, strlen(s));
}

char *
ar_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *s, *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = ar_strndup(a, s, (size_t)n);
	free(s);
	return p;
}

void
ar_free(struct arena *a)
{
	struct ablk *b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

void
vec_make(struct arena *a, struct vec *v)
{
	if (v->v == NULL) {
		v->cap = 4;
		v->v = ar_alloc(a, v->cap * sizeof(void *));
	}
}

void
vec_push(struct arena *a, struct vec *v, void *p)
{
	void **nv;

	if (v->v == NULL || v->n == v->cap) {
		v->cap = v->cap > 0 ? v->cap * 2 : 4;
		nv = ar_alloc(a, v->cap * sizeof(void *));
		if (v->n > 0)
			memcpy(nv, v->v, v->n * sizeof(void *));
		v->v = nv;
	}
	v->v[v->n++] = p;
}

/* Go's ClientStats, in its JSON order. */
enum { K_S, K_I, K_B, K_CONNECTED };
static const struct cfield {
	const char	*name;
	int		 kind, idx;
} cfields[] = {
	{ "node", K_S, 0 },
	{ "remote_address", K_S, 1 },
	{ "version", K_S, 2 },
	{ "client_id", K_S, 3 },
	{ "hostname", K_S, 4 },
	{ "user_agent", K_S, 5 },
	{ "connect_ts", K_I, 0 },
	{ "connected", K_CONNECTED, 1 },
	{ "in_flight_count", K_I, 2 },
	{ "ready_count", K_I, 3 },
	{ "finish_count", K_I, 4 },
	{ "requeue_count", K_I, 5 },
	{ "message_count", K_I, 6 },
	{ "sample_rate", K_I, 7 },
	{ "deflate", K_B, 0 },
	{ "snappy", K_B, 1 },
	{ "authed", K_B, 2 },
	{ "auth_identity", K_S, 6 },
	{ "auth_identity_url", K_S, 7 },
	{ "tls", K_B, 3 },
	{ "tls_cipher_suite", K_S, 8 },
	{ "tls_version", K_S, 9 },
	{ "tls_negotiated_protocol", K_S, 10 },
	{ "tls_negotiated_protocol_is_mutual", K_B, 4 },
};
#define CS_HOSTNAME	4

/*
 * The strings and numbers of Go's ChannelStats and TopicStats, in their
 * JSON order (the lists, paused and the latency follow them): read,
 * written and summed by these tables.
 */
struct sfield {
	const char	*name;
	int		 kind;	/* K_S or K_I */
	size_t		 off;
};
#define CHF(k, f)	{ #f, k, offsetof(struct channel_stats, f) }
#define TPF(k, f)	{ #f, k, offsetof(struct topic_stats, f) }
static const struct sfield chfields[] = {
	CHF(K_S, node), CHF(K_S, hostname), CHF(K_S, topic_name),
	CHF(K_S, channel_name), CHF(K_I, depth), CHF(K_I, memory_depth),
	CHF(K_I, backend_depth), CHF(K_I, in_flight_count),
	CHF(K_I, deferred_count), CHF(K_I, requeue_count),
	CHF(K_I, timeout_count), CHF(K_I, message_count),
	CHF(K_I, client_count),
};
static const struct sfield tpfields[] = {
	TPF(K_S, node), TPF(K_S, hostname), TPF(K_S, topic_name),
	TPF(K_I, depth), TPF(K_I, memory_depth), TPF(K_I, backend_depth),
	TPF(K_I, message_count),
};
#define NFIELDS(t)	(sizeof(t) / sizeof((t)[0]))
#define FSTR(o, f)	((const char **)(void *)((char *)(o) + (f)->off))
#define FINT(o, f)	((int64_t *)(void *)((char *)(o) + (f)->off))
#define CFSTR(o, f)	(*(const char *const *)(const void *)\
			    ((const char *)(o) + (f)->off))
#define CFINT(o, f)	(*(const int64_t *)(const void *)\
			    ((const char *)(o) + (f)->off))

struct pctx {
	struct arena	*ar;
	struct json	*j;
	char		*err;
	size_t		 errlen;
	int64_t		 now_s;
};

static int
bad(struct pctx *p, const char *what, const char *key)
{
	snprintf(p->err, p->errlen, "json: cannot unmarshal %s into Go "
	    "struct field .%s", what, key);
	return -1;
}

static bool
is_null(struct pctx *p, int t)
{
	return json_type(p->j, t) == JSON_PRIMITIVE &&
	    json_prim_kind(p->j, t) == 'n';
}

/* Go's Unmarshal into a string field: null leaves it, else a string. */
static int
get_str(struct pctx *p, int obj, const char *key, const char **out)
{
	int t = json_obj_get_go(p->j, obj, key);
	size_t n;
	char *s;

	if (t < 0 || is_null(p, t))
		return 0;
	if ((s = json_get_str(p->j, t, &n)) == NULL)
		return bad(p, "value", key);
	*out = ar_strndup(p->ar, s, n);
	free(s);
	return 0;
}

static int
get_int(struct pctx *p, int obj, const char *key, int64_t *out)
{
	int t = json_obj_get_go(p->j, obj, key);

	if (t < 0 || is_null(p, t))
		return 0;
	if (json_get_int64(p->j, t, out) == -1)
		return bad(p, "value", key);
	return 0;
}

static int
get_bool(struct pctx *p, int obj, const char *key, bool *out)
{
	int t = json_obj_get_go(p->j, obj, key);

	if (t < 0 || is_null(p, t))
		return 0;
	if (json_get_bool(p->j, t, out) == -1)
		return bad(p, "value", key);
	return 0;
}

/* An array member: -1 absent or null (the slice stays nil), or its token. */
static int
get_arr(struct pctx *p, int obj, const char *key, int *out)
{
	int t = json_obj_get_go(p->j, obj, key);

	*out = -1;
	if (t < 0 || is_null(p, t))
		return 0;
	if (json_type(p->j, t) != JSON_ARRAY)
		return bad(p, "value", key);
	*out = t;
	return 0;
}

static int
parse_e2e(struct pctx *p, int obj, struct e2e **out)
{
	struct e2e *e;
	struct e2e_pct *pc;
	int t, arr, i, k, n;
	double d;

	t = json_obj_get_go(p->j, obj, "e2e_processing_latency");
	if (t < 0 || is_null(p, t))
		return 0;
	if (json_type(p->j, t) != JSON_OBJECT)
		return bad(p, "value", "e2e_processing_latency");
	e = ar_alloc(p->ar, sizeof(*e));
	e->topic = e->channel = e->host = "";
	if (get_int(p, t, "count", &e->count) == -1 ||
	    get_str(p, t, "topic", &e->topic) == -1 ||
	    get_str(p, t, "channel", &e->channel) == -1 ||
	    get_str(p, t, "host", &e->host) == -1 ||
	    get_arr(p, t, "percentiles", &arr) == -1)
		return -1;
	if (arr >= 0) {
		vec_make(p->ar, &e->pcts);
		n = json_size(p->j, arr);
		for (i = 0; i < n; i++) {
			int o = json_arr_at(p->j, arr, i);

			if (is_null(p, o)) {
				/* A nil map: every key reads 0. */
				pc = ar_alloc(p->ar, sizeof(*pc));
				pc->has_value = true;
				pc->count = (double)e->count;
				vec_push(p->ar, &e->pcts, pc);
				continue;
			}
			if (json_type(p->j, o) != JSON_OBJECT)
				return bad(p, "value", "percentiles");
			for (k = 0; k < json_size(p->j, o); k++) {
				int v = json_obj_key_at(p->j, o, k) + 1;

				if (json_get_double(p->j, v, &d) == -1)
					return bad(p, "value", "percentiles");
			}
			pc = ar_alloc(p->ar, sizeof(*pc));
			pc->has_value = true;
			t = json_obj_get(p->j, o, "quantile");
			if (t >= 0)
				(void)json_get_double(p->j, t, &pc->quantile);
			t = json_obj_get(p->j, o, "value");
			if (t >= 0)
				(void)json_get_double(p->j, t, &pc->value);
			/* As Go's UnmarshalJSON fills them in. */
			pc->min = pc->max = pc->average = pc->value;
			pc->count = (double)e->count;
			vec_push(p->ar, &e->pcts, pc);
		}
	}
	*out = e;
	return 0;
}

/* Reads a table's fields of obj into o (strings default to ""). */
static int
parse_fields(struct pctx *p, int obj, void *o, const struct sfield *f,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].kind == K_S)
			*FSTR(o, &f[i]) = "";
	for (i = 0; i < n; i++)
		if ((f[i].kind == K_S ? get_str(p, obj, f[i].name,
		    FSTR(o, &f[i])) : get_int(p, obj, f[i].name,
		    FINT(o, &f[i]))) == -1)
			return -1;
	return 0;
}

/* Each element of the array arr (none if -1) by one, pushed on v. */
static int
parse_list(struct pctx *p, int arr, struct vec *v,
    int (*one)(struct pctx *, int, void **))
{
	void *e;
	int i;

	if (arr < 0)
		return 0;
	vec_make(p->ar, v);
	for (i = 0; i < json_size(p->j, arr); i++) {
		if (one(p, json_arr_at(p->j, arr, i), &e) == -1)
			return -1;
		vec_push(p->ar, v, e);
	}
	return 0;
}

static int
parse_client(struct pctx *p, int obj, void **out)
{
	struct client_stats *c;
	size_t i;

	if (json_type(p->j, obj) != JSON_OBJECT)
		return bad(p, "value", "clients");
	c = ar_alloc(p->ar, sizeof(*c));
	for (i = 0; i < CS_NSTR; i++)
		c->s[i] = "";
	for (i = 0; i < sizeof(cfields) / sizeof(cfields[0]); i++) {
		const struct cfield *f = &cfields[i];
		int r = 0;

		if (f->kind == K_S)
			r = get_str(p, obj, f->name, &c->s[f->idx]);
		else if (f->kind == K_I)
			r = get_int(p, obj, f->name, &c->i[f->idx]);
		else if (f->kind == K_B)
			r = get_bool(p, obj, f->name, &c->b[f->idx]);
		if (r == -1)
			return -1;
	}
	/*
	 * time.Now().Truncate(time.Second).Sub(time.Unix(connect_ts, 0)),
	 * saturated as Go's Time.Sub is.
	 */
	{
		__int128 d = ((__int128)p->now_s - c->i[0]) * 1000000000;

		c->i[1] = d > INT64_MAX ? INT64_MAX : d < INT64_MIN ?
		    INT64_MIN : (int64_t)d;
	}
	c->hostname = c->s[CS_HOSTNAME];
	*out = c;
	return 0;
}

/*
 * What a channel and a topic of /stats share: obj (in the list named
 * in) an object, the table's fields, paused, the latency and the list
 * of children named list (its token in arr, -1 if null).
 */
static int
parse_queue(struct pctx *p, int obj, const char *in, void *o,
    const struct sfield *f, size_t n, bool *paused, struct e2e **e2e,
    const char *list, int *arr)
{
	if (json_type(p->j, obj) != JSON_OBJECT)
		return bad(p, "value", in);
	if (parse_fields(p, obj, o, f, n) == -1 ||
	    get_bool(p, obj, "paused", paused) == -1 ||
	    parse_e2e(p, obj, e2e) == -1 ||
	    get_arr(p, obj, list, arr) == -1)
		return -1;
	return 0;
}

static int
parse_channel(struct pctx *p, int obj, void **out)
{
	struct channel_stats *c;
	int arr;

	c = ar_alloc(p->ar, sizeof(*c));
	if (parse_queue(p, obj, "channels", c, chfields, NFIELDS(chfields),
	    &c->paused, &c->e2e, "clients", &arr) == -1)
		return -1;
	if (parse_list(p, arr, &c->clients, parse_client) == -1)
		return -1;
	*out = c;
	return 0;
}

static int
parse_topic(struct pctx *p, int obj, void **out)
{
	struct topic_stats *t;
	int arr;

	t = ar_alloc(p->ar, sizeof(*t));
	if (parse_queue(p, obj, "topics", t, tpfields, NFIELDS(tpfields),
	    &t->paused, &t->e2e, "channels", &arr) == -1)
		return -1;
	if (parse_list(p, arr, &t->channels, parse_channel) == -1)
		return -1;
	*out = t;
	return 0;
}

int
stats_parse(struct arena *ar, const char *body, size_t len, int64_t now_s,
    struct vec *topics, char *err, size_t errlen)
{
	struct json j;
	struct pctx p = { ar, &j, err, errlen, now_s };
	int arr, r = -1;

	memset(topics, 0, sizeof(*topics));
	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT) {
		if (!is_null(&p, 0))
			bad(&p, "value", "");
		else
			r = 0;
		goto done;
	}
	if (get_arr(&p, 0, "topics", &arr) == -1)
		goto done;
	if (parse_list(&p, arr, topics, parse_topic) == -1)
		goto done;
	r = 0;
done:
	json_free(&j);
	return r;
}

static void
parse_version(struct producer *pr)
{
	const char *s = pr->version;
	char *end;
	long v;
	int i;

	memset(pr->ver, 0, sizeof(pr->ver));
	pr->ver_pre = false;
	for (i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			goto badv;
		v = strtol(s, &end, 10);
		if (v < 0 || v > 1000000)
			goto badv;
		pr->ver[i] = (int)v;
		s = end;
		if (i < 2 && *s++ != '.')
			goto badv;
	}
	if (*s == '-')
		pr->ver_pre = true;
	else if (*s != '\0' && *s != '+')
		goto badv;
	return;
badv:
	memset(pr->ver, 0, sizeof(pr->ver));
	pr->ver_pre = false;
}

int
producer_ver_cmp(const struct producer *a, const struct producer *b)
{
	int i;

	for (i = 0; i < 3; i++)
		if (a->ver[i] != b->ver[i])
			return a->ver[i] < b->ver[i] ? -1 : 1;
	if (a->ver_pre != b->ver_pre)
		return a->ver_pre ? -1 : 1;
	return 0;
}

int
producers_parse(struct arena *ar, const char *body, size_t len,
    struct vec *out, char *err, size_t errlen)
{
	struct json j;
	struct pctx p = { ar, &j, err, errlen, 0 };
	struct producer *pr;
	struct ptopic *pt;
	int arr, tarr, tomb, i, k, r = -1;

	memset(out, 0, sizeof(*out));
	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT) {
		if (!is_null(&p, 0))
			bad(&p, "value", "");
		else
			r = 0;
		goto done;
	}
	if (get_arr(&p, 0, "producers", &arr) == -1)
		goto done;
	for (i = 0; arr >= 0 && i < json_size(&j, arr); i++) {
		int o = json_arr_at(&j, arr, i);

		if (json_type(&j, o) != JSON_OBJECT) {
			bad(&p, "value", "producers");
			goto done;
		}
		pr = ar_alloc(ar, sizeof(*pr));
		pr->remote_address = pr->hostname = pr->broadcast_address =
		    pr->version = "";
		if (get_str(&p, o, "remote_address", &pr->remote_address) ==
		    -1 || get_str(&p, o, "hostname", &pr->hostname) == -1 ||
		    get_str(&p, o, "broadcast_address",
		    &pr->broadcast_address) == -1 ||
		    get_int(&p, o, "tcp_port", &pr->tcp_port) == -1 ||
		    get_int(&p, o, "http_port", &pr->http_port) == -1 ||
		    get_str(&p, o, "version", &pr->version) == -1 ||
		    get_arr(&p, o, "topics", &tarr) == -1 ||
		    get_arr(&p, o, "tombstones", &tomb) == -1)
			goto done;
		for (k = 0; tarr >= 0 && k < json_size(&j, tarr); k++) {
			int tt = json_arr_at(&j, tarr, k), bt;
			char *s;

			pt = ar_alloc(ar, sizeof(*pt));
			if ((s = json_get_str(&j, tt, NULL)) == NULL) {
				bad(&p, "value", "topics");
				goto done;
			}
			pt->topic = ar_strdup(ar, s);
			free(s);
			/* Go indexes tombstones[i]: a shorter list panics. */
			bt = tomb >= 0 ? json_arr_at(&j, tomb, k) : -1;
			if (bt < 0 || json_get_bool(&j, bt, &pt->tombstoned)
			    == -1) {
				snprintf(err, errlen, "runtime error: index "
				    "out of range [%d]", k);
				goto done;
			}
			vec_push(ar, &pr->topics, pt);
		}
		parse_version(pr);
		vec_push(ar, out, pr);
	}
	r = 0;
done:
	json_free(&j);
	return r;
}

const char *
producer_http_addr(struct arena *ar, const struct producer *p)
{
	if (strchr(p->broadcast_address, ':') != NULL)
		return ar_printf(ar, "[%s]:%lld", p->broadcast_address,
		    (long long)p->http_port);
	return ar_printf(ar, "%s:%lld", p->broadcast_address,
	    (long long)p->http_port);
}

const char *
producer_tcp_addr(struct arena *ar, const struct producer *p)
{
	if (strchr(p->broadcast_address, ':') != NULL)
		return ar_printf(ar, "[%s]:%lld", p->broadcast_address,
		    (long long)p->tcp_port);
	return ar_printf(ar, "%s:%lld", p->broadcast_address,
	    (long long)p->tcp_port);
}

static const char *
host_of(const void *p, int kind)
{
	switch (kind) {
	case BY_TOPIC:
		return ((const struct topic_stats *)p)->hostname;
	case BY_CHANNEL:
		return ((const struct channel_stats *)p)->hostname;
	case BY_CLIENT:
		return ((const struct client_stats *)p)->hostname;
	default:
		return ((const struct producer *)p)->hostname;
	}
}

void
sort_by_host(struct vec *v, int kind)
{
	size_t i, j;
	void *x;

	/* Insertion sort: what Go's sort.Sort does on short lists. */
	for (i = 1; i < v->n; i++) {
		x = v->v[i];
		for (j = i; j > 0 && strcmp(host_of(x, kind),
		    host_of(v->v[j - 1], kind)) < 0; j--)
			v->v[j] = v->v[j - 1];
		v->v[j] = x;
	}
}

/* E2eProcessingLatencyAggregate.Add, min's quirk included. */
static void
e2e_add(struct arena *ar, struct e2e *e, const struct e2e *e2)
{
	struct e2e_pct *p, *v;
	size_t i, j;

	e->host = "*";
	if (e2 == NULL)
		return;
	e->count = wadd(e->count, e2->count);
	for (i = 0; i < e2->pcts.n; i++) {
		v = e2->pcts.v[i];
		p = NULL;
		for (j = 0; j < e->pcts.n; j++)
			if (((struct e2e_pct *)e->pcts.v[j])->quantile ==
			    v->quantile) {
				p = e->pcts.v[j];
				break;
			}
		if (p == NULL) {
			p = ar_alloc(ar, sizeof(*p));
			p->quantile = v->quantile;
			vec_push(ar, &e->pcts, p);
		}
		p->max = fmax(v->max, p->max);
		p->min = fmin(v->max, p->max);
		p->count += v->count;
		if (p->count == 0) {
			p->average = 0;
			continue;
		}
		p->average += (v->average - p->average) * v->count / p->count;
	}
}

/* Sums a table's numbers of a into o. */
static void
add_fields(void *o, const void *a, const struct sfield *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].kind == K_I)
			*FINT(o, &f[i]) = wadd(*FINT(o, &f[i]),
			    CFINT(a, &f[i]));
}

void
channel_stats_add(struct arena *ar, struct channel_stats *c,
    struct channel_stats *a)
{
	size_t i, n;

	/* A row is never summed into itself (it would grow without end). */
	if (c == a)
		return;
	c->node = "*";
	add_fields(c, a, chfields, NFIELDS(chfields));
	if (a->paused)
		c->paused = true;
	vec_push(ar, &c->nodes, a);
	sort_by_host(&c->nodes, BY_CHANNEL);
	if (c->e2e == NULL) {
		c->e2e = ar_alloc(ar, sizeof(*c->e2e));
		c->e2e->host = c->node;
		c->e2e->topic = c->topic_name;
		c->e2e->channel = c->channel_name;
	}
	e2e_add(ar, c->e2e, a->e2e);
	n = a->clients.n;
	for (i = 0; i < n; i++)
		vec_push(ar, &c->clients, a->clients.v[i]);
	sort_by_host(&c->clients, BY_CLIENT);
}

void
topic_stats_add(struct arena *ar, struct topic_stats *t,
    struct topic_stats *a)
{
	struct channel_stats *ac, *c;
	size_t i, j, n;
	bool found;

	if (t == a)
		return;
	t->node = "*";
	add_fields(t, a, tpfields, NFIELDS(tpfields));
	if (a->paused)
		t->paused = true;
	n = a->channels.n;
	for (i = 0; i < n; i++) {
		ac = a->channels.v[i];
		found = false;
		for (j = 0; j < t->channels.n; j++) {
			c = t->channels.v[j];
			if (strcmp(ac->channel_name, c->channel_name) == 0) {
				found = true;
				channel_stats_add(ar, c, ac);
			}
		}
		if (!found)
			vec_push(ar, &t->channels, ac);
	}
	vec_push(ar, &t->nodes, a);
	sort_by_host(&t->nodes, BY_TOPIC);
	if (t->e2e == NULL) {
		t->e2e = ar_alloc(ar, sizeof(*t->e2e));
		t->e2e->host = t->node;
		t->e2e->topic = t->topic_name;
		t->e2e->channel = "";
	}
	e2e_add(ar, t->e2e, a->e2e);
}

static void
jw_e2e(struct jw *w, const struct e2e *e)
{
	const struct e2e_pct *p;
	size_t i;

	if (e == NULL) {
		jw_null(w);
		return;
	}
	jw_obj_begin(w);
	jw_key(w, "count");
	jw_int(w, e->count);
	jw_key(w, "percentiles");
	if (e->pcts.v == NULL)
		jw_null(w);
	else {
		jw_arr_begin(w);
		for (i = 0; i < e->pcts.n; i++) {
			p = e->pcts.v[i];
			/* A Go map: keys in sorted order. */
			jw_obj_begin(w);
			jw_key(w, "average");
			jw_double(w, p->average);
			jw_key(w, "count");
			jw_double(w, p->count);
			jw_key(w, "max");
			jw_double(w, p->max);
			jw_key(w, "min");
			jw_double(w, p->min);
			jw_key(w, "quantile");
			jw_double(w, p->quantile);
			if (p->has_value) {
				jw_key(w, "value");
				jw_double(w, p->value);
			}
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_key(w, "topic");
	jw_str(w, e->topic);
	jw_key(w, "channel");
	jw_str(w, e->channel);
	jw_key(w, "host");
	jw_str(w, e->host);
	jw_obj_end(w);
}

static void
jw_client(struct jw *w, const struct client_stats *c)
{
	size_t i;

	jw_obj_begin(w);
	for (i = 0; i < sizeof(cfields) / sizeof(cfields[0]); i++) {
		const struct cfield *f = &cfields[i];

		jw_key(w, f->name);
		if (f->kind == K_S)
			jw_str(w, c->s[f->idx]);
		else if (f->kind == K_B)
			jw_bool(w, c->b[f->idx]);
		else
			jw_int(w, c->i[f->idx]);
	}
	jw_obj_end(w);
}

/* Writes a table's fields of o as members. */
static void
jw_fields(struct jw *w, const void *o, const struct sfield *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		jw_key(w, f[i].name);
		if (f[i].kind == K_S)
			jw_str(w, CFSTR(o, &f[i]));
		else
			jw_int(w, CFINT(o, &f[i]));
	}
}

/* The rows of a vec, as jw_vec calls them. */
static void
jw_client_row(struct jw *w, const void *r)
{
	jw_client(w, r);
}

static void
jw_channel_row(struct jw *w, const void *r)
{
	jw_channel(w, r);
}

static void
jw_topic_row(struct jw *w, const void *r)
{
	jw_topic(w, r);
}

/* KEY: each row of v written by row, or null when v was never made. */
static void
jw_vec(struct jw *w, const char *key, const struct vec *v,
    void (*row)(struct jw *, const void *))
{
	size_t i;

	jw_key(w, key);
	if (v->v == NULL) {
		jw_null(w);
		return;
	}
	jw_arr_begin(w);
	for (i = 0; i < v->n; i++)
		row(w, v->v[i]);
	jw_arr_end(w);
}

void
jw_channel_members(struct jw *w, const struct channel_stats *c)
{
	jw_fields(w, c, chfields, NFIELDS(chfields));
	jw_vec(w, "nodes", &c->nodes, jw_channel_row);
	jw_vec(w, "clients", &c->clients, jw_client_row);
	jw_key(w, "paused");
	jw_bool(w, c->paused);
	jw_key(w, "e2e_processing_latency");
	jw_e2e(w, c->e2e);
}

void
jw_channel(struct jw *w, const struct channel_stats *c)
{
	jw_obj_begin(w);
	jw_channel_members(w, c);
	jw_obj_end(w);
}

void
jw_topic_members(struct jw *w, const struct topic_stats *t)
{
	jw_fields(w, t, tpfields, NFIELDS(tpfields));
	jw_vec(w, "nodes", &t->nodes, jw_topic_row);
	jw_vec(w, "channels", &t->channels, jw_channel_row);
	jw_key(w, "paused");
	jw_bool(w, t->paused);
	jw_key(w, "e2e_processing_latency");
	jw_e2e(w, t->e2e);
}

void
jw_topic(struct jw *w, const struct topic_stats *t)
{
	jw_obj_begin(w);
	jw_topic_members(w, t);
	jw_obj_end(w);
}

void
jw_strvec(struct jw *w, const struct vec *v)
{
	size_t i;

	if (v->v == NULL) {
		jw_null(w);
		return;
	}
	jw_arr_begin(w);
	for (i = 0; i < v->n; i++)
		jw_str(w, v->v[i]);
	jw_arr_end(w);
}

void
jw_producer(struct jw *w, const struct producer *p)
{
	const struct ptopic *t;
	size_t i;

	jw_obj_begin(w);
	jw_key(w, "remote_addresses");
	jw_strvec(w, &p->remote_addresses);
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
	jw_key(w, "topics");
	if (p->topics.v == NULL)
		jw_null(w);
	else {
		jw_arr_begin(w);
		for (i = 0; i < p->topics.n; i++) {
			t = p->topics.v[i];
			jw_obj_begin(w);
			jw_key(w, "topic");
			jw_str(w, t->topic);
			jw_key(w, "tombstoned");
			jw_bool(w, t->tombstoned);
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	jw_key(w, "out_of_date");
	jw_bool(w, p->out_of_date);
	jw_obj_end(w);
}
