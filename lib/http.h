/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * An HTTP/1.1 server on libev over http-parser, for the daemons' HTTP APIs
 * (nsqd :4151, nsqlookupd :4161).  It does what Go's net/http plus
 * httprouter do for NSQ: keep-alive, pipelining answered in order, chunked
 * request bodies, "Expect: 100-continue", exact-path routing with 404/405
 * JSON errors, query parsing as url.ParseQuery, and bounded memory for
 * every connection.
 *
 * A connection handles one request at a time: the next pipelined request is
 * parsed only once the previous one has its reply, so replies always go out
 * in order, even when a handler answers later (http_req_hold).  Protocol
 * errors get a JSON reply {"message":"..."} and the connection is closed
 * after it is flushed (a lingering close, so the client reads the reply):
 *
 *   400 BAD_REQUEST         malformed request line, headers, URL, chunking;
 *                           checked strictly, as RFC 9112 and Go: bare CR,
 *                           obs-fold, blanks before a colon, a chunk-size
 *                           line or the CRLF after chunk data, a repeated
 *                           Host or Content-Length, Transfer-Encoding with
 *                           Content-Length; also unknown methods
 *                           (http-parser knows a fixed set; Go would
 *                           answer 405 or 404 for those)
 *   413 BODY_TOO_BIG        body above the limit (or the route's own limit
 *                           and message), before reading it when
 *                           Content-Length says so
 *   431 HEADER_TOO_BIG      request line + headers above max_header_bytes,
 *                           as Go answers when MaxHeaderBytes is exceeded
 *   417 EXPECTATION_FAILED  an Expect other than 100-continue (as Go)
 *   501 UNSUPPORTED_TRANSFER_ENCODING  as Go: anything but one
 *                           "Transfer-Encoding: chunked"
 *   505 HTTP_VERSION_NOT_SUPPORTED     major version other than 1 (as Go)
 *
 * Every reply carries "X-NSQ-Content-Type: nsq; version=1.0", Date and
 * Content-Length (except 204/304).  A request that is incomplete when the
 * client closes gets no reply, as in Go.
 *
 * Reply bodies grow as they need to, up to a hard limit: HTTP_REPLY_MAX
 * (512 MiB) unless http_limits says otherwise.  A body past it, or built
 * in a buffer whose sticky error is set (lib/buffer's buf_add*, a struct
 * jw that did not fit), is never sent cut: the reply becomes
 *
 *   500 INTERNAL_ERROR      in NSQ's JSON error shape, as Go's RespondV1
 *                           answers a value it cannot marshal; reported
 *                           once through the warn hook
 */
#ifndef NSQ_HTTP_H
#define NSQ_HTTP_H

#include <stddef.h>

struct ev_loop;
struct buf;
struct http_server;
struct http_req;

typedef void (*http_handler)(struct http_req *, void *arg);

/*
 * A route.  method NULL matches any method; path is matched exactly against
 * the decoded path, except that a path ending in a slash and a star (as
 * "/config/" "*") matches any longer path with that prefix, and "*" alone
 * matches every path (as nsqd's TLS_REQUIRED answer needs);
 * http_req_wildcard gives the part matched by the star.  max_body,
 * when not 0, replaces the server's body limit for this route, and
 * too_big (default "BODY_TOO_BIG") is the 413 message when it is exceeded:
 * nsqd's /pub uses max-msg-size and "MSG_TOO_BIG".
 */
struct http_route {
	const char	*method;
	const char	*path;
	http_handler	 fn;
	size_t		 max_body;
	const char	*too_big;
};

/* The default hard limit of a reply body (a /stats of 10,000 topics). */
#define HTTP_REPLY_MAX	((size_t)512 << 20)

/*
 * Limits; 0 means the default: 80 KiB of request line + headers (also
 * http-parser's own compiled-in ceiling), 5 MiB of body (nsqd's
 * max-body-size), 120 s idle, 4096 connections, HTTP_REPLY_MAX of reply
 * body.
 */
struct http_limits {
	size_t	max_header_bytes;
	size_t	max_body_bytes;
	double	idle_timeout;
	int	max_conns;
	size_t	max_reply_bytes;
};

/* Called after every reply made while the connection is open. */
typedef void (*http_log_fn)(const struct http_req *, int status, void *arg);

/*
 * A server accepting on listen_fd (owned from now on and closed by
 * http_server_free; -1 for none, see http_server_adopt).  routes is copied,
 * the strings it points to are not; limits may be NULL.  arg is passed to
 * every handler.
 */
struct http_server *http_server_new(struct ev_loop *, int listen_fd,
	    const struct http_route *, size_t nroutes,
	    const struct http_limits *, void *arg);
/*
 * Close the listener and every connection, and free the server.  Held
 * requests stay valid: their eventual http_reply only frees them.  Not to
 * be called from inside a handler.
 */
void	http_server_free(struct http_server *);
/* Serve an already connected socket (taken over); -1 with errno on error. */
int	http_server_adopt(struct http_server *, int fd)
	    __attribute__((warn_unused_result));
/* Stop (0) or resume (1) accepting new connections. */
void	http_server_accept(struct http_server *, int on);
/* Open connections. */
int	http_server_nconns(const struct http_server *);
/* Install an access-log hook (NULL to remove). */
void	http_server_set_log(struct http_server *, http_log_fn);
/*
 * Called once when lib/http answers 500 in place of the handler's reply
 * (a body past the reply limit); why is a sentence for the log.
 */
typedef void (*http_warn_fn)(const struct http_req *, const char *why,
	    void *arg);
/* Install the warn hook (NULL to remove). */
void	http_server_set_warn(struct http_server *, http_warn_fn);

/*
 * Called once for each TLS handshake that failed (bad or missing
 * certificate, protocol version, the peer gone, the handshake timeout):
 * peer as http_req_peer, why a short reason for the log.
 */
typedef void (*http_tls_fail_fn)(const char *peer, const char *why,
	    void *arg);
struct ssl_ctx_st;
/*
 * Serve HTTPS: every connection accepted from now on runs TLS with ctx
 * (a server context: certificate, key, verification, versions), directly
 * on the non-blocking socket.  The server takes a reference to ctx.  A
 * handshake has handshake_timeout seconds from the accept, however its
 * bytes trickle in (0: 10 s, the handshake timeout of Go's clients).
 * Call it right after http_server_new, before the loop runs.  The
 * process must ignore SIGPIPE (OpenSSL writes with write(2)).  fail may
 * be NULL.
 */
void	http_server_set_tls(struct http_server *, struct ssl_ctx_st *ctx,
	    double handshake_timeout, http_tls_fail_fn fail);

/* "GET", "POST", ... */
const char *http_req_method(const struct http_req *);
/* Decoded path without the query. */
const char *http_req_path(const struct http_req *);
/* The request target as received ("/pub?topic=a"), for logs. */
const char *http_req_uri(const struct http_req *);
/* The part of the path matched by a prefix route's star, else NULL. */
const char *http_req_wildcard(const struct http_req *);
/* A header's value, name case-insensitive, first if repeated; NULL absent. */
const char *http_req_header(const struct http_req *, const char *name);
/* The body (chunked bodies are decoded); never NULL, *len may be 0. */
const void *http_req_body(const struct http_req *, size_t *len);
/* The client's address: "ip:port", "[ip6]:port", or "@" for unix sockets. */
const char *http_req_peer(const struct http_req *);
struct ssl_st;
/*
 * The TLS session the request came over: NULL for plain HTTP or once the
 * connection is gone.  The server owns it; read it before returning.
 */
struct ssl_st *http_req_ssl(const struct http_req *);
/* ev_now() when the request's first byte was parsed. */
double	http_req_start(const struct http_req *);
/* 1 once the connection of a held request is gone (reply is discarded). */
int	http_req_closed(const struct http_req *);

/*
 * A query parameter from the URL only (not the body), decoded ("+" is a
 * space, %XX a byte); the first of duplicate keys wins.  Returns 1 with
 * *val set (NUL-terminated, owned by the request), 0 if absent, -1 if the
 * query string is malformed (as Go's url.ParseQuery: a bad % escape or a
 * ';'; and here also an escaped NUL).
 */
int	http_query_get(struct http_req *, const char *key, const char **val);
/* 0 when the whole query string parses, -1 otherwise. */
int	http_query_valid(struct http_req *);

/*
 * Reply.  Each request gets exactly one reply (later ones are ignored); a
 * handler that neither replies nor holds gets a 500 INTERNAL_ERROR.
 * content_type NULL sends none; the body is copied.  A reply may come
 * after the handler returned if it called http_req_hold; pipelined
 * requests wait for it.  Outside the handler, the request is freed by the
 * reply: do not touch it afterwards.  A body past the reply limit is
 * answered 500 (see above).
 */
void	http_reply(struct http_req *, int status, const char *content_type,
	    const void *body, size_t len);
/*
 * Reply with json's unread bytes, "application/json; charset=utf-8"; 500
 * instead when buf_failed(json) or past the limit.
 */
void	http_reply_json(struct http_req *, int status,
	    const struct buf *json);
/*
 * The body of a reply to build: an empty buffer owned by the request,
 * growing up to the reply limit; the same one until the reply.  Fill it
 * with buf_add* or a struct jw, without checking each append, and send it
 * with http_reply_end(), which checks it once.
 */
struct buf *http_reply_begin(struct http_req *);
/*
 * Reply with what was built in http_reply_begin()'s buffer (content_type
 * NULL sends none), or 500 INTERNAL_ERROR if it failed.
 */
void	http_reply_end(struct http_req *, int status,
	    const char *content_type);
/* Reply {"message":"<message>"} as JSON, as NSQ's errors. */
void	http_reply_error(struct http_req *, int status,
	    const char *message);
/*
 * Reply text, "text/plain; charset=utf-8", without X-NSQ-Content-Type:
 * Go's PlainText replies (/ping).
 */
void	http_reply_text(struct http_req *, int status, const char *text);
/*
 * Keep the request past the handler's return: the reply comes later.  If
 * the client goes away meanwhile, the reply is still required (it frees
 * the request) and is discarded.
 */
void	http_req_hold(struct http_req *);

/*
 * A non-blocking listening socket (SO_REUSEADDR, backlog 1024) for
 * "host:port", "[v6]:port" or ":port".  A wildcard host ("", "0.0.0.0",
 * "::") gets one dual-stack socket, as Go does.  An addr without ':' is a
 * unix socket path (as nsqd's Go, for which that is not host:port).
 * Returns the fd, or -1 with a message in err.
 */
int	http_listen(const char *addr, char *err, size_t errlen);
/* The bound TCP port of a listening socket, -1 if none (unix socket). */
int	http_listen_port(int fd);

#endif
