/*
 * nsq-to-file's file names (see naming.h).  Go's strftime turns the
 * format into a Go time layout and lets time.Format fill it in; this one
 * fills each conversion in directly.  One difference is kept on purpose:
 * Go would also read literal text of the format as layout elements (a
 * literal "1" or "Jan" in --datetime-format comes out as the month),
 * which no strftime user expects; here literal text stays literal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "naming.h"
#include "xmalloc.h"

static const char *const months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December",
};
static const char *const days[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};

/*
 * Names are built in buffers bounded by SIZE_MAX / 2, which memory runs
 * out before (and xmalloc aborts): a failed one is a broken invariant,
 * and a cut file name is never used.
 */
static void
put(struct buf *b, const char *s, size_t n)
{
	buf_add(b, s, n);
}

static void
check(const struct buf *b)
{
	if (buf_failed(b))
		abort();
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void
putnum(struct buf *b, long v, int width)
{
	buf_addf(b, "%0*ld", width, v);
}

/* Go's -0700: the sign, then hours and minutes of the offset. */
static void
putoffset(struct buf *b, long gmtoff)
{
	long min = gmtoff / 60;

	put(b, min < 0 ? "-" : "+", 1);
	if (min < 0)
		min = -min;
	putnum(b, min / 60, 2);
	putnum(b, min % 60, 2);
}

size_t
ntf_strftime(char *out, size_t len, const char *fmt, const struct tm *tm)
{
	struct buf b;
	const char *p;
	size_t n;
	int h12;

	buf_init(&b, 64, SIZE_MAX / 2);
	for (p = fmt; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			put(&b, p, 1);
			continue;
		}
		switch (p[1]) {
		case 'B':
			puts_(&b, months[tm->tm_mon % 12]);
			break;
		case 'b':
			put(&b, months[tm->tm_mon % 12], 3);
			break;
		case 'm':
			putnum(&b, tm->tm_mon + 1, 2);
			break;
		case 'A':
			puts_(&b, days[tm->tm_wday % 7]);
			break;
		case 'a':
			put(&b, days[tm->tm_wday % 7], 3);
			break;
		case 'd':
			putnum(&b, tm->tm_mday, 2);
			break;
		case 'H':
			putnum(&b, tm->tm_hour, 2);
			break;
		case 'I':
			h12 = tm->tm_hour % 12;
			putnum(&b, h12 == 0 ? 12 : h12, 2);
			break;
		case 'M':
			putnum(&b, tm->tm_min, 2);
			break;
		case 'S':
			putnum(&b, tm->tm_sec, 2);
			break;
		case 'Y':
			putnum(&b, (long)tm->tm_year + 1900, 4);
			break;
		case 'y':
			putnum(&b, ((long)tm->tm_year + 1900) % 100, 2);
			break;
		case 'p':
			puts_(&b, tm->tm_hour >= 12 ? "PM" : "AM");
			break;
		case 'Z':
			if (tm->tm_zone != NULL && tm->tm_zone[0] != '\0')
				puts_(&b, tm->tm_zone);
			else
				putoffset(&b, tm->tm_gmtoff);
			break;
		case 'z':
			putoffset(&b, tm->tm_gmtoff);
			break;
		case '%':
			put(&b, "%", 1);
			break;
		default:
			/* Not a conversion Go knows: both bytes as they are. */
			put(&b, p, 2);
			break;
		}
		p++;
	}
	check(&b);
	n = buf_len(&b);
	if (len > 0) {
		size_t k = n < len - 1 ? n : len - 1;

		memcpy(out, buf_data(&b), k);
		out[k] = '\0';
	}
	buf_free(&b);
	return n;
}

char *
ntf_replace(const char *s, const char *token, const char *with)
{
	struct buf b;
	const char *p;
	size_t tl = strlen(token);
	char *r;

	buf_init(&b, strlen(s) + 1, SIZE_MAX / 2);
	while (tl > 0 && (p = strstr(s, token)) != NULL) {
		put(&b, s, (size_t)(p - s));
		puts_(&b, with);
		s = p + tl;
	}
	puts_(&b, s);
	check(&b);
	r = xmalloc(buf_len(&b) + 1);
	memcpy(r, buf_data(&b), buf_len(&b));
	r[buf_len(&b)] = '\0';
	buf_free(&b);
	return r;
}

/* Replace token in *s (which is freed and replaced). */
static void
replace_in(char **s, const char *token, const char *with)
{
	char *r = ntf_replace(*s, token, with);

	free(*s);
	*s = r;
}

char *
ntf_template(const struct ntf_names *nm, const char *topic, char *err,
    size_t errlen)
{
	char *s, *ident, *shorthost, pid[32];
	size_t n;

	s = xstrdup(nm->filename_format);
	if (nm->need_rev) {
		if (strstr(s, "<REV>") == NULL) {
			snprintf(err, errlen, "missing <REV> in "
			    "--filename-format when gzip, rotation, or work "
			    "dir enabled");
			free(s);
			return NULL;
		}
	} else
		replace_in(&s, "<REV>", "");
	shorthost = xstrdup(nm->hostname);
	shorthost[strcspn(shorthost, ".")] = '\0';
	if (nm->host_identifier != NULL && nm->host_identifier[0] != '\0') {
		ident = ntf_replace(nm->host_identifier, "<SHORT_HOST>",
		    shorthost);
		replace_in(&ident, "<HOSTNAME>", nm->hostname);
	} else
		ident = xstrdup(shorthost);
	replace_in(&s, "<TOPIC>", topic);
	replace_in(&s, "<HOST>", ident);
	snprintf(pid, sizeof(pid), "%ld", nm->pid);
	replace_in(&s, "<PID>", pid);
	n = strlen(s);
	if (nm->gzip && (n < 3 || strcmp(s + n - 3, ".gz") != 0)) {
		s = xreallocarray(s, n + 4, 1);
		memcpy(s + n, ".gz", 4);
	}
	free(ident);
	free(shorthost);
	return s;
}

char *
ntf_expand(const char *tmpl, const char *datetime, long rev)
{
	char *s, r[32];

	s = xstrdup(tmpl);
	if (datetime != NULL)
		replace_in(&s, "<DATETIME>", datetime);
	if (rev >= 0) {
		snprintf(r, sizeof(r), "-%06ld", rev);
		replace_in(&s, "<REV>", r);
	}
	return s;
}
