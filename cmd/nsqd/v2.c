/*
 * TCP protocol V2, as Go nsqd speaks it (protocol_v2.go), kept apart from
 * sockets: the connection layer (tcp.c) puts plain bytes in c->in and
 * calls v2_input; frames go out through the client interface (c->ops,
 * client.h), so the unit tests and the fuzzer drive this same engine
 * over plain buffers.
 *
 * Reading: parse() takes whole commands from the front of c->in (a line,
 * and for PUB/MPUB/DPUB/IDENTIFY/AUTH a [size][body]), and a command
 * whose body has not fully arrived is parsed again when more bytes come
 * (handlers have no side effects until everything is there).  Sizes are
 * checked against the limits as soon as the 4 size bytes arrive, so an
 * oversize body is refused before it is read.  When the peer's EOF cuts
 * a command short after its line, it gets Go's error for the missing
 * part (Go's failed read of it) before the close.
 *
 * Errors are Go nsqd's, word for word: fatal ones send an error frame and
 * close the connection; E_FIN_FAILED, E_REQ_FAILED and E_TOUCH_FAILED
 * leave it open.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "compress.h"
#include "frame.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "text.h"
#include "v2.h"
#include "xmalloc.h"

#define MAX_PARAMS	8
#define NEED_MORE	(-1)
#define FATAL		(-2)

struct params {
	const char	*v[MAX_PARAMS];
	size_t		 len[MAX_PARAMS];
	size_t		 n;
};

/* Append one frame where the connection takes them. */
static void
send_frame(struct client *c, int type, const void *data, size_t len)
{
	struct buf *b;
	unsigned char hdr[8];

	if (c->dead)
		return;
	b = c->ops->frames(c);
	be32enc(hdr, (uint32_t)(len + 4));
	be32enc(hdr + 4, (uint32_t)type);
	if (buf_append(b, hdr, sizeof(hdr)) == -1 ||
	    buf_append(b, data, len) == -1) {
		client_close(c, "output buffer full");
		return;
	}
	c->ops->queued(c);
}

static void
send_response(struct client *c, const char *s)
{
	send_frame(c, FRAME_RESPONSE, s, strlen(s));
}

/*
 * "<code> <text>" of an error, into b (initialised).  fmt may use %Q (no
 * other conversions in the same call) for a Go-quoted (ptr, len) name;
 * else it is a printf format.
 */
static void
vformat_error(struct buf *b, const char *code, const char *fmt, va_list ap)
{
	const char *q = strstr(fmt, "%Q");

	buf_addf(b, "%s ", code);
	if (q != NULL) {
		const char *s = va_arg(ap, const char *);
		size_t n = va_arg(ap, size_t);

		buf_add(b, fmt, (size_t)(q - fmt));
		if (text_goquote(b, s, n) == 0)
			buf_add(b, q + 2, strlen(q + 2));
	} else {
		va_list aq;
		char tmp[512];

		va_copy(aq, ap);
		vsnprintf(tmp, sizeof(tmp), fmt, aq);
		va_end(aq);
		buf_add(b, tmp, strlen(tmp));
	}
	/* A name is bounded by the line limit, far below b's: never seen. */
	if (buf_failed(b)) {
		buf_reset(b);
		buf_add(b, code, strlen(code));
	}
}

/* Send an error frame (vformat_error's text). */
static void
vsend_error(struct client *c, const char *code, const char *fmt, va_list ap)
{
	struct buf b;

	buf_init(&b, 128, 1 << 20);
	vformat_error(&b, code, fmt, ap);
	log_error("[%s] - %.*s", c->remote, (int)buf_len(&b), buf_data(&b));
	send_frame(c, FRAME_ERROR, buf_data(&b), buf_len(&b));
	buf_free(&b);
}

/*
 * A fatal error: the frame, then the connection closes.  In durable mode
 * publishes before it may still await their fsync: their OKs go first,
 * so the error is held (nothing more is read or parsed) until
 * client_synced has answered them.
 */
static int
vfatal_err(struct client *c, const char *code, const char *fmt, va_list ap)
{
	struct buf b;

	if (c->pending_oks > 0) {
		buf_init(&b, 128, 1 << 20);
		vformat_error(&b, code, fmt, ap);
		c->last_words = xstrndup(buf_data(&b), buf_len(&b));
		buf_free(&b);
		c->ops->hold(c);
		return FATAL;
	}
	vsend_error(c, code, fmt, ap);
	client_flush(c);
	client_close(c, code);
	return FATAL;
}

static int
fatal_err(struct client *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal_err(c, code, fmt, ap);
	va_end(ap);
	return FATAL;
}

/*
 * Part of a command is missing: wait for it, or, once the peer has sent
 * its last byte, fail as Go's short read of the missing part does.
 */
static int
short_read(struct client *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!c->eof)
		return NEED_MORE;
	va_start(ap, fmt);
	vfatal_err(c, code, fmt, ap);
	va_end(ap);
	return FATAL;
}

static void
soft_err(struct client *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsend_error(c, code, fmt, ap);
	va_end(ap);
}

/*
 * Go's protocol.ByteToBase10: ASCII digits only ("" is 0).  Values past
 * int64 saturate, which every range check then refuses.
 */
static int
base10(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* Saturates at INT64_MAX, where Go's uint64 would wrap. */
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			v = INT64_MAX;
		else
			v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool
params_is(const struct params *p, size_t i, const char *s)
{
	return p->len[i] == strlen(s) && memcmp(p->v[i], s, p->len[i]) == 0;
}

/* The 4-byte signed size after the line; NEED_MORE if not there yet. */
static int
body_size(const char *rest, size_t restlen, int32_t *size)
{
	if (restlen < 4)
		return NEED_MORE;
	*size = (int32_t)be32dec(rest);
	return 0;
}

/* %.*s of a parameter, for error texts. */
#define P(p, i)	(int)(p)->len[i], (p)->v[i]

static void
count_pub(struct client *c, const struct topic *t, uint64_t n)
{
	size_t i;

	for (i = 0; i < c->npubs; i++) {
		if (strcmp(c->pubs[i].topic, t->name) == 0) {
			c->pubs[i].count += n;
			return;
		}
	}
	c->pubs = xreallocarray(c->pubs, c->npubs + 1, sizeof(*c->pubs));
	c->pubs[c->npubs].topic = xstrdup(t->name);
	c->pubs[c->npubs++].count = n;
}

/*
 * Answer a publish: at once, or in durable mode after the loop turn's
 * group commit has fsynced it (client_synced).
 */
static void
published(struct client *c)
{
	if (!c->nsqd->durable) {
		send_response(c, "OK");
		return;
	}
	c->pending_oks++;
	nsqd_await_sync(c->nsqd, c);
}

/*
 * Whether the next buffered command is a publish.  While publishes await
 * their fsync, only more publishes are taken, so that replies keep the
 * order of the commands.
 */
static bool
next_is_pub(const struct client *c)
{
	const char *d = buf_data(&c->in);
	size_t n = buf_len(&c->in);

	return (n >= 4 && memcmp(d, "PUB ", 4) == 0) ||
	    (n >= 5 && (memcmp(d, "MPUB ", 5) == 0 ||
	    memcmp(d, "DPUB ", 5) == 0));
}

/*
 * IDENTIFY, in steps: read the body, parse its JSON, validate what it
 * asks for, answer (OK, or the negotiated settings as JSON), and turn on
 * TLS or compression.
 */

/* What an IDENTIFY body asks for (Go's identifyDataV2); 0 if absent. */
struct identify {
	char	*client_id;
	char	*hostname;
	char	*user_agent;
	int64_t	 heartbeat_interval;	/* ms; -1 disables */
	int64_t	 output_buffer_size;	/* bytes; -1 disables */
	int64_t	 output_buffer_timeout;	/* ms; -1 disables */
	int64_t	 sample_rate;
	int64_t	 msg_timeout;		/* ms */
	int64_t	 deflate_level;
	bool	 feature_negotiation;
	bool	 tls_v1;
	bool	 deflate;
	bool	 snappy;
};

/* The client's settings that IDENTIFY changes, validated. */
struct identify_set {
	int64_t	 heartbeat_ns;
	int64_t	 output_buffer_size;
	int64_t	 output_buffer_timeout_ns;
	int64_t	 msg_timeout_ns;
	int	 sample_rate;
};

/* Every known field, with the type Go's struct gives it. */
static const struct {
	const char	*key;
	char		 kind;	/* s string, b bool, i int */
} identify_fields[] = {
	{ "client_id", 's' }, { "hostname", 's' },
	{ "user_agent", 's' }, { "short_id", 's' },
	{ "long_id", 's' }, { "feature_negotiation", 'b' },
	{ "heartbeat_interval", 'i' }, { "output_buffer_size", 'i' },
	{ "output_buffer_timeout", 'i' }, { "tls_v1", 'b' },
	{ "deflate", 'b' }, { "deflate_level", 'i' },
	{ "snappy", 'b' }, { "sample_rate", 'i' },
	{ "msg_timeout", 'i' },
};

/* The body's size and then the body: 0 when both are here. */
static int
identify_read(struct client *c, const char *rest, size_t restlen,
    int32_t *size)
{
	int64_t max = c->nsqd->o->max_body_size;

	if (c->state != CLIENT_INIT)
		return fatal_err(c, "E_INVALID",
		    "cannot IDENTIFY in current state");
	if (body_size(rest, restlen, size) == NEED_MORE)
		return short_read(c, "E_BAD_BODY",
		    "IDENTIFY failed to read body size");
	if (*size > max)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY body too big %d > %lld", *size, (long long)max);
	if (*size <= 0)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY invalid body size %d", *size);
	if (restlen < 4 + (size_t)*size)
		return short_read(c, "E_BAD_BODY",
		    "IDENTIFY failed to read body");
	return 0;
}

/* A string field, "" when absent or null (caller frees). */
static char *
json_field_str(const struct json *j, const char *key)
{
	int tok = json_obj_get_go(j, 0, key);

	if (tok == -1 || json_prim_kind(j, tok) == 'n')
		return xstrdup("");
	return json_get_str(j, tok, NULL);
}

/* An integer field, 0 when absent or null. */
static int64_t
json_field_int(const struct json *j, const char *key)
{
	int64_t v = 0;
	int tok = json_obj_get_go(j, 0, key);

	if (tok != -1 && json_prim_kind(j, tok) == '0')
		(void)json_get_int64(j, tok, &v);
	return v;
}

/* A bool field: only a literal true is true. */
static bool
json_field_true(const struct json *j, const char *key)
{
	int tok = json_obj_get_go(j, 0, key);

	return tok != -1 && json_prim_kind(j, tok) == 't';
}

/* Whether every known field present has its Go type. */
static bool
identify_typed(const struct json *j)
{
	size_t i;
	int64_t v;
	bool bv;
	int tok;

	for (i = 0; i < sizeof(identify_fields) /
	    sizeof(identify_fields[0]); i++) {
		tok = json_obj_get_go(j, 0, identify_fields[i].key);
		if (tok == -1 || json_prim_kind(j, tok) == 'n')
			continue;
		if ((identify_fields[i].kind == 's' &&
		    json_type(j, tok) != JSON_STRING) ||
		    (identify_fields[i].kind == 'b' &&
		    json_get_bool(j, tok, &bv)) ||
		    (identify_fields[i].kind == 'i' &&
		    json_get_int64(j, tok, &v)))
			return false;
	}
	return true;
}

/*
 * Decode the JSON body into id (its strings are the caller's to free);
 * -1 when it is no JSON object of the right types.
 */
static int
identify_parse(const char *body, size_t len, struct identify *id)
{
	struct json j;
	char err[128];

	memset(id, 0, sizeof(*id));
	/* Go's Unmarshal takes a literal null as "no fields". */
	if (json_parse(&j, body, len, err, sizeof(err)) == -1 ||
	    (json_type(&j, 0) != JSON_OBJECT && json_prim_kind(&j, 0) != 'n') ||
	    !identify_typed(&j)) {
		json_free(&j);
		return -1;
	}
	id->client_id = json_field_str(&j, "client_id");
	id->hostname = json_field_str(&j, "hostname");
	id->user_agent = json_field_str(&j, "user_agent");
	id->heartbeat_interval = json_field_int(&j, "heartbeat_interval");
	id->output_buffer_size = json_field_int(&j, "output_buffer_size");
	id->output_buffer_timeout = json_field_int(&j,
	    "output_buffer_timeout");
	id->sample_rate = json_field_int(&j, "sample_rate");
	id->msg_timeout = json_field_int(&j, "msg_timeout");
	id->deflate_level = json_field_int(&j, "deflate_level");
	id->feature_negotiation = json_field_true(&j, "feature_negotiation");
	id->deflate = json_field_true(&j, "deflate");
	id->snappy = json_field_true(&j, "snappy");
	id->tls_v1 = json_field_true(&j, "tls_v1");
	json_free(&j);
	return 0;
}

/*
 * Check what id asks for against the limits, in Go's order and with
 * Go's words, starting from the client's settings in *set.
 */
static int
identify_validate(struct client *c, const struct identify *id,
    struct identify_set *set)
{
	const struct nsqd_opts *o = c->nsqd->o;
	int64_t hb = id->heartbeat_interval, obt = id->output_buffer_timeout;
	int64_t obs = id->output_buffer_size, sr = id->sample_rate;
	int64_t mt = id->msg_timeout;

	if (hb == -1)
		set->heartbeat_ns = 0;
	else if (hb != 0) {
		if (hb < 1000 || hb > o->max_heartbeat_interval / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY heartbeat interval (%lld) is invalid",
			    (long long)hb);
		set->heartbeat_ns = hb * NS_MS;
	}
	if (obt == -1)
		set->output_buffer_timeout_ns = 0;
	else if (obt != 0) {
		if (obt < o->min_output_buffer_timeout / NS_MS ||
		    obt > o->max_output_buffer_timeout / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY output buffer timeout (%lld) is invalid",
			    (long long)obt);
		set->output_buffer_timeout_ns = obt * NS_MS;
	}
	if (obs == -1) {
		set->output_buffer_size = 1;
		set->output_buffer_timeout_ns = 0;
	} else if (obs != 0) {
		if (obs < 64 || obs > o->max_output_buffer_size)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY output buffer size (%lld) is invalid",
			    (long long)obs);
		set->output_buffer_size = obs;
	}
	if (sr < 0 || sr > 99)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY sample rate (%lld) is invalid", (long long)sr);
	set->sample_rate = (int)sr;
	if (mt != 0) {
		if (mt < 1000 || mt > o->max_msg_timeout / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY msg timeout (%lld) is invalid",
			    (long long)mt);
		set->msg_timeout_ns = mt * NS_MS;
	}
	return 0;
}

/*
 * Feature negotiation: what the client gets of TLS, deflate and snappy
 * (*tls: whether a handshake follows the reply).
 */
static int
identify_negotiate(struct client *c, const struct identify *id, bool *tls)
{
	const struct nsqd_opts *o = c->nsqd->o;

	*tls = c->nsqd->ssl_ctx != NULL && id->tls_v1 && !c->tls;
	c->deflate = o->deflate && id->deflate;
	c->snappy = o->snappy && id->snappy;
	/*
	 * As Go (protocol_v2.go:398-403): 6 unless deflate is on and the
	 * client asked for a level, capped at --max-deflate-level, and
	 * reported so even when deflate is off.
	 */
	c->deflate_level = c->deflate && id->deflate_level > 0 ?
	    (int)id->deflate_level : 6;
	if (c->deflate_level > o->max_deflate_level)
		c->deflate_level = (int)o->max_deflate_level;
	if (c->deflate && c->snappy)
		return fatal_err(c, "E_IDENTIFY_FAILED", "cannot enable both "
		    "deflate and snappy compression");
	return 0;
}

/* The negotiated settings, as Go's IDENTIFY response JSON. */
static void
identify_reply(struct client *c, bool tls)
{
	const struct nsqd_opts *o = c->nsqd->o;
	struct buf b;
	struct jw w;

	buf_init(&b, 512, 1 << 16);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "max_rdy_count");
	jw_int(&w, o->max_rdy_count);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_key(&w, "max_msg_timeout");
	jw_int(&w, o->max_msg_timeout / NS_MS);
	jw_key(&w, "msg_timeout");
	jw_int(&w, c->msg_timeout_ns / NS_MS);
	jw_key(&w, "tls_v1");
	jw_bool(&w, tls);
	jw_key(&w, "deflate");
	jw_bool(&w, c->deflate);
	jw_key(&w, "deflate_level");
	jw_int(&w, c->deflate_level);
	jw_key(&w, "max_deflate_level");
	jw_int(&w, o->max_deflate_level);
	jw_key(&w, "snappy");
	jw_bool(&w, c->snappy);
	jw_key(&w, "sample_rate");
	jw_int(&w, c->sample_rate);
	jw_key(&w, "auth_required");
	jw_bool(&w, auth_enabled(c->nsqd));
	jw_key(&w, "output_buffer_size");
	jw_int(&w, c->output_buffer_size);
	jw_key(&w, "output_buffer_timeout");
	jw_int(&w, c->output_buffer_timeout_ns / NS_MS);
	jw_obj_end(&w);
	if (jw_finish(&w) == 0)
		send_frame(c, FRAME_RESPONSE, buf_data(&b), buf_len(&b));
	buf_free(&b);
}

/*
 * The JSON went out plain.  Then, in Go's order: the TLS handshake and
 * OK over TLS (the connection answers when it is done), then compression
 * and OK compressed.  The bytes after this command go through the new
 * layers (the loop in v2_input asks the connection).
 */
static int
identify_upgrade(struct client *c, bool tls)
{
	int cz = -1;

	if ((c->deflate || c->snappy) && !c->compressing)
		cz = c->deflate ? CZ_DEFLATE : CZ_SNAPPY;
	if (tls) {
		if (c->ops->start_tls(c, cz, c->deflate_level) == -1)
			return fatal_err(c, "E_IDENTIFY_FAILED",
			    "IDENTIFY failed to set up TLS");
		c->tls_handshaking = true;
		c->compressing = cz >= 0;
		c->upgraded = true;
		return 0;
	}
	if (cz >= 0) {
		if (c->ops->start_compression(c, cz, c->deflate_level) == -1)
			return fatal_err(c, "E_IDENTIFY_FAILED",
			    "IDENTIFY failed to set up compression");
		c->compressing = true;
		c->upgraded = true;
		send_response(c, "OK");
	}
	return 0;
}

static int
cmd_identify(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	struct identify id;
	struct identify_set set;
	int32_t size = 0;
	bool tls;
	int r;

	(void)p;
	if ((r = identify_read(c, rest, restlen, &size)) != 0)
		return r;
	if (identify_parse(rest + 4, (size_t)size, &id) == -1)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY failed to decode JSON body");
	free(c->client_id);
	free(c->hostname);
	free(c->user_agent);
	c->client_id = id.client_id;
	c->hostname = id.hostname;
	c->user_agent = id.user_agent;
	log_info("[%s] IDENTIFY: client_id=%s hostname=%s user_agent=%s",
	    c->remote, c->client_id, c->hostname, c->user_agent);

	set.heartbeat_ns = c->heartbeat_ns;
	set.output_buffer_size = c->output_buffer_size;
	set.output_buffer_timeout_ns = c->output_buffer_timeout_ns;
	set.msg_timeout_ns = c->msg_timeout_ns;
	set.sample_rate = c->sample_rate;
	if (identify_validate(c, &id, &set) == FATAL)
		return FATAL;
	c->heartbeat_ns = set.heartbeat_ns;
	c->output_buffer_size = set.output_buffer_size;
	c->output_buffer_timeout_ns = set.output_buffer_timeout_ns;
	c->msg_timeout_ns = set.msg_timeout_ns;
	c->sample_rate = set.sample_rate;
	/* New heartbeat: re-arm the heartbeat and the read deadline. */
	c->ops->heartbeat(c, true);

	if (!id.feature_negotiation) {
		send_response(c, "OK");
		return 4 + size;
	}
	if (identify_negotiate(c, &id, &tls) == FATAL)
		return FATAL;
	identify_reply(c, tls);
	if (identify_upgrade(c, tls) == FATAL)
		return FATAL;
	return 4 + size;
}

/*
 * Authorization (Go's CheckAuth and clientV2.Auth/IsAuthorized).  A
 * command that needs the auth servers asks the connection for the query
 * and waits (NEED_MORE, its bytes still in c->in, nothing parsed after
 * it); v2_auth_done stores the answer in c->auth_result and handles the
 * command again, which then takes that answer instead of asking again.
 */
enum { AUTH_R_NONE, AUTH_R_OK, AUTH_R_FAILED };

static bool
has_authorizations(const struct client *c)
{
	return c->auth != NULL && c->auth->nperms > 0;
}

/* Start the query: NEED_MORE while it runs, FATAL if it cannot start. */
static int
auth_ask(struct client *c)
{
	c->auth_wait = true;
	if (c->ops->auth_query != NULL && c->ops->auth_query(c) == 0)
		return NEED_MORE;
	c->auth_wait = false;
	log_warnx("PROTOCOL(V2): [%s] AUTH failed no auth server could be "
	    "queried", c->remote);
	return fatal_err(c, "E_AUTH_FAILED", "AUTH failed");
}

/* The answer for the command that waited, taken once. */
static int
auth_take(struct client *c)
{
	int r = c->auth_result;

	c->auth_result = AUTH_R_NONE;
	return r;
}

/*
 * May cmd act on topic (and channel, for SUB)?  0 yes, NEED_MORE while
 * the authorization is fetched again (past its TTL), FATAL refused.
 */
static int
check_auth(struct client *c, const char *cmd, const char *topic,
    size_t tlen, const char *channel, size_t clen)
{
	struct buf b;
	int r;

	if (!auth_enabled(c->nsqd))
		return 0;
	if (c->auth_result == AUTH_R_NONE) {
		if (!has_authorizations(c))
			return fatal_err(c, "E_AUTH_FIRST",
			    "AUTH required before %s", cmd);
		if (c->auth->expires < ev_now(c->nsqd->loop))
			return auth_ask(c);
	}
	if (auth_take(c) == AUTH_R_FAILED)
		return fatal_err(c, "E_AUTH_FAILED", "AUTH failed");
	if (auth_state_allowed(c->auth, topic, tlen, channel, clen))
		return 0;
	/* Go's "AUTH failed for %s on %q %q". */
	buf_init(&b, 128, 4096);
	buf_addf(&b, "AUTH failed for %s on ", cmd);
	if (text_goquote(&b, topic, tlen) == 0) {
		buf_addf(&b, " ");
		if (text_goquote(&b, channel, clen) == 0)
			buf_add(&b, "", 1);	/* the string's end */
		else
			buf_fail(&b);
	} else
		buf_fail(&b);
	r = fatal_err(c, "E_UNAUTHORIZED", "%s", buf_failed(&b) ?
	    "AUTH failed" : buf_data(&b));
	buf_free(&b);
	return r;
}

/* The auth server's answer is now the client's (Go's c.AuthState). */
static void
auth_set(struct client *c, struct auth_state *st)
{
	auth_state_free(c->auth);
	c->auth = st;
	c->authed = has_authorizations(c);
	c->auth_identity = st->identity;
	c->auth_identity_url = st->identity_url;
}

void
v2_auth_done(struct client *c, struct auth_state *st, const char *err)
{
	c->auth_wait = false;
	if (c->dead) {
		auth_state_free(st);
		return;
	}
	if (st != NULL) {
		st->expires = ev_now(c->nsqd->loop) + (double)st->ttl;
		auth_set(c, st);
		c->auth_result = AUTH_R_OK;
	} else {
		/* Go keeps the auth server's words out of the client's. */
		log_warnx("PROTOCOL(V2): [%s] AUTH failed %s", c->remote,
		    err != NULL ? err : "");
		c->auth_result = AUTH_R_FAILED;
	}
	v2_input(c);
	if (c->eof && !c->auth_wait)
		v2_input_end(c);
}

static int
cmd_auth(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	int64_t max = c->nsqd->o->max_body_size;
	int32_t size;
	char *reply;

	if (c->state != CLIENT_INIT)
		return fatal_err(c, "E_INVALID",
		    "cannot AUTH in current state");
	if (p->n != 1)
		return fatal_err(c, "E_INVALID",
		    "AUTH invalid number of parameters");
	if (body_size(rest, restlen, &size) == NEED_MORE)
		return short_read(c, "E_BAD_BODY",
		    "AUTH failed to read body size");
	if (size > max)
		return fatal_err(c, "E_BAD_BODY", "AUTH body too big %d > %lld",
		    size, (long long)max);
	if (size <= 0)
		return fatal_err(c, "E_BAD_BODY", "AUTH invalid body size %d",
		    size);
	if (restlen < 4 + (size_t)size)
		return short_read(c, "E_BAD_BODY", "AUTH failed to read body");
	if (c->auth_result == AUTH_R_NONE) {
		if (has_authorizations(c))
			return fatal_err(c, "E_INVALID", "AUTH already set");
		if (!auth_enabled(c->nsqd))
			return fatal_err(c, "E_AUTH_DISABLED", "AUTH disabled");
		free(c->auth_secret);
		c->auth_secret = xstrndup(rest + 4, (size_t)size);
		return auth_ask(c);
	}
	if (auth_take(c) == AUTH_R_FAILED)
		return fatal_err(c, "E_AUTH_FAILED", "AUTH failed");
	if (!has_authorizations(c))
		return fatal_err(c, "E_UNAUTHORIZED",
		    "AUTH no authorizations found");
	log_info("[%s] AUTH: identity=%s identity_url=%s permissions=%zu",
	    c->remote, c->auth->identity, c->auth->identity_url,
	    c->auth->nperms);
	if ((reply = auth_reply_json(c->auth)) == NULL)
		return fatal_err(c, "E_AUTH_ERROR", "AUTH error %s",
		    "encoding the reply");
	send_response(c, reply);
	free(reply);
	return 4 + size;
}

static int
cmd_sub(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	struct topic *t;
	struct channel *ch;
	int r;

	(void)rest;
	(void)restlen;
	if (c->state != CLIENT_INIT)
		return fatal_err(c, "E_INVALID", "cannot SUB in current state");
	if (c->heartbeat_ns <= 0)
		return fatal_err(c, "E_INVALID",
		    "cannot SUB with heartbeats disabled");
	if (p->n < 3)
		return fatal_err(c, "E_INVALID",
		    "SUB insufficient number of parameters");
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(c, "E_BAD_TOPIC", "SUB topic name %Q is not valid",
		    p->v[1], p->len[1]);
	if (!name_valid(p->v[2], p->len[2]))
		return fatal_err(c, "E_BAD_CHANNEL",
		    "SUB channel name %Q is not valid", p->v[2], p->len[2]);
	if ((r = check_auth(c, "SUB", p->v[1], p->len[1], p->v[2],
	    p->len[2])) != 0)
		return r;
	if (c->nsqd->exiting)
		return fatal_err(c, "E_SUB_FAILED", "SUB failed exiting");
	if ((t = nsqd_get_topic(c->nsqd, p->v[1], p->len[1])) == NULL ||
	    (ch = topic_get_channel(t, p->v[2], p->len[2])) == NULL)
		return fatal_err(c, "E_SUB_FAILED", "SUB failed %s",
		    c->nsqd->health);
	if (channel_add_client(ch, c) == -1) {
		fatal_err(c, "E_SUB_FAILED",
		    "SUB failed consumers for %s:%s exceeds limit of %lld",
		    t->name, ch->name,
		    (long long)c->nsqd->o->max_channel_consumers);
		/* A new ephemeral channel nobody could join goes again. */
		if (ch->ephemeral && ch->nclients == 0)
			topic_delete_channel(t, ch);
		return FATAL;
	}
	c->ch = ch;
	c->state = CLIENT_SUBSCRIBED;
	send_response(c, "OK");
	return 0;
}

static int
cmd_rdy(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	int64_t count = 1, max = c->nsqd->o->max_rdy_count;

	(void)rest;
	(void)restlen;
	if (c->state == CLIENT_CLOSING)
		return 0;	/* ignored after CLS, as Go */
	if (c->state != CLIENT_SUBSCRIBED)
		return fatal_err(c, "E_INVALID", "cannot RDY in current state");
	if (p->n > 1 && base10(p->v[1], p->len[1], &count) == -1)
		return fatal_err(c, "E_INVALID", "RDY could not parse count %.*s",
		    P(p, 1));
	if (count < 0 || count > max)
		return fatal_err(c, "E_INVALID", "RDY count %lld out of range 0-%lld",
		    (long long)count, (long long)max);
	c->rdy = count;
	channel_pump(c->ch);
	return 0;
}

/* FIN, REQ and TOUCH share their checks. */
static int
check_id_cmd(struct client *c, struct params *p, const char *cmd,
    size_t need)
{
	if (c->state != CLIENT_SUBSCRIBED && c->state != CLIENT_CLOSING)
		return fatal_err(c, "E_INVALID", "cannot %s in current state",
		    cmd);
	if (p->n < need)
		return fatal_err(c, "E_INVALID",
		    "%s insufficient number of params", cmd);
	if (p->len[1] != MSG_ID_LEN)
		return fatal_err(c, "E_INVALID", "invalid message ID");
	return 0;
}

static int
cmd_fin(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	const char *why;

	(void)rest;
	(void)restlen;
	if (check_id_cmd(c, p, "FIN", 2) == FATAL)
		return FATAL;
	if (channel_fin(c->ch, c, p->v[1], &why) == -1)
		soft_err(c, "E_FIN_FAILED", "FIN %.*s failed %s", P(p, 1), why);
	return 0;
}

static int
cmd_req(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	int64_t ms, max = c->nsqd->o->max_req_timeout, delay;
	const char *why;

	(void)rest;
	(void)restlen;
	if (check_id_cmd(c, p, "REQ", 3) == FATAL)
		return FATAL;
	if (base10(p->v[2], p->len[2], &ms) == -1)
		return fatal_err(c, "E_INVALID",
		    "REQ could not parse timeout %.*s", P(p, 2));
	/*
	 * Clamped, not refused, since nsqd 1.1.0.  ms * NS_MS is formed
	 * only when it fits: a timeout of 2^63 ms must not overflow.
	 */
	if (ms > max / NS_MS) {
		delay = max;
		log_info("[%s] REQ timeout %lld out of range 0-%lld. "
		    "Setting to %lld", c->remote,
		    ms > INT64_MAX / NS_MS ? (long long)INT64_MAX :
		    (long long)(ms * NS_MS), (long long)max,
		    (long long)delay);
	} else {
		delay = ms * NS_MS;
	}
	if (channel_req(c->ch, c, p->v[1], delay, &why) == -1)
		soft_err(c, "E_REQ_FAILED", "REQ %.*s failed %s", P(p, 1), why);
	return 0;
}

static int
cmd_touch(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	const char *why;

	(void)rest;
	(void)restlen;
	if (check_id_cmd(c, p, "TOUCH", 2) == FATAL)
		return FATAL;
	if (channel_touch(c->ch, c, p->v[1], &why) == -1)
		soft_err(c, "E_TOUCH_FAILED", "TOUCH %.*s failed %s", P(p, 1),
		    why);
	return 0;
}

static int
cmd_cls(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	(void)p;
	(void)rest;
	(void)restlen;
	if (c->state != CLIENT_SUBSCRIBED)
		return fatal_err(c, "E_INVALID", "cannot CLS in current state");
	c->rdy = 0;
	c->state = CLIENT_CLOSING;
	send_response(c, "CLOSE_WAIT");
	return 0;
}

static int
cmd_nop(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	(void)c;
	(void)p;
	(void)rest;
	(void)restlen;
	return 0;
}

/*
 * PUB and DPUB: one body of at most --max-msg-size.  cmd is "PUB" or
 * "DPUB"; the failure code differs.
 */
static int
pub_one(struct client *c, struct params *p, const char *rest,
    size_t restlen, const char *cmd, int64_t defer_ns)
{
	struct nsqd_opts *o = c->nsqd->o;
	const char *code;
	struct topic *t;
	int32_t size;
	int r;

	if (body_size(rest, restlen, &size) == NEED_MORE)
		return short_read(c, "E_BAD_MESSAGE",
		    "%s failed to read message body size", cmd);
	if (size <= 0)
		return fatal_err(c, "E_BAD_MESSAGE",
		    "%s invalid message body size %d", cmd, size);
	if (size > o->max_msg_size)
		return fatal_err(c, "E_BAD_MESSAGE",
		    "%s message too big %d > %lld", cmd, size,
		    (long long)o->max_msg_size);
	if (restlen < 4 + (size_t)size)
		return short_read(c, "E_BAD_MESSAGE",
		    "%s failed to read message body", cmd);
	if ((r = check_auth(c, cmd, p->v[1], p->len[1], "", 0)) != 0)
		return r;
	code = defer_ns ? "E_DPUB_FAILED" : "E_PUB_FAILED";
	if (c->nsqd->exiting)
		return fatal_err(c, code, "%s failed exiting", cmd);
	if ((t = nsqd_get_topic(c->nsqd, p->v[1], p->len[1])) == NULL)
		return fatal_err(c, code, "%s failed %s", cmd, c->nsqd->health);
	if ((defer_ns > 0 ? topic_put(t, topic_new_body(t, rest + 4,
	    (size_t)size), defer_ns) : topic_publish(t, rest + 4,
	    (size_t)size)) == -1)
		return fatal_err(c, code, "%s failed %s", cmd, c->nsqd->health);
	count_pub(c, t, 1);
	published(c);
	return 4 + size;
}

static int
cmd_pub(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	if (p->n < 2)
		return fatal_err(c, "E_INVALID",
		    "PUB insufficient number of parameters");
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(c, "E_BAD_TOPIC", "PUB topic name %Q is not valid",
		    p->v[1], p->len[1]);
	return pub_one(c, p, rest, restlen, "PUB", 0);
}

static int
cmd_dpub(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	int64_t ms, max = c->nsqd->o->max_req_timeout / NS_MS;

	if (p->n < 3)
		return fatal_err(c, "E_INVALID",
		    "DPUB insufficient number of parameters");
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(c, "E_BAD_TOPIC",
		    "DPUB topic name %Q is not valid", p->v[1], p->len[1]);
	if (base10(p->v[2], p->len[2], &ms) == -1)
		return fatal_err(c, "E_INVALID",
		    "DPUB could not parse timeout %.*s", P(p, 2));
	if (ms < 0 || ms > max)
		return fatal_err(c, "E_INVALID",
		    "DPUB timeout %lld out of range 0-%lld", (long long)ms,
		    (long long)max);
	return pub_one(c, p, rest, restlen, "DPUB", ms * NS_MS);
}

static int
cmd_mpub(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	struct nsqd_opts *o = c->nsqd->o;
	struct topic *t = NULL;
	const char *b;
	int32_t size, count, len, i;
	size_t off, avail;
	int r;

	if (p->n < 2)
		return fatal_err(c, "E_INVALID",
		    "MPUB insufficient number of parameters");
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(c, "E_BAD_TOPIC",
		    "E_BAD_TOPIC MPUB topic name %Q is not valid",
		    p->v[1], p->len[1]);
	/* Go asks before it reads the body (protocol_v2.go:828). */
	if ((r = check_auth(c, "MPUB", p->v[1], p->len[1], "", 0)) != 0)
		return r;
	/* Go makes the topic before it reads the body (protocol_v2.go:832). */
	if (!c->nsqd->exiting &&
	    (t = nsqd_get_topic(c->nsqd, p->v[1], p->len[1])) == NULL)
		return fatal_err(c, "E_MPUB_FAILED", "MPUB failed %s",
		    c->nsqd->health);
	if (body_size(rest, restlen, &size) == NEED_MORE)
		return short_read(c, "E_BAD_BODY",
		    "MPUB failed to read body size");
	if (size <= 0)
		return fatal_err(c, "E_BAD_BODY", "MPUB invalid body size %d",
		    size);
	if (size > o->max_body_size)
		return fatal_err(c, "E_BAD_BODY", "MPUB body too big %d > %lld",
		    size, (long long)o->max_body_size);
	if (restlen < 4 + (size_t)size && !c->eof)
		return NEED_MORE;

	/*
	 * As Go's readMPUB (protocol_v2.go:959-1000), the messages are read
	 * from the stream: the body size is only checked against 0 and
	 * --max-body-size, and what the messages take is what is consumed
	 * (bytes past them are the next command; a size too short reads on).
	 * The whole is validated before anything is queued, so it must fit
	 * the input buffer: past --max-body-size in all it is refused, where
	 * Go would read on without a bound.  After the peer's EOF, the error
	 * says which piece was cut short.
	 */
	b = rest + 4;
	avail = restlen - 4;
	if (avail < 4)
		return short_read(c, "E_BAD_BODY",
		    "MPUB failed to read message count");
	count = (int32_t)be32dec(b);
	if (count <= 0 || count > (o->max_body_size - 4) / 5)
		return fatal_err(c, "E_BAD_BODY", "MPUB invalid message count %d",
		    count);
	for (i = 0, off = 4; i < count; i++) {
		if (avail - off < 4)
			return short_read(c, "E_BAD_MESSAGE",
			    "MPUB failed to read message(%d) body size", i);
		len = (int32_t)be32dec(b + off);
		if (len <= 0)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB invalid message(%d) body size %d", i, len);
		if (len > o->max_msg_size)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB message too big %d > %lld", len,
			    (long long)o->max_msg_size);
		if (off + 4 + (size_t)len > (size_t)o->max_body_size)
			return fatal_err(c, "E_BAD_BODY",
			    "MPUB body too big %zu > %lld", off + 4 + (size_t)len,
			    (long long)o->max_body_size);
		if (avail - off - 4 < (size_t)len)
			return short_read(c, "E_BAD_MESSAGE",
			    "MPUB failed to read message body");
		off += 4 + (size_t)len;
	}
	if (c->nsqd->exiting || t == NULL)
		return fatal_err(c, "E_MPUB_FAILED", "MPUB failed exiting");
	for (i = 0, off = 4; i < count; i++) {
		len = (int32_t)be32dec(b + off);
		if (topic_publish(t, b + off + 4, (size_t)len) == -1)
			return fatal_err(c, "E_MPUB_FAILED", "MPUB failed %s",
			    c->nsqd->health);
		off += 4 + (size_t)len;
	}
	count_pub(c, t, (uint64_t)count);
	published(c);
	return (int)(4 + off);
}

/* Sorted by how often clients send them. */
static const struct {
	const char	*name;
	int		(*fn)(struct client *, struct params *, const char *,
			    size_t);
} commands[] = {
	{ "FIN", cmd_fin },
	{ "RDY", cmd_rdy },
	{ "REQ", cmd_req },
	{ "PUB", cmd_pub },
	{ "MPUB", cmd_mpub },
	{ "DPUB", cmd_dpub },
	{ "NOP", cmd_nop },
	{ "TOUCH", cmd_touch },
	{ "SUB", cmd_sub },
	{ "CLS", cmd_cls },
	{ "IDENTIFY", cmd_identify },
	{ "AUTH", cmd_auth },
};

/*
 * Handle the command at the front of c->in: its size when done, 0 when
 * more bytes are needed, FATAL when the connection is closing.
 */
static ssize_t
parse(struct client *c)
{
	const char *data = buf_data(&c->in), *nl, *s, *end;
	size_t len = buf_len(&c->in), linelen, i;
	struct params p;
	int r;

	/*
	 * The command a consumer sends most, "FIN <16-byte id>\n", split
	 * as the general case below would split it, without its scans.
	 */
	if (len >= 4 + MSG_ID_LEN + 1 && data[4 + MSG_ID_LEN] == '\n' &&
	    memcmp(data, "FIN ", 4) == 0 && data[3 + MSG_ID_LEN] != '\r' &&
	    memchr(data + 4, ' ', MSG_ID_LEN) == NULL) {
		nl = data + 4 + MSG_ID_LEN;
		linelen = 4 + MSG_ID_LEN;
		end = nl;
		p.n = 2;
		p.v[0] = data;
		p.len[0] = 3;
		p.v[1] = data + 4;
		p.len[1] = MSG_ID_LEN;
		i = 0;			/* commands[0] is FIN */
		goto run;
	}
	nl = memchr(data, '\n', len < V2_MAX_LINE ? len : V2_MAX_LINE);
	if (nl == NULL) {
		if (len < V2_MAX_LINE)
			return 0;
		/*
		 * Go's 16 KiB bufio.Reader is full without a newline: the
		 * read fails and the connection closes with no frame
		 * (protocol_v2.go:64-71).  The log says why.
		 */
		log_error("[%s] - failed to read command - line over %d bytes",
		    c->remote, V2_MAX_LINE);
		if (c->pending_oks > 0) {
			/* The OKs owed go first (v2_synced), as vfatal_err's. */
			c->last_words = xstrdup("");
			c->ops->hold(c);
			return FATAL;
		}
		client_close(c, "command line too long");
		return FATAL;
	}
	linelen = (size_t)(nl - data);
	end = data + linelen;
	if (linelen > 0 && end[-1] == '\r')
		end--;
	/* Split on single spaces, as Go's bytes.Split. */
	p.n = 0;
	for (s = data;; ) {
		const char *sp = memchr(s, ' ', (size_t)(end - s));
		const char *e = sp ? sp : end;

		if (p.n < MAX_PARAMS) {
			p.v[p.n] = s;
			p.len[p.n] = (size_t)(e - s);
		}
		p.n++;
		if (sp == NULL)
			break;
		s = sp + 1;
	}
	if (p.n > MAX_PARAMS)
		p.n = MAX_PARAMS;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (params_is(&p, 0, commands[i].name))
			break;
	}
run:
	if (log_get_level() <= LOG_LEVEL_DEBUG)
		log_debug("PROTOCOL(V2): [%s] %.*s", c->remote,
		    (int)(end - data), data);
	if (i == sizeof(commands) / sizeof(commands[0]))
		return fatal_err(c, "E_INVALID", "invalid command %.*s", P(&p, 0));
	if (c->nsqd->tls_required && !c->tls && commands[i].fn != cmd_identify)
		return fatal_err(c, "E_INVALID",
		    "cannot %s in current state (TLS required)",
		    commands[i].name);
	r = commands[i].fn(c, &p, nl + 1, len - linelen - 1);
	if (r == NEED_MORE)
		return 0;
	if (r == FATAL)
		return FATAL;
	return (ssize_t)(linelen + 1 + (size_t)r);
}

/* More plain input from a compressed stream (client_ops.refill). */
static size_t
refill(struct client *c)
{
	return c->ops->refill != NULL ? c->ops->refill(c) : 0;
}

void
v2_input(struct client *c)
{
	ssize_t r;

	if (!c->got_magic) {
		if (buf_len(&c->in) < 4)
			return;
		if (memcmp(buf_data(&c->in), FRAME_MAGIC_V2, 4) != 0) {
			log_error("client(%s) bad protocol magic '%.4s'",
			    c->remote, buf_data(&c->in));
			send_frame(c, FRAME_ERROR, "E_BAD_PROTOCOL", 14);
			client_flush(c);
			client_close(c, "bad magic");
			return;
		}
		buf_consume(&c->in, 4);
		c->got_magic = true;
		if (c->heartbeat_ns > 0)
			c->ops->heartbeat(c, false);
	}
	while (!c->dead && !c->tls_handshaking && !c->auth_wait &&
	    c->last_words == NULL) {
		if (buf_len(&c->in) == 0 && refill(c) == 0)
			break;
		/*
		 * After EOF the next command may be one cut short, whose
		 * error must not pass the OKs still owed: one at a time.
		 */
		if (c->pending_oks > 0 && (c->eof || !next_is_pub(c)))
			break;
		r = parse(c);
		/* A command cut short: inflate more of it, if there is. */
		if (r == 0 && !c->dead && refill(c) > 0)
			continue;
		if (r <= 0)
			break;
		buf_consume(&c->in, (size_t)r);
		if (c->upgraded) {
			c->upgraded = false;
			c->ops->reread(c);
		}
	}
}

void
v2_input_end(struct client *c)
{
	c->eof = true;
	c->ops->hold(c);
	v2_input(c);
	/* A command waiting for the auth servers ends the input later. */
	if (c->dead || c->pending_oks > 0 || c->auth_wait)
		return;
	client_flush(c);
	client_close(c, "EOF");
}

void
v2_synced(struct client *c, bool ok)
{
	if (c->dead)
		return;
	if (!ok) {
		c->pending_oks = 0;
		fatal_err(c, "E_PUB_FAILED", "PUB failed %s", c->nsqd->health);
		return;
	}
	while (c->pending_oks > 0) {
		send_response(c, "OK");
		c->pending_oks--;
	}
	if (c->last_words != NULL) {
		/* "": a close with no frame (a line past the read buffer). */
		if (c->last_words[0] != '\0') {
			log_error("[%s] - %s", c->remote, c->last_words);
			send_frame(c, FRAME_ERROR, c->last_words,
			    strlen(c->last_words));
		}
		client_flush(c);
		client_close(c, "fatal error");
		return;
	}
	v2_input(c);
	if (c->eof && !c->auth_wait)
		v2_input_end(c);
}

void
v2_response(struct client *c, const char *s)
{
	send_response(c, s);
}

int
v2_message_frame(struct buf *b, const struct cmsg *m)
{
	size_t len = MSG_HEADER_LEN + m->b->len;
	unsigned char *p;

	if ((p = (unsigned char *)buf_space(b, 8 + len)) == NULL)
		return -1;
	be32enc(p, (uint32_t)(len + 4));
	be32enc(p + 4, FRAME_MESSAGE);
	msg_header_encode(p + 8, m->b->ts, m->attempts, m->b->id);
	memcpy(p + 8 + MSG_HEADER_LEN, m->b->data, m->b->len);
	buf_commit(b, 8 + len);
	return 0;
}

void
v2_init(struct client *c, struct nsqd *n, const struct client_ops *ops)
{
	char *colon;

	c->nsqd = n;
	c->ops = ops;
	/* Until IDENTIFY, client_id and hostname are the peer's address. */
	c->client_id = xstrdup(c->remote);
	if ((colon = strrchr(c->client_id, ':')) != NULL)
		*colon = '\0';
	c->hostname = xstrdup(c->client_id);
	c->user_agent = xstrdup("");
	c->state = CLIENT_INIT;
	c->heartbeat_ns = CLIENT_TIMEOUT_NS / 2;
	c->msg_timeout_ns = n->o->msg_timeout;
	c->output_buffer_size = 16384;
	c->output_buffer_timeout_ns = n->o->output_buffer_timeout;
	c->connect_ts = (int64_t)ev_now(n->loop);
	TAILQ_INIT(&c->inflight);
}

void
v2_end(struct client *c)
{
	size_t i;

	if (c->ch != NULL)
		channel_remove_client(c->ch, c);
	for (i = 0; i < c->npubs; i++)
		free(c->pubs[i].topic);
	free(c->pubs);
	auth_state_free(c->auth);
	free(c->auth_secret);
	c->auth = NULL;
	c->auth_secret = NULL;
	c->auth_identity = c->auth_identity_url = NULL;
	free(c->last_words);
	free(c->client_id);
	free(c->hostname);
	free(c->user_agent);
	c->pubs = NULL;
	c->npubs = 0;
	c->last_words = c->client_id = c->hostname = c->user_agent = NULL;
}
