/*
 * The JSON field filters of Go's nsq_to_nsq, apart from the sockets so
 * that tests can feed them bodies: --require-json-field and
 * --require-json-value choose which messages pass, and
 * --whitelist-json-field rewrites a passing message to the listed
 * top-level fields alone, as Go's json.Marshal of a map prints them
 * (keys sorted, strings HTML-escaped, numbers as float64, whole ones as
 * integers).
 */
#ifndef NSQ_TO_NSQ_FILTER_H
#define NSQ_TO_NSQ_FILTER_H

#include <stdbool.h>
#include <stddef.h>

enum filter_result {
	FILTER_PASS,		/* publish (the body, or the rewritten one) */
	FILTER_DROP,		/* finish it unpublished */
	FILTER_BAD_JSON,	/* not a JSON object: finish it unpublished */
	FILTER_MISSING,		/* field absent, a value wanted: back off */
};

struct filter {
	const char		*field;		/* "" for none */
	const char		*value;		/* "" for none */
	bool			 value_is_number;
	double			 number;
	const char *const	*whitelist;
	size_t			 nwhitelist;
};

/* The strings are referenced, not copied. */
void	filter_init(struct filter *, const char *field, const char *value,
	    const char *const *whitelist, size_t nwhitelist);
void	filter_free(struct filter *);
/*
 * Judge body[0, len).  With FILTER_PASS and a whitelist, *out is the
 * new body (caller frees) and *outlen its length; otherwise *out is
 * NULL and the body passes unchanged.  The new body is NUL-terminated
 * (the NUL not counted).
 */
enum filter_result filter_message(const struct filter *, const char *body,
	    size_t len, char **out, size_t *outlen);

#endif
