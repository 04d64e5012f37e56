/*
 * JSON reading over jsmn and writing into a struct buf.
 *
 * jsmn, even in strict mode, tokenizes much that is not JSON ("[1 2]",
 * "{\"a\":1,}", "tru", raw control characters in strings, several values
 * in a row) and cannot end a document on a bare number.  So a document is
 * first checked here against the JSON grammar by an iterative scanner that
 * also counts the tokens; jsmn then fills an array of exactly that size,
 * which keeps its parent links and token layout for the accessors.  This is
 * the only file that includes jsmn.h, with static linkage.
 *
 * The writer follows Go's encoding/json byte for byte: strings escaped by
 * lib/text's text_json_quote (HTML-safe, U+2028/U+2029 escaped, invalid
 * UTF-8 as \ufffd), floats in the shortest form that reads back, 'e'
 * notation outside [1e-6, 1e21).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "buffer.h"
#include "json.h"
#include "text.h"
#include "xmalloc.h"

/* Scanner states: what the next significant byte may be. */
enum jstate {
	JS_VALUE,	/* any value */
	JS_ARR_FIRST,	/* a value or ']' */
	JS_OBJ_FIRST,	/* a key or '}' */
	JS_OBJ_KEY,	/* a key */
	JS_COLON,	/* ':' */
	JS_AFTER,	/* ',' or the container's closing bracket */
	JS_DONE,	/* nothing but white space */
};

#define JERR_EOF	(-2)

static void
jerr_char(char *err, size_t errlen, unsigned char c, const char *ctx,
    size_t off)
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(err, errlen, "invalid character '%c' %s at offset %zu",
		    c, ctx, off);
	else
		snprintf(err, errlen,
		    "invalid character 0x%02x %s at offset %zu", c, ctx, off);
}

static int
ishex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

static int
isdig(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Scan the string opening at s[*p]; *p ends after its closing quote. */
static int
scan_string(const char *s, size_t len, size_t *p, char *err, size_t errlen)
{
	size_t i = *p + 1;
	unsigned char c;
	int k;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c == '"') {
			*p = i + 1;
			return 0;
		}
		if (c < 0x20) {
			jerr_char(err, errlen, c, "in string literal", i);
			return -1;
		}
		if (c != '\\') {
			i++;
			continue;
		}
		if (++i >= len)
			return JERR_EOF;
		c = (unsigned char)s[i];
		switch (c) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			i++;
			break;
		case 'u':
			for (k = 1; k <= 4; k++) {
				if (i + k >= len)
					return JERR_EOF;
				if (!ishex((unsigned char)s[i + k])) {
					jerr_char(err, errlen,
					    (unsigned char)s[i + k], "in \\u "
					    "hexadecimal character escape",
					    i + k);
					return -1;
				}
			}
			i += 5;
			break;
		default:
			jerr_char(err, errlen, c, "in string escape code", i);
			return -1;
		}
	}
	return JERR_EOF;
}

/* Scan a number at s[*p] by the JSON grammar. */
static int
scan_number(const char *s, size_t len, size_t *p, char *err, size_t errlen)
{
	size_t i = *p;

	if (s[i] == '-' && ++i >= len)
		return JERR_EOF;
	if (s[i] == '0')
		i++;
	else if (isdig((unsigned char)s[i])) {
		while (i < len && isdig((unsigned char)s[i]))
			i++;
	} else {
		jerr_char(err, errlen, (unsigned char)s[i],
		    "in numeric literal", i);
		return -1;
	}
	if (i < len && s[i] == '.') {
		if (++i >= len)
			return JERR_EOF;
		if (!isdig((unsigned char)s[i])) {
			jerr_char(err, errlen, (unsigned char)s[i],
			    "after decimal point in numeric literal", i);
			return -1;
		}
		while (i < len && isdig((unsigned char)s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i >= len)
			return JERR_EOF;
		if ((s[i] == '+' || s[i] == '-') && ++i >= len)
			return JERR_EOF;
		if (!isdig((unsigned char)s[i])) {
			jerr_char(err, errlen, (unsigned char)s[i],
			    "in exponent of numeric literal", i);
			return -1;
		}
		while (i < len && isdig((unsigned char)s[i]))
			i++;
	}
	*p = i;
	return 0;
}

static int
scan_literal(const char *s, size_t len, size_t *p, const char *lit,
    char *err, size_t errlen)
{
	size_t i, n = strlen(lit);

	for (i = 0; i < n; i++) {
		if (*p + i >= len)
			return JERR_EOF;
		if (s[*p + i] != lit[i]) {
			jerr_char(err, errlen, (unsigned char)s[*p + i],
			    "in literal", *p + i);
			return -1;
		}
	}
	*p += n;
	return 0;
}

/*
 * Check that s[0, len) is one JSON value with optional white space around
 * it.  On success *ntok is the number of jsmn tokens it makes and
 * *prim says whether the value is a bare primitive spanning [*vs, *ve).
 */
static int
json_check(const char *s, size_t len, int *ntok, int *prim, size_t *vs,
    size_t *ve, char *err, size_t errlen)
{
	unsigned char isobj[JSON_MAX_DEPTH / 8 + 1] = { 0 };
	enum jstate st = JS_VALUE;
	size_t p = 0;
	int depth = 0, n = 0, r = 0, inobj;
	unsigned char c;

	*prim = 0;
	*vs = *ve = 0;
	for (;;) {
		while (p < len && (s[p] == ' ' || s[p] == '\t' ||
		    s[p] == '\n' || s[p] == '\r'))
			p++;
		if (p >= len) {
			if (st == JS_DONE)
				break;
			r = JERR_EOF;
			goto fail;
		}
		c = (unsigned char)s[p];
		switch (st) {
		case JS_DONE:
			jerr_char(err, errlen, c, "after top-level value", p);
			return -1;
		case JS_COLON:
			if (c != ':') {
				jerr_char(err, errlen, c, "after object key",
				    p);
				return -1;
			}
			p++;
			st = JS_VALUE;
			continue;
		case JS_AFTER:
			inobj = (isobj[(depth - 1) / 8] >> ((depth - 1) % 8)) &
			    1;
			if (c == ',') {
				p++;
				st = inobj ? JS_OBJ_KEY : JS_VALUE;
				continue;
			}
			if (c != (inobj ? '}' : ']')) {
				jerr_char(err, errlen, c, inobj ?
				    "after object key:value pair" :
				    "after array element", p);
				return -1;
			}
			p++;
			depth--;
			goto value_done;
		case JS_OBJ_FIRST:
		case JS_OBJ_KEY:
			if (c == '}' && st == JS_OBJ_FIRST) {
				p++;
				depth--;
				goto value_done;
			}
			if (c != '"') {
				jerr_char(err, errlen, c, "looking for "
				    "beginning of object key string", p);
				return -1;
			}
			if ((r = scan_string(s, len, &p, err, errlen)) != 0)
				goto fail;
			n++;
			st = JS_COLON;
			continue;
		case JS_ARR_FIRST:
			if (c == ']') {
				p++;
				depth--;
				goto value_done;
			}
			/* FALLTHROUGH */
		case JS_VALUE:
			break;
		}

		/* A value starts at s[p]. */
		if (depth == 0)
			*vs = p;
		if (c == '{' || c == '[') {
			if (depth >= JSON_MAX_DEPTH) {
				snprintf(err, errlen, "exceeded max depth");
				return -1;
			}
			if (c == '{')
				isobj[depth / 8] |= 1 << (depth % 8);
			else
				isobj[depth / 8] &= ~(1 << (depth % 8));
			depth++;
			n++;
			p++;
			st = c == '{' ? JS_OBJ_FIRST : JS_ARR_FIRST;
			continue;
		}
		if (c == '"')
			r = scan_string(s, len, &p, err, errlen);
		else if (c == '-' || isdig(c))
			r = scan_number(s, len, &p, err, errlen);
		else if (c == 't')
			r = scan_literal(s, len, &p, "true", err, errlen);
		else if (c == 'f')
			r = scan_literal(s, len, &p, "false", err, errlen);
		else if (c == 'n')
			r = scan_literal(s, len, &p, "null", err, errlen);
		else {
			jerr_char(err, errlen, c,
			    "looking for beginning of value", p);
			return -1;
		}
		if (r != 0)
			goto fail;
		n++;
		if (depth == 0 && c != '"')
			*prim = 1;
 value_done:
		if (n > JSON_MAX_TOKENS) {
			snprintf(err, errlen, "too many tokens (over %d)",
			    JSON_MAX_TOKENS);
			return -1;
		}
		if (depth == 0) {
			*ve = p;
			st = JS_DONE;
		} else
			st = JS_AFTER;
	}
	*ntok = n;
	return 0;
 fail:
	if (r == JERR_EOF)
		snprintf(err, errlen, "unexpected end of JSON input");
	return -1;
}

int
json_parse(struct json *j, const char *src, size_t len, char *err,
    size_t errlen)
{
	jsmn_parser parser;
	jsmntok_t *t;
	size_t vs, ve;
	int ntok, prim, r;

	memset(j, 0, sizeof(*j));
	if (errlen > 0)
		err[0] = '\0';
	if (len >= INT_MAX) {
		snprintf(err, errlen, "document too large");
		return -1;
	}
	if (json_check(src, len, &ntok, &prim, &vs, &ve, err, errlen) == -1)
		return -1;
	t = xreallocarray(NULL, (size_t)ntok, sizeof(*t));
	if (prim) {
		/*
		 * Strict jsmn wants a delimiter after a primitive, which a
		 * document that is a bare number does not have.
		 */
		t[0].type = JSMN_PRIMITIVE;
		t[0].start = (int)vs;
		t[0].end = (int)ve;
		t[0].size = 0;
		t[0].parent = -1;
	} else {
		jsmn_init(&parser);
		r = jsmn_parse(&parser, src, len, t, (unsigned int)ntok);
		if (r != ntok) {
			snprintf(err, errlen, "tokenizer disagrees (%d/%d)", r,
			    ntok);
			free(t);
			return -1;
		}
	}
	j->src = src;
	j->len = len;
	j->tok = t;
	j->ntok = ntok;
	return 0;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->tok);
	j->tok = NULL;
	j->ntok = 0;
}

static const jsmntok_t *
jtok(const struct json *j, int tok)
{
	if (j == NULL || j->tok == NULL || tok < 0 || tok >= j->ntok)
		return NULL;
	return (const jsmntok_t *)j->tok + tok;
}

enum json_type
json_type(const struct json *j, int tok)
{
	const jsmntok_t *t = jtok(j, tok);

	if (t == NULL)
		return JSON_UNDEF;
	switch (t->type) {
	case JSMN_OBJECT:
		return JSON_OBJECT;
	case JSMN_ARRAY:
		return JSON_ARRAY;
	case JSMN_STRING:
		return JSON_STRING;
	case JSMN_PRIMITIVE:
		return JSON_PRIMITIVE;
	default:
		return JSON_UNDEF;
	}
}

int
json_prim_kind(const struct json *j, int tok)
{
	const jsmntok_t *t = jtok(j, tok);
	char c;

	if (t == NULL || t->type != JSMN_PRIMITIVE)
		return -1;
	c = j->src[t->start];
	if (c == 'n' || c == 't' || c == 'f')
		return c;
	return '0';
}

int
json_next(const struct json *j, int tok)
{
	const jsmntok_t *t = jtok(j, tok), *base;
	int i, end;

	if (t == NULL)
		return -1;
	base = j->tok;
	/* A key's subtree holds its value. */
	if (t->type == JSMN_STRING && t->size == 1 && tok + 1 < j->ntok)
		t = &base[++tok];
	end = t->end;
	for (i = tok + 1; i < j->ntok && base[i].start < end; i++)
		;
	return i;
}

int
json_size(const struct json *j, int tok)
{
	const jsmntok_t *t = jtok(j, tok);

	if (t == NULL || (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY))
		return 0;
	return t->size;
}

static int
json_child(const struct json *j, int tok, int i, jsmntype_t type)
{
	const jsmntok_t *t = jtok(j, tok);
	int k;

	if (t == NULL || t->type != type || i < 0 || i >= t->size)
		return -1;
	for (k = tok + 1; i > 0; i--)
		k = json_next(j, k);
	return k;
}

int
json_arr_at(const struct json *j, int arr, int i)
{
	return json_child(j, arr, i, JSMN_ARRAY);
}

int
json_obj_key_at(const struct json *j, int obj, int i)
{
	return json_child(j, obj, i, JSMN_OBJECT);
}

int
json_get_bool(const struct json *j, int tok, bool *v)
{
	int k = json_prim_kind(j, tok);

	if (k != 't' && k != 'f')
		return -1;
	*v = k == 't';
	return 0;
}

int
json_get_int64(const struct json *j, int tok, int64_t *v)
{
	const jsmntok_t *t = jtok(j, tok);
	const char *s;
	uint64_t u = 0, lim;
	int i, neg = 0;

	if (json_prim_kind(j, tok) != '0')
		return -1;
	s = j->src;
	i = t->start;
	if (s[i] == '-') {
		neg = 1;
		i++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < t->end; i++) {
		if (!isdig((unsigned char)s[i]))
			return -1;	/* fraction or exponent */
		if (u > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		u = u * 10 + (uint64_t)(s[i] - '0');
	}
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

int
json_get_double(const struct json *j, int tok, double *v)
{
	const jsmntok_t *t = jtok(j, tok);
	char small[64], *s, *end;
	size_t n;
	double d;

	if (json_prim_kind(j, tok) != '0')
		return -1;
	n = (size_t)(t->end - t->start);
	s = n < sizeof(small) ? small : xmalloc(n + 1);
	memcpy(s, j->src + t->start, n);
	s[n] = '\0';
	errno = 0;
	d = strtod(s, &end);
	if (s != small)
		free(s);
	if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
		return -1;
	*v = d;
	return 0;
}

/* The four hex digits at s[0, 4) if s[0, n) holds them, else -1. */
static long
hex4(const char *s, size_t n)
{
	long v = 0;
	int i;

	if (n < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if (!ishex((unsigned char)s[i]))
			return -1;
		v = v * 16 + hexval((unsigned char)s[i]);
	}
	return v;
}

/* Unescape p[0, n), the inside of a string token, into a new string. */
static char *
unescape(const char *p, size_t n, size_t *outlen)
{
	char *o, *q;
	size_t i = 0;
	uint32_t u;
	long r, r2;

	/* An invalid byte grows to U+FFFD's three bytes at most. */
	o = q = xreallocarray(NULL, n + 1, 3);
	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c != '\\') {
			/* Re-encoding a rune keeps it; an error is U+FFFD. */
			i += text_utf8_decode(p + i, n - i, &u);
			q += text_utf8_encode(q, u);
			continue;
		}
		if (i + 1 >= n)
			goto bad;
		c = (unsigned char)p[i + 1];
		i += 2;
		switch (c) {
		case '"': case '\\': case '/':
			*q++ = (char)c;
			break;
		case 'b':
			*q++ = '\b';
			break;
		case 'f':
			*q++ = '\f';
			break;
		case 'n':
			*q++ = '\n';
			break;
		case 'r':
			*q++ = '\r';
			break;
		case 't':
			*q++ = '\t';
			break;
		case 'u':
			if ((r = hex4(p + i, n - i)) == -1)
				goto bad;
			i += 4;
			if (r >= 0xd800 && r < 0xdc00) {
				/* Join a pair; a lone half is U+FFFD. */
				if (i + 6 <= n && p[i] == '\\' &&
				    p[i + 1] == 'u' &&
				    (r2 = hex4(p + i + 2, n - i - 2)) >=
				    0xdc00 && r2 < 0xe000) {
					r = 0x10000 + ((r - 0xd800) << 10) +
					    (r2 - 0xdc00);
					i += 6;
				} else
					r = 0xfffd;
			} else if (r >= 0xdc00 && r < 0xe000)
				r = 0xfffd;
			q += text_utf8_encode(q, (uint32_t)r);
			break;
		default:
			goto bad;
		}
	}
	*q = '\0';
	if (outlen != NULL)
		*outlen = (size_t)(q - o);
	return o;
 bad:
	free(o);
	return NULL;
}

char *
json_get_str(const struct json *j, int tok, size_t *len)
{
	const jsmntok_t *t = jtok(j, tok);

	if (t == NULL || t->type != JSMN_STRING)
		return NULL;
	return unescape(j->src + t->start, (size_t)(t->end - t->start), len);
}

/* Whether the raw bytes of a string token need unescaping to compare. */
static int
tok_is_plain(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\\' || (unsigned char)p[i] >= 0x80)
			return 0;
	return 1;
}

static int
tok_cmp(const struct json *j, int tok, const char *s, int fold)
{
	const jsmntok_t *t = jtok(j, tok);
	const char *p;
	char *u = NULL;
	size_t n, sl = strlen(s), i;
	int eq;

	if (t == NULL || t->type != JSMN_STRING)
		return 0;
	p = j->src + t->start;
	n = (size_t)(t->end - t->start);
	if (!tok_is_plain(p, n)) {
		if ((u = unescape(p, n, &n)) == NULL)
			return 0;
		p = u;
	}
	eq = n == sl;
	for (i = 0; eq && i < n; i++) {
		unsigned char a = (unsigned char)p[i], b = (unsigned char)s[i];

		if (fold) {
			if (a >= 'A' && a <= 'Z')
				a += 'a' - 'A';
			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
		}
		eq = a == b;
	}
	free(u);
	return eq;
}

int
json_tok_eq(const struct json *j, int tok, const char *s)
{
	return tok_cmp(j, tok, s, 0);
}

int
json_obj_get(const struct json *j, int obj, const char *key)
{
	int i, k, n;

	if (json_type(j, obj) != JSON_OBJECT)
		return -1;
	n = json_size(j, obj);
	for (i = 0, k = obj + 1; i < n; i++, k = json_next(j, k))
		if (tok_cmp(j, k, key, 0))
			return k + 1;
	return -1;
}

int
json_obj_get_go(const struct json *j, int obj, const char *key)
{
	int i, k, n, found = -1;

	if (json_type(j, obj) != JSON_OBJECT)
		return -1;
	n = json_size(j, obj);
	for (i = 0, k = obj + 1; i < n; i++, k = json_next(j, k))
		if (tok_cmp(j, k, key, 1))
			found = k + 1;
	return found;
}

/*
 * The writer.  A document that does not fit also fails its buffer, so an
 * owner that checks buf_failed() once (lib/http's replies) sees it too.
 */

static void
jw_put(struct jw *w, const void *p, size_t n)
{
	if (w->err)
		return;
	buf_add(w->b, p, n);
	if (buf_failed(w->b))
		w->err = -1;
}

/* Before a value or key: a comma unless it is the first at this depth. */
static void
jw_sep(struct jw *w)
{
	uint64_t bit;

	if (w->depth < 0 || w->depth >= 64) {
		w->err = -1;
		return;
	}
	bit = (uint64_t)1 << w->depth;
	if (w->first & bit)
		w->first &= ~bit;
	else
		jw_put(w, ",", 1);
}

void
jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->depth = 0;
	w->first = 1;
	w->err = 0;
}

static void
jw_open(struct jw *w, char c)
{
	jw_sep(w);
	jw_put(w, &c, 1);
	w->depth++;
	if (w->depth >= 64)
		w->err = -1;
	else
		w->first |= (uint64_t)1 << w->depth;
}

static void
jw_close(struct jw *w, char c)
{
	if (w->depth <= 0) {
		w->err = -1;
		return;
	}
	jw_put(w, &c, 1);
	w->depth--;
}

void
jw_obj_begin(struct jw *w)
{
	jw_open(w, '{');
}

void
jw_obj_end(struct jw *w)
{
	jw_close(w, '}');
}

void
jw_arr_begin(struct jw *w)
{
	jw_open(w, '[');
}

void
jw_arr_end(struct jw *w)
{
	jw_close(w, ']');
}

/* A string as Go's encoding/json writes it (text_json_quote). */
static void
jw_quote(struct jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (text_json_quote(w->b, s, n) == -1)
		w->err = -1;
}

void
jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	jw_quote(w, k, strlen(k));
	jw_put(w, ":", 1);
	/* The value that follows takes no comma. */
	if (w->depth >= 0 && w->depth < 64)
		w->first |= (uint64_t)1 << w->depth;
}

void
jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	jw_quote(w, s, strlen(s));
}

void
jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_quote(w, s, n);
}

void
jw_int(struct jw *w, int64_t v)
{
	char t[24];
	int n;

	jw_sep(w);
	n = snprintf(t, sizeof(t), "%" PRId64, v);
	jw_put(w, t, (size_t)n);
}

void
jw_uint(struct jw *w, uint64_t v)
{
	char t[24];
	int n;

	jw_sep(w);
	n = snprintf(t, sizeof(t), "%" PRIu64, v);
	jw_put(w, t, (size_t)n);
}

/*
 * Add one unit in the last digit of e, "d.ddde[+-]x" as printf's %e
 * writes it, carrying into the exponent when all digits were nines.
 */
static int
digits_up(char *e, size_t elen)
{
	char *m = strchr(e, 'e'), *q;
	int x;

	if (m == NULL)
		return -1;
	x = atoi(m + 1);
	for (q = m - 1; q >= e; q--) {
		if (*q == '.')
			continue;
		if (*q != '9') {
			(*q)++;
			return 0;
		}
		*q = '0';
	}
	/* 9.99e5 became 0.00e5: it is 1.00e6. */
	e[0] = '1';
	snprintf(m, elen - (size_t)(m - e), "e%+d", x + 1);
	return 0;
}

size_t
json_fmt_double(double f, char *out, size_t outlen)
{
	char e[40], digits[24], t[400];
	double a = fabs(f);
	size_t nd = 0, o = 0;
	int prec, x, i;
	char *p;

	if (isnan(f) || isinf(f))
		return (size_t)snprintf(out, outlen, "%s",
		    isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
	if (f == 0)
		return (size_t)snprintf(out, outlen, "%s",
		    signbit(f) ? "-0" : "0");
	/* The fewest significant digits that read back as f. */
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, a);
		if (strtod(e, NULL) == a)
			break;
		/*
		 * Below a power of two the doubles are twice as dense, so
		 * the nearest string of this length may miss f while the
		 * next one up reads back: take it, as Go's shortest does.
		 */
		if (digits_up(e, sizeof(e)) == 0 && strtod(e, NULL) == a)
			break;
	}
	for (p = e; *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	x = atoi(p + 1);	/* f = d.ddd * 10^x */
	if (signbit(f))
		t[o++] = '-';
	if (a < 1e-6 || a >= 1e21) {
		t[o++] = digits[0];
		if (nd > 1) {
			t[o++] = '.';
			memcpy(t + o, digits + 1, nd - 1);
			o += nd - 1;
		}
		/*
		 * strconv pads the exponent to two digits and encoding/json
		 * strips the pad of a negative one: e+21, e-7, e-300.
		 */
		o += (size_t)snprintf(t + o, sizeof(t) - o, "e%c%d",
		    x < 0 ? '-' : '+', x < 0 ? -x : x);
	} else if (x >= 0) {
		for (i = 0; i <= x; i++)
			t[o++] = (size_t)i < nd ? digits[i] : '0';
		if ((size_t)x + 1 < nd) {
			t[o++] = '.';
			for (i = x + 1; (size_t)i < nd; i++)
				t[o++] = digits[i];
		}
	} else {
		t[o++] = '0';
		t[o++] = '.';
		for (i = -1; i > x; i--)
			t[o++] = '0';
		memcpy(t + o, digits, nd);
		o += nd;
	}
	t[o] = '\0';
	return (size_t)snprintf(out, outlen, "%s", t);
}

void
jw_double(struct jw *w, double d)
{
	char t[400];
	size_t n;

	jw_sep(w);
	if (isnan(d) || isinf(d)) {
		w->err = -1;
		return;
	}
	n = json_fmt_double(d, t, sizeof(t));
	jw_put(w, t, n);
}

void
jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	jw_put(w, v ? "true" : "false", v ? 4 : 5);
}

void
jw_null(struct jw *w)
{
	jw_sep(w);
	jw_put(w, "null", 4);
}

void
jw_raw(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	jw_put(w, s, n);
}

int
jw_finish(struct jw *w)
{
	return w->err != 0 || w->depth != 0 ? -1 : 0;
}
