/*
 * Go-like regular expressions over PCRE2 (see regex.h for the rules).
 *
 * The options, and why each:
 * - PCRE2_UTF: Go reads patterns and subjects as UTF-8, so "." and a
 *   class match one code point, not one byte.
 * - PCRE2_MATCH_INVALID_UTF: Go does not refuse a subject that is not
 *   valid UTF-8 (a bad byte is U+FFFD to it, matching nothing but "." and
 *   negated classes); PCRE2 would fail the whole match instead.  With
 *   this, bad bytes simply match no pattern item, and the rest of the
 *   subject can still match.
 * - no PCRE2_UCP: Go's \d \w \s \b are ASCII-only, as PCRE2's are unless
 *   UCP is set.
 * - PCRE2_DOLLAR_ENDONLY: Go's $ (without (?m)) is the end of the text;
 *   PCRE2's would also match before a final newline.
 * - PCRE2_NEVER_BACKSLASH_C: \C (one byte, even inside a UTF-8 sequence)
 *   does not exist in Go and could split a character.
 * - newline is LF whatever PCRE2 was built with: Go's (?m) lines end at
 *   \n only.
 * Matching is unanchored, as Go's MatchString.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "errbuf.h"
#include "regex.h"
#include "xmalloc.h"

/* Backtracking bound: far above what a name-sized subject needs. */
#define RE_MATCH_LIMIT	1000000
#define RE_DEPTH_LIMIT	10000

struct re {
	char			*pattern;
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

struct re *
re_compile(const char *pattern, char *err, size_t errlen)
{
	pcre2_compile_context *cctx;
	struct re *re;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	if ((cctx = pcre2_compile_context_create(NULL)) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		return NULL;
	}
	(void)pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
	re = xcalloc(1, sizeof(*re));
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY |
	    PCRE2_NEVER_BACKSLASH_C, &code, &off, cctx);
	pcre2_compile_context_free(cctx);
	if (re->code == NULL) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		errbuf_set(err, errlen, "%s at offset %zu", (char *)msg,
		    (size_t)off);
		goto fail;
	}
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	if (re->md == NULL || re->mctx == NULL) {
		errbuf_set(err, errlen, "out of memory");
		goto fail;
	}
	(void)pcre2_set_match_limit(re->mctx, RE_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(re->mctx, RE_DEPTH_LIMIT);
	re->pattern = xstrdup(pattern);
	return re;
fail:
	re_free(re);
	return NULL;
}

int
re_match(struct re *re, const char *s, size_t len, char *err,
    size_t errlen)
{
	PCRE2_UCHAR msg[256];
	int r;

	if (s == NULL)		/* PCRE2 refuses NULL even with len 0 */
		s = "";
	r = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md,
	    re->mctx);
	if (r >= 0)
		return 1;
	if (r == PCRE2_ERROR_NOMATCH)
		return 0;
	if (pcre2_get_error_message(r, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "unknown error");
	errbuf_set(err, errlen, "%s", (char *)msg);
	return -1;
}

const char *
re_pattern(const struct re *re)
{
	return re->pattern;
}

void
re_free(struct re *re)
{
	if (re == NULL)
		return;
	pcre2_match_context_free(re->mctx);
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re);
}
