/*
 * libFuzzer target for the JSON replies the client library reads: the
 * input is taken as nsqd's IDENTIFY response (conn_parse_identify, the
 * parser lib/conn.c applies to the first response frame) and as an
 * nsqlookupd /lookup reply (lookup_parse, lib/lookup.c), and as nsqd's
 * AUTH reply (conn_parse_auth).
 *
 * Each must accept or refuse without crashing; what they return must
 * hold together: a NUL-terminated version, identity and identity_url
 * that fit, and every producer address a non-empty "host:port" string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "lookup.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_ident id;
	char err[256], **addrs = NULL;
	size_t n = 0, i;

	memset(&id, 0, sizeof(id));
	id.max_rdy_count = 2500;
	if (conn_parse_identify(&id, data, size) == 0 &&
	    memchr(id.version, '\0', sizeof(id.version)) == NULL)
		__builtin_trap();
	if (conn_parse_auth(&id, data, size) == 0 &&
	    (memchr(id.identity, '\0', sizeof(id.identity)) == NULL ||
	    memchr(id.identity_url, '\0', sizeof(id.identity_url)) == NULL))
		__builtin_trap();

	err[0] = '\0';
	if (lookup_parse((const char *)data, size, &addrs, &n, err,
	    sizeof(err)) == 0) {
		for (i = 0; i < n; i++) {
			if (addrs[i] == NULL || addrs[i][0] == '\0' ||
			    strrchr(addrs[i], ':') == NULL)
				__builtin_trap();
			free(addrs[i]);
		}
		free(addrs);
	} else if (err[0] == '\0')
		__builtin_trap();	/* says why */
	return 0;
}
