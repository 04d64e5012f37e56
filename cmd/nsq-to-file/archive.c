/*
 * One topic's output files (see archive.h).  Plain records are gathered
 * in a buffer and written in whole records; gzip records are compressed
 * into a buffer that only reaches the file once its member is complete
 * (at each sync, as Go's nsq_to_file closes and restarts its gzip writer
 * there), so that `zcat` of the files gives back every record synced and
 * never a truncated member.  The deflate stream is set up for each member
 * and dropped after it, so an idle topic holds no compressor memory.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "archive.h"
#include "buffer.h"
#include "log.h"
#include "naming.h"
#include "xmalloc.h"

#define FLUSH_AT	(1024 * 1024)	/* plain bytes pending before a write */
#define ZCHUNK		16384
#define MAX_REVS	1000000		/* revisions tried for one name */

struct archive {
	struct archive_conf	 conf;
	char			*tmpl;
	char			*label;
	char			*filename;	/* tmpl with <DATETIME> of the
						   last file opened */
	long			 rev;
	int			 fd;
	char			*rel;		/* name under the work dir */
	char			*path;		/* work dir + rel */
	double			 open_time;
	int64_t			 filesize;
	bool			 dir_synced;
	struct buf		 out;		/* bytes for the file */
	z_stream		 z;
	bool			 z_active;	/* a member is open */
	/* The <DATETIME> name of the last second asked about. */
	time_t			 name_sec;
	char			*name_cache;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct archive *
archive_new(const struct archive_conf *conf, const char *tmpl,
    const char *label)
{
	struct archive *a;

	a = xcalloc(1, sizeof(*a));
	a->conf = *conf;
	a->tmpl = xstrdup(tmpl);
	a->label = xstrdup(label);
	a->fd = -1;
	a->name_sec = -1;
	buf_init(&a->out, 0, SIZE_MAX / 2);
	return a;
}

static void
drop_member(struct archive *a)
{
	if (a->z_active) {
		deflateEnd(&a->z);
		a->z_active = false;
	}
}

static void
forget_file(struct archive *a)
{
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
	free(a->rel);
	free(a->path);
	a->rel = a->path = NULL;
	buf_reset(&a->out);
	drop_member(a);
}

void
archive_free(struct archive *a)
{
	if (a == NULL)
		return;
	forget_file(a);
	buf_free(&a->out);
	free(a->tmpl);
	free(a->label);
	free(a->filename);
	free(a->name_cache);
	free(a);
}

bool
archive_is_open(const struct archive *a)
{
	return a->fd != -1;
}

const char *
archive_path(const struct archive *a)
{
	return a->path;
}

static char *
join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* mkdir -p of the directory part of path (mode 0770, as Go's). */
static int
mkdir_parent(const char *path, char *err, size_t errlen)
{
	char *d, *p, c;
	int rc = 0;

	d = xstrdup(path);
	if ((p = strrchr(d, '/')) == NULL || p == d) {
		free(d);
		return 0;
	}
	*p = '\0';
	for (p = d + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(d, 0770) == -1 && errno != EEXIST) {
			seterr(err, errlen, "unable to create dir %s: %s", d,
			    strerror(errno));
			rc = -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(d);
	return rc;
}

/* fsync the directory holding path, so that its new entry lasts. */
static int
sync_parent(const char *path, char *err, size_t errlen)
{
	char *d, *p;
	int fd, rc = 0;

	d = xstrdup(path);
	if ((p = strrchr(d, '/')) == NULL)
		strcpy(d, ".");
	else if (p == d)
		p[1] = '\0';
	else
		*p = '\0';
	if ((fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		seterr(err, errlen, "unable to fsync directory %s: %s", d,
		    strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(d);
	return rc;
}

/* The name (with <REV>) the files opened at time now get. */
static const char *
name_for(struct archive *a, double now)
{
	char dt[256];
	struct tm tm;
	time_t sec = (time_t)now;

	if (a->name_cache != NULL && sec == a->name_sec)
		return a->name_cache;
	localtime_r(&sec, &tm);
	(void)ntf_strftime(dt, sizeof(dt), a->conf.datetime_format, &tm);
	free(a->name_cache);
	a->name_cache = ntf_expand(a->tmpl, dt, -1);
	a->name_sec = sec;
	return a->name_cache;
}

bool
archive_needs_rotation(struct archive *a, double now)
{
	const char *name;

	if (a->fd == -1)
		return true;
	name = name_for(a, now);
	if (strcmp(name, a->filename) != 0) {
		log_info("[%s] new filename %s, rotating...", a->label, name);
		return true;
	}
	if (a->conf.rotate_interval > 0 &&
	    now - a->open_time > a->conf.rotate_interval) {
		log_info("[%s] %.3fs since last open, rotating...", a->label,
		    now - a->open_time);
		return true;
	}
	if (a->conf.rotate_size > 0 && a->filesize > a->conf.rotate_size) {
		log_info("[%s] %s currently %lld bytes (> %lld), rotating...",
		    a->label, a->path, (long long)a->filesize,
		    (long long)a->conf.rotate_size);
		return true;
	}
	return false;
}

int
archive_open_next(struct archive *a, double now, char *err, size_t errlen)
{
	struct stat sb;
	char *out = NULL;
	const char *name;
	long tries;
	int flags;

	if (archive_close(a, err, errlen) == -1)
		return -1;
	name = name_for(a, now);
	if (a->filename != NULL && strcmp(name, a->filename) == 0)
		a->rev++;
	else
		a->rev = 0;
	free(a->filename);
	a->filename = xstrdup(name);
	a->open_time = now;
	flags = O_WRONLY | O_CREAT | O_CLOEXEC;
	if (a->conf.gzip || a->conf.rotate_interval > 0)
		flags |= O_EXCL;
	else
		flags |= O_APPEND;
	for (tries = 0;; tries++, a->rev++) {
		free(a->rel);
		free(a->path);
		free(out);
		out = NULL;
		a->rel = ntf_expand(a->filename, NULL, a->rev);
		a->path = join(a->conf.work_dir, a->rel);
		if (tries > 0 && (strstr(a->filename, "<REV>") == NULL ||
		    tries >= MAX_REVS)) {
			seterr(err, errlen, "no free file name for %s",
			    a->path);
			goto fail;
		}
		if (mkdir_parent(a->path, err, errlen) == -1)
			goto fail;
		if (a->conf.separate) {
			/* Spare the rename a clash, as Go does. */
			out = join(a->conf.output_dir, a->rel);
			if (mkdir_parent(out, err, errlen) == -1)
				goto fail;
			if (stat(out, &sb) == 0) {
				log_warnx("[%s] output file already exists: "
				    "%s", a->label, out);
				continue;
			}
			if (errno != ENOENT) {
				seterr(err, errlen, "unable to stat output "
				    "file %s: %s", out, strerror(errno));
				goto fail;
			}
		}
		if ((a->fd = open(a->path, flags, 0666)) == -1) {
			if (errno == EEXIST) {
				log_warnx("[%s] working file already exists: "
				    "%s", a->label, a->path);
				continue;
			}
			seterr(err, errlen, "unable to open %s: %s", a->path,
			    strerror(errno));
			goto fail;
		}
		log_info("[%s] opening %s", a->label, a->path);
		if (fstat(a->fd, &sb) == -1) {
			seterr(err, errlen, "unable to stat file %s: %s",
			    a->path, strerror(errno));
			goto fail;
		}
		a->filesize = (int64_t)sb.st_size;
		a->dir_synced = sb.st_size > 0;
		if (a->conf.rotate_size > 0 &&
		    a->filesize > a->conf.rotate_size) {
			log_info("[%s] %s currently %lld bytes (> %lld), "
			    "rotating...", a->label, a->path,
			    (long long)a->filesize,
			    (long long)a->conf.rotate_size);
			close(a->fd);
			a->fd = -1;
			continue;
		}
		break;
	}
	free(out);
	return 0;
fail:
	free(out);
	forget_file(a);
	return -1;
}

/* Compress p[0, n) into the member, finishing it when finish. */
static int
deflate_in(struct archive *a, const void *p, size_t n, bool finish,
    char *err, size_t errlen)
{
	unsigned char chunk[ZCHUNK];
	int r;

	if (!a->z_active) {
		memset(&a->z, 0, sizeof(a->z));
		if (deflateInit2(&a->z, a->conf.gzip_level, Z_DEFLATED,
		    15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			seterr(err, errlen, "deflateInit2 failed");
			return -1;
		}
		a->z_active = true;
	}
	a->z.next_in = (unsigned char *)(uintptr_t)p;
	a->z.avail_in = (uInt)n;
	do {
		a->z.next_out = chunk;
		a->z.avail_out = sizeof(chunk);
		r = deflate(&a->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR) {
			seterr(err, errlen, "deflate failed");
			return -1;
		}
		if (buf_append(&a->out, chunk,
		    sizeof(chunk) - a->z.avail_out) == -1) {
			seterr(err, errlen, "%s: output buffer full", a->path);
			return -1;
		}
	} while (finish ? r != Z_STREAM_END : a->z.avail_out == 0);
	if (finish)
		drop_member(a);
	return 0;
}

/* Write out every pending byte. */
static int
write_out(struct archive *a, char *err, size_t errlen)
{
	ssize_t n;

	while (buf_len(&a->out) > 0) {
		n = buf_write_fd(&a->out, a->fd);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			seterr(err, errlen, "writing to %s: %s", a->path,
			    n == 0 ? "wrote nothing" : strerror(errno));
			return -1;
		}
	}
	buf_reset(&a->out);
	return 0;
}

int
archive_write(struct archive *a, const void *body, size_t len, char *err,
    size_t errlen)
{
	if (a->fd == -1) {
		seterr(err, errlen, "no file open");
		return -1;
	}
	a->filesize += (int64_t)len + 1;
	if (a->conf.gzip)
		return deflate_in(a, body, len, false, err, errlen) == -1 ||
		    deflate_in(a, "\n", 1, false, err, errlen) == -1 ? -1 : 0;
	/* The line goes in whole or not at all: files get whole lines. */
	if (buf_reserve(&a->out, len + 1) == -1) {
		seterr(err, errlen, "%s: output buffer full", a->path);
		return -1;
	}
	buf_add(&a->out, body, len);
	buf_add(&a->out, "\n", 1);
	if (buf_len(&a->out) >= FLUSH_AT)
		return write_out(a, err, errlen);
	return 0;
}

int
archive_sync(struct archive *a, char *err, size_t errlen)
{
	if (a->fd == -1)
		return 0;
	if (a->z_active && deflate_in(a, NULL, 0, true, err, errlen) == -1)
		return -1;
	if (write_out(a, err, errlen) == -1)
		return -1;
	if (fsync(a->fd) == -1) {
		seterr(err, errlen, "failed to fsync %s: %s", a->path,
		    strerror(errno));
		return -1;
	}
	if (!a->dir_synced) {
		if (sync_parent(a->path, err, errlen) == -1)
			return -1;
		a->dir_synced = true;
	}
	return 0;
}

/* Link src to dst; 0, or -1 with errno (EEXIST: dst is taken). */
static int
exclusive_rename(const char *src, const char *dst)
{
	if (link(src, dst) == -1)
		return -1;
	return unlink(src);
}

static int
move_out(struct archive *a, char *err, size_t errlen)
{
	char *dst, *rel;
	long i;

	dst = join(a->conf.output_dir, a->rel);
	if (mkdir_parent(dst, err, errlen) == -1) {
		free(dst);
		return -1;
	}
	log_info("[%s] moving finished file %s to %s", a->label, a->path,
	    dst);
	for (i = a->rev + 1;; i++) {
		if (exclusive_rename(a->path, dst) == 0)
			break;
		if (errno != EEXIST || strstr(a->filename, "<REV>") == NULL ||
		    i - a->rev > MAX_REVS) {
			seterr(err, errlen, "unable to move file from %s to "
			    "%s: %s", a->path, dst, strerror(errno));
			free(dst);
			return -1;
		}
		log_warnx("[%s] destination file already exists: %s",
		    a->label, dst);
		free(dst);
		rel = ntf_expand(a->filename, NULL, i);
		dst = join(a->conf.output_dir, rel);
		free(rel);
	}
	if (i > a->rev + 1)
		log_info("[%s] renamed finished file %s to %s to avoid "
		    "overwrite", a->label, a->path, dst);
	if (sync_parent(dst, err, errlen) == -1) {
		free(dst);
		return -1;
	}
	free(dst);
	return 0;
}

int
archive_close(struct archive *a, char *err, size_t errlen)
{
	struct stat sb;

	if (a->fd == -1)
		return 0;
	if (a->conf.gzip && !a->z_active && buf_len(&a->out) == 0 &&
	    fstat(a->fd, &sb) == 0 && sb.st_size == 0 &&
	    deflate_in(a, NULL, 0, true, err, errlen) == -1)
		return -1;
	if (archive_sync(a, err, errlen) == -1)
		return -1;
	if (close(a->fd) == -1) {
		a->fd = -1;
		seterr(err, errlen, "failed to close %s: %s", a->path,
		    strerror(errno));
		return -1;
	}
	a->fd = -1;
	if (a->conf.separate && move_out(a, err, errlen) == -1)
		return -1;
	forget_file(a);
	return 0;
}
