/*
 * What the programs (the tools nsq-pub, nsq-tail, nsq-to-file, nsq-stat,
 * and the daemons nsqd and nsqlookupd) share beyond lib/: the start of
 * main(), which prints and exits as lib/ may not.  Each parses its option
 * table the same way and answers --help, --version, bad options and stray
 * operands with the same words and exit codes (a daemon's stray operand
 * is one line without the help, and its help is made only when printed,
 * as before the daemons shared this).
 */
#ifndef NSQ_TOOL_H
#define NSQ_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

/*
 * Parse argv against the table, its help text made first so that it
 * shows the defaults.  -h/--help prints the help to stdout and exits 0;
 * --version (*version set by the table) prints "<prog> v<Go version> (nsq
 * in C <version>)" and exits 0; a bad option or any operand goes to
 * tool_usage_exit().  Returns when the options are good.
 */
void	tool_options(const char *prog, const char *synopsis,
	    const struct opt *opts, size_t nopts, const bool *version,
	    int argc, char **argv);
/*
 * Print why, then the help, to stderr and exit 2: for a tool's own
 * checks of option values after tool_options().  With why NULL, the help
 * alone goes to stdout and the exit is 0.
 */
void	tool_usage_exit(const char *why) __attribute__((noreturn));
/* Free the help text; tool_usage_exit() may not be called after. */
void	tool_options_done(void);
/*
 * Drop the later copies of a string given twice (the first keeps its
 * place): an address repeated on the command line is one address, as
 * to_nsq's map of producers and go-nsq's list of nsqlookupd make it.
 */
void	tool_uniq(struct strlist *);
/*
 * tool_options() for a daemon, synopsis "[options]": a stray operand is
 * "<prog>: unexpected argument: X" alone on stderr, exit 2.  The help
 * text is freed before it returns.
 */
void	tool_daemon_options(const char *prog, const struct opt *opts,
	    size_t nopts, const bool *version, int argc, char **argv);

#endif
