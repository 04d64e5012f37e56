/*
 * Archive: libnsqsrv.a (what the daemons add).
 *
 * A small asynchronous HTTP/1.1 client on libev and http-parser, for the
 * daemons, which are linked without libcurl: one request per connection
 * ("Connection: close"), http or https (OpenSSL on the non-blocking
 * socket), a connect deadline and a deadline for the whole exchange, and
 * a cap on the response body.  Every address of the host is tried in
 * turn, as Go's dialer does.  Nothing in it blocks the loop but the host
 * name lookup (getaddrinfo: an address or a name in /etc/hosts answers at
 * once; a DNS name waits for the resolver).
 *
 * The callback runs exactly once per request, from the loop (never from
 * inside hclient_request), unless the request was cancelled first.  The
 * request is freed right after its callback returns: the callback must
 * not cancel it.
 */
#ifndef NSQ_HCLIENT_H
#define NSQ_HCLIENT_H

#include <stddef.h>

#include <ev.h>
#include <openssl/ssl.h>

struct hclient_req;

/*
 * status: the HTTP status (0 when the exchange failed, with the reason
 * in err); body: the response body, body[len] is NUL; both valid during
 * the call only.
 */
typedef void	hclient_cb(void *arg, int status, const char *body,
		    size_t len, const char *err);

struct hclient_opts {
	double		 connect_timeout;	/* s; 0: none */
	double		 request_timeout;	/* s, whole exchange; 0: none */
	size_t		 max_body;		/* larger bodies fail */
	SSL_CTX		*ssl_ctx;		/* https://; NULL refuses it */
	const char	*user_agent;		/* NULL: none sent */
};

/*
 * Start method (GET, POST, ...) on url ("http://host:port/path?query" or
 * https), with body[0..bodylen) and its content_type when body is not
 * NULL.  NULL with err when the URL cannot be used (bad scheme, no host).
 */
struct hclient_req *hclient_request(struct ev_loop *loop, const char *method,
	    const char *url, const char *content_type, const char *body,
	    size_t bodylen, const struct hclient_opts *o, hclient_cb *cb,
	    void *arg, char *err, size_t errlen);
/* Stop a request whose callback has not run; it never will.  NULL is ok. */
void	hclient_cancel(struct hclient_req *);
/*
 * Split url into https (0/1), host:port (the default port added) and
 * path with query ("/" when empty).  -1 with err when it is no http(s)
 * URL.
 */
int	hclient_split_url(const char *url, int *https, char *hostport,
	    size_t hplen, char *path, size_t pathlen, char *err,
	    size_t errlen);

#endif
