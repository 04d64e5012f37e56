/*
 * Unit tests for lib/hclient: requests to a server on a loopback socket
 * run by the same libev loop, which answers with canned bytes (whole,
 * cut short, never, or in pieces).  Each outcome must reach the callback
 * exactly once, from the loop, and a cancelled request never.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"
#include "hclient.h"
#include "net.h"
#include "resolve.h"

/* What the server does once the request is in. */
enum mode {
	REPLY,		/* write the reply, then close */
	SILENT,		/* never answer */
	DRIP,		/* the reply one byte per loop turn, then close */
};

struct srv {
	struct ev_loop	*loop;
	int		 lfd;
	int		 port;
	ev_io		 acc;
	ev_io		 cio;
	ev_idle		 drip;
	int		 cfd;
	struct buf	 req;
	const char	*reply;
	size_t		 off;
	enum mode	 mode;
};

struct res {
	int	 calls;
	int	 status;
	char	 body[256];
	size_t	 len;
	char	 err[256];
	bool	 inside;	/* the callback ran inside hclient_request */
};

static struct ev_loop *loop;
static bool starting;

static void
srv_close_client(struct srv *s)
{
	ev_io_stop(s->loop, &s->cio);
	ev_idle_stop(s->loop, &s->drip);
	if (s->cfd != -1)
		close(s->cfd);
	s->cfd = -1;
}

static void
drip_cb(struct ev_loop *l, ev_idle *w, int revents)
{
	struct srv *s = w->data;

	(void)l;
	(void)revents;
	if (s->reply[s->off] == '\0') {
		srv_close_client(s);
		return;
	}
	if (write(s->cfd, s->reply + s->off, 1) == 1)
		s->off++;
}

/* Whether the request (headers, and a Content-Length body) is all in. */
static bool
request_done(struct srv *s)
{
	const char *d = buf_data(&s->req), *end, *cl;
	size_t n = buf_len(&s->req), hdr;

	if (n == 0 || (end = memmem(d, n, "\r\n\r\n", 4)) == NULL)
		return false;
	hdr = (size_t)(end - d) + 4;
	cl = memmem(d, hdr, "Content-Length: ", 16);
	if (cl == NULL)
		return true;
	return n >= hdr + strtoul(cl + 16, NULL, 10);
}

static void
cio_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct srv *s = w->data;
	ssize_t n;

	(void)l;
	(void)revents;
	n = buf_read_fd(&s->req, s->cfd);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		srv_close_client(s);
		return;
	}
	if (!request_done(s))
		return;
	ev_io_stop(s->loop, &s->cio);
	if (s->mode == REPLY) {
		assert_int_equal(write(s->cfd, s->reply, strlen(s->reply)),
		    (ssize_t)strlen(s->reply));
		srv_close_client(s);
	} else if (s->mode == DRIP)
		ev_idle_start(s->loop, &s->drip);
}

static void
acc_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct srv *s = w->data;

	(void)revents;
	s->cfd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s->cfd == -1)
		return;
	ev_io_init(&s->cio, cio_cb, s->cfd, EV_READ);
	s->cio.data = s;
	ev_io_start(l, &s->cio);
}

static void
srv_start(struct srv *s, enum mode mode, const char *reply)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->cfd = -1;
	s->mode = mode;
	s->reply = reply;
	buf_init(&s->req, 1024, 1 << 20);
	s->lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(s->lfd >= 0);
	s->port = net_local_port(s->lfd);
	ev_io_init(&s->acc, acc_cb, s->lfd, EV_READ);
	s->acc.data = s;
	ev_io_start(loop, &s->acc);
	ev_idle_init(&s->drip, drip_cb);
	s->drip.data = s;
}

static void
srv_stop(struct srv *s)
{
	srv_close_client(s);
	ev_io_stop(loop, &s->acc);
	close(s->lfd);
	buf_free(&s->req);
}

static void
cb(void *arg, int status, const char *body, size_t len, const char *err)
{
	struct res *r = arg;

	r->calls++;
	r->inside = starting;
	r->status = status;
	r->len = len;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body);
	snprintf(r->err, sizeof(r->err), "%s", err != NULL ? err : "");
	assert_int_equal(body[len], '\0');
	ev_break(loop, EVBREAK_ALL);
}

static void
guard_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop until the callback, or 5 s. */
static void
run(void)
{
	ev_timer guard;

	ev_timer_init(&guard, guard_cb, 5., 0.);
	ev_timer_start(loop, &guard);
	ev_run(loop, 0);
	ev_timer_stop(loop, &guard);
}

static struct hclient_opts
opts(void)
{
	struct hclient_opts o;

	memset(&o, 0, sizeof(o));
	o.connect_timeout = 2;
	o.request_timeout = 3;
	o.max_body = 1024;
	o.user_agent = "test/1";
	return o;
}

/* GET url-for-port path from a server in mode with reply; into r. */
static void
get(struct srv *s, enum mode mode, const char *reply,
    const struct hclient_opts *o, struct res *r)
{
	struct hclient_req *q;
	char url[128], err[256];

	srv_start(s, mode, reply);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/auth?x=1&y=a+b",
	    s->port);
	memset(r, 0, sizeof(*r));
	starting = true;
	q = hclient_request(loop, "GET", url, NULL, NULL, 0, o, cb, r, err,
	    sizeof(err));
	starting = false;
	assert_non_null(q);
	run();
	assert_int_equal(r->calls, 1);
	assert_false(r->inside);
}

static void
test_get(void **state)
{
	struct hclient_opts o = opts();
	struct srv s;
	struct res r;
	char want[128];

	(void)state;
	get(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	    &o, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	assert_string_equal(r.err, "");
	snprintf(want, sizeof(want), "GET /auth?x=1&y=a+b HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\nUser-Agent: test/1\r\n", s.port);
	assert_true(buf_len(&s.req) > strlen(want));
	assert_memory_equal(buf_data(&s.req), want, strlen(want));
	assert_non_null(memmem(buf_data(&s.req), buf_len(&s.req),
	    "Accept: application/vnd.nsq; version=1.0\r\n", 42));
	assert_non_null(memmem(buf_data(&s.req), buf_len(&s.req),
	    "Connection: close\r\n\r\n", 21));
	srv_stop(&s);
}

static void
test_bodies(void **state)
{
	struct hclient_opts o = opts();
	struct srv s;
	struct res r;

	(void)state;
	get(&s, REPLY, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", &o, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello");
	srv_stop(&s);
	/* No length: the body runs to the close. */
	get(&s, REPLY, "HTTP/1.0 200 OK\r\n\r\nto the end", &o, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "to the end");
	srv_stop(&s);
	get(&s, REPLY, "HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Length: 4\r\n\r\nboom", &o, &r);
	assert_int_equal(r.status, 500);
	assert_string_equal(r.body, "boom");
	srv_stop(&s);
	get(&s, REPLY, "HTTP/1.1 204 No Content\r\n\r\n", &o, &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	srv_stop(&s);
	/* One byte per loop turn. */
	get(&s, DRIP, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nslow!", &o,
	    &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "slow!");
	srv_stop(&s);
}

static void
test_failures(void **state)
{
	struct hclient_opts o = opts();
	struct srv s;
	struct res r;

	(void)state;
	o.max_body = 4;
	get(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	    &o, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "response body too large");
	srv_stop(&s);
	o = opts();
	get(&s, REPLY, "garbage\r\n\r\n", &o, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "malformed HTTP response"));
	srv_stop(&s);
	get(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", &o,
	    &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "unexpected EOF");
	srv_stop(&s);
	get(&s, REPLY, "", &o, &r);
	assert_int_equal(r.status, 0);
	srv_stop(&s);
	/* An answer that never comes: the whole request's deadline. */
	o.request_timeout = 0.2;
	get(&s, SILENT, "", &o, &r);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "Timeout"));
	srv_stop(&s);
}

static void
test_refused(void **state)
{
	struct hclient_opts o = opts();
	struct hclient_req *q;
	struct res r;
	char url[128], err[256];
	int port;
	struct srv s;

	(void)state;
	/* A port that was just free. */
	srv_start(&s, REPLY, "");
	port = s.port;
	srv_stop(&s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	memset(&r, 0, sizeof(r));
	starting = true;
	q = hclient_request(loop, "GET", url, NULL, NULL, 0, &o, cb, &r, err,
	    sizeof(err));
	starting = false;
	assert_non_null(q);
	assert_int_equal(r.calls, 0);
	run();
	assert_int_equal(r.calls, 1);
	assert_false(r.inside);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "dial"));
}

/* A name: every address it resolves to is tried (::1 may come first). */
static void
test_name(void **state)
{
	struct hclient_opts o = opts();
	struct hclient_req *q;
	struct srv s;
	struct res r;
	char url[128], err[256];

	(void)state;
	srv_start(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	snprintf(url, sizeof(url), "http://localhost:%d/x", s.port);
	memset(&r, 0, sizeof(r));
	q = hclient_request(loop, "GET", url, NULL, NULL, 0, &o, cb, &r, err,
	    sizeof(err));
	assert_non_null(q);
	run();
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	srv_stop(&s);
	/* A name that resolves nowhere (RFC 6761): from the loop too. */
	memset(&r, 0, sizeof(r));
	starting = true;
	q = hclient_request(loop, "GET", "http://no-such-host.invalid:1/",
	    NULL, NULL, 0, &o, cb, &r, err, sizeof(err));
	starting = false;
	assert_non_null(q);
	run();
	assert_int_equal(r.calls, 1);
	assert_false(r.inside);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.err, "lookup no-such-host.invalid"));
}

static void
test_post(void **state)
{
	struct hclient_opts o = opts();
	struct hclient_req *q;
	struct srv s;
	struct res r;
	char url[128], err[256];
	const char *want = "Content-Type: application/json\r\n"
	    "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}";

	(void)state;
	srv_start(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
	memset(&r, 0, sizeof(r));
	q = hclient_request(loop, "POST", url, "application/json",
	    "{\"a\":1}", 7, &o, cb, &r, err, sizeof(err));
	assert_non_null(q);
	run();
	assert_int_equal(r.status, 200);
	assert_memory_equal(buf_data(&s.req), "POST / HTTP/1.1\r\n", 17);
	assert_true(buf_len(&s.req) > strlen(want));
	assert_memory_equal(buf_data(&s.req) + buf_len(&s.req) -
	    strlen(want), want, strlen(want));
	srv_stop(&s);
}

static void
test_cancel(void **state)
{
	struct hclient_opts o = opts();
	struct hclient_req *q;
	struct srv s;
	struct res r;
	char url[128], err[256];
	ev_timer t;

	(void)state;
	srv_start(&s, SILENT, "");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	memset(&r, 0, sizeof(r));
	q = hclient_request(loop, "GET", url, NULL, NULL, 0, &o, cb, &r, err,
	    sizeof(err));
	assert_non_null(q);
	hclient_cancel(q);
	hclient_cancel(NULL);
	/* Let the loop turn a while: nothing may call back. */
	ev_timer_init(&t, guard_cb, 0.3, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	assert_int_equal(r.calls, 0);
	srv_stop(&s);
}

static void
test_bad_urls(void **state)
{
	struct hclient_opts o = opts();
	struct res r;
	char err[256];

	(void)state;
	assert_null(hclient_request(loop, "GET", "ftp://h/", NULL, NULL, 0,
	    &o, cb, &r, err, sizeof(err)));
	assert_non_null(strstr(err, "unsupported protocol scheme"));
	assert_null(hclient_request(loop, "GET", "http:///x", NULL, NULL, 0,
	    &o, cb, &r, err, sizeof(err)));
	assert_non_null(strstr(err, "no host"));
	/* https without a TLS context. */
	assert_null(hclient_request(loop, "GET", "https://h/", NULL, NULL, 0,
	    &o, cb, &r, err, sizeof(err)));
}

static void
test_split_url(void **state)
{
	char hp[300], path[256], err[256];
	int https;

	(void)state;
	assert_int_equal(hclient_split_url("http://a:1/b?c=d#e", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(https, 0);
	assert_string_equal(hp, "a:1");
	assert_string_equal(path, "/b?c=d");
	assert_int_equal(hclient_split_url("https://a", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), 0);
	assert_int_equal(https, 1);
	assert_string_equal(hp, "a:443");
	assert_string_equal(path, "/");
	assert_int_equal(hclient_split_url("http://a?q", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(hp, "a:80");
	assert_string_equal(path, "/?q");
	assert_int_equal(hclient_split_url("http://[::1]:8/x", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(hp, "[::1]:8");
	assert_int_equal(hclient_split_url("http://[::1]/x", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), 0);
	assert_string_equal(hp, "[::1]:80");
	assert_int_equal(hclient_split_url("http://u@h/", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), -1);
	assert_int_equal(hclient_split_url("http://h:x:y/", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), -1);
	assert_int_equal(hclient_split_url("h:1/auth", &https, hp,
	    sizeof(hp), path, sizeof(path), err, sizeof(err)), -1);
	/* A path longer than the room is refused, not cut. */
	assert_int_equal(hclient_split_url("http://h/0123456789", &https, hp,
	    sizeof(hp), path, 8, err, sizeof(err)), -1);
}

/*
 * A resolver that holds "slow.test" until released (at most 5 s), then
 * answers 127.0.0.1: what a DNS server that is slow to answer does.
 */
static atomic_int slow_release, slow_done;

static int
slow_lookup(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	int e;

	for (int i = 0; i < 500 && !atomic_load(&slow_release); i++)
		usleep(10000);
	e = getaddrinfo(strcmp(host, "slow.test") == 0 ? "127.0.0.1" : host,
	    serv, hints, res);
	atomic_fetch_add(&slow_done, 1);
	return e;
}

/* Wait (bounded) until n lookups are done and their thread has sent. */
static void
wait_lookups(int n)
{
	for (int i = 0; i < 500 && atomic_load(&slow_done) < n; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&slow_done), n);
	usleep(100000);
}

/*
 * A name resolves off the loop: while it waits, another request is
 * served; freeing the request before or after the answer is safe (the
 * sanitizer build checks the freeing).
 */
static void
test_slow_name(void **state)
{
	struct hclient_opts o = opts();
	struct hclient_req *q, *q2;
	struct srv s, s2;
	struct res r, r2;
	char url[128], err[256];

	(void)state;
	resolve_set_fn(slow_lookup);
	atomic_store(&slow_release, 0);
	atomic_store(&slow_done, 0);
	o.connect_timeout = 10;
	o.request_timeout = 10;
	srv_start(&s, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
	srv_start(&s2, REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
	snprintf(url, sizeof(url), "http://slow.test:%d/x", s.port);
	memset(&r, 0, sizeof(r));
	q = hclient_request(loop, "GET", url, NULL, NULL, 0, &o, cb, &r, err,
	    sizeof(err));
	assert_non_null(q);
	/* An address is not looked up: served while the name waits. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/y", s2.port);
	memset(&r2, 0, sizeof(r2));
	q2 = hclient_request(loop, "GET", url, NULL, NULL, 0, &o, cb, &r2,
	    err, sizeof(err));
	assert_non_null(q2);
	run();
	assert_int_equal(r2.calls, 1);
	assert_string_equal(r2.body, "fast");
	assert_int_equal(r.calls, 0);
	assert_int_equal(atomic_load(&slow_done), 0);
	atomic_store(&slow_release, 1);
	run();
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "slow");
	srv_stop(&s);
	srv_stop(&s2);

	/* Freed while the lookup waits: no callback, the answer freed. */
	atomic_store(&slow_release, 0);
	atomic_store(&slow_done, 0);
	memset(&r, 0, sizeof(r));
	q = hclient_request(loop, "GET", "http://slow.test:1/", NULL, NULL, 0,
	    &o, cb, &r, err, sizeof(err));
	assert_non_null(q);
	hclient_cancel(q);
	atomic_store(&slow_release, 1);
	wait_lookups(1);
	/* Freed with the answer sent but not read. */
	q = hclient_request(loop, "GET", "http://slow.test:1/", NULL, NULL, 0,
	    &o, cb, &r, err, sizeof(err));
	assert_non_null(q);
	wait_lookups(2);
	hclient_cancel(q);
	ev_run(loop, EVRUN_NOWAIT);
	assert_int_equal(r.calls, 0);
	resolve_set_fn(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_split_url),
		cmocka_unit_test(test_slow_name),
	};
	int r;

	loop = ev_loop_new(EVFLAG_AUTO);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	ev_loop_destroy(loop);
	return r;
}
