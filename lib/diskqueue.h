/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * A disk-backed FIFO of byte records that reads and writes exactly the
 * on-disk format of go-diskqueue v1.1.0 (the store behind every Go nsqd
 * topic and channel), so a data directory moves between Go nsqd and ours.
 *
 * Files, in opts.dir, for a queue named N ("topic" or "topic:channel"):
 *   N.diskqueue.000000.dat ...  records [int32 BE length][payload]
 *   N.diskqueue.meta.dat        "depth\nrfile,rpos\nwfile,wpos\n"
 *
 * Everything runs on one libev loop.  Writes go to a user-space buffer
 * written out past 64 KiB, by dq_flush and by dq_sync; reads come from
 * large read(2) chunks, or straight from the write buffer when a reader
 * catches up with the writer.  With a syncer (lib/syncer.h), the syncs
 * the queue makes on its own (every sync_every, on a roll, on reaching a
 * new file) and dq_sync_soon run their fsyncs, meta file rewrites and
 * old files' unlinks on the syncer's thread; dq_sync, dq_empty and
 * dq_close wait for those first.  Damage on disk
 * is survived, not reported as an error: a bad file is renamed
 * "<file>.bad" and reading goes on with the next one, and each such event
 * is one line to the logger.
 */
#ifndef NSQ_DISKQUEUE_H
#define NSQ_DISKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dq;

/* A record's place: data file number and byte offset in it. */
struct dq_pos {
	int64_t	file;
	int64_t	off;
};

typedef void dq_log_fn(void *arg, const char *msg);

struct dq_opts {
	const char	*dir;			/* data path */
	const char	*name;			/* "topic" or "topic:channel" */
	int64_t		 max_bytes_per_file;	/* roll size */
	int32_t		 min_msg_size;		/* valid payload lengths, */
	int32_t		 max_msg_size;		/* inclusive */
	int64_t		 sync_every;		/* reads+writes between syncs;
						   0 = never automatic */
	dq_log_fn	*logger;		/* optional; also sees */
	void		*logger_arg;		/* what dq_open survived */
	struct syncer	*syncer;		/* optional: fsync elsewhere */
};

/*
 * Open the queue, creating it or resuming from its meta file.  Damaged
 * state is repaired and logged, not refused; NULL (reason in err) only for
 * bad options or a data path that cannot be used.
 */
struct dq	*dq_open(const struct dq_opts *, char *err, size_t errlen);

/*
 * Append one record.  -1 with errno: EINVAL for a length outside
 * [min_msg_size, max_msg_size]; ENOSPC, EIO... from the file system when
 * the buffer could not be written, in which case this record was not
 * taken, and the ones acknowledged before it are still queued.
 */
int	dq_put(struct dq *, const void *, size_t)
	    __attribute__((warn_unused_result));
/* dq_put of one record made of two pieces, a then b. */
int	dq_put2(struct dq *, const void *, size_t, const void *, size_t)
	    __attribute__((warn_unused_result));
/* Write the user-space buffer to the data file (no fsync). */
int	dq_flush(struct dq *) __attribute__((warn_unused_result));
/*
 * Next record: 1 with *data and *len pointing into an internal buffer that is
 * valid until the next dq call (and *pos, if not NULL, the record's
 * start); 0 when the queue is empty; -1 with errno when a data file could
 * not be opened (EMFILE, EACCES...: nothing is skipped, try again).
 * Corrupt files are skipped and logged, not returned as errors.
 */
int	dq_read(struct dq *, const void **data, size_t *len, struct dq_pos *pos)
	    __attribute__((warn_unused_result));
/*
 * Flush, fsync the data file, write the meta file (tmp, fsync, rename),
 * after every sync given to the syncer before.  0 or -1.
 */
int	dq_sync(struct dq *);
/*
 * Make every record put so far durable at the least cost: flush and
 * fdatasync the write file.  The meta file is rewritten as well (as
 * dq_sync) only when what it says about the read side or the write file
 * is out of date: records past its write position are found again on
 * open (they are counted, and writing goes on in the next file).  For a
 * queue that only grows between syncs, one fdatasync instead of three
 * fsyncs and a rename.  0 or -1.
 */
int	dq_sync_data(struct dq *);
/*
 * As dq_sync, but with a syncer only the flush happens now and the rest on
 * its thread (a failure is logged and the sync stays due); without one,
 * dq_sync.  While this queue's earlier jobs run, it only notes that a
 * sync is due, and starts one when they are done.  -1 only when the
 * flush failed.
 */
int	dq_sync_soon(struct dq *);
/* Records not yet read. */
int64_t	dq_depth(const struct dq *);
/* Records read but not yet committed (always 0 without manual commit). */
int64_t	dq_uncommitted(const struct dq *);
/* The read cursor: where the next dq_read starts. */
void	dq_tell(const struct dq *, struct dq_pos *);
/*
 * Drop everything as go-diskqueue's Empty: remove the data files and the
 * meta file; reading and writing continue in a new, next-numbered file.
 */
int	dq_empty(struct dq *);
/* Remove every data file and the meta file, and free. */
int	dq_delete(struct dq *);
/* Sync and free; -1 if the final sync failed (the queue is freed anyway). */
int	dq_close(struct dq *);

/*
 * Durable mode.  With manual commit on, the position persisted in the meta
 * file (with the depth it records, and which consumed files may be
 * deleted) is the commit position, not the read cursor; dq_commit(pos)
 * says every record that starts before pos is done (pass dq_tell's
 * position to commit all that was read).  With it off (the default) the
 * commit position follows the read cursor.  Reopening resumes reading at
 * the persisted position, so uncommitted records come back.
 */
void	dq_set_manual_commit(struct dq *, bool);
int	dq_commit(struct dq *, const struct dq_pos *);

/* Where the queue reports what it survived; msg is one line. */
void	dq_set_logger(struct dq *, dq_log_fn *, void *arg);

/*
 * Syncs happen by themselves inside dq_put/dq_read/dq_commit once
 * sync_every reads+writes have passed, on rolling to a new file and after
 * a consumed file is deleted.  dq_needs_sync: such a sync is due and has
 * not succeeded yet.  dq_dirty: anything happened since the last sync, so
 * the daemon's --sync-timeout timer should call dq_sync.
 */
int	dq_needs_sync(const struct dq *);
bool	dq_dirty(const struct dq *);

/*
 * Test hook: data and meta writes fail with errno err once `bytes` more
 * bytes have been written (a partial write first, as a full disk does);
 * bytes = -1 disables.
 */
void	dq_fault_inject(struct dq *, int64_t bytes, int err);

#endif
