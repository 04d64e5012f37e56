/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The client's side of TCP protocol V2: the incremental decoder of the
 * frames nsqd sends ([int32 size][int32 type][data], size = 4 + data)
 * and encoders of the commands a client sends.  Encoders append one whole
 * command to a struct buf, or leave it untouched and return -1 when the
 * buffer's maximum would be passed.
 */
#ifndef NSQ_FRAME_H
#define NSQ_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct buf;

#define FRAME_RESPONSE	0
#define FRAME_ERROR	1
#define FRAME_MESSAGE	2

#define FRAME_MAGIC_V2	"  V2"
#define FRAME_HEARTBEAT	"_heartbeat_"

struct frame {
	int		 type;
	const char	*data;	/* points into the decoded input */
	size_t		 len;
};

/*
 * Decode the frame at the front of p[0, len).  Returns the bytes it takes
 * (8 + data), 0 when more bytes are needed, or -1 for a frame that cannot
 * be (size below 4, data above max, type not 0-2).
 */
ssize_t	frame_decode(const void *p, size_t len, size_t max,
	    struct frame *) __attribute__((warn_unused_result));

int	frame_magic(struct buf *) __attribute__((warn_unused_result));
/* IDENTIFY with a JSON body; AUTH with the secret. */
int	frame_identify(struct buf *, const char *json, size_t len)
	    __attribute__((warn_unused_result));
int	frame_auth(struct buf *, const char *secret, size_t len)
	    __attribute__((warn_unused_result));
int	frame_sub(struct buf *, const char *topic, const char *channel)
	    __attribute__((warn_unused_result));
int	frame_rdy(struct buf *, int64_t count)
	    __attribute__((warn_unused_result));
/* id: the 16 characters of a message ID. */
int	frame_fin(struct buf *, const char *id)
	    __attribute__((warn_unused_result));
int	frame_req(struct buf *, const char *id, int64_t delay_ms)
	    __attribute__((warn_unused_result));
int	frame_touch(struct buf *, const char *id)
	    __attribute__((warn_unused_result));
int	frame_nop(struct buf *) __attribute__((warn_unused_result));
int	frame_cls(struct buf *) __attribute__((warn_unused_result));
int	frame_pub(struct buf *, const char *topic, const void *body,
	    size_t len) __attribute__((warn_unused_result));
int	frame_dpub(struct buf *, const char *topic, int64_t defer_ms,
	    const void *body, size_t len) __attribute__((warn_unused_result));
/* MPUB: [int32 body size][int32 n]{[int32 len][bytes]}*n. */
int	frame_mpub(struct buf *, const char *topic, const struct iovec *,
	    size_t n) __attribute__((warn_unused_result));
/* The bytes frame_mpub() appends for these messages. */
size_t	frame_mpub_size(const char *topic, const struct iovec *, size_t n);

#endif
