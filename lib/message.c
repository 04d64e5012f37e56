/*
 * Message header codec and the per-topic GUID generator (see message.h).
 */
#include <string.h>

#include "buffer.h"
#include "message.h"

#define GUID_EPOCH_MS	1288834974288LL
#define GUID_SEQ_BITS	12
#define GUID_NODE_BITS	10
#define GUID_SEQ_MASK	((1 << GUID_SEQ_BITS) - 1)

void
guid_init(struct guid_gen *g, int64_t node_id)
{
	g->node_id = node_id & ((1 << GUID_NODE_BITS) - 1);
	g->last_tick = 0;
	g->seq = 0;
}

uint64_t
guid_next(struct guid_gen *g, int64_t now_ns)
{
	int64_t tick = now_ns >> 20;

	if (tick <= g->last_tick) {
		/* Same tick, or the clock stepped back: continue the sequence. */
		tick = g->last_tick;
		g->seq = (g->seq + 1) & GUID_SEQ_MASK;
		if (g->seq == 0)
			tick++;		/* sequence used up: borrow a tick */
	} else
		g->seq = 0;
	g->last_tick = tick;
	return ((uint64_t)(tick - GUID_EPOCH_MS) <<
	    (GUID_SEQ_BITS + GUID_NODE_BITS)) |
	    ((uint64_t)g->node_id << GUID_SEQ_BITS) | (uint64_t)g->seq;
}

void
guid_hex(uint64_t id, char out[MSG_ID_LEN])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = MSG_ID_LEN - 1; i >= 0; i--) {
		out[i] = hex[id & 0xf];
		id >>= 4;
	}
}

void
msg_header_encode(unsigned char out[MSG_HEADER_LEN], int64_t ts,
    uint16_t attempts, const char id[MSG_ID_LEN])
{
	be64enc(out, (uint64_t)ts);
	be16enc(out + 8, attempts);
	memcpy(out + 10, id, MSG_ID_LEN);
}

int
msg_decode(const void *p, size_t len, int64_t *ts, uint16_t *attempts,
    const char **id, const void **body, size_t *bodylen)
{
	const unsigned char *b = p;

	if (len < MSG_HEADER_LEN)
		return -1;
	*ts = (int64_t)be64dec(b);
	*attempts = be16dec(b + 8);
	*id = (const char *)b + 10;
	*body = b + MSG_HEADER_LEN;
	*bodylen = len - MSG_HEADER_LEN;
	return 0;
}
