/*
 * libFuzzer target for the disk queue's reader (lib/diskqueue.c) on
 * arbitrary files: the input becomes a meta file and one or two data
 * files of queue "q" in one directory this process reuses (emptied
 * before each run, .bad files included); the queue is opened, read until
 * it is empty or a read fails, and closed.  Damage must be survived: no
 * crash, no hang (reads are bounded by what the files can hold), and a
 * data file given up on is renamed "<file>.bad", never left to be read
 * again.
 *
 * Byte 0: the meta file's length (the bytes after the header).
 * Byte 1: bits 0-3 the maximum record size, 1 << (2 * n) (up to 1 GiB:
 * a length the files cannot hold must not be allocated; min 0 or 1: bit 4);
 * bit 5: the data is split in two files, 000000 and 000001, at its
 * middle; bit 6: a small max_bytes_per_file (64) instead of 1 MiB; bit 7:
 * manual commit, committing every other read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diskqueue.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	dir[64];

static void
put_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* Remove what the last run left; the directory is reused. */
static void
empty_dir(void)
{
	char path[128 + 256];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == -1)
			abort();
	}
	closedir(d);
}

static void
remove_dir(void)
{
	empty_dir();
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dq_opts o;
	struct dq_pos pos;
	struct dq *dq;
	const void *p;
	char err[256];
	size_t mlen, dlen, half, len, reads, bound;
	int r;

	if (dir[0] == '\0') {
		/* tmpfs where there is one: the fsyncs cost nothing. */
		snprintf(dir, sizeof(dir), "%s/fuzz_diskqueue.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(remove_dir);
	}
	if (size < 2)
		return 0;
	empty_dir();
	mlen = data[0];
	if (mlen > size - 2)
		mlen = size - 2;
	dlen = size - 2 - mlen;
	put_file("q.diskqueue.meta.dat", data + 2, mlen);
	if (data[1] & 0x20) {
		half = dlen / 2;
		put_file("q.diskqueue.000000.dat", data + 2 + mlen, half);
		put_file("q.diskqueue.000001.dat", data + 2 + mlen + half,
		    dlen - half);
	} else
		put_file("q.diskqueue.000000.dat", data + 2 + mlen, dlen);

	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.name = "q";
	o.max_bytes_per_file = data[1] & 0x40 ? 64 : 1024 * 1024;
	o.min_msg_size = data[1] & 0x10 ? 1 : 0;
	o.max_msg_size = 1 << (2 * (data[1] & 0x0f));
	o.sync_every = 16;
	if ((dq = dq_open(&o, err, sizeof(err))) == NULL)
		abort();	/* only bad options or an unusable dir */
	if (data[1] & 0x80)
		dq_set_manual_commit(dq, true);
	/*
	 * Every record takes 4 bytes at least, so the files hold at most
	 * dlen / 4 + 1; anything more is the reader going round.
	 */
	bound = dlen / 4 + 2;
	for (reads = 0;; reads++) {
		r = dq_read(dq, &p, &len, &pos);
		if (r != 1)
			break;
		if (reads == bound)
			__builtin_trap();
		if (len < (size_t)o.min_msg_size ||
		    len > (size_t)o.max_msg_size)
			__builtin_trap();
		if ((data[1] & 0x80) && (reads & 1))
			(void)dq_commit(dq, &pos);
	}
	if (dq_depth(dq) < 0)
		__builtin_trap();
	(void)dq_close(dq);
	return 0;
}
