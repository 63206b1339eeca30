/*
 * install-units: write the systemd units that env.local asks for, enable
 * them, and install the post-receive hook (SPEC.md "install-units",
 * install-units(1)).
 *
 * What is written, and how it is recognised as ours, lives in lib/units
 * (rendered with lib/tpl from the templates in systemd-units/ and
 * logrotate.d/); the hook's installation in lib/hookinst.  This file holds
 * the options, where things are found, and the systemctl calls.
 * BINDIR, the folder of the programs the units run, is the folder of this
 * executable: install-units is installed beside them.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cfg.h"
#include "cli.h"
#include "hookinst.h"
#include "installed.h"
#include "log.h"
#include "proc.h"
#include "repo.h"
#include "settings.h"
#include "unitfiles.h"
#include "units.h"
#include "util.h"

static char *opt_root, *opt_only, *opt_hook;
static int opt_dry_run, opt_uninstall, opt_migrate;

static struct poptOption options[] = {
	{ "root", 0, POPT_ARG_STRING, &opt_root, 0, "write under DIR (as systemctl --root); run no systemctl", "DIR" },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print the units, change nothing", NULL },
	{ "uninstall", 0, POPT_ARG_NONE, &opt_uninstall, 0, "disable and remove the units install-units wrote", NULL },
	{ "only", 0, POPT_ARG_STRING, &opt_only, 0, "only these: autodeploy, notebookdeploy, rotate-logs, job-NAME", "NAME[,NAME...]" },
	{ "migrate", 0, POPT_ARG_NONE, &opt_migrate, 0, "move the cron-era files into STATE_DIR/cron-backup/ first", NULL },
	{ "hook", 0, POPT_ARG_STRING, &opt_hook, 0, "install only the post-receive hook into BARE_REPO", "BARE_REPO" },
	POPT_TABLEEND
};

struct run {
	const struct cfg *cfg;
	const struct settings *s;
	char bindir[PATH_MAX];
	char config[PATH_MAX];
	struct units u;              /* the files to write or remove */
	char err[ERR_MAX];
};

/* DIR + path when --root is given. */
static char *rooted(const char *path)
{
	return xasprintf("%s%s", opt_root ? opt_root : "", path);
}

/* systemctl VERB [--now] NAMES... */
static int systemctl(struct run *r, const char *verb, int now, const char *const *names, size_t n)
{
	const char **argv = xcalloc(n + 4, sizeof(*argv));
	size_t k = 0;
	int status, ret = 0;

	argv[k++] = "systemctl";
	argv[k++] = verb;
	if (now)
		argv[k++] = "--now";
	for (size_t i = 0; i < n; i++)
		argv[k++] = names[i];
	if (proc_run(&status, argv, &(struct proc_opts){ .timeout = 300 }, r->err) < 0)
		ret = -1;
	else if (status != 0)
		ret = err_set(r->err, "'systemctl %s' failed with status %d", verb, status);
	free(argv);
	return ret;
}

/* Disable, then remove, the files unitfiles_find_stale() collected. */
static int remove_stale(struct run *r)
{
	const char **names = xcalloc(r->u.n_stale + 1, sizeof(*names));
	size_t k = unitfiles_enablable(names, r->u.stale, r->u.n_stale, -1);
	int ret = 0;

	if (!opt_root && !opt_dry_run && k && systemctl(r, "disable", 1, names, k) < 0)
		log_warn("%s", r->err);     /* a unit that was never enabled must not block removal */
	if (unitfiles_remove_stale(&r->u, r->err) < 0)
		ret = -1;
	free(names);
	return ret;
}

static int install(struct run *r)
{
	if (units_plan(&r->u, r->err) < 0 || unitfiles_conflicts(&r->u, r->err) < 0)
		return EXIT_CONFIG;
	unitfiles_find_stale(&r->u, 1);
	if (unitfiles_write(&r->u, r->err) < 0 || remove_stale(r) < 0)
		return EXIT_IOERR;
	if (!opt_root && !opt_dry_run && r->u.reload) {
		const char **now = xcalloc(r->u.n_want + 1, sizeof(*now));
		const char **boot = xcalloc(r->u.n_want + 1, sizeof(*boot));
		size_t k = unitfiles_enablable(now, r->u.want, r->u.n_want, 0);
		size_t b = unitfiles_enablable(boot, r->u.want, r->u.n_want, 1);
		int rc = systemctl(r, "daemon-reload", 0, NULL, 0) < 0 ||
		         (k && systemctl(r, "enable", 1, now, k) < 0) ||
		         (b && systemctl(r, "enable", 0, boot, b) < 0);
		free(now);
		free(boot);
		if (rc)
			return EXIT_IOERR;
	}
	/* What the units were made from: check-drift and run-deploy warn
	 * when env.local has changed since. */
	if (!opt_dry_run) {
		char *dir = rooted(r->s->state_dir);
		int rc = util_mkdir_p(dir, 0755, r->err) < 0 ||
		         installed_write(opt_root, r->s->state_dir, r->config, r->err) < 0;
		free(dir);
		if (rc)
			return EXIT_IOERR;
	}
	return EXIT_OK;
}

static int install_hook(struct run *r, const char *bare)
{
	struct hookinst h = { .cfg = r->cfg, .s = r->s, .bindir = r->bindir, .root = opt_root,
	                      .dry_run = opt_dry_run };
	int rc = hookinst_install(&h, bare, r->err);

	return rc == 0 ? EXIT_OK : rc == -1 ? EXIT_CONFIG : EXIT_IOERR;
}

static int uninstall(struct run *r)
{
	unitfiles_find_stale(&r->u, 0);
	if (remove_stale(r) < 0 ||
	    (!opt_dry_run && !opt_only && installed_remove(opt_root, r->s->state_dir, r->err) < 0))
		return EXIT_IOERR;
	if (!opt_root && !opt_dry_run && r->u.reload && systemctl(r, "daemon-reload", 0, NULL, 0) < 0)
		return EXIT_IOERR;
	return EXIT_OK;
}

/* ---- main ---- */

static int parse_only(struct run *r)
{
	char *copy = xstrdup(opt_only), *save = NULL;
	size_t n = 0;

	r->u.only = xcalloc(strlen(opt_only) + 2, sizeof(char *));
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!units_group_valid(t, r->s, opt_uninstall)) {
			fprintf(stderr, "install-units: --only: '%s' is not autodeploy, notebookdeploy, "
			        "rotate-logs or job-NAME of a job in AUTODEPLOY_EXTRA_JOBS\n", t);
			free(copy);
			return -1;
		}
		r->u.only[n++] = xstrdup(t);
	}
	free(copy);
	return 0;
}

static int exe_dir(char *out, size_t size, char *err)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		return err_set(err, "cannot read '/proc/self/exe': %s", strerror(errno));
	buf[n] = '\0';
	snprintf(out, size, "%s", dirname(buf));
	return 0;
}


/* Where the templates are, and what the units name: ourselves, env.local. */
static int locate(struct run *r, char **templates, char **logrotate_tpl)
{
	if (!realpath(cfg_default_path(cli.config), r->config))
		snprintf(r->config, sizeof(r->config), "%s", cfg_default_path(cli.config));
	if (exe_dir(r->bindir, sizeof(r->bindir), r->err) < 0)
		return -1;
	*logrotate_tpl = NULL;
	if (opt_hook)
		return 0;
	if (units_find_data(templates, r->bindir, "systemd-units", "autodeploy.service.in", r->err) < 0)
		return err_set(r->err, "cannot find the unit templates in '%s/../share/autodeploy/systemd-units'",
		               r->bindir);
	/* The logrotate snippet's template is needed only to install it. */
	if (r->s->rotate_with_logrotate && !opt_uninstall && units_selected(&r->u, "rotate-logs")) {
		char *dir;
		if (units_find_data(&dir, r->bindir, "logrotate.d", "autodeploy.in", r->err) < 0)
			return err_set(r->err, "cannot find the logrotate snippet template in "
			               "'%s/../share/autodeploy/logrotate.d'", r->bindir);
		*logrotate_tpl = xasprintf("%s/autodeploy.in", dir);
		free(dir);
	}
	r->u.templates = *templates;
	r->u.logrotate_tpl = *logrotate_tpl;
	r->u.config = r->config;
	r->u.bindir = r->bindir;
	return 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct app a;
	char *templates = NULL, *logrotate_tpl = NULL;
	int code;

	app_init(&a);
	repo_global_init();
	if (cli_parse(argc, (const char **)argv, options, "[--root DIR] [--dry-run] [--uninstall] "
	              "[--only NAME,...] [--migrate] [--hook BARE_REPO]", &code) < 0)
		goto out;
	if (opt_hook && (opt_uninstall || opt_only || opt_migrate)) {
		fprintf(stderr, "install-units: --hook installs only the hook; it takes no "
		        "--uninstall, --only or --migrate\n");
		code = EXIT_USAGE;
		goto out;
	}
	/* the settings before the log: --only is checked against them, and a
	 * usage error must leave nothing behind (not even a log under --root) */
	if ((code = app_load(&a)) != EXIT_OK)
		goto out;
	r.cfg = r.u.cfg = a.cfg;
	r.s = r.u.s = &a.s;
	r.u.root = opt_root;
	r.u.dry_run = opt_dry_run;
	r.u.migrate = opt_migrate;
	if (opt_only && parse_only(&r) < 0) {
		code = EXIT_USAGE;
		goto out;
	}
	a.root = opt_root;
	if ((code = app_begin(&a, opt_dry_run ? NULL : "install-units.log")) != EXIT_OK)
		goto out;
	if (locate(&r, &templates, &logrotate_tpl) < 0)
		code = EXIT_IOERR;
	else if (opt_hook)
		code = install_hook(&r, opt_hook);
	else if (opt_uninstall)
		code = uninstall(&r);
	else
		code = install(&r);
	if (code != EXIT_OK)
		log_error("%s", r.err);
	else if (!opt_hook && !r.u.created && !r.u.updated && !r.u.removed)
		log_info("nothing to do: %d unit(s) unchanged", r.u.unchanged);
	else if (!opt_hook)
		log_info("units: %d created, %d updated, %d removed, %d unchanged%s",
		         r.u.created, r.u.updated, r.u.removed, r.u.unchanged, opt_dry_run ? " (dry run)" : "");
out:
	units_free(&r.u);
	if (r.u.only)
		for (char **p = r.u.only; *p; p++)
			free(*p);
	free(r.u.only);
	free(logrotate_tpl);
	free(templates);
	code = app_end(&a, code);
	repo_global_shutdown();
	free(opt_root);
	free(opt_only);
	free(opt_hook);
	return code;
}
