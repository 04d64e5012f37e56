/*
 * DEFLATE and snappy-framed streams for NSQ connections (see compress.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <zlib.h>

#include "buffer.h"
#include "compress.h"
#include "xmalloc.h"

#define SNAPPY_MAX_BLOCK	65536
/* The longest chunk: a checksum and the worst-case encoding of a block. */
#define SNAPPY_MAX_CHUNK	(4 + 32 + SNAPPY_MAX_BLOCK + SNAPPY_MAX_BLOCK / 6)
/*
 * Input taken per step by cz_decompress_max: snappy expands at most
 * about 21 times (a 3-byte copy of 64), so a step and the chunk it may
 * complete decode to well under SNAPPY_SPILL_MAX.
 */
#define SNAPPY_STEP		4096
#define SNAPPY_SPILL_MAX	(8 * SNAPPY_MAX_BLOCK)
#define CHUNK_COMPRESSED	0x00
#define CHUNK_UNCOMPRESSED	0x01
#define CHUNK_PADDING		0xfe
#define CHUNK_STREAM_ID		0xff

static const unsigned char stream_id[10] = {
	CHUNK_STREAM_ID, 6, 0, 0, 's', 'N', 'a', 'P', 'p', 'Y'
};

struct cz {
	enum cz_kind	kind;
	z_stream	inf;		/* deflate: reading */
	z_stream	def;		/* deflate: writing */
	bool		wrote_id;	/* snappy: stream identifier sent */
	bool		got_id;		/* snappy: stream identifier seen */
	struct buf	pend;		/* snappy: a partial incoming chunk */
	char		*scratch;	/* snappy: one chunk's worth */
	struct buf	spill;		/* snappy: decoded, not given yet */
};

static uint32_t crc_table[256];

static void
crc_init(void)
{
	uint32_t c;
	int i, k;

	if (crc_table[1] != 0)
		return;
	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t
cz_crc32c(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t c = 0xffffffff;

	crc_init();
	while (n--)
		c = crc_table[(c ^ *s++) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint32_t
masked_crc(const void *p, size_t n)
{
	uint32_t c = cz_crc32c(p, n);

	return ((c >> 15) | (c << 17)) + 0xa282ead8;
}

struct cz *
cz_new(enum cz_kind kind, int level)
{
	struct cz *z = xcalloc(1, sizeof(*z));

	z->kind = kind;
	if (kind == CZ_DEFLATE) {
		if (inflateInit2(&z->inf, -15) != Z_OK) {
			free(z);
			return NULL;
		}
		if (deflateInit2(&z->def, level, Z_DEFLATED, -15, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK) {
			inflateEnd(&z->inf);
			free(z);
			return NULL;
		}
	} else {
		buf_init(&z->pend, 0, 4 + SNAPPY_MAX_CHUNK);
		buf_init(&z->spill, 0, SNAPPY_SPILL_MAX);
		z->scratch = xmalloc(snappy_max_compressed_length(
		    SNAPPY_MAX_BLOCK) + SNAPPY_MAX_BLOCK);
	}
	return z;
}

void
cz_free(struct cz *z)
{
	if (z == NULL)
		return;
	if (z->kind == CZ_DEFLATE) {
		inflateEnd(&z->inf);
		deflateEnd(&z->def);
	} else {
		buf_free(&z->pend);
		buf_free(&z->spill);
		free(z->scratch);
	}
	free(z);
}

static int
fail(char *err, size_t errlen, const char *why)
{
	if (errlen > 0) {
		strncpy(err, why, errlen - 1);
		err[errlen - 1] = '\0';
	}
	return -1;
}

static int
inflate_in(struct cz *z, const void *in, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	int r;

	z->inf.next_in = (Bytef *)(uintptr_t)in;
	z->inf.avail_in = (uInt)len;
	while (z->inf.avail_in > 0) {
		if (buf_reserve(out, 16384) == -1)
			return fail(err, errlen, "decompressed data too large");
		z->inf.next_out = (Bytef *)out->data + out->len;
		z->inf.avail_out = (uInt)(out->cap - out->len);
		r = inflate(&z->inf, Z_SYNC_FLUSH);
		out->len = out->cap - z->inf.avail_out;
		if (r == Z_STREAM_END)
			return fail(err, errlen, "deflate stream ended");
		if (r != Z_OK && r != Z_BUF_ERROR)
			return fail(err, errlen, "corrupt deflate stream");
	}
	return 0;
}

/* One whole snappy chunk: type, 24-bit length, body. */
static int
snappy_chunk(struct cz *z, unsigned type, const unsigned char *b,
    size_t len, struct buf *out, char *err, size_t errlen)
{
	size_t ulen;

	if (type == CHUNK_STREAM_ID) {
		if (len != 6 || memcmp(b, "sNaPpY", 6) != 0)
			return fail(err, errlen, "bad snappy stream identifier");
		z->got_id = true;
		return 0;
	}
	if (!z->got_id)
		return fail(err, errlen, "snappy stream without identifier");
	if (type == CHUNK_COMPRESSED || type == CHUNK_UNCOMPRESSED) {
		const unsigned char *data = b + 4;
		size_t dlen;

		if (len < 4)
			return fail(err, errlen, "short snappy chunk");
		dlen = len - 4;
		if (type == CHUNK_COMPRESSED) {
			if (snappy_uncompressed_length((const char *)data,
			    dlen, &ulen) != SNAPPY_OK ||
			    ulen > SNAPPY_MAX_BLOCK)
				return fail(err, errlen, "corrupt snappy chunk");
			if (snappy_uncompress((const char *)data, dlen,
			    z->scratch, &ulen) != SNAPPY_OK)
				return fail(err, errlen, "corrupt snappy chunk");
			data = (const unsigned char *)z->scratch;
			dlen = ulen;
		} else if (dlen > SNAPPY_MAX_BLOCK)
			return fail(err, errlen, "snappy chunk too large");
		if (masked_crc(data, dlen) != ((uint32_t)b[0] |
		    (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		    (uint32_t)b[3] << 24))
			return fail(err, errlen, "snappy checksum mismatch");
		if (buf_append(out, data, dlen) == -1)
			return fail(err, errlen, "decompressed data too large");
		return 0;
	}
	if (type >= 0x80)	/* padding and reserved skippable chunks */
		return 0;
	return fail(err, errlen, "unsupported snappy chunk type");
}

/* Length of the chunk starting at p (4 bytes there), or -1 if too long. */
static long
chunk_len(const unsigned char *p)
{
	size_t clen = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16;

	return clen > SNAPPY_MAX_CHUNK ? -1 : (long)clen;
}

/*
 * Whole chunks are decoded straight from the input; only a chunk split
 * across reads is gathered in pend, so pend never holds more than one.
 */
static int
snappy_in(struct cz *z, const void *in, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	const unsigned char *p = in;
	const unsigned char *c;
	size_t have, want;
	long clen;

	while (len > 0) {
		if (buf_len(&z->pend) == 0 && len >= 4) {
			if ((clen = chunk_len(p)) == -1)
				return fail(err, errlen, "snappy chunk too large");
			if (len >= 4 + (size_t)clen) {
				if (snappy_chunk(z, p[0], p + 4, (size_t)clen,
				    out, err, errlen) == -1)
					return -1;
				p += 4 + clen;
				len -= 4 + (size_t)clen;
				continue;
			}
		}
		/* Gather the header, then the rest of this one chunk. */
		have = buf_len(&z->pend);
		if (have < 4)
			want = 4 - have;
		else {
			c = (const unsigned char *)buf_data(&z->pend);
			if ((clen = chunk_len(c)) == -1)
				return fail(err, errlen, "snappy chunk too large");
			want = 4 + (size_t)clen - have;
		}
		if (want > len)
			want = len;
		if (buf_append(&z->pend, p, want) == -1)
			return fail(err, errlen, "snappy chunk too large");
		p += want;
		len -= want;
		have = buf_len(&z->pend);
		c = (const unsigned char *)buf_data(&z->pend);
		if (have >= 4) {
			if ((clen = chunk_len(c)) == -1)
				return fail(err, errlen, "snappy chunk too large");
			if (have == 4 + (size_t)clen) {
				if (snappy_chunk(z, c[0], c + 4, (size_t)clen,
				    out, err, errlen) == -1)
					return -1;
				buf_reset(&z->pend);
			}
		}
	}
	return 0;
}

/*
 * Inflate at most limit plain bytes.  zlib may keep output it could not
 * write (avail_out ran out) with all input taken, so this runs even for
 * len 0, and stops only when a step makes no progress or limit is met.
 */
static int
inflate_max(struct cz *z, const void *in, size_t len, struct buf *out,
    size_t limit, size_t *used, char *err, size_t errlen)
{
	size_t step, got;
	uInt had_in;
	int r;

	z->inf.next_in = (Bytef *)(uintptr_t)in;
	z->inf.avail_in = (uInt)len;
	while (limit > 0) {
		step = limit < 16384 ? limit : 16384;
		if (buf_reserve(out, step) == -1)
			return fail(err, errlen, "decompressed data too large");
		had_in = z->inf.avail_in;
		z->inf.next_out = (Bytef *)out->data + out->len;
		z->inf.avail_out = (uInt)step;
		r = inflate(&z->inf, Z_SYNC_FLUSH);
		got = step - z->inf.avail_out;
		out->len += got;
		limit -= got;
		if (r == Z_STREAM_END)
			return fail(err, errlen, "deflate stream ended");
		if (r != Z_OK && r != Z_BUF_ERROR)
			return fail(err, errlen, "corrupt deflate stream");
		if (got == 0 && z->inf.avail_in == had_in)
			break;
	}
	*used = len - z->inf.avail_in;
	return 0;
}

/*
 * Snappy at most limit plain bytes: chunks are decoded whole, so what
 * passes limit waits in spill.  Input goes in SNAPPY_STEP bytes at a
 * time, and only while spill is empty: a step completes at most a few
 * 64 KiB chunks, which bounds spill.
 */
static int
snappy_max(struct cz *z, const void *in, size_t len, struct buf *out,
    size_t limit, size_t *used, char *err, size_t errlen)
{
	const char *p = in;
	size_t n;

	*used = 0;
	for (;;) {
		n = buf_len(&z->spill) < limit ? buf_len(&z->spill) : limit;
		if (n > 0) {
			if (buf_append(out, buf_data(&z->spill), n) == -1)
				return fail(err, errlen,
				    "decompressed data too large");
			buf_consume(&z->spill, n);
			limit -= n;
		}
		if (limit == 0 || buf_len(&z->spill) > 0 || *used == len)
			return 0;
		buf_reset(&z->spill);
		n = len - *used < SNAPPY_STEP ? len - *used : SNAPPY_STEP;
		if (snappy_in(z, p + *used, n, &z->spill, err, errlen) == -1)
			return -1;
		*used += n;
	}
}

int
cz_decompress_max(struct cz *z, const void *in, size_t len, struct buf *out,
    size_t limit, size_t *used, char *err, size_t errlen)
{
	if (z->kind == CZ_DEFLATE)
		return inflate_max(z, in, len, out, limit, used, err, errlen);
	return snappy_max(z, in, len, out, limit, used, err, errlen);
}

int
cz_decompress(struct cz *z, const void *in, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	if (z->kind == CZ_DEFLATE)
		return inflate_in(z, in, len, out, err, errlen);
	return snappy_in(z, in, len, out, err, errlen);
}

static int
deflate_out(struct cz *z, const void *in, size_t len, struct buf *out)
{
	z->def.next_in = (Bytef *)(uintptr_t)in;
	z->def.avail_in = (uInt)len;
	do {
		if (buf_reserve(out, len / 2 + 1024) == -1)
			return -1;
		z->def.next_out = (Bytef *)out->data + out->len;
		z->def.avail_out = (uInt)(out->cap - out->len);
		if (deflate(&z->def, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
			return -1;
		out->len = out->cap - z->def.avail_out;
	} while (z->def.avail_out == 0 || z->def.avail_in > 0);
	return 0;
}

static int
snappy_out(struct cz *z, const void *in, size_t len, struct buf *out)
{
	const char *p = in;
	unsigned char hdr[8];
	size_t n, clen;
	uint32_t crc;

	if (!z->wrote_id) {
		if (buf_append(out, stream_id, sizeof(stream_id)) == -1)
			return -1;
		z->wrote_id = true;
	}
	while (len > 0) {
		n = len < SNAPPY_MAX_BLOCK ? len : SNAPPY_MAX_BLOCK;
		crc = masked_crc(p, n);
		clen = snappy_max_compressed_length(n);
		if (snappy_compress(p, n, z->scratch, &clen) != SNAPPY_OK)
			return -1;
		/* Like golang/snappy: keep it only if it saves 1/8. */
		if (clen >= n - n / 8) {
			hdr[0] = CHUNK_UNCOMPRESSED;
			clen = n;
		} else
			hdr[0] = CHUNK_COMPRESSED;
		hdr[1] = (unsigned char)((clen + 4) & 0xff);
		hdr[2] = (unsigned char)(((clen + 4) >> 8) & 0xff);
		hdr[3] = (unsigned char)(((clen + 4) >> 16) & 0xff);
		hdr[4] = crc & 0xff;
		hdr[5] = (crc >> 8) & 0xff;
		hdr[6] = (crc >> 16) & 0xff;
		hdr[7] = crc >> 24;
		if (buf_append(out, hdr, sizeof(hdr)) == -1 ||
		    buf_append(out, hdr[0] == CHUNK_COMPRESSED ?
		    z->scratch : p, clen) == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int
cz_compress(struct cz *z, const void *in, size_t len, struct buf *out)
{
	if (z->kind == CZ_DEFLATE)
		return deflate_out(z, in, len, out);
	return snappy_out(z, in, len, out);
}
