/*
 * The daemons' logger.  Each event is formatted into one buffer and written
 * with a single write(2), so lines from one process never interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prefix = "";
static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "DEBUG",
	[LOG_LEVEL_INFO] = "INFO",
	[LOG_LEVEL_WARN] = "WARNING",
	[LOG_LEVEL_ERROR] = "ERROR",
	[LOG_LEVEL_FATAL] = "FATAL",
};

void
log_init(const char *prefix, enum log_level level)
{
	log_prefix = prefix ? prefix : "";
	log_level = level;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

const char *
log_level_name(enum log_level level)
{
	if (level < LOG_LEVEL_DEBUG || level > LOG_LEVEL_FATAL)
		return "UNKNOWN";
	return level_names[level];
}

int
log_parse_level(const char *s)
{
	if (strcasecmp(s, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(s, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcasecmp(s, "error") == 0)
		return LOG_LEVEL_ERROR;
	if (strcasecmp(s, "fatal") == 0)
		return LOG_LEVEL_FATAL;
	return -1;
}

static void
log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[4096], *p;
	struct timeval tv;
	struct tm tm;
	size_t n;
	ssize_t w;
	int r, saved;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
	    "%s%04d/%02d/%02d %02d:%02d:%02d.%06ld %s: ", log_prefix,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)tv.tv_usec, log_level_name(level));
	n = r < 0 ? 0 : (size_t)r;
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r < 0 ? 0 : (size_t)r;
	}
	if (errnum && n < sizeof(line)) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(errnum));
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/*
	 * A log has nowhere to report its own failure: a line that cannot be
	 * written (stderr closed, disk full) is dropped, without touching
	 * the caller's errno.
	 */
	saved = errno;
	for (p = line; n > 0; p += w, n -= (size_t)w) {
		if ((w = write(STDERR_FILENO, p, n)) == -1 && errno == EINTR)
			w = 0;
		else if (w <= 0)
			break;
	}
	errno = saved;
}

void
log_emit(enum log_level level, int with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vemit(level, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_FATAL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
