/*
 * Command-line and config-file options, read the way Go NSQ reads them.
 *
 * The command line follows Go's flag package (flag.go parseOne): one or
 * two dashes, "=value" or the next word as the value, booleans never
 * taking the next word, options ending at "--" or the first operand.
 * GNU short options are added beside it: when the text after a single
 * dash (up to '=') is no long name, it is read as a cluster of short
 * letters.  Numbers and durations are parsed as strconv.ParseInt(s, 0,
 * 64) and time.ParseDuration do, so the same command lines are accepted
 * and refused, with the same words.
 *
 * The config file is the part of TOML that Go nsqd's config files use,
 * decoded first into a list of top-level keys, then applied the way
 * mreiferson/go-options resolves them: a key counts only when its option
 * was not on the command line; integers for durations are milliseconds;
 * a string for a list is split on commas.  Beyond go-options, which
 * ignores them, a key no option knows and keys under [tables] or dotted
 * are refused: an option misspelt in a file is an error, not a no-op.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "options.h"
#include "text.h"
#include "xmalloc.h"

/* Largest config file read. */
#define CFG_MAX_SIZE	(4 * 1024 * 1024)
/* Deepest array nesting in a config file. */
#define CFG_MAX_DEPTH	32

void
strlist_add(struct strlist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
floatlist_add(struct floatlist *l, double d)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = d;
}

void
floatlist_free(struct floatlist *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Scalars. */

int
parse_bool(const char *s, int *v)
{
	static const char *t[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *f[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

static int
lower(int c)
{
	return c | ('x' - 'X');
}

/*
 * strconv's underscoreOK: underscores only between digits, or between a
 * base prefix and a digit.
 */
static int
underscore_ok(const char *s)
{
	char saw = '^';
	int hex = 0;
	size_t i = 0, n;

	if (*s == '+' || *s == '-')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '0' && (lower(s[1]) == 'b' ||
	    lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		if ((s[i] >= '0' && s[i] <= '9') ||
		    (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
			saw = '0';
			continue;
		}
		if (s[i] == '_') {
			if (saw != '0')
				return 0;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return 0;
		saw = '!';
	}
	return saw != '_';
}

int
parse_int64(const char *s0, int base0, int64_t *out)
{
	const char *s = s0;
	uint64_t v = 0, cutoff, d;
	int neg = 0, base = 10, us = 0;

	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	if (*s == '\0')
		return -1;
	if (base0 && s[0] == '0') {
		size_t n = strlen(s);

		if (n >= 3 && lower(s[1]) == 'b') {
			base = 2;
			s += 2;
		} else if (n >= 3 && lower(s[1]) == 'o') {
			base = 8;
			s += 2;
		} else if (n >= 3 && lower(s[1]) == 'x') {
			base = 16;
			s += 2;
		} else {
			base = 8;
			s++;
		}
	}
	cutoff = UINT64_MAX / (uint64_t)base + 1;
	for (; *s != '\0'; s++) {
		if (*s == '_' && base0) {
			us = 1;
			continue;
		}
		if (*s >= '0' && *s <= '9')
			d = (uint64_t)(*s - '0');
		else if (lower(*s) >= 'a' && lower(*s) <= 'z')
			d = (uint64_t)(lower(*s) - 'a' + 10);
		else
			return -1;
		if (d >= (uint64_t)base)
			return -1;
		if (v >= cutoff)
			return -2;
		v *= (uint64_t)base;
		if (v + d < v)
			return -2;
		v += d;
	}
	if (us && !underscore_ok(s0))
		return -1;
	if (!neg && v > (uint64_t)INT64_MAX)
		return -2;
	if (neg && v > (uint64_t)INT64_MAX + 1)
		return -2;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* A float as strconv.ParseFloat reads the usual spellings; 0 or -1. */
static int
parse_float(const char *s, double *d)
{
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*d = strtod(s, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(*d)))
		return -1;
	return 0;
}

/* Durations, as Go's time package. */

static const struct {
	const char	*unit;
	uint64_t	 ns;
} dunits[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },		/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },		/* U+03BC Greek mu */
	{ "ms", 1000000 },
	{ "s", 1000000000ULL },
	{ "m", 60 * 1000000000ULL },
	{ "h", 3600 * 1000000000ULL },
};

int
parse_duration(const char *s, int64_t *out)
{
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0, v, f, unit;
	double scale;
	int neg = 0, pre, post, overflow;
	size_t i, k;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return -1;
		/* The integer part. */
		v = 0;
		pre = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (v > lim / 10)
				return -1;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				return -1;
			pre = 1;
		}
		/* The fraction: digits past uint64 precision are dropped. */
		f = 0;
		scale = 1;
		post = 0;
		if (*s == '.') {
			s++;
			overflow = 0;
			for (; *s >= '0' && *s <= '9'; s++) {
				post = 1;
				if (overflow)
					continue;
				if (f > (lim - 1) / 10 ||
				    f * 10 + (uint64_t)(*s - '0') > lim) {
					overflow = 1;
					continue;
				}
				f = f * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
		if (!pre && !post)
			return -1;
		/* The unit: everything up to the next number. */
		for (i = 0; s[i] != '\0' && s[i] != '.' &&
		    !(s[i] >= '0' && s[i] <= '9'); i++)
			;
		if (i == 0)
			return -1;
		unit = 0;
		for (k = 0; k < sizeof(dunits) / sizeof(dunits[0]); k++)
			if (strlen(dunits[k].unit) == i &&
			    memcmp(dunits[k].unit, s, i) == 0)
				unit = dunits[k].ns;
		if (unit == 0)
			return -1;
		s += i;
		if (v > lim / unit)
			return -1;
		v *= unit;
		if (f > 0) {
			/* As Go: float64 keeps fractions of hours exact. */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return -1;
		}
		d += v;
		if (d > lim)
			return -1;
	}
	if (neg) {
		*out = (int64_t)(0 - d);
		return 0;
	}
	if (d > lim - 1)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* Fraction digits of v / 10^prec before w, trailing zeros left out. */
static size_t
fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	int i, print = 0;
	unsigned digit;

	for (i = 0; i < prec; i++) {
		digit = (unsigned)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t
fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0)
		buf[--w] = '0';
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

size_t
format_duration(int64_t d, char *out, size_t len)
{
	char buf[40];
	size_t w = sizeof(buf);
	uint64_t u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;

	if (u == 0)
		return (size_t)snprintf(out, len, "0s");
	buf[--w] = 's';
	if (u < 1000000000ULL) {
		/* Under a second: the largest unit that is not zero. */
		int prec;

		if (u < 1000) {
			prec = 0;
			buf[--w] = 'n';
		} else if (u < 1000000) {
			prec = 3;
			buf[--w] = '\xb5';	/* U+00B5, as Go prints */
			buf[--w] = '\xc2';
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
	if (d < 0)
		buf[--w] = '-';
	return (size_t)snprintf(out, len, "%.*s", (int)(sizeof(buf) - w),
	    buf + w);
}

/* Errors. */


/* s quoted as Go's %q (text_goquote) into out[len], cut to fit. */
static void
goquote(const char *s, char *out, size_t len)
{
	char *q = text_goquote_str(s);

	snprintf(out, len, "%s", q);
	free(q);
}

/* Parsing state shared by the command line and the config file. */
struct ostate {
	const struct opt	*o;
	size_t			 n;
	char			*set;	/* given on the command line */
	char			*owned;	/* string set by us */
};

static void
set_str(struct ostate *st, size_t i, const char *v)
{
	char **p = st->o[i].val;

	if (st->owned[i])
		free(*p);
	*p = xstrdup(v);
	st->owned[i] = 1;
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Check an INT or DURATION against its bounds; -1 with the reason. */
static int
check_bounds(const struct opt *o, int64_t v, char *why, size_t whylen)
{
	char a[40], b[40];

	if (o->min >= o->max || (v >= o->min && v <= o->max))
		return 0;
	if (o->type == OPT_DURATION) {
		format_duration(o->min, a, sizeof(a));
		format_duration(o->max, b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%" PRId64, o->min);
		snprintf(b, sizeof(b), "%" PRId64, o->max);
	}
	errbuf_set(why, whylen, "value out of range [%s, %s]", a, b);
	return -1;
}

/*
 * Set option i from command-line text v (Go's flag.Value.Set); -1 with
 * the reason as Go's flag package words it ("parse error").
 */
static int
set_text(struct ostate *st, size_t i, const char *v, char *why,
    size_t whylen)
{
	const struct opt *o = &st->o[i];
	struct floatlist *fl;
	const char *p, *c;
	char *item;
	int64_t x;
	double d;
	int b, r;

	switch (o->type) {
	case OPT_BOOL:
		if (parse_bool(v, &b) == -1) {
			errbuf_set(why, whylen, "parse error");
			return -1;
		}
		*(bool *)o->val = b;
		return 0;
	case OPT_INT:
		if ((r = parse_int64(v, 1, &x)) != 0) {
			errbuf_set(why, whylen, r == -2 ? "value out of range" :
			    "parse error");
			return -1;
		}
		if (check_bounds(o, x, why, whylen) == -1)
			return -1;
		*(int64_t *)o->val = x;
		return 0;
	case OPT_DURATION:
		if (parse_duration(v, &x) == -1) {
			errbuf_set(why, whylen, "parse error");
			return -1;
		}
		if (check_bounds(o, x, why, whylen) == -1)
			return -1;
		*(int64_t *)o->val = x;
		return 0;
	case OPT_STR:
	case OPT_BOOLSTR:
		set_str(st, i, v);
		return 0;
	case OPT_STRLIST:
		strlist_add(o->val, v);
		return 0;
	case OPT_FLOATLIST:
		/* All items or none. */
		fl = o->val;
		for (p = v;; p = c + 1) {
			c = strchr(p, ',');
			item = c ? xstrndup(p, (size_t)(c - p)) : xstrdup(p);
			r = parse_float(item, &d);
			free(item);
			if (r == -1) {
				errbuf_set(why, whylen, "parse error");
				return -1;
			}
			if (c == NULL)
				break;
		}
		for (p = v;; p = c + 1) {
			c = strchr(p, ',');
			item = c ? xstrndup(p, (size_t)(c - p)) : xstrdup(p);
			(void)parse_float(item, &d);
			free(item);
			floatlist_add(fl, d);
			if (c == NULL)
				break;
		}
		qsort(fl->v, fl->n, sizeof(*fl->v), cmp_desc);
		return 0;
	}
	errbuf_set(why, whylen, "unknown option type");
	return -1;
}

static int
is_boolish(const struct opt *o)
{
	return o->type == OPT_BOOL || o->type == OPT_BOOLSTR;
}

static const struct opt *
find_long(const struct ostate *st, const char *name, size_t len, size_t *ip)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strlen(st->o[i].name) == len &&
		    memcmp(st->o[i].name, name, len) == 0) {
			*ip = i;
			return &st->o[i];
		}
	return NULL;
}

static const struct opt *
find_short(const struct ostate *st, int c, size_t *ip)
{
	size_t i;

	if (c == 0)
		return NULL;
	for (i = 0; i < st->n; i++)
		if (st->o[i].shortname == c) {
			*ip = i;
			return &st->o[i];
		}
	return NULL;
}

/* One option given by its long name; *ap advances past a consumed value. */
static int
do_long(struct ostate *st, size_t i, const char *shown, const char *eq,
    int argc, char **argv, int *ap, char *err, size_t errlen)
{
	const struct opt *o = &st->o[i];
	char why[128], q[256];
	const char *v;

	if (is_boolish(o)) {
		v = eq != NULL ? eq + 1 : "true";
		if (o->type == OPT_BOOL && set_text(st, i, v, why,
		    sizeof(why)) == -1) {
			goquote(v, q, sizeof(q));
			errbuf_set(err, errlen, "invalid boolean value %s for -%s: "
			    "%s", q, shown, why);
			return -1;
		}
		if (o->type == OPT_BOOLSTR)
			set_str(st, i, v);
		st->set[i] = 1;
		return 0;
	}
	if (eq != NULL)
		v = eq + 1;
	else if (*ap + 1 < argc)
		v = argv[++*ap];
	else {
		errbuf_set(err, errlen, "flag needs an argument: -%s", shown);
		return -1;
	}
	if (set_text(st, i, v, why, sizeof(why)) == -1) {
		goquote(v, q, sizeof(q));
		errbuf_set(err, errlen, "invalid value %s for flag -%s: %s", q,
		    shown, why);
		return -1;
	}
	st->set[i] = 1;
	return 0;
}

/* A cluster of short options after one dash: -v, -abc, -n5, -n 5. */
static int
do_short(struct ostate *st, const char *s, int argc, char **argv, int *ap,
    char *err, size_t errlen)
{
	const struct opt *o;
	char shown[2] = { 0, 0 };
	size_t i;

	while (*s != '\0') {
		shown[0] = *s;
		if ((o = find_short(st, (unsigned char)*s, &i)) == NULL) {
			errbuf_set(err, errlen, "flag provided but not defined: "
			    "-%s", shown);
			return -1;
		}
		s++;
		if (is_boolish(o)) {
			if (*s == '=')
				return do_long(st, i, shown, s, argc, argv, ap,
				    err, errlen);
			if (do_long(st, i, shown, NULL, argc, argv, ap, err,
			    errlen) == -1)
				return -1;
			continue;
		}
		/* The rest of the word is the value, else the next word. */
		if (*s == '=')
			s++;
		if (*s != '\0')
			return do_long(st, i, shown, s - 1, argc, argv, ap,
			    err, errlen);
		return do_long(st, i, shown, NULL, argc, argv, ap, err,
		    errlen);
	}
	return 0;
}

static int cfg_apply_file(struct ostate *, const char *, char *, size_t);

int
opts_parse(const struct opt *opts, size_t n, int argc, char **argv,
    int *argi, char *err, size_t errlen)
{
	struct ostate st;
	const struct opt *o;
	const char *a, *name, *eq;
	size_t i, namelen;
	int ap, rc = 0, dashes;
	char *path;

	st.o = opts;
	st.n = n;
	st.set = xcalloc(n + 1, 1);
	st.owned = xcalloc(n + 1, 1);
	if (errlen > 0)
		err[0] = '\0';
	for (ap = 1; ap < argc; ap++) {
		a = argv[ap];
		if (a[0] != '-' || a[1] == '\0')
			break;		/* the first operand */
		if (strcmp(a, "--") == 0) {
			ap++;
			break;
		}
		dashes = a[1] == '-' ? 2 : 1;
		name = a + dashes;
		if (name[0] == '-' || name[0] == '=') {
			errbuf_set(err, errlen, "bad flag syntax: %s", a);
			rc = -1;
			break;
		}
		/* As Go: the name ends at '=', which cannot come first. */
		eq = strchr(name + 1, '=');
		namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((o = find_long(&st, name, namelen, &i)) != NULL) {
			char *shown = xstrndup(name, namelen);

			rc = do_long(&st, i, shown, eq, argc, argv, &ap, err,
			    errlen);
			free(shown);
		} else if (namelen == 4 && memcmp(name, "help", 4) == 0)
			rc = OPTS_HELP;
		else if (dashes == 1 && find_short(&st,
		    (unsigned char)name[0], &i) != NULL)
			rc = do_short(&st, name, argc, argv, &ap, err, errlen);
		else if (namelen == 1 && name[0] == 'h')
			rc = OPTS_HELP;
		else {
			errbuf_set(err, errlen, "flag provided but not defined: "
			    "-%.*s", (int)namelen, name);
			rc = -1;
		}
		if (rc != 0)
			break;
	}
	*argi = ap;
	if (rc == 0) {
		for (i = 0; i < n; i++) {
			if (opts[i].type != OPT_STR ||
			    strcmp(opts[i].name, "config") != 0)
				continue;
			path = *(char **)opts[i].val;
			if (path != NULL && *path != '\0')
				rc = cfg_apply_file(&st, path, err, errlen);
			break;
		}
	}
	free(st.set);
	free(st.owned);
	return rc;
}

/*
 * The config file: a TOML subset.  Top-level "key = value" lines with
 * strings ("basic" with escapes, 'literal'), integers, floats, booleans
 * and arrays (across lines, trailing comma, comments inside); comments
 * and blank lines.  [table] headers and dotted keys are read (and
 * refused by cfg_apply_file).  Multi-line strings, inline tables and dates are refused
 * with a clear error.
 */

enum cv_type { CV_STR, CV_INT, CV_FLOAT, CV_BOOL, CV_ARRAY };

struct cval {
	enum cv_type	 t;
	char		*s;
	int64_t		 i;
	double		 f;
	int		 b;
	struct cval	*a;
	size_t		 n;
};

struct cent {
	char		*key;
	int		 line;
	int		 top;		/* a root-level key */
	struct cval	 v;
};

struct cfg {
	const char	*p;	/* cursor */
	const char	*end;
	int		 line;
	char		 why[256];
	struct cent	*e;
	size_t		 ne;
};

static void
cval_free(struct cval *v)
{
	size_t i;

	free(v->s);
	for (i = 0; i < v->n; i++)
		cval_free(&v->a[i]);
	free(v->a);
	memset(v, 0, sizeof(*v));
}

static void
cfg_free(struct cfg *c)
{
	size_t i;

	for (i = 0; i < c->ne; i++) {
		free(c->e[i].key);
		cval_free(&c->e[i].v);
	}
	free(c->e);
	c->e = NULL;
	c->ne = 0;
}

static int
cfg_fail(struct cfg *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
cfg_fail(struct cfg *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ch for a message: 'x' when printable, else 0xNN. */
static const char *
chdesc(int ch, char *buf, size_t len)
{
	ch &= 0xff;
	if (ch > 0x20 && ch < 0x7f)
		snprintf(buf, len, "'%c'", ch);
	else
		snprintf(buf, len, "0x%02x", ch);
	return buf;
}

static int
cfg_eof(const struct cfg *c)
{
	return c->p >= c->end;
}

static void
cfg_skip_ws(struct cfg *c)
{
	while (!cfg_eof(c) && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* A newline (LF or CRLF) at the cursor: consume it, 1; else 0. */
static int
cfg_newline(struct cfg *c)
{
	if (!cfg_eof(c) && *c->p == '\n') {
		c->p++;
		c->line++;
		return 1;
	}
	if (c->end - c->p >= 2 && c->p[0] == '\r' && c->p[1] == '\n') {
		c->p += 2;
		c->line++;
		return 1;
	}
	return 0;
}

static void
cfg_skip_comment(struct cfg *c)
{
	if (!cfg_eof(c) && *c->p == '#')
		while (!cfg_eof(c) && *c->p != '\n' && *c->p != '\r')
			c->p++;
}

/* White space, newlines and comments, as allowed inside arrays. */
static void
cfg_skip_all(struct cfg *c)
{
	for (;;) {
		cfg_skip_ws(c);
		cfg_skip_comment(c);
		if (!cfg_newline(c))
			return;
	}
}

/* After an item: only a comment may follow on its line. */
static int
cfg_end_line(struct cfg *c)
{
	char cb[8];

	cfg_skip_ws(c);
	cfg_skip_comment(c);
	if (cfg_eof(c) || cfg_newline(c))
		return 0;
	return cfg_fail(c, "expected the end of the line, found %s",
	    chdesc(*c->p, cb, sizeof(cb)));
}

/* A one-line string at the cursor, "basic" or 'literal'. */
static int
cfg_string(struct cfg *c, char **out)
{
	char q = *c->p, *o;
	size_t k = 0, j, nd;
	uint32_t r;
	unsigned char ch;

	if (c->end - c->p >= 3 && c->p[1] == q && c->p[2] == q)
		return cfg_fail(c, "multi-line strings are not supported");
	c->p++;
	/* Escapes never grow: \uXXXX is 6 bytes for at most 3. */
	o = xmalloc((size_t)(c->end - c->p) + 1);
	for (;;) {
		if (cfg_eof(c) || *c->p == '\n' || *c->p == '\r') {
			free(o);
			return cfg_fail(c, "unterminated string");
		}
		ch = (unsigned char)*c->p;
		if (ch == (unsigned char)q) {
			c->p++;
			break;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			free(o);
			return cfg_fail(c, "control character 0x%02x in string",
			    ch);
		}
		if (q == '\'' || ch != '\\') {
			o[k++] = (char)ch;
			c->p++;
			continue;
		}
		if (c->end - c->p < 2) {
			free(o);
			return cfg_fail(c, "unterminated string");
		}
		c->p += 2;
		switch (c->p[-1]) {
		case 'b': o[k++] = '\b'; continue;
		case 't': o[k++] = '\t'; continue;
		case 'n': o[k++] = '\n'; continue;
		case 'f': o[k++] = '\f'; continue;
		case 'r': o[k++] = '\r'; continue;
		case 'e': o[k++] = '\033'; continue;
		case '"': o[k++] = '"'; continue;
		case '\\': o[k++] = '\\'; continue;
		case 'u': nd = 4; break;
		case 'U': nd = 8; break;
		default:
			free(o);
			return cfg_fail(c, "invalid escape '\\%c' in string",
			    c->p[-1]);
		}
		r = 0;
		for (j = 0; j < nd; j++) {
			if (cfg_eof(c) || !isxdigit((unsigned char)*c->p)) {
				free(o);
				return cfg_fail(c, "invalid unicode escape in "
				    "string");
			}
			ch = (unsigned char)*c->p++;
			r = r * 16 + (uint32_t)(isdigit(ch) ? ch - '0' :
			    lower(ch) - 'a' + 10);
		}
		if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) {
			free(o);
			return cfg_fail(c, "invalid unicode code point in "
			    "string");
		}
		k += text_utf8_encode(o + k, r);
	}
	o[k] = '\0';
	if (memchr(o, '\0', k) != NULL) {
		free(o);
		return cfg_fail(c, "NUL character in string");
	}
	*out = o;
	return 0;
}

static int
is_bare(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '-';
}

/*
 * A key: bare, "quoted" or 'quoted', possibly dotted.  Dotted keys name
 * sub-tables, which no option reads: *dotted tells.
 */
static int
cfg_key(struct cfg *c, char **out, int *dotted)
{
	const char *s;
	char *part, cb[8];

	*out = NULL;
	*dotted = 0;
	for (;;) {
		if (cfg_eof(c)) {
			cfg_fail(c, "expected a key");
			goto fail;
		}
		if (*c->p == '"' || *c->p == '\'') {
			if (cfg_string(c, &part) == -1)
				goto fail;
		} else if (is_bare((unsigned char)*c->p)) {
			for (s = c->p; !cfg_eof(c) &&
			    is_bare((unsigned char)*c->p); c->p++)
				;
			part = xstrndup(s, (size_t)(c->p - s));
		} else {
			cfg_fail(c, "invalid character %s in key",
			    chdesc(*c->p, cb, sizeof(cb)));
			goto fail;
		}
		if (*out == NULL)
			*out = part;
		else
			free(part);
		cfg_skip_ws(c);
		if (cfg_eof(c) || *c->p != '.')
			return 0;
		c->p++;
		cfg_skip_ws(c);
		*dotted = 1;
	}
 fail:
	free(*out);
	*out = NULL;
	return -1;
}

/* d(_?d)* in the given base at *s; 0 if none or a bad underscore. */
static int
toml_digits(const char **s, int base)
{
	const char *p = *s;
	int n = 0;

	for (;;) {
		int ch = (unsigned char)*p, d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (isalpha(ch))
			d = lower(ch) - 'a' + 10;
		else
			d = 99;
		if (d >= base)
			break;
		n++;
		p++;
		if (*p == '_') {
			if (!(isalnum((unsigned char)p[1])))
				return 0;
			p++;
		}
	}
	*s = p;
	return n;
}

/* A bare value word: boolean, integer or float. */
static int
cfg_scalar(struct cfg *c, const char *w, struct cval *v)
{
	const char *p = w, *q;
	char *clean, *o;
	int base = 10, r;

	if (strcmp(w, "true") == 0 || strcmp(w, "false") == 0) {
		v->t = CV_BOOL;
		v->b = w[0] == 't';
		return 0;
	}
	if (*p == '+' || *p == '-')
		p++;
	if (strcmp(p, "inf") == 0 || strcmp(p, "nan") == 0) {
		v->t = CV_FLOAT;
		v->f = strcmp(p, "inf") == 0 ? INFINITY : NAN;
		if (*w == '-')
			v->f = -v->f;
		return 0;
	}
	if (strchr(w, ':') != NULL || (isdigit((unsigned char)w[0]) &&
	    strchr(w + 1, '-') != NULL && strpbrk(w, "eE") == NULL))
		return cfg_fail(c, "dates and times are not supported");
	if (p == w && p[0] == '0' && (p[1] == 'x' || p[1] == 'o' ||
	    p[1] == 'b')) {
		base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2;
		q = p + 2;
		if (toml_digits(&q, base) == 0 || *q != '\0')
			return cfg_fail(c, "invalid number '%s'", w);
	} else {
		q = p;
		if (toml_digits(&q, 10) == 0)
			return cfg_fail(c, "invalid value '%s'", w);
		if (p[0] == '0' && q - p > 1)
			return cfg_fail(c, "leading zeros in '%s'", w);
		if (*q == '.' || *q == 'e' || *q == 'E') {
			if (*q == '.') {
				q++;
				if (toml_digits(&q, 10) == 0)
					return cfg_fail(c, "invalid float "
					    "'%s'", w);
			}
			if (*q == 'e' || *q == 'E') {
				q++;
				if (*q == '+' || *q == '-')
					q++;
				if (toml_digits(&q, 10) == 0)
					return cfg_fail(c, "invalid float "
					    "'%s'", w);
			}
			if (*q != '\0')
				return cfg_fail(c, "invalid float '%s'", w);
			clean = xstrdup(w);
			for (o = clean, q = w; *q != '\0'; q++)
				if (*q != '_')
					*o++ = *q;
			*o = '\0';
			r = parse_float(clean, &v->f);
			free(clean);
			if (r == -1)
				return cfg_fail(c, "float out of range '%s'",
				    w);
			v->t = CV_FLOAT;
			return 0;
		}
		if (*q != '\0')
			return cfg_fail(c, "invalid value '%s'", w);
	}
	/* strconv with base 0 reads the prefixes and underscores alike. */
	r = parse_int64(w, 1, &v->i);
	if (base == 10 && r == 0 && p[0] == '0' && p[1] != '\0')
		r = -1;
	if (r == -2)
		return cfg_fail(c, "integer out of range '%s'", w);
	if (r != 0)
		return cfg_fail(c, "invalid number '%s'", w);
	v->t = CV_INT;
	return 0;
}

static int
cfg_value(struct cfg *c, struct cval *v, int depth)
{
	const char *s;
	char *w, cb[8];
	int r;

	memset(v, 0, sizeof(*v));
	if (cfg_eof(c) || *c->p == '\n' || *c->p == '\r' || *c->p == '#')
		return cfg_fail(c, "expected a value");
	if (*c->p == '"' || *c->p == '\'') {
		v->t = CV_STR;
		return cfg_string(c, &v->s);
	}
	if (*c->p == '{')
		return cfg_fail(c, "inline tables are not supported");
	if (*c->p == '[') {
		if (depth >= CFG_MAX_DEPTH)
			return cfg_fail(c, "arrays nested too deep");
		c->p++;
		v->t = CV_ARRAY;
		for (;;) {
			cfg_skip_all(c);
			if (cfg_eof(c))
				return cfg_fail(c, "unterminated array");
			if (*c->p == ']') {
				c->p++;
				return 0;
			}
			v->a = xreallocarray(v->a, v->n + 1, sizeof(*v->a));
			if (cfg_value(c, &v->a[v->n], depth + 1) == -1) {
				/* Keep what was read freeable. */
				v->n++;
				return -1;
			}
			v->n++;
			cfg_skip_all(c);
			if (cfg_eof(c))
				return cfg_fail(c, "unterminated array");
			if (*c->p == ',')
				c->p++;
			else if (*c->p != ']')
				return cfg_fail(c, "expected ',' or ']' in "
				    "array, found %s",
				    chdesc(*c->p, cb, sizeof(cb)));
		}
	}
	for (s = c->p; !cfg_eof(c) && (isalnum((unsigned char)*c->p) ||
	    strchr("+-._:", *c->p) != NULL); c->p++)
		;
	if (c->p == s)
		return cfg_fail(c, "invalid character %s in value",
		    chdesc(*c->p, cb, sizeof(cb)));
	w = xstrndup(s, (size_t)(c->p - s));
	r = cfg_scalar(c, w, v);
	free(w);
	return r;
}

/* Read the whole text into c->e, or -1 with c->why and c->line. */
static int
cfg_read(struct cfg *c)
{
	struct cent *e;
	char *key;
	int dotted, intable = 0, line, arr;
	size_t i;

	c->line = 1;
	if (c->end - c->p >= 3 && memcmp(c->p, "\xef\xbb\xbf", 3) == 0)
		c->p += 3;
	for (;;) {
		cfg_skip_ws(c);
		cfg_skip_comment(c);
		if (cfg_eof(c))
			return 0;
		if (cfg_newline(c))
			continue;
		if (*c->p == '\r')
			return cfg_fail(c, "bare carriage return");
		line = c->line;
		if (*c->p == '[') {
			/* [table] or [[array of tables]]: keys below are not
			 * top-level, so no option reads them. */
			c->p++;
			arr = !cfg_eof(c) && *c->p == '[';
			if (arr)
				c->p++;
			cfg_skip_ws(c);
			if (cfg_key(c, &key, &dotted) == -1)
				return -1;
			free(key);
			cfg_skip_ws(c);
			if (cfg_eof(c) || *c->p != ']' || (arr &&
			    (c->end - c->p < 2 || c->p[1] != ']')))
				return cfg_fail(c, "unterminated table "
				    "header");
			c->p += arr ? 2 : 1;
			if (cfg_end_line(c) == -1)
				return -1;
			intable = 1;
			continue;
		}
		if (cfg_key(c, &key, &dotted) == -1)
			return -1;
		cfg_skip_ws(c);
		if (cfg_eof(c) || *c->p != '=') {
			free(key);
			return cfg_fail(c, "expected '=' after key");
		}
		c->p++;
		cfg_skip_ws(c);
		c->e = xreallocarray(c->e, c->ne + 1, sizeof(*c->e));
		e = &c->e[c->ne++];
		e->key = key;
		e->line = line;
		e->top = !intable && !dotted;
		if (cfg_value(c, &e->v, 0) == -1)
			return -1;
		if (cfg_end_line(c) == -1)
			return -1;
		if (!e->top)
			continue;
		for (i = 0; i + 1 < c->ne; i++)
			if (c->e[i].top && strcmp(c->e[i].key, key) == 0) {
				c->line = line;
				return cfg_fail(c, "key '%s' already defined "
				    "on line %d", key, c->e[i].line);
			}
	}
}

static const char *
cv_name(enum cv_type t)
{
	switch (t) {
	case CV_STR:
		return "string";
	case CV_INT:
		return "integer";
	case CV_FLOAT:
		return "float";
	case CV_BOOL:
		return "boolean";
	case CV_ARRAY:
		return "array";
	}
	return "value";
}

/* Coerce a file value into option i as go-options does; -1 with why. */
static int
cfg_set(struct ostate *st, size_t i, const struct cval *v, char *why,
    size_t whylen)
{
	const struct opt *o = &st->o[i];
	struct strlist sl = { NULL, 0 };
	struct floatlist fl = { NULL, 0 };
	const char *p, *c;
	char *item, *t;
	int64_t x;
	double d;
	size_t k;
	int b, r;

	switch (o->type) {
	case OPT_BOOL:
		if (v->t == CV_BOOL)
			b = v->b;
		else if (v->t != CV_STR || parse_bool(v->s, &b) == -1)
			goto bad;
		*(bool *)o->val = b;
		return 0;
	case OPT_BOOLSTR:
		if (v->t == CV_BOOL)
			set_str(st, i, v->b ? "true" : "false");
		else if (v->t == CV_STR)
			set_str(st, i, v->s);
		else
			goto bad;
		return 0;
	case OPT_INT:
		if (v->t == CV_INT)
			x = v->i;
		else if (v->t == CV_STR) {
			if ((r = parse_int64(v->s, 0, &x)) != 0) {
				errbuf_set(why, whylen, r == -2 ?
				    "value out of range" : "parse error");
				return -1;
			}
		} else
			goto bad;
		if (check_bounds(o, x, why, whylen) == -1)
			return -1;
		*(int64_t *)o->val = x;
		return 0;
	case OPT_DURATION:
		if (v->t == CV_INT) {
			/* go-options: an integer is milliseconds. */
			if (v->i > INT64_MAX / 1000000 ||
			    v->i < INT64_MIN / 1000000) {
				errbuf_set(why, whylen, "value out of range");
				return -1;
			}
			x = v->i * 1000000;
		} else if (v->t == CV_STR) {
			if (parse_duration(v->s, &x) == -1) {
				errbuf_set(why, whylen, "invalid duration");
				return -1;
			}
		} else
			goto bad;
		if (check_bounds(o, x, why, whylen) == -1)
			return -1;
		*(int64_t *)o->val = x;
		return 0;
	case OPT_STR:
		if (v->t != CV_STR)
			goto bad;
		set_str(st, i, v->s);
		return 0;
	case OPT_STRLIST:
		if (v->t == CV_STR) {
			for (p = v->s;; p = c + 1) {
				c = strchr(p, ',');
				t = c ? xstrndup(p, (size_t)(c - p)) :
				    xstrdup(p);
				strlist_add(&sl, t);
				free(t);
				if (c == NULL)
					break;
			}
		} else if (v->t == CV_ARRAY) {
			for (k = 0; k < v->n; k++) {
				if (v->a[k].t != CV_STR) {
					strlist_free(&sl);
					errbuf_set(why, whylen, "array holds %s, "
					    "not strings",
					    cv_name(v->a[k].t));
					return -1;
				}
				strlist_add(&sl, v->a[k].s);
			}
		} else
			goto bad;
		strlist_free(o->val);
		*(struct strlist *)o->val = sl;
		return 0;
	case OPT_FLOATLIST:
		if (v->t == CV_STR) {
			for (p = v->s;; p = c + 1) {
				c = strchr(p, ',');
				item = c ? xstrndup(p, (size_t)(c - p)) :
				    xstrdup(p);
				/* go-options trims each item. */
				for (t = item + strlen(item); t > item &&
				    isspace((unsigned char)t[-1]); t--)
					t[-1] = '\0';
				for (t = item; isspace((unsigned char)*t); t++)
					;
				r = parse_float(t, &d);
				free(item);
				if (r == -1) {
					floatlist_free(&fl);
					errbuf_set(why, whylen, "parse error");
					return -1;
				}
				floatlist_add(&fl, d);
				if (c == NULL)
					break;
			}
		} else if (v->t == CV_ARRAY) {
			for (k = 0; k < v->n; k++) {
				if (v->a[k].t == CV_FLOAT)
					floatlist_add(&fl, v->a[k].f);
				else if (v->a[k].t == CV_INT)
					floatlist_add(&fl, (double)v->a[k].i);
				else {
					floatlist_free(&fl);
					errbuf_set(why, whylen, "array holds %s, "
					    "not numbers",
					    cv_name(v->a[k].t));
					return -1;
				}
			}
		} else
			goto bad;
		floatlist_free(o->val);
		*(struct floatlist *)o->val = fl;
		return 0;
	}
 bad:
	errbuf_set(why, whylen, "%s is not accepted here", cv_name(v->t));
	return -1;
}

/* The config key of option o into buf. */
static const char *
cfg_key_of(const struct opt *o, char *buf, size_t len)
{
	size_t i;

	if (o->cfgkey != NULL)
		return o->cfgkey;
	snprintf(buf, len, "%s", o->name);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '-')
			buf[i] = '_';
	return buf;
}

static int
cfg_apply_file(struct ostate *st, const char *path, char *err, size_t errlen)
{
	struct cfg c;
	struct stat sb;
	char *text = NULL, kbuf[128], why[256];
	const char *key;
	size_t i, k, got = 0;
	ssize_t r;
	int fd, rc = -1;

	memset(&c, 0, sizeof(c));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		errbuf_set(err, errlen, "stat %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > CFG_MAX_SIZE) {
		errbuf_set(err, errlen, "%s: not a regular file under %d bytes",
		    path, CFG_MAX_SIZE);
		goto done;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	while (got < (size_t)sb.st_size) {
		r = read(fd, text + got, (size_t)sb.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			errbuf_set(err, errlen, "read %s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	c.p = text;
	c.end = text + got;
	if (cfg_read(&c) == -1) {
		errbuf_set(err, errlen, "%s:%d: %s", path, c.line, c.why);
		goto done;
	}
	for (k = 0; k < c.ne; k++) {
		/*
		 * Go's go-options skips what no option knows; a typo'd key or
		 * a [section] header above every key would then be options
		 * silently not set.  Here both are refused.
		 */
		if (!c.e[k].top) {
			errbuf_set(err, errlen, "%s:%d: %s: only top-level keys "
			    "are options (no [tables] or dotted keys)", path,
			    c.e[k].line, c.e[k].key);
			goto done;
		}
		for (i = 0; i < st->n; i++) {
			const struct opt *o = &st->o[i];

			if (o->type == OPT_STR &&
			    strcmp(o->name, "config") == 0)
				continue;
			key = cfg_key_of(o, kbuf, sizeof(kbuf));
			if (strcmp(key, c.e[k].key) != 0)
				continue;
			if (st->set[i])
				break;	/* the command line wins */
			if (cfg_set(st, i, &c.e[k].v, why, sizeof(why)) == -1) {
				errbuf_set(err, errlen, "%s:%d: invalid value for "
				    "%s: %s", path, c.e[k].line, key, why);
				goto done;
			}
			break;
		}
		if (i == st->n) {
			errbuf_set(err, errlen, "%s:%d: unknown option %s", path,
			    c.e[k].line, c.e[k].key);
			goto done;
		}
	}
	rc = 0;
 done:
	cfg_free(&c);
	free(text);
	close(fd);
	return rc;
}

int
opts_load_config(const struct opt *opts, size_t n, const char *path,
    char *err, size_t errlen)
{
	struct ostate st;
	int rc;

	st.o = opts;
	st.n = n;
	st.set = xcalloc(n + 1, 1);
	st.owned = xcalloc(n + 1, 1);
	if (errlen > 0)
		err[0] = '\0';
	rc = cfg_apply_file(&st, path, err, errlen);
	free(st.set);
	free(st.owned);
	return rc;
}

/* Help. */

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *
default_metavar(enum opt_type t)
{
	switch (t) {
	case OPT_INT:
		return "INT";
	case OPT_DURATION:
		return "DURATION";
	case OPT_FLOATLIST:
		return "FLOAT";
	case OPT_BOOLSTR:
		return NULL;
	default:
		return "STRING";
	}
}

/* The left column of option o: "  -x, --name METAVAR". */
static void
help_left(const struct opt *o, struct sbuf *b)
{
	const char *mv = o->metavar;

	if (mv == NULL && o->type != OPT_BOOL)
		mv = default_metavar(o->type);
	if (o->shortname != 0)
		sb_add(b, "  -%c, --%s", o->shortname, o->name);
	else
		sb_add(b, "      --%s", o->name);
	if (o->type == OPT_BOOLSTR && mv != NULL)
		sb_add(b, "[=%s]", mv);
	else if (mv != NULL)
		sb_add(b, " %s", mv);
}

static void
help_default(const struct opt *o, struct sbuf *b)
{
	const struct strlist *sl;
	const struct floatlist *fl;
	char t[40];
	const char *s;
	size_t i;

	switch (o->type) {
	case OPT_BOOL:
		if (*(bool *)o->val)
			sb_add(b, " (default: true)");
		break;
	case OPT_INT:
		if (*(int64_t *)o->val != 0)
			sb_add(b, " (default: %" PRId64 ")",
			    *(int64_t *)o->val);
		break;
	case OPT_DURATION:
		if (*(int64_t *)o->val != 0) {
			format_duration(*(int64_t *)o->val, t, sizeof(t));
			sb_add(b, " (default: %s)", t);
		}
		break;
	case OPT_STR:
	case OPT_BOOLSTR:
		s = *(char **)o->val;
		if (s != NULL && *s != '\0')
			sb_add(b, " (default: \"%s\")", s);
		break;
	case OPT_STRLIST:
		sl = o->val;
		for (i = 0; i < sl->n; i++)
			sb_add(b, "%s%s", i == 0 ? " (default: " : ",",
			    sl->v[i]);
		if (sl->n > 0)
			sb_add(b, ")");
		break;
	case OPT_FLOATLIST:
		fl = o->val;
		for (i = 0; i < fl->n; i++)
			sb_add(b, "%s%g", i == 0 ? " (default: " : ",",
			    fl->v[i]);
		if (fl->n > 0)
			sb_add(b, ")");
		break;
	}
}

char *
opts_help(const struct opt *opts, size_t n, const char *prog,
    const char *synopsis)
{
	struct sbuf b = { NULL, 0, 0 }, l;
	size_t i, width = 0;

	/* The help column starts after the widest left part, up to 32. */
	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		help_left(&opts[i], &l);
		if (l.len > width && l.len <= 32)
			width = l.len;
		free(l.s);
	}
	sb_add(&b, "Usage: %s %s\n", prog, synopsis != NULL ? synopsis :
	    "[options]");
	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		help_left(&opts[i], &l);
		sb_add(&b, "%-*s  %s", (int)width, l.s,
		    opts[i].help != NULL ? opts[i].help : "");
		free(l.s);
		help_default(&opts[i], &b);
		sb_add(&b, "\n");
	}
	return b.s;
}
