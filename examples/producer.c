/*
 * producer: publish each line of stdin as one message.
 *
 *	producer NSQD_ADDR TOPIC <lines
 *
 * The lines are queued at once (the producer pipelines them to nsqd);
 * every publish ends in its callback, and once the last one has, the
 * producer stops and the loop ends.  Exit 0 when nsqd took every line.
 *
 *	cc producer.c $(pkg-config --cflags --libs nsq)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nsq.h>

static int	failed;

static void
published(struct nsq_producer *p, int status, const char *err, void *arg)
{
	(void)p;
	(void)arg;
	if (status == -1) {
		fprintf(stderr, "producer: %s\n", err);
		failed = 1;
	}
}

static void
stopped(struct nsq_producer *p, void *arg)
{
	(void)p;
	ev_break(arg, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	struct ev_loop *loop = EV_DEFAULT;
	struct nsq_config *cfg;
	struct nsq_producer *p;
	char err[256], *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (argc != 3) {
		fprintf(stderr, "usage: producer NSQD_ADDR TOPIC <lines\n");
		return 2;
	}
	cfg = nsq_config_new();
	if ((p = nsq_producer_new(loop, argv[1], cfg, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "producer: %s\n", err);
		return 1;
	}
	nsq_config_free(cfg);
	while ((len = getline(&line, &cap, stdin)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;	/* nsqd refuses empty messages */
		if (nsq_producer_pub(p, argv[2], line, (size_t)len, published,
		    NULL, err, sizeof(err)) == -1) {
			fprintf(stderr, "producer: %s\n", err);
			failed = 1;
			break;
		}
	}
	free(line);
	nsq_producer_stop(p, stopped, loop);
	ev_run(loop, 0);
	nsq_producer_free(p);
	return failed;
}
