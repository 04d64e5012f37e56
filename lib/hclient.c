/*
 * The daemons' asynchronous HTTP/1.1 client (hclient.h): one socket per
 * request, driven by one ev_io whose events follow what the state needs
 * (write while connecting or sending, read while receiving; TLS may want
 * either at any step), and two timers, the connect deadline and the whole
 * request's.  The response goes through http-parser; its end is the
 * parser's message end, or EOF for a body that runs to the close.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "buffer.h"
#include "hclient.h"
#include "net.h"
#include "resolve.h"
#include "xmalloc.h"

enum hc_state {
	HC_RESOLVING,	/* a name on resolve.h's thread */
	HC_CONNECTING,
	HC_HANDSHAKE,
	HC_SENDING,
	HC_RECEIVING,
	HC_FAILED,	/* waiting for the zero timer to report */
};

struct hclient_req {
	struct ev_loop		*loop;
	int			 fd;
	enum hc_state		 state;
	ev_io			 io;
	ev_timer		 connect_t;
	ev_timer		 request_t;
	SSL			*ssl;
	SSL_CTX			*ssl_ctx;	/* https: for each address */
	struct addrinfo		*ai_list;	/* the host's addresses */
	struct addrinfo		*ai_next;	/* the next to try */
	struct resolve		*rq;		/* HC_RESOLVING's lookup */
	char			 host[256];	/* for SNI and the check */
	struct buf		 out;
	struct buf		 body;
	http_parser		 parser;
	http_parser_settings	 settings;
	int			 done;		/* message complete */
	int			 too_big;
	size_t			 max_body;
	char			 err[256];
	hclient_cb		*cb;
	void			*arg;
};

static void	io_cb(struct ev_loop *, ev_io *, int);

int
hclient_split_url(const char *url, int *https, char *hostport, size_t hplen,
    char *path, size_t pathlen, char *err, size_t errlen)
{
	const char *p, *slash;
	size_t n;
	char host[256];
	int port;

	if (strncmp(url, "http://", 7) == 0) {
		*https = 0;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		*https = 1;
		p = url + 8;
	} else {
		snprintf(err, errlen, "unsupported protocol scheme in %s", url);
		return -1;
	}
	slash = p + strcspn(p, "/?#");
	n = (size_t)(slash - p);
	if (n == 0 || n >= hplen || n >= sizeof(host)) {
		snprintf(err, errlen, "no host in request URL %s", url);
		return -1;
	}
	memcpy(hostport, p, n);
	hostport[n] = '\0';
	if (memchr(hostport, '@', n) != NULL) {
		snprintf(err, errlen, "user info is not supported in %s", url);
		return -1;
	}
	/*
	 * As Go's url.Parse: a host holds RFC 3986 reg-name, IP literal and
	 * port characters only, so "a b" or a control byte is refused here
	 * rather than sent to the resolver.
	 */
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)hostport[i]) &&
		    strchr("-._~!$&'()*+,;=%:[]", hostport[i]) == NULL) {
			snprintf(err, errlen, "invalid character in host of %s",
			    url);
			return -1;
		}
	/* No port: the scheme's. */
	if (net_split_hostport(hostport, host, sizeof(host), &port) == -1) {
		if (strchr(hostport, ':') != NULL && hostport[0] != '[') {
			snprintf(err, errlen, "invalid host in %s", url);
			return -1;
		}
		if (hostport[0] == '[' && strchr(hostport, ']') == NULL) {
			snprintf(err, errlen, "invalid host in %s", url);
			return -1;
		}
		if (n + 5 >= hplen) {
			snprintf(err, errlen, "host too long in %s", url);
			return -1;
		}
		snprintf(hostport + n, hplen - n, ":%d", *https ? 443 : 80);
	} else if (host[0] == '\0') {
		snprintf(err, errlen, "no host in request URL %s", url);
		return -1;
	}
	/* The fragment stays here, as Go's client never sends it. */
	n = strcspn(slash, "#");
	if (n == 0 || slash[0] != '/') {
		if (pathlen < n + 2) {
			snprintf(err, errlen, "URL too long: %s", url);
			return -1;
		}
		path[0] = '/';
		memcpy(path + 1, slash, n);
		path[n + 1] = '\0';
	} else {
		if (pathlen < n + 1) {
			snprintf(err, errlen, "URL too long: %s", url);
			return -1;
		}
		memcpy(path, slash, n);
		path[n] = '\0';
	}
	return 0;
}

/* End the request: the callback once, then free. */
static void
finish(struct hclient_req *r, int status)
{
	const char *err = status == 0 ? r->err : NULL;
	size_t n = buf_len(&r->body);

	/* A NUL after the body (its buffer has room for one more byte). */
	buf_add(&r->body, "", 1);
	r->cb(r->arg, status, n > 0 && !buf_failed(&r->body) ?
	    buf_data(&r->body) : "", buf_failed(&r->body) ? 0 : n, err);
	hclient_cancel(r);
}

static void
fail(struct hclient_req *r, const char *fmt, const char *what)
{
	snprintf(r->err, sizeof(r->err), fmt, what);
	finish(r, 0);
}

static const char *
ssl_reason(void)
{
	static char s[200];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "connection closed";
	ERR_error_string_n(e, s, sizeof(s));
	return s;
}

static void
want(struct hclient_req *r, int events)
{
	if ((r->io.events & (EV_READ | EV_WRITE)) == events &&
	    ev_is_active(&r->io))
		return;
	ev_io_stop(r->loop, &r->io);
	ev_io_set(&r->io, r->fd, events);
	ev_io_start(r->loop, &r->io);
}

static int
on_body(http_parser *p, const char *at, size_t n)
{
	struct hclient_req *r = p->data;

	if (buf_len(&r->body) + n > r->max_body) {
		r->too_big = 1;
		return -1;
	}
	if (buf_append(&r->body, at, n) == -1) {
		r->too_big = 1;
		return -1;
	}
	return 0;
}

static int
on_complete(http_parser *p)
{
	struct hclient_req *r = p->data;

	r->done = 1;
	return 0;
}

/* Feed n received bytes (n == 0: EOF) to the parser; 1 when finished. */
static int
take(struct hclient_req *r, const char *p, size_t n)
{
	size_t k = http_parser_execute(&r->parser, &r->settings, p, n);

	if (r->too_big) {
		fail(r, "%s", "response body too large");
		return 1;
	}
	if (r->done) {
		finish(r, r->parser.status_code);
		return 1;
	}
	if (n == 0) {
		fail(r, "%s", "unexpected EOF");
		return 1;
	}
	if (HTTP_PARSER_ERRNO(&r->parser) != HPE_OK || k != n) {
		fail(r, "malformed HTTP response: %s",
		    http_errno_description(HTTP_PARSER_ERRNO(&r->parser)));
		return 1;
	}
	return 0;
}

static void
do_tls_handshake(struct hclient_req *r)
{
	int k = SSL_connect(r->ssl), e;

	if (k == 1) {
		r->state = HC_SENDING;
		want(r, EV_WRITE);
		return;
	}
	e = SSL_get_error(r->ssl, k);
	if (e == SSL_ERROR_WANT_READ)
		want(r, EV_READ);
	else if (e == SSL_ERROR_WANT_WRITE)
		want(r, EV_WRITE);
	else
		fail(r, "tls: %s", ssl_reason());
}

static void
do_send(struct hclient_req *r)
{
	ssize_t n;
	int e;

	while (buf_len(&r->out) > 0) {
		if (r->ssl != NULL) {
			size_t k = buf_len(&r->out);

			n = SSL_write(r->ssl, buf_data(&r->out),
			    k > INT32_MAX ? INT32_MAX : (int)k);
			if (n <= 0) {
				e = SSL_get_error(r->ssl, (int)n);
				if (e == SSL_ERROR_WANT_WRITE) {
					want(r, EV_WRITE);
					return;
				}
				if (e == SSL_ERROR_WANT_READ) {
					want(r, EV_READ);
					return;
				}
				fail(r, "tls write: %s", ssl_reason());
				return;
			}
			buf_consume(&r->out, (size_t)n);
			continue;
		}
		n = buf_write_fd(&r->out, r->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			want(r, EV_WRITE);
			return;
		}
		fail(r, "write: %s", strerror(errno));
		return;
	}
	r->state = HC_RECEIVING;
	want(r, EV_READ);
}

static void
do_receive(struct hclient_req *r)
{
	char tmp[16384];
	ssize_t n;
	int e;

	for (;;) {
		if (r->ssl != NULL) {
			n = SSL_read(r->ssl, tmp, sizeof(tmp));
			if (n <= 0) {
				e = SSL_get_error(r->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ) {
					want(r, EV_READ);
					return;
				}
				if (e == SSL_ERROR_WANT_WRITE) {
					want(r, EV_WRITE);
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN ||
				    e == SSL_ERROR_SYSCALL) {
					(void)take(r, tmp, 0);
					return;
				}
				fail(r, "tls read: %s", ssl_reason());
				return;
			}
		} else {
			n = read(r->fd, tmp, sizeof(tmp));
			if (n == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return;
				fail(r, "read: %s", strerror(errno));
				return;
			}
		}
		if (take(r, tmp, (size_t)n))
			return;
	}
}

/*
 * Connect to the next of the host's addresses, as Go's dialer tries
 * each: 0 with r->fd connecting, or -1 with r->err when none is left.
 */
static int	tls_setup(struct hclient_req *, SSL_CTX *);

static int
dial_next(struct hclient_req *r)
{
	struct addrinfo *ai;
	int fd, one = 1;

	while ((ai = r->ai_next) != NULL) {
		r->ai_next = ai->ai_next;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			snprintf(r->err, sizeof(r->err), "dial: %s",
			    strerror(errno));
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
		    errno != EINPROGRESS) {
			snprintf(r->err, sizeof(r->err), "dial: %s",
			    strerror(errno));
			close(fd);
			continue;
		}
		r->fd = fd;
		if (r->ssl_ctx != NULL && tls_setup(r, r->ssl_ctx) == -1) {
			close(r->fd);
			r->fd = -1;
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Drop the socket (and its TLS) of an address that failed. */
static void
undial(struct hclient_req *r)
{
	ev_io_stop(r->loop, &r->io);
	SSL_free(r->ssl);
	r->ssl = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct hclient_req *r = w->data;
	socklen_t len = sizeof(int);
	int e = 0;

	(void)loop;
	(void)revents;
	switch (r->state) {
	case HC_CONNECTING:
		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			e = errno;
		if (e != 0) {
			snprintf(r->err, sizeof(r->err), "dial: %s",
			    strerror(e));
			undial(r);
			if (dial_next(r) == -1) {
				finish(r, 0);
				return;
			}
			ev_io_set(&r->io, r->fd, EV_WRITE);
			ev_io_start(r->loop, &r->io);
			return;
		}
		ev_timer_stop(r->loop, &r->connect_t);
		if (r->ssl != NULL) {
			r->state = HC_HANDSHAKE;
			do_tls_handshake(r);
		} else {
			r->state = HC_SENDING;
			do_send(r);
		}
		break;
	case HC_HANDSHAKE:
		do_tls_handshake(r);
		break;
	case HC_SENDING:
		do_send(r);
		break;
	case HC_RECEIVING:
		do_receive(r);
		break;
	case HC_RESOLVING:	/* no socket yet */
	case HC_FAILED:
		break;
	}
}

static void
connect_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hclient_req *r = w->data;

	(void)loop;
	(void)revents;
	if (r->state == HC_FAILED) {
		finish(r, 0);
		return;
	}
	fail(r, "dial: %s", "i/o timeout (connect timeout)");
}

static void
request_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hclient_req *r = w->data;

	(void)loop;
	(void)revents;
	fail(r, "%s", "Client.Timeout exceeded while awaiting response");
}

/* Set up TLS on r->fd for host; -1 with r->err. */
static int
tls_setup(struct hclient_req *r, SSL_CTX *ctx)
{
	unsigned char ip[16];

	if ((r->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(r->ssl, r->fd) != 1) {
		snprintf(r->err, sizeof(r->err), "tls: %s", ssl_reason());
		return -1;
	}
	/* SNI and the name check for a name; an address checks as one. */
	if (inet_pton(AF_INET, r->host, ip) == 1 ||
	    inet_pton(AF_INET6, r->host, ip) == 1) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(r->ssl);

		(void)X509_VERIFY_PARAM_set1_ip_asc(vp, r->host);
	} else {
		(void)SSL_set_tlsext_host_name(r->ssl, r->host);
		(void)SSL_set1_host(r->ssl, r->host);
	}
	SSL_set_connect_state(r->ssl);
	return 0;
}

/* The host's addresses came: connect to the first that takes it. */
static int
addresses(struct hclient_req *r, struct addrinfo *res)
{
	r->ai_list = res;
	r->ai_next = res;
	if (dial_next(r) == -1)
		return -1;
	r->state = HC_CONNECTING;
	ev_io_set(&r->io, r->fd, EV_WRITE);
	ev_io_start(r->loop, &r->io);
	return 0;
}

/* resolve.h's answer for a name. */
static void
resolved(void *arg, struct addrinfo *res, int e)
{
	struct hclient_req *r = arg;

	r->rq = NULL;
	if (e != 0) {
		snprintf(r->err, sizeof(r->err), "dial: lookup %.200s: %s",
		    r->host, e == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(e));
		finish(r, 0);
		return;
	}
	if (addresses(r, res) == -1)
		finish(r, 0);
}

/*
 * The host's addresses: an IP address at once (AI_NUMERICHOST never
 * asks a resolver); a name on resolve.h's thread, as even one in
 * /etc/hosts may go on to DNS, whose wait would hold up the whole loop.
 * -1 with r->err.
 */
static int
resolve(struct hclient_req *r, int port)
{
	struct addrinfo hints, *res = NULL;
	const char *host = r->host[0] != '\0' ? r->host : "127.0.0.1";
	char ps[16];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) == 0)
		return addresses(r, res);
	if (e != EAI_NONAME) {
		snprintf(r->err, sizeof(r->err), "dial: lookup %.200s: %s",
		    r->host, gai_strerror(e));
		return -1;
	}
	hints.ai_flags = 0;
	r->state = HC_RESOLVING;
	if ((r->rq = resolve_start(r->loop, host, ps, &hints, resolved,
	    r)) == NULL) {
		snprintf(r->err, sizeof(r->err), "dial: lookup %.200s: %s",
		    r->host, strerror(errno));
		return -1;
	}
	return 0;
}

struct hclient_req *
hclient_request(struct ev_loop *loop, const char *method, const char *url,
    const char *content_type, const char *body, size_t bodylen,
    const struct hclient_opts *o, hclient_cb *cb, void *arg, char *err,
    size_t errlen)
{
	struct hclient_req *r;
	char hostport[300], path[8192];
	int https, port = 0;

	if (hclient_split_url(url, &https, hostport, sizeof(hostport), path,
	    sizeof(path), err, errlen) == -1)
		return NULL;
	if (https && o->ssl_ctx == NULL) {
		snprintf(err, errlen, "https is not available for %s", url);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->loop = loop;
	r->fd = -1;
	r->cb = cb;
	r->arg = arg;
	r->max_body = o->max_body;
	if (net_split_hostport(hostport, r->host, sizeof(r->host), &port) ==
	    -1)
		r->host[0] = '\0';
	buf_init(&r->out, 512, 1 << 24);
	buf_init(&r->body, 0, o->max_body + 1);
	buf_addf(&r->out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path,
	    hostport);
	if (o->user_agent != NULL)
		buf_addf(&r->out, "User-Agent: %s\r\n", o->user_agent);
	buf_addf(&r->out, "Accept: application/vnd.nsq; version=1.0\r\n");
	if (body != NULL)
		buf_addf(&r->out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    content_type, bodylen);
	buf_addf(&r->out, "Connection: close\r\n\r\n");
	if (body != NULL)
		buf_add(&r->out, body, bodylen);
	http_parser_init(&r->parser, HTTP_RESPONSE);
	r->parser.data = r;
	http_parser_settings_init(&r->settings);
	r->settings.on_body = on_body;
	r->settings.on_message_complete = on_complete;
	ev_init(&r->io, io_cb);
	r->io.data = r;
	ev_init(&r->connect_t, connect_cb);
	r->connect_t.data = r;
	ev_init(&r->request_t, request_cb);
	r->request_t.data = r;
	if (buf_failed(&r->out)) {
		snprintf(err, errlen, "request too large for %s", url);
		hclient_cancel(r);
		return NULL;
	}
	if (https)
		r->ssl_ctx = o->ssl_ctx;
	if (resolve(r, port) == -1) {
		/* Reported from the loop, as every other outcome. */
		r->state = HC_FAILED;
		ev_timer_set(&r->connect_t, 0., 0.);
		ev_timer_start(loop, &r->connect_t);
		return r;
	}
	/* As Go's dialer's, the connect timeout covers the lookup. */
	if (o->connect_timeout > 0) {
		ev_timer_set(&r->connect_t, o->connect_timeout, 0.);
		ev_timer_start(loop, &r->connect_t);
	}
	if (o->request_timeout > 0) {
		ev_timer_set(&r->request_t, o->request_timeout, 0.);
		ev_timer_start(loop, &r->request_t);
	}
	return r;
}

void
hclient_cancel(struct hclient_req *r)
{
	if (r == NULL)
		return;
	ev_io_stop(r->loop, &r->io);
	ev_timer_stop(r->loop, &r->connect_t);
	ev_timer_stop(r->loop, &r->request_t);
	resolve_cancel(r->rq);
	SSL_free(r->ssl);
	if (r->ai_list != NULL)
		freeaddrinfo(r->ai_list);
	if (r->fd >= 0)
		close(r->fd);
	buf_free(&r->out);
	buf_free(&r->body);
	free(r);
}
