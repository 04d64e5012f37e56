/*
 * nsqd.dat: the topics and channels, and which are paused, in Go nsqd's
 * JSON, so either implementation can start on the other's data path.
 * Written atomically (temporary file, fsync, rename, fsync of the
 * directory) whenever the set or a paused flag changed, once per loop
 * turn at most (after a failure, once a second at most), and at exit.
 * Ephemeral topics and channels never appear.
 *
 * Loading survives damage: a missing or unreadable nsqd.dat while disk
 * queue files exist, or a topic entry that cannot be read, does not lose
 * their messages: the topics and channels are found again from the names
 * of the queues' meta files (their paused flags cannot be; they start
 * unpaused, and the log says so).
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "names.h"
#include "nsqd.h"
#include "xmalloc.h"

#define META_FILE	"nsqd.dat"
#define META_MAX	(64 << 20)
#define DQ_META_SUFFIX	".diskqueue.meta.dat"

static char *
path(const struct nsqd *n, const char *file)
{
	return xasprintf("%s/%s", n->data_path, file);
}

/* Topics and channels sorted by name, so the file is stable. */
static int
cmp_topic(const void *a, const void *b)
{
	return strcmp((*(struct topic *const *)a)->name,
	    (*(struct topic *const *)b)->name);
}

/* The JSON of nsqd.dat into b; -1 if it does not fit. */
static int
serialize(struct nsqd *n, struct buf *b)
{
	struct topic **ts, *t;
	struct jw w;
	size_t nt = 0, pos = 0, i, j;

	ts = xreallocarray(NULL, hmap_len(&n->topics) + 1, sizeof(*ts));
	while ((t = hmap_next(&n->topics, &pos)) != NULL) {
		if (!t->ephemeral)
			ts[nt++] = t;
	}
	qsort(ts, nt, sizeof(*ts), cmp_topic);
	buf_init(b, 4096, META_MAX);
	jw_init(&w, b);
	jw_obj_begin(&w);
	jw_key(&w, "topics");
	jw_arr_begin(&w);
	for (i = 0; i < nt; i++) {
		size_t nc = 0;

		t = ts[i];
		jw_obj_begin(&w);
		jw_key(&w, "name");
		jw_str(&w, t->name);
		jw_key(&w, "paused");
		jw_bool(&w, t->paused);
		jw_key(&w, "channels");
		for (j = 0; j < t->nchans; j++)
			nc += !t->chans[j]->ephemeral;
		if (nc == 0)
			jw_null(&w);	/* Go's nil slice */
		else {
			jw_arr_begin(&w);
			for (j = 0; j < t->nchans; j++) {
				struct channel *ch = t->chans[j];

				if (ch->ephemeral)
					continue;
				jw_obj_begin(&w);
				jw_key(&w, "name");
				jw_str(&w, ch->name);
				jw_key(&w, "paused");
				jw_bool(&w, ch->paused);
				jw_obj_end(&w);
			}
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_obj_end(&w);
	free(ts);
	if (jw_finish(&w) == -1) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}

static void
failed(struct nsqd *n, const char *file)
{
	log_warn("NSQ: failed to persist metadata to %s", file);
	/*
	 * Try again on a later turn, a second from now at the earliest: a
	 * full disk must not cost a write attempt and a log line per turn.
	 */
	n->meta_dirty = true;
	n->meta_retry = nsqd_now(n) + NS_SEC;
}

/* At exit, and where no syncer runs: written before this returns. */
int
meta_save(struct nsqd *n)
{
	struct buf b;
	char *file, *tmp;
	int r = -1;

	file = path(n, META_FILE);
	tmp = xasprintf("%s.%" PRIu64 ".tmp", file, rand_u64() >> 1);
	n->meta_writes++;
	if (serialize(n, &b) == 0 &&
	    syncer_replace_now(file, tmp, buf_data(&b), buf_len(&b)) == 0)
		r = 0;
	else
		failed(n, file);
	log_debug("NSQ: persisted metadata (%" PRIu64 " writes)",
	    n->meta_writes);
	free(tmp);
	free(file);
	buf_free(&b);
	return r;
}

static void
async_done(void *arg, int err)
{
	struct nsqd *n = arg;

	n->meta_busy = false;
	if (err != 0) {
		char *file = path(n, META_FILE);

		errno = err;
		failed(n, file);
		free(file);
	}
	/* Changes made meanwhile are written on this turn's tick. */
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_SEC + ts.tv_nsec;
}

/*
 * The loop serializes (a copy of the set, as Go's PersistMetadata does
 * under its lock) and goes on; the worker writes and fsyncs.  While one
 * rewrite runs, changes only set meta_dirty: however many creates and
 * deletes a rewrite's fsyncs last, the next rewrite carries them all.
 * A crash loses at most the changes since the last finished rewrite
 * (their queues are found again from their files on start).
 *
 * Serializing costs time in the number of topics, so a rewrite a turn
 * made each of 10,000 creates cost more than the one before.  The next
 * rewrite waits META_PACE times as long as this serialization took (at
 * most META_PACE_MAX): serializing takes at most a tenth of the loop
 * whatever the count, and a change waits milliseconds to be written.
 */
#define META_PACE	9
#define META_PACE_MAX	NS_SEC

void
meta_save_async(struct nsqd *n)
{
	struct buf b;
	char *file, *tmp;
	int64_t t0, pause;

	if (n->meta_busy || n->syncer == NULL)
		return;
	n->meta_dirty = false;
	file = path(n, META_FILE);
	t0 = mono_ns();
	if (serialize(n, &b) == -1) {
		failed(n, file);
		free(file);
		buf_free(&b);
		return;
	}
	pause = META_PACE * (mono_ns() - t0);
	n->meta_next = nsqd_now(n) + (pause < META_PACE_MAX ? pause :
	    META_PACE_MAX);
	tmp = xasprintf("%s.%" PRIu64 ".tmp", file, rand_u64() >> 1);
	n->meta_writes++;
	n->meta_busy = true;
	log_debug("NSQ: persisting metadata (%" PRIu64 " writes)",
	    n->meta_writes);
	syncer_replace(n->syncer, file, tmp, buf_data(&b), buf_len(&b),
	    async_done, n);
	free(tmp);
	free(file);
	buf_free(&b);
}

/* Create a topic (and channel, if chname) found on disk; log failures. */
static struct topic *
restore(struct nsqd *n, const char *tname, size_t tlen, bool paused)
{
	struct topic *t;

	if (!name_valid(tname, tlen) || name_ephemeral(tname, tlen)) {
		log_warnx("NSQ: skipping topic %.*s from metadata: invalid "
		    "name", (int)tlen, tname);
		return NULL;
	}
	if ((t = nsqd_get_topic(n, tname, tlen)) == NULL) {
		log_error("NSQ: cannot restore topic %.*s", (int)tlen, tname);
		return NULL;
	}
	if (paused)
		t->paused = true;
	return t;
}

static void
restore_channel(struct topic *t, const char *cname, size_t clen,
    bool paused)
{
	struct channel *ch;

	if (!name_valid(cname, clen) || name_ephemeral(cname, clen)) {
		log_warnx("NSQ: skipping channel %s:%.*s from metadata: "
		    "invalid name", t->name, (int)clen, cname);
		return;
	}
	if ((ch = topic_get_channel(t, cname, clen)) == NULL) {
		log_error("NSQ: cannot restore channel %s:%.*s", t->name,
		    (int)clen, cname);
		return;
	}
	if (paused)
		ch->paused = true;
}

/*
 * Find topics and channels from the disk queues' meta file names:
 * "<topic>.diskqueue.meta.dat" and "<topic>:<channel>.diskqueue.meta.dat".
 * Topics already known are kept as they are.  Returns how many were new.
 */
static int
discover(struct nsqd *n)
{
	DIR *d;
	struct dirent *de;
	int found = 0;

	if ((d = opendir(n->data_path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name, *colon;
		size_t len = strlen(name), sl = strlen(DQ_META_SUFFIX);
		struct topic *t;

		if (len <= sl || strcmp(name + len - sl, DQ_META_SUFFIX) != 0)
			continue;
		len -= sl;
		colon = memchr(name, ':', len);
		if (colon == NULL) {
			if (nsqd_find_topic(n, name, len) == NULL &&
			    restore(n, name, len, false) != NULL)
				found++;
			continue;
		}
		t = nsqd_find_topic(n, name, (size_t)(colon - name));
		if (t == NULL &&
		    (t = restore(n, name, (size_t)(colon - name), false)) == NULL)
			continue;
		if (topic_find_channel(t, colon + 1,
		    len - (size_t)(colon - name) - 1) == NULL) {
			restore_channel(t, colon + 1,
			    len - (size_t)(colon - name) - 1, false);
			found++;
		}
	}
	closedir(d);
	return found;
}

/* Read one topic entry of nsqd.dat; -1 if it is not what Go writes. */
static int
load_topic(struct nsqd *n, struct json *j, int tok)
{
	int name, paused, chans, i, k;
	bool p = false, cp;
	struct topic *t;
	char *s;
	size_t len;

	if (json_type(j, tok) != JSON_OBJECT ||
	    (name = json_obj_get(j, tok, "name")) == -1 ||
	    (s = json_get_str(j, name, &len)) == NULL)
		return -1;
	if ((paused = json_obj_get(j, tok, "paused")) != -1 &&
	    json_get_bool(j, paused, &p) == -1) {
		free(s);
		return -1;
	}
	t = restore(n, s, len, p);
	free(s);
	if (t == NULL)
		return 0;
	chans = json_obj_get(j, tok, "channels");
	if (chans == -1 || json_prim_kind(j, chans) == 'n')
		return 0;
	if (json_type(j, chans) != JSON_ARRAY)
		return -1;
	for (i = 0; i < json_size(j, chans); i++) {
		int c = json_arr_at(j, chans, i);

		if (json_type(j, c) != JSON_OBJECT ||
		    (k = json_obj_get(j, c, "name")) == -1 ||
		    (s = json_get_str(j, k, &len)) == NULL)
			return -1;
		cp = false;
		if ((k = json_obj_get(j, c, "paused")) != -1)
			(void)json_get_bool(j, k, &cp);
		restore_channel(t, s, len, cp);
		free(s);
	}
	return 0;
}

int
meta_load(struct nsqd *n)
{
	char *file = path(n, META_FILE), err[256];
	struct buf b;
	struct json j;
	int fd, topics, i, bad = 0, found;
	ssize_t r;

	buf_init(&b, 4096, META_MAX);
	memset(&j, 0, sizeof(j));
	n->loading = true;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("NSQ: cannot read %s", file);
		goto recover;
	}
	while ((r = buf_read_fd(&b, fd)) > 0)
		;
	close(fd);
	if (r == -1) {
		log_warn("NSQ: cannot read %s", file);
		goto recover;
	}
	if (json_parse(&j, buf_data(&b), buf_len(&b), err,
	    sizeof(err)) == -1 || json_type(&j, 0) != JSON_OBJECT) {
		log_error("NSQ: %s is damaged (%s)", file,
		    json_type(&j, 0) == JSON_UNDEF ? err : "not an object");
		goto recover;
	}
	topics = json_obj_get(&j, 0, "topics");
	if (topics != -1 && json_type(&j, topics) == JSON_ARRAY) {
		for (i = 0; i < json_size(&j, topics); i++)
			bad += load_topic(n, &j, json_arr_at(&j, topics, i))
			    == -1;
	} else if (topics != -1 && json_prim_kind(&j, topics) != 'n')
		bad++;
	if (bad > 0)
		log_error("NSQ: %d entries of %s could not be read", bad, file);
recover:
	/* Queues on disk that nsqd.dat does not name are not forgotten. */
	if ((found = discover(n)) > 0)
		log_warnx("NSQ: restored %d topics/channels from disk queue "
		    "files not named in %s (paused flags unknown: unpaused)",
		    found, file);
	json_free(&j);
	buf_free(&b);
	free(file);
	n->meta_dirty = true;
	n->loading = false;
	return 0;
}
