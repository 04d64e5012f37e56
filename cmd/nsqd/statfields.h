/*
 * The figures nsqd reports, as one table of fields per level: the daemon,
 * a topic, a channel, a client and the memory block.  The table drives
 * the four outputs, so a new counter is one entry here:
 *
 *   /stats JSON (stats.c)   every field with a key, in table order (the
 *                           order of Go's structs, which Go's encoder
 *                           keeps); the daemon level's top is written by
 *                           stats.c itself
 *   /stats text (stats.c)   pos[SF_TEXT], as "label: value " with the
 *                           value left-aligned in width
 *   /metrics (metrics.c)    pos[SF_PROM], a family per field (gauges and
 *                           counters first, the summaries after every
 *                           level's other families)
 *   statsd (statsd.c)       pos[SF_STATSD], as <base>.<statsd>; counters
 *                           go as the change since the last push
 *
 * A pos is the field's place in that output, from 1; 0 leaves it out.
 * The outputs' orders differ (Go's statsd.go and printStats each have
 * their own), hence a place per output rather than one order.  Fields of
 * type SF_NEST (the channel and client lists, e2e latencies, pub_counts)
 * are written by the output itself at that place.
 */
#ifndef NSQD_STATFIELDS_H
#define NSQD_STATFIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct quantile;

/* How a field's value is read from its object. */
enum sf_type {
	SF_U64,		/* uint64_t at off */
	SF_SIZE,	/* size_t at off */
	SF_I64,		/* int64_t at off */
	SF_INT,		/* int at off */
	SF_BOOL,	/* bool at off */
	SF_GET,		/* get(obj), signed */
	SF_STR,		/* a char * at off */
	SF_CHARS,	/* a char array at off */
	SF_LIT,		/* the string lit, whatever the object */
	SF_FALSE,	/* false, whatever the object */
	SF_NEST,	/* written by the output: see nest */
};

enum sf_kind {
	SF_GAUGE,
	SF_COUNTER,
	SF_SUMMARY,	/* the e2e latency quantiles */
};

/* What an SF_NEST field holds. */
enum sf_nest {
	SF_N_NONE,
	SF_N_CHANNELS,	/* a topic's channels */
	SF_N_CLIENTS,	/* a channel's clients */
	SF_N_PUBS,	/* a client's pub_counts (left out when none) */
	SF_N_E2E,	/* e2e processing latency */
};

enum sf_out {
	SF_TEXT,
	SF_PROM,
	SF_STATSD,
	SF_NOUT
};

struct statfield {
	const char	*key;		/* JSON key; NULL: not in JSON */
	enum sf_type	 type;
	size_t		 off;		/* in the level's struct */
	int64_t		(*get)(const void *);
	enum sf_kind	 kind;
	unsigned char	 pos[SF_NOUT];	/* text, /metrics, statsd */
	const char	*text;		/* label in the text format */
	int		 width;		/* of the text value */
	const char	*prom;		/* Prometheus family */
	const char	*help;		/* its HELP line */
	const char	*statsd;	/* statsd stat, after the base */
	enum sf_nest	 nest;
	const char	*lit;		/* SF_LIT's value */
	bool		 omitempty;	/* JSON: left out when false, "" or
					   NULL (Go's omitempty) */
};

struct sf_level {
	const struct statfield	*f;
	size_t			 n;
};

/* Objects: struct nsqd, topic, channel, client and nsqd_mem. */
extern const struct sf_level sf_nsqd, sf_topic, sf_channel, sf_client,
    sf_mem;

/* The most fields a level has (sf_order's array). */
#define SF_MAX	32

/*
 * The fields of l that output o takes, in o's order, into v (SF_MAX
 * slots); returns how many.
 */
size_t		 sf_order(const struct sf_level *l, enum sf_out o,
		     const struct statfield **v);
/*
 * The e2e latency of a topic (its channels' merged, *owned: the caller
 * frees it) or a channel (its own); NULL when not configured.
 */
struct quantile	*sf_e2e(const struct sf_level *l, void *obj, bool *owned);
/* A number field's value; a signed one (sf_signed) cast. */
uint64_t	 sf_value(const struct statfield *, const void *obj);
bool		 sf_signed(const struct statfield *);
/* A string field's value (SF_STR, SF_CHARS, SF_LIT). */
const char	*sf_str(const struct statfield *, const void *obj);

#endif
