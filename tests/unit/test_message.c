/*
 * Unit tests for lib/message: the GUID generator (monotonic and unique
 * at one fixed time, across clock steps back and across the 4096-per-tick
 * rollover; node bits; the IDs Go nsqd 1.3.0 wrote into the fixture are
 * reproduced exactly), guid_hex against snprintf, and the header codec
 * (round trip, every truncated prefix, a Go-written record).
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"
#include "message.h"
#include "splitmix.h"

#define EPOCH_MS	1288834974288LL
/* pending-0000's timestamp in the fixture: a realistic "now". */
#define NOW_NS		1795435530345793305LL
#define TICK_NS		(1LL << 20)

static uint64_t
id_tick(uint64_t id)
{
	return (id >> 22) + (uint64_t)EPOCH_MS;
}

static unsigned
id_node(uint64_t id)
{
	return (unsigned)((id >> 12) & 0x3ff);
}

static unsigned
id_seq(uint64_t id)
{
	return (unsigned)(id & 0xfff);
}

/* ---- the fixture ---- */

static char *
slurp(const char *path, size_t *lenp)
{
	struct stat st;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	close(fd);
	*lenp = (size_t)st.st_size;
	return p;
}

/* pending.diskqueue.000000.dat, found from this binary's own path. */
static char *
slurp_pending(size_t *lenp)
{
	static const char rel[] =
	    "tests/fixtures/go-nsqd-1.3.0/data/pending.diskqueue.000000.dat";
	char exe[PATH_MAX], path[2 * PATH_MAX], *s, *p;
	ssize_t n;
	int up;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	/* build/{plain,asan}/tests/test_message */
	for (up = 0; up < 4; up++) {
		s = strrchr(exe, '/');
		assert_non_null(s);
		*s = '\0';
	}
	snprintf(path, sizeof(path), "%s/%s", exe, rel);
	if ((p = slurp(path, lenp)) == NULL)	/* run from elsewhere */
		p = slurp(rel, lenp);
	assert_non_null(p);
	return p;
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/* ---- guid_next ---- */

/*
 * 100k IDs at one fixed time: strictly increasing, and exactly the next
 * sequence number each time, borrowing one tick per 4096 IDs.
 */
static void
test_guid_fixed_time(void **state)
{
	struct guid_gen g;
	uint64_t id, prev = 0, first = 0;
	int64_t tick0 = NOW_NS >> 20;
	int k;

	(void)state;
	guid_init(&g, 5);
	for (k = 0; k < 100000; k++) {
		id = guid_next(&g, NOW_NS);
		if (k == 0) {
			first = id;
			assert_int_equal(id_tick(id), tick0);
			assert_int_equal(id_seq(id), 0);
		} else
			assert_true(id > prev);
		assert_true(id == first + ((uint64_t)(k / 4096) << 22) +
		    (uint64_t)(k % 4096));
		assert_int_equal(id_node(id), 5);
		prev = id;
	}
	assert_int_equal(id_tick(prev), tick0 + 99999 / 4096);
}

/*
 * A clock that wanders back (by a few ticks, sometimes by a second) and
 * forward: IDs stay strictly increasing, never lag the clock's tick, and
 * start a fresh sequence whenever the clock passes every tick used so far.
 */
static void
test_guid_clock_back(void **state)
{
	struct guid_gen g;
	uint64_t id, prev = 0, s = 1;
	int64_t now = NOW_NS, maxtick = 0;
	int k, backs = 0, bigbacks = 0, fresh = 0;

	(void)state;
	guid_init(&g, 1023);
	for (k = 0; k < 100000; k++) {
		switch (rnd(&s) % 8) {
		case 0:		/* step back a few ticks, rarely by ~1s */
			if (rnd(&s) % 512 == 0) {
				now -= 1000000000;
				bigbacks++;
			} else
				now -= (int64_t)(rnd(&s) % (3 * TICK_NS));
			backs++;
			break;
		case 1:		/* jump ahead a few ticks */
			now += (int64_t)(rnd(&s) % (8 * TICK_NS));
			break;
		default:	/* the same tick, or a little later */
			now += (int64_t)(rnd(&s) % 20000);
			break;
		}
		id = guid_next(&g, now);
		if (k > 0)
			assert_true(id > prev);
		assert_true(id_tick(id) >= (uint64_t)(now >> 20));
		assert_int_equal(id_node(id), 1023);
		if ((now >> 20) > maxtick) {
			/* Past every tick used so far: a new tick. */
			assert_int_equal(id_tick(id), now >> 20);
			assert_int_equal(id_seq(id), 0);
			fresh++;
		}
		if ((int64_t)id_tick(id) > maxtick)
			maxtick = (int64_t)id_tick(id);
		prev = id;
	}
	assert_true(backs > 10000);
	assert_true(bigbacks > 10);
	assert_true(fresh > 1000);
}

/* The 4097th ID of a tick borrows the next tick, which then continues. */
static void
test_guid_rollover(void **state)
{
	struct guid_gen g;
	int64_t t0 = (NOW_NS >> 20) << 20, tick0 = NOW_NS >> 20;
	uint64_t id;
	int k;

	(void)state;
	guid_init(&g, 617);
	for (k = 0; k < 4096; k++) {
		id = guid_next(&g, t0 + k);
		assert_int_equal(id_tick(id), tick0);
		assert_int_equal(id_seq(id), k);
	}
	id = guid_next(&g, t0 + TICK_NS - 1);	/* still tick0 */
	assert_int_equal(id_tick(id), tick0 + 1);
	assert_int_equal(id_seq(id), 0);
	/* The clock reaches the borrowed tick: continue, don't repeat 0. */
	id = guid_next(&g, t0 + TICK_NS);
	assert_int_equal(id_tick(id), tick0 + 1);
	assert_int_equal(id_seq(id), 1);
	/* And passes it: a fresh tick. */
	id = guid_next(&g, t0 + 2 * TICK_NS);
	assert_int_equal(id_tick(id), tick0 + 2);
	assert_int_equal(id_seq(id), 0);
	assert_int_equal(id_node(id), 617);
}

/* node_id lands in bits 12..21 and nowhere else. */
static void
test_guid_node_bits(void **state)
{
	static const int64_t nodes[] = { 0, 1, 2, 511, 617, 1022, 1023 };
	struct guid_gen g0, g;
	uint64_t base, id;
	size_t i;

	(void)state;
	guid_init(&g0, 0);
	base = guid_next(&g0, NOW_NS);
	assert_int_equal(id_node(base), 0);
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		guid_init(&g, nodes[i]);
		id = guid_next(&g, NOW_NS);
		assert_true(id == (base | ((uint64_t)nodes[i] << 12)));
		assert_int_equal(id_node(id), nodes[i]);
		assert_int_equal(id_seq(id), 0);
		assert_int_equal(id_tick(id), NOW_NS >> 20);
	}
	/* Out-of-range node IDs are masked to 10 bits, not spilled. */
	guid_init(&g, 1024 + 7);
	assert_true(guid_next(&g, NOW_NS) == (base | (7u << 12)));
}

/*
 * Go nsqd 1.3.0 (node 617) wrote pending-0000..0299; fed the same
 * timestamps in publish order, our generator gives the very same IDs.
 */
static void
test_guid_matches_go(void **state)
{
	struct {
		int64_t	ts;
		char	id[MSG_ID_LEN];
		int	seen;
	} rec[300];
	struct guid_gen g;
	size_t len, off = 0;
	char *file, hex[MSG_ID_LEN];
	int i, n = 0;

	(void)state;
	memset(rec, 0, sizeof(rec));
	file = slurp_pending(&len);
	while (off < len) {
		const char *id;
		const void *body;
		size_t bodylen;
		uint32_t rlen;
		uint16_t att;
		int64_t ts;
		char num[5];

		assert_true(len - off >= 4);
		rlen = be32dec(file + off);
		assert_true(rlen <= len - off - 4);
		assert_int_equal(msg_decode(file + off + 4, rlen, &ts, &att,
		    &id, &body, &bodylen), 0);
		assert_int_equal(bodylen, 12);
		assert_memory_equal(body, "pending-", 8);
		memcpy(num, (const char *)body + 8, 4);
		num[4] = '\0';
		i = atoi(num);
		assert_in_range(i, 0, 299);
		assert_int_equal(rec[i].seen, 0);
		rec[i].seen = 1;
		rec[i].ts = ts;
		memcpy(rec[i].id, id, MSG_ID_LEN);
		off += 4 + rlen;
		n++;
	}
	assert_int_equal(n, 300);
	guid_init(&g, 617);
	for (i = 0; i < 300; i++) {
		guid_hex(guid_next(&g, rec[i].ts), hex);
		assert_memory_equal(hex, rec[i].id, MSG_ID_LEN);
	}
	free(file);
}

/* ---- guid_hex ---- */

static void
check_hex(uint64_t v)
{
	char out[MSG_ID_LEN + 1], want[MSG_ID_LEN + 1];

	memset(out, '@', sizeof(out));
	guid_hex(v, out);
	assert_int_equal(out[MSG_ID_LEN], '@');	/* exactly 16 bytes */
	out[MSG_ID_LEN] = '\0';
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)v);
	assert_string_equal(out, want);
	assert_true(is_lower_hex(out, MSG_ID_LEN));
	assert_true(strtoull(out, NULL, 16) == v);
}

static void
test_guid_hex(void **state)
{
	struct guid_gen g;
	uint64_t s = 7;
	int k, sh;

	(void)state;
	check_hex(0);
	check_hex(1);
	check_hex(0xf);
	check_hex(0x10);
	check_hex(0x0123456789abcdefULL);
	check_hex(0xfedcba9876543210ULL);
	check_hex(0x18a5892819a69064ULL);
	check_hex(UINT64_MAX);
	for (sh = 0; sh < 64; sh++)
		check_hex((uint64_t)1 << sh);
	/* Every digit in every place. */
	for (sh = 0; sh < 64; sh += 4)
		for (k = 0; k < 16; k++)
		{
			check_hex((uint64_t)k << sh);
			check_hex((uint64_t)k << sh |
			    (0xa5a5a5a5a5a5a5a5ULL & ~((uint64_t)0xf << sh)));
		}
	for (k = 0; k < 10000; k++)
		check_hex(rnd(&s));
	guid_init(&g, 3);
	for (k = 0; k < 1000; k++)
		check_hex(guid_next(&g, NOW_NS));
}

/* ---- header codec ---- */

static void
test_header_roundtrip(void **state)
{
	static const int64_t tss[] = { 0, 1, -1, NOW_NS, INT64_MAX, INT64_MIN,
	    0x0102030405060708LL };
	static const uint16_t atts[] = { 0, 1, 0x0a0b, 65535 };
	unsigned char msg[MSG_HEADER_LEN + 5];
	const char *id;
	const void *body;
	size_t bodylen, i, j;
	uint16_t att;
	int64_t ts;
	char hex[MSG_ID_LEN];

	(void)state;
	guid_hex(0x18a5892819a69064ULL, hex);
	memcpy(msg + MSG_HEADER_LEN, "hello", 5);
	for (i = 0; i < sizeof(tss) / sizeof(tss[0]); i++) {
		for (j = 0; j < sizeof(atts) / sizeof(atts[0]); j++) {
			msg_header_encode(msg, tss[i], atts[j], hex);
			assert_true(be64dec(msg) == (uint64_t)tss[i]);
			assert_int_equal(be16dec(msg + 8), atts[j]);
			assert_memory_equal(msg + 10, hex, MSG_ID_LEN);
			assert_int_equal(msg_decode(msg, sizeof(msg), &ts,
			    &att, &id, &body, &bodylen), 0);
			assert_true(ts == tss[i]);
			assert_int_equal(att, atts[j]);
			assert_ptr_equal(id, (const char *)msg + 10);
			assert_memory_equal(id, hex, MSG_ID_LEN);
			assert_ptr_equal(body, msg + MSG_HEADER_LEN);
			assert_int_equal(bodylen, 5);
			assert_memory_equal(body, "hello", 5);
		}
	}
	/* Big-endian on the wire, byte for byte. */
	msg_header_encode(msg, 0x0102030405060708LL, 0x0a0b, hex);
	assert_memory_equal(msg, "\x01\x02\x03\x04\x05\x06\x07\x08\x0a\x0b"
	    "18a5892819a69064", MSG_HEADER_LEN);
}

/*
 * Every prefix shorter than the header fails; 26 bytes and more decode,
 * the body being what follows.  Each prefix sits in its own exact-size
 * allocation, so ASan sees any read past it.
 */
static void
test_decode_prefixes(void **state)
{
	unsigned char full[MSG_HEADER_LEN + 20], *p;
	const char *id;
	const void *body;
	size_t bodylen, n;
	uint16_t att;
	int64_t ts;

	(void)state;
	msg_header_encode(full, NOW_NS, 3, "0123456789abcdef");
	memcpy(full + MSG_HEADER_LEN, "abcdefghijklmnopqrst", 20);
	for (n = 0; n <= sizeof(full); n++) {
		p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, full, n);
		if (n < MSG_HEADER_LEN) {
			assert_int_equal(msg_decode(p, n, &ts, &att, &id,
			    &body, &bodylen), -1);
		} else {
			assert_int_equal(msg_decode(p, n, &ts, &att, &id,
			    &body, &bodylen), 0);
			assert_true(ts == NOW_NS);
			assert_int_equal(att, 3);
			assert_memory_equal(id, "0123456789abcdef",
			    MSG_ID_LEN);
			assert_int_equal(bodylen, n - MSG_HEADER_LEN);
			assert_ptr_equal(body, p + MSG_HEADER_LEN);
			assert_memory_equal(body, full + MSG_HEADER_LEN,
			    bodylen);
		}
		free(p);
	}
}

/*
 * The first record of a Go-written disk queue.  nsqd wrote the 200
 * messages that overflowed its 100-slot memory queue first and flushed
 * the memory queue at exit, so the file starts with pending-0100.
 */
static void
test_decode_go_record(void **state)
{
	const char *id;
	const void *body;
	size_t len, bodylen;
	uint32_t rlen;
	uint16_t att;
	int64_t ts;
	uint64_t v;
	char *file, hex[MSG_ID_LEN + 1];

	(void)state;
	file = slurp_pending(&len);
	assert_true(len >= 4);
	rlen = be32dec(file);
	assert_int_equal(rlen, MSG_HEADER_LEN + 12);
	assert_true(rlen <= len - 4);
	assert_int_equal(msg_decode(file + 4, rlen, &ts, &att, &id, &body,
	    &bodylen), 0);
	assert_int_equal(att, 0);
	assert_true(is_lower_hex(id, MSG_ID_LEN));
	assert_memory_equal(id, "18a5892819a69064", MSG_ID_LEN);
	assert_int_equal(bodylen, 12);
	assert_memory_equal(body, "pending-0100", 12);
	/* The ID's time is the publish time's tick; Go's node was 617. */
	memcpy(hex, id, MSG_ID_LEN);
	hex[MSG_ID_LEN] = '\0';
	v = strtoull(hex, NULL, 16);
	assert_int_equal(id_tick(v), ts >> 20);
	assert_int_equal(id_node(v), 617);
	assert_int_equal(id_seq(v), 100);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid_fixed_time),
		cmocka_unit_test(test_guid_clock_back),
		cmocka_unit_test(test_guid_rollover),
		cmocka_unit_test(test_guid_node_bits),
		cmocka_unit_test(test_guid_matches_go),
		cmocka_unit_test(test_guid_hex),
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_decode_prefixes),
		cmocka_unit_test(test_decode_go_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
