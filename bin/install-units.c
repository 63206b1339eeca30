/*
 * install-units: write the systemd units that env.local asks for, enable
 * them, and install the post-receive hook (SPEC.md "install-units",
 * install-units(1)).
 *
 * What is written, and how it is recognised as ours, lives in lib/units
 * (rendered with lib/tpl from the templates in systemd-units/ and
 * logrotate.d/); this file holds the options, the systemctl calls, and
 * the installation of the hook into a bare repository.
 * BINDIR, the folder of the programs the units run, is the folder of this
 * executable: install-units is installed beside them.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cfg.h"
#include "cli.h"
#include "hookin.h"
#include "log.h"
#include "proc.h"
#include "repo.h"
#include "settings.h"
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

static char *parent_of(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

static int systemctl(struct run *r, const char *verb, const char *const *names, size_t n)
{
	const char **argv = xcalloc(n + 4, sizeof(*argv));
	size_t k = 0;
	int status, ret = 0;

	argv[k++] = "systemctl";
	argv[k++] = verb;
	if (strcmp(verb, "daemon-reload") != 0)
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

/* Disable, then remove, the files units_find_stale() collected. */
static int remove_stale(struct run *r)
{
	const char **names = xcalloc(r->u.n_stale + 1, sizeof(*names));
	size_t k = units_enablable(names, r->u.stale, r->u.n_stale);
	int ret = 0;

	if (!opt_root && !opt_dry_run && k && systemctl(r, "disable", names, k) < 0)
		log_warn("%s", r->err);     /* a unit that was never enabled must not block removal */
	if (units_remove_stale(&r->u, r->err) < 0)
		ret = -1;
	free(names);
	return ret;
}

static int install(struct run *r)
{
	if (units_plan(&r->u, r->err) < 0 || units_conflicts(&r->u, r->err) < 0)
		return EXIT_CONFIG;
	units_find_stale(&r->u, 1);
	if (units_write(&r->u, r->err) < 0 || remove_stale(r) < 0)
		return EXIT_IOERR;
	if (!opt_root && !opt_dry_run && r->u.reload) {
		const char **enable = xcalloc(r->u.n_want + 1, sizeof(*enable));
		size_t k = units_enablable(enable, r->u.want, r->u.n_want);
		int rc = systemctl(r, "daemon-reload", NULL, 0) < 0 ||
		         (k && systemctl(r, "enable", enable, k) < 0);
		free(enable);
		if (rc)
			return EXIT_IOERR;
	}
	return EXIT_OK;
}

static int uninstall(struct run *r)
{
	units_find_stale(&r->u, 0);
	if (remove_stale(r) < 0)
		return EXIT_IOERR;
	if (!opt_root && !opt_dry_run && r->u.reload && systemctl(r, "daemon-reload", NULL, 0) < 0)
		return EXIT_IOERR;
	return EXIT_OK;
}

/* ---- --hook ---- */

/* The refs whose updates matter: refs/tags/GLOB in tag mode, else the
 * upstream branch (branch.<name>.merge) of each checkout's current branch. */
static int hook_refs(char **out, struct run *r)
{
	const struct settings *s = r->s;
	char *list = NULL;

	if (s->track_tags) {
		*out = xasprintf("refs/tags/%s", s->tag_glob);
		return 0;
	}
	for (size_t i = 0; i <= s->n_extra_repos; i++) {
		const char *path = i == 0 ? s->compose_dir : s->extra_repos[i - 1];
		git_repository *repo = NULL;
		git_config *cfg = NULL;
		git_buf merge = GIT_BUF_INIT;
		char *branch = NULL, *key = NULL;
		char e[ERR_MAX];

		if (!path)
			continue;
		/* branch.<name>.merge is the upstream's name on the remote, the
		 * ref a push to the bare repository moves. */
		if (repo_open(&repo, path, e) < 0)
			log_warn("%s: skipped", e);
		else if (!(branch = repo_current_branch(repo)))
			log_warn("'%s' has no branch checked out: skipped", path);
		else if (git_repository_config_snapshot(&cfg, repo) < 0 ||
		         git_config_get_string_buf(&merge, cfg, (key = xasprintf("branch.%s.merge", branch))) < 0)
			log_warn("'%s': branch '%s' has no upstream: skipped", path, branch);
		else if (!list || !hookin_ref_matches(list, merge.ptr)) {
			char *next = list ? xasprintf("%s %s", list, merge.ptr) : xstrdup(merge.ptr);
			free(list);
			list = next;
		}
		git_buf_dispose(&merge);
		free(key);
		free(branch);
		git_config_free(cfg);
		git_repository_free(repo);
	}
	if (!list)
		return err_set(r->err, "cannot tell which refs the hook should watch: no configured "
		               "checkout has a branch with an upstream (see AUTODEPLOY_COMPOSE_DIR)");
	*out = list;
	return 0;
}

/* The hook binary beside us (installed) or in the build tree. */
static int hook_source(char **data, size_t *len, struct run *r)
{
	char *cand[2] = { xasprintf("%s/post-receive", r->bindir),
	                  xasprintf("%s/../hooks/post-receive", r->bindir) };
	int ret = -1;

	for (size_t i = 0; i < 2 && ret < 0; i++)
		if (access(cand[i], R_OK) == 0 && util_read_file(data, len, cand[i], r->err) == 0) {
			if (memmem(*data, *len, HOOKIN_MARKER, strlen(HOOKIN_MARKER)))
				ret = 0;
			else
				free(*data);
		}
	if (ret < 0)
		err_set(r->err, "cannot find autodeploy's post-receive hook beside install-units ('%s')", cand[0]);
	free(cand[0]);
	free(cand[1]);
	return ret;
}

static int trigger_group(gid_t *gid, const struct cfg *c, const char *bare, char *err)
{
	const char *g = cfg_str(c, "AUTODEPLOY_TRIGGER_GROUP", NULL);
	struct stat st;

	if (!g) {
		if (stat(bare, &st) < 0)
			return err_set(err, "cannot stat '%s': %s", bare, strerror(errno));
		*gid = st.st_gid;
		return 0;
	}
	struct group *gr = getgrnam(g);
	char *end;
	unsigned long n = strtoul(g, &end, 10);
	if (gr)
		*gid = gr->gr_gid;
	else if (*end == '\0' && end != g)
		*gid = (gid_t)n;
	else
		return err_set(err, "AUTODEPLOY_TRIGGER_GROUP: no group '%s'", g);
	return 0;
}

/* The trigger file: root's (when we are root), the group's, 0660. */
static int make_trigger(struct run *r, const char *path, gid_t gid)
{
	char *dir = parent_of(path);
	int fd = -1, ret = -1;

	if (util_mkdir_p(dir, 0755, r->err) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0 || fchown(fd, geteuid() == 0 ? 0 : (uid_t)-1, gid) < 0 || fchmod(fd, 0660) < 0) {
		err_set(r->err, "cannot create trigger '%s' with group %u and mode 0660: %s",
		        path, (unsigned)gid, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

static int set_config(git_config *cfg, const char *key, const char *value, int *changed, char *err)
{
	git_buf old = GIT_BUF_INIT;
	int same = git_config_get_string_buf(&old, cfg, key) == 0 && strcmp(old.ptr, value) == 0;

	git_buf_dispose(&old);
	if (same)
		return 0;
	*changed = 1;
	if (opt_dry_run) {
		log_info("would set %s = %s", key, value);
		return 0;
	}
	if (git_config_set_string(cfg, key, value) < 0)
		return repo_git_err(err, "cannot set '%s'", key);
	log_info("set %s = %s", key, value);
	return 0;
}

static int install_hook(struct run *r, const char *bare)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *data = NULL, *old = NULL, *refs = NULL, *hook = NULL, *trigger = NULL, *rtrigger = NULL;
	size_t len, old_len;
	int ret = EXIT_CONFIG, changed = 0;
	gid_t gid = 0;
	char ignore[ERR_MAX];

	if (git_repository_open_ext(&repo, bare, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		repo_git_err(r->err, "cannot open '%s'", bare);
		goto out;
	}
	if (!git_repository_is_bare(repo)) {
		err_set(r->err, "'%s' is not a bare repository: the hook belongs in the repository "
		        "people push to", bare);
		goto out;
	}
	if (hook_refs(&refs, r) < 0 || trigger_group(&gid, r->cfg, bare, r->err) < 0)
		goto out;
	hook = xasprintf("%s/hooks/post-receive", bare);
	if (util_read_file(&old, &old_len, hook, ignore) == 0 &&
	    !memmem(old, old_len, HOOKIN_MARKER, strlen(HOOKIN_MARKER))) {
		err_set(r->err, "refusing to replace '%s': it is not autodeploy's hook; move it away "
		        "(or call it from a hook of your own) and run install-units --hook again", hook);
		goto out;
	}
	ret = EXIT_IOERR;
	if (hook_source(&data, &len, r) < 0)
		goto out;
	trigger = xasprintf("%s/trigger", r->s->state_dir);
	rtrigger = rooted(trigger);
	if (!opt_dry_run && make_trigger(r, rtrigger, gid) < 0)
		goto out;
	if (git_repository_config(&cfg, repo) < 0) {
		repo_git_err(r->err, "cannot open the config of '%s'", bare);
		goto out;
	}
	if (set_config(cfg, "autodeploy.trigger", trigger, &changed, r->err) < 0 ||
	    set_config(cfg, "autodeploy.refs", refs, &changed, r->err) < 0)
		goto out;
	if (old && old_len == len && memcmp(old, data, len) == 0) {
		log_info("hook '%s' is unchanged", hook);
	} else {
		changed = 1;
		if (opt_dry_run)
			log_info("would %s '%s'", old ? "update" : "install", hook);
		else if (util_write_atomic(hook, data, len, 0755, r->err) < 0)
			goto out;
		else
			log_info("%s '%s'", old ? "updated" : "installed", hook);
	}
	log_info("hook: %s; it watches %s", changed ? "done" : "nothing changed", refs);
	ret = EXIT_OK;
out:
	git_config_free(cfg);
	git_repository_free(repo);
	free(rtrigger);
	free(trigger);
	free(hook);
	free(refs);
	free(old);
	free(data);
	return ret;
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
	struct cfg *cfg = NULL;
	struct settings s;
	char *templates = NULL, *logrotate_tpl = NULL;
	int code, settings_ok = 0;

	if (cli_parse(argc, (const char **)argv, options, "[--root DIR] [--dry-run] [--uninstall] "
	              "[--only NAME,...] [--migrate] [--hook BARE_REPO]", &code) < 0)
		goto out_cli;
	if (opt_hook && (opt_uninstall || opt_only || opt_migrate)) {
		fprintf(stderr, "install-units: --hook installs only the hook; it takes no "
		        "--uninstall, --only or --migrate\n");
		code = EXIT_USAGE;
		goto out_cli;
	}
	repo_global_init();
	code = EXIT_CONFIG;
	if (cfg_load(&cfg, cfg_default_path(cli.config), r.err) < 0) {
		log_error("%s", r.err);
		goto out;
	}
	if (settings_load(&s, cfg, r.err) < 0) {
		log_error("%s", r.err);
		goto out;
	}
	settings_ok = 1;
	r.cfg = r.u.cfg = cfg;
	r.s = r.u.s = &s;
	r.u.root = opt_root;
	r.u.dry_run = opt_dry_run;
	r.u.migrate = opt_migrate;
	if (opt_only && parse_only(&r) < 0) {
		code = EXIT_USAGE;
		goto out;
	}
	if (!opt_dry_run) {
		char *logdir = rooted(s.log_dir);
		if (log_open_file(logdir, "install-units.log", r.err) < 0)
			log_warn("%s: logging to stderr only", r.err);
		free(logdir);
	}
	log_start();
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
	log_end(code);
out:
	units_free(&r.u);
	if (r.u.only)
		for (char **p = r.u.only; *p; p++)
			free(*p);
	free(r.u.only);
	free(logrotate_tpl);
	free(templates);
	if (settings_ok)
		settings_free(&s);
	cfg_free(cfg);
	repo_global_shutdown();
	log_close();
out_cli:
	free(opt_root);
	free(opt_only);
	free(opt_hook);
	cli_free();
	return code;
}
