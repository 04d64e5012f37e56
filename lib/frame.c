/*
 * V2 frames in (from nsqd) and commands out (to nsqd); see frame.h.
 * Each encoder remembers where the buffer ended and rolls back to it if
 * any append fails, so a command is either whole in the buffer or absent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buffer.h"
#include "frame.h"

ssize_t
frame_decode(const void *p, size_t len, size_t max, struct frame *f)
{
	const char *b = p;
	uint32_t size;
	int32_t type;

	if (len < 4)
		return 0;
	size = be32dec(b);
	if (size < 4 || size - 4 > max)
		return -1;
	if (len < 8)
		return 0;
	type = (int32_t)be32dec(b + 4);
	if (type < FRAME_RESPONSE || type > FRAME_MESSAGE)
		return -1;
	if (len - 4 < size)
		return 0;
	f->type = type;
	f->data = b + 8;
	f->len = size - 4;
	return (ssize_t)size + 4;
}

/*
 * Where the buffer ends, relative to its read cursor: buf_reserve() may
 * compact the buffer, which moves both ends but keeps their distance.
 */
static size_t
mark_of(const struct buf *b)
{
	return buf_len(b);
}

/* Undo a partial command. */
static int
rollback(struct buf *b, size_t mark)
{
	b->len = b->off + mark;
	return -1;
}

int
frame_magic(struct buf *b)
{
	return buf_append(b, FRAME_MAGIC_V2, 4);
}

/* "<cmd> <a>[ <c>]\n" from pieces, without a length limit on a or c. */
static int
line(struct buf *b, const char *cmd, const char *a, const char *c)
{
	size_t mark = mark_of(b);

	if (buf_append(b, cmd, strlen(cmd)) == -1 ||
	    (a != NULL && (buf_append(b, " ", 1) == -1 ||
	    buf_append(b, a, strlen(a)) == -1)) ||
	    (c != NULL && (buf_append(b, " ", 1) == -1 ||
	    buf_append(b, c, strlen(c)) == -1)) ||
	    buf_append(b, "\n", 1) == -1)
		return rollback(b, mark);
	return 0;
}

/* A command line then [int32 size][body]. */
static int
with_body(struct buf *b, const char *cmd, const char *a, const char *c,
    const void *body, size_t len)
{
	size_t mark = mark_of(b);

	if (len > INT32_MAX)
		return -1;
	if (line(b, cmd, a, c) == -1 ||
	    buf_append_u32(b, (uint32_t)len) == -1 ||
	    buf_append(b, body, len) == -1)
		return rollback(b, mark);
	return 0;
}

int
frame_identify(struct buf *b, const char *json, size_t len)
{
	return with_body(b, "IDENTIFY", NULL, NULL, json, len);
}

int
frame_auth(struct buf *b, const char *secret, size_t len)
{
	return with_body(b, "AUTH", NULL, NULL, secret, len);
}

int
frame_sub(struct buf *b, const char *topic, const char *channel)
{
	return line(b, "SUB", topic, channel);
}

int
frame_rdy(struct buf *b, int64_t count)
{
	char n[24];

	snprintf(n, sizeof(n), "%" PRId64, count);
	return line(b, "RDY", n, NULL);
}

static int
with_id(struct buf *b, const char *cmd, const char *id, const char *tail)
{
	size_t mark = mark_of(b);

	if (buf_append(b, cmd, strlen(cmd)) == -1 ||
	    buf_append(b, id, 16) == -1 ||
	    buf_append(b, tail, strlen(tail)) == -1)
		return rollback(b, mark);
	return 0;
}

int
frame_fin(struct buf *b, const char *id)
{
	return with_id(b, "FIN ", id, "\n");
}

int
frame_req(struct buf *b, const char *id, int64_t delay_ms)
{
	char tail[32];

	if (delay_ms < 0)
		delay_ms = 0;
	snprintf(tail, sizeof(tail), " %" PRId64 "\n", delay_ms);
	return with_id(b, "REQ ", id, tail);
}

int
frame_touch(struct buf *b, const char *id)
{
	return with_id(b, "TOUCH ", id, "\n");
}

int
frame_nop(struct buf *b)
{
	return buf_append(b, "NOP\n", 4);
}

int
frame_cls(struct buf *b)
{
	return buf_append(b, "CLS\n", 4);
}

int
frame_pub(struct buf *b, const char *topic, const void *body, size_t len)
{
	return with_body(b, "PUB", topic, NULL, body, len);
}

int
frame_dpub(struct buf *b, const char *topic, int64_t defer_ms,
    const void *body, size_t len)
{
	char n[24];

	if (defer_ms < 0)
		return -1;
	snprintf(n, sizeof(n), "%" PRId64, defer_ms);
	return with_body(b, "DPUB", topic, n, body, len);
}

size_t
frame_mpub_size(const char *topic, const struct iovec *v, size_t n)
{
	size_t i, sz = strlen("MPUB \n") + strlen(topic) + 8;

	for (i = 0; i < n; i++)
		sz += 4 + v[i].iov_len;
	return sz;
}

int
frame_mpub(struct buf *b, const char *topic, const struct iovec *v,
    size_t n)
{
	size_t mark = mark_of(b), body = 4, i;

	for (i = 0; i < n; i++) {
		if (v[i].iov_len > INT32_MAX)
			return -1;
		body += 4 + v[i].iov_len;
	}
	if (body > INT32_MAX || n > INT32_MAX)
		return -1;
	if (buf_reserve(b, frame_mpub_size(topic, v, n)) == -1 ||
	    line(b, "MPUB", topic, NULL) == -1 ||
	    buf_append_u32(b, (uint32_t)body) == -1 ||
	    buf_append_u32(b, (uint32_t)n) == -1)
		return rollback(b, mark);
	for (i = 0; i < n; i++)
		if (buf_append_u32(b, (uint32_t)v[i].iov_len) == -1 ||
		    buf_append(b, v[i].iov_base, v[i].iov_len) == -1)
			return rollback(b, mark);
	return 0;
}
