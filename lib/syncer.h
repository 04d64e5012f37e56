/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * A worker thread for the file calls that block for milliseconds (fsync,
 * the atomic rewrite of a small file, unlinking a 100 MB file), so that
 * the event loop goes on serving clients while the disk works.
 *
 * Jobs run one at a time in the order they were given, so a data file's
 * fsync given before a meta file's rewrite is on disk before the rewrite
 * starts.  Each job's callback runs afterwards on the loop's thread (from
 * an ev_async watcher), with 0 or the errno that failed it.  Nothing else
 * is shared with the worker: a job owns copies of its paths and data.
 */
#ifndef NSQ_SYNCER_H
#define NSQ_SYNCER_H

#include <stddef.h>
#include <ev.h>

struct syncer;

typedef void syncer_done_fn(void *arg, int err);

/* Start the worker (all signals blocked in it); NULL with errno. */
struct syncer	*syncer_new(struct ev_loop *);
/* Finish every job (callbacks run), stop the worker. */
void		 syncer_free(struct syncer *);
/* fsync(2) fd, then close it: the syncer owns fd from now on. */
void		 syncer_fsync_close(struct syncer *, int fd, syncer_done_fn *,
		    void *arg);
/* syncer_replace_now(path, tmp, data, len) on the worker. */
void		 syncer_replace(struct syncer *, const char *path,
		    const char *tmp, const void *data, size_t len,
		    syncer_done_fn *, void *arg);
/* unlink(2) path; a missing file is not an error. */
void		 syncer_unlink(struct syncer *, const char *path,
		    syncer_done_fn *, void *arg);
/* Wait for every job given so far and run their callbacks. */
void		 syncer_drain(struct syncer *);

/*
 * Replace path with data so that a crash leaves the old or the new file:
 * write tmp, fsync it, rename it over path, fsync the directory.  0, or
 * -1 with errno (tmp is removed).
 */
int		 syncer_replace_now(const char *path, const char *tmp,
		    const void *data, size_t len);

#endif
