/*
 * libFuzzer target for nsqd's TCP protocol V2 engine (cmd/nsqd/v2.c)
 * over its real broker: scripts/fuzz.sh links it with nsqd's sources
 * but main.c, and the client interface (client.h) is implemented here
 * over plain buffers, as tests/unit/test_nsqd_v2.c does.
 *
 * Two clients share one nsqd (data in a fresh temporary directory).  The
 * input after its first byte is split at each "\xffNEXT" into segments
 * that go to the clients in turn, after their magic, written in chunks.
 * Between segments a pending TLS handshake completes and owed group
 * commits are answered.  Output must be well-formed frames, a closed
 * client takes no more input, and a client's in-flight count must match
 * its list.
 *
 * First byte: bits 0-4 the chunk size (0: whole segments), bit 5:
 * durable mode, bit 6: a TLS context is offered (a stand-in: the
 * handshake is the connection's), bit 7: TLS required and group commits
 * fail.
 */
#include <sys/stat.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "message.h"
#include "syncer.h"
#include "xmalloc.h"
#include "../../cmd/nsqd/nsqd.h"
#include "../../cmd/nsqd/v2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SEP	"\xffNEXT"
#define SEPLEN	5
#define MB	(1024 * 1024)

struct fclient {
	struct client	 c;	/* first: ops recover fclient */
	struct buf	 frames;
};

static struct fclient *
fc(const struct client *c)
{
	return (struct fclient *)(uintptr_t)c;
}

static bool
f_ready(const struct client *c)
{
	return v2_ready(c);
}

static void
f_send_message(struct client *c, struct cmsg *m)
{
	if (v2_message_frame(&fc(c)->frames, m) == -1)
		abort();
}

static void
f_close(struct client *c, const char *why)
{
	(void)why;
	if (c->dead)
		return;
	c->dead = true;
	if (c->awaiting) {
		TAILQ_REMOVE(&c->nsqd->awaiting, c, await_link);
		c->awaiting = false;
	}
}

static void
f_nop(struct client *c)
{
	(void)c;
}

static struct buf *
f_frames(struct client *c)
{
	return &fc(c)->frames;
}

static void
f_heartbeat(struct client *c, bool deadline)
{
	(void)c;
	(void)deadline;
}

static int
f_start(struct client *c, int cz, int level)
{
	(void)c;
	(void)cz;
	(void)level;
	return 0;
}

static const struct client_ops fuzz_ops = {
	.ready = f_ready,
	.send_message = f_send_message,
	.close = f_close,
	.flush = f_nop,
	.frames = f_frames,
	.queued = f_nop,
	.hold = f_nop,
	.heartbeat = f_heartbeat,
	.start_tls = f_start,
	.start_compression = f_start,
	.reread = f_nop,
};

static const struct nsqd_opts defaults = {
	.node_id = 1,
	.broadcast_address = "fuzz",
	.mem_queue_size = 4,	/* small: the disk queues get used too */
	.max_bytes_per_file = 1 * MB,
	.sync_every = 2500,
	.msg_timeout = 60 * NS_SEC,
	.max_msg_timeout = 15 * 60 * NS_SEC,
	.max_msg_size = 64 * 1024,
	.max_req_timeout = 60 * 60 * NS_SEC,
	.max_body_size = 256 * 1024,
	.max_heartbeat_interval = 60 * NS_SEC,
	.max_rdy_count = 2500,
	.max_output_buffer_size = 64 * 1024,
	.max_output_buffer_timeout = 30 * NS_SEC,
	.min_output_buffer_timeout = 25 * NS_MS,
	.output_buffer_timeout = 250 * NS_MS,
	.max_channel_consumers = 1,
	.deflate = true,
	.max_deflate_level = 6,
	.snappy = true,
};

/* Take every frame out of the output, checking the framing. */
static void
drain(struct fclient *f)
{
	struct frame fr;
	ssize_t r;

	while (buf_len(&f->frames) > 0) {
		r = frame_decode(buf_data(&f->frames), buf_len(&f->frames),
		    64 * MB, &fr);
		if (r <= 0)
			abort();
		if (fr.type == FRAME_MESSAGE && fr.len < MSG_HEADER_LEN)
			abort();
		buf_consume(&f->frames, (size_t)r);
	}
	buf_compact(&f->frames);
}

/* The in-flight count is the length of the client's list. */
static void
check(const struct fclient *f)
{
	const struct cmsg *m;
	int64_t n = 0;

	TAILQ_FOREACH(m, &f->c.inflight, cl) {
		if (m->owner != &f->c)
			abort();
		n++;
	}
	if (n != f->c.in_flight || (n > 0 && f->c.ch == NULL))
		abort();
}

static void
client_open(struct fclient *f, struct nsqd *n, const char *remote)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->c.remote, sizeof(f->c.remote), "%s", remote);
	f->c.fd = -1;
	buf_init(&f->c.in, 4096, V2_MAX_LINE + 4 + 256 * 1024);
	buf_init(&f->frames, 4096, 256 * MB);
	v2_init(&f->c, n, &fuzz_ops);
	if (buf_append(&f->c.in, FRAME_MAGIC_V2, 4) == -1)
		abort();
	v2_input(&f->c);
}

static void
client_end(struct fclient *f)
{
	if (!f->c.dead)
		v2_input_end(&f->c);
	drain(f);
	if (f->c.awaiting) {
		TAILQ_REMOVE(&f->c.nsqd->awaiting, &f->c, await_link);
		f->c.awaiting = false;
	}
	v2_end(&f->c);
	buf_free(&f->c.in);
	buf_free(&f->frames);
}

static void
feed(struct fclient *f, const uint8_t *p, size_t n)
{
	if (f->c.dead)
		return;
	if (buf_append(&f->c.in, p, n) == -1) {
		/* As the connection does: the client goes. */
		f_close(&f->c, "input buffer full");
		return;
	}
	v2_input(&f->c);
	drain(f);
	check(f);
}

/* What the connection and the tick do between reads. */
static void
between(struct fclient *f, bool sync_ok)
{
	struct client *c = &f->c;
	int i;

	if (c->dead)
		return;
	if (c->tls_handshaking) {
		c->tls_handshaking = false;
		c->tls = true;
		v2_response(c, "OK");
		v2_input(c);
	}
	for (i = 0; i < 16 && c->awaiting && !c->dead; i++) {
		TAILQ_REMOVE(&c->nsqd->awaiting, c, await_link);
		c->awaiting = false;
		v2_synced(c, sync_ok);
	}
	drain(f);
	check(f);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *w)
{
	(void)st;
	(void)flag;
	(void)w;
	return remove(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	static int dummy_ctx;
	struct ev_loop *loop;
	struct nsqd_opts o = defaults;
	struct nsqd n;
	struct fclient f[2];
	char dir[64];
	const uint8_t *seg, *end, *next;
	size_t chunk, len, off;
	unsigned round = 0;
	int who = 0;

	if (!quiet) {
		log_init("", LOG_LEVEL_FATAL);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	chunk = data[0] & 0x1f;
	/* tmpfs where there is one: the queues' fsyncs cost nothing. */
	snprintf(dir, sizeof(dir), "%s/fuzz_nsqd_v2.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		abort();
	if (data[0] & 0x20) {
		o.mem_queue_size = 0;
		o.sync_every = 1;
	}
	o.data_path = dir;
	/* The broker with nothing opened: no listener, no tick. */
	nsqd_init(&n, loop, &o);
	if ((n.syncer = syncer_new(loop)) == NULL)
		abort();
	if (data[0] & 0x40)
		/* A stand-in: the engine only tests it for NULL. */
		n.ssl_ctx = (SSL_CTX *)&dummy_ctx;
	n.tls_required = (data[0] & 0x80) != 0;

	client_open(&f[0], &n, "10.0.0.1:1");
	client_open(&f[1], &n, "10.0.0.2:2");
	seg = data + 1;
	end = data + size;
	while (seg <= end && round < 1024) {
		next = memmem(seg, (size_t)(end - seg), SEP, SEPLEN);
		len = next != NULL ? (size_t)(next - seg) : (size_t)(end - seg);
		for (off = 0; off < len; off += chunk ? chunk : len)
			feed(&f[who], seg + off,
			    chunk && len - off > chunk ? chunk : len - off);
		between(&f[who], !(data[0] & 0x80));
		who ^= 1;
		round++;
		if (next == NULL)
			break;
		seg = next + SEPLEN;
	}
	client_end(&f[0]);
	check(&f[1]);
	client_end(&f[1]);
	n.ssl_ctx = NULL;
	nsqd_free(&n);
	ev_loop_destroy(loop);
	if (nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == -1)
		abort();
	return 0;
}
