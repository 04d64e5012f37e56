/*
 * nsq-stat: poll /stats of every nsqd that has a topic and print one
 * channel's numbers summed over them, like Go NSQ's nsq_stat and with its
 * flags and table: the rates (ingress, egress per second), the depths
 * (total, memory, disk, in flight, deferred) and the counters (requeued,
 * timed out, messages, clients), a header every 25 rows.  The first
 * sample only primes the rates; --count N prints N rows and exits.
 *
 * The nsqd are given with --nsqd-http-address, or found each round with
 * GET /lookup?topic= on every --lookupd-http-address (host:port or an
 * http:// or https:// URL, as the other tools take it, where Go's
 * nsq_stat refuses a scheme).  Requests run at once over libcurl on the
 * libev loop; a round starts every --interval (a round still running
 * makes the next one wait).
 *
 * When standard output is a terminal, the table is a live view instead:
 * the header once and one row redrawn in place, the first sample shown
 * at once with its rates as "-".
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "../common/client.h"
#include "../common/tool.h"
#include "httpc.h"
#include "lookup.h"
#include "names.h"
#include "nsq.h"
#include "options.h"
#include "table.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-stat"
#define ACCEPT_V1	"application/vnd.nsq; version=1.0"
#define MAX_BODY	(64 * 1024 * 1024)
#define HEADER_EVERY	25
#define NS		1e9

static struct {
	const char	*channel;
	const char	*count;
	int64_t		 http_connect_timeout;
	int64_t		 http_request_timeout;
	int64_t		 interval;
	struct strlist	 lookupd;
	struct strlist	 nsqd;
	const char	*topic;
	bool		 version;
} o = {
	.channel = "",
	.count = "",
	.http_connect_timeout = 2000000000,
	.http_request_timeout = 5000000000,
	.interval = 2000000000,
	.topic = "",
};

static const struct opt opts[] = {
	{ "channel", 0, OPT_STR, &o.channel, "CHANNEL", "NSQ channel",
	  NULL, 0, 0 },
	{ "count", 0, OPT_STR, &o.count, "N",
	  "number of reports (default: until interrupted)", NULL, 0, 0 },
	{ "http-client-connect-timeout", 0, OPT_DURATION,
	  &o.http_connect_timeout, "DURATION", "timeout for HTTP connect",
	  NULL, 0, 0 },
	{ "http-client-request-timeout", 0, OPT_DURATION,
	  &o.http_request_timeout, "DURATION", "timeout for HTTP request",
	  NULL, 0, 0 },
	{ "interval", 0, OPT_DURATION, &o.interval, "DURATION",
	  "time between polls and reports", NULL, 0, 0 },
	{ "lookupd-http-address", 0, OPT_STRLIST, &o.lookupd, "ADDR",
	  "nsqlookupd HTTP address (repeatable)", NULL, 0, 0 },
	{ "nsqd-http-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "nsqd HTTP address, host:port (repeatable)", NULL, 0, 0 },
	{ "topic", 0, OPT_STR, &o.topic, "TOPIC", "NSQ topic", NULL, 0, 0 },
	CLIENT_HTTP_OPTS,
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

/* One request of a round. */
struct req {
	struct httpc_req	*r;
	char			*addr;
};

static struct {
	struct ev_loop	*loop;
	struct httpc	*http;
	int64_t		 count;		/* rows to print; 0: no end */
	int64_t		 rows;		/* rows printed */
	int64_t		 samples;
	bool		 tty;
	bool		 busy;		/* a round runs */
	bool		 lookup_phase;
	struct req	*reqs;
	size_t		 nreqs, waiting;
	struct strlist	 producers;
	struct strlist	 hinted;		/* listed, did not resolve */
	size_t		 failed;
	char		*first_err;
	struct nstat	 cur, prev;
	int		 rc;
	bool		 done;
	ev_timer	 tick;
	ev_signal	 sigint, sigterm, sighup;
} st;

/* End the live row's line before anything else is printed. */
static void
end_line(void)
{
	if (st.tty && st.samples > 0) {
		fputc('\n', stdout);
		fflush(stdout);
		st.tty = false;
	}
}

static void
finish(int rc)
{
	end_line();
	if (fflush(stdout) == EOF && rc == 0) {
		warn("stdout");
		rc = 1;
	}
	st.rc = rc;
	st.done = true;
	ev_break(st.loop, EVBREAK_ALL);
}

static void
fail(const char *what)
{
	end_line();
	warnx("%s - %s", what, st.first_err != NULL ? st.first_err :
	    "no answer");
	finish(1);
}

static void
cancel_round(void)
{
	size_t i;

	for (i = 0; i < st.nreqs; i++) {
		if (st.reqs[i].r != NULL)
			httpc_cancel(st.reqs[i].r);
		free(st.reqs[i].addr);
	}
	free(st.reqs);
	st.reqs = NULL;
	st.nreqs = st.waiting = 0;
	free(st.first_err);
	st.first_err = NULL;
	st.failed = 0;
}

static void
note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note_error(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	st.failed++;
	if (s == NULL)
		return;
	if (st.first_err == NULL)
		st.first_err = s;
	else
		free(s);
}

/*
 * nsqlookupd listed addr and its host does not resolve here: the nsqd
 * there announces a broadcast address nobody can reach (its host name, by
 * default).  Said once for each address; the error itself repeats.
 */
static void
hint_unresolved(const char *addr)
{
	size_t i;

	for (i = 0; i < st.hinted.n; i++)
		if (strcmp(st.hinted.v[i], addr) == 0)
			return;
	strlist_add(&st.hinted, addr);
	end_line();
	warnx("hint: nsqlookupd lists an nsqd at %s, which does not resolve "
	    "here; start that nsqd with --broadcast-address set to a name or "
	    "IP its consumers can reach", addr);
}

/* Print one sample (or only keep it, when it primes the rates). */
static void
report(void)
{
	char row[256];

	if (st.tty) {
		if (st.samples == 0)
			fputs(nstat_header, stdout);
		nstat_row(row, sizeof(row), st.samples > 0 ? &st.prev : NULL,
		    &st.cur, (double)o.interval / NS);
		printf("\r%s\033[K", row);
		if (st.samples > 0)
			st.rows++;
	} else {
		/* As Go: sample 0 (which primes), 25, 50 ... */
		if (st.samples % HEADER_EVERY == 0)
			fputs(nstat_header, stdout);
		if (st.samples > 0) {
			nstat_row(row, sizeof(row), &st.prev, &st.cur,
			    (double)o.interval / NS);
			printf("%s\n", row);
			st.rows++;
		}
	}
	if (fflush(stdout) == EOF) {
		if (errno != EPIPE)
			warn("stdout");
		st.rc = errno == EPIPE ? 0 : 1;
		st.done = true;
		ev_break(st.loop, EVBREAK_ALL);
		return;
	}
	st.samples++;
	st.prev = st.cur;
	if (st.count > 0 && st.rows >= st.count)
		finish(0);
}

static void	start_stats(void);

static void
answer_cb(struct httpc_req *r, long status, const char *body, size_t len,
    const char *errtext, void *arg)
{
	struct req *q = arg;
	char why[512];

	q->r = NULL;
	if (errtext != NULL && !st.lookup_phase && o.lookupd.n > 0 &&
	    httpc_unresolved(r))
		hint_unresolved(q->addr);
	if (errtext != NULL)
		note_error("%s: %s", q->addr, errtext);
	else if (status != 200)
		note_error("%s: HTTP %ld: %.*s", q->addr, status,
		    (int)(len > 200 ? 200 : len), body);
	else if (st.lookup_phase) {
		if (nstat_producers(body, len, &st.producers, why,
		    sizeof(why)) == -1)
			note_error("%s: %s", q->addr, why);
	} else if (nstat_add(&st.cur, body, len, o.topic, o.channel, why,
	    sizeof(why)) == -1)
		note_error("%s: %s", q->addr, why);
	if (--st.waiting > 0)
		return;
	if (st.lookup_phase) {
		if (st.failed == st.nreqs) {
			fail("failed to get topic producers");
			return;
		}
		if (st.failed > 0) {
			end_line();
			warnx("failed to query some nsqlookupd - %s",
			    st.first_err);
		}
		start_stats();
		return;
	}
	if (st.nreqs == 0 || st.failed == st.nreqs) {
		fail("failed to get nsqd stats");
		return;
	}
	if (st.failed > 0) {
		end_line();
		warnx("failed to query some nsqd - %s", st.first_err);
	}
	if (st.cur.nodes == 0) {
		end_line();
		warnx("failed to find channel(%s) in stats metadata for "
		    "topic(%s)", o.channel, o.topic);
		finish(1);
		return;
	}
	cancel_round();
	st.busy = false;
	report();
}

/* Start GET url for addr; false (noted) if curl refuses. */
static bool
get(const char *addr, const char *url)
{
	struct req *q;
	char why[256];

	q = &st.reqs[st.nreqs++];
	q->addr = xstrdup(addr);
	q->r = httpc_get(st.http, url, ACCEPT_V1,
	    o.http_request_timeout / 1000000, MAX_BODY, answer_cb, q, why,
	    sizeof(why));
	if (q->r == NULL) {
		note_error("%s: %s", addr, why);
		return false;
	}
	st.waiting++;
	return true;
}

/* The /stats round over the producers (or the given nsqd). */
static void
start_stats(void)
{
	const struct strlist *addrs;
	char *url, *pq, *t, *c;
	size_t i;

	cancel_round();
	st.lookup_phase = false;
	memset(&st.cur, 0, sizeof(st.cur));
	addrs = o.lookupd.n > 0 ? &st.producers : &o.nsqd;
	st.reqs = xcalloc(addrs->n + 1, sizeof(*st.reqs));
	t = text_query_escape(o.topic);
	c = text_query_escape(o.channel);
	pq = xasprintf("/stats?format=json&topic=%s&channel=%s"
	    "&include_clients=false&include_mem=false", t, c);
	for (i = 0; i < addrs->n; i++) {
		url = lookup_http_url(addrs->v[i], pq);
		(void)get(addrs->v[i], url);
		free(url);
	}
	free(pq);
	free(t);
	free(c);
	if (st.waiting == 0) {
		if (st.nreqs == 0)
			note_error("no nsqd has topic %s", o.topic);
		fail("failed to get nsqd stats");
	}
}

static void
start_round(void)
{
	char *url, *pq, *t;
	size_t i;

	if (st.busy)
		return;		/* the last round is still out */
	st.busy = true;
	if (o.lookupd.n == 0) {
		start_stats();
		return;
	}
	cancel_round();
	strlist_free(&st.producers);
	st.lookup_phase = true;
	st.reqs = xcalloc(o.lookupd.n, sizeof(*st.reqs));
	t = text_query_escape(o.topic);
	pq = xasprintf("/lookup?topic=%s", t);
	for (i = 0; i < o.lookupd.n; i++) {
		url = lookup_http_url(o.lookupd.v[i], pq);
		(void)get(o.lookupd.v[i], url);
		free(url);
	}
	free(pq);
	free(t);
	if (st.waiting == 0)
		fail("failed to get topic producers");
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	start_round();
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	finish(0);
}

/* Go's checks, in Go's order and words. */
static void
check_options(void)
{
	size_t i;
	int64_t n;
	char why[256];

	if (o.topic[0] == '\0' || o.channel[0] == '\0')
		errx(1, "--topic and --channel are required");
	/* Go's nsq_stat would only find no such channel, forever. */
	if (!name_valid(o.topic, strlen(o.topic)))
		errx(1, "invalid topic name");
	if (!name_valid(o.channel, strlen(o.channel)))
		errx(1, "invalid channel name");
	if (o.interval <= 0)
		errx(1, "--interval should be positive");
	if (o.http_connect_timeout <= 0)
		errx(1, "--http-client-connect-timeout should be positive");
	if (o.http_request_timeout <= 0)
		errx(1, "--http-client-request-timeout should be positive");
	if (o.count[0] != '\0') {
		if (parse_int64(o.count, 0, &n) != 0 || n > INT32_MAX ||
		    n < INT32_MIN) {
			char *q = text_goquote_str(o.count);

			snprintf(why, sizeof(why), "invalid value %s for flag "
			    "-count: parse error", q);
			free(q);
			tool_usage_exit(why);
		}
		if (n <= 0)
			errx(1, "--count should be positive");
		st.count = n;
	}
	if (o.nsqd.n == 0 && o.lookupd.n == 0)
		errx(1, "--nsqd-http-address or --lookupd-http-address "
		    "required");
	if (o.nsqd.n > 0 && o.lookupd.n > 0)
		errx(1, "use --nsqd-http-address or --lookupd-http-address "
		    "not both");
	for (i = 0; i < o.nsqd.n; i++)
		if (strncmp(o.nsqd.v[i], "http", 4) == 0)
			errx(1, "--nsqd-http-address error - address should "
			    "not contain scheme");
	/* One nsqd given twice would count its figures twice. */
	tool_uniq(&o.nsqd);
	tool_uniq(&o.lookupd);
}

int
main(int argc, char **argv)
{
	struct nsq_config *cfg;

	tool_options(PROG, "[options]", opts, OPTS_LEN(opts), &o.version, argc,
	    argv);
	check_options();
	tool_options_done();

	signal(SIGPIPE, SIG_IGN);
	st.tty = isatty(STDOUT_FILENO);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	if ((st.http = httpc_new(st.loop)) == NULL)
		errx(1, "cannot set up libcurl");
	httpc_set_connect_timeout(st.http, o.http_connect_timeout / 1000000);
	cfg = nsq_config_new();
	client_config(cfg, NULL, NULL);
	httpc_use_config(st.http, cfg, true);
	nsq_config_free(cfg);
	ev_timer_init(&st.tick, tick_cb, (ev_tstamp)o.interval / NS,
	    (ev_tstamp)o.interval / NS);
	ev_timer_start(st.loop, &st.tick);
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_init(&st.sighup, signal_cb, SIGHUP);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	ev_signal_start(st.loop, &st.sighup);
	start_round();
	if (!st.done)
		ev_run(st.loop, 0);

	cancel_round();
	strlist_free(&st.producers);
	strlist_free(&st.hinted);
	strlist_free(&o.nsqd);
	strlist_free(&o.lookupd);
	httpc_free(st.http);
	ev_loop_destroy(st.loop);
	return st.rc;
}
