/*
 * libFuzzer target for nsqd's metadata loading (cmd/nsqd/meta.c:
 * meta_load, the nsqd.dat JSON and the recovery from queue file names)
 * over nsqd's real topics and channels: scripts/fuzz.sh links it with
 * nsqd's sources but main.c, and an nsqd is set up as
 * tests/fuzz/fuzz_nsqd_v2.c does, in a fresh temporary data path.
 *
 * The input up to the first "\n\xff" is nsqd.dat; after it, one file
 * name a line, each created empty in the data path beside it (such as
 * "t:c.diskqueue.meta.dat", which meta_load must find again, and whose
 * empty meta file the queue must survive).  Then nsqd is freed, which
 * writes nsqd.dat back (meta_save): whatever was loaded must save.
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "message.h"
#include "syncer.h"
#include "../../cmd/nsqd/nsqd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SEP	"\n\xff"
#define SEPLEN	2
#define MAXFILES 16
#define MB	(1024 * 1024)

static const struct nsqd_opts defaults = {
	.node_id = 1,
	.broadcast_address = "fuzz",
	.mem_queue_size = 4,
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
};

static void
put_file(const char *dir, const char *name, size_t nlen, const void *p,
    size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%.*s", dir, (int)nlen, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return;		/* a name the file system refuses */
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* The names after the separator: one a line, plain file names only. */
static void
put_names(const char *dir, const uint8_t *p, size_t len)
{
	const uint8_t *nl;
	size_t l;
	int i;

	for (i = 0; i < MAXFILES && len > 0; i++) {
		nl = memchr(p, '\n', len);
		l = nl != NULL ? (size_t)(nl - p) : len;
		if (l > 0 && l < 256 && memchr(p, '/', l) == NULL &&
		    memchr(p, '\0', l) == NULL &&
		    !(l == 1 && p[0] == '.') &&
		    !(l == 2 && p[0] == '.' && p[1] == '.'))
			put_file(dir, (const char *)p, l, NULL, 0);
		if (nl == NULL)
			break;
		len -= l + 1;
		p += l + 1;
	}
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
	struct ev_loop *loop;
	struct nsqd_opts o = defaults;
	struct nsqd n;
	const uint8_t *sep;
	char dir[64];
	size_t mlen;

	if (!quiet) {
		log_init("", LOG_LEVEL_FATAL);
		quiet = 1;
	}
	snprintf(dir, sizeof(dir), "%s/fuzz_nsqd_meta.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	sep = memmem(data, size, SEP, SEPLEN);
	mlen = sep != NULL ? (size_t)(sep - data) : size;
	put_file(dir, "nsqd.dat", 8, data, mlen);
	if (sep != NULL)
		put_names(dir, sep + SEPLEN, size - mlen - SEPLEN);
	if ((loop = ev_loop_new(EVFLAG_AUTO)) == NULL)
		abort();
	o.data_path = dir;
	/* The broker with nothing opened: no listener, no tick. */
	nsqd_init(&n, loop, &o);
	if ((n.syncer = syncer_new(loop)) == NULL)
		abort();
	if (meta_load(&n) != 0)
		__builtin_trap();	/* damage is survived */
	if (n.loading || !n.meta_dirty)
		__builtin_trap();
	nsqd_free(&n);
	ev_loop_destroy(loop);
	if (nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == -1)
		abort();
	return 0;
}
