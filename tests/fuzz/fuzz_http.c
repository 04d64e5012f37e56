/*
 * libFuzzer target for lib/http: the input is what a client sends on one
 * connection.  The server runs in this process's ev loop on one end of a
 * socketpair (http_server_adopt); the other end writes the bytes, reads
 * and checks the replies, then half-closes, closes, or lets the server be
 * freed under it.  Some routes hold their request and it is replied later,
 * from outside the handler, so late replies, orphaned requests and the
 * reaper are exercised too.  Every loop is bounded; a hang traps.
 *
 * First input byte: bits 0-5 the write size (0: all at once), bits 6-7
 * the ending (half-close, close, free the server, late replies only).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "buffer.h"
#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXHELD	32
#define ROUNDS	(1 << 16)

static struct http_req	*held[MAXHELD];
static int		 nheld;
static int		 slow;	/* keep held requests until the end */

static void
h_text(struct http_req *req, void *arg)
{
	(void)arg;
	http_reply_text(req, 200, "OK");
}

static void
h_echo(struct http_req *req, void *arg)
{
	const void *body;
	size_t len;

	(void)arg;
	body = http_req_body(req, &len);
	http_reply(req, 200, "application/octet-stream", body, len);
}

/* Touch everything a daemon's handler would, then answer. */
static void
h_query(struct http_req *req, void *arg)
{
	static const char *keys[] = { "topic", "channel", "a", "", "+" };
	struct buf b;
	const char *v, *h;
	size_t i;
	int rc = 0;

	(void)arg;
	buf_init(&b, 0, 1 << 16);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (http_query_get(req, keys[i], &v) == 1)
			rc |= buf_appendf(&b, "%s=%s\n", keys[i], v);
	if ((h = http_req_header(req, "content-type")) != NULL)
		rc |= buf_appendf(&b, "ct=%s\n", h);
	if (http_req_wildcard(req) != NULL)
		rc |= buf_appendf(&b, "w=%s\n", http_req_wildcard(req));
	rc |= buf_appendf(&b, "%s %s %s %s %d", http_req_method(req),
	    http_req_path(req), http_req_uri(req), http_req_peer(req),
	    http_query_valid(req));
	if (http_query_valid(req) == -1)
		http_reply_error(req, 400, "INVALID_REQUEST");
	else if (rc != 0)
		http_reply_error(req, 500, "INTERNAL_ERROR");
	else
		http_reply_json(req, 200, &b);
	buf_free(&b);
}

static void
h_hold(struct http_req *req, void *arg)
{
	(void)arg;
	if (nheld == MAXHELD) {
		http_reply_error(req, 503, "BUSY");
		return;
	}
	held[nheld++] = req;
	http_req_hold(req);
}

static void
h_none(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
}

static const struct http_route routes[] = {
	{ "GET", "/ping", h_text, 0, NULL },
	{ "POST", "/pub", h_echo, 64, "MSG_TOO_BIG" },
	{ "POST", "/mpub", h_echo, 0, NULL },
	{ "GET", "/stats", h_query, 0, NULL },
	{ NULL, "/config/*", h_query, 0, NULL },
	{ "POST", "/hold", h_hold, 0, NULL },
	{ "GET", "/hold", h_hold, 0, NULL },
	{ "GET", "/none", h_none, 0, NULL },
};

static void
reply_held(void)
{
	while (nheld > 0)
		http_reply_text(held[--nheld], 200, "late");
}

/* Read and check what the server sent; 1 on EOF. */
static int
drain(int fd, size_t *total)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno != EAGAIN && errno != EWOULDBLOCK;
		/* Replies are whole responses: the stream starts with one. */
		if (*total == 0 && (n < 9 || memcmp(buf, "HTTP/1.1 ", 9) != 0))
			__builtin_trap();
		*total += (size_t)n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_loop *loop;
	struct http_limits lim = { 512, 1024, 30.0, 8, 0 };
	struct http_server *srv;
	size_t step, off = 0, total = 0;
	ssize_t w;
	int sv[2], ending, eof = 0, shut = 0, stuck, rounds;

	if (size == 0)
		return 0;
	if (loop == NULL && (loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		abort();
	step = data[0] & 0x3f;
	ending = data[0] >> 6;
	data++;
	size--;
	if (step == 0)
		step = size > 0 ? size : 1;
	slow = ending == 3;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	srv = http_server_new(loop, -1, routes,
	    sizeof(routes) / sizeof(routes[0]), &lim, NULL);
	if (http_server_adopt(srv, sv[0]) == -1)
		abort();
	for (rounds = 0; !eof; rounds++) {
		if (rounds == ROUNDS)
			__builtin_trap();	/* the server hangs */
		stuck = 0;
		if (off < size) {
			w = send(sv[1], data + off, size - off < step ?
			    size - off : step, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				stuck = 1;	/* the server reads no more */
			else
				off = size;	/* the server closed */
		} else if (!shut) {
			shut = 1;
			if (ending == 1) {
				close(sv[1]);
				sv[1] = -1;
				break;
			}
			if (ending == 2)
				break;
			shutdown(sv[1], SHUT_WR);
		}
		ev_run(loop, EVRUN_NOWAIT);
		if (!slow || shut || stuck)
			reply_held();
		eof = drain(sv[1], &total);
	}
	/* The server closed first: the client is done too. */
	if (sv[1] != -1 && !shut)
		shutdown(sv[1], SHUT_WR);
	/* Let the server finish with the connection (or free it under it). */
	for (rounds = 0; ending != 2 && http_server_nconns(srv) > 0;
	    rounds++) {
		if (rounds == ROUNDS)
			__builtin_trap();
		ev_run(loop, EVRUN_NOWAIT);
		reply_held();
		if (sv[1] != -1)
			drain(sv[1], &total);
	}
	http_server_free(srv);
	reply_held();
	if (sv[1] != -1)
		close(sv[1]);
	return 0;
}
