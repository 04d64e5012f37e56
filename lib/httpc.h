/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * HTTP GET requests on a libev loop through libcurl's multi interface:
 * curl tells which sockets to watch and when to wake (its socket and
 * timer callbacks), libev watches them (one ev_io per socket, one
 * ev_timer) and hands every event back with curl_multi_socket_action().
 * Nothing blocks, several requests run at once, and each ends in exactly
 * one callback unless it is cancelled first.
 */
#ifndef NSQ_HTTPC_H
#define NSQ_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct httpc;
struct httpc_req;

/*
 * The end of a request.  status is the HTTP status (0 when there was no
 * reply, err then says why); body is NUL-terminated, len bytes, valid
 * only during the call.  The request is freed after the callback.
 */
typedef void	httpc_cb(struct httpc_req *, long status, const char *body,
		    size_t len, const char *err, void *arg);

struct httpc *httpc_new(struct ev_loop *);
/* Cancels every request without its callback. */
void	httpc_free(struct httpc *);
/*
 * A limit on connecting alone (ms, 0: none but the request's), for the
 * requests started after, as the Go tools' --http-client-connect-timeout
 * beside --http-client-request-timeout.
 */
void	httpc_set_connect_timeout(struct httpc *, int64_t ms);
/*
 * Follow up to max redirects (0: none, the default) in the requests
 * started after, as Go's http.Client follows 10: a 301, 302 or 303 turns
 * a POST into a GET, a 307 or 308 sends it again; http and https only.
 */
void	httpc_set_redirects(struct httpc *, long max);
/*
 * For https:// URLs started after: verify against this CA file (NULL or
 * "": the system's store), present this client certificate and key (both
 * or neither), or skip the checks (insecure).  Copied.
 */
void	httpc_set_tls(struct httpc *, const char *ca_file, const char *cert,
	    const char *key, bool insecure);
/* Send "Authorization: Bearer <secret>" (NULL or "": none).  Copied. */
void	httpc_set_bearer(struct httpc *, const char *secret);
/*
 * Both from a client configuration: its tls_root_ca_file, tls_cert,
 * tls_key, tls_insecure_skip_verify, and, when bearer is set, its
 * auth_secret.
 */
struct nsq_config;
void	httpc_use_config(struct httpc *, const struct nsq_config *,
	    bool bearer);
/*
 * Start GET url with an Accept header (or NULL), a whole-request timeout
 * (which also bounds the connect) and a body limit.  NULL with err if
 * curl refuses to start it.
 */
struct httpc_req *httpc_get(struct httpc *h, const char *url,
	    const char *accept, int64_t timeout_ms, size_t max_body,
	    httpc_cb *cb, void *arg, char *err, size_t errlen);
/* As max_body: read the reply's body and keep none of it. */
#define HTTPC_DISCARD	SIZE_MAX

/*
 * Any request: method ("GET", "POST"), extra header lines ("Name: value";
 * "Name:" removes one curl would add), and a body (copied; NULL for
 * none).  A timeout of 0 is none; the connect limit still applies.  The
 * rest as httpc_get.
 */
struct httpc_req *httpc_request(struct httpc *h, const char *method,
	    const char *url, const char *const *hdrs, size_t nhdrs,
	    const void *body, size_t len, int64_t timeout_ms, size_t max_body,
	    httpc_cb *cb, void *arg, char *err, size_t errlen);
/* In its callback: whether the request failed on the host name. */
bool	httpc_unresolved(const struct httpc_req *);
/* In its callback: whether the request ran out of time. */
bool	httpc_timed_out(const struct httpc_req *);
/* Drop a running request; its callback will not run. */
void	httpc_cancel(struct httpc_req *);

#endif
