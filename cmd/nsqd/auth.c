/*
 * Authorization against --auth-http-address servers, as Go nsqd 1.3.0's
 * internal/auth/authorizations.go (and --auth-http-request-method, which
 * Go added after 1.3.0: GET carries the values in the query, POST as
 * the JSON of Go's url.Values, {"key":["value"]}).  The query runs on
 * lib/hclient, so a slow or dead auth server holds up only the client
 * whose AUTH (or whose expired authorization) waits for it.
 *
 * Go decodes the reply with encoding/json into its State struct: keys
 * match case-insensitively, a value of the wrong type fails the whole
 * reply, null leaves the zero value.  Patterns are Go regexps matched
 * anywhere in the name (regexp.MatchString): lib/regex gives RE2's
 * meaning on PCRE2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth.h"
#include "buffer.h"
#include "hclient.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "nsqd.h"
#include "rand.h"
#include "regex.h"
#include "text.h"
#include "xmalloc.h"

/* A reply larger than this is refused (Go reads any size). */
#define AUTH_MAX_REPLY	(1 << 20)

/* A string field or array element: string or null; -1 for other types. */
static int
get_str(const struct json *j, int tok, char **out)
{
	if (tok == -1 || json_prim_kind(j, tok) == 'n') {
		*out = xstrdup("");
		return 0;
	}
	if (json_type(j, tok) != JSON_STRING)
		return -1;
	*out = json_get_str(j, tok, NULL);
	return 0;
}

/* A []string field: an array of strings (or nulls), or null. */
static int
get_strs(const struct json *j, int tok, char ***out, size_t *n)
{
	int i, k;

	*out = NULL;
	*n = 0;
	if (tok == -1 || json_prim_kind(j, tok) == 'n')
		return 0;
	if (json_type(j, tok) != JSON_ARRAY)
		return -1;
	k = json_size(j, tok);
	*out = xcalloc((size_t)k + 1, sizeof(char *));
	for (i = 0; i < k; i++) {
		if (get_str(j, json_arr_at(j, tok, i), &(*out)[i]) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

static void
free_strs(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
auth_state_free(struct auth_state *st)
{
	size_t i, k;

	if (st == NULL)
		return;
	for (i = 0; i < st->nperms; i++) {
		re_free(st->perms[i].topic);
		for (k = 0; k < st->perms[i].nchannels; k++)
			re_free(st->perms[i].channels[k]);
		free(st->perms[i].channels);
	}
	free(st->perms);
	free(st->identity);
	free(st->identity_url);
	free(st);
}

/*
 * One authorization object (or null) into p, validated in Go's order:
 * permissions, the topic pattern, the channel patterns.
 */
static int
parse_perm(const struct json *j, int tok, struct auth_perm *p, char *err,
    size_t errlen)
{
	char *topic = NULL, **chans = NULL, **perms = NULL, rerr[200];
	size_t nchans = 0, nperms = 0, i;
	int r = -1;

	if (tok != -1 && json_prim_kind(j, tok) != 'n' &&
	    json_type(j, tok) != JSON_OBJECT) {
		snprintf(err, errlen, "json: cannot unmarshal into Go struct "
		    "field State.authorizations of type auth.Authorization");
		return -1;
	}
	if (json_type(j, tok) == JSON_OBJECT) {
		if (get_str(j, json_obj_get_go(j, tok, "topic"), &topic) ==
		    -1 || get_strs(j, json_obj_get_go(j, tok, "channels"),
		    &chans, &nchans) == -1 || get_strs(j,
		    json_obj_get_go(j, tok, "permissions"), &perms,
		    &nperms) == -1) {
			snprintf(err, errlen, "json: cannot unmarshal into Go "
			    "struct field of type auth.Authorization");
			goto out;
		}
	} else
		topic = xstrdup("");
	for (i = 0; i < nperms; i++) {
		if (strcmp(perms[i], "subscribe") == 0)
			p->subscribe = true;
		else if (strcmp(perms[i], "publish") == 0)
			p->publish = true;
		else {
			snprintf(err, errlen, "unknown permission %s",
			    perms[i]);
			goto out;
		}
	}
	if ((p->topic = re_compile(topic, rerr, sizeof(rerr))) == NULL) {
		char *q = text_goquote_str(topic);

		snprintf(err, errlen, "unable to compile topic %s %s", q, rerr);
		free(q);
		goto out;
	}
	p->channels = xcalloc(nchans + 1, sizeof(*p->channels));
	for (i = 0; i < nchans; i++) {
		p->channels[i] = re_compile(chans[i], rerr, sizeof(rerr));
		if (p->channels[i] == NULL) {
			char *q = text_goquote_str(chans[i]);

			snprintf(err, errlen, "unable to compile channel %s %s",
			    q, rerr);
			free(q);
			goto out;
		}
		p->nchannels++;
	}
	r = 0;
out:
	free(topic);
	free_strs(chans, nchans);
	free_strs(perms, nperms);
	return r;
}

struct auth_state *
auth_state_parse(const char *body, size_t len, char *err, size_t errlen)
{
	struct auth_state *st = xcalloc(1, sizeof(*st));
	struct json j;
	int tok, i, k;

	if (json_parse(&j, body, len, err, errlen) == -1)
		goto fail;
	if (json_prim_kind(&j, 0) != 'n' && json_type(&j, 0) != JSON_OBJECT) {
		snprintf(err, errlen, "json: cannot unmarshal into Go value "
		    "of type auth.State");
		goto fail;
	}
	if (json_type(&j, 0) == JSON_OBJECT) {
		tok = json_obj_get_go(&j, 0, "ttl");
		if (tok != -1 && json_prim_kind(&j, tok) != 'n' &&
		    (json_prim_kind(&j, tok) != '0' ||
		    json_get_int64(&j, tok, &st->ttl) == -1)) {
			snprintf(err, errlen, "json: cannot unmarshal into Go "
			    "struct field State.ttl of type int");
			goto fail;
		}
		if (get_str(&j, json_obj_get_go(&j, 0, "identity"),
		    &st->identity) == -1 ||
		    get_str(&j, json_obj_get_go(&j, 0, "identity_url"),
		    &st->identity_url) == -1) {
			snprintf(err, errlen, "json: cannot unmarshal into Go "
			    "struct field State.identity of type string");
			goto fail;
		}
		/* Go's untagged Expires field takes a time string. */
		tok = json_obj_get_go(&j, 0, "expires");
		if (tok != -1 && json_prim_kind(&j, tok) != 'n' &&
		    json_type(&j, tok) != JSON_STRING) {
			snprintf(err, errlen, "json: cannot unmarshal into Go "
			    "struct field State.Expires of type time.Time");
			goto fail;
		}
		tok = json_obj_get_go(&j, 0, "authorizations");
		if (tok != -1 && json_prim_kind(&j, tok) != 'n') {
			if (json_type(&j, tok) != JSON_ARRAY) {
				snprintf(err, errlen, "json: cannot unmarshal "
				    "into Go struct field "
				    "State.authorizations");
				goto fail;
			}
			k = json_size(&j, tok);
			st->perms = xcalloc((size_t)k + 1, sizeof(*st->perms));
			for (i = 0; i < k; i++) {
				st->nperms++;
				if (parse_perm(&j, json_arr_at(&j, tok, i),
				    &st->perms[i], err, errlen) == -1)
					goto fail;
			}
		}
	}
	if (st->identity == NULL)
		st->identity = xstrdup("");
	if (st->identity_url == NULL)
		st->identity_url = xstrdup("");
	if (st->ttl <= 0) {
		snprintf(err, errlen, "invalid TTL %lld (must be >0)",
		    (long long)st->ttl);
		goto fail;
	}
	json_free(&j);
	return st;
fail:
	json_free(&j);
	auth_state_free(st);
	return NULL;
}

/* regexp.MatchString: a match anywhere; a match that gives up is none. */
static bool
matches(struct re *re, const char *s, size_t n)
{
	char err[128];

	return re_match(re, s, n, err, sizeof(err)) == 1;
}

bool
auth_state_allowed(const struct auth_state *st, const char *topic,
    size_t tlen, const char *channel, size_t clen)
{
	return auth_state_allows(st, clen > 0, topic, tlen, channel, clen);
}

bool
auth_state_has_topic(const struct auth_state *st, const char *pattern)
{
	size_t i;

	for (i = 0; i < st->nperms; i++)
		if (strcmp(re_pattern(st->perms[i].topic), pattern) == 0)
			return true;
	return false;
}

bool
auth_state_allows(const struct auth_state *st, bool subscribe,
    const char *topic, size_t tlen, const char *channel, size_t clen)
{
	const struct auth_perm *p;
	size_t i, k;

	for (i = 0; i < st->nperms; i++) {
		p = &st->perms[i];
		if (subscribe ? !p->subscribe : !p->publish)
			continue;
		if (!matches(p->topic, topic, tlen))
			continue;
		for (k = 0; k < p->nchannels; k++) {
			if (matches(p->channels[k], channel, clen))
				return true;
		}
	}
	return false;
}

char *
auth_reply_json(const struct auth_state *st)
{
	struct buf b;
	struct jw w;
	char *s;

	buf_init(&b, 128, 1 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "identity");
	jw_str(&w, st->identity);
	jw_key(&w, "identity_url");
	jw_str(&w, st->identity_url);
	jw_key(&w, "permission_count");
	jw_uint(&w, st->nperms);
	jw_obj_end(&w);
	s = jw_finish(&w) == 0 ? xstrndup(buf_data(&b), buf_len(&b)) : NULL;
	buf_free(&b);
	return s;
}

/*
 * The query.  Servers are tried one after the other, from a random one
 * on (Go's QueryAnyAuthd), each with its own connect and request
 * deadlines; the first valid answer ends it.
 */
struct auth_query {
	struct nsqd		*n;
	char			*secret;
	char			*remote_ip;
	char			*common_name;
	bool			 tls;
	size_t			 start;		/* first server tried */
	size_t			 tried;
	struct hclient_req	*req;
	char			*url;		/* req's, and its body */
	char			*body;
	bool			 redirected;	/* the 403 retry over https */
	struct buf		 errs;		/* Go's joined reasons */
	auth_cb			*cb;
	void			*arg;
};

bool
auth_enabled(const struct nsqd *n)
{
	return n->o->auth_http_addresses.n > 0;
}

/* Go: an address with "://" is the whole URL, else http://ADDR/auth. */
static char *
base_url(const char *addr)
{
	struct buf b;
	char *s;

	if (strstr(addr, "://") != NULL)
		return xstrdup(addr);
	buf_init(&b, 64, 1 << 16);
	buf_addf(&b, "http://%s/auth", addr);
	s = buf_failed(&b) ? xstrdup("") : xstrndup(buf_data(&b),
	    buf_len(&b));
	buf_free(&b);
	return s;
}

int
auth_check_address(const char *addr, char *err, size_t errlen)
{
	char hp[300], path[8192], *url = base_url(addr);
	int https, r;

	r = hclient_split_url(url, &https, hp, sizeof(hp), path, sizeof(path),
	    err, errlen);
	free(url);
	return r;
}

void
auth_request_parts(const char *addr, bool post, const char *secret,
    const char *remote_ip, bool tls, const char *common_name, char **url,
    char **body)
{
	/* url.Values.Encode and json.Marshal both sort the keys. */
	const char *keys[] = { "common_name", "remote_ip", "secret", "tls" };
	const char *vals[] = { common_name, remote_ip, secret,
	    tls ? "true" : "false" };
	char *base = base_url(addr), *e;
	struct buf b;
	struct jw w;
	size_t i;

	buf_init(&b, 256, 1 << 20);
	*body = NULL;
	if (post) {
		*url = base;
		jw_init(&w, &b);
		jw_obj_begin(&w);
		for (i = 0; i < 4; i++) {
			jw_key(&w, keys[i]);
			jw_arr_begin(&w);
			jw_str(&w, vals[i]);
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
		*body = jw_finish(&w) == 0 ?
		    xstrndup(buf_data(&b), buf_len(&b)) : xstrdup("{}");
		buf_free(&b);
		return;
	}
	buf_addf(&b, "%s?", base);
	for (i = 0; i < 4; i++) {
		e = text_query_escape(vals[i]);
		buf_addf(&b, "%s%s=%s", i > 0 ? "&" : "", keys[i], e);
		free(e);
	}
	*url = buf_failed(&b) ? xstrdup(base) :
	    xstrndup(buf_data(&b), buf_len(&b));
	free(base);
	buf_free(&b);
}

static void	reply_cb(void *, int, const char *, size_t, const char *);

/* b's text as a C string (a NUL after it, not counted); fallback if none. */
static const char *
cstr(struct buf *b, const char *fallback)
{
	buf_add(b, "", 1);
	if (buf_failed(b) || buf_len(b) <= 1)
		return fallback;
	b->len--;
	return buf_data(b);
}

static void
query_free(struct auth_query *q)
{
	free(q->secret);
	free(q->remote_ip);
	free(q->common_name);
	free(q->url);
	free(q->body);
	buf_free(&q->errs);
	free(q);
}

/* "failed to auth against ADDR - WHY", joined by "; " as Go's. */
static void
note_failure(struct auth_query *q, const char *addr, const char *why)
{
	if (buf_len(&q->errs) > 0)
		buf_addf(&q->errs, "; ");
	buf_addf(&q->errs, "failed to auth against %s - %s", addr, why);
}

static const char *
current_addr(const struct auth_query *q)
{
	const struct strlist *l = &q->n->o->auth_http_addresses;

	return l->v[(q->start + q->tried - 1) % l->n];
}

static const char *
reasons(struct auth_query *q)
{
	return cstr(&q->errs, "auth failed");
}

/* Send q->url (and q->body for POST): 0, or -1 with err. */
static int
send_request(struct auth_query *q, char *err, size_t errlen)
{
	const struct nsqd_opts *o = q->n->o;
	struct hclient_opts ho;

	memset(&ho, 0, sizeof(ho));
	ho.connect_timeout = (double)o->http_client_connect_timeout / 1e9;
	ho.request_timeout = (double)o->http_client_request_timeout / 1e9;
	ho.max_body = AUTH_MAX_REPLY;
	ho.ssl_ctx = q->n->auth_ssl_ctx;
	ho.user_agent = "nsqd/" NSQ_COMPAT_VERSION;
	q->req = hclient_request(q->n->loop, q->body != NULL ? "POST" : "GET",
	    q->url, "application/json", q->body, q->body != NULL ?
	    strlen(q->body) : 0, &ho, reply_cb, q, err, errlen);
	return q->req != NULL ? 0 : -1;
}

/*
 * Go's GETV1 and POSTV1: a 403 from an http:// endpoint is asked again
 * over https, at the same host and the reply's "https_port" (an NSQ
 * daemon's answer to a plain request where TLS is required).  0 when
 * that request is under way, -1 with why.
 */
static int
redirect_https(struct auth_query *q, const char *body, size_t len,
    struct buf *why)
{
	char hp[300], host[256], path[8192], err[256];
	int https, port, tok;
	int64_t hport = 0;
	struct json j;
	struct buf u;

	if (json_parse(&j, body, len, err, sizeof(err)) == -1) {
		buf_addf(why, "%s", err);
		return -1;
	}
	tok = json_type(&j, 0) == JSON_OBJECT ?
	    json_obj_get_go(&j, 0, "https_port") : -1;
	if ((json_type(&j, 0) != JSON_OBJECT && json_prim_kind(&j, 0) != 'n') ||
	    (tok != -1 && json_prim_kind(&j, tok) != 'n' &&
	    (json_prim_kind(&j, tok) != '0' ||
	    json_get_int64(&j, tok, &hport) == -1))) {
		json_free(&j);
		buf_addf(why, "json: cannot unmarshal into Go struct field "
		    "https_port of type int");
		return -1;
	}
	json_free(&j);
	if (hclient_split_url(q->url, &https, hp, sizeof(hp), path,
	    sizeof(path), err, sizeof(err)) == -1 ||
	    net_split_hostport(hp, host, sizeof(host), &port) == -1) {
		buf_addf(why, "%s", err);
		return -1;
	}
	buf_init(&u, 256, 16384);
	buf_addf(&u, strchr(host, ':') != NULL ? "https://[%s]:%lld%s" :
	    "https://%s:%lld%s", host, (long long)hport, path);
	free(q->url);
	q->url = xstrdup(cstr(&u, ""));
	buf_free(&u);
	q->redirected = true;
	if (send_request(q, err, sizeof(err)) == -1) {
		buf_addf(why, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * Start a request to the next server not tried: 0, or -1 when none is
 * left (the reasons are in q->errs).
 */
static int
start_next(struct auth_query *q)
{
	const struct nsqd_opts *o = q->n->o;
	size_t k = o->auth_http_addresses.n;
	bool post = strcmp(o->auth_http_request_method, "post") == 0;
	char err[256];
	const char *addr;

	while (q->tried < k) {
		addr = o->auth_http_addresses.v[(q->start + q->tried) % k];
		q->tried++;
		q->redirected = false;
		free(q->url);
		free(q->body);
		auth_request_parts(addr, post, q->secret, q->remote_ip, q->tls,
		    q->common_name, &q->url, &q->body);
		if (send_request(q, err, sizeof(err)) == 0)
			return 0;
		note_failure(q, addr, err);
	}
	return -1;
}

static void
reply_cb(void *arg, int status, const char *body, size_t len,
    const char *err)
{
	struct auth_query *q = arg;
	struct auth_state *st;
	struct buf why;
	char perr[512];

	q->req = NULL;
	buf_init(&why, 128, 4096);
	if (status == 0)
		buf_addf(&why, "%s", err);
	else if (status == 403 && !q->redirected &&
	    strncmp(q->url, "https", 5) != 0) {
		if (redirect_https(q, body, len, &why) == 0) {
			buf_free(&why);
			return;
		}
	} else if (status != 200) {
		/* Go's "got response %s %q": Status, then the body quoted. */
		buf_addf(&why, "got response %d %s ", status,
		    http_status_str((enum http_status)status));
		if (text_goquote(&why, body, len > 512 ? 512 : len) == -1)
			buf_reset(&why);
	} else if ((st = auth_state_parse(body, len, perr, sizeof(perr))) ==
	    NULL)
		buf_addf(&why, "%s", perr);
	else {
		buf_free(&why);
		q->cb(q->arg, st, NULL);
		query_free(q);
		return;
	}
	note_failure(q, current_addr(q), cstr(&why, "error"));
	buf_free(&why);
	if (start_next(q) == 0)
		return;
	q->cb(q->arg, NULL, reasons(q));
	query_free(q);
}

struct auth_query *
auth_query_start(struct nsqd *n, const char *secret, const char *remote_ip,
    bool tls, const char *common_name, auth_cb *cb, void *arg)
{
	struct auth_query *q;
	size_t k = n->o->auth_http_addresses.n;

	if (k == 0)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->n = n;
	q->secret = xstrdup(secret);
	q->remote_ip = xstrdup(remote_ip);
	q->common_name = xstrdup(common_name);
	q->tls = tls;
	q->start = (size_t)rand_below(k);
	q->cb = cb;
	q->arg = arg;
	buf_init(&q->errs, 256, 1 << 16);
	if (start_next(q) == 0)
		return q;
	log_warnx("AUTH: %s", reasons(q));
	query_free(q);
	return NULL;
}

void
auth_query_cancel(struct auth_query *q)
{
	if (q == NULL)
		return;
	hclient_cancel(q->req);
	query_free(q);
}

int
auth_setup(struct nsqd *n)
{
	const struct nsqd_opts *o = n->o;
	SSL_CTX *ctx;

	/* Any server may send nsqd to https (a 403 with https_port). */
	if (o->auth_http_addresses.n == 0)
		return 0;
	/* Go's clientTLSConfig: system roots, or --tls-root-ca-file's. */
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->tls_root_ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, o->tls_root_ca_file,
		    NULL) != 1) {
			SSL_CTX_free(ctx);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		goto fail;
	}
	n->auth_ssl_ctx = ctx;
	return 0;
fail:
	log_error("FATAL: auth https client: %s",
	    ERR_error_string(ERR_get_error(), NULL));
	return -1;
}

void
auth_free(struct nsqd *n)
{
	SSL_CTX_free(n->auth_ssl_ctx);
	n->auth_ssl_ctx = NULL;
}
