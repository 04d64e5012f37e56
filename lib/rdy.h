/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The RDY engine: the consumer's flow control, apart from any I/O (the
 * code is in consumer.c, beside its one user) so that it can be
 * tested alone: how max_in_flight becomes RDY counts on connections, and
 * how failures back off.  It follows go-nsq's consumer.go (updateRDY,
 * sendRDY, redistributeRDY, startStopContinueBackoff, resume), with two
 * changes: when a connection goes away, the others are offered its share
 * at once rather than keeping their smaller counts; and a count can
 * always be lowered (go-nsq cannot lower counts after max_in_flight was
 * reduced below their sum).
 *
 * The consumer (consumer.c) embeds one struct consumer_rdy_conn in each
 * connection and supplies the hooks that write RDY and run timers.
 */
#ifndef NSQ_RDY_H
#define NSQ_RDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nsq_config;

struct consumer_rdy_conn {
	int64_t		rdy;		/* the count last sent */
	int64_t		max_rdy;	/* nsqd's max_rdy_count */
	double		last_msg;	/* when its last message came, s */
	double		last_rdy_at;	/* when an RDY was last sent, s */
	bool		closing;	/* no RDY any more */
	bool		retry;		/* an RDY retry is scheduled */
};

enum consumer_signal {
	CONSUMER_BACKOFF,	/* a message failed (requeue with backoff) */
	CONSUMER_CONTINUE,	/* requeue without backoff */
	CONSUMER_RESUME,	/* a message finished */
};

struct consumer_rdy_ops {
	/* Write "RDY count" for c (already recorded in c->rdy). */
	void	(*send)(void *arg, struct consumer_rdy_conn *, int64_t count);
	/* Call consumer_rdy_resume() after ns nanoseconds. */
	void	(*backoff_timer)(void *arg, int64_t ns);
	/*
	 * Call consumer_rdy_update(c, count) after ns nanoseconds; cancel
	 * drops such a pending call.
	 */
	void	(*retry_timer)(void *arg, struct consumer_rdy_conn *,
		    int64_t ns, int64_t count);
	void	(*retry_cancel)(void *arg, struct consumer_rdy_conn *);
	/* A uniform random number in [0, n), n > 0. */
	size_t	(*random)(void *arg, size_t n);
	/* The time now, in seconds. */
	double	(*now)(void *arg);
};

struct consumer_rdy {
	int64_t		 max_in_flight;
	int64_t		 total;		/* sum of every connection's rdy */
	int		 backoff_counter;
	int64_t		 backoff_duration;	/* > 0 while a wait runs */
	bool		 need_redistribute;
	int64_t		 multiplier;	/* backoff_multiplier, ns */
	int64_t		 max_backoff;	/* max_backoff_duration, ns */
	int64_t		 low_rdy_idle;	/* low_rdy_idle_timeout, ns */
	int64_t		 low_rdy_timeout;
	bool		 full_jitter;
	struct consumer_rdy_conn **conns;
	size_t		 n, cap;
	const struct consumer_rdy_ops *ops;
	void		*arg;
};

void	consumer_rdy_init(struct consumer_rdy *, const struct nsq_config *,
	    const struct consumer_rdy_ops *, void *arg);
void	consumer_rdy_free(struct consumer_rdy *);
/* max_in_flight / connections, at least 1, at most max_in_flight. */
int64_t	consumer_rdy_per_conn(const struct consumer_rdy *);
/*
 * Set c's RDY to count, clamped to its max_rdy and to what max_in_flight
 * leaves; -1 if c is closing or nothing is left (then, when c is at 0, a
 * retry in 5s is scheduled).
 */
int	consumer_rdy_update(struct consumer_rdy *, struct consumer_rdy_conn *,
	    int64_t count);
/* A connection just subscribed: re-spread RDY, the others first. */
void	consumer_rdy_add(struct consumer_rdy *, struct consumer_rdy_conn *);
/* A connection closed: forget its RDY, offer it to the others. */
void	consumer_rdy_remove(struct consumer_rdy *,
	    struct consumer_rdy_conn *);
/* The periodic move of RDY between connections (redistributeRDY). */
void	consumer_rdy_redistribute(struct consumer_rdy *);
/* A message's outcome, for backoff. */
void	consumer_rdy_signal(struct consumer_rdy *, enum consumer_signal);
/* The backoff wait ended: RDY 1 on one random connection. */
void	consumer_rdy_resume(struct consumer_rdy *);
void	consumer_rdy_set_max_in_flight(struct consumer_rdy *, int64_t);
/* The backoff wait for a level (>= 1), ns, before the max cap. */
int64_t	consumer_backoff_ns(const struct consumer_rdy *, int level);
bool	consumer_rdy_in_backoff(const struct consumer_rdy *);

#endif
