/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * A bounded, binary-safe byte buffer with a read cursor.  Data lives in
 * data[off, len); appends go at len; consumers advance off.  Space is
 * reclaimed by buf_compact(), once per read, never per consumed record.
 * A buffer never grows beyond the maximum given at init.
 *
 * Two kinds of appenders.  The checked ones (buf_append*, buf_reserve)
 * are for code that reacts at once: -1 (errno ENOBUFS) leaves the buffer
 * as it was and still usable, so a frame encoder can roll back and a
 * connection can drop one reply and go on.  The buf_add* ones are for
 * building a whole reply, document or request that is checked once at
 * the end: they return nothing, and the first one that does not fit
 * leaves the buffer failed (a sticky error, as curl's dynbuf and
 * lib/json's struct jw): every later append of either kind does nothing
 * (the checked ones return -1), and the owner asks buf_failed() before it
 * uses the contents, which are then incomplete.  buf_reset() clears it.
 */
#ifndef NSQ_BUFFER_H
#define NSQ_BUFFER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf {
	char	*data;		/* read-only for users */
	size_t	 off;		/* read cursor */
	size_t	 len;		/* end of data */
	size_t	 cap;		/* allocated */
	size_t	 max;		/* hard limit on cap */
	int	 failed;	/* sticky: a buf_add* did not fit */
};

void	buf_init(struct buf *, size_t cap, size_t max);
void	buf_free(struct buf *);
/* Drop all data and the sticky error, keeping the allocation. */
void	buf_reset(struct buf *);
/* Move unread data to the front. */
void	buf_compact(struct buf *);
/* Make room for n more bytes; -1 if that would exceed max or failed. */
int	buf_reserve(struct buf *, size_t n) __attribute__((warn_unused_result));
int	buf_append(struct buf *, const void *, size_t)
	    __attribute__((warn_unused_result));
int	buf_appendf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3), warn_unused_result));
int	buf_append_u16(struct buf *, uint16_t) __attribute__((warn_unused_result));
int	buf_append_u32(struct buf *, uint32_t) __attribute__((warn_unused_result));
int	buf_append_u64(struct buf *, uint64_t) __attribute__((warn_unused_result));
/*
 * The same appends for a whole build checked once: on failure the buffer
 * is unchanged by this append and failed from now on (see above).
 */
void	buf_add(struct buf *, const void *, size_t);
void	buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_add_u16(struct buf *, uint16_t);
void	buf_add_u32(struct buf *, uint32_t);
void	buf_add_u64(struct buf *, uint64_t);
/* Consume n bytes from the front (n <= buf_len). */
void	buf_consume(struct buf *, size_t n);
/*
 * Read once from fd into free space, growing up to max.  Returns bytes read,
 * 0 on EOF, -1 with errno set (EAGAIN included); ENOBUFS when the buffer is
 * full at its maximum.
 */
ssize_t	buf_read_fd(struct buf *, int fd);
/* Write once from the front; returns bytes written or -1 with errno. */
ssize_t	buf_write_fd(struct buf *, int fd);

/* 1 once a buf_add* did not fit, until buf_reset(); else 0. */
static inline int
buf_failed(const struct buf *b)
{
	return b->failed;
}

/*
 * Mark b failed, as a buf_add* that did not fit does: for a builder made
 * of checked appends that gives the buf_add* promise (lib/text's quoting).
 */
static inline void
buf_fail(struct buf *b)
{
	b->failed = 1;
}

static inline const char *
buf_data(const struct buf *b)
{
	return b->data + b->off;
}

static inline size_t
buf_len(const struct buf *b)
{
	return b->len - b->off;
}

/*
 * Room for n bytes at the end, written in place and then kept with
 * buf_commit(b, n): a frame built where it goes, with no copy through a
 * stack buffer.  NULL (errno ENOBUFS) where buf_reserve() fails.
 */
static inline char *
buf_space(struct buf *b, size_t n)
{
	if ((b->failed || b->cap - b->len < n) && buf_reserve(b, n) == -1)
		return NULL;
	return b->data + b->len;
}

/* Keep n bytes written at buf_space() (n no more than it was asked). */
static inline void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

/* Big-endian codecs: byte shifts, never pointer casts. */
static inline uint16_t
be16dec(const void *p)
{
	const unsigned char *b = p;

	return (uint16_t)((b[0] << 8) | b[1]);
}

static inline uint32_t
be32dec(const void *p)
{
	const unsigned char *b = p;

	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
	    ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

static inline uint64_t
be64dec(const void *p)
{
	const unsigned char *b = p;

	return ((uint64_t)be32dec(b) << 32) | be32dec(b + 4);
}

static inline void
be16enc(void *p, uint16_t v)
{
	unsigned char *b = p;

	b[0] = v >> 8;
	b[1] = v & 0xff;
}

static inline void
be32enc(void *p, uint32_t v)
{
	unsigned char *b = p;

	b[0] = v >> 24;
	b[1] = (v >> 16) & 0xff;
	b[2] = (v >> 8) & 0xff;
	b[3] = v & 0xff;
}

static inline void
be64enc(void *p, uint64_t v)
{
	be32enc(p, (uint32_t)(v >> 32));
	be32enc((unsigned char *)p + 4, (uint32_t)v);
}

#endif
