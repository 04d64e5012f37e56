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
#include "config.h"
#include "httpc.h"
#include "xmalloc.h"

struct httpc_req {
	TAILQ_ENTRY(httpc_req)	 entry;
	struct httpc		*h;
	CURL			*easy;
	struct curl_slist	*hdrs;
	struct buf		 body;
	bool			 too_big;
	bool			 discard;	/* HTTPC_DISCARD */
	bool			 unresolved;	/* the host name */
	bool			 timed_out;
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
	long			 redirects;	/* most followed */
	char			*ca_file;	/* NULL: the system's store */
	char			*cert, *key;	/* client certificate */
	bool			 insecure;
	char			*bearer;	/* the whole header line */
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
		r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
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

bool
httpc_timed_out(const struct httpc_req *r)
{
	return r->timed_out;
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

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

void
httpc_set_tls(struct httpc *h, const char *ca_file, const char *cert,
    const char *key, bool insecure)
{
	free(h->ca_file);
	free(h->cert);
	free(h->key);
	h->ca_file = dup_or_null(ca_file);
	h->cert = dup_or_null(cert);
	h->key = dup_or_null(key);
	h->insecure = insecure;
}

void
httpc_set_bearer(struct httpc *h, const char *secret)
{
	free(h->bearer);
	h->bearer = secret != NULL && secret[0] != '\0' ?
	    xasprintf("Authorization: Bearer %s", secret) : NULL;
}

void
httpc_use_config(struct httpc *h, const struct nsq_config *c, bool bearer)
{
	httpc_set_tls(h, c->tls_root_ca_file, c->tls_cert, c->tls_key,
	    c->tls_insecure_skip_verify);
	httpc_set_bearer(h, bearer ? c->auth_secret : NULL);
}

void
httpc_set_connect_timeout(struct httpc *h, int64_t ms)
{
	h->connect_ms = ms > 0 ? ms : 0;
}

void
httpc_set_redirects(struct httpc *h, long max)
{
	h->redirects = max > 0 ? max : 0;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct httpc_req *r = arg;
	size_t n = size * nmemb;

	if (r->discard)
		return n;
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

struct httpc_req *
httpc_get(struct httpc *h, const char *url, const char *accept,
    int64_t timeout_ms, size_t max_body, httpc_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct httpc_req *r;
	char *hdr = NULL;

	if (accept != NULL)
		hdr = xasprintf("Accept: %s", accept);
	r = httpc_request(h, "GET", url, (const char *const *)&hdr,
	    hdr != NULL ? 1 : 0, NULL, 0, timeout_ms, max_body, cb, arg, err,
	    errlen);
	free(hdr);
	return r;
}

struct httpc_req *
httpc_request(struct httpc *h, const char *method, const char *url,
    const char *const *hdrs, size_t nhdrs, const void *body, size_t len,
    int64_t timeout_ms, size_t max_body, httpc_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct httpc_req *r;
	struct curl_slist *l;
	int64_t connect_ms;
	size_t i;
	CURLMcode mc;

	r = xcalloc(1, sizeof(*r));
	r->h = h;
	r->cb = cb;
	r->arg = arg;
	r->discard = max_body == HTTPC_DISCARD;
	buf_init(&r->body, 0, r->discard ? 1 : max_body + 1);
	if ((r->easy = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		buf_free(&r->body);
		free(r);
		return NULL;
	}
	for (i = 0; i < nhdrs; i++) {
		if ((l = curl_slist_append(r->hdrs, hdrs[i])) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		r->hdrs = l;
	}
	if (h->bearer != NULL) {
		if ((l = curl_slist_append(r->hdrs, h->bearer)) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		r->hdrs = l;
	}
	if (r->hdrs != NULL)
		curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	/* A POST without a body sends Content-Length: 0, as Go's client. */
	if (body != NULL || strcmp(method, "POST") == 0) {
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		if (curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS,
		    len > 0 ? body : "") != CURLE_OK) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (h->ca_file != NULL)
		curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->ca_file);
	if (h->cert != NULL && h->key != NULL) {
		curl_easy_setopt(r->easy, CURLOPT_SSLCERT, h->cert);
		curl_easy_setopt(r->easy, CURLOPT_SSLKEY, h->key);
	}
	if (h->insecure) {
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	if (h->redirects > 0) {
		curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(r->easy, CURLOPT_MAXREDIRS, h->redirects);
		curl_easy_setopt(r->easy, CURLOPT_REDIR_PROTOCOLS_STR,
		    "http,https");
	}
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS,
	    (long)(timeout_ms > 0 ? timeout_ms : 0));
	/* The shorter of the two limits; 0 leaves curl's own. */
	connect_ms = timeout_ms > 0 ? timeout_ms : 0;
	if (h->connect_ms > 0 && (connect_ms == 0 || h->connect_ms <
	    connect_ms))
		connect_ms = h->connect_ms;
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	if ((mc = curl_multi_add_handle(h->multi, r->easy)) != CURLM_OK) {
		snprintf(err, errlen, "%s", curl_multi_strerror(mc));
		goto fail;
	}
	TAILQ_INSERT_TAIL(&h->reqs, r, entry);
	return r;

fail:
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	buf_free(&r->body);
	free(r);
	return NULL;
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
	/* Watchers of sockets curl closed without telling. */
	while ((s = TAILQ_FIRST(&h->socks)) != NULL) {
		TAILQ_REMOVE(&h->socks, s, entry);
		ev_io_stop(h->loop, &s->io);
		free(s);
	}
	free(h->ca_file);
	free(h->cert);
	free(h->key);
	free(h->bearer);
	free(h);
}
