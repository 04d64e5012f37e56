/*
 * TCP protocol V1, as Go nsqlookupd speaks it (lookup_protocol_v1.go),
 * kept apart from sockets so that the connection code, the unit tests
 * and the fuzzer drive the same engine: bytes go in (v1_input), replies
 * come out in s->out.
 *
 * After the magic "  V1", each command is a line ending in '\n', trimmed
 * of white space at both ends and split on single spaces: PING, IDENTIFY
 * (the line, then [int32 size][JSON]), REGISTER and UNREGISTER.  Replies
 * are [int32 size][data] with no frame type.  Every error is fatal: its
 * text ("<CODE> <description>", Go's words) is the last reply before the
 * connection closes.  A command whose body has not fully arrived is
 * parsed again when more bytes come; nothing happens until it is whole.
 *
 * Where Go has no answer we bound what a client can make us hold: a
 * command line is at most V1_MAX_LINE bytes and an IDENTIFY body at most
 * V1_MAX_BODY (Go reads any length, and panics on a negative one).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "log.h"
#include "names.h"
#include "nsqlookupd.h"
#include "options.h"
#include "xmalloc.h"

#define MAX_PARAMS	4
#define NEED_MORE	(-1)
#define FATAL		(-2)

struct params {
	const char	*v[MAX_PARAMS];
	size_t		 len[MAX_PARAMS];
	size_t		 n;		/* all of them, even past MAX_PARAMS */
};

/*
 * Append one reply: [int32 size][data], whole or not at all (a size
 * without its data would garble every later reply).
 */
static void
reply(struct v1_session *s, const char *data, size_t len)
{
	if (buf_reserve(&s->out, 4 + len) == -1) {
		log_error("[%s] - output buffer full, reply dropped",
		    s->remote);
		return;
	}
	buf_add_u32(&s->out, (uint32_t)len);
	buf_add(&s->out, data, len);
}

/* A fatal error: "<code> <text>" is the last reply. */
static int
fatal_err(struct v1_session *s, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fatal_err(struct v1_session *s, const char *code, const char *fmt, ...)
{
	char text[V1_MAX_LINE + 256];
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text), "%s ", code);
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	log_error("[%s] - %s", s->remote, text);
	reply(s, text, strlen(text));
	s->done = true;
	return FATAL;
}

/*
 * The length of the white-space rune at s[0, n) (Go's unicode.IsSpace:
 * ASCII \t \n \v \f \r and space, U+0085, U+00A0, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000), or 0.
 */
static size_t
space_at(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
	    (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 ||
	    s[2] == 0xa9 || s[2] == 0xaf)) ||
	    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80))
		return 3;
	return 0;
}

/* Go's strings.TrimSpace of [*b, *e). */
static void
trim_space(const char **b, const char **e)
{
	const unsigned char *s = (const unsigned char *)*b;
	const unsigned char *t = (const unsigned char *)*e;
	size_t k, w;

	while (s < t && (w = space_at(s, (size_t)(t - s))) > 0)
		s += w;
	while (s < t) {
		/* A rune ending at t: try each length it could have. */
		for (w = 0, k = 1; k <= 3 && k <= (size_t)(t - s); k++)
			if (space_at(t - k, k) == k) {
				w = k;
				break;
			}
		if (w == 0)
			break;
		t -= w;
	}
	*b = (const char *)s;
	*e = (const char *)t;
}

static bool
param_is(const struct params *p, size_t i, const char *s)
{
	return i < p->n && i < MAX_PARAMS && p->len[i] == strlen(s) &&
	    memcmp(p->v[i], s, p->len[i]) == 0;
}

/* Parameter i (a validated name, so free of NULs) as a C string. */
static void
param_str(const struct params *p, size_t i, char *dst, size_t len)
{
	size_t n = 0;

	if (i < p->n && i < MAX_PARAMS)
		n = p->len[i] < len - 1 ? p->len[i] : len - 1;
	if (n > 0)
		memcpy(dst, p->v[i], n);
	dst[n] = '\0';
}

static int
cmd_ping(struct v1_session *s, struct params *p, const char *rest,
    size_t restlen, int64_t now)
{
	(void)p;
	(void)rest;
	(void)restlen;
	if (s->peer != NULL) {
		char ago[64];

		/* An IDENTIFY may come after a PING on the same connection. */
		if (log_get_level() <= LOG_LEVEL_DEBUG) {
			format_duration(now - s->peer->last_update, ago,
			    sizeof(ago));
			log_debug("CLIENT(%s): pinged (last ping %s)",
			    s->peer->id, ago);
		}
		s->peer->last_update = now;
	}
	reply(s, "OK", 2);
	return 0;
}

/* The JSON members of an IDENTIFY that Go's PeerInfo decodes. */
static const struct {
	const char	*key;
	bool		 is_int;
} peer_fields[] = {
	{ "remote_address", false },
	{ "hostname", false },
	{ "broadcast_address", false },
	{ "tcp_port", true },
	{ "http_port", true },
	{ "version", false },
};

/* ASCII case-insensitive equality, as Go matches keys to fields. */
static bool
key_is(const char *k, size_t klen, const char *name)
{
	return klen == strlen(name) && strncasecmp(k, name, klen) == 0;
}

/*
 * Decode an IDENTIFY body into p as Go's json.Unmarshal into PeerInfo
 * does: an object (or null), keys matched without regard to case, the
 * last of duplicates wins, null leaves a field alone, unknown keys are
 * ignored, and a value of the wrong type anywhere fails.  -1 on failure.
 */
static int
decode_peer(const char *body, size_t len, struct peer *p)
{
	struct json j;
	char err[128], *k, **dst;
	size_t klen;
	int i, n, key, val, f;
	int64_t v;

	if (json_parse(&j, body, len, err, sizeof(err)) == -1)
		return -1;
	if (json_type(&j, 0) == JSON_PRIMITIVE && json_prim_kind(&j, 0) == 'n')
		goto done;
	if (json_type(&j, 0) != JSON_OBJECT)
		goto bad;
	n = json_size(&j, 0);
	for (i = 0; i < n; i++) {
		key = json_obj_key_at(&j, 0, i);
		val = key + 1;
		if ((k = json_get_str(&j, key, &klen)) == NULL)
			goto bad;
		for (f = 0; f < (int)(sizeof(peer_fields) /
		    sizeof(peer_fields[0])); f++)
			if (key_is(k, klen, peer_fields[f].key))
				break;
		free(k);
		if (f == (int)(sizeof(peer_fields) / sizeof(peer_fields[0])) ||
		    json_prim_kind(&j, val) == 'n')
			continue;
		if (peer_fields[f].is_int) {
			if (json_get_int64(&j, val, &v) == -1)
				goto bad;
			if (f == 3)
				p->tcp_port = v;
			else
				p->http_port = v;
			continue;
		}
		if (json_type(&j, val) != JSON_STRING)
			goto bad;
		dst = f == 0 ? &p->remote_address : f == 1 ? &p->hostname :
		    f == 2 ? &p->broadcast_address : &p->version;
		free(*dst);
		/* NUL bytes would cut the text short, as C strings do. */
		*dst = json_get_str(&j, val, NULL);
	}
done:
	json_free(&j);
	return 0;
bad:
	json_free(&j);
	return -1;
}

static int
cmd_identify(struct v1_session *s, struct params *p, const char *rest,
    size_t restlen, int64_t now)
{
	const struct v1_conf *c = s->conf;
	struct peer *peer;
	struct buf b;
	struct jw w;
	int32_t size;

	(void)p;
	if (s->peer != NULL)
		return fatal_err(s, "E_INVALID", "cannot IDENTIFY again");
	if (restlen < 4)
		return NEED_MORE;
	size = (int32_t)be32dec(rest);
	if (size < 0)
		return fatal_err(s, "E_BAD_BODY",
		    "IDENTIFY invalid body size %d", size);
	if (size > V1_MAX_BODY)
		return fatal_err(s, "E_BAD_BODY",
		    "IDENTIFY body too big %d > %d", size, V1_MAX_BODY);
	if (restlen - 4 < (size_t)size)
		return NEED_MORE;

	peer = xcalloc(1, sizeof(*peer));
	if (decode_peer(rest + 4, (size_t)size, peer) == -1) {
		peer_free(peer);
		return fatal_err(s, "E_BAD_BODY",
		    "IDENTIFY failed to decode JSON body");
	}
	free(peer->remote_address);
	peer->remote_address = xstrdup(s->remote);
	peer->id = xstrdup(s->remote);
	if (peer->broadcast_address == NULL ||
	    peer->broadcast_address[0] == '\0' || peer->tcp_port == 0 ||
	    peer->http_port == 0 || peer->version == NULL ||
	    peer->version[0] == '\0') {
		peer_free(peer);
		return fatal_err(s, "E_BAD_BODY", "IDENTIFY missing fields");
	}
	if (peer->hostname == NULL)
		peer->hostname = xstrdup("");
	peer->last_update = now;
	log_info("CLIENT(%s): IDENTIFY Address:%s TCP:%lld HTTP:%lld "
	    "Version:%s", s->remote, peer->broadcast_address,
	    (long long)peer->tcp_port, (long long)peer->http_port,
	    peer->version);
	s->peer = peer;
	if (reg_add_producer(s->reg, "client", "", "", peer))
		log_info("DB: client(%s) REGISTER category:client key: "
		    "subkey:", s->remote);

	/* Go marshals a map: the keys come out sorted. */
	buf_init(&b, 256, 1 << 20);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "broadcast_address");
	jw_str(&w, c->broadcast_address);
	jw_key(&w, "hostname");
	jw_str(&w, c->hostname);
	jw_key(&w, "http_port");
	jw_int(&w, c->http_port);
	jw_key(&w, "tcp_port");
	jw_int(&w, c->tcp_port);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_obj_end(&w);
	if (jw_finish(&w) == 0)
		reply(s, buf_data(&b), buf_len(&b));
	else
		reply(s, "OK", 2);	/* as Go when marshaling fails */
	buf_free(&b);
	return 4 + size;
}

/*
 * Go's getTopicChan: the topic and the optional channel ("" when absent
 * or empty) of REGISTER and UNREGISTER, or a fatal error.
 */
static int
topic_chan(struct v1_session *s, const char *cmd, struct params *p,
    char *topic, char *channel)
{
	if (p->n < 2)
		return fatal_err(s, "E_INVALID",
		    "%s insufficient number of params", cmd);
	if (!name_valid(p->v[1], p->len[1]))
		return fatal_err(s, "E_BAD_TOPIC",
		    "%s topic name '%.*s' is not valid", cmd, (int)p->len[1],
		    p->v[1]);
	if (p->n >= 3 && p->len[2] > 0 && !name_valid(p->v[2], p->len[2]))
		return fatal_err(s, "E_BAD_CHANNEL",
		    "%s channel name '%.*s' is not valid", cmd, (int)p->len[2],
		    p->v[2]);
	param_str(p, 1, topic, NAME_MAX_LEN + 1);
	param_str(p, 2, channel, NAME_MAX_LEN + 1);
	return 0;
}

static int
cmd_register(struct v1_session *s, struct params *p, const char *rest,
    size_t restlen, int64_t now)
{
	char topic[NAME_MAX_LEN + 1], channel[NAME_MAX_LEN + 1];

	(void)rest;
	(void)restlen;
	(void)now;
	if (s->peer == NULL)
		return fatal_err(s, "E_INVALID", "client must IDENTIFY");
	if (topic_chan(s, "REGISTER", p, topic, channel) == FATAL)
		return FATAL;
	if (channel[0] != '\0' &&
	    reg_add_producer(s->reg, "channel", topic, channel, s->peer))
		log_info("DB: client(%s) REGISTER category:channel key:%s "
		    "subkey:%s", s->remote, topic, channel);
	if (reg_add_producer(s->reg, "topic", topic, "", s->peer))
		log_info("DB: client(%s) REGISTER category:topic key:%s "
		    "subkey:", s->remote, topic);
	reply(s, "OK", 2);
	return 0;
}

static int
cmd_unregister(struct v1_session *s, struct params *p, const char *rest,
    size_t restlen, int64_t now)
{
	char topic[NAME_MAX_LEN + 1], channel[NAME_MAX_LEN + 1];
	struct registration *g;
	struct regvec regs = { NULL, 0, 0 };
	size_t i, left;

	(void)rest;
	(void)restlen;
	(void)now;
	if (s->peer == NULL)
		return fatal_err(s, "E_INVALID", "client must IDENTIFY");
	if (topic_chan(s, "UNREGISTER", p, topic, channel) == FATAL)
		return FATAL;
	if (channel[0] != '\0') {
		if ((g = reg_get(s->reg, "channel", topic, channel)) != NULL) {
			if (reg_remove_producer(g, s->peer, &left))
				log_info("DB: client(%s) UNREGISTER "
				    "category:channel key:%s subkey:%s",
				    s->remote, topic, channel);
			/* An ephemeral channel goes with its last producer. */
			if (left == 0 && name_ephemeral(channel,
			    strlen(channel)))
				reg_remove(s->reg, g);
		}
	} else {
		/* Channels go with their topic; nsqd should have said so. */
		reg_find(s->reg, "channel", topic, "*", &regs);
		for (i = 0; i < regs.n; i++)
			if (reg_remove_producer(regs.v[i], s->peer, NULL))
				log_warnx("client(%s) unexpected UNREGISTER "
				    "category:channel key:%s subkey:%s",
				    s->remote, topic, regs.v[i]->subkey);
		regvec_free(&regs);
		if ((g = reg_get(s->reg, "topic", topic, "")) != NULL) {
			if (reg_remove_producer(g, s->peer, &left))
				log_info("DB: client(%s) UNREGISTER "
				    "category:topic key:%s subkey:",
				    s->remote, topic);
			if (left == 0 && name_ephemeral(topic, strlen(topic)))
				reg_remove(s->reg, g);
		}
	}
	reply(s, "OK", 2);
	return 0;
}

static const struct {
	const char	*name;
	int		(*fn)(struct v1_session *, struct params *,
			    const char *, size_t, int64_t);
} commands[] = {
	{ "PING", cmd_ping },
	{ "REGISTER", cmd_register },
	{ "UNREGISTER", cmd_unregister },
	{ "IDENTIFY", cmd_identify },
};

/*
 * Handle the command at the front of data: the bytes it used, 0 when
 * more are needed, FATAL after a fatal error.
 */
static ssize_t
command(struct v1_session *s, const char *data, size_t len, int64_t now)
{
	const char *nl, *b, *e, *sp;
	struct params p;
	size_t linelen, i;
	int r;

	nl = memchr(data, '\n', len < V1_MAX_LINE + 1 ? len : V1_MAX_LINE + 1);
	if (nl == NULL) {
		if (len > V1_MAX_LINE)
			return fatal_err(s, "E_INVALID",
			    "command line too long (over %d bytes)",
			    V1_MAX_LINE);
		return 0;
	}
	linelen = (size_t)(nl - data);
	b = data;
	e = nl;
	trim_space(&b, &e);
	/* Split on single spaces, as Go's strings.Split. */
	p.n = 0;
	for (;;) {
		sp = memchr(b, ' ', (size_t)(e - b));
		if (p.n < MAX_PARAMS) {
			p.v[p.n] = b;
			p.len[p.n] = (size_t)((sp ? sp : e) - b);
		}
		p.n++;
		if (sp == NULL)
			break;
		b = sp + 1;
	}
	if (log_get_level() <= LOG_LEVEL_DEBUG)
		log_debug("PROTOCOL(V1): [%s] %.*s", s->remote,
		    (int)(e - data), data);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (param_is(&p, 0, commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return fatal_err(s, "E_INVALID", "invalid command %.*s",
		    (int)p.len[0], p.v[0]);
	r = commands[i].fn(s, &p, nl + 1, len - linelen - 1, now);
	if (r == NEED_MORE)
		return 0;
	if (r == FATAL)
		return FATAL;
	return (ssize_t)(linelen + 1 + (size_t)r);
}

void
v1_init(struct v1_session *s, struct registry *reg,
    const struct v1_conf *conf, const char *remote)
{
	memset(s, 0, sizeof(*s));
	s->reg = reg;
	s->conf = conf;
	snprintf(s->remote, sizeof(s->remote), "%s", remote);
	/*
	 * Room for the output mark plus the largest reply: an error quoting
	 * a whole line, or IDENTIFY's JSON (escaping may take 6 bytes a byte).
	 */
	buf_init(&s->out, 1024, V1_OUT_HIGH + 2 * V1_MAX_LINE + 4096 +
	    6 * (strlen(conf->broadcast_address) + strlen(conf->hostname)));
}

int
v1_input(struct v1_session *s, struct buf *in, int64_t now)
{
	ssize_t r;

	if (s->done)
		return V1_CLOSE;
	if (!s->got_magic) {
		if (buf_len(in) < 4)
			return V1_NEED_MORE;
		log_info("CLIENT(%s): desired protocol magic '%.4s'",
		    s->remote, buf_data(in));
		if (memcmp(buf_data(in), "  V1", 4) != 0) {
			log_error("client(%s) bad protocol magic '%.4s'",
			    s->remote, buf_data(in));
			reply(s, "E_BAD_PROTOCOL", 14);
			s->done = true;
			return V1_CLOSE;
		}
		buf_consume(in, 4);
		s->got_magic = true;
	}
	while (buf_len(in) > 0) {
		if (buf_len(&s->out) >= V1_OUT_HIGH)
			return V1_PAUSED;
		r = command(s, buf_data(in), buf_len(in), now);
		if (r == FATAL)
			return V1_CLOSE;
		if (r == 0)
			break;
		buf_consume(in, (size_t)r);
	}
	return V1_NEED_MORE;
}

void
v1_eof(struct v1_session *s, const struct buf *in)
{
	const char *data = buf_data(in), *nl, *b, *e;
	size_t len = buf_len(in);
	int32_t size;

	if (s->done)
		return;
	if (!s->got_magic) {
		log_error("failed to read protocol version - %s",
		    len == 0 ? "EOF" : "unexpected EOF");
		return;
	}
	/* Only an IDENTIFY waiting for its body can be whole-lined here. */
	if ((nl = memchr(data, '\n', len)) == NULL)
		return;
	b = data;
	e = nl;
	trim_space(&b, &e);
	if (!((e - b == 8 || (e - b > 8 && b[8] == ' ')) &&
	    memcmp(b, "IDENTIFY", 8) == 0) || s->peer != NULL)
		return;
	len -= (size_t)(nl + 1 - data);
	if (len < 4) {
		fatal_err(s, "E_BAD_BODY", "IDENTIFY failed to read body size");
		return;
	}
	size = (int32_t)be32dec(nl + 1);
	if (size >= 0 && len - 4 < (size_t)size)
		fatal_err(s, "E_BAD_BODY", "IDENTIFY failed to read body");
}

void
v1_end(struct v1_session *s)
{
	struct regvec regs = { NULL, 0, 0 };
	struct registration *g;
	size_t i;

	if (s->peer == NULL)
		return;
	reg_lookup_peer(s->reg, s->peer, &regs);
	for (i = 0; i < regs.n; i++) {
		g = regs.v[i];
		if (reg_remove_producer(g, s->peer, NULL))
			log_info("DB: client(%s) UNREGISTER category:%s key:%s "
			    "subkey:%s", s->remote, g->category, g->key,
			    g->subkey);
	}
	regvec_free(&regs);
	peer_free(s->peer);
	s->peer = NULL;
}

void
v1_free(struct v1_session *s)
{
	v1_end(s);
	buf_free(&s->out);
}
