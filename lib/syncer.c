/*
 * The syncer: one worker thread, a FIFO of jobs under a mutex, and an
 * ev_async that brings finished jobs back to the loop's thread.  The
 * loop never waits for the worker except in syncer_drain (a queue being
 * closed, emptied or synced on demand needs its earlier jobs done first).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syncer.h"
#include "xmalloc.h"

enum job_kind { JOB_FSYNC_CLOSE, JOB_REPLACE, JOB_UNLINK };

struct job {
	enum job_kind	 kind;
	int		 fd;
	char		*path;
	char		*tmp;
	char		*data;
	size_t		 len;
	syncer_done_fn	*done;
	void		*arg;
	int		 err;
	struct job	*next;
};

struct job_list {
	struct job	*head;
	struct job	*tail;
};

struct syncer {
	struct ev_loop	*loop;
	ev_async	 wake;		/* the worker finished something */
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 more;		/* to the worker: todo or stop */
	pthread_cond_t	 idle;		/* to a drain: outstanding == 0 */
	struct job_list	 todo;
	struct job_list	 done;
	size_t		 outstanding;	/* given, not yet finished */
	bool		 stop;
};

static void
list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static int
write_full(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
syncer_replace_now(const char *path, const char *tmp, const void *data,
    size_t len)
{
	int fd, e;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (write_full(fd, data, len) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return fsync_parent(path);
}

static int
run(struct job *j)
{
	int r;

	switch (j->kind) {
	case JOB_FSYNC_CLOSE:
		r = fsync(j->fd);
		close(j->fd);
		return r;
	case JOB_REPLACE:
		return syncer_replace_now(j->path, j->tmp, j->data, j->len);
	case JOB_UNLINK:
		return unlink(j->path) == -1 && errno != ENOENT ? -1 : 0;
	}
	return 0;
}

static void *
worker(void *arg)
{
	struct syncer *s = arg;
	struct job *j;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->todo.head == NULL && !s->stop)
			pthread_cond_wait(&s->more, &s->mu);
		if ((j = s->todo.head) == NULL)
			break;			/* stopping, nothing left */
		if ((s->todo.head = j->next) == NULL)
			s->todo.tail = NULL;
		pthread_mutex_unlock(&s->mu);

		errno = 0;
		j->err = run(j) == -1 ? (errno ? errno : EIO) : 0;

		pthread_mutex_lock(&s->mu);
		list_push(&s->done, j);
		if (--s->outstanding == 0)
			pthread_cond_broadcast(&s->idle);
		ev_async_send(s->loop, &s->wake);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Run the callbacks of finished jobs (the loop's thread). */
static void
reap(struct syncer *s)
{
	struct job *j, *next;

	pthread_mutex_lock(&s->mu);
	j = s->done.head;
	s->done.head = s->done.tail = NULL;
	pthread_mutex_unlock(&s->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		if (j->done != NULL)
			j->done(j->arg, j->err);
		free(j->path);
		free(j->tmp);
		free(j->data);
		free(j);
	}
}

static void
wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	reap(w->data);
}

struct syncer *
syncer_new(struct ev_loop *loop)
{
	struct syncer *s = xcalloc(1, sizeof(*s));
	sigset_t all, old;
	int e;

	s->loop = loop;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->more, NULL);
	pthread_cond_init(&s->idle, NULL);
	/* The loop's thread takes the signals (libev may use signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->thread, NULL, worker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		pthread_cond_destroy(&s->idle);
		pthread_cond_destroy(&s->more);
		pthread_mutex_destroy(&s->mu);
		free(s);
		errno = e;
		return NULL;
	}
	ev_async_init(&s->wake, wake_cb);
	s->wake.data = s;
	ev_async_start(loop, &s->wake);
	ev_unref(loop);		/* the watcher alone keeps no loop running */
	return s;
}

static void
give(struct syncer *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	list_push(&s->todo, j);
	s->outstanding++;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->mu);
}

static struct job *
job_new(enum job_kind kind, syncer_done_fn *done, void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	j->fd = -1;
	j->done = done;
	j->arg = arg;
	return j;
}

void
syncer_fsync_close(struct syncer *s, int fd, syncer_done_fn *done,
    void *arg)
{
	struct job *j = job_new(JOB_FSYNC_CLOSE, done, arg);

	j->fd = fd;
	give(s, j);
}

void
syncer_replace(struct syncer *s, const char *path, const char *tmp,
    const void *data, size_t len, syncer_done_fn *done, void *arg)
{
	struct job *j = job_new(JOB_REPLACE, done, arg);

	j->path = xstrdup(path);
	j->tmp = xstrdup(tmp);
	j->data = xmalloc(len > 0 ? len : 1);
	memcpy(j->data, data, len);
	j->len = len;
	give(s, j);
}

void
syncer_unlink(struct syncer *s, const char *path, syncer_done_fn *done,
    void *arg)
{
	struct job *j = job_new(JOB_UNLINK, done, arg);

	j->path = xstrdup(path);
	give(s, j);
}

void
syncer_drain(struct syncer *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->outstanding > 0)
		pthread_cond_wait(&s->idle, &s->mu);
	pthread_mutex_unlock(&s->mu);
	reap(s);
}

void
syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	syncer_drain(s);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	ev_ref(s->loop);
	ev_async_stop(s->loop, &s->wake);
	reap(s);
	pthread_cond_destroy(&s->idle);
	pthread_cond_destroy(&s->more);
	pthread_mutex_destroy(&s->mu);
	free(s);
}
