/*
 * One topic's output files for nsq-to-file: open, rotate, write, sync,
 * close and move, as Go's nsq_to_file FileLogger does, with one rule of
 * its own: a file only ever holds what was synced.  Records wait in
 * memory (plain files: until 1 MiB is pending; gzip: until the sync that
 * closes their gzip member), so whatever kills the process, every file
 * holds whole records and, with gzip, whole members.
 *
 * The caller keeps the messages and finishes them after archive_sync()
 * or archive_close() (both end with fsync) returned 0.  Errors come back
 * as -1 with the reason in err; the caller decides to die (Go exits).
 */
#ifndef NSQ_TO_FILE_ARCHIVE_H
#define NSQ_TO_FILE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct archive_conf {
	const char	*work_dir;	/* files are written here */
	const char	*output_dir;	/* and moved here when closed */
	bool		 separate;	/* work_dir is not output_dir */
	const char	*datetime_format;
	bool		 gzip;
	int		 gzip_level;
	int64_t		 rotate_size;	/* bytes (0: never) */
	double		 rotate_interval;	/* seconds (0: never) */
};

struct archive;

/*
 * The files of one topic, named from tmpl (see ntf_template); label
 * ("topic/channel") starts its log lines.  The strings of conf are
 * referenced, not copied.  Nothing is opened yet.
 */
struct archive *archive_new(const struct archive_conf *conf,
	    const char *tmpl, const char *label);
/* Close the file without syncing or moving it (after a fatal error). */
void	archive_free(struct archive *);
bool	archive_is_open(const struct archive *);
/* The file open (its path in the work dir), or NULL. */
const char *archive_path(const struct archive *);
/*
 * Whether the next record needs another file at time now (seconds since
 * the epoch): none is open, the name for now differs (a new
 * <DATETIME>), the file is older than rotate_interval or bigger than
 * rotate_size.  Sizes count the bytes of records (before compression)
 * plus what the file held when opened, as Go does.
 */
bool	archive_needs_rotation(struct archive *, double now);
/*
 * Close the file (if any) and open the next one, as Go's updateFile: the
 * revision restarts at 0 for a new name and goes up otherwise, and is
 * bumped past names taken in the work dir (O_EXCL with gzip or
 * rotate_interval) or, with a separate work dir, in the output dir, and
 * past files already bigger than rotate_size.  Plain files are opened
 * for appending.
 */
int	archive_open_next(struct archive *, double now, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Add one record, body and "\n" (a file must be open). */
int	archive_write(struct archive *, const void *body, size_t len,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/*
 * Put every record written so far on disk: end the gzip member, write,
 * fsync (and fsync the directory once after the file was created).
 * Nothing to do without an open file.
 */
int	archive_sync(struct archive *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * Sync, close, and with a separate work dir move the file to the output
 * dir by link(2) then unlink(2), so that nothing there is overwritten: a
 * name taken gets the next free revision.  An empty gzip file gets one
 * empty member, so that it is a valid gzip file.
 */
int	archive_close(struct archive *, char *err, size_t errlen)
	    __attribute__((warn_unused_result));

#endif
