/*
 * nsqadmin's HTTP side: Go nsqadmin 1.3.0's routes (nsqadmin/http.go)
 * under --base-path, their JSON key for key, their status codes and
 * error texts; the page and its assets (assets.c); the notifications of
 * admin actions (nsqadmin/notify.go); and two things Go has not: the
 * built-in history (history.c) and a CSRF check on every POST, PUT and
 * DELETE (Content-Type application/json, and an Origin or Referer whose
 * host:port is the Host header).
 *
 * A handler holds its request (http_req_hold), asks the cluster through
 * cluster.c, and replies from the last continuation, which then frees
 * its op.  A "message" that is not empty is Go's warning: "WARNING: "
 * and the partial errors, joined by "; ".
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "assets.h"
#include "buffer.h"
#include "http.h"
#include "httpc.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "nsq.h"
#include "text.h"
#include "xmalloc.h"

#define CT_JSON	"application/json; charset=utf-8"
#define NOTIFY_MAX_PENDING	1024

static char *base;		/* --base-path without its trailing slash */

/* url.QueryEscape into the op's arena. */
static const char *
text_query_escape_ar(struct op *op, const char *s)
{
	char *e = text_query_escape(s);
	const char *r = ar_strdup(&op->ar, e);

	free(e);
	return r;
}

/* Go's path.Join(base, p). */
static char *
bp(const char *p)
{
	if (strcmp(p, "/") == 0)
		return xstrdup(base[0] != '\0' ? base : "/");
	return xasprintf("%s%s", base, p);
}

static const char *
warn_msg(struct op *op)
{
	struct buf b;
	const char *s;
	size_t i;

	if (op->msgs.n == 0)
		return "";
	buf_init(&b, 0, (size_t)64 << 20);
	buf_add(&b, "WARNING: ", 9);
	for (i = 0; i < op->msgs.n; i++) {
		if (i > 0)
			buf_add(&b, "; ", 2);
		buf_add(&b, op->msgs.v[i], strlen(op->msgs.v[i]));
	}
	s = buf_failed(&b) ? "" : ar_strndup(&op->ar,
	    (const char *)buf_data(&b), buf_len(&b));
	buf_free(&b);
	return s;
}

static void
op_error(struct op *op, int status, const char *msg)
{
	http_reply_error(op->req, status, msg);
	op_free(op);
}

/*
 * After a cluster call: a whole failure is answered 502 (true), a
 * partial one becomes a warning.
 */
/* A step's fatal error: logged as "failed to WHAT - ...", the 502 sent. */
static bool
fatal_reply(struct op *op, const char *what)
{
	if (op->fatal == NULL)
		return false;
	log_error("failed to %s - %s", what, op->fatal);
	op_error(op, 502, ar_printf(&op->ar, "UPSTREAM_ERROR: %s",
	    op->fatal));
	return true;
}

static bool
upstream_failed(struct op *op, const char *what)
{
	if (fatal_reply(op, what))
		return true;
	if (op->errs.n > 0) {
		const char *e = errs_join(op, &op->errs);

		log_warnx("%s", e);
		vec_push(&op->ar, &op->msgs, (void *)e);
		memset(&op->errs, 0, sizeof(op->errs));
	}
	return false;
}

/* {"message": "..."} alone, 200: the actions' reply. */
static void
reply_message(struct op *op)
{
	struct buf *b = http_reply_begin(op->req);
	struct jw w;

	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "message");
	jw_str(&w, warn_msg(op));
	jw_obj_end(&w);
	if (jw_finish(&w) == -1)
		buf_fail(b);
	http_reply_end(op->req, 200, CT_JSON);
	op_free(op);
}

static struct jw *
begin_json(struct op *op, struct jw *w)
{
	jw_init(w, http_reply_begin(op->req));
	jw_obj_begin(w);
	return w;
}

static void
end_json(struct op *op, struct jw *w)
{
	jw_key(w, "message");
	jw_str(w, warn_msg(op));
	jw_obj_end(w);
	if (jw_finish(w) == -1)
		buf_fail(w->b);
	http_reply_end(op->req, 200, CT_JSON);
	op_free(op);
}

/* Go's isAuthorizedAdminRequest. */
static bool
is_admin(struct admin *a, struct http_req *req)
{
	const char *user;
	size_t i;

	if (a->o->admin_users.n == 0)
		return true;
	user = http_req_header(req, a->o->acl_header);
	if (user == NULL)
		user = "";
	for (i = 0; i < a->o->admin_users.n; i++)
		if (strcmp(a->o->admin_users.v[i], user) == 0)
			return true;
	return false;
}

/* The host:port of an Origin or Referer URL, in out. */
static int
url_hostport(const char *u, char *out, size_t outlen)
{
	const char *p = strstr(u, "://"), *e;

	if (p == NULL)
		return -1;
	p += 3;
	e = p + strcspn(p, "/?#");
	if (e == p || (size_t)(e - p) >= outlen)
		return -1;
	/* A user:password@ part is not the host. */
	if (memchr(p, '@', (size_t)(e - p)) != NULL)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

/*
 * Beyond Go: a state-changing request must be JSON and come from a page
 * of this very host, which a form or a script on another site cannot
 * forge in a browser.  NULL when it passes, else why.
 */
static const char *
csrf_refusal(struct http_req *req)
{
	const char *ct = http_req_header(req, "Content-Type");
	const char *origin = http_req_header(req, "Origin");
	const char *ref = http_req_header(req, "Referer");
	const char *host = http_req_header(req, "Host");
	char hp[512];
	size_t n;

	if (ct == NULL)
		return "CSRF_REFUSED: Content-Type must be application/json";
	n = strcspn(ct, "; \t");
	if (n != strlen("application/json") ||
	    strncasecmp(ct, "application/json", n) != 0)
		return "CSRF_REFUSED: Content-Type must be application/json";
	if (host == NULL || host[0] == '\0')
		return "CSRF_REFUSED: no Host header";
	if (origin != NULL) {
		if (url_hostport(origin, hp, sizeof(hp)) == -1 ||
		    strcasecmp(hp, host) != 0)
			return "CSRF_REFUSED: Origin is not this host";
		return NULL;
	}
	if (ref != NULL) {
		if (url_hostport(ref, hp, sizeof(hp)) == -1 ||
		    strcasecmp(hp, host) != 0)
			return "CSRF_REFUSED: Referer is not this host";
		return NULL;
	}
	return "CSRF_REFUSED: no Origin or Referer header";
}

/* The CSRF check, then Go's admin check: false when answered. */
static bool
may_act(struct admin *a, struct http_req *req, bool admin_check)
{
	const char *why = csrf_refusal(req);

	if (why != NULL) {
		http_reply_error(req, 403, why);
		return false;
	}
	if (admin_check && !is_admin(a, req)) {
		http_reply_error(req, 403, "FORBIDDEN");
		return false;
	}
	return true;
}

/*
 * Go's json.NewDecoder(body).Decode(&struct{...}) for string members:
 * 0, or -1 with Go's kind of error text in err.
 */
static int
decode_body(struct op *op, const char **keys, const char **vals, size_t n,
    char *err, size_t errlen)
{
	const char *body;
	size_t len, i;
	struct json j;
	int t;
	char *s;

	body = http_req_body(op->req, &len);
	for (i = 0; i < n; i++)
		vals[i] = "";
	if (len == 0 || strspn(body, " \t\r\n") == len) {
		snprintf(err, errlen, "EOF");
		return -1;
	}
	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT) {
		t = json_type(&j, 0) == JSON_PRIMITIVE ?
		    json_prim_kind(&j, 0) : 0;
		if (t == 'n') {
			json_free(&j);
			return 0;
		}
		snprintf(err, errlen, "json: cannot unmarshal %s into Go "
		    "value of type struct", json_type(&j, 0) == JSON_ARRAY ?
		    "array" : json_type(&j, 0) == JSON_STRING ? "string" :
		    t == '0' ? "number" : "bool");
		json_free(&j);
		return -1;
	}
	for (i = 0; i < n; i++) {
		t = json_obj_get_go(&j, 0, keys[i]);
		if (t < 0 || (json_type(&j, t) == JSON_PRIMITIVE &&
		    json_prim_kind(&j, t) == 'n'))
			continue;
		if ((s = json_get_str(&j, t, NULL)) == NULL) {
			snprintf(err, errlen, "json: cannot unmarshal %s into "
			    "Go struct field .%s of type string",
			    json_type(&j, t) == JSON_OBJECT ? "object" :
			    json_type(&j, t) == JSON_ARRAY ? "array" :
			    json_prim_kind(&j, t) == '0' ? "number" : "bool",
			    keys[i]);
			json_free(&j);
			return -1;
		}
		vals[i] = ar_strdup(&op->ar, s);
		free(s);
	}
	json_free(&j);
	return 0;
}

/* The path parameters after a prefix route: one or two segments. */
static int
path_params(struct http_req *req, const char **p1, const char **p2,
    struct arena *ar)
{
	const char *w = http_req_wildcard(req), *sl;

	*p1 = *p2 = NULL;
	if (w == NULL || w[0] == '\0' || w[0] == '/')
		return 0;
	if ((sl = strchr(w, '/')) == NULL) {
		*p1 = ar_strdup(ar, w);
		return 1;
	}
	if (sl[1] == '\0' || strchr(sl + 1, '/') != NULL)
		return -1;
	*p1 = ar_strndup(ar, w, (size_t)(sl - w));
	*p2 = ar_strdup(ar, sl + 1);
	return 2;
}

/*
 * The page and its files.
 */

/* index.html's placeholders, replaced as Go's template fills its own. */
static void
h_index(struct http_req *req, void *arg)
{
	struct admin *a = arg;
	const struct admin_asset *as = admin_asset_find("index.html");
	struct buf *b;
	const unsigned char *p, *e, *q;
	char tmp[64];
	size_t i;

	if (as == NULL) {
		http_reply_error(req, 404, "NOT_FOUND");
		return;
	}
	b = http_reply_begin(req);
	p = as->data;
	e = as->data + as->len;
	while (p < e) {
		q = memchr(p, '{', (size_t)(e - p));
		if (q == NULL || q + 1 >= e || q[1] != '{') {
			q = q == NULL ? e : q + 1;
			buf_add(b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		buf_add(b, p, (size_t)(q - p));
		p = q;
#define TOKEN(t) ((size_t)(e - p) >= sizeof(t) - 1 &&			\
	memcmp(p, t, sizeof(t) - 1) == 0 && (p += sizeof(t) - 1, 1))
		if (TOKEN("{{BASE_PATH}}"))
			buf_add(b, base, strlen(base));
		else if (TOKEN("{{VERSION}}"))
			buf_add(b, NSQ_COMPAT_VERSION,
			    strlen(NSQ_COMPAT_VERSION));
		else if (TOKEN("{{IS_ADMIN}}"))
			buf_addf(b, "%s", is_admin(a, req) ? "true" : "false");
		else if (TOKEN("{{HISTORY_INTERVAL}}")) {
			snprintf(tmp, sizeof(tmp), "%lld", (long long)
			    (a->o->sample_interval / NS_SEC));
			buf_add(b, tmp, strlen(tmp));
		} else if (TOKEN("{{NSQLOOKUPD}}")) {
			struct jw w;

			jw_init(&w, b);
			jw_arr_begin(&w);
			for (i = 0; i < a->o->lookupd.n; i++)
				jw_str(&w, a->o->lookupd.v[i]);
			jw_arr_end(&w);
			if (jw_finish(&w) == -1)
				buf_fail(b);
		} else {
			buf_add(b, p, 1);
			p++;
		}
#undef TOKEN
	}
	http_reply_end(req, 200, "text/html");
}

static void
asset_reply(struct admin *a, struct http_req *req, const char *dir)
{
	const struct admin_asset *as;
	const char *name = http_req_wildcard(req);
	char *path, *fs;
	struct buf *b;
	char chunk[8192];
	ssize_t n;
	int fd;

	if (name == NULL || name[0] == '\0' || strchr(name, '/') != NULL) {
		http_reply_text(req, 404, "NOT_FOUND");
		return;
	}
	if (a->o->dev_static_dir[0] != '\0') {
		/* Go's --dev-static-dir: the files as they are on disk. */
		fs = xasprintf("%s/%s", a->o->dev_static_dir, name);
		fd = open(fs, O_RDONLY | O_CLOEXEC);
		free(fs);
		if (fd == -1) {
			http_reply_text(req, 404, "NOT_FOUND");
			return;
		}
		b = http_reply_begin(req);
		while ((n = read(fd, chunk, sizeof(chunk))) > 0)
			buf_add(b, chunk, (size_t)n);
		close(fd);
		if (n < 0) {
			/* A directory (".."), or a file that cannot be read. */
			http_reply_text(req, 404, "NOT_FOUND");
			return;
		}
		http_reply_end(req, 200, NULL);
		return;
	}
	path = xasprintf("%s/%s", dir, name);
	as = admin_asset_find(path);
	free(path);
	if (as == NULL) {
		http_reply_text(req, 404, "NOT_FOUND");
		return;
	}
	http_reply(req, 200, as->content_type, as->data, as->len);
}

static void
h_static(struct http_req *req, void *arg)
{
	asset_reply(arg, req, "static");
}

static void
h_fonts(struct http_req *req, void *arg)
{
	asset_reply(arg, req, "fonts");
}

static void
h_ping(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_text(req, 200, "OK");
}

/* /topics/:topic[/:channel] and /nodes/:node are the page too. */
static void
h_index_param(struct http_req *req, void *arg)
{
	struct arena ar = { 0 };
	const char *p1, *p2;
	int n = path_params(req, &p1, &p2, &ar);
	bool nodes = strstr(http_req_path(req) + strlen(base), "/nodes/") ==
	    http_req_path(req) + strlen(base);

	ar_free(&ar);
	if (n <= 0 || (nodes && n != 1)) {
		http_reply_error(req, 404, "NOT_FOUND");
		return;
	}
	h_index(req, arg);
}

/*
 * GET /api/topics
 */
static void topics_inactive_next(struct op *);

static void
topics_reply(struct op *op)
{
	struct jw w;

	begin_json(op, &w);
	jw_key(&w, "topics");
	jw_strvec(&w, &op->names);
	end_json(op, &w);
}

static void
topics_inactive_reply(struct op *op)
{
	struct vec *all = op->data;
	struct vec *chans;
	struct jw w;
	size_t i;

	begin_json(op, &w);
	jw_key(&w, "topics");
	jw_obj_begin(&w);
	/* A Go map: keys sorted, as the topic list already is. */
	for (i = 0; i < all[0].n; i++) {
		chans = all[1].v[i];
		if (chans == NULL)
			continue;
		jw_key(&w, all[0].v[i]);
		jw_strvec(&w, chans);
	}
	jw_obj_end(&w);
	end_json(op, &w);
}

static void
topics_inactive_channels(struct op *op)
{
	struct vec *all = op->data, *chans;

	chans = ar_alloc(&op->ar, sizeof(*chans));
	if (op->fatal == NULL)
		*chans = op->names;
	all[1].v[op->flag] = chans;
	op->flag++;
	topics_inactive_next(op);
}

static void
topics_inactive_producers(struct op *op)
{
	if (op->producers.n > 0) {
		op->flag++;
		topics_inactive_next(op);
		return;
	}
	ci_lookupd_topic_channels(op, topics_inactive_channels);
}

/* One topic after the other, as Go asks them. */
static void
topics_inactive_next(struct op *op)
{
	struct vec *all = op->data;

	while ((size_t)op->flag < all[0].n) {
		op->topic = all[0].v[op->flag];
		ci_topic_producers(op, topics_inactive_producers);
		return;
	}
	topics_inactive_reply(op);
}

static void
topics_got(struct op *op)
{
	struct vec *all;
	const char *inactive;
	size_t i;

	if (upstream_failed(op, "get topics"))
		return;
	if (http_query_get(op->req, "inactive", &inactive) != 1 ||
	    strcmp(inactive, "true") != 0) {
		topics_reply(op);
		return;
	}
	all = ar_alloc(&op->ar, 2 * sizeof(*all));
	op->data = all;
	if (op->a->o->lookupd.n == 0) {
		topics_inactive_reply(op);
		return;
	}
	all[0] = op->names;
	vec_make(&op->ar, &all[1]);
	for (i = 0; i < all[0].n; i++)
		vec_push(&op->ar, &all[1], NULL);
	op->flag = 0;
	topics_inactive_next(op);
}

static void
h_api_topics_get(struct http_req *req, void *arg)
{
	struct admin *a = arg;
	struct op *op;

	if (http_query_valid(req) == -1) {
		http_reply_error(req, 400, "invalid URL escape");
		return;
	}
	http_req_hold(req);
	op = op_new(a, req);
	if (a->o->lookupd.n > 0)
		ci_lookupd_topics(op, topics_got);
	else
		ci_nsqd_topics(op, topics_got);
}

/*
 * GET /api/topics/:topic
 */
static void
topic_stats_got(struct op *op)
{
	struct topic_stats *all;
	struct jw w;
	size_t i;

	if (upstream_failed(op, "get topic metadata"))
		return;
	all = ar_alloc(&op->ar, sizeof(*all));
	all->node = all->hostname = "";
	all->topic_name = op->topic;
	for (i = 0; i < op->topics.n; i++)
		topic_stats_add(&op->ar, all, op->topics.v[i]);
	begin_json(op, &w);
	jw_topic_members(&w, all);
	end_json(op, &w);
}

static void
topic_producers_got(struct op *op)
{
	if (upstream_failed(op, "get topic producers"))
		return;
	ci_nsqd_stats(op, op->topic, "", false, topic_stats_got);
}

static void
channel_stats_got(struct op *op)
{
	struct jw w;
	size_t i;

	if (upstream_failed(op, "get channel metadata"))
		return;
	begin_json(op, &w);
	for (i = 0; i < op->chmap_keys.n; i++)
		if (strcmp(op->chmap_keys.v[i], op->channel) == 0) {
			jw_channel_members(&w, op->chmap.v[i]);
			break;
		}
	end_json(op, &w);
}

static void
channel_producers_got(struct op *op)
{
	if (upstream_failed(op, "get topic producers"))
		return;
	ci_nsqd_stats(op, op->topic, op->channel, true, channel_stats_got);
}

/*
 * Actions: POST /api/topics/:topic[/:channel] {"action": ...}, DELETE.
 */
/* Adds the last step's errors to those kept in errs2. */
static void
errs_keep(struct op *op)
{
	size_t i;

	for (i = 0; i < op->errs.n; i++)
		vec_push(&op->ar, &op->errs2, op->errs.v[i]);
	memset(&op->errs, 0, sizeof(op->errs));
}

/*
 * After the topic's producers were asked for: NULL once the 502 is sent
 * (see fatal_reply), else the nsqd query
 * topic=...[&channel=...], that step's errors kept in errs2.
 */
static const char *
producers_query(struct op *op, const char *what)
{
	if (fatal_reply(op, what))
		return NULL;
	op->errs2 = op->errs;
	memset(&op->errs, 0, sizeof(op->errs));
	return op->channel != NULL ? ar_printf(&op->ar,
	    "topic=%s&channel=%s", text_query_escape_ar(op, op->topic),
	    text_query_escape_ar(op, op->channel)) : ar_printf(&op->ar,
	    "topic=%s", text_query_escape_ar(op, op->topic));
}

static void
action_posted(struct op *op)
{
	errs_keep(op);
	if (op->errs2.n > 0) {
		const char *e = errs_join(op, &op->errs2);

		log_warnx("%s", e);
		vec_push(&op->ar, &op->msgs, (void *)e);
	}
	reply_message(op);
}

/* actionHelper: the topic's producers, then the POST to each. */
static void
action_producers(struct op *op)
{
	const char *qs = producers_query(op, ar_printf(&op->ar,
	    "%s topic/channel", op->action));

	if (qs != NULL)
		ci_producers_post(op, op->uri, qs, action_posted);
}

static void
topic_action(struct op *op)
{
	static const char *keys[] = { "action" };
	const char *vals[1];
	char err[256];
	const char *uri, *ev;

	if (decode_body(op, keys, vals, 1, err, sizeof(err)) == -1) {
		op_error(op, 400, ar_strdup(&op->ar, err));
		return;
	}
	op->action = vals[0];
	if (strcmp(vals[0], "pause") == 0) {
		uri = op->channel != NULL ? "channel/pause" : "topic/pause";
		ev = op->channel != NULL ? "pause_channel" : "pause_topic";
	} else if (strcmp(vals[0], "unpause") == 0) {
		uri = op->channel != NULL ? "channel/unpause" :
		    "topic/unpause";
		ev = op->channel != NULL ? "unpause_channel" :
		    "unpause_topic";
	} else if (strcmp(vals[0], "empty") == 0) {
		uri = op->channel != NULL ? "channel/empty" : "topic/empty";
		ev = op->channel != NULL ? "empty_channel" : "empty_topic";
	} else {
		op_error(op, 400, "INVALID_ACTION");
		return;
	}
	/* Go notifies as it acts, whatever comes of it. */
	notify_action(op, ev, op->topic, op->channel, NULL);
	op->uri = uri;
	ci_topic_producers(op, action_producers);
}

/* DeleteTopic / DeleteChannel: producers, lookupd, producers. */
static void
delete_nsqd_done(struct op *op)
{
	action_posted(op);
}

static void
delete_lookupd_done(struct op *op)
{
	errs_keep(op);
	ci_producers_post(op, op->channel != NULL ? "channel/delete" :
	    "topic/delete", op->data, delete_nsqd_done);
}

static void
delete_producers(struct op *op)
{
	const char *qs = producers_query(op, op->channel != NULL ?
	    "delete channel" : "delete topic");

	if (qs == NULL)
		return;
	op->data = (void *)qs;
	ci_lookupd_post(op, op->channel != NULL ? "channel/delete" :
	    "topic/delete", qs, delete_lookupd_done);
}

static void
h_api_topic(struct http_req *req, void *arg)
{
	struct admin *a = arg;
	const char *m = http_req_method(req);
	struct op *op;
	const char *t, *c;
	int n;

	if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0 &&
	    strcmp(m, "DELETE") != 0) {
		http_reply_error(req, 405, "METHOD_NOT_ALLOWED");
		return;
	}
	http_req_hold(req);
	op = op_new(a, req);
	if ((n = path_params(req, &t, &c, &op->ar)) <= 0) {
		op_error(op, 404, "NOT_FOUND");
		return;
	}
	op->topic = t;
	op->channel = c;
	if (strcmp(m, "GET") == 0) {
		ci_topic_producers(op, n == 1 ? topic_producers_got :
		    channel_producers_got);
		return;
	}
	if (!may_act(a, req, true)) {
		op_free(op);
		return;
	}
	if (strcmp(m, "POST") == 0) {
		topic_action(op);
		return;
	}
	notify_action(op, c != NULL ? "delete_channel" : "delete_topic", t,
	    c, NULL);
	ci_topic_producers(op, delete_producers);
}

/*
 * POST /api/topics {"topic": ..., "channel": ...}: CreateTopicChannel.
 */
static void
create_nsqd_done(struct op *op)
{
	action_posted(op);
}

static void
create_producers(struct op *op)
{
	if (fatal_reply(op, "create topic/channel"))
		return;
	errs_keep(op);
	ci_producers_post(op, "channel/create", op->data, create_nsqd_done);
}

static void
create_channel_done(struct op *op)
{
	errs_keep(op);
	/* GetLookupdTopicProducers, even with no nsqlookupd given. */
	op->k = create_producers;
	if (op->a->o->lookupd.n == 0) {
		op->fatal = "failed to query any nsqlookupd: ";
		create_producers(op);
		return;
	}
	ci_topic_producers(op, create_producers);
}

static void
create_topic_done(struct op *op)
{
	op->errs2 = op->errs;
	memset(&op->errs, 0, sizeof(op->errs));
	if (op->channel == NULL) {
		action_posted(op);
		return;
	}
	op->data = ar_printf(&op->ar, "topic=%s&channel=%s",
	    text_query_escape_ar(op, op->topic),
	    text_query_escape_ar(op, op->channel));
	ci_lookupd_post(op, "channel/create", op->data, create_channel_done);
}

static void
h_api_topics_post(struct http_req *req, void *arg)
{
	static const char *keys[] = { "topic", "channel" };
	struct admin *a = arg;
	const char *vals[2];
	char err[256];
	struct op *op;

	if (!may_act(a, req, true))
		return;
	http_req_hold(req);
	op = op_new(a, req);
	if (decode_body(op, keys, vals, 2, err, sizeof(err)) == -1) {
		op_error(op, 400, ar_strdup(&op->ar, err));
		return;
	}
	if (!name_valid(vals[0], strlen(vals[0]))) {
		op_error(op, 400, "INVALID_TOPIC");
		return;
	}
	if (vals[1][0] != '\0' && !name_valid(vals[1], strlen(vals[1]))) {
		op_error(op, 400, "INVALID_CHANNEL");
		return;
	}
	op->topic = vals[0];
	op->channel = vals[1][0] != '\0' ? vals[1] : NULL;
	/* Go notifies once its calls are done; the texts do not differ. */
	notify_action(op, "create_topic", op->topic, NULL, NULL);
	if (op->channel != NULL)
		notify_action(op, "create_channel", op->topic, op->channel,
		    NULL);
	ci_lookupd_post(op, "topic/create", ar_printf(&op->ar, "topic=%s",
	    text_query_escape_ar(op, op->topic)), create_topic_done);
}

/*
 * GET /api/nodes, /api/nodes/:node; DELETE /api/nodes/:node (tombstone).
 */
static void
nodes_got(struct op *op)
{
	struct jw w;
	size_t i;

	if (upstream_failed(op, "get nodes"))
		return;
	begin_json(op, &w);
	jw_key(&w, "nodes");
	if (op->producers.v == NULL)
		jw_null(&w);
	else {
		jw_arr_begin(&w);
		for (i = 0; i < op->producers.n; i++)
			jw_producer(&w, op->producers.v[i]);
		jw_arr_end(&w);
	}
	end_json(op, &w);
}

static void
h_api_nodes(struct http_req *req, void *arg)
{
	struct op *op;

	http_req_hold(req);
	op = op_new(arg, req);
	ci_producers(op, nodes_got);
}

static void
node_stats_got(struct op *op)
{
	struct topic_stats *t;
	struct channel_stats *c;
	int64_t clients = 0, msgs = 0;
	struct jw w;
	size_t i, k;

	if (op->fatal != NULL || op->errs.n > 0) {
		const char *e = op->fatal != NULL ? op->fatal :
		    errs_join(op, &op->errs);

		log_error("failed to get nsqd stats - %s", e);
		op_error(op, 502, ar_printf(&op->ar, "UPSTREAM_ERROR: %s", e));
		return;
	}
	for (i = 0; i < op->topics.n; i++) {
		t = op->topics.v[i];
		for (k = 0; k < t->channels.n; k++) {
			c = t->channels.v[k];
			clients += (int64_t)c->clients.n;
		}
		msgs = wadd(msgs, t->message_count);
	}
	begin_json(op, &w);
	jw_key(&w, "node");
	jw_str(&w, op->node);
	jw_key(&w, "topics");
	if (op->topics.v == NULL)
		jw_null(&w);
	else {
		jw_arr_begin(&w);
		for (i = 0; i < op->topics.n; i++)
			jw_topic(&w, op->topics.v[i]);
		jw_arr_end(&w);
	}
	jw_key(&w, "total_messages");
	jw_int(&w, msgs);
	jw_key(&w, "total_clients");
	jw_int(&w, clients);
	end_json(op, &w);
}

static void
node_producers_got(struct op *op)
{
	struct producer *p = NULL;
	size_t i;

	if (upstream_failed(op, "get producers"))
		return;
	for (i = 0; i < op->producers.n; i++)
		if (strcmp(producer_http_addr(&op->ar, op->producers.v[i]),
		    op->node) == 0) {
			p = op->producers.v[i];
			break;
		}
	if (p == NULL) {
		op_error(op, 404, "NODE_NOT_FOUND");
		return;
	}
	memset(&op->producers, 0, sizeof(op->producers));
	vec_push(&op->ar, &op->producers, p);
	ci_nsqd_stats(op, "", "", true, node_stats_got);
}

static void
tombstone_nsqd_done(struct op *op)
{
	action_posted(op);
}

static void
tombstone_producers(struct op *op)
{
	if (fatal_reply(op, "tombstone node for topic"))
		return;
	errs_keep(op);
	ci_producers_post(op, "topic/delete", ar_printf(&op->ar, "topic=%s",
	    text_query_escape_ar(op, op->topic)), tombstone_nsqd_done);
}

static void
tombstone_lookupd_done(struct op *op)
{
	char **addr = ar_alloc(&op->ar, sizeof(*addr));

	op->errs2 = op->errs;
	memset(&op->errs, 0, sizeof(op->errs));
	addr[0] = (char *)op->node;
	ci_nsqd_producers(op, addr, 1, tombstone_producers);
}

static void
h_api_node(struct http_req *req, void *arg)
{
	static const char *keys[] = { "topic" };
	struct admin *a = arg;
	const char *m = http_req_method(req), *n2, *vals[1];
	char err[256];
	struct op *op;

	if (strcmp(m, "GET") != 0 && strcmp(m, "DELETE") != 0) {
		http_reply_error(req, 405, "METHOD_NOT_ALLOWED");
		return;
	}
	http_req_hold(req);
	op = op_new(a, req);
	if (path_params(req, &op->node, &n2, &op->ar) != 1) {
		op_error(op, 404, "NOT_FOUND");
		return;
	}
	if (strcmp(m, "GET") == 0) {
		ci_producers(op, node_producers_got);
		return;
	}
	if (!may_act(a, req, true)) {
		op_free(op);
		return;
	}
	if (decode_body(op, keys, vals, 1, err, sizeof(err)) == -1) {
		op_error(op, 400, "INVALID_BODY");
		return;
	}
	if (!name_valid(vals[0], strlen(vals[0]))) {
		op_error(op, 400, "INVALID_TOPIC");
		return;
	}
	op->topic = vals[0];
	notify_action(op, "tombstone_topic_producer", op->topic, NULL,
	    op->node);
	ci_lookupd_post(op, "topic/tombstone", ar_printf(&op->ar,
	    "topic=%s&node=%s", text_query_escape_ar(op, op->topic),
	    text_query_escape_ar(op, op->node)), tombstone_lookupd_done);
}

/*
 * GET /api/counter
 */
static int
cmp_counter(const void *a, const void *b)
{
	return strcmp(((char *const *)a)[0], ((char *const *)b)[0]);
}

static void
counter_stats_got(struct op *op)
{
	struct channel_stats *cs, *h;
	struct jw w;
	size_t i, k, m, n = 0;
	/* key, node, topic, channel, and the count. */
	struct row {
		char	*key;
		const char *node, *topic, *channel;
		int64_t	 count;
	} *rows;

	if (upstream_failed(op, "get nsqd stats"))
		return;
	for (i = 0; i < op->chmap.n; i++)
		n += ((struct channel_stats *)op->chmap.v[i])->nodes.n;
	rows = ar_alloc(&op->ar, (n + 1) * sizeof(*rows));
	n = 0;
	for (i = 0; i < op->chmap.n; i++) {
		cs = op->chmap.v[i];
		for (k = 0; k < cs->nodes.n; k++) {
			char *key;

			h = cs->nodes.v[k];
			key = ar_printf(&op->ar, "%s:%s:%s", cs->topic_name,
			    cs->channel_name, h->node);
			for (m = 0; m < n; m++)
				if (strcmp(rows[m].key, key) == 0)
					break;
			if (m == n) {
				rows[n].key = key;
				rows[n].node = h->node;
				rows[n].topic = cs->topic_name;
				rows[n].channel = cs->channel_name;
				n++;
			}
			rows[m].count = wadd(rows[m].count,
			    h->message_count);
		}
	}
	qsort(rows, n, sizeof(*rows), cmp_counter);
	begin_json(op, &w);
	jw_key(&w, "stats");
	jw_obj_begin(&w);
	for (i = 0; i < n; i++) {
		jw_key(&w, rows[i].key);
		jw_obj_begin(&w);
		jw_key(&w, "node");
		jw_str(&w, rows[i].node);
		jw_key(&w, "topic_name");
		jw_str(&w, rows[i].topic);
		jw_key(&w, "channel_name");
		jw_str(&w, rows[i].channel);
		jw_key(&w, "message_count");
		jw_int(&w, rows[i].count);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	end_json(op, &w);
}

static void
counter_producers_got(struct op *op)
{
	if (upstream_failed(op, "get counter producer list"))
		return;
	ci_nsqd_stats(op, "", "", false, counter_stats_got);
}

static void
h_api_counter(struct http_req *req, void *arg)
{
	struct op *op;

	http_req_hold(req);
	op = op_new(arg, req);
	ci_producers(op, counter_producers_got);
}

/* Go asks graphite; there is none here (--graphite-url is refused). */
static void
h_api_graphite(struct http_req *req, void *arg)
{
	const char *metric, *target;

	(void)arg;
	if (http_query_valid(req) == -1) {
		http_reply_error(req, 400, "INVALID_REQUEST");
		return;
	}
	if (http_query_get(req, "metric", &metric) != 1 ||
	    strcmp(metric, "rate") != 0) {
		http_reply_error(req, 400, "INVALID_ARG_METRIC");
		return;
	}
	if (http_query_get(req, "target", &target) != 1) {
		http_reply_error(req, 400, "INVALID_ARG_TARGET");
		return;
	}
	log_error("graphite request failed - no --graphite-url");
	http_reply_error(req, 500, "INTERNAL_ERROR");
}

static void
h_api_history(struct http_req *req, void *arg)
{
	history_reply(arg, req);
}

static void
h_api_history_stats(struct http_req *req, void *arg)
{
	history_reply_stats(arg, req);
}

/*
 * GET/PUT /config/:opt
 */
static bool
cidr_allows(struct admin *a, const char *peer)
{
	unsigned char ip[16];
	char host[64];
	const char *e;
	size_t n;
	int fam, bits, i;

	if (a->cidr_bits < 0)
		return true;
	if (peer[0] == '[') {
		e = strchr(peer, ']');
		if (e == NULL)
			return false;
		n = (size_t)(e - peer - 1);
		if (n >= sizeof(host))
			return false;
		memcpy(host, peer + 1, n);
	} else {
		e = strrchr(peer, ':');
		n = e != NULL ? (size_t)(e - peer) : strlen(peer);
		if (n >= sizeof(host))
			return false;
		memcpy(host, peer, n);
	}
	host[n] = '\0';
	if (inet_pton(AF_INET, host, ip) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, host, ip) == 1) {
		fam = AF_INET6;
		/* A v4-mapped address is the v4 address, as Go sees it. */
		if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(ip, ip + 12, 4);
			fam = AF_INET;
		}
	} else
		return false;
	if (fam != a->cidr_family)
		return false;
	bits = a->cidr_bits;
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff :
		    (unsigned char)(0xff << (8 - bits));

		if ((ip[i] & mask) != (a->cidr_addr[i] & mask))
			return false;
	}
	return true;
}

enum { C_STR, C_BOOL, C_DUR, C_LIST, C_LEVEL };

static const struct copt {
	const char	*name;
	int		 kind;
	size_t		 off;
} copts[] = {
#define O(f) offsetof(struct admin_opts, f)
	{ "log_level", C_LEVEL, O(log_level) },
	{ "log_prefix", C_STR, O(log_prefix) },
	{ "http_address", C_STR, O(http_address) },
	{ "base_path", C_STR, O(base_path) },
	{ "dev_static_dir", C_STR, O(dev_static_dir) },
	{ "graphite_url", C_STR, O(graphite_url) },
	{ "proxy_graphite", C_BOOL, O(proxy_graphite) },
	{ "statsd_prefix", C_STR, O(statsd_prefix) },
	{ "statsd_counter_format", C_STR, O(statsd_counter_format) },
	{ "statsd_gauge_format", C_STR, O(statsd_gauge_format) },
	{ "statsd_interval", C_DUR, O(statsd_interval) },
	{ "nsqlookupd_http_addresses", C_LIST, O(lookupd) },
	{ "nsqd_http_addresses", C_LIST, O(nsqd) },
	{ "http_client_connect_timeout", C_DUR, O(connect_timeout) },
	{ "http_client_request_timeout", C_DUR, O(request_timeout) },
	{ "http_client_tls_insecure_skip_verify", C_BOOL, O(tls_insecure) },
	{ "http_client_tls_root_ca_file", C_STR, O(tls_ca) },
	{ "http_client_tls_cert", C_STR, O(tls_cert) },
	{ "http_client_tls_key", C_STR, O(tls_key) },
	{ "allow_config_from_cidr", C_STR, O(allow_cidr) },
	{ "notification_http_endpoint", C_STR, O(notify_url) },
	{ "acl_http_header", C_STR, O(acl_header) },
	{ "admin_users", C_LIST, O(admin_users) },
	{ "sample_interval", C_DUR, O(sample_interval) },
	{ "history", C_DUR, O(history) },
#undef O
};

static void
config_reply(struct admin *a, struct http_req *req, const struct copt *c)
{
	void *p = (char *)a->o + c->off;
	struct buf *b;
	struct jw w;
	size_t i;

	if (c->kind == C_STR) {
		/* Go's RespondV1 sends a string as it is. */
		const char *s = *(char **)p;

		http_reply(req, 200, "text/plain; charset=utf-8", s,
		    strlen(s));
		return;
	}
	b = http_reply_begin(req);
	jw_init(&w, b);
	switch (c->kind) {
	case C_BOOL:
		jw_bool(&w, *(bool *)p);
		break;
	case C_DUR:
		jw_int(&w, *(int64_t *)p);
		break;
	case C_LEVEL:
		jw_int(&w, log_get_level());
		break;
	default: {
		struct strlist *l = p;

		jw_arr_begin(&w);
		for (i = 0; i < l->n; i++)
			jw_str(&w, l->v[i]);
		jw_arr_end(&w);
	}
	}
	if (jw_finish(&w) == -1)
		buf_fail(b);
	http_reply_end(req, 200, CT_JSON);
}

static void
h_config(struct http_req *req, void *arg)
{
	struct admin *a = arg;
	const char *opt = http_req_wildcard(req), *m = http_req_method(req);
	const char *body;
	size_t len, i;
	int lvl;

	if (strcmp(m, "GET") != 0 && strcmp(m, "PUT") != 0) {
		http_reply_error(req, 405, "METHOD_NOT_ALLOWED");
		return;
	}
	if (opt == NULL || opt[0] == '\0' || strchr(opt, '/') != NULL) {
		http_reply_error(req, 404, "NOT_FOUND");
		return;
	}
	if (strcmp(m, "PUT") == 0 && !may_act(a, req, false))
		return;
	if (!cidr_allows(a, http_req_peer(req))) {
		http_reply_error(req, 403, "FORBIDDEN");
		return;
	}
	if (strcmp(m, "PUT") == 0) {
		body = http_req_body(req, &len);
		if (len == 0) {
			http_reply_error(req, 413, "INVALID_VALUE");
			return;
		}
		if (strcmp(opt, "nsqlookupd_http_addresses") == 0) {
			struct json j;
			struct strlist l = { 0 };
			char err[128], *s;
			int t, k;

			if (json_parse(&j, body, len, err, sizeof(err)) == -1) {
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
			if (json_type(&j, 0) == JSON_ARRAY) {
				for (k = 0; k < json_size(&j, 0); k++) {
					t = json_arr_at(&j, 0, k);
					s = json_get_str(&j, t, NULL);
					if (s == NULL)
						break;
					strlist_add(&l, s);
					free(s);
				}
			}
			if ((json_type(&j, 0) != JSON_ARRAY ||
			    (size_t)json_size(&j, 0) != l.n) &&
			    !(json_type(&j, 0) == JSON_PRIMITIVE &&
			    json_prim_kind(&j, 0) == 'n')) {
				json_free(&j);
				strlist_free(&l);
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
			json_free(&j);
			strlist_free(&a->o->lookupd);
			a->o->lookupd = l;
		} else if (strcmp(opt, "log_level") == 0) {
			char lv[16];

			if (len >= sizeof(lv)) {
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
			memcpy(lv, body, len);
			lv[len] = '\0';
			if (strcasecmp(lv, "warning") == 0 ||
			    (lvl = log_parse_level(lv)) == -1) {
				http_reply_error(req, 400, "INVALID_VALUE");
				return;
			}
			log_set_level(lvl);
		} else {
			http_reply_error(req, 400, "INVALID_OPTION");
			return;
		}
	}
	for (i = 0; i < sizeof(copts) / sizeof(copts[0]); i++)
		if (strcmp(copts[i].name, opt) == 0) {
			config_reply(a, req, &copts[i]);
			return;
		}
	http_reply_error(req, 400, "INVALID_OPTION");
}

/*
 * Notifications: Go's AdminAction, POSTed as JSON, none waited for.
 */
static int
b64_decode(const char *s, char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/";
	size_t n = strlen(s), i, o = 0;
	unsigned v = 0;
	int bits = 0, pad = 0;
	const char *p;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			if (i < n - 2)
				return -1;
			pad++;
			continue;
		}
		if (pad > 0 || (p = strchr(tab, s[i])) == NULL || s[i] == '\0')
			return -1;
		v = (v << 6) | (unsigned)(p - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)((v >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return (int)o;
}

/* The notification POST's one header. */
static const char *const notify_hdrs[] = { "Content-Type: application/json" };

static void
notify_done(struct httpc_req *hr, long status, const char *body,
    size_t len, const char *err, void *arg)
{
	struct admin *a = arg;

	(void)hr;
	(void)body;
	(void)len;
	a->notify_pending--;
	if (err != NULL)
		log_error("failed to POST notification - %s", err);
	else if (status / 100 != 2)
		log_warnx("notification endpoint answered %ld", status);
}

void
notify_action(struct op *op, const char *action, const char *topic,
    const char *channel, const char *node)
{
	struct admin *a = op->a;
	struct http_req *req = op->req;
	const char *auth, *ua, *host;
	char user[512], err[256];
	struct buf b;
	struct jw w;
	const char *sp;

	if (a->o->notify_url[0] == '\0')
		return;
	if (a->notify_pending >= NOTIFY_MAX_PENDING) {
		log_error("failed to POST notification - %d still pending",
		    a->notify_pending);
		return;
	}
	user[0] = '\0';
	auth = http_req_header(req, "Authorization");
	if (auth != NULL && strncmp(auth, "Basic ", 6) == 0 &&
	    strlen(auth + 6) < 600 &&
	    b64_decode(auth + 6, user, sizeof(user)) >= 0 &&
	    (sp = strchr(user, ':')) != NULL)
		user[sp - user] = '\0';
	else
		user[0] = '\0';
	ua = http_req_header(req, "User-Agent");
	host = http_req_header(req, "Host");
	buf_init(&b, 0, (size_t)1 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "action");
	jw_str(&w, action);
	jw_key(&w, "topic");
	jw_str(&w, topic);
	if (channel != NULL && channel[0] != '\0') {
		jw_key(&w, "channel");
		jw_str(&w, channel);
	}
	if (node != NULL && node[0] != '\0') {
		jw_key(&w, "node");
		jw_str(&w, node);
	}
	jw_key(&w, "timestamp");
	jw_int(&w, (int64_t)time(NULL));
	if (user[0] != '\0') {
		jw_key(&w, "user");
		jw_str(&w, user);
	}
	jw_key(&w, "remote_ip");
	jw_str(&w, http_req_peer(req));
	jw_key(&w, "user_agent");
	jw_str(&w, ua != NULL ? ua : "");
	jw_key(&w, "url");
	{
		const char *xs = http_req_header(req, "X-Scheme");
		char *u = xasprintf("%s://%s%s", xs != NULL &&
		    strcmp(xs, "https") == 0 ? "https" : "http",
		    host != NULL ? host : "", http_req_uri(req));

		jw_str(&w, u);
		free(u);
	}
	jw_key(&w, "via");
	jw_str(&w, a->hostname);
	jw_obj_end(&w);
	if (jw_finish(&w) == -1) {
		log_error("failed to serialize admin action");
		buf_free(&b);
		return;
	}
	log_info("POSTing notification to %s", a->o->notify_url);
	if (httpc_request(a->hc, "POST", a->o->notify_url, notify_hdrs, 1,
	    buf_data(&b), buf_len(&b),
	    a->o->request_timeout / NS_MS, 1 << 20, notify_done, a, err,
	    sizeof(err)) == NULL)
		log_error("failed to POST notification - %s", err);
	else
		a->notify_pending++;
	buf_free(&b);
}

/*
 * The routes and the server.
 */
static void
access_log(const struct http_req *req, int status, void *arg)
{
	char d[64];

	(void)arg;
	format_duration((int64_t)((ev_now(EV_DEFAULT) -
	    http_req_start(req)) * 1e9), d, sizeof(d));
	log_info("%d %s %s (%s) %s", status, http_req_method(req),
	    http_req_uri(req), http_req_peer(req), d);
}

static struct http_route *routes;
static size_t nroutes;
static char **route_paths;

static void
route(const char *method, const char *path, http_handler fn,
    size_t max_body, const char *too_big)
{
	routes = xreallocarray(routes, nroutes + 1, sizeof(*routes));
	route_paths = xreallocarray(route_paths, nroutes + 1, sizeof(char *));
	route_paths[nroutes] = bp(path);
	routes[nroutes].method = method;
	routes[nroutes].path = route_paths[nroutes];
	routes[nroutes].fn = fn;
	routes[nroutes].max_body = max_body;
	routes[nroutes].too_big = too_big;
	nroutes++;
}

int
api_start(struct admin *a, char *err, size_t errlen)
{
	int fd;

	base = xstrdup(strcmp(a->o->base_path, "/") == 0 ? "" :
	    a->o->base_path);
	route("GET", "/", h_index, 0, NULL);
	route("GET", "/ping", h_ping, 0, NULL);
	route("GET", "/topics", h_index, 0, NULL);
	route("GET", "/topics/*", h_index_param, 0, NULL);
	route("GET", "/nodes", h_index, 0, NULL);
	route("GET", "/nodes/*", h_index_param, 0, NULL);
	route("GET", "/counter", h_index, 0, NULL);
	route("GET", "/lookup", h_index, 0, NULL);
	route("GET", "/static/*", h_static, 0, NULL);
	route("GET", "/fonts/*", h_fonts, 0, NULL);
	route("GET", "/api/topics", h_api_topics_get, 0, NULL);
	route("POST", "/api/topics", h_api_topics_post, 0, NULL);
	route(NULL, "/api/topics/*", h_api_topic, 0, NULL);
	route("GET", "/api/nodes", h_api_nodes, 0, NULL);
	route(NULL, "/api/nodes/*", h_api_node, 0, NULL);
	route("GET", "/api/counter", h_api_counter, 0, NULL);
	route("GET", "/api/graphite", h_api_graphite, 0, NULL);
	route("GET", "/api/history", h_api_history, 0, NULL);
	route("GET", "/api/history/stats", h_api_history_stats, 0, NULL);
	route(NULL, "/config/*", h_config, (size_t)1 << 20, "INVALID_VALUE");

	if ((fd = http_listen(a->o->http_address, err, errlen)) == -1)
		return -1;
	a->srv = http_server_new(a->loop, fd, routes, nroutes, NULL, a);
	http_server_set_log(a->srv, access_log);
	log_info("HTTP: listening on %s", a->o->http_address);
	return 0;
}

void
api_stop(struct admin *a)
{
	size_t i;

	http_server_free(a->srv);
	a->srv = NULL;
	for (i = 0; i < nroutes; i++)
		free(route_paths[i]);
	free(route_paths);
	free(routes);
	free(base);
	routes = NULL;
	route_paths = NULL;
	nroutes = 0;
}
