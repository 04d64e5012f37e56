/*
 * nsq-bench: a load generator for nsqd speaking raw TCP V2, with the flags
 * of Go NSQ's bench_writer and bench_reader so that figures compare.
 *
 *   nsq-bench writer    publish for --runfor (or --count messages)
 *   nsq-bench reader    subscribe and FIN for --runfor (or --count)
 *   nsq-bench sink      read and discard TCP on --nsqd-tcp-address
 *   nsq-bench loopback  a sender and a sink over loopback: the ceiling
 *   nsq-bench echo      answer each PUB with OK on --nsqd-tcp-address and
 *                       do nothing else: the floor of a round trip
 *
 * Each run prints one line of key=value pairs on stdout; errors go to
 * stderr and make the exit status non-zero.
 */
#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "names.h"
#include "options.h"

static struct bench_opts o = {
	.addr = "127.0.0.1:4150",
	.topic = "sub_bench",
	.deadline = "",
	.batch_size = 200,
	.connections = 1,
	.rdy = 2500,
	.runfor = 10 * NS_SEC,
	.size = 200,
};

static bool show_version;

static const struct opt opts[] = {
	{ "batch-size", 0, OPT_INT, &o.batch_size, "N",
	  "messages per MPUB (1: PUB)", NULL, 1, 1000000 },
	{ "channel", 0, OPT_STRLIST, &o.channels, "NAME",
	  "channel to read (repeatable: connections take them in turn; "
	  "default ch)", NULL, 0, 0 },
	{ "connections", 0, OPT_INT, &o.connections, "N",
	  "connections to nsqd; the default is the number of CPUs", NULL, 1,
	  1024 },
	{ "count", 0, OPT_INT, &o.count, "N",
	  "stop after N messages in all (0: no limit)", NULL, 0, INT64_MAX },
	{ "deadline", 0, OPT_STR, &o.deadline, "TIME",
	  "start at \"YYYY-MM-DD HH:MM:SS\" UTC, once connected", NULL,
	  0, 0 },
	{ "nsqd-tcp-address", 0, OPT_STR, &o.addr, "ADDR",
	  "<addr>:<port> of nsqd (sink, echo: to listen on)", NULL, 0, 0 },
	{ "rate", 0, OPT_INT, &o.rate, "R",
	  "writer: publish R msg/s without waiting for answers "
	  "(0: as fast as answered)", NULL, 0, 1000000000 },
	{ "rdy", 0, OPT_INT, &o.rdy, "N", "RDY count of each reader "
	  "connection", NULL, 0, 1000000 },
	{ "runfor", 0, OPT_DURATION, &o.runfor, "DURATION",
	  "duration of the run (echo: at most, or until SIGTERM)", NULL, 0,
	  24 * 3600 * NS_SEC },
	{ "size", 0, OPT_INT, &o.size, "BYTES", "size of messages", NULL,
	  1, 64 * 1024 * 1024 },
	{ "topic", 0, OPT_STR, &o.topic, "NAME", "topic to publish to or "
	  "read from", NULL, 0, 0 },
	{ "version", 'V', OPT_BOOL, &show_version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

static const struct {
	const char	*name;
	int		(*run)(const struct bench_opts *);
} modes[] = {
	{ "writer", writer_main },
	{ "reader", reader_main },
	{ "sink", sink_main },
	{ "loopback", loopback_main },
	{ "echo", echo_main },
};

static const char synopsis[] =
    "writer|reader|sink|loopback|echo [options]";

/* The mode named s; exits with a usage error when there is none. */
static size_t
find_mode(const char *s)
{
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
		if (strcmp(s, modes[m].name) == 0)
			return m;
	errx(2, "unknown mode %s (want %s)", s, synopsis);
}

int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_SEC + ts.tv_nsec;
}

int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_SEC + ts.tv_nsec;
}

/* MiB/s, as Go's bench tools print their "mb/s". */
void
print_rates(uint64_t msgs, uint64_t bytes, int64_t ns)
{
	double secs = ns > 0 ? (double)ns / 1e9 : 0;

	printf("msgs=%llu bytes=%llu secs=%.3f msg_s=%.0f mib_s=%.2f",
	    (unsigned long long)msgs, (unsigned long long)bytes, secs,
	    secs > 0 ? (double)msgs / secs : 0.0,
	    secs > 0 ? (double)bytes / secs / 1048576.0 : 0.0);
}

static void
usage(FILE *f)
{
	char *help = opts_help(opts, OPTS_LEN(opts), "nsq-bench", synopsis);

	fputs(help, f);
	free(help);
}

/* --deadline as Go's time.Parse("2006-01-02 15:04:05") reads it: UTC. */
static int64_t
parse_deadline(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (end == NULL || *end != '\0')
		errx(2, "invalid --deadline \"%s\" (want YYYY-MM-DD HH:MM:SS)",
		    s);
	return (int64_t)timegm(&tm) * NS_SEC;
}

static void
validate(int want_nsqd)
{
	if (!want_nsqd)
		return;
	if (!name_valid(o.topic, strlen(o.topic)))
		errx(2, "invalid --topic %s", o.topic);
	if (o.channels.n == 0)
		strlist_add(&o.channels, "ch");
	for (size_t i = 0; i < o.channels.n; i++)
		if (!name_valid(o.channels.v[i], strlen(o.channels.v[i])))
			errx(2, "invalid --channel %s", o.channels.v[i]);
	if (o.deadline[0] != '\0')
		o.deadline_ns = parse_deadline(o.deadline);
}

int
main(int argc, char **argv)
{
	char err[512];
	int argi, argj, r;
	long ncpu;
	size_t m;

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	o.connections = ncpu > 0 ? ncpu : 1;
	r = opts_parse(opts, OPTS_LEN(opts), argc, argv, &argi, err,
	    sizeof(err));
	/* Options may come before the mode word, and after it. */
	if (r == 0 && argi < argc) {
		r = opts_parse(opts, OPTS_LEN(opts), argc - argi, argv + argi,
		    &argj, err, sizeof(err));
		argj += argi;
	} else
		argj = argi;
	if (r == OPTS_HELP) {
		usage(stdout);
		return 0;
	}
	if (r == -1) {
		fprintf(stderr, "%s\n", err);
		usage(stderr);
		return 2;
	}
	if (show_version) {
		printf("nsq-bench %s\n", NSQ_VERSION);
		return 0;
	}
	if (argi >= argc) {
		fprintf(stderr, "nsq-bench: which mode? %s\n", synopsis);
		return 2;
	}
	if (argj < argc)
		errx(2, "unexpected argument: %s", argv[argj]);
	m = find_mode(argv[argi]);
	validate(m < 2);
	signal(SIGPIPE, SIG_IGN);
	r = modes[m].run(&o);
	strlist_free(&o.channels);
	return r;
}
