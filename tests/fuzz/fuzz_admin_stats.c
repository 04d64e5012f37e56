/*
 * libFuzzer target for nsqadmin's readers of upstream replies
 * (cmd/nsqadmin/stats.c): the input is taken as an nsqd /stats reply
 * (stats_parse), whose topics are then summed as Go's clusterinfo sums
 * them (topic_stats_add, channel rows shared between nodes) and written
 * back as JSON; and as an nsqlookupd /nodes or /lookup reply
 * (producers_parse).  Nothing may crash, leak or read past the input,
 * and what is written must be JSON that lib/json reads back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "json.h"
#include "../../cmd/nsqadmin/admin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena ar = { 0 };
	struct topic_stats *all;
	struct vec topics, prods;
	struct json j;
	struct buf b;
	struct jw w;
	char err[256];
	size_t i;

	if (stats_parse(&ar, (const char *)data, size, 1700000000, &topics,
	    err, sizeof(err)) == 0) {
		all = ar_alloc(&ar, sizeof(*all));
		all->node = all->hostname = all->topic_name = "";
		/* Twice: the second pass merges rows already merged. */
		for (i = 0; i < topics.n; i++)
			topic_stats_add(&ar, all, topics.v[i]);
		for (i = 0; i < topics.n && i < 4; i++)
			topic_stats_add(&ar, all, topics.v[i]);
		buf_init(&b, 0, (size_t)64 << 20);
		jw_init(&w, &b);
		jw_topic(&w, all);
		if (jw_finish(&w) == 0 && !buf_failed(&b)) {
			if (json_parse(&j, (const char *)buf_data(&b),
			    buf_len(&b), err, sizeof(err)) == -1)
				abort();
			json_free(&j);
		}
		buf_free(&b);
	}
	if (producers_parse(&ar, (const char *)data, size, &prods, err,
	    sizeof(err)) == 0) {
		buf_init(&b, 0, (size_t)64 << 20);
		jw_init(&w, &b);
		jw_arr_begin(&w);
		for (i = 0; i < prods.n; i++) {
			producer_http_addr(&ar, prods.v[i]);
			jw_producer(&w, prods.v[i]);
		}
		jw_arr_end(&w);
		(void)jw_finish(&w);
		buf_free(&b);
	}
	ar_free(&ar);
	return 0;
}
