/*
 * The connection layer of nsqd's TCP port (tcp.c): what nsqd.c's accept
 * and tick call.  A connection owns its fd, buffers, TLS and compression
 * layers and timers, and hands plain bytes to the V2 engine (v2.h);
 * everyone else reaches it through the client interface (client.h).
 */
#ifndef NSQD_TCP_H
#define NSQD_TCP_H

#include "client.h"

/* A new client on an accepted, non-blocking fd (taken over). */
void	 client_accept(struct nsqd *, int fd);
/* Called by the tick for a closed client: leave the channel, free. */
void	 client_free(struct client *);

#endif
