/*
 * Unit tests for nsqlookupd's registration database and its TCP protocol
 * V1 engine.  Both live in cmd/nsqlookupd/ (they are nsqlookupd's own,
 * not library code) and need no sockets or loop, so this file compiles
 * them in directly: the Makefile links unit tests with lib only.
 *
 * The engine is fed a whole session at once, then every truncated prefix
 * of it followed by the rest, then byte by byte: the replies must always
 * be the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../cmd/nsqlookupd/registry.c"
#include "../../cmd/nsqlookupd/v1.c"

#define SEC	NS_SEC

static const struct v1_conf conf = {
	.tcp_port = 4160,
	.http_port = 4161,
	.broadcast_address = "lookup1",
	.hostname = "lookhost",
};

static const char identify_reply[] =
    "{\"broadcast_address\":\"lookup1\",\"hostname\":\"lookhost\","
    "\"http_port\":4161,\"tcp_port\":4160,\"version\":\"1.3.0\"}";

static struct peer *
mkpeer(const char *id, const char *ba, int64_t http_port, int64_t now)
{
	struct peer *p = xcalloc(1, sizeof(*p));

	p->id = xstrdup(id);
	p->remote_address = xstrdup(id);
	p->hostname = xstrdup("h");
	p->broadcast_address = xstrdup(ba);
	p->tcp_port = 4150;
	p->http_port = http_port;
	p->version = xstrdup("1.3.0");
	p->last_update = now;
	return p;
}

static int
quiet(void **state)
{
	(void)state;
	log_init("[test] ", LOG_LEVEL_FATAL);
	return 0;
}

/* Registry. */

static void
test_reg_add_get_remove(void **state)
{
	struct registry r;
	struct registration *a, *b;

	(void)state;
	reg_init(&r);
	assert_null(reg_get(&r, "topic", "t", ""));
	a = reg_add(&r, "topic", "t", "");
	assert_non_null(a);
	assert_string_equal(a->category, "topic");
	assert_string_equal(a->key, "t");
	assert_string_equal(a->subkey, "");
	assert_ptr_equal(reg_add(&r, "topic", "t", ""), a);
	assert_ptr_equal(reg_get(&r, "topic", "t", ""), a);
	/* The three parts never run into each other. */
	b = reg_add(&r, "channel", "t", "c");
	assert_ptr_not_equal(a, b);
	assert_null(reg_get(&r, "channel", "tc", ""));
	assert_null(reg_get(&r, "channel", "", "tc"));
	assert_null(reg_get(&r, "topic", "t", "c"));
	reg_remove(&r, a);
	assert_null(reg_get(&r, "topic", "t", ""));
	assert_ptr_equal(reg_get(&r, "channel", "t", "c"), b);
	reg_free(&r);
}

static void
test_reg_long_names(void **state)
{
	struct registry r;
	char key[1000];

	(void)state;
	/* Names from /topic/delete are not validated: any length works. */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	reg_init(&r);
	reg_add(&r, "topic", key, "");
	assert_non_null(reg_get(&r, "topic", key, ""));
	reg_free(&r);
}

static void
test_reg_producers(void **state)
{
	struct registry r;
	struct registration *g;
	struct peer *a = mkpeer("1.1.1.1:1", "a", 1, 0);
	struct peer *b = mkpeer("2.2.2.2:2", "b", 2, 0);
	struct peer *a2 = mkpeer("1.1.1.1:1", "a2", 3, 0);
	struct producer *p;
	size_t left = 99;

	(void)state;
	reg_init(&r);
	assert_true(reg_add_producer(&r, "topic", "t", "", a));
	assert_false(reg_add_producer(&r, "topic", "t", "", a));
	assert_true(reg_add_producer(&r, "topic", "t", "", b));
	g = reg_get(&r, "topic", "t", "");
	assert_int_equal(hmap_len(&g->producers), 2);
	/* Adding again keeps the producer and its tombstone (as Go). */
	p = reg_producer(g, a);
	p->tombstoned = true;
	p->tombstoned_at = 5;
	assert_false(reg_add_producer(&r, "topic", "t", "", a));
	assert_true(reg_producer(g, a)->tombstoned);
	/* Same id, another peer: not added, not removed by it. */
	assert_false(reg_add_producer(&r, "topic", "t", "", a2));
	assert_false(reg_remove_producer(g, a2, &left));
	assert_int_equal(left, 2);
	assert_true(reg_remove_producer(g, a, &left));
	assert_int_equal(left, 1);
	assert_false(reg_remove_producer(g, a, &left));
	assert_int_equal(left, 1);
	assert_true(reg_remove_producer(g, b, NULL));
	/* Empty registrations stay, as in Go. */
	assert_ptr_equal(reg_get(&r, "topic", "t", ""), g);
	reg_free(&r);
	peer_free(a);
	peer_free(b);
	peer_free(a2);
	peer_free(NULL);
}

static void
test_reg_find(void **state)
{
	struct registry r;
	struct regvec v = { NULL, 0, 0 };
	struct prodvec pv = { NULL, 0, 0 };
	struct peer *a = mkpeer("a:1", "a", 1, 0);
	struct peer *b = mkpeer("b:1", "b", 1, 0);

	(void)state;
	reg_init(&r);
	reg_add_producer(&r, "topic", "t1", "", a);
	reg_add_producer(&r, "topic", "t2", "", a);
	reg_add_producer(&r, "topic", "t2", "", b);
	reg_add_producer(&r, "channel", "t1", "c1", a);
	reg_add_producer(&r, "channel", "t1", "c2", b);
	reg_add(&r, "channel", "t2", "c1");
	reg_add_producer(&r, "client", "", "", a);

	reg_find(&r, "topic", "*", "", &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0]->key, "t1");	/* creation order */
	assert_string_equal(v.v[1]->key, "t2");
	v.n = 0;
	reg_find(&r, "channel", "t1", "*", &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.v[0]->subkey, "c1");
	assert_string_equal(v.v[1]->subkey, "c2");
	v.n = 0;
	reg_find(&r, "channel", "*", "c1", &v);
	assert_int_equal(v.n, 2);
	v.n = 0;
	reg_find(&r, "channel", "*", "*", &v);
	assert_int_equal(v.n, 3);
	v.n = 0;
	reg_find(&r, "channel", "t9", "*", &v);
	assert_int_equal(v.n, 0);
	reg_find(&r, "topic", "t1", "", &v);
	assert_int_equal(v.n, 1);
	v.n = 0;
	reg_find(&r, "nope", "*", "*", &v);
	assert_int_equal(v.n, 0);

	/* Producers: one per peer id across matching registrations. */
	reg_find_producers(&r, "topic", "*", "", &pv);
	assert_int_equal(pv.n, 2);
	pv.n = 0;
	reg_find_producers(&r, "topic", "t1", "", &pv);
	assert_int_equal(pv.n, 1);
	assert_ptr_equal(pv.v[0]->peer, a);
	pv.n = 0;
	reg_find_producers(&r, "channel", "t2", "*", &pv);
	assert_int_equal(pv.n, 0);

	v.n = 0;
	reg_lookup_peer(&r, a, &v);
	assert_int_equal(v.n, 4);
	v.n = 0;
	reg_lookup_peer(&r, b, &v);
	assert_int_equal(v.n, 2);
	regvec_free(&v);
	prodvec_free(&pv);
	assert_null(v.v);
	reg_free(&r);
	peer_free(a);
	peer_free(b);
}

static void
test_reg_times(void **state)
{
	struct peer *a = mkpeer("a:1", "a", 1, 100 * SEC);
	struct producer p = { a, false, 0 };

	(void)state;
	/* Inactive only when strictly past the timeout (Go's >). */
	assert_true(reg_active(&p, 100 * SEC, 10 * SEC, 5 * SEC));
	assert_true(reg_active(&p, 110 * SEC, 10 * SEC, 5 * SEC));
	assert_false(reg_active(&p, 110 * SEC + 1, 10 * SEC, 5 * SEC));
	/* Tombstoned for strictly less than the lifetime. */
	p.tombstoned = true;
	p.tombstoned_at = 102 * SEC;
	assert_true(reg_tombstoned(&p, 102 * SEC, 5 * SEC));
	assert_true(reg_tombstoned(&p, 107 * SEC - 1, 5 * SEC));
	assert_false(reg_tombstoned(&p, 107 * SEC, 5 * SEC));
	assert_false(reg_active(&p, 103 * SEC, 10 * SEC, 5 * SEC));
	assert_true(reg_active(&p, 107 * SEC, 10 * SEC, 5 * SEC));
	/* Lifetime 0: tombstones do not count (/nodes). */
	assert_true(reg_active(&p, 103 * SEC, 10 * SEC, 0));
	peer_free(a);
}

/* The V1 engine. */

struct sess {
	struct registry		reg;
	struct v1_session	s;
	struct buf		in;
	int			last;
};

static void
sess_open(struct sess *t, const char *remote)
{
	reg_init(&t->reg);
	v1_init(&t->s, &t->reg, &conf, remote);
	buf_init(&t->in, 256, V1_MAX_INPUT);
	t->last = V1_NEED_MORE;
}

/* Feed bytes; returns the last v1_input result. */
static int
feed(struct sess *t, const void *data, size_t len, int64_t now)
{
	assert_int_equal(buf_append(&t->in, data, len), 0);
	t->last = v1_input(&t->s, &t->in, now);
	return t->last;
}

static int
feeds(struct sess *t, const char *s, int64_t now)
{
	return feed(t, s, strlen(s), now);
}

/* The next reply in the output, as a NUL-terminated copy; or NULL. */
static char *
next_reply(struct sess *t)
{
	struct buf *o = &t->s.out;
	uint32_t n;
	char *r;

	if (buf_len(o) < 4)
		return NULL;
	n = be32dec(buf_data(o));
	assert_true(buf_len(o) - 4 >= n);
	r = xmalloc(n + 1);
	memcpy(r, buf_data(o) + 4, n);
	r[n] = '\0';
	buf_consume(o, 4 + n);
	return r;
}

static void
expect_reply(struct sess *t, const char *want)
{
	char *r = next_reply(t);

	assert_non_null(r);
	assert_string_equal(r, want);
	free(r);
}

static void
expect_none(struct sess *t)
{
	assert_int_equal(buf_len(&t->s.out), 0);
}

static void
sess_close(struct sess *t)
{
	v1_free(&t->s);
	buf_free(&t->in);
	/* The session left nothing behind in the registry. */
	{
		struct registration *g;

		TAILQ_FOREACH(g, &t->reg.list, link)
			assert_int_equal(hmap_len(&g->producers), 0);
	}
	reg_free(&t->reg);
}

static char *
identify_msg(const char *json)
{
	size_t n = strlen(json);
	char *m = xmalloc(9 + 4 + n + 1);

	memcpy(m, "IDENTIFY\n", 9);
	be32enc(m + 9, (uint32_t)n);
	memcpy(m + 13, json, n + 1);
	return m;
}

/* Feed IDENTIFY with this JSON body. */
static int
feed_identify(struct sess *t, const char *json, int64_t now)
{
	char *m = identify_msg(json);
	int r = feed(t, m, 13 + strlen(json), now);

	free(m);
	return r;
}

#define PEER_JSON "{\"broadcast_address\":\"n1\",\"tcp_port\":4150," \
    "\"http_port\":4151,\"version\":\"1.3.0\",\"hostname\":\"h1\"}"

/* A whole session: the script and the replies it must give. */
static size_t
script(char *out)
{
	size_t n = 0, jl = strlen(PEER_JSON);

	memcpy(out + n, "  V1", 4), n += 4;
	memcpy(out + n, "PING\n", 5), n += 5;
	memcpy(out + n, "IDENTIFY\n", 9), n += 9;
	be32enc(out + n, (uint32_t)jl), n += 4;
	memcpy(out + n, PEER_JSON, jl), n += jl;
	memcpy(out + n, "REGISTER t c\n", 13), n += 13;
	memcpy(out + n, " PING \r\n", 8), n += 8;
	memcpy(out + n, "REGISTER t2\n", 12), n += 12;
	memcpy(out + n, "UNREGISTER t c\n", 15), n += 15;
	return n;
}

static const char *script_replies[] = {
	"OK", identify_reply, "OK", "OK", "OK", "OK", NULL,
};

static void
check_script_state(struct sess *t)
{
	struct registration *g;
	int i;

	for (i = 0; script_replies[i] != NULL; i++)
		expect_reply(t, script_replies[i]);
	expect_none(t);
	assert_int_equal(t->last, V1_NEED_MORE);
	assert_int_equal(buf_len(&t->in), 0);
	assert_non_null(t->s.peer);
	assert_string_equal(t->s.peer->id, "10.0.0.1:5000");
	assert_string_equal(t->s.peer->remote_address, "10.0.0.1:5000");
	assert_string_equal(t->s.peer->hostname, "h1");
	assert_string_equal(t->s.peer->broadcast_address, "n1");
	assert_int_equal(t->s.peer->tcp_port, 4150);
	assert_int_equal(t->s.peer->http_port, 4151);
	assert_non_null(reg_producer(reg_get(&t->reg, "client", "", ""),
	    t->s.peer));
	assert_non_null(reg_producer(reg_get(&t->reg, "topic", "t", ""),
	    t->s.peer));
	assert_non_null(reg_producer(reg_get(&t->reg, "topic", "t2", ""),
	    t->s.peer));
	g = reg_get(&t->reg, "channel", "t", "c");
	assert_non_null(g);
	assert_int_equal(hmap_len(&g->producers), 0);
}

static void
test_v1_session(void **state)
{
	char s[512];
	size_t n = script(s), cut, i;
	struct sess t;

	(void)state;
	/* All at once. */
	sess_open(&t, "10.0.0.1:5000");
	feed(&t, s, n, 7);
	check_script_state(&t);
	assert_int_equal(t.s.peer->last_update, 7);
	sess_close(&t);

	/* Every prefix, then the rest. */
	for (cut = 0; cut <= n; cut++) {
		sess_open(&t, "10.0.0.1:5000");
		feed(&t, s, cut, 1);
		assert_int_not_equal(t.last, V1_CLOSE);
		feed(&t, s + cut, n - cut, 1);
		check_script_state(&t);
		sess_close(&t);
	}

	/* Byte by byte. */
	sess_open(&t, "10.0.0.1:5000");
	for (i = 0; i < n; i++) {
		feed(&t, s + i, 1, 1);
		assert_int_not_equal(t.last, V1_CLOSE);
	}
	check_script_state(&t);
	sess_close(&t);
}

static void
test_v1_magic(void **state)
{
	struct sess t;

	(void)state;
	sess_open(&t, "x:1");
	assert_int_equal(feeds(&t, "  V", 0), V1_NEED_MORE);
	expect_none(&t);
	assert_int_equal(feeds(&t, "2PING\n", 0), V1_CLOSE);
	expect_reply(&t, "E_BAD_PROTOCOL");
	expect_none(&t);
	/* After a fatal error nothing more is handled. */
	assert_int_equal(feeds(&t, "  V1PING\n", 0), V1_CLOSE);
	expect_none(&t);
	sess_close(&t);
}

/* One fatal exchange: the script after the magic and the error text. */
static void
expect_fatal(const char *input, size_t len, const char *error)
{
	struct sess t;

	sess_open(&t, "x:1");
	feeds(&t, "  V1", 0);
	assert_int_equal(feed(&t, input, len, 0), V1_CLOSE);
	expect_reply(&t, error);
	expect_none(&t);
	sess_close(&t);
}

#define FATAL_STR(in, err)	expect_fatal(in, sizeof(in) - 1, err)

static void
test_v1_errors(void **state)
{
	char *m, big[V1_MAX_LINE + 2];

	(void)state;
	FATAL_STR("FOO\n", "E_INVALID invalid command FOO");
	FATAL_STR("\n", "E_INVALID invalid command ");
	FATAL_STR("ping\n", "E_INVALID invalid command ping");
	FATAL_STR("REGISTER t\n", "E_INVALID client must IDENTIFY");
	FATAL_STR("UNREGISTER t\n", "E_INVALID client must IDENTIFY");
	FATAL_STR("IDENTIFY\n\xff\xff\xff\xff",
	    "E_BAD_BODY IDENTIFY invalid body size -1");
	FATAL_STR("IDENTIFY\n\x00\x50\x00\x01",
	    "E_BAD_BODY IDENTIFY body too big 5242881 > 5242880");
	FATAL_STR("IDENTIFY\n\x00\x00\x00\x00",
	    "E_BAD_BODY IDENTIFY failed to decode JSON body");
	memset(big, 'A', sizeof(big));
	expect_fatal(big, sizeof(big),
	    "E_INVALID command line too long (over 4096 bytes)");

#define BADJSON(j) do {							\
	m = identify_msg(j);						\
	expect_fatal(m, strlen(m + 13) + 13,				\
	    "E_BAD_BODY IDENTIFY failed to decode JSON body");		\
	free(m);							\
} while (0)
#define MISSING(j) do {							\
	m = identify_msg(j);						\
	expect_fatal(m, strlen(m + 13) + 13,				\
	    "E_BAD_BODY IDENTIFY missing fields");			\
	free(m);							\
} while (0)
	BADJSON("{");
	BADJSON("[]");
	BADJSON("\"x\"");
	BADJSON("1");
	BADJSON("{\"tcp_port\":\"4150\"}");
	BADJSON("{\"tcp_port\":4150.5}");
	BADJSON("{\"tcp_port\":1e3}");
	BADJSON("{\"http_port\":true}");
	BADJSON("{\"version\":1}");
	BADJSON("{\"HOSTNAME\":[]}");
	BADJSON("{\"remote_address\":{}}");
	/* A wrong type counts even when a later duplicate is right. */
	BADJSON("{\"broadcast_address\":\"a\",\"tcp_port\":\"x\","
	    "\"http_port\":1,\"version\":\"v\",\"tcp_port\":1}");
	MISSING("null");
	MISSING("{}");
	MISSING("{\"broadcast_address\":\"a\",\"tcp_port\":1,\"http_port\":1}");
	MISSING("{\"broadcast_address\":\"\",\"tcp_port\":1,\"http_port\":1,"
	    "\"version\":\"v\"}");
	MISSING("{\"broadcast_address\":\"a\",\"tcp_port\":0,\"http_port\":1,"
	    "\"version\":\"v\"}");
	MISSING("{\"broadcast_address\":\"a\",\"tcp_port\":1,\"http_port\":0,"
	    "\"version\":\"v\"}");
	MISSING("{\"broadcast_address\":\"a\",\"tcp_port\":1,\"http_port\":1,"
	    "\"version\":null}");
#undef BADJSON
#undef MISSING
}

/* After IDENTIFY: input, the reply expected, and whether it is fatal. */
static void
identified_n(const char *input, size_t len, const char *want, bool fatal)
{
	struct sess t;

	sess_open(&t, "x:1");
	feeds(&t, "  V1", 0);
	assert_int_equal(feed_identify(&t, PEER_JSON, 0), V1_NEED_MORE);
	expect_reply(&t, identify_reply);
	assert_int_equal(feed(&t, input, len, 0),
	    fatal ? V1_CLOSE : V1_NEED_MORE);
	expect_reply(&t, want);
	expect_none(&t);
	sess_close(&t);
}

static void
identified(const char *input, const char *want, bool fatal)
{
	identified_n(input, strlen(input), want, fatal);
}

static void
test_v1_identified_errors(void **state)
{
	char *m = identify_msg(PEER_JSON);

	(void)state;
	identified_n(m, 13 + strlen(PEER_JSON),
	    "E_INVALID cannot IDENTIFY again", true);
	free(m);
	/* Refused before its body is read. */
	identified("IDENTIFY\n", "E_INVALID cannot IDENTIFY again", true);
	identified("REGISTER\n", "E_INVALID REGISTER insufficient number of "
	    "params", true);
	identified("REGISTER \n", "E_INVALID REGISTER insufficient number of "
	    "params", true);
	identified("UNREGISTER\n", "E_INVALID UNREGISTER insufficient number "
	    "of params", true);
	identified("REGISTER a*b\n", "E_BAD_TOPIC REGISTER topic name 'a*b' "
	    "is not valid", true);
	identified("REGISTER  t\n", "E_BAD_TOPIC REGISTER topic name '' is "
	    "not valid", true);
	identified("UNREGISTER t c:d\n", "E_BAD_CHANNEL UNREGISTER channel "
	    "name 'c:d' is not valid", true);
	identified("REGISTER "
	    "x123456789x123456789x123456789x123456789x123456789x123456789x1234"
	    "\n", "E_BAD_TOPIC REGISTER topic name '"
	    "x123456789x123456789x123456789x123456789x123456789x123456789x1234"
	    "' is not valid", true);
	/* Go's quirks: an empty channel is no channel; extras are ignored. */
	identified("REGISTER t  c\n", "OK", false);
	identified("REGISTER t c extra\n", "OK", false);
	identified("PING extra\n", "OK", false);
	/* Go's TrimSpace knows Unicode white space. */
	identified("\t REGISTER t c\xc2\xa0\xe3\x80\x80\r\n", "OK", false);
	identified("\xe2\x80\x8aPING\xe2\x80\xa9\n", "OK", false);
	identified("REGISTER t c\xc2\xa1\n", "E_BAD_CHANNEL REGISTER channel "
	    "name 'c\xc2\xa1' is not valid", true);
}

static void
test_v1_identify_decode(void **state)
{
	struct sess t;

	(void)state;
	/* Keys without regard to case, the last wins, null is no value. */
	sess_open(&t, "[::1]:77");
	feeds(&t, "  V1", 0);
	assert_int_equal(feed_identify(&t, "{\"Broadcast_Address\":\"first\","
	    "\"broadcast_address\":\"n\",\"TCP_PORT\":-3,\"http_port\":5,"
	    "\"version\":\"v\",\"hostname\":null,\"extra\":[1,{}],"
	    "\"remote_address\":\"ignored\",\"version\":\"v2\"}", 42),
	    V1_NEED_MORE);
	expect_reply(&t, identify_reply);
	assert_string_equal(t.s.peer->broadcast_address, "n");
	assert_int_equal(t.s.peer->tcp_port, -3);
	assert_int_equal(t.s.peer->http_port, 5);
	assert_string_equal(t.s.peer->version, "v2");
	assert_string_equal(t.s.peer->hostname, "");
	assert_string_equal(t.s.peer->remote_address, "[::1]:77");
	assert_string_equal(t.s.peer->id, "[::1]:77");
	assert_int_equal(t.s.peer->last_update, 42);
	/* PING updates the time; the reply is OK. */
	feeds(&t, "PING\n", 50);
	expect_reply(&t, "OK");
	assert_int_equal(t.s.peer->last_update, 50);
	sess_close(&t);
}

static void
test_v1_unregister(void **state)
{
	struct sess t;
	struct registration *g;

	(void)state;
	sess_open(&t, "x:1");
	feeds(&t, "  V1", 0);
	feed_identify(&t, PEER_JSON, 0);
	feeds(&t, "REGISTER t c\nREGISTER t c#ephemeral\n"
	    "REGISTER t#ephemeral d\nREGISTER u\n", 0);
	/* An ephemeral channel goes with its last producer. */
	feeds(&t, "UNREGISTER t c#ephemeral\n", 0);
	assert_null(reg_get(&t.reg, "channel", "t", "c#ephemeral"));
	feeds(&t, "UNREGISTER t c\n", 0);
	g = reg_get(&t.reg, "channel", "t", "c");
	assert_non_null(g);
	assert_int_equal(hmap_len(&g->producers), 0);
	/* Unknown ones are fine. */
	feeds(&t, "UNREGISTER nope x\nUNREGISTER nope\n", 0);
	/* A topic takes its channels' producers along; ephemeral goes. */
	feeds(&t, "UNREGISTER t#ephemeral\n", 0);
	assert_null(reg_get(&t.reg, "topic", "t#ephemeral", ""));
	g = reg_get(&t.reg, "channel", "t#ephemeral", "d");
	assert_non_null(g);
	assert_int_equal(hmap_len(&g->producers), 0);
	feeds(&t, "UNREGISTER u\n", 0);
	g = reg_get(&t.reg, "topic", "u", "");
	assert_non_null(g);
	assert_int_equal(hmap_len(&g->producers), 0);
	assert_int_equal(t.last, V1_NEED_MORE);
	expect_reply(&t, identify_reply);
	while (buf_len(&t.s.out) > 0)
		expect_reply(&t, "OK");
	assert_non_null(reg_producer(reg_get(&t.reg, "topic", "t", ""),
	    t.s.peer));
	/* The end unregisters everything. */
	v1_end(&t.s);
	assert_null(t.s.peer);
	v1_end(&t.s);
	sess_close(&t);
}

#define FEED(t, lit)	feed(t, lit, sizeof(lit) - 1, 0)

static void
test_v1_eof(void **state)
{
	struct sess t;

	(void)state;
	/* Before the magic, or mid-command: nothing to say. */
	sess_open(&t, "x:1");
	feeds(&t, "  V", 0);
	v1_eof(&t.s, &t.in);
	expect_none(&t);
	sess_close(&t);
	sess_open(&t, "x:1");
	feeds(&t, "  V1PIN", 0);
	v1_eof(&t.s, &t.in);
	expect_none(&t);
	sess_close(&t);
	/* An IDENTIFY cut short gets Go's answers. */
	sess_open(&t, "x:1");
	FEED(&t, "  V1IDENTIFY\n\x00\x00");
	v1_eof(&t.s, &t.in);
	expect_reply(&t, "E_BAD_BODY IDENTIFY failed to read body size");
	sess_close(&t);
	sess_open(&t, "x:1");
	FEED(&t, "  V1IDENTIFY extra\n\x00\x00\x00\x05{}");
	v1_eof(&t.s, &t.in);
	expect_reply(&t, "E_BAD_BODY IDENTIFY failed to read body");
	assert_int_equal(v1_input(&t.s, &t.in, 0), V1_CLOSE);
	sess_close(&t);
	/* A line without its newline is dropped, as Go's ReadString. */
	sess_open(&t, "x:1");
	feeds(&t, "  V1IDENTIFY", 0);
	v1_eof(&t.s, &t.in);
	expect_none(&t);
	sess_close(&t);
}

static void
test_v1_pause(void **state)
{
	struct sess t;
	size_t i, n = 20000, got = 0;
	char *r;

	(void)state;
	sess_open(&t, "x:1");
	feeds(&t, "  V1", 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_append(&t.in, "PING\n", 5), 0);
	assert_int_equal(v1_input(&t.s, &t.in, 0), V1_PAUSED);
	assert_true(buf_len(&t.s.out) >= V1_OUT_HIGH);
	assert_true(buf_len(&t.s.out) < V1_OUT_HIGH + 64);
	for (;;) {
		while ((r = next_reply(&t)) != NULL) {
			assert_string_equal(r, "OK");
			free(r);
			got++;
		}
		buf_compact(&t.s.out);
		if (v1_input(&t.s, &t.in, 0) == V1_NEED_MORE)
			break;
	}
	while ((r = next_reply(&t)) != NULL) {
		free(r);
		got++;
	}
	assert_int_equal(got, n);
	sess_close(&t);
}

static void
test_v1_debug_log(void **state)
{
	struct sess t;
	int saved, devnull;

	(void)state;
	/* Debug lines (a PING's age) are formatted; keep them off stderr. */
	fflush(stderr);
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	assert_true(saved != -1 && devnull != -1);
	dup2(devnull, 2);
	log_set_level(LOG_LEVEL_DEBUG);
	sess_open(&t, "x:1");
	feeds(&t, "  V1", 0);
	feed_identify(&t, PEER_JSON, SEC);
	feeds(&t, "PING\nREGISTER t\n", 3 * SEC / 2);
	expect_reply(&t, identify_reply);
	expect_reply(&t, "OK");
	expect_reply(&t, "OK");
	sess_close(&t);
	log_set_level(LOG_LEVEL_FATAL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(devnull);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reg_add_get_remove),
		cmocka_unit_test(test_reg_long_names),
		cmocka_unit_test(test_reg_producers),
		cmocka_unit_test(test_reg_find),
		cmocka_unit_test(test_reg_times),
		cmocka_unit_test(test_v1_session),
		cmocka_unit_test(test_v1_magic),
		cmocka_unit_test(test_v1_errors),
		cmocka_unit_test(test_v1_identified_errors),
		cmocka_unit_test(test_v1_identify_decode),
		cmocka_unit_test(test_v1_unregister),
		cmocka_unit_test(test_v1_eof),
		cmocka_unit_test(test_v1_pause),
		cmocka_unit_test(test_v1_debug_log),
	};

	return cmocka_run_group_tests(tests, quiet, NULL);
}
