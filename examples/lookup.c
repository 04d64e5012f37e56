/*
 * lookup: list the nsqd producing a topic, as one nsqlookupd knows them,
 * one "host:port" a line.
 *
 *	lookup LOOKUPD_ADDR TOPIC
 *
 * Exit 1 with nsqlookupd's reason ("TOPIC_NOT_FOUND") when it has none.
 *
 *	cc lookup.c $(pkg-config --cflags --libs nsq)
 */
#include <stdio.h>

#include <nsq.h>

static int	failed;

static void
answer(struct nsq_lookup *l, int status, char *const *addrs, size_t n,
    const char *err, void *arg)
{
	size_t i;

	(void)l;
	if (status == -1) {
		fprintf(stderr, "lookup: %s\n", err);
		failed = 1;
	}
	for (i = 0; i < n; i++)
		printf("%s\n", addrs[i]);
	ev_break(arg, EVBREAK_ALL);
}

int
main(int argc, char *argv[])
{
	struct ev_loop *loop = EV_DEFAULT;
	struct nsq_config *cfg;
	struct nsq_lookup *l;
	char err[256];

	if (argc != 3) {
		fprintf(stderr, "usage: lookup LOOKUPD_ADDR TOPIC\n");
		return 2;
	}
	cfg = nsq_config_new();
	if ((l = nsq_lookup_new(loop, cfg, err, sizeof(err))) == NULL ||
	    nsq_lookup_producers(l, argv[1], argv[2], answer, loop, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "lookup: %s\n", err);
		nsq_lookup_free(l);
		nsq_config_free(cfg);
		return 1;
	}
	nsq_config_free(cfg);
	ev_run(loop, 0);
	nsq_lookup_free(l);
	return failed;
}
