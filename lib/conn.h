/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * One client connection to nsqd on a libev loop, shared by the producer
 * and the consumer: non-blocking connect with dial_timeout, the "  V2"
 * magic, IDENTIFY with feature negotiation, then as go-nsq the upgrades
 * nsqd agreed to (TLS, then snappy or deflate, each confirmed by an OK
 * read through the new layer) and AUTH when nsqd asks for it (the AUTH
 * reply in conn_ident), NOP for every heartbeat, read and write
 * deadlines, a bounded input buffer read frame by frame and an output
 * buffer written while it holds data.  The owner appends commands to conn_out() and calls conn_flush().
 */
#ifndef NSQ_CONN_H
#define NSQ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

struct buf;
struct conn;
struct frame;
struct nsq_config;

/* What nsqd said about itself in its IDENTIFY reply. */
struct conn_ident {
	int64_t	max_rdy_count;		/* 2500 if not negotiated */
	int64_t	msg_timeout_ms;		/* 0 if not negotiated */
	int64_t	max_msg_timeout_ms;
	bool	auth_required;
	bool	tls_v1;			/* the upgrades nsqd agreed to */
	bool	snappy;
	bool	deflate;
	int64_t	deflate_level;
	char	version[32];
	/* The AUTH reply, when there was one. */
	char	identity[128];
	char	identity_url[256];
	int64_t	permission_count;
};

/*
 * Apply nsqd's IDENTIFY reply data[0, len) to id: "OK" (nsqd negotiated
 * nothing) leaves it as it is, a JSON object sets the fields it carries
 * (others and ill-typed values are ignored).  0, or -1 when it is neither.
 * Exposed for tests/fuzz/fuzz_json_replies.c; conn uses it on the first
 * response frame.
 */
int	conn_parse_identify(struct conn_ident *, const void *data, size_t len);
/* The same for the AUTH reply (identity, identity_url, permission_count). */
int	conn_parse_auth(struct conn_ident *, const void *data, size_t len);

struct conn_cb {
	/* IDENTIFY (and AUTH) done: commands may be sent. */
	void	(*ready)(struct conn *, void *arg);
	/* Every frame after ready, heartbeats excepted. */
	void	(*frame)(struct conn *, const struct frame *, void *arg);
	/*
	 * Called once, from its own timer, after conn_close() or any
	 * failure; why says what happened.  The owner may conn_free() here.
	 */
	void	(*closed)(struct conn *, const char *why, void *arg);
};

/* A connection to addr, not started; the config is referenced, not copied. */
struct conn *conn_new(struct ev_loop *, const char *addr,
	    const struct nsq_config *, const struct conn_cb *, void *arg);
/* Start connecting; every failure, even a bad address, comes as closed. */
void	conn_connect(struct conn *);
/* The output buffer, for the frame_*() encoders. */
struct buf *conn_out(struct conn *);
/* Write what conn_out() holds, as the socket takes it. */
void	conn_flush(struct conn *);
/* Close now (unwritten output is dropped); closed() follows. */
void	conn_close(struct conn *, const char *why);
/* Close once the output buffer is written (or the write deadline passes). */
void	conn_shutdown(struct conn *, const char *why);
/* Release; safe from inside the conn's own callbacks, and on NULL. */
void	conn_free(struct conn *);
bool	conn_ready(const struct conn *);
/* Whether the connect failed because the host name does not resolve. */
bool	conn_unresolved(const struct conn *);
/* Whether IDENTIFY ever succeeded (a drop rather than a failed attempt). */
bool	conn_was_ready(const struct conn *);
const struct conn_ident *conn_ident(const struct conn *);
/* Bytes waiting in the output buffer. */
size_t	conn_out_len(const struct conn *);

#endif
