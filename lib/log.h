/*
 * Archive: libnsqsrv.a (what the daemons add to libnsq.a).
 *
 * Leveled logging for the daemons, one line per event on stderr in NSQ's
 * format: "<prefix><YYYY/MM/DD HH:MM:SS.uuuuuu> <LEVEL>: <message>".
 * The one lib/ module that prints or exits (fatal, fatalx): the client
 * library libnsq.a does not hold it, and its modules return errors.
 */
#ifndef NSQ_LOG_H
#define NSQ_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG = 1,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
};

void	log_init(const char *prefix, enum log_level);
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
/* "debug", "info", "warn"/"warning", "error", "fatal", any case; -1 if bad. */
int	log_parse_level(const char *);
const char *log_level_name(enum log_level);

#define log_debug(...)	log_emit(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...)	log_emit(LOG_LEVEL_INFO, 0, __VA_ARGS__)
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
#define log_warn(...)	log_emit(LOG_LEVEL_WARN, 1, __VA_ARGS__)
#define log_warnx(...)	log_emit(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_error(...)	log_emit(LOG_LEVEL_ERROR, 0, __VA_ARGS__)

void	log_emit(enum log_level, int with_errno, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* Log at FATAL level and exit(1); fatal appends strerror(errno). */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
