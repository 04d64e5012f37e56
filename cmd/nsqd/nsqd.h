/*
 * nsqd's shared declarations: options, the daemon, topics, channels,
 * messages and TCP clients.  One libev loop runs everything; there are no
 * locks.  Ownership: nsqd owns topics, a topic owns its channels, a channel
 * owns the copies of messages it holds (queued, deferred, in flight), and
 * each copy holds a reference on one body shared by every channel.
 * The broker reaches a client only through its ops (client.h); the V2
 * protocol engine is v2.h, the connection layer under it tcp.h.
 */
#ifndef NSQD_H
#define NSQD_H

#include <sys/queue.h>
#include <stdbool.h>
#include <stdint.h>
#include <ev.h>
#include <openssl/ssl.h>

#include "buffer.h"
#include "diskqueue.h"
#include "hmap.h"
#include "message.h"
#include "nsq.h"		/* NSQ_COMPAT_VERSION */
#include "options.h"
#include "pqueue.h"
#include "quantile.h"
#include "rand.h"
#include "syncer.h"

#define CLIENT_TIMEOUT_NS	(60 * NS_SEC)	/* Go's fixed ClientTimeout */

enum { TLS_NOT_REQUIRED, TLS_REQUIRED, TLS_REQUIRED_EXCEPT_HTTP };

struct nsqd_opts {
	const char	*config;
	const char	*log_level;
	const char	*log_prefix;
	bool		 verbose;
	bool		 version;
	int64_t		 node_id;
	const char	*tcp_address;
	const char	*http_address;
	const char	*https_address;
	const char	*broadcast_address;
	int64_t		 broadcast_tcp_port;
	int64_t		 broadcast_http_port;
	struct strlist	 lookupd_tcp_addresses;
	struct strlist	 auth_http_addresses;
	const char	*auth_http_request_method;
	bool		 http_auth_required;
	int64_t		 http_client_connect_timeout;
	int64_t		 http_client_request_timeout;
	const char	*topology_region;
	const char	*topology_zone;
	const char	*data_path;
	int64_t		 mem_queue_size;
	int64_t		 max_bytes_per_file;
	int64_t		 sync_every;
	int64_t		 sync_timeout;
	int64_t		 queue_scan_worker_pool_max;
	int64_t		 queue_scan_selection_count;
	int64_t		 msg_timeout;
	int64_t		 max_msg_timeout;
	int64_t		 max_msg_size;
	int64_t		 max_req_timeout;
	int64_t		 max_body_size;
	int64_t		 max_heartbeat_interval;
	int64_t		 max_rdy_count;
	int64_t		 max_output_buffer_size;
	int64_t		 max_output_buffer_timeout;
	int64_t		 min_output_buffer_timeout;
	int64_t		 output_buffer_timeout;
	int64_t		 max_channel_consumers;
	const char	*statsd_address;
	int64_t		 statsd_interval;
	bool		 statsd_mem_stats;
	const char	*statsd_prefix;
	int64_t		 statsd_udp_packet_size;
	bool		 statsd_exclude_ephemeral;
	int64_t		 lookupd_ping_interval;
	struct floatlist e2e_percentiles;
	int64_t		 e2e_window;
	const char	*tls_cert;
	const char	*tls_key;
	const char	*tls_client_auth_policy;
	const char	*tls_root_ca_file;
	const char	*tls_required;
	int		 tls_required_mode;	/* from tls_required */
	const char	*tls_min_version;
	bool		 deflate;
	int64_t		 max_deflate_level;
	bool		 snappy;
	/* The option table (main.c), for GET /config/:opt. */
	const struct opt *table;
	size_t		 ntable;
};

/* A published body, shared (reference-counted) by every channel's copy. */
struct nsq_body {
	uint32_t	refs;
	uint32_t	len;
	int64_t		ts;		/* publish time, Unix ns */
	char		id[MSG_ID_LEN];
	char		data[];
};


/*
 * A message read from a channel's disk queue and not yet finished: the
 * queue's committed position never passes the oldest of these, so a crash
 * brings them back (see channel.c).  They live in a ring in read order,
 * named by a sequence number: no allocation per message.
 */
struct track {
	struct dq_pos	 pos;
	bool		 done;
};

struct tracks {
	struct track	*v;		/* cap slots, a power of two */
	uint64_t	 head;		/* seq of the oldest */
	uint64_t	 tail;		/* seq the next one gets */
	size_t		 cap;
};

/*
 * One channel's copy of a message, made when it is delivered or deferred
 * (a queue holds bare bodies otherwise: see msgq.c).  A topic's queue
 * holds one for a deferred publish, the defer in pq.pri.
 */
struct cmsg {
	struct nsq_body		*b;
	struct cmsg		*next;		/* free-list link */
	TAILQ_ENTRY(cmsg)	 cl;		/* owner's in-flight list */
	union {
		/* Deferred: the heap node (in a topic's queue, the defer
		   in ns is kept in pq.pri). */
		struct pq_node	 pq;
		/* In flight: its place in its lane, by deadline. */
		struct {
			TAILQ_ENTRY(cmsg) fl;
			int64_t	 deadline;
		};
	};
	struct client		*owner;		/* while in flight */
	uint64_t		 tr;		/* read from disk, unfinished:
						   its track's seq + 1, or 0 */
	int64_t			 delivered_at;
	uint16_t		 attempts;
};
TAILQ_HEAD(cmsg_list, cmsg);

/*
 * A channel's in-flight copies that share one message timeout, oldest
 * deadline first (channel.c).
 */
struct lane {
	int64_t			 timeout;	/* ns */
	struct cmsg_list	 q;
	TAILQ_ENTRY(lane)	 link;
};
TAILQ_HEAD(lane_list, lane);

/* In-flight copies by ID (idtab.c). */
struct idtab {
	struct cmsg	**v;		/* mask + 1 slots, or NULL */
	size_t		  mask;
	size_t		  n;
	size_t		  found;	/* the slot idtab_get last found */
};

/* A FIFO ring of bodies and copies (msgq.c). */
struct msgq {
	uintptr_t	*v;		/* cap slots, a power of two */
	size_t		 head;		/* the oldest */
	size_t		 n;
	size_t		 cap;
};

struct channel {
	struct nsqd	*nsqd;
	struct topic	*topic;
	char		*name;
	size_t		 namelen;
	bool		 ephemeral;
	bool		 paused;
	struct msgq	 q;
	struct dq	*dq;		/* NULL when ephemeral */
	struct tracks	 tr;		/* disk reads not yet finished */
	unsigned	 uncommitted;	/* head moves not yet committed */
	bool		 sync_marked;	/* on nsqd's chan_sync list */
	bool		 fins_dirty;	/* finished set to rewrite */
	bool		 fins_on_disk;	/* its file exists */
	struct dq_pos	*skip;		/* finished before a crash */
	size_t		 nskip;
	size_t		 skip_i;
	TAILQ_ENTRY(channel) sync_link;
	struct idtab	 inflight;	/* id -> cmsg */
	struct lane_list lanes;		/* in flight, by deadline */
	ev_timer	 inflight_timer;
	struct pqueue	 deferred_pq;
	ev_timer	 deferred_timer;
	struct client	**clients;
	size_t		 nclients;
	size_t		 clients_cap;
	size_t		 rr;		/* round-robin cursor */
	uint64_t	 message_count;
	uint64_t	 requeue_count;
	uint64_t	 timeout_count;
	struct quantile	*e2e;		/* FIN latency; NULL if not asked */
};

struct topic {
	struct nsqd	*nsqd;
	char		*name;
	size_t		 namelen;
	bool		 ephemeral;
	bool		 paused;
	struct hmap	 chan_by_name;
	struct channel	**chans;
	size_t		 nchans;
	size_t		 chans_cap;
	struct msgq	 q;		/* held while no channel or paused */
	struct dq	*dq;		/* overflow of q; NULL when ephemeral */
	bool		 sync_marked;
	TAILQ_ENTRY(topic) sync_link;
	bool		 draining;	/* on nsqd's draining list */
	TAILQ_ENTRY(topic) drain_link;
	struct guid_gen	 guid;
	uint64_t	 message_count;
	uint64_t	 message_bytes;
};

enum client_state {
	CLIENT_INIT = 0,
	CLIENT_SUBSCRIBED = 3,
	CLIENT_CLOSING = 4,
};

struct client_ops;
struct auth_state;
struct auth_query;
struct http_gate;
struct http_route;

struct pub_count {
	char		*topic;
	uint64_t	 count;
};

/*
 * One TCP client.  The connection layer (tcp.c) owns the fd, the
 * watchers, the buffers and the TLS and compression layers; the V2
 * engine (v2.c) owns the protocol state from state on; the broker core
 * reads ch, rdy and the counters, and reaches the connection only
 * through ops (client.h).
 */
struct client {
	struct nsqd		*nsqd;
	const struct client_ops	*ops;		/* client.h */
	uint64_t		 id;
	int			 fd;
	ev_io			 rd;
	ev_io			 wr;
	ev_timer		 hb;
	ev_timer		 idle;
	struct buf		 in;		/* plain commands */
	struct buf		 out;		/* bytes for the wire */
	struct buf		 plain;		/* frames to compress */
	struct cz		*cz;		/* deflate or snappy, or NULL */
	bool			 cz_started;	/* rest of in is compressed */
	struct buf		 zin;		/* compressed, not inflated yet */
	int			 cz_pending;	/* after TLS: -1 none, or kind */
	int			 cz_pending_level;
	struct buf		 zbuf;		/* compressed, to encrypt */
	SSL			*ssl;		/* TLS over memory BIOs */
	/* Set by the engine, cleared by the connection: no command is
	   parsed meanwhile. */
	bool			 tls_handshaking;
	bool			 upgraded;	/* IDENTIFY changed the layers */
	bool			 compressing;	/* compression negotiated */
	enum client_state	 state;
	bool			 got_magic;
	bool			 eof;		/* the peer sent EOF */
	char			*last_words;	/* fatal error held behind
						   the OKs owed (durable);
						   "": close, no frame */
	bool			 dead;		/* connection closing */
	bool			 dirty;		/* output waiting for flush */
	bool			 blocked;	/* socket full: wr watcher on */
	char			 remote[64];
	char			*client_id;
	char			*hostname;
	char			*user_agent;
	int64_t			 heartbeat_ns;	/* 0: disabled */
	int64_t			 msg_timeout_ns;
	int64_t			 output_buffer_size;
	int64_t			 output_buffer_timeout_ns;
	int			 sample_rate;
	int			 pending_oks;	/* PUBs awaiting fsync */
	bool			 awaiting;	/* on nsqd's awaiting list */
	TAILQ_ENTRY(client)	 await_link;
	bool			 deflate;
	int			 deflate_level;
	bool			 snappy;
	bool			 tls;
	char			 tls_version[16];	/* /stats, as Go */
	char			 tls_cipher[48];
	struct channel		*ch;
	int64_t			 rdy;
	int64_t			 in_flight;
	uint64_t		 message_count;
	uint64_t		 finish_count;
	uint64_t		 requeue_count;
	int64_t			 connect_ts;
	struct pub_count	*pubs;
	size_t			 npubs;
	struct cmsg_list	 inflight;
	/* AUTH (auth.h): the last answer, and the query under way. */
	struct auth_state	*auth;
	char			*auth_secret;
	bool			 auth_wait;	/* query in flight: no
						   command is parsed */
	int			 auth_result;	/* for the command that
						   waited (v2.c) */
	struct auth_query	*authq;		/* the connection's */
	bool			 authed;	/* /stats: authorizations */
	char			*auth_identity;	/* /stats; NULL: none */
	char			*auth_identity_url;
	TAILQ_ENTRY(client)	 link;
	TAILQ_ENTRY(client)	 dirty_link;
};
TAILQ_HEAD(client_list, client);
TAILQ_HEAD(channel_list, channel);
TAILQ_HEAD(topic_list, topic);

struct nsqd {
	struct ev_loop		*loop;
	struct nsqd_opts	*o;
	struct hmap		 topics;	/* name -> topic */
	int			 tcp_fd;
	ev_io			 tcp_w;
	int			 tcp_port;
	ev_timer		 accept_pause;
	ev_prepare		 tick;		/* reap, then flush */
	ev_signal		 sigint;
	ev_signal		 sigterm;
	struct client_list	 clients;
	struct client_list	 dirty;		/* output to flush */
	struct client_list	 dead;		/* to free */
	struct client_list	 awaiting;	/* durable PUBs to answer */
	uint64_t		 next_client_id;
	int64_t			 start_time;	/* Unix s */
	bool			 exiting;
	const char		*data_path;	/* "." when not set */
	int			 lock_fd;
	bool			 durable;	/* group-committed fsync */
	bool			 meta_dirty;	/* nsqd.dat to rewrite */
	int64_t			 meta_retry;	/* not before (ns), after
						   a failed write */
	bool			 meta_busy;	/* a rewrite on the syncer */
	uint64_t		 meta_writes;	/* rewrites begun */
	int64_t			 meta_next;	/* not before (ns): paced by
						   the last serialization */
	ev_timer		 meta_wake;	/* a turn at meta_next */
	struct channel_list	 chan_sync;	/* queues written since */
	struct topic_list	 topic_sync;	/* the last sync */
	struct topic_list	 draining;	/* handing a backlog on */
	ev_timer		 sync_timer;
	ev_timer		 trim_timer;	/* heap back to the system */
	ev_timer		 trim_soon;	/* after a sweep of deletes */
	ev_idle			 busy;		/* keeps the loop turning */
	struct lookup_peer	**peers;	/* one per nsqlookupd */
	TAILQ_HEAD(precreate_list, precreate) precreates; /* lookupd queries */
	bool			 loading;	/* meta_load running */
	size_t			 npeers;
	char			 hostname[256];
	SSL_CTX			*ssl_ctx;	/* NULL without --tls-cert */
	SSL_CTX			*auth_ssl_ctx;	/* https auth servers */
	bool			 tls_required;	/* for TCP clients */
	char			 health[256];	/* "" when healthy */
	struct http_server	*http;		/* NULL: no --http-address */
	struct http_gate	*http_gate;	/* --http-auth-required */
	int			 http_port;	/* -1: unix socket or none */
	struct http_server	*https;		/* NULL: no cert/address */
	int			 https_port;	/* 0 if none, as Go's */
	struct statsd		*statsd;	/* NULL: no --statsd-address */
	struct syncer		*syncer;	/* fsyncs off the loop */
	struct bcheck		*bcheck;	/* broadcast address lookup */
};

/* nsqd.c */
int64_t	 nsqd_now(const struct nsqd *);
/* The state with nothing opened (no files, sockets or threads). */
void	 nsqd_init(struct nsqd *, struct ev_loop *, struct nsqd_opts *);
int	 nsqd_start(struct nsqd *, struct ev_loop *, struct nsqd_opts *);
void	 nsqd_stop(struct nsqd *);
void	 nsqd_free(struct nsqd *);
struct topic *nsqd_get_topic(struct nsqd *, const char *, size_t);
struct topic *nsqd_find_topic(struct nsqd *, const char *, size_t);
void	 nsqd_delete_topic(struct nsqd *, struct topic *);
void	 nsqd_mark_dirty(struct nsqd *, struct client *);
/* A topic was deleted: trim the heap once deletes pause for a while. */
void	 nsqd_trim_soon(struct nsqd *);
/* Open the disk queue of a topic or "topic:channel"; NULL on failure. */
struct dq *nsqd_open_dq(struct nsqd *, const char *name);
/* Append an encoded message to q; -1 (logged, health set) on failure. */
int	 nsqd_dq_put(struct nsqd *, struct dq *, const char *name,
	     const struct nsq_body *, uint16_t attempts);
/* The same for a message given by its parts (no body made for it). */
int	 nsqd_dq_write(struct nsqd *, struct dq *, const char *name,
	     int64_t ts, const char id[MSG_ID_LEN], const void *, size_t);
void	 nsqd_mark_sync_channel(struct nsqd *, struct channel *);
void	 nsqd_mark_sync_topic(struct nsqd *, struct topic *);
void	 nsqd_set_health(struct nsqd *, const char *err);
/* Sync every queue written since the last sync now; false if one failed. */
bool	 nsqd_sync(struct nsqd *);
/* Client waits for the next group commit to answer OK. */
void	 nsqd_await_sync(struct nsqd *, struct client *);
int	 nsqd_broadcast_tcp_port(const struct nsqd *);
int	 nsqd_broadcast_http_port(const struct nsqd *);

/* broadcast.c: warn once if --broadcast-address does not resolve. */
struct bcheck;
void	 broadcast_check_start(struct nsqd *, const char *name);
void	 broadcast_check_stop(struct nsqd *);

/* lookup_peer.c */
struct lookup_peer;
struct precreate;
void	 lookup_set_peers(struct nsqd *, const struct strlist *);
void	 lookup_free(struct nsqd *);
/* REGISTER (reg) or UNREGISTER a topic, or a channel when ch is set. */
void	 lookup_notify(struct nsqd *, const struct topic *,
	     const struct channel *, bool reg);
/* Ask lookupd for the channels of a new topic and create them. */
void	 lookup_precreate(struct nsqd *, const struct topic *);
void	 lookup_precreate_free(struct nsqd *);

/* tls.c */
int	 tls_setup(struct nsqd *);
void	 tls_free(struct nsqd *);
const char *tls_reason(SSL *, int ssl_error, char *, size_t);
/* What Go's /stats says of a client's TLS: version and cipher suite. */
void	 tls_describe(SSL *, struct client *);
void	 tls_peer_cn(SSL *, char *, size_t);

/* "OK", or "NOK - <error>" as Go's GetHealth. */
const char *nsqd_health(const struct nsqd *);
/* meta.c */
int	 meta_load(struct nsqd *);
int	 meta_save(struct nsqd *);
/* nsqd.dat rewritten on the syncer's thread, one rewrite at a time. */
void	 meta_save_async(struct nsqd *);

/* topic.c */
/* NULL when its disk queue cannot be opened. */
struct topic *topic_new(struct nsqd *, const char *, size_t);
void	 topic_free(struct topic *);
/* Free and remove every disk queue's files. */
void	 topic_delete(struct topic *);
/* The channel, created if need be; NULL if its disk queue failed. */
struct channel *topic_get_channel(struct topic *, const char *, size_t);
struct channel *topic_find_channel(struct topic *, const char *, size_t);
void	 topic_delete_channel(struct topic *, struct channel *);
struct nsq_body *topic_new_body(struct topic *, const void *, size_t);
/* 0, or -1 when a disk queue refused it (errno set; health updated). */
int	 topic_put(struct topic *, struct nsq_body *, int64_t defer_ns);
/* topic_put(t, topic_new_body(t, data, len), 0), made cheaper. */
int	 topic_publish(struct topic *, const void *, size_t);
/* At exit: memory to disk, close the queues. */
void	 topic_close(struct topic *);
void	 topic_pause(struct topic *, bool);
/* Hand up to DRAIN_BATCH held messages to the channels. */
void	 topic_drain(struct topic *);
bool	 topic_can_drain(const struct topic *);
#define DRAIN_BATCH	4096
/* Drop every held message, in memory and on disk; -1 if the disk failed. */
int	 topic_empty(struct topic *);
/* Close every client of every channel (before a delete), as Go does. */
void	 topic_close_clients(struct topic *);

/* channel.c */
struct channel *channel_new(struct topic *, const char *, size_t);
void	 channel_free(struct channel *);
/* Free and remove the disk queue's files. */
void	 channel_delete(struct channel *);
/*
 * Before the queue's sync: commit it up to the oldest unfinished read,
 * and persist the finished-out-of-order set.
 */
int	 channel_save_fins(struct channel *);
/*
 * Queue a new message's body (counts it; takes its own reference if it
 * keeps it).  0, or -1 when the disk queue refused it.
 */
int	 channel_put(struct channel *, struct nsq_body *, int64_t defer_ns);
/* Whether channel_put would write to the disk queue now. */
bool	 channel_to_disk(const struct channel *);
/* channel_put of a new message known to go to disk, from its parts. */
int	 channel_put_record(struct channel *, int64_t ts,
	     const char id[MSG_ID_LEN], const void *, size_t);
/* At exit: queued, in-flight and deferred messages to disk; close. */
void	 channel_close(struct channel *);
void	 channel_pump(struct channel *);
int	 channel_add_client(struct channel *, struct client *);
void	 channel_remove_client(struct channel *, struct client *);
/* 0, or -1 with *why set to Go's error text. */
int	 channel_fin(struct channel *, struct client *, const char *id,
	     const char **why);
int	 channel_req(struct channel *, struct client *, const char *id,
	     int64_t delay_ns, const char **why);
int	 channel_touch(struct channel *, struct client *, const char *id,
	     const char **why);
void	 channel_pause(struct channel *, bool);
/*
 * Drop every message: queued, deferred, in flight (a later FIN of one
 * fails) and on disk; -1 if the disk queue could not be emptied.
 */
int	 channel_empty(struct channel *);
/* Close the connection of every client (before a delete). */
void	 channel_close_clients(struct channel *);

/* idtab.c: add, find (NULL if none), remove (that copy), free. */
void	 idtab_put(struct idtab *, struct cmsg *);
/* Found copies are remembered: an idtab_del of it next skips the probe. */
struct cmsg *idtab_get(struct idtab *, const char *id);
void	 idtab_del(struct idtab *, struct cmsg *);
void	 idtab_free(struct idtab *);

/* msgq.c */
/* A body of len bytes, refs and fields unset (a free list's, or new). */
struct nsq_body *body_alloc(size_t len);
/* Drop a reference; the last one frees the body. */
void	 body_unref(struct nsq_body *);
/*
 * A body from a disk queue record (at least a header long), with no
 * reference yet; the record's attempts in *attempts.
 */
struct nsq_body *body_from_record(const void *, size_t, uint16_t *attempts);
/* A copy of b (takes a reference on it), from a free list. */
struct cmsg *cmsg_new(struct nsq_body *);
void	 cmsg_free(struct cmsg *);
/* Free the copies and bodies kept for reuse (exit, trim). */
void	 msg_pools_free(void);
/* Queue a bare body (takes a reference) or a whole copy. */
void	 msgq_push_body(struct msgq *, struct nsq_body *);
void	 msgq_push(struct msgq *, struct cmsg *);
/*
 * Take the oldest entry: sets *b (a bare body, with the queue's
 * reference) or *m, the other NULL; false when empty.
 */
bool	 msgq_shift(struct msgq *, struct nsq_body **b, struct cmsg **m);
/* The oldest as a copy (a bare body gets one), or NULL when empty. */
struct cmsg *msgq_pop(struct msgq *);
/* Drop every entry and the ring. */
void	 msgq_clear(struct msgq *);

/* http.c: the HTTP API on --http-address, and over TLS on --https-address. */
int	 http_start(struct nsqd *);
int	 https_start(struct nsqd *);
/* Stop accepting (exit); http_free closes what is left. */
void	 http_stop(struct nsqd *);
void	 http_free(struct nsqd *);
/*
 * http_auth.c: --http-auth-required.  *out: routes (freed by the caller
 * once the server has them) whose handlers but /ping's check the bearer
 * secret first.
 */
int	 http_auth_routes(struct nsqd *, const struct http_route *,
	    size_t, struct http_route **);
void	 http_auth_free(struct nsqd *);

/* stats.c: what /stats, /metrics and statsd report. */
struct nsqd_mem {
	uint64_t	heap_objects;
	uint64_t	heap_idle_bytes;
	uint64_t	heap_in_use_bytes;
	uint64_t	heap_released_bytes;
	uint64_t	gc_pause_usec_100;
	uint64_t	gc_pause_usec_99;
	uint64_t	gc_pause_usec_95;
	uint64_t	next_gc_bytes;
	uint64_t	gc_total_runs;
};
/* Topics sorted by name (caller frees the array), or NULL when none. */
struct topic **stats_topics(struct nsqd *, size_t *np);
/* A topic's channels sorted by name (caller frees), or NULL. */
struct channel **stats_channels(struct topic *, size_t *np);
int64_t	 topic_depth(const struct topic *);
int64_t	 topic_backend_depth(const struct topic *);
int64_t	 channel_depth(const struct channel *);
int64_t	 channel_backend_depth(const struct channel *);
/*
 * A topic's e2e latency: its channels' merged (caller frees); NULL when
 * not configured or no channel, as Go.
 */
struct quantile *stats_topic_e2e(struct topic *);
void	 stats_mem(struct nsqd *, struct nsqd_mem *);
/*
 * /stats as JSON or text into b.  topic and channel filter ("" for all),
 * as Go's GetStats.  b's sticky error says when it did not fit; stats_json
 * also returns -1 when the JSON writer refused a value.
 */
int	 stats_json(struct nsqd *, struct buf *, const char *topic,
	     const char *channel, bool clients, bool mem);
void	 stats_text(struct nsqd *, struct buf *, const char *topic,
	     const char *channel, bool clients, bool mem);
/* metrics.c: GET /metrics, Prometheus text format 0.0.4, into b. */
void	 metrics_write(struct nsqd *, struct buf *);

/* statsd.c: push to --statsd-address every --statsd-interval. */
int	 statsd_start(struct nsqd *);
void	 statsd_stop(struct nsqd *);

#endif
