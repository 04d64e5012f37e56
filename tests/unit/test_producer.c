/*
 * Unit tests for lib/producer (and lib/conn under it) against a fake
 * nsqd on the same libev loop: a listening socket that answers the magic
 * and IDENTIFY, then answers PUB, MPUB and DPUB as a script says (OK,
 * an error frame and a close, or nothing until told).  Checked: the
 * bytes nsqd gets, one callback per command in order with nsqd's words,
 * the bound on commands awaiting a reply, heartbeats, refusals, stop and
 * reconnection.  Every loop run is bounded by a timer.
 */
#include <sys/socket.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <ev.h>

#include "buffer.h"
#include "frame.h"
#include "net.h"
#include "nsq.h"

#define MAXCMD	64

/* The fake nsqd. */
struct fake {
	struct ev_loop	*loop;
	int		 lfd, fd;
	int		 port;
	ev_io		 acc, rd;
	struct buf	 in, out;
	bool		 identified;
	int		 conns;		/* accepted so far */
	/* script */
	int		 error_at;	/* E_BAD_TOPIC for this cmd, close */
	bool		 hold;		/* do not answer */
	bool		 negotiate;	/* JSON IDENTIFY reply, else "OK" */
	/* what came */
	int		 ncmd;
	int		 answered;
	int		 max_outstanding;
	char		 kind[MAXCMD][8];
	int		 nmsgs[MAXCMD];
	char		 first[MAXCMD][32];	/* first body */
	char		 line[MAXCMD][64];
	int		 nops;
	char		 identify[1024];
};

static struct fake S;

/* A frame from the fake nsqd. */
static void
s_frame(int type, const char *data, size_t len)
{
	assert_int_equal(buf_append_u32(&S.out, (uint32_t)(len + 4)), 0);
	assert_int_equal(buf_append_u32(&S.out, (uint32_t)type), 0);
	assert_int_equal(buf_append(&S.out, data, len), 0);
}

static void
s_flush(void)
{
	while (buf_len(&S.out) > 0 && S.fd != -1) {
		ssize_t n = send(S.fd, buf_data(&S.out), buf_len(&S.out),
		    MSG_NOSIGNAL);

		if (n <= 0)
			break;
		buf_consume(&S.out, (size_t)n);
	}
}

static void
s_close(void)
{
	if (S.fd == -1)
		return;
	ev_io_stop(S.loop, &S.rd);
	close(S.fd);
	S.fd = -1;
}

/* Answer every command not yet answered. */
static void
s_answer_all(void)
{
	while (S.answered < S.ncmd) {
		S.answered++;
		s_frame(FRAME_RESPONSE, "OK", 2);
	}
	s_flush();
}

/* One whole command at the front of S.in: its length, or 0. */
static size_t
s_command(void)
{
	const char *p = buf_data(&S.in), *nl;
	size_t n = buf_len(&S.in), linelen, need;
	uint32_t size;
	int c;

	if (!S.identified) {
		if (n < 4)
			return 0;
		assert_memory_equal(p, "  V2", 4);
		p += 4;
		n -= 4;
	}
	if ((nl = memchr(p, '\n', n)) == NULL)
		return 0;
	linelen = (size_t)(nl - p) + 1;
	if (strncmp(p, "NOP\n", 4) == 0) {
		S.nops++;
		return linelen + (S.identified ? 0 : 4);
	}
	if (n < linelen + 4)
		return 0;
	size = be32dec(nl + 1);
	need = linelen + 4 + size;
	if (n < need)
		return 0;
	if (!S.identified) {
		assert_memory_equal(p, "IDENTIFY\n", 9);
		assert_true(size < sizeof(S.identify));
		memcpy(S.identify, nl + 5, size);
		S.identify[size] = '\0';
		S.identified = true;
		if (S.negotiate) {
			const char *j = "{\"max_rdy_count\":2500,\"version\":"
			    "\"1.3.0\",\"max_msg_timeout\":900000,"
			    "\"msg_timeout\":60000,\"auth_required\":false}";

			s_frame(FRAME_RESPONSE, j, strlen(j));
		} else
			s_frame(FRAME_RESPONSE, "OK", 2);
		return need + 4;
	}
	c = S.ncmd++;
	assert_true(c < MAXCMD);
	snprintf(S.line[c], sizeof(S.line[c]), "%.*s", (int)linelen - 1, p);
	snprintf(S.kind[c], sizeof(S.kind[c]), "%.*s", (int)strcspn(p, " "),
	    p);
	if (strcmp(S.kind[c], "MPUB") == 0) {
		S.nmsgs[c] = (int)be32dec(nl + 5);
		snprintf(S.first[c], sizeof(S.first[c]), "%.*s",
		    (int)be32dec(nl + 9), nl + 13);
	} else {
		S.nmsgs[c] = 1;
		snprintf(S.first[c], sizeof(S.first[c]), "%.*s", (int)size,
		    nl + 5);
	}
	if (S.ncmd - S.answered > S.max_outstanding)
		S.max_outstanding = S.ncmd - S.answered;
	if (S.error_at == S.ncmd) {
		const char *e = "E_BAD_TOPIC PUB topic name \"x\" is not valid";

		S.answered = S.ncmd;
		s_frame(FRAME_ERROR, e, strlen(e));
		s_flush();
		s_close();
		S.error_at = 0;
		return need;
	}
	if (!S.hold) {
		S.answered++;
		s_frame(FRAME_RESPONSE, "OK", 2);
	}
	return need;
}

static void
s_read(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;
	size_t used;

	(void)loop;
	(void)w;
	(void)revents;
	n = buf_read_fd(&S.in, S.fd);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		s_close();
		return;
	}
	while (S.fd != -1 && (used = s_command()) > 0)
		buf_consume(&S.in, used);
	s_flush();
}

static void
s_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)w;
	(void)revents;
	if ((fd = accept(S.lfd, NULL, NULL)) == -1)
		return;
	s_close();
	net_set_nonblock(fd);
	S.fd = fd;
	S.conns++;
	S.identified = false;
	buf_reset(&S.in);
	buf_reset(&S.out);
	ev_io_init(&S.rd, s_read, fd, EV_READ);
	ev_io_start(loop, &S.rd);
}

/* The client's side. */
struct result {
	int	status[MAXCMD];
	char	err[MAXCMD][128];
	int	n;
	int	order[MAXCMD];
};

static struct result R;
static struct nsq_producer *P;
static bool stopped;
static char addr[64];

static void
pub_cb(struct nsq_producer *p, int status, const char *err, void *arg)
{
	int i = (int)(intptr_t)arg;

	assert_ptr_equal(p, P);
	assert_true(R.n < MAXCMD);
	R.order[R.n++] = i;
	R.status[i] = status;
	snprintf(R.err[i], sizeof(R.err[i]), "%s", err ? err : "");
	if (status == 0)
		assert_null(err);
	else
		assert_non_null(err);
}

static void
stopped_cb(struct nsq_producer *p, void *arg)
{
	(void)p;
	(void)arg;
	stopped = true;
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void
check_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	bool (*done)(void) = w->data;

	(void)revents;
	if (done != NULL && done())
		ev_break(loop, EVBREAK_ONE);
}

/* Run the loop until done() or seconds pass; whether done() held. */
static bool
run_until(bool (*done)(void), double seconds)
{
	ev_timer t;
	ev_prepare c;

	ev_timer_init(&t, timeout_cb, seconds, 0);
	ev_timer_start(S.loop, &t);
	ev_prepare_init(&c, check_cb);
	c.data = (void *)done;
	ev_prepare_start(S.loop, &c);
	ev_run(S.loop, 0);
	ev_timer_stop(S.loop, &t);
	ev_prepare_stop(S.loop, &c);
	return done == NULL || done();
}

static int want_results;

static bool
all_called(void)
{
	return R.n >= want_results;
}

static bool
is_stopped(void)
{
	return stopped;
}

static struct nsq_config *
config(const char *window)
{
	struct nsq_config *cfg = nsq_config_new();
	char err[128];

	assert_int_equal(nsq_config_set(cfg, "publish_window", window, err,
	    sizeof(err)), 0);
	return cfg;
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	memset(&S, 0, sizeof(S));
	memset(&R, 0, sizeof(R));
	stopped = false;
	S.loop = ev_loop_new(EVFLAG_AUTO);
	S.fd = -1;
	S.negotiate = true;
	S.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(S.lfd != -1);
	S.port = net_local_port(S.lfd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", S.port);
	buf_init(&S.in, 4096, 1 << 20);
	buf_init(&S.out, 4096, 1 << 20);
	ev_io_init(&S.acc, s_accept, S.lfd, EV_READ);
	ev_io_start(S.loop, &S.acc);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nsq_producer_free(P);
	P = NULL;
	s_close();
	ev_io_stop(S.loop, &S.acc);
	close(S.lfd);
	buf_free(&S.in);
	buf_free(&S.out);
	ev_loop_destroy(S.loop);
	return 0;
}

static void
new_producer(const char *window)
{
	struct nsq_config *cfg = config(window);
	char err[256];

	P = nsq_producer_new(S.loop, addr, cfg, err, sizeof(err));
	assert_non_null(P);
	nsq_config_free(cfg);
}

static void
pub(const char *body, int i)
{
	char err[128];

	assert_int_equal(nsq_producer_pub(P, "topic", body, strlen(body),
	    pub_cb, (void *)(intptr_t)i, err, sizeof(err)), 0);
}

static void
test_commands(void **state)
{
	struct iovec v[3];
	char err[128], b[16];
	int i;

	(void)state;
	new_producer("64");
	for (i = 0; i < 10; i++) {
		snprintf(b, sizeof(b), "m%d", i);
		pub(b, i);
	}
	v[0].iov_base = (void *)(uintptr_t)"x1";
	v[0].iov_len = 2;
	v[1].iov_base = (void *)(uintptr_t)"x2";
	v[1].iov_len = 2;
	v[2].iov_base = (void *)(uintptr_t)"x3";
	v[2].iov_len = 2;
	assert_int_equal(nsq_producer_mpub(P, "topic", v, 3, pub_cb,
	    (void *)10, err, sizeof(err)), 0);
	assert_int_equal(nsq_producer_dpub(P, "topic", 1500, "d", 1, pub_cb,
	    (void *)11, err, sizeof(err)), 0);
	assert_int_equal(nsq_producer_pending(P), 12);
	want_results = 12;
	assert_true(run_until(all_called, 5));
	for (i = 0; i < 12; i++) {
		assert_int_equal(R.order[i], i);
		assert_int_equal(R.status[i], 0);
	}
	assert_int_equal(nsq_producer_pending(P), 0);
	assert_int_equal(S.ncmd, 12);
	assert_string_equal(S.line[0], "PUB topic");
	assert_string_equal(S.first[3], "m3");
	assert_string_equal(S.kind[10], "MPUB");
	assert_int_equal(S.nmsgs[10], 3);
	assert_string_equal(S.first[10], "x1");
	assert_string_equal(S.line[11], "DPUB topic 1500");
	/* IDENTIFY asked for feature negotiation, keys as Go sorts them. */
	assert_non_null(strstr(S.identify, "\"feature_negotiation\":true"));
	assert_non_null(strstr(S.identify, "\"heartbeat_interval\":30000"));
	assert_true(strncmp(S.identify, "{\"client_id\":", 13) == 0);
	assert_int_equal(S.conns, 1);
}

/* Refusals that never reach nsqd. */
static void
test_refused_locally(void **state)
{
	struct iovec v[2];
	char err[128];

	(void)state;
	new_producer("64");
	assert_int_equal(nsq_producer_pub(P, "t", "", 0, pub_cb, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty message body");
	assert_int_equal(nsq_producer_pub(P, "", "x", 1, pub_cb, NULL, err,
	    sizeof(err)), -1);
	/* nsqd would take "PUB a b" as a PUB to "a". */
	assert_int_equal(nsq_producer_pub(P, "a b", "x", 1, pub_cb, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid topic name");
	assert_int_equal(nsq_producer_dpub(P, "t\nx", 10, "x", 1, pub_cb, NULL,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "invalid topic name");
	v[0].iov_base = (void *)(uintptr_t)"a";
	v[0].iov_len = 1;
	assert_int_equal(nsq_producer_mpub(P, "bad!", v, 1, pub_cb, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "invalid topic name");
	assert_int_equal(nsq_producer_mpub(P, "t", v, 0, pub_cb, NULL, err,
	    sizeof(err)), -1);
	v[0].iov_base = (void *)(uintptr_t)"a";
	v[0].iov_len = 1;
	v[1].iov_base = (void *)(uintptr_t)"";
	v[1].iov_len = 0;
	assert_int_equal(nsq_producer_mpub(P, "t", v, 2, pub_cb, NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(nsq_producer_pending(P), 0);
}

static int stage_target;

static bool
server_has(void)
{
	return S.ncmd >= stage_target;
}

/* No more than publish_window commands await their reply. */
static void
test_window(void **state)
{
	int i;

	(void)state;
	new_producer("4");
	S.hold = true;
	for (i = 0; i < 20; i++)
		pub("w", i);
	stage_target = 4;
	assert_true(run_until(server_has, 5));
	/* Give it time to (wrongly) send more. */
	run_until(NULL, 0.2);
	assert_int_equal(S.ncmd, 4);
	assert_int_equal(nsq_producer_pending(P), 20);
	for (stage_target = 8; stage_target <= 20; stage_target += 4) {
		s_answer_all();
		assert_true(run_until(server_has, 5));
		run_until(NULL, 0.05);
		assert_int_equal(S.ncmd, stage_target);
	}
	s_answer_all();
	want_results = 20;
	assert_true(run_until(all_called, 5));
	assert_int_equal(S.max_outstanding, 4);
	for (i = 0; i < 20; i++)
		assert_int_equal(R.order[i], i);
}

/* A fatal error frame fails its command with nsqd's words; the commands
 * behind it fail when the connection closes; later ones reconnect. */
static void
test_error_then_reconnect(void **state)
{
	int i;

	(void)state;
	new_producer("64");
	S.error_at = 2;
	for (i = 0; i < 5; i++)
		pub("e", i);
	want_results = 5;
	assert_true(run_until(all_called, 5));
	/* 0 is OK, 1 gets the error text, the rest fail by the close. */
	assert_int_equal(R.status[0], 0);
	assert_int_equal(R.status[1], -1);
	assert_string_equal(R.err[1],
	    "E_BAD_TOPIC PUB topic name \"x\" is not valid");
	for (i = 2; i < 5; i++) {
		assert_int_equal(R.status[i], -1);
		assert_non_null(strstr(R.err[i], "EOF from"));
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(R.order[i], i);
	assert_int_equal(nsq_producer_pending(P), 0);
	/* The next command makes a new connection. */
	pub("again", 5);
	want_results = 6;
	assert_true(run_until(all_called, 5));
	assert_int_equal(R.status[5], 0);
	assert_int_equal(S.conns, 2);
}

/* Nothing listening: every command fails with the dial error. */
static void
test_connection_refused(void **state)
{
	int i;

	(void)state;
	ev_io_stop(S.loop, &S.acc);
	close(S.lfd);
	S.lfd = socket(AF_INET, SOCK_STREAM, 0);	/* closed in teardown */
	new_producer("64");
	for (i = 0; i < 3; i++)
		pub("r", i);
	want_results = 3;
	assert_true(run_until(all_called, 5));
	for (i = 0; i < 3; i++) {
		assert_int_equal(R.status[i], -1);
		assert_non_null(strstr(R.err[i], "dial tcp"));
		assert_non_null(strstr(R.err[i], addr));
	}
	assert_int_equal(nsq_producer_pending(P), 0);
}

static bool
got_nop(void)
{
	return S.nops > 0;
}

/* A heartbeat is answered with NOP, and the old "OK" IDENTIFY works. */
static void
test_heartbeat(void **state)
{
	(void)state;
	S.negotiate = false;
	new_producer("64");
	pub("h", 0);
	want_results = 1;
	assert_true(run_until(all_called, 5));
	s_frame(FRAME_RESPONSE, "_heartbeat_", 11);
	s_flush();
	assert_true(run_until(got_nop, 5));
	/* The heartbeat was not taken for a reply. */
	pub("h2", 1);
	want_results = 2;
	assert_true(run_until(all_called, 5));
	assert_int_equal(R.status[1], 0);
}

/* stop: pending commands finish first, then stopped is called. */
static void
test_stop(void **state)
{
	char err[128];
	int i;

	(void)state;
	new_producer("64");
	for (i = 0; i < 5; i++)
		pub("s", i);
	nsq_producer_stop(P, stopped_cb, NULL);
	assert_int_equal(nsq_producer_pub(P, "t", "x", 1, pub_cb, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "producer stopped");
	assert_true(run_until(is_stopped, 5));
	assert_int_equal(R.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(R.status[i], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commands, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_locally, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_then_reconnect,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
