/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * NSQ messages on the wire and on disk, and the IDs nsqd gives them.
 *
 * A message is [int64 timestamp_ns][uint16 attempts][16-byte ID][body],
 * big-endian, the same bytes in a V2 message frame and in a disk queue
 * record.  IDs are 16 lowercase hex digits of a 64-bit snowflake GUID:
 * ((ts >> 20) - epoch) << 22 | node_id << 12 | sequence.
 */
#ifndef NSQ_MESSAGE_H
#define NSQ_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#define MSG_ID_LEN	16
#define MSG_HEADER_LEN	26	/* 8 + 2 + 16 */

struct guid_gen {
	int64_t	node_id;	/* 0..1023 */
	int64_t	last_tick;	/* (ns >> 20) of the last ID */
	int64_t	seq;		/* 12-bit sequence within last_tick */
};

void	guid_init(struct guid_gen *, int64_t node_id);
/*
 * Next ID for the time now_ns.  Never fails: when the clock steps back or
 * the 4096 IDs of one tick are used up, the generator borrows the next
 * tick, so IDs stay unique and increasing (Go nsqd spins instead).
 */
uint64_t guid_next(struct guid_gen *, int64_t now_ns);
/* The 16 lowercase hex digits of id (no NUL). */
void	guid_hex(uint64_t id, char out[MSG_ID_LEN]);

/* Write the 26-byte header. */
void	msg_header_encode(unsigned char out[MSG_HEADER_LEN], int64_t ts,
	    uint16_t attempts, const char id[MSG_ID_LEN]);
/*
 * Split an encoded message; 0, or -1 when shorter than the header.  The
 * pointers point into p.
 */
int	msg_decode(const void *p, size_t len, int64_t *ts, uint16_t *attempts,
	    const char **id, const void **body, size_t *bodylen);

#endif
