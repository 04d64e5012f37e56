/*
 * nsqd's authorization, as Go nsqd 1.3.0's internal/auth: what an auth
 * server answers (auth_state, parsed and validated as QueryAuthd does),
 * whether it allows a publish or a subscription (IsAllowed), and the
 * query itself, asynchronous, over every --auth-http-address in turn
 * from a random one (QueryAnyAuthd) on lib/hclient.
 */
#ifndef NSQD_AUTH_H
#define NSQD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nsqd;
struct re;

/* One authorization: a topic pattern, channel patterns, permissions. */
struct auth_perm {
	struct re	 *topic;
	struct re	**channels;
	size_t		  nchannels;
	bool		  publish;
	bool		  subscribe;
};

/* An auth server's answer (Go's auth.State). */
struct auth_state {
	int64_t			 ttl;		/* s, > 0 */
	char			*identity;
	char			*identity_url;
	struct auth_perm	*perms;
	size_t			 nperms;
	double			 expires;	/* ev_now() + ttl, the
						   caller sets it */
};

/*
 * Decode and validate an auth server's JSON reply as Go does (field
 * names case-insensitive, types strict, permissions only subscribe or
 * publish, patterns that compile, ttl > 0).  NULL with Go's reason in err.
 */
struct auth_state *auth_state_parse(const char *body, size_t len, char *err,
	    size_t errlen);
void	 auth_state_free(struct auth_state *);
/*
 * Whether st allows topic (and channel: a subscription when clen > 0, a
 * publish when 0): some authorization with the permission whose topic
 * pattern matches somewhere in topic and some channel pattern somewhere
 * in channel ("" for a publish), as Go's regexp.MatchString.
 */
bool	 auth_state_allowed(const struct auth_state *, const char *topic,
	    size_t tlen, const char *channel, size_t clen);
/*
 * The same with the permission named: subscribe or publish, whatever
 * the channel (nsqd's HTTP API asks for a topic's subscribe with "").
 */
bool	 auth_state_allows(const struct auth_state *, bool subscribe,
	    const char *topic, size_t tlen, const char *channel, size_t clen);
/* Whether some authorization's topic pattern is exactly pattern. */
bool	 auth_state_has_topic(const struct auth_state *, const char *pattern);
/* AUTH's reply: {"identity":..,"identity_url":..,"permission_count":n}. */
char	*auth_reply_json(const struct auth_state *);

/*
 * The query of one client's secret.  cb gets the validated state (now
 * the callee's to free) or NULL and the reasons, joined as Go joins
 * them; it runs from the loop, never from inside auth_query_start.
 */
struct auth_query;
typedef void	auth_cb(void *arg, struct auth_state *, const char *err);

/* Build what the queries need (the https context); -1 logged. */
int	 auth_setup(struct nsqd *);
void	 auth_free(struct nsqd *);
/* Whether --auth-http-address was given. */
bool	 auth_enabled(const struct nsqd *);
/*
 * Check an --auth-http-address as the query will use it: -1 with err
 * when it makes no http(s) URL.
 */
int	 auth_check_address(const char *addr, char *err, size_t errlen);
/* The URL and, for POST, the JSON body for addr (caller frees both). */
void	 auth_request_parts(const char *addr, bool post, const char *secret,
	    const char *remote_ip, bool tls, const char *common_name,
	    char **url, char **body);
struct auth_query *auth_query_start(struct nsqd *, const char *secret,
	    const char *remote_ip, bool tls, const char *common_name,
	    auth_cb *, void *arg);
/* Stop a query whose callback has not run; NULL is accepted. */
void	 auth_query_cancel(struct auth_query *);

#endif
