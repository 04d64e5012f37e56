/*
 * The physical ceiling: plain TCP throughput over loopback, with no broker.
 *
 * "sink" listens on --nsqd-tcp-address, reads and discards whatever
 * --connections senders send until all of them have closed, and prints
 * what it received.  "loopback" forks such a sink on a free loopback port
 * and sends it --batch-size * (--size + 4) byte writes (the bytes of one
 * MPUB's messages) for --runfor over --connections connections, then
 * prints the sink's figures: a sender process and a receiving process, as
 * nsq-bench and nsqd are, each with its core.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "net.h"
#include "xmalloc.h"

#define SINK_BUF	(1024 * 1024)
#define SINK_GRACE	(5 * NS_SEC)	/* past --runfor from the first byte */
#define READS_PER_CB	16

struct sink {
	struct ev_loop	*loop;
	int		 lfd;
	ev_io		 accept_w;
	ev_timer	 bound;
	int64_t		 want;		/* connections */
	int64_t		 accepted;
	int64_t		 open;
	int64_t		 runfor;
	uint64_t	 bytes;
	int64_t		 t_first;
	int64_t		 t_last;
	char		*buf;
};

struct sink_conn {
	ev_io		 rd;
	int		 fd;
	struct sink	*s;
};

static void
sink_bound_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	warnx("sink: senders still connected %lld s after --runfor; "
	    "stopping", (long long)(SINK_GRACE / NS_SEC));
	ev_break(loop, EVBREAK_ALL);
}

static void
sink_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink_conn *sc = w->data;
	struct sink *s = sc->s;
	ssize_t n = 0;

	(void)revents;
	for (int i = 0; i < READS_PER_CB; i++) {
		n = read(sc->fd, s->buf, SINK_BUF);
		if (n <= 0)
			break;
		if (s->t_first == 0) {
			s->t_first = mono_ns();
			ev_timer_init(&s->bound, sink_bound_cb,
			    (double)(s->runfor + SINK_GRACE) / 1e9, 0);
			ev_timer_start(loop, &s->bound);
		}
		s->bytes += (uint64_t)n;
		s->t_last = mono_ns();
	}
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)))
		return;
	ev_io_stop(loop, &sc->rd);
	close(sc->fd);
	free(sc);
	if (--s->open == 0 && s->accepted >= s->want)
		ev_break(loop, EVBREAK_ALL);
}

static void
sink_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink *s = w->data;
	struct sink_conn *sc;
	int fd;

	(void)revents;
	fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EAGAIN || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		err(1, "accept");
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->fd = fd;
	sc->s = s;
	ev_io_init(&sc->rd, sink_read_cb, fd, EV_READ);
	sc->rd.data = sc;
	ev_io_start(loop, &sc->rd);
	s->open++;
	if (++s->accepted >= s->want)
		ev_io_stop(loop, &s->accept_w);
}

/* Serve lfd until want senders have come and gone; bytes and ns. */
static void
sink_serve(int lfd, int64_t want, int64_t runfor, uint64_t *bytes,
    int64_t *ns)
{
	struct sink s;

	memset(&s, 0, sizeof(s));
	s.loop = ev_default_loop(EVFLAG_AUTO);
	s.lfd = lfd;
	s.want = want;
	s.runfor = runfor;
	s.buf = xmalloc(SINK_BUF);
	ev_io_init(&s.accept_w, sink_accept_cb, lfd, EV_READ);
	s.accept_w.data = &s;
	ev_io_start(s.loop, &s.accept_w);
	ev_run(s.loop, 0);
	*bytes = s.bytes;
	*ns = s.t_last - s.t_first;
	free(s.buf);
}

static void
print_line(const char *mode, const struct bench_opts *o, size_t chunk,
    uint64_t bytes, int64_t ns)
{
	double secs = (double)ns / 1e9;

	printf("mode=%s conns=%lld chunk=%zu ", mode, (long long)o->connections,
	    chunk);
	print_rates(bytes / (uint64_t)o->size, bytes, ns);
	printf(" bytes_s=%.0f\n", secs > 0 ? (double)bytes / secs : 0.0);
	fflush(stdout);
}

int
sink_main(const struct bench_opts *o)
{
	char errbuf[256];
	uint64_t bytes;
	int64_t ns;
	int lfd;

	if ((lfd = net_listen(o->addr, errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	sink_serve(lfd, o->connections, o->runfor, &bytes, &ns);
	print_line("sink", o, 0, bytes, ns);
	return 0;
}

struct sender {
	ev_io		 wr;
	int		 fd;
	bool		 connected;
};

static char	*chunk;
static size_t	 chunk_len;

static void
send_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sender *sd = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (!sd->connected) {
		socklen_t len = sizeof(int);
		int e = 0;

		getsockopt(sd->fd, SOL_SOCKET, SO_ERROR, &e, &len);
		if (e != 0)
			errx(1, "loopback connect: %s", strerror(e));
		sd->connected = true;
	}
	for (int i = 0; i < READS_PER_CB; i++) {
		n = write(sd->fd, chunk, chunk_len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			err(1, "loopback write");
		}
	}
}

static void
send_end_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

int
loopback_main(const struct bench_opts *o)
{
	struct ev_loop *loop;
	struct sender *sd;
	ev_timer end;
	char errbuf[256], line[128];
	unsigned long long bytes;
	long long ns;
	int lfd, pfd[2], status;
	ssize_t n;
	size_t got = 0;
	pid_t pid;
	struct pollfd pf;

	chunk_len = (size_t)o->batch_size * ((size_t)o->size + 4);
	chunk = xmalloc(chunk_len);
	memset(chunk, 'n', chunk_len);
	if ((lfd = net_listen("127.0.0.1:0", errbuf, sizeof(errbuf))) == -1)
		errx(1, "%s", errbuf);
	snprintf(line, sizeof(line), "127.0.0.1:%d", net_local_port(lfd));
	if (pipe(pfd) == -1)
		err(1, "pipe");
	fflush(stdout);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		uint64_t b;
		int64_t t;
		int len;

		close(pfd[0]);
		sink_serve(lfd, o->connections, o->runfor, &b, &t);
		len = snprintf(line, sizeof(line), "%llu %lld\n",
		    (unsigned long long)b, (long long)t);
		if (write(pfd[1], line, (size_t)len) != len)
			_exit(1);
		_exit(0);
	}
	close(lfd);
	close(pfd[1]);

	loop = ev_default_loop(EVFLAG_AUTO);
	sd = xcalloc((size_t)o->connections, sizeof(*sd));
	for (int64_t i = 0; i < o->connections; i++) {
		sd[i].fd = net_connect(line, errbuf, sizeof(errbuf));
		if (sd[i].fd == -1)
			errx(1, "%s", errbuf);
		ev_io_init(&sd[i].wr, send_cb, sd[i].fd, EV_WRITE);
		sd[i].wr.data = &sd[i];
		ev_io_start(loop, &sd[i].wr);
	}
	ev_timer_init(&end, send_end_cb, (double)o->runfor / 1e9, 0);
	ev_timer_start(loop, &end);
	ev_run(loop, 0);
	for (int64_t i = 0; i < o->connections; i++) {
		ev_io_stop(loop, &sd[i].wr);
		close(sd[i].fd);
	}
	free(sd);

	/* The sink reports once every sender has closed. */
	pf.fd = pfd[0];
	pf.events = POLLIN;
	memset(line, 0, sizeof(line));
	while (got < sizeof(line) - 1) {
		if (poll(&pf, 1, (int)((o->runfor + SINK_GRACE) / 1000000 +
		    5000)) <= 0) {
			kill(pid, SIGKILL);
			errx(1, "the loopback sink did not report");
		}
		n = read(pfd[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(pfd[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "the loopback sink failed");
	if (sscanf(line, "%llu %lld", &bytes, &ns) != 2)
		errx(1, "the loopback sink reported nothing");
	print_line("loopback", o, chunk_len, bytes, ns);
	free(chunk);
	return 0;
}
