/*
 * HTTP/1.1 server: libev watchers around http-parser.
 *
 * Each connection is a small state machine (enum conn_state).  Bytes read
 * go to a bounded input buffer and are fed to http-parser, whose callbacks
 * copy the request line, headers and body into a struct http_req.  At the
 * end of a message the parser is paused, so the handler runs outside
 * http-parser and nothing after the message is parsed until the request
 * has its reply: that is what keeps pipelined replies in order, and it
 * bounds the memory of a connection to one request plus its input buffer.
 *
 * Ownership.  A request belongs to its connection while the connection
 * lives, except that a request inside its handler or held for a later
 * reply survives the connection: the connection then only clears
 * req->conn, and the dispatcher (after the handler) or the eventual
 * http_reply frees it.  Connections are never freed inside a callback:
 * conn_close stops the watchers and moves the connection to the dead list,
 * and the server's ev_check reaps it.  Work that must follow an
 * asynchronous reply (flushing it, parsing the next pipelined request) is
 * also done by the ev_check, so a handler never runs inside the caller of
 * http_reply.
 *
 * Output is buffered; the write watcher runs only while bytes are pending.
 * Parsing stops while more than HTTP_OUT_HIWAT bytes wait to be written,
 * and reading stops when the input buffer is full, so a client that does
 * not read its replies stalls itself and then times out.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "buffer.h"
#include "http.h"
#include "net.h"
#include "text.h"
#include "xmalloc.h"

#define HTTP_DEF_HEADER_BYTES	(80 * 1024)
#define HTTP_DEF_BODY_BYTES	(5 * 1024 * 1024)
#define HTTP_DEF_IDLE		120.0
#define HTTP_DEF_CONNS		4096
#define HTTP_IN_MAX		(64 * 1024)	/* unparsed input */
/* Parse no more while this much output waits; keep HTTP_OUT_KEEP idle. */
#define HTTP_OUT_HIWAT		(256 * 1024)
#define HTTP_OUT_KEEP		(64 * 1024)
/*
 * The output holds one reply body (up to the reply limit) beyond this:
 * what waits when a handler runs (under HTTP_OUT_HIWAT, a 100 Continue)
 * and the reply's header block.
 */
#define HTTP_OUT_SLACK		(HTTP_OUT_HIWAT + 64 * 1024)
#define HTTP_LINGER		0.5	/* discard input after a close */
#define HTTP_ACCEPT_PAUSE	0.25	/* after EMFILE and such */
#define HTTP_ACCEPT_BATCH	64
#define HTTP_PEER_MAX		64
#define HTTP_DEF_HANDSHAKE	10.0	/* Go's http.Transport default */

#define container_of(p, type, field) \
	((type *)(void *)((char *)(p) - offsetof(type, field)))

enum conn_state {
	CONN_READING,		/* parsing requests, or waiting */
	CONN_HANDLER,		/* a request is handled or held */
	CONN_LINGER,		/* write side shut, input dropped */
	CONN_CLOSING,		/* on the dead list, to be reaped */
};

enum hdr_state {
	HS_NONE,
	HS_FIELD,
	HS_VALUE,
};

/*
 * The framing check: a scan of the raw bytes ahead of http-parser, which
 * (built without HTTP_PARSER_STRICT on Debian) skips the two bytes after
 * chunk data unread and lets other framing slips by.  RFC 9112 has a
 * recipient reject them, and Go's net/http does, so a request that a
 * proxy in front frames otherwise cannot smuggle a second one past us.
 * The head (request line and header lines) is scanned for bare CRs,
 * obs-fold and blanks before a colon; a chunked body for its framing as
 * Go's chunked reader: "size[;ext]" CRLF lines of 1 to 16 hex digits,
 * shorter than 4096 bytes, CRLF after each chunk's data, then the
 * trailers as header lines.  http-parser is fed only what was scanned.
 */
enum frame_mode {
	FR_HEAD,		/* a request's head */
	FR_BODY,		/* a body by Content-Length, or none */
	FR_CHUNKED,		/* a chunked body and its trailers */
};

enum frame_sub {
	FS_PRE,			/* empty lines before the request line */
	FS_REQLINE,
	FS_SOL,			/* start of a header (or trailer) line */
	FS_NAME,
	FS_VALUE,
	FS_CR,			/* a CR: an LF must follow */
	FS_SIZE0,		/* a chunk-size line's first byte */
	FS_SIZE,
	FS_SIZE_WS,		/* blanks after the size */
	FS_EXT,			/* ";ext": ignored, as Go does */
	FS_LINE_CR,		/* CR ending a chunk-size line */
	FS_DATA,
	FS_DATA_CR,		/* the CRLF after chunk data */
	FS_DATA_LF,
	FS_DONE,		/* the section ended: wait for the parser */
};

struct framing {
	enum frame_mode	mode;
	enum frame_sub	sub;
	size_t		off;	/* bytes of the input scanned */
	size_t		linelen;	/* of a chunk-size line */
	uint64_t	size;	/* of the chunk, then what is left of it */
	int		ndigits;
	int		blank;	/* the CR ends an empty line */
};

#define FRAME_LINE_MAX	4096	/* Go's maxLineLength for chunk lines */

struct hfield {
	size_t	name;		/* offsets into req->hdr */
	size_t	value;
};

struct qpair {
	const char	*key;
	const char	*val;
};

struct http_req {
	/* NULL once the connection is gone. */
	struct http_conn	*conn;
	const char		*method;
	struct buf		 url;	/* raw target, NUL-ended */
	char			*path;	/* decoded */
	size_t			 query;	/* its offset in url */
	int			 has_query;
	const char		*wildcard;
	const struct http_route	*route;
	int			 path_known;	/* some route has it */
	struct buf		 hdr;	/* "name\0value\0"... */
	struct hfield		*fields;
	size_t			 nfields;
	size_t			 fieldcap;
	enum hdr_state		 hstate;
	struct buf		 body;
	size_t			 body_max;
	const char		*too_big;
	struct buf		 reply;	/* http_reply_begin's body */
	size_t			 reply_max;
	int			 qstate;	/* 0 not yet, 1, -1 bad */
	char			*qbuf;
	struct qpair		*q;
	size_t			 nq;
	double			 start;
	char			 peer[HTTP_PEER_MAX];
	unsigned int		 keep_alive:1;
	unsigned int		 http10:1;
	unsigned int		 head:1;
	unsigned int		 in_body:1;
	unsigned int		 complete:1;
	unsigned int		 upgrade:1;
	unsigned int		 in_handler:1;
	unsigned int		 held:1;
	unsigned int		 replied:1;
	unsigned int		 plain:1;	/* no X-NSQ-Content-Type */
};

struct http_conn {
	struct http_server	*srv;
	TAILQ_ENTRY(http_conn)	 entry;		/* conns or dead */
	TAILQ_ENTRY(http_conn)	 kentry;	/* kicked */
	int			 fd;
	enum conn_state		 state;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 timer;		/* idle, then linger */
	http_parser		 parser;
	struct framing		 fr;
	struct buf		 in;
	struct buf		 out;
	struct http_req		*req;	/* parsed or handled */
	size_t			 hbytes;	/* req's header bytes */
	int			 fail_status;
	const char		*fail_msg;
	char			 peer[HTTP_PEER_MAX];
	SSL			*ssl;		/* NULL: plain HTTP */
	unsigned int		 rd_eof:1;
	unsigned int		 close_after:1;	/* answer no more */
	unsigned int		 kicked:1;
	unsigned int		 tls_hs:1;	/* handshake under way */
	unsigned int		 tls_hs_wr:1;	/* it waits to write */
	unsigned int		 tls_rd_wr:1;	/* SSL_read would write */
};

TAILQ_HEAD(conn_list, http_conn);

struct http_server {
	struct ev_loop		*loop;
	int			 lfd;
	ev_io			 accept_w;
	ev_timer		 pause_w;
	ev_check		 check_w;
	ev_idle			 idle_w;
	struct http_route	*routes;
	size_t			 nroutes;
	struct http_limits	 lim;
	void			*arg;
	http_log_fn		 logfn;
	http_warn_fn		 warnfn;
	SSL_CTX			*ssl_ctx;	/* NULL: plain HTTP */
	double			 hs_timeout;
	http_tls_fail_fn	 tlsfailfn;
	struct conn_list	 conns;
	struct conn_list	 dead;
	struct conn_list	 kicked;
	int			 nconns;	/* dead ones included */
	int			 accepting;
	int			 paused;
	time_t			 date_t;
	char			 date[40];
};

static int	on_message_begin(http_parser *);
static int	on_url(http_parser *, const char *, size_t);
static int	on_header_field(http_parser *, const char *, size_t);
static int	on_header_value(http_parser *, const char *, size_t);
static int	on_headers_complete(http_parser *);
static int	on_body(http_parser *, const char *, size_t);
static int	on_message_complete(http_parser *);

static const http_parser_settings parser_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static void	conn_process(struct http_conn *);
static void	conn_close(struct http_conn *);
static void	conn_update(struct http_conn *);
static void	conn_linger(struct http_conn *);
static void	accept_update(struct http_server *);

/* A connection's output: a reply body within the limit always fits. */
static size_t
out_max(const struct http_server *srv)
{
	return srv->lim.max_reply_bytes + HTTP_OUT_SLACK;
}

/*
 * Requests.
 */

static struct http_req *
req_new(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http_req *req;

	req = xcalloc(1, sizeof(*req));
	req->conn = c;
	req->start = ev_now(srv->loop);
	memcpy(req->peer, c->peer, sizeof(req->peer));
	buf_init(&req->url, 0, srv->lim.max_header_bytes + 1);
	/* Two NULs per header at most; bytes are counted before this. */
	buf_init(&req->hdr, 0, 2 * srv->lim.max_header_bytes + 64);
	buf_init(&req->body, 0, srv->lim.max_body_bytes);
	buf_init(&req->reply, 0, srv->lim.max_reply_bytes);
	req->reply_max = srv->lim.max_reply_bytes;
	return req;
}

static void
req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	buf_free(&req->url);
	buf_free(&req->hdr);
	buf_free(&req->body);
	buf_free(&req->reply);
	free(req->path);
	free(req->fields);
	free(req->qbuf);
	free(req->q);
	free(req);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s in place, '+' as a space when plus is set (as Go's
 * QueryUnescape; PathUnescape keeps it).  -1 on a bad escape, and on an
 * escaped NUL, which a C string cannot carry.
 */
static int
unescape(char *s, int plus)
{
	char *d = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%') {
			if ((hi = hexval((unsigned char)s[1])) == -1 ||
			    (lo = hexval((unsigned char)s[2])) == -1)
				return -1;
			if (hi == 0 && lo == 0)
				return -1;
			*d++ = (char)(hi << 4 | lo);
			s += 2;
		} else if (*s == '+' && plus)
			*d++ = ' ';
		else
			*d++ = *s;
	}
	*d = '\0';
	return 0;
}

/*
 * Split the request target into path and query as Go's ParseRequestURI:
 * origin form "/p?q", absolute form "scheme://host/p?q", or "*".  Control
 * bytes are refused, as Go does.
 */
static int
req_parse_target(struct http_req *req)
{
	const char *u, *p, *q;
	size_t i, plen;

	if (buf_append(&req->url, "", 1) == -1)
		return -1;
	u = req->url.data;
	for (i = 0; i + 1 < req->url.len; i++)
		if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
			return -1;
	if (u[0] == '/' || strcmp(u, "*") == 0)
		p = u;
	else if ((p = strstr(u, "://")) != NULL && p != u) {
		p = strchr(p + 3, '/');
		if (p == NULL || ((q = strchr(u, '?')) != NULL && q < p))
			p = u + strcspn(u, "?");
	} else
		return -1;
	plen = strcspn(p, "?");
	if (p[plen] == '?') {
		req->has_query = 1;
		req->query = (size_t)(p + plen + 1 - u);
	}
	req->path = xstrndup(p, plen);
	return unescape(req->path, 0);
}

static int
route_match(const char *pattern, const char *path, const char **wild)
{
	size_t n = strlen(pattern);

	*wild = NULL;
	if (strcmp(pattern, "*") == 0) {
		*wild = path;
		return 1;
	}
	if (n >= 2 && pattern[n - 2] == '/' && pattern[n - 1] == '*') {
		if (strncmp(pattern, path, n - 1) != 0 || path[n - 1] == '\0')
			return 0;
		*wild = path + n - 1;
		return 1;
	}
	return strcmp(pattern, path) == 0;
}

static void
req_route(struct http_req *req, const struct http_server *srv)
{
	const struct http_route *r;
	const char *wild;
	size_t i;

	for (i = 0; i < srv->nroutes; i++) {
		r = &srv->routes[i];
		if (!route_match(r->path, req->path, &wild))
			continue;
		req->path_known = 1;
		if (r->method == NULL || strcmp(r->method, req->method) == 0) {
			req->route = r;
			req->wildcard = wild;
			break;
		}
	}
	req->body_max = srv->lim.max_body_bytes;
	req->too_big = "BODY_TOO_BIG";
	if (req->route != NULL && req->route->max_body != 0)
		req->body_max = req->route->max_body;
	if (req->route != NULL && req->route->too_big != NULL)
		req->too_big = req->route->too_big;
	req->body.max = req->body_max;
}

/* As url.ParseQuery: '&' separated, ';' is an error, bad pairs dropped. */
static void
req_parse_query(struct http_req *req)
{
	char *s, *part, *eq;
	const char *val;
	size_t n;

	if (req->qstate != 0)
		return;
	req->qstate = 1;
	if (!req->has_query)
		return;
	req->qbuf = xstrdup(req->url.data + req->query);
	for (n = 1, s = req->qbuf; *s != '\0'; s++)
		if (*s == '&')
			n++;
	req->q = xreallocarray(NULL, n, sizeof(*req->q));
	s = req->qbuf;
	while (s != NULL) {
		part = s;
		if ((s = strchr(s, '&')) != NULL)
			*s++ = '\0';
		if (strchr(part, ';') != NULL) {
			req->qstate = -1;
			continue;
		}
		if (*part == '\0')
			continue;
		val = "";
		if ((eq = strchr(part, '=')) != NULL) {
			*eq = '\0';
			val = eq + 1;
		}
		if (unescape(part, 1) == -1 ||
		    (eq != NULL && unescape(eq + 1, 1) == -1)) {
			req->qstate = -1;
			continue;
		}
		req->q[req->nq].key = part;
		req->q[req->nq].val = val;
		req->nq++;
	}
}

/*
 * Replies.
 */

static const char *
status_text(int status, char *tmp, size_t len)
{
	const char *s = http_status_str((enum http_status)status);

	if (s == NULL || strcmp(s, "<unknown>") == 0) {
		snprintf(tmp, len, "status code %d", status);
		return tmp;
	}
	return s;
}

/* RFC 7231 IMF-fixdate, independent of the locale. */
static const char *
server_date(struct http_server *srv)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t now = time(NULL);
	struct tm tm;

	if (now == srv->date_t && srv->date[0] != '\0')
		return srv->date;
	if (gmtime_r(&now, &tm) == NULL)
		return srv->date;
	snprintf(srv->date, sizeof(srv->date),
	    "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	srv->date_t = now;
	return srv->date;
}

/*
 * Append a whole response to the connection's output.  head: the request
 * was HEAD, so the body is left out (its length is still announced).
 * close: say "Connection: close"; ka10: say "Connection: keep-alive" to
 * an HTTP/1.0 client that asked for it.  nsq: say "X-NSQ-Content-Type",
 * as Go's V1 replies do (its plain-text ones and OPTIONS do not).  On
 * failure (the output would pass its maximum, which a body within the
 * reply limit cannot make it do) the connection is closed.
 */
static void
conn_put(struct http_conn *c, int status, const char *ctype,
    const char *extra, const void *body, size_t len, int head, int close,
    int ka10, int nsq)
{
	struct buf *o = &c->out;
	char tmp[32];
	size_t mark = o->len;
	int nobody, rc;

	if (c->state == CONN_CLOSING)
		return;
	if (status < 200 || status > 999)
		status = 500;
	nobody = status == 204 || status == 304;
	rc = buf_appendf(o, "HTTP/1.1 %d %s\r\n", status,
	    status_text(status, tmp, sizeof(tmp)));
	if (rc == 0 && ctype != NULL)
		rc = buf_appendf(o, "Content-Type: %s\r\n", ctype);
	if (rc == 0 && nsq)
		rc = buf_appendf(o, "X-NSQ-Content-Type: nsq; version=1.0\r\n");
	if (rc == 0)
		rc = buf_appendf(o, "Date: %s\r\n", server_date(c->srv));
	if (rc == 0 && !nobody)
		rc = buf_appendf(o, "Content-Length: %zu\r\n", len);
	if (rc == 0 && close)
		rc = buf_appendf(o, "Connection: close\r\n");
	else if (rc == 0 && ka10)
		rc = buf_appendf(o, "Connection: keep-alive\r\n");
	if (rc == 0 && extra != NULL)
		rc = buf_appendf(o, "%s", extra);
	if (rc == 0)
		rc = buf_append(o, "\r\n", 2);
	if (rc == 0 && !nobody && !head && len > 0)
		rc = buf_append(o, body, len);
	if (rc == -1) {
		o->len = mark;
		conn_close(c);
	}
}

static void
conn_put_error(struct http_conn *c, int status, const char *message,
    const char *extra, int head, int close, int ka10)
{
	struct buf b;

	buf_init(&b, 64, strlen(message) * 6 + 64);
	if (buf_append(&b, "{\"message\":", 11) == 0 &&
	    text_json_quote(&b, message, strlen(message)) == 0 &&
	    buf_append(&b, "}", 1) == 0)
		conn_put(c, status, "application/json; charset=utf-8", extra,
		    buf_data(&b), buf_len(&b), head, close, ka10, 1);
	else
		conn_close(c);
	buf_free(&b);
}

/* The reply to a request, with an optional extra header block. */
static void
req_reply(struct http_req *req, int status, const char *ctype,
    const char *extra, const void *body, size_t len, const char *message)
{
	struct http_conn *c;
	int close;

	if (req->replied)
		return;
	req->replied = 1;
	if ((c = req->conn) == NULL) {
		/* The client is gone: nothing to send. */
		if (!req->in_handler)
			req_free(req);
		return;
	}
	close = !req->keep_alive || req->upgrade || c->close_after;
	if (close)
		c->close_after = 1;
	if (c->srv->logfn != NULL)
		c->srv->logfn(req, status, c->srv->arg);
	if (message != NULL)
		conn_put_error(c, status, message, extra, req->head, close,
		    !close && req->http10);
	else
		conn_put(c, status, ctype, extra, body, len, req->head, close,
		    !close && req->http10, !req->plain);
	if (req->in_handler)
		return;		/* the dispatcher finishes */
	/* A late reply: finish the request and resume the connection. */
	if ((c = req->conn) == NULL) {
		req_free(req);
		return;
	}
	c->req = NULL;
	req_free(req);
	c->state = CONN_READING;
	if (!c->kicked) {
		TAILQ_INSERT_TAIL(&c->srv->kicked, c, kentry);
		c->kicked = 1;
	}
	ev_idle_start(c->srv->loop, &c->srv->idle_w);
}

/*
 * A reply with a body.  A body that cannot go out whole (past the reply
 * limit, or built in a buffer that failed) is never sent cut: the reply
 * is a 500 instead, reported once through the warn hook.
 */
static void
req_reply_body(struct http_req *req, int status, const char *ctype,
    const void *body, size_t len, const struct buf *b)
{
	int failed = b != NULL && buf_failed(b);
	struct http_conn *c = req->conn;
	char why[128];

	if (req->replied)
		return;
	if (!failed && len <= req->reply_max) {
		req_reply(req, status, ctype, NULL, len > 0 ? body : "", len,
		    NULL);
		return;
	}
	if (c != NULL && c->srv->warnfn != NULL) {
		if (failed)
			snprintf(why, sizeof(why), "reply body over its "
			    "buffer's limit of %zu bytes, answered 500",
			    b->max);
		else
			snprintf(why, sizeof(why), "reply body of %zu bytes "
			    "over the limit of %zu, answered 500", len,
			    req->reply_max);
		c->srv->warnfn(req, why, c->srv->arg);
	}
	req_reply(req, 500, NULL, NULL, NULL, 0, "INTERNAL_ERROR");
}

/*
 * Replies made by the server itself: 404, 405, OPTIONS, as httprouter
 * v1.3.0 (router.go:327-372, 422-451) under Go's net/http: the path's
 * other methods and OPTIONS, sorted, in Allow; OPTIONS answered 200 with
 * an empty body and no NSQ header; "OPTIONS *" answered by net/http
 * itself (no Allow).
 */
static void
req_builtin(struct http_req *req, const struct http_server *srv)
{
	const struct http_route *r;
	const char *wild, *m[16], *tmp;
	char allow[256];
	size_t i, j, nm = 0, n;
	int dup, options;

	options = strcmp(req->method, "OPTIONS") == 0;
	if (!req->path_known) {
		if (strcmp(req->path, "*") == 0 && options) {
			req->plain = 1;
			req_reply(req, 200, NULL, NULL, "", 0, NULL);
		} else
			req_reply(req, 404, NULL, NULL, NULL, 0, "NOT_FOUND");
		return;
	}
	for (i = 0; i < srv->nroutes && nm < 15; i++) {
		r = &srv->routes[i];
		if (r->method == NULL || strcmp(r->method, "OPTIONS") == 0 ||
		    !route_match(r->path, req->path, &wild))
			continue;
		for (dup = 0, j = 0; j < nm && !dup; j++)
			dup = strcmp(m[j], r->method) == 0;
		if (!dup)
			m[nm++] = r->method;
	}
	m[nm++] = "OPTIONS";
	/* Insertion sort, as httprouter's. */
	for (i = 1; i < nm; i++)
		for (j = i; j > 0 && strcmp(m[j], m[j - 1]) < 0; j--) {
			tmp = m[j];
			m[j] = m[j - 1];
			m[j - 1] = tmp;
		}
	n = (size_t)snprintf(allow, sizeof(allow), "Allow: ");
	for (i = 0; i < nm && n < sizeof(allow); i++)
		n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s%s",
		    m[i], i + 1 < nm ? ", " : "\r\n");
	if (n >= sizeof(allow))
		snprintf(allow, sizeof(allow), "Allow: OPTIONS\r\n");
	if (options) {
		req->plain = 1;
		req_reply(req, 200, NULL, allow, "", 0, NULL);
	} else
		req_reply(req, 405, NULL, allow, NULL, 0,
		    "METHOD_NOT_ALLOWED");
}

/*
 * The framing check (struct framing).
 */

static void
frame_start(struct framing *fr, enum frame_mode mode)
{
	fr->mode = mode;
	fr->sub = mode == FR_CHUNKED ? FS_SIZE0 : FS_PRE;
	fr->linelen = 0;
}

/* One byte of a chunk-size line; -1 if the line is malformed. */
static int
frame_size_byte(struct framing *fr, int ch)
{
	int v;

	if (ch != '\r' && ++fr->linelen >= FRAME_LINE_MAX)
		return -1;
	switch (fr->sub) {
	case FS_SIZE0:
	case FS_SIZE:
		if ((v = hexval(ch)) != -1) {
			if (++fr->ndigits > 16)
				return -1;	/* past 64 bits, as Go */
			fr->size = fr->size << 4 | (uint64_t)v;
			fr->sub = FS_SIZE;
			return 0;
		}
		if (fr->sub == FS_SIZE0)
			return -1;
		if (ch == ';') {
			fr->sub = FS_EXT;
			return 0;
		}
		/* FALLTHROUGH */
	case FS_SIZE_WS:
		/* Go trims blanks at the end of the line, not before ';'. */
		if (ch == ' ' || ch == '\t')
			fr->sub = FS_SIZE_WS;
		else if (ch == '\r')
			fr->sub = FS_LINE_CR;
		else
			return -1;
		return 0;
	default:	/* FS_EXT: anything but a bare CR or LF */
		if (ch == '\r')
			fr->sub = FS_LINE_CR;
		else if (ch == '\n')
			return -1;
		return 0;
	}
}

/* One byte of a head or trailer section; -1 if it is malformed. */
static int
frame_head_byte(struct framing *fr, int ch)
{
	switch (fr->sub) {
	case FS_PRE:
		/* http-parser skips empty lines before a request. */
		if (ch == '\r' || ch == '\n')
			return 0;
		fr->sub = FS_REQLINE;
		/* FALLTHROUGH */
	case FS_REQLINE:
	case FS_VALUE:
		if (ch == '\r') {
			fr->blank = 0;
			fr->sub = FS_CR;
		} else if (ch == '\n')
			fr->sub = FS_SOL;
		return 0;
	case FS_SOL:
		if (ch == ' ' || ch == '\t')
			return -1;	/* obs-fold */
		if (ch == '\r') {
			fr->blank = 1;
			fr->sub = FS_CR;
		} else if (ch == '\n')
			fr->sub = FS_DONE;
		else
			fr->sub = ch == ':' ? FS_VALUE : FS_NAME;
		return 0;
	case FS_NAME:
		if (ch == ' ' || ch == '\t')
			return -1;	/* blanks before the colon */
		if (ch == ':')
			fr->sub = FS_VALUE;
		else if (ch == '\r') {
			fr->blank = 0;
			fr->sub = FS_CR;
		} else if (ch == '\n')
			fr->sub = FS_SOL;
		return 0;
	default:	/* FS_CR */
		if (ch != '\n')
			return -1;	/* a bare CR */
		fr->sub = fr->blank ? FS_DONE : FS_SOL;
		return 0;
	}
}

/*
 * Scan the input from fr->off on, up to the end of the current section
 * (the head, or a chunked body with its trailers); -1 on a framing error.
 */
static int
frame_scan(struct framing *fr, const char *p, size_t len)
{
	uint64_t n;

	while (fr->off < len && fr->sub != FS_DONE) {
		switch (fr->sub) {
		case FS_SIZE0:
			fr->size = 0;
			fr->ndigits = 0;
			fr->linelen = 0;
			/* FALLTHROUGH */
		case FS_SIZE:
		case FS_SIZE_WS:
		case FS_EXT:
			if (frame_size_byte(fr, (unsigned char)p[fr->off]) ==
			    -1)
				return -1;
			fr->off++;
			break;
		case FS_LINE_CR:
			if (p[fr->off++] != '\n')
				return -1;
			/* The last chunk: trailers, as header lines. */
			fr->sub = fr->size == 0 ? FS_SOL : FS_DATA;
			break;
		case FS_DATA:
			n = len - fr->off;
			if (n > fr->size)
				n = fr->size;
			fr->off += (size_t)n;
			fr->size -= n;
			if (fr->size == 0)
				fr->sub = FS_DATA_CR;
			break;
		case FS_DATA_CR:
			if (p[fr->off++] != '\r')
				return -1;
			fr->sub = FS_DATA_LF;
			break;
		case FS_DATA_LF:
			if (p[fr->off++] != '\n')
				return -1;
			fr->sub = FS_SIZE0;
			break;
		default:
			if (frame_head_byte(fr, (unsigned char)p[fr->off]) ==
			    -1)
				return -1;
			fr->off++;
			break;
		}
	}
	return 0;
}

/* Fields named name, and the value of the last one in *val. */
static size_t
hdr_count_name(const struct http_req *req, const char *name,
    const char **val)
{
	size_t i, n = 0;

	*val = NULL;
	for (i = 0; i < req->nfields; i++)
		if (strcasecmp(req->hdr.data + req->fields[i].name,
		    name) == 0) {
			*val = req->hdr.data + req->fields[i].value;
			n++;
		}
	return n;
}

/*
 * Parser callbacks.  They only copy bytes and check limits; a failure
 * records the status to answer and returns -1, which stops http-parser.
 */

static int
parse_fail(struct http_conn *c, int status, const char *msg)
{
	if (c->fail_status == 0) {
		c->fail_status = status;
		c->fail_msg = msg;
	}
	return -1;
}

static int
hdr_count(struct http_conn *c, size_t n)
{
	c->hbytes += n;
	if (c->hbytes > c->srv->lim.max_header_bytes)
		return parse_fail(c, 431, "HEADER_TOO_BIG");
	return 0;
}

static int
on_message_begin(http_parser *p)
{
	struct http_conn *c = p->data;

	req_free(c->req);
	c->req = req_new(c);
	c->hbytes = 0;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;

	if (hdr_count(c, len) == -1)
		return -1;
	if (buf_append(&c->req->url, at, len) == -1)
		return parse_fail(c, 431, "HEADER_TOO_BIG");
	return 0;
}

/* End the value being stored, trimming trailing blanks as Go does. */
static int
hdr_end_value(struct http_req *req)
{
	struct hfield *f = &req->fields[req->nfields - 1];

	while (req->hdr.len > f->value && (req->hdr.data[req->hdr.len - 1] ==
	    ' ' || req->hdr.data[req->hdr.len - 1] == '\t'))
		req->hdr.len--;
	return buf_append(&req->hdr, "", 1);
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	struct http_req *req = c->req;

	if (hdr_count(c, len + (req->hstate != HS_FIELD ? 4 : 0)) == -1)
		return -1;
	if (req->in_body)
		return 0;	/* trailers: counted, not kept */
	if (req->hstate != HS_FIELD) {
		if (req->hstate == HS_VALUE && hdr_end_value(req) == -1)
			return parse_fail(c, 431, "HEADER_TOO_BIG");
		if (req->nfields == req->fieldcap) {
			req->fieldcap = req->fieldcap ? req->fieldcap * 2 : 16;
			req->fields = xreallocarray(req->fields,
			    req->fieldcap, sizeof(*req->fields));
		}
		req->fields[req->nfields].name = req->hdr.len;
		req->fields[req->nfields].value = req->hdr.len;
		req->nfields++;
		req->hstate = HS_FIELD;
	}
	if (buf_append(&req->hdr, at, len) == -1)
		return parse_fail(c, 431, "HEADER_TOO_BIG");
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	struct http_req *req = c->req;

	if (hdr_count(c, len) == -1)
		return -1;
	if (req->in_body || req->hstate == HS_NONE)
		return 0;
	if (req->hstate == HS_FIELD) {
		if (buf_append(&req->hdr, "", 1) == -1)
			return parse_fail(c, 431, "HEADER_TOO_BIG");
		req->fields[req->nfields - 1].value = req->hdr.len;
		req->hstate = HS_VALUE;
	}
	if (buf_append(&req->hdr, at, len) == -1)
		return parse_fail(c, 431, "HEADER_TOO_BIG");
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_conn *c = p->data;
	struct http_req *req = c->req;
	const char *expect, *val;
	size_t nte, nhost;
	int has_body;

	if (req->hstate == HS_FIELD) {
		/* A name without a value callback: give it "". */
		if (buf_append(&req->hdr, "", 1) == -1)
			return parse_fail(c, 431, "HEADER_TOO_BIG");
		req->fields[req->nfields - 1].value = req->hdr.len;
		req->hstate = HS_VALUE;
	}
	if (req->hstate == HS_VALUE && hdr_end_value(req) == -1)
		return parse_fail(c, 431, "HEADER_TOO_BIG");
	req->in_body = 1;
	if (p->http_major != 1)
		return parse_fail(c, 505, "HTTP_VERSION_NOT_SUPPORTED");
	req->method = http_method_str((enum http_method)p->method);
	req->head = p->method == HTTP_HEAD;
	req->http10 = p->http_minor == 0;
	req->keep_alive = http_should_keep_alive(p) != 0;
	/*
	 * As Go: one Host at most; one Content-Length (http-parser refuses
	 * a repeated one even with the same value, which RFC 9110 8.6 lets
	 * a recipient do); not both Content-Length and Transfer-Encoding
	 * (RFC 9112 6.1 lets a server refuse that); and Transfer-Encoding
	 * only as one field saying "chunked", else 501, as Go answers.
	 */
	nhost = hdr_count_name(req, "Host", &val);
	if (nhost > 1 || hdr_count_name(req, "Content-Length", &val) > 1)
		return parse_fail(c, 400, "BAD_REQUEST");
	/*
	 * RFC 9112 3.2: an HTTP/1.1 request without Host gets 400, as Go
	 * answers ("missing required Host header"); HTTP/1.0 may omit it.
	 */
	if (nhost == 0 && p->http_minor >= 1 && p->method != HTTP_CONNECT)
		return parse_fail(c, 400, "BAD_REQUEST");
	if ((nte = hdr_count_name(req, "Transfer-Encoding", &val)) > 0 &&
	    (p->flags & F_CONTENTLENGTH))
		return parse_fail(c, 400, "BAD_REQUEST");
	if ((p->uses_transfer_encoding && !(p->flags & F_CHUNKED)) ||
	    nte > 1 || (nte == 1 && strcasecmp(val, "chunked") != 0))
		return parse_fail(c, 501, "UNSUPPORTED_TRANSFER_ENCODING");
	if (req_parse_target(req) == -1)
		return parse_fail(c, 400, "BAD_REQUEST");
	req_route(req, c->srv);
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > req->body_max)
		return parse_fail(c, 413, req->too_big);
	has_body = (p->flags & F_CHUNKED) ||
	    ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
	expect = http_req_header(req, "Expect");
	if (expect != NULL && p->http_minor >= 1) {
		if (strcasecmp(expect, "100-continue") != 0)
			return parse_fail(c, 417, "EXPECTATION_FAILED");
		/* Replies before this one are already in the output. */
		if (has_body && buf_append(&c->out,
		    "HTTP/1.1 100 Continue\r\n\r\n", 25) == -1)
			return parse_fail(c, 400, "BAD_REQUEST");
	}
	frame_start(&c->fr, (p->flags & F_CHUNKED) ? FR_CHUNKED : FR_BODY);
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct http_conn *c = p->data;
	struct http_req *req = c->req;

	if (len > req->body_max - buf_len(&req->body) ||
	    buf_append(&req->body, at, len) == -1)
		return parse_fail(c, 413, req->too_big);
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct http_conn *c = p->data;

	c->req->complete = 1;
	c->req->upgrade = p->upgrade;
	frame_start(&c->fr, FR_HEAD);
	/* Stop here: the handler runs outside http-parser. */
	http_parser_pause(p, 1);
	return 0;
}

/*
 * Connections.
 */

static void
peer_format(int fd, char *dst, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(dst, len, "@");
		return;
	}
	switch (ss.ss_family) {
	case AF_INET:
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(dst, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		/* Go prints IPv4-mapped addresses as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], host,
			    sizeof(host));
			snprintf(dst, len, "%s:%u", host,
			    ntohs(sin6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &sin6->sin6_addr, host,
			    sizeof(host));
			snprintf(dst, len, "[%s]:%u", host,
			    ntohs(sin6->sin6_port));
		}
		break;
	default:
		snprintf(dst, len, "@");
	}
}

/*
 * Restart the idle timer (not while a handler has the request, nor
 * during a TLS handshake, whose time counts from the accept).
 */
static void
conn_touch(struct http_conn *c)
{
	if (c->state == CONN_READING && !c->tls_hs)
		ev_timer_again(c->srv->loop, &c->timer);
}

/*
 * TLS.  OpenSSL works on the non-blocking socket itself.  A handshake
 * wants to read or to write (tls_hs_wr); SSL_read may want to write
 * (tls_rd_wr: a key update on a full socket); conn_update turns those
 * into watchers.  OpenSSL's error queue is per thread and shared with
 * the program's other TLS, so every call starts with it empty and leaves
 * it so.
 */

/* Tell the program why a handshake failed, once, and forget the errors. */
static void
tls_report(struct http_conn *c, int e, const char *why)
{
	char tmp[256];
	unsigned long err;
	long vr;

	if (why == NULL && e == SSL_ERROR_SYSCALL)
		why = errno != 0 ? strerror(errno) : "EOF";
	if (why == NULL) {
		err = ERR_peek_error();
		if (err == 0)
			why = "EOF";
		else if (ERR_GET_REASON(err) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING)
			why = "EOF";
		else if (ERR_GET_REASON(err) ==
		    SSL_R_CERTIFICATE_VERIFY_FAILED &&
		    (vr = SSL_get_verify_result(c->ssl)) != X509_V_OK) {
			snprintf(tmp, sizeof(tmp), "%s: %s",
			    ERR_reason_error_string(err),
			    X509_verify_cert_error_string(vr));
			why = tmp;
		} else {
			why = ERR_reason_error_string(err);
			if (why == NULL) {
				ERR_error_string_n(err, tmp, sizeof(tmp));
				why = tmp;
			}
		}
	}
	if (c->srv->tlsfailfn != NULL)
		c->srv->tlsfailfn(c->peer, why, c->srv->arg);
	ERR_clear_error();
}

/* Advance the handshake: 1 done, 0 waiting, -1 failed (closing). */
static int
tls_handshake(struct http_conn *c)
{
	int r, e;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		c->tls_hs = 0;
		c->tls_hs_wr = 0;
		c->timer.repeat = c->srv->lim.idle_timeout;
		ev_timer_again(c->srv->loop, &c->timer);
		return 1;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_hs_wr = e == SSL_ERROR_WANT_WRITE;
		ERR_clear_error();
		return 0;
	}
	if (e == SSL_ERROR_SSL &&
	    ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST) {
		/* Plain HTTP on the TLS port: Go's answer, and no log. */
		static const char msg[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
		    "Client sent an HTTP request to an HTTPS server.\n";

		ERR_clear_error();
		(void)!send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL);
	} else
		tls_report(c, e, NULL);
	/*
	 * OpenSSL has sent its alert already, if the socket took it; a
	 * lingering close lets the peer read it rather than meet a reset
	 * for the bytes it sent meanwhile.
	 */
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->tls_hs = 0;
	conn_linger(c);
	conn_update(c);
	return -1;
}

/* As buf_read_fd, through TLS. */
static ssize_t
tls_read(struct http_conn *c)
{
	char tmp[16384];
	size_t room = c->in.max - buf_len(&c->in);
	int r, e;

	if (room == 0) {
		errno = ENOBUFS;
		return -1;
	}
	if (room > sizeof(tmp))
		room = sizeof(tmp);
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_read(c->ssl, tmp, (int)room)) > 0) {
		if (buf_append(&c->in, tmp, (size_t)r) == -1) {
			errno = ENOBUFS;	/* room was checked */
			return -1;
		}
		return r;
	}
	e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_ZERO_RETURN:	/* close_notify */
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->tls_rd_wr = 1;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0)
			return 0;	/* EOF without close_notify */
		return -1;
	default:
		/* A client that just closes is an EOF, as in Go. */
		r = ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING ? 0 : -1;
		ERR_clear_error();
		errno = EPROTO;
		return r;
	}
}

/* As send(2) of the output's head, through TLS. */
static ssize_t
tls_write(struct http_conn *c)
{
	size_t len = buf_len(&c->out);
	int r, e;

	if (len > INT_MAX)
		len = INT_MAX;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_write(c->ssl, buf_data(&c->out), (int)len)) > 0)
		return r;
	e = SSL_get_error(c->ssl, r);
	ERR_clear_error();
	/* Wanting to read: the read watcher is on and flushes after. */
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
		errno = EAGAIN;
	else if (errno == 0)
		errno = EPIPE;
	return -1;
}

static void
conn_close(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http_req *req = c->req;

	if (c->state == CONN_CLOSING)
		return;
	c->state = CONN_CLOSING;
	ev_io_stop(srv->loop, &c->rd);
	ev_io_stop(srv->loop, &c->wr);
	ev_timer_stop(srv->loop, &c->timer);
	if (c->kicked) {
		TAILQ_REMOVE(&srv->kicked, c, kentry);
		c->kicked = 0;
	}
	if (req != NULL) {
		/* A handler or a holder still owns it: orphan it. */
		if (req->in_handler || req->held)
			req->conn = NULL;
		else
			req_free(req);
		c->req = NULL;
	}
	TAILQ_REMOVE(&srv->conns, c, entry);
	TAILQ_INSERT_TAIL(&srv->dead, c, entry);
	ev_idle_start(srv->loop, &srv->idle_w);
}

static void
conn_free(struct http_conn *c)
{
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	c->srv->nconns--;
	free(c);
}

/* Shut the write side and read until EOF or HTTP_LINGER, as Go does. */
static void
conn_linger(struct http_conn *c)
{
	if (c->rd_eof) {
		conn_close(c);
		return;
	}
	if (c->ssl != NULL) {
		/* close_notify, as Go's tls.Conn.CloseWrite; no wait for it. */
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	c->state = CONN_LINGER;
	buf_reset(&c->in);
	c->timer.repeat = HTTP_LINGER;
	ev_timer_again(c->srv->loop, &c->timer);
}

/* Write what can be written; then close if that was the last reply. */
static void
conn_flush(struct http_conn *c)
{
	ssize_t n;

	while (buf_len(&c->out) > 0) {
		if (c->ssl != NULL)
			n = tls_write(c);
		else
			n = send(c->fd, buf_data(&c->out), buf_len(&c->out),
			    MSG_NOSIGNAL);
		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			conn_touch(c);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		conn_close(c);
		return;
	}
	if (c->out.cap > HTTP_OUT_KEEP) {
		buf_free(&c->out);
		buf_init(&c->out, 0, out_max(c->srv));
	}
	if (c->close_after && c->state == CONN_READING)
		conn_linger(c);
}

/* Start and stop the watchers to match the state. */
static void
conn_update(struct http_conn *c)
{
	struct ev_loop *loop = c->srv->loop;

	if (c->state == CONN_CLOSING)
		return;
	if (c->tls_hs) {
		if (c->tls_hs_wr) {
			ev_io_stop(loop, &c->rd);
			ev_io_start(loop, &c->wr);
		} else {
			ev_io_start(loop, &c->rd);
			ev_io_stop(loop, &c->wr);
		}
		if (!ev_is_active(&c->timer))
			ev_timer_again(loop, &c->timer);
		return;
	}
	if (!c->rd_eof && buf_len(&c->in) < c->in.max) {
		ev_io_start(loop, &c->rd);
		/*
		 * Decrypted bytes that did not fit wait inside OpenSSL, where
		 * the socket's readiness says nothing of them.
		 */
		if (c->ssl != NULL && c->state != CONN_LINGER &&
		    SSL_pending(c->ssl) > 0)
			ev_feed_event(loop, &c->rd, EV_READ);
	} else
		ev_io_stop(loop, &c->rd);
	if (buf_len(&c->out) > 0 || c->tls_rd_wr)
		ev_io_start(loop, &c->wr);
	else
		ev_io_stop(loop, &c->wr);
	if (c->state == CONN_HANDLER)
		ev_timer_stop(loop, &c->timer);
	else if (!ev_is_active(&c->timer))
		ev_timer_again(loop, &c->timer);
}

/* A protocol error: answer it, drop the request, close after the reply. */
static void
conn_fail(struct http_conn *c, int status, const char *msg)
{
	int head = c->req != NULL && c->req->head;

	req_free(c->req);
	c->req = NULL;
	c->close_after = 1;
	conn_put_error(c, status, msg, NULL, head, 1, 0);
}

static void
conn_dispatch(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http_req *req = c->req;

	c->state = CONN_HANDLER;
	req->in_handler = 1;
	if (req->route != NULL)
		req->route->fn(req, srv->arg);
	else
		req_builtin(req, srv);
	if (!req->replied && !req->held)
		http_reply_error(req, 500, "INTERNAL_ERROR");
	req->in_handler = 0;
	if (req->conn == NULL) {
		/* The connection died meanwhile; a holder may still reply. */
		if (req->replied)
			req_free(req);
		return;
	}
	if (req->replied) {
		c->req = NULL;
		req_free(req);
		c->state = CONN_READING;
	}
}

static int
parse_status(enum http_errno e, const char **msg)
{
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		*msg = "HEADER_TOO_BIG";
		return 431;
	case HPE_INVALID_TRANSFER_ENCODING:
		*msg = "UNSUPPORTED_TRANSFER_ENCODING";
		return 501;
	default:
		*msg = "BAD_REQUEST";
		return 400;
	}
}

/*
 * Parse and dispatch buffered requests, one at a time, until the input
 * runs out, a handler holds its request, the output is too far behind, or
 * the connection is done; then flush and set the watchers.
 */
static void
conn_process(struct http_conn *c)
{
	enum http_errno e;
	const char *msg;
	size_t len, lim, n;
	int status, stalled = 0;

again:
	while (c->state == CONN_READING && !c->close_after) {
		if (buf_len(&c->out) >= HTTP_OUT_HIWAT) {
			stalled = 1;
			break;
		}
		if ((len = buf_len(&c->in)) == 0) {
			if (c->rd_eof) {
				/* An incomplete request gets no reply. */
				req_free(c->req);
				c->req = NULL;
				c->close_after = 1;
			}
			break;
		}
		lim = len;
		if (c->fr.mode != FR_BODY) {
			/*
			 * Parse only what the framing check has passed.
			 * Nothing passed with input left means the check
			 * ended a section that http-parser did not: refuse
			 * rather than guess (and len 0 would mean EOF).
			 */
			if (frame_scan(&c->fr, buf_data(&c->in), len) == -1 ||
			    c->fr.off == 0) {
				conn_fail(c, 400, "BAD_REQUEST");
				break;
			}
			lim = c->fr.off;
		}
		n = http_parser_execute(&c->parser, &parser_settings,
		    buf_data(&c->in), lim);
		buf_consume(&c->in, n);
		c->fr.off = c->fr.off > n ? c->fr.off - n : 0;
		e = HTTP_PARSER_ERRNO(&c->parser);
		if (c->fail_status != 0) {
			conn_fail(c, c->fail_status, c->fail_msg);
			break;
		}
		if (e == HPE_PAUSED) {
			http_parser_pause(&c->parser, 0);
			if (c->req != NULL && c->req->complete)
				conn_dispatch(c);
			continue;
		}
		if (e != HPE_OK || n < lim) {
			status = parse_status(e, &msg);
			conn_fail(c, status, msg);
			break;
		}
	}
	if (c->state != CONN_CLOSING)
		conn_flush(c);
	/* If the write drained what stopped the parser, carry on. */
	if (stalled && c->state == CONN_READING &&
	    buf_len(&c->out) < HTTP_OUT_HIWAT) {
		stalled = 0;
		goto again;
	}
	conn_update(c);
}

/* The socket is readable (or, for TLS, may have become usable). */
static void
conn_input(struct http_conn *c)
{
	ssize_t n;
	int r;

	if (c->tls_hs) {
		if ((r = tls_handshake(c)) == -1)
			return;
		if (r == 0) {
			conn_update(c);
			return;
		}
	}
	c->tls_rd_wr = 0;
	if (c->ssl != NULL && c->state != CONN_LINGER)
		n = tls_read(c);
	else
		n = buf_read_fd(&c->in, c->fd);
	if (n > 0) {
		if (c->state == CONN_LINGER)
			buf_reset(&c->in);
		else {
			conn_touch(c);
			conn_process(c);
		}
		return;
	}
	if (n == 0) {
		c->rd_eof = 1;
		if (c->state == CONN_LINGER)
			conn_close(c);
		else
			conn_process(c);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		/* TLS may want the other direction, or the handshake ended. */
		if (c->ssl != NULL)
			conn_update(c);
		return;
	}
	if (errno == ENOBUFS) {
		conn_update(c);		/* full: wait for the parser */
		return;
	}
	conn_close(c);
}

static void
conn_rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	conn_input(container_of(w, struct http_conn, rd));
}

static void
conn_wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_conn *c = container_of(w, struct http_conn, wr);

	(void)loop;
	(void)revents;
	if (c->tls_hs || c->tls_rd_wr) {
		conn_input(c);
		return;
	}
	conn_flush(c);
	/* Parsing may have stopped for the output; resume it. */
	if (c->state == CONN_READING)
		conn_process(c);
	else
		conn_update(c);
}

static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_conn *c = container_of(w, struct http_conn, timer);

	(void)loop;
	(void)revents;
	if (c->tls_hs)
		tls_report(c, 0, "TLS handshake timeout");
	conn_close(c);
}

static void
conn_new(struct http_server *srv, int fd)
{
	struct http_conn *c;
	SSL *ssl = NULL;
	int one = 1;

	if (srv->ssl_ctx != NULL) {
		if ((ssl = SSL_new(srv->ssl_ctx)) == NULL ||
		    SSL_set_fd(ssl, fd) != 1) {
			/* Out of memory: as a failed accept. */
			ERR_clear_error();
			SSL_free(ssl);
			close(fd);
			return;
		}
		SSL_set_accept_state(ssl);
		/* Partial writes from a buffer that may move between tries. */
		SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	c->ssl = ssl;
	c->tls_hs = ssl != NULL;
	c->state = CONN_READING;
	peer_format(fd, c->peer, sizeof(c->peer));
	if (c->peer[0] != '@') {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	}
	buf_init(&c->in, 0, HTTP_IN_MAX);
	buf_init(&c->out, 0, out_max(srv));
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	ev_io_init(&c->rd, conn_rd_cb, fd, EV_READ);
	ev_io_init(&c->wr, conn_wr_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, conn_timer_cb, 0., ssl != NULL ?
	    srv->hs_timeout : srv->lim.idle_timeout);
	TAILQ_INSERT_TAIL(&srv->conns, c, entry);
	srv->nconns++;
	conn_update(c);
}

/*
 * The server.
 */

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_server *srv = container_of(w, struct http_server,
	    accept_w);
	int fd, i;

	(void)revents;
	for (i = 0; i < HTTP_ACCEPT_BATCH; i++) {
		if (srv->nconns >= srv->lim.max_conns)
			break;
		fd = accept4(srv->lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		/* EMFILE, ENFILE, ENOBUFS, ENOMEM...: back off a moment. */
		srv->paused = 1;
		ev_timer_set(&srv->pause_w, HTTP_ACCEPT_PAUSE, 0.);
		ev_timer_start(loop, &srv->pause_w);
		break;
	}
	accept_update(srv);
}

static void
pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_server *srv = container_of(w, struct http_server,
	    pause_w);

	(void)loop;
	(void)revents;
	srv->paused = 0;
	accept_update(srv);
}

static void
accept_update(struct http_server *srv)
{
	if (srv->lfd >= 0 && srv->accepting && !srv->paused &&
	    srv->nconns < srv->lim.max_conns)
		ev_io_start(srv->loop, &srv->accept_w);
	else
		ev_io_stop(srv->loop, &srv->accept_w);
}

/* Resume connections after late replies; reap closed connections. */
static void
check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct http_server *srv = container_of(w, struct http_server,
	    check_w);
	struct http_conn *c;

	(void)revents;
	while ((c = TAILQ_FIRST(&srv->kicked)) != NULL) {
		TAILQ_REMOVE(&srv->kicked, c, kentry);
		c->kicked = 0;
		conn_process(c);
	}
	while ((c = TAILQ_FIRST(&srv->dead)) != NULL) {
		TAILQ_REMOVE(&srv->dead, c, entry);
		conn_free(c);
	}
	ev_idle_stop(loop, &srv->idle_w);
	accept_update(srv);
}

/* Only there so that the loop does not block while work is queued. */
static void
idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

struct http_server *
http_server_new(struct ev_loop *loop, int listen_fd,
    const struct http_route *routes, size_t nroutes,
    const struct http_limits *lim, void *arg)
{
	struct http_server *srv;

	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->lfd = listen_fd;
	srv->arg = arg;
	if (nroutes > 0) {
		srv->routes = xreallocarray(NULL, nroutes, sizeof(*routes));
		memcpy(srv->routes, routes, nroutes * sizeof(*routes));
	}
	srv->nroutes = nroutes;
	if (lim != NULL)
		srv->lim = *lim;
	if (srv->lim.max_header_bytes == 0)
		srv->lim.max_header_bytes = HTTP_DEF_HEADER_BYTES;
	if (srv->lim.max_body_bytes == 0)
		srv->lim.max_body_bytes = HTTP_DEF_BODY_BYTES;
	if (srv->lim.idle_timeout <= 0)
		srv->lim.idle_timeout = HTTP_DEF_IDLE;
	if (srv->lim.max_conns <= 0)
		srv->lim.max_conns = HTTP_DEF_CONNS;
	if (srv->lim.max_reply_bytes == 0 ||
	    srv->lim.max_reply_bytes > SIZE_MAX / 2)
		srv->lim.max_reply_bytes = HTTP_REPLY_MAX;
	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->dead);
	TAILQ_INIT(&srv->kicked);
	ev_io_init(&srv->accept_w, accept_cb, listen_fd, EV_READ);
	ev_timer_init(&srv->pause_w, pause_cb, HTTP_ACCEPT_PAUSE, 0.);
	ev_check_init(&srv->check_w, check_cb);
	ev_idle_init(&srv->idle_w, idle_cb);
	/* The reaper alone must not keep ev_run from returning. */
	ev_check_start(loop, &srv->check_w);
	ev_unref(loop);
	srv->accepting = 1;
	accept_update(srv);
	return srv;
}

void
http_server_free(struct http_server *srv)
{
	struct http_conn *c;

	if (srv == NULL)
		return;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_close(c);
	while ((c = TAILQ_FIRST(&srv->dead)) != NULL) {
		TAILQ_REMOVE(&srv->dead, c, entry);
		conn_free(c);
	}
	ev_io_stop(srv->loop, &srv->accept_w);
	ev_timer_stop(srv->loop, &srv->pause_w);
	ev_idle_stop(srv->loop, &srv->idle_w);
	ev_ref(srv->loop);
	ev_check_stop(srv->loop, &srv->check_w);
	if (srv->lfd >= 0)
		close(srv->lfd);
	SSL_CTX_free(srv->ssl_ctx);
	free(srv->routes);
	free(srv);
}

int
http_server_adopt(struct http_server *srv, int fd)
{
	int fl;

	if (srv->nconns >= srv->lim.max_conns) {
		errno = EMFILE;
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	conn_new(srv, fd);
	return 0;
}

void
http_server_set_tls(struct http_server *srv, SSL_CTX *ctx,
    double handshake_timeout, http_tls_fail_fn fail)
{
	srv->hs_timeout = handshake_timeout > 0 ? handshake_timeout :
	    HTTP_DEF_HANDSHAKE;
	SSL_CTX_up_ref(ctx);
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = ctx;
	srv->tlsfailfn = fail;
}

void
http_server_accept(struct http_server *srv, int on)
{
	srv->accepting = on != 0;
	accept_update(srv);
}

int
http_server_nconns(const struct http_server *srv)
{
	return srv->nconns;
}

void
http_server_set_log(struct http_server *srv, http_log_fn fn)
{
	srv->logfn = fn;
}

void
http_server_set_warn(struct http_server *srv, http_warn_fn fn)
{
	srv->warnfn = fn;
}

/*
 * Request accessors.
 */

const char *
http_req_method(const struct http_req *req)
{
	return req->method;
}

const char *
http_req_path(const struct http_req *req)
{
	return req->path;
}

const char *
http_req_uri(const struct http_req *req)
{
	return req->url.data;
}

const char *
http_req_wildcard(const struct http_req *req)
{
	return req->wildcard;
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nfields; i++)
		if (strcasecmp(req->hdr.data + req->fields[i].name,
		    name) == 0)
			return req->hdr.data + req->fields[i].value;
	return NULL;
}

const void *
http_req_body(const struct http_req *req, size_t *len)
{
	*len = buf_len(&req->body);
	return *len > 0 ? buf_data(&req->body) : "";
}

const char *
http_req_peer(const struct http_req *req)
{
	return req->peer;
}

SSL *
http_req_ssl(const struct http_req *req)
{
	return req->conn != NULL ? req->conn->ssl : NULL;
}

double
http_req_start(const struct http_req *req)
{
	return req->start;
}

int
http_req_closed(const struct http_req *req)
{
	return req->conn == NULL;
}

int
http_query_get(struct http_req *req, const char *key, const char **val)
{
	size_t i;

	*val = NULL;
	req_parse_query(req);
	if (req->qstate == -1)
		return -1;
	for (i = 0; i < req->nq; i++)
		if (strcmp(req->q[i].key, key) == 0) {
			*val = req->q[i].val;
			return 1;
		}
	return 0;
}

int
http_query_valid(struct http_req *req)
{
	req_parse_query(req);
	return req->qstate == -1 ? -1 : 0;
}

void
http_reply(struct http_req *req, int status, const char *content_type,
    const void *body, size_t len)
{
	req_reply_body(req, status, content_type, body, len, NULL);
}

void
http_reply_json(struct http_req *req, int status, const struct buf *json)
{
	req_reply_body(req, status, "application/json; charset=utf-8",
	    buf_data(json), buf_len(json), json);
}

struct buf *
http_reply_begin(struct http_req *req)
{
	return &req->reply;
}

void
http_reply_end(struct http_req *req, int status, const char *content_type)
{
	const struct buf *b = &req->reply;

	/* An empty body may have no allocation at all. */
	req_reply_body(req, status, content_type,
	    buf_len(b) > 0 ? buf_data(b) : "", buf_len(b), b);
}

void
http_reply_error(struct http_req *req, int status, const char *message)
{
	req_reply(req, status, NULL, NULL, NULL, 0, message);
}

void
http_reply_text(struct http_req *req, int status, const char *text)
{
	req->plain = 1;
	req_reply_body(req, status, "text/plain; charset=utf-8", text,
	    strlen(text), NULL);
}

void
http_req_hold(struct http_req *req)
{
	req->held = 1;
}

/*
 * Listening sockets.
 */

static void
listen_error(char *err, size_t errlen, const char *net, const char *addr,
    const char *op, int e)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s", strerror(e));
	msg[0] = (char)tolower((unsigned char)msg[0]);
	snprintf(err, errlen, "listen %s %s: %s: %s", net, addr, op, msg);
}

static int
listen_on(const struct sockaddr *sa, socklen_t sl, int v6only, int *ep,
    const char **opp)
{
	int fd, one = 1;

	*opp = "socket";
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		goto fail;
	*opp = "setsockopt";
	if (sa->sa_family != AF_UNIX && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, sizeof(v6only)) == -1)
		goto fail;
	*opp = "bind";
	if (bind(fd, sa, sl) == -1)
		goto fail;
	*opp = "listen";
	if (listen(fd, 1024) == -1)
		goto fail;
	return fd;
fail:
	*ep = errno;
	if (fd != -1)
		close(fd);
	return -1;
}

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	const char *op = "bind";
	int fd, e = EINVAL;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		listen_error(err, errlen, "unix", path, op, e);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = listen_on((struct sockaddr *)&sun, sizeof(sun), 0, &e, &op);
	if (fd == -1)
		listen_error(err, errlen, "unix", path, op, e);
	return fd;
}

int
http_listen(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	const char *colon, *h, *op = "listen";
	char host[256];
	size_t hlen;
	int fd = -1, e = EINVAL, rc;

	if ((colon = strrchr(addr, ':')) == NULL)
		return listen_unix(addr, err, errlen);
	h = addr;
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[') {
		if (hlen < 2 || addr[hlen - 1] != ']') {
			snprintf(err, errlen, "listen tcp %s: "
			    "missing ']' in address", addr);
			return -1;
		}
		h++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		listen_error(err, errlen, "tcp", addr, "lookup",
		    ENAMETOOLONG);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (hlen == 0 || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0) {
		/*
		 * A wildcard: one dual-stack socket, as Go listens for
		 * "0.0.0.0:4151" too; IPv4 alone where IPv6 is missing.
		 */
		hints.ai_family = AF_INET6;
		if ((rc = getaddrinfo(NULL, colon + 1, &hints, &res)) != 0) {
			snprintf(err, errlen, "listen tcp %s: lookup: %s",
			    addr, gai_strerror(rc));
			return -1;
		}
		fd = listen_on(res->ai_addr, res->ai_addrlen, 0, &e, &op);
		freeaddrinfo(res);
		if (fd >= 0 || e == EADDRINUSE || e == EACCES)
			goto done;
		snprintf(host, sizeof(host), "0.0.0.0");
	}
	hints.ai_family = AF_UNSPEC;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen tcp %s: lookup: %s", addr,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = listen_on(ai->ai_addr, ai->ai_addrlen, 1, &e, &op);
	freeaddrinfo(res);
done:
	if (fd == -1)
		listen_error(err, errlen, "tcp", addr, op, e);
	return fd;
}

int
http_listen_port(int fd)
{
	return net_local_port(fd);
}
