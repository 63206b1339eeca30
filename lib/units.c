/* units: planning, the files env.local asks for.  See units.h; what is on
 * disk (conflicts, stale files, writing) is in unitfiles.c. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cron.h"
#include "log.h"
#include "settings.h"
#include "tpl.h"
#include "units.h"
#include "util.h"

const char *const units_plain_groups[3] = { "autodeploy", "notebookdeploy", "rotate-logs" };

int units_group_valid(const char *group, const struct settings *s, int any_job)
{
	for (size_t i = 0; i < 3; i++)
		if (strcmp(group, units_plain_groups[i]) == 0)
			return 1;
	if (strncmp(group, "job-", 4) != 0 || !group[4])
		return 0;
	const char *name = group + 4;
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(name))
		return 0;
	for (size_t i = 0; i < s->n_extra_jobs; i++)
		if (strcmp(s->extra_jobs[i], name) == 0)
			return 1;
	return any_job;
}

int units_selected(const struct units *u, const char *group)
{
	if (!u->only)
		return 1;
	for (char **p = u->only; *p; p++)
		if (strcmp(*p, group) == 0)
			return 1;
	return 0;
}

char *units_rooted(const struct units *u, const char *path)
{
	return xasprintf("%s%s", u->root ? u->root : "", path);
}

int units_find_data(char **out, const char *bindir, const char *sub, const char *probe, char *err)
{
	const char *rel[] = { "../share/autodeploy", "../..", ".." };

	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s/%s/%s", bindir, rel[i], sub, probe);
		int found = access(p, R_OK) == 0;
		free(p);
		if (found) {
			*out = xasprintf("%s/%s/%s", bindir, rel[i], sub);
			return 0;
		}
	}
	*out = NULL;
	return err_set(err, "cannot find '%s' in '%s/%s'", sub, bindir, rel[0]);
}

static struct units_file *add_file(struct units *u, const char *dir, const char *name,
                                   const char *group, char *err)
{
	if (u->n_want == UNITS_MAX)
		return err_set(err, "too many units (at most %d)", UNITS_MAX), NULL;
	struct units_file *f = &u->want[u->n_want++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->group, sizeof(f->group), "%s", group);
	f->dir = dir;
	f->text = NULL;
	return f;
}

/* Render systemd-units/TMPL.in as unit NAME of group. */
static int render_unit(struct units *u, const char *name, const char *group, const char *tmpl,
                       const char *const *vars, char *err)
{
	char *path = xasprintf("%s/%s.in", u->templates, tmpl), *text;
	struct units_file *f = NULL;

	if (tpl_render(&text, path, vars, err) == 0 && !(f = add_file(u, UNITS_DIR, name, group, err)))
		free(text);
	else if (f)
		f->text = text;
	free(path);
	return f ? 0 : -1;
}

/* OnCalendar=/OnBootSec= lines for the setting key; *boot when the timer
 * is for @reboot only.  Errors name the file and line of the setting. */
static int schedule_lines(const struct units *u, char **out, int *boot, const char *key,
                          const char *value, char *err)
{
	struct cron_sched cs;
	int checked, line = cfg_line(u->cfg, key);
	char why[ERR_MAX];

	if (cron_translate(&cs, key, value, why) < 0 ||
	    (cs.systemd && cron_check_calendar(&checked, key, cs.calendar[0], why) < 0)) {
		if (line > 0)
			snprintf(err, ERR_MAX, "%.200s:%d: %.800s", cfg_name(u->cfg), line, why);
		else
			snprintf(err, ERR_MAX, "%s", why);
		return -1;
	}
	*boot = cs.boot;
	if (cs.wide_step)
		log_warn("%s: '%s' has a step past its field's end: as in cron, it fires at the field's "
		         "first value only (%s)", key, value, cs.calendar[0]);
	if (cs.boot) {
		*out = xstrdup("OnBootSec=" CRON_BOOT_DELAY);
		return 0;
	}
	if (cs.every) {
		*out = xasprintf("OnBootSec=%lds\nOnUnitActiveSec=%lds", cs.every, cs.every);
		return 0;
	}
	*out = cs.n == 2 ? xasprintf("OnCalendar=%s\nOnCalendar=%s", cs.calendar[0], cs.calendar[1])
	                 : xasprintf("OnCalendar=%s", cs.calendar[0]);
	for (char *p = *out; *p; p++)
		if (*p == '%')
			return free(*out), err_set(err, "%s:%d: %s: '%%' has no meaning in a calendar "
			                           "expression", cfg_name(u->cfg), line, key);
	return 0;
}

/* "-/a -/b": the '-' lets the service start while an optional folder is
 * missing (check-drift reports a missing checkout; it must not fail). */
static int add_rw(char **list, const char *key, const char *path, char *err)
{
	char *p = tpl_unit_path(key, path, err);
	if (!p)
		return -1;
	char *item = xasprintf("-%s", p), *next;
	free(p);
	if (*list && (strstr(*list, item) != NULL)) {
		char *pad = xasprintf(" %s ", item), *hay = xasprintf(" %s ", *list);
		int dup = strstr(hay, pad) != NULL;
		free(pad);
		free(hay);
		if (dup)
			return free(item), 0;
	}
	next = *list ? xasprintf("%s %s", *list, item) : xstrdup(item);
	free(*list);
	free(item);
	*list = next;
	return 0;
}

static char *parent_of(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

/*
 * AUTODEPLOY_DEPLOY_WINDOW: the timer also fires at each minute the
 * window opens, so that what --if-drift deferred while it was shut
 * deploys within a minute of the opening, not at the next scheduled run.
 * (The settings refused a window that is not cron syntax.)
 */
static void add_window_lines(char **sched, const struct settings *s)
{
	struct cron_expr e;
	struct cron_sched cs;
	char why[ERR_MAX], *next;

	if (!s->deploy_window || cron_parse(&e, "AUTODEPLOY_DEPLOY_WINDOW", s->deploy_window, why) < 0)
		return;
	cron_openings(&cs, &e);
	for (size_t i = 0; i < cs.n; i++) {
		next = xasprintf("%s\n%sOnCalendar=%s", *sched,
		                 i ? "" : "# AUTODEPLOY_DEPLOY_WINDOW opens (deferred deploys go then)\n", cs.calendar[i]);
		free(*sched);
		*sched = next;
	}
}

static int plan_autodeploy(struct units *u, const char *config, const char *bindir, char *err)
{
	int boot = 0;
	const struct settings *s = u->s;
	char *sched = NULL, *rw = NULL, *trigger_in = NULL, *trigger = NULL, *timeout = NULL, *stop_timeout = NULL;
	int ret = -1;

	if (!s->compose_dir) {
		err_set(err, "AUTODEPLOY_COMPOSE_DIR is not set: autodeploy has nothing to deploy "
		        "(set it in %s, or leave autodeploy out with --only)", cfg_name(u->cfg));
		goto out;
	}
	if (schedule_lines(u, &sched, &boot, "AUTODEPLOY_PLATFORM_FREQUENCY", s->platform_frequency, err) < 0)
		goto out;
	add_window_lines(&sched, s);
	if (add_rw(&rw, "AUTODEPLOY_COMPOSE_DIR", s->compose_dir, err) < 0)
		goto out;
	for (size_t i = 0; i < s->n_extra_repos; i++)
		if (add_rw(&rw, "AUTODEPLOY_EXTRA_REPOS", s->extra_repos[i], err) < 0)
			goto out;
	if (add_rw(&rw, "AUTODEPLOY_LOG_DIR", s->log_dir, err) < 0 ||
	    add_rw(&rw, "AUTODEPLOY_STATE_DIR", s->state_dir, err) < 0 ||
	    add_rw(&rw, "HOME", "/root/.docker", err) < 0)
		goto out;
	if (s->metrics_file) {
		char *d = parent_of(s->metrics_file);
		int rc = add_rw(&rw, "AUTODEPLOY_METRICS_FILE", d, err);
		free(d);
		if (rc < 0)
			goto out;
	}
	if (s->self_update) {
		/* Rebuilding and reinstalling the suite writes its checkout, the
		 * programs' prefix and the units. */
		char *prefix = parent_of(u->bindir);
		int rc = add_rw(&rw, "AUTODEPLOY_SELF_UPDATE", s->self_update, err) < 0 ||
		         add_rw(&rw, "AUTODEPLOY_SELF_UPDATE", prefix, err) < 0 ||
		         add_rw(&rw, "AUTODEPLOY_SELF_UPDATE", UNITS_DIR, err) < 0;
		free(prefix);
		if (rc)
			goto out;
	}
	trigger_in = xasprintf("%s/trigger", s->state_dir);
	if (!(trigger = tpl_unit_path("AUTODEPLOY_STATE_DIR", trigger_in, err)))
		goto out;
	/* Fetching (ten minutes), then pre-deploy, prepare, stop and start,
	 * each bounded by COMMAND_TIMEOUT, and the health check.  After a
	 * SIGTERM the rollback needs a stop, a start and a health check. */
	timeout = xasprintf("%lds", 600 + 4 * s->command_timeout + s->healthcheck_timeout);
	stop_timeout = xasprintf("%lds", 60 + 2 * s->command_timeout + s->healthcheck_timeout);
	const char *vars[] = { "CONFIG", config, "BINDIR", bindir, "TRIGGER", trigger,
	                       "TIMEOUT", timeout, "STOP_TIMEOUT", stop_timeout,
	                       "READ_WRITE_PATHS", rw, "SCHEDULE", sched,
	                       "FREQUENCY", s->platform_frequency, NULL };
	if (render_unit(u, "autodeploy.service", "autodeploy", "autodeploy.service", vars, err) < 0 ||
	    render_unit(u, "autodeploy.timer", "autodeploy", "autodeploy.timer", vars, err) < 0 ||
	    render_unit(u, "autodeploy.path", "autodeploy", "autodeploy.path", vars, err) < 0)
		goto out;
	u->want[u->n_want - 2].at_boot = boot;      /* the timer */
	ret = 0;
out:
	free(stop_timeout);
	free(timeout);
	free(trigger);
	free(trigger_in);
	free(rw);
	free(sched);
	return ret;
}

static int plan_notebooks(struct units *u, const char *config, const char *bindir, char *err)
{
	int boot = 0;
	const struct settings *s = u->s;
	char *sched = NULL, *rw = NULL, *parent = NULL;
	int ret = -1;

	if (!s->notebook_dir || s->n_notebook_sources == 0) {
		if (u->only)
			log_warn("notebookdeploy: AUTODEPLOY_NOTEBOOK_DIR or AUTODEPLOY_NOTEBOOK_SOURCES is "
			         "not set: no notebook units");
		return 0;
	}
	parent = parent_of(s->notebook_dir);
	if (schedule_lines(u, &sched, &boot, "AUTODEPLOY_NOTEBOOK_FREQUENCY", s->notebook_frequency, err) < 0 ||
	    add_rw(&rw, "AUTODEPLOY_NOTEBOOK_DIR", parent, err) < 0 ||
	    add_rw(&rw, "AUTODEPLOY_LOG_DIR", s->log_dir, err) < 0 ||
	    add_rw(&rw, "AUTODEPLOY_STATE_DIR", s->state_dir, err) < 0)
		goto out;
	const char *vars[] = { "CONFIG", config, "BINDIR", bindir, "TIMEOUT", "30min",
	                       "READ_WRITE_PATHS", rw, "SCHEDULE", sched,
	                       "FREQUENCY", s->notebook_frequency, NULL };
	if (render_unit(u, "notebookdeploy.service", "notebookdeploy", "notebookdeploy.service", vars, err) < 0 ||
	    render_unit(u, "notebookdeploy.timer", "notebookdeploy", "notebookdeploy.timer", vars, err) < 0)
		goto out;
	u->want[u->n_want - 1].at_boot = boot;
	ret = 0;
out:
	free(parent);
	free(rw);
	free(sched);
	return ret;
}

/* AUTODEPLOY_ROTATE_WITH=logrotate: the snippet, with the configured log
 * folder and policy.  The log folder becomes a logrotate glob, so glob
 * characters in it are refused as well as blanks and quotes. */
static int plan_logrotate(struct units *u, char *err)
{
	static const char *const period[] = { "daily", "weekly", "monthly" };
	const struct settings *s = u->s;
	char keep[32], minsize[32], level[32], *text = NULL;
	struct units_file *f;

	if (!u->logrotate_tpl)
		return err_set(err, "cannot find the logrotate snippet template 'logrotate.d/autodeploy.in'");
	if (tpl_check_path("--config", u->config, NULL, err) < 0 ||
	    tpl_check_path("AUTODEPLOY_LOG_DIR", s->log_dir, "*?[]{}", err) < 0)
		return -1;
	snprintf(keep, sizeof(keep), "%ld", s->rotate_keep);
	snprintf(minsize, sizeof(minsize), "%llu", (unsigned long long)s->rotate_minsize);
	snprintf(level, sizeof(level), "%ld", s->rotate_compress_level);
	const char *vars[] = { "CONFIG", u->config, "LOG_DIR", s->log_dir, "KEEP", keep,
	                       "PERIOD", period[s->rotate_period], "MINSIZE", minsize,
	                       "COMPRESS", s->rotate_compress ? "compress" : "nocompress",
	                       "LEVEL", level, NULL };
	if (tpl_render(&text, u->logrotate_tpl, vars, err) < 0)
		return -1;
	if (!(f = add_file(u, UNITS_LOGROTATE_DIR, UNITS_LOGROTATE_NAME, "rotate-logs", err)))
		return free(text), -1;
	f->text = text;
	return 0;
}

static int plan_rotate(struct units *u, const char *config, const char *bindir, char *err)
{
	char *rw = NULL;
	int ret = -1;

	if (u->s->rotate_with_logrotate)
		return plan_logrotate(u, err);
	if (add_rw(&rw, "AUTODEPLOY_LOG_DIR", u->s->log_dir, err) < 0)
		return -1;
	const char *vars[] = { "CONFIG", config, "BINDIR", bindir, "TIMEOUT", "1h",
	                       "READ_WRITE_PATHS", rw, NULL };
	if (render_unit(u, "rotate-logs.service", "rotate-logs", "rotate-logs.service", vars, err) == 0 &&
	    render_unit(u, "rotate-logs.timer", "rotate-logs", "rotate-logs.timer", vars, err) == 0)
		ret = 0;
	free(rw);
	return ret;
}

static int plan_job(struct units *u, const char *config, const char *name, char *err)
{
	int boot = 0;
	char *skey = xasprintf("AUTODEPLOY_JOB_%s_SCHEDULE", name);
	char *ckey = xasprintf("AUTODEPLOY_JOB_%s_COMMAND", name);
	char *group = xasprintf("job-%s", name), *sched = NULL, *cmd = NULL;
	char *svc = xasprintf("autodeploy-job-%s.service", name);
	char *tmr = xasprintf("autodeploy-job-%s.timer", name);
	const char *sval = cfg_str(u->cfg, skey, "");
	int ret = -1;

	if (schedule_lines(u, &sched, &boot, skey, sval, err) < 0 ||
	    !(cmd = tpl_unit_quote(ckey, cfg_str(u->cfg, ckey, ""), err)))
		goto out;
	const char *vars[] = { "CONFIG", config, "NAME", name, "COMMAND", cmd, "TIMEOUT", "6h",
	                       "SCHEDULE", sched, "FREQUENCY", sval, NULL };
	if (render_unit(u, svc, group, "autodeploy-job.service", vars, err) == 0 &&
	    render_unit(u, tmr, group, "autodeploy-job.timer", vars, err) == 0) {
		u->want[u->n_want - 1].at_boot = boot;
		ret = 0;
	}
out:
	free(tmr);
	free(svc);
	free(cmd);
	free(sched);
	free(group);
	free(ckey);
	free(skey);
	return ret;
}

int units_plan(struct units *u, char *err)
{
	char *config = NULL, *bindir = NULL;
	int ret = -1;

	if (!(config = tpl_unit_path("--config", u->config, err)) ||
	    !(bindir = tpl_unit_path("install-units' folder", u->bindir, err)))
		goto out;
	if (units_selected(u, "autodeploy") && plan_autodeploy(u, config, bindir, err) < 0)
		goto out;
	if (units_selected(u, "notebookdeploy") && plan_notebooks(u, config, bindir, err) < 0)
		goto out;
	if (units_selected(u, "rotate-logs") && plan_rotate(u, config, bindir, err) < 0)
		goto out;
	for (size_t i = 0; i < u->s->n_extra_jobs; i++) {
		char *g = xasprintf("job-%s", u->s->extra_jobs[i]);
		int want = units_selected(u, g);
		free(g);
		if (want && plan_job(u, config, u->s->extra_jobs[i], err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(bindir);
	free(config);
	return ret;
}

void units_free(struct units *u)
{
	for (size_t i = 0; i < u->n_want; i++)
		free(u->want[i].text);
	u->n_want = 0;
	free(u->stale);
	u->stale = NULL;
	u->n_stale = u->cap_stale = 0;
}
