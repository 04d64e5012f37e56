/*
 * libcurl's multi interface driven by libev (see httpc.h), the pattern
 * of curl's own "multi-event" example: curl's socket callback keeps one
 * ev_io per socket in step with what curl wants to wait for, its timer
 * callback arms one ev_timer, and both watchers call
 * curl_multi_socket_action().  Finished transfers are collected with
 * curl_multi_info_read() after every action, outside curl's callbacks,
 * so a completion callback may start or cancel requests.
 *
 * Like Go's http.Client (which go-nsq uses), requests to localhost are
 * never sent through a proxy taken from the environment.
 */
#include <sys/queue.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buffer.h"
#include "httpc.h"
#include "xmalloc.h"

struct httpc_req {
	TAILQ_ENTRY(httpc_req)	 entry;
	struct httpc		*h;
	CURL			*easy;
	struct curl_slist	*hdrs;
	struct buf		 body;
	bool			 too_big;
	bool			 unresolved;	/* the host name */
	httpc_cb		*cb;
	void			*arg;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct httpc_sock {
	ev_io			 io;
	struct httpc		*h;
	curl_socket_t		 fd;
	TAILQ_ENTRY(httpc_sock)	 entry;
};

TAILQ_HEAD(httpc_reqs, httpc_req);
TAILQ_HEAD(httpc_socks, httpc_sock);

struct httpc {
	struct ev_loop		*loop;
	CURLM			*multi;
	ev_timer		 timer;
	struct httpc_reqs	 reqs;
	struct httpc_socks	 socks;
	int64_t			 connect_ms;	/* 0: the request's */
	char			*tls_ca, *tls_cert, *tls_key;
	bool			 tls_insecure;
};

#define CONTAINER(p, type, member)					\
	((type *)(void *)((char *)(p) - offsetof(type, member)))

static void
check_done(struct httpc *h)
{
	struct httpc_req *r;
	CURLMsg *m;
	CURLcode rc;
	long status = 0;
	int left;
	char err[CURL_ERROR_SIZE + 64];
	void *priv;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		r = priv;
		rc = m->data.result;
		curl_multi_remove_handle(h->multi, r->easy);
		TAILQ_REMOVE(&h->reqs, r, entry);
		err[0] = '\0';
		r->unresolved = rc == CURLE_COULDNT_RESOLVE_HOST;
		if (rc == CURLE_OK)
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
			    &status);
		else if (r->too_big)
			snprintf(err, sizeof(err), "reply body larger than %zu "
			    "bytes", r->body.max);
		else
			snprintf(err, sizeof(err), "%s",
			    r->errbuf[0] != '\0' ? r->errbuf :
			    curl_easy_strerror(rc));
		/* The body is NUL-terminated for the caller. */
		if (buf_append(&r->body, "", 1) == -1)
			r->body.len = r->body.cap > 0 ? r->body.cap - 1 : 0;
		r->cb(r, rc == CURLE_OK ? status : 0,
		    r->body.data != NULL ? r->body.data : "",
		    buf_len(&r->body) > 0 ? buf_len(&r->body) - 1 : 0,
		    rc == CURLE_OK ? NULL : err, r->arg);
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		buf_free(&r->body);
		free(r);
	}
}

bool
httpc_unresolved(const struct httpc_req *r)
{
	return r->unresolved;
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpc_sock *s = CONTAINER(w, struct httpc_sock, io);
	struct httpc *h = s->h;
	int action = 0, running;

	(void)loop;
	if (revents & EV_READ)
		action |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	/* s may be freed inside: only h after this. */
	curl_multi_socket_action(h->multi, s->fd, action, &running);
	check_done(h);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpc *h = CONTAINER(w, struct httpc, timer);
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct httpc *h = userp;
	struct httpc_sock *s = socketp;
	int ev = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(h->loop, &s->io);
			curl_multi_assign(h->multi, fd, NULL);
			TAILQ_REMOVE(&h->socks, s, entry);
			free(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->h = h;
		s->fd = fd;
		ev_init(&s->io, io_cb);
		TAILQ_INSERT_TAIL(&h->socks, s, entry);
		curl_multi_assign(h->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= EV_WRITE;
	ev_io_stop(h->loop, &s->io);
	ev_io_set(&s->io, fd, ev);
	ev_io_start(h->loop, &s->io);
	return 0;
}

/* curl wants to be woken after timeout_ms (-1: never). */
static int
multi_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct httpc *h = userp;

	(void)m;
	ev_timer_stop(h->loop, &h->timer);
	if (timeout_ms >= 0) {
		/* Never act from inside curl: even 0 goes through the loop. */
		ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0);
		ev_timer_start(h->loop, &h->timer);
	}
	return 0;
}

struct httpc *
httpc_new(struct ev_loop *loop)
{
	static bool global;
	struct httpc *h;

	if (!global) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global = true;
	}
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	TAILQ_INIT(&h->reqs);
	TAILQ_INIT(&h->socks);
	ev_init(&h->timer, timer_cb);
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void
httpc_set_connect_timeout(struct httpc *h, int64_t ms)
{
	h->connect_ms = ms > 0 ? ms : 0;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct httpc_req *r = arg;
	size_t n = size * nmemb;

	/* One byte is kept for the NUL added at the end. */
	if (buf_len(&r->body) + n + 1 > r->body.max ||
	    buf_append(&r->body, p, n) == -1) {
		r->too_big = true;
		return 0;
	}
	return n;
}

static void
req_free(struct httpc_req *r)
{
	curl_multi_remove_handle(r->h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	buf_free(&r->body);
	free(r);
}

void
httpc_set_tls(struct httpc *h, const char *ca, const char *cert,
    const char *key, bool insecure)
{
	free(h->tls_ca);
	free(h->tls_cert);
	free(h->tls_key);
	h->tls_ca = ca != NULL && ca[0] != '\0' ? xstrdup(ca) : NULL;
	h->tls_cert = cert != NULL && cert[0] != '\0' ? xstrdup(cert) : NULL;
	h->tls_key = key != NULL && key[0] != '\0' ? xstrdup(key) : NULL;
	h->tls_insecure = insecure;
}

struct httpc_req *
httpc_get(struct httpc *h, const char *url, const char *accept,
    int64_t timeout_ms, size_t max_body, httpc_cb *cb, void *arg,
    char *err, size_t errlen)
{
	return httpc_request(h, "GET", url, accept, NULL, NULL, 0, timeout_ms,
	    max_body, cb, arg, err, errlen);
}

struct httpc_req *
httpc_request(struct httpc *h, const char *method, const char *url,
    const char *accept, const char *content_type, const void *body,
    size_t len, int64_t timeout_ms, size_t max_body, httpc_cb *cb,
    void *arg, char *err, size_t errlen)
{
	struct httpc_req *r;
	char *hdr;
	CURLMcode mc;

	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->cb = cb;
	r->arg = arg;
	buf_init(&r->body, 0, max_body + 1);
	if ((r->easy = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		buf_free(&r->body);
		free(r);
		return NULL;
	}
	if (accept != NULL) {
		hdr = xasprintf("Accept: %s", accept);
		r->hdrs = curl_slist_append(r->hdrs, hdr);
		free(hdr);
	}
	if (content_type != NULL) {
		hdr = xasprintf("Content-Type: %s", content_type);
		r->hdrs = curl_slist_append(r->hdrs, hdr);
		free(hdr);
	}
	if (r->hdrs != NULL)
		curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	if (strcmp(method, "POST") == 0) {
		/* COPYPOSTFIELDS: curl keeps its own copy of the body. */
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS,
		    body != NULL ? body : "");
	} else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	if (h->tls_ca != NULL)
		curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->tls_ca);
	if (h->tls_cert != NULL)
		curl_easy_setopt(r->easy, CURLOPT_SSLCERT, h->tls_cert);
	if (h->tls_key != NULL)
		curl_easy_setopt(r->easy, CURLOPT_SSLKEY, h->tls_key);
	if (h->tls_insecure) {
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(h->connect_ms > 0 && h->connect_ms < timeout_ms ?
	    h->connect_ms : timeout_ms));
	if ((mc = curl_multi_add_handle(h->multi, r->easy)) != CURLM_OK) {
		snprintf(err, errlen, "%s", curl_multi_strerror(mc));
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		buf_free(&r->body);
		free(r);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&h->reqs, r, entry);
	return r;
}

void
httpc_cancel(struct httpc_req *r)
{
	TAILQ_REMOVE(&r->h->reqs, r, entry);
	req_free(r);
}

void
httpc_free(struct httpc *h)
{
	struct httpc_req *r;
	struct httpc_sock *s;

	if (h == NULL)
		return;
	while ((r = TAILQ_FIRST(&h->reqs)) != NULL)
		httpc_cancel(r);
	ev_timer_stop(h->loop, &h->timer);
	curl_multi_cleanup(h->multi);
	free(h->tls_ca);
	free(h->tls_cert);
	free(h->tls_key);
	/* Watchers of sockets curl closed without telling. */
	while ((s = TAILQ_FIRST(&h->socks)) != NULL) {
		TAILQ_REMOVE(&h->socks, s, entry);
		ev_io_stop(h->loop, &s->io);
		free(s);
	}
	free(h);
}
