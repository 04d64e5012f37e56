/*
 * libFuzzer target for nsqlookupd's TCP protocol V1 engine (v1.c) and
 * its registry (registry.c), compiled in from cmd/nsqlookupd/ as the
 * unit tests do: the engine needs no sockets.
 *
 * Two sessions share one registry.  The input after its first byte is
 * split at each "\xffNEXT" into segments that go to the sessions in turn,
 * written in chunks; between segments the registry is searched, and
 * changed under the sessions as nsqlookupd's HTTP API changes it
 * (tombstones, deleted topics and channels).  Output is checked to be
 * well-formed replies, a closed session takes no more input, and at the
 * end no producer may be left pointing to a peer that is gone.
 *
 * First byte: bits 0-4 the chunk size (0: whole segments), bit 5: both
 * sessions have the same peer id, bits 6-7: what happens between
 * segments (nothing, tombstones, deletions, a session restarted).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cmd/nsqlookupd/registry.c"
#include "../../cmd/nsqlookupd/v1.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SEP	"\xffNEXT"
#define SEPLEN	5

static const struct v1_conf conf = {
	.tcp_port = 4160,
	.http_port = 4161,
	.broadcast_address = "fuzz",
	.hostname = "fuzzhost",
};

struct fsess {
	struct v1_session	s;
	struct buf		in;
	bool			closed;
};

/* Take every reply out of the output, checking the framing. */
static void
drain(struct fsess *f)
{
	struct buf *o = &f->s.out;
	uint32_t n;

	while (buf_len(o) > 0) {
		if (buf_len(o) < 4)
			abort();
		n = be32dec(buf_data(o));
		if (n > buf_len(o) - 4)
			abort();
		buf_consume(o, 4 + n);
	}
	buf_compact(o);
}

static void
open_sess(struct fsess *f, struct registry *reg, const char *remote)
{
	v1_init(&f->s, reg, &conf, remote);
	buf_init(&f->in, 256, V1_MAX_INPUT);
	f->closed = false;
}

static void
close_sess(struct fsess *f)
{
	v1_free(&f->s);
	buf_free(&f->in);
}

static void
feed(struct fsess *f, const uint8_t *p, size_t n)
{
	int r;

	if (f->closed)
		return;
	if (buf_append(&f->in, p, n) == -1) {
		/* Only a paused session could fill up; it is never left so. */
		abort();
	}
	for (;;) {
		r = v1_input(&f->s, &f->in, 1000);
		drain(f);
		if (r == V1_CLOSE) {
			f->closed = true;
			v1_end(&f->s);
			if (v1_input(&f->s, &f->in, 1000) != V1_CLOSE ||
			    buf_len(&f->s.out) != 0)
				abort();
			return;
		}
		if (r == V1_NEED_MORE)
			return;
	}
}

/* Every producer must point to the peer of a live session. */
static void
check(struct registry *reg, struct fsess *f, int nf)
{
	struct registration *g;
	struct producer *p;
	size_t pos;
	int i, ok;

	TAILQ_FOREACH(g, &reg->list, link) {
		pos = 0;
		while ((p = hmap_next(&g->producers, &pos)) != NULL) {
			for (ok = 0, i = 0; i < nf; i++)
				ok |= p->peer == f[i].s.peer;
			if (!ok || p->peer == NULL)
				abort();
		}
	}
}

/* What the HTTP API does to the registry, by mode. */
static void
admin(struct registry *reg, int mode, unsigned round)
{
	struct regvec v = { NULL, 0, 0 };
	struct prodvec pv = { NULL, 0, 0 };
	size_t i;

	reg_find(reg, "topic", "*", "", &v);
	reg_find(reg, "channel", "*", "*", &v);
	reg_find_producers(reg, "topic", "*", "", &pv);
	for (i = 0; i < pv.n; i++) {
		(void)reg_active(pv.v[i], 1000, 10, 10);
		if (mode == 1) {
			pv.v[i]->tombstoned = true;
			pv.v[i]->tombstoned_at = 999;
		}
	}
	if (mode == 2 && v.n > 0)
		reg_remove(reg, v.v[round % v.n]);
	reg_add(reg, "channel", "t", "c");
	regvec_free(&v);
	prodvec_free(&pv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct registry reg;
	struct fsess f[2];
	const uint8_t *seg, *end, *next;
	size_t chunk, n, off;
	unsigned round = 0;
	int mode, who = 0;

	if (!quiet) {
		log_init("", LOG_LEVEL_FATAL);
		quiet = 1;
	}
	if (size < 1)
		return 0;
	chunk = data[0] & 0x1f;
	mode = data[0] >> 6;
	reg_init(&reg);
	open_sess(&f[0], &reg, "10.0.0.1:1");
	open_sess(&f[1], &reg, (data[0] & 0x20) ? "10.0.0.1:1" : "10.0.0.2:2");
	seg = data + 1;
	end = data + size;
	while (seg <= end && round < 1024) {
		next = memmem(seg, (size_t)(end - seg), SEP, SEPLEN);
		n = next != NULL ? (size_t)(next - seg) : (size_t)(end - seg);
		for (off = 0; off < n; off += chunk ? chunk : n)
			feed(&f[who], seg + off,
			    chunk && n - off > chunk ? chunk : n - off);
		check(&reg, f, 2);
		admin(&reg, mode, round);
		check(&reg, f, 2);
		if (mode == 3 && (round & 1)) {
			/* The connection ends: EOF, then a new one. */
			if (!f[who].closed)
				v1_eof(&f[who].s, &f[who].in);
			drain(&f[who]);
			close_sess(&f[who]);
			open_sess(&f[who], &reg, who ? "10.0.0.2:2" :
			    "10.0.0.1:1");
			check(&reg, f, 2);
		}
		who ^= 1;
		round++;
		if (next == NULL)
			break;
		seg = next + SEPLEN;
	}
	v1_eof(&f[0].s, &f[0].in);
	close_sess(&f[0]);
	check(&reg, &f[1], 1);
	close_sess(&f[1]);
	check(&reg, f, 0);
	reg_free(&reg);
	return 0;
}
