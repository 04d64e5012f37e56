/*
 * Unit tests for lib/http: a server on a loopback port in this process's
 * own ev loop, driven by raw client sockets.  Every wait is bounded.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <ev.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "buffer.h"
#include "http.h"
#include "json.h"

#define WAIT	3.0	/* seconds, for what must happen */
#define QUIET	0.05	/* seconds, to see that nothing happens */

struct fx {
	struct ev_loop		*loop;
	struct http_server	*srv;
	int			 port;
	struct http_req		*held[8];
	int			 nheld;
	int			 nlogged;
	int			 laststatus;
	int			 nwarned;
	char			 lastwarn[128];
	int			 nfailed;	/* TLS handshakes */
	char			 lastfail[128];
};

struct client {
	int	 fd;
	char	*buf;
	size_t	 off;		/* consumed */
	size_t	 len;
	size_t	 cap;
	int	 eof;
};

struct resp {
	int	 status;
	char	 head[8192];
	char	*body;
	size_t	 blen;
};

static void	*allocs[16384];
static int	 nallocs;

static void *
tmalloc(size_t n)
{
	void *p = malloc(n);

	assert_non_null(p);
	assert_true(nallocs < (int)(sizeof(allocs) / sizeof(allocs[0])));
	allocs[nallocs++] = p;
	return p;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Handlers. */

static void
h_ping(struct http_req *req, void *arg)
{
	(void)arg;
	assert_true(http_req_start(req) > 0);
	http_reply_text(req, 200, "OK");
}

static void
h_q(struct http_req *req, void *arg)
{
	static const char *keys[] = { "a", "b", "c", "d", "e", "" };
	char out[1024];
	const char *v;
	size_t i, n = 0;
	int rc;

	(void)arg;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		rc = http_query_get(req, keys[i], &v);
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s=%s\n",
		    keys[i], rc == 1 ? v : rc == 0 ? "<absent>" : "<bad>");
		if (rc != 1)
			assert_null(v);
	}
	snprintf(out + n, sizeof(out) - n, "valid=%d",
	    http_query_valid(req));
	http_reply_text(req, 200, out);
}

static void
h_echo(struct http_req *req, void *arg)
{
	const void *body;
	size_t len;

	(void)arg;
	body = http_req_body(req, &len);
	assert_non_null(body);
	http_reply(req, 200, "application/octet-stream", body, len);
}

static void
h_hdr(struct http_req *req, void *arg)
{
	const char *v = http_req_header(req, "x-TEST");

	(void)arg;
	http_reply_text(req, 200, v != NULL ? v : "<none>");
}

static void
h_hold(struct http_req *req, void *arg)
{
	struct fx *f = arg;

	assert_true(f->nheld < 8);
	f->held[f->nheld++] = req;
	http_req_hold(req);
}

static void
h_cfg(struct http_req *req, void *arg)
{
	char out[256];

	(void)arg;
	snprintf(out, sizeof(out), "%s %s", http_req_method(req),
	    http_req_wildcard(req));
	http_reply_text(req, 200, out);
}

static void
h_peer(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_text(req, 200, http_req_peer(req));
}

static void
h_path(struct http_req *req, void *arg)
{
	char out[256];

	(void)arg;
	snprintf(out, sizeof(out), "%s|%s", http_req_path(req),
	    http_req_uri(req));
	http_reply_text(req, 200, out);
}

static void
h_noreply(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
}

static void
h_twice(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_text(req, 200, "first");
	http_reply_text(req, 201, "second");
}

static void
h_big(struct http_req *req, void *arg)
{
	char *p = malloc(1 << 20);
	size_t i;

	(void)arg;
	assert_non_null(p);
	for (i = 0; i < 1 << 20; i++)
		p[i] = (char)('a' + i % 26);
	http_reply(req, 200, "text/plain", p, 1 << 20);
	free(p);
}

static void
h_json(struct http_req *req, void *arg)
{
	struct buf b;

	(void)arg;
	buf_init(&b, 0, 128);
	assert_int_equal(buf_appendf(&b, "{\"x\":%d}", 1), 0);
	http_reply_json(req, 200, &b);
	buf_free(&b);
}

/*
 * Replies built in the request's buffer, the reply limit (1 MiB here)
 * plus n bytes long: "?n=0" fits exactly, "?n=1" is one byte over.  The
 * JSON one is a string of that many bytes with its quotes.
 */
static size_t
over_by(struct http_req *req)
{
	const char *v;

	return http_query_get(req, "n", &v) == 1 ? strtoul(v, NULL, 10) : 0;
}

static void
h_built(struct http_req *req, void *arg)
{
	struct buf *b = http_reply_begin(req);
	size_t i, n = ((size_t)1 << 20) + over_by(req);

	(void)arg;
	assert_ptr_equal(http_reply_begin(req), b);
	for (i = 0; i < n / 8; i++)
		buf_add(b, "abcdefgh", 8);
	buf_add(b, "abcdefgh", n % 8);
	/* Past the limit: appends after the failure do nothing. */
	buf_addf(b, "%s", "");
	http_reply_end(req, 200, "text/plain");
}

static void
h_built_json(struct http_req *req, void *arg)
{
	size_t n = ((size_t)1 << 20) + over_by(req) - 2;
	char *s = malloc(n);
	struct jw w;

	(void)arg;
	assert_non_null(s);
	memset(s, 'j', n);
	jw_init(&w, http_reply_begin(req));
	jw_strn(&w, s, n);
	free(s);
	/* The writer's failure is its buffer's too: http_reply_end sees it. */
	assert_int_equal(jw_finish(&w), over_by(req) > 0 ? -1 : 0);
	http_reply_end(req, 200, "application/json; charset=utf-8");
}

/* The same through http_reply: a body past the limit. */
static void
h_raw(struct http_req *req, void *arg)
{
	size_t n = ((size_t)1 << 20) + over_by(req);
	char *p = malloc(n);

	(void)arg;
	assert_non_null(p);
	memset(p, 'r', n);
	http_reply(req, 200, "text/plain", p, n);
	free(p);
}

/* A failed buffer of the handler's own, through http_reply_json. */
static void
h_failed_json(struct http_req *req, void *arg)
{
	struct buf b;

	(void)arg;
	buf_init(&b, 0, 8);
	buf_add(&b, "{\"x\":", 5);
	buf_add(&b, "12345", 5);
	assert_true(buf_failed(&b));
	http_reply_json(req, 200, &b);
	buf_free(&b);
}

static void
h_err(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_error(req, 400, "A \"q\" <b>\n");
}

static const struct http_route routes[] = {
	{ "GET", "/ping", h_ping, 0, NULL },
	{ "GET", "/q", h_q, 0, NULL },
	{ "POST", "/echo", h_echo, 0, NULL },
	{ "PUT", "/echo", h_echo, 0, NULL },
	{ "POST", "/echo", h_ping, 0, NULL },
	{ "GET", "/hdr", h_hdr, 0, NULL },
	{ "GET", "/hold", h_hold, 0, NULL },
	{ "POST", "/hold", h_hold, 0, NULL },
	{ NULL, "/config/*", h_cfg, 0, NULL },
	{ "GET", "/peer", h_peer, 0, NULL },
	{ "GET", "/a b", h_path, 0, NULL },
	{ "GET", "/noreply", h_noreply, 0, NULL },
	{ "GET", "/twice", h_twice, 0, NULL },
	{ "GET", "/big", h_big, 0, NULL },
	{ "GET", "/json", h_json, 0, NULL },
	{ "GET", "/err", h_err, 0, NULL },
	{ "GET", "/built", h_built, 0, NULL },
	{ "GET", "/builtjson", h_built_json, 0, NULL },
	{ "GET", "/raw", h_raw, 0, NULL },
	{ "GET", "/failedjson", h_failed_json, 0, NULL },
	{ "POST", "/small", h_echo, 8, "MSG_TOO_BIG" },
};

static void
logger(const struct http_req *req, int status, void *arg)
{
	struct fx *f = arg;

	assert_non_null(http_req_method(req));
	f->nlogged++;
	f->laststatus = status;
}

static void
warner(const struct http_req *req, const char *why, void *arg)
{
	struct fx *f = arg;

	assert_non_null(http_req_uri(req));
	f->nwarned++;
	snprintf(f->lastwarn, sizeof(f->lastwarn), "%s", why);
}

static struct http_server *
server_new(struct fx *f, const struct http_limits *lim)
{
	char err[256];
	int fd;

	fd = http_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(fd >= 0);
	f->port = http_listen_port(fd);
	assert_true(f->port > 0);
	return http_server_new(f->loop, fd, routes,
	    sizeof(routes) / sizeof(routes[0]), lim, f);
}

static int
setup(void **state)
{
	struct http_limits lim = { 4096, 1024, 5.0, 64, 1 << 20 };
	struct fx *f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	f->srv = server_new(f, &lim);
	http_server_set_log(f->srv, logger);
	http_server_set_warn(f->srv, warner);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	http_server_free(f->srv);
	ev_loop_destroy(f->loop);
	free(f);
	while (nallocs > 0)
		free(allocs[--nallocs]);
	return 0;
}

/* Client side. */

static void
spin(struct fx *f, int fd, int ms)
{
	struct pollfd pfd;

	ev_run(f->loop, EVRUN_NOWAIT);
	pfd.fd = fd;
	pfd.events = POLLIN;
	poll(&pfd, fd >= 0 ? 1 : 0, ms);
	ev_run(f->loop, EVRUN_NOWAIT);
}

static void
run_for(struct fx *f, double secs)
{
	double end = now() + secs;

	while (now() < end)
		spin(f, -1, 1);
}

static int
connect_port(int port)
{
	struct sockaddr_in sin;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	return fd;
}

static void
client_init(struct client *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->cap = 1 << 16;
	c->buf = tmalloc(c->cap);
}

static void
client_open(struct fx *f, struct client *c)
{
	client_init(c, connect_port(f->port));
}

static void
client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Write all of s, running the server meanwhile. */
static void
client_send(struct fx *f, struct client *c, const void *s, size_t n)
{
	const char *p = s;
	double end = now() + WAIT;
	ssize_t w;

	while (n > 0) {
		assert_true(now() < end);
		w = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		spin(f, -1, 1);
	}
}

static void
client_sends(struct fx *f, struct client *c, const char *s)
{
	client_send(f, c, s, strlen(s));
}

/* Read once, without blocking. */
static void
client_fill(struct client *c)
{
	char *nb;
	ssize_t n;

	if (c->eof)
		return;
	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->cap - c->len < 4096) {
		nb = tmalloc(c->cap * 2);
		memcpy(nb, c->buf, c->len);
		c->buf = nb;
		c->cap *= 2;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		c->eof = 1;
}

static const char *
resp_hdr(const struct resp *r, const char *name)
{
	static char val[1024];
	const char *p = strstr(r->head, "\r\n");
	size_t n = strlen(name), vl;

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			vl = strcspn(p, "\r");
			assert_true(vl < sizeof(val));
			memcpy(val, p, vl);
			val[vl] = '\0';
			return val;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/* One response from the front of the client's buffer; 0 if incomplete. */
static int
client_take(struct client *c, struct resp *r, int nobody)
{
	const char *p = c->buf + c->off, *end, *cl;
	size_t len = c->len - c->off, hlen, blen = 0;

	end = memmem(p, len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	hlen = (size_t)(end - p) + 4;
	assert_true(hlen < sizeof(r->head));
	memcpy(r->head, p, hlen);
	r->head[hlen] = '\0';
	assert_memory_equal(r->head, "HTTP/1.1 ", 9);
	r->status = atoi(r->head + 9);
	if (!nobody && (cl = resp_hdr(r, "Content-Length")) != NULL)
		blen = strtoul(cl, NULL, 10);
	if (len < hlen + blen)
		return 0;
	r->body = tmalloc(blen + 1);
	memcpy(r->body, p + hlen, blen);
	r->body[blen] = '\0';
	r->blen = blen;
	c->off += hlen + blen;
	return 1;
}

/* Read up to want responses (fewer on EOF or after secs). */
static int
client_read_for(struct fx *f, struct client *c, struct resp *r, int want,
    int nobody, double secs)
{
	double end = now() + secs;
	int got = 0;

	while (got < want) {
		if (client_take(c, &r[got], nobody)) {
			got++;
			continue;
		}
		if (c->eof || now() >= end)
			break;
		spin(f, c->fd, 1);
		client_fill(c);
	}
	return got;
}

static int
client_read(struct fx *f, struct client *c, struct resp *r, int want)
{
	return client_read_for(f, c, r, want, 0, WAIT);
}

/* Wait for EOF; returns 1 if it came with no unread byte left. */
static int
client_eof(struct fx *f, struct client *c)
{
	double end = now() + WAIT;

	while (!c->eof && now() < end) {
		spin(f, c->fd, 1);
		client_fill(c);
	}
	return c->eof && c->len == c->off;
}

/* One request, one response. */
static void
roundtrip(struct fx *f, struct client *c, const char *req, struct resp *r)
{
	client_sends(f, c, req);
	assert_int_equal(client_read(f, c, r, 1), 1);
}

static void
assert_error(const struct resp *r, int status, const char *message)
{
	char want[256];

	snprintf(want, sizeof(want), "{\"message\":\"%s\"}", message);
	assert_int_equal(r->status, status);
	assert_string_equal(r->body, want);
	assert_string_equal(resp_hdr(r, "Content-Type"),
	    "application/json; charset=utf-8");
	assert_string_equal(resp_hdr(r, "X-NSQ-Content-Type"),
	    "nsq; version=1.0");
}

/* Send req (len 0: a string) on a fresh connection: one error reply,
 * then the close. */
static void
expect_error_close(struct fx *f, const char *req, size_t len, int status,
    const char *message)
{
	struct client c;
	struct resp r;

	client_open(f, &c);
	client_send(f, &c, req, len != 0 ? len : strlen(req));
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_error(&r, status, message);
	assert_string_equal(resp_hdr(&r, "Connection"), "close");
	assert_true(client_eof(f, &c));
	client_close(&c);
}

static void
wait_nconns(struct fx *f, struct http_server *srv, int n)
{
	double end = now() + WAIT;

	while (http_server_nconns(srv) != n && now() < end)
		spin(f, -1, 1);
	assert_int_equal(http_server_nconns(srv), n);
}

/* Tests. */

static void
test_get_keepalive(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[2];

	client_open(f, &c);
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_int_equal(r[0].status, 200);
	assert_string_equal(r[0].body, "OK");
	assert_string_equal(resp_hdr(&r[0], "Content-Type"),
	    "text/plain; charset=utf-8");
	/* Go's PlainText replies carry no X-NSQ-Content-Type. */
	assert_null(resp_hdr(&r[0], "X-NSQ-Content-Type"));
	assert_string_equal(resp_hdr(&r[0], "Content-Length"), "2");
	assert_non_null(resp_hdr(&r[0], "Date"));
	assert_true(strstr(resp_hdr(&r[0], "Date"), " GMT") != NULL);
	assert_null(resp_hdr(&r[0], "Connection"));
	assert_memory_equal(r[0].head, "HTTP/1.1 200 OK\r\n", 17);
	/* The same connection serves the next request. */
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r[1]);
	assert_int_equal(r[1].status, 200);
	assert_int_equal(http_server_nconns(f->srv), 1);
	assert_int_equal(f->nlogged, 2);
	assert_int_equal(f->laststatus, 200);
	client_close(&c);
	wait_nconns(f, f->srv, 0);
}

static void
test_query(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;

	client_open(f, &c);
	roundtrip(f, &c, "GET /q?a=1+2%21&b=%41%62&a=dup&&c&d=x%2By&=e "
	    "HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "a=1 2!\nb=Ab\nc=\nd=x+y\ne=<absent>\n"
	    "=e\nvalid=0");
	roundtrip(f, &c, "GET /q HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "a=<absent>\nb=<absent>\nc=<absent>\n"
	    "d=<absent>\ne=<absent>\n=<absent>\nvalid=0");
	/* Malformed: every lookup says so, as url.ParseQuery's error. */
	roundtrip(f, &c, "GET /q?a=1&b=%zz HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "a=<bad>\nb=<bad>\nc=<bad>\nd=<bad>\n"
	    "e=<bad>\n=<bad>\nvalid=-1");
	roundtrip(f, &c, "GET /q?a=1%4 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(strstr(r.body, "valid=-1") != NULL);
	roundtrip(f, &c, "GET /q?a=1;b=2 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(strstr(r.body, "valid=-1") != NULL);
	roundtrip(f, &c, "GET /q?a=x%00y HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(strstr(r.body, "valid=-1") != NULL);
	/* Absolute form. */
	roundtrip(f, &c, "GET http://h:1/q?a=5 HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", &r);
	assert_true(strncmp(r.body, "a=5\n", 4) == 0);
	/* The path is decoded, the URI kept raw. */
	roundtrip(f, &c, "GET /a%20b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "/a b|/a%20b?x=1");
	client_close(&c);
	/* A bad escape in the path is a bad request. */
	expect_error_close(f, "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", 0, 400,
	    "BAD_REQUEST");
}

static void
test_post_body(void **state)
{
	static const char bin[] = "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5"
	    "\r\n\r\na\0b\0c";
	struct fx *f = *state;
	struct client c;
	struct resp r;
	size_t len;

	client_open(f, &c);
	roundtrip(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 11\r\n\r\n"
	    "hello world", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello world");
	assert_string_equal(resp_hdr(&r, "Content-Type"),
	    "application/octet-stream");
	roundtrip(f, &c, "PUT /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 0\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 0);
	client_send(f, &c, bin, sizeof(bin) - 1);
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_int_equal(r.blen, 5);
	assert_memory_equal(r.body, "a\0b\0c", 5);
	/* Exactly the limit is fine. */
	{
		char big[1200];

		len = (size_t)snprintf(big, sizeof(big), "POST /echo HTTP/1.1"
		    "\r\nHost: x\r\nContent-Length: 1024\r\n\r\n");
		memset(big + len, 'z', 1024);
		client_send(f, &c, big, len + 1024);
		assert_int_equal(client_read(f, &c, &r, 1), 1);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.blen, 1024);
	}
	client_close(&c);
}

static void
test_chunked(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;

	client_open(f, &c);
	roundtrip(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked"
	    "\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t"
	    "\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello world");
	roundtrip(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked"
	    "\r\n\r\n0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.blen, 0);
	client_close(&c);
	expect_error_close(f, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: "
	    "chunked\r\n\r\nzz\r\n", 0, 400, "BAD_REQUEST");
}

static void
test_pipeline(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[4];

	client_open(f, &c);
	client_sends(f, &c, "GET /q?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
	    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /q?a=3 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read(f, &c, r, 4), 4);
	assert_true(strncmp(r[0].body, "a=1\n", 4) == 0);
	assert_string_equal(r[1].body, "two");
	assert_error(&r[2], 404, "NOT_FOUND");
	assert_true(strncmp(r[3].body, "a=3\n", 4) == 0);
	/* A big reply then a small one, still in order. */
	client_sends(f, &c, "GET /big HTTP/1.1\r\nHost: x\r\n"
	    "\r\nGET /ping HTTP/1.1"
	    "\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read(f, &c, r, 2), 2);
	assert_int_equal(r[0].blen, 1 << 20);
	assert_int_equal(r[0].body[12345], 'a' + 12345 % 26);
	assert_string_equal(r[1].body, "OK");
	client_close(&c);
}

/*
 * A reply body past the reply limit is a 500 in NSQ's error shape,
 * reported once; never a cut 200.  Exactly the limit is a normal reply,
 * and the connection goes on serving after either.
 */
static void
test_reply_too_big(void **state)
{
	static const char *const paths[] = { "/built", "/builtjson", "/raw" };
	struct fx *f = *state;
	struct client c;
	struct resp r;
	char req[64];
	size_t i;

	client_open(f, &c);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req), "GET %s?n=0 HTTP/1.1\r\nHost: x\r\n"
		    "\r\n",
		    paths[i]);
		roundtrip(f, &c, req, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.blen, 1 << 20);
		assert_int_equal(f->nwarned, 0);
		snprintf(req, sizeof(req), "GET %s?n=1 HTTP/1.1\r\nHost: x\r\n"
		    "\r\n",
		    paths[i]);
		roundtrip(f, &c, req, &r);
		assert_error(&r, 500, "INTERNAL_ERROR");
		assert_int_equal(f->laststatus, 500);
		assert_int_equal(f->nwarned, 1);
		assert_true(strstr(f->lastwarn, "answered 500") != NULL);
		f->nwarned = 0;
		roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "OK");
	}
	assert_string_equal(f->lastwarn, "reply body of 1048577 bytes over "
	    "the limit of 1048576, answered 500");
	roundtrip(f, &c, "GET /failedjson HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_error(&r, 500, "INTERNAL_ERROR");
	assert_int_equal(f->nwarned, 1);
	assert_string_equal(f->lastwarn, "reply body over its buffer's limit "
	    "of 8 bytes, answered 500");
	client_close(&c);
	wait_nconns(f, f->srv, 0);
}

static void
test_connection_close(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[2];

	client_open(f, &c);
	/* The request after the one that says close is not answered. */
	client_sends(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n"
	    "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read(f, &c, r, 2), 1);
	assert_int_equal(r[0].status, 200);
	assert_string_equal(resp_hdr(&r[0], "Connection"), "close");
	assert_true(client_eof(f, &c));
	client_close(&c);
	/* No upgrades: answered as HTTP, then closed. */
	client_open(f, &c);
	client_sends(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: upgrade\r\n\r\n\x81\x05hello");
	assert_int_equal(client_read(f, &c, r, 2), 1);
	assert_int_equal(r[0].status, 200);
	assert_string_equal(resp_hdr(&r[0], "Connection"), "close");
	assert_true(client_eof(f, &c));
	client_close(&c);
	wait_nconns(f, f->srv, 0);
}

static void
test_http10(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;

	client_open(f, &c);
	roundtrip(f, &c, "GET /ping HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.head, "HTTP/1.1 200 OK\r\n", 17);
	assert_string_equal(resp_hdr(&r, "Connection"), "close");
	assert_true(client_eof(f, &c));
	client_close(&c);

	client_open(f, &c);
	roundtrip(f, &c, "GET /ping HTTP/1.0\r\nConnection: keep-alive"
	    "\r\n\r\n", &r);
	assert_string_equal(resp_hdr(&r, "Connection"), "keep-alive");
	roundtrip(f, &c, "GET /ping HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_true(client_eof(f, &c));
	client_close(&c);
}

static void
test_body_too_big(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;
	char chunk[600];
	int i;

	/* Refused on Content-Length alone, before the body comes. */
	expect_error_close(f, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1025"
	    "\r\n\r\n", 0, 413, "BODY_TOO_BIG");
	/* The body the client sends anyway is read and dropped. */
	client_open(f, &c);
	client_sends(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 3000"
	    "\r\n\r\n");
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_error(&r, 413, "BODY_TOO_BIG");
	memset(chunk, 'y', sizeof(chunk));
	for (i = 0; i < 5; i++)
		client_send(f, &c, chunk, sizeof(chunk));
	shutdown(c.fd, SHUT_WR);
	assert_true(client_eof(f, &c));
	wait_nconns(f, f->srv, 0);
	client_close(&c);
	/* Also with Expect: no 100 Continue then. */
	client_open(f, &c);
	client_sends(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 99999"
	    "\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_error(&r, 413, "BODY_TOO_BIG");
	assert_true(client_eof(f, &c));
	client_close(&c);
	/* Chunked: refused when the sum passes the limit. */
	client_open(f, &c);
	client_sends(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: "
	    "chunked\r\n\r\n");
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 2; i++) {
		client_sends(f, &c, "258\r\n");
		client_send(f, &c, chunk, sizeof(chunk));
		client_sends(f, &c, "\r\n");
	}
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_error(&r, 413, "BODY_TOO_BIG");
	assert_true(client_eof(f, &c));
	client_close(&c);
	/* A route's own limit and message. */
	client_open(f, &c);
	roundtrip(f, &c, "POST /small HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 8\r\n\r\n"
	    "12345678", &r);
	assert_int_equal(r.status, 200);
	client_close(&c);
	expect_error_close(f, "POST /small HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 9\r\n"
	    "\r\n123456789", 0, 413, "MSG_TOO_BIG");
	expect_error_close(f, "POST /small HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: "
	    "chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n", 0, 413,
	    "MSG_TOO_BIG");
}

static void
test_header_too_big(void **state)
{
	struct fx *f = *state;
	char req[8192];
	size_t n;
	int i;

	n = (size_t)snprintf(req, sizeof(req), "GET /ping HTTP/1.1\r\n"
	    "Host: x\r\nX-Big: ");
	memset(req + n, 'a', 5000);
	n += 5000;
	memcpy(req + n, "\r\n\r\n", 4);
	expect_error_close(f, req, n + 4, 431, "HEADER_TOO_BIG");
	/* A long URL counts too. */
	n = (size_t)snprintf(req, sizeof(req), "GET /ping?x=");
	memset(req + n, 'a', 5000);
	n += 5000;
	n += (size_t)snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\n"
	    "Host: x\r\n\r\n");
	expect_error_close(f, req, n, 431, "HEADER_TOO_BIG");
	/* Many small headers. */
	n = (size_t)snprintf(req, sizeof(req), "GET /ping HTTP/1.1\r\n"
	    "Host: x\r\n");
	for (i = 0; i < 800; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "A: b\r\n");
	n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
	expect_error_close(f, req, n, 431, "HEADER_TOO_BIG");
}

static void
test_bad_requests(void **state)
{
	static const struct {
		const char	*req;
		int		 status;
		const char	*msg;
	} t[] = {
		{ "garbage\r\n\r\n", 400, "BAD_REQUEST" },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
		    "BAD_REQUEST" },
		{ "GET\r\n\r\n", 400, "BAD_REQUEST" },
		{ "GET /ping HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400,
		    "BAD_REQUEST" },
		{ "GET /ping HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: abc\r\n\r\n", 400,
		    "BAD_REQUEST" },
		{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		    "Content-Length: 2\r\n\r\n", 400, "BAD_REQUEST" },
		{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n", 400, "BAD_REQUEST" },
		{ "FOO /ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST" },
		{ "GET ping HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST" },
		{ "GET /ping HTTP/2.0\r\n\r\n", 505,
		    "HTTP_VERSION_NOT_SUPPORTED" },
		{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: gzip\r\n\r\n", 501,
		    "UNSUPPORTED_TRANSFER_ENCODING" },
		{ "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n"
		    "Content-Length: 1\r\n\r\nx", 417, "EXPECTATION_FAILED" },
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_error_close(f, t[i].req, strlen(t[i].req), t[i].status,
		    t[i].msg);
	/* A good request in front is answered first. */
	{
		struct client c;
		struct resp r[2];

		client_open(f, &c);
		client_sends(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n"
		    "\r\nXX\r\n\r\n");
		assert_int_equal(client_read(f, &c, r, 2), 2);
		assert_int_equal(r[0].status, 200);
		assert_error(&r[1], 400, "BAD_REQUEST");
		assert_true(client_eof(f, &c));
		client_close(&c);
	}
	wait_nconns(f, f->srv, 0);
}

/*
 * Strict framing (RFC 9112, as Go's net/http): one row per request, sent
 * on a fresh connection whole and then a byte at a time.  A good request
 * is answered and the connection serves a GET /ping after it; a bad one
 * is answered with the error and the connection closed.
 */
#define CHUNKED	"POST /echo HTTP/1.1\r\nHost: x\r\n" \
		"Transfer-Encoding: chunked\r\n\r\n"
#define PING	"GET /ping HTTP/1.1\r\nHost: x\r\n"

struct strict_case {
	const char	*req;
	int		 status;
	const char	*body;		/* the echo; NULL: not checked */
	int		 open;		/* the connection stays open */
};

static const struct strict_case strict_cases[] = {
	/* The probe's desync: no CRLF after "hello". */
	{ CHUNKED "5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n", 400, NULL, 0 },
	/* Its valid neighbour, and other good chunked bodies. */
	{ CHUNKED "5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", 200, "helloabc", 1 },
	{ CHUNKED "5;name=val\r\nhello\r\n0;x\r\n\r\n", 200, "hello", 1 },
	{ CHUNKED "5;a=\"b c\";d\r\nhello\r\n0\r\n\r\n", 200, "hello", 1 },
	{ CHUNKED "5 \t\r\nhello\r\n0;e \r\n\r\n", 200, "hello", 1 },
	{ CHUNKED "0000000000000005\r\nhello\r\n0\r\n\r\n", 200, "hello",
	    1 },
	{ CHUNKED "A\r\n0123456789\r\n0\r\nX-T: 1\r\nY-T: 2\r\n\r\n", 200,
	    "0123456789", 1 },
	{ CHUNKED "0\r\n\r\n", 200, "", 1 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "1\r\nz\r\n0\r\n\r\n", 200, "z", 1 },
	/* Chunk framing. */
	{ CHUNKED "5\r\nhello\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5\r\nhello\rX0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5\r\nhelloX\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5\r\nhello\r\n0\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5\rhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5;a\rb\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5;a\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	/* Bad chunk sizes; Go keeps no blank before ';'. */
	{ CHUNKED "zz\r\n", 400, NULL, 0 },
	{ CHUNKED "\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED " 5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "-5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "0x5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5 ;x\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "5 5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	/* Overflow: more than 16 hex digits, leading zeros too (as Go). */
	{ CHUNKED "10000000000000000\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "00000000000000005\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "ffffffffffffffff\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	/* Trailers are header lines. */
	{ CHUNKED "0\r\nX-T: 1\r\n 2\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "0\r\nX-T: a\rb\r\n\r\n", 400, NULL, 0 },
	{ CHUNKED "0\r\nX-T : 1\r\n\r\n", 400, NULL, 0 },
	/* obs-fold. */
	{ PING "X-A: 1\r\n 2\r\n\r\n", 400, NULL, 0 },
	{ PING "X-A: 1\r\n\t2\r\n\r\n", 400, NULL, 0 },
	{ "GET /ping HTTP/1.1\r\n Host: x\r\n\r\n", 400, NULL, 0 },
	/* Bare CRs. */
	{ "GET /ping\r HTTP/1.1\r\nHost: x\r\n\r\n", 400, NULL, 0 },
	{ "GET /ping HTTP/1.1\rX\r\n\r\n", 400, NULL, 0 },
	{ "GET /ping HTTP/1.1\r\r\n\r\n", 400, NULL, 0 },
	{ PING "X-A: a\rb\r\n\r\n", 400, NULL, 0 },
	{ PING "X\r-A: b\r\n\r\n", 400, NULL, 0 },
	{ PING "X-A: a\r\n\r\r\n", 400, NULL, 0 },
	/* Blanks between a name and its colon. */
	{ "GET /ping HTTP/1.1\r\nHost : x\r\n\r\n", 400, NULL, 0 },
	{ "GET /ping HTTP/1.1\r\nHost\t: x\r\n\r\n", 400, NULL, 0 },
	/* Good heads: no blank after the colon, bare LFs (as Go). */
	{ "GET /ping HTTP/1.1\r\nHost:x\r\nX-A:\t1\t\r\n\r\n", 200, NULL, 1 },
	{ "GET /ping HTTP/1.1\nHost: x\n\n", 200, NULL, 1 },
	{ PING "X-A: 1\r\nX-A: 1\r\n\r\n", 200, NULL, 1 },
	/*
	 * Host (RFC 9112 3.2): an HTTP/1.1 request needs one, as Go; an
	 * empty value is one; HTTP/1.0 may omit it (test_http10).
	 */
	{ "GET /ping HTTP/1.1\r\n\r\n", 400, NULL, 0 },
	{ "GET /ping HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nContent-Length: 1\r\n\r\na", 400, NULL,
	    0 },
	{ "GET /ping HTTP/1.1\r\nhost: x\r\n\r\n", 200, NULL, 1 },
	{ "GET /ping HTTP/1.1\r\nHost:\r\n\r\n", 200, NULL, 1 },
	/* Repeated Host, repeated Content-Length (same value too). */
	{ PING "Host: y\r\n\r\n", 400, NULL, 0 },
	{ PING "Host: x\r\n\r\n", 400, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\nContent-Length: 2"
	    "\r\n\r\nab", 400, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\nContent-Length: 1"
	    "\r\n\r\na", 400, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1, 1\r\n\r\na", 400, NULL,
	    0 },
	/* Transfer-Encoding with Content-Length, in either order. */
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400,
	    NULL, 0 },
	/* Unknown transfer codings: 501, as Go. */
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: gzip, chunked\r\n\r\n"
	    "0\r\n\r\n", 501, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked, chunked\r\n"
	    "\r\n0\r\n\r\n", 501, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501, NULL, 0 },
	{ "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: identity\r\n\r\n", 501,
	    NULL, 0 },
};

/* Send n bytes one at a time, running the server between them. */
static void
send_bytewise(struct fx *f, struct client *c, const char *s, size_t n)
{
	size_t i;

	/* The server may close after an error: later sends may fail. */
	for (i = 0; i < n; i++) {
		if (send(c->fd, s + i, 1, MSG_NOSIGNAL) != 1)
			break;
		spin(f, -1, 0);
	}
}

static void
strict_check(struct fx *f, const char *req, size_t len, int status,
    const char *body, int open, int bytewise, int row)
{
	struct client c;
	struct resp r;
	char what[64];

	snprintf(what, sizeof(what), "row %d%s", row,
	    bytewise ? " (byte by byte)" : "");
	client_open(f, &c);
	if (bytewise)
		send_bytewise(f, &c, req, len);
	else
		client_send(f, &c, req, len);
	if (client_read(f, &c, &r, 1) != 1)
		fail_msg("no reply to %s", what);
	if (r.status != status)
		fail_msg("%d for %s", r.status, what);
	if (body != NULL)
		assert_string_equal(r.body, body);
	if (open) {
		assert_null(resp_hdr(&r, "Connection"));
		roundtrip(f, &c, PING "\r\n", &r);
		assert_int_equal(r.status, 200);
	} else {
		assert_error(&r, status, status == 400 ? "BAD_REQUEST" :
		    "UNSUPPORTED_TRANSFER_ENCODING");
		assert_string_equal(resp_hdr(&r, "Connection"), "close");
		assert_true(client_eof(f, &c));
	}
	client_close(&c);
}

static void
test_strict(void **state)
{
	struct fx *f = *state;
	const struct strict_case *t;
	char req[8192];
	size_t i, n;
	int bytewise;

	for (bytewise = 0; bytewise < 2; bytewise++)
		for (i = 0; i < sizeof(strict_cases) /
		    sizeof(strict_cases[0]); i++) {
			t = &strict_cases[i];
			strict_check(f, t->req, strlen(t->req), t->status,
			    t->body, t->open, bytewise, (int)i);
		}
	/* A chunk-size line of 4095 bytes is fine, 4096 is not, as Go. */
	for (i = 0; i < 2; i++) {
		n = (size_t)snprintf(req, sizeof(req), "%s1;", CHUNKED);
		memset(req + n, 'e', 4093 + i);
		n += 4093 + i;
		n += (size_t)snprintf(req + n, sizeof(req) - n,
		    "\r\nz\r\n0\r\n\r\n");
		strict_check(f, req, n, i == 0 ? 200 : 400, i == 0 ? "z" :
		    NULL, i == 0, 0, -1 - (int)i);
	}
	/* Keep-alive after a good chunked request, pipelined. */
	{
		struct client c;
		struct resp r[3];

		client_open(f, &c);
		client_sends(f, &c, CHUNKED "2\r\nab\r\n0\r\n\r\n"
		    CHUNKED "1;x=y\r\nc\r\n0\r\nT: 1\r\n\r\n" PING "\r\n");
		assert_int_equal(client_read(f, &c, r, 3), 3);
		assert_string_equal(r[0].body, "ab");
		assert_string_equal(r[1].body, "c");
		assert_int_equal(r[2].status, 200);
		/* A bad one after good ones: they are answered first. */
		client_sends(f, &c, CHUNKED "1\r\nz\r\n0\r\n\r\n"
		    CHUNKED "5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n");
		assert_int_equal(client_read(f, &c, r, 2), 2);
		assert_string_equal(r[0].body, "z");
		assert_error(&r[1], 400, "BAD_REQUEST");
		assert_true(client_eof(f, &c));
		client_close(&c);
	}
	wait_nconns(f, f->srv, 0);
}

static void
test_routing(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[3];

	client_open(f, &c);
	roundtrip(f, &c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_error(&r[0], 404, "NOT_FOUND");
	assert_int_equal(f->laststatus, 404);
	roundtrip(f, &c, "POST /ping HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\nx",
	    &r[0]);
	assert_error(&r[0], 405, "METHOD_NOT_ALLOWED");
	assert_string_equal(resp_hdr(&r[0], "Allow"), "GET, OPTIONS");
	roundtrip(f, &c, "OPTIONS /echo HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_int_equal(r[0].status, 200);
	assert_int_equal(r[0].blen, 0);
	/* httprouter router.go:358-367 sorts the methods. */
	assert_string_equal(resp_hdr(&r[0], "Allow"), "OPTIONS, POST, PUT");
	assert_null(resp_hdr(&r[0], "X-NSQ-Content-Type"));
	assert_null(resp_hdr(&r[0], "Content-Type"));
	/* HEAD: the headers of the reply, without its body. */
	client_sends(f, &c, "HEAD /ping HTTP/1.1\r\nHost: x\r\n"
	    "\r\nGET /ping HTTP/1.1"
	    "\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read_for(f, &c, &r[0], 1, 1, WAIT), 1);
	assert_int_equal(r[0].status, 405);
	assert_string_equal(resp_hdr(&r[0], "Content-Length"), "32");
	assert_int_equal(client_read(f, &c, &r[1], 1), 1);
	assert_string_equal(r[1].body, "OK");
	/* Prefix routes, any method. */
	roundtrip(f, &c, "DELETE /config/log_level HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", &r[0]);
	assert_string_equal(r[0].body, "DELETE log_level");
	roundtrip(f, &c, "GET /config/a/b%2Fc HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", &r[0]);
	assert_string_equal(r[0].body, "GET a/b/c");
	roundtrip(f, &c, "GET /config/ HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_error(&r[0], 404, "NOT_FOUND");
	roundtrip(f, &c, "GET /config HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_error(&r[0], 404, "NOT_FOUND");
	/* The first matching route wins. */
	roundtrip(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 1\r\n\r\nz",
	    &r[0]);
	assert_string_equal(r[0].body, "z");
	/* Replies of every kind. */
	roundtrip(f, &c, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_string_equal(r[0].body, "{\"x\":1}");
	assert_string_equal(resp_hdr(&r[0], "Content-Type"),
	    "application/json; charset=utf-8");
	roundtrip(f, &c, "GET /err HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_error(&r[0], 400,
	    "A \\\"q\\\" \\u003cb\\u003e\\n");
	roundtrip(f, &c, "GET /noreply HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_error(&r[0], 500, "INTERNAL_ERROR");
	client_sends(f, &c, "GET /twice HTTP/1.1\r\nHost: x\r\n"
	    "\r\nGET /ping HTTP/1.1"
	    "\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read(f, &c, r, 2), 2);
	assert_string_equal(r[0].body, "first");
	assert_string_equal(r[1].body, "OK");
	client_close(&c);
}

static void
test_headers(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;
	char want[64];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	client_open(f, &c);
	roundtrip(f, &c, "GET /hdr HTTP/1.1\r\nHost: x\r\n"
	    "x-test:   va lue  \r\n"
	    "X-Test: second\r\n\r\n", &r);
	assert_string_equal(r.body, "va lue");
	roundtrip(f, &c, "GET /hdr HTTP/1.1\r\nHost: x\r\n"
	    "X-Other: 1\r\nX-Test:\r\n\r\n",
	    &r);
	assert_string_equal(r.body, "");
	roundtrip(f, &c, "GET /hdr HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "<none>");
	roundtrip(f, &c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(getsockname(c.fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_string_equal(r.body, want);
	client_close(&c);
}

static void
reply_late(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fx *f = w->data;

	(void)loop;
	(void)revents;
	assert_int_equal(f->nheld, 1);
	http_reply_text(f->held[0], 202, "from a timer");
}

static void
test_async_reply(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[3];
	ev_timer t;

	client_open(f, &c);
	client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n"
	    "\r\nGET /ping HTTP/1.1"
	    "\r\nHost: x\r\n\r\nGET /q?a=2 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read_for(f, &c, r, 1, 0, QUIET), 0);
	assert_int_equal(c.len, c.off);
	assert_int_equal(f->nheld, 1);
	assert_int_equal(http_req_closed(f->held[0]), 0);
	assert_string_equal(http_req_path(f->held[0]), "/hold");
	/* Replied from outside the loop: all three come, in order. */
	http_reply_text(f->held[0], 200, "late");
	assert_int_equal(client_read(f, &c, r, 3), 3);
	assert_string_equal(r[0].body, "late");
	assert_string_equal(r[1].body, "OK");
	assert_true(strncmp(r[2].body, "a=2\n", 4) == 0);
	/* Replied from a timer callback. */
	f->nheld = 0;
	ev_timer_init(&t, reply_late, 0.02, 0.);
	t.data = f;
	ev_timer_start(f->loop, &t);
	roundtrip(f, &c, "POST /hold HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 2\r\n\r\nhi",
	    &r[0]);
	assert_int_equal(r[0].status, 202);
	assert_string_equal(r[0].body, "from a timer");
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r[0]);
	assert_string_equal(r[0].body, "OK");
	client_close(&c);
}

/* A client that reads late: the write watcher carries the reply. */
static void
test_slow_reader(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r[3];
	int sv[2], small = 4096;

	/* A unix socketpair, whose small buffers really fill up. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(http_server_adopt(f->srv, sv[0]), 0);
	client_init(&c, sv[1]);
	client_sends(f, &c, "GET /big HTTP/1.1\r\nHost: x\r\n"
	    "\r\nGET /big HTTP/1.1"
	    "\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(f, QUIET);
	assert_int_equal(client_read(f, &c, r, 3), 3);
	assert_int_equal(r[0].blen, 1 << 20);
	assert_int_equal(r[1].blen, 1 << 20);
	assert_int_equal(r[1].body[(1 << 20) - 1], 'a' + ((1 << 20) - 1) % 26);
	assert_string_equal(r[2].body, "OK");
	client_close(&c);
}

/* Input piles up behind a held request, beyond the input buffer. */
static void
test_held_backlog(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;
	char *many;
	size_t n = 4000, one = 31, i;

	many = tmalloc(n * one + 1);
	for (i = 0; i < n; i++)
		memcpy(many + i * one, "GET /ping HTTP/1.1\r\nHost: x\r\n"
		    "\r\n", one);
	client_open(f, &c);
	client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(f, QUIET);
	assert_int_equal(f->nheld, 1);
	/* More than the server buffers: the rest waits in the kernel. */
	client_send(f, &c, many, n * one);
	run_for(f, QUIET);
	http_reply_text(f->held[0], 200, "first");
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_string_equal(r.body, "first");
	for (i = 0; i < n; i++) {
		assert_int_equal(client_read(f, &c, &r, 1), 1);
		assert_string_equal(r.body, "OK");
	}
	client_close(&c);
}

static void
test_close_while_held(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct linger lg = { 1, 0 };
	struct http_server *srv2;
	struct http_req *req;

	/* The client half-closes: the reply is still written. */
	client_open(f, &c);
	client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(f, QUIET);
	assert_int_equal(f->nheld, 1);
	shutdown(c.fd, SHUT_WR);
	run_for(f, QUIET);
	assert_int_equal(http_req_closed(f->held[0]), 0);
	http_reply_text(f->held[0], 200, "bye");
	{
		struct resp r;

		assert_int_equal(client_read(f, &c, &r, 1), 1);
		assert_string_equal(r.body, "bye");
	}
	assert_true(client_eof(f, &c));
	client_close(&c);
	wait_nconns(f, f->srv, 0);

	/* The client resets: the connection goes, the request stays. */
	f->nheld = 0;
	client_open(f, &c);
	client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	run_for(f, QUIET);
	assert_int_equal(f->nheld, 1);
	assert_int_equal(setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	client_close(&c);
	wait_nconns(f, f->srv, 0);
	req = f->held[0];
	assert_int_equal(http_req_closed(req), 1);
	assert_string_equal(http_req_path(req), "/hold");
	http_reply_error(req, 500, "TOO_LATE");	/* frees it */

	/* The server goes: held requests outlive it. */
	f->nheld = 0;
	srv2 = http_server_new(f->loop, -1, routes, sizeof(routes) /
	    sizeof(routes[0]), NULL, f);
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(http_server_adopt(srv2, sv[0]), 0);
		client_init(&c, sv[1]);
		client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
		run_for(f, QUIET);
		assert_int_equal(f->nheld, 1);
		assert_string_equal(http_req_peer(f->held[0]), "@");
		http_server_free(srv2);
		assert_int_equal(http_req_closed(f->held[0]), 1);
		http_reply_text(f->held[0], 200, "nobody");
		assert_true(client_eof(f, &c));
		client_close(&c);
	}
	/* Or between a late reply and its processing. */
	f->nheld = 0;
	srv2 = http_server_new(f->loop, -1, routes, sizeof(routes) /
	    sizeof(routes[0]), NULL, f);
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(http_server_adopt(srv2, sv[0]), 0);
		client_init(&c, sv[1]);
		client_sends(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n"
		    "\r\nGET /ping "
		    "HTTP/1.1\r\nHost: x\r\n\r\n");
		run_for(f, QUIET);
		assert_int_equal(f->nheld, 1);
		http_reply_text(f->held[0], 200, "queued");
		http_server_free(srv2);
		assert_true(client_eof(f, &c));
		client_close(&c);
	}
}

/* Each request of a sample, cut at every byte, then the client closes. */
static void
test_truncated(void **state)
{
	static const char *reqs[] = {
		"POST /echo?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		    "\r\nhello",
		"POST /echo HTTP/1.1\r\nHost: x\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	};
	struct fx *f = *state;
	struct client c;
	struct resp r;
	size_t i, k, len;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		len = strlen(reqs[i]);
		for (k = 0; k <= len; k++) {
			client_open(f, &c);
			client_send(f, &c, reqs[i], k);
			if (k % 2)
				shutdown(c.fd, SHUT_WR);
			else {
				run_for(f, 0.002);
				client_close(&c);
				continue;
			}
			if (k == len) {
				assert_int_equal(client_read(f, &c, &r, 1),
				    1);
				assert_int_equal(r.status, 200);
			}
			/* An incomplete request gets no reply at all. */
			assert_true(client_eof(f, &c));
			client_close(&c);
		}
		wait_nconns(f, f->srv, 0);
	}
}

static void
test_byte_by_byte(void **state)
{
	static const char req[] =
	    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
	    "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
	    "GET /q?a=%41+b HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
	struct fx *f = *state;
	struct client c;
	struct resp r[3];
	size_t i;

	client_open(f, &c);
	for (i = 0; i < sizeof(req) - 1; i++) {
		client_send(f, &c, req + i, 1);
		spin(f, -1, 0);
	}
	assert_int_equal(client_read(f, &c, r, 3), 3);
	assert_string_equal(r[0].body, "hello");
	assert_string_equal(r[1].body, "abc");
	assert_true(strncmp(r[2].body, "a=A b\n", 6) == 0);
	client_close(&c);
}

static void
test_expect_continue(void **state)
{
	struct fx *f = *state;
	struct client c;
	struct resp r;

	client_open(f, &c);
	client_sends(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n"
	    "Expect: 100-Continue\r\n\r\n");
	assert_int_equal(client_read(f, &c, &r, 1), 1);
	assert_int_equal(r.status, 100);
	assert_string_equal(r.head, "HTTP/1.1 100 Continue\r\n\r\n");
	roundtrip(f, &c, "hello", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	/* No body, no 100. */
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n"
	    "Expect: 100-continue\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 200);
	client_close(&c);
}

static void
test_idle_timeout(void **state)
{
	struct fx *f = *state;
	struct http_limits lim = { 0, 0, 0.1, 0, 0 };
	struct http_server *srv = f->srv;
	struct client c, d;
	struct resp r;
	double t0;

	f->srv = server_new(f, &lim);
	client_open(f, &c);
	client_open(f, &d);
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	client_sends(f, &d, "GET /ping HTTP/1.1\r\n"
	    "Host: x\r\n");	/* incomplete */
	t0 = now();
	assert_true(client_eof(f, &c));
	assert_true(client_eof(f, &d));
	assert_true(now() - t0 < 1.0);
	client_close(&c);
	client_close(&d);
	wait_nconns(f, f->srv, 0);
	http_server_free(f->srv);
	f->srv = srv;
}

static void
test_max_conns(void **state)
{
	struct fx *f = *state;
	struct http_limits lim = { 0, 0, 0, 2, 0 };
	struct http_server *srv = f->srv;
	struct client c[3];
	struct resp r;

	f->srv = server_new(f, &lim);
	client_open(f, &c[0]);
	client_open(f, &c[1]);
	client_open(f, &c[2]);
	client_sends(f, &c[2], "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(client_read_for(f, &c[2], &r, 1, 0, QUIET), 0);
	assert_int_equal(http_server_nconns(f->srv), 2);
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		assert_int_equal(http_server_adopt(f->srv, sv[0]), -1);
		assert_int_equal(errno, EMFILE);
		close(sv[0]);
		close(sv[1]);
	}
	/* Not accepting: a free slot is not taken. */
	http_server_accept(f->srv, 0);
	client_close(&c[0]);
	wait_nconns(f, f->srv, 1);
	assert_int_equal(client_read_for(f, &c[2], &r, 1, 0, QUIET), 0);
	http_server_accept(f->srv, 1);
	assert_int_equal(client_read(f, &c[2], &r, 1), 1);
	assert_int_equal(r.status, 200);
	client_close(&c[1]);
	client_close(&c[2]);
	wait_nconns(f, f->srv, 0);
	http_server_free(f->srv);
	f->srv = srv;
}

static void
test_emfile(void **state)
{
	struct fx *f = *state;
	struct rlimit old, low;
	struct sockaddr_in sin;
	struct client c;
	struct resp r;
	int fd, probe;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	low = old;
	low.rlim_cur = (rlim_t)probe;	/* no new descriptor at all */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)f->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	run_for(f, QUIET);
	assert_int_equal(http_server_nconns(f->srv), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* Accepting resumes after the pause. */
	client_init(&c, fd);
	roundtrip(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	client_close(&c);
}

static void
test_listen(void **state)
{
	struct fx *f = *state;
	struct http_server *srv;
	struct sockaddr_un sun;
	struct client c;
	struct resp r;
	char err[256], path[64], addr[64];
	int fd, fd2, port, ufd;

	fd = http_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(fd >= 0);
	port = http_listen_port(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(http_listen(addr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bind: address already in use"));
	assert_non_null(strstr(err, addr));
	close(fd);
	assert_int_equal(http_listen("127.0.0.1:notaport", err,
	    sizeof(err)), -1);
	assert_int_equal(http_listen("[::1:80", err, sizeof(err)), -1);

	/* ":0": every address; an IPv4 client shows as IPv4. */
	fd = http_listen(":0", err, sizeof(err));
	assert_true(fd >= 0);
	port = http_listen_port(fd);
	srv = http_server_new(f->loop, fd, routes, sizeof(routes) /
	    sizeof(routes[0]), NULL, f);
	client_init(&c, connect_port(port));
	roundtrip(f, &c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(strncmp(r.body, "127.0.0.1:", 10) == 0);
	client_close(&c);
	http_server_free(srv);
	fd = http_listen("0.0.0.0:0", err, sizeof(err));
	assert_true(fd >= 0);
	port = http_listen_port(fd);
	srv = http_server_new(f->loop, fd, routes, sizeof(routes) /
	    sizeof(routes[0]), NULL, f);
	client_init(&c, connect_port(port));
	roundtrip(f, &c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(strncmp(r.body, "127.0.0.1:", 10) == 0);
	client_close(&c);
	http_server_free(srv);

	/* IPv6, where the machine has it. */
	fd = http_listen("[::1]:0", err, sizeof(err));
	if (fd >= 0) {
		struct sockaddr_in6 sin6;
		char want[64];

		port = http_listen_port(fd);
		srv = http_server_new(f->loop, fd, routes, sizeof(routes) /
		    sizeof(routes[0]), NULL, f);
		ufd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		sin6.sin6_addr = in6addr_loopback;
		assert_int_equal(connect(ufd, (struct sockaddr *)&sin6,
		    sizeof(sin6)), 0);
		client_init(&c, ufd);
		roundtrip(f, &c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n", &r);
		{
			socklen_t sl = sizeof(sin6);

			getsockname(ufd, (struct sockaddr *)&sin6, &sl);
		}
		snprintf(want, sizeof(want), "[::1]:%u",
		    ntohs(sin6.sin6_port));
		assert_string_equal(r.body, want);
		client_close(&c);
		http_server_free(srv);
	} else
		assert_non_null(strstr(err, "listen tcp [::1]:0"));

	/* A unix socket path. */
	snprintf(path, sizeof(path), "/tmp/test_http.%d.sock", (int)getpid());
	unlink(path);
	fd = http_listen(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(http_listen_port(fd), -1);
	fd2 = http_listen(path, err, sizeof(err));
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(err, "listen unix"));
	srv = http_server_new(f->loop, fd, routes, sizeof(routes) /
	    sizeof(routes[0]), NULL, f);
	ufd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	assert_int_equal(connect(ufd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	client_init(&c, ufd);
	roundtrip(f, &c, "GET /peer HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "@");
	client_close(&c);
	http_server_free(srv);
	unlink(path);
}

static void
test_catch_all(void **state)
{
	static const struct http_route all[] = {
		{ NULL, "*", h_cfg, 0, NULL },
	};
	struct fx *f = *state;
	struct http_server *srv;
	struct client c;
	struct resp r;
	int sv[2];

	srv = http_server_new(f->loop, -1, all, 1, NULL, f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(http_server_adopt(srv, sv[0]), 0);
	client_init(&c, sv[1]);
	roundtrip(f, &c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "GET /");
	roundtrip(f, &c, "POST /pub?topic=x HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_string_equal(r.body, "POST /pub");
	client_close(&c);
	wait_nconns(f, srv, 0);
	http_server_free(srv);
}

/*
 * TLS (http_server_set_tls).  The client runs OpenSSL over memory BIOs
 * in this thread, so that nothing blocks the server's loop: tls_pump
 * moves its records to the socket (one byte a send when bytewise) and
 * the socket's bytes back.
 */

struct tcl {
	int	 fd;
	SSL	*ssl;
	BIO	*in;
	BIO	*out;
	int	 eof;
};

static void
tls_failed(const char *peer, const char *why, void *arg)
{
	struct fx *f = arg;

	assert_non_null(peer);
	f->nfailed++;
	snprintf(f->lastfail, sizeof(f->lastfail), "%s", why);
}

/* A server context with a fresh self-signed P-256 certificate. */
static SSL_CTX *
tls_server_ctx(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(pk);
	assert_non_null(x);
	assert_non_null(ctx);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_set_pubkey(x, pk), 1);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	return ctx;
}

/* An HTTPS server next to the fixture's; *port gets its port. */
static struct http_server *
tls_server(struct fx *f, SSL_CTX *ctx, double hs_timeout, int *port)
{
	struct http_limits lim = { 4096, 1024, 5.0, 64, 1 << 20 };
	struct http_server *srv;
	char err[256];
	int fd;

	fd = http_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(fd >= 0);
	*port = http_listen_port(fd);
	srv = http_server_new(f->loop, fd, routes,
	    sizeof(routes) / sizeof(routes[0]), &lim, f);
	http_server_set_tls(srv, ctx, hs_timeout, tls_failed);
	return srv;
}

static void
tcl_open(struct tcl *t, int port, int maxv)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(cctx);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
	if (maxv != 0)
		SSL_CTX_set_max_proto_version(cctx, maxv);
	memset(t, 0, sizeof(*t));
	t->fd = connect_port(port);
	t->ssl = SSL_new(cctx);
	SSL_CTX_free(cctx);
	assert_non_null(t->ssl);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_connect_state(t->ssl);
}

static void
tcl_close(struct tcl *t)
{
	SSL_free(t->ssl);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Send what the client's TLS has written; take in what came back. */
static void
tls_pump(struct fx *f, struct tcl *t, int bytewise)
{
	char b[16384];
	ssize_t r;
	int n, i, step;

	while ((n = BIO_read(t->out, b, sizeof(b))) > 0)
		for (i = 0; i < n; i += step) {
			step = bytewise ? 1 : n - i;
			assert_int_equal(send(t->fd, b + i, (size_t)step,
			    MSG_NOSIGNAL), step);
			if (bytewise)
				spin(f, -1, 0);
		}
	spin(f, t->fd, 1);
	while ((r = recv(t->fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		assert_int_equal(BIO_write(t->in, b, (int)r), (int)r);
	if (r == 0)
		t->eof = 1;
}

/* 1 once the handshake is done, -1 if it failed (or WAIT passed). */
static int
tcl_handshake(struct fx *f, struct tcl *t, int bytewise)
{
	double end = now() + WAIT;
	int r;

	while (now() < end) {
		if ((r = SSL_do_handshake(t->ssl)) == 1) {
			tls_pump(f, t, bytewise);
			return 1;
		}
		if (SSL_get_error(t->ssl, r) != SSL_ERROR_WANT_READ) {
			ERR_clear_error();
			return -1;
		}
		tls_pump(f, t, bytewise);
		if (t->eof)
			return -1;
	}
	return -1;
}

/* Send req over TLS; read until the reply holds until (or EOF). */
static size_t
tcl_request(struct fx *f, struct tcl *t, const char *req, int bytewise,
    char *out, size_t cap, const char *until)
{
	double end = now() + WAIT;
	size_t len = 0;
	int r;

	assert_int_equal(SSL_write(t->ssl, req, (int)strlen(req)),
	    (int)strlen(req));
	while (now() < end && len + 1 < cap) {
		tls_pump(f, t, bytewise);
		while (len + 1 < cap &&
		    (r = SSL_read(t->ssl, out + len, (int)(cap - 1 - len))) > 0)
			len += (size_t)r;
		out[len] = '\0';
		if (strstr(out, until) != NULL || t->eof)
			break;
	}
	ERR_clear_error();
	return len;
}

static void
test_tls_roundtrip(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	struct tcl t;
	char out[4096], *big;
	size_t n;
	int port;

	srv = tls_server(f, ctx, 0, &port);
	SSL_CTX_free(ctx);		/* the server keeps its reference */
	tcl_open(&t, port, 0);
	assert_int_equal(tcl_handshake(f, &t, 0), 1);
	assert_int_equal(SSL_version(t.ssl), TLS1_3_VERSION);
	tcl_request(f, &t, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 0, out,
	    sizeof(out), "\r\n\r\nOK");
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	/* Keep-alive over TLS. */
	tcl_request(f, &t, "POST /echo HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\n"
	    "hello", 0, out, sizeof(out), "\r\n\r\nhello");
	assert_non_null(strstr(out, "\r\n\r\nhello"));
	/* A reply larger than the socket takes at once: partial writes. */
	big = malloc((2 << 20) + 1);
	assert_non_null(big);
	n = tcl_request(f, &t, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 0, big,
	    (2 << 20) + 1, "zabcdefghijklmnopqrstuvwxyz");
	assert_true(n > 1 << 20);
	free(big);
	assert_int_equal(http_server_nconns(srv), 1);
	tcl_close(&t);
	wait_nconns(f, srv, 0);
	assert_int_equal(f->nfailed, 0);
	http_server_free(srv);
}

static void
test_tls_bytewise(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	struct tcl t;
	char out[4096];
	int port;

	srv = tls_server(f, ctx, 0, &port);
	SSL_CTX_free(ctx);
	tcl_open(&t, port, 0);
	assert_int_equal(tcl_handshake(f, &t, 1), 1);
	tcl_request(f, &t, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", 1, out,
	    sizeof(out), "\r\n\r\nOK");
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	assert_non_null(strstr(out, "\r\n\r\nOK"));
	tcl_close(&t);
	wait_nconns(f, srv, 0);
	assert_int_equal(f->nfailed, 0);
	http_server_free(srv);
}

static void
test_tls_handshake_timeout(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	struct tcl t, u;
	char out[4096];
	int port;

	srv = tls_server(f, ctx, 0.3, &port);
	SSL_CTX_free(ctx);
	/* A ClientHello trickling in, a byte every 0.1 s, is still cut. */
	tcl_open(&t, port, 0);
	assert_int_equal(SSL_do_handshake(t.ssl), -1);
	ERR_clear_error();
	{
		char hello[4096];
		int n = BIO_read(t.out, hello, sizeof(hello));
		double end = now() + WAIT;
		int i = 0;

		assert_true(n > 10);
		while (!t.eof && now() < end) {
			if (i < n - 1)
				(void)!send(t.fd, hello + i++, 1, MSG_NOSIGNAL);
			run_for(f, 0.1);
			tls_pump(f, &t, 0);
		}
		assert_true(t.eof);
		assert_true(i < 10);
	}
	assert_int_equal(f->nfailed, 1);
	assert_string_equal(f->lastfail, "TLS handshake timeout");
	/* Others are served meanwhile and after. */
	tcl_open(&u, port, 0);
	assert_int_equal(tcl_handshake(f, &u, 0), 1);
	tcl_request(f, &u, "GET /ping HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", 0, out, sizeof(out),
	    "\r\n\r\nOK");
	assert_non_null(strstr(out, "\r\n\r\nOK"));
	tcl_close(&u);
	tcl_close(&t);
	wait_nconns(f, srv, 0);
	http_server_free(srv);
}

static void
test_tls_close_mid_handshake(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	char hello[4096];
	struct tcl t;
	int port, n, i;

	srv = tls_server(f, ctx, 0, &port);
	SSL_CTX_free(ctx);
	for (i = 0; i < 4; i++) {
		tcl_open(&t, port, 0);
		assert_int_equal(SSL_do_handshake(t.ssl), -1);
		ERR_clear_error();
		n = BIO_read(t.out, hello, sizeof(hello));
		assert_true(n > 10);
		if (i > 0)
			assert_int_equal(send(t.fd, hello, (size_t)(n * i / 4),
			    MSG_NOSIGNAL), n * i / 4);
		spin(f, -1, 1);
		tcl_close(&t);
		wait_nconns(f, srv, 0);
		assert_int_equal(f->nfailed, i + 1);
		assert_string_equal(f->lastfail, "EOF");
	}
	http_server_free(srv);
}

static void
test_tls_plain_http(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	struct client c;
	int port;

	srv = tls_server(f, ctx, 0, &port);
	SSL_CTX_free(ctx);
	client_init(&c, connect_port(port));
	client_sends(f, &c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
	(void)client_eof(f, &c);
	assert_true(c.eof);
	assert_int_equal(c.len, strlen("HTTP/1.0 400 Bad Request\r\n\r\n"
	    "Client sent an HTTP request to an HTTPS server.\n"));
	assert_memory_equal(c.buf, "HTTP/1.0 400 Bad Request\r\n\r\n"
	    "Client sent an HTTP request to an HTTPS server.\n", c.len);
	client_close(&c);
	wait_nconns(f, srv, 0);
	assert_int_equal(f->nfailed, 0);
	http_server_free(srv);
}

static void
test_tls_old_version(void **state)
{
	struct fx *f = *state;
	SSL_CTX *ctx = tls_server_ctx();
	struct http_server *srv;
	struct tcl t;
	int port;

	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	srv = tls_server(f, ctx, 0, &port);
	SSL_CTX_free(ctx);
	tcl_open(&t, port, TLS1_2_VERSION);
	assert_int_equal(tcl_handshake(f, &t, 0), -1);
	tcl_close(&t);
	wait_nconns(f, srv, 0);
	assert_int_equal(f->nfailed, 1);
	assert_string_equal(f->lastfail, "unsupported protocol");
	http_server_free(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t)	cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_get_keepalive),
		T(test_query),
		T(test_post_body),
		T(test_chunked),
		T(test_pipeline),
		T(test_reply_too_big),
		T(test_connection_close),
		T(test_http10),
		T(test_body_too_big),
		T(test_header_too_big),
		T(test_bad_requests),
		T(test_strict),
		T(test_routing),
		T(test_headers),
		T(test_async_reply),
		T(test_slow_reader),
		T(test_held_backlog),
		T(test_close_while_held),
		T(test_truncated),
		T(test_byte_by_byte),
		T(test_expect_continue),
		T(test_idle_timeout),
		T(test_max_conns),
		T(test_emfile),
		T(test_listen),
		T(test_catch_all),
		T(test_tls_roundtrip),
		T(test_tls_bytewise),
		T(test_tls_handshake_timeout),
		T(test_tls_close_mid_handshake),
		T(test_tls_plain_http),
		T(test_tls_old_version),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
