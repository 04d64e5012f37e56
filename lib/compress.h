/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The compressed streams NSQ clients may negotiate in IDENTIFY: raw
 * DEFLATE (no zlib header, sync-flushed after each write batch) and
 * snappy's framing format (stream identifier, then compressed or
 * uncompressed chunks of at most 64 KiB, each with a masked CRC-32C),
 * as Go's compress/flate and golang/snappy NewReader/NewWriter speak them.
 *
 * One struct cz carries both directions of one connection.  Decompression
 * takes bytes as they arrive, in any pieces; compression turns one batch
 * of plain bytes into a unit the peer can decode at once.
 */
#ifndef NSQ_COMPRESS_H
#define NSQ_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct cz;

enum cz_kind { CZ_DEFLATE, CZ_SNAPPY };

/* level: 1..9 for deflate (ignored for snappy). NULL if zlib fails. */
struct cz *cz_new(enum cz_kind, int level);
void	cz_free(struct cz *);
/*
 * Decompress in[0, len) and append the plain bytes to out.  0, or -1 on
 * corrupt input or when out would pass its maximum (err says which).
 */
int	cz_decompress(struct cz *, const void *in, size_t len, struct buf *out,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/*
 * As cz_decompress, but appends at most limit plain bytes and
 * sets *used to the input bytes it took (the rest is to be passed again,
 * with more after it), so a small read that inflates enormously is taken
 * a bounded step at a time.  Output zlib holds back is given on the next
 * call, even with len 0 (snappy: decoded chunks past limit wait in the
 * struct cz).
 */
int	cz_decompress_max(struct cz *, const void *in, size_t len,
	    struct buf *out, size_t limit, size_t *used, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Compress in[0, len) (len may be 0 for deflate: a bare flush) into out. */
int	cz_compress(struct cz *, const void *in, size_t len, struct buf *out)
	    __attribute__((warn_unused_result));
/* CRC-32C (Castagnoli), as snappy framing uses before masking. */
uint32_t cz_crc32c(const void *, size_t);

#endif
