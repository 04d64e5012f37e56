/*
 * The programs' common start of main(): option parsing with the help and
 * version texts, the usage error and its exit code 2.  The help text is
 * kept until tool_options_done() so that later checks of option values
 * can show it too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsq.h"
#include "options.h"
#include "tool.h"

static char *help;

void
tool_usage_exit(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "%s\n", why);
	if (help != NULL)
		fputs(help, why != NULL ? stderr : stdout);
	exit(why != NULL ? 2 : 0);
}

/*
 * Everything but the operands; returns the index of the first one.  With
 * eager, the help is made before parsing, to show the defaults; without,
 * only if it is printed (a daemon: making it runs code an idle nsqd would
 * otherwise never touch, 200 kB more resident; its defaults then show the
 * values parsed so far, as the daemons always did).
 */
static int
parse(const char *prog, const char *synopsis, const struct opt *opts,
    size_t nopts, const bool *version, int argc, char **argv, bool eager)
{
	char err[512];
	int argi, r;

	if (eager)
		help = opts_help(opts, nopts, prog, synopsis);
	r = opts_parse(opts, nopts, argc, argv, &argi, err, sizeof(err));
	if ((r == OPTS_HELP || r == -1) && help == NULL)
		help = opts_help(opts, nopts, prog, synopsis);
	if (r == OPTS_HELP)
		tool_usage_exit(NULL);
	if (r == -1)
		tool_usage_exit(err);
	if (*version) {
		printf("%s v%s (nsq in C %s)\n", prog, NSQ_COMPAT_VERSION,
		    NSQ_VERSION);
		exit(0);
	}
	return argi;
}

void
tool_options(const char *prog, const char *synopsis, const struct opt *opts,
    size_t nopts, const bool *version, int argc, char **argv)
{
	char err[512];
	int argi;

	argi = parse(prog, synopsis, opts, nopts, version, argc, argv, true);
	if (argi < argc) {
		snprintf(err, sizeof(err), "unexpected argument: %s",
		    argv[argi]);
		tool_usage_exit(err);
	}
}

void
tool_daemon_options(const char *prog, const struct opt *opts, size_t nopts,
    const bool *version, int argc, char **argv)
{
	int argi;

	argi = parse(prog, "[options]", opts, nopts, version, argc, argv,
	    false);
	if (argi < argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n", prog,
		    argv[argi]);
		exit(2);
	}
	tool_options_done();
}

void
tool_options_done(void)
{
	free(help);
	help = NULL;
}

void
tool_uniq(struct strlist *l)
{
	size_t i, k, n = 0;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(l->v[k], l->v[i]) == 0)
				break;
		if (k < n)
			free(l->v[i]);
		else
			l->v[n++] = l->v[i];
	}
	l->n = n;
}
