/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * Command-line options in Go NSQ's syntax (its flag package: -name v,
 * -name=v, --name v, --name=v, bare booleans) beside GNU short options
 * (-x v, -xv, clusters of short booleans -ab), then an optional config
 * file in the TOML subset Go nsqd reads (--config FILE): keys are option
 * names with '-' turned into '_' unless an option names its own key, and
 * a value on the command line beats the file's.  Errors are the text
 * Go would print, where Go has words for them.  One table drives the
 * parser and the help text.
 */
#ifndef NSQ_OPTIONS_H
#define NSQ_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

/* Durations are int64_t nanoseconds: the units, for every program. */
#define NS_SEC		INT64_C(1000000000)
#define NS_MS		INT64_C(1000000)

/* The number of entries of an option table (an array, not a pointer). */
#define OPTS_LEN(table)	(sizeof(table) / sizeof((table)[0]))

enum opt_type {
	OPT_BOOL,	/* bool *; -name, -name=false; never the next word */
	OPT_INT,	/* int64_t *; Go's ParseInt(s, 0, 64): 0x10, 1_0 */
	OPT_STR,	/* char ** */
	OPT_DURATION,	/* int64_t * ns; Go syntax: 300ms, 1h30m */
	OPT_STRLIST,	/* struct strlist *; every occurrence appends */
	OPT_FLOATLIST,	/* struct floatlist *; repeats and comma lists */
	/*
	 * char **: a string that may also be given bare like a boolean
	 * ("--tls-required" is "true", "--tls-required=tcp-https"); the
	 * next word is never consumed.  Config booleans become "true" or
	 * "false".  The caller validates the text.
	 */
	OPT_BOOLSTR,
};

/* A list of strings, each xstrdup'd (strlist_add); strlist_free frees. */
struct strlist {
	char	**v;
	size_t	  n;
};

struct floatlist {
	double	*v;
	size_t	 n;
};

struct opt {
	const char	*name;		/* long name, "tcp-address" */
	int		 shortname;	/* GNU short letter or 0 */
	enum opt_type	 type;
	/*
	 * bool *, int64_t *, char ** (set values are xstrdup'd and owned by
	 * the caller; the initial value may be static and is never freed),
	 * int64_t * (ns), struct strlist *, struct floatlist *, char **.
	 */
	void		*val;
	const char	*metavar;	/* "ADDR" in help; NULL for bools */
	const char	*help;		/* one line */
	/* The config-file key, when not the name with '-' -> '_'. */
	const char	*cfgkey;
	/* Inclusive bounds for INT and DURATION, applied when min < max. */
	int64_t		 min, max;
};

#define OPTS_HELP	1

/*
 * Parse argv[1..argc).  Options end at "--" (skipped) or at the first
 * operand ("-" alone is one), as Go's flag package stops there; *argi is
 * then the index of the first operand.  Returns 0; OPTS_HELP when -h,
 * -help or --help was given (and no option of that name exists); or -1
 * with the reason in err, in Go's words: "flag provided but not defined:
 * -foo", "flag needs an argument: -topic", "invalid value \"x\" for flag
 * -mem-queue-size: parse error", "invalid boolean value \"x\" for -snappy:
 * parse error", "bad flag syntax: ---x".
 *
 * When the table has an OPT_STR option named "config" and it is set to a
 * non-empty path after the command line, that file is read and each key
 * it sets is applied unless the option was given on the command line (a
 * list given on the command line replaces the file's).  File errors are
 * "FILE:LINE: reason".  Keys no option knows are ignored, as Go nsqd does.
 *
 * Quirks kept from Go nsqd: command-line FLOATLIST values are kept sorted
 * in decreasing order (Go's FloatArray), the file's are kept in file
 * order; integer durations in the file are milliseconds (go-options).
 */
int	opts_parse(const struct opt *, size_t n, int argc, char **argv,
	    int *argi, char *err, size_t errlen);
/*
 * Read config file path and apply it to the table as opts_parse() does,
 * every key counting (nothing came from a command line).  0 or -1 with
 * "FILE:LINE: reason" in err.
 */
int	opts_load_config(const struct opt *, size_t n, const char *path,
	    char *err, size_t errlen);
/*
 * Help text: "Usage: <prog> [options]" (or "Usage: <prog> <synopsis>"),
 * then one line per option, "  -x, --name METAVAR   help (default: X)",
 * the default taken from the current value and left out when it is zero,
 * false or empty, as Go's PrintDefaults does.  Caller frees.
 */
char	*opts_help(const struct opt *, size_t n, const char *prog,
	    const char *synopsis);

/*
 * Go's time.ParseDuration: a signed sequence of decimal numbers with
 * optional fractions and units ns, us, µs, ms, s, m, h ("300ms", "-1.5h",
 * "2h45m", "0").  0, or -1 if s is not a duration or overflows int64.
 */
int	parse_duration(const char *s, int64_t *ns);
/*
 * Go's Duration.String() into buf (NUL-terminated, truncated to len):
 * "1m0s", "250ms", "1.5s", "1h0m0s", "0s", "1µs".  Returns the length
 * the whole string has, as snprintf does.
 */
size_t	format_duration(int64_t ns, char *buf, size_t len);
/* Go's strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False. */
int	parse_bool(const char *s, int *v);
/*
 * Go's strconv.ParseInt(s, base0 ? 0 : 10, 64).  0, -1 on a syntax error,
 * -2 when out of range.
 */
int	parse_int64(const char *s, int base0, int64_t *v);

/* Append a copy of s. */
void	strlist_add(struct strlist *, const char *s);
/* Free the strings and the array; the list is empty again. */
void	strlist_free(struct strlist *);
void	floatlist_add(struct floatlist *, double);
void	floatlist_free(struct floatlist *);

#endif
