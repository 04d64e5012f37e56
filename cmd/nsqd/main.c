/*
 * nsqd: the NSQ broker.  Reads its options (Go nsqd's flags, --config
 * FILE), starts listening, and runs the event loop until SIGINT/SIGTERM.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "auth.h"
#include "log.h"
#include "nsqd.h"
#include "options.h"
#include "xmalloc.h"
#include "../common/tool.h"

#define MS	NS_MS
#define SEC	NS_SEC
#define MB	(1024 * 1024)

static struct nsqd_opts o = {
	.log_level = "info",
	.log_prefix = "[nsqd] ",
	.node_id = -1,
	.tcp_address = "0.0.0.0:4150",
	.http_address = "0.0.0.0:4151",
	.https_address = "0.0.0.0:4152",
	.broadcast_address = "",
	.auth_http_request_method = "get",
	.http_client_connect_timeout = 2 * SEC,
	.http_client_request_timeout = 5 * SEC,
	.topology_region = "",
	.topology_zone = "",
	.data_path = "",
	.mem_queue_size = 10000,
	.max_bytes_per_file = 100 * MB,
	.sync_every = 2500,
	.sync_timeout = 2 * SEC,
	.queue_scan_worker_pool_max = 4,
	.queue_scan_selection_count = 20,
	.msg_timeout = 60 * SEC,
	.max_msg_timeout = 15 * 60 * SEC,
	.max_msg_size = 1 * MB,
	.max_req_timeout = 60 * 60 * SEC,
	.max_body_size = 5 * MB,
	.max_heartbeat_interval = 60 * SEC,
	.max_rdy_count = 2500,
	.max_output_buffer_size = 64 * 1024,
	.max_output_buffer_timeout = 30 * SEC,
	.min_output_buffer_timeout = 25 * MS,
	.output_buffer_timeout = 250 * MS,
	.lookupd_ping_interval = 15 * SEC,
	.statsd_address = "",
	.statsd_interval = 60 * SEC,
	.statsd_mem_stats = true,
	.statsd_prefix = "nsq.%s",
	.statsd_udp_packet_size = 508,
	.e2e_window = 10 * 60 * SEC,
	.tls_cert = "",
	.tls_key = "",
	.tls_client_auth_policy = "",
	.tls_root_ca_file = "",
	.tls_required = "false",
	.tls_min_version = "tls1.0",
	.deflate = true,
	.max_deflate_level = 6,
	.snappy = true,
};

static bool help_version;
/* Go 1.3.0 still takes --worker-id, as a boolean with no effect. */
static bool deprecated_worker_id;

#define D(n)	OPT_DURATION, &o.n
#define I(n)	OPT_INT, &o.n
#define S(n)	OPT_STR, &o.n
#define B(n)	OPT_BOOL, &o.n
static const struct opt opts[] = {
	{ "auth-http-address", 0, OPT_STRLIST, &o.auth_http_addresses, "ADDR",
	  "<addr>:<port> or a full URL of an auth server (repeatable)",
	  "auth_http_addresses", 0, 0 },
	{ "auth-http-request-method", 0, S(auth_http_request_method), "METHOD",
	  "HTTP method for the auth server: get or post", NULL, 0, 0 },
	{ "broadcast-address", 0, S(broadcast_address), "ADDR",
	  "address announced to nsqlookupd (default: the host name)",
	  NULL, 0, 0 },
	{ "broadcast-http-port", 0, I(broadcast_http_port), "PORT",
	  "HTTP port announced to nsqlookupd (0: the one listened on)",
	  NULL, 0, 65535 },
	{ "broadcast-tcp-port", 0, I(broadcast_tcp_port), "PORT",
	  "TCP port announced to nsqlookupd (0: the one listened on)",
	  NULL, 0, 65535 },
	{ "config", 'c', S(config), "FILE", "read options from a config file",
	  NULL, 0, 0 },
	{ "data-path", 'd', S(data_path), "DIR",
	  "directory for disk queues and metadata (default: current)",
	  NULL, 0, 0 },
	{ "deflate", 0, B(deflate), NULL,
	  "let clients negotiate deflate compression", NULL, 0, 0 },
	{ "e2e-processing-latency-percentile", 0, OPT_FLOATLIST,
	  &o.e2e_percentiles, "Q",
	  "message processing time percentile to track, in (0, 1] "
	  "(repeatable, or comma-separated)",
	  "e2e_processing_latency_percentiles", 0, 0 },
	{ "e2e-processing-latency-window-time", 0,
	  D(e2e_window), "DURATION",
	  "window over which the percentiles are computed", NULL, 0, 0 },
	{ "http-address", 0, S(http_address), "ADDR",
	  "<addr>:<port> to listen on for HTTP clients (\"\" disables)",
	  NULL, 0, 0 },
	{ "http-auth-required", 0, B(http_auth_required), NULL,
	  "every HTTP request but /ping needs Authorization: Bearer <secret>, "
	  "checked against the auth servers", NULL, 0, 0 },
	{ "http-client-connect-timeout", 0, D(http_client_connect_timeout),
	  "DURATION", "timeout for HTTP connects", NULL, 0, 0 },
	{ "http-client-request-timeout", 0, D(http_client_request_timeout),
	  "DURATION", "timeout for HTTP requests", NULL, 0, 0 },
	{ "https-address", 0, S(https_address), "ADDR",
	  "<addr>:<port> to listen on for HTTPS clients",
	  NULL, 0, 0 },
	{ "log-level", 'l', S(log_level), "LEVEL",
	  "debug, info, warn, error or fatal", NULL, 0, 0 },
	{ "log-prefix", 0, S(log_prefix), "PREFIX", "log message prefix",
	  NULL, 0, 0 },
	{ "lookupd-ping-interval", 0, D(lookupd_ping_interval), "DURATION",
	  "time between PINGs to nsqlookupd, and the longest reconnect "
	  "backoff (not in Go nsqd, which uses 15s)", NULL, 100 * MS,
	  3600 * SEC },
	{ "lookupd-tcp-address", 0, OPT_STRLIST, &o.lookupd_tcp_addresses,
	  "ADDR", "nsqlookupd TCP address (repeatable)",
	  "nsqlookupd_tcp_addresses", 0, 0 },
	{ "max-body-size", 0, I(max_body_size), "BYTES",
	  "largest body of MPUB, IDENTIFY and AUTH", NULL, 1, INT32_MAX },
	{ "max-bytes-per-file", 0, I(max_bytes_per_file), "BYTES",
	  "bytes per disk queue file before rolling", NULL, 1, INT64_MAX },
	{ "max-channel-consumers", 0, I(max_channel_consumers), "N",
	  "most consumers of one channel (0: unlimited)", NULL, 0,
	  INT32_MAX },
	{ "max-deflate-level", 0, I(max_deflate_level), "N",
	  "highest deflate level a client may ask for (1-9)", NULL, 0, 0 },
	{ "max-heartbeat-interval", 0, D(max_heartbeat_interval), "DURATION",
	  "longest heartbeat interval a client may ask for", NULL, 0, 0 },
	{ "max-msg-size", 0, I(max_msg_size), "BYTES",
	  "largest message body", NULL, 1, INT32_MAX },
	{ "max-msg-timeout", 0, D(max_msg_timeout), "DURATION",
	  "longest msg_timeout a client may ask for", NULL, 0, 0 },
	{ "max-output-buffer-size", 0, I(max_output_buffer_size), "BYTES",
	  "largest output buffer a client may ask for", NULL, 64, INT32_MAX },
	{ "max-output-buffer-timeout", 0, D(max_output_buffer_timeout),
	  "DURATION", "longest output buffer timeout a client may ask for",
	  NULL, 0, 0 },
	{ "max-rdy-count", 0, I(max_rdy_count), "N",
	  "largest RDY count a client may send", NULL, 0, INT32_MAX },
	{ "max-req-timeout", 0, D(max_req_timeout), "DURATION",
	  "longest REQ delay (longer ones are clamped) and DPUB defer",
	  NULL, 0, 0 },
	{ "mem-queue-size", 0, I(mem_queue_size), "N",
	  "messages kept in memory per topic and per channel", NULL, 0,
	  INT32_MAX },
	{ "min-output-buffer-timeout", 0, D(min_output_buffer_timeout),
	  "DURATION", "shortest output buffer timeout a client may ask for",
	  NULL, 0, 0 },
	{ "msg-timeout", 0, D(msg_timeout), "DURATION",
	  "time a message may stay in flight before it is requeued",
	  NULL, 0, 0 },
	{ "node-id", 0, I(node_id), "ID",
	  "unique part of message IDs, 0-1023 (-1: from the host name)",
	  "id", 0, 0 },
	{ "output-buffer-timeout", 0, D(output_buffer_timeout), "DURATION",
	  "default output buffer timeout of clients", NULL, 0, 0 },
	{ "queue-scan-selection-count", 0, I(queue_scan_selection_count),
	  "N", "only Go's default 20: timeouts fire from deadline heaps, "
	  "no scan loop", NULL, 0, 0 },
	{ "queue-scan-worker-pool-max", 0, I(queue_scan_worker_pool_max),
	  "N", "only Go's default 4: timeouts fire from deadline heaps, no "
	  "scan loop", NULL, 0, 0 },
	{ "snappy", 0, B(snappy), NULL,
	  "let clients negotiate snappy compression", NULL, 0, 0 },
	{ "statsd-address", 0, S(statsd_address), "ADDR",
	  "UDP <addr>:<port> of a statsd daemon", NULL, 0, 0 },
	{ "statsd-exclude-ephemeral", 0, B(statsd_exclude_ephemeral), NULL,
	  "leave ephemeral topics and channels out of statsd", NULL, 0, 0 },
	{ "statsd-interval", 0, D(statsd_interval), "DURATION",
	  "time between statsd pushes", NULL, 0, 0 },
	{ "statsd-mem-stats", 0, B(statsd_mem_stats), NULL,
	  "push memory statistics to statsd", NULL, 0, 0 },
	{ "statsd-prefix", 0, S(statsd_prefix), "PREFIX",
	  "statsd key prefix (%s: <broadcast-address>_<broadcast-http-port>)",
	  NULL, 0, 0 },
	{ "statsd-udp-packet-size", 0, I(statsd_udp_packet_size), "BYTES",
	  "largest statsd UDP packet", NULL, 1, 65507 },
	{ "sync-every", 0, I(sync_every), "N",
	  "messages per disk queue fsync", NULL, 0, INT64_MAX },
	{ "sync-timeout", 0, D(sync_timeout), "DURATION",
	  "time between disk queue fsyncs", NULL, 0, 0 },
	{ "tcp-address", 0, S(tcp_address), "ADDR",
	  "<addr>:<port> to listen on for TCP clients", NULL, 0, 0 },
	{ "tls-cert", 0, S(tls_cert), "FILE", "certificate file", NULL, 0, 0 },
	{ "tls-client-auth-policy", 0, S(tls_client_auth_policy), "POLICY",
	  "require or require-verify client certificates", NULL, 0, 0 },
	{ "tls-key", 0, S(tls_key), "FILE", "key file", NULL, 0, 0 },
	{ "tls-min-version", 0, S(tls_min_version), "VERSION",
	  "oldest TLS version: tls1.0, tls1.1, tls1.2 or tls1.3", NULL, 0, 0 },
	{ "tls-required", 0, OPT_BOOLSTR, &o.tls_required, "WHEN",
	  "require TLS: true, false or tcp-https", NULL, 0, 0 },
	{ "tls-root-ca-file", 0, S(tls_root_ca_file), "FILE",
	  "CA certificate bundle", NULL, 0, 0 },
	{ "topology-region", 0, S(topology_region), "REGION",
	  "region of this node, announced to nsqlookupd", NULL, 0, 0 },
	{ "topology-zone", 0, S(topology_zone), "ZONE",
	  "zone of this node, announced to nsqlookupd", NULL, 0, 0 },
	{ "verbose", 0, B(verbose), NULL,
	  "[deprecated] has no effect, use --log-level", NULL, 0, 0 },
	{ "version", 'V', OPT_BOOL, &help_version, NULL,
	  "print the version and exit", NULL, 0, 0 },
	{ "worker-id", 0, OPT_BOOL, &deprecated_worker_id, NULL,
	  "[deprecated] use --node-id", NULL, 0, 0 },
};
#undef D
#undef I
#undef S
#undef B

/* Go's default node ID: crc32(md5(hostname)) % 1024, any stable hash. */
static int64_t
default_node_id(void)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	return (int64_t)(crc32(0, (const unsigned char *)host,
	    (uInt)strlen(host)) % 1024);
}

/* A flag value Go's flag package refuses: its words, and exit 2. */
static void __attribute__((noreturn))
bad_value(const char *flag, const char *v, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "invalid value \"%s\" for flag -%s: %s",
	    v, flag, why);
	tool_usage_exit(msg);
}

/* A copy of s in lower case, as Go's strings.ToLower for ASCII. */
static char *
lower_dup(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return l;
}

/*
 * Go's tlsRequiredOption.Set: lower case, then "tcp-https" or what
 * strconv.ParseBool takes.
 */
static int
tls_required_mode(const char *v)
{
	char *l = lower_dup(v), why[256];
	int b, mode;

	if (strcmp(l, "tcp-https") == 0)
		mode = TLS_REQUIRED_EXCEPT_HTTP;
	else if (parse_bool(l, &b) == 0)
		mode = b ? TLS_REQUIRED : TLS_NOT_REQUIRED;
	else {
		snprintf(why, sizeof(why), "strconv.ParseBool: parsing "
		    "\"%s\": invalid syntax", l);
		bad_value("tls-required", v, why);
	}
	free(l);
	return mode;
}

/*
 * Go's tlsMinVersionOption.Set: lower case, one of tlsVersionTable's
 * names ("ssl3.0", named in Go's help, is not among them); "" keeps
 * the default.  The value is lowered in place, for tls.c and /config: a
 * value with capitals came from the command line or the config file,
 * in a string of its own (the default is a literal, lower already).
 */
static void
tls_min_version(const char *v)
{
	static const char *const table[] = {
		"tls1.0", "tls1.1", "tls1.2", "tls1.3",
	};
	char *l = lower_dup(v), why[256];

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (l[0] == '\0' || strcmp(l, table[i]) == 0) {
			if (strcmp(l, v) != 0)
				memcpy((char *)(uintptr_t)v, l, strlen(l));
			free(l);
			return;
		}
	snprintf(why, sizeof(why), "unknown tlsVersionOption \"%s\"", l);
	bad_value("tls-min-version", v, why);
}

/* Refuse what cannot work, as Go nsqd.New does, in its words. */
static void
validate(void)
{
	int lvl;

	if ((lvl = log_parse_level(o.log_level)) == -1)
		fatalx("invalid log level %s", o.log_level);
	log_set_level(lvl);
	/*
	 * Go's --verbose and --worker-id (apps/nsqd/options.go:126,129) do
	 * nothing but parse; beyond Go, say so once.
	 */
	if (o.verbose)
		log_warnx("--verbose is deprecated and has no effect: use "
		    "--log-level");
	if (deprecated_worker_id)
		log_warnx("--worker-id is deprecated and has no effect: use "
		    "--node-id");
	/*
	 * Go tunes its 100 ms scan of in-flight and deferred timeouts with
	 * these; here each channel's timeouts fire from its deadline heaps
	 * and lanes, so there is nothing to tune.  Go's defaults (which a
	 * generated config file may list) are taken, any other value is
	 * refused rather than ignored.
	 */
	if (o.queue_scan_worker_pool_max != 4)
		tool_usage_exit("nsqd: --queue-scan-worker-pool-max: this "
		    "nsqd has no queue scan loop (timeouts fire from deadline "
		    "heaps); only Go's default 4 is accepted");
	if (o.queue_scan_selection_count != 20)
		tool_usage_exit("nsqd: --queue-scan-selection-count: this "
		    "nsqd has no queue scan loop (timeouts fire from deadline "
		    "heaps); only Go's default 20 is accepted");
	if (o.node_id == -1)
		o.node_id = default_node_id();
	if (o.node_id < 0 || o.node_id >= 1024)
		fatalx("--node-id must be [0,1024)");
	if (o.max_deflate_level < 1 || o.max_deflate_level > 9)
		fatalx("--max-deflate-level must be [1,9]");
	if (strcmp(o.auth_http_request_method, "get") != 0 &&
	    strcmp(o.auth_http_request_method, "post") != 0)
		fatalx("--auth-http-request-method must be post or get");
	o.tls_required_mode = tls_required_mode(o.tls_required);
	tls_min_version(o.tls_min_version);
	/* As Go's nsqd.New: a policy turns "false" into "true" only. */
	if (o.tls_client_auth_policy[0] != '\0' &&
	    o.tls_required_mode == TLS_NOT_REQUIRED)
		o.tls_required_mode = TLS_REQUIRED;
	if (o.tls_required_mode != TLS_NOT_REQUIRED &&
	    (o.tls_cert[0] == '\0' || o.tls_key[0] == '\0'))
		fatalx("cannot require TLS client connections without TLS key "
		    "and cert");
	for (size_t i = 0; i < o.e2e_percentiles.n; i++) {
		double q = o.e2e_percentiles.v[i];

		if (q <= 0 || q > 1)
			fatalx("invalid E2E processing latency percentile: %g",
			    q);
	}
	if (o.http_auth_required && o.auth_http_addresses.n == 0)
		fatalx("--http-auth-required needs an --auth-http-address");
	for (size_t i = 0; i < o.auth_http_addresses.n; i++) {
		char err[256];

		/* A bad value is a usage error (exit 2), as a bad number. */
		if (auth_check_address(o.auth_http_addresses.v[i], err,
		    sizeof(err)) == -1)
			bad_value("auth-http-address",
			    o.auth_http_addresses.v[i], err);
	}
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop;
	struct nsqd n;

	log_init(o.log_prefix, LOG_LEVEL_INFO);
	tool_daemon_options("nsqd", opts, OPTS_LEN(opts), &help_version, argc,
	    argv);
	log_init(o.log_prefix, LOG_LEVEL_INFO);
	validate();
	o.table = opts;
	o.ntable = OPTS_LEN(opts);
	if (o.data_path[0] != '\0') {
		struct stat st;

		if (stat(o.data_path, &st) == -1 || !S_ISDIR(st.st_mode))
			fatalx("--data-path %s is not a directory", o.data_path);
	}

	loop = ev_default_loop(EVFLAG_AUTO);
	log_info("nsqd v%s (nsq in C %s)", NSQ_COMPAT_VERSION, NSQ_VERSION);
	log_info("ID: %lld", (long long)o.node_id);
	if (nsqd_start(&n, loop, &o) == -1)
		return 1;
	ev_run(loop, 0);
	nsqd_free(&n);
	ev_loop_destroy(loop);
	log_info("NSQ: bye");
	return 0;
}
