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
 * Start GET url with an Accept header (or NULL), a whole-request timeout
 * (which also bounds the connect) and a body limit.  NULL with err if
 * curl refuses to start it.
 */
struct httpc_req *httpc_get(struct httpc *h, const char *url,
	    const char *accept, int64_t timeout_ms, size_t max_body,
	    httpc_cb *cb, void *arg, char *err, size_t errlen);
/*
 * httpc_get with a method ("GET", "POST", "DELETE", ...) and an optional
 * request body (copied; content_type NULL sends none).  A POST without
 * a body sends Content-Length: 0, as Go's http.Client.
 */
struct httpc_req *httpc_request(struct httpc *h, const char *method,
	    const char *url, const char *accept, const char *content_type,
	    const void *body, size_t len, int64_t timeout_ms, size_t max_body,
	    httpc_cb *cb, void *arg, char *err, size_t errlen);
/*
 * TLS for the https requests started after: a CA file, a client
 * certificate and key (PEM paths, NULL or "" for none), and whether to
 * skip verifying the server's certificate and name.  The strings are
 * copied.
 */
void	httpc_set_tls(struct httpc *, const char *ca, const char *cert,
	    const char *key, bool insecure);
/* In its callback: whether the request failed on the host name. */
bool	httpc_unresolved(const struct httpc_req *);
/* Drop a running request; its callback will not run. */
void	httpc_cancel(struct httpc_req *);

#endif
