/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * Topic and channel names: 1..64 bytes matching
 * ^[.a-zA-Z0-9_-]+(#ephemeral)?$ (the suffix counts toward the 64).
 */
#ifndef NSQ_NAMES_H
#define NSQ_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_LEN	64

bool	name_valid(const char *, size_t);
/* Ends in "#ephemeral" (call on a valid name). */
bool	name_ephemeral(const char *, size_t);

#endif
