/*
 * Allocation wrappers that abort on failure.  A broker that cannot allocate
 * a few bytes has no useful way to go on, and checking every call site hides
 * the code that matters.
 *
 * Built twice (Makefile): as itself for libnsq.a, whose promise is never
 * to print, it calls abort() alone; with XMALLOC_REPORT for the daemons'
 * libnsqsrv.a, it first says on stderr what it could not allocate.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>		/* vasprintf; fprintf with XMALLOC_REPORT */
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void __attribute__((noreturn))
xfail(const char *what, size_t n)
{
#ifdef XMALLOC_REPORT
	fprintf(stderr, "fatal: %s: cannot allocate %zu bytes\n", what, n);
#else
	(void)what;
	(void)n;
#endif
	abort();
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		xfail("xmalloc", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		xfail("xcalloc", nmemb * size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		xfail("xreallocarray overflow", SIZE_MAX);
	if (nmemb * size == 0)
		nmemb = size = 1;
	if ((p = realloc(ptr, nmemb * size)) == NULL)
		xfail("xreallocarray", nmemb * size);
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len = strnlen(s, n);

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		xfail("xasprintf", 0);
	return p;
}
