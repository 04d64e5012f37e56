/*
 * go-diskqueue v1.1.0, byte for byte on disk, rewritten for one
 * single-threaded event loop.  Go runs an ioLoop goroutine per queue and
 * writes each record with its own write(2); here every call does its work
 * at once, writes go through a user-space buffer, and reads come from big
 * pread(2) chunks or straight from the write buffer.
 *
 * Positions.  The write position (wfile, wpos) counts buffered bytes too;
 * the file itself ends at wflushed, and the buffer always holds whole
 * records, so a record is either all on disk or all in memory.  The read
 * cursor (rfile, rpos) is the next record to hand out; the commit position
 * (cfile, cpos) is what the meta file records: it follows the read cursor
 * unless manual commit is on.  Files before the commit file are deleted.
 *
 * Where we differ from Go on purpose (each is logged when it happens):
 *  - Reaching the exact end of a finished file just moves on; Go's reader
 *    would hit EOF there and rename a fully read file to .bad.
 *  - No meta file but data files present, or a meta file that does not
 *    parse: the data files found are adopted and counted; Go would start
 *    at 0,0 and overwrite file 0.
 *  - The unsynced tail rule (write file longer than writePos) also counts
 *    the tail's records into depth, and data files found past the write
 *    file (a meta rename lost in a crash) are read instead of overwritten.
 *  - A bad current write file: records still in our write buffer are
 *    carried into the new write file instead of being lost with it.
 *  - A failed write is cut back with ftruncate(2), so a full disk never
 *    leaves half a record in a data file.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer.h"
#include "diskqueue.h"
#include "rand.h"
#include "syncer.h"
#include "xmalloc.h"

#define DQ_WBUF_FLUSH	(64 * 1024)	/* write the buffer past this */
#define DQ_RCHUNK	(64 * 1024)	/* read(2) size */
#define DQ_META_MAX	512		/* a longer meta file is garbage */
#define DQ_RANGE_LOOP	256		/* unlink one by one up to this */
#define DQ_META_TEXT	160		/* the meta file's five numbers */
#define DQ_FILE_MAX	999999999999999999LL	/* 18 digits */
#define DQ_POS_MAX	((int64_t)1 << 62)

struct dq {
	char		*name;
	char		*dir;
	char		*meta_path;
	int64_t		 max_bytes;
	int32_t		 min_msg;
	int32_t		 max_msg;
	int64_t		 sync_every;
	dq_log_fn	*logf;
	void		*log_arg;
	struct syncer	*syncer;	/* NULL: all synchronous */
	size_t		 pending;	/* jobs on the syncer not yet done */
	bool		 sync_next;	/* asked while one ran: start after */
	bool		 waiting;	/* in wait_jobs: start nothing */

	/* Writing: wbuf holds the bytes of wfile from wflushed on. */
	int64_t		 wfile;
	int64_t		 wpos;
	int64_t		 wflushed;
	int		 wfd;
	struct buf	 wbuf;

	/* Reading: rbuf holds the bytes of rfile from rbase on. */
	int64_t		 rfile;
	int64_t		 rpos;
	int		 rfd;
	int64_t		 rsize;		/* rfile's size once finished */
	struct buf	 rbuf;
	int64_t		 rbase;

	/* Committing: positions of records read and not yet committed. */
	bool		 manual;
	int64_t		 cfile;
	int64_t		 cpos;
	struct dq_pos	*ring;
	size_t		 ring_head;
	size_t		 ring_len;
	size_t		 ring_cap;

	int64_t		 depth;		/* records not yet read */
	int64_t		 count;		/* reads + writes since the last sync */
	bool		 need_sync;
	bool		 dirty;		/* the meta file is out of date */
	/* What the meta file last written says (file -1: none yet). */
	int64_t		 meta_cfile;
	int64_t		 meta_cpos;
	int64_t		 meta_wfile;
	char		 meta_text[DQ_META_TEXT];	/* all of it, or "" */
	bool		 sync_failing;	/* log a failing sync once */

	int64_t		 fault_bytes;
	int		 fault_err;
};

static void	dq_log(struct dq *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
dq_log(struct dq *dq, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	if (dq->logf == NULL)
		return;
	n = snprintf(msg, sizeof(msg), "DISKQUEUE(%s) ", dq->name);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	dq->logf(dq->log_arg, msg);
}

static char *
data_path(const struct dq *dq, int64_t file)
{
	return xasprintf("%s/%s.diskqueue.%06" PRId64 ".dat", dq->dir,
	    dq->name, file);
}

static int
pos_cmp(int64_t f1, int64_t o1, int64_t f2, int64_t o2)
{
	if (f1 != f2)
		return f1 < f2 ? -1 : 1;
	if (o1 != o2)
		return o1 < o2 ? -1 : 1;
	return 0;
}

/* Size of data file `file`: -1 with errno (ENOENT when there is none). */
static int64_t
file_size(const struct dq *dq, int64_t file)
{
	struct stat st;
	char *path;
	int r;

	path = data_path(dq, file);
	r = stat(path, &st);
	free(path);
	return r == -1 ? -1 : (int64_t)st.st_size;
}

/*
 * pwrite(2) all of it, or -1.  The fault hook lets `fault_bytes` more
 * bytes through and then fails, the way a filling disk does.
 */
static int
write_all(struct dq *dq, int fd, const char *p, size_t n, int64_t off)
{
	size_t want;
	ssize_t w;

	while (n > 0) {
		want = n;
		if (dq->fault_bytes >= 0 && (int64_t)want > dq->fault_bytes)
			want = (size_t)dq->fault_bytes;
		if (want == 0) {
			errno = dq->fault_err;
			return -1;
		}
		w = pwrite(fd, p, want, (off_t)off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (dq->fault_bytes >= 0)
			dq->fault_bytes -= w;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * Data file numbers of this queue present in the directory, sorted.
 * Used only on recovery paths; returns the count, *out to be freed.
 */
static size_t
list_files(const struct dq *dq, int64_t **out)
{
	DIR *d;
	struct dirent *de;
	int64_t *v = NULL, x;
	size_t n = 0, cap = 0, plen, i, j;
	char *prefix;
	const char *s;

	*out = NULL;
	if ((d = opendir(dq->dir)) == NULL)
		return 0;
	prefix = xasprintf("%s.diskqueue.", dq->name);
	plen = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		s = de->d_name + plen;
		for (i = 0; isdigit((unsigned char)s[i]); i++)
			;
		if (i < 6 || i > 18 || strcmp(s + i, ".dat") != 0)
			continue;
		x = strtoll(s, NULL, 10);
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = x;
	}
	closedir(d);
	free(prefix);
	for (i = 1; i < n; i++)		/* insertion sort: few files */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	*out = v;
	return n;
}

/*
 * Whole valid records in [from, to) of a data file (to = -1: its size),
 * stopping at the first bad length or truncated record.  Only headers
 * are looked at, in DQ_RCHUNK reads.
 */
static int64_t
count_records(const struct dq *dq, int64_t file, int64_t from, int64_t to)
{
	struct stat st;
	char *path, *b;
	int64_t off = from, base = 0, n = 0;
	ssize_t got = 0;
	int32_t len;
	int fd;

	path = data_path(dq, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd == -1)
		return 0;
	if (to < 0) {
		if (fstat(fd, &st) == -1) {
			close(fd);
			return 0;
		}
		to = st.st_size;
	}
	b = xmalloc(DQ_RCHUNK);
	while (to - off >= 4) {
		if (off < base || off + 4 > base + got) {
			do {
				got = pread(fd, b, DQ_RCHUNK, (off_t)off);
			} while (got == -1 && errno == EINTR);
			base = off;
			if (got < 4)
				break;
		}
		len = (int32_t)be32dec(b + (off - base));
		if (len < dq->min_msg || len > dq->max_msg ||
		    to - off - 4 < len)
			break;
		off += 4 + (int64_t)len;
		n++;
	}
	free(b);
	close(fd);
	return n;
}

/* A sync failed with err: logged once, until one succeeds again. */
static void
sync_failed(struct dq *dq, int err)
{
	if (dq->sync_failing)
		return;
	dq->sync_failing = true;
	dq_log(dq, "failed to sync - %s", strerror(err));
}

/*
 * A job this queue gave the syncer is done: a failure is logged once,
 * and the sync is due again.
 */
static void
job_done(void *arg, int err)
{
	struct dq *dq = arg;

	dq->pending--;
	if (err != 0) {
		dq->need_sync = true;
		dq->meta_wfile = -1;
		dq->meta_text[0] = '\0';
		sync_failed(dq, err);
		return;
	}
	if (dq->pending == 0 && dq->sync_next && !dq->waiting) {
		dq->sync_next = false;
		if (dq_sync_soon(dq) == -1)
			sync_failed(dq, errno);
	}
}

/* Let every job this queue gave the syncer finish. */
static void
wait_jobs(struct dq *dq)
{
	if (dq->pending == 0)
		return;
	dq->waiting = true;
	syncer_drain(dq->syncer);
	dq->waiting = false;
}

/*
 * Unlink data files [from, to); missing ones are fine.  -1 if any failed.
 * Unless sync is set, a syncer does the unlinking (a 100 MB file takes
 * tens of milliseconds), and a failure is logged when it happens.
 */
static int
delete_range(struct dq *dq, int64_t from, int64_t to, bool sync)
{
	int64_t *v, f;
	size_t n, i;
	char *path;
	int rv = 0;

	if (to - from > DQ_RANGE_LOOP) {
		/* A wide gap: unlink only what exists. */
		n = list_files(dq, &v);
		for (i = 0; i < n; i++)
			if (v[i] >= from && v[i] < to &&
			    delete_range(dq, v[i], v[i] + 1, sync) == -1)
				rv = -1;
		free(v);
		return rv;
	}
	for (f = from; f < to; f++) {
		path = data_path(dq, f);
		if (dq->syncer != NULL && !sync) {
			dq->pending++;
			syncer_unlink(dq->syncer, path, job_done, dq);
		} else if (unlink(path) == -1 && errno != ENOENT) {
			dq_log(dq, "failed to Remove(%s) - %s", path,
			    strerror(errno));
			rv = -1;
		}
		free(path);
	}
	return rv;
}

static void
rclose(struct dq *dq)
{
	if (dq->rfd != -1)
		close(dq->rfd);
	dq->rfd = -1;
	dq->rsize = -1;
	dq->rbase = 0;
	/* Keeps the memory: a record handed out stays readable. */
	buf_reset(&dq->rbuf);
}

/* Move the read cursor to the start of `file`. */
static void
rjump(struct dq *dq, int64_t file)
{
	rclose(dq);
	dq->rfile = file;
	dq->rpos = 0;
}

static void
ring_push(struct dq *dq, int64_t file, int64_t off)
{
	struct dq_pos *n;
	size_t ncap, i;

	if (dq->ring_len == dq->ring_cap) {
		ncap = dq->ring_cap ? dq->ring_cap * 2 : 64;
		n = xreallocarray(NULL, ncap, sizeof(*n));
		for (i = 0; i < dq->ring_len; i++)
			n[i] = dq->ring[(dq->ring_head + i) % dq->ring_cap];
		free(dq->ring);
		dq->ring = n;
		dq->ring_cap = ncap;
		dq->ring_head = 0;
	}
	n = &dq->ring[(dq->ring_head + dq->ring_len) % dq->ring_cap];
	n->file = file;
	n->off = off;
	dq->ring_len++;
}

/* Advance the commit position; files it leaves behind are deleted. */
static void
set_commit(struct dq *dq, int64_t file, int64_t off)
{
	if (pos_cmp(file, off, dq->cfile, dq->cpos) <= 0)
		return;
	if (file > dq->cfile) {
		(void)delete_range(dq, dq->cfile, file, false);
		/* Go syncs every time it starts reading a new file. */
		dq->need_sync = true;
	}
	dq->cfile = file;
	dq->cpos = off;
	dq->dirty = true;
}

/* Without manual commit, the commit position is the read cursor. */
static void
commit_follow(struct dq *dq)
{
	if (!dq->manual)
		set_commit(dq, dq->rfile, dq->rpos);
}

/*
 * Go's skipToNextRWFile: drop every data file from the oldest one still
 * referenced to the write file, and start afresh in the next file.
 */
static int
skip_rw(struct dq *dq)
{
	int64_t from;
	int rv;

	rclose(dq);
	if (dq->wfd != -1)
		close(dq->wfd);
	dq->wfd = -1;
	from = dq->cfile < dq->rfile ? dq->cfile : dq->rfile;
	rv = delete_range(dq, from, dq->wfile + 1, true);
	buf_reset(&dq->wbuf);
	dq->wfile++;
	dq->wpos = dq->wflushed = 0;
	dq->rfile = dq->cfile = dq->wfile;
	dq->rpos = dq->cpos = 0;
	dq->ring_len = dq->ring_head = 0;
	dq->depth = 0;
	dq->dirty = true;
	return rv;
}

/* Go's checkTailCorruption: at the end of the queue depth must be 0. */
static void
check_tail(struct dq *dq)
{
	if (pos_cmp(dq->rfile, dq->rpos, dq->wfile, dq->wpos) < 0)
		return;
	if (dq->depth != 0) {
		if (dq->depth < 0)
			dq_log(dq, "negative depth at tail (%" PRId64 "), "
			    "metadata corruption, resetting 0...", dq->depth);
		else
			dq_log(dq, "positive depth at tail (%" PRId64 "), "
			    "data loss, resetting 0...", dq->depth);
		dq->depth = 0;
		dq->need_sync = true;
		dq->dirty = true;
	}
	if (pos_cmp(dq->rfile, dq->rpos, dq->wfile, dq->wpos) != 0) {
		dq_log(dq, "read position %" PRId64 ",%" PRId64 " > write "
		    "position %" PRId64 ",%" PRId64 ", corruption, skipping "
		    "to next writeFileNum and resetting 0...", dq->rfile,
		    dq->rpos, dq->wfile, dq->wpos);
		skip_rw(dq);
		dq->need_sync = true;
	}
}

int
dq_flush(struct dq *dq)
{
	size_t n = buf_len(&dq->wbuf);
	char *path;
	int e;

	if (n == 0)
		return 0;
	if (dq->wfd == -1) {
		path = data_path(dq, dq->wfile);
		dq->wfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		free(path);
		if (dq->wfd == -1)
			return -1;
	}
	if (write_all(dq, dq->wfd, buf_data(&dq->wbuf), n, dq->wflushed)
	    == -1) {
		/*
		 * Cut the file back to its last whole record: nothing half
		 * written stays, and a full disk gets its space back.  The
		 * buffer is kept for the next try.
		 */
		e = errno;
		if (ftruncate(dq->wfd, (off_t)dq->wflushed) == -1) {
			/* The next successful write overwrites it anyway. */
		}
		errno = e;
		return -1;
	}
	dq->wflushed += (int64_t)n;
	buf_reset(&dq->wbuf);
	return 0;
}

/* dq_fault_inject covers the meta file too, once no byte is left. */
static int
meta_fault(const struct dq *dq)
{
	if (dq->fault_bytes == 0) {
		errno = dq->fault_err;
		return -1;
	}
	return 0;
}

/* The meta file's text for the queue as it is now; its length. */
static int
meta_render(const struct dq *dq, char text[DQ_META_TEXT])
{
	return snprintf(text, DQ_META_TEXT,
	    "%" PRId64 "\n%" PRId64 ",%" PRId64 "\n%" PRId64 ",%" PRId64 "\n",
	    dq->depth + (int64_t)dq->ring_len, dq->cfile, dq->cpos,
	    dq->wfile, dq->wpos);
}

/*
 * Go's persistMetaData: tmp file, fsync, rename (and the directory, which
 * Go leaves out: the entry itself must survive a crash).  On the syncer
 * when async, after the data file's fsync.  0 or -1.
 */
static int
write_meta(struct dq *dq, bool async)
{
	char text[DQ_META_TEXT], *tmp;
	uint64_t rnd;
	int n, fd, r = 0;

	n = meta_render(dq, text);
	/* Go names it "<meta>.<rand.Int()>.tmp": a non-negative int63. */
	rnd = rand_u64() >> 1;
	tmp = xasprintf("%s.%" PRIu64 ".tmp", dq->meta_path, rnd);
	if (async) {
		if (dq->wfd != -1 &&
		    (fd = fcntl(dq->wfd, F_DUPFD_CLOEXEC, 0)) != -1) {
			dq->pending++;
			syncer_fsync_close(dq->syncer, fd, job_done, dq);
		} else if (dq->wfd != -1 && fsync(dq->wfd) == -1)
			r = -1;
		if (r == 0) {
			dq->pending++;
			syncer_replace(dq->syncer, dq->meta_path, tmp, text,
			    (size_t)n, job_done, dq);
		}
	} else if ((dq->wfd != -1 && fsync(dq->wfd) == -1) ||
	    meta_fault(dq) == -1 ||
	    syncer_replace_now(dq->meta_path, tmp, text, (size_t)n) == -1)
		r = -1;
	free(tmp);
	if (r == 0) {
		dq->meta_cfile = dq->cfile;
		dq->meta_cpos = dq->cpos;
		dq->meta_wfile = dq->wfile;
		memcpy(dq->meta_text, text, sizeof(text));
	} else {
		dq->meta_wfile = -1;	/* unknown: write it next time */
		dq->meta_text[0] = '\0';
	}
	return r;
}

/* Flush, then the fsyncs and the meta file, now or on the syncer. */
static int
sync_queue(struct dq *dq, bool async)
{
	if (!async)
		wait_jobs(dq);
	dq->sync_next = false;		/* this one covers it */
	if (dq_flush(dq) == -1 || write_meta(dq, async) == -1)
		return -1;
	dq->count = 0;
	dq->need_sync = false;
	dq->dirty = false;
	if (!async)
		dq->sync_failing = false;
	return 0;
}

int
dq_sync(struct dq *dq)
{
	return sync_queue(dq, false);
}

int
dq_sync_data(struct dq *dq)
{
	wait_jobs(dq);
	if (dq->need_sync || dq->meta_wfile != dq->wfile ||
	    dq->meta_cfile != dq->cfile || dq->meta_cpos != dq->cpos)
		return sync_queue(dq, false);
	if (dq_flush(dq) == -1 ||
	    (dq->wfd != -1 && fdatasync(dq->wfd) == -1))
		return -1;
	return 0;
}

int
dq_sync_soon(struct dq *dq)
{
	if (dq->syncer == NULL)
		return sync_queue(dq, false);
	if (dq->pending > 0) {		/* when those jobs are done */
		dq->sync_next = true;
		dq->need_sync = false;
		dq->count = 0;
		return 0;
	}
	return sync_queue(dq, true);
}

/* The top of Go's ioLoop: sync every sync_every ops or when flagged. */
static inline void
maybe_sync(struct dq *dq)
{
	if (dq->sync_every > 0 && dq->count >= dq->sync_every)
		dq->need_sync = true;
	if (!dq->need_sync)
		return;
	if (dq_sync_soon(dq) == -1)
		sync_failed(dq, errno);
}

int
dq_needs_sync(const struct dq *dq)
{
	return dq->need_sync ||
	    (dq->sync_every > 0 && dq->count >= dq->sync_every);
}

bool
dq_dirty(const struct dq *dq)
{
	return dq->count > 0 || dq->need_sync || dq->dirty;
}

/*
 * Start the next write file.  The buffer is empty (flushed by the
 * caller); the old file is fsynced and closed, as Go does on a roll.
 */
static void
roll(struct dq *dq)
{
	int64_t old = dq->wfile, oldpos = dq->wpos;

	if (dq->wfd != -1 && dq->syncer != NULL) {
		dq->pending++;
		syncer_fsync_close(dq->syncer, dq->wfd, job_done, dq);
		dq->wfd = -1;
	} else if (dq->wfd != -1) {
		if (fsync(dq->wfd) == -1)
			dq_log(dq, "failed to sync - %s", strerror(errno));
		close(dq->wfd);
		dq->wfd = -1;
	}
	dq->wfile++;
	dq->wpos = dq->wflushed = 0;
	if (dq->rfile == old) {
		dq->rsize = oldpos;	/* Go's maxBytesPerFileRead */
		if (dq->rpos >= oldpos) {
			/* The reader was done with it: step over. */
			rjump(dq, dq->wfile);
			commit_follow(dq);
		}
	}
	dq->need_sync = true;
	dq->dirty = true;
}

int
dq_put(struct dq *dq, const void *data, size_t len)
{
	return dq_put2(dq, data, len, NULL, 0);
}

/*
 * One record of the two pieces a then b, copied once into the write
 * buffer (nsqd's message header and body: no staging copy).
 */
int
dq_put2(struct dq *dq, const void *a, size_t alen, const void *b,
    size_t blen)
{
	size_t len = alen + blen;
	int64_t rec;
	char *p;

	if (len < (size_t)dq->min_msg || len > (size_t)dq->max_msg ||
	    (a == NULL && alen > 0) || (b == NULL && blen > 0)) {
		errno = EINVAL;
		return -1;
	}
	rec = 4 + (int64_t)len;
	if (dq->wpos > 0 && dq->wpos + rec > dq->max_bytes) {
		if (dq_flush(dq) == -1)
			return -1;
		roll(dq);
		maybe_sync(dq);
	}
	if (buf_reserve(&dq->wbuf, (size_t)rec) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	p = dq->wbuf.data + dq->wbuf.len;
	be32enc(p, (uint32_t)len);
	if (alen > 0)
		memcpy(p + 4, a, alen);
	if (blen > 0)
		memcpy(p + 4 + alen, b, blen);
	dq->wbuf.len += (size_t)rec;
	if (buf_len(&dq->wbuf) >= DQ_WBUF_FLUSH && dq_flush(dq) == -1) {
		/* Not taken: drop it again, keep the ones before it. */
		dq->wbuf.len -= (size_t)rec;
		return -1;
	}
	dq->wpos += rec;
	dq->depth++;
	dq->count++;
	maybe_sync(dq);
	return 0;
}

/*
 * Make [off, off + n) of the read file addressable in rbuf.  0 and *pp
 * set; -1 with errno on a read error; 1 when the file ends first.
 */
static int
rfetch_more(struct dq *dq, int64_t off, size_t n, const char **pp)
{
	struct buf *b = &dq->rbuf;
	int64_t end = dq->rbase + (int64_t)buf_len(b);
	size_t want;
	ssize_t r;

	if (off >= dq->rbase && off <= end)
		buf_consume(b, (size_t)(off - dq->rbase));
	else
		buf_reset(b);
	dq->rbase = off;
	while (buf_len(b) < n) {
		want = n - buf_len(b);
		if (want < DQ_RCHUNK)
			want = DQ_RCHUNK;
		if (buf_reserve(b, want) == -1)
			return -1;
		r = pread(dq->rfd, b->data + b->len, b->cap - b->len,
		    (off_t)(dq->rbase + (int64_t)buf_len(b)));
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 1;
		b->len += (size_t)r;
	}
	*pp = buf_data(b);
	return 0;
}

/* rfetch: the common case, the bytes already read ahead, inline. */
static inline int
rfetch(struct dq *dq, int64_t off, size_t n, const char **pp)
{
	if (off >= dq->rbase &&
	    off + (int64_t)n <= dq->rbase + (int64_t)buf_len(&dq->rbuf)) {
		*pp = buf_data(&dq->rbuf) + (off - dq->rbase);
		return 0;
	}
	return rfetch_more(dq, off, n, pp);
}

static int
ropen(struct dq *dq)
{
	struct stat st;
	char *path;

	if (dq->rfd != -1)
		return 0;
	path = data_path(dq, dq->rfile);
	dq->rfd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (dq->rfd == -1)
		return -1;
	buf_reset(&dq->rbuf);
	dq->rbase = dq->rpos;
	if (dq->rfile < dq->wfile) {
		/* A finished file ends where the file system says. */
		if (fstat(dq->rfd, &st) == -1) {
			rclose(dq);
			return -1;
		}
		dq->rsize = st.st_size;
	}
	return 0;
}

/*
 * Go's handleReadError: the read file is damaged; rename it "<file>.bad"
 * and go on with the next.  If it is also the write file, writing moves
 * to a new file (carrying along what is still in our write buffer).
 */
static void
bad_file(struct dq *dq, const char *why)
{
	char *path, *bad;

	path = data_path(dq, dq->rfile);
	dq_log(dq, "reading at %" PRId64 " of %s - %s", dq->rpos, path, why);
	if (dq->rfile == dq->wfile) {
		if (dq->wfd != -1)
			close(dq->wfd);
		dq->wfd = -1;
		dq->wfile++;
		dq->wflushed = 0;
		dq->wpos = (int64_t)buf_len(&dq->wbuf);
	}
	bad = xasprintf("%s.bad", path);
	dq_log(dq, "jump to next file and saving bad file as %s", bad);
	if (rename(path, bad) == -1)
		dq_log(dq, "failed to rename bad diskqueue file %s to %s - %s",
		    path, bad, strerror(errno));
	free(bad);
	free(path);
	rjump(dq, dq->rfile + 1);
	dq->need_sync = true;
	dq->dirty = true;
	commit_follow(dq);
	check_tail(dq);
}

/* The read file does not exist: go on with the next one that does. */
static void
missing_file(struct dq *dq)
{
	int64_t *v, next = dq->wfile;
	size_t n, i;
	char *path;

	if (dq->rfile == dq->wfile) {
		bad_file(dq, "write file missing");
		return;
	}
	n = list_files(dq, &v);
	for (i = 0; i < n; i++)
		if (v[i] > dq->rfile && v[i] < next)
			next = v[i];
	free(v);
	path = data_path(dq, dq->rfile);
	dq_log(dq, "%s missing at read position %" PRId64 ", skipping to "
	    "file %06" PRId64, path, dq->rpos, next);
	free(path);
	rjump(dq, next);
	dq->need_sync = true;
	dq->dirty = true;
	commit_follow(dq);
	check_tail(dq);
}

int
dq_read(struct dq *dq, const void **data, size_t *len, struct dq_pos *pos)
{
	const char *p;
	char why[64];
	int64_t limit;
	int32_t n;
	int r;

	for (;;) {
		if (pos_cmp(dq->rfile, dq->rpos, dq->wfile, dq->wpos) >= 0) {
			check_tail(dq);
			maybe_sync(dq);
			return 0;
		}
		if (dq->rfile == dq->wfile && dq->rpos >= dq->wflushed) {
			/* Still in the write buffer: whole, and ours. */
			p = buf_data(&dq->wbuf) + (dq->rpos - dq->wflushed);
			n = (int32_t)be32dec(p);
			if (n < dq->min_msg || n > dq->max_msg ||
			    dq->wpos - dq->rpos - 4 < n) {
				/* Cannot happen; never loop on it. */
				buf_reset(&dq->wbuf);
				dq->wpos = dq->wflushed;
				bad_file(dq, "write buffer damaged");
				continue;
			}
			break;
		}
		if (ropen(dq) == -1) {
			if (errno == ENOENT) {
				missing_file(dq);
				continue;
			}
			return -1;
		}
		limit = dq->rfile < dq->wfile ? dq->rsize : dq->wflushed;
		if (dq->rpos >= limit) {
			if (dq->rpos == limit && limit > 0) {
				/* The clean end of a finished file. */
				rjump(dq, dq->rfile + 1);
				commit_follow(dq);
				check_tail(dq);
				continue;
			}
			if (limit == 0)
				bad_file(dq, "empty file");
			else
				bad_file(dq, "read position past end of file");
			continue;
		}
		if (limit - dq->rpos < 4) {
			bad_file(dq, "EOF");
			continue;
		}
		if ((r = rfetch(dq, dq->rpos, 4, &p)) != 0) {
			bad_file(dq, r == 1 ? "EOF" : strerror(errno));
			continue;
		}
		n = (int32_t)be32dec(p);
		if (n < dq->min_msg || n > dq->max_msg) {
			snprintf(why, sizeof(why),
			    "invalid message read size (%" PRId32 ")", n);
			bad_file(dq, why);
			continue;
		}
		if (limit - dq->rpos - 4 < n) {
			bad_file(dq, "unexpected EOF");
			continue;
		}
		if ((r = rfetch(dq, dq->rpos, 4 + (size_t)n, &p)) != 0) {
			bad_file(dq, r == 1 ? "unexpected EOF" :
			    strerror(errno));
			continue;
		}
		break;
	}

	if (pos != NULL) {
		pos->file = dq->rfile;
		pos->off = dq->rpos;
	}
	if (dq->manual)
		ring_push(dq, dq->rfile, dq->rpos);
	dq->rpos += 4 + (int64_t)n;
	dq->depth--;
	dq->count++;
	/* Go's rotation rule, on the file's real size. */
	if (dq->rfile < dq->wfile && dq->rpos >= dq->rsize)
		rjump(dq, dq->rfile + 1);
	commit_follow(dq);
	check_tail(dq);
	/* A sync keeps both buffers' memory, so p stays valid. */
	maybe_sync(dq);
	*data = p + 4;
	*len = (size_t)n;
	return 1;
}

int64_t
dq_depth(const struct dq *dq)
{
	return dq->depth;
}

int64_t
dq_uncommitted(const struct dq *dq)
{
	return (int64_t)dq->ring_len;
}

void
dq_tell(const struct dq *dq, struct dq_pos *pos)
{
	pos->file = dq->rfile;
	pos->off = dq->rpos;
}

void
dq_set_manual_commit(struct dq *dq, bool on)
{
	if (dq->manual && !on) {
		dq->ring_len = dq->ring_head = 0;
		dq->manual = false;
		commit_follow(dq);
		return;
	}
	dq->manual = on;
}

int
dq_commit(struct dq *dq, const struct dq_pos *pos)
{
	struct dq_pos *front;

	if (pos == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (!dq->manual)
		return 0;
	while (dq->ring_len > 0) {
		front = &dq->ring[dq->ring_head];
		if (pos_cmp(front->file, front->off, pos->file, pos->off) >= 0)
			break;
		dq->ring_head = (dq->ring_head + 1) % dq->ring_cap;
		dq->ring_len--;
	}
	if (dq->ring_len > 0) {
		front = &dq->ring[dq->ring_head];
		set_commit(dq, front->file, front->off);
	} else
		set_commit(dq, dq->rfile, dq->rpos);
	maybe_sync(dq);
	return 0;
}

void
dq_set_logger(struct dq *dq, dq_log_fn *fn, void *arg)
{
	dq->logf = fn;
	dq->log_arg = arg;
}

void
dq_fault_inject(struct dq *dq, int64_t bytes, int err)
{
	dq->fault_bytes = bytes < 0 ? -1 : bytes;
	dq->fault_err = err;
}

int
dq_empty(struct dq *dq)
{
	int rv;

	wait_jobs(dq);		/* no meta file rewritten after this */
	rv = skip_rw(dq);
	if (unlink(dq->meta_path) == -1 && errno != ENOENT) {
		dq_log(dq, "failed to remove metadata file - %s",
		    strerror(errno));
		rv = -1;
	}
	/* As Go: no meta file until the next sync has something to say. */
	dq->count = 0;
	dq->need_sync = false;
	dq->dirty = false;
	return rv;
}

static void
dq_free(struct dq *dq)
{
	wait_jobs(dq);		/* their callbacks point here */
	rclose(dq);
	if (dq->wfd != -1)
		close(dq->wfd);
	buf_free(&dq->wbuf);
	buf_free(&dq->rbuf);
	free(dq->ring);
	free(dq->meta_path);
	free(dq->name);
	free(dq->dir);
	free(dq);
}

int
dq_delete(struct dq *dq)
{
	int rv;

	if (dq == NULL)
		return 0;
	rv = dq_empty(dq);
	dq_free(dq);
	return rv;
}

int
dq_close(struct dq *dq)
{
	int rv;

	char text[DQ_META_TEXT];

	if (dq == NULL)
		return 0;
	wait_jobs(dq);
	/*
	 * Go syncs on every close.  A queue whose meta file already says
	 * what a sync would write, with nothing buffered, is left alone: a
	 * SIGTERM with 30,000 idle queues is not 30,000 fsyncs and renames.
	 */
	if (!dq->need_sync && buf_len(&dq->wbuf) == 0 &&
	    dq->meta_text[0] != '\0' && meta_render(dq, text) > 0 &&
	    strcmp(text, dq->meta_text) == 0)
		rv = 0;
	else if ((rv = dq_sync(dq)) == -1)
		dq_log(dq, "failed to sync on close - %s", strerror(errno));
	dq_free(dq);
	return rv;
}

/*
 * Parse Go's "%d\n%d,%d\n%d,%d\n" (what follows is ignored, as Go's
 * Fscanf does).  0, or -1 when it is not that.
 */
static int
parse_meta(const char *s, int64_t v[5])
{
	static const char seps[5] = { '\n', ',', '\n', ',', '\n' };
	char *end;
	int i;

	for (i = 0; i < 5; i++) {
		if (!isdigit((unsigned char)*s) && *s != '-' && *s != '+')
			return -1;
		errno = 0;
		v[i] = strtoll(s, &end, 10);
		if (end == s || errno != 0)
			return -1;
		s = end;
		if (*s != seps[i] && !(i == 4 && *s == '\0'))
			return -1;
		if (*s != '\0')
			s++;
	}
	return 0;
}

/*
 * Read the meta file into v: 0; 1 if there is none; 2 if it is garbage
 * (why says how); -1 with errno if it cannot be read.
 */
static int
read_meta(struct dq *dq, int64_t v[5], const char **why)
{
	char text[DQ_META_MAX + 1];
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open(dq->meta_path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 1 : -1;
	while (len < sizeof(text) - 1) {
		n = read(fd, text + len, sizeof(text) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL || parse_meta(text, v) == -1) {
		*why = "does not parse";
		return 2;
	}
	if (v[1] < 0 || v[2] < 0 || v[3] < 0 || v[4] < 0) {
		*why = "has negative positions";
		return 2;
	}
	/*
	 * No file can be numbered past 18 digits (list_files) or hold 2^62
	 * bytes: such a number is garbage, and the next file after it
	 * would overflow.
	 */
	if (v[1] > DQ_FILE_MAX || v[3] > DQ_FILE_MAX ||
	    v[2] > DQ_POS_MAX || v[4] > DQ_POS_MAX) {
		*why = "has positions past any file";
		return 2;
	}
	if (pos_cmp(v[1], v[2], v[3], v[4]) > 0) {
		*why = "reads past its write position";
		return 2;
	}
	return 0;
}

/*
 * No usable meta file: adopt the data files that are there (all unread,
 * reading from the lowest, writing in a new file past the highest).
 */
static void
recover_files(struct dq *dq, const char *why)
{
	int64_t *v;
	size_t n, i;

	n = list_files(dq, &v);
	dq->depth = 0;
	if (n == 0) {
		if (why != NULL)
			dq_log(dq, "metadata file %s %s; no data files, "
			    "starting empty", dq->meta_path, why);
		dq->rfile = dq->rpos = dq->wfile = dq->wpos = 0;
		free(v);
		return;
	}
	for (i = 0; i < n; i++)
		dq->depth += count_records(dq, v[i], 0, -1);
	dq->rfile = v[0];
	dq->rpos = 0;
	dq->wfile = v[n - 1] + 1;
	dq->wpos = 0;
	dq_log(dq, "metadata file %s %s; adopted %zu data files "
	    "(%06" PRId64 "..%06" PRId64 ") holding %" PRId64 " records, "
	    "writing resumes in a new file", dq->meta_path,
	    why != NULL ? why : "missing", n, v[0], v[n - 1], dq->depth);
	free(v);
	dq->need_sync = true;
	dq->dirty = true;
}

/*
 * Records between the read cursor and the write position, counted in
 * the files that exist: a meta file may name positions 10^18 files
 * apart, and stepping through them would never end.
 */
static int64_t
recount(const struct dq *dq)
{
	int64_t *v, f, n = 0;
	size_t nf, i;

	nf = list_files(dq, &v);
	for (i = 0; i < nf; i++) {
		if ((f = v[i]) < dq->rfile || f > dq->wfile)
			continue;
		n += count_records(dq, f, f == dq->rfile ? dq->rpos : 0,
		    f == dq->wfile ? dq->wpos : -1);
	}
	free(v);
	return n;
}

/*
 * Go's retrieveMetaData checks, and more: the write file must be exactly
 * writePos long, and nothing may exist past it.  Otherwise writing moves
 * to a fresh file and what is on disk is read, never overwritten.
 */
static void
check_write_file(struct dq *dq)
{
	int64_t size, extra, f;
	char *path;
	int guard;

	size = file_size(dq, dq->wfile);
	path = data_path(dq, dq->wfile);
	if (size == -1 && dq->wpos > 0) {
		dq_log(dq, "%s missing but metadata writePos is %" PRId64
		    ", skipping to new file", path, dq->wpos);
		dq->wfile++;
		dq->wpos = 0;
		dq->need_sync = true;
	} else if (size > dq->wpos) {
		extra = count_records(dq, dq->wfile, dq->wpos, size);
		dq_log(dq, "%s metadata writePos %" PRId64 " < file size of "
		    "%" PRId64 ", skipping to new file (%" PRId64 " more "
		    "records)", path, dq->wpos, size, extra);
		dq->depth += extra;
		dq->wfile++;
		dq->wpos = 0;
		dq->need_sync = true;
	} else if (size >= 0 && size < dq->wpos) {
		dq_log(dq, "%s metadata writePos %" PRId64 " > file size of "
		    "%" PRId64 ", data lost; skipping to new file", path,
		    dq->wpos, size);
		dq->wfile++;
		dq->wpos = 0;
		dq->need_sync = true;
	}
	free(path);
	/*
	 * Files past the write file (a meta rename lost in a crash after a
	 * roll) are read, and writing moves past them.
	 */
	for (guard = 0; guard < 100000; guard++) {
		f = dq->wpos > 0 ? dq->wfile + 1 : dq->wfile;
		if ((size = file_size(dq, f)) <= 0)
			break;
		extra = count_records(dq, f, 0, size);
		path = data_path(dq, f);
		dq_log(dq, "%s exists past the metadata's write position "
		    "(%" PRId64 " records), reading it and writing in the "
		    "next file", path, extra);
		free(path);
		dq->depth += extra;
		dq->wfile = f + 1;
		dq->wpos = 0;
		dq->need_sync = true;
	}
}

struct dq *
dq_open(const struct dq_opts *o, char *err, size_t errlen)
{
	struct dq *dq;
	struct stat st;
	const char *why = NULL;
	int64_t v[5];
	int r;

	if (o == NULL || o->dir == NULL || o->name == NULL ||
	    o->name[0] == '\0' || strchr(o->name, '/') != NULL ||
	    o->max_bytes_per_file <= 0 || o->min_msg_size < 0 ||
	    o->min_msg_size > o->max_msg_size || o->sync_every < 0) {
		snprintf(err, errlen, "diskqueue: invalid options");
		return NULL;
	}
	errno = 0;
	if (stat(o->dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "diskqueue: data path %s: %s", o->dir,
		    errno ? strerror(errno) : "not a directory");
		return NULL;
	}
	dq = xcalloc(1, sizeof(*dq));
	dq->name = xstrdup(o->name);
	dq->dir = xstrdup(o->dir);
	dq->meta_path = xasprintf("%s/%s.diskqueue.meta.dat", o->dir, o->name);
	dq->max_bytes = o->max_bytes_per_file;
	dq->min_msg = o->min_msg_size;
	dq->max_msg = o->max_msg_size;
	dq->sync_every = o->sync_every;
	dq->logf = o->logger;
	dq->log_arg = o->logger_arg;
	dq->syncer = o->syncer;
	dq->wfd = dq->rfd = -1;
	dq->rsize = -1;
	dq->meta_wfile = -1;
	dq->fault_bytes = -1;
	buf_init(&dq->wbuf, 0, DQ_WBUF_FLUSH + 4 + (size_t)dq->max_msg);
	buf_init(&dq->rbuf, 0, 2 * DQ_RCHUNK + 4 + (size_t)dq->max_msg);

	errno = 0;
	switch ((r = read_meta(dq, v, &why))) {
	case 0:
		dq->depth = v[0];
		dq->rfile = v[1];
		dq->rpos = v[2];
		dq->wfile = v[3];
		dq->wpos = v[4];
		check_write_file(dq);
		if (dq->depth < 0) {
			dq->depth = recount(dq);
			dq_log(dq, "negative depth %" PRId64 " in metadata, "
			    "counted %" PRId64 " records", v[0], dq->depth);
			dq->dirty = true;
		}
		break;
	case 1:
		recover_files(dq, NULL);
		break;
	case 2:
		recover_files(dq, why);
		break;
	default:
		snprintf(err, errlen, "diskqueue: %s: %s", dq->meta_path,
		    strerror(errno));
		dq_free(dq);
		return NULL;
	}
	dq->wflushed = dq->wpos;
	dq->cfile = dq->rfile;
	dq->cpos = dq->rpos;
	check_tail(dq);
	/* The meta file read says all there is: a close need not rewrite it. */
	if (r == 0 && !dq->need_sync && !dq->dirty)
		(void)meta_render(dq, dq->meta_text);
	return dq;
}
