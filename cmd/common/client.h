/*
 * What the tools that speak to nsqd (nsq-pub, nsq-tail, nsq-to-file) and
 * to its HTTP side (nsq-stat too) share: the plain flags for TLS,
 * compression and AUTH beside go-nsq's --producer-opt/--consumer-opt
 * keys, the same in every tool, and the words that tell a user which of
 * them an nsqd wants.
 *
 *   --tls                       tls_v1,true
 *   --tls-ca-file FILE          tls_root_ca_file,FILE
 *   --tls-cert FILE             tls_cert,FILE
 *   --tls-key FILE              tls_key,FILE
 *   --tls-insecure-skip-verify  tls_insecure_skip_verify,true
 *   --tls-min-version VERSION   tls_min_version,VERSION
 *   --snappy                    snappy,true
 *   --deflate                   deflate,true
 *   --deflate-level N           deflate_level,N
 *   --auth-secret SECRET        auth_secret,SECRET
 *
 * The flags are applied after the -opt keys, so a flag given wins.
 */
#ifndef NSQ_CLIENT_H
#define NSQ_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "nsq.h"
#include "options.h"

struct nsq_config;

struct client_flags {
	bool		 tls;
	const char	*tls_ca_file;
	const char	*tls_cert;
	const char	*tls_key;
	bool		 tls_insecure_skip_verify;
	const char	*tls_min_version;
	bool		 snappy;
	bool		 deflate;
	int64_t		 deflate_level;
	const char	*auth_secret;
};

extern struct client_flags client_flags;

/* The flags of every tool: certificates, and the secret. */
#define CLIENT_HTTP_OPTS						\
	{ "auth-secret", 0, OPT_STR, &client_flags.auth_secret, "SECRET",\
	  "secret for nsqd's AUTH and HTTP Bearer authorization", NULL,	\
	  0, 0 },							\
	{ "tls-ca-file", 0, OPT_STR, &client_flags.tls_ca_file, "FILE",	\
	  "CA file to verify TLS and HTTPS peers (default: the "	\
	  "system's)", NULL, 0, 0 },					\
	{ "tls-cert", 0, OPT_STR, &client_flags.tls_cert, "FILE",	\
	  "client certificate for TLS and HTTPS (with --tls-key)", NULL,\
	  0, 0 },							\
	{ "tls-insecure-skip-verify", 0, OPT_BOOL,			\
	  &client_flags.tls_insecure_skip_verify, NULL,			\
	  "do not verify TLS and HTTPS peers", NULL, 0, 0 },		\
	{ "tls-key", 0, OPT_STR, &client_flags.tls_key, "FILE",		\
	  "client certificate key for TLS and HTTPS", NULL, 0, 0 }

/* The flags of the tools that speak TCP to nsqd. */
#define CLIENT_TCP_OPTS							\
	{ "deflate", 0, OPT_BOOL, &client_flags.deflate, NULL,		\
	  "ask nsqd for deflate compression", NULL, 0, 0 },		\
	{ "deflate-level", 0, OPT_INT, &client_flags.deflate_level, "N",\
	  "deflate compression level (1-9)", NULL, 1, 9 },		\
	{ "snappy", 0, OPT_BOOL, &client_flags.snappy, NULL,		\
	  "ask nsqd for snappy compression", NULL, 0, 0 },		\
	{ "tls", 0, OPT_BOOL, &client_flags.tls, NULL,			\
	  "ask nsqd for TLS", NULL, 0, 0 },				\
	{ "tls-min-version", 0, OPT_STR, &client_flags.tls_min_version,	\
	  "VERSION", "lowest TLS version: ssl3.0 tls1.0 tls1.1 tls1.2 "	\
	  "tls1.3", NULL, 0, 0 }

/*
 * Apply the -opt keys (each as go-nsq's ConfigFlag; optflag names the
 * flag, "consumer-opt", in the error), then the plain flags, then check
 * the whole.  A bad one prints Go's words and exits 2.  optflag NULL: no
 * keys (nsq-stat).
 */
void	client_config(struct nsq_config *, const struct strlist *opts,
	    const char *optflag);
/*
 * A message from the library, with "set tls_v1" and "set auth_secret"
 * told as this tool's flags ("use --tls (or --producer-opt
 * tls_v1,true)").  Static storage, valid until the next call.
 */
const char *client_hint(const char *msg);
/*
 * A consumer's conn event, kept in up (the addresses that ever came up):
 * true for NSQ_CONN_FAILED of an address that never came up, which the
 * tools given direct nsqd addresses treat as fatal, as Go's
 * ConnectToNSQDs does.
 */
bool	client_conn_never_up(struct strlist *up, const char *addr,
	    enum nsq_conn_event ev);

#endif
