/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * Sockets: listening on NSQ-style addresses and naming peers.
 * An address is "host:port", ":port", "[v6]:port", or a Unix socket path
 * (anything containing a '/').
 */
#ifndef NSQ_NET_H
#define NSQ_NET_H

#include <stddef.h>

/*
 * A non-blocking, close-on-exec listening socket with SO_REUSEADDR (a
 * daemon restarted at once after SIGKILL gets its port back); -1 with err.
 */
int	net_listen(const char *addr, char *err, size_t errlen);
/*
 * Split "host:port" into host (brackets removed; "" for ":port") and port;
 * -1 when malformed.
 */
int	net_split_hostport(const char *addr, char *host, size_t hostlen,
	    int *port);
/* The port a socket is bound to (-1 for Unix sockets). */
int	net_local_port(int fd);
/* "ip:port" of the peer (or of the socket itself when local is set). */
void	net_addr_str(int fd, int local, char *out, size_t outlen);
int	net_set_nonblock(int fd);
/*
 * What a listening socket is bound to, for logs: "ip:port" (the real port
 * when ":0" was asked), or the configured name for a Unix socket.
 */
const char *net_bound_name(int fd, const char *configured, char *out,
	    size_t outlen);
/*
 * A non-blocking TCP connect in progress (or done); -1 with err, and with
 * errno ENOENT when the host name does not resolve (no such host here).
 */
int	net_connect(const char *addr, char *err, size_t errlen);

#endif
