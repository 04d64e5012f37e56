/*
 * nsq-pub: publish standard input to a topic, one message per record,
 * like Go NSQ's to_nsq and with its flags.
 *
 * Records end with --delimiter (one byte, newline by default); empty
 * records are skipped, and a last record without a delimiter is
 * published whole.  Records are gathered into MPUB commands of up to
 * --batch-size messages; a batch goes out when it is full or when no
 * more complete records are at hand, so batching changes how messages
 * travel, never which.  Every message goes to every --nsqd-tcp-address.
 *
 * Input is read only while fewer than a bounded number of batches and
 * bytes await nsqd's answer (and, with --rate, while the token bucket
 * allows), so any amount of input is published in bounded memory.
 *
 * Exit status 0 means every message read was acknowledged by every nsqd.
 * The first failure stops the reading (as to_nsq stops); what was sent
 * is still awaited, and the report says how many messages were published
 * and which records (line numbers, counting empty ones) were not.
 */
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
#include "buffer.h"
#include "names.h"
#include "nsq.h"
#include "options.h"
#include "text.h"
#include "xmalloc.h"

#define PROG		"nsq-pub"
#define IN_MAX		(16 * 1024 * 1024)	/* longest record + slack */
#define IN_INITIAL	(256 * 1024)
#define WINDOW_BATCHES	64
#define WINDOW_BYTES	(8 * 1024 * 1024)
#define BATCH_MAX_BYTES	(1024 * 1024)		/* nsqd's default: 5 MiB */
#define DRAIN_TIMEOUT	10.0			/* after a signal, seconds */
#define SIGNAL_REPEAT	1.0	/* a signal this soon again is the same */
#define MAX_RANGES_SHOWN 20

static struct {
	const char	*topic;
	struct strlist	 nsqd;
	const char	*delimiter;
	struct strlist	 producer_opts;
	int64_t		 rate;
	int64_t		 batch_size;
	bool		 version;
} o = {
	.topic = "",
	.delimiter = NULL,
	.batch_size = 200,
};

static const struct opt opts[] = {
	{ "batch-size", 0, OPT_INT, &o.batch_size, "N",
	  "most messages per MPUB command (1: a PUB each)", NULL, 1, 100000 },
	{ "delimiter", 0, OPT_STR, &o.delimiter, "CHAR",
	  "byte that ends each message (default: newline)", NULL, 0, 0 },
	{ "nsqd-tcp-address", 0, OPT_STRLIST, &o.nsqd, "ADDR",
	  "destination nsqd TCP address (repeatable; each message goes to "
	  "every one)", NULL, 0, 0 },
	{ "producer-opt", 0, OPT_STRLIST, &o.producer_opts, "KEY,VALUE",
	  "go-nsq producer option (repeatable)", NULL, 0, 0 },
	{ "rate", 0, OPT_INT, &o.rate, "N",
	  "most messages per second (0: no limit)", NULL, 0, INT32_MAX },
	{ "topic", 0, OPT_STR, &o.topic, "TOPIC", "NSQ topic to publish to",
	  NULL, 0, 0 },
	CLIENT_TCP_OPTS,
	CLIENT_HTTP_OPTS,
	{ "version", 'V', OPT_BOOL, &o.version, NULL,
	  "print the version and exit", NULL, 0, 0 },
};

/* One MPUB (or PUB) sent to every nsqd. */
struct batch {
	uint64_t	*recs;		/* record numbers, 1-based */
	size_t		 n;
	size_t		 bytes;
	size_t		 waiting;	/* nsqd answers still to come */
	bool		 failed;
};

/* Record numbers not published, as ranges. */
struct range {
	uint64_t	lo, hi;
};

static struct {
	struct ev_loop		*loop;
	struct nsq_producer	**prod;
	size_t			 nprod;
	char			 delim;
	struct buf		 in;
	bool			 eof;		/* no more input */
	bool			 stop_input;	/* failure or signal */
	bool			 interrupted;
	ev_tstamp		 signalled_at;
	bool			 gave_up;	/* drain timed out */
	uint64_t		 recno;		/* records seen so far */
	uint64_t		 sent;		/* messages handed to nsqd */
	uint64_t		 acked;		/* messages every nsqd took */
	uint64_t		 failed;	/* sent and refused */
	uint64_t		 failed_local;	/* never sent */
	size_t			 flight_batches;
	size_t			 flight_bytes;
	struct range		*ranges;
	size_t			 nranges;
	char			*first_err;
	/* The batch being filled: bodies point into in. */
	struct iovec		*iov;
	uint64_t		*recs;
	size_t			 nbatch;
	size_t			 batch_bytes;
	/* --rate */
	double			 tokens;
	ev_tstamp		 tokens_at;
	ev_io			 rd;
	ev_timer		 throttle;
	ev_timer		 drain;
	ev_timer		 progress;
	ev_signal		 sigint, sigterm;
	bool			 tty;		/* stderr is a terminal */
	bool			 drawn;		/* a progress line is shown */
	ev_tstamp		 started;
	bool			 errors_logged;
	uint64_t		 progress_last;
} st;

static void	pump(void);

static void
log_cb(enum nsq_log_level lvl, const char *msg, void *arg)
{
	(void)arg;
	if (lvl >= NSQ_LOG_ERROR)
		st.errors_logged = true;
	if (st.drawn)
		fputs("\r\033[K", stderr);
	st.drawn = false;
	warnx("%s", client_hint(msg));
}

/* "message" or "messages" after a count. */
static const char *
messages(uint64_t n)
{
	return n == 1 ? "message" : "messages";
}

static void
add_failed(uint64_t rec)
{
	struct range *r;

	if (st.nranges > 0) {
		r = &st.ranges[st.nranges - 1];
		if (rec == r->hi + 1) {
			r->hi = rec;
			return;
		}
	}
	st.ranges = xreallocarray(st.ranges, st.nranges + 1,
	    sizeof(*st.ranges));
	st.ranges[st.nranges].lo = st.ranges[st.nranges].hi = rec;
	st.nranges++;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void
batch_done(struct batch *b)
{
	size_t i;

	st.flight_batches--;
	st.flight_bytes -= b->bytes;
	if (b->failed) {
		for (i = 0; i < b->n; i++)
			add_failed(b->recs[i]);
		st.failed += b->n;
		st.stop_input = true;
	} else
		st.acked += b->n;
	free(b->recs);
	free(b);
}

static void
pub_cb(struct nsq_producer *p, int status, const char *errtext, void *arg)
{
	struct batch *b = arg;

	if (status != 0) {
		b->failed = true;
		if (st.first_err == NULL)
			st.first_err = xasprintf("%s: %s",
			    nsq_producer_addr(p), errtext);
	}
	if (--b->waiting > 0)
		return;
	batch_done(b);
	pump();
}

/* Hand the batch being filled to every producer. */
static void
send_batch(void)
{
	struct batch *b;
	char err[256];
	size_t i;
	int r;

	if (st.nbatch == 0)
		return;
	b = xcalloc(1, sizeof(*b));
	b->n = st.nbatch;
	b->bytes = st.batch_bytes;
	b->recs = xreallocarray(NULL, st.nbatch, sizeof(*b->recs));
	memcpy(b->recs, st.recs, st.nbatch * sizeof(*b->recs));
	b->waiting = st.nprod;
	st.flight_batches++;
	st.flight_bytes += b->bytes;
	st.sent += b->n;
	for (i = 0; i < st.nprod; i++) {
		if (b->n == 1)
			r = nsq_producer_pub(st.prod[i], o.topic,
			    st.iov[0].iov_base, st.iov[0].iov_len, pub_cb, b,
			    err, sizeof(err));
		else
			r = nsq_producer_mpub(st.prod[i], o.topic, st.iov,
			    b->n, pub_cb, b, err, sizeof(err));
		if (r == -1) {
			/* As if nsqd had refused it. */
			b->failed = true;
			if (st.first_err == NULL)
				st.first_err = xasprintf("%s: %s",
				    nsq_producer_addr(st.prod[i]), err);
			if (--b->waiting == 0)
				batch_done(b);
		}
	}
	st.nbatch = 0;
	st.batch_bytes = 0;
}

static bool
window_full(void)
{
	return st.flight_batches >= WINDOW_BATCHES ||
	    st.flight_bytes >= WINDOW_BYTES;
}

/* --rate: refill the bucket (1s of capacity at most); whether one is left. */
static bool
have_token(void)
{
	ev_tstamp now;

	if (o.rate == 0)
		return true;
	now = ev_now(st.loop);
	st.tokens += (now - st.tokens_at) * (double)o.rate;
	st.tokens_at = now;
	if (st.tokens > (double)o.rate)
		st.tokens = (double)o.rate;
	return st.tokens >= 1.0;
}

/*
 * The next record at the front of the input: its bytes and length, the
 * bytes to consume.  0 when none is complete (yet).
 */
static int
next_record(const char **p, size_t *len, size_t *take)
{
	const char *d = buf_data(&st.in), *e;
	size_t n = buf_len(&st.in);

	if (n == 0)
		return 0;
	if ((e = memchr(d, st.delim, n)) != NULL) {
		*p = d;
		*len = (size_t)(e - d);
		*take = *len + 1;
		return 1;
	}
	if (!st.eof)
		return 0;
	*p = d;		/* the last record, without a delimiter */
	*len = n;
	*take = n;
	return 1;
}

static bool
finished(void)
{
	return (st.stop_input || (st.eof && buf_len(&st.in) == 0)) &&
	    st.flight_batches == 0;
}

static void
decide_reading(void)
{
	bool want;

	want = !st.eof && !st.stop_input && !window_full() && have_token();
	if (want && !ev_is_active(&st.rd))
		ev_io_start(st.loop, &st.rd);
	else if (!want && ev_is_active(&st.rd))
		ev_io_stop(st.loop, &st.rd);
	if (!st.stop_input && o.rate > 0 && !have_token() &&
	    !ev_is_active(&st.throttle)) {
		ev_timer_set(&st.throttle, (1.0 - st.tokens) / (double)o.rate,
		    0);
		ev_timer_start(st.loop, &st.throttle);
	}
}

static void
pump(void)
{
	const char *p;
	size_t len, take;

	while (!st.stop_input && !window_full() && have_token() &&
	    next_record(&p, &len, &take)) {
		st.recno++;
		/* p stays valid: consuming does not compact. */
		buf_consume(&st.in, take);
		if (len == 0)
			continue;
		if (st.batch_bytes + len > BATCH_MAX_BYTES)
			send_batch();
		st.iov[st.nbatch].iov_base = (void *)(uintptr_t)p;
		st.iov[st.nbatch].iov_len = len;
		st.recs[st.nbatch] = st.recno;
		st.nbatch++;
		st.batch_bytes += len;
		if (o.rate > 0)
			st.tokens -= 1.0;
		if (st.nbatch == (size_t)o.batch_size)
			send_batch();
	}
	/* Nothing more at hand now: send what there is. */
	send_batch();
	if (finished()) {
		ev_break(st.loop, EVBREAK_ALL);
		return;
	}
	decide_reading();
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	ssize_t n;

	(void)loop;
	(void)w;
	(void)revents;
	n = buf_read_fd(&st.in, STDIN_FILENO);
	if (n == 0)
		st.eof = true;
	else if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		if (errno == ENOBUFS) {
			/* A record longer than we hold: it cannot go out. */
			st.recno++;
			add_failed(st.recno);
			st.failed_local++;
			st.stop_input = true;
			if (st.first_err == NULL)
				st.first_err = xasprintf("%s %" PRIu64 " is "
				    "longer than %d bytes", st.delim == '\n' ?
				    "line" : "record", st.recno, IN_MAX);
		} else {
			warn("stdin");
			st.stop_input = true;
			if (st.first_err == NULL)
				st.first_err = xasprintf("stdin: %s",
				    strerror(errno));
		}
	}
	pump();
}

static void
throttle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	pump();
}

static void
drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	st.gave_up = true;
	ev_break(loop, EVBREAK_ALL);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (st.interrupted) {
		/*
		 * A second signal stops the wait, unless it is the same one
		 * delivered twice (timeout(1) signals its child and then the
		 * child's process group).
		 */
		if (ev_now(loop) - st.signalled_at >= SIGNAL_REPEAT) {
			st.gave_up = true;
			ev_break(loop, EVBREAK_ALL);
		}
		return;
	}
	st.interrupted = true;
	st.signalled_at = ev_now(loop);
	st.stop_input = true;
	(void)w;
	ev_timer_set(&st.drain, DRAIN_TIMEOUT, 0);
	ev_timer_start(loop, &st.drain);
	pump();
}

static void
progress_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fprintf(stderr, "\r%s: %" PRIu64 " %s published, %.0f/s\033[K",
	    PROG, st.acked, messages(st.acked),
	    (double)(st.acked - st.progress_last) / w->repeat);
	st.progress_last = st.acked;
	st.drawn = true;
}

/* "lines 3-7, 9" for the records not published. */
static void
report_ranges(void)
{
	bool one = st.nranges == 1 && st.ranges[0].lo == st.ranges[0].hi;
	const char *what = st.delim == '\n' ? (one ? "line" : "lines") :
	    (one ? "record" : "records");
	struct buf b;
	size_t i;

	qsort(st.ranges, st.nranges, sizeof(*st.ranges), range_cmp);
	buf_init(&b, 256, 1 << 20);
	for (i = 0; i < st.nranges && i < MAX_RANGES_SHOWN; i++) {
		if (st.ranges[i].lo == st.ranges[i].hi)
			buf_addf(&b, "%s%" PRIu64, i ? ", " : "",
			    st.ranges[i].lo);
		else
			buf_addf(&b, "%s%" PRIu64 "-%" PRIu64,
			    i ? ", " : "", st.ranges[i].lo, st.ranges[i].hi);
	}
	if (st.nranges > MAX_RANGES_SHOWN)
		buf_addf(&b, ", and %zu more ranges",
		    st.nranges - MAX_RANGES_SHOWN);
	buf_add(&b, "", 1);
	/* MAX_RANGES_SHOWN keeps it far below 1 MiB; a cut list would lie. */
	warnx("not published: %s %s", what, buf_failed(&b) ?
	    "(too many to list)" : b.data);
	buf_free(&b);
}

static int
report(void)
{
	uint64_t lost;

	if (st.drawn)
		fputs("\r\033[K", stderr);
	st.drawn = false;
	/* Batches still unanswered when we gave up. */
	lost = st.sent - st.acked - st.failed;
	if (st.gave_up && lost > 0 && st.first_err == NULL)
		st.first_err = xasprintf("no answer from nsqd in time");
	if (st.failed == 0 && st.failed_local == 0 && lost == 0 &&
	    st.first_err == NULL) {
		if (st.interrupted)
			warnx("interrupted: %" PRIu64 " %s published, "
			    "input not read after %s %" PRIu64, st.acked,
			    messages(st.acked), st.delim == '\n' ? "line" :
			    "record", st.recno);
		else if (st.tty)
			/* What the progress line said last, made final. */
			warnx("%" PRIu64 " %s published in %.1fs", st.acked,
			    messages(st.acked), ev_time() - st.started);
		return 0;
	}
	if (st.first_err != NULL && !st.errors_logged)
		warnx("%s", client_hint(st.first_err));
	warnx("published %" PRIu64 " of %" PRIu64 " %s", st.acked,
	    st.sent + st.failed_local, messages(st.sent + st.failed_local));
	if (st.nranges > 0)
		report_ranges();
	if (lost > 0)
		warnx("%" PRIu64 " %s got no answer (they may or may "
		    "not have been published)", lost, messages(lost));
	if (!st.eof || buf_len(&st.in) > 0)
		warnx("input not read after %s %" PRIu64,
		    st.delim == '\n' ? "line" : "record", st.recno);
	return 1;
}

/*
 * Whether stdin is the terminal stderr is: then the user types the input
 * there, and a progress line redrawn over it would garble what they type.
 */
static bool
same_terminal(void)
{
	struct stat in, er;

	return isatty(STDIN_FILENO) && fstat(STDIN_FILENO, &in) == 0 &&
	    fstat(STDERR_FILENO, &er) == 0 && in.st_rdev == er.st_rdev;
}

/* stdin closed (nsq-pub <&-): say so rather than trip libev. */
static void
fatal_stdin(void)
{
	err(1, "stdin");
}

static void
setup(void)
{
	struct nsq_config *cfg;
	char err[512], *ua;
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
	client_config(cfg, &o.producer_opts, "producer-opt");
	nsq_config_set_logger(cfg, log_cb, NULL, NSQ_LOG_WARN);
	st.nprod = o.nsqd.n;
	st.prod = xcalloc(st.nprod, sizeof(*st.prod));
	for (i = 0; i < st.nprod; i++)
		if ((st.prod[i] = nsq_producer_new(st.loop, o.nsqd.v[i], cfg,
		    err, sizeof(err))) == NULL)
			errx(1, "failed to create nsq.Producer - %s", err);
	nsq_config_free(cfg);
}

int
main(int argc, char **argv)
{
	int rc;
	size_t i;

	tool_options(PROG, "[options] < input", opts, OPTS_LEN(opts),
	    &o.version, argc, argv);
	if (o.topic[0] == '\0')
		errx(1, "--topic required");
	/* nsqd would read "bad topic!" as topic "bad": refuse it here. */
	if (!name_valid(o.topic, strlen(o.topic)))
		errx(1, "invalid topic name");
	if (o.delimiter == NULL)
		st.delim = '\n';
	else if (strlen(o.delimiter) != 1)
		errx(1, "--delimiter must be a single byte");
	else
		st.delim = o.delimiter[0];
	if (o.nsqd.n == 0)
		errx(1, "--nsqd-tcp-address required");
	tool_uniq(&o.nsqd);
	if (fcntl(STDIN_FILENO, F_GETFD) == -1)
		fatal_stdin();
	tool_options_done();

	signal(SIGPIPE, SIG_IGN);
	st.loop = ev_default_loop(EVFLAG_AUTO);
	st.tty = isatty(STDERR_FILENO);
	st.started = ev_time();
	setup();
	buf_init(&st.in, IN_INITIAL, IN_MAX);
	st.iov = xcalloc((size_t)o.batch_size, sizeof(*st.iov));
	st.recs = xcalloc((size_t)o.batch_size, sizeof(*st.recs));
	st.tokens = 1.0;	/* as to_nsq: the first message goes at once */
	st.tokens_at = ev_now(st.loop);
	ev_io_init(&st.rd, read_cb, STDIN_FILENO, EV_READ);
	ev_init(&st.throttle, throttle_cb);
	ev_init(&st.drain, drain_cb);
	ev_signal_init(&st.sigint, signal_cb, SIGINT);
	ev_signal_init(&st.sigterm, signal_cb, SIGTERM);
	ev_signal_start(st.loop, &st.sigint);
	ev_signal_start(st.loop, &st.sigterm);
	if (st.tty && !same_terminal()) {
		ev_timer_init(&st.progress, progress_cb, 1.0, 1.0);
		ev_timer_start(st.loop, &st.progress);
	}
	pump();
	if (!finished())
		ev_run(st.loop, 0);
	rc = report();
	for (i = 0; i < st.nprod; i++)
		nsq_producer_free(st.prod[i]);
	free(st.prod);
	free(st.iov);
	free(st.recs);
	free(st.ranges);
	free(st.first_err);
	buf_free(&st.in);
	strlist_free(&o.nsqd);
	strlist_free(&o.producer_opts);
	ev_loop_destroy(st.loop);
	return rc;
}
