/*
 * nsq-stat's numbers (see table.h), as Go's clusterinfo reads them: a
 * producer is known by its HTTP address, a channel's counts are summed
 * over every nsqd that has it, and "mem" is depth less backend depth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "options.h"
#include "table.h"
#include "xmalloc.h"

const char nstat_header[] =
    "------rate------+----------------depth----------------+"
    "--------------metadata---------------\n"
    "ingress  egress |   total     mem    disk inflt   def |"
    "     req     t-o         msgs clients\n";

static int
bad(char *err, size_t errlen, const char *body, size_t len)
{
	snprintf(err, errlen, "unexpected answer: %.*s",
	    (int)(len > 200 ? 200 : len), body);
	return -1;
}

int
nstat_producers(const char *body, size_t len, struct strlist *out,
    char *err, size_t errlen)
{
	struct json j;
	int root, arr, p, tok, i, n;
	int64_t port;
	char *host, *addr;
	size_t k;

	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	root = 0;
	if (json_type(&j, 0) == JSON_OBJECT &&
	    json_obj_get(&j, 0, "producers") == -1 &&
	    (tok = json_obj_get(&j, 0, "data")) != -1 &&
	    json_type(&j, tok) == JSON_OBJECT)
		root = tok;
	if (json_type(&j, root) != JSON_OBJECT)
		goto fail;
	arr = json_obj_get(&j, root, "producers");
	if (arr != -1 && json_prim_kind(&j, arr) == 'n') {
		json_free(&j);
		return 0;
	}
	if (arr == -1 || json_type(&j, arr) != JSON_ARRAY)
		goto fail;
	n = json_size(&j, arr);
	for (i = 0; i < n; i++) {
		p = json_arr_at(&j, arr, i);
		if (json_type(&j, p) != JSON_OBJECT ||
		    (tok = json_obj_get(&j, p, "broadcast_address")) == -1 ||
		    (host = json_get_str(&j, tok, NULL)) == NULL)
			goto fail;
		if ((tok = json_obj_get(&j, p, "http_port")) == -1 ||
		    json_get_int64(&j, tok, &port) == -1) {
			free(host);
			goto fail;
		}
		if (strchr(host, ':') != NULL)
			addr = xasprintf("[%s]:%lld", host, (long long)port);
		else
			addr = xasprintf("%s:%lld", host, (long long)port);
		free(host);
		for (k = 0; k < out->n; k++)
			if (strcmp(out->v[k], addr) == 0)
				break;
		if (k == out->n)
			strlist_add(out, addr);
		free(addr);
	}
	json_free(&j);
	return 0;
fail:
	json_free(&j);
	return bad(err, errlen, body, len);
}

/* Member key of obj as an integer; 0 when it is missing. */
static int
get_int(const struct json *j, int obj, const char *key, int64_t *v)
{
	int tok = json_obj_get(j, obj, key);

	*v = 0;
	if (tok == -1)
		return 0;
	return json_get_int64(j, tok, v);
}

/* client_count, or for an nsqd without it the length of clients. */
static int
get_clients(const struct json *j, int chan, int64_t *v)
{
	int tok;

	if ((tok = json_obj_get(j, chan, "client_count")) != -1)
		return json_get_int64(j, tok, v);
	tok = json_obj_get(j, chan, "clients");
	*v = json_type(j, tok) == JSON_ARRAY ? json_size(j, tok) : 0;
	return 0;
}

int
nstat_add(struct nstat *s, const char *body, size_t len, const char *topic,
    const char *channel, char *err, size_t errlen)
{
	struct json j;
	int root, topics, t, chans, c, tok, i, k;
	int64_t v[8];

	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	root = 0;
	if (json_type(&j, 0) == JSON_OBJECT &&
	    json_obj_get(&j, 0, "topics") == -1 &&
	    (tok = json_obj_get(&j, 0, "data")) != -1 &&
	    json_type(&j, tok) == JSON_OBJECT)
		root = tok;
	if (json_type(&j, root) != JSON_OBJECT)
		goto fail;
	topics = json_obj_get(&j, root, "topics");
	if (topics == -1)
		goto fail;
	if (json_prim_kind(&j, topics) == 'n') {
		/* Go's nil slice: a topic filter that named no topic. */
		json_free(&j);
		return 0;
	}
	if (json_type(&j, topics) != JSON_ARRAY)
		goto fail;
	for (i = 0; i < json_size(&j, topics); i++) {
		t = json_arr_at(&j, topics, i);
		if (json_type(&j, t) != JSON_OBJECT ||
		    (tok = json_obj_get(&j, t, "topic_name")) == -1)
			goto fail;
		if (!json_tok_eq(&j, tok, topic))
			continue;
		chans = json_obj_get(&j, t, "channels");
		if (chans == -1 || json_prim_kind(&j, chans) == 'n')
			continue;
		if (json_type(&j, chans) != JSON_ARRAY)
			goto fail;
		for (k = 0; k < json_size(&j, chans); k++) {
			c = json_arr_at(&j, chans, k);
			if (json_type(&j, c) != JSON_OBJECT ||
			    (tok = json_obj_get(&j, c, "channel_name")) == -1)
				goto fail;
			if (!json_tok_eq(&j, tok, channel))
				continue;
			if (get_int(&j, c, "depth", &v[0]) == -1 ||
			    get_int(&j, c, "backend_depth", &v[1]) == -1 ||
			    get_int(&j, c, "in_flight_count", &v[2]) == -1 ||
			    get_int(&j, c, "deferred_count", &v[3]) == -1 ||
			    get_int(&j, c, "requeue_count", &v[4]) == -1 ||
			    get_int(&j, c, "timeout_count", &v[5]) == -1 ||
			    get_int(&j, c, "message_count", &v[6]) == -1)
				goto fail;
			if (get_clients(&j, c, &v[7]) == -1)
				goto fail;
			s->depth += v[0];
			s->backend_depth += v[1];
			s->in_flight += v[2];
			s->deferred += v[3];
			s->requeue += v[4];
			s->timeout += v[5];
			s->messages += v[6];
			s->clients += v[7];
			s->nodes++;
		}
	}
	json_free(&j);
	return 0;
fail:
	json_free(&j);
	return bad(err, errlen, body, len);
}

void
nstat_row(char *out, size_t len, const struct nstat *prev,
    const struct nstat *cur, double interval)
{
	char in[32], eg[32];

	if (prev == NULL) {
		snprintf(in, sizeof(in), "%7s", "-");
		snprintf(eg, sizeof(eg), "%7s", "-");
	} else {
		snprintf(in, sizeof(in), "%7lld", (long long)(
		    (double)(cur->messages - prev->messages) / interval));
		snprintf(eg, sizeof(eg), "%7lld", (long long)(
		    (double)(cur->messages - prev->messages -
		    (cur->depth - prev->depth)) / interval));
	}
	snprintf(out, len, "%s %s | %7lld %7lld %7lld %5lld %5lld | %7lld "
	    "%7lld %12lld %7lld", in, eg, (long long)cur->depth,
	    (long long)(cur->depth - cur->backend_depth),
	    (long long)cur->backend_depth, (long long)cur->in_flight,
	    (long long)cur->deferred, (long long)cur->requeue,
	    (long long)cur->timeout, (long long)cur->messages,
	    (long long)cur->clients);
}
