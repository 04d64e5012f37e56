/*
 * nsqlookupd's shared declarations: options, the registration database,
 * the TCP protocol V1 engine, and the daemon.  One libev loop runs
 * everything; there are no locks.
 *
 * Ownership: each TCP connection owns its peer (what its IDENTIFY said);
 * the registry's producers only point to peers, and a connection removes
 * its peer from every registration before the peer is freed, so no
 * producer ever outlives its peer.
 */
#ifndef NSQLOOKUPD_H
#define NSQLOOKUPD_H

#include <sys/queue.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <ev.h>

#include "buffer.h"
#include "hmap.h"
#include "nsq.h"		/* NSQ_COMPAT_VERSION */
#include "options.h"	/* NS_SEC */


struct lookupd_opts {
	const char	*config;
	const char	*log_level;
	const char	*log_prefix;
	bool		 verbose;
	const char	*tcp_address;
	const char	*http_address;
	const char	*broadcast_address;
	int64_t		 inactive_producer_timeout;	/* ns */
	int64_t		 tombstone_lifetime;		/* ns */
};

/*
 * registry.c: Go's RegistrationDB.  A registration is a (category, key,
 * subkey) triple: ("client", "", "") for every identified nsqd, ("topic",
 * T, "") and ("channel", T, C).  Each holds producers keyed by peer id.
 * Registrations may be empty (created over HTTP, or left by producers
 * that went away), as in Go.  Lookups take "*" as a wildcard for key and
 * subkey, as Go's FindRegistrations does.  Times are Unix nanoseconds
 * passed in by the caller; the registry has no clock.
 */

/* What an nsqd said in its IDENTIFY; owned by its connection. */
struct peer {
	char	*id;			/* the connection's remote address */
	char	*remote_address;	/* the same, as /lookup shows it */
	char	*hostname;
	char	*broadcast_address;
	int64_t	 tcp_port;
	int64_t	 http_port;
	char	*version;
	int64_t	 last_update;		/* last IDENTIFY or PING */
};

/* A peer in one registration, with that registration's tombstone. */
struct producer {
	struct peer	*peer;
	bool		 tombstoned;
	int64_t		 tombstoned_at;
};

struct registration {
	const char			*category;	/* point into name */
	const char			*key;
	const char			*subkey;
	struct hmap			 producers;	/* by peer id */
	TAILQ_ENTRY(registration)	 link;
	size_t				 namelen;
	char				 name[];	/* cat\0key\0subkey */
};
TAILQ_HEAD(reg_list, registration);

struct registry {
	struct hmap	by_name;	/* name -> registration */
	struct reg_list	list;		/* in creation order */
};

/* Search results: pointers into the registry, valid until it changes. */
struct regvec {
	struct registration	**v;
	size_t			  n, cap;
};
struct prodvec {
	struct producer		**v;
	size_t			  n, cap;
};

void	reg_init(struct registry *);
/* Free every registration and producer (not the peers). */
void	reg_free(struct registry *);
/* The registration with exactly these names, or NULL. */
struct registration *reg_get(struct registry *, const char *cat,
	    const char *key, const char *subkey);
/* Go's AddRegistration: the registration, created empty if need be. */
struct registration *reg_add(struct registry *, const char *cat,
	    const char *key, const char *subkey);
/* Go's RemoveRegistration: drop it with its producers. */
void	reg_remove(struct registry *, struct registration *);
/*
 * Go's AddProducer: add peer to the registration (created if need be)
 * unless a producer with its id is there already (which keeps its
 * tombstone).  True if it was added.
 */
bool	reg_add_producer(struct registry *, const char *cat, const char *key,
	    const char *subkey, struct peer *);
/*
 * Go's RemoveProducer: drop the peer's producer from r.  True if it was
 * there; *left (may be NULL) gets the number of producers that remain.
 * Only a producer that points to this very peer is dropped.
 */
bool	reg_remove_producer(struct registration *, const struct peer *,
	    size_t *left);
/* The peer's producer in r, or NULL. */
struct producer *reg_producer(struct registration *, const struct peer *);
/* Go's FindRegistrations: matches appended to out, in creation order. */
void	reg_find(struct registry *, const char *cat, const char *key,
	    const char *subkey, struct regvec *out);
/*
 * Go's FindProducers: producers of the matching registrations, one per
 * peer id (the first met), appended to out.
 */
void	reg_find_producers(struct registry *, const char *cat,
	    const char *key, const char *subkey, struct prodvec *out);
/* Go's LookupRegistrations: every registration holding the peer. */
void	reg_lookup_peer(struct registry *, const struct peer *,
	    struct regvec *out);
/* Tombstoned less than lifetime ago (Go's IsTombstoned). */
bool	reg_tombstoned(const struct producer *, int64_t now,
	    int64_t lifetime);
/*
 * Go's FilterByActive: heard from within inactive_timeout and not
 * tombstoned within lifetime (lifetime 0: tombstones do not count).
 */
bool	reg_active(const struct producer *, int64_t now,
	    int64_t inactive_timeout, int64_t lifetime);
void	regvec_free(struct regvec *);
void	prodvec_free(struct prodvec *);
/* Free a peer and its strings; it must be in no registration. */
void	peer_free(struct peer *);

/*
 * v1.c: TCP protocol V1, without sockets: bytes in, replies out.  The
 * connection code (tcp.c) and the fuzz and unit tests drive it.  Replies
 * are [int32 size][data], no frame type; every error is fatal.
 */
#define V1_MAX_LINE	4096		/* a command line, newline excluded */
#define V1_MAX_BODY	(5 * 1024 * 1024)	/* IDENTIFY body cap */
#define V1_OUT_HIGH	(64 * 1024)	/* stop parsing above this output */
/* The most input a session ever needs buffered. */
#define V1_MAX_INPUT	(4 + V1_MAX_LINE + 1 + 4 + V1_MAX_BODY)

/* What IDENTIFY answers. */
struct v1_conf {
	int		 tcp_port;
	int		 http_port;
	const char	*broadcast_address;
	const char	*hostname;
};

struct v1_session {
	struct registry		*reg;
	const struct v1_conf	*conf;
	char			 remote[64];	/* the peer id */
	struct peer		*peer;		/* after IDENTIFY */
	bool			 got_magic;
	bool			 done;		/* a fatal error was sent */
	struct buf		 out;		/* replies not yet sent */
};

#define V1_NEED_MORE	0	/* every whole command was handled */
#define V1_PAUSED	1	/* output above V1_OUT_HIGH: send it first */
#define V1_CLOSE	(-1)	/* send the output, then close */

void	v1_init(struct v1_session *, struct registry *,
	    const struct v1_conf *, const char *remote);
/*
 * Handle the magic and then whole commands at the front of in, consuming
 * them and appending replies to s->out.  Returns V1_NEED_MORE, V1_PAUSED
 * or V1_CLOSE (also for every call after a fatal error).  now: Unix ns.
 */
int	v1_input(struct v1_session *, struct buf *in, int64_t now);
/*
 * The client closed its side with in holding what is left: answers an
 * IDENTIFY whose body was cut short, as Go does.  Call it after
 * v1_input returned V1_NEED_MORE.
 */
void	v1_eof(struct v1_session *, const struct buf *in);
/*
 * The session is over: unregister the peer everywhere and free it (Go
 * does so when the connection closes).  s->out stays for the last
 * replies.  Idempotent.
 */
void	v1_end(struct v1_session *);
/* v1_end, and free the output buffer. */
void	v1_free(struct v1_session *);

/* The daemon (nsqlookupd.c, tcp.c, http.c). */
struct http_server;
struct client;
TAILQ_HEAD(client_list, client);

struct lookupd {
	struct ev_loop			*loop;
	const struct lookupd_opts	*o;
	struct registry			 reg;
	struct v1_conf			 conf;
	char				 hostname[256];
	int				 tcp_fd;
	ev_io				 tcp_w;
	ev_timer			 accept_pause;	/* after EMFILE */
	ev_prepare			 tick;		/* frees clients */
	ev_signal			 sigint;
	ev_signal			 sigterm;
	struct http_server		*http;
	struct client_list		 clients;
	struct client_list		 dead;		/* to free */
	bool				 exiting;
};

/* nsqlookupd.c */
int	lookupd_start(struct lookupd *, struct ev_loop *,
	    const struct lookupd_opts *);
void	lookupd_stop(struct lookupd *);
void	lookupd_free(struct lookupd *);
int64_t	lookupd_now(const struct lookupd *);

/* tcp.c */
void	client_accept(struct lookupd *, int fd);
void	client_close(struct client *, const char *why);
void	client_close_all(struct lookupd *, const char *why);
/* Free the clients that closed; only from the loop's tick or at exit. */
void	client_reap(struct lookupd *);

/* http.c */
struct http_server *lookupd_http_new(struct lookupd *, int fd);

#endif
