/*
 * Unit tests for lib/syncer: each kind of job does its work and reports
 * 0 or the errno that failed it; jobs run in the order given (the last
 * of 200 rewrites of one file wins); callbacks arrive through the loop's
 * ev_async as well as through syncer_drain; syncer_free finishes what is
 * left; syncer_replace_now leaves no temporary file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "syncer.h"

struct seen {
	int	n;
	int	errs[512];
};

static void
note(void *arg, int err)
{
	struct seen *s = arg;

	assert_true(s->n < 512);
	s->errs[s->n++] = err;
}

static void
never(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	fail_msg("the guard timer fired: a callback never came");
}

static char *
make_tmpdir(void)
{
	char tmpl[] = "/tmp/test_syncer.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return strdup(tmpl);
}

static void
slurp_eq(const char *path, const char *want)
{
	char got[256];
	ssize_t n;
	int fd;

	assert_true((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, got, sizeof(got));
	close(fd);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, strlen(want));
	assert_memory_equal(got, want, (size_t)n);
}

static void
test_replace_in_order(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct syncer *s = syncer_new(loop);
	struct seen seen = { 0 };
	char *dir = make_tmpdir(), path[PATH_MAX], tmp[PATH_MAX + 32];
	char text[32];
	int i;

	(void)state;
	assert_non_null(s);
	snprintf(path, sizeof(path), "%s/meta.dat", dir);
	for (i = 0; i < 200; i++) {
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, i);
		snprintf(text, sizeof(text), "version %d\n", i);
		syncer_replace(s, path, tmp, text, strlen(text), note, &seen);
	}
	syncer_drain(s);
	assert_int_equal(seen.n, 200);
	for (i = 0; i < 200; i++)
		assert_int_equal(seen.errs[i], 0);
	slurp_eq(path, "version 199\n");
	snprintf(tmp, sizeof(tmp), "%s.199.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);

	/* unlink: gone, and a missing file is fine. */
	syncer_unlink(s, path, note, &seen);
	syncer_unlink(s, path, note, &seen);
	syncer_drain(s);
	assert_int_equal(seen.n, 202);
	assert_int_equal(seen.errs[200], 0);
	assert_int_equal(seen.errs[201], 0);
	assert_int_equal(access(path, F_OK), -1);
	syncer_free(s);
	ev_loop_destroy(loop);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
test_errors_reported(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct syncer *s = syncer_new(loop);
	struct seen seen = { 0 };
	char *dir = make_tmpdir(), path[PATH_MAX];
	int p[2];

	(void)state;
	/* A replace into a directory that does not exist. */
	snprintf(path, sizeof(path), "%s/nope/meta.dat", dir);
	syncer_replace(s, path, "/nonexistent-dir/x.tmp", "x", 1, note,
	    &seen);
	/* fsync of a pipe fails (EINVAL); the fd is closed all the same. */
	assert_int_equal(pipe(p), 0);
	syncer_fsync_close(s, p[0], note, &seen);
	/* unlink of a directory fails (EISDIR or EPERM). */
	syncer_unlink(s, dir, note, &seen);
	syncer_drain(s);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.errs[0], ENOENT);
	assert_int_equal(seen.errs[1], EINVAL);
	assert_true(seen.errs[2] == EISDIR || seen.errs[2] == EPERM);
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	close(p[1]);
	syncer_free(s);
	ev_loop_destroy(loop);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
test_callbacks_through_loop(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct syncer *s = syncer_new(loop);
	struct seen seen = { 0 };
	char *dir = make_tmpdir(), path[PATH_MAX], tmp[PATH_MAX + 32];
	ev_timer guard;
	int fd, turns;

	(void)state;
	snprintf(path, sizeof(path), "%s/data", dir);
	assert_true((fd = open(path, O_CREAT | O_WRONLY, 0600)) != -1);
	assert_int_equal(write(fd, "abc", 3), 3);
	syncer_fsync_close(s, fd, note, &seen);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	syncer_replace(s, path, tmp, "new", 3, note, &seen);
	/* A referenced timer keeps ev_run waiting; bounded turns. */
	ev_timer_init(&guard, never, 30., 0.);
	ev_timer_start(loop, &guard);
	for (turns = 0; seen.n < 2 && turns < 1000; turns++)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.errs[0], 0);
	assert_int_equal(seen.errs[1], 0);
	slurp_eq(path, "new");

	/* syncer_free finishes what is still queued. */
	syncer_unlink(s, path, note, &seen);
	syncer_free(s);
	assert_int_equal(seen.n, 3);
	assert_int_equal(access(path, F_OK), -1);
	ev_loop_destroy(loop);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void
test_replace_now(void **state)
{
	char *dir = make_tmpdir(), path[PATH_MAX], tmp[PATH_MAX + 32];

	(void)state;
	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(syncer_replace_now(path, tmp, "one", 3), 0);
	assert_int_equal(syncer_replace_now(path, tmp, "two!", 4), 0);
	slurp_eq(path, "two!");
	assert_int_equal(access(tmp, F_OK), -1);
	errno = 0;
	assert_int_equal(syncer_replace_now(path, "/nonexistent-dir/t", "x",
	    1), -1);
	assert_int_equal(errno, ENOENT);
	slurp_eq(path, "two!");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_in_order),
		cmocka_unit_test(test_errors_reported),
		cmocka_unit_test(test_callbacks_through_loop),
		cmocka_unit_test(test_replace_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
