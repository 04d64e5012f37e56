/*
 * Unit tests for nsqd's TCP protocol V2 engine (cmd/nsqd/v2.c) over its
 * real broker (topics, channels, disk queues in a temporary directory),
 * with no socket: the Makefile links this test with nsqd's objects but
 * main.o, and the client interface (client.h) is implemented here over
 * plain buffers.  Bytes go into c->in, frames come out of a buffer.
 *
 * Every command's success and error paths are driven as bytes in,
 * frames out.  Each table case is also fed byte by byte and split at
 * every point, and must answer the same.
 */
#include <sys/stat.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "compress.h"
#include "frame.h"
#include "log.h"
#include "message.h"
#include "syncer.h"
#include "xmalloc.h"
#include "../../cmd/nsqd/auth.h"
#include "../../cmd/nsqd/nsqd.h"
#include "../../cmd/nsqd/v2.h"

#define SEC	NS_SEC
#define MS	NS_MS
#define MB	(1024 * 1024)

/* A client over buffers: what the engine's interface calls, counted. */
struct tclient {
	struct client	 c;		/* first: ops recover tclient */
	struct buf	 frames;
	bool		 closed;
	char		 why[64];
	int		 flushes;
	int		 holds;
	int		 heartbeats;
	bool		 deadline;	/* the last heartbeat's */
	int		 tls_starts;
	int		 cz_starts;
	int		 cz_kind;
	int		 rereads;
	bool		 fail_tls;
	bool		 fail_cz;
	int		 auth_queries;
	bool		 fail_auth;	/* no query can start */
	char		 secret[64];	/* the last query's */
};

struct fx {
	struct ev_loop	*loop;
	struct nsqd_opts o;
	struct nsqd	 n;
	char		 dir[64];
};

static struct tclient *
tc(const struct client *c)
{
	return (struct tclient *)(uintptr_t)c;
}

static bool
t_ready(const struct client *c)
{
	return v2_ready(c);
}

static void
t_send_message(struct client *c, struct cmsg *m)
{
	assert_int_equal(v2_message_frame(&tc(c)->frames, m), 0);
}

static void
t_close(struct client *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	tc(c)->closed = true;
	snprintf(tc(c)->why, sizeof(tc(c)->why), "%s", why);
	if (c->awaiting) {
		TAILQ_REMOVE(&c->nsqd->awaiting, c, await_link);
		c->awaiting = false;
	}
}

static void
t_flush(struct client *c)
{
	tc(c)->flushes++;
}

static struct buf *
t_frames(struct client *c)
{
	return &tc(c)->frames;
}

static void
t_queued(struct client *c)
{
	(void)c;
}

static void
t_hold(struct client *c)
{
	tc(c)->holds++;
}

static void
t_heartbeat(struct client *c, bool deadline)
{
	tc(c)->heartbeats++;
	tc(c)->deadline = deadline;
}

static int
t_start_tls(struct client *c, int cz, int level)
{
	(void)level;
	if (tc(c)->fail_tls)
		return -1;
	tc(c)->tls_starts++;
	tc(c)->cz_kind = cz;
	return 0;
}

static int
t_start_cz(struct client *c, int cz, int level)
{
	(void)level;
	if (tc(c)->fail_cz)
		return -1;
	tc(c)->cz_starts++;
	tc(c)->cz_kind = cz;
	return 0;
}

static void
t_reread(struct client *c)
{
	tc(c)->rereads++;
}

static int
t_auth_query(struct client *c)
{
	if (tc(c)->fail_auth)
		return -1;
	tc(c)->auth_queries++;
	snprintf(tc(c)->secret, sizeof(tc(c)->secret), "%s", c->auth_secret);
	return 0;
}

static const struct client_ops test_ops = {
	.ready = t_ready,
	.send_message = t_send_message,
	.close = t_close,
	.flush = t_flush,
	.frames = t_frames,
	.queued = t_queued,
	.hold = t_hold,
	.heartbeat = t_heartbeat,
	.start_tls = t_start_tls,
	.start_compression = t_start_cz,
	.reread = t_reread,
	.auth_query = t_auth_query,
};

static const struct nsqd_opts defaults = {
	.node_id = 1,
	.broadcast_address = "test",
	.data_path = "",
	.mem_queue_size = 10000,
	.max_bytes_per_file = 100 * MB,
	.sync_every = 2500,
	.sync_timeout = 2 * SEC,
	.msg_timeout = 60 * SEC,
	.max_msg_timeout = 15 * 60 * SEC,
	.max_msg_size = 1 * MB,
	.max_req_timeout = 60 * 60 * SEC,
	.max_body_size = 5 * MB,
	.max_heartbeat_interval = 60 * SEC,
	.max_rdy_count = 2500,
	.max_output_buffer_size = 64 * 1024,
	.max_output_buffer_timeout = 30 * SEC,
	.min_output_buffer_timeout = 25 * MS,
	.output_buffer_timeout = 250 * MS,
	.e2e_window = 10 * 60 * SEC,
	.deflate = true,
	.max_deflate_level = 6,
	.snappy = true,
};

static struct fx *
fx_new(void)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct nsqd *n = &f->n;

	/* tmpfs where there is one: the queues' fsyncs cost nothing. */
	snprintf(f->dir, sizeof(f->dir), "%s/test_nsqd_v2.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->o = defaults;
	f->o.data_path = f->dir;
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	/* The broker with nothing opened: no listener, no tick. */
	nsqd_init(n, f->loop, &f->o);
	n->syncer = syncer_new(f->loop);
	assert_non_null(n->syncer);
	return f;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *w)
{
	(void)st;
	(void)flag;
	(void)w;
	return remove(path);
}

static void
fx_free(struct fx *f)
{
	f->n.ssl_ctx = NULL;	/* a test's stand-in, not OpenSSL's */
	nsqd_free(&f->n);
	ev_loop_destroy(f->loop);
	assert_int_equal(nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
}

static struct tclient *
client_new(struct fx *f)
{
	struct tclient *t = xcalloc(1, sizeof(*t));

	snprintf(t->c.remote, sizeof(t->c.remote), "127.0.0.1:%d",
	    40000 + (int)f->n.next_client_id);
	t->c.id = ++f->n.next_client_id;
	t->c.fd = -1;
	buf_init(&t->c.in, 16384, V2_MAX_LINE + 4 + 5 * MB);
	buf_init(&t->frames, 4096, 64 * MB);
	v2_init(&t->c, &f->n, &test_ops);
	return t;
}

static void
client_free_t(struct tclient *t)
{
	v2_end(&t->c);
	buf_free(&t->c.in);
	buf_free(&t->frames);
	free(t);
}

static void
feed(struct tclient *t, const void *p, size_t n)
{
	assert_int_equal(buf_append(&t->c.in, p, n), 0);
	v2_input(&t->c);
}

static void
feeds(struct tclient *t, const char *s)
{
	feed(t, s, strlen(s));
}

/* The next frame, or -1 (and no frame) when there is none. */
static int
next_frame(struct tclient *t, struct frame *fr)
{
	ssize_t r;

	if (buf_len(&t->frames) == 0)
		return -1;
	r = frame_decode(buf_data(&t->frames), buf_len(&t->frames),
	    64 * MB, fr);
	assert_true(r > 0);
	buf_consume(&t->frames, (size_t)r);
	return fr->type;
}

/* Expect a response or error frame saying exactly s. */
static void
expect(struct tclient *t, int type, const char *s)
{
	struct frame fr = { -1, "", 0 };

	if (next_frame(t, &fr) != type)
		fail_msg("frame %d: %.*s", fr.type, (int)fr.len, fr.data);
	assert_int_equal(fr.len, strlen(s));
	assert_memory_equal(fr.data, s, fr.len);
}

/* Expect a message frame of body s; its ID into id. */
static void
expect_msg(struct tclient *t, const char *s, uint16_t attempts,
    char id[MSG_ID_LEN])
{
	struct frame fr;

	assert_int_equal(next_frame(t, &fr), FRAME_MESSAGE);
	assert_int_equal(fr.len, MSG_HEADER_LEN + strlen(s));
	assert_int_equal(((unsigned char)fr.data[8] << 8) |
	    (unsigned char)fr.data[9], attempts);
	if (id != NULL)
		memcpy(id, fr.data + 10, MSG_ID_LEN);
	assert_memory_equal(fr.data + MSG_HEADER_LEN, s, strlen(s));
}

static void
expect_none(struct tclient *t)
{
	assert_int_equal(buf_len(&t->frames), 0);
}

static int
quiet(void **state)
{
	(void)state;
	log_init("[test] ", LOG_LEVEL_FATAL);
	return 0;
}

/*
 * Table cases: bytes in (after the magic), optionally the peer's EOF,
 * then the frames out ("R text" a response, "E text" an error) and
 * whether the connection closes.
 */
#define IN(s)	s, sizeof(s) - 1
#define MAXOUT	6

struct tcase {
	const char	*name;
	const char	*in;
	size_t		 inlen;
	bool		 eof;
	const char	*out[MAXOUT];
	bool		 closes;
	bool		 durable;
};

static const struct tcase cases[] = {
	{ "nop", IN("NOP\n"), false, { NULL }, false, false },
	{ "crlf", IN("NOP\r\n"), false, { NULL }, false, false },
	{ "invalid", IN("WHAT x\n"), false,
	    { "E E_INVALID invalid command WHAT" }, true, false },
	{ "empty line", IN("\n"), false,
	    { "E E_INVALID invalid command " }, true, false },
	{ "cut line at eof", IN("NO"), true, { NULL }, true, false },
	/* IDENTIFY */
	{ "identify ok", IN("IDENTIFY\n\x00\x00\x00\x02{}"), false,
	    { "R OK" }, false, false },
	{ "identify null", IN("IDENTIFY\n\x00\x00\x00\x04null"), false,
	    { "R OK" }, false, false },
	{ "identify negotiate",
	    IN("IDENTIFY\n\x00\x00\x00\x1c{\"feature_negotiation\":true}"),
	    false, { "R {\"max_rdy_count\":2500,\"version\":\"1.3.0\","
	    "\"max_msg_timeout\":900000,\"msg_timeout\":60000,"
	    "\"tls_v1\":false,\"deflate\":false,\"deflate_level\":6,"
	    "\"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":0,"
	    "\"auth_required\":false,\"output_buffer_size\":16384,"
	    "\"output_buffer_timeout\":250}" }, false, false },
	{ "identify settings", IN("IDENTIFY\n\x00\x00\x00\x93"
	    "{\"feature_negotiation\":true,\"heartbeat_interval\":5000,"
	    "\"output_buffer_size\":-1,\"sample_rate\":10,"
	    "\"msg_timeout\":2000,\"deflate\":true,\"deflate_level\":9}"),
	    false, { "R {\"max_rdy_count\":2500,\"version\":\"1.3.0\","
	    "\"max_msg_timeout\":900000,\"msg_timeout\":2000,"
	    "\"tls_v1\":false,\"deflate\":true,\"deflate_level\":6,"
	    "\"max_deflate_level\":6,\"snappy\":false,\"sample_rate\":10,"
	    "\"auth_required\":false,\"output_buffer_size\":1,"
	    "\"output_buffer_timeout\":0}", "R OK" }, false, false },
	{ "identify both cz", IN("IDENTIFY\n\x00\x00\x00\x39"
	    "{\"feature_negotiation\":true,\"deflate\":true,\"snappy\":true}"),
	    false, { "E E_IDENTIFY_FAILED cannot enable both "
	    "deflate and snappy compression" }, true, false },
	{ "identify bad json", IN("IDENTIFY\n\x00\x00\x00\x01{"), false,
	    { "E E_BAD_BODY IDENTIFY failed to decode JSON body" }, true,
	    false },
	{ "identify wrong type",
	    IN("IDENTIFY\n\x00\x00\x00\x10{\"client_id\":12}"), false,
	    { "E E_BAD_BODY IDENTIFY failed to decode JSON body" }, true,
	    false },
	{ "identify array", IN("IDENTIFY\n\x00\x00\x00\x02[]"), false,
	    { "E E_BAD_BODY IDENTIFY failed to decode JSON body" }, true,
	    false },
	{ "identify size 0", IN("IDENTIFY\n\x00\x00\x00\x00"), false,
	    { "E E_BAD_BODY IDENTIFY invalid body size 0" }, true, false },
	{ "identify too big", IN("IDENTIFY\n\x00\x50\x00\x01"), false,
	    { "E E_BAD_BODY IDENTIFY body too big 5242881 > 5242880" },
	    true, false },
	{ "identify no size", IN("IDENTIFY\n\x00\x00"), true,
	    { "E E_BAD_BODY IDENTIFY failed to read body size" }, true,
	    false },
	{ "identify short body", IN("IDENTIFY\n\x00\x00\x00\x05{}"), true,
	    { "E E_BAD_BODY IDENTIFY failed to read body" }, true, false },
	{ "identify heartbeat",
	    IN("IDENTIFY\n\x00\x00\x00\x1a{\"heartbeat_interval\":999}"),
	    false, { "E E_BAD_BODY IDENTIFY heartbeat interval (999) is "
	    "invalid" }, true, false },
	{ "identify obt",
	    IN("IDENTIFY\n\x00\x00\x00\x1c{\"output_buffer_timeout\":24}"),
	    false, { "E E_BAD_BODY IDENTIFY output buffer timeout (24) is "
	    "invalid" }, true, false },
	{ "identify obs",
	    IN("IDENTIFY\n\x00\x00\x00\x19{\"output_buffer_size\":63}"),
	    false, { "E E_BAD_BODY IDENTIFY output buffer size (63) is "
	    "invalid" }, true, false },
	{ "identify sample rate",
	    IN("IDENTIFY\n\x00\x00\x00\x13{\"sample_rate\":100}"),
	    false, { "E E_BAD_BODY IDENTIFY sample rate (100) is invalid" },
	    true, false },
	{ "identify msg timeout",
	    IN("IDENTIFY\n\x00\x00\x00\x13{\"msg_timeout\":999}"),
	    false, { "E E_BAD_BODY IDENTIFY msg timeout (999) is invalid" },
	    true, false },
	{ "identify after sub",
	    IN("SUB t c\nIDENTIFY\n\x00\x00\x00\x02{}"), false,
	    { "R OK", "E E_INVALID cannot IDENTIFY in current state" }, true,
	    false },
	/* AUTH */
	{ "auth disabled", IN("AUTH\n\x00\x00\x00\x03" "abc"), false,
	    { "E E_AUTH_DISABLED AUTH disabled" }, true, false },
	{ "auth params", IN("AUTH x\n\x00\x00\x00\x03" "abc"), false,
	    { "E E_INVALID AUTH invalid number of parameters" }, true, false },
	{ "auth size 0", IN("AUTH\n\x00\x00\x00\x00"), false,
	    { "E E_BAD_BODY AUTH invalid body size 0" }, true, false },
	{ "auth too big", IN("AUTH\n\x00\x50\x00\x01"), false,
	    { "E E_BAD_BODY AUTH body too big 5242881 > 5242880" }, true,
	    false },
	{ "auth no size", IN("AUTH\n\x00"), true,
	    { "E E_BAD_BODY AUTH failed to read body size" }, true, false },
	{ "auth short body", IN("AUTH\n\x00\x00\x00\x03" "a"), true,
	    { "E E_BAD_BODY AUTH failed to read body" }, true, false },
	{ "auth after sub", IN("SUB t c\nAUTH\n"), false,
	    { "R OK", "E E_INVALID cannot AUTH in current state" }, true,
	    false },
	/* SUB */
	{ "sub ok", IN("SUB t c\n"), false, { "R OK" }, false, false },
	{ "sub params", IN("SUB t\n"), false,
	    { "E E_INVALID SUB insufficient number of parameters" }, true,
	    false },
	{ "sub bad topic", IN("SUB t\xff\t c\n"), false,
	    { "E E_BAD_TOPIC SUB topic name \"t\\xff\\t\" is not valid" },
	    true, false },
	{ "sub bad channel", IN("SUB t c\xc2\xa0!\n"), false,
	    { "E E_BAD_CHANNEL SUB channel name \"c\\u00a0!\" is not "
	    "valid" }, true, false },
	{ "sub twice", IN("SUB t c\nSUB t c\n"), false,
	    { "R OK", "E E_INVALID cannot SUB in current state" }, true,
	    false },
	{ "sub no heartbeats", IN("IDENTIFY\n\x00\x00\x00\x19"
	    "{\"heartbeat_interval\":-1}SUB t c\n"), false,
	    { "R OK", "E E_INVALID cannot SUB with heartbeats disabled" },
	    true, false },
	/* RDY */
	{ "rdy before sub", IN("RDY 1\n"), false,
	    { "E E_INVALID cannot RDY in current state" }, true, false },
	{ "rdy ok", IN("SUB t c\nRDY 10\nRDY\n"), false, { "R OK" }, false,
	    false },
	{ "rdy parse", IN("SUB t c\nRDY x1\n"), false,
	    { "R OK", "E E_INVALID RDY could not parse count x1" }, true,
	    false },
	{ "rdy range", IN("SUB t c\nRDY 2501\n"), false,
	    { "R OK", "E E_INVALID RDY count 2501 out of range 0-2500" },
	    true, false },
	{ "rdy after cls", IN("SUB t c\nCLS\nRDY 5\n"), false,
	    { "R OK", "R CLOSE_WAIT" }, false, false },
	/* FIN, REQ, TOUCH (the in-flight paths are tests of their own) */
	{ "fin before sub", IN("FIN 0123456789abcdef\n"), false,
	    { "E E_INVALID cannot FIN in current state" }, true, false },
	{ "fin params", IN("SUB t c\nFIN\n"), false,
	    { "R OK", "E E_INVALID FIN insufficient number of params" },
	    true, false },
	{ "fin bad id", IN("SUB t c\nFIN 0123\n"), false,
	    { "R OK", "E E_INVALID invalid message ID" }, true, false },
	{ "fin not in flight", IN("SUB t c\nFIN 0123456789abcdef\n"), false,
	    { "R OK", "E E_FIN_FAILED FIN 0123456789abcdef failed ID not in "
	    "flight" }, false, false },
	/* The FIN short cut in parse() splits as the general case does. */
	{ "fin crlf", IN("SUB t c\nFIN 0123456789abcdef\r\n"), false,
	    { "R OK", "E E_FIN_FAILED FIN 0123456789abcdef failed ID not in "
	    "flight" }, false, false },
	{ "fin cr ends the id", IN("SUB t c\nFIN 0123456789abcde\r\n"), false,
	    { "R OK", "E E_INVALID invalid message ID" }, true, false },
	{ "fin space in the id", IN("SUB t c\nFIN 01234567 9abcdef\n"),
	    false, { "R OK", "E E_INVALID invalid message ID" }, true, false },
	{ "fin two spaces", IN("SUB t c\nFIN  123456789abcdef\n"), false,
	    { "R OK", "E E_INVALID invalid message ID" }, true, false },
	{ "fin lowercase", IN("SUB t c\nfin 0123456789abcdef\n"), false,
	    { "R OK", "E E_INVALID invalid command fin" }, true, false },
	{ "req before sub", IN("REQ 0123456789abcdef 0\n"), false,
	    { "E E_INVALID cannot REQ in current state" }, true, false },
	{ "req params", IN("SUB t c\nREQ 0123456789abcdef\n"), false,
	    { "R OK", "E E_INVALID REQ insufficient number of params" },
	    true, false },
	{ "req parse", IN("SUB t c\nREQ 0123456789abcdef -1\n"), false,
	    { "R OK", "E E_INVALID REQ could not parse timeout -1" }, true,
	    false },
	{ "req not in flight", IN("SUB t c\nREQ 0123456789abcdef 10\n"),
	    false, { "R OK", "E E_REQ_FAILED REQ 0123456789abcdef failed ID "
	    "not in flight" }, false, false },
	{ "touch before sub", IN("TOUCH 0123456789abcdef\n"), false,
	    { "E E_INVALID cannot TOUCH in current state" }, true, false },
	{ "touch params", IN("SUB t c\nTOUCH\n"), false,
	    { "R OK", "E E_INVALID TOUCH insufficient number of params" },
	    true, false },
	{ "touch not in flight", IN("SUB t c\nTOUCH 0123456789abcdef\n"),
	    false, { "R OK", "E E_TOUCH_FAILED TOUCH 0123456789abcdef failed "
	    "ID not in flight" }, false, false },
	/* CLS */
	{ "cls ok", IN("SUB t c\nCLS\nFIN 0123456789abcdef\n"), false,
	    { "R OK", "R CLOSE_WAIT", "E E_FIN_FAILED FIN 0123456789abcdef "
	    "failed ID not in flight" }, false, false },
	{ "cls before sub", IN("CLS\n"), false,
	    { "E E_INVALID cannot CLS in current state" }, true, false },
	/* PUB */
	{ "pub ok", IN("PUB t\n\x00\x00\x00\x01xPUB t\n\x00\x00\x00\x02yz"),
	    false, { "R OK", "R OK" }, false, false },
	{ "pub params", IN("PUB\n"), false,
	    { "E E_INVALID PUB insufficient number of parameters" }, true,
	    false },
	{ "pub bad topic", IN("PUB a/b\n"), false,
	    { "E E_BAD_TOPIC PUB topic name \"a/b\" is not valid" }, true,
	    false },
	{ "pub size 0", IN("PUB t\n\x00\x00\x00\x00"), false,
	    { "E E_BAD_MESSAGE PUB invalid message body size 0" }, true,
	    false },
	{ "pub negative", IN("PUB t\n\xff\xff\xff\xff"), false,
	    { "E E_BAD_MESSAGE PUB invalid message body size -1" }, true,
	    false },
	{ "pub too big", IN("PUB t\n\x00\x10\x00\x01"), false,
	    { "E E_BAD_MESSAGE PUB message too big 1048577 > 1048576" },
	    true, false },
	{ "pub no size", IN("PUB t\n\x00\x00\x00"), true,
	    { "E E_BAD_MESSAGE PUB failed to read message body size" }, true,
	    false },
	{ "pub short body", IN("PUB t\n\x00\x00\x00\x05" "abc"), true,
	    { "E E_BAD_MESSAGE PUB failed to read message body" }, true,
	    false },
	/* DPUB */
	{ "dpub ok", IN("DPUB t 1000\n\x00\x00\x00\x01x"), false,
	    { "R OK" }, false, false },
	{ "dpub params", IN("DPUB t\n"), false,
	    { "E E_INVALID DPUB insufficient number of parameters" }, true,
	    false },
	{ "dpub bad topic", IN("DPUB t! 1\n"), false,
	    { "E E_BAD_TOPIC DPUB topic name \"t!\" is not valid" }, true,
	    false },
	{ "dpub parse", IN("DPUB t 1s\n"), false,
	    { "E E_INVALID DPUB could not parse timeout 1s" }, true, false },
	{ "dpub range", IN("DPUB t 3600001\n"), false,
	    { "E E_INVALID DPUB timeout 3600001 out of range 0-3600000" },
	    true, false },
	{ "dpub size 0", IN("DPUB t 1\n\x00\x00\x00\x00"), false,
	    { "E E_BAD_MESSAGE DPUB invalid message body size 0" }, true,
	    false },
	{ "dpub short", IN("DPUB t 1\n\x00\x00\x00\x05x"), true,
	    { "E E_BAD_MESSAGE DPUB failed to read message body" }, true,
	    false },
	/* MPUB */
	{ "mpub ok", IN("MPUB t\n\x00\x00\x00\x0e\x00\x00\x00\x02"
	    "\x00\x00\x00\x01x\x00\x00\x00\x01y"), false, { "R OK" }, false,
	    false },
	{ "mpub params", IN("MPUB\n"), false,
	    { "E E_INVALID MPUB insufficient number of parameters" }, true,
	    false },
	{ "mpub bad topic", IN("MPUB #\n"), false,
	    { "E E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"#\" is not "
	    "valid" }, true, false },
	{ "mpub size 0", IN("MPUB t\n\x00\x00\x00\x00"), false,
	    { "E E_BAD_BODY MPUB invalid body size 0" }, true, false },
	{ "mpub too big", IN("MPUB t\n\x00\x50\x00\x01"), false,
	    { "E E_BAD_BODY MPUB body too big 5242881 > 5242880" }, true,
	    false },
	{ "mpub no size", IN("MPUB t\n"), true,
	    { "E E_BAD_BODY MPUB failed to read body size" }, true, false },
	{ "mpub no count", IN("MPUB t\n\x00\x00\x00\x08\x00\x00"), true,
	    { "E E_BAD_BODY MPUB failed to read message count" }, true,
	    false },
	{ "mpub count 0", IN("MPUB t\n\x00\x00\x00\x04\x00\x00\x00\x00"),
	    false, { "E E_BAD_BODY MPUB invalid message count 0" }, true,
	    false },
	{ "mpub msg size", IN("MPUB t\n\x00\x00\x00\x08\x00\x00\x00\x01"
	    "\x00\x00\x00\x00"), false,
	    { "E E_BAD_MESSAGE MPUB invalid message(0) body size 0" }, true,
	    false },
	{ "mpub msg too big", IN("MPUB t\n\x00\x00\x00\x08\x00\x00\x00\x01"
	    "\x00\x10\x00\x01"), false,
	    { "E E_BAD_MESSAGE MPUB message too big 1048577 > 1048576" },
	    true, false },
	{ "mpub msg no size", IN("MPUB t\n\x00\x00\x00\x0a\x00\x00\x00\x02"
	    "\x00\x00\x00\x01x"), true,
	    { "E E_BAD_MESSAGE MPUB failed to read message(1) body size" },
	    true, false },
	/* Go reads the messages from the stream (protocol_v2.go:959-1000). */
	{ "mpub msg short", IN("MPUB t\n\x00\x00\x00\x0a\x00\x00\x00\x01"
	    "\x00\x00\x00\x06xy"), true,
	    { "E E_BAD_MESSAGE MPUB failed to read message body" }, true,
	    false },
	{ "mpub size long", IN("MPUB t\n\x00\x00\x00\x0a\x00\x00\x00\x01"
	    "\x00\x00\x00\x01xNOP\nNOP\n"), false, { "R OK" }, false, false },
	{ "mpub size short", IN("MPUB t\n\x00\x00\x00\x05\x00\x00\x00\x01"
	    "\x00\x00\x00\x01x"), false, { "R OK" }, false, false },

	/* Durable mode: OKs after the group commit (v2_synced). */
	{ "durable pubs", IN("PUB t\n\x00\x00\x00\x01xPUB t\n\x00\x00\x00\x01y"
	    "NOP\n"), false, { "R OK", "R OK" }, false, true },
	{ "durable held error", IN("PUB t\n\x00\x00\x00\x01x"
	    "PUB t\n\x00\x00\x00\x00"), false,
	    { "R OK", "E E_BAD_MESSAGE PUB invalid message body size 0" },
	    true, true },
	{ "durable then bad", IN("PUB t\n\x00\x00\x00\x01xBAD\n"), false,
	    { "R OK", "E E_INVALID invalid command BAD" }, true, true },
	{ "durable eof cut", IN("PUB t\n\x00\x00\x00\x01xPUB t\n\x00"), true,
	    { "R OK", "E E_BAD_MESSAGE PUB failed to read message body "
	    "size" }, true, true },
};

/*
 * Run one case: the magic, then its bytes in pieces of step bytes (0:
 * split once at cut), then EOF if asked; answer group commits until none
 * is owed.  The frames are checked, then the client is freed.
 */
static void
run_case(const struct tcase *k, size_t step, size_t cut)
{
	struct fx *f = fx_new();
	struct tclient *t;
	size_t off = 0, n, i;
	int rounds;

	if (k->durable) {
		f->o.mem_queue_size = 0;
		f->o.sync_every = 1;
		f->n.durable = true;
	}
	t = client_new(f);
	feeds(t, FRAME_MAGIC_V2);
	while (off < k->inlen) {
		n = step > 0 ? step : off == 0 ? cut : k->inlen - off;
		if (n == 0 || n > k->inlen - off)
			n = k->inlen - off;
		feed(t, k->in + off, n);
		off += n;
	}
	if (k->eof)
		v2_input_end(&t->c);
	for (rounds = 0; t->c.awaiting && rounds < 16; rounds++) {
		t->c.awaiting = false;
		TAILQ_REMOVE(&f->n.awaiting, &t->c, await_link);
		v2_synced(&t->c, true);
	}
	for (i = 0; i < MAXOUT && k->out[i] != NULL; i++)
		expect(t, k->out[i][0] == 'E' ? FRAME_ERROR : FRAME_RESPONSE,
		    k->out[i] + 2);
	expect_none(t);
	if (t->closed != k->closes)
		fail_msg("%s: closed %d", k->name, t->closed);
	client_free_t(t);
	fx_free(f);
}

static void
test_cases_whole(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], 0, 0);
}

static void
test_cases_byte_by_byte(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], 1, 0);
}

static void
test_cases_every_cut(void **state)
{
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (cut = 1; cut < cases[i].inlen; cut++)
			run_case(&cases[i], 0, cut);
}

static void
test_bad_magic(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	feeds(t, "  V");
	expect_none(t);
	feeds(t, "1");
	expect(t, FRAME_ERROR, "E_BAD_PROTOCOL");
	assert_true(t->closed);
	assert_true(t->flushes > 0);
	client_free_t(t);
	fx_free(f);
}

static void
test_magic_heartbeat(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	feeds(t, "  V2");
	assert_int_equal(t->heartbeats, 1);
	assert_false(t->deadline);
	feeds(t, "IDENTIFY\n");
	feed(t, IN("\x00\x00\x00\x1b{\"heartbeat_interval\":2000}"));
	expect(t, FRAME_RESPONSE, "OK");
	assert_int_equal(t->heartbeats, 2);
	assert_true(t->deadline);
	assert_int_equal(t->c.heartbeat_ns, 2 * SEC);
	v2_response(&t->c, FRAME_HEARTBEAT);
	expect(t, FRAME_RESPONSE, "_heartbeat_");
	client_free_t(t);
	fx_free(f);
}

static void
test_line_too_long(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	char *line = xmalloc(V2_MAX_LINE);

	(void)state;
	feeds(t, "  V2");
	memset(line, 'A', V2_MAX_LINE);
	feed(t, line, V2_MAX_LINE - 1);
	expect_none(t);
	feed(t, line, 1);
	/* As Go's full bufio.Reader: closed, no frame (protocol_v2.go:64). */
	expect_none(t);
	assert_true(t->closed);
	free(line);
	client_free_t(t);
	fx_free(f);
}

/*
 * MPUB's messages are read past a short body size, as Go does, but the
 * whole must fit the input buffer: past --max-body-size in all (5 MB
 * here, messages of 1 MB) it is refused, where Go would read on.
 */
static void
test_mpub_past_max_body(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	size_t msg = 1 * MB, i;
	char *data = xcalloc(1, msg);
	unsigned char hdr[4];

	(void)state;
	feeds(t, "  V2");
	feeds(t, "MPUB t\n");
	be32enc(hdr, 5);
	feed(t, (const char *)hdr, 4);
	be32enc(hdr, 6);
	feed(t, (const char *)hdr, 4);
	be32enc(hdr, (uint32_t)msg);
	for (i = 0; i < 4; i++) {
		feed(t, (const char *)hdr, 4);
		feed(t, data, msg);
	}
	expect_none(t);
	feed(t, (const char *)hdr, 4);
	expect(t, FRAME_ERROR, "E_BAD_BODY MPUB body too big 5242904 > 5242880");
	assert_true(t->closed);
	free(data);
	client_free_t(t);
	fx_free(f);
}

static void
test_identify_strings(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	static const char body[] = "{\"client_id\":\"me\",\"hostname\":\"h\","
	    "\"user_agent\":\"ua/1\",\"long_id\":null}";
	unsigned char sz[4];

	(void)state;
	assert_string_equal(t->c.client_id, "127.0.0.1");
	assert_string_equal(t->c.hostname, "127.0.0.1");
	feeds(t, "  V2IDENTIFY\n");
	be32enc(sz, sizeof(body) - 1);
	feed(t, sz, 4);
	feed(t, body, sizeof(body) - 1);
	expect(t, FRAME_RESPONSE, "OK");
	assert_string_equal(t->c.client_id, "me");
	assert_string_equal(t->c.hostname, "h");
	assert_string_equal(t->c.user_agent, "ua/1");
	client_free_t(t);
	fx_free(f);
}

static const char tls_body[] = "{\"feature_negotiation\":true,"
    "\"tls_v1\":true,\"snappy\":true}";

static void
identify_tls(struct tclient *t)
{
	unsigned char sz[4];

	feeds(t, "IDENTIFY\n");
	be32enc(sz, sizeof(tls_body) - 1);
	feed(t, sz, 4);
	feeds(t, tls_body);
}

static void
test_identify_tls(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	int dummy;

	(void)state;
	f->n.ssl_ctx = (SSL_CTX *)&dummy;	/* only tested for NULL */
	feeds(t, FRAME_MAGIC_V2);
	identify_tls(t);
	/* Then a command that waits for the handshake. */
	feeds(t, "NOP\n");
	expect(t, FRAME_RESPONSE, "{\"max_rdy_count\":2500,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"msg_timeout\":60000,\"tls_v1\":true,\"deflate\":false,"
	    "\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":true,"
	    "\"sample_rate\":0,\"auth_required\":false,"
	    "\"output_buffer_size\":16384,\"output_buffer_timeout\":250}");
	expect_none(t);
	assert_int_equal(t->tls_starts, 1);
	assert_int_equal(t->cz_kind, CZ_SNAPPY);
	assert_int_equal(t->rereads, 1);
	assert_true(t->c.tls_handshaking);
	assert_int_equal(buf_len(&t->c.in), 4);
	/* The connection finishes the handshake. */
	t->c.tls_handshaking = false;
	t->c.tls = true;
	v2_input(&t->c);
	assert_int_equal(buf_len(&t->c.in), 0);
	/* A second IDENTIFY asks for TLS again: no second handshake. */
	identify_tls(t);
	assert_int_equal(t->tls_starts, 1);
	assert_int_equal(t->cz_starts, 0);
	expect(t, FRAME_RESPONSE, "{\"max_rdy_count\":2500,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"msg_timeout\":60000,\"tls_v1\":false,\"deflate\":false,"
	    "\"deflate_level\":6,\"max_deflate_level\":6,\"snappy\":true,"
	    "\"sample_rate\":0,\"auth_required\":false,"
	    "\"output_buffer_size\":16384,\"output_buffer_timeout\":250}");
	expect_none(t);
	client_free_t(t);
	fx_free(f);
}

static void
test_identify_tls_fails(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	int dummy;

	(void)state;
	f->n.ssl_ctx = (SSL_CTX *)&dummy;
	t->fail_tls = true;
	feeds(t, FRAME_MAGIC_V2);
	identify_tls(t);
	assert_int_equal(next_frame(t, &(struct frame){ 0 }), FRAME_RESPONSE);
	expect(t, FRAME_ERROR, "E_IDENTIFY_FAILED IDENTIFY failed to set up "
	    "TLS");
	assert_true(t->closed);
	client_free_t(t);
	fx_free(f);
}

static void
test_identify_cz_fails(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	t->fail_cz = true;
	feeds(t, FRAME_MAGIC_V2);
	identify_tls(t);	/* no ssl_ctx: snappy only */
	assert_int_equal(next_frame(t, &(struct frame){ 0 }), FRAME_RESPONSE);
	expect(t, FRAME_ERROR, "E_IDENTIFY_FAILED IDENTIFY failed to set up "
	    "compression");
	assert_true(t->closed);
	client_free_t(t);
	fx_free(f);
}

static void
test_identify_compression(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	feeds(t, FRAME_MAGIC_V2);
	identify_tls(t);
	assert_int_equal(next_frame(t, &(struct frame){ 0 }), FRAME_RESPONSE);
	expect(t, FRAME_RESPONSE, "OK");
	assert_int_equal(t->cz_starts, 1);
	assert_int_equal(t->cz_kind, CZ_SNAPPY);
	assert_int_equal(t->rereads, 1);
	assert_true(t->c.compressing);
	client_free_t(t);
	fx_free(f);
}

static void
test_tls_required(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	f->n.tls_required = true;
	feeds(t, "  V2IDENTIFY\n");
	feed(t, IN("\x00\x00\x00\x02{}"));
	expect(t, FRAME_RESPONSE, "OK");
	feeds(t, "SUB t c\n");
	expect(t, FRAME_ERROR,
	    "E_INVALID cannot SUB in current state (TLS required)");
	assert_true(t->closed);
	client_free_t(t);
	fx_free(f);
}

static void
test_exiting(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*err;
	} k[] = {
		{ IN("SUB t c\n"), "E_SUB_FAILED SUB failed exiting" },
		{ IN("PUB t\n\x00\x00\x00\x01x"),
		    "E_PUB_FAILED PUB failed exiting" },
		{ IN("DPUB t 5\n\x00\x00\x00\x01x"),
		    "E_DPUB_FAILED DPUB failed exiting" },
		{ IN("MPUB t\n\x00\x00\x00\x09\x00\x00\x00\x01"
		    "\x00\x00\x00\x01x"), "E_MPUB_FAILED MPUB failed exiting" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct fx *f = fx_new();
		struct tclient *t = client_new(f);

		f->n.exiting = true;
		feeds(t, "  V2");
		feed(t, k[i].in, k[i].len);
		expect(t, FRAME_ERROR, k[i].err);
		assert_true(t->closed);
		client_free_t(t);
		fx_free(f);
	}
}

static void
test_max_consumers(void **state)
{
	struct fx *f = fx_new();
	struct tclient *a = client_new(f), *b = client_new(f);

	(void)state;
	f->o.max_channel_consumers = 1;
	feeds(a, "  V2SUB t c#ephemeral\n");
	expect(a, FRAME_RESPONSE, "OK");
	feeds(b, "  V2SUB t c#ephemeral\n");
	expect(b, FRAME_ERROR, "E_SUB_FAILED SUB failed consumers for "
	    "t:c#ephemeral exceeds limit of 1");
	assert_true(b->closed);
	client_free_t(b);
	client_free_t(a);
	fx_free(f);
}

/* Deliver, then FIN, REQ and TOUCH the message in flight. */
static void
test_in_flight(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f), *o = client_new(f);
	char id[MSG_ID_LEN], line[128];

	(void)state;
	feeds(t, "  V2SUB t c\nRDY 1\n");
	expect(t, FRAME_RESPONSE, "OK");
	feeds(o, "  V2SUB t c\n");
	expect(o, FRAME_RESPONSE, "OK");
	feeds(o, "PUB t\n");
	feed(o, IN("\x00\x00\x00\x05hello"));
	expect(o, FRAME_RESPONSE, "OK");
	expect_msg(t, "hello", 1, id);
	expect_none(t);
	assert_int_equal(t->c.in_flight, 1);

	/* Another client may not answer it. */
	snprintf(line, sizeof(line), "FIN %.16s\n", id);
	feeds(o, line);
	snprintf(line, sizeof(line), "E_FIN_FAILED FIN %.16s failed client "
	    "does not own message", id);
	expect(o, FRAME_ERROR, line);
	assert_false(o->closed);

	snprintf(line, sizeof(line), "TOUCH %.16s\n", id);
	feeds(t, line);
	expect_none(t);
	/* REQ 0: straight back, and to us again with one more attempt. */
	snprintf(line, sizeof(line), "REQ %.16s 0\n", id);
	feeds(t, line);
	expect_msg(t, "hello", 2, NULL);
	assert_int_equal(t->c.requeue_count, 1);
	snprintf(line, sizeof(line), "FIN %.16s\n", id);
	for (size_t i = 0; i < strlen(line); i++)
		feed(t, line + i, 1);
	expect_none(t);
	assert_int_equal(t->c.in_flight, 0);
	assert_int_equal(t->c.finish_count, 1);
	feeds(t, line);
	snprintf(line, sizeof(line), "E_FIN_FAILED FIN %.16s failed ID not "
	    "in flight", id);
	expect(t, FRAME_ERROR, line);
	assert_false(t->closed);
	client_free_t(o);
	client_free_t(t);
	fx_free(f);
}

/*
 * A REQ timeout past 2^63 ms (found by fuzz_nsqd_v2: a signed overflow
 * under UBSan) is clamped to --max-req-timeout and deferred, as any
 * timeout above the maximum is.
 */
static void
test_req_huge_timeout(void **state)
{
	static const char *huge[] = { "9223372036854775808",
	    "00000000000020000000000000000000000000",
	    "99999999999999999999999999999999999999999" };
	struct fx *f = fx_new();
	struct tclient *t = client_new(f), *o = client_new(f);
	char id[MSG_ID_LEN], line[128];
	size_t i;

	(void)state;
	feeds(t, "  V2SUB t c\nRDY 1\n");
	expect(t, FRAME_RESPONSE, "OK");
	feeds(o, "  V2");
	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		feeds(o, "PUB t\n");
		feed(o, IN("\x00\x00\x00\x05hello"));
		expect(o, FRAME_RESPONSE, "OK");
		expect_msg(t, "hello", 1, id);
		snprintf(line, sizeof(line), "REQ %.16s %s\n", id, huge[i]);
		feeds(t, line);
		expect_none(t);
		assert_false(t->closed);
		assert_int_equal(t->c.in_flight, 0);
		assert_int_equal(t->c.requeue_count, i + 1);
		assert_int_equal(t->c.ch->deferred_pq.n, i + 1);
		feeds(t, "RDY 1\n");
	}
	client_free_t(o);
	client_free_t(t);
	fx_free(f);
}

/* MPUB and DPUB deliver; RDY 0 stops, CLS stops. */
static void
test_publish_deliver(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);
	struct topic *tp;

	(void)state;
	feeds(t, "  V2SUB t c\n");
	expect(t, FRAME_RESPONSE, "OK");
	feed(t, IN("MPUB t\n\x00\x00\x00\x0e\x00\x00\x00\x02"
	    "\x00\x00\x00\x01" "a\x00\x00\x00\x01" "b"));
	expect(t, FRAME_RESPONSE, "OK");
	expect_none(t);
	feeds(t, "RDY 5\n");
	expect_msg(t, "a", 1, NULL);
	expect_msg(t, "b", 1, NULL);
	expect_none(t);
	feed(t, IN("DPUB t 60000\n\x00\x00\x00\x01" "c"));
	expect(t, FRAME_RESPONSE, "OK");
	expect_none(t);
	tp = nsqd_find_topic(&f->n, "t", 1);
	assert_non_null(tp);
	assert_int_equal(tp->message_count, 3);
	assert_int_equal(t->c.npubs, 1);
	assert_int_equal(t->c.pubs[0].count, 3);
	feeds(t, "CLS\n");
	expect(t, FRAME_RESPONSE, "CLOSE_WAIT");
	assert_false(v2_ready(&t->c));
	client_free_t(t);
	fx_free(f);
}

static void
test_durable_failed_sync(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t;

	(void)state;
	f->o.mem_queue_size = 0;
	f->o.sync_every = 1;
	f->n.durable = true;
	t = client_new(f);
	feeds(t, "  V2");
	feed(t, IN("PUB t\n\x00\x00\x00\x01x"));
	expect_none(t);
	assert_int_equal(t->c.pending_oks, 1);
	assert_true(t->c.awaiting);
	TAILQ_REMOVE(&f->n.awaiting, &t->c, await_link);
	t->c.awaiting = false;
	nsqd_set_health(&f->n, "disk gone");
	v2_synced(&t->c, false);
	expect(t, FRAME_ERROR, "E_PUB_FAILED PUB failed disk gone");
	assert_true(t->closed);
	client_free_t(t);
	fx_free(f);
}

/*
 * Durable mode: a line past the read buffer behind a PUB whose OK awaits
 * its fsync closes only after that OK, still with no error frame.
 */
static void
test_durable_line_too_long(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t;
	char *line = xmalloc(V2_MAX_LINE);

	(void)state;
	f->o.mem_queue_size = 0;
	f->o.sync_every = 1;
	f->n.durable = true;
	t = client_new(f);
	feeds(t, "  V2");
	memcpy(line, "PUB ", 4);
	memset(line + 4, 't', V2_MAX_LINE - 4);
	feed(t, IN("PUB t\n\x00\x00\x00\x01x"));
	feed(t, line, V2_MAX_LINE);
	expect_none(t);
	assert_false(t->closed);
	assert_true(t->c.awaiting);
	TAILQ_REMOVE(&f->n.awaiting, &t->c, await_link);
	t->c.awaiting = false;
	v2_synced(&t->c, true);
	expect(t, FRAME_RESPONSE, "OK");
	expect_none(t);
	assert_true(t->closed);
	free(line);
	client_free_t(t);
	fx_free(f);
}

static void
test_eof_closes(void **state)
{
	struct fx *f = fx_new();
	struct tclient *t = client_new(f);

	(void)state;
	feeds(t, "  V2NOP\n");
	v2_input_end(&t->c);
	expect_none(t);
	assert_true(t->closed);
	assert_string_equal(t->why, "EOF");
	assert_true(t->holds > 0);
	client_free_t(t);
	fx_free(f);
}

/*
 * AUTH with --auth-http-address: the engine asks the connection for the
 * query and parses nothing until v2_auth_done brings the answer.
 */
static char auth_addr0[] = "127.0.0.1:1";
static char *auth_addr[] = { auth_addr0 };

static struct auth_state *
state(const char *json)
{
	char err[256];
	struct auth_state *st = auth_state_parse(json, strlen(json), err,
	    sizeof(err));

	if (st == NULL)
		fail_msg("%s", err);
	return st;
}

#define ALLOW_T	"{\"ttl\":60,\"identity\":\"i\",\"identity_url\":\"u\"," \
	"\"authorizations\":[{\"topic\":\"^t\\\\d$\",\"channels\":[\".*\"]," \
	"\"permissions\":[\"publish\",\"subscribe\"]}]}"

static struct fx *
auth_fx(void)
{
	struct fx *f = fx_new();

	f->o.auth_http_addresses.v = auth_addr;
	f->o.auth_http_addresses.n = 1;
	return f;
}

static void
auth_fx_free(struct fx *f)
{
	f->o.auth_http_addresses.n = 0;
	fx_free(f);
}

static void
test_auth_waits(void **state_)
{
	struct fx *f = auth_fx();
	struct tclient *t = client_new(f);

	(void)state_;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x03" "abcPUB t1\n\x00\x00\x00\x01x"));
	/* Asked once, nothing answered or parsed behind it. */
	assert_int_equal(t->auth_queries, 1);
	assert_string_equal(t->secret, "abc");
	assert_true(t->c.auth_wait);
	expect_none(t);
	feeds(t, "NOP\n");
	assert_int_equal(t->auth_queries, 1);
	expect_none(t);
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	expect(t, FRAME_RESPONSE,
	    "{\"identity\":\"i\",\"identity_url\":\"u\","
	    "\"permission_count\":1}");
	expect(t, FRAME_RESPONSE, "OK");
	expect_none(t);
	assert_false(t->closed);
	assert_true(t->c.authed);
	assert_string_equal(t->c.auth_identity, "i");
	/* Allowed and refused, Go's words. */
	feed(t, IN("PUB t2\n\x00\x00\x00\x01y"));
	expect(t, FRAME_RESPONSE, "OK");
	feed(t, IN("PUB t\n\x00\x00\x00\x01y"));
	expect(t, FRAME_ERROR,
	    "E_UNAUTHORIZED AUTH failed for PUB on \"t\" \"\"");
	assert_true(t->closed);
	assert_int_equal(t->auth_queries, 1);
	client_free_t(t);
	auth_fx_free(f);
}

static void
test_auth_failed(void **state_)
{
	struct fx *f = auth_fx();
	struct tclient *t = client_new(f);

	(void)state_;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_auth_done(&t->c, NULL, "failed to auth against x - boom");
	expect(t, FRAME_ERROR, "E_AUTH_FAILED AUTH failed");
	assert_true(t->closed);
	client_free_t(t);

	/* No query could start: the same, at once. */
	t = client_new(f);
	t->fail_auth = true;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	expect(t, FRAME_ERROR, "E_AUTH_FAILED AUTH failed");
	assert_true(t->closed);
	assert_false(t->c.auth_wait);
	client_free_t(t);

	/* No authorizations. */
	t = client_new(f);
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_auth_done(&t->c, state("{\"ttl\":5}"), NULL);
	expect(t, FRAME_ERROR, "E_UNAUTHORIZED AUTH no authorizations found");
	assert_true(t->closed);
	client_free_t(t);
	auth_fx_free(f);
}

static void
test_auth_first(void **state_)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*err;
	} first[] = {
		{ IN("PUB t1\n\x00\x00\x00\x01x"),
		  "E_AUTH_FIRST AUTH required before PUB" },
		{ IN("DPUB t1 10\n\x00\x00\x00\x01x"),
		  "E_AUTH_FIRST AUTH required before DPUB" },
		{ IN("MPUB t1\n"), "E_AUTH_FIRST AUTH required before MPUB" },
		{ IN("SUB t1 c\n"), "E_AUTH_FIRST AUTH required before SUB" },
	};
	struct fx *f = auth_fx();
	struct tclient *t;
	size_t i;

	(void)state_;
	for (i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		t = client_new(f);
		feeds(t, "  V2NOP\n");
		feed(t, first[i].in, first[i].len);
		expect(t, FRAME_ERROR, first[i].err);
		assert_true(t->closed);
		assert_int_equal(t->auth_queries, 0);
		client_free_t(t);
	}
	/* The topic was never made. */
	assert_int_equal(hmap_len(&f->n.topics), 0);
	auth_fx_free(f);
}

static void
test_auth_ttl(void **state_)
{
	struct fx *f = auth_fx();
	struct tclient *t = client_new(f);

	(void)state_;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	(void)next_frame(t, &(struct frame){ 0 });
	/* Past the TTL: the SUB waits for a new answer. */
	t->c.auth->expires = ev_now(f->loop) - 1;
	feeds(t, "SUB t1 c\n");
	assert_int_equal(t->auth_queries, 2);
	expect_none(t);
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	expect(t, FRAME_RESPONSE, "OK");
	assert_int_equal(t->c.state, CLIENT_SUBSCRIBED);
	assert_true(t->c.auth->expires > ev_now(f->loop));
	client_free_t(t);

	/* A refetch that fails keeps nothing of the command. */
	t = client_new(f);
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	(void)next_frame(t, &(struct frame){ 0 });
	t->c.auth->expires = ev_now(f->loop) - 1;
	feed(t, IN("MPUB t1\n\x00\x00\x00\x09"
	    "\x00\x00\x00\x01\x00\x00\x00\x01x"));
	assert_int_equal(t->auth_queries, 2);
	v2_auth_done(&t->c, NULL, "down");
	expect(t, FRAME_ERROR, "E_AUTH_FAILED AUTH failed");
	assert_true(t->closed);
	client_free_t(t);
	auth_fx_free(f);
}

/* The peer's EOF while AUTH waits: answered first, then the close. */
static void
test_auth_eof(void **state_)
{
	struct fx *f = auth_fx();
	struct tclient *t = client_new(f);

	(void)state_;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_input_end(&t->c);
	assert_false(t->closed);
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	expect(t, FRAME_RESPONSE,
	    "{\"identity\":\"i\",\"identity_url\":\"u\","
	    "\"permission_count\":1}");
	assert_true(t->closed);
	assert_string_equal(t->why, "EOF");
	client_free_t(t);
	auth_fx_free(f);
}

/* AUTH twice, and AUTH with auth off. */
static void
test_auth_again(void **state_)
{
	struct fx *f = auth_fx();
	struct tclient *t = client_new(f);

	(void)state_;
	feeds(t, "  V2");
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	v2_auth_done(&t->c, state(ALLOW_T), NULL);
	(void)next_frame(t, &(struct frame){ 0 });
	feed(t, IN("AUTH\n\x00\x00\x00\x01s"));
	expect(t, FRAME_ERROR, "E_INVALID AUTH already set");
	assert_int_equal(t->auth_queries, 1);
	client_free_t(t);
	auth_fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_whole),
		cmocka_unit_test(test_cases_byte_by_byte),
		cmocka_unit_test(test_cases_every_cut),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_magic_heartbeat),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_mpub_past_max_body),
		cmocka_unit_test(test_identify_strings),
		cmocka_unit_test(test_identify_tls),
		cmocka_unit_test(test_identify_tls_fails),
		cmocka_unit_test(test_identify_cz_fails),
		cmocka_unit_test(test_identify_compression),
		cmocka_unit_test(test_tls_required),
		cmocka_unit_test(test_exiting),
		cmocka_unit_test(test_max_consumers),
		cmocka_unit_test(test_in_flight),
		cmocka_unit_test(test_req_huge_timeout),
		cmocka_unit_test(test_publish_deliver),
		cmocka_unit_test(test_durable_failed_sync),
		cmocka_unit_test(test_durable_line_too_long),
		cmocka_unit_test(test_eof_closes),
		cmocka_unit_test(test_auth_waits),
		cmocka_unit_test(test_auth_failed),
		cmocka_unit_test(test_auth_first),
		cmocka_unit_test(test_auth_ttl),
		cmocka_unit_test(test_auth_eof),
		cmocka_unit_test(test_auth_again),
	};

	return cmocka_run_group_tests(tests, quiet, NULL);
}
