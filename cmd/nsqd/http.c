/*
 * nsqd's HTTP API (Go nsqd/http.go, 1.3.0) on lib/http: the same routes,
 * status codes, error words and bodies, so nsqadmin, nsq_stat and curl
 * scripts cannot tell the difference.  Every handler answers at once, on
 * the loop, like the TCP side.
 *
 * Go's "V1" replies: a string is sent as it is (Go sniffs it as
 * text/plain), nil as an empty body, anything else as JSON; errors are
 * {"message":"<WORD>"}.  Checks run in Go's order, which matters where a
 * request is wrong twice: /pub looks at the body before the query, and
 * creates the topic before it looks at "defer".
 *
 * Documents (/stats, /metrics, /info, /config) are built in lib/http's
 * reply buffer: one past its limit (HTTP_REPLY_MAX) is answered 500
 * INTERNAL_ERROR and logged once, never sent cut.
 *
 * Beyond Go: GET /metrics (metrics.c).  Left out: Go's /debug/pprof
 * (runtime profiles); POST /debug/freememory calls malloc_trim().
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "names.h"
#include "nsqd.h"
#include "options.h"
#include "xmalloc.h"

#define TEXT		"text/plain; charset=utf-8"
#define JSON		"application/json; charset=utf-8"

static const char *const bool_true[] = { "true", "1" };
static const char *const bool_false[] = { "false", "0" };

/* Go's boolParams: true/1, false/0; anything else is dflt. */
static bool
query_bool(struct http_req *req, const char *key, bool dflt)
{
	const char *v;
	size_t i;

	if (http_query_get(req, key, &v) != 1)
		return dflt;
	for (i = 0; i < 2; i++) {
		if (strcmp(v, bool_true[i]) == 0)
			return true;
		if (strcmp(v, bool_false[i]) == 0)
			return false;
	}
	return dflt;
}

/* A query value, "" when absent. */
static const char *
query_str(struct http_req *req, const char *key)
{
	const char *v;

	return http_query_get(req, key, &v) == 1 ? v : "";
}

/* Go's V1 200 with a string body. */
static void
reply_string(struct http_req *req, const char *s, size_t len)
{
	http_reply(req, 200, len > 0 ? TEXT : NULL, s, len);
}

static void
reply_empty(struct http_req *req)
{
	http_reply(req, 200, NULL, "", 0);
}

/*
 * A JSON reply built in the request's reply buffer.  A document that
 * does not fit is answered 500 by lib/http (and logged by http_warn);
 * one the writer refused (NaN, unbalanced) is answered 500 here.
 */
static void
reply_jw(struct http_req *req, struct jw *w)
{
	if (jw_finish(w) == -1 && !buf_failed(http_reply_begin(req)))
		http_reply_error(req, 500, "INTERNAL_ERROR");
	else
		http_reply_end(req, 200, JSON);
}

static bool
query_ok(struct http_req *req)
{
	if (http_query_valid(req) == 0)
		return true;
	log_error("failed to parse request params - %s",
	    http_req_uri(req));
	http_reply_error(req, 400, "INVALID_REQUEST");
	return false;
}

static void
h_ping(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	const char *h = nsqd_health(n);

	/* Go's PlainText (http.go:57): no X-NSQ-Content-Type. */
	http_reply_text(req, n->health[0] == '\0' ? 200 : 500, h);
}

static void
h_info(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	struct nsqd_opts *o = n->o;
	char host[256] = "";
	struct jw w;

	gethostname(host, sizeof(host) - 1);
	jw_init(&w, http_reply_begin(req));
	jw_obj_begin(&w);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_key(&w, "broadcast_address");
	jw_str(&w, o->broadcast_address);
	jw_key(&w, "hostname");
	jw_str(&w, host);
	jw_key(&w, "http_port");
	jw_int(&w, n->http_port);
	jw_key(&w, "tcp_port");
	jw_int(&w, n->tcp_port);
	jw_key(&w, "start_time");
	jw_int(&w, n->start_time);
	jw_key(&w, "max_heartbeat_interval");
	jw_int(&w, o->max_heartbeat_interval);
	jw_key(&w, "max_output_buffer_size");
	jw_int(&w, o->max_output_buffer_size);
	jw_key(&w, "max_output_buffer_timeout");
	jw_int(&w, o->max_output_buffer_timeout);
	jw_key(&w, "max_deflate_level");
	jw_int(&w, o->max_deflate_level);
	jw_obj_end(&w);
	reply_jw(req, &w);
}

/*
 * The name in query parameter key, or NULL once the reply said what is
 * wrong: 400 missing, or 400 invalid when invalid is set and the value
 * breaks the topic/channel name rule.
 */
static const char *
name_arg(struct http_req *req, const char *key, const char *missing,
    const char *invalid)
{
	const char *name;

	if (http_query_get(req, key, &name) != 1) {
		http_reply_error(req, 400, missing);
		return NULL;
	}
	if (invalid != NULL && !name_valid(name, strlen(name))) {
		http_reply_error(req, 400, invalid);
		return NULL;
	}
	return name;
}

/*
 * Go's getTopicFromQuery: the query must parse, "topic" be there and
 * valid; the topic is then created if need be.  NULL when a reply was
 * sent.
 */
static struct topic *
topic_from_query(struct nsqd *n, struct http_req *req)
{
	const char *name;
	struct topic *t;

	if (!query_ok(req) || (name = name_arg(req, "topic",
	    "MISSING_ARG_TOPIC", "INVALID_TOPIC")) == NULL)
		return NULL;
	if (n->exiting) {
		http_reply_error(req, 503, "EXITING");
		return NULL;
	}
	if ((t = nsqd_get_topic(n, name, strlen(name))) == NULL) {
		http_reply_error(req, 500, "INTERNAL_ERROR");
		return NULL;
	}
	return t;
}

/*
 * In durable mode a publish is answered once it is on disk: the HTTP
 * side syncs at once (the TCP side batches a loop turn's publishes).
 */
static bool
durable_sync(struct nsqd *n)
{
	return !n->durable || nsqd_sync(n);
}

static void
h_pub(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	const char *ds;
	const void *body;
	struct topic *t;
	int64_t ms, defer_ns = 0;
	size_t len;

	/* Too big was refused by lib/http before the body was read. */
	body = http_req_body(req, &len);
	if (len == 0) {
		http_reply_error(req, 400, "MSG_EMPTY");
		return;
	}
	if ((t = topic_from_query(n, req)) == NULL)
		return;
	if (http_query_get(req, "defer", &ds) == 1) {
		if (parse_int64(ds, 0, &ms) != 0 || ms < 0 ||
		    ms > n->o->max_req_timeout / NS_MS) {
			http_reply_error(req, 400, "INVALID_DEFER");
			return;
		}
		defer_ns = ms * NS_MS;
	}
	if ((defer_ns > 0 ? topic_put(t, topic_new_body(t, body, len),
	    defer_ns) : topic_publish(t, body, len)) == -1 ||
	    !durable_sync(n)) {
		http_reply_error(req, 503, "EXITING");
		return;
	}
	reply_string(req, "OK", 2);
}

/* Go's readMPUB over a buffer; NULL, or the 413 word with why set. */
static const char *
check_mpub(struct nsqd *n, const char *b, size_t size, const char **why)
{
	int64_t maxmsgs = (n->o->max_body_size - 4) / 5;
	int32_t count, len, i;
	size_t off = 4;

	if (size < 4) {
		*why = "MPUB failed to read message count";
		return "BAD_BODY";
	}
	count = (int32_t)be32dec(b);
	if (count <= 0 || count > maxmsgs) {
		*why = "MPUB invalid message count";
		return "BAD_BODY";
	}
	for (i = 0; i < count; i++) {
		if (size - off < 4) {
			*why = "MPUB failed to read message body size";
			return "BAD_MESSAGE";
		}
		len = (int32_t)be32dec(b + off);
		if (len <= 0) {
			*why = "MPUB invalid message body size";
			return "BAD_MESSAGE";
		}
		if (len > n->o->max_msg_size) {
			*why = "MPUB message too big";
			return "BAD_MESSAGE";
		}
		if (size - off - 4 < (size_t)len) {
			*why = "MPUB failed to read message body";
			return "BAD_MESSAGE";
		}
		off += 4 + (size_t)len;
	}
	/* Bytes after the last message are ignored, as Go reads no more. */
	return NULL;
}

static void
h_mpub(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	const char *bin, *code, *why, *p, *end, *nl;
	const char *body;
	struct topic *t;
	bool binary = false;
	size_t len, off;
	int32_t count, i, mlen;
	int r = 0;

	if ((t = topic_from_query(n, req)) == NULL)
		return;
	if (http_query_get(req, "binary", &bin) == 1) {
		if (strcmp(bin, "true") == 0 || strcmp(bin, "1") == 0)
			binary = true;
		else if (strcmp(bin, "false") != 0 && strcmp(bin, "0") != 0) {
			binary = true;
			log_warnx("deprecated value '%s' used for /mpub "
			    "binary param", bin);
		}
	}
	body = http_req_body(req, &len);
	if (binary) {
		if ((code = check_mpub(n, body, len, &why)) != NULL) {
			log_error("[%s] %s", http_req_peer(req), why);
			http_reply_error(req, 413, code);
			return;
		}
		count = (int32_t)be32dec(body);
		for (i = 0, off = 4; i < count && r == 0; i++) {
			mlen = (int32_t)be32dec(body + off);
			r = topic_publish(t, body + off + 4, (size_t)mlen);
			off += 4 + (size_t)mlen;
		}
	} else {
		/* Lines; the empty ones are skipped, as Go since 0.2.22. */
		end = body + len;
		for (p = body; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if ((int64_t)(nl - p) > n->o->max_msg_size) {
				http_reply_error(req, 413, "MSG_TOO_BIG");
				return;
			}
		}
		for (p = body; p < end && r == 0; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (nl > p)
				r = topic_publish(t, p, (size_t)(nl - p));
		}
	}
	if (r == -1 || !durable_sync(n)) {
		http_reply_error(req, 503, "EXITING");
		return;
	}
	reply_string(req, "OK", 2);
}

static void
h_topic_create(struct http_req *req, void *arg)
{
	if (topic_from_query(arg, req) != NULL)
		reply_empty(req);
}

/*
 * The existing topic named by "topic" (no name check, as Go's
 * delete/pause); NULL when a reply was sent.
 */
static struct topic *
existing_topic(struct nsqd *n, struct http_req *req, bool validate)
{
	const char *name;
	struct topic *t;

	if (!query_ok(req) || (name = name_arg(req, "topic",
	    "MISSING_ARG_TOPIC", validate ? "INVALID_TOPIC" : NULL)) == NULL)
		return NULL;
	if ((t = nsqd_find_topic(n, name, strlen(name))) == NULL) {
		http_reply_error(req, 404, "TOPIC_NOT_FOUND");
		return NULL;
	}
	return t;
}

static void
h_topic_delete(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	struct topic *t;

	if ((t = existing_topic(n, req, false)) == NULL)
		return;
	topic_close_clients(t);
	nsqd_delete_topic(n, t);
	reply_empty(req);
}

static void
h_topic_empty(struct http_req *req, void *arg)
{
	struct topic *t;

	if ((t = existing_topic(arg, req, true)) == NULL)
		return;
	if (topic_empty(t) == -1) {
		http_reply_error(req, 500, "INTERNAL_ERROR");
		return;
	}
	reply_empty(req);
}

static void
h_topic_pause(struct http_req *req, void *arg)
{
	struct topic *t;
	bool un = strstr(http_req_path(req), "unpause") != NULL;

	if ((t = existing_topic(arg, req, false)) == NULL)
		return;
	log_info("TOPIC(%s): %s", t->name, un ? "unpausing" : "pausing");
	/* nsqd.dat is rewritten before the loop blocks again. */
	topic_pause(t, !un);
	reply_empty(req);
}

/*
 * Go's getExistingTopicFromQuery: topic and channel given and valid, the
 * topic there.  The channel name goes to *chname.
 */
static struct topic *
topic_channel(struct nsqd *n, struct http_req *req, const char **chname)
{
	const char *name;
	struct topic *t;

	if (!query_ok(req) || (name = name_arg(req, "topic",
	    "MISSING_ARG_TOPIC", "INVALID_ARG_TOPIC")) == NULL ||
	    (*chname = name_arg(req, "channel", "MISSING_ARG_CHANNEL",
	    "INVALID_ARG_CHANNEL")) == NULL)
		return NULL;
	if ((t = nsqd_find_topic(n, name, strlen(name))) == NULL) {
		http_reply_error(req, 404, "TOPIC_NOT_FOUND");
		return NULL;
	}
	return t;
}

static struct channel *
existing_channel(struct nsqd *n, struct http_req *req)
{
	const char *name;
	struct topic *t;
	struct channel *ch;

	if ((t = topic_channel(n, req, &name)) == NULL)
		return NULL;
	if ((ch = topic_find_channel(t, name, strlen(name))) == NULL) {
		http_reply_error(req, 404, "CHANNEL_NOT_FOUND");
		return NULL;
	}
	return ch;
}

static void
h_channel_create(struct http_req *req, void *arg)
{
	const char *name;
	struct topic *t;

	if ((t = topic_channel(arg, req, &name)) == NULL)
		return;
	if (topic_get_channel(t, name, strlen(name)) == NULL) {
		http_reply_error(req, 500, "INTERNAL_ERROR");
		return;
	}
	reply_empty(req);
}

static void
h_channel_delete(struct http_req *req, void *arg)
{
	struct channel *ch;

	if ((ch = existing_channel(arg, req)) == NULL)
		return;
	channel_close_clients(ch);
	topic_delete_channel(ch->topic, ch);
	reply_empty(req);
}

static void
h_channel_empty(struct http_req *req, void *arg)
{
	struct channel *ch;

	if ((ch = existing_channel(arg, req)) == NULL)
		return;
	if (channel_empty(ch) == -1) {
		http_reply_error(req, 500, "INTERNAL_ERROR");
		return;
	}
	reply_empty(req);
}

static void
h_channel_pause(struct http_req *req, void *arg)
{
	struct channel *ch;
	bool un = strstr(http_req_path(req), "unpause") != NULL;

	if ((ch = existing_channel(arg, req)) == NULL)
		return;
	log_info("CHANNEL(%s:%s): %s", ch->topic->name, ch->name,
	    un ? "unpausing" : "pausing");
	channel_pause(ch, !un);
	reply_empty(req);
}

static void
h_stats(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	const char *topic, *channel;
	bool json, clients, mem;
	struct buf *b;

	if (!query_ok(req))
		return;
	json = strcmp(query_str(req, "format"), "json") == 0;
	topic = query_str(req, "topic");
	channel = query_str(req, "channel");
	clients = query_bool(req, "include_clients", true);
	mem = query_bool(req, "include_mem", true);
	b = http_reply_begin(req);
	if (json) {
		/* As reply_jw: a document too big is lib/http's 500. */
		if (stats_json(n, b, topic, channel, clients, mem) == -1 &&
		    !buf_failed(b))
			http_reply_error(req, 500, "INTERNAL_ERROR");
		else
			http_reply_end(req, 200, JSON);
	} else {
		stats_text(n, b, topic, channel, clients, mem);
		http_reply_end(req, 200, buf_len(b) > 0 ? TEXT : NULL);
	}
}

static void
h_metrics(struct http_req *req, void *arg)
{
	metrics_write(arg, http_reply_begin(req));
	http_reply_end(req, 200, "text/plain; version=0.0.4; charset=utf-8");
}

/*
 * Go's freeMemory (http.go:89, 104-107) returns nothing through
 * PlainText, which panics on that (api_response.go:42-43); the router's
 * panic handler then answers 500 INTERNAL_ERROR (api_response.go:128-131).
 * The memory is freed all the same.
 */
static void
h_freememory(struct http_req *req, void *arg)
{
	(void)arg;
	malloc_trim(0);
	http_reply_error(req, 500, "INTERNAL_ERROR");
}

/* nsqlookupd_tcp_addresses was PUT as null: Go then shows null. */
static bool lookupd_null;

/* The config name of a table entry: its cfgkey, or the name, - -> _. */
static void
cfg_name(const struct opt *op, char *out, size_t len)
{
	char *p;

	snprintf(out, len, "%s", op->cfgkey ? op->cfgkey : op->name);
	for (p = out; *p != '\0'; p++) {
		if (*p == '-')
			*p = '_';
	}
}

/*
 * An option's value as Go's doConfig shows it: strings as they are,
 * everything else as JSON (durations in ns, the log level and TLS enums
 * as Go's integers).  Lists are [] when empty: Go's defaults are empty,
 * non-nil slices (nsqd/options.go:111-112, app.StringArray/FloatArray's
 * Get); only a PUT of null makes nsqlookupd_tcp_addresses null.  0, or
 * -1 if no option has that config name (flags Go keeps out of its
 * Options are left out).
 */
static int
reply_option(struct nsqd *n, struct http_req *req, const char *name)
{
	const struct opt *op = NULL;
	char cfg[128];
	struct jw w;
	size_t i;

	for (i = 0; i < n->o->ntable; i++) {
		cfg_name(&n->o->table[i], cfg, sizeof(cfg));
		if (strcmp(cfg, name) == 0) {
			op = &n->o->table[i];
			break;
		}
	}
	if (op == NULL || strcmp(name, "config") == 0 ||
	    strcmp(name, "version") == 0 || strcmp(name, "worker_id") == 0 ||
	    strcmp(name, "verbose") == 0)
		return -1;
	jw_init(&w, http_reply_begin(req));
	if (strcmp(name, "log_level") == 0)
		jw_int(&w, log_get_level());
	else if (strcmp(name, "tls_required") == 0) {
		/* Go's TLSRequired values: 0 not, 1 except HTTP, 2 all. */
		jw_int(&w, n->o->tls_required_mode == TLS_REQUIRED ? 2 :
		    n->o->tls_required_mode == TLS_REQUIRED_EXCEPT_HTTP ?
		    1 : 0);
	} else if (strcmp(name, "tls_min_version") == 0) {
		const char *v = *(char **)op->val;

		/* Go's tls.VersionTLS1x constants. */
		jw_int(&w, strcmp(v, "tls1.3") == 0 ? 0x0304 :
		    strcmp(v, "tls1.2") == 0 ? 0x0303 :
		    strcmp(v, "tls1.1") == 0 ? 0x0302 : 0x0301);
	} else {
		switch (op->type) {
		case OPT_BOOL:
			jw_bool(&w, *(bool *)op->val);
			break;
		case OPT_INT:
		case OPT_DURATION:
			jw_int(&w, *(int64_t *)op->val);
			break;
		case OPT_STR:
		case OPT_BOOLSTR: {
			const char *v = *(char **)op->val;

			reply_string(req, v, strlen(v));
			return 0;
		}
		case OPT_STRLIST: {
			const struct strlist *l = op->val;

			if (l->v == NULL && lookupd_null &&
			    l == &n->o->lookupd_tcp_addresses)
				jw_null(&w);
			else {
				jw_arr_begin(&w);
				for (i = 0; i < l->n; i++)
					jw_str(&w, l->v[i]);
				jw_arr_end(&w);
			}
			break;
		}
		case OPT_FLOATLIST: {
			const struct floatlist *l = op->val;

			jw_arr_begin(&w);
			for (i = 0; i < l->n; i++)
				jw_double(&w, l->v[i]);
			jw_arr_end(&w);
			break;
		}
		}
	}
	reply_jw(req, &w);
	return 0;
}

/*
 * PUT nsqlookupd_tcp_addresses: a JSON array of strings, or null (Go's
 * json.Unmarshal into a []string).  Acting on the new list (peers) is
 * the lookup side's business; the list is stored here.
 */
static int
put_lookupd(struct nsqd *n, const char *body, size_t len)
{
	struct strlist *l = &n->o->lookupd_tcp_addresses;
	struct strlist nl = { NULL, 0 };
	struct json j;
	char err[128];
	int i, tok;

	if (json_parse(&j, body, len, err, sizeof(err)) == -1)
		return -1;
	if (json_prim_kind(&j, 0) == 'n') {
		json_free(&j);
		strlist_free(l);
		lookupd_null = true;
		lookup_set_peers(n, l);
		return 0;
	}
	if (json_type(&j, 0) != JSON_ARRAY) {
		json_free(&j);
		return -1;
	}
	for (i = 0; i < json_size(&j, 0); i++) {
		char *s;
		size_t slen;

		tok = json_arr_at(&j, 0, i);
		if ((s = json_get_str(&j, tok, &slen)) == NULL) {
			json_free(&j);
			strlist_free(&nl);
			return -1;
		}
		strlist_add(&nl, s);
		free(s);
	}
	json_free(&j);
	/* An empty array is Go's empty, non-nil slice: [] not null. */
	if (nl.v == NULL)
		nl.v = xcalloc(1, sizeof(char *));
	strlist_free(l);
	*l = nl;
	lookupd_null = false;
	log_info("CONFIG: nsqlookupd_tcp_addresses set (%zu)", l->n);
	lookup_set_peers(n, l);
	return 0;
}

static void
h_config(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	const char *opt = http_req_wildcard(req);

	if (opt == NULL || strchr(opt, '/') != NULL) {
		http_reply_error(req, 404, "NOT_FOUND");
		return;
	}
	if (strcmp(http_req_method(req), "PUT") == 0) {
		const char *body;
		size_t len;

		body = http_req_body(req, &len);
		if (len == 0) {
			http_reply_error(req, 413, "INVALID_VALUE");
			return;
		}
		if (strcmp(opt, "nsqlookupd_tcp_addresses") == 0) {
			if (put_lookupd(n, body, len) == -1) {
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
		} else if (strcmp(opt, "log_level") == 0) {
			char *s = xstrndup(body, len);
			int lvl = memchr(body, '\0', len) != NULL ? -1 :
			    log_parse_level(s);

			free(s);
			if (lvl == -1) {
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
			log_set_level(lvl);
			log_info("CONFIG: log_level set to %s",
			    log_level_name(lvl));
		} else {
			http_reply_error(req, 400, "INVALID_OPTION");
			return;
		}
	}
	if (reply_option(n, req, opt) == -1)
		http_reply_error(req, 400, "INVALID_OPTION");
}

static void
h_tls_required(struct http_req *req, void *arg)
{
	struct nsqd *n = arg;
	char body[128];

	/* Go's text, spaces and all; port 0 when HTTPS is not served. */
	snprintf(body, sizeof(body),
	    "{\"message\": \"TLS_REQUIRED\", \"https_port\": %d}",
	    n->https_port);
	http_reply(req, 403, "application/json; charset=utf-8", body,
	    strlen(body));
}

/* lib/http answered 500 for a reply that could not go out whole. */
static void
http_warn(const struct http_req *req, const char *why, void *arg)
{
	(void)arg;
	log_error("HTTP: %s %s: %s", http_req_method(req), http_req_uri(req),
	    why);
}

/* Go logs every API call but /pub and /mpub. */
static void
access_log(const struct http_req *req, int status, void *arg)
{
	const char *p = http_req_path(req);
	struct nsqd *n = arg;
	char d[64];

	if (strcmp(p, "/pub") == 0 || strcmp(p, "/mpub") == 0)
		return;
	format_duration((int64_t)((ev_now(n->loop) - http_req_start(req)) *
	    1e9), d, sizeof(d));
	log_info("%d %s %s (%s) %s", status, http_req_method(req),
	    http_req_uri(req), http_req_peer(req), d);
}

/* One line per failed HTTPS handshake, in Go's net/http words. */
static void
tls_fail(const char *peer, const char *why, void *arg)
{
	(void)arg;
	log_warnx("http: TLS handshake error from %s: %s", peer, why);
}

/*
 * The API's routes, or (tls_only) Go's one answer on plain HTTP under
 * --tls-required=true, on the listener fd.
 */
static struct http_server *
api_server(struct nsqd *n, int fd, bool tls_only)
{
	struct nsqd_opts *o = n->o;
	size_t msgmax = (size_t)o->max_msg_size;
	const struct http_route routes[] = {
		{ "GET", "/ping", h_ping, 0, NULL },
		{ "GET", "/info", h_info, 0, NULL },
		{ "POST", "/pub", h_pub, msgmax, "MSG_TOO_BIG" },
		{ "POST", "/mpub", h_mpub, (size_t)o->max_body_size,
		  "BODY_TOO_BIG" },
		{ "GET", "/stats", h_stats, 0, NULL },
		{ "POST", "/topic/create", h_topic_create, 0, NULL },
		{ "POST", "/topic/delete", h_topic_delete, 0, NULL },
		{ "POST", "/topic/empty", h_topic_empty, 0, NULL },
		{ "POST", "/topic/pause", h_topic_pause, 0, NULL },
		{ "POST", "/topic/unpause", h_topic_pause, 0, NULL },
		{ "POST", "/channel/create", h_channel_create, 0, NULL },
		{ "POST", "/channel/delete", h_channel_delete, 0, NULL },
		{ "POST", "/channel/empty", h_channel_empty, 0, NULL },
		{ "POST", "/channel/pause", h_channel_pause, 0, NULL },
		{ "POST", "/channel/unpause", h_channel_pause, 0, NULL },
		{ "GET", "/config/*", h_config, 0, NULL },
		{ "PUT", "/config/*", h_config, msgmax, "INVALID_VALUE" },
		{ "GET", "/metrics", h_metrics, 0, NULL },
		{ "POST", "/debug/freememory", h_freememory, 0, NULL },
	};
	const struct http_route tls_route[] = {
		{ NULL, "*", h_tls_required, 0, NULL },
	};
	struct http_route *gated = NULL;
	struct http_server *srv;
	struct http_limits lim;

	memset(&lim, 0, sizeof(lim));
	lim.max_body_bytes = (size_t)o->max_body_size;
	if (tls_only)
		srv = http_server_new(n->loop, fd, tls_route, 1, &lim, n);
	else {
		/* --http-auth-required: the same routes behind the gate. */
		if (o->http_auth_required)
			(void)http_auth_routes(n, routes, sizeof(routes) /
			    sizeof(routes[0]), &gated);
		srv = http_server_new(n->loop, fd, gated != NULL ? gated :
		    routes, sizeof(routes) / sizeof(routes[0]), &lim, n);
		free(gated);
	}
	http_server_set_log(srv, access_log);
	http_server_set_warn(srv, http_warn);
	return srv;
}

int
http_start(struct nsqd *n)
{
	struct nsqd_opts *o = n->o;
	char err[256];
	int fd;

	if ((fd = http_listen(o->http_address, err, sizeof(err))) == -1) {
		log_error("FATAL: %s", err);
		return -1;
	}
	n->http_port = http_listen_port(fd);
	/* Go's newHTTPServer(n, false, TLSRequired == TLSRequired). */
	n->http = api_server(n, fd, o->tls_required_mode == TLS_REQUIRED);
	log_info("HTTP: listening on %s", net_bound_name(fd, o->http_address,
	    err, sizeof(err)));
	return 0;
}

/*
 * The same API over TLS with the TCP side's context: Go's
 * newHTTPServer(n, true, true) serves every route, whatever
 * --tls-required says.  Go listens with "tcp" only: no unix socket.
 */
int
https_start(struct nsqd *n)
{
	struct nsqd_opts *o = n->o;
	char err[256];
	int fd;

	if (strchr(o->https_address, ':') == NULL) {
		log_error("FATAL: listen (%s) failed - listen tcp: address "
		    "%s: missing port in address", o->https_address,
		    o->https_address);
		return -1;
	}
	if ((fd = http_listen(o->https_address, err, sizeof(err))) == -1) {
		log_error("FATAL: %s", err);
		return -1;
	}
	n->https_port = http_listen_port(fd);
	n->https = api_server(n, fd, false);
	http_server_set_tls(n->https, n->ssl_ctx, 0, tls_fail);
	log_info("HTTPS: listening on %s", net_bound_name(fd,
	    o->https_address, err, sizeof(err)));
	return 0;
}

void
http_stop(struct nsqd *n)
{
	if (n->http != NULL)
		http_server_accept(n->http, 0);
	if (n->https != NULL)
		http_server_accept(n->https, 0);
}

void
http_free(struct nsqd *n)
{
	http_auth_free(n);
	http_server_free(n->http);
	n->http = NULL;
	http_server_free(n->https);
	n->https = NULL;
}
