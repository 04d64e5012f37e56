/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The layout of struct nsq_config, shared by the client modules (conn,
 * producer, consumer, lookup) and hidden from programs, which go through
 * nsq_config_set() in nsq.h.  Durations are nanoseconds.
 */
#ifndef NSQ_CONFIG_H
#define NSQ_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nsq.h"
#include "options.h"


struct nsq_config {
	int64_t		 dial_timeout;
	int64_t		 read_timeout;
	int64_t		 write_timeout;
	int64_t		 lookupd_poll_interval;
	double		 lookupd_poll_jitter;
	int64_t		 lookupd_poll_timeout;
	int64_t		 max_requeue_delay;
	int64_t		 default_requeue_delay;
	bool		 backoff_full_jitter;	/* backoff_strategy */
	int64_t		 max_backoff_duration;
	int64_t		 backoff_multiplier;
	int64_t		 max_attempts;
	int64_t		 low_rdy_idle_timeout;
	int64_t		 low_rdy_timeout;
	int64_t		 rdy_redistribute_interval;
	char		*client_id;
	char		*hostname;
	char		*user_agent;
	int64_t		 heartbeat_interval;	/* -1: none */
	int64_t		 sample_rate;
	int64_t		 deflate_level;
	int64_t		 output_buffer_size;
	int64_t		 output_buffer_timeout;	/* -1: none */
	int64_t		 max_in_flight;
	int64_t		 msg_timeout;
	char		*auth_secret;
	bool		 tls_v1;
	bool		 tls_insecure_skip_verify;
	char		*tls_root_ca_file;	/* "": the system's */
	char		*tls_cert;		/* client's, "": none */
	char		*tls_key;
	int		 tls_min_version;	/* TLS1_VERSION..., 0 */
	bool		 snappy;
	bool		 deflate;
	bool		 lookupd_authorization;	/* skip_lookupd_authorization */
	int64_t		 publish_window;
	int64_t		 max_frame_size;

	nsq_log_fn	*log;
	void		*log_arg;
	enum nsq_log_level log_min;
};

/* Checks across options, as go-nsq's Validate; 0 or -1 with err. */
int	nsq_config_check(const struct nsq_config *, char *err, size_t errlen);
/* A deep copy (strings duplicated); NULL when memory is short. */
struct nsq_config *nsq_config_dup(const struct nsq_config *);
/* Hand one line to the configured logger, if any wants this level. */
void	nsq_logf(const struct nsq_config *, enum nsq_log_level,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
