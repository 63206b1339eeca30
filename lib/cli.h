/*
 * cli: the options every program shares (SPEC.md "Common behaviour"):
 * --help, --version, --config FILE, --verbose, --quiet.  Unknown options
 * and stray arguments give a one-line error and exit 64.
 *
 *   static long wait_s;
 *   static struct poptOption opts[] = {
 *       { "wait", 0, POPT_ARG_LONG, &wait_s, 0, "wait for the lock", "SECONDS" },
 *       POPT_TABLEEND
 *   };
 *   int code;
 *   if (cli_parse(argc, argv, opts, "[OPTIONS]", &code) < 0)
 *       return code;        (help/version printed: 0; bad usage: 64)
 *   ... cli.config, cli.verbose ...
 *   cli_free();             on the cleanup path
 *
 * The program name is the basename of argv[0] and is also given to
 * log_init().  popt never reads /etc/popt aliases here: a deploy must not
 * depend on who runs it.
 */
#ifndef AUTODEPLOY_CLI_H
#define AUTODEPLOY_CLI_H

#include <popt.h>

struct cli_common {
	char *config;   /* --config FILE, else NULL (see cfg_default_path) */
	int verbose;
	int quiet;
};

extern struct cli_common cli;

/* Parse argv against the program's own table (may be NULL) plus the common
 * options.  Returns 0 to go on; -1 when the program must return *code.
 * Strings that popt stores for the program's own POPT_ARG_STRING options
 * are malloc'd: the program frees them. */
int cli_parse(int argc, const char **argv, const struct poptOption *options,
              const char *usage, int *code);
void cli_free(void);

#endif
