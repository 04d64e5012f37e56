/*
 * libFuzzer target for the client library's frame decoder (lib/frame.c):
 * the input after its first byte is what nsqd sends, arriving in chunks
 * into a bounded buffer the way conn.c reads it; each whole frame is
 * taken off the front.  A frame taken must be what was asked for (8
 * bytes of header and its data, inside the buffer, a known type, no
 * larger than the maximum), and a decoder that wants more bytes must be
 * shown more; -1 ends the connection.
 *
 * Byte 0: bits 0-4 the chunk size (0: all at once), bits 5-7 the
 * maximum frame data, 16 << (2 * n).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f;
	struct buf b;
	size_t chunk, max, off, n;
	ssize_t r;
	int dead = 0;

	if (size < 1)
		return 0;
	chunk = data[0] & 0x1f;
	max = (size_t)16 << (2 * (data[0] >> 5));
	data++;
	size--;
	if (chunk == 0)
		chunk = size > 0 ? size : 1;
	/* Room for one frame less a byte, and a chunk. */
	buf_init(&b, 64, max + 8 + chunk);
	for (off = 0; off < size && !dead; off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (buf_append(&b, data + off, n) == -1)
			__builtin_trap();	/* a whole frame always fits */
		for (;;) {
			r = frame_decode(buf_data(&b), buf_len(&b), max, &f);
			if (r == 0)
				break;
			if (r < 0) {
				dead = 1;
				break;
			}
			if ((size_t)r != 8 + f.len || (size_t)r > buf_len(&b) ||
			    f.len > max || f.type < FRAME_RESPONSE ||
			    f.type > FRAME_MESSAGE ||
			    f.data != (const char *)buf_data(&b) + 8)
				__builtin_trap();
			buf_consume(&b, (size_t)r);
		}
		buf_compact(&b);
	}
	buf_free(&b);
	return 0;
}
