/*
 * libFuzzer target for the stream decoders of lib/compress.c: the input
 * after its first byte is decoded as a snappy framed stream and as a raw
 * DEFLATE stream, each in chunks as a connection reads them, into an
 * output buffer with a maximum (emptied after each chunk, so a small
 * input that inflates far is refused, not held).  A corrupt stream or a
 * full buffer ends that stream (-1), nothing else.  Then the input is
 * compressed with each kind and must decode back to itself.
 *
 * Byte 0: bits 0-5 the chunk size (0: all at once), bits 6-7 the output
 * maximum, 16 KiB << (2 * n) (the inflater asks for 16 KiB of room).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "compress.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
decode(enum cz_kind kind, const uint8_t *p, size_t size, size_t chunk,
    size_t max)
{
	struct buf out;
	struct cz *z;
	char err[128];
	size_t off, n;

	if ((z = cz_new(kind, 6)) == NULL)
		abort();
	buf_init(&out, 256, max);
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		err[0] = '\0';
		if (cz_decompress(z, p + off, n, &out, err,
		    sizeof(err)) == -1) {
			if (err[0] == '\0')
				__builtin_trap();	/* says why */
			break;
		}
		if (buf_len(&out) > max)
			__builtin_trap();
		buf_reset(&out);
	}
	buf_free(&out);
	cz_free(z);
}

/* What one side compresses, the other gets back. */
static void
roundtrip(enum cz_kind kind, const uint8_t *p, size_t size)
{
	struct buf c, d;
	struct cz *w, *r;
	char err[128];

	if ((w = cz_new(kind, 1)) == NULL || (r = cz_new(kind, 1)) == NULL)
		abort();
	buf_init(&c, 256, 1 << 24);
	buf_init(&d, 256, 1 << 24);
	if (cz_compress(w, p, size, &c) == -1 ||
	    cz_decompress(r, buf_data(&c), buf_len(&c), &d, err,
	    sizeof(err)) == -1 ||
	    buf_len(&d) != size ||
	    (size > 0 && memcmp(buf_data(&d), p, size) != 0))
		__builtin_trap();
	buf_free(&c);
	buf_free(&d);
	cz_free(w);
	cz_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t chunk, max;

	if (size < 1)
		return 0;
	chunk = data[0] & 0x3f;
	max = (size_t)16384 << (2 * (data[0] >> 6));
	data++;
	size--;
	if (chunk == 0)
		chunk = size > 0 ? size : 1;
	decode(CZ_SNAPPY, data, size, chunk, max);
	decode(CZ_DEFLATE, data, size, chunk, max);
	roundtrip(CZ_SNAPPY, data, size);
	roundtrip(CZ_DEFLATE, data, size);
	return 0;
}
