/*
 * Unit tests for lib/conn: the IDENTIFY reply parser (conn_parse_identify):
 * "OK" negotiates nothing, a JSON object sets what it carries, values of
 * the wrong type are ignored, anything else is refused; and the order of
 * the upgrades after IDENTIFY, against a fake nsqd on a loopback socket
 * driven by hand: IDENTIFY asks for what the config says, snappy or
 * deflate starts right after the reply that agreed to it (even when the
 * compressed OK came in the same write), AUTH goes out through the
 * compression and its reply is read, and each refusal is told in words.
 * TLS itself is driven by tests/bats/clients-tls.bats against nsqd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "buffer.h"
#include "compress.h"
#include "config.h"
#include "conn.h"
#include "frame.h"
#include "net.h"

static void
fresh(struct conn_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->max_rdy_count = 2500;
}

static int
parse(struct conn_ident *id, const char *s)
{
	return conn_parse_identify(id, s, strlen(s));
}

static void
test_identify_ok(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "OK"), 0);
	assert_int_equal(id.max_rdy_count, 2500);
	assert_false(id.auth_required);
	assert_string_equal(id.version, "");
}

static void
test_identify_json(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "{\"max_rdy_count\":100,"
	    "\"version\":\"1.3.0\",\"max_msg_timeout\":900000,"
	    "\"msg_timeout\":60000,\"auth_required\":true,\"snappy\":false}"),
	    0);
	assert_int_equal(id.max_rdy_count, 100);
	assert_int_equal(id.msg_timeout_ms, 60000);
	assert_int_equal(id.max_msg_timeout_ms, 900000);
	assert_true(id.auth_required);
	assert_string_equal(id.version, "1.3.0");
}

static void
test_identify_wrong_types(void **state)
{
	struct conn_ident id;

	(void)state;
	fresh(&id);
	assert_int_equal(parse(&id, "{\"max_rdy_count\":\"7\","
	    "\"auth_required\":1,\"version\":"
	    "\"0123456789012345678901234567890123456789\"}"), 0);
	assert_int_equal(id.max_rdy_count, 2500);
	assert_false(id.auth_required);
	/* Cut to fit, still a string. */
	assert_int_equal(strlen(id.version), sizeof(id.version) - 1);
	assert_memory_equal(id.version, "0123456789", 10);
}

static void
test_identify_refused(void **state)
{
	static const char *bad[] = { "", "O", "OKAY", "[]", "\"OK\"", "7",
	    "{", "{\"version\":}", "null" };
	struct conn_ident id;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(&id);
		assert_int_equal(parse(&id, bad[i]), -1);
		assert_int_equal(id.max_rdy_count, 2500);
	}
}


/* The fake nsqd: one listening socket, one accepted client. */
static struct {
	struct ev_loop	*loop;
	int		 lfd, fd;
	char		 addr[64];
	struct buf	 in;		/* plain bytes from the client */
	struct cz	*cz;		/* server side of the compression */
	bool		 ready;
	bool		 closed;
	char		 why[512];
	struct conn	*c;
} F;

static void
f_ready(struct conn *c, void *arg)
{
	(void)c;
	(void)arg;
	F.ready = true;
}

static void
f_frame(struct conn *c, const struct frame *f, void *arg)
{
	(void)c;
	(void)f;
	(void)arg;
}

static void
f_closed(struct conn *c, const char *why, void *arg)
{
	(void)c;
	(void)arg;
	F.closed = true;
	snprintf(F.why, sizeof(F.why), "%s", why);
}

static const struct conn_cb f_cb = { f_ready, f_frame, f_closed };

/* One turn of the client's loop and of the fake server's reading. */
static void
turn(void)
{
	char chunk[65536], err[128];
	ssize_t n;

	ev_run(F.loop, EVRUN_NOWAIT);
	if (F.fd == -1) {
		F.fd = accept(F.lfd, NULL, NULL);
		if (F.fd != -1)
			assert_int_equal(fcntl(F.fd, F_SETFL, O_NONBLOCK), 0);
		return;
	}
	while ((n = recv(F.fd, chunk, sizeof(chunk), 0)) > 0) {
		if (F.cz != NULL)
			assert_int_equal(cz_decompress(F.cz, chunk, (size_t)n,
			    &F.in, err, sizeof(err)), 0);
		else
			assert_int_equal(buf_append(&F.in, chunk, (size_t)n),
			    0);
	}
	poll(NULL, 0, 1);
}

/* Turn until the server holds n plain bytes (or the conn closed). */
static void
want_bytes(size_t n)
{
	int i;

	for (i = 0; i < 5000 && buf_len(&F.in) < n && !F.closed; i++)
		turn();
	assert_true(buf_len(&F.in) >= n);
}

static void
until_closed(void)
{
	int i;

	for (i = 0; i < 5000 && !F.closed; i++)
		turn();
	assert_true(F.closed);
}

/* A frame as nsqd writes it, into b (through the compression if on). */
static void
put_frame(struct buf *b, int type, const char *data)
{
	struct buf plain;
	size_t len = strlen(data);

	buf_init(&plain, 0, 1 << 20);
	assert_int_equal(buf_append_u32(&plain, (uint32_t)(len + 4)), 0);
	assert_int_equal(buf_append_u32(&plain, (uint32_t)type), 0);
	assert_int_equal(buf_append(&plain, data, len), 0);
	if (F.cz != NULL)
		assert_int_equal(cz_compress(F.cz, buf_data(&plain),
		    buf_len(&plain), b), 0);
	else
		assert_int_equal(buf_append(b, buf_data(&plain),
		    buf_len(&plain)), 0);
	buf_free(&plain);
}

static void
send_buf(struct buf *b)
{
	assert_int_equal(send(F.fd, buf_data(b), buf_len(b), 0),
	    (ssize_t)buf_len(b));
	buf_reset(b);
}

/* Start a conn with these options ("key,value" each) to the fake nsqd. */
static struct nsq_config *
start(const char **opts)
{
	struct nsq_config *cfg = nsq_config_new();
	char err[256];

	for (; *opts != NULL; opts++)
		assert_int_equal(nsq_config_set_opt(cfg, *opts, err,
		    sizeof(err)), 0);
	memset(&F, 0, sizeof(F));
	F.loop = ev_loop_new(EVFLAG_AUTO);
	F.fd = -1;
	F.lfd = net_listen("127.0.0.1:0", err, sizeof(err));
	assert_true(F.lfd != -1);
	assert_int_equal(fcntl(F.lfd, F_SETFL, O_NONBLOCK), 0);
	snprintf(F.addr, sizeof(F.addr), "127.0.0.1:%d",
	    net_local_port(F.lfd));
	buf_init(&F.in, 0, 1 << 20);
	F.c = conn_new(F.loop, F.addr, cfg, &f_cb, NULL);
	conn_connect(F.c);
	return cfg;
}

/* Read magic and IDENTIFY; return its body (static). */
static const char *
read_identify(void)
{
	static char body[4096];
	uint32_t n;

	want_bytes(4 + 9 + 4);
	assert_memory_equal(buf_data(&F.in), "  V2IDENTIFY\n", 13);
	n = be32dec(buf_data(&F.in) + 13);
	want_bytes(17 + n);
	assert_true(n < sizeof(body));
	memcpy(body, buf_data(&F.in) + 17, n);
	body[n] = '\0';
	buf_consume(&F.in, 17 + n);
	return body;
}

static void
finish(struct nsq_config *cfg)
{
	conn_free(F.c);
	if (F.fd != -1)
		close(F.fd);
	close(F.lfd);
	cz_free(F.cz);
	buf_free(&F.in);
	ev_loop_destroy(F.loop);
	nsq_config_free(cfg);
}

/*
 * IDENTIFY asks for the compression; the reply agrees, and the
 * compressed OK follows in the same write; AUTH then goes out compressed,
 * its reply comes compressed, and only then is the conn ready.
 */
static void
negotiate(enum cz_kind kind)
{
	const char *opts[] = { kind == CZ_SNAPPY ? "snappy,true" :
	    "deflate,true", "deflate_level,3", "auth_secret,s3cret", NULL };
	struct nsq_config *cfg = start(opts);
	const char *id;
	struct buf out;
	char want[64];

	buf_init(&out, 0, 1 << 20);
	id = read_identify();
	assert_non_null(strstr(id, kind == CZ_SNAPPY ? "\"snappy\":true" :
	    "\"deflate\":true"));
	assert_non_null(strstr(id, "\"tls_v1\":false"));
	assert_non_null(strstr(id, "\"deflate_level\":3"));
	put_frame(&out, FRAME_RESPONSE, kind == CZ_SNAPPY ?
	    "{\"snappy\":true,\"auth_required\":true,\"max_rdy_count\":100}" :
	    "{\"deflate\":true,\"deflate_level\":3,\"auth_required\":true,"
	    "\"max_rdy_count\":100}");
	F.cz = cz_new(kind, 3);
	assert_non_null(F.cz);
	put_frame(&out, FRAME_RESPONSE, "OK");
	send_buf(&out);
	/* AUTH, through the compression. */
	want_bytes(5 + 4 + 6);
	assert_memory_equal(buf_data(&F.in), "AUTH\n\0\0\0\6s3cret", 15);
	buf_consume(&F.in, 15);
	assert_false(F.ready);
	put_frame(&out, FRAME_RESPONSE, "{\"identity\":\"u\",\"identity_url\":"
	    "\"http://x/\",\"permission_count\":2}");
	send_buf(&out);
	for (int i = 0; i < 5000 && !F.ready && !F.closed; i++)
		turn();
	assert_true(F.ready);
	assert_false(F.closed);
	assert_true(kind == CZ_SNAPPY ? conn_ident(F.c)->snappy :
	    conn_ident(F.c)->deflate);
	assert_int_equal(conn_ident(F.c)->max_rdy_count, 100);
	assert_string_equal(conn_ident(F.c)->identity, "u");
	assert_string_equal(conn_ident(F.c)->identity_url, "http://x/");
	assert_int_equal(conn_ident(F.c)->permission_count, 2);
	/* The owner's commands go compressed too. */
	assert_int_equal(frame_nop(conn_out(F.c)), 0);
	conn_flush(F.c);
	want_bytes(4);
	snprintf(want, sizeof(want), "NOP\n");
	assert_memory_equal(buf_data(&F.in), want, 4);
	buf_free(&out);
	finish(cfg);
}

static void
test_snappy_then_auth(void **state)
{
	(void)state;
	negotiate(CZ_SNAPPY);
}

static void
test_deflate_then_auth(void **state)
{
	(void)state;
	negotiate(CZ_DEFLATE);
}

/* reply: nsqd's IDENTIFY reply; then, if set, a second frame; the why. */
static void
refused(const char **opts, const char *reply, int type2, const char *frame2,
    const char *why)
{
	struct nsq_config *cfg = start(opts);
	struct buf out;
	char want[512];

	buf_init(&out, 0, 1 << 20);
	(void)read_identify();
	put_frame(&out, FRAME_RESPONSE, reply);
	/* Agreed to snappy: what follows comes compressed. */
	if (strstr(reply, "\"snappy\":true") != NULL)
		assert_non_null(F.cz = cz_new(CZ_SNAPPY, 6));
	if (frame2 != NULL)
		put_frame(&out, type2, frame2);
	send_buf(&out);
	until_closed();
	snprintf(want, sizeof(want), why, F.addr);
	assert_string_equal(F.why, want);
	/* Only a plain "OK" (nothing to upgrade) makes the conn ready. */
	assert_true(F.ready == (strcmp(reply, "OK") == 0));
	buf_free(&out);
	finish(cfg);
}

static void
test_refusals(void **state)
{
	const char *none[] = { NULL };
	const char *secret[] = { "auth_secret,s3cret", NULL };
	const char *tls[] = { "tls_v1,true", NULL };
	const char *snappy[] = { "snappy,true", NULL };

	(void)state;
	refused(none, "{\"auth_required\":true}", 0, NULL,
	    "nsqd %s requires AUTH: set auth_secret");
	refused(secret, "{\"auth_required\":true}", FRAME_ERROR,
	    "E_AUTH_FAILED AUTH failed",
	    "Error authenticating E_AUTH_FAILED AUTH failed");
	refused(tls, "{\"tls_v1\":false}", 0, NULL, "nsqd %s did not agree "
	    "to TLS (tls_v1 false in its IDENTIFY response: it has no "
	    "--tls-cert)");
	/* The upgrade's answer, through snappy, is not an OK. */
	refused(snappy, "{\"snappy\":true}", FRAME_ERROR, "E_X",
	    "invalid response from Snappy upgrade");
	refused(none, "OK", FRAME_ERROR,
	    "E_INVALID cannot PUB in current state (TLS required)",
	    "nsqd %s requires TLS: set tls_v1 (E_INVALID cannot PUB in "
	    "current state (TLS required))");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identify_ok),
		cmocka_unit_test(test_identify_json),
		cmocka_unit_test(test_identify_wrong_types),
		cmocka_unit_test(test_identify_refused),
		cmocka_unit_test(test_snappy_then_auth),
		cmocka_unit_test(test_deflate_then_auth),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
