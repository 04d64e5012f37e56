/*
 * Socket helpers shared by the daemons and the client library.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

int
net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
net_split_hostport(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *colon, *h = addr;
	size_t hl;
	char *end;
	long p;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		h = addr + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - addr);
	}
	if (hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	/* Digits only: strtol alone would take " 80" and "+80". */
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	/* Replace a stale socket, but never delete anything else. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 1024) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "listen %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

int
net_listen(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], portstr[16];
	int port, fd = -1, one = 1, r;

	if (strchr(addr, '/') != NULL)
		return listen_unix(addr, err, errlen);
	if (net_split_hostport(addr, host, sizeof(host), &port) == -1) {
		snprintf(err, errlen, "invalid address %s (want host:port)",
		    addr);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	r = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "listen %s: %s", addr, gai_strerror(r));
		return -1;
	}
	errno = EADDRNOTAVAIL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		r = errno;
		close(fd);
		errno = r;
		fd = -1;
	}
	if (fd == -1)
		snprintf(err, errlen, "listen tcp %s: %s", addr,
		    strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int
net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

void
net_addr_str(int fd, int local, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int r;

	r = local ? getsockname(fd, (struct sockaddr *)&ss, &len) :
	    getpeername(fd, (struct sockaddr *)&ss, &len);
	if (r == -1) {
		snprintf(out, outlen, "?");
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%d", ip, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%d", ip, ntohs(sin6->sin6_port));
	} else
		snprintf(out, outlen, "@");
}

int
net_connect(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], portstr[16];
	int port, fd = -1, one = 1, r;

	if (net_split_hostport(addr, host, sizeof(host), &port) == -1) {
		snprintf(err, errlen, "invalid address %s (want host:port)",
		    addr);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host[0] ? host : "127.0.0.1", portstr, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "dial %s: %s", addr, gai_strerror(r));
		errno = r == EAI_NONAME || r == EAI_NODATA || r == EAI_AGAIN ||
		    r == EAI_FAIL ? ENOENT : EIO;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS)
			break;
		r = errno;
		close(fd);
		errno = r;
		fd = -1;
	}
	if (fd == -1)
		snprintf(err, errlen, "dial %s: %s", addr, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

const char *
net_bound_name(int fd, const char *configured, char *out, size_t outlen)
{
	if (net_local_port(fd) < 0)
		return configured;
	net_addr_str(fd, 1, out, outlen);
	return out;
}
