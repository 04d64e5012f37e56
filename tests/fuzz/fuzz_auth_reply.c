/*
 * libFuzzer target for the auth server's reply nsqd reads
 * (cmd/nsqd/auth.c auth_state_parse): Go's decoding of auth.State and
 * QueryAuthd's checks.  The input's first byte picks a topic and a
 * channel from a small set; the rest is the reply.  An accepted state
 * must hold together (ttl > 0, strings set, every pattern compiled),
 * answer auth_state_allowed for publish and subscribe, and give AUTH's
 * reply JSON.  The client side's JSON replies are fuzz_json_replies'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "../../cmd/nsqd/auth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *names[] = {
	"t", "t1", "orders", "ORDERS", "a.b_c-d", "x#ephemeral", "",
	"\xc3\xa9t\xc3\xa9",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_state *st;
	char err[512], *reply;
	const char *t, *c;
	size_t i, k;

	if (size == 0)
		return 0;
	log_init("[fuzz] ", LOG_LEVEL_FATAL);
	t = names[data[0] % 8];
	c = names[(data[0] >> 3) % 8];
	st = auth_state_parse((const char *)data + 1, size - 1, err,
	    sizeof(err));
	if (st == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			__builtin_trap();
		return 0;
	}
	if (st->ttl <= 0 || st->identity == NULL || st->identity_url == NULL)
		__builtin_trap();
	for (i = 0; i < st->nperms; i++) {
		if (st->perms[i].topic == NULL)
			__builtin_trap();
		for (k = 0; k < st->perms[i].nchannels; k++)
			if (st->perms[i].channels[k] == NULL)
				__builtin_trap();
	}
	(void)auth_state_allowed(st, t, strlen(t), "", 0);
	(void)auth_state_allowed(st, t, strlen(t), c, strlen(c));
	if ((reply = auth_reply_json(st)) == NULL)
		__builtin_trap();
	free(reply);
	auth_state_free(st);
	return 0;
}
