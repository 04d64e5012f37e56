/*
 * Unit tests for nsq-to-file's file names and files.  Both modules live
 * in cmd/nsq-to-file/ (they are the tool's own, not library code), so
 * this file compiles them in directly: the Makefile links unit tests with
 * lib only.
 *
 * Names: every conversion of Go's strftime subset, the --filename-format
 * tokens and the <REV> rules.  Files (in a temporary directory, TZ=UTC):
 * nothing reaches a file before it is synced, gzip members are whole and
 * concatenate, rotation by name, size and revision, appending to plain
 * files, and the move from the work dir that never overwrites.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <zlib.h>

#include "../../cmd/nsq-to-file/naming.c"
#include "../../cmd/nsq-to-file/archive.c"

/* Tuesday 2009-02-03 04:05:06 in a zone 7 hours behind UTC. */
static struct tm
sample_tm(void)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 109;
	tm.tm_mon = 1;
	tm.tm_mday = 3;
	tm.tm_hour = 4;
	tm.tm_min = 5;
	tm.tm_sec = 6;
	tm.tm_wday = 2;
	tm.tm_gmtoff = -7 * 3600;
	tm.tm_zone = "MST";
	return tm;
}

static void
check_fmt(const struct tm *tm, const char *fmt, const char *want)
{
	char out[256];
	size_t n;

	n = ntf_strftime(out, sizeof(out), fmt, tm);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void
test_strftime(void **state)
{
	struct tm tm = sample_tm();

	(void)state;
	check_fmt(&tm, "%Y-%m-%d_%H", "2009-02-03_04");
	check_fmt(&tm, "%B %b %A %a", "February Feb Tuesday Tue");
	check_fmt(&tm, "%y %M %S", "09 05 06");
	check_fmt(&tm, "%I%p", "04AM");
	check_fmt(&tm, "%Z %z", "MST -0700");
	check_fmt(&tm, "100%%", "100%");
	/* Unknown conversions and a trailing % stay as they are. */
	check_fmt(&tm, "%j%e%", "%j%e%");
	/* Literal text is literal (Go would read "1" and "Jan" as layout). */
	check_fmt(&tm, "log1Jan2006", "log1Jan2006");
	check_fmt(&tm, "", "");
	tm.tm_hour = 0;
	check_fmt(&tm, "%I %p %H", "12 AM 00");
	tm.tm_hour = 12;
	check_fmt(&tm, "%I %p", "12 PM");
	tm.tm_hour = 23;
	check_fmt(&tm, "%I %p", "11 PM");
	tm.tm_mon = 11;
	tm.tm_wday = 0;
	check_fmt(&tm, "%B %b %A %a %m", "December Dec Sunday Sun 12");
	tm.tm_gmtoff = 5 * 3600 + 30 * 60;
	tm.tm_zone = NULL;
	check_fmt(&tm, "%z %Z", "+0530 +0530");
	tm.tm_gmtoff = -(9 * 3600 + 30 * 60);
	tm.tm_zone = "";
	check_fmt(&tm, "%z %Z", "-0930 -0930");
	tm.tm_gmtoff = 0;
	tm.tm_zone = "UTC";
	check_fmt(&tm, "%z %Z", "+0000 UTC");
	tm.tm_year = 2024 - 1900;
	check_fmt(&tm, "%Y %y", "2024 24");
}

static void
test_strftime_truncation(void **state)
{
	struct tm tm = sample_tm();
	char out[5];

	(void)state;
	assert_int_equal(ntf_strftime(out, sizeof(out), "%Y-%m-%d", &tm),
	    10);
	assert_string_equal(out, "2009");
	assert_int_equal(ntf_strftime(out, 0, "%Y", &tm), 4);
}

static char *
tmpl(const char *format, const char *ident, bool gzip, bool need_rev)
{
	struct ntf_names nm = {
		.filename_format = format,
		.host_identifier = ident,
		.hostname = "box.example.com",
		.pid = 4242,
		.gzip = gzip,
		.need_rev = need_rev,
	};
	char err[256];
	char *s;

	err[0] = '\0';
	s = ntf_template(&nm, "events", err, sizeof(err));
	if (s == NULL)
		return xstrdup(err);
	return s;
}

static void
check_tmpl(const char *format, const char *ident, bool gzip, bool need_rev,
    const char *want)
{
	char *s = tmpl(format, ident, gzip, need_rev);

	assert_string_equal(s, want);
	free(s);
}

static void
test_template(void **state)
{
	const char *def = "<TOPIC>.<HOST><REV>.<DATETIME>.log";

	(void)state;
	check_tmpl(def, "", false, false, "events.box.<DATETIME>.log");
	check_tmpl(def, "", false, true, "events.box<REV>.<DATETIME>.log");
	check_tmpl(def, "", true, true,
	    "events.box<REV>.<DATETIME>.log.gz");
	/* .gz is not doubled. */
	check_tmpl("<TOPIC><REV>.gz", "", true, true, "events<REV>.gz");
	check_tmpl("<TOPIC><REV>.GZ", "", true, true, "events<REV>.GZ.gz");
	check_tmpl("<TOPIC>.log", "", false, true, "missing <REV> in "
	    "--filename-format when gzip, rotation, or work dir enabled");
	check_tmpl("<HOST>", "<SHORT_HOST>-<HOSTNAME>-x", false, false,
	    "box-box.example.com-x");
	check_tmpl("<HOST>", "fixed", false, false, "fixed");
	check_tmpl("<PID>/<TOPIC>/<TOPIC>-<PID>", "", false, false,
	    "4242/events/events-4242");
	/* Tokens come in Go's order: the identifier may hold <PID>. */
	check_tmpl("<HOST>", "h<PID>", false, false, "h4242");
	check_tmpl("<REV><REV>", "", false, false, "");
	check_tmpl("<topic>", "", false, false, "<topic>");
}

static void
test_expand(void **state)
{
	char *s;

	(void)state;
	s = ntf_expand("a<REV>.<DATETIME>.<DATETIME>", "2009", 3);
	assert_string_equal(s, "a-000003.2009.2009");
	free(s);
	s = ntf_expand("a<REV>.<DATETIME>", NULL, 1234567);
	assert_string_equal(s, "a-1234567.<DATETIME>");
	free(s);
	s = ntf_expand("a<REV>.<DATETIME>", "x", -1);
	assert_string_equal(s, "a<REV>.x");
	free(s);
	s = ntf_replace("abab", "ab", "<ab>");
	assert_string_equal(s, "<ab><ab>");
	free(s);
}

/*
 * Files.
 */

static char dir[256];
static char err[512];

static int
files_setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	log_init("", LOG_LEVEL_FATAL);
	snprintf(dir, sizeof(dir), "%s/ntfXXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
files_teardown(void **state)
{
	char *cmd;

	(void)state;
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static char *
path(const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

static off_t
size_of(const char *rel)
{
	struct stat sb;
	char *p = path(rel);
	off_t n;

	n = stat(p, &sb) == 0 ? sb.st_size : -1;
	free(p);
	return n;
}

/* The whole (decompressed, when gz) content of dir/rel. */
static char *
content(const char *rel, bool gz)
{
	char *p = path(rel), *b;
	size_t cap = 1 << 20, n = 0;
	gzFile g;
	int r;

	b = xmalloc(cap + 1);
	if (gz) {
		g = gzopen(p, "rb");
		assert_non_null(g);
		while ((r = gzread(g, b + n, (unsigned)(cap - n))) > 0)
			n += (size_t)r;
		assert_int_equal(r, 0);
		assert_int_equal(gzclose(g), Z_OK);
	} else {
		FILE *f = fopen(p, "rb");

		assert_non_null(f);
		n = fread(b, 1, cap, f);
		fclose(f);
	}
	b[n] = '\0';
	free(p);
	return b;
}

static void
check_content(const char *rel, bool gz, const char *want)
{
	char *c = content(rel, gz);

	assert_string_equal(c, want);
	free(c);
}

/* How many gzip members dir/rel holds (each starts 1f 8b 08). */
static int
members(const char *rel)
{
	char *p = path(rel);
	z_stream z;
	unsigned char in[1 << 16], out[1 << 16];
	FILE *f;
	size_t n, off = 0;
	int count = 0, r;

	f = fopen(p, "rb");
	assert_non_null(f);
	n = fread(in, 1, sizeof(in), f);
	fclose(f);
	free(p);
	while (off < n) {
		memset(&z, 0, sizeof(z));
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = in + off;
		z.avail_in = (uInt)(n - off);
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			r = inflate(&z, Z_NO_FLUSH);
		} while (r == Z_OK);
		assert_int_equal(r, Z_STREAM_END);
		off = n - z.avail_in;
		inflateEnd(&z);
		count++;
	}
	return count;
}

static struct archive_conf
conf(bool gzip)
{
	struct archive_conf c = {
		.work_dir = dir,
		.output_dir = dir,
		.separate = false,
		.datetime_format = "%H",
		.gzip = gzip,
		.gzip_level = 6,
	};

	return c;
}

#define T0	1234567890.0	/* 2009-02-13 23:31:30 UTC */

static void
put_rec(struct archive *a, const char *s)
{
	assert_int_equal(archive_write(a, s, strlen(s), err, sizeof(err)), 0);
}

static void
test_gzip_members(void **state)
{
	struct archive_conf c = conf(true);
	struct archive *a;
	char *p;

	(void)state;
	a = archive_new(&c, "t<REV>.<DATETIME>.log.gz", "t/c");
	assert_true(archive_needs_rotation(a, T0));
	assert_int_equal(archive_write(a, "x", 1, err, sizeof(err)), -1);
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	p = path("t-000000.23.log.gz");
	assert_string_equal(archive_path(a), p);
	free(p);
	assert_false(archive_needs_rotation(a, T0 + 10));
	put_rec(a, "one");
	put_rec(a, "two");
	/* Nothing reaches the file before the sync. */
	assert_int_equal(size_of("t-000000.23.log.gz"), 0);
	assert_int_equal(archive_sync(a, err, sizeof(err)), 0);
	check_content("t-000000.23.log.gz", true, "one\ntwo\n");
	assert_int_equal(members("t-000000.23.log.gz"), 1);
	/* A sync with nothing new adds nothing. */
	assert_int_equal(archive_sync(a, err, sizeof(err)), 0);
	assert_int_equal(members("t-000000.23.log.gz"), 1);
	put_rec(a, "three");
	assert_int_equal(archive_sync(a, err, sizeof(err)), 0);
	assert_int_equal(members("t-000000.23.log.gz"), 2);
	put_rec(a, "four");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	assert_false(archive_is_open(a));
	assert_int_equal(members("t-000000.23.log.gz"), 3);
	check_content("t-000000.23.log.gz", true, "one\ntwo\nthree\nfour\n");
	/* Reopened within the hour: the next revision (O_EXCL). */
	assert_int_equal(archive_open_next(a, T0 + 60, err, sizeof(err)), 0);
	put_rec(a, "five");
	/* The next hour: a new name, revision 0 again. */
	assert_true(archive_needs_rotation(a, T0 + 3600));
	assert_int_equal(archive_open_next(a, T0 + 3600, err, sizeof(err)),
	    0);
	check_content("t-000001.23.log.gz", true, "five\n");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	/* Closed without a record: one empty member, still valid. */
	check_content("t-000000.00.log.gz", true, "");
	assert_int_equal(members("t-000000.00.log.gz"), 1);
	archive_free(a);
}

static void
test_rotate_size(void **state)
{
	struct archive_conf c = conf(true);
	struct archive *a;

	(void)state;
	c.rotate_size = 10;
	a = archive_new(&c, "s<REV>.gz", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "123456789");	/* 10 bytes: not more than 10 */
	assert_false(archive_needs_rotation(a, T0));
	put_rec(a, "x");
	assert_true(archive_needs_rotation(a, T0));
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "y");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	check_content("s-000000.gz", true, "123456789\nx\n");
	check_content("s-000001.gz", true, "y\n");
	archive_free(a);
}

static void
test_rotate_interval(void **state)
{
	struct archive_conf c = conf(false);
	struct archive *a;

	(void)state;
	c.rotate_interval = 30;
	a = archive_new(&c, "i<REV>", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	assert_false(archive_needs_rotation(a, T0 + 30));
	assert_true(archive_needs_rotation(a, T0 + 30.5));
	assert_int_equal(archive_open_next(a, T0 + 30.5, err, sizeof(err)),
	    0);
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	assert_int_equal(size_of("i-000000"), 0);
	assert_int_equal(size_of("i-000001"), 0);
	archive_free(a);
}

static void
write_file(const char *rel, const char *s)
{
	char *p = path(rel);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
	free(p);
}

/* Plain files are appended to; one already too big is passed over. */
static void
test_plain_append(void **state)
{
	struct archive_conf c = conf(false);
	struct archive *a;

	(void)state;
	c.rotate_size = 8;
	write_file("p-000000", "old\n");
	write_file("p-000001", "much too long\n");
	a = archive_new(&c, "p<REV>", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "new");
	assert_int_equal(size_of("p-000000"), 4);
	assert_int_equal(archive_sync(a, err, sizeof(err)), 0);
	check_content("p-000000", false, "old\nnew\n");
	put_rec(a, "more");		/* 12 bytes now */
	assert_true(archive_needs_rotation(a, T0));
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "z");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	check_content("p-000000", false, "old\nnew\nmore\n");
	check_content("p-000001", false, "much too long\n");
	check_content("p-000002", false, "z\n");
	archive_free(a);
}

/* Subdirectories of the name are made; no <REV>: one file, appended. */
static void
test_plain_subdirs(void **state)
{
	struct archive_conf c = conf(false);
	struct archive *a;

	(void)state;
	a = archive_new(&c, "x/y/<DATETIME>.log", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "a");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "b");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	check_content("x/y/23.log", false, "a\nb\n");
	archive_free(a);
}

/* With gzip, a name taken in the work dir is passed over (O_EXCL). */
static void
test_work_name_taken(void **state)
{
	struct archive_conf c = conf(true);
	struct archive *a;

	(void)state;
	write_file("w-000000.gz", "not ours");
	a = archive_new(&c, "w<REV>.gz", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "mine");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	check_content("w-000000.gz", false, "not ours");
	check_content("w-000001.gz", true, "mine\n");
	archive_free(a);
}

/*
 * A separate work dir: names taken in the output dir are passed over at
 * open; a name taken there meanwhile is not overwritten at the move.
 */
static void
test_move(void **state)
{
	struct archive_conf c = conf(true);
	struct archive *a;
	char *w, *o;

	(void)state;
	w = path("work");
	o = path("out");
	c.work_dir = w;
	c.output_dir = o;
	c.separate = true;
	assert_int_equal(mkdir(w, 0700), 0);
	assert_int_equal(mkdir(o, 0700), 0);
	write_file("out/m-000000.gz", "taken before");
	a = archive_new(&c, "m<REV>.gz", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "first");
	/* Taken while we write: out/m-000001.gz and out/m-000002.gz. */
	write_file("out/m-000001.gz", "taken meanwhile");
	write_file("out/m-000002.gz", "taken meanwhile too");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	assert_int_equal(size_of("work/m-000001.gz"), -1);
	check_content("out/m-000000.gz", false, "taken before");
	check_content("out/m-000001.gz", false, "taken meanwhile");
	check_content("out/m-000002.gz", false, "taken meanwhile too");
	check_content("out/m-000003.gz", true, "first\n");
	/* The next file passes over 2 and 3, taken in out/. */
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), 0);
	put_rec(a, "second");
	assert_int_equal(archive_close(a, err, sizeof(err)), 0);
	check_content("out/m-000004.gz", true, "second\n");
	assert_int_equal(size_of("work/m-000004.gz"), -1);
	archive_free(a);
	free(w);
	free(o);
}

/* An unwritable work dir is an error, not a crash. */
static void
test_open_error(void **state)
{
	struct archive_conf c = conf(false);
	struct archive *a;

	(void)state;
	write_file("plainfile", "x");
	c.work_dir = "/nonexistent-ntf-test/\001";
	a = archive_new(&c, "f<REV>", "t/c");
	if (getuid() != 0) {
		assert_int_equal(archive_open_next(a, T0, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "unable to create dir"));
	}
	archive_free(a);
	c.work_dir = dir;
	a = archive_new(&c, "plainfile/f", "t/c");
	assert_int_equal(archive_open_next(a, T0, err, sizeof(err)), -1);
	assert_false(archive_is_open(a));
	archive_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strftime),
		cmocka_unit_test(test_strftime_truncation),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_expand),
		cmocka_unit_test_setup_teardown(test_gzip_members,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_size,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_rotate_interval,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_plain_append,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_plain_subdirs,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_work_name_taken,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_move,
		    files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_open_error,
		    files_setup, files_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
