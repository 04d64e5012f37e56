/*
 * Unit tests for lib/diskqueue: a data directory written by Go nsqd 1.3.0
 * (tests/fixtures/go-nsqd-1.3.0) read back exactly, then rolling, meta
 * round trips, every kind of damage, crashes (a forked child that exits
 * without closing), a full disk, manual commit and a 200k-record run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"
#include "diskqueue.h"
#include "syncer.h"

#define NSQ_MAX_MSG	(1024 * 1024 + 26)	/* nsqd's defaults */
#define NSQ_MIN_MSG	26

/* What the queue logged, for asserting on. */
struct logbook {
	int	n;
	char	all[16384];
};

static void
logbook_add(void *arg, const char *msg)
{
	struct logbook *lb = arg;
	size_t len = strlen(lb->all);

	lb->n++;
	snprintf(lb->all + len, sizeof(lb->all) - len, "%s\n", msg);
}

static bool
logged(const struct logbook *lb, const char *needle)
{
	return strstr(lb->all, needle) != NULL;
}

/* ---- files and directories ---- */

static char *
make_tmpdir(void)
{
	char tmpl[] = "/tmp/test_diskqueue.XXXXXX";
	char *d;

	d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void
remove_tmpdir(char *dir)
{
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static char *
slurp(const char *path, size_t *lenp)
{
	struct stat st;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	close(fd);
	if (lenp != NULL)
		*lenp = (size_t)st.st_size;
	return p;
}

static void
spew(const char *path, const void *p, size_t len)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static char *
pathf(const char *dir, const char *fmt, ...)
{
	static char path[8][2 * PATH_MAX];
	static int slot;
	char name[PATH_MAX];
	va_list ap;
	char *p = path[slot++ % 8];

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(p, 2 * PATH_MAX, "%s/%s", dir, name);
	return p;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int64_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Directory entries, sorted, joined by spaces. */
static void
listing(const char *dir, char *out, size_t outlen)
{
	struct dirent **v;
	int n, i;
	size_t len = 0;

	n = scandir(dir, &v, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (v[i]->d_name[0] != '.') {
			len += (size_t)snprintf(out + len, outlen - len, "%s%s",
			    len ? " " : "", v[i]->d_name);
			assert_true(len < outlen);
		}
		free(v[i]);
	}
	free(v);
}

static void
assert_listing(const char *dir, const char *want)
{
	char got[4096];

	listing(dir, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
assert_meta(const char *dir, const char *name, const char *want)
{
	char *m;

	m = slurp(pathf(dir, "%s.diskqueue.meta.dat", name), NULL);
	assert_non_null(m);
	assert_string_equal(m, want);
	free(m);
}

/* The fixture directory, found from this binary's own path. */
static const char *
fixture_dir(void)
{
	static char dir[2 * PATH_MAX];
	char exe[PATH_MAX], *s;
	ssize_t n;
	int up;

	if (dir[0] != '\0')
		return dir;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* build/{plain,asan}/tests/test_diskqueue */
	for (up = 0; up < 4; up++) {
		s = strrchr(exe, '/');
		assert_non_null(s);
		*s = '\0';
	}
	snprintf(dir, sizeof(dir), "%s/tests/fixtures/go-nsqd-1.3.0/data",
	    exe);
	if (!exists(dir))	/* run from elsewhere: try the cwd */
		snprintf(dir, sizeof(dir), "tests/fixtures/go-nsqd-1.3.0/data");
	assert_true(exists(dir));
	return dir;
}

static void
copy_fixture(const char *dir, const char *file)
{
	size_t len;
	char *p;

	p = slurp(pathf(fixture_dir(), "%s", file), &len);
	assert_non_null(p);
	spew(pathf(dir, "%s", file), p, len);
	free(p);
}

/* ---- queues ---- */

/* A queue whose syncs run on syncer s (NULL: all synchronous). */
static struct dq *
open_q_syncer(const char *dir, const char *name, int64_t max_bytes,
    int32_t minsz, int32_t maxsz, int64_t sync_every, struct logbook *lb,
    struct syncer *s)
{
	struct dq_opts o = {
		.dir = dir,
		.name = name,
		.max_bytes_per_file = max_bytes,
		.min_msg_size = minsz,
		.max_msg_size = maxsz,
		.sync_every = sync_every,
		.logger = lb != NULL ? logbook_add : NULL,
		.logger_arg = lb,
		.syncer = s,
	};
	char err[256];
	struct dq *dq;

	dq = dq_open(&o, err, sizeof(err));
	if (dq == NULL)
		fail_msg("dq_open: %s", err);
	return dq;
}

static struct dq *
open_q(const char *dir, const char *name, int64_t max_bytes, int32_t minsz,
    int32_t maxsz, int64_t sync_every, struct logbook *lb)
{
	return open_q_syncer(dir, name, max_bytes, minsz, maxsz, sync_every,
	    lb, NULL);
}

/* A small queue for most tests: 8..4096-byte records. */
static struct dq *
open_small(const char *dir, int64_t max_bytes, struct logbook *lb)
{
	return open_q(dir, "t", max_bytes, 8, 4096, 0, lb);
}

/* Record i: "rec-%06d" then filler to `size` bytes. */
static size_t
make_rec(char *buf, int i, size_t size)
{
	size_t k;

	snprintf(buf, size + 1, "rec-%06d", i);
	for (k = 10; k < size; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	return size;
}

static void
put_n(struct dq *dq, int from, int to, size_t size)
{
	char buf[8192];
	int i;

	for (i = from; i < to; i++) {
		make_rec(buf, i, size);
		assert_int_equal(dq_put(dq, buf, size), 0);
	}
}

/* Read one record and check it is record i of `size` bytes. */
static void
expect_rec(struct dq *dq, int i, size_t size)
{
	char want[8192];
	const void *p;
	size_t len;

	make_rec(want, i, size);
	assert_int_equal(dq_read(dq, &p, &len, NULL), 1);
	assert_int_equal(len, size);
	if (memcmp(p, want, size) != 0)
		fail_msg("record %d: got %.10s", i, (const char *)p);
}

static void
expect_empty(struct dq *dq)
{
	const void *p;
	size_t len;

	assert_int_equal(dq_read(dq, &p, &len, NULL), 0);
	assert_int_equal(dq_depth(dq), 0);
}

/* Run fn in a child that then dies without closing: a crash. */
static void
crash_after(void (*fn)(const char *), const char *dir)
{
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		fn(dir);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- the Go nsqd 1.3.0 data directory ---- */

struct nsqmsg {
	int64_t		 ts;
	uint16_t	 attempts;
	char		 id[17];
	const char	*body;
	size_t		 len;
};

static void
decode(const void *p, size_t len, struct nsqmsg *m)
{
	const char *b = p;
	int i;

	assert_true(len >= 26);
	m->ts = (int64_t)be64dec(b);
	m->attempts = be16dec(b + 8);
	memcpy(m->id, b + 10, 16);
	m->id[16] = '\0';
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", m->id[i]));
	m->body = b + 26;
	m->len = len - 26;
}

static bool
text_body(const struct nsqmsg *m, const char *prefix, int *num)
{
	size_t plen = strlen(prefix);
	char tmp[8];

	if (m->len != plen + 4 || memcmp(m->body, prefix, plen) != 0)
		return false;
	memcpy(tmp, m->body + plen, 4);
	tmp[4] = '\0';
	*num = atoi(tmp);
	return true;
}

/*
 * Read a fixture queue to the end.  Text bodies prefix0000.. must each
 * appear once; returns the count and the first and last bodies.
 */
static int
drain_fixture(struct dq *dq, const char *prefix, int ntext,
    char *first, char *last, int *binaries)
{
	static const char odd[] = "line1\nline2\r\n\0end";
	unsigned char seen[1000] = { 0 };
	struct nsqmsg m;
	const void *p;
	size_t len, k;
	int n = 0, num, r;

	*binaries = 0;
	while ((r = dq_read(dq, &p, &len, NULL)) == 1) {
		decode(p, len, &m);
		assert_int_equal(m.attempts, 0);
		assert_true(m.ts > 1600000000LL * 1000000000LL);
		if (text_body(&m, prefix, &num)) {
			assert_true(num >= 0 && num < ntext);
			assert_int_equal(seen[num], 0);
			seen[num] = 1;
		} else if (m.len == 256) {
			for (k = 0; k < 256; k++)
				assert_int_equal((unsigned char)m.body[k], k);
			assert_int_equal(*binaries, 0);
			(*binaries)++;
		} else if (m.len == 102400) {
			for (k = 0; k < m.len; k++)
				assert_int_equal(m.body[k], 'x');
			assert_int_equal(*binaries, 1);
			(*binaries)++;
		} else if (m.len == sizeof(odd) - 1) {
			assert_memory_equal(m.body, odd, m.len);
			assert_int_equal(*binaries, 2);
			(*binaries)++;
		} else
			fail_msg("unexpected body of %zu bytes", m.len);
		if (n == 0)
			snprintf(first, 64, "%.*s", (int)m.len, m.body);
		snprintf(last, 64, "%.*s", (int)m.len, m.body);
		n++;
	}
	assert_int_equal(r, 0);
	for (num = 0; num < ntext; num++)
		assert_int_equal(seen[num], 1);
	return n;
}

static void
test_fixture_channel(void **state)
{
	struct logbook lb = { 0 };
	char first[64], last[64], *dir, *orig, *now;
	size_t olen, nlen;
	struct dq *dq;
	int bins;

	(void)state;
	dir = make_tmpdir();
	copy_fixture(dir, "archive:c1.diskqueue.000000.dat");
	copy_fixture(dir, "archive:c1.diskqueue.meta.dat");
	dq = open_q(dir, "archive:c1", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, &lb);
	assert_int_equal(dq_depth(dq), 1003);
	assert_int_equal(drain_fixture(dq, "archive-", 1000, first, last,
	    &bins), 1003);
	/* Disk order is Go's (memory queue flushed last), not publish order. */
	assert_string_equal(first, "archive-0100");
	assert_string_equal(last, "archive-0099");
	assert_int_equal(bins, 3);
	assert_int_equal(dq_depth(dq), 0);
	assert_int_equal(dq_close(dq), 0);

	/* As Go leaves it: the write file kept as is, the meta at its end. */
	assert_listing(dir, "archive:c1.diskqueue.000000.dat "
	    "archive:c1.diskqueue.meta.dat");
	assert_meta(dir, "archive:c1", "0\n0,144763\n0,144763\n");
	orig = slurp(pathf(fixture_dir(), "archive:c1.diskqueue.000000.dat"),
	    &olen);
	now = slurp(pathf(dir, "archive:c1.diskqueue.000000.dat"), &nlen);
	assert_int_equal(olen, nlen);
	assert_memory_equal(orig, now, olen);
	free(orig);
	free(now);
	assert_int_equal(lb.n, 0);

	/* And it stays empty. */
	dq = open_q(dir, "archive:c1", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, &lb);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	remove_tmpdir(dir);
}

static void
test_fixture_topics(void **state)
{
	char first[64], last[64], *dir;
	struct logbook lb = { 0 };
	struct dq *dq;
	const void *p;
	size_t len;
	int bins;

	(void)state;
	dir = make_tmpdir();
	copy_fixture(dir, "pending.diskqueue.000000.dat");
	copy_fixture(dir, "pending.diskqueue.meta.dat");
	copy_fixture(dir, "paused_topic.diskqueue.000000.dat");
	copy_fixture(dir, "paused_topic.diskqueue.meta.dat");
	copy_fixture(dir, "archive.diskqueue.000000.dat");
	copy_fixture(dir, "archive.diskqueue.meta.dat");

	dq = open_q(dir, "pending", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, &lb);
	assert_int_equal(dq_depth(dq), 300);
	assert_int_equal(drain_fixture(dq, "pending-", 300, first, last,
	    &bins), 300);
	assert_string_equal(first, "pending-0100");
	assert_string_equal(last, "pending-0099");
	assert_int_equal(bins, 0);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "pending", "0\n0,12600\n0,12600\n");

	dq = open_q(dir, "paused_topic", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, &lb);
	assert_int_equal(dq_depth(dq), 1);
	assert_int_equal(dq_read(dq, &p, &len, NULL), 1);
	assert_int_equal(len, 26 + 17);
	assert_memory_equal((const char *)p + 26, "held-while-paused", 17);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "paused_topic", "0\n0,47\n0,47\n");

	/* The topic's own queue was fully read: nothing, nothing changes. */
	dq = open_q(dir, "archive", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, &lb);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "archive", "0\n0,8904\n0,8904\n");
	assert_int_equal(size_of(pathf(dir, "archive.diskqueue.000000.dat")),
	    8904);

	assert_listing(dir, "archive.diskqueue.000000.dat "
	    "archive.diskqueue.meta.dat "
	    "paused_topic.diskqueue.000000.dat "
	    "paused_topic.diskqueue.meta.dat "
	    "pending.diskqueue.000000.dat pending.diskqueue.meta.dat");
	assert_int_equal(lb.n, 0);
	remove_tmpdir(dir);
}

/* Appending to a Go-written queue continues its file in Go's format. */
static void
test_fixture_append(void **state)
{
	char *dir, *p, body[40];
	struct dq *dq;
	size_t len;

	(void)state;
	dir = make_tmpdir();
	copy_fixture(dir, "paused_topic.diskqueue.000000.dat");
	copy_fixture(dir, "paused_topic.diskqueue.meta.dat");
	dq = open_q(dir, "paused_topic", 100 * 1024 * 1024, NSQ_MIN_MSG,
	    NSQ_MAX_MSG, 2500, NULL);
	memset(body, 'z', sizeof(body));
	assert_int_equal(dq_put(dq, body, 30), 0);
	assert_int_equal(dq_depth(dq), 2);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "paused_topic", "2\n0,0\n0,81\n");
	p = slurp(pathf(dir, "paused_topic.diskqueue.000000.dat"), &len);
	assert_int_equal(len, 81);
	assert_memory_equal(p + 47, "\0\0\0\x1e", 4);
	assert_memory_equal(p + 51, body, 30);
	free(p);
	remove_tmpdir(dir);
}

/* ---- format, rolling, positions ---- */

static void
test_format_and_meta(void **state)
{
	struct logbook lb = { 0 };
	char *dir, *p;
	struct dq *dq;
	size_t len;
	int i;

	(void)state;
	dir = make_tmpdir();
	dq = open_small(dir, 1024 * 1024, &lb);
	assert_int_equal(dq_depth(dq), 0);
	assert_false(dq_dirty(dq));
	put_n(dq, 0, 10, 20);
	assert_true(dq_dirty(dq));
	/* Buffered: nothing reached the file yet. */
	assert_false(exists(pathf(dir, "t.diskqueue.000000.dat")) &&
	    size_of(pathf(dir, "t.diskqueue.000000.dat")) > 0);
	assert_int_equal(dq_flush(dq), 0);
	p = slurp(pathf(dir, "t.diskqueue.000000.dat"), &len);
	assert_int_equal(len, 240);
	for (i = 0; i < 10; i++)
		assert_memory_equal(p + i * 24, "\0\0\0\x14", 4);
	assert_memory_equal(p + 4, "rec-000000", 10);
	free(p);
	/* No meta before the first sync, as Go. */
	assert_false(exists(pathf(dir, "t.diskqueue.meta.dat")));

	for (i = 0; i < 3; i++)
		expect_rec(dq, i, 20);
	assert_int_equal(dq_depth(dq), 7);
	assert_int_equal(dq_sync(dq), 0);
	assert_false(dq_dirty(dq));
	assert_meta(dir, "t", "7\n0,72\n0,240\n");
	assert_listing(dir, "t.diskqueue.000000.dat t.diskqueue.meta.dat");
	expect_rec(dq, 3, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "6\n0,96\n0,240\n");

	/* Reopen mid-file: reading resumes at record 4, writing appends. */
	dq = open_small(dir, 1024 * 1024, &lb);
	assert_int_equal(dq_depth(dq), 6);
	put_n(dq, 10, 12, 20);
	for (i = 4; i < 12; i++)
		expect_rec(dq, i, 20);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "0\n0,288\n0,288\n");
	assert_int_equal(lb.n, 0);
	remove_tmpdir(dir);
}

static void
test_roll_small_files(void **state)
{
	struct logbook lb = { 0 };
	struct dq_pos pos;
	char *dir, want[64];
	struct dq *dq;
	const void *p;
	size_t len;
	int i;

	(void)state;
	dir = make_tmpdir();
	/* 30-byte records are 34 on disk: two fit in 100 bytes. */
	dq = open_small(dir, 100, &lb);
	put_n(dq, 0, 100, 30);
	assert_int_equal(dq_depth(dq), 100);
	assert_int_equal(dq_sync(dq), 0);
	assert_meta(dir, "t", "100\n0,0\n49,68\n");
	for (i = 0; i < 50; i++)
		assert_int_equal(size_of(pathf(dir,
		    "t.diskqueue.%06d.dat", i)), 68);

	for (i = 0; i < 100; i++) {
		make_rec(want, i, 30);
		assert_int_equal(dq_read(dq, &p, &len, &pos), 1);
		assert_int_equal(len, 30);
		assert_memory_equal(p, want, 30);
		assert_int_equal(pos.file, i / 2);
		assert_int_equal(pos.off, (i % 2) * 34);
		/* Read files go as soon as they are done. */
		if (i % 2 == 1 && i < 98)
			assert_false(exists(pathf(dir, "t.diskqueue.%06d.dat",
			    i / 2)));
	}
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000049.dat t.diskqueue.meta.dat");
	assert_meta(dir, "t", "0\n49,68\n49,68\n");

	/* A record bigger than a file goes alone in its own. */
	dq = open_small(dir, 100, &lb);
	put_n(dq, 0, 1, 10);
	put_n(dq, 1, 2, 500);
	put_n(dq, 2, 3, 10);
	assert_int_equal(dq_sync(dq), 0);
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000049.dat")), 82);
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000050.dat")), 504);
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000051.dat")), 14);
	expect_rec(dq, 0, 10);
	expect_rec(dq, 1, 500);
	expect_rec(dq, 2, 10);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	remove_tmpdir(dir);
}

/*
 * A reader that keeps up with the writer sits at the end of the write
 * file when it rolls.  Go v1.1.0 then reads EOF and renames the finished
 * file to .bad; we step over to the next file.
 */
static void
test_reader_follows_writer(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;
	int i, next = 0;

	(void)state;
	dir = make_tmpdir();
	dq = open_small(dir, 200, &lb);
	for (i = 0; i < 300; i++) {
		put_n(dq, i, i + 1, 40);
		if (i % 7 == 3)
			assert_int_equal(dq_flush(dq), 0);
		if (i % 3 == 0)
			while (next <= i)
				expect_rec(dq, next++, 40);
	}
	while (next < 300)
		expect_rec(dq, next++, 40);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	/* Only the write file and the meta are left. */
	assert_listing(dir, "t.diskqueue.000074.dat t.diskqueue.meta.dat");
	remove_tmpdir(dir);
}

static void
test_sync_every(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	dq = open_q(dir, "t", 1 << 20, 8, 4096, 10, NULL);
	put_n(dq, 0, 9, 20);
	assert_false(exists(pathf(dir, "t.diskqueue.meta.dat")));
	assert_true(dq_dirty(dq));
	put_n(dq, 9, 10, 20);		/* the 10th op syncs */
	assert_meta(dir, "t", "10\n0,0\n0,240\n");
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000000.dat")), 240);
	assert_false(dq_dirty(dq));
	assert_int_equal(dq_needs_sync(dq), 0);
	/* Reads count too. */
	expect_rec(dq, 0, 20);
	assert_true(dq_dirty(dq));
	put_n(dq, 10, 18, 20);
	expect_rec(dq, 1, 20);
	assert_meta(dir, "t", "16\n0,48\n0,432\n");
	assert_false(dq_dirty(dq));

	/* A sync that fails stays due, is logged once, and is retried. */
	dq_set_logger(dq, logbook_add, &lb);
	dq_fault_inject(dq, 0, EIO);
	put_n(dq, 18, 30, 20);
	assert_int_equal(dq_needs_sync(dq), 1);
	assert_int_equal(lb.n, 1);
	assert_true(logged(&lb, "failed to sync - Input/output error"));
	assert_meta(dir, "t", "16\n0,48\n0,432\n");
	dq_fault_inject(dq, -1, 0);
	put_n(dq, 30, 31, 20);
	assert_int_equal(dq_needs_sync(dq), 0);
	assert_meta(dir, "t", "29\n0,48\n0,744\n");
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

static void
test_bad_sizes_and_options(void **state)
{
	struct dq_opts o = { 0 };
	char err[128], big[5000], *dir;
	struct dq *dq;

	(void)state;
	dir = make_tmpdir();
	dq = open_small(dir, 1 << 20, NULL);
	memset(big, 'b', sizeof(big));
	errno = 0;
	assert_int_equal(dq_put(dq, big, 7), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dq_put(dq, big, 4097), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dq_put(dq, big, 4096), 0);
	assert_int_equal(dq_put(dq, big, 8), 0);
	assert_int_equal(dq_depth(dq), 2);
	assert_int_equal(dq_close(dq), 0);

	assert_null(dq_open(NULL, err, sizeof(err)));
	o.dir = dir;
	o.name = "t";
	o.max_bytes_per_file = 0;
	o.max_msg_size = 10;
	assert_null(dq_open(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "invalid"));
	o.max_bytes_per_file = 100;
	o.min_msg_size = 11;
	assert_null(dq_open(&o, err, sizeof(err)));
	o.min_msg_size = 1;
	o.name = "a/b";
	assert_null(dq_open(&o, err, sizeof(err)));
	o.name = "t";
	o.dir = "/nonexistent/dir";
	assert_null(dq_open(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir"));
	remove_tmpdir(dir);
}

/* ---- damage ---- */

/* Three full files of 4 records (0-3, 4-7, 8-11) and 2 in a fourth. */
static void
make_four_files(const char *dir)
{
	struct dq *dq;

	dq = open_small(dir, 100, NULL);
	put_n(dq, 0, 14, 20);	/* 24 bytes each: 4 per 100-byte file */
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "14\n0,0\n3,48\n");
}

static void
poke(const char *path, int64_t off, const void *p, size_t len)
{
	int fd;

	fd = open(path, O_WRONLY);
	assert_true(fd != -1);
	assert_int_equal(pwrite(fd, p, len, off), (ssize_t)len);
	close(fd);
}

static void
expect_recs(struct dq *dq, const int *want, int n)
{
	int i;

	for (i = 0; i < n; i++)
		expect_rec(dq, want[i], 20);
	expect_empty(dq);
}

static void
test_truncated_record(void **state)
{
	static const int want[] = { 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13 };
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	/* Cut file 0 into its last record. */
	assert_int_equal(truncate(pathf(dir, "t.diskqueue.000000.dat"), 90),
	    0);
	dq = open_small(dir, 100, &lb);
	expect_recs(dq, want, 13);
	assert_true(logged(&lb, "t.diskqueue.000000.dat - unexpected EOF"));
	assert_true(logged(&lb, "saving bad file as"));
	assert_true(logged(&lb, "positive depth at tail (1)"));
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000000.dat.bad "
	    "t.diskqueue.000003.dat t.diskqueue.meta.dat");
	assert_meta(dir, "t", "0\n3,48\n3,48\n");
	remove_tmpdir(dir);
}

static void
test_bad_length(void **state)
{
	static const int want[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	static const unsigned char lens[3][4] = {
		{ 0, 0, 0, 7 },			/* below min_msg_size */
		{ 0, 0, 0x10, 1 },		/* above max_msg_size */
		{ 0xff, 0xff, 0xff, 0xff },	/* negative */
	};
	struct logbook lb;
	struct dq *dq;
	char *dir;
	int k;

	(void)state;
	for (k = 0; k < 3; k++) {
		memset(&lb, 0, sizeof(lb));
		dir = make_tmpdir();
		make_four_files(dir);
		/* Damage record 1's length: only record 0 survives. */
		poke(pathf(dir, "t.diskqueue.000000.dat"), 24, lens[k], 4);
		dq = open_small(dir, 100, &lb);
		expect_rec(dq, 0, 20);
		expect_recs(dq, want, 10);
		assert_true(logged(&lb, "invalid message read size"));
		assert_true(exists(pathf(dir, "t.diskqueue.000000.dat.bad")));
		assert_int_equal(dq_close(dq), 0);
		remove_tmpdir(dir);
	}
}

static void
test_bad_write_file(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	dq = open_small(dir, 1 << 20, NULL);
	put_n(dq, 0, 3, 20);
	assert_int_equal(dq_close(dq), 0);
	poke(pathf(dir, "t.diskqueue.000000.dat"), 24, "\0\0\0\0", 4);

	dq = open_small(dir, 1 << 20, &lb);
	put_n(dq, 3, 5, 20);		/* still in the write buffer */
	expect_rec(dq, 0, 20);
	/* The damaged write file is dropped; writing moves on, and the
	 * buffered records 3 and 4 move with it. */
	expect_rec(dq, 3, 20);
	expect_rec(dq, 4, 20);
	expect_empty(dq);
	assert_true(logged(&lb, "invalid message read size (0)"));
	put_n(dq, 5, 6, 20);
	expect_rec(dq, 5, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000000.dat.bad "
	    "t.diskqueue.000001.dat t.diskqueue.meta.dat");
	assert_meta(dir, "t", "0\n1,72\n1,72\n");

	/* Flushed records after the damage are lost with the file, as Go. */
	memset(&lb, 0, sizeof(lb));
	dq = open_small(dir, 1 << 20, &lb);
	put_n(dq, 6, 8, 20);
	assert_int_equal(dq_flush(dq), 0);
	poke(pathf(dir, "t.diskqueue.000001.dat"), 72, "\0\0\0\0", 4);
	expect_empty(dq);
	assert_true(logged(&lb, "positive depth at tail (2)"));
	put_n(dq, 8, 9, 20);
	expect_rec(dq, 8, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_true(exists(pathf(dir, "t.diskqueue.000001.dat.bad")));
	assert_meta(dir, "t", "0\n2,24\n2,24\n");
	remove_tmpdir(dir);
}

static void
test_missing_and_empty_files(void **state)
{
	static const int want[] = { 0, 1, 2, 3, 12, 13 };
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	/* File 1 gone, file 2 empty. */
	assert_int_equal(unlink(pathf(dir, "t.diskqueue.000001.dat")), 0);
	assert_int_equal(truncate(pathf(dir, "t.diskqueue.000002.dat"), 0),
	    0);
	dq = open_small(dir, 100, &lb);
	assert_int_equal(dq_depth(dq), 14);
	expect_recs(dq, want, 6);
	assert_true(logged(&lb, "t.diskqueue.000001.dat missing"));
	assert_true(logged(&lb, "t.diskqueue.000002.dat - empty file"));
	assert_true(logged(&lb, "positive depth at tail (8)"));
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000002.dat.bad "
	    "t.diskqueue.000003.dat t.diskqueue.meta.dat");
	remove_tmpdir(dir);
}

static void
test_read_pos_past_end(void **state)
{
	static const int want[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	struct logbook lb = { 0 };
	struct dq *dq;
	const char *meta = "14\n0,500\n3,48\n";
	char *dir;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	spew(pathf(dir, "t.diskqueue.meta.dat"), meta, strlen(meta));
	dq = open_small(dir, 100, &lb);
	expect_recs(dq, want, 10);
	assert_true(logged(&lb, "read position past end of file"));
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/* Go can persist a read position at the very end of a finished file. */
static void
test_read_pos_at_end(void **state)
{
	static const int want[] = { 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	struct logbook lb = { 0 };
	struct dq *dq;
	const char *meta = "10\n0,96\n3,48\n";
	char *dir;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	spew(pathf(dir, "t.diskqueue.meta.dat"), meta, strlen(meta));
	dq = open_small(dir, 100, &lb);
	expect_recs(dq, want, 10);
	assert_int_equal(lb.n, 0);
	assert_false(exists(pathf(dir, "t.diskqueue.000000.dat")));
	assert_false(exists(pathf(dir, "t.diskqueue.000000.dat.bad")));
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/*
 * The four files of make_four_files under the meta file text meta: the
 * queue opens with depth records and logs what says why.
 */
static void
meta_over_four(const char *meta, int64_t depth, const char *says)
{
	struct logbook lb;
	struct dq *dq;
	char *dir;

	memset(&lb, 0, sizeof(lb));
	dir = make_tmpdir();
	make_four_files(dir);
	spew(pathf(dir, "t.diskqueue.meta.dat"), meta, strlen(meta));
	dq = open_small(dir, 100, &lb);
	assert_int_equal(dq_depth(dq), depth);
	assert_true(logged(&lb, says));
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

static void
test_garbage_meta(void **state)
{
	static const char *const garbage[] = {
		"garbage\n",
		"14\n0,0\n",
		"14\n0,0\n3;48\n",
		"14\n0,-5\n3,48\n",
		"14\n2,0\n1,48\n",
		"14\n0,0\n3,99999999999999999999999\n",
		"",
	};
	struct logbook lb;
	struct dq *dq;
	char *dir;
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < sizeof(garbage) / sizeof(garbage[0]); k++) {
		memset(&lb, 0, sizeof(lb));
		dir = make_tmpdir();
		make_four_files(dir);
		spew(pathf(dir, "t.diskqueue.meta.dat"), garbage[k],
		    strlen(garbage[k]));
		/* Nothing is lost: the four files are adopted and read. */
		dq = open_small(dir, 100, &lb);
		assert_int_equal(dq_depth(dq), 14);
		assert_true(logged(&lb, "adopted 4 data files "
		    "(000000..000003) holding 14 records"));
		put_n(dq, 14, 15, 20);
		for (i = 0; i < 15; i++)
			expect_rec(dq, i, 20);
		expect_empty(dq);
		assert_int_equal(dq_close(dq), 0);
		assert_listing(dir, "t.diskqueue.000004.dat "
		    "t.diskqueue.meta.dat");
		assert_meta(dir, "t", "0\n4,24\n4,24\n");
		remove_tmpdir(dir);
	}

	/* Garbage and no data files: an empty queue. */
	memset(&lb, 0, sizeof(lb));
	dir = make_tmpdir();
	spew(pathf(dir, "t.diskqueue.meta.dat"), "x", 1);
	dq = open_small(dir, 100, &lb);
	expect_empty(dq);
	assert_true(logged(&lb, "no data files, starting empty"));
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "0\n0,0\n0,0\n");
	remove_tmpdir(dir);

	/* A negative depth is recounted. */
	meta_over_four("-3\n1,24\n3,48\n", 9, "negative depth -3");
	/*
	 * A negative depth with the write file 10^15 files on: only the
	 * files there are counted (stepping through the gap never ended;
	 * the fuzzer found it).
	 */
	meta_over_four("-1\n1,24\n1000000000000000,0\n", 9,
	    "negative depth -1 in metadata, counted 9 records");
	/*
	 * A write file numbered INT64_MAX: garbage, not a file to skip past
	 * (its successor overflowed; the fuzzer found it).
	 */
	meta_over_four("-1\n0,0\n9223372036854775807,70\n", 14,
	    "has positions past any file; adopted 4");
}

static ino_t
meta_inode(const char *dir)
{
	struct stat st;

	assert_int_equal(stat(pathf(dir, "t.diskqueue.meta.dat"), &st), 0);
	return st.st_ino;
}

/*
 * A close rewrites the meta file (a new file renamed over it) only when
 * the queue changed since it was last written: an idle queue is left
 * alone, one written to or read from is synced as Go syncs it.
 */
static void
test_close_clean_queue(void **state)
{
	struct dq *dq;
	ino_t ino;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	dq = open_small(dir, 100, NULL);
	put_n(dq, 0, 6, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "6\n0,0\n1,48\n");
	ino = meta_inode(dir);

	/* Opened and closed untouched: the same file. */
	dq = open_small(dir, 100, NULL);
	assert_int_equal(dq_close(dq), 0);
	assert_true(meta_inode(dir) == ino);

	/* A read: rewritten, with the new position. */
	dq = open_small(dir, 100, NULL);
	expect_rec(dq, 0, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_true(meta_inode(dir) != ino);
	assert_meta(dir, "t", "5\n0,24\n1,48\n");
	ino = meta_inode(dir);

	/* A write: rewritten too. */
	dq = open_small(dir, 100, NULL);
	put_n(dq, 6, 7, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_true(meta_inode(dir) != ino);
	assert_meta(dir, "t", "6\n0,24\n1,72\n");
	ino = meta_inode(dir);

	/* Synced since the last write, then closed: left alone. */
	dq = open_small(dir, 100, NULL);
	expect_rec(dq, 1, 20);
	assert_int_equal(dq_sync(dq), 0);
	ino = meta_inode(dir);
	assert_int_equal(dq_close(dq), 0);
	assert_true(meta_inode(dir) == ino);
	assert_meta(dir, "t", "5\n0,48\n1,72\n");
	remove_tmpdir(dir);
}

static void
test_missing_meta(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;
	int i;

	(void)state;
	/* Nothing at all: a new queue at 0,0, silently, as Go. */
	dir = make_tmpdir();
	dq = open_small(dir, 100, &lb);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	assert_meta(dir, "t", "0\n0,0\n0,0\n");
	remove_tmpdir(dir);

	/* Data files but no meta: adopted, where Go would overwrite. */
	dir = make_tmpdir();
	make_four_files(dir);
	assert_int_equal(unlink(pathf(dir, "t.diskqueue.meta.dat")), 0);
	dq = open_small(dir, 100, &lb);
	assert_int_equal(dq_depth(dq), 14);
	assert_true(logged(&lb, "missing; adopted 4 data files"));
	for (i = 0; i < 14; i++)
		expect_rec(dq, i, 20);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/* The child: 10 records synced, 5 more written but never synced. */
static void
child_unsynced_tail(const char *dir)
{
	struct dq *dq;

	dq = open_small(dir, 1 << 20, NULL);
	put_n(dq, 0, 10, 20);
	if (dq_sync(dq) != 0)
		_exit(1);
	put_n(dq, 10, 15, 20);
	if (dq_flush(dq) != 0)
		_exit(1);
}

static void
test_unsynced_tail(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;
	int i;

	(void)state;
	dir = make_tmpdir();
	crash_after(child_unsynced_tail, dir);
	assert_meta(dir, "t", "10\n0,0\n0,240\n");
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000000.dat")), 360);

	dq = open_small(dir, 1 << 20, &lb);
	assert_true(logged(&lb, "metadata writePos 240 < file size of 360, "
	    "skipping to new file (5 more records)"));
	assert_int_equal(dq_depth(dq), 15);
	put_n(dq, 15, 17, 20);		/* into file 1, never after the tail */
	for (i = 0; i < 17; i++)
		expect_rec(dq, i, 20);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000001.dat t.diskqueue.meta.dat");
	assert_meta(dir, "t", "0\n1,48\n1,48\n");
	assert_int_equal(lb.n, 1);
	remove_tmpdir(dir);
}

/* A write file shorter than the meta says, and a file past it. */
static void
test_short_write_file_and_files_past(void **state)
{
	static const int want[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13 };
	struct logbook lb = { 0 };
	struct dq *dq;
	const char *meta;
	char *dir;
	int i;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	/* Meta from before the last roll: write file 2 at 72. */
	meta = "11\n0,0\n2,72\n";
	spew(pathf(dir, "t.diskqueue.meta.dat"), meta, strlen(meta));
	dq = open_small(dir, 100, &lb);
	assert_true(logged(&lb, "metadata writePos 72 < file size of 96"));
	assert_true(logged(&lb, "t.diskqueue.000003.dat exists past the "
	    "metadata's write position (2 records)"));
	assert_int_equal(dq_depth(dq), 14);
	expect_recs(dq, want, 14);
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "0\n4,0\n4,0\n");
	remove_tmpdir(dir);

	memset(&lb, 0, sizeof(lb));
	dir = make_tmpdir();
	make_four_files(dir);
	assert_int_equal(truncate(pathf(dir, "t.diskqueue.000003.dat"), 24),
	    0);
	dq = open_small(dir, 100, &lb);
	assert_true(logged(&lb, "metadata writePos 48 > file size of 24"));
	put_n(dq, 14, 15, 20);
	for (i = 0; i < 13; i++)	/* 13 was lost */
		expect_rec(dq, want[i], 20);
	expect_rec(dq, 14, 20);
	expect_empty(dq);
	assert_true(logged(&lb, "positive depth at tail (1)"));
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/* ---- empty, delete ---- */

static void
test_empty_and_delete(void **state)
{
	struct dq *dq;
	char *dir;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	dq = open_small(dir, 100, NULL);
	expect_rec(dq, 0, 20);
	put_n(dq, 100, 101, 20);
	assert_int_equal(dq_empty(dq), 0);
	assert_int_equal(dq_depth(dq), 0);
	assert_listing(dir, "");
	expect_empty(dq);
	put_n(dq, 14, 16, 20);
	expect_rec(dq, 14, 20);
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000004.dat t.diskqueue.meta.dat");
	assert_meta(dir, "t", "1\n4,24\n4,48\n");

	dq = open_small(dir, 100, NULL);
	expect_rec(dq, 15, 20);
	put_n(dq, 16, 30, 20);
	assert_int_equal(dq_delete(dq), 0);
	assert_listing(dir, "");
	remove_tmpdir(dir);
}

/* ---- a full disk ---- */

static void
test_enospc(void **state)
{
	static char big[40000];
	struct dq *dq;
	const void *p;
	size_t len;
	char *dir;
	int64_t before;

	(void)state;
	dir = make_tmpdir();
	dq = open_q(dir, "t", 1 << 20, 8, 65536, 0, NULL);
	put_n(dq, 0, 5, 20);
	assert_int_equal(dq_flush(dq), 0);
	before = size_of(pathf(dir, "t.diskqueue.000000.dat"));
	assert_int_equal(before, 120);

	dq_fault_inject(dq, 10, ENOSPC);
	memset(big, 'A', sizeof(big));
	assert_int_equal(dq_put(dq, big, sizeof(big)), 0);	/* buffered */
	memset(big, 'B', sizeof(big));
	errno = 0;
	assert_int_equal(dq_put(dq, big, sizeof(big)), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(dq_depth(dq), 6);
	/* The partial write was cut back. */
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000000.dat")),
	    before);
	assert_int_equal(dq_flush(dq), -1);
	assert_int_equal(dq_sync(dq), -1);
	assert_true(dq_dirty(dq));

	/* What was acknowledged still reads back, B was never taken. */
	put_n(dq, 5, 6, 20);
	assert_int_equal(dq_depth(dq), 7);
	expect_rec(dq, 0, 20);
	expect_rec(dq, 1, 20);

	dq_fault_inject(dq, -1, 0);
	assert_int_equal(dq_close(dq), 0);
	dq = open_q(dir, "t", 1 << 20, 8, 65536, 0, NULL);
	assert_int_equal(dq_depth(dq), 5);
	expect_rec(dq, 2, 20);
	expect_rec(dq, 3, 20);
	expect_rec(dq, 4, 20);
	assert_int_equal(dq_read(dq, &p, &len, NULL), 1);
	assert_int_equal(len, sizeof(big));
	assert_int_equal(((const char *)p)[0], 'A');
	expect_rec(dq, 5, 20);
	assert_int_equal(dq_read(dq, &p, &len, NULL), 0);
	assert_int_equal(dq_close(dq), 0);
	assert_listing(dir, "t.diskqueue.000000.dat t.diskqueue.meta.dat");

	/* Failing during a roll: the put fails, nothing moves. */
	dq = open_q(dir, "t", 200, 8, 65536, 0, NULL);
	put_n(dq, 0, 4, 40);
	dq_fault_inject(dq, 0, EIO);
	errno = 0;
	assert_int_equal(dq_put(dq, big, 100), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(dq_depth(dq), 4);
	dq_fault_inject(dq, -1, 0);
	assert_int_equal(dq_put(dq, big, 100), 0);
	expect_rec(dq, 0, 40);
	expect_rec(dq, 1, 40);
	expect_rec(dq, 2, 40);
	expect_rec(dq, 3, 40);
	assert_int_equal(dq_read(dq, &p, &len, NULL), 1);
	assert_int_equal(len, 100);
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/* ---- manual commit ---- */

static void
child_manual(const char *dir)
{
	struct dq_pos pos[8];
	struct dq *dq;
	const void *p;
	size_t len;
	int i;

	dq = open_small(dir, 1 << 20, NULL);
	dq_set_manual_commit(dq, true);
	put_n(dq, 0, 10, 20);
	for (i = 0; i < 6; i++)
		if (dq_read(dq, &p, &len, &pos[i]) != 1)
			_exit(1);
	if (dq_uncommitted(dq) != 6 || dq_depth(dq) != 4)
		_exit(2);
	if (dq_commit(dq, &pos[3]) != 0 || dq_uncommitted(dq) != 3)
		_exit(3);
	if (dq_sync(dq) != 0)
		_exit(4);
	/* Read ahead, never committed: lost in the crash, and back. */
	for (i = 6; i < 8; i++)
		if (dq_read(dq, &p, &len, &pos[i]) != 1)
			_exit(5);
}

static void
test_manual_commit_crash(void **state)
{
	struct dq *dq;
	char *dir;
	int i;

	(void)state;
	dir = make_tmpdir();
	crash_after(child_manual, dir);
	assert_meta(dir, "t", "7\n0,72\n0,240\n");
	dq = open_small(dir, 1 << 20, NULL);
	assert_int_equal(dq_depth(dq), 7);
	for (i = 3; i < 10; i++)
		expect_rec(dq, i, 20);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/*
 * dq_sync_data: the first sync writes the meta file; a queue that only
 * grew since rewrites nothing but the data file; a read (the commit
 * position moved) rewrites the meta file again.  After a crash the
 * records past the meta file's write position are found and read.
 */
static void
child_sync_data(const char *dir)
{
	struct dq *dq = open_small(dir, 1 << 20, NULL);

	put_n(dq, 0, 10, 20);
	assert_int_equal(dq_sync_data(dq), 0);
	assert_meta(dir, "t", "10\n0,0\n0,240\n");
	put_n(dq, 10, 20, 20);
	assert_int_equal(dq_sync_data(dq), 0);
	assert_meta(dir, "t", "10\n0,0\n0,240\n");	/* unchanged */
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000000.dat")), 480);
	expect_rec(dq, 0, 20);
	assert_int_equal(dq_sync_data(dq), 0);
	assert_meta(dir, "t", "19\n0,24\n0,480\n");
	put_n(dq, 20, 25, 20);
	assert_int_equal(dq_sync_data(dq), 0);
	assert_meta(dir, "t", "19\n0,24\n0,480\n");
}

static void
test_sync_data(void **state)
{
	struct logbook lb = { 0 };
	struct dq *dq;
	char *dir;
	int i;

	(void)state;
	dir = make_tmpdir();
	crash_after(child_sync_data, dir);
	dq = open_small(dir, 1 << 20, &lb);
	assert_true(logged(&lb, "5 more records"));
	assert_int_equal(dq_depth(dq), 24);
	for (i = 1; i < 25; i++)
		expect_rec(dq, i, 20);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

static void
test_manual_commit_files(void **state)
{
	struct dq_pos pos[14], tell;
	struct dq *dq;
	const void *p;
	size_t len;
	char *dir;
	int i;

	(void)state;
	dir = make_tmpdir();
	make_four_files(dir);
	dq = open_small(dir, 100, NULL);
	dq_set_manual_commit(dq, true);
	for (i = 0; i < 10; i++)
		assert_int_equal(dq_read(dq, &p, &len, &pos[i]), 1);
	assert_int_equal(dq_depth(dq), 4);
	assert_int_equal(dq_uncommitted(dq), 10);
	/* Read files stay until committed past. */
	assert_true(exists(pathf(dir, "t.diskqueue.000000.dat")));
	assert_true(exists(pathf(dir, "t.diskqueue.000001.dat")));
	assert_int_equal(dq_sync(dq), 0);
	assert_meta(dir, "t", "14\n0,0\n3,48\n");

	assert_int_equal(dq_commit(dq, &pos[5]), 0);
	assert_false(exists(pathf(dir, "t.diskqueue.000000.dat")));
	assert_true(exists(pathf(dir, "t.diskqueue.000001.dat")));
	assert_int_equal(dq_uncommitted(dq), 5);
	assert_int_equal(dq_sync(dq), 0);
	assert_meta(dir, "t", "9\n1,24\n3,48\n");
	/* Committing backwards changes nothing. */
	assert_int_equal(dq_commit(dq, &pos[2]), 0);
	assert_int_equal(dq_uncommitted(dq), 5);

	/* Close without committing the rest: they come back. */
	assert_int_equal(dq_close(dq), 0);
	dq = open_small(dir, 100, NULL);
	dq_set_manual_commit(dq, true);
	assert_int_equal(dq_depth(dq), 9);
	for (i = 5; i < 14; i++)
		expect_rec(dq, i, 20);
	dq_tell(dq, &tell);
	assert_int_equal(tell.file, 3);
	assert_int_equal(tell.off, 48);
	assert_int_equal(dq_commit(dq, &tell), 0);
	assert_int_equal(dq_uncommitted(dq), 0);
	assert_listing(dir, "t.diskqueue.000003.dat t.diskqueue.meta.dat");
	assert_int_equal(dq_close(dq), 0);
	assert_meta(dir, "t", "0\n3,48\n3,48\n");

	/* Turning manual commit off commits what was read. */
	dq = open_small(dir, 100, NULL);
	dq_set_manual_commit(dq, true);
	put_n(dq, 20, 30, 20);
	for (i = 20; i < 25; i++)
		expect_rec(dq, i, 20);
	assert_int_equal(dq_uncommitted(dq), 5);
	dq_set_manual_commit(dq, false);
	assert_int_equal(dq_uncommitted(dq), 0);
	assert_int_equal(dq_close(dq), 0);
	dq = open_small(dir, 100, NULL);
	assert_int_equal(dq_depth(dq), 5);
	expect_rec(dq, 25, 20);
	assert_int_equal(dq_close(dq), 0);
	remove_tmpdir(dir);
}

/* ---- volume ---- */

static void
test_throughput(void **state)
{
	struct logbook lb = { 0 };
	char buf[128], dir_list[4096];
	struct dq *dq;
	const void *p;
	size_t len;
	char *dir;
	int w = 0, r = 0, round, i, n;

	(void)state;
	dir = make_tmpdir();
	dq = open_q(dir, "t", 1024 * 1024, 26, 4096, 2500, &lb);
	for (round = 0; w < 200000; round++) {
		n = 1000 + (round % 7) * 300;
		for (i = 0; i < n && w < 200000; i++, w++) {
			snprintf(buf, sizeof(buf), "%026d-%070d", w, w);
			assert_int_equal(dq_put(dq, buf, 97), 0);
		}
		for (i = 0; i < n / 2; i++, r++) {
			assert_int_equal(dq_read(dq, &p, &len, NULL), 1);
			assert_int_equal(len, 97);
			snprintf(buf, sizeof(buf), "%026d-%070d", r, r);
			if (memcmp(p, buf, 97) != 0)
				fail_msg("record %d out of order", r);
		}
	}
	assert_int_equal(dq_depth(dq), w - r);
	while (dq_read(dq, &p, &len, NULL) == 1) {
		snprintf(buf, sizeof(buf), "%026d-%070d", r, r);
		if (memcmp(p, buf, 97) != 0)
			fail_msg("record %d out of order", r);
		r++;
	}
	assert_int_equal(r, 200000);
	assert_int_equal(dq_depth(dq), 0);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	/* 200000 * 101 bytes in 1 MiB files: only the last one is left. */
	listing(dir, dir_list, sizeof(dir_list));
	assert_string_equal(dir_list,
	    "t.diskqueue.000019.dat t.diskqueue.meta.dat");
	remove_tmpdir(dir);
}

/*
 * With a syncer: syncs every 7 operations, rolls and the deletion of
 * files read past all run on its thread, and closing waits for them.
 * What was put reads back in order after a reopen without one, files the
 * reader finished are gone, and nothing failed.
 */
static void
test_with_syncer(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct syncer *s = syncer_new(loop);
	struct logbook lb = { 0 };
	char *dir = make_tmpdir(), list[4096];
	struct dq *dq;
	int i;

	(void)state;
	assert_non_null(s);
	dq = open_q_syncer(dir, "t", 1000, 8, 4096, 7, &lb, s);
	put_n(dq, 0, 500, 40);		/* 44 bytes a record: 22 a file */
	for (i = 0; i < 300; i++)
		expect_rec(dq, i, 40);
	assert_int_equal(dq_sync_soon(dq), 0);
	put_n(dq, 500, 510, 40);
	assert_int_equal(dq_sync_soon(dq), 0);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	/* Record 300 is in file 13 (22 a file): files 0..12 are gone. */
	listing(dir, list, sizeof(list));
	assert_null(strstr(list, "t.diskqueue.000012.dat"));
	assert_non_null(strstr(list, "t.diskqueue.000013.dat"));
	assert_null(strstr(list, ".tmp"));
	dq = open_small(dir, 1000, &lb);
	assert_int_equal(dq_depth(dq), 210);
	for (i = 300; i < 510; i++)
		expect_rec(dq, i, 40);
	expect_empty(dq);
	assert_int_equal(dq_close(dq), 0);
	assert_int_equal(lb.n, 0);
	syncer_free(s);
	ev_loop_destroy(loop);
	remove_tmpdir(dir);
}

/* Whether the meta file says want now. */
static bool
meta_is(const char *dir, const char *want)
{
	char *m = slurp(pathf(dir, "t.diskqueue.meta.dat"), NULL);
	bool eq = m != NULL && strcmp(m, want) == 0;

	free(m);
	return eq;
}

static void
never_fires(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	fail_msg("the meta file never caught up");
}

/*
 * A sync asked for while the queue's last one still runs on the syncer
 * is not lost: it starts when that one is done (its callback, through
 * the loop), and the meta file ends up saying the later state.
 */
static void
test_syncer_sync_after_sync(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct syncer *s = syncer_new(loop);
	char *dir = make_tmpdir();
	struct dq *dq;
	ev_timer guard;
	int turns;

	(void)state;
	assert_non_null(s);
	dq = open_q_syncer(dir, "t", 1 << 20, 8, 4096, 0, NULL, s);
	put_n(dq, 0, 5, 20);
	assert_int_equal(dq_sync_soon(dq), 0);	/* on the syncer */
	put_n(dq, 5, 10, 20);
	assert_int_equal(dq_sync_soon(dq), 0);	/* noted: runs after */
	ev_timer_init(&guard, never_fires, 30., 0.);
	ev_timer_start(loop, &guard);
	for (turns = 0; turns < 1000 &&
	    !meta_is(dir, "10\n0,0\n0,240\n"); turns++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	assert_meta(dir, "t", "10\n0,0\n0,240\n");
	assert_int_equal(size_of(pathf(dir, "t.diskqueue.000000.dat")), 240);
	assert_int_equal(dq_close(dq), 0);
	syncer_free(s);
	ev_loop_destroy(loop);
	remove_tmpdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_channel),
		cmocka_unit_test(test_fixture_topics),
		cmocka_unit_test(test_fixture_append),
		cmocka_unit_test(test_format_and_meta),
		cmocka_unit_test(test_roll_small_files),
		cmocka_unit_test(test_reader_follows_writer),
		cmocka_unit_test(test_sync_every),
		cmocka_unit_test(test_bad_sizes_and_options),
		cmocka_unit_test(test_truncated_record),
		cmocka_unit_test(test_bad_length),
		cmocka_unit_test(test_bad_write_file),
		cmocka_unit_test(test_missing_and_empty_files),
		cmocka_unit_test(test_read_pos_past_end),
		cmocka_unit_test(test_read_pos_at_end),
		cmocka_unit_test(test_garbage_meta),
		cmocka_unit_test(test_close_clean_queue),
		cmocka_unit_test(test_missing_meta),
		cmocka_unit_test(test_unsynced_tail),
		cmocka_unit_test(test_short_write_file_and_files_past),
		cmocka_unit_test(test_empty_and_delete),
		cmocka_unit_test(test_enospc),
		cmocka_unit_test(test_manual_commit_crash),
		cmocka_unit_test(test_manual_commit_files),
		cmocka_unit_test(test_sync_data),
		cmocka_unit_test(test_throughput),
		cmocka_unit_test(test_with_syncer),
		cmocka_unit_test(test_syncer_sync_after_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
