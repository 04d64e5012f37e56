/*
 * Client options (struct nsq_config) by go-nsq's names, defaults and
 * bounds (config.go struct tags), set from text as go-nsq's ConfigFlag
 * does for the tools' --consumer-opt/--producer-opt, with its words for
 * errors ("invalid max_in_flight ! -1 < 0").  The one option go-nsq has
 * but this library cannot honour (local_addr) is refused rather than
 * silently ignored.  The TLS files are read when set, as go-nsq's
 * tlsConfig does, so a bad path fails at the flag, not at each connect.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "errbuf.h"
#include "config.h"
#include "options.h"
#include "text.h"
#include "tlsc.h"
#include "xmalloc.h"

#define MS	NS_MS
#define SEC	NS_SEC
#define MIN	(60 * SEC)

enum cfg_type {
	C_DUR,		/* int64_t ns */
	C_INT,		/* int64_t */
	C_FLOAT,	/* double */
	C_STR,		/* char * */
	C_BOOL,		/* bool */
	C_CAFILE,	/* char *, a PEM file of certificates */
	C_TLSVER,	/* tls_min_version */
	C_STRATEGY,	/* backoff_strategy */
	C_NONE,		/* a feature we lack: refused */
};

struct cfg_opt {
	const char	*name;
	enum cfg_type	 type;
	size_t		 off;
	int		 has_min, has_max;
	int64_t		 min, max;	/* C_DUR, C_INT */
	double		 fmin, fmax;	/* C_FLOAT */
};

#define F(f)	offsetof(struct nsq_config, f)
static const struct cfg_opt cfg_opts[] = {
	{ "auth_secret", C_STR, F(auth_secret), 0, 0, 0, 0, 0, 0 },
	{ "backoff_multiplier", C_DUR, F(backoff_multiplier), 1, 1, 0,
	  60 * MIN, 0, 0 },
	{ "backoff_strategy", C_STRATEGY, 0, 0, 0, 0, 0, 0, 0 },
	{ "client_id", C_STR, F(client_id), 0, 0, 0, 0, 0, 0 },
	{ "default_requeue_delay", C_DUR, F(default_requeue_delay), 1, 1, 0,
	  60 * MIN, 0, 0 },
	{ "deflate", C_BOOL, F(deflate), 0, 0, 0, 0, 0, 0 },
	{ "deflate_level", C_INT, F(deflate_level), 1, 1, 1, 9, 0, 0 },
	{ "dial_timeout", C_DUR, F(dial_timeout), 0, 0, 0, 0, 0, 0 },
	{ "heartbeat_interval", C_DUR, F(heartbeat_interval), 0, 0, 0, 0, 0,
	  0 },
	{ "hostname", C_STR, F(hostname), 0, 0, 0, 0, 0, 0 },
	{ "local_addr", C_NONE, 0, 0, 0, 0, 0, 0, 0 },
	{ "lookupd_poll_interval", C_DUR, F(lookupd_poll_interval), 1, 1,
	  10 * MS, 5 * MIN, 0, 0 },
	{ "lookupd_poll_jitter", C_FLOAT, F(lookupd_poll_jitter), 1, 1, 0, 0,
	  0, 1 },
	{ "lookupd_poll_timeout", C_DUR, F(lookupd_poll_timeout), 0, 0, 0, 0,
	  0, 0 },
	{ "low_rdy_idle_timeout", C_DUR, F(low_rdy_idle_timeout), 1, 1, SEC,
	  5 * MIN, 0, 0 },
	{ "low_rdy_timeout", C_DUR, F(low_rdy_timeout), 1, 1, SEC, 5 * MIN,
	  0, 0 },
	{ "max_attempts", C_INT, F(max_attempts), 1, 1, 0, 65535, 0, 0 },
	{ "max_backoff_duration", C_DUR, F(max_backoff_duration), 1, 1, 0,
	  60 * MIN, 0, 0 },
	{ "max_frame_size", C_INT, F(max_frame_size), 1, 1, 1024,
	  INT32_MAX, 0, 0 },
	{ "max_in_flight", C_INT, F(max_in_flight), 1, 0, 0, 0, 0, 0 },
	{ "max_requeue_delay", C_DUR, F(max_requeue_delay), 1, 1, 0, 60 * MIN,
	  0, 0 },
	{ "msg_timeout", C_DUR, F(msg_timeout), 1, 0, 0, 0, 0, 0 },
	{ "output_buffer_size", C_INT, F(output_buffer_size), 0, 0, 0, 0, 0,
	  0 },
	{ "output_buffer_timeout", C_DUR, F(output_buffer_timeout), 0, 0, 0,
	  0, 0, 0 },
	{ "publish_window", C_INT, F(publish_window), 1, 1, 1, 1000000, 0,
	  0 },
	{ "rdy_redistribute_interval", C_DUR, F(rdy_redistribute_interval), 1,
	  1, MS, 5 * SEC, 0, 0 },
	{ "read_timeout", C_DUR, F(read_timeout), 1, 1, 100 * MS, 5 * MIN, 0,
	  0 },
	{ "sample_rate", C_INT, F(sample_rate), 1, 1, 0, 99, 0, 0 },
	/* go-nsq's name; true (its default) sends the Bearer header. */
	{ "skip_lookupd_authorization", C_BOOL, F(lookupd_authorization), 0,
	  0, 0, 0, 0, 0 },
	{ "snappy", C_BOOL, F(snappy), 0, 0, 0, 0, 0, 0 },
	{ "tls_cert", C_STR, F(tls_cert), 0, 0, 0, 0, 0, 0 },
	{ "tls_insecure_skip_verify", C_BOOL, F(tls_insecure_skip_verify), 0,
	  0, 0, 0, 0, 0 },
	{ "tls_key", C_STR, F(tls_key), 0, 0, 0, 0, 0, 0 },
	{ "tls_min_version", C_TLSVER, 0, 0, 0, 0, 0, 0, 0 },
	{ "tls_root_ca_file", C_CAFILE, F(tls_root_ca_file), 0, 0, 0, 0, 0,
	  0 },
	{ "tls_v1", C_BOOL, F(tls_v1), 0, 0, 0, 0, 0, 0 },
	{ "user_agent", C_STR, F(user_agent), 0, 0, 0, 0, 0, 0 },
	{ "write_timeout", C_DUR, F(write_timeout), 1, 1, 100 * MS, 5 * MIN,
	  0, 0 },
};
#undef F

const char *
nsq_version(void)
{
#ifdef NSQ_VERSION
	return NSQ_VERSION;
#else
	return "0.0.0";
#endif
}

struct nsq_config *
nsq_config_new(void)
{
	struct nsq_config *c;
	char host[256] = "";
	size_t n;

	c = xcalloc(1, sizeof(*c));
	c->dial_timeout = SEC;
	c->read_timeout = 60 * SEC;
	c->write_timeout = SEC;
	c->lookupd_poll_interval = 60 * SEC;
	c->lookupd_poll_jitter = 0.3;
	c->lookupd_poll_timeout = 60 * SEC;
	c->max_requeue_delay = 15 * MIN;
	c->default_requeue_delay = 90 * SEC;
	c->max_backoff_duration = 2 * MIN;
	c->backoff_multiplier = SEC;
	c->max_attempts = 5;
	c->low_rdy_idle_timeout = 10 * SEC;
	c->low_rdy_timeout = 30 * SEC;
	c->rdy_redistribute_interval = 5 * SEC;
	if (gethostname(host, sizeof(host) - 1) == -1)
		host[0] = '\0';
	c->hostname = xstrdup(host);
	n = strcspn(host, ".");
	c->client_id = xstrndup(host, n);
	c->user_agent = xasprintf("nsq-c/%s", nsq_version());
	c->heartbeat_interval = 30 * SEC;
	c->deflate_level = 6;
	c->output_buffer_size = 16384;
	c->output_buffer_timeout = 250 * MS;
	c->max_in_flight = 1;
	c->auth_secret = xstrdup("");
	c->lookupd_authorization = true;
	c->tls_root_ca_file = xstrdup("");
	c->tls_cert = xstrdup("");
	c->tls_key = xstrdup("");
	c->publish_window = 64;
	c->max_frame_size = 256 * 1024 * 1024;
	c->log_min = NSQ_LOG_INFO;
	return c;
}

void
nsq_config_free(struct nsq_config *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	free(c->hostname);
	free(c->user_agent);
	free(c->auth_secret);
	free(c->tls_root_ca_file);
	free(c->tls_cert);
	free(c->tls_key);
	free(c);
}

struct nsq_config *
nsq_config_dup(const struct nsq_config *src)
{
	struct nsq_config *c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	*c = *src;
	c->client_id = strdup(src->client_id);
	c->hostname = strdup(src->hostname);
	c->user_agent = strdup(src->user_agent);
	c->auth_secret = strdup(src->auth_secret);
	c->tls_root_ca_file = strdup(src->tls_root_ca_file);
	c->tls_cert = strdup(src->tls_cert);
	c->tls_key = strdup(src->tls_key);
	if (c->client_id == NULL || c->hostname == NULL ||
	    c->user_agent == NULL || c->auth_secret == NULL ||
	    c->tls_root_ca_file == NULL || c->tls_cert == NULL ||
	    c->tls_key == NULL) {
		nsq_config_free(c);
		return NULL;
	}
	return c;
}

void
nsq_config_set_logger(struct nsq_config *c, nsq_log_fn *fn, void *arg,
    enum nsq_log_level min)
{
	c->log = fn;
	c->log_arg = arg;
	c->log_min = min;
}

void
nsq_logf(const struct nsq_config *c, enum nsq_log_level lvl,
    const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	if (c == NULL || c->log == NULL || lvl < c->log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->log(lvl, line, c->log_arg);
}


/*
 * go-nsq's tls_min_version words (ssl3.0, tls1.0, tls1.1, tls1.2), in any
 * case, and tls1.3, which OpenSSL also offers: the OpenSSL constant, or
 * -1.
 */
static int
tls_version_parse(const char *v)
{
	static const struct {
		const char	*name;
		int		 version;
	} vs[] = {
		{ "ssl3.0", SSL3_VERSION },
		{ "tls1.0", TLS1_VERSION },
		{ "tls1.1", TLS1_1_VERSION },
		{ "tls1.2", TLS1_2_VERSION },
		{ "tls1.3", TLS1_3_VERSION },
	};
	size_t i;

	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++)
		if (strcasecmp(v, vs[i].name) == 0)
			return vs[i].version;
	return -1;
}

/*
 * A CA file must open and hold at least one PEM certificate, as go-nsq's
 * AppendCertsFromPEM requires; its two messages.
 */
static int
ca_file_check(const char *path, char *err, size_t errlen)
{
	char why[128];
	BIO *b;
	X509 *x;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		why[0] = (char)tolower((unsigned char)why[0]);
		errbuf_set(err, errlen, "ERROR: failed to read custom "
		    "Certificate Authority file open %s: %s", path, why);
		ERR_clear_error();
		return -1;
	}
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (x == NULL) {
		errbuf_set(err, errlen, "ERROR: failed to append certificates "
		    "from Certificate Authority file");
		return -1;
	}
	X509_free(x);
	return 0;
}

/* A bound or value as Go's %v prints it for the option's type. */
static void
fmt_val(const struct cfg_opt *o, int64_t v, char *out, size_t len)
{
	if (o->type == C_DUR)
		format_duration(v, out, len);
	else
		snprintf(out, len, "%lld", (long long)v);
}

static int
set_int(struct nsq_config *c, const struct cfg_opt *o, const char *v,
    char *err, size_t errlen)
{
	int64_t x;
	char a[40], b[40], *q;

	if (o->type == C_DUR) {
		if (parse_duration(v, &x) == -1) {
			errbuf_set(err, errlen, "failed to coerce option %s (%s) - "
			    "time: invalid duration \"%s\"", o->name, v, v);
			return -1;
		}
	} else if (parse_int64(v, 0, &x) != 0) {
		q = text_goquote_str(v);
		errbuf_set(err, errlen, "failed to coerce option %s (%s) - "
		    "strconv.ParseInt: parsing %s: invalid syntax", o->name, v,
		    q);
		free(q);
		return -1;
	}
	if (o->has_min && x < o->min) {
		fmt_val(o, x, a, sizeof(a));
		fmt_val(o, o->min, b, sizeof(b));
		errbuf_set(err, errlen, "invalid %s ! %s < %s", o->name, a, b);
		return -1;
	}
	if (o->has_max && x > o->max) {
		fmt_val(o, x, a, sizeof(a));
		fmt_val(o, o->max, b, sizeof(b));
		errbuf_set(err, errlen, "invalid %s ! %s > %s", o->name, a, b);
		return -1;
	}
	*(int64_t *)(void *)((char *)c + o->off) = x;
	return 0;
}

int
nsq_config_set(struct nsq_config *c, const char *key0, const char *value,
    char *err, size_t errlen)
{
	const struct cfg_opt *o = NULL;
	char key[64], *end, *q;
	size_t i;
	int b;
	double d;

	snprintf(key, sizeof(key), "%s", key0);
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] == '-')
			key[i] = '_';
	for (i = 0; i < sizeof(cfg_opts) / sizeof(cfg_opts[0]); i++)
		if (strcmp(cfg_opts[i].name, key) == 0) {
			o = &cfg_opts[i];
			break;
		}
	if (o == NULL) {
		errbuf_set(err, errlen, "invalid option %s", key);
		return -1;
	}
	if (value == NULL)
		value = "true";
	switch (o->type) {
	case C_DUR:
	case C_INT:
		return set_int(c, o, value, err, errlen);
	case C_FLOAT:
		errno = 0;
		d = strtod(value, &end);
		if (*value == '\0' || *end != '\0' || errno != 0 || isnan(d)) {
			q = text_goquote_str(value);
			errbuf_set(err, errlen, "failed to coerce option %s (%s) - "
			    "strconv.ParseFloat: parsing %s: invalid syntax",
			    o->name, value, q);
			free(q);
			return -1;
		}
		if (o->has_min && d < o->fmin) {
			errbuf_set(err, errlen, "invalid %s ! %g < %g", o->name, d,
			    o->fmin);
			return -1;
		}
		if (o->has_max && d > o->fmax) {
			errbuf_set(err, errlen, "invalid %s ! %g > %g", o->name, d,
			    o->fmax);
			return -1;
		}
		*(double *)(void *)((char *)c + o->off) = d;
		return 0;
	case C_STR: {
		char **p = (char **)(void *)((char *)c + o->off);

		free(*p);
		*p = xstrdup(value);
		return 0;
	}
	case C_BOOL:
		if (parse_bool(value, &b) == -1) {
			q = text_goquote_str(value);
			errbuf_set(err, errlen, "failed to coerce option %s (%s) - "
			    "strconv.ParseBool: parsing %s: invalid syntax",
			    o->name, value, q);
			free(q);
			return -1;
		}
		*(bool *)(void *)((char *)c + o->off) = b != 0;
		return 0;
	case C_CAFILE: {
		char **p = (char **)(void *)((char *)c + o->off);

		if (ca_file_check(value, err, errlen) == -1)
			return -1;
		free(*p);
		*p = xstrdup(value);
		return 0;
	}
	case C_TLSVER:
		if ((b = tls_version_parse(value)) == -1) {
			errbuf_set(err, errlen,
			    "ERROR: %s is not a tls version", value);
			return -1;
		}
		c->tls_min_version = b;
		return 0;
	case C_STRATEGY:
		if (strcmp(value, "exponential") == 0)
			c->backoff_full_jitter = false;
		else if (strcmp(value, "full_jitter") == 0)
			c->backoff_full_jitter = true;
		else {
			errbuf_set(err, errlen, "failed to coerce option "
			    "backoff_strategy (%s) - invalid backoff strategy "
			    "'%s'", value, value);
			return -1;
		}
		return 0;
	case C_NONE:
		break;
	}
	errbuf_set(err, errlen, "%s is not supported by this client", o->name);
	return -1;
}

int
nsq_config_check(const struct nsq_config *c, char *err, size_t errlen)
{
	char a[40], b[40];

	if (c->heartbeat_interval > c->read_timeout) {
		format_duration(c->heartbeat_interval, a, sizeof(a));
		format_duration(c->read_timeout, b, sizeof(b));
		errbuf_set(err, errlen, "HeartbeatInterval %s must be less than "
		    "ReadTimeout %s", a, b);
		return -1;
	}
	/* go-nsq loads the pair once both are set; one alone does nothing. */
	if ((c->tls_cert[0] == '\0') != (c->tls_key[0] == '\0')) {
		errbuf_set(err, errlen, "tls_cert and tls_key must be set "
		    "together");
		return -1;
	}
	return tlsc_check(c, err, errlen);
}

int
nsq_config_set_opt(struct nsq_config *c, const char *kv, char *err,
    size_t errlen)
{
	const char *comma = strchr(kv, ',');
	char *key;
	int r;

	if (comma == NULL)
		return nsq_config_set(c, kv, NULL, err, errlen);
	key = xstrndup(kv, (size_t)(comma - kv));
	r = nsq_config_set(c, key, comma + 1, err, errlen);
	free(key);
	return r;
}
