/*
 * Unit tests for lib/options: every command-line form Go's flag package
 * and GNU short options accept, Go's error texts, bounds, help, the
 * config file (types, precedence, errors with line numbers, every
 * truncated line), and Go's duration parsing and printing.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "options.h"

#define SEC	1000000000LL
#define MS	1000000LL

static const char TCP_DEFAULT[] = "0.0.0.0:4150";

static bool verbose, snappy, deflate, vd;
static int64_t memq, node, msgto, nflag;
static char *cfgpath, *tcp, *tlsreq, *prefix;
static struct strlist lookupd;
static struct floatlist pct;

static const struct opt table[] = {
	{ "config", 'c', OPT_STR, &cfgpath, "FILE", "path to config file",
	    NULL, 0, 0 },
	{ "verbose", 'v', OPT_BOOL, &verbose, NULL, "more logs", NULL, 0, 0 },
	{ "snappy", 0, OPT_BOOL, &snappy, NULL, "enable snappy", NULL, 0, 0 },
	{ "deflate", 'd', OPT_BOOL, &deflate, NULL, "enable deflate", NULL,
	    0, 0 },
	{ "vd", 0, OPT_BOOL, &vd, NULL, "a long name of two letters", NULL,
	    0, 0 },
	{ "mem-queue-size", 'm', OPT_INT, &memq, "N", "messages in memory",
	    NULL, 0, 0 },
	{ "node-id", 0, OPT_INT, &node, "ID", "unique id", "id", 0, 1023 },
	{ "n", 0, OPT_INT, &nflag, NULL, "messages to read", NULL, 0, 0 },
	{ "msg-timeout", 't', OPT_DURATION, &msgto, "DUR", "requeue after",
	    NULL, 1 * MS, 15 * 60 * SEC },
	{ "tcp-address", 0, OPT_STR, &tcp, "ADDR", "TCP listener", NULL,
	    0, 0 },
	{ "log-prefix", 0, OPT_STR, &prefix, NULL, "log prefix", NULL, 0, 0 },
	{ "lookupd-tcp-address", 'l', OPT_STRLIST, &lookupd, "ADDR",
	    "nsqlookupd (repeatable)", "nsqlookupd_tcp_addresses", 0, 0 },
	{ "e2e-processing-latency-percentile", 0, OPT_FLOATLIST, &pct,
	    "FLOAT", "percentiles", "e2e_processing_latency_percentiles",
	    0, 0 },
	{ "tls-required", 0, OPT_BOOLSTR, &tlsreq, NULL, "require TLS",
	    NULL, 0, 0 },
};
#define NOPT	(sizeof(table) / sizeof(table[0]))

static char err[512];
static int argi;

/*
 * String values set by a parse belong to the caller, and each parse
 * only frees what it set itself: release them between parses.
 */
static void
reset_strings(void)
{
	free(cfgpath);
	if (tcp != TCP_DEFAULT)
		free(tcp);
	free(tlsreq);
	free(prefix);
	cfgpath = NULL;
	tcp = (char *)TCP_DEFAULT;
	tlsreq = NULL;
	prefix = NULL;
}

static void
reset(void)
{
	reset_strings();
	verbose = deflate = vd = false;
	snappy = true;
	memq = 10000;
	node = 7;
	nflag = 0;
	msgto = 60 * SEC;
	strlist_free(&lookupd);
	floatlist_free(&pct);
	err[0] = '\0';
	argi = -1;
}

static int
setup(void **state)
{
	(void)state;
	reset();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	reset();
	return 0;
}

/* Parse "prog" and the given words (NULL-terminated). */
static int
run(const char *first, ...)
{
	char *argv[32];
	const char *a;
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)"prog";
	va_start(ap, first);
	for (a = first; a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc < 31);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	reset_strings();
	return opts_parse(table, NOPT, argc, argv, &argi, err, sizeof(err));
}

static void
test_long_forms(void **state)
{
	static const char *forms[][3] = {
		{ "-mem-queue-size", "5", NULL },
		{ "-mem-queue-size=5", NULL, NULL },
		{ "--mem-queue-size", "5", NULL },
		{ "--mem-queue-size=5", NULL, NULL },
		{ "-m", "5", NULL },
		{ "-m5", NULL, NULL },
		{ "-m=5", NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memq = 0;
		assert_int_equal(run(forms[i][0], forms[i][1], NULL), 0);
		assert_int_equal(memq, 5);
		assert_int_equal(argi, forms[i][1] ? 3 : 2);
	}
	/* Values may be empty or start with a dash. */
	assert_int_equal(run("--tcp-address=", NULL), 0);
	assert_string_equal(tcp, "");
	assert_int_equal(run("-tcp-address", "-v", NULL), 0);
	assert_string_equal(tcp, "-v");
	assert_false(verbose);
	assert_int_equal(run("-tcp-address", "a=b", "--tcp-address", "c",
	    NULL), 0);
	assert_string_equal(tcp, "c");
	assert_int_equal(run("-m", "-3", NULL), 0);
	assert_int_equal(memq, -3);
	/* A single-letter long name, as nsq_tail's -n. */
	assert_int_equal(run("-n", "5", "--n=6", NULL), 0);
	assert_int_equal(nflag, 6);
	/* No arguments at all. */
	assert_int_equal(run(NULL), 0);
	assert_int_equal(argi, 1);
}

static void
test_bools(void **state)
{
	static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *no[] = { "0", "f", "F", "FALSE", "false", "False" };
	char a[64];
	size_t i;

	(void)state;
	assert_int_equal(run("-verbose", NULL), 0);
	assert_true(verbose);
	verbose = false;
	assert_int_equal(run("--verbose", NULL), 0);
	assert_true(verbose);
	for (i = 0; i < 6; i++) {
		snprintf(a, sizeof(a), "-snappy=%s", no[i]);
		assert_int_equal(run(a, NULL), 0);
		assert_false(snappy);
		snprintf(a, sizeof(a), "--snappy=%s", yes[i]);
		assert_int_equal(run(a, NULL), 0);
		assert_true(snappy);
	}
	/* A bare following word is an operand, not the value. */
	verbose = false;
	assert_int_equal(run("-snappy", "false", "-verbose", NULL), 0);
	assert_true(snappy);
	assert_false(verbose);
	assert_int_equal(argi, 2);
	assert_int_equal(run("-snappy=yes", NULL), -1);
	assert_string_equal(err,
	    "invalid boolean value \"yes\" for -snappy: parse error");
	assert_int_equal(run("--snappy=", NULL), -1);
	assert_string_equal(err,
	    "invalid boolean value \"\" for -snappy: parse error");
	/* A bool-like string. */
	assert_int_equal(run("--tls-required", "tcp-https", NULL), 0);
	assert_string_equal(tlsreq, "true");
	assert_int_equal(argi, 2);
	assert_int_equal(run("--tls-required=tcp-https", NULL), 0);
	assert_string_equal(tlsreq, "tcp-https");
}

static void
test_short(void **state)
{
	(void)state;
	assert_int_equal(run("-v", NULL), 0);
	assert_true(verbose);
	reset();
	assert_int_equal(run("-dv", NULL), 0);
	assert_true(verbose);
	assert_true(deflate);
	reset();
	/* The long name wins over the cluster of its letters. */
	assert_int_equal(run("-vd", NULL), 0);
	assert_true(vd);
	assert_false(verbose);
	assert_false(deflate);
	reset();
	assert_int_equal(run("-dvm42", NULL), 0);
	assert_true(verbose);
	assert_true(deflate);
	assert_int_equal(memq, 42);
	reset();
	assert_int_equal(run("-dm", "43", "x", NULL), 0);
	assert_int_equal(memq, 43);
	assert_int_equal(argi, 3);
	assert_int_equal(run("-v=false", NULL), 0);
	assert_false(verbose);
	assert_int_equal(run("-dx", NULL), -1);
	assert_string_equal(err, "flag provided but not defined: -x");
	assert_int_equal(run("-dm", NULL), -1);
	assert_string_equal(err, "flag needs an argument: -m");
	assert_int_equal(run("-t1s", "-c", "f", "-l", "a", "-lb", NULL), -1);
	assert_int_equal(msgto, 1 * SEC);
	assert_string_equal(cfgpath, "f");
	assert_int_equal(lookupd.n, 2);
	/* The file does not exist. */
	assert_string_equal(err, "open f: No such file or directory");
}

static void
test_ints(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 v;
	} ok[] = {
		{ "0", 0 }, { "10", 10 }, { "-10", -10 }, { "+7", 7 },
		{ "0x10", 16 }, { "0X1f", 31 }, { "017", 15 }, { "0o17", 15 },
		{ "0b101", 5 }, { "1_000", 1000 }, { "0x_1_0", 16 },
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
		{ "-0x8000000000000000", INT64_MIN },
	};
	static const struct {
		const char	*s;
		const char	*why;
	} bad[] = {
		{ "", "parse error" }, { "x", "parse error" },
		{ "1.5", "parse error" }, { "1e3", "parse error" },
		{ "0x", "parse error" }, { "08", "parse error" },
		{ "1__0", "parse error" }, { "_1", "parse error" },
		{ "1_", "parse error" }, { "-", "parse error" },
		{ " 1", "parse error" }, { "1 ", "parse error" },
		{ "9223372036854775808", "value out of range" },
		{ "-9223372036854775809", "value out of range" },
		{ "99999999999999999999999", "value out of range" },
	};
	char a[128], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(a, sizeof(a), "--mem-queue-size=%s", ok[i].s);
		assert_int_equal(run(a, NULL), 0);
		assert_true(memq == ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memq = 77;
		snprintf(a, sizeof(a), "--mem-queue-size=%s", bad[i].s);
		assert_int_equal(run(a, NULL), -1);
		snprintf(want, sizeof(want), "invalid value \"%s\" for flag "
		    "-mem-queue-size: %s", bad[i].s, bad[i].why);
		assert_string_equal(err, want);
		assert_int_equal(memq, 77);
	}
}

static void
test_bounds(void **state)
{
	(void)state;
	assert_int_equal(run("--node-id", "1023", NULL), 0);
	assert_int_equal(node, 1023);
	assert_int_equal(run("--node-id", "0", NULL), 0);
	assert_int_equal(node, 0);
	assert_int_equal(run("--node-id", "1024", NULL), -1);
	assert_string_equal(err, "invalid value \"1024\" for flag -node-id: "
	    "value out of range [0, 1023]");
	assert_int_equal(run("-node-id=-1", NULL), -1);
	assert_int_equal(node, 0);
	assert_int_equal(run("--msg-timeout", "15m", NULL), 0);
	assert_int_equal(msgto, 15 * 60 * SEC);
	assert_int_equal(run("--msg-timeout", "0s", NULL), -1);
	assert_string_equal(err, "invalid value \"0s\" for flag -msg-timeout: "
	    "value out of range [1ms, 15m0s]");
	assert_int_equal(run("--msg-timeout", "15m0.000000001s", NULL), -1);
	assert_int_equal(run("--msg-timeout", "90", NULL), -1);
	assert_string_equal(err, "invalid value \"90\" for flag -msg-timeout: "
	    "parse error");
	assert_int_equal(run("-t", "1m30s", NULL), 0);
	assert_int_equal(msgto, 90 * SEC);
}

static void
test_errors(void **state)
{
	(void)state;
	assert_int_equal(run("-foo", NULL), -1);
	assert_string_equal(err, "flag provided but not defined: -foo");
	assert_int_equal(argi, 1);
	assert_int_equal(run("-v", "--foo=1", NULL), -1);
	assert_string_equal(err, "flag provided but not defined: -foo");
	assert_int_equal(argi, 2);
	assert_int_equal(run("-zv", NULL), -1);
	assert_string_equal(err, "flag provided but not defined: -zv");
	assert_int_equal(run("--tcp-address", NULL), -1);
	assert_string_equal(err, "flag needs an argument: -tcp-address");
	assert_int_equal(run("---x", NULL), -1);
	assert_string_equal(err, "bad flag syntax: ---x");
	assert_int_equal(run("-=x", NULL), -1);
	assert_string_equal(err, "bad flag syntax: -=x");
	assert_int_equal(run("--=x", NULL), -1);
	assert_string_equal(err, "bad flag syntax: --=x");
	/* Go's %q. */
	assert_int_equal(run("-m", "a\"b\n", NULL), -1);
	assert_string_equal(err, "invalid value \"a\\\"b\\n\" for flag -m: "
	    "parse error");
	/* Invalid UTF-8 and unprintable runes escaped as strconv.Quote. */
	assert_int_equal(run("-m", "\xff\xc2\xa0\xc3\xa9", NULL), -1);
	assert_string_equal(err, "invalid value \"\\xff\\u00a0\xc3\xa9\" for "
	    "flag -m: parse error");
	assert_int_equal(run("-h", NULL), OPTS_HELP);
	assert_int_equal(run("-help", NULL), OPTS_HELP);
	assert_int_equal(run("--help", NULL), OPTS_HELP);
	assert_int_equal(run("-v", "--help=1", "-foo", NULL), OPTS_HELP);
	assert_true(verbose);
}

static void
test_operands(void **state)
{
	(void)state;
	assert_int_equal(run("-v", "--", "-d", NULL), 0);
	assert_int_equal(argi, 3);
	assert_false(deflate);
	assert_int_equal(run("-", "-d", NULL), 0);
	assert_int_equal(argi, 1);
	assert_false(deflate);
	assert_int_equal(run("file", "-d", NULL), 0);
	assert_int_equal(argi, 1);
	assert_false(deflate);
	assert_int_equal(run("-m", "1", "op", "--", NULL), 0);
	assert_int_equal(argi, 3);
}

static void
test_lists(void **state)
{
	(void)state;
	assert_int_equal(run("-l", "a", "--lookupd-tcp-address=b", "-lc",
	    "-lookupd-tcp-address", "d", NULL), 0);
	assert_int_equal(lookupd.n, 4);
	assert_string_equal(lookupd.v[0], "a");
	assert_string_equal(lookupd.v[1], "b");
	assert_string_equal(lookupd.v[2], "c");
	assert_string_equal(lookupd.v[3], "d");
	/* Repeats and comma lists, kept in decreasing order as Go does. */
	assert_int_equal(run("--e2e-processing-latency-percentile", "0.5,1",
	    "--e2e-processing-latency-percentile=0.99", NULL), 0);
	assert_int_equal(pct.n, 3);
	assert_true(pct.v[0] == 1.0 && pct.v[1] == 0.99 && pct.v[2] == 0.5);
	assert_int_equal(run("--e2e-processing-latency-percentile", "0.7,x",
	    NULL), -1);
	assert_string_equal(err, "invalid value \"0.7,x\" for flag "
	    "-e2e-processing-latency-percentile: parse error");
	assert_int_equal(pct.n, 3);
	assert_int_equal(run("--e2e-processing-latency-percentile", "0.7,",
	    NULL), -1);
	assert_int_equal(run("--e2e-processing-latency-percentile", "0.7, 1",
	    NULL), -1);
}

static void
test_help(void **state)
{
	char *h;

	(void)state;
	lookupd.n = 0;
	strlist_add(&lookupd, "h1:4160");
	h = opts_help(table, NOPT, "nsqd", NULL);
	assert_non_null(strstr(h, "Usage: nsqd [options]\n"));
	assert_non_null(strstr(h, "\n  -c, --config FILE "));
	assert_non_null(strstr(h, "path to config file\n"));
	assert_non_null(strstr(h, "\n      --snappy "));
	assert_non_null(strstr(h, "enable snappy (default: true)\n"));
	assert_non_null(strstr(h, "more logs\n"));
	assert_non_null(strstr(h, "messages in memory (default: 10000)\n"));
	assert_non_null(strstr(h, "requeue after (default: 1m0s)\n"));
	assert_non_null(strstr(h,
	    "TCP listener (default: \"0.0.0.0:4150\")\n"));
	assert_non_null(strstr(h, "(default: h1:4160)\n"));
	assert_non_null(strstr(h, "\n      --n INT "));
	assert_non_null(strstr(h, "\n  -t, --msg-timeout DUR "));
	assert_non_null(strstr(h, "\n      --tls-required "));
	/* One line per option plus the usage line. */
	{
		size_t lines = 0;
		const char *p;

		for (p = h; *p != '\0'; p++)
			lines += *p == '\n';
		assert_int_equal(lines, NOPT + 1);
	}
	free(h);
	h = opts_help(table, 0, "nsq_tail", "[options] TOPIC");
	assert_string_equal(h, "Usage: nsq_tail [options] TOPIC\n");
	free(h);
}

/* Write text to a fresh temporary file; its path is static. */
static const char *
cfgfile(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	if (path[0] != '\0')
		unlink(path);
	snprintf(path, sizeof(path), "/tmp/test_options.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
test_config_types(void **state)
{
	const char *path;

	(void)state;
	path = cfgfile(
	    "# nsqd.cfg\n"
	    "\n"
	    "## unique identifier\n"
	    "id = 5\n"
	    "verbose = true   # trailing comment\n"
	    "snappy = false\r\n"
	    "deflate = \"t\"\n"
	    "mem_queue_size = 1_000\n"
	    "msg_timeout = \"90s\"\n"
	    "tcp_address = \"0.0.0.0:4150\\t\\\"x\\\"\\u00e9\"\n"
	    "log_prefix = 'C:\\raw\\'\n"
	    "nsqlookupd_tcp_addresses = [\n"
	    "    \"127.0.0.1:4160\",  # first\n"
	    "\n"
	    "    '127.0.0.2:4160', # second\n"
	    "]\n"
	    "e2e_processing_latency_percentiles = [0.5, 1, 0.99]\n"
	    "tls_required = true\n"
	    "  \"n\" = 0  \n");
	assert_int_equal(run("--config", path, NULL), 0);
	assert_int_equal(node, 5);
	assert_true(verbose);
	assert_false(snappy);
	assert_true(deflate);
	assert_int_equal(memq, 1000);
	assert_int_equal(msgto, 90 * SEC);
	assert_string_equal(tcp, "0.0.0.0:4150\t\"x\"\xc3\xa9");
	assert_string_equal(prefix, "C:\\raw\\");
	assert_int_equal(lookupd.n, 2);
	assert_string_equal(lookupd.v[0], "127.0.0.1:4160");
	assert_string_equal(lookupd.v[1], "127.0.0.2:4160");
	/* The file's order is kept, as go-options does. */
	assert_int_equal(pct.n, 3);
	assert_true(pct.v[0] == 0.5 && pct.v[1] == 1 && pct.v[2] == 0.99);
	assert_string_equal(tlsreq, "true");
	assert_int_equal(nflag, 0);
	reset();

	/* Integer durations are milliseconds; lists from a string split. */
	path = cfgfile("msg_timeout = 60000\n"
	    "nsqlookupd_tcp_addresses = \"a:1,b:2\"\n"
	    "e2e_processing_latency_percentiles = \"0.9, 0.1\"\n"
	    "mem_queue_size = \"0x10\"\n"
	    "tls_required = 'tcp-https'");
	assert_int_equal(run("-c", path, NULL), -1);
	/* Go reads integer strings in base 10. */
	assert_non_null(strstr(err, ":4: invalid value for mem_queue_size: "
	    "parse error"));
	path = cfgfile("msg_timeout = 60000\n"
	    "nsqlookupd_tcp_addresses = \"a:1,b:2\"\n"
	    "e2e_processing_latency_percentiles = \"0.9, 0.1\"\n"
	    "mem_queue_size = \"-16\"\n"
	    "tls_required = 'tcp-https'");
	assert_int_equal(run("-c", path, NULL), 0);
	assert_int_equal(msgto, 60 * SEC);
	assert_int_equal(lookupd.n, 2);
	assert_string_equal(lookupd.v[1], "b:2");
	assert_int_equal(pct.n, 2);
	assert_true(pct.v[0] == 0.9 && pct.v[1] == 0.1);
	assert_int_equal(memq, -16);
	assert_string_equal(tlsreq, "tcp-https");
	unlink(path);
}

static void
test_config_precedence(void **state)
{
	const char *path;

	(void)state;
	path = cfgfile("mem_queue_size = 7\n"
	    "tcp_address = \"file:1\"\n"
	    "nsqlookupd_tcp_addresses = [\"f1\", \"f2\"]\n"
	    "verbose = true\n"
	    "snappy = false\n"
	    "id = 99999\n");
	/* Command line first, whatever the order of --config. */
	assert_int_equal(run("--mem-queue-size", "3", "-c", path, "-l", "c1",
	    "--snappy=true", "--node-id", "2", NULL), 0);
	assert_int_equal(memq, 3);
	assert_string_equal(tcp, "file:1");
	assert_int_equal(lookupd.n, 1);
	assert_string_equal(lookupd.v[0], "c1");
	assert_true(verbose);
	assert_true(snappy);
	/* A bad value the command line overrides is never read. */
	assert_int_equal(node, 2);
	reset();
	assert_int_equal(run("-c", path, NULL), -1);
	assert_non_null(strstr(err, ":6: invalid value for id: value out of "
	    "range [0, 1023]"));
	reset();
	/* Without the command line, the file applies alone. */
	path = cfgfile("mem_queue_size = 7\n");
	assert_int_equal(opts_load_config(table, NOPT, path, err,
	    sizeof(err)), 0);
	assert_int_equal(memq, 7);
	unlink(path);
}

static void
test_config_errors(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*why;
	} t[] = {
		{ "a = 1\nb =\n", 2, "expected a value" },
		{ "a = 1\nb = \n", 2, "expected a value" },
		{ "a = 1\n\n\nb\n", 4, "expected '=' after key" },
		{ "a = \"x\n", 1, "unterminated string" },
		{ "a = 'x\n", 1, "unterminated string" },
		{ "a = \"\"\"x\"\"\"\n", 1,
		    "multi-line strings are not supported" },
		{ "a = \"\\q\"\n", 1, "invalid escape '\\q' in string" },
		{ "a = \"\\u12\"\n", 1, "invalid unicode escape in string" },
		{ "a = \"\\ud800\"\n", 1,
		    "invalid unicode code point in string" },
		{ "a = \"\\u0000\"\n", 1, "NUL character in string" },
		{ "a = \"x\x01\"\n", 1,
		    "control character 0x01 in string" },
		{ "a = 1 2\n", 1, "expected the end of the line, found '2'" },
		{ "a = [1, 2\n", 2, "unterminated array" },
		{ "a = [\n1,\n2\n# c\n", 5, "unterminated array" },
		{ "a = [1 2]\n", 1, "expected ',' or ']' in array, found '2'" },
		{ "a = [,]\n", 1, "invalid character ',' in value" },
		{ "a = {b = 1}\n", 1, "inline tables are not supported" },
		{ "a = 1979-05-27\n", 1, "dates and times are not supported" },
		{ "a = 07:32:00\n", 1, "dates and times are not supported" },
		{ "a = 01\n", 1, "leading zeros in '01'" },
		{ "a = 1.\n", 1, "invalid float '1.'" },
		{ "a = .5\n", 1, "invalid value '.5'" },
		{ "a = 1e\n", 1, "invalid float '1e'" },
		{ "a = 1__0\n", 1, "invalid value '1__0'" },
		{ "a = 0x\n", 1, "invalid number '0x'" },
		{ "a = 9223372036854775808\n", 1,
		    "integer out of range '9223372036854775808'" },
		{ "a = yes\n", 1, "invalid value 'yes'" },
		{ "a = True\n", 1, "invalid value 'True'" },
		{ "a = 1\na = 2\n", 2, "key 'a' already defined on line 1" },
		{ "= 1\n", 1, "invalid character '=' in key" },
		{ "a.= 1\n", 1, "invalid character '=' in key" },
		{ "[tab\n", 1, "unterminated table header" },
		{ "[[tab]\n", 1, "unterminated table header" },
		{ "[tab] x\n", 1, "expected the end of the line, found 'x'" },
		{ "a = 1\rb = 2\n", 1, "expected the end of the line, found "
		    "0x0d" },
		{ "\r\n\ra = 1\n", 2, "bare carriage return" },
		{ "a = 1\n\"b\nc\" = 1\n", 2, "unterminated string" },
		{ "mem_queue_size = 1.5\n", 1,
		    "invalid value for mem_queue_size: float is not accepted "
		    "here" },
		{ "snappy = 1\n", 1,
		    "invalid value for snappy: integer is not accepted here" },
		{ "snappy = \"yes\"\n", 1,
		    "invalid value for snappy: string is not accepted here" },
		{ "tcp_address = 5\n", 1,
		    "invalid value for tcp_address: integer is not accepted "
		    "here" },
		{ "msg_timeout = \"5x\"\n", 1,
		    "invalid value for msg_timeout: invalid duration" },
		{ "msg_timeout = 0\n", 1,
		    "invalid value for msg_timeout: value out of range "
		    "[1ms, 15m0s]" },
		{ "msg_timeout = true\n", 1,
		    "invalid value for msg_timeout: boolean is not accepted "
		    "here" },
		{ "nsqlookupd_tcp_addresses = [1]\n", 1,
		    "invalid value for nsqlookupd_tcp_addresses: array holds "
		    "integer, not strings" },
		{ "e2e_processing_latency_percentiles = [\"x\"]\n", 1,
		    "invalid value for e2e_processing_latency_percentiles: "
		    "array holds string, not numbers" },
		{ "mem_queue_size = 5\nunknown_key = \"x\"\n", 2,
		    "unknown option unknown_key" },
		{ "\"quoted\" = 1\n", 1, "unknown option quoted" },
		{ "config = \"/x.cfg\"\n", 1, "unknown option config" },
		{ "mem_queue_size = 5\n[section]\nmem_queue_size = 4\n", 3,
		    "mem_queue_size: only top-level keys are options (no "
		    "[tables] or dotted keys)" },
		{ "other.mem_queue_size = 3\n", 1,
		    "other: only top-level keys are options (no [tables] or "
		    "dotted keys)" },
		{ "e2e_processing_latency_percentiles = \"0.5,x\"\n", 1,
		    "invalid value for e2e_processing_latency_percentiles: "
		    "parse error" },
	};
	char want[512];
	const char *path;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		path = cfgfile(t[i].text);
		reset();
		if (run("--config", path, NULL) != -1)
			fail_msg("accepted: %s", t[i].text);
		snprintf(want, sizeof(want), "%s:%d: %s", path, t[i].line,
		    t[i].why);
		assert_string_equal(err, want);
	}
	unlink(path);
	reset();
	assert_int_equal(run("--config", "/nonexistent/x.cfg", NULL), -1);
	assert_string_equal(err,
	    "open /nonexistent/x.cfg: No such file or directory");
	assert_int_equal(run("--config", "/tmp", NULL), -1);
	/* An empty --config reads nothing. */
	assert_int_equal(run("--config=", NULL), 0);
}

/*
 * Every prefix of every line: refused with line 1 named, except the
 * prefixes that are themselves whole lines (a shorter number).
 */
static void
test_config_truncated(void **state)
{
	static const struct {
		const char	*line;
		size_t		 okfrom;	/* shortest good prefix */
	} t[] = {
		{ "tcp_address = \"0.0.0.0:4150\"", 0 },
		{ "log_prefix = '[nsqd] '", 0 },
		{ "snappy = true", 0 },
		{ "deflate = false", 0 },
		{ "nsqlookupd_tcp_addresses = [\"a:1\", 'b:2', ]", 0 },
		{ "e2e_processing_latency_percentiles = [1.0, 0.99,\n 0.5]",
		    0 },
		{ "\"log_prefix\" = \"\\u00e9\\t\"", 0 },
		{ "[section]", 0 },
		{ "mem_queue_size = 10000", 18 },
		{ "mem_queue_size = 10000 # comment", 18 },
		{ "msg_timeout = 60000", 15 },
	};
	char text[256], want[64];
	const char *path;
	size_t i, n, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		len = strlen(t[i].line);
		reset();
		path = cfgfile(t[i].line);
		assert_int_equal(run("--config", path, NULL), 0);
		for (n = 1; n < len; n++) {
			/* With and without the newline. */
			int nl;

			for (nl = 0; nl < 2; nl++) {
				snprintf(text, sizeof(text), "%.*s%s", (int)n,
				    t[i].line, nl ? "\n" : "");
				/* A prefix ending in a comment is whole. */
				if (strchr(text, '#') != NULL)
					continue;
				reset();
				path = cfgfile(text);
				rc = run("--config", path, NULL);
				if (t[i].okfrom != 0 && n >= t[i].okfrom) {
					if (rc != 0)
						fail_msg("refused '%s': %s",
						    text, err);
					continue;
				}
				if (rc != -1)
					fail_msg("accepted '%s'", text);
				snprintf(want, sizeof(want), "%s:", path);
				assert_memory_equal(err, want, strlen(want));
			}
		}
	}
	unlink(path);
}

static void
test_parse_duration(void **state)
{
	/* Go's time_test.go parseDurationTests. */
	static const struct {
		const char	*s;
		int64_t		 ns;
	} ok[] = {
		{ "0", 0 }, { "5s", 5 * SEC }, { "30s", 30 * SEC },
		{ "1478s", 1478 * SEC }, { "-5s", -5 * SEC },
		{ "+5s", 5 * SEC },
		{ "-0", 0 }, { "+0", 0 }, { "5.0s", 5 * SEC },
		{ "5.6s", 5 * SEC + 600 * MS }, { "5.s", 5 * SEC },
		{ ".5s", 500 * MS }, { "1.0s", SEC }, { "1.00s", SEC },
		{ "1.004s", SEC + 4 * MS }, { "1.0040s", SEC + 4 * MS },
		{ "100.00100s", 100 * SEC + MS }, { "10ns", 10 },
		{ "11us", 11000 }, { "12\xc2\xb5s", 12000 },
		{ "12\xce\xbcs", 12000 }, { "13ms", 13 * MS },
		{ "14s", 14 * SEC }, { "15m", 15 * 60 * SEC },
		{ "16h", 16 * 3600 * SEC },
		{ "3h30m", 3 * 3600 * SEC + 30 * 60 * SEC },
		{ "10.5s4m", 4 * 60 * SEC + 10 * SEC + 500 * MS },
		{ "-2m3.4s", -(2 * 60 * SEC + 3 * SEC + 400 * MS) },
		{ "1h2m3s4ms5us6ns", 3600 * SEC + 2 * 60 * SEC + 3 * SEC +
		    4 * MS + 5000 + 6 },
		{ "39h9m14.425s", 39 * 3600 * SEC + 9 * 60 * SEC + 14 * SEC +
		    425 * MS },
		{ "52763797000ns", 52763797000LL },
		{ "0.3333333333333333333h", 20 * 60 * SEC },
		{ "9007199254740993ns", (1LL << 53) + 1 },
		{ "9223372036854775807ns", INT64_MAX },
		{ "9223372036854775.807us", INT64_MAX },
		{ "9223372036s854ms775us807ns", INT64_MAX },
		{ "-9223372036854775808ns", INT64_MIN },
		{ "-9223372036854775.808us", INT64_MIN },
		{ "-9223372036s854ms775us808ns", INT64_MIN },
		{ "-2562047h47m16.854775808s", INT64_MIN },
		{ "0.100000000000000000000h", 6 * 60 * SEC },
		{ "0.830103483285477580700h", 49 * 60 * SEC + 48 * SEC +
		    372539827 },
		/* The nsqd defaults. */
		{ "300ms", 300 * MS }, { "-1.5h", -5400 * SEC },
		{ "2h45m", 9900 * SEC }, { "1us", 1000 },
		{ "1\xc2\xb5s", 1000 },
	};
	static const char *bad[] = {
		"", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "\x85\x85",
		"\xff" "ff", "hello \xff" "ff world", "9223372036854775810ns",
		"9223372036854775808ns", "9223372036854775.808us",
		"9223372036854ms775us808ns", "-9223372036854775809ns",
		"-9223372036854775.809us", "1s ", " 1s", "1S", "1hh",
		"1.2.3s", "--1s", "1e3s",
	};
	int64_t ns;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ns = 42;
		if (parse_duration(ok[i].s, &ns) != 0)
			fail_msg("refused %s", ok[i].s);
		if (ns != ok[i].ns)
			fail_msg("%s: %" PRId64 " != %" PRId64, ok[i].s, ns,
			    ok[i].ns);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 42;
		if (parse_duration(bad[i], &ns) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_true(ns == 42);
	}
}

static void
test_format_duration(void **state)
{
	/* Go's time_test.go durationTests, and nsqd's defaults. */
	static const struct {
		const char	*s;
		int64_t		 ns;
	} t[] = {
		{ "0s", 0 }, { "1ns", 1 }, { "1.1\xc2\xb5s", 1100 },
		{ "2.2ms", 2200 * 1000 }, { "3.3s", 3300 * MS },
		{ "4m5s", 4 * 60 * SEC + 5 * SEC },
		{ "4m5.001s", 4 * 60 * SEC + 5001 * MS },
		{ "5h6m7.001s", 5 * 3600 * SEC + 6 * 60 * SEC + 7001 * MS },
		{ "8m0.000000001s", 8 * 60 * SEC + 1 },
		{ "2562047h47m16.854775807s", INT64_MAX },
		{ "-2562047h47m16.854775808s", INT64_MIN },
		{ "1m0s", 60 * SEC }, { "250ms", 250 * MS }, { "2s", 2 * SEC },
		{ "1h0m0s", 3600 * SEC }, { "1.5s", 1500 * MS },
		{ "15m0s", 900 * SEC }, { "10m0s", 600 * SEC },
		{ "25ms", 25 * MS }, { "-1.5s", -1500 * MS },
		{ "1\xc2\xb5s", 1000 }, { "999ns", 999 },
		{ "999.999999ms", SEC - 1 },
	};
	char buf[64], small[4];
	int64_t back;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = format_duration(t[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, t[i].s);
		assert_int_equal(n, strlen(t[i].s));
		/* What is printed parses back. */
		assert_int_equal(parse_duration(buf, &back), 0);
		assert_true(back == t[i].ns);
	}
	n = format_duration(3600 * SEC, small, sizeof(small));
	assert_int_equal(n, 6);
	assert_string_equal(small, "1h0");
}

static void
test_lists_api(void **state)
{
	struct strlist l = { NULL, 0 };
	struct floatlist f = { NULL, 0 };
	int b;
	int64_t v;

	(void)state;
	strlist_add(&l, "a");
	strlist_add(&l, "");
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1], "");
	strlist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	strlist_free(&l);
	floatlist_add(&f, 1.5);
	assert_int_equal(f.n, 1);
	floatlist_free(&f);
	assert_int_equal(parse_bool("True", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(parse_bool("tRUE", &b), -1);
	assert_int_equal(parse_bool("", &b), -1);
	assert_int_equal(parse_int64("0x10", 0, &v), -1);
	assert_int_equal(parse_int64("010", 0, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_int64("010", 1, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(parse_int64("1_0", 0, &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_long_forms, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operands, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_types, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_precedence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_parse_duration, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_format_duration, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lists_api, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
