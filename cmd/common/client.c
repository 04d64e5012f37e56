/*
 * The tools' TLS, compression and AUTH flags (see client.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "nsq.h"
#include "options.h"
#include "text.h"

struct client_flags client_flags = {
	.tls_ca_file = "",
	.tls_cert = "",
	.tls_key = "",
	.tls_min_version = "",
	.deflate_level = 6,
	.auth_secret = "",
};

static const char *hint_flag = "producer-opt";

static void
set_or_exit(struct nsq_config *cfg, const char *flag, const char *key,
    const char *value)
{
	char err[512], *q;

	if (nsq_config_set(cfg, key, value, err, sizeof(err)) == 0)
		return;
	q = text_goquote_str(value);
	fprintf(stderr, "invalid value %s for flag -%s: %s\n", q, flag, err);
	free(q);
	exit(2);
}

void
client_config(struct nsq_config *cfg, const struct strlist *opts,
    const char *optflag)
{
	struct client_flags *f = &client_flags;
	char err[512], n[32];
	size_t i;

	if (optflag != NULL)
		hint_flag = optflag;
	for (i = 0; opts != NULL && i < opts->n; i++)
		if (nsq_config_set_opt(cfg, opts->v[i], err,
		    sizeof(err)) == -1) {
			char *q = text_goquote_str(opts->v[i]);

			fprintf(stderr, "invalid value %s for flag -%s: %s\n",
			    q, optflag, err);
			free(q);
			exit(2);
		}
	if (f->tls)
		set_or_exit(cfg, "tls", "tls_v1", "true");
	if (f->tls_ca_file[0] != '\0')
		set_or_exit(cfg, "tls-ca-file", "tls_root_ca_file",
		    f->tls_ca_file);
	if (f->tls_cert[0] != '\0')
		set_or_exit(cfg, "tls-cert", "tls_cert", f->tls_cert);
	if (f->tls_key[0] != '\0')
		set_or_exit(cfg, "tls-key", "tls_key", f->tls_key);
	if (f->tls_insecure_skip_verify)
		set_or_exit(cfg, "tls-insecure-skip-verify",
		    "tls_insecure_skip_verify", "true");
	if (f->tls_min_version[0] != '\0')
		set_or_exit(cfg, "tls-min-version", "tls_min_version",
		    f->tls_min_version);
	if (f->snappy)
		set_or_exit(cfg, "snappy", "snappy", "true");
	if (f->deflate)
		set_or_exit(cfg, "deflate", "deflate", "true");
	if (f->deflate_level != 6) {
		snprintf(n, sizeof(n), "%lld", (long long)f->deflate_level);
		set_or_exit(cfg, "deflate-level", "deflate_level", n);
	}
	if (f->auth_secret[0] != '\0')
		set_or_exit(cfg, "auth-secret", "auth_secret", f->auth_secret);
	if (nsq_config_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
}

const char *
client_hint(const char *msg)
{
	static char out[1024];
	static const struct {
		const char	*lib, *flag, *opt;
	} h[] = {
		{ "requires TLS: set tls_v1", "--tls", "tls_v1,true" },
		{ "requires AUTH: set auth_secret", "--auth-secret",
		  "auth_secret,SECRET" },
	};
	const char *p;
	size_t i, n;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		if ((p = strstr(msg, h[i].lib)) == NULL)
			continue;
		n = (size_t)(strchr(h[i].lib, ':') - h[i].lib);
		snprintf(out, sizeof(out), "%.*s%.*s: use %s (or --%s %s)%s",
		    (int)(p - msg), msg, (int)n, h[i].lib, h[i].flag,
		    hint_flag, h[i].opt, p + strlen(h[i].lib));
		return out;
	}
	return msg;
}

bool
client_conn_never_up(struct strlist *up, const char *addr,
    enum nsq_conn_event ev)
{
	size_t i;

	for (i = 0; i < up->n; i++)
		if (strcmp(up->v[i], addr) == 0)
			return false;
	if (ev == NSQ_CONN_UP)
		strlist_add(up, addr);
	return ev == NSQ_CONN_FAILED;
}
