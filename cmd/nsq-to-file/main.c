/*
 * nsq-to-file: write the messages of topics to files, one per line, like
 * Go NSQ's nsq_to_file and with its flags: rotation by time, size and
 * name, gzip, a work dir whose finished files move to the output dir,
 * topics named or discovered through nsqlookupd (--topic-pattern).
 *
 * A message is finished only once its line is written and fsynced: at
 * each --sync-interval, when --max-in-flight messages wait, or when the
 * consumer is starved (nsqd will send nothing more until we answer), so
 * killing the tool loses nothing; SIGINT/SIGTERM stop cleanly, syncing
 * and finishing everything received, and SIGHUP closes the files (the
 * next message opens new ones).
 *
 * Beyond Go, for cron: --exit-when-idle D archives until no message has
 * come for D, then closes the files and exits 0; and a lock file per
 * topic in the work dir (.nsq-to-file.<topic>.lock) makes a second
 * instance archiving the same topic into the same directory refuse to
 * run (exit 1) rather than interleave with the first.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "../common/client.h"
#include "../common/tool.h"
#include "archive.h"
#include "httpc.h"
#include "json.h"
#include "log.h"
#include "lookup.h"
#include "names.h"
#include "naming.h"
#include "nsq.h"
#include "options.h"
#include "regex.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-to-file"
#define STOP_WAIT	35.0	/* seconds a stop may take in all */
#define SIGNAL_REPEAT	1.0	/* a signal this soon again is the same */
#define TOPICS_MAX_BODY	(16 * 1024 * 1024)
#define ACCEPT_V1	"application/vnd.nsq; version=1.0"
#define NS		1e9

static struct {
	const char	*channel;
	struct strlist	 consumer_opts;
	const char	*datetime_format;
	int64_t		 exit_when_idle;
	const char	*filename_format;
	bool		 gzip;
	int64_t		 gzip_level;
	const char	*host_identifier;
	int64_t		 http_connect_timeout;
	int64_t		 http_request_timeout;
	const char	*log_level;
	const char	*log_prefix;
	struct strlist	 lookupd;
	int64_t		 max_in_flight;
	struct strlist	 nsqd;
	const char	*output_dir;
	int64_t		 rotate_interval;
	int64_t		 rotate_size;
	bool		 skip_empty_files;
	int64_t		 sync_interval;
	struct strlist	 topics;
	const char	*topic_pattern;
	int64_t		 topic_refresh;
	bool		 version;
	const char	*work_dir;
} o = {
	.channel = "nsq_to_file",
	.datetime_format = "%Y-%m-%d_%H",
	.filename_format = "<TOPIC>.<HOST><REV>.<DATETIME>.log",
	.gzip_level = 6,
	.host_identifier = "",
	.http_connect_timeout = 2000000000,
	.http_request_timeout = 5000000000,
	.log_level = "info",
	.log_prefix = "[nsq_to_file] ",
	.max_in_flight = 200,
	.output_dir = "/tmp",
	.sync_interval = 30000000000,
	.topic_pattern = "",
	.topic_refresh = 60000000000,
	.work_dir = "",
};

static const struct opt opts[] = {
	{ "channel", 0, OPT_STR, &o.channel, "CHANNEL", "NSQ channel", NULL,
	  0, 0 },
	{ "consumer-opt", 0, OPT_STRLIST, &o.consumer_opts, "KEY,VALUE",
	  "go-nsq consumer option (repeatable)", NULL, 0, 0 },
	{ "datetime-format", 0, OPT_STR, &o.datetime_format, "FORMAT",
	  "strftime format of <DATETIME> in --filename-format", NULL, 0, 0 },
	{ "exit-when-idle", 0, OPT_DURATION, &o.exit_when_idle, "DURATION",
	  "exit 0 once no message has come for DURATION, files closed "
	  "(0: never)", NULL, 0, INT64_MAX },
	{ "filename-format", 0, OPT_STR, &o.filename_format, "FORMAT",
	  "output file name: <TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are "
	  "replaced", NULL, 0, 0 },
	{ "gzip", 0, OPT_BOOL, &o.gzip, NULL, "gzip output files", NULL, 0,
	  0 },
	{ "gzip-level", 0, OPT_INT, &o.gzip_level, "N",
	  "gzip compression level (1-9, 1: fastest, 9: smallest)", NULL, 0,
	  0 },
	{ "host-identifier", 0, OPT_STR, &o.host_identifier, "ID",
	  "<HOST> in file names (may use <SHORT_HOST> and <HOSTNAME>; "
	  "default: the short host name)", NULL, 0, 0 },
	{ "http-client-connect-timeout", 0, OPT_DURATION,
	  &o.http_connect_timeout, "DURATION",
	  "timeout for connecting to nsqlookupd", NULL, 0, 0 },
	{ "http-client-request-timeout", 0, OPT_DURATION,
	  &o.http_request_timeout, "DURATION",
	  "timeout for a request to nsqlookupd", NULL, 0, 0 },
	{ "log-level", 0, OPT_STR, &o.log_level, "LEVEL",
	  "debug, info, warn, error or fatal", NULL, 0, 0 },
	{ "log-prefix", 0, OPT_STR, &o.log_prefix, "PREFIX",
	  "log message prefix", NULL, 0, 0 },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "nsqlookupd HTTP address (repeatable)", NULL, 0, 0 },
	{ "max-in-flight", 0, OPT_INT, &o.max_in_flight, "N",
	  "most messages in flight per topic, also the most written before "
	  "a sync", NULL, 1, INT32_MAX },
	{ "nsqd-tcp-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd TCP address (repeatable)", NULL, 0, 0 },
	{ "output-dir", 0, OPT_STR, &o.output_dir, "DIR",
	  "directory to write output files to", NULL, 0, 0 },
	{ "rotate-interval", 0, OPT_DURATION, &o.rotate_interval, "DURATION",
	  "rotate the file every DURATION (0: never)", NULL, 0, INT64_MAX },
	{ "rotate-size", 0, OPT_INT, &o.rotate_size, "BYTES",
	  "rotate the file once it has more than BYTES (0: never)", NULL, 0,
	  INT64_MAX },
	{ "skip-empty-files", 0, OPT_BOOL, &o.skip_empty_files, NULL,
	  "open files only for messages, never empty ones", NULL, 0, 0 },
	{ "sync-interval", 0, OPT_DURATION, &o.sync_interval, "DURATION",
	  "sync files to disk (and finish their messages) every DURATION",
	  NULL, 0, 0 },
	{ "topic", 0, OPT_STRLIST, &o.topics, "TOPIC",
	  "NSQ topic (repeatable)", NULL, 0, 0 },
	{ "topic-pattern", 0, OPT_STR, &o.topic_pattern, "REGEX",
	  "only topics matching this Go (RE2) regular expression", NULL, 0,
	  0 },
	{ "topic-refresh", 0, OPT_DURATION, &o.topic_refresh, "DURATION",
	  "how often to ask nsqlookupd for new topics (without --topic)",
	  NULL, 0, 0 },
	CLIENT_TCP_OPTS,
	CLIENT_HTTP_OPTS,
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
	{ "work-dir", 0, OPT_STR, &o.work_dir, "DIR",
	  "directory for files being written, moved to --output-dir when "
	  "closed (default: --output-dir)", NULL, 0, 0 },
};

/* One topic: its consumer, its files and its messages not yet synced. */
struct topic {
	char			*name;
	struct nsq_consumer	*cons;
	struct archive		*arch;
	struct nsq_message	**pending;
	size_t			 npending, cappending;
	bool			 sync_wanted;
	bool			 stopped;
	int			 lockfd;
	struct strlist		 up;		/* nsqd addresses that worked */
};

/* One round of GET /topics over every nsqlookupd. */
struct discovery {
	size_t		 waiting;	/* answers to come */
	bool		 first;
	size_t		 added, locked;
};

static struct {
	struct ev_loop		*loop;
	struct nsq_config	*cfg;
	struct archive_conf	 ac;
	struct ntf_names	 names;
	char			 hostname[256];
	struct re		*re;		/* --topic-pattern, or NULL */
	struct topic		**topics;
	size_t			 ntopics;
	struct strlist		 skipped;	/* not matching the pattern */
	struct httpc		*http;
	struct httpc_req	**reqs;		/* /topics being asked */
	struct discovery	*round;
	bool			 stopping;
	ev_tstamp		 signalled_at;
	ev_tstamp		 last_msg;
	uint64_t		 archived;
	bool			 ever_up;
	size_t			 errors;	/* ERROR lines logged */
	int			 rc;
	ev_prepare		 prep;
	ev_timer		 tick, refresh, idle, stop_wait;
	ev_signal		 sigint, sigterm, sighup;
} st;

static void
lib_log_cb(enum nsq_log_level lvl, const char *msg, void *arg)
{
	static const enum log_level map[] = {
		[NSQ_LOG_DEBUG] = LOG_LEVEL_DEBUG,
		[NSQ_LOG_INFO] = LOG_LEVEL_INFO,
		[NSQ_LOG_WARN] = LOG_LEVEL_WARN,
		[NSQ_LOG_ERROR] = LOG_LEVEL_ERROR,
	};

	(void)arg;
	if (lvl == NSQ_LOG_ERROR)
		st.errors++;
	log_emit(map[lvl], 0, "%s", client_hint(msg));
}

/* Write and fsync t's records, then finish their messages. */
static void
topic_sync(struct topic *t)
{
	char err[512];
	size_t i;

	t->sync_wanted = false;
	if (t->npending == 0)
		return;
	log_debug("[%s/%s] syncing %zu records to disk", t->name, o.channel,
	    t->npending);
	if (archive_sync(t->arch, err, sizeof(err)) == -1)
		fatalx("[%s/%s] failed syncing messages: %s", t->name,
		    o.channel, err);
	for (i = 0; i < t->npending; i++)
		(void)nsq_msg_finish(t->pending[i]);
	st.archived += t->npending;
	t->npending = 0;
}

static void
topic_close(struct topic *t)
{
	char err[512];

	topic_sync(t);
	if (archive_close(t->arch, err, sizeof(err)) == -1)
		fatalx("[%s/%s] %s", t->name, o.channel, err);
}

static void
topic_rotate(struct topic *t, ev_tstamp now)
{
	char err[512];

	if (archive_open_next(t->arch, now, err, sizeof(err)) == -1)
		fatalx("[%s/%s] %s", t->name, o.channel, err);
}

static void
message_cb(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	struct topic *t = arg;
	ev_tstamp now = ev_now(st.loop);
	const void *body;
	size_t len;
	char err[512];

	(void)c;
	st.last_msg = now;
	if (archive_needs_rotation(t->arch, now)) {
		topic_rotate(t, now);
		t->sync_wanted = true;
	}
	body = nsq_msg_body(m, &len);
	if (archive_write(t->arch, body, len, err, sizeof(err)) == -1)
		fatalx("[%s/%s] writing message to disk: %s", t->name,
		    o.channel, err);
	/*
	 * Usually at most max-in-flight wait, but RDY moving between
	 * connections can let a few more in before the next sync.
	 */
	if (t->npending == t->cappending) {
		t->cappending *= 2;
		t->pending = xreallocarray(t->pending, t->cappending,
		    sizeof(*t->pending));
	}
	t->pending[t->npending++] = m;
	if (t->npending >= (size_t)o.max_in_flight)
		t->sync_wanted = true;
}

/*
 * Before the loop waits: sync where asked, where the consumer is starved
 * and, once stopping, everywhere (each message received is then answered
 * at once, so the connections can close).
 */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct topic *t;
	size_t i;

	(void)loop;
	(void)w;
	(void)revents;
	for (i = 0; i < st.ntopics; i++) {
		t = st.topics[i];
		if (t->sync_wanted || st.stopping ||
		    (t->npending > 0 && nsq_consumer_is_starved(t->cons)))
			topic_sync(t);
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct topic *t;
	ev_tstamp now = ev_now(loop);
	size_t i;

	(void)w;
	(void)revents;
	for (i = 0; i < st.ntopics; i++) {
		t = st.topics[i];
		if (!t->stopped && archive_needs_rotation(t->arch, now)) {
			if (o.skip_empty_files)
				topic_close(t);
			else
				topic_rotate(t, now);
		}
		t->sync_wanted = true;
	}
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	size_t i;

	(void)loop;
	(void)w;
	(void)revents;
	log_info("SIGHUP: closing files");
	for (i = 0; i < st.ntopics; i++)
		topic_close(st.topics[i]);
}

static void
check_all_stopped(void)
{
	size_t i;

	for (i = 0; i < st.ntopics; i++)
		if (!st.topics[i]->stopped)
			return;
	ev_break(st.loop, EVBREAK_ALL);
}

static void
stopped_cb(struct nsq_consumer *c, void *arg)
{
	struct topic *t = arg;

	(void)c;
	topic_close(t);
	t->stopped = true;
	check_all_stopped();
}

static void
cancel_discovery(void)
{
	size_t i;

	for (i = 0; i < o.lookupd.n && st.reqs != NULL; i++) {
		if (st.reqs[i] != NULL)
			httpc_cancel(st.reqs[i]);
		st.reqs[i] = NULL;
	}
	free(st.round);
	st.round = NULL;
}

static void
stop_all(void)
{
	size_t i;

	if (st.stopping)
		return;
	st.stopping = true;
	ev_timer_stop(st.loop, &st.tick);
	ev_timer_stop(st.loop, &st.refresh);
	ev_timer_stop(st.loop, &st.idle);
	cancel_discovery();
	ev_timer_set(&st.stop_wait, STOP_WAIT, 0);
	ev_timer_start(st.loop, &st.stop_wait);
	for (i = 0; i < st.ntopics; i++)
		nsq_consumer_stop(st.topics[i]->cons, stopped_cb,
		    st.topics[i]);
	check_all_stopped();
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (st.stopping) {
		/*
		 * A second signal ends the wait, unless it is the same one
		 * delivered twice (timeout(1) signals its child and then the
		 * child's process group).
		 */
		if (ev_now(loop) - st.signalled_at >= SIGNAL_REPEAT)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	log_info("%s: stopping", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
	st.signalled_at = ev_now(loop);
	stop_all();
}

static void
stop_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	log_warnx("consumers did not stop in %.0fs", STOP_WAIT);
	ev_break(loop, EVBREAK_ALL);
}

static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_tstamp idle = (ev_tstamp)o.exit_when_idle / NS;
	ev_tstamp quiet = ev_now(loop) - st.last_msg;
	char d[64];

	(void)revents;
	if (quiet < idle) {
		ev_timer_set(w, idle - quiet, 0);
		ev_timer_start(loop, w);
		return;
	}
	format_duration(o.exit_when_idle, d, sizeof(d));
	log_info("no message for %s: %" PRIu64 " archived, exiting", d,
	    st.archived);
	stop_all();
}

static void
conn_cb(struct nsq_consumer *c, const char *addr, enum nsq_conn_event ev,
    const char *err, void *arg)
{
	struct topic *t = arg;

	(void)c;
	(void)err;
	/* Only kept: a topic's nsqd that never worked is told at exit. */
	(void)client_conn_never_up(&t->up, addr, ev);
	if (ev == NSQ_CONN_UP)
		st.ever_up = true;
}

/*
 * Take topic's lock in the work dir: 0, or 1 when another process holds
 * it (its pid in *holder, 0 if unknown).  Fatal if the file cannot be
 * made.
 */
static int
lock_topic(const char *topic, int *fdp, long *holder)
{
	char *path, pidtext[32];
	ssize_t n;
	int fd;

	path = xasprintf("%s/.%s.%s.lock", o.work_dir, PROG, topic);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		fatal("unable to open lock file %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			fatal("unable to lock %s", path);
		n = pread(fd, pidtext, sizeof(pidtext) - 1, 0);
		pidtext[n > 0 ? n : 0] = '\0';
		*holder = strtol(pidtext, NULL, 10);
		close(fd);
		free(path);
		return 1;
	}
	n = snprintf(pidtext, sizeof(pidtext), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pidtext, (size_t)n, 0) != n)
		log_warn("writing lock file %s", path);
	free(path);
	*fdp = fd;
	return 0;
}

static bool
topic_known(const char *name)
{
	size_t i;

	for (i = 0; i < st.ntopics; i++)
		if (strcmp(st.topics[i]->name, name) == 0)
			return true;
	return false;
}

static bool
topic_allowed(const char *name)
{
	char err[256];
	int r;

	if (st.re == NULL)
		return true;
	/* As Go: a pattern that cannot be applied matches nothing. */
	if ((r = re_match(st.re, name, strlen(name), err, sizeof(err))) == -1)
		log_warnx("topic %s: --topic-pattern %s: %s", name,
		    re_pattern(st.re), err);
	return r == 1;
}

/*
 * Start archiving topic name: 0; 1 when another process holds its lock
 * (its pid in *holder); -1 when its consumer cannot be made (err: a bad
 * topic name).  An address the library refuses is fatal, as it would be
 * for every topic.
 */
static int
topic_add(const char *name, long *holder, char *err, size_t errlen)
{
	struct topic *t;
	char *tmpl = NULL, *label;
	size_t i;
	int r = -1;

	t = xcalloc(1, sizeof(*t));
	t->lockfd = -1;
	/* The name is checked (by the consumer) before a lock file is made. */
	if ((t->cons = nsq_consumer_new(st.loop, name, o.channel, st.cfg,
	    message_cb, t, err, errlen)) == NULL)
		goto fail;
	/* Validated in main(): the format cannot fail here. */
	if ((tmpl = ntf_template(&st.names, name, err, errlen)) == NULL)
		goto fail;
	if (lock_topic(name, &t->lockfd, holder) == 1) {
		r = 1;
		goto fail;
	}
	nsq_consumer_set_conn_cb(t->cons, conn_cb);
	t->name = xstrdup(name);
	t->cappending = (size_t)o.max_in_flight;
	t->pending = xcalloc(t->cappending, sizeof(*t->pending));
	label = xasprintf("%s/%s", name, o.channel);
	t->arch = archive_new(&st.ac, tmpl, label);
	free(tmpl);
	free(label);
	st.topics = xreallocarray(st.topics, st.ntopics + 1,
	    sizeof(*st.topics));
	st.topics[st.ntopics++] = t;
	for (i = 0; i < o.nsqd.n; i++)
		if (nsq_consumer_connect_nsqd(t->cons, o.nsqd.v[i], err,
		    errlen) == -1)
			errx(1, "%s", err);
	for (i = 0; i < o.lookupd.n; i++)
		if (nsq_consumer_connect_lookupd(t->cons, o.lookupd.v[i], err,
		    errlen) == -1)
			errx(1, "%s", err);
	return 0;
fail:
	nsq_consumer_free(t->cons);
	free(tmpl);
	free(t);
	return r;
}

static void
topic_free(struct topic *t)
{
	size_t i;

	/* Written and synced by now, or given back by closing. */
	for (i = 0; i < t->npending; i++)
		(void)nsq_msg_requeue(t->pending[i], 0, false);
	nsq_consumer_free(t->cons);
	archive_free(t->arch);
	if (t->lockfd != -1)
		close(t->lockfd);
	strlist_free(&t->up);
	free(t->pending);
	free(t->name);
	free(t);
}

/* A topic nsqlookupd named: archive it if it is new and allowed. */
static void
consider(const char *name)
{
	char err[512];
	long holder = 0;
	size_t i;
	int r;

	if (topic_known(name))
		return;
	for (i = 0; i < st.skipped.n; i++)
		if (strcmp(st.skipped.v[i], name) == 0)
			return;
	if (!topic_allowed(name)) {
		log_warnx("skipping topic %s (doesn't match pattern %s)", name,
		    o.topic_pattern);
		strlist_add(&st.skipped, name);
		return;
	}
	r = topic_add(name, &holder, err, sizeof(err));
	if (r == -1)
		log_error("couldn't create logger for new topic %s: %s", name,
		    err);
	else if (r == 1) {
		/* Not remembered: asked again at the next refresh. */
		log_error("skipping topic %s: another %s (pid %ld) is "
		    "archiving it into %s", name, PROG, holder, o.work_dir);
		if (st.round != NULL)
			st.round->locked++;
	} else if (st.round != NULL)
		st.round->added++;
}

/* The topic names of a /topics answer ({"topics":[...]}, or enveloped). */
static int
parse_topics(const char *body, size_t len, struct strlist *out, char *err,
    size_t errlen)
{
	struct json j;
	int arr, data, i, n, tok;
	char *s;

	if (json_parse(&j, body, len, err, errlen) == -1)
		return -1;
	if (json_type(&j, 0) != JSON_OBJECT)
		goto bad;
	arr = json_obj_get(&j, 0, "topics");
	if (arr == -1 && (data = json_obj_get(&j, 0, "data")) != -1 &&
	    json_type(&j, data) == JSON_OBJECT)
		arr = json_obj_get(&j, data, "topics");
	if (arr != -1 && json_type(&j, arr) == JSON_PRIMITIVE &&
	    json_prim_kind(&j, arr) == 'n') {
		json_free(&j);
		return 0;
	}
	if (arr == -1 || json_type(&j, arr) != JSON_ARRAY)
		goto bad;
	n = json_size(&j, arr);
	for (i = 0; i < n; i++) {
		tok = json_arr_at(&j, arr, i);
		if ((s = json_get_str(&j, tok, NULL)) == NULL)
			goto bad;
		strlist_add(out, s);
		free(s);
	}
	json_free(&j);
	return 0;
bad:
	snprintf(err, errlen, "unexpected answer: %.*s",
	    (int)(len > 200 ? 200 : len), body);
	json_free(&j);
	return -1;
}

static void round_done(void);

static void
topics_cb(struct httpc_req *req, long status, const char *body, size_t len,
    const char *errtext, void *arg)
{
	const char *addr = arg;
	struct strlist names = { NULL, 0 };
	char err[512];
	size_t i;

	for (i = 0; i < o.lookupd.n; i++)
		if (st.reqs[i] == req)
			st.reqs[i] = NULL;
	if (errtext != NULL || status != 200)
		st.errors++;
	if (errtext != NULL)
		log_error("could not retrieve topic list from %s: %s", addr,
		    errtext);
	else if (status != 200)
		log_error("could not retrieve topic list from %s: HTTP %ld: "
		    "%.*s", addr, status, (int)(len > 200 ? 200 : len), body);
	else if (parse_topics(body, len, &names, err, sizeof(err)) == -1) {
		st.errors++;
		log_error("could not retrieve topic list from %s: %s", addr,
		    err);
	}
	for (i = 0; i < names.n && !st.stopping; i++)
		consider(names.v[i]);
	strlist_free(&names);
	if (st.round != NULL && --st.round->waiting == 0)
		round_done();
}

/*
 * The first round decides whether to run at all: when every topic it
 * found is archived here by another instance, refuse as --topic does.
 */
static void
round_done(void)
{
	struct discovery *r = st.round;

	st.round = NULL;
	if (r->first && r->added == 0 && r->locked > 0) {
		log_error("every topic to archive is locked by another %s: "
		    "refusing to run", PROG);
		st.rc = 1;
		free(r);
		stop_all();
		return;
	}
	free(r);
}

static void
discover(bool first)
{
	char err[512], *url;
	size_t i;

	if (st.round != NULL)
		return;		/* the last round is still out */
	st.round = xcalloc(1, sizeof(*st.round));
	st.round->first = first;
	for (i = 0; i < o.lookupd.n; i++) {
		url = lookup_http_url(o.lookupd.v[i], "/topics");
		log_info("querying nsqlookupd %s", url);
		st.reqs[i] = httpc_get(st.http, url, ACCEPT_V1,
		    o.http_request_timeout / 1000000, TOPICS_MAX_BODY,
		    topics_cb, o.lookupd.v[i], err, sizeof(err));
		if (st.reqs[i] == NULL)
			log_error("could not retrieve topic list from %s: %s",
			    o.lookupd.v[i], err);
		else
			st.round->waiting++;
		free(url);
	}
	if (st.round->waiting == 0)
		round_done();
}

static void
refresh_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	discover(false);
}

static struct nsq_config *
make_config(void)
{
	struct nsq_config *cfg;
	char err[512], *ua, n[32];
	size_t i;

	cfg = nsq_config_new();
	/*
	 * An archiver does not give up on a message: go-nsq's 5 attempts
	 * would drop, unwritten, one that a few killed runs had held.
	 */
	if (nsq_config_set(cfg, "max_attempts", "0", err, sizeof(err)) == -1)
		errx(1, "%s", err);
	/*
	 * Go's tools set the user agent (and max_in_flight) after the
	 * options, so that a -opt naming either is taken and ignored; here
	 * the user agent is a default the options may change.
	 */
	ua = xasprintf("%s/%s nsq-c/%s", PROG, NSQ_VERSION, nsq_version());
	if (nsq_config_set(cfg, "user_agent", ua, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	free(ua);
	client_config(cfg, &o.consumer_opts, "consumer-opt");
	/* A max_in_flight among the options is --max-in-flight. */
	for (i = 0; i < o.consumer_opts.n; i++) {
		const char *kv = o.consumer_opts.v[i];

		if (strncmp(kv, "max_in_flight,", 14) == 0 &&
		    parse_int64(kv + 14, 0, &o.max_in_flight) != 0)
			errx(2, "invalid max_in_flight %s", kv + 14);
	}
	snprintf(n, sizeof(n), "%lld", (long long)o.max_in_flight);
	if (nsq_config_set(cfg, "max_in_flight", n, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	nsq_config_set_logger(cfg, lib_log_cb, NULL, NSQ_LOG_DEBUG);
	return cfg;
}

/*
 * The checks Go's nsq_to_file makes, with its words.  A --topic-pattern
 * that does not compile is refused here, as a bad flag value (Go would
 * instead skip every topic, saying nothing of the pattern itself).
 */
static void
check_options(void)
{
	char err[256], *why;
	size_t i;
	int lvl;

	if ((lvl = log_parse_level(o.log_level)) == -1)
		errx(1, "--log-level is invalid");
	log_init(o.log_prefix, (enum log_level)lvl);
	if (o.channel[0] == '\0')
		errx(1, "--channel is required");
	/*
	 * Names are checked before any consumer starts: Go's nsq_to_file
	 * finds a bad one only when it makes that topic's consumer.
	 */
	if (!name_valid(o.channel, strlen(o.channel)))
		errx(1, "invalid channel name");
	for (i = 0; i < o.topics.n; i++)
		if (!name_valid(o.topics.v[i], strlen(o.topics.v[i])))
			errx(1, "couldn't create logger for topic %s: invalid "
			    "topic name", o.topics.v[i]);
	if (o.http_connect_timeout <= 0)
		errx(1, "--http-client-connect-timeout should be positive");
	if (o.http_request_timeout <= 0)
		errx(1, "--http-client-request-timeout should be positive");
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		errx(1, "--nsqd-tcp-address or --lookupd-http-address "
		    "required.");
	if (o.nsqd.n > 0 && o.lookupd.n > 0)
		errx(1, "use --nsqd-tcp-address or --lookupd-http-address not "
		    "both");
	if (o.gzip_level < 1 || o.gzip_level > 9)
		errx(1, "invalid --gzip-level value (%lld), should be 1-9",
		    (long long)o.gzip_level);
	if (o.topics.n == 0 && o.topic_pattern[0] == '\0')
		errx(1, "--topic or --topic-pattern required");
	if (o.topics.n == 0 && o.lookupd.n == 0)
		errx(1, "--lookupd-http-address must be specified when no "
		    "--topic specified");
	if (o.sync_interval <= 0)
		errx(1, "--sync-interval should be positive");
	if (o.topics.n == 0 && o.topic_refresh <= 0)
		errx(1, "--topic-refresh should be positive");
	if (o.output_dir[0] == '\0')
		errx(1, "--output-dir is required");
	if (o.work_dir[0] == '\0')
		o.work_dir = o.output_dir;
	/* go-nsq would refuse an nsqd given twice ("already connected"). */
	tool_uniq(&o.nsqd);
	tool_uniq(&o.lookupd);
	if (o.topic_pattern[0] != '\0' &&
	    (st.re = re_compile(o.topic_pattern, err, sizeof(err))) == NULL) {
		why = xasprintf("invalid value \"%s\" for flag -topic-pattern: "
		    "%s", o.topic_pattern, err);
		tool_usage_exit(why);
	}
}

static void
setup_names(void)
{
	char why[512], *tmpl;

	if (gethostname(st.hostname, sizeof(st.hostname) - 1) == -1)
		err(1, "gethostname");
	st.ac.work_dir = o.work_dir;
	st.ac.output_dir = o.output_dir;
	st.ac.separate = strcmp(o.work_dir, o.output_dir) != 0;
	st.ac.datetime_format = o.datetime_format;
	st.ac.gzip = o.gzip;
	st.ac.gzip_level = (int)o.gzip_level;
	st.ac.rotate_size = o.rotate_size;
	st.ac.rotate_interval = (double)o.rotate_interval / NS;
	st.names.filename_format = o.filename_format;
	st.names.host_identifier = o.host_identifier;
	st.names.hostname = st.hostname;
	st.names.pid = (long)getpid();
	st.names.gzip = o.gzip;
	st.names.need_rev = o.gzip || o.rotate_size > 0 ||
	    o.rotate_interval > 0 || st.ac.separate;
	if ((tmpl = ntf_template(&st.names, "t", why, sizeof(why))) == NULL)
		errx(1, "%s", why);
	free(tmpl);
}

static void
mkdirs(const char *dir)
{
	char *d, *p;

	d = xstrdup(dir);
	for (p = d + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '\0') {
			if (mkdir(d, 0770) == -1 && errno != EEXIST)
				err(1, "unable to create dir %s", d);
			break;
		}
		*p = '\0';
		if (mkdir(d, 0770) == -1 && errno != EEXIST)
			err(1, "unable to create dir %s", d);
		*p = '/';
	}
	free(d);
}

/* The topics given with --topic: each must start, or nothing does. */
static void
start_given_topics(void)
{
	char err[512];
	long holder = 0;
	size_t i;
	int r;

	for (i = 0; i < o.topics.n; i++) {
		if (topic_known(o.topics.v[i]))
			continue;
		if (!topic_allowed(o.topics.v[i])) {
			log_warnx("skipping topic %s (doesn't match pattern "
			    "%s)", o.topics.v[i], o.topic_pattern);
			continue;
		}
		r = topic_add(o.topics.v[i], &holder, err, sizeof(err));
		if (r == -1)
			errx(1, "couldn't create logger for topic %s: %s",
			    o.topics.v[i], err);
		if (r == 1)
			errx(1, "topic %s: another %s (pid %ld) is archiving "
			    "it into %s: refusing to run", o.topics.v[i], PROG,
			    holder, o.work_dir);
	}
	if (st.ntopics == 0)
		errx(1, "no topic matches --topic-pattern %s",
		    o.topic_pattern);
}

/* With --exit-when-idle, a run that reached no nsqd says so. */
static void
check_reach(void)
{
	struct topic *t;
	size_t i, k, m;

	if (o.exit_when_idle == 0 || st.rc != 0)
		return;
	for (i = 0; i < st.ntopics; i++) {
		t = st.topics[i];
		for (k = 0; k < o.nsqd.n; k++) {
			for (m = 0; m < t->up.n; m++)
				if (strcmp(t->up.v[m], o.nsqd.v[k]) == 0)
					break;
			if (m == t->up.n) {
				log_error("[%s/%s] never connected to nsqd %s",
				    t->name, o.channel, o.nsqd.v[k]);
				st.rc = 1;
			}
		}
	}
	if (o.lookupd.n > 0 && !st.ever_up && st.archived == 0 &&
	    st.errors > 0) {
		log_error("no nsqd reached and nothing archived");
		st.rc = 1;
	}
}

int
main(int argc, char **argv)
{
	size_t i;

	tool_options(PROG, "[options]", opts, OPTS_LEN(opts), &o.version, argc,
	    argv);
	check_options();
	tool_options_done();
	setup_names();
	mkdirs(o.work_dir);
	if (st.ac.separate)
		mkdirs(o.output_dir);

	signal(SIGPIPE, SIG_IGN);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	st.cfg = make_config();
	st.last_msg = ev_now(st.loop);
	ev_prepare_init(&st.prep, prepare_cb);
	ev_prepare_start(st.loop, &st.prep);
	ev_timer_init(&st.tick, tick_cb, (ev_tstamp)o.sync_interval / NS,
	    (ev_tstamp)o.sync_interval / NS);
	ev_timer_start(st.loop, &st.tick);
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_init(&st.sighup, hup_cb, SIGHUP);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	ev_signal_start(st.loop, &st.sighup);
	ev_init(&st.stop_wait, stop_wait_cb);
	ev_init(&st.idle, idle_cb);
	ev_init(&st.refresh, refresh_cb);
	if (o.exit_when_idle > 0) {
		ev_timer_set(&st.idle, (ev_tstamp)o.exit_when_idle / NS, 0);
		ev_timer_start(st.loop, &st.idle);
	}
	if (o.topics.n > 0)
		start_given_topics();
	else {
		if ((st.http = httpc_new(st.loop)) == NULL)
			errx(1, "cannot set up libcurl");
		httpc_set_connect_timeout(st.http,
		    o.http_connect_timeout / 1000000);
		httpc_use_config(st.http, st.cfg, true);
		st.reqs = xcalloc(o.lookupd.n, sizeof(*st.reqs));
		/* Go waits a whole --topic-refresh first; we ask at once. */
		discover(true);
		ev_timer_set(&st.refresh, (ev_tstamp)o.topic_refresh / NS,
		    (ev_tstamp)o.topic_refresh / NS);
		ev_timer_start(st.loop, &st.refresh);
	}
	if (!st.stopping)
		ev_run(st.loop, 0);

	/* Whatever stopped us, what was written is synced and closed. */
	for (i = 0; i < st.ntopics; i++)
		topic_close(st.topics[i]);
	check_reach();
	cancel_discovery();
	for (i = 0; i < st.ntopics; i++)
		topic_free(st.topics[i]);
	free(st.topics);
	free(st.reqs);
	httpc_free(st.http);
	nsq_config_free(st.cfg);
	re_free(st.re);
	strlist_free(&st.skipped);
	ev_loop_destroy(st.loop);
	return st.rc;
}
