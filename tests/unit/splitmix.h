/*
 * splitmix64, a small deterministic PRNG for the unit tests' random
 * operations: the same seed gives the same run, so a failure reproduces.
 */
#ifndef NSQ_TEST_SPLITMIX_H
#define NSQ_TEST_SPLITMIX_H

#include <stdint.h>

static inline uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
