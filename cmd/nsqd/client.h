/*
 * The client interface: all that the broker core (channel.c, topic.c,
 * nsqd.c) and the V2 engine (v2.c) may ask of a client's connection.
 * The connection layer (tcp.c) implements it over a socket, with its
 * TLS and compression layers and its timers; the unit tests and the
 * fuzzer implement it over plain buffers.  Nothing here knows of
 * sockets, so the broker and the engine never call into tcp.c.
 *
 * The broker uses ready, send_message, close and flush (through the
 * wrappers below); the rest is the engine's.
 */
#ifndef NSQD_CLIENT_H
#define NSQD_CLIENT_H

#include <stdbool.h>

#include "nsqd.h"

struct client_ops {
	/* Whether the client can take one more message now. */
	bool	(*ready)(const struct client *);
	/* Write an in-flight copy's frame (at the tick, or at once). */
	void	(*send_message)(struct client *, struct cmsg *);
	/* Begin closing; the client is freed later, never meanwhile. */
	void	(*close)(struct client *, const char *why);
	/* Write what is buffered now. */
	void	(*flush)(struct client *);
	/* Where frames go, before any compression or TLS. */
	struct buf *(*frames)(struct client *);
	/* Frames were appended: write them at the tick. */
	void	(*queued)(struct client *);
	/* Read nothing more (input ended, or a fatal error waits). */
	void	(*hold)(struct client *);
	/*
	 * heartbeat_ns was set: (re)start the heartbeat; with deadline,
	 * also make the read deadline two heartbeats (none when 0).
	 */
	void	(*heartbeat)(struct client *, bool deadline);
	/*
	 * IDENTIFY: begin a TLS handshake, then compression cz (an enum
	 * cz_kind, or -1 for none) at that level; -1 on failure.
	 */
	int	(*start_tls)(struct client *, int cz, int level);
	/* IDENTIFY: compress both ways from now on; -1 on failure. */
	int	(*start_compression)(struct client *, int cz, int level);
	/*
	 * The layers just changed: what is left in c->in came in through
	 * none of them, so pass it through them again.
	 */
	void	(*reread)(struct client *);
	/*
	 * c->in lacks a whole command: decompress more of what was read
	 * into it, a bounded step (never past c->in's maximum); how many
	 * bytes it added.  NULL: c->in is all there is.
	 */
	size_t	(*refill)(struct client *);
	/*
	 * AUTH, or an authorization past its TTL: query the auth servers
	 * with c->auth_secret, holding the client's input meanwhile; the
	 * answer comes back through v2_auth_done, from the loop.  -1 when
	 * no query could start.
	 */
	int	(*auth_query)(struct client *);
};

static inline bool
client_ready(const struct client *c)
{
	return c->ops->ready(c);
}

static inline void
client_send_message(struct client *c, struct cmsg *m)
{
	c->ops->send_message(c, m);
}

static inline void
client_close(struct client *c, const char *why)
{
	c->ops->close(c, why);
}

static inline void
client_flush(struct client *c)
{
	c->ops->flush(c);
}

#endif
