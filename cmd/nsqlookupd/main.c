/*
 * nsqlookupd: the NSQ directory.  nsqd daemons announce their topics and
 * channels to it over TCP (protocol V1); clients ask it over HTTP which
 * nsqd produce a topic.  Reads its options (Go nsqlookupd's flags,
 * --config FILE), listens, and runs the event loop until SIGINT/SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "nsqlookupd.h"
#include "options.h"
#include "../common/tool.h"

static struct lookupd_opts o = {
	.config = "",
	.log_level = "info",
	.log_prefix = "[nsqlookupd] ",
	.tcp_address = "0.0.0.0:4160",
	.http_address = "0.0.0.0:4161",
	.broadcast_address = "",
	.inactive_producer_timeout = 300 * NS_SEC,
	.tombstone_lifetime = 45 * NS_SEC,
};

static bool version;

static const struct opt opts[] = {
	{ "broadcast-address", 0, OPT_STR, &o.broadcast_address, "ADDR",
	  "address of this lookupd node (default: the host name)", NULL,
	  0, 0 },
	{ "config", 'c', OPT_STR, &o.config, "FILE",
	  "read options from a config file", NULL, 0, 0 },
	{ "http-address", 0, OPT_STR, &o.http_address, "ADDR",
	  "<addr>:<port> to listen on for HTTP clients", NULL, 0, 0 },
	{ "inactive-producer-timeout", 0, OPT_DURATION,
	  &o.inactive_producer_timeout, "DURATION",
	  "time a producer stays in the active list after its last ping",
	  NULL, 0, 0 },
	{ "log-level", 'l', OPT_STR, &o.log_level, "LEVEL",
	  "debug, info, warn, error or fatal", NULL, 0, 0 },
	{ "log-prefix", 0, OPT_STR, &o.log_prefix, "PREFIX",
	  "log message prefix", NULL, 0, 0 },
	{ "tcp-address", 0, OPT_STR, &o.tcp_address, "ADDR",
	  "<addr>:<port> to listen on for TCP clients", NULL, 0, 0 },
	{ "tombstone-lifetime", 0, OPT_DURATION, &o.tombstone_lifetime,
	  "DURATION", "time a producer stays tombstoned", NULL, 0, 0 },
	{ "verbose", 0, OPT_BOOL, &o.verbose, NULL,
	  "[deprecated] has no effect, use --log-level", NULL, 0, 0 },
	{ "version", 'V', OPT_BOOL, &version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

int
main(int argc, char **argv)
{
	static char host[256];
	struct ev_loop *loop;
	struct lookupd l;
	int r, level;

	log_init(o.log_prefix, LOG_LEVEL_INFO);
	tool_daemon_options("nsqlookupd", opts, OPTS_LEN(opts), &version, argc,
	    argv);
	log_init(o.log_prefix, LOG_LEVEL_INFO);
	if ((level = log_parse_level(o.log_level)) == -1)
		fatalx("invalid log level %s", o.log_level);
	log_set_level(level);
	/* Go's --verbose (apps/nsqlookupd/main.go:28) does nothing; we say so. */
	if (o.verbose)
		log_warnx("--verbose is deprecated and has no effect: use "
		    "--log-level");
	if (o.broadcast_address[0] == '\0') {
		if (gethostname(host, sizeof(host) - 1) == -1)
			fatal("unable to get hostname");
		o.broadcast_address = host;
	}

	loop = ev_default_loop(EVFLAG_AUTO);
	log_info("nsqlookupd v%s (nsq in C %s)", NSQ_COMPAT_VERSION,
	    NSQ_VERSION);
	r = lookupd_start(&l, loop, &o);
	if (r == 0)
		ev_run(loop, 0);
	lookupd_free(&l);
	ev_loop_destroy(loop);
	return r == 0 ? 0 : 1;
}
