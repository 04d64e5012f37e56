/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The library's error contract (STYLE.md rule 3): a failing function
 * writes one line of reason into a caller-supplied char err[errlen].
 */
#ifndef NSQ_ERRBUF_H
#define NSQ_ERRBUF_H

#include <stddef.h>

/* printf into err (truncated to errlen; nothing when errlen is 0). */
void	errbuf_set(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
