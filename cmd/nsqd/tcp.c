/*
 * TCP protocol V2: one struct client per connection, driven by libev.
 *
 * Reading: bytes accumulate in c->in; parse() takes whole commands from the
 * front (a line, and for PUB/MPUB/DPUB/IDENTIFY/AUTH a [size][body]), and a
 * command whose body has not fully arrived is parsed again when more bytes
 * come (handlers have no side effects until everything is there).  Sizes
 * are checked against the limits as soon as the 4 size bytes arrive, so an
 * oversize body is refused before it is read.  When the peer's EOF cuts a
 * command short after its line, it gets Go's error for the missing part
 * (Go's failed read of it) before the close.
 *
 * Writing: frames are appended to c->out and written once per loop
 * iteration (nsqd.c's tick), or at once when the buffer passes the
 * client's output_buffer_size.  A client whose socket is full stops
 * receiving messages until it drains.
 *
 * Errors are Go nsqd's, word for word: fatal ones send an error frame and
 * close the connection; E_FIN_FAILED, E_REQ_FAILED and E_TOUCH_FAILED
 * leave it open.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include "nsqd.h"
#include "xmalloc.h"

#define FRAME_RESPONSE	0
#define FRAME_ERROR	1
#define FRAME_MESSAGE	2

#define MAX_LINE	16384	/* a line and its \n: Go nsqd's buffer */
#define MAX_PARAMS	8
#define OUT_HIGH_WATER	(1 << 20)	/* stop delivering above this */
#define NEED_MORE	(-1)
#define FATAL		(-2)

struct params {
	const char	*v[MAX_PARAMS];
	size_t		 len[MAX_PARAMS];
	size_t		 n;
};

static void	read_cb(struct ev_loop *, ev_io *, int);
static void	write_cb(struct ev_loop *, ev_io *, int);
static void	heartbeat_cb(struct ev_loop *, ev_timer *, int);
static void	idle_cb(struct ev_loop *, ev_timer *, int);

/* Where frames go: straight out, or to be compressed/encrypted at flush. */
static struct buf *
frames(struct client *c)
{
	return c->cz != NULL || c->ssl != NULL ? &c->plain : &c->out;
}

/* Bytes waiting to be written, in any stage. */
static size_t
pending(const struct client *c)
{
	return buf_len(&c->out) + buf_len(&c->plain) + buf_len(&c->zbuf);
}

/* Move what OpenSSL wrote to its memory BIO into the output. */
static int
drain_tls(struct client *c)
{
	BIO *w = SSL_get_wbio(c->ssl);
	size_t k;
	int n;

	while ((k = BIO_ctrl_pending(w)) > 0) {
		if (buf_reserve(&c->out, k) == -1)
			return -1;
		n = BIO_read(w, c->out.data + c->out.len, (int)k);
		if (n <= 0)
			return -1;
		c->out.len += (size_t)n;
	}
	return 0;
}

/* Encrypt n plain bytes into the output. */
static int
seal(struct client *c, const char *p, size_t n)
{
	int w;

	while (n > 0) {
		w = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return drain_tls(c);
}

/* Append one frame. */
static void
send_frame(struct client *c, int type, const void *data, size_t len)
{
	unsigned char hdr[8];

	if (c->dead)
		return;
	be32enc(hdr, (uint32_t)(len + 4));
	be32enc(hdr + 4, (uint32_t)type);
	if (buf_append(frames(c), hdr, sizeof(hdr)) == -1 ||
	    buf_append(frames(c), data, len) == -1) {
		client_close(c, "output buffer full");
		return;
	}
	nsqd_mark_dirty(c->nsqd, c);
}

static void
send_response(struct client *c, const char *s)
{
	send_frame(c, FRAME_RESPONSE, s, strlen(s));
}

/*
 * Whether Go's unicode.IsPrint holds for a rune of U+0080 or above.  Exact
 * for Latin-1 (no C1 controls, NBSP or soft hyphen); beyond it the space
 * separators, the common format runes, private use and noncharacters are
 * refused and everything else is taken as printable, which is right for
 * the letters, digits and symbols a name is likely to hold.
 */
static bool
go_isprint(uint32_t r)
{
	if (r < 0x100)
		return r >= 0xa1 && r != 0xad;
	if (r == 0x1680 || r == 0x180e || (r >= 0x2000 && r <= 0x200f) ||
	    (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x206f) ||
	    r == 0x3000 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) ||
	    (r >= 0xe000 && r <= 0xf8ff) || (r >= 0xfdd0 && r <= 0xfdef) ||
	    (r & 0xfffe) == 0xfffe || (r >= 0xe0000 && r <= 0xe007f) ||
	    r >= 0xf0000)
		return false;
	return true;
}

/*
 * Decode one well-formed UTF-8 sequence of two to four bytes at s (RFC
 * 3629: no overlong forms, no surrogates, nothing past U+10FFFF): its
 * length, or 0 when s does not start one (Go then escapes one byte).
 */
static size_t
utf8_rune(const unsigned char *s, size_t n, uint32_t *r)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*r = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*r = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*r = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*r = (*r << 6) | (s[i] & 0x3f);
	}
	return len;
}

/*
 * Append Go's %q of s to b, as strconv.Quote: printable runes as they are,
 * the C escapes (\a \b \f \n \r \t \v), other controls and bytes of
 * invalid UTF-8 as \xXX, other unprintable runes as \uXXXX or \UXXXXXXXX.
 */
static void
quote(struct buf *b, const char *s, size_t n)
{
	static const char cesc[] = "abtnvfr";	/* for 0x07 .. 0x0d */
	const unsigned char *u = (const unsigned char *)s;
	size_t i, len;
	uint32_t r;

	(void)!buf_append(b, "\"", 1);
	for (i = 0; i < n; i += len) {
		unsigned char ch = u[i];

		len = 1;
		if (ch == '"' || ch == '\\')
			(void)!buf_appendf(b, "\\%c", ch);
		else if (ch >= 0x07 && ch <= 0x0d)
			(void)!buf_appendf(b, "\\%c", cesc[ch - 0x07]);
		else if (ch < 0x20 || ch == 0x7f)
			(void)!buf_appendf(b, "\\x%02x", ch);
		else if (ch < 0x80)
			(void)!buf_append(b, &ch, 1);
		else if ((len = utf8_rune(u + i, n - i, &r)) == 0) {
			len = 1;
			(void)!buf_appendf(b, "\\x%02x", ch);
		} else if (go_isprint(r))
			(void)!buf_append(b, u + i, len);
		else if (r < 0x10000)
			(void)!buf_appendf(b, "\\u%04x", (unsigned int)r);
		else
			(void)!buf_appendf(b, "\\U%08x", (unsigned int)r);
	}
	(void)!buf_append(b, "\"", 1);
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

	(void)!buf_appendf(b, "%s ", code);
	if (q != NULL) {
		const char *s = va_arg(ap, const char *);
		size_t n = va_arg(ap, size_t);

		(void)!buf_append(b, fmt, (size_t)(q - fmt));
		quote(b, s, n);
		(void)!buf_append(b, q + 2, strlen(q + 2));
	} else {
		va_list aq;
		char tmp[512];

		va_copy(aq, ap);
		vsnprintf(tmp, sizeof(tmp), fmt, aq);
		va_end(aq);
		(void)!buf_append(b, tmp, strlen(tmp));
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
		ev_io_stop(c->nsqd->loop, &c->rd);
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
		if (v > (INT64_MAX - 9) / 10)
			v = INT64_MAX / 10;
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

static int
cmd_identify(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	struct nsqd_opts *o = c->nsqd->o;
	struct json j;
	char err[128];
	int32_t size;
	int64_t hb = 0, obs = 0, obt = 0, sr = 0, mt = 0, dl = 0, v;
	bool fneg = false, want_deflate = false, want_snappy = false;
	bool want_tls = false, tls;
	int tok, i;
	static const struct {
		const char	*key;
		char		 kind;	/* s string, b bool, i int */
	} fields[] = {
		{ "client_id", 's' }, { "hostname", 's' },
		{ "user_agent", 's' }, { "short_id", 's' },
		{ "long_id", 's' }, { "feature_negotiation", 'b' },
		{ "heartbeat_interval", 'i' }, { "output_buffer_size", 'i' },
		{ "output_buffer_timeout", 'i' }, { "tls_v1", 'b' },
		{ "deflate", 'b' }, { "deflate_level", 'i' },
		{ "snappy", 'b' }, { "sample_rate", 'i' },
		{ "msg_timeout", 'i' },
	};

	(void)p;
	if (c->state != CLIENT_INIT)
		return fatal_err(c, "E_INVALID",
		    "cannot IDENTIFY in current state");
	if (body_size(rest, restlen, &size) == NEED_MORE)
		return short_read(c, "E_BAD_BODY",
		    "IDENTIFY failed to read body size");
	if (size > o->max_body_size)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY body too big %d > %lld", size,
		    (long long)o->max_body_size);
	if (size <= 0)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY invalid body size %d", size);
	if (restlen < 4 + (size_t)size)
		return short_read(c, "E_BAD_BODY",
		    "IDENTIFY failed to read body");

	/* Go's Unmarshal takes a literal null as "no fields". */
	if (json_parse(&j, rest + 4, (size_t)size, err, sizeof(err)) == -1 ||
	    (json_type(&j, 0) != JSON_OBJECT && json_prim_kind(&j, 0) != 'n'))
		goto bad_json;
	/* Every known field must have the type Go's struct gives it. */
	for (i = 0; i < (int)(sizeof(fields) / sizeof(fields[0])); i++) {
		bool bv;

		tok = json_obj_get_go(&j, 0, fields[i].key);
		if (tok == -1 || json_prim_kind(&j, tok) == 'n')
			continue;
		if ((fields[i].kind == 's' &&
		    json_type(&j, tok) != JSON_STRING) ||
		    (fields[i].kind == 'b' && json_get_bool(&j, tok, &bv)) ||
		    (fields[i].kind == 'i' && json_get_int64(&j, tok, &v)))
			goto bad_json;
	}
#define GETSTR(key, dst) do {						\
	tok = json_obj_get_go(&j, 0, key);				\
	free(dst);							\
	dst = (tok == -1 || json_prim_kind(&j, tok) == 'n') ?		\
	    xstrdup("") : json_get_str(&j, tok, NULL);			\
} while (0)
#define GETINT(key, dst) do {						\
	tok = json_obj_get_go(&j, 0, key);				\
	if (tok != -1 && json_prim_kind(&j, tok) == '0')		\
		(void)json_get_int64(&j, tok, &dst);			\
} while (0)
	GETSTR("client_id", c->client_id);
	GETSTR("hostname", c->hostname);
	GETSTR("user_agent", c->user_agent);
	GETINT("heartbeat_interval", hb);
	GETINT("output_buffer_size", obs);
	GETINT("output_buffer_timeout", obt);
	GETINT("sample_rate", sr);
	GETINT("msg_timeout", mt);
	GETINT("deflate_level", dl);
	tok = json_obj_get_go(&j, 0, "feature_negotiation");
	if (tok != -1 && json_prim_kind(&j, tok) == 't')
		fneg = true;
	tok = json_obj_get_go(&j, 0, "deflate");
	if (tok != -1 && json_prim_kind(&j, tok) == 't')
		want_deflate = true;
	tok = json_obj_get_go(&j, 0, "snappy");
	if (tok != -1 && json_prim_kind(&j, tok) == 't')
		want_snappy = true;
	tok = json_obj_get_go(&j, 0, "tls_v1");
	if (tok != -1 && json_prim_kind(&j, tok) == 't')
		want_tls = true;
#undef GETSTR
#undef GETINT
	json_free(&j);
	log_info("[%s] IDENTIFY: client_id=%s hostname=%s user_agent=%s",
	    c->remote, c->client_id, c->hostname, c->user_agent);

	/* Validation in Go's order, with Go's words. */
	if (hb == -1)
		c->heartbeat_ns = 0;
	else if (hb != 0) {
		if (hb < 1000 || hb > o->max_heartbeat_interval / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY heartbeat interval (%lld) is invalid",
			    (long long)hb);
		c->heartbeat_ns = hb * NS_MS;
	}
	if (obt == -1)
		c->output_buffer_timeout_ns = 0;
	else if (obt != 0) {
		if (obt < o->min_output_buffer_timeout / NS_MS ||
		    obt > o->max_output_buffer_timeout / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY output buffer timeout (%lld) is invalid",
			    (long long)obt);
		c->output_buffer_timeout_ns = obt * NS_MS;
	}
	if (obs == -1) {
		c->output_buffer_size = 1;
		c->output_buffer_timeout_ns = 0;
	} else if (obs != 0) {
		if (obs < 64 || obs > o->max_output_buffer_size)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY output buffer size (%lld) is invalid",
			    (long long)obs);
		c->output_buffer_size = obs;
	}
	if (sr < 0 || sr > 99)
		return fatal_err(c, "E_BAD_BODY",
		    "IDENTIFY sample rate (%lld) is invalid", (long long)sr);
	c->sample_rate = (int)sr;
	if (mt != 0) {
		if (mt < 1000 || mt > o->max_msg_timeout / NS_MS)
			return fatal_err(c, "E_BAD_BODY",
			    "IDENTIFY msg timeout (%lld) is invalid",
			    (long long)mt);
		c->msg_timeout_ns = mt * NS_MS;
	}

	/* New heartbeat: re-arm the heartbeat and the read deadline. */
	ev_timer_stop(c->nsqd->loop, &c->hb);
	ev_timer_stop(c->nsqd->loop, &c->idle);
	c->idle.repeat = 0;
	if (c->heartbeat_ns > 0) {
		double s = (double)c->heartbeat_ns / 1e9;

		ev_timer_set(&c->hb, s, s);
		ev_timer_start(c->nsqd->loop, &c->hb);
		c->idle.repeat = 2 * s;
		ev_timer_again(c->nsqd->loop, &c->idle);
	}

	if (!fneg) {
		send_response(c, "OK");
		return 4 + size;
	}
	tls = c->nsqd->ssl_ctx != NULL && want_tls && c->ssl == NULL;
	c->deflate = o->deflate && want_deflate;
	c->snappy = o->snappy && want_snappy;
	if (c->deflate && c->snappy)
		return fatal_err(c, "E_IDENTIFY_FAILED", "IDENTIFY cannot enable "
		    "both deflate and snappy compression");
	if (c->deflate) {
		c->deflate_level = dl > 0 ? (int)dl : 6;
		if (c->deflate_level > o->max_deflate_level)
			c->deflate_level = (int)o->max_deflate_level;
	}
	{
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
		jw_int(&w, c->deflate ? c->deflate_level : 0);
		jw_key(&w, "max_deflate_level");
		jw_int(&w, o->max_deflate_level);
		jw_key(&w, "snappy");
		jw_bool(&w, c->snappy);
		jw_key(&w, "sample_rate");
		jw_int(&w, c->sample_rate);
		jw_key(&w, "auth_required");
		jw_bool(&w, false);
		jw_key(&w, "output_buffer_size");
		jw_int(&w, c->output_buffer_size);
		jw_key(&w, "output_buffer_timeout");
		jw_int(&w, c->output_buffer_timeout_ns / NS_MS);
		jw_obj_end(&w);
		if (jw_finish(&w) == 0)
			send_frame(c, FRAME_RESPONSE, buf_data(&b),
			    buf_len(&b));
		buf_free(&b);
	}
	/*
	 * The JSON went out plain.  Then, in Go's order: the TLS handshake
	 * and OK over TLS, then compression and OK compressed.
	 */
	if ((c->deflate || c->snappy) && c->cz == NULL)
		c->cz_pending = c->deflate ? CZ_DEFLATE : CZ_SNAPPY;
	if (tls) {
		BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());

		if (rb == NULL || wb == NULL ||
		    (c->ssl = SSL_new(c->nsqd->ssl_ctx)) == NULL) {
			BIO_free(rb);
			BIO_free(wb);
			return fatal_err(c, "E_IDENTIFY_FAILED",
			    "IDENTIFY failed to set up TLS");
		}
		SSL_set_bio(c->ssl, rb, wb);
		SSL_set_accept_state(c->ssl);
		c->tls_handshaking = true;
		c->cz_started = false;
		/* Go gives the handshake 5 s. */
		c->idle.repeat = 5.;
		ev_timer_again(c->nsqd->loop, &c->idle);
		return 4 + size;
	}
	if (c->cz_pending >= 0) {
		c->cz = cz_new(c->cz_pending, c->deflate_level);
		c->cz_pending = -1;
		if (c->cz == NULL)
			return fatal_err(c, "E_IDENTIFY_FAILED",
			    "IDENTIFY failed to set up compression");
		send_response(c, "OK");
	}
	return 4 + size;

bad_json:
	json_free(&j);
	return fatal_err(c, "E_BAD_BODY", "IDENTIFY failed to decode JSON body");
}

static int
cmd_auth(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	int64_t max = c->nsqd->o->max_body_size;
	int32_t size;

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
	/* No --auth-http-address support: auth is disabled, as Go says. */
	return fatal_err(c, "E_AUTH_DISABLED", "AUTH Disabled");
}

static int
cmd_sub(struct client *c, struct params *p, const char *rest,
    size_t restlen)
{
	struct topic *t;
	struct channel *ch;

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
		return fatal_err(c, "E_INVALID", "Invalid Message ID");
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
	/* Clamped, not refused, since nsqd 1.1.0. */
	delay = ms > max / NS_MS ? max : ms * NS_MS;
	if (delay != ms * NS_MS)
		log_info("[%s] REQ timeout %lld out of range 0-%lld. "
		    "Setting to %lld", c->remote, (long long)ms * NS_MS,
		    (long long)max, (long long)delay);
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
	code = defer_ns ? "E_DPUB_FAILED" : "E_PUB_FAILED";
	if (c->nsqd->exiting)
		return fatal_err(c, code, "%s failed exiting", cmd);
	if ((t = nsqd_get_topic(c->nsqd, p->v[1], p->len[1])) == NULL)
		return fatal_err(c, code, "%s failed %s", cmd, c->nsqd->health);
	if (topic_put(t, topic_new_body(t, rest + 4, (size_t)size),
	    defer_ns) == -1)
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
	struct topic *t;
	const char *b;
	int32_t size, count, len, i;
	size_t off, avail;

	if (p->n < 2)
		return fatal_err(c, "E_INVALID",
		    "MPUB insufficient number of parameters");
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(c, "E_BAD_TOPIC",
		    "E_BAD_TOPIC MPUB topic name %Q is not valid",
		    p->v[1], p->len[1]);
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
	 * Validate the whole body before queueing anything.  After the
	 * peer's EOF only part of it is here: that part is walked as Go
	 * reads the stream, so the error says which piece was cut short.
	 */
	b = rest + 4;
	avail = restlen - 4 < (size_t)size ? restlen - 4 : (size_t)size;
	if (avail < 4)
		return fatal_err(c, "E_BAD_BODY",
		    "MPUB failed to read message count");
	count = (int32_t)be32dec(b);
	if (count <= 0 || count > (o->max_body_size - 4) / 5)
		return fatal_err(c, "E_BAD_BODY", "MPUB invalid message count %d",
		    count);
	for (i = 0, off = 4; i < count; i++) {
		if (avail - off < 4)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB failed to read message(%d) body size", i);
		len = (int32_t)be32dec(b + off);
		if (len <= 0)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB invalid message(%d) body size %d", i, len);
		if (len > o->max_msg_size)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB message too big %d > %lld", len,
			    (long long)o->max_msg_size);
		if (avail - off - 4 < (size_t)len)
			return fatal_err(c, "E_BAD_MESSAGE",
			    "MPUB failed to read message body");
		off += 4 + (size_t)len;
	}
	if (off != (size_t)size)
		return fatal_err(c, "E_BAD_BODY",
		    "MPUB body size %d does not match its %d messages",
		    size, count);
	if (c->nsqd->exiting)
		return fatal_err(c, "E_MPUB_FAILED", "MPUB failed exiting");
	if ((t = nsqd_get_topic(c->nsqd, p->v[1], p->len[1])) == NULL)
		return fatal_err(c, "E_MPUB_FAILED", "MPUB failed %s",
		    c->nsqd->health);
	for (i = 0, off = 4; i < count; i++) {
		len = (int32_t)be32dec(b + off);
		if (topic_put(t, topic_new_body(t, b + off + 4, (size_t)len),
		    0) == -1)
			return fatal_err(c, "E_MPUB_FAILED", "MPUB failed %s",
			    c->nsqd->health);
		off += 4 + (size_t)len;
	}
	count_pub(c, t, (uint64_t)count);
	published(c);
	return 4 + size;
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

	nl = memchr(data, '\n', len < MAX_LINE ? len : MAX_LINE);
	if (nl == NULL) {
		if (len >= MAX_LINE)
			return fatal_err(c, "E_INVALID",
			    "command line too long (over %d bytes)", MAX_LINE);
		return 0;
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
	if (log_get_level() <= LOG_LEVEL_DEBUG)
		log_debug("PROTOCOL(V2): [%s] %.*s", c->remote,
		    (int)(end - data), data);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (params_is(&p, 0, commands[i].name))
			break;
	}
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

static int take_raw(struct client *, const char *, size_t);

/*
 * IDENTIFY just turned TLS or compression on: whatever the client sent
 * after it is TLS records or compressed already, so it goes through those
 * layers rather than straight to the parser.
 */
static void
start_layers(struct client *c)
{
	struct buf rest;

	c->cz_started = true;
	buf_init(&rest, buf_len(&c->in), buf_len(&c->in) + 1);
	(void)!buf_append(&rest, buf_data(&c->in), buf_len(&c->in));
	buf_reset(&c->in);
	(void)take_raw(c, buf_data(&rest), buf_len(&rest));
	buf_free(&rest);
}

static void
process(struct client *c)
{
	ssize_t r;

	if (!c->got_magic) {
		if (buf_len(&c->in) < 4)
			return;
		if (memcmp(buf_data(&c->in), "  V2", 4) != 0) {
			log_error("client(%s) bad protocol magic '%.4s'",
			    c->remote, buf_data(&c->in));
			send_frame(c, FRAME_ERROR, "E_BAD_PROTOCOL", 14);
			client_flush(c);
			client_close(c, "bad magic");
			return;
		}
		buf_consume(&c->in, 4);
		c->got_magic = true;
		if (c->heartbeat_ns > 0) {
			double s = (double)c->heartbeat_ns / 1e9;

			ev_timer_set(&c->hb, s, s);
			ev_timer_start(c->nsqd->loop, &c->hb);
		}
	}
	while (!c->dead && !c->tls_handshaking && c->last_words == NULL &&
	    buf_len(&c->in) > 0) {
		/*
		 * After EOF the next command may be one cut short, whose
		 * error must not pass the OKs still owed: one at a time.
		 */
		if (c->pending_oks > 0 && (c->eof || !next_is_pub(c)))
			break;
		r = parse(c);
		if (r <= 0)
			break;
		buf_consume(&c->in, (size_t)r);
		if ((c->cz != NULL || c->ssl != NULL) && !c->cz_started)
			start_layers(c);
	}
}

void
client_accept(struct nsqd *n, int fd)
{
	struct client *c = xcalloc(1, sizeof(*c));
	int one = 1;
	size_t maxin;
	char *colon;

	c->nsqd = n;
	c->id = ++n->next_client_id;
	c->fd = fd;
	/* Frames go out whole, once per loop turn: no Nagle delay (as Go). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The largest command: a line and a body of --max-body-size. */
	maxin = MAX_LINE + 4 + (size_t)(n->o->max_body_size >
	    n->o->max_msg_size ? n->o->max_body_size : n->o->max_msg_size);
	buf_init(&c->in, 16384, maxin);
	buf_init(&c->out, 16384, (size_t)1 << 30);
	buf_init(&c->plain, 0, (size_t)1 << 30);
	buf_init(&c->zbuf, 0, (size_t)1 << 30);
	c->cz_pending = -1;
	net_addr_str(fd, 0, c->remote, sizeof(c->remote));
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
	TAILQ_INSERT_TAIL(&n->clients, c, link);

	ev_io_init(&c->rd, read_cb, fd, EV_READ);
	c->rd.data = c;
	ev_io_init(&c->wr, write_cb, fd, EV_WRITE);
	c->wr.data = c;
	ev_init(&c->hb, heartbeat_cb);
	c->hb.data = c;
	/* No magic, or no command, within the client timeout: goodbye. */
	ev_init(&c->idle, idle_cb);
	c->idle.data = c;
	c->idle.repeat = (double)CLIENT_TIMEOUT_NS / 1e9;
	ev_timer_again(n->loop, &c->idle);
	ev_io_start(n->loop, &c->rd);
	log_info("TCP: new client(%s)", c->remote);
}

bool
client_ready(const struct client *c)
{
	return !c->dead && c->state == CLIENT_SUBSCRIBED &&
	    c->in_flight < c->rdy &&
	    !(c->blocked && pending(c) >= OUT_HIGH_WATER);
}

void
client_send_message(struct client *c, struct cmsg *m)
{
	unsigned char hdr[8 + MSG_HEADER_LEN];
	size_t len = MSG_HEADER_LEN + m->b->len;

	be32enc(hdr, (uint32_t)(len + 4));
	be32enc(hdr + 4, FRAME_MESSAGE);
	msg_header_encode(hdr + 8, m->b->ts, m->attempts, m->b->id);
	if (buf_append(frames(c), hdr, sizeof(hdr)) == -1 ||
	    buf_append(frames(c), m->b->data, m->b->len) == -1) {
		client_close(c, "output buffer full");
		return;
	}
	if ((int64_t)pending(c) >= c->output_buffer_size)
		client_flush(c);
	else
		nsqd_mark_dirty(c->nsqd, c);
}

/*
 * Frames -> [compress] -> [encrypt] -> c->out.  -1 when that failed and
 * the connection is closing.
 */
static int
stage(struct client *c)
{
	struct buf *z = c->ssl != NULL ? &c->zbuf : &c->out;
	struct buf *src = &c->plain;

	if (buf_len(&c->plain) == 0)
		return 0;
	if (c->cz != NULL) {
		if (cz_compress(c->cz, buf_data(&c->plain), buf_len(&c->plain),
		    z) == -1) {
			client_close(c, "compression failed");
			return -1;
		}
		buf_reset(&c->plain);
		src = z;
	}
	if (c->ssl != NULL && buf_len(src) > 0) {
		if (seal(c, buf_data(src), buf_len(src)) == -1) {
			client_close(c, "TLS write failed");
			return -1;
		}
		buf_reset(src);
	}
	return 0;
}

/* Write what is buffered; wait for the socket when it is full. */
void
client_flush(struct client *c)
{
	ssize_t n;

	if (stage(c) == -1)
		return;

	while (buf_len(&c->out) > 0) {
		n = buf_write_fd(&c->out, c->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!c->blocked && !c->dead) {
				c->blocked = true;
				ev_io_start(c->nsqd->loop, &c->wr);
			}
			return;
		}
		if (!c->dead)
			log_warn("[%s] write", c->remote);
		buf_reset(&c->out);
		client_close(c, "write error");
		return;
	}
	if (c->blocked) {
		c->blocked = false;
		ev_io_stop(c->nsqd->loop, &c->wr);
		if (c->ch != NULL && !c->dead)
			channel_pump(c->ch);
	}
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	client_flush(w->data);
}

/* Plain bytes from the peer: decompress if need be, into c->in. */
static int
take_plain(struct client *c, const char *p, size_t n)
{
	char err[128];

	if (c->cz != NULL) {
		if (cz_decompress(c->cz, p, n, &c->in, err, sizeof(err)) == 0)
			return 0;
		log_error("[%s] - failed to read command - %s", c->remote, err);
		client_close(c, "bad compressed stream");
		return -1;
	}
	if (buf_append(&c->in, p, n) == 0)
		return 0;
	client_close(c, "input buffer full");
	return -1;
}

/*
 * Advance the TLS handshake; when it completes answer OK over TLS, then
 * turn on the compression IDENTIFY negotiated (Go's order).  -1 when the
 * connection is closing.
 */
static int
tls_step(struct client *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (drain_tls(c) == -1) {
		client_close(c, "TLS output failed");
		return -1;
	}
	nsqd_mark_dirty(c->nsqd, c);
	if (r != 1) {
		int e = SSL_get_error(c->ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		log_error("[%s] - IDENTIFY failed TLS handshake error",
		    c->remote);
		client_close(c, "TLS handshake failed");
		return -1;
	}
	c->tls_handshaking = false;
	c->tls = true;
	log_info("[%s] TLS %s %s", c->remote, SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	/* Back to the usual read deadline. */
	c->idle.repeat = c->heartbeat_ns > 0 ?
	    2 * (double)c->heartbeat_ns / 1e9 : 0;
	if (c->idle.repeat > 0)
		ev_timer_again(c->nsqd->loop, &c->idle);
	else
		ev_timer_stop(c->nsqd->loop, &c->idle);
	send_response(c, "OK");
	if (c->cz_pending >= 0) {
		/* That OK goes out encrypted only; what follows, compressed. */
		if (stage(c) == -1)
			return -1;
		c->cz = cz_new(c->cz_pending, c->deflate_level);
		c->cz_pending = -1;
		c->cz_started = true;
		if (c->cz == NULL) {
			client_close(c, "compression setup failed");
			return -1;
		}
		send_response(c, "OK");
	}
	return 0;
}

/* Raw bytes from the socket through TLS (if on) into c->in. */
static int
take_raw(struct client *c, const char *p, size_t n)
{
	char tmp[16384];
	int r, e;

	if (c->ssl == NULL)
		return take_plain(c, p, n);
	if (n > 0 && BIO_write(SSL_get_rbio(c->ssl), p, (int)n) != (int)n) {
		client_close(c, "TLS input failed");
		return -1;
	}
	if (c->tls_handshaking && (tls_step(c) == -1 || c->tls_handshaking))
		return c->dead ? -1 : 0;
	for (;;) {
		r = SSL_read(c->ssl, tmp, sizeof(tmp));
		if (r > 0) {
			if (take_plain(c, tmp, (size_t)r) == -1)
				return -1;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* close_notify: the peer's EOF; we may still write. */
			c->eof = true;
			break;
		}
		client_close(c, "TLS read failed");
		return -1;
	}
	/* Reading may have produced TLS records to send (key updates). */
	if (drain_tls(c) == -1) {
		client_close(c, "TLS output failed");
		return -1;
	}
	if (buf_len(&c->out) > 0)
		nsqd_mark_dirty(c->nsqd, c);
	return 0;
}

/*
 * The peer has sent its last byte (EOF, or TLS close_notify).  The whole
 * commands still buffered are handled; one cut short after its line gets
 * Go's error for the missing part (a cut line, as in Go, just closes);
 * then the connection closes.  Publishes awaiting their fsync come back
 * here through client_synced.
 */
static void
end_of_input(struct client *c)
{
	c->eof = true;
	ev_io_stop(c->nsqd->loop, &c->rd);
	process(c);
	if (c->dead || c->pending_oks > 0)
		return;
	client_flush(c);
	client_close(c, "EOF");
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client *c = w->data;
	char raw[65536];
	ssize_t n;

	(void)revents;
	if (c->cz != NULL || c->ssl != NULL) {
		n = read(c->fd, raw, sizeof(raw));
		if (n > 0 && take_raw(c, raw, (size_t)n) == -1)
			return;
	} else
		n = buf_read_fd(&c->in, c->fd);
	if (n == 0) {
		end_of_input(c);
		return;
	}
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("[%s] read", c->remote);
		client_close(c, "read error");
		return;
	}
	if (c->idle.repeat > 0)
		ev_timer_again(loop, &c->idle);
	process(c);
	if (c->eof)
		end_of_input(c);
}


void
client_synced(struct client *c, bool ok)
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
		log_error("[%s] - %s", c->remote, c->last_words);
		send_frame(c, FRAME_ERROR, c->last_words,
		    strlen(c->last_words));
		client_flush(c);
		client_close(c, "fatal error");
		return;
	}
	process(c);
	if (c->eof)
		end_of_input(c);
}

static void
heartbeat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_response(w->data, "_heartbeat_");
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client *c = w->data;

	(void)loop;
	(void)revents;
	log_error("[%s] - failed to read command - i/o timeout", c->remote);
	client_close(c, "timeout");
}

/*
 * Begin closing: stop reading and timers and leave the rest to the tick,
 * so no caller up the stack meets a freed client.
 */
void
client_close(struct client *c, const char *why)
{
	struct nsqd *n = c->nsqd;

	if (c->dead)
		return;
	c->dead = true;
	log_info("PROTOCOL(V2): [%s] exiting ioloop (%s)", c->remote, why);
	ev_io_stop(n->loop, &c->rd);
	ev_io_stop(n->loop, &c->wr);
	ev_timer_stop(n->loop, &c->hb);
	ev_timer_stop(n->loop, &c->idle);
	if (c->dirty) {
		TAILQ_REMOVE(&n->dirty, c, dirty_link);
		c->dirty = false;
	}
	if (c->awaiting) {
		TAILQ_REMOVE(&n->awaiting, c, await_link);
		c->awaiting = false;
	}
	TAILQ_REMOVE(&n->clients, c, link);
	TAILQ_INSERT_TAIL(&n->dead, c, link);
}

/* Called by the tick: leave the channel (requeueing), then free. */
void
client_free(struct client *c)
{
	size_t i;

	if (c->ch != NULL)
		channel_remove_client(c->ch, c);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->plain);
	buf_free(&c->zbuf);
	cz_free(c->cz);
	SSL_free(c->ssl);
	for (i = 0; i < c->npubs; i++)
		free(c->pubs[i].topic);
	free(c->pubs);
	free(c->last_words);
	free(c->client_id);
	free(c->hostname);
	free(c->user_agent);
	free(c);
}
