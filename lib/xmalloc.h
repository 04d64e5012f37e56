/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * Allocation that cannot fail: every function aborts the process on
 * exhaustion or on a size that overflows, so callers never test for NULL.
 * The caller owns what is returned and frees it with free(3).
 */
#ifndef NSQ_XMALLOC_H
#define NSQ_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* printf into a new string. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
