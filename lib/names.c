/*
 * Name validation as nsqd's protocol.IsValidTopicName does it, without a
 * regular expression.
 */
#include <string.h>

#include "names.h"

#define EPH	"#ephemeral"
#define EPHLEN	(sizeof(EPH) - 1)

bool
name_ephemeral(const char *s, size_t n)
{
	return n > EPHLEN && memcmp(s + n - EPHLEN, EPH, EPHLEN) == 0;
}

bool
name_valid(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > NAME_MAX_LEN)
		return false;
	if (name_ephemeral(s, n))
		n -= EPHLEN;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-'))
			return false;
	}
	return true;
}
