/*
 * Unit tests for lib/net: host:port splitting (good and malformed
 * addresses), TCP listeners on loopback (ephemeral port, flags, connect
 * and accept, naming both ends, rebinding a port left in TIME_WAIT) and
 * Unix socket listeners in a temporary directory.  Every wait is a
 * poll(2) with a deadline.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "net.h"

#define WAIT_MS	5000

static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_true(p.revents & (events | POLLHUP | POLLERR));
}

/* Accept one pending connection on a non-blocking listener. */
static int
accept_one(int lfd)
{
	int fd;

	wait_fd(lfd, POLLIN);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd != -1);
	return fd;
}

/* Connect to 127.0.0.1:port and finish the non-blocking connect. */
static int
connect_port(int port)
{
	char addr[32], err[256] = "";
	socklen_t len = sizeof(int);
	int fd, soerr = -1;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	fd = net_connect(addr, err, sizeof(err));
	assert_true(fd != -1);
	wait_fd(fd, POLLOUT);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len),
	    0);
	assert_int_equal(soerr, 0);
	return fd;
}

/* ---- net_split_hostport ---- */

static void
test_split(void **state)
{
	static const struct {
		const char	*addr;
		int		 rc;
		const char	*host;
		int		 port;
	} cases[] = {
		{ "h:1", 0, "h", 1 },
		{ ":4150", 0, "", 4150 },
		{ "[::1]:80", 0, "::1", 80 },
		{ "127.0.0.1:4150", 0, "127.0.0.1", 4150 },
		{ "0.0.0.0:0", 0, "0.0.0.0", 0 },
		{ "h:65535", 0, "h", 65535 },
		{ "[]:80", 0, "", 80 },
		{ "[fe80::1%eth0]:4151", 0, "fe80::1%eth0", 4151 },
		{ "host.example.com:007", 0, "host.example.com", 7 },
		{ "[::1]", -1, NULL, 0 },
		{ "h", -1, NULL, 0 },
		{ "h:", -1, NULL, 0 },
		{ ":", -1, NULL, 0 },
		{ "", -1, NULL, 0 },
		{ "h:99999", -1, NULL, 0 },
		{ "h:65536", -1, NULL, 0 },
		{ "h:-1", -1, NULL, 0 },
		{ "h:12x", -1, NULL, 0 },
		{ "h:x12", -1, NULL, 0 },
		{ "h: 1", -1, NULL, 0 },
		{ "h:\t1", -1, NULL, 0 },
		{ "h:+1", -1, NULL, 0 },
		{ "h:1 ", -1, NULL, 0 },
		{ "h:99999999999999999999999", -1, NULL, 0 },
		{ "[::1]x:80", -1, NULL, 0 },
		{ "[::1:80", -1, NULL, 0 },
		{ "[::1]:", -1, NULL, 0 },
		{ "[::1]:8o", -1, NULL, 0 },
	};
	char host[64];
	size_t i;
	int port, rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = -7;
		rc = net_split_hostport(cases[i].addr, host, sizeof(host),
		    &port);
		if (rc != cases[i].rc)
			fail_msg("\"%s\": got %d, want %d", cases[i].addr,
			    rc, cases[i].rc);
		if (rc == 0) {
			assert_string_equal(host, cases[i].host);
			assert_int_equal(port, cases[i].port);
		} else
			assert_int_equal(port, -7);	/* untouched */
	}
}

/* A host that does not fit the caller's buffer fails; one that fits works. */
static void
test_split_hostlen(void **state)
{
	char host[4];
	int port;

	(void)state;
	assert_int_equal(net_split_hostport("abc:1", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "abc");
	assert_int_equal(net_split_hostport("abcd:1", host, sizeof(host),
	    &port), -1);
	assert_int_equal(net_split_hostport("[abcd]:1", host, sizeof(host),
	    &port), -1);
}

/* ---- TCP listeners ---- */

static void
test_listen_connect(void **state)
{
	char err[256] = "", want[64], got[64];
	int lfd, cfd, afd, port, cport, fl;
	char byte = 0;

	(void)state;
	lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(lfd != -1);
	assert_string_equal(err, "");
	port = net_local_port(lfd);
	assert_in_range(port, 1, 65535);
	/* Non-blocking and close-on-exec, with SO_REUSEADDR. */
	fl = fcntl(lfd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	{
		int one = 0;
		socklen_t len = sizeof(one);

		assert_int_equal(getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR,
		    &one, &len), 0);
		assert_int_equal(one, 1);
	}
	/* Nobody waiting: accept would block, not hang. */
	assert_int_equal(accept(lfd, NULL, NULL), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	net_addr_str(lfd, 1, got, sizeof(got));
	assert_string_equal(got, want);

	cfd = connect_port(port);
	afd = accept_one(lfd);
	cport = net_local_port(cfd);
	assert_in_range(cport, 1, 65535);
	assert_true(cport != port);
	/* Each end names the other. */
	net_addr_str(cfd, 0, got, sizeof(got));
	assert_string_equal(got, want);
	snprintf(want, sizeof(want), "127.0.0.1:%d", cport);
	net_addr_str(afd, 0, got, sizeof(got));
	assert_string_equal(got, want);
	net_addr_str(cfd, 1, got, sizeof(got));
	assert_string_equal(got, want);
	assert_int_equal(net_local_port(afd), port);
	/* And bytes flow. */
	assert_int_equal(write(cfd, "x", 1), 1);
	wait_fd(afd, POLLIN);
	assert_int_equal(read(afd, &byte, 1), 1);
	assert_int_equal(byte, 'x');
	close(afd);
	close(cfd);
	close(lfd);
}

/* ":0" listens on every address; the port is still reported. */
static void
test_listen_any(void **state)
{
	char err[256] = "";
	int lfd, cfd, afd, port;

	(void)state;
	lfd = net_listen(":0", err, sizeof(err));
	assert_true(lfd != -1);
	port = net_local_port(lfd);
	assert_in_range(port, 1, 65535);
	cfd = connect_port(port);
	afd = accept_one(lfd);
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * A port whose server side closed first sits in TIME_WAIT; a plain bind
 * is refused, but net_listen (SO_REUSEADDR) gets it back at once.  While
 * a listener holds the port, a second one fails with a message.
 */
static void
test_listen_reuse(void **state)
{
	struct sockaddr_in sin;
	char err[256] = "", addr[32], c;
	int lfd, lfd2, cfd, afd, port, plain;

	(void)state;
	lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(lfd != -1);
	port = net_local_port(lfd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	/* The port is taken while lfd listens. */
	lfd2 = net_listen(addr, err, sizeof(err));
	assert_int_equal(lfd2, -1);
	assert_non_null(strstr(err, "listen tcp 127.0.0.1:"));
	assert_non_null(strstr(err, strerror(EADDRINUSE)));

	cfd = connect_port(port);
	afd = accept_one(lfd);
	close(afd);			/* server closes first */
	wait_fd(cfd, POLLIN);
	assert_int_equal(read(cfd, &c, 1), 0);	/* EOF */
	close(cfd);
	close(lfd);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	plain = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(plain != -1);
	assert_int_equal(bind(plain, (struct sockaddr *)&sin, sizeof(sin)),
	    -1);
	assert_int_equal(errno, EADDRINUSE);
	close(plain);

	err[0] = '\0';
	lfd2 = net_listen(addr, err, sizeof(err));
	assert_true(lfd2 != -1);
	assert_int_equal(net_local_port(lfd2), port);
	close(lfd2);
}

static void
test_listen_bad(void **state)
{
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(net_listen("h", err, sizeof(err)), -1);
	assert_string_equal(err, "invalid address h (want host:port)");
	err[0] = '\0';
	assert_int_equal(net_listen("127.0.0.1:99999", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid address"));
	err[0] = '\0';
	assert_int_equal(net_connect("127.0.0.1:", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid address"));
}

/* IPv6 loopback, when the machine has it: "[::1]:port" both ways. */
static void
test_listen_v6(void **state)
{
	char err[256] = "", want[64], got[64];
	int lfd, port;

	(void)state;
	lfd = net_listen("[::1]:0", err, sizeof(err));
	if (lfd == -1) {
		/* No IPv6 here (some containers): nothing to test. */
		print_message("# skipped: %s\n", err);
		return;
	}
	port = net_local_port(lfd);
	assert_in_range(port, 1, 65535);
	snprintf(want, sizeof(want), "[::1]:%d", port);
	net_addr_str(lfd, 1, got, sizeof(got));
	assert_string_equal(got, want);
	close(lfd);
}

/* Names of things that are not inet sockets, and short buffers. */
static void
test_addr_str_odd(void **state)
{
	char err[256] = "", got[64];
	int fds[2], lfd;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	net_addr_str(fds[0], 0, got, sizeof(got));
	assert_string_equal(got, "?");
	net_addr_str(fds[0], 1, got, sizeof(got));
	assert_string_equal(got, "?");
	assert_int_equal(net_local_port(fds[0]), -1);
	close(fds[0]);
	close(fds[1]);

	lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(lfd != -1);
	memset(got, '#', sizeof(got));
	net_addr_str(lfd, 1, got, 5);		/* truncated, terminated */
	assert_string_equal(got, "127.");
	assert_int_equal(got[5], '#');
	net_addr_str(lfd, 0, got, sizeof(got));	/* no peer */
	assert_string_equal(got, "?");
	close(lfd);
}

/* ---- Unix sockets ---- */

static void
test_listen_unix(void **state)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[] = "/tmp/test_net.XXXXXX", path[256], other[256];
	char err[256] = "", got[64], longp[300];
	int lfd, cfd, afd, fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nsqd.sock", dir);
	lfd = net_listen(path, err, sizeof(err));
	assert_true(lfd != -1);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_true(fcntl(lfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(lfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(net_local_port(lfd), -1);
	net_addr_str(lfd, 1, got, sizeof(got));
	assert_string_equal(got, "@");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(cfd != -1);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	afd = accept_one(lfd);
	net_addr_str(afd, 0, got, sizeof(got));
	assert_string_equal(got, "@");
	assert_int_equal(net_local_port(afd), -1);
	close(afd);
	close(cfd);
	close(lfd);

	/* The socket file stays behind; listening again replaces it. */
	assert_int_equal(stat(path, &st), 0);
	lfd = net_listen(path, err, sizeof(err));
	assert_true(lfd != -1);
	close(lfd);
	assert_int_equal(unlink(path), 0);

	/* A regular file in the way is an error, and is left alone. */
	snprintf(other, sizeof(other), "%s/data.dat", dir);
	fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	err[0] = '\0';
	assert_int_equal(net_listen(other, err, sizeof(err)), -1);
	assert_non_null(strstr(err, other));
	assert_int_equal(stat(other, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 4);
	assert_int_equal(unlink(other), 0);

	/* A missing directory. */
	snprintf(other, sizeof(other), "%s/nope/x.sock", dir);
	err[0] = '\0';
	assert_int_equal(net_listen(other, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ENOENT)));

	/* Longer than sun_path. */
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	err[0] = '\0';
	assert_int_equal(net_listen(longp, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unix socket path too long"));

	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_hostlen),
		cmocka_unit_test(test_listen_connect),
		cmocka_unit_test(test_listen_any),
		cmocka_unit_test(test_listen_reuse),
		cmocka_unit_test(test_listen_bad),
		cmocka_unit_test(test_listen_v6),
		cmocka_unit_test(test_addr_str_odd),
		cmocka_unit_test(test_listen_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
