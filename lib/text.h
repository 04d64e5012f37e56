/*
 * Text helpers with Go's exact rules, in one place: UTF-8 decoding and
 * encoding as Go's unicode/utf8, quoting as strconv.Quote (the %q of
 * nsqd's and the flag parser's error texts), JSON string escaping as
 * encoding/json, and query escaping as net/url's QueryEscape.  Every
 * module that writes such text calls these, so that one rule cannot drift
 * apart from its copy.  Invalid UTF-8 is never an error here: each
 * function says what it makes of it, as Go does.
 */
#ifndef NSQ_TEXT_H
#define NSQ_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define TEXT_RUNE_ERROR	0xfffdU		/* Go's utf8.RuneError */
#define TEXT_UTF8_MAX	4		/* Go's utf8.UTFMax */

/*
 * Decode the rune at s[0, n) as Go's utf8.DecodeRune: its width and *r.
 * A byte that does not start a well-formed sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF, no truncation)
 * is width 1 and U+FFFD; n == 0 is width 0 and U+FFFD.
 */
size_t	text_utf8_decode(const void *s, size_t n, uint32_t *r);
/* Whether s[0, n) is all well-formed UTF-8 (Go's utf8.Valid). */
bool	text_utf8_valid(const void *s, size_t n);
/*
 * Write r's UTF-8 encoding at o (room for TEXT_UTF8_MAX bytes) as Go's
 * utf8.EncodeRune: a surrogate or a value past U+10FFFF becomes U+FFFD.
 * Its length.
 */
size_t	text_utf8_encode(char *o, uint32_t r);

/*
 * Whether Go's unicode.IsPrint holds for r.  Exact for ASCII and Latin-1;
 * beyond them the space separators, the common format runes, private use,
 * noncharacters and surrogates are refused and everything else is taken
 * as printable (unassigned code points included, which Go refuses), which
 * is right for the letters, digits and symbols a name is likely to hold.
 */
bool	text_isprint(uint32_t r);

/*
 * Append Go's strconv.Quote of s[0, n) to b, the quotes included:
 * printable runes as they are, \" and \\, the C escapes (\a \b \f \n \r
 * \t \v), other controls and each byte of invalid UTF-8 as \xXX, other
 * unprintable runes as \uXXXX or \UXXXXXXXX.  -1 if b is full (b then
 * holds part of it and is failed, as after a buf_add* that did not fit).
 */
int	text_goquote(struct buf *b, const char *s, size_t n)
	    __attribute__((warn_unused_result));

/*
 * Go's %q of the C string s (text_goquote) in a new string: for error
 * texts built with printf.  Caller frees.
 */
char	*text_goquote_str(const char *s);

/*
 * Append s[0, n) as a JSON string, the quotes included, as Go's
 * encoding/json writes it: HTML-safe (\u003c \u003e \u0026), \b \f \n \r
 * \t short forms (Go 1.22 and later), \u00XX for the other control
 * characters, U+2028 and U+2029 escaped, each byte of invalid UTF-8 as
 * \ufffd.  -1 if b is full (b then holds part of it and is failed, as
 * after a buf_add* that did not fit).
 */
int	text_json_quote(struct buf *b, const char *s, size_t n)
	    __attribute__((warn_unused_result));

/*
 * s escaped as Go's url.QueryEscape, in a new string (caller frees):
 * A-Z a-z 0-9 - _ . ~ as they are, ' ' as '+', every other byte as %XX
 * (upper case).
 */
char	*text_query_escape(const char *s);

#endif
