/*
 * Regular expressions that behave like Go's regexp (RE2 syntax) for the
 * patterns people write in NSQ flags, on Debian's PCRE2.  Go's
 * regexp.MatchString finds a match anywhere in the subject unless the
 * pattern anchors it; \d, \w, \s and \b are ASCII; (?i), (?m), (?s) and
 * (?U) are inline flags; $ without (?m) matches only at the very end;
 * the subject is UTF-8 and "." is one code point.  re_compile sets PCRE2
 * up that way.  PCRE2 accepts more than RE2 does (back-references,
 * look-around); a pattern RE2 accepts means the same thing here, and a
 * match is bounded by a backtracking limit instead of RE2's linear time.
 *
 * A struct re holds its own match scratch space: use one from one thread
 * at a time.
 */
#ifndef NSQ_REGEX_H
#define NSQ_REGEX_H

#include <stddef.h>

struct re;

/*
 * Compile pattern (a C string).  NULL when it does not compile, with
 * PCRE2's reason and the byte offset in err.  The caller frees the
 * result with re_free().
 */
struct re	*re_compile(const char *pattern, char *err, size_t errlen);
/*
 * Whether s[0..len) contains a match: 1 yes, 0 no, -1 when the match
 * gave up (the backtracking limit), with the reason in err.
 */
int		 re_match(struct re *, const char *s, size_t len, char *err,
		    size_t errlen) __attribute__((warn_unused_result));
/* The pattern as given to re_compile. */
const char	*re_pattern(const struct re *);
/* Free a compiled pattern; NULL is accepted. */
void		 re_free(struct re *);

#endif
