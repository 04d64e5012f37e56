/*
 * Text helpers (see text.h).  The decoder is the one rule of well-formed
 * UTF-8 here; the quoting and escaping functions all read runes through
 * it, so each treats invalid bytes one at a time as Go does.  The quoting
 * functions append to a struct buf a run of unchanged bytes at a time;
 * the query escape sizes its string first, so it cannot fail.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buffer.h"
#include "text.h"
#include "xmalloc.h"

static const char hexlower[] = "0123456789abcdef";
static const char hexupper[] = "0123456789ABCDEF";

size_t
text_utf8_decode(const void *p, size_t n, uint32_t *r)
{
	const unsigned char *s = p;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	*r = TEXT_RUNE_ERROR;
	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*r = s[0];
		return 1;
	}
	/* The second byte's range rules out overlongs and surrogates. */
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 1;
	if (n < len || s[1] < lo || s[1] > hi)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 1;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*r = v;
	return len;
}

/* Whether s[0, n) starts with a well-formed sequence, and its width. */
static size_t
rune_at(const unsigned char *s, size_t n, uint32_t *r, bool *ok)
{
	size_t k = text_utf8_decode(s, n, r);

	/* A real U+FFFD is three bytes; an error is one. */
	*ok = !(k == 1 && *r == TEXT_RUNE_ERROR);
	return k;
}

bool
text_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i = 0;
	uint32_t r;
	bool ok;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		i += rune_at(s + i, n - i, &r, &ok);
		if (!ok)
			return false;
	}
	return true;
}

size_t
text_utf8_encode(char *o, uint32_t r)
{
	if (r < 0x80) {
		o[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		o[0] = (char)(0xc0 | (r >> 6));
		o[1] = (char)(0x80 | (r & 0x3f));
		return 2;
	}
	if ((r >= 0xd800 && r < 0xe000) || r > 0x10ffff)
		r = TEXT_RUNE_ERROR;
	if (r < 0x10000) {
		o[0] = (char)(0xe0 | (r >> 12));
		o[1] = (char)(0x80 | ((r >> 6) & 0x3f));
		o[2] = (char)(0x80 | (r & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (r >> 18));
	o[1] = (char)(0x80 | ((r >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((r >> 6) & 0x3f));
	o[3] = (char)(0x80 | (r & 0x3f));
	return 4;
}

bool
text_isprint(uint32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7f;
	if (r < 0x100)
		return r >= 0xa1 && r != 0xad;
	if (r == 0x1680 || r == 0x180e || (r >= 0x2000 && r <= 0x200f) ||
	    (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x206f) ||
	    r == 0x3000 || r == 0xfeff || (r >= 0xfff9 && r <= 0xfffb) ||
	    (r >= 0xd800 && r <= 0xdfff) ||
	    (r >= 0xe000 && r <= 0xf8ff) || (r >= 0xfdd0 && r <= 0xfdef) ||
	    (r & 0xfffe) == 0xfffe || (r >= 0xe0000 && r <= 0xe007f) ||
	    r >= 0xf0000)
		return false;
	return true;
}

int
text_goquote(struct buf *b, const char *s, size_t n)
{
	static const char cesc[] = "abtnvfr";	/* for 0x07 .. 0x0d */
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, start = 0;
	uint32_t r;
	char e[10];
	bool ok;
	int j, rc;

	rc = buf_append(b, "\"", 1);
	for (i = 0; i < n && rc == 0; i += k) {
		k = rune_at(u + i, n - i, &r, &ok);
		if (ok && r != '"' && r != '\\' && text_isprint(r))
			continue;
		rc = buf_append(b, s + start, i - start);
		start = i + k;
		e[0] = '\\';
		if (ok && (r == '"' || r == '\\')) {
			e[1] = (char)r;
			j = 2;
		} else if (ok && r >= 0x07 && r <= 0x0d) {
			e[1] = cesc[r - 0x07];
			j = 2;
		} else if (!ok || r < 0x20 || r == 0x7f) {
			/* An invalid byte, or an ASCII control. */
			e[1] = 'x';
			e[2] = hexlower[u[i] >> 4];
			e[3] = hexlower[u[i] & 0xf];
			j = 4;
		} else {
			int d = r < 0x10000 ? 4 : 8;

			e[1] = d == 4 ? 'u' : 'U';
			for (j = 0; j < d; j++)
				e[2 + j] = hexlower[(r >> (4 * (d - 1 - j))) &
				    0xf];
			j = 2 + d;
		}
		if (rc == 0)
			rc = buf_append(b, e, (size_t)j);
	}
	if (rc == 0)
		rc = buf_append(b, s + start, n - start);
	if (rc == 0)
		rc = buf_append(b, "\"", 1);
	if (rc == -1)
		buf_fail(b);
	return rc;
}

char *
text_goquote_str(const char *s)
{
	struct buf b;
	size_t n = strlen(s);
	char *r;

	/* \xXX for a byte is the most any input grows, so this fits. */
	buf_init(&b, 4 * n + 3, 4 * n + 3);
	if (text_goquote(&b, s, n) == -1 || buf_append(&b, "", 1) == -1)
		r = xstrdup("\"\"");
	else
		r = xstrdup(buf_data(&b));
	buf_free(&b);
	return r;
}

int
text_json_quote(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, k;
	uint32_t r;
	char esc[6];
	bool ok;
	int rc;

	rc = buf_append(b, "\"", 1);
	while (i < n && rc == 0) {
		unsigned char c = p[i];

		if (c < 0x80) {
			if (c >= 0x20 && c != '"' && c != '\\' && c != '<' &&
			    c != '>' && c != '&') {
				i++;
				continue;
			}
			rc = buf_append(b, s + start, i - start);
			esc[0] = '\\';
			k = 2;
			switch (c) {
			case '"': case '\\':
				esc[1] = (char)c;
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hexlower[c >> 4];
				esc[5] = hexlower[c & 0xf];
				k = 6;
				break;
			}
			if (rc == 0)
				rc = buf_append(b, esc, k);
			start = ++i;
			continue;
		}
		k = rune_at(p + i, n - i, &r, &ok);
		if (!ok) {
			rc = buf_append(b, s + start, i - start);
			if (rc == 0)
				rc = buf_append(b, "\\ufffd", 6);
			start = ++i;
			continue;
		}
		/* JavaScript reads U+2028 and U+2029 as line ends. */
		if (r == 0x2028 || r == 0x2029) {
			rc = buf_append(b, s + start, i - start);
			if (rc == 0)
				rc = buf_append(b, r == 0x2028 ? "\\u2028" :
				    "\\u2029", 6);
			i += k;
			start = i;
			continue;
		}
		i += k;
	}
	if (rc == 0)
		rc = buf_append(b, s + start, n - start);
	if (rc == 0)
		rc = buf_append(b, "\"", 1);
	if (rc == -1)
		buf_fail(b);
	return rc;
}

/* Whether url.QueryEscape keeps ch as it is. */
static bool
query_plain(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~';
}

char *
text_query_escape(const char *s)
{
	const unsigned char *p;
	size_t n = 1;
	char *out, *o;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		n += query_plain(*p) || *p == ' ' ? 1 : 3;
	o = out = xmalloc(n);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (query_plain(*p))
			*o++ = (char)*p;
		else if (*p == ' ')
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hexupper[*p >> 4];
			*o++ = hexupper[*p & 15];
		}
	}
	*o = '\0';
	return out;
}
