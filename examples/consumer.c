/*
 * consumer: print the body of each message of a topic's channel, one a
 * line, and finish it.
 *
 *	consumer NSQD_ADDR|http://LOOKUPD_ADDR TOPIC CHANNEL [COUNT]
 *
 * An http:// address is an nsqlookupd, polled for the topic's producers;
 * anything else is one nsqd.  After COUNT messages, or on SIGINT or
 * SIGTERM, the consumer stops (CLS on every connection) and the loop
 * ends once nsqd has closed them.
 *
 *	cc consumer.c $(pkg-config --cflags --libs nsq)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nsq.h>

static long	left = -1;	/* messages still wanted; -1: no limit */
static int	stopping;

static void
stopped(struct nsq_consumer *c, void *arg)
{
	(void)c;
	ev_break(arg, EVBREAK_ALL);
}

static void
stop(struct nsq_consumer *c, struct ev_loop *loop)
{
	stopping = 1;
	nsq_consumer_stop(c, stopped, loop);
}

static void
message(struct nsq_consumer *c, struct nsq_message *m, void *arg)
{
	const void *body;
	size_t len;

	body = nsq_msg_body(m, &len);
	fwrite(body, 1, len, stdout);
	putchar('\n');
	fflush(stdout);
	/* Finishing frees the message; a closed connection is no error. */
	(void)nsq_msg_finish(m);
	if (left > 0 && --left == 0)
		stop(c, arg);
}

static void
conn_event(struct nsq_consumer *c, const char *addr,
    enum nsq_conn_event ev, const char *err, void *arg)
{
	(void)c;
	(void)arg;
	/* The connections closing after our CLS are no news. */
	if (ev != NSQ_CONN_UP && !stopping)
		fprintf(stderr, "consumer: %s: %s\n", addr, err);
}

static void
on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	ev_signal_stop(loop, w);
	stop(w->data, loop);
}

int
main(int argc, char *argv[])
{
	struct ev_loop *loop = EV_DEFAULT;
	struct nsq_config *cfg;
	struct nsq_consumer *c;
	ev_signal sigint, sigterm;
	char err[256];
	int rc;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: consumer NSQD_ADDR|http://LOOKUPD_ADDR "
		    "TOPIC CHANNEL [COUNT]\n");
		return 2;
	}
	if (argc == 5 && (left = strtol(argv[4], NULL, 10)) <= 0) {
		fprintf(stderr, "consumer: bad COUNT %s\n", argv[4]);
		return 2;
	}
	cfg = nsq_config_new();
	if (nsq_config_set(cfg, "max_in_flight", "100", err,
	    sizeof(err)) == -1 || (c = nsq_consumer_new(loop, argv[2],
	    argv[3], cfg, message, loop, err, sizeof(err))) == NULL) {
		fprintf(stderr, "consumer: %s\n", err);
		return 1;
	}
	nsq_config_free(cfg);
	nsq_consumer_set_conn_cb(c, conn_event);
	if (strncmp(argv[1], "http://", 7) == 0)
		rc = nsq_consumer_connect_lookupd(c, argv[1], err, sizeof(err));
	else
		rc = nsq_consumer_connect_nsqd(c, argv[1], err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "consumer: %s\n", err);
		nsq_consumer_free(c);
		return 1;
	}
	ev_signal_init(&sigint, on_signal, SIGINT);
	ev_signal_init(&sigterm, on_signal, SIGTERM);
	sigint.data = sigterm.data = c;
	ev_signal_start(loop, &sigint);
	ev_signal_start(loop, &sigterm);
	ev_run(loop, 0);
	nsq_consumer_free(c);
	return 0;
}
