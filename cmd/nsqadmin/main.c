/*
 * nsqadmin: the cluster's web page and Go nsqadmin 1.3.0's JSON API,
 * answered from every nsqlookupd (or every nsqd) asked at once, with a
 * built-in history of rates and depths for the page's graphs.  Reads
 * its options (Go nsqadmin's flags, --config FILE), listens, and runs
 * the event loop until SIGINT/SIGTERM.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "http.h"
#include "httpc.h"
#include "log.h"
#include "net.h"
#include "nsq.h"
#include "options.h"
#include "xmalloc.h"
#include "../common/tool.h"

#define D_STATSD_PREFIX		"nsq.%s"
#define D_STATSD_COUNTER	"stats.counters.%s.count"
#define D_STATSD_GAUGE		"stats.gauges.%s"

static const char default_base[] = "/";

static struct admin_opts o = {
	.config = "",
	.log_level = "info",
	.log_prefix = "[nsqadmin] ",
	.http_address = "0.0.0.0:4171",
	.base_path = default_base,
	.dev_static_dir = "",
	.graphite_url = "",
	.statsd_prefix = D_STATSD_PREFIX,
	.statsd_counter_format = D_STATSD_COUNTER,
	.statsd_gauge_format = D_STATSD_GAUGE,
	.statsd_interval = 60 * NS_SEC,
	.connect_timeout = 2 * NS_SEC,
	.request_timeout = 5 * NS_SEC,
	.tls_ca = "",
	.tls_cert = "",
	.tls_key = "",
	.allow_cidr = "127.0.0.1/8",
	.notify_url = "",
	.auth_secret = "",
	.acl_header = "X-Forwarded-User",
	.sample_interval = 10 * NS_SEC,
	.history = 3600 * NS_SEC,
	.history_series = 1000,
};

static bool version;
/* The --base-path given, kept apart from its cleaned copy in o. */
static const char *base_path_given;

static const struct opt opts[] = {
	{ "acl-http-header", 0, OPT_STR, &o.acl_header, "HEADER",
	  "HTTP header to check for authenticated admin users", NULL, 0, 0 },
	{ "admin-user", 0, OPT_STRLIST, &o.admin_users, "USER",
	  "admin user (may be given multiple times; if given, only these "
	  "users may act)", "admin_users", 0, 0 },
	{ "allow-config-from-cidr", 0, OPT_STR, &o.allow_cidr, "CIDR",
	  "a CIDR from which to allow HTTP requests to the /config endpoint",
	  NULL, 0, 0 },
	{ "auth-secret", 0, OPT_STR, &o.auth_secret, "SECRET",
	  "sent as Authorization: Bearer <secret> with every HTTP request to "
	  "nsqd and nsqlookupd", NULL, 0, 0 },
	{ "base-path", 0, OPT_STR, &o.base_path, "PATH", "URL base path",
	  NULL, 0, 0 },
	{ "config", 'c', OPT_STR, &o.config, "FILE",
	  "read options from a config file", NULL, 0, 0 },
	{ "dev-static-dir", 0, OPT_STR, &o.dev_static_dir, "DIR",
	  "serve /static/ from this directory (development use only)", NULL,
	  0, 0 },
	{ "graphite-url", 0, OPT_STR, &o.graphite_url, "URL",
	  "refused: the built-in history (--sample-interval) replaces "
	  "graphite", NULL, 0, 0 },
	{ "history", 0, OPT_DURATION, &o.history, "DURATION",
	  "how far back the built-in history goes", NULL, 0, 0 },
	{ "history-series", 0, OPT_INT, &o.history_series, "N",
	  "most series the history keeps", NULL, 1, 1000000 },
	{ "http-address", 0, OPT_STR, &o.http_address, "ADDR",
	  "<addr>:<port> to listen on for HTTP clients", NULL, 0, 0 },
	{ "http-client-connect-timeout", 0, OPT_DURATION, &o.connect_timeout,
	  "DURATION", "timeout for HTTP connect", NULL, 0, 0 },
	{ "http-client-request-timeout", 0, OPT_DURATION, &o.request_timeout,
	  "DURATION", "timeout for HTTP request", NULL, 0, 0 },
	{ "http-client-tls-cert", 0, OPT_STR, &o.tls_cert, "FILE",
	  "path to certificate file for the HTTP client", NULL, 0, 0 },
	{ "http-client-tls-insecure-skip-verify", 0, OPT_BOOL,
	  &o.tls_insecure, NULL,
	  "configure the HTTP client to skip verification of TLS "
	  "certificates", NULL, 0, 0 },
	{ "http-client-tls-key", 0, OPT_STR, &o.tls_key, "FILE",
	  "path to key file for the HTTP client", NULL, 0, 0 },
	{ "http-client-tls-root-ca-file", 0, OPT_STR, &o.tls_ca, "FILE",
	  "path to CA file for the HTTP client", NULL, 0, 0 },
	{ "log-level", 'l', OPT_STR, &o.log_level, "LEVEL",
	  "debug, info, warn, error or fatal", NULL, 0, 0 },
	{ "log-prefix", 0, OPT_STR, &o.log_prefix, "PREFIX",
	  "log message prefix", NULL, 0, 0 },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "lookupd HTTP address (may be given multiple times)",
	  "nsqlookupd_http_addresses", 0, 0 },
	{ "notification-http-endpoint", 0, OPT_STR, &o.notify_url, "URL",
	  "HTTP endpoint (fully qualified) to which POST notifications of "
	  "admin actions will be sent", NULL, 0, 0 },
	{ "nsqd-http-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd HTTP address (may be given multiple times)",
	  "nsqd_http_addresses", 0, 0 },
	{ "proxy-graphite", 0, OPT_BOOL, &o.proxy_graphite, NULL,
	  "refused: there is no graphite to proxy", NULL, 0, 0 },
	{ "sample-interval", 0, OPT_DURATION, &o.sample_interval, "DURATION",
	  "how often the built-in history samples every nsqd", NULL,
	  NS_SEC, 3600 * NS_SEC },
	{ "statsd-counter-format", 0, OPT_STR, &o.statsd_counter_format,
	  "FORMAT", "graphite's counter keys (only the default: no graphite)",
	  NULL, 0, 0 },
	{ "statsd-gauge-format", 0, OPT_STR, &o.statsd_gauge_format,
	  "FORMAT", "graphite's gauge keys (only the default: no graphite)",
	  NULL, 0, 0 },
	{ "statsd-interval", 0, OPT_DURATION, &o.statsd_interval,
	  "DURATION", "nsqd's statsd interval (only the default: no "
	  "graphite)", NULL, 0, 0 },
	{ "statsd-prefix", 0, OPT_STR, &o.statsd_prefix, "PREFIX",
	  "graphite's key prefix (only the default: no graphite)", NULL, 0,
	  0 },
	{ "verbose", 0, OPT_BOOL, &o.verbose, NULL,
	  "[deprecated] has no effect, use --log-level", NULL, 0, 0 },
	{ "version", 'V', OPT_BOOL, &version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

static void
refuse(const char *why)
{
	fprintf(stderr, "nsqadmin: %s\n", why);
	exit(2);
}

/* Go's path.Clean of "/" + p. */
static char *
clean_path(const char *p)
{
	char *out = xmalloc(strlen(p) + 2), *seg, *dup, *save = NULL;
	size_t n = 0;

	dup = xstrdup(p);
	out[0] = '\0';
	for (seg = strtok_r(dup, "/", &save); seg != NULL;
	    seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
			out[n] = '\0';
			continue;
		}
		out[n++] = '/';
		strcpy(out + n, seg);
		n += strlen(seg);
	}
	free(dup);
	if (n == 0)
		strcpy(out, "/");
	return out;
}

static void
resolve_or_die(const char *flag, const char *addr)
{
	struct addrinfo hints, *res;
	char host[256], port[32];
	int rc, pn;

	if (net_split_hostport(addr, host, sizeof(host), &pn) == -1)
		fatalx("failed to instantiate nsqadmin - failed to resolve "
		    "%s (%s) - address %s: missing port in address", flag,
		    addr, addr);
	snprintf(port, sizeof(port), "%d", pn);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0)
		fatalx("failed to instantiate nsqadmin - failed to resolve "
		    "%s (%s) - lookup %s: %s", flag, addr, host,
		    gai_strerror(rc));
	freeaddrinfo(res);
}

static void
parse_cidr(struct admin *a, const char *cidr)
{
	char ip[64], *slash, *end;
	long bits;

	a->cidr_bits = -1;
	if (cidr[0] == '\0')
		return;
	if (strlen(cidr) >= sizeof(ip) || (slash = strchr(cidr, '/')) ==
	    NULL)
		goto bad;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	if (inet_pton(AF_INET, ip, a->cidr_addr) == 1)
		a->cidr_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a->cidr_addr) == 1)
		a->cidr_family = AF_INET6;
	else
		goto bad;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 || bits < 0 ||
	    bits > (a->cidr_family == AF_INET ? 32 : 128))
		goto bad;
	a->cidr_bits = (int)bits;
	return;
bad:
	fatalx("failed to instantiate nsqadmin - failed to parse "
	    "--allow-config-from-cidr (%s) - invalid CIDR address: %s", cidr,
	    cidr);
}

static void
check_file(const char *fmt, const char *path)
{
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		fatalx(fmt, path, strerror(errno));
	fclose(f);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	log_info("nsqadmin: exiting");
	ev_break(loop, EVBREAK_ALL);
}

int
main(int argc, char **argv)
{
	static struct admin a;
	char err[512];
	struct op *op;
	size_t i;
	int level;

	signal(SIGPIPE, SIG_IGN);
	log_init(o.log_prefix, LOG_LEVEL_INFO);
	tool_daemon_options("nsqadmin", opts, OPTS_LEN(opts), &version, argc,
	    argv);
	log_init(o.log_prefix, LOG_LEVEL_INFO);
	if ((level = log_parse_level(o.log_level)) == -1)
		fatalx("invalid log level %s", o.log_level);
	log_set_level(level);
	if (o.verbose)
		log_warnx("--verbose is deprecated and has no effect: use "
		    "--log-level");

	/* What Go has and this nsqadmin refuses, rather than ignores. */
	if (o.graphite_url[0] != '\0')
		refuse("--graphite-url is not supported: the page draws its "
		    "graphs from the built-in history (--sample-interval, "
		    "--history; GET /api/history)");
	if (o.proxy_graphite)
		refuse("--proxy-graphite is not supported: there is no "
		    "graphite (the built-in history replaces it)");
	if (strcmp(o.statsd_prefix, D_STATSD_PREFIX) != 0 ||
	    strcmp(o.statsd_counter_format, D_STATSD_COUNTER) != 0 ||
	    strcmp(o.statsd_gauge_format, D_STATSD_GAUGE) != 0 ||
	    o.statsd_interval != 60 * NS_SEC)
		refuse("--statsd-prefix, --statsd-counter-format, "
		    "--statsd-gauge-format and --statsd-interval name graphite "
		    "keys, and graphite is not supported: the built-in history "
		    "replaces it");
	if (o.history < o.sample_interval * 2)
		refuse("--history must be at least twice --sample-interval");

	/* Go's checks, in Go's order and words (nsqadmin.New). */
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		fatalx("failed to instantiate nsqadmin - --nsqd-http-address "
		    "or --lookupd-http-address required");
	if (o.nsqd.n != 0 && o.lookupd.n != 0)
		fatalx("failed to instantiate nsqadmin - use "
		    "--nsqd-http-address or --lookupd-http-address not both");
	if (o.tls_cert[0] != '\0' && o.tls_key[0] == '\0')
		fatalx("failed to instantiate nsqadmin - --http-client-tls-key "
		    "must be specified with --http-client-tls-cert");
	if (o.tls_key[0] != '\0' && o.tls_cert[0] == '\0')
		fatalx("failed to instantiate nsqadmin - "
		    "--http-client-tls-cert must be specified with "
		    "--http-client-tls-key");
	if (o.tls_cert[0] != '\0') {
		check_file("failed to instantiate nsqadmin - failed to "
		    "LoadX509KeyPair: open %s: %s", o.tls_cert);
		check_file("failed to instantiate nsqadmin - failed to "
		    "LoadX509KeyPair: open %s: %s", o.tls_key);
	}
	if (o.tls_ca[0] != '\0')
		check_file("failed to instantiate nsqadmin - failed to read "
		    "TLS root CA file %s - %s", o.tls_ca);
	for (i = 0; i < o.lookupd.n; i++)
		resolve_or_die("--lookupd-http-address", o.lookupd.v[i]);
	for (i = 0; i < o.nsqd.n; i++)
		resolve_or_die("--nsqd-http-address", o.nsqd.v[i]);
	parse_cidr(&a, o.allow_cidr);
	base_path_given = o.base_path;
	o.base_path = clean_path(base_path_given);

	a.o = &o;
	LIST_INIT(&a.ops);
	if (gethostname(a.hostname, sizeof(a.hostname) - 1) == -1)
		a.hostname[0] = '\0';
	a.loop = ev_default_loop(EVFLAG_AUTO);
	log_info("nsqadmin v%s (nsq in C %s)", NSQ_COMPAT_VERSION,
	    NSQ_VERSION);
	if ((a.hc = httpc_new(a.loop)) == NULL)
		fatalx("failed to instantiate nsqadmin - curl_multi_init "
		    "failed");
	httpc_set_connect_timeout(a.hc, o.connect_timeout / NS_MS);
	httpc_set_tls(a.hc, o.tls_ca, o.tls_cert, o.tls_key, o.tls_insecure);
	/*
	 * Only the nodes' requests carry it (cluster.c), not the
	 * notifications to --notification-http-endpoint.
	 */
	if (o.auth_secret[0] != '\0')
		a.bearer_hdr = xasprintf("Authorization: Bearer %s",
		    o.auth_secret);
	if (api_start(&a, err, sizeof(err)) == -1)
		fatalx("failed to instantiate nsqadmin - listen (%s) failed - "
		    "%s", o.http_address, err);
	if (history_start(&a, err, sizeof(err)) == -1)
		fatalx("failed to instantiate nsqadmin - %s", err);
	ev_signal_init(&a.sigint, signal_cb, SIGINT);
	ev_signal_start(a.loop, &a.sigint);
	ev_signal_init(&a.sigterm, signal_cb, SIGTERM);
	ev_signal_start(a.loop, &a.sigterm);

	ev_run(a.loop, 0);

	history_stop(&a);
	api_stop(&a);
	httpc_free(a.hc);
	free(a.bearer_hdr);
	/* Requests still waiting on upstream: answered, then freed. */
	while ((op = LIST_FIRST(&a.ops)) != NULL) {
		if (op->req != NULL)
			http_reply_error(op->req, 503, "EXITING");
		op_free(op);
	}
	ev_signal_stop(a.loop, &a.sigint);
	ev_signal_stop(a.loop, &a.sigterm);
	ev_loop_destroy(a.loop);
	free((char *)o.base_path);
	/* Given on the command line or in the file, it was copied. */
	if (base_path_given != default_base)
		free((char *)base_path_given);
	tool_options_done();
	return 0;
}
