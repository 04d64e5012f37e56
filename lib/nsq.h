/*
 * Archive: libnsq.a, with every client module it needs (Makefile).
 *
 * The NSQ client library: publish to and consume from nsqd (TCP protocol
 * V2), discovering nsqd through nsqlookupd, on the caller's libev loop.
 *
 * Everything runs on the loop given at creation, from its callbacks; the
 * library starts no thread of its own (libcurl, which polls nsqlookupd,
 * may resolve a name on one), never blocks except for name resolution
 * of an nsqd address, never prints and never exits.  Failures come back
 * to the caller as return values with a reason in err[], as the status
 * and text of a publish callback, or through the log callback of struct
 * nsq_config.  Out of memory: nsq_producer_new and nsq_consumer_new
 * return NULL with "out of memory" in err; any other allocation that
 * fails (nsq_config_new, a buffer growing, a connection made on the
 * loop) has no caller to tell and calls abort(), printing nothing.  A
 * broken internal invariant (a bug, never bad input or a peer's bytes)
 * fails an assert(3), which prints the condition and aborts; -DNDEBUG
 * compiles those out.  tests/bats/lib.bats checks libnsq.a for calls
 * that would break this.
 *
 * Options use go-nsq's names and defaults (nsq_config_set), so the
 * "--consumer-opt key,value" and "--producer-opt key,value" flags of the
 * Go tools mean the same here.
 *
 * Objects are opaque.  None of the *_free functions may be called from a
 * callback of the object being freed, except its "stopped" callback:
 * break out of the loop, or stop it and free it when it says it stopped.
 */
#ifndef NSQ_NSQ_H
#define NSQ_NSQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <ev.h>

/*
 * Every declaration below is the shared library's interface: libnsq.so is
 * built with -fvisibility=hidden, so only what this header declares is
 * exported (tests/bats/install.bats checks nm -D against it).
 */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* The NSQ release whose protocol and tool flags this library follows. */
#define NSQ_COMPAT_VERSION	"1.3.0"
#define NSQ_MSG_ID_LEN		16

struct nsq_config;
struct nsq_producer;
struct nsq_consumer;
struct nsq_message;

/* The library's version ("0.1.0"), as in the default user agent. */
const char	*nsq_version(void);

/*
 * Options.
 */
enum nsq_log_level {
	NSQ_LOG_DEBUG,
	NSQ_LOG_INFO,
	NSQ_LOG_WARN,
	NSQ_LOG_ERROR,
};

/* One line of what happened (no newline); level as go-nsq would log it. */
typedef void	nsq_log_fn(enum nsq_log_level, const char *msg, void *arg);

/*
 * A configuration with go-nsq's defaults: client_id the short host name,
 * hostname the host name, user_agent "nsq-c/<version>", max_in_flight 1,
 * heartbeat 30s, dial 1s, read 60s, write 1s, lookupd poll 60s with 0.3
 * jitter, max_attempts 5, backoff 1s multiplier up to 2m, and so on.
 * Producers and consumers copy it: it may be freed or changed after.
 */
struct nsq_config *nsq_config_new(void);
void	nsq_config_free(struct nsq_config *);
/*
 * Set option key (go-nsq's name; '-' counts as '_') from text.  A NULL
 * value means "true", as a bare "--consumer-opt key" does.  Durations are
 * Go's ("250ms", "1m"), booleans Go's ("true", "1", "f").  -1 with the
 * reason in err: unknown option, bad value, out of range, or a feature
 * this library does not offer (local_addr).
 *
 * TLS, snappy, deflate and AUTH are negotiated in IDENTIFY as go-nsq
 * does: tls_v1 (and tls_root_ca_file, else the system's store;
 * tls_insecure_skip_verify; tls_cert with tls_key; tls_min_version:
 * ssl3.0, tls1.0 ... tls1.3, any case), snappy, deflate with
 * deflate_level, auth_secret (sent when nsqd says auth_required, and as
 * "Authorization: Bearer" to nsqlookupd unless skip_lookupd_authorization
 * is false, go-nsq's name).  The server's name is checked against the
 * host of the address.  Unlike go-nsq, tls_v1 with an nsqd that offers
 * no TLS fails the connection rather than going on in plain text.  A
 * connection that fails because nsqd needs TLS or AUTH says so:
 * "nsqd ADDR requires TLS: set tls_v1 (...)", "nsqd ADDR requires AUTH:
 * set auth_secret".
 *
 * Options beyond go-nsq: publish_window (commands a producer keeps
 * awaiting nsqd's reply on its connection, default 64) and
 * max_frame_size (largest frame accepted from nsqd, default 256 MiB).
 */
int	nsq_config_set(struct nsq_config *, const char *key,
	    const char *value, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* "key,value" or "key" (true), as the Go tools' -consumer-opt flag. */
int	nsq_config_set_opt(struct nsq_config *, const char *keyvalue,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Where log lines go (none by default). */
void	nsq_config_set_logger(struct nsq_config *c, nsq_log_fn *fn, void *arg,
	    enum nsq_log_level min);

/*
 * Producer: one nsqd.  Commands are queued, written in order and
 * pipelined: up to publish_window of them await their reply at once.
 * Each command's callback runs exactly once: status 0 when nsqd answered
 * OK, -1 with the text of nsqd's error frame ("E_BAD_TOPIC ...") or of
 * the connection failure.  A command fails when its connection breaks
 * before the reply, or when the connection attempt it waits for fails.
 * The producer connects on the first command and reconnects after a
 * failure when there is work again, waiting 1s, 2s, 4s ... up to
 * max_backoff_duration between attempts.  Bodies are copied.
 */
typedef void	nsq_pub_cb(struct nsq_producer *, int status, const char *err,
		    void *arg);

struct nsq_producer *nsq_producer_new(struct ev_loop *, const char *addr,
	    const struct nsq_config *, char *err, size_t errlen);
/*
 * PUB one message; -1 (err) if the producer is stopped, len is 0 or the
 * topic's name is not one nsqd takes.
 */
int	nsq_producer_pub(struct nsq_producer *p, const char *topic,
	    const void *body, size_t len, nsq_pub_cb *cb, void *arg,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/* MPUB n >= 1 messages (each non-empty) as one command: one callback. */
int	nsq_producer_mpub(struct nsq_producer *p, const char *topic,
	    const struct iovec *msgs, size_t n, nsq_pub_cb *cb, void *arg,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/* DPUB: delivered after defer_ms milliseconds. */
int	nsq_producer_dpub(struct nsq_producer *p, const char *topic,
	    int64_t defer_ms, const void *body, size_t len, nsq_pub_cb *cb,
	    void *arg, char *err, size_t errlen)
	    __attribute__((warn_unused_result));
/* Commands whose callback has not run yet. */
size_t	nsq_producer_pending(const struct nsq_producer *);
/* Bytes of those commands held in memory. */
size_t	nsq_producer_pending_bytes(const struct nsq_producer *);
const char *nsq_producer_addr(const struct nsq_producer *);
/*
 * Refuse new commands; once every pending one has had its callback, close
 * the connection and call stopped (from the loop, never from inside this
 * call).  The producer may be freed in stopped.
 */
void	nsq_producer_stop(struct nsq_producer *,
	    void (*stopped)(struct nsq_producer *, void *), void *arg);
/* Close at once; pending commands are dropped without their callback. */
void	nsq_producer_free(struct nsq_producer *);

/*
 * Consumer: one topic and channel, from nsqd addresses given directly or
 * found by polling nsqlookupd.  Every message goes to the message
 * callback; the program answers it then or later with exactly one of
 * nsq_msg_finish() or nsq_msg_requeue(), which also free it.  RDY counts
 * follow go-nsq: max_in_flight is split over the connections (at least 1
 * each; when there are more connections than max_in_flight, the RDY moves
 * every rdy_redistribute_interval), and a failure (requeue with backoff)
 * sets every connection to RDY 0 for backoff_multiplier * 2^level, then
 * tests with RDY 1 on one connection.  Messages delivered more than
 * max_attempts times are finished without the message callback and given
 * to the give-up callback instead.
 */
typedef void	nsq_msg_cb(struct nsq_consumer *, struct nsq_message *,
		    void *arg);

enum nsq_conn_event {
	NSQ_CONN_UP,		/* subscribed and ready for messages */
	NSQ_CONN_FAILED,	/* a connection attempt failed (err) */
	NSQ_CONN_DOWN,		/* an established connection closed (err) */
};
typedef void	nsq_conn_cb(struct nsq_consumer *, const char *addr,
		    enum nsq_conn_event, const char *err, void *arg);

struct nsq_consumer_stats {
	uint64_t	received;
	uint64_t	finished;
	uint64_t	requeued;
	uint64_t	given_up;	/* over max_attempts */
	size_t		connections;	/* subscribed connections */
};

/*
 * A consumer of topic/channel (names checked as nsqd does).  Nothing is
 * connected until nsq_consumer_connect_*().
 */
struct nsq_consumer *nsq_consumer_new(struct ev_loop *loop,
	    const char *topic, const char *channel,
	    const struct nsq_config *cfg, nsq_msg_cb *cb, void *arg,
	    char *err, size_t errlen);
/* Messages over max_attempts (read-only: the library finishes them). */
void	nsq_consumer_set_giveup_cb(struct nsq_consumer *, nsq_msg_cb *);
/* Connections coming up, failing and going down. */
void	nsq_consumer_set_conn_cb(struct nsq_consumer *, nsq_conn_cb *);
/*
 * Connect to one nsqd ("host:port"); when that connection closes it is
 * made again, after 1s, 2s, 4s ... up to lookupd_poll_interval.
 */
int	nsq_consumer_connect_nsqd(struct nsq_consumer *, const char *addr,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/*
 * Poll this nsqlookupd ("host:port" or an http:// URL) for the topic's
 * producers, at once and then every lookupd_poll_interval (the first
 * wait lengthened by up to lookupd_poll_jitter of it); connect to every
 * producer listed (broadcast_address:tcp_port) and close the connections
 * to the ones no nsqlookupd lists any more.
 */
int	nsq_consumer_connect_lookupd(struct nsq_consumer *, const char *addr,
	    char *err, size_t errlen) __attribute__((warn_unused_result));
/* A new max_in_flight, spread over the connections at once. */
void	nsq_consumer_set_max_in_flight(struct nsq_consumer *, int64_t);
void	nsq_consumer_stats(const struct nsq_consumer *,
	    struct nsq_consumer_stats *);
/*
 * go-nsq's IsStarved: some open connection holds unanswered messages
 * amounting to 85% or more of the RDY count last sent on it, so nsqd
 * will soon send it nothing more until messages are answered.  A
 * program that answers in batches (nsq-to-file) flushes when this holds.
 */
bool	nsq_consumer_is_starved(const struct nsq_consumer *);
const char *nsq_consumer_topic(const struct nsq_consumer *);
/*
 * Stop: no more polling or reconnecting; CLS on every connection, each
 * closed once nsqd answers CLOSE_WAIT and its messages are answered (or
 * after 30s).  Messages may still arrive until then.  stopped is called
 * from the loop once every connection is closed; the consumer may be
 * freed there.
 */
void	nsq_consumer_stop(struct nsq_consumer *,
	    void (*stopped)(struct nsq_consumer *, void *), void *arg);
/*
 * Close everything now.  Messages not yet answered stay valid: answering
 * them later only frees them.
 */
void	nsq_consumer_free(struct nsq_consumer *);

/*
 * Messages.  The ID is 16 characters and NUL-terminated; the body is
 * binary (len bytes) and followed by a NUL not counted in len.
 */
const char *nsq_msg_id(const struct nsq_message *);
int64_t	nsq_msg_timestamp(const struct nsq_message *);	/* ns, at publish */
uint16_t nsq_msg_attempts(const struct nsq_message *);
const void *nsq_msg_body(const struct nsq_message *, size_t *len);
const char *nsq_msg_topic(const struct nsq_message *);
/* The nsqd ("host:port") it came from. */
const char *nsq_msg_nsqd(const struct nsq_message *);
/*
 * FIN, and free the message.  -1 when its connection is gone (nsqd will
 * deliver it again after msg_timeout); the message is freed either way.
 */
int	nsq_msg_finish(struct nsq_message *);
/*
 * REQ after delay_ms (-1: default_requeue_delay * attempts, capped at
 * max_requeue_delay), and free the message.  With backoff, the consumer
 * backs off as go-nsq's Requeue does; without, as RequeueWithoutBackoff.
 */
int	nsq_msg_requeue(struct nsq_message *, int64_t delay_ms, bool backoff);
/* TOUCH: nsqd restarts its msg_timeout.  The message stays ours. */
int	nsq_msg_touch(struct nsq_message *);

/*
 * Discovery: ask nsqlookupd once which nsqd produce a topic (GET
 * /lookup?topic=T, as a consumer's polling does, within
 * lookupd_poll_timeout).  A query ends in exactly one callback, unless
 * nsq_lookup_free() cancels it first.
 */
struct nsq_lookup;
/*
 * status 0: the n producers ("broadcast_address:tcp_port", "[v6]:port"
 * for IPv6; sorted, no duplicates), valid only during the call.  -1 with
 * err: the connection failed, or nsqlookupd answered another status (its
 * message, e.g. "TOPIC_NOT_FOUND" for a topic no nsqd has), or a reply
 * that is no lookup answer.  Another query may be started from here.
 */
typedef void	nsq_lookup_cb(struct nsq_lookup *, int status,
		    char *const *addrs, size_t n, const char *err, void *arg);

struct nsq_lookup *nsq_lookup_new(struct ev_loop *,
	    const struct nsq_config *, char *err, size_t errlen);
/* Query nsqlookupd addr ("host:port" or an http:// URL) for topic. */
int	nsq_lookup_producers(struct nsq_lookup *, const char *addr,
	    const char *topic, nsq_lookup_cb *cb, void *arg, char *err,
	    size_t errlen) __attribute__((warn_unused_result));
/* Queries whose callback has not run yet. */
size_t	nsq_lookup_pending(const struct nsq_lookup *);
/* Cancel every query, without its callback; never from a callback. */
void	nsq_lookup_free(struct nsq_lookup *);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
