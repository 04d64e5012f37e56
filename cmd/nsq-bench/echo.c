/*
 * The floor under a request/response round trip: "echo" listens on
 * --nsqd-tcp-address and speaks just enough of TCP protocol V2 for a
 * writer to run against it.  It takes the "  V2" magic, answers IDENTIFY,
 * PUB, MPUB and DPUB with a bare OK frame, ignores NOP, and does nothing
 * else: no topics, no queues, no timers per client.
 *
 * It serves as a real server would, one read per readiness: every
 * complete command of what the read brought is answered, then all the
 * answers go out in one write.  What such a process costs per PUB on a
 * machine (its utime+stime over a writer's run) is what the kernel's
 * wakeups and socket calls cost, the least any broker can pay; bench/run.sh
 * prints nsqd's PUB figures as multiples of it.
 *
 * It runs until SIGTERM or SIGINT, or for --runfor at most, and then
 * prints the messages it acknowledged (timed from the first to the last).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "xmalloc.h"

#define ECHO_IN_CAP	(64 * 1024)
#define ECHO_OUT_MAX	(16 * 1024 * 1024)
#define ECHO_LINE_MAX	1024	/* a command line longer than this is bad */

struct echo {
	struct ev_loop	*loop;
	int		 lfd;
	ev_io		 accept_w;
	ev_timer	 life;
	ev_signal	 term;
	ev_signal	 intr;
	uint64_t	 conns;
	uint64_t	 msgs;
	uint64_t	 bytes;
	int64_t		 t_first;
	int64_t		 t_last;
};

struct echo_conn {
	struct echo	*e;
	int		 fd;
	bool		 magic;		/* "  V2" has come */
	ev_io		 rd;
	ev_io		 wr;
	struct buf	 in;
	struct buf	 out;
};

enum echo_kind {
	EK_IDENTIFY,
	EK_PUB,		/* PUB and DPUB: one message */
	EK_MPUB,
	EK_NOP,
};

/* The commands answered, by the word before the first space or '\n'. */
static const struct {
	const char	*name;
	enum echo_kind	 kind;
	bool		 body;
} echo_cmds[] = {
	{ "IDENTIFY", EK_IDENTIFY, true },
	{ "PUB", EK_PUB, true },
	{ "DPUB", EK_PUB, true },
	{ "MPUB", EK_MPUB, true },
	{ "NOP", EK_NOP, false },
};

static const char ok_frame[] = { 0, 0, 0, 6, 0, 0, 0, FRAME_RESPONSE,
	'O', 'K' };

static void
echo_conn_close(struct echo_conn *ec)
{
	ev_io_stop(ec->e->loop, &ec->rd);
	ev_io_stop(ec->e->loop, &ec->wr);
	close(ec->fd);
	buf_free(&ec->in);
	buf_free(&ec->out);
	free(ec);
}

/* A command echo does not know: an error frame as nsqd's, then close. */
static void
echo_reject(struct echo_conn *ec, const char *line, size_t len)
{
	char frame[128];
	const char *nl = memchr(line, '\n', len);
	int n;

	if (nl != NULL)
		len = (size_t)(nl - line);
	n = snprintf(frame + 8, sizeof(frame) - 8,
	    "E_INVALID invalid command %.*s", (int)(len < 32 ? len : 32),
	    line);
	if (n > (int)sizeof(frame) - 9)
		n = (int)sizeof(frame) - 9;
	be32enc(frame, (uint32_t)n + 4);
	be32enc(frame + 4, FRAME_ERROR);
	(void)write(ec->fd, frame, (size_t)n + 8);
	echo_conn_close(ec);
}

/*
 * One command from p (len bytes buffered): bytes consumed, 0 for more,
 * -1 for a command to reject.  An answer is queued on ec->out.
 */
static ssize_t
echo_command(struct echo_conn *ec, const char *p, size_t len)
{
	struct echo *e = ec->e;
	const char *nl;
	size_t line, word, need = 0, i;
	uint32_t size = 0, n;

	nl = memchr(p, '\n', len < ECHO_LINE_MAX ? len : ECHO_LINE_MAX);
	if (nl == NULL)
		return len < ECHO_LINE_MAX ? 0 : -1;
	line = (size_t)(nl - p) + 1;
	for (word = 0; word < line - 1 && p[word] != ' '; word++)
		;
	for (i = 0; i < sizeof(echo_cmds) / sizeof(echo_cmds[0]); i++)
		if (strlen(echo_cmds[i].name) == word &&
		    memcmp(p, echo_cmds[i].name, word) == 0)
			break;
	if (i == sizeof(echo_cmds) / sizeof(echo_cmds[0]))
		return -1;
	if (echo_cmds[i].body) {
		if (len < line + 4)
			return 0;
		size = be32dec(p + line);
		if (size > MAX_FRAME)
			return -1;
		need = 4 + (size_t)size;
		if (len - line < need)
			return 0;
	}
	switch (echo_cmds[i].kind) {
	case EK_NOP:
		return (ssize_t)line;
	case EK_IDENTIFY:
		break;
	case EK_PUB:
		e->msgs++;
		e->bytes += size;
		break;
	case EK_MPUB:
		if (size < 4)
			return -1;
		n = be32dec(p + line + 4);
		if (4 + 4 * (uint64_t)n > size)
			return -1;
		e->msgs += n;
		e->bytes += size - 4 - 4 * (uint64_t)n;
		break;
	}
	if (echo_cmds[i].kind != EK_IDENTIFY) {
		e->t_last = mono_ns();
		if (e->t_first == 0)
			e->t_first = e->t_last;
	}
	if (buf_append(&ec->out, ok_frame, sizeof(ok_frame)) == -1)
		return -1;
	return (ssize_t)(line + need);
}

/* Write what is queued; the write watcher runs only while some remains. */
static int
echo_flush(struct echo_conn *ec)
{
	ssize_t n;

	while (buf_len(&ec->out) > 0) {
		n = buf_write_fd(&ec->out, ec->fd);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -1;
		}
	}
	buf_compact(&ec->out);
	if (buf_len(&ec->out) > 0)
		ev_io_start(ec->e->loop, &ec->wr);
	else
		ev_io_stop(ec->e->loop, &ec->wr);
	return 0;
}

static void
echo_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct echo_conn *ec = w->data;

	(void)loop;
	(void)revents;
	if (echo_flush(ec) == -1)
		echo_conn_close(ec);
}

static void
echo_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct echo_conn *ec = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = buf_read_fd(&ec->in, ec->fd);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		echo_conn_close(ec);
		return;
	}
	if (!ec->magic) {
		if (buf_len(&ec->in) < 4)
			return;
		if (memcmp(buf_data(&ec->in), "  V2", 4) != 0) {
			echo_reject(ec, buf_data(&ec->in), 4);
			return;
		}
		buf_consume(&ec->in, 4);
		ec->magic = true;
	}
	while (buf_len(&ec->in) > 0) {
		n = echo_command(ec, buf_data(&ec->in), buf_len(&ec->in));
		if (n == 0)
			break;
		if (n == -1) {
			echo_reject(ec, buf_data(&ec->in), buf_len(&ec->in));
			return;
		}
		buf_consume(&ec->in, (size_t)n);
	}
	buf_compact(&ec->in);
	if (echo_flush(ec) == -1)
		echo_conn_close(ec);
}

static void
echo_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct echo *e = w->data;
	struct echo_conn *ec;
	int fd, one = 1;

	(void)revents;
	fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		err(1, "accept");
	}
	/* As nsqd does: each OK goes out at once. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ec = xcalloc(1, sizeof(*ec));
	ec->e = e;
	ec->fd = fd;
	buf_init(&ec->in, ECHO_IN_CAP, MAX_FRAME + ECHO_LINE_MAX + 4);
	buf_init(&ec->out, 4096, ECHO_OUT_MAX);
	ev_io_init(&ec->rd, echo_read_cb, fd, EV_READ);
	ev_io_init(&ec->wr, echo_write_cb, fd, EV_WRITE);
	ec->rd.data = ec;
	ec->wr.data = ec;
	ev_io_start(loop, &ec->rd);
	e->conns++;
}

static void
echo_end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
echo_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int
echo_main(const struct bench_opts *o)
{
	struct echo e;
	char errbuf[256];

	memset(&e, 0, sizeof(e));
	if ((e.lfd = net_listen(o->addr, errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	e.loop = ev_default_loop(EVFLAG_AUTO);
	ev_io_init(&e.accept_w, echo_accept_cb, e.lfd, EV_READ);
	e.accept_w.data = &e;
	ev_io_start(e.loop, &e.accept_w);
	ev_timer_init(&e.life, echo_end_cb, (double)o->runfor / 1e9, 0);
	ev_timer_start(e.loop, &e.life);
	ev_signal_init(&e.term, echo_signal_cb, SIGTERM);
	ev_signal_start(e.loop, &e.term);
	ev_signal_init(&e.intr, echo_signal_cb, SIGINT);
	ev_signal_start(e.loop, &e.intr);
	ev_run(e.loop, 0);
	/* Connections still open are left to exit(3). */
	printf("mode=echo conns=%llu ", (unsigned long long)e.conns);
	print_rates(e.msgs, e.bytes, e.t_last - e.t_first);
	printf("\n");
	fflush(stdout);
	close(e.lfd);
	return 0;
}
