/*
 * libFuzzer target for the --config file parser (lib/options.c, the
 * TOML subset Go nsqd reads): the input after its first byte is the
 * file (one path this process reuses), applied to a table with an option
 * of every type, bounds and a key of its own.  It must parse or fail
 * with "FILE:LINE: reason", and what it set must be freed with nothing
 * left over.
 *
 * Byte 0, bit 0: through opts_parse with --config on a command line that
 * also sets some options (the command line wins), instead of
 * opts_load_config.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static bool		 o_bool;
static int64_t		 o_int, o_bounded, o_dur;
static char		*o_str, *o_boolstr, *o_config, *o_keyed;
static struct strlist	 o_list;
static struct floatlist	 o_floats;

static const struct opt table[] = {
	{ "config", 0, OPT_STR, &o_config, "FILE", "config", NULL, 0, 0 },
	{ "verbose", 'v', OPT_BOOL, &o_bool, NULL, "bool", NULL, 0, 0 },
	{ "mem-queue-size", 0, OPT_INT, &o_int, "N", "int", NULL, 0, 0 },
	{ "worker-id", 0, OPT_INT, &o_bounded, "N", "bounded", NULL,
	    0, 1023 },
	{ "msg-timeout", 0, OPT_DURATION, &o_dur, "D", "duration", NULL,
	    NS_MS, 15 * 60 * NS_SEC },
	{ "data-path", 0, OPT_STR, &o_str, "PATH", "string", NULL, 0, 0 },
	{ "tls-required", 0, OPT_BOOLSTR, &o_boolstr, "X", "boolstr", NULL,
	    0, 0 },
	{ "nsqlookupd-tcp-address", 0, OPT_STRLIST, &o_list, "ADDR", "list",
	    "nsqlookupd_tcp_addresses", 0, 0 },
	{ "e2e-processing-latency-percentile", 0, OPT_FLOATLIST, &o_floats,
	    "F", "floats", "e2e_processing_latency_percentiles", 0, 0 },
	{ "auth-http-address", 0, OPT_STR, &o_keyed, "ADDR", "cfgkey",
	    "auth_http_addresses", 0, 0 },
};

static void
reset(void)
{
	free(o_str);
	free(o_boolstr);
	free(o_config);
	free(o_keyed);
	o_str = o_boolstr = o_config = o_keyed = NULL;
	strlist_free(&o_list);
	floatlist_free(&o_floats);
	o_bool = false;
	o_int = o_bounded = o_dur = 0;
}

static char	path[64];

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], cfgarg[80];
	char *argv[6];
	int fd, argi, r;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "%s/fuzz_config.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if ((fd = mkstemp(path)) == -1)
			abort();
		close(fd);
		atexit(remove_file);
	}
	if (size < 1)
		return 0;
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) == -1)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	err[0] = '\0';
	if (data[0] & 1) {
		snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
		argv[0] = (char *)"fuzz";
		argv[1] = cfgarg;
		argv[2] = (char *)"--mem-queue-size=5";
		argv[3] = (char *)"--nsqlookupd-tcp-address=a:1";
		argv[4] = (char *)"--e2e-processing-latency-percentile=0.5";
		argv[5] = NULL;
		r = opts_parse(table, OPTS_LEN(table), 5, argv, &argi, err,
		    sizeof(err));
		if (r == 0 && (o_int != 5 || o_list.n != 1 ||
		    o_floats.n != 1))
			__builtin_trap();	/* the command line wins */
	} else
		r = opts_load_config(table, OPTS_LEN(table), path, err,
		    sizeof(err));
	if (r == -1 && strncmp(err, path, strlen(path)) != 0)
		__builtin_trap();	/* "FILE:LINE: reason" */
	if (r == 0 && (o_bounded < 0 || o_bounded > 1023 ||
	    (o_dur != 0 && (o_dur < NS_MS || o_dur > 15 * 60 * NS_SEC))))
		__builtin_trap();	/* the bounds hold */
	reset();
	return 0;
}
