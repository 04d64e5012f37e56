/*
 * nsq-to-http: send each message of a topic/channel to HTTP endpoints,
 * as the body of a POST or escaped into a GET URL, like Go NSQ's
 * nsq_to_http and with its flags.
 *
 * A message is finished (FIN) only once its request has been answered
 * 2xx (a GET: 200, as Go checks); any other answer, a failed connection
 * or a timeout requeues it (REQ) with backoff, as go-nsq does when a
 * handler returns an error.  Up to --n requests run at once, all on the
 * one libev loop through libcurl's multi interface (lib/httpc); the
 * messages beyond them wait their turn, in the order they came.  --mode
 * picks the address of each request (pool.h).
 *
 * SIGINT and SIGTERM stop it cleanly: CLS to every nsqd (which then sends
 * nothing more), the waiting messages back at once (REQ 0), the running
 * requests awaited and their messages answered, then exit 0.  A second
 * signal ends the wait.
 */
#include <sys/queue.h>
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "../common/client.h"
#include "../common/tool.h"
#include "endpoint.h"
#include "httpc.h"
#include "nsq.h"
#include "options.h"
#include "pool.h"
#include "rand.h"
#include "status.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-to-http"
#define GO_PROG		"nsq_to_http"
#define STOP_WAIT	35.0	/* seconds a stop waits beyond a request */
#define SIGNAL_REPEAT	1.0	/* a signal this soon again is the same */
#define CT_DEFAULT	"application/octet-stream"
#define GO_REDIRECTS	10	/* what Go's http.Client follows */

static struct {
	const char	*channel;
	struct strlist	 consumer_opts;
	const char	*content_type;
	struct strlist	 get;
	struct strlist	 headers;
	int64_t		 connect_timeout;
	int64_t		 request_timeout;
	struct strlist	 lookupd;
	int64_t		 max_in_flight;
	const char	*mode;
	int64_t		 n;
	struct strlist	 nsqd;
	struct strlist	 post;
	const char	*sample;
	int64_t		 status_every;
	const char	*topic;
	bool		 version;
} o = {
	.channel = GO_PROG,
	.content_type = CT_DEFAULT,
	.connect_timeout = 2 * NS_SEC,
	.request_timeout = 20 * NS_SEC,
	.max_in_flight = 200,
	.mode = "hostpool",
	.n = 100,
	.sample = "1",
	.status_every = 250,
	.topic = "",
};

static const struct opt opts[] = {
	{ "channel", 0, OPT_STR, &o.channel, "CHANNEL", "NSQ channel", NULL,
	  0, 0 },
	{ "consumer-opt", 0, OPT_STRLIST, &o.consumer_opts, "KEY,VALUE",
	  "go-nsq consumer option (repeatable)", NULL, 0, 0 },
	{ "content-type", 0, OPT_STR, &o.content_type, "TYPE",
	  "the Content-Type of POST requests", NULL, 0, 0 },
	{ "get", 0, OPT_STRLIST, &o.get, "URL",
	  "HTTP address to GET, its one '%s' replaced by the escaped message "
	  "(repeatable)", NULL, 0, 0 },
	{ "header", 0, OPT_STRLIST, &o.headers, "'NAME: VALUE'",
	  "custom header for HTTP requests (repeatable)", NULL, 0, 0 },
	{ "http-client-connect-timeout", 0, OPT_DURATION, &o.connect_timeout,
	  "DURATION", "timeout for HTTP connect (0: none)", NULL, 0,
	  INT64_MAX },
	{ "http-client-request-timeout", 0, OPT_DURATION, &o.request_timeout,
	  "DURATION", "timeout for HTTP request (0: none)", NULL, 0,
	  INT64_MAX },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "nsqlookupd HTTP address (repeatable)", NULL, 0, 0 },
	{ "max-in-flight", 0, OPT_INT, &o.max_in_flight, "N",
	  "most messages in flight", NULL, 0, INT32_MAX },
	{ "mode", 0, OPT_STR, &o.mode, "MODE",
	  "how addresses are picked: round-robin, hostpool or epsilon-greedy",
	  NULL, 0, 0 },
	{ "n", 'n', OPT_INT, &o.n, "N", "most HTTP requests at once", NULL, 1,
	  INT32_MAX },
	{ "nsqd-tcp-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd TCP address (repeatable)", NULL, 0, 0 },
	{ "post", 0, OPT_STRLIST, &o.post, "URL",
	  "HTTP address to POST each message to, as the body (repeatable)",
	  NULL, 0, 0 },
	{ "sample", 0, OPT_STR, &o.sample, "FRACTION",
	  "fraction of messages to send, 0.0 to 1.0 (the others are "
	  "finished unsent)", NULL, 0, 0 },
	{ "status-every", 0, OPT_INT, &o.status_every, "N",
	  "requests between status lines (0: none)", NULL, 0, INT32_MAX },
	{ "topic", 0, OPT_STR, &o.topic, "TOPIC", "NSQ topic", NULL, 0, 0 },
	CLIENT_TCP_OPTS,
	CLIENT_HTTP_OPTS,
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

/* A message whose request runs or waits to run. */
struct job {
	TAILQ_ENTRY(job)	 entry;
	struct nsq_message	*m;
	struct httpc_req	*req;		/* NULL while waiting */
	size_t			 addr;
	double			 started;
};
TAILQ_HEAD(jobs, job);

static struct {
	struct ev_loop		*loop;
	struct nsq_consumer	*cons;
	struct httpc		*http;
	struct pool		*pool;
	bool			 get;
	struct strlist		*addrs;
	struct strlist		 hdrs;		/* every request's */
	double			 sample;
	struct status		*aggregate;
	struct status		**per_addr;	/* NULL: one address */
	struct jobs		 waiting, running;
	size_t			 nrunning;
	bool			 stopping, stopped;
	ev_tstamp		 signalled_at;
	ev_signal		 sigint, sigterm;
	ev_timer		 stop_wait;
} st;

/* Go's log line: a local "2006/01/02 15:04:05 " before the text. */
static void
logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logline(const char *fmt, ...)
{
	char ts[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y/%m/%d %H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	fprintf(stderr, "%s ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
log_cb(enum nsq_log_level lvl, const char *msg, void *arg)
{
	static const char *const tag[] = {
		[NSQ_LOG_DEBUG] = "DBG", [NSQ_LOG_INFO] = "INF",
		[NSQ_LOG_WARN] = "WRN", [NSQ_LOG_ERROR] = "ERR",
	};

	(void)arg;
	logline("%s %s", tag[lvl], msg);
}

static void
status(struct status *s, double seconds)
{
	char *line;

	if ((line = status_record(s, seconds)) != NULL) {
		logline("%s", line);
		free(line);
	}
}

/* Nothing more will be answered: leave the loop once requests are done. */
static void
maybe_exit(void)
{
	if (st.stopped && st.nrunning == 0)
		ev_break(st.loop, EVBREAK_ALL);
}

static void dispatch(void);

static void
request_done(struct httpc_req *req, long code, const char *body, size_t len,
    const char *error, void *arg)
{
	struct job *j = arg;
	double now = ev_time();
	char why[512];
	bool ok;

	(void)req;
	(void)body;
	(void)len;
	TAILQ_REMOVE(&st.running, j, entry);
	st.nrunning--;
	/* As Go's publishers: a POST wants any 2xx, a GET exactly 200. */
	ok = error == NULL && (st.get ? code == 200 : code >= 200 &&
	    code < 300);
	if (error != NULL)
		snprintf(why, sizeof(why), "%s %s: %s", st.get ? "GET" :
		    "POST", st.addrs->v[j->addr], error);
	else
		snprintf(why, sizeof(why), "got status code %ld", code);
	pool_mark(st.pool, j->addr, ok, j->started, now);
	if (ok) {
		if (st.per_addr != NULL)
			status(st.per_addr[j->addr], now - j->started);
		status(st.aggregate, now - j->started);
		(void)nsq_msg_finish(j->m);
	} else {
		logline("ERR [%s/%s] Handler returned error (%s) for msg %s",
		    o.topic, o.channel, why, nsq_msg_id(j->m));
		(void)nsq_msg_requeue(j->m, -1, true);
	}
	free(j);
	dispatch();
	maybe_exit();
}

/* Start the request of j; false if it could not start (j is answered). */
static bool
start(struct job *j)
{
	const void *body;
	size_t len;
	char err[256], *url;

	body = nsq_msg_body(j->m, &len);
	j->started = ev_time();
	j->addr = pool_get(st.pool, j->started);
	url = st.get ? ep_get_url(st.addrs->v[j->addr], body, len) :
	    st.addrs->v[j->addr];
	j->req = httpc_request(st.http, st.get ? "GET" : "POST", url,
	    (const char *const *)st.hdrs.v, st.hdrs.n, st.get ? NULL : body,
	    len, o.request_timeout / NS_MS, HTTPC_DISCARD, request_done, j,
	    err, sizeof(err));
	if (st.get)
		free(url);
	if (j->req == NULL) {
		pool_mark(st.pool, j->addr, false, j->started, ev_time());
		logline("ERR [%s/%s] Handler returned error (%s) for msg %s",
		    o.topic, o.channel, err, nsq_msg_id(j->m));
		(void)nsq_msg_requeue(j->m, -1, true);
		free(j);
		return false;
	}
	TAILQ_INSERT_TAIL(&st.running, j, entry);
	st.nrunning++;
	return true;
}

/* Start waiting messages while fewer than --n requests run. */
static void
dispatch(void)
{
	struct job *j;

	while (st.nrunning < (size_t)o.n &&
	    (j = TAILQ_FIRST(&st.waiting)) != NULL) {
		TAILQ_REMOVE(&st.waiting, j, entry);
		(void)start(j);
	}
}

static void
message_cb(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	struct job *j;

	(void)c;
	(void)arg;
	if (st.stopping) {
		/* Sent before nsqd saw our CLS: straight back. */
		(void)nsq_msg_requeue(m, 0, false);
		return;
	}
	if (st.sample < 1.0 && rand_unit() > st.sample) {
		(void)nsq_msg_finish(m);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->m = m;
	TAILQ_INSERT_TAIL(&st.waiting, j, entry);
	dispatch();
}

static void
conn_cb(struct nsq_consumer *c, const char *addr, enum nsq_conn_event ev,
    const char *err, void *arg)
{
	static struct strlist up;

	(void)c;
	(void)arg;
	/* As Go's ConnectToNSQDs: a direct address that never worked. */
	if (client_conn_never_up(&up, addr, ev) && !st.stopping &&
	    o.nsqd.n > 0)
		errx(1, "%s", client_hint(err));
}

static void
stopped_cb(struct nsq_consumer *c, void *arg)
{
	(void)c;
	(void)arg;
	st.stopped = true;
	maybe_exit();
}

/* The messages not yet sent go back now; the running ones finish. */
static void
requeue_waiting(void)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&st.waiting)) != NULL) {
		TAILQ_REMOVE(&st.waiting, j, entry);
		(void)nsq_msg_requeue(j->m, 0, false);
		free(j);
	}
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
	st.stopping = true;
	requeue_waiting();
	ev_timer_set(&st.stop_wait, STOP_WAIT + (double)o.request_timeout /
	    NS_SEC, 0);
	ev_timer_start(loop, &st.stop_wait);
	nsq_consumer_stop(st.cons, stopped_cb, NULL);
}

static void
stop_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	logline("WRN requests still running after the stop's wait: leaving");
	ev_break(loop, EVBREAK_ALL);
}

/* Go's flag.Float64 and the range nsq_to_http takes. */
static void
check_sample(void)
{
	char *end, why[256], *q;

	errno = 0;
	st.sample = strtod(o.sample, &end);
	if (o.sample[0] == '\0' || *end != '\0' || errno == ERANGE) {
		q = text_goquote_str(o.sample);
		snprintf(why, sizeof(why), "invalid value %s for flag "
		    "-sample: parse error", q);
		free(q);
		tool_usage_exit(why);
	}
}

/*
 * Go's checks, in Go's order and words; then what Go would find only
 * request by request (a URL no request can be made to, a header
 * net/http refuses) or never (an unknown --mode: Go sends every message
 * to every address in turn, a mode it offers under no name).
 */
static void
check_options(struct strlist *names, struct strlist *values)
{
	char err[512], *k, *v, *q;
	size_t i;
	enum pool_mode mode;

	for (i = 0; i < o.headers.n; i++) {
		if (ep_parse_header(o.headers.v[i], &k, &v, err,
		    sizeof(err)) == -1)
			errx(1, "%s", err);
		strlist_add(names, k);
		strlist_add(values, v);
		free(k);
		free(v);
	}
	if (o.topic[0] == '\0' || o.channel[0] == '\0')
		errx(1, "--topic and --channel are required");
	if (strcmp(o.content_type, CT_DEFAULT) != 0) {
		if (o.post.n == 0)
			errx(1, "--content-type only used with --post");
		if (o.content_type[0] == '\0')
			errx(1, "--content-type requires a value when used");
	}
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		errx(1, "--nsqd-tcp-address or --lookupd-http-address "
		    "required");
	if (o.nsqd.n > 0 && o.lookupd.n > 0)
		errx(1, "use --nsqd-tcp-address or --lookupd-http-address not "
		    "both");
	if (o.get.n == 0 && o.post.n == 0)
		errx(1, "--get or --post required");
	if (o.get.n > 0 && o.post.n > 0)
		errx(1, "use --get or --post not both");
	for (i = 0; i < o.get.n; i++)
		if (!ep_get_ok(o.get.v[i]))
			errx(1, "invalid GET address - must be a printf "
			    "string");
	st.get = o.get.n > 0;
	st.addrs = st.get ? &o.get : &o.post;
	for (i = 0; i < st.addrs->n; i++)
		if (ep_check_url(st.addrs->v[i], st.get, err,
		    sizeof(err)) == -1) {
			q = text_goquote_str(st.addrs->v[i]);
			errx(1, "invalid --%s address %s: %s", st.get ? "get" :
			    "post", q, err);
		}
	if (pool_mode_parse(o.mode, &mode) == -1) {
		q = text_goquote_str(o.mode);
		errx(1, "invalid --mode %s: round-robin, hostpool or "
		    "epsilon-greedy", q);
	}
	st.pool = pool_new(mode, st.addrs->n);
	if (!(st.sample >= 0.0 && st.sample <= 1.0))
		errx(1, "ERROR: --sample must be between 0.0 and 1.0");
}

static struct nsq_config *
make_config(void)
{
	struct nsq_config *cfg;
	char err[512], *ua, n[32];

	cfg = nsq_config_new();
	nsq_config_set_logger(cfg, log_cb, NULL, NSQ_LOG_INFO);
	client_config(cfg, &o.consumer_opts, "consumer-opt");
	ua = xasprintf("%s/%s nsq-c/%s", PROG, NSQ_VERSION, nsq_version());
	snprintf(n, sizeof(n), "%lld", (long long)o.max_in_flight);
	if (nsq_config_set(cfg, "user_agent", ua, err, sizeof(err)) == -1 ||
	    nsq_config_set(cfg, "max_in_flight", n, err, sizeof(err)) == -1)
		errx(1, "%s", err);
	free(ua);
	return cfg;
}

/* Go's timer_metrics: one group per address when there are several. */
static void
make_status(void)
{
	size_t i, every = (size_t)o.status_every;
	char *prefix;

	if (every > 0 && every < 100)
		for (i = 0; i < (st.addrs->n > 1 ? st.addrs->n + 1 : 1); i++)
			logline("Warning: use more than 100 status values for "
			    "accurate percentiles (configured with %zu)",
			    every);
	st.aggregate = status_new(every, "[aggregate]:");
	if (st.addrs->n < 2)
		return;
	st.per_addr = xcalloc(st.addrs->n, sizeof(*st.per_addr));
	for (i = 0; i < st.addrs->n; i++) {
		prefix = xasprintf("[%s]:", st.addrs->v[i]);
		st.per_addr[i] = status_new(every, prefix);
		free(prefix);
	}
}

int
main(int argc, char **argv)
{
	struct strlist names = { NULL, 0 }, values = { NULL, 0 };
	struct nsq_config *cfg;
	struct job *j;
	char err[512], *ua;
	size_t i;

	tool_options(PROG, "[options]", opts, OPTS_LEN(opts), &o.version, argc,
	    argv);
	check_sample();
	tool_options_done();
	check_options(&names, &values);
	/* go-nsq would refuse an nsqd given twice ("already connected"). */
	tool_uniq(&o.nsqd);
	tool_uniq(&o.lookupd);
	ua = xasprintf("%s v%s (nsq in C %s)", PROG, NSQ_COMPAT_VERSION,
	    NSQ_VERSION);
	ep_headers(&st.hdrs, ua, st.get ? NULL : o.content_type, &names,
	    &values);
	free(ua);
	strlist_free(&names);
	strlist_free(&values);

	signal(SIGPIPE, SIG_IGN);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	TAILQ_INIT(&st.waiting);
	TAILQ_INIT(&st.running);
	if ((st.http = httpc_new(st.loop)) == NULL)
		errx(1, "cannot set up libcurl");
	httpc_set_connect_timeout(st.http, o.connect_timeout / NS_MS);
	httpc_set_redirects(st.http, GO_REDIRECTS);
	cfg = make_config();
	st.cons = nsq_consumer_new(st.loop, o.topic, o.channel, cfg,
	    message_cb, NULL, err, sizeof(err));
	if (st.cons == NULL)
		errx(1, "%s", err);
	nsq_config_free(cfg);
	make_status();
	nsq_consumer_set_conn_cb(st.cons, conn_cb);
	for (i = 0; i < o.nsqd.n; i++)
		if (nsq_consumer_connect_nsqd(st.cons, o.nsqd.v[i], err,
		    sizeof(err)) == -1)
			errx(1, "%s", err);
	for (i = 0; i < o.lookupd.n; i++)
		if (nsq_consumer_connect_lookupd(st.cons, o.lookupd.v[i], err,
		    sizeof(err)) == -1)
			errx(1, "%s", err);
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	ev_init(&st.stop_wait, stop_wait_cb);
	ev_run(st.loop, 0);

	/* Left early (a second signal): nothing is dropped unanswered. */
	httpc_free(st.http);
	while ((j = TAILQ_FIRST(&st.running)) != NULL) {
		TAILQ_REMOVE(&st.running, j, entry);
		(void)nsq_msg_requeue(j->m, 0, false);
		free(j);
	}
	requeue_waiting();
	nsq_consumer_free(st.cons);
	pool_free(st.pool);
	status_free(st.aggregate);
	for (i = 0; st.per_addr != NULL && i < st.addrs->n; i++)
		status_free(st.per_addr[i]);
	free(st.per_addr);
	strlist_free(&st.hdrs);
	ev_loop_destroy(st.loop);
	return 0;
}
