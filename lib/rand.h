/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The one source of random numbers, for what must differ between runs
 * and processes but need not be secret: jitter and backoff, message
 * sampling, which connection gets RDY, ephemeral names, temporary file
 * names.  One xorshift64* generator per thread, seeded from getrandom(2)
 * on first use (if that fails, from the time, the pid and the state's
 * address), so that a draw costs no system call and no lock, and threads
 * never share a state.  Never for keys or tokens.
 */
#ifndef NSQ_RAND_H
#define NSQ_RAND_H

#include <stdint.h>

/* 64 random bits. */
uint64_t	rand_u64(void);
/* Uniform in [0, n), n > 0 (the bias of a modulo of 64 bits is nil). */
uint64_t	rand_below(uint64_t n);
/* Uniform in [0, 1), with 53 bits. */
double		rand_unit(void);

#endif
