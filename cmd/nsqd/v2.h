/*
 * nsqd's TCP protocol V2 engine (v2.c), kept apart from sockets: plain
 * bytes go in (c->in, then v2_input), frames come out through the client
 * interface (c->ops, client.h), and commands act on the broker.  The
 * connection layer (tcp.c), the unit tests and the fuzzer drive the same
 * engine.
 */
#ifndef NSQD_V2_H
#define NSQD_V2_H

#include <stdbool.h>

#include "client.h"

/* A line and its \n: Go nsqd's buffer. */
#define V2_MAX_LINE	16384

/*
 * Set the engine's part of a new client: defaults of Go's client (its
 * client_id and hostname are the host part of remote until IDENTIFY).
 * c->nsqd, c->ops, c->remote and c->in are the caller's, set before.
 */
void	 v2_init(struct client *, struct nsqd *, const struct client_ops *);
/* Handle the magic and then every whole command buffered in c->in. */
void	 v2_input(struct client *);
/*
 * The peer has sent its last byte: handle what is buffered (a command
 * cut short gets Go's error for the missing part), then close.
 */
void	 v2_input_end(struct client *);
/* After a group commit: answer the PUBs, go on with buffered input. */
void	 v2_synced(struct client *, bool ok);
/*
 * The auth servers answered c's query (c->ops->auth_query): st, now
 * the engine's, or NULL with the reasons in err (logged, never sent).
 * The command that waited is handled again, then the input after it.
 */
void	 v2_auth_done(struct client *, struct auth_state *st, const char *err);
/* Send a response frame (OK, _heartbeat_, ...). */
void	 v2_response(struct client *, const char *);
/* Whether the protocol lets the client take one more message. */
static inline bool
v2_ready(const struct client *c)
{
	return !c->dead && c->state == CLIENT_SUBSCRIBED &&
	    c->in_flight < c->rdy;
}

/* Append an in-flight copy's message frame to b; -1 when it is full. */
int	 v2_message_frame(struct buf *, const struct cmsg *)
	    __attribute__((warn_unused_result));
/* Leave the channel (its in-flight messages go back) and free. */
void	 v2_end(struct client *);

#endif
