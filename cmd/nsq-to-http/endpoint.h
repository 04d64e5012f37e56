/*
 * nsq-to-http's addresses and headers: the checks made before starting
 * (a --post or --get URL, a --header line) and the request each message
 * becomes (the GET URL with the escaped body, the header lines).
 */
#ifndef NSQ_TO_HTTP_ENDPOINT_H
#define NSQ_TO_HTTP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/*
 * A --header line as Go's nsq_to_http parses it ("Name: value", both
 * trimmed, neither empty), the name then canonical as Go's net/http
 * writes it ("x-foo" -> "X-Foo").  0 with *name and *value (caller
 * frees), -1 with the reason in err.
 */
int	ep_parse_header(const char *line, char **name, char **value,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/*
 * The header lines of every request, in order: User-Agent, Content-Type
 * (POST only), the --header ones (a later one of the same name replaces
 * an earlier one, a default included), and the lines that remove what
 * curl would add and Go does not send (Accept, Expect).
 */
void	ep_headers(struct strlist *out, const char *user_agent,
	    const char *content_type, const struct strlist *names,
	    const struct strlist *values);
/*
 * Is url an http:// or https:// URL with a host?  For a GET address the
 * "%s" is tried with a word in its place.  0, or -1 with why in err.
 */
int	ep_check_url(const char *url, bool get, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/*
 * A GET address holds exactly one "%s" as Go counts it; and one verb
 * "%s" once "%%" is read as a literal "%", as Go's fmt reads it.
 */
bool	ep_get_ok(const char *addr);
/*
 * The GET URL for a body: the "%s" replaced by the body escaped as Go's
 * url.QueryEscape, "%%" made "%"; any other '%' stays as it is (a
 * percent-escape such as %20; Go's fmt would mangle it).  Caller frees.
 */
char	*ep_get_url(const char *addr, const void *body, size_t len);

#endif
