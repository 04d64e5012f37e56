/*
 * nsq-to-file's file names, as Go's nsq_to_file makes them: the
 * --filename-format tokens and the strftime subset of --datetime-format.
 * Pure functions of their arguments (no clock, no host lookup), so that
 * the unit tests pin every rule down.
 */
#ifndef NSQ_TO_FILE_NAMING_H
#define NSQ_TO_FILE_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Go's strftime for nsq_to_file: %Y %y %m %d %H %I %M %S %p %B %b %A %a
 * %Z %z and %%; any other '%' sequence, and all other text, is copied as
 * it is.  Names are English, numbers zero-padded to two digits (four for
 * %Y), %p is AM or PM, %z is -0700 style and %Z the zone's abbreviation
 * (tm_zone; "-0700" style when it has none).  The result goes to out,
 * NUL-terminated and truncated to len; the return value is the length the
 * whole result has, as snprintf's.
 */
size_t	ntf_strftime(char *out, size_t len, const char *fmt,
	    const struct tm *tm);

/* What the file name template of a topic is made from. */
struct ntf_names {
	const char	*filename_format;	/* --filename-format */
	const char	*host_identifier;	/* --host-identifier or "" */
	const char	*hostname;		/* the full host name */
	long		 pid;
	bool		 gzip;
	/* gzip, rotation or a separate --work-dir: <REV> is mandatory. */
	bool		 need_rev;
};

/*
 * The template of topic's files, as Go's computeFilenameFormat: <REV>
 * must be present when need_rev (else it is removed); then <TOPIC>, <HOST>
 * (the host identifier, where <SHORT_HOST> and <HOSTNAME> stand for the
 * host name up to its first dot and the whole of it; the short host name
 * when no identifier is given) and <PID> are replaced in that order, and
 * ".gz" is appended with gzip unless the name already ends so.
 * <DATETIME> and <REV> are left for ntf_expand.  NULL with Go's message
 * in err when <REV> is missing.  Caller frees.
 */
char	*ntf_template(const struct ntf_names *, const char *topic, char *err,
	    size_t errlen);
/* s with every occurrence of token replaced by with.  Caller frees. */
char	*ntf_replace(const char *s, const char *token, const char *with);
/*
 * A template with <DATETIME> replaced (datetime may be NULL: left as it
 * is) and, when rev >= 0, <REV> replaced by "-%06d".  Caller frees.
 */
char	*ntf_expand(const char *tmpl, const char *datetime, long rev);

#endif
