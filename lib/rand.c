/*
 * xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators, scrambled", 2016): a 64-bit state that is never
 * zero, three shifts and a multiply.  The state is thread-local, so the
 * daemons' syncer thread or a client program's threads could draw
 * without a lock; it is seeded lazily, once per thread.
 */
#include <sys/random.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "rand.h"

static _Thread_local uint64_t state;

static void
seed(void)
{
	struct timespec ts;
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
		    (uint64_t)ts.tv_nsec;
		s ^= (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)&state;
	}
	state = s != 0 ? s : UINT64_C(0x9e3779b97f4a7c15);
}

uint64_t
rand_u64(void)
{
	uint64_t x;

	if (state == 0)
		seed();
	x = state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	state = x;
	return x * UINT64_C(2685821657736338717);
}

uint64_t
rand_below(uint64_t n)
{
	return rand_u64() % n;
}

double
rand_unit(void)
{
	return (double)(rand_u64() >> 11) / 9007199254740992.0;
}
