#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "util.h"
#include "version.h"

struct cli_common cli;

static int show_version;

static struct poptOption common_options[] = {
	{ "config", 'c', POPT_ARG_STRING, &cli.config, 0,
	  "read settings from FILE (default: $AUTODEPLOY_CONFIG or /etc/autodeploy/env.local)", "FILE" },
	{ "verbose", 'v', POPT_ARG_NONE, &cli.verbose, 0, "say more", NULL },
	{ "quiet", 'q', POPT_ARG_NONE, &cli.quiet, 0, "print only warnings and errors", NULL },
	{ "version", 'V', POPT_ARG_NONE, &show_version, 0, "print the version and exit", NULL },
	POPT_TABLEEND
};

int cli_parse(int argc, const char **argv, const struct poptOption *options,
              const char *usage, int *code)
{
	static struct poptOption empty[] = { POPT_TABLEEND };
	struct poptOption table[] = {
		{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, (void *)(options ? options : empty), 0,
		  "Options:", NULL },
		{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, common_options, 0,
		  "Common options:", NULL },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;
	name = name ? name + 1 : (argc > 0 ? argv[0] : "autodeploy");
	log_init(name);

	poptContext pc = poptGetContext(name, argc, argv, table, 0);
	poptSetOtherOptionHelp(pc, usage);
	int rc, ret = 0;
	while ((rc = poptGetNextOpt(pc)) > 0)
		;
	if (rc < -1) {
		fprintf(stderr, "%s: %s: %s (try --help)\n", name,
		        poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
		*code = EXIT_USAGE;
		ret = -1;
	} else if (poptPeekArg(pc) != NULL) {
		fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", name, poptPeekArg(pc));
		*code = EXIT_USAGE;
		ret = -1;
	} else if (show_version) {
		printf("%s %s\n", name, AUTODEPLOY_VERSION);
		*code = EXIT_OK;
		ret = -1;
	} else if (cli.verbose && cli.quiet) {
		fprintf(stderr, "%s: --verbose and --quiet exclude each other\n", name);
		*code = EXIT_USAGE;
		ret = -1;
	}
	if (ret == 0)
		log_set_verbosity(cli.quiet ? LOG_QUIET : cli.verbose ? LOG_VERBOSE : LOG_NORMAL);
	poptFreeContext(pc);
	return ret;
}

void cli_free(void)
{
	free(cli.config);
	cli.config = NULL;
}
