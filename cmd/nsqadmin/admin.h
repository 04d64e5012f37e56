/*
 * nsqadmin: the cluster's web page and JSON API (Go nsqadmin 1.3.0's
 * /api/...), plus a built-in history of rates and depths for graphs.
 *
 * Who owns what: struct admin (main.c) owns the loop's server, the HTTP
 * client and the history.  Each API request in progress is a struct op
 * with an arena: every string, array and stats struct of that request is
 * allocated in it and freed at once with the op, so the pointer-sharing
 * of Go's clusterinfo (an aggregate that is also a node's row) costs no
 * bookkeeping.  An op asks upstream through fan() (cluster.c), which
 * runs its requests in parallel and calls one continuation when all are
 * done; a continuation may reply and free the op, so fan() is always
 * the last thing a function does.
 */
#ifndef NSQADMIN_ADMIN_H
#define NSQADMIN_ADMIN_H

#include <sys/queue.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "options.h"

struct http_req;
struct http_server;
struct httpc;
struct jw;
struct json;
struct history;

/* Go's int64 + and -: wrapping, where C's would be undefined. */
static inline int64_t
wadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t
wsub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* Bump allocation, freed all at once. */
struct arena {
	struct ablk	*head;
};
void	*ar_alloc(struct arena *, size_t);
char	*ar_strdup(struct arena *, const char *);
char	*ar_strndup(struct arena *, const char *, size_t);
char	*ar_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ar_free(struct arena *);

/* A growable array of pointers; v == NULL is Go's nil slice (null). */
struct vec {
	void	**v;
	size_t	  n, cap;
};
void	vec_push(struct arena *, struct vec *, void *);
/* An empty but non-nil array ([] in JSON). */
void	vec_make(struct arena *, struct vec *);

/* Go's E2eProcessingLatencyAggregate. */
struct e2e_pct {
	double	quantile, value, min, max, average, count;
	bool	has_value;	/* a node's own row (keys "value" and more) */
};
struct e2e {
	int64_t		 count;
	struct vec	 pcts;		/* struct e2e_pct * */
	const char	*topic, *channel, *host;
};

/* Go's clusterinfo.ClientStats: strings, integers, booleans by table. */
enum { CS_NSTR = 12, CS_NINT = 9, CS_NBOOL = 6 };
struct client_stats {
	const char	*s[CS_NSTR];
	int64_t		 i[CS_NINT];
	bool		 b[CS_NBOOL];
	const char	*hostname;	/* == s[CS_HOSTNAME], for sorting */
};

struct channel_stats {
	const char	*node, *hostname, *topic_name, *channel_name;
	int64_t		 depth, memory_depth, backend_depth, in_flight_count,
			 deferred_count, requeue_count, timeout_count,
			 message_count, client_count;
	struct vec	 nodes;		/* struct channel_stats * */
	struct vec	 clients;	/* struct client_stats * */
	bool		 paused;
	struct e2e	*e2e;
};

struct topic_stats {
	const char	*node, *hostname, *topic_name;
	int64_t		 depth, memory_depth, backend_depth, message_count;
	struct vec	 nodes;		/* struct topic_stats * */
	struct vec	 channels;	/* struct channel_stats * */
	bool		 paused;
	struct e2e	*e2e;
};

/* Go's clusterinfo.Producer. */
struct ptopic {
	const char	*topic;
	bool		 tombstoned;
};
struct producer {
	struct vec	 remote_addresses;	/* char * */
	const char	*remote_address, *hostname, *broadcast_address,
			*version;
	int64_t		 tcp_port, http_port;
	struct vec	 topics;		/* struct ptopic * */
	bool		 out_of_date;
	int		 ver[3];	/* semver's numbers, 0.0.0 if bad */
	bool		 ver_pre;	/* a pre-release: lower */
};

/* stats.c: reading nsqd's /stats and Go's aggregation rules. */

/*
 * Parse nsqd's /stats JSON into its topics (struct topic_stats *),
 * every string in the arena; now_s is the wall clock for the clients'
 * "connected".  0, or -1 with err (Go would fail its Unmarshal).
 */
int	stats_parse(struct arena *, const char *body, size_t len,
	    int64_t now_s, struct vec *topics, char *err, size_t errlen);
/* Parse nsqlookupd's producer objects (/nodes, /lookup) into out. */
int	producers_parse(struct arena *, const char *body, size_t len,
	    struct vec *out, char *err, size_t errlen);
/* Go's TopicStats.Add and ChannelStats.Add, pointers shared as Go's. */
void	topic_stats_add(struct arena *, struct topic_stats *,
	    struct topic_stats *);
void	channel_stats_add(struct arena *, struct channel_stats *,
	    struct channel_stats *);
/* Sort by hostname, stably (as Go's sort.Sort on these short lists). */
void	sort_by_host(struct vec *, int kind);
enum { BY_TOPIC, BY_CHANNEL, BY_CLIENT, BY_PRODUCER };
/* broadcast_address:http_port (net.JoinHostPort), in the arena. */
const char *producer_http_addr(struct arena *, const struct producer *);
const char *producer_tcp_addr(struct arena *, const struct producer *);
/* Semver order: -1, 0, 1. */
int	producer_ver_cmp(const struct producer *, const struct producer *);

/* The JSON of Go's structs, member by member (no braces for _members). */
void	jw_topic_members(struct jw *, const struct topic_stats *);
void	jw_topic(struct jw *, const struct topic_stats *);
void	jw_channel_members(struct jw *, const struct channel_stats *);
void	jw_channel(struct jw *, const struct channel_stats *);
void	jw_producer(struct jw *, const struct producer *);
void	jw_strvec(struct jw *, const struct vec *);

/* The options, as Go's nsqadmin.Options. */
struct admin_opts {
	const char	*config;
	const char	*log_level;
	const char	*log_prefix;
	bool		 verbose;
	const char	*http_address;
	const char	*base_path;
	const char	*dev_static_dir;
	const char	*graphite_url;
	bool		 proxy_graphite;
	const char	*statsd_prefix;
	const char	*statsd_counter_format;
	const char	*statsd_gauge_format;
	int64_t		 statsd_interval;
	struct strlist	 lookupd;
	struct strlist	 nsqd;
	int64_t		 connect_timeout;
	int64_t		 request_timeout;
	bool		 tls_insecure;
	const char	*tls_ca;
	const char	*tls_cert;
	const char	*tls_key;
	const char	*allow_cidr;
	const char	*notify_url;
	const char	*acl_header;
	struct strlist	 admin_users;
	/* Beyond Go: the built-in history. */
	int64_t		 sample_interval;
	int64_t		 history;
	int64_t		 history_series;
	/* Beyond Go: the secret for nodes run with --http-auth-required. */
	const char	*auth_secret;
};

struct op;
LIST_HEAD(ops, op);

struct admin {
	struct admin_opts	*o;
	struct ev_loop		*loop;
	struct httpc		*hc;
	struct http_server	*srv;
	struct history		*hist;
	struct ops		 ops;		/* in progress */
	int			 notify_pending;
	/* "Authorization: Bearer <secret>" for nodes, or NULL. */
	char			*bearer_hdr;
	char			 hostname[256];
	/* --allow-config-from-cidr, parsed. */
	int			 cidr_family;
	unsigned char		 cidr_addr[16];
	int			 cidr_bits;
	ev_signal		 sigint, sigterm;
};

/* One API request (or one history sample) in progress. */
typedef void op_fn(struct op *);
struct op {
	LIST_ENTRY(op)		 entry;
	struct admin		*a;
	struct http_req		*req;		/* NULL: the history's */
	struct arena		 ar;
	struct vec		 msgs;		/* warnings for "message" */
	/* The cluster call's outcome (cluster.c). */
	struct vec		 errs;		/* char *: a partial error */
	const char		*fatal;		/* a whole failure, or NULL */
	/* What the request is about. */
	const char		*topic, *channel, *node, *action;
	const char		*uri;		/* an action's nsqd endpoint */
	int			 flag;
	struct vec		 producers;	/* struct producer * */
	struct vec		 topics;	/* struct topic_stats * */
	struct vec		 chmap_keys;	/* char *, insertion order */
	struct vec		 chmap;		/* struct channel_stats * */
	struct vec		 names;		/* char * */
	struct vec		 errs2;		/* composite calls' errors */
	op_fn			*k;		/* the continuation */
	void			*data;
};

/* cluster.c */
struct op *op_new(struct admin *, struct http_req *);
void	op_free(struct op *);
struct fan_res {
	const char	*url;
	long		 status;
	const char	*body;
	size_t		 len;
	const char	*err;		/* Go's words for what failed, or NULL */
};
typedef void fan_fn(struct op *, struct fan_res *, size_t n);
/* Run every request at once; k gets the results in urls' order. */
void	fan(struct op *, const char *method, char **urls, size_t n,
	    fan_fn *k);
/* Go's ErrList.Error(): the errors joined by newlines. */
const char *errs_join(struct op *, const struct vec *);

/*
 * Go's clusterinfo calls.  Each ends in op->k with op->fatal set (a
 * whole failure) or op->errs holding the partial errors.
 */
void	ci_lookupd_topics(struct op *, op_fn *);	/* -> names */
void	ci_nsqd_topics(struct op *, op_fn *);		/* -> names */
void	ci_producers(struct op *, op_fn *);		/* -> producers */
void	ci_topic_producers(struct op *, op_fn *);	/* -> producers */
void	ci_lookupd_topic_channels(struct op *, op_fn *);	/* -> names */
/* GetNSQDStats(op->producers, topic, channel, flag = include clients). */
void	ci_nsqd_stats(struct op *, const char *topic, const char *channel,
	    bool clients, op_fn *);
/* POST uri?qs to every nsqlookupd or every producer; errs only. */
void	ci_lookupd_post(struct op *, const char *uri, const char *qs,
	    op_fn *);
void	ci_producers_post(struct op *, const char *uri, const char *qs,
	    op_fn *);
/* GetNSQDProducers for the given addresses. */
void	ci_nsqd_producers(struct op *, char **addrs, size_t n, op_fn *);

/* api.c */
int	api_start(struct admin *, char *err, size_t errlen);
void	api_stop(struct admin *);
/* POST a notification of an admin action (Go's AdminAction). */
void	notify_action(struct op *, const char *action, const char *topic,
	    const char *channel, const char *node);

/* history.c */
int	history_start(struct admin *, char *err, size_t errlen);
void	history_stop(struct admin *);
/* GET /api/history and /api/history/stats. */
void	history_reply(struct admin *, struct http_req *);
void	history_reply_stats(struct admin *, struct http_req *);

#endif
