/*
 * nsq-tail: print the messages of one or more topics on standard output,
 * one per line, like Go NSQ's nsq_tail and with its flags; beyond it,
 * --format json prints one JSON object per message.
 *
 * Each --topic gets its own consumer on the same channel (by default a
 * new ephemeral one, tail<6 digits>#ephemeral).  A message is finished
 * only once its line has reached standard output (stdio is flushed before
 * the loop waits for more), so a message is not lost to a failed write:
 * it goes back to nsqd instead.  With -n N it exits after N messages in
 * all; messages that arrive after that are given back (REQ 0).  A closed
 * standard output (nsq-tail ... | head -3) ends it quietly with status 0,
 * as do SIGINT and SIGTERM: every connection is closed with CLS first.
 */
#include <sys/stat.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "../common/client.h"
#include "../common/tool.h"
#include "buffer.h"
#include "json.h"
#include "nsq.h"
#include "options.h"
#include "rand.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-tail"
#define STOP_WAIT	35.0	/* seconds a stop may take in all */
#define SIGNAL_REPEAT	1.0	/* a signal this soon again is the same */

static struct {
	const char	*channel;
	struct strlist	 consumer_opts;
	const char	*format;
	struct strlist	 lookupd;
	int64_t		 max_in_flight;
	int64_t		 n;
	struct strlist	 nsqd;
	bool		 print_topic;
	struct strlist	 topics;
	bool		 version;
} o = {
	.channel = "",
	.format = "text",
	.max_in_flight = 200,
};

static const struct opt opts[] = {
	{ "channel", 0, OPT_STR, &o.channel, "CHANNEL",
	  "NSQ channel (default: a new tail<6 digits>#ephemeral)", NULL, 0,
	  0 },
	{ "consumer-opt", 0, OPT_STRLIST, &o.consumer_opts, "KEY,VALUE",
	  "go-nsq consumer option (repeatable)", NULL, 0, 0 },
	{ "format", 0, OPT_STR, &o.format, "FORMAT",
	  "text (the body) or json (an object with id, timestamp, attempts, "
	  "topic and body)", NULL, 0, 0 },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "nsqlookupd HTTP address (repeatable)", NULL, 0, 0 },
	{ "max-in-flight", 0, OPT_INT, &o.max_in_flight, "N",
	  "most messages in flight per topic", NULL, 0, INT32_MAX },
	{ "n", 'n', OPT_INT, &o.n, "N",
	  "exit after N messages (0: never)", NULL, 0, INT64_MAX },
	{ "nsqd-tcp-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd TCP address (repeatable)", NULL, 0, 0 },
	{ "print-topic", 0, OPT_BOOL, &o.print_topic, NULL,
	  "print the topic before each message: \"topic | body\"", NULL, 0,
	  0 },
	{ "topic", 0, OPT_STRLIST, &o.topics, "TOPIC",
	  "NSQ topic (repeatable)", NULL, 0, 0 },
	CLIENT_TCP_OPTS,
	CLIENT_HTTP_OPTS,
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

static struct {
	struct ev_loop		*loop;
	struct nsq_consumer	**cons;
	size_t			 ncons;
	size_t			 nstopped;
	bool			 json;
	bool			 done;		/* no more output wanted */
	bool			 stopping;
	ev_tstamp		 signalled_at;
	bool			 broken;	/* stdout is gone */
	int			 rc;
	uint64_t		 shown;
	/* Written to stdio, to be finished once flushed. */
	struct nsq_message	**unflushed;
	size_t			 nunflushed, capunflushed;
	struct buf		 line;
	ev_prepare		 flush;
	ev_io			 hup;		/* stdout's reader went away */
	ev_signal		 sigint, sigterm;
	ev_timer		 stop_wait;
} st;

static void
log_cb(enum nsq_log_level lvl, const char *msg, void *arg)
{
	(void)lvl;
	(void)arg;
	warnx("%s", client_hint(msg));
}

static void
stopped_cb(struct nsq_consumer *c, void *arg)
{
	(void)c;
	(void)arg;
	if (++st.nstopped == st.ncons)
		ev_break(st.loop, EVBREAK_ALL);
}

static void
stop_all(void)
{
	size_t i;

	if (st.stopping)
		return;
	st.stopping = true;
	ev_timer_set(&st.stop_wait, STOP_WAIT, 0);
	ev_timer_start(st.loop, &st.stop_wait);
	for (i = 0; i < st.ncons; i++)
		nsq_consumer_stop(st.cons[i], stopped_cb, NULL);
}

/* Standard output failed: EPIPE ends quietly, anything else is an error. */
static void
output_failed(void)
{
	if (!st.broken && errno != EPIPE) {
		warn("stdout");
		st.rc = 1;
	}
	st.broken = true;
	st.done = true;
	if (ev_is_active(&st.hup))
		ev_io_stop(st.loop, &st.hup);
	stop_all();
}

/* Flushed (or not): answer the messages written since the last flush. */
static void
settle(bool ok)
{
	size_t i;

	for (i = 0; i < st.nunflushed; i++)
		if (ok)
			(void)nsq_msg_finish(st.unflushed[i]);
		else
			(void)nsq_msg_requeue(st.unflushed[i], 0, false);
	st.nunflushed = 0;
}

static void
flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (st.nunflushed == 0)
		return;
	if (!st.broken && fflush(stdout) == EOF) {
		settle(false);
		output_failed();
		return;
	}
	settle(!st.broken);
}

/*
 * When standard output is a pipe, its reader closing shows as an error
 * condition on our end, which epoll reports whatever was asked for: so
 * "| head -3" ends us even when no more messages come to be written.
 */
static void
hup_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pollfd pfd;

	(void)revents;
	pfd.fd = STDOUT_FILENO;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP))) {
		ev_io_stop(loop, w);
		settle(false);
		errno = EPIPE;
		output_failed();
	}
}

static void
watch_stdout(void)
{
	struct stat sb;

	if (fstat(STDOUT_FILENO, &sb) == -1 || !S_ISFIFO(sb.st_mode))
		return;
	ev_io_init(&st.hup, hup_cb, STDOUT_FILENO, EV_READ);
	ev_io_start(st.loop, &st.hup);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64(struct buf *b, const unsigned char *p, size_t n)
{
	char q[4];
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = b64[(v >> 6) & 63];
		q[3] = b64[v & 63];
		buf_add(b, q, 4);
	}
	if (i < n) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = '=';
		buf_add(b, q, 4);
	}
}

/*
 * The output line of m in st.line; -1 if it could not be built whole
 * (the buffers are bounded by SIZE_MAX / 2 only: memory runs out first).
 */
static int
format(struct nsq_consumer *c, struct nsq_message *m)
{
	const char *body;
	size_t len;
	struct jw w;
	bool cut = false;
	int rc;

	body = nsq_msg_body(m, &len);
	buf_reset(&st.line);
	if (!st.json) {
		if (o.print_topic) {
			buf_add(&st.line, nsq_consumer_topic(c),
			    strlen(nsq_consumer_topic(c)));
			buf_add(&st.line, " | ", 3);
		}
		buf_add(&st.line, body, len);
		buf_add(&st.line, "\n", 1);
		return buf_failed(&st.line) ? -1 : 0;
	}
	jw_init(&w, &st.line);
	jw_obj_begin(&w);
	jw_key(&w, "id");
	jw_str(&w, nsq_msg_id(m));
	jw_key(&w, "timestamp");
	jw_int(&w, nsq_msg_timestamp(m));
	jw_key(&w, "attempts");
	jw_int(&w, nsq_msg_attempts(m));
	jw_key(&w, "topic");
	jw_str(&w, nsq_consumer_topic(c));
	jw_key(&w, "body");
	if (text_utf8_valid(body, len))
		jw_strn(&w, body, len);
	else {
		struct buf b64buf;

		buf_init(&b64buf, len / 3 * 4 + 8, SIZE_MAX / 2);
		base64(&b64buf, (const unsigned char *)body, len);
		jw_strn(&w, buf_data(&b64buf), buf_len(&b64buf));
		cut = buf_failed(&b64buf);
		buf_free(&b64buf);
		jw_key(&w, "body_base64");
		jw_bool(&w, true);
	}
	jw_obj_end(&w);
	rc = jw_finish(&w);
	buf_add(&st.line, "\n", 1);
	return rc == -1 || cut || buf_failed(&st.line) ? -1 : 0;
}

static void
message_cb(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	(void)arg;
	if (st.done) {
		/* Past -n, or nowhere to write: back to nsqd at once. */
		(void)nsq_msg_requeue(m, 0, false);
		return;
	}
	if (format(c, m) == -1) {
		/* Never a cut line: the message goes back, and we stop. */
		warnx("message %s: too big to print", nsq_msg_id(m));
		(void)nsq_msg_requeue(m, 0, false);
		st.rc = 1;
		st.done = true;
		stop_all();
		return;
	}
	if (fwrite(buf_data(&st.line), 1, buf_len(&st.line), stdout) !=
	    buf_len(&st.line)) {
		(void)nsq_msg_requeue(m, 0, false);
		settle(false);
		output_failed();
		return;
	}
	if (st.nunflushed == st.capunflushed) {
		st.capunflushed = st.capunflushed ? st.capunflushed * 2 : 256;
		st.unflushed = xreallocarray(st.unflushed, st.capunflushed,
		    sizeof(*st.unflushed));
	}
	st.unflushed[st.nunflushed++] = m;
	st.shown++;
	if (o.n > 0 && st.shown >= (uint64_t)o.n) {
		st.done = true;
		stop_all();
	}
}

static void
conn_cb(struct nsq_consumer *c, const char *addr, enum nsq_conn_event ev,
    const char *err, void *arg)
{
	static struct strlist up;

	(void)c;
	(void)arg;
	/* As nsq_tail: a direct address that never worked is fatal. */
	if (client_conn_never_up(&up, addr, ev) && !st.stopping &&
	    o.nsqd.n > 0)
		errx(1, "%s", client_hint(err));
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
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
	st.signalled_at = ev_now(loop);
	st.done = true;
	stop_all();
}

static void
stop_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static struct nsq_config *
make_config(void)
{
	struct nsq_config *cfg;
	char err[512], *ua, n[32];
	size_t i;

	cfg = nsq_config_new();
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
	/* Don't ask for more messages than we want. */
	if (o.n > 0 && o.n < o.max_in_flight)
		o.max_in_flight = o.n;
	snprintf(n, sizeof(n), "%lld", (long long)o.max_in_flight);
	if (nsq_config_set(cfg, "max_in_flight", n, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	nsq_config_set_logger(cfg, log_cb, NULL, NSQ_LOG_INFO);
	return cfg;
}

int
main(int argc, char **argv)
{
	struct nsq_config *cfg;
	char err[512], *channel;
	size_t i, k;

	tool_options(PROG, "[options]", opts, OPTS_LEN(opts), &o.version, argc,
	    argv);
	tool_options_done();
	if (o.channel[0] == '\0') {
		channel = xasprintf("tail%06" PRIu64 "#ephemeral",
		    rand_below(999999));
	} else
		channel = xstrdup(o.channel);
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		errx(1, "--nsqd-tcp-address or --lookupd-http-address "
		    "required");
	if (o.nsqd.n > 0 && o.lookupd.n > 0)
		errx(1, "use --nsqd-tcp-address or --lookupd-http-address not "
		    "both");
	if (o.topics.n == 0)
		errx(1, "--topic required");
	/* go-nsq would refuse an nsqd given twice ("already connected"). */
	tool_uniq(&o.nsqd);
	tool_uniq(&o.lookupd);
	if (strcmp(o.format, "text") == 0)
		st.json = false;
	else if (strcmp(o.format, "json") == 0)
		st.json = true;
	else
		errx(1, "--format must be text or json");

	signal(SIGPIPE, SIG_IGN);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	cfg = make_config();
	buf_init(&st.line, 4096, SIZE_MAX / 2);
	st.ncons = o.topics.n;
	st.cons = xcalloc(st.ncons, sizeof(*st.cons));
	for (i = 0; i < st.ncons; i++) {
		warnx("Adding consumer for topic: %s", o.topics.v[i]);
		st.cons[i] = nsq_consumer_new(st.loop, o.topics.v[i], channel,
		    cfg, message_cb, NULL, err, sizeof(err));
		if (st.cons[i] == NULL)
			errx(1, "%s", err);
		nsq_consumer_set_conn_cb(st.cons[i], conn_cb);
		for (k = 0; k < o.nsqd.n; k++)
			if (nsq_consumer_connect_nsqd(st.cons[i], o.nsqd.v[k],
			    err, sizeof(err)) == -1)
				errx(1, "%s", err);
		for (k = 0; k < o.lookupd.n; k++)
			if (nsq_consumer_connect_lookupd(st.cons[i],
			    o.lookupd.v[k], err, sizeof(err)) == -1)
				errx(1, "%s", err);
	}
	nsq_config_free(cfg);
	ev_prepare_init(&st.flush, flush_cb);
	ev_prepare_start(st.loop, &st.flush);
	watch_stdout();
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	ev_init(&st.stop_wait, stop_wait_cb);
	ev_run(st.loop, 0);

	if (!st.broken && fflush(stdout) == EOF && errno != EPIPE) {
		warn("stdout");
		st.rc = 1;
	}
	settle(!st.broken);
	for (i = 0; i < st.ncons; i++)
		nsq_consumer_free(st.cons[i]);
	free(st.cons);
	free(st.unflushed);
	free(channel);
	buf_free(&st.line);
	ev_loop_destroy(st.loop);
	return st.rc;
}
