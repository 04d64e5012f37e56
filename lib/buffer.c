/*
 * Bounded byte buffers.  Growth doubles up to the hard maximum; compaction
 * moves unread bytes to the front only when asked (once per read), so a
 * parser that consumes record by record never pays a memmove per record.
 * The sticky error is set by the buf_add* appenders only: a checked append
 * that fails has its caller's attention already.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "xmalloc.h"

/*
 * off <= len <= cap <= max: broken, a read would return bytes never
 * written or a write would pass the allocation.  Checked where the
 * allocation changes and where reads move the offsets (on in every build
 * without NDEBUG); not in buf_append, the hottest path, which writes only
 * into room buf_reserve checked, and costs 5% of nsqd's instructions a
 * message with the check (bench/run.sh's callgrind figure).
 */
#define BUF_CHECK(b)	assert((b)->off <= (b)->len && \
			    (b)->len <= (b)->cap && (b)->cap <= (b)->max)

void
buf_init(struct buf *b, size_t cap, size_t max)
{
	if (cap > max)
		cap = max;
	b->data = cap ? xmalloc(cap) : NULL;
	b->off = b->len = 0;
	b->cap = cap;
	b->max = max;
	b->failed = 0;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
	b->failed = 0;
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
	b->failed = 0;
}

static void
compact(struct buf *b)
{
	if (b->off == 0)
		return;
	if (b->off < b->len)
		memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* The check stays out of compact(): buf_reserve's fast path inlines it. */
void
buf_compact(struct buf *b)
{
	BUF_CHECK(b);
	compact(b);
}

/* buf_reserve without the sticky error: reading is not appending. */
static int
grow(struct buf *b, size_t n)
{
	size_t need, ncap;

	if (b->cap - b->len >= n)
		return 0;
	if (b->off > 0 && b->cap - b->len + b->off >= n) {
		compact(b);
		return 0;
	}
	need = b->len - b->off + n;
	if (need < n || need > b->max) {
		errno = ENOBUFS;
		return -1;
	}
	compact(b);
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	b->data = xreallocarray(b->data, ncap, 1);
	b->cap = ncap;
	return 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	if (b->failed) {
		errno = ENOBUFS;
		return -1;
	}
	return grow(b, n);
}

/*
 * The hottest path (every frame nsqd writes): the room check is done here,
 * so an append that fits makes no call.
 */
int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (b->failed) {
		errno = ENOBUFS;
		return -1;
	}
	if (b->cap - b->len < n && grow(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int	vappendf(struct buf *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static int
vappendf(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	char *tmp;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || buf_reserve(b, (size_t)n) == -1)
		return -1;
	/*
	 * vsnprintf also writes a NUL.  When room for it would pass max, the
	 * text still fits: format it elsewhere and copy it in.
	 */
	if (b->cap - b->len == (size_t)n &&
	    buf_reserve(b, (size_t)n + 1) == -1) {
		tmp = xmalloc((size_t)n + 1);
		vsnprintf(tmp, (size_t)n + 1, fmt, ap);
		if (n > 0)
			memcpy(b->data + b->len, tmp, (size_t)n);
		free(tmp);
	} else
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	BUF_CHECK(b);
	return 0;
}

int
buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
buf_append_u16(struct buf *b, uint16_t v)
{
	unsigned char x[2];

	be16enc(x, v);
	return buf_append(b, x, sizeof(x));
}

int
buf_append_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4];

	be32enc(x, v);
	return buf_append(b, x, sizeof(x));
}

int
buf_append_u64(struct buf *b, uint64_t v)
{
	unsigned char x[8];

	be64enc(x, v);
	return buf_append(b, x, sizeof(x));
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) == -1)
		b->failed = 1;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vappendf(b, fmt, ap);
	va_end(ap);
	if (rc == -1)
		b->failed = 1;
}

void
buf_add_u16(struct buf *b, uint16_t v)
{
	if (buf_append_u16(b, v) == -1)
		b->failed = 1;
}

void
buf_add_u32(struct buf *b, uint32_t v)
{
	if (buf_append_u32(b, v) == -1)
		b->failed = 1;
}

void
buf_add_u64(struct buf *b, uint64_t v)
{
	if (buf_append_u64(b, v) == -1)
		b->failed = 1;
}

void
buf_consume(struct buf *b, size_t n)
{
	assert(b->off <= b->len);	/* what the length below needs */
	if (n >= b->len - b->off) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
}

ssize_t
buf_read_fd(struct buf *b, int fd)
{
	size_t room;
	ssize_t n;

	compact(b);
	room = b->cap - b->len;
	if (room < 4096 && b->cap < b->max) {
		size_t want = b->max - b->len < 16384 ? b->max - b->len : 16384;

		if (grow(b, want) == -1)
			return -1;
		room = b->cap - b->len;
	}
	if (room == 0) {
		errno = ENOBUFS;
		return -1;
	}
	n = read(fd, b->data + b->len, room);
	if (n > 0)
		b->len += (size_t)n;
	BUF_CHECK(b);
	return n;
}

ssize_t
buf_write_fd(struct buf *b, int fd)
{
	ssize_t n;

	if (buf_len(b) == 0)
		return 0;
	n = write(fd, buf_data(b), buf_len(b));
	if (n > 0)
		buf_consume(b, (size_t)n);
	return n;
}
