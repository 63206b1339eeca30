/* unitfiles: the planned files against what is on disk.  See unitfiles.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "birdhouse.h"
#include "cfg.h"
#include "log.h"
#include "settings.h"
#include "strbuf.h"
#include "unitfiles.h"
#include "units.h"
#include "util.h"

/* The old cron-era files and the group that now does their job. */
static const struct { const char *path, *group; } cron_era[] = {
	{ "/etc/cron.d/PAVICS-deploy", "autodeploy" },
	{ "/usr/local/sbin/triggerdeploy.sh", "autodeploy" },
	{ "/etc/cron.hourly/PAVICS-deploy-notebooks", "notebookdeploy" },
	{ "/etc/logrotate.d/PAVICS-deploy", "rotate-logs" },
	/* birdhouse-deploy 2.4 and later renamed them */
	{ "/etc/cron.d/birdhouse-deploy", "autodeploy" },
	{ "/etc/cron.hourly/birdhouse-deploy-notebooks", "notebookdeploy" },
	{ "/etc/logrotate.d/birdhouse-deploy", "rotate-logs" },
};

/* The group of one of our unit file names, or 0 when the name is not ours. */
static int group_of(char *group, size_t size, const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot || (strcmp(dot, ".service") && strcmp(dot, ".timer") && strcmp(dot, ".path")))
		return 0;
	size_t stem = (size_t)(dot - name);
	if (strncmp(name, "autodeploy-job-", 15) == 0 && stem > 15) {
		snprintf(group, size, "job-%.*s", (int)(stem - 15), name + 15);
		return 1;
	}
	for (size_t i = 0; i < 3; i++)
		if (strlen(units_plain_groups[i]) == stem && strncmp(name, units_plain_groups[i], stem) == 0) {
			snprintf(group, size, "%s", units_plain_groups[i]);
			return 1;
		}
	return 0;
}

/* 1 when the file at path starts with our header line. */
static int is_ours(const char *path)
{
	char line[sizeof(UNITS_MARKER)];
	FILE *f = fopen(path, "re");
	int ours = 0;

	if (f) {
		ours = fgets(line, sizeof(line), f) && strcmp(line, UNITS_MARKER) == 0;
		fclose(f);
	}
	return ours;
}

static int planned_group(const struct units *u, const char *group)
{
	for (size_t i = 0; i < u->n_want; i++)
		if (strcmp(u->want[i].group, group) == 0)
			return 1;
	return 0;
}

/* Refuse, or with --migrate move away, a cron-era file that would do the
 * job of a group about to be installed a second time. */
static int cron_era_file(struct units *u, size_t i, char *err)
{
	struct stat st;
	char *path = units_rooted(u, cron_era[i].path), *dir = NULL, *dest = NULL, *flat = NULL;
	int ret = 0;

	if (!planned_group(u, cron_era[i].group) || lstat(path, &st) < 0)
		goto out;
	if (!u->migrate) {
		ret = err_set(err, "refusing to install %s: the cron-era file '%s' still does "
		              "its job; run install-units --migrate to move it into %s/cron-backup/",
		              cron_era[i].group, cron_era[i].path, u->s->state_dir);
		goto out;
	}
	flat = xstrdup(cron_era[i].path + 1);
	for (char *p = flat; *p; p++)
		if (*p == '/')
			*p = '-';
	char *backup = xasprintf("%s/cron-backup", u->s->state_dir);
	dir = units_rooted(u, backup);
	free(backup);
	dest = xasprintf("%s/%s", dir, flat);
	if (u->dry_run) {
		log_info("would move '%s' to '%s'", path, dest);
		goto out;
	}
	if (util_mkdir_p(dir, 0700, err) < 0) {
		ret = -1;
		goto out;
	}
	if (rename(path, dest) < 0) {
		ret = err_set(err, "cannot move '%s' to '%s': %s", path, dest, strerror(errno));
		goto out;
	}
	log_info("moved '%s' to '%s'", path, dest);
out:
	free(dest);
	free(dir);
	free(flat);
	free(path);
	return ret;
}

/* A file of ours is replaced; anything else at a planned path (a unit or
 * a logrotate snippet the operator wrote) is the operator's. */
static int foreign_file(const struct units *u, const struct units_file *f, char *err)
{
	char *path = xasprintf("%s%s/%s", u->root ? u->root : "", f->dir, f->name);
	struct stat st;
	int ret = 0;

	if (lstat(path, &st) == 0 && !is_ours(path))
		ret = err_set(err, "refusing to replace '%s/%s': it was not written by install-units; "
		              "move it away and run install-units again%s", f->dir, f->name,
		              strcmp(f->dir, UNITS_DIR) ? " (or set AUTODEPLOY_ROTATE_WITH=rotate-logs)"
		                                        : " (local changes belong in a drop-in)");
	free(path);
	return ret;
}

/*
 * birdhouse's scheduler component runs jobs in containers; one that does
 * the job of a planned group would run it beside us (two deployers at
 * once, logs rotated twice).  Since 2.15 it runs only the scheduler-job-*
 * components enabled with it, so a host that keeps it for backups or
 * certificates is refused only the duplicates.  --migrate cannot edit
 * env.local: the operator must.
 */
static int scheduler_component(struct units *u, char *err)
{
	static const char *const jobs[][2] = {
		{ "autodeploy", "autodeploy" }, { "notebookdeploy", "notebookdeploy" }, { "rotate-logs", "logrotate" },
	};
	char why[ERR_MAX];

	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (planned_group(u, jobs[i][0]) &&
		    birdhouse_scheduler_check(u->cfg, u->s->compose_dir, jobs[i][1], why) < 0)
			return err_set(err, "refusing to install %s: %s; then run install-units again "
			               "(or leave %s out with --only)", jobs[i][0], why, jobs[i][0]);
	return 0;
}

int unitfiles_conflicts(struct units *u, char *err)
{
	if (scheduler_component(u, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(cron_era) / sizeof(cron_era[0]); i++)
		if (cron_era_file(u, i, err) < 0)
			return -1;
	for (size_t i = 0; i < u->n_want; i++)
		if (foreign_file(u, &u->want[i], err) < 0)
			return -1;
	return 0;
}

/* Our files of the selected groups in dir (as named by group_of), not
 * planned when keep_planned. */
static void find_stale_units(struct units *u, const char *dir, int keep_planned)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char group[128], *path;
		int planned = 0;
		if (!group_of(group, sizeof(group), e->d_name) || !units_selected(u, group))
			continue;
		for (size_t i = 0; keep_planned && i < u->n_want; i++)
			planned |= !strcmp(u->want[i].dir, UNITS_DIR) && strcmp(u->want[i].name, e->d_name) == 0;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (!planned && strlen(e->d_name) < 128 && is_ours(path)) {
			ARRAY_GROW(u->stale, u->n_stale, u->cap_stale);
			struct units_file *f = &u->stale[u->n_stale++];
			memcpy(f->name, e->d_name, strlen(e->d_name) + 1);
			snprintf(f->group, sizeof(f->group), "%s", group);
			f->dir = UNITS_DIR;
			f->text = NULL;
		}
		free(path);
	}
	closedir(d);
}

/* The logrotate snippet, when ours, rotate-logs is selected and it is not
 * planned (ROTATE_WITH is back to rotate-logs, or --uninstall). */
static void find_stale_snippet(struct units *u, int keep_planned)
{
	char *path = units_rooted(u, UNITS_LOGROTATE_DIR "/" UNITS_LOGROTATE_NAME);
	int planned = 0;

	for (size_t i = 0; keep_planned && i < u->n_want; i++)
		planned |= !strcmp(u->want[i].dir, UNITS_LOGROTATE_DIR);
	if (!planned && units_selected(u, "rotate-logs") && is_ours(path)) {
		ARRAY_GROW(u->stale, u->n_stale, u->cap_stale);
		struct units_file *f = &u->stale[u->n_stale++];
		snprintf(f->name, sizeof(f->name), "%s", UNITS_LOGROTATE_NAME);
		snprintf(f->group, sizeof(f->group), "%s", "rotate-logs");
		f->dir = UNITS_LOGROTATE_DIR;
		f->text = NULL;
	}
	free(path);
}

void unitfiles_find_stale(struct units *u, int keep_planned)
{
	char *dir = units_rooted(u, UNITS_DIR);

	find_stale_units(u, dir, keep_planned);
	find_stale_snippet(u, keep_planned);
	free(dir);
}

int unitfiles_remove_stale(struct units *u, char *err)
{
	for (size_t i = 0; i < u->n_stale; i++) {
		struct units_file *f = &u->stale[i];
		char *path = xasprintf("%s%s/%s", u->root ? u->root : "", f->dir, f->name);
		int ret = 0;
		if (u->dry_run)
			printf("### %s: would be removed\n", path);
		else if (unlink(path) < 0 && errno != ENOENT)
			ret = err_set(err, "cannot remove '%s': %s", path, strerror(errno));
		else
			log_info("removed '%s'", path);
		free(path);
		if (ret < 0)
			return -1;
		u->removed++;
		if (!strcmp(f->dir, UNITS_DIR))
			u->reload = 1;
	}
	return 0;
}

int unitfiles_write(struct units *u, char *err)
{
	char *unit_dir = units_rooted(u, UNITS_DIR);
	int ret = -1;

	if (!u->dry_run && util_mkdir_p(unit_dir, 0755, err) < 0)
		goto out;
	for (size_t i = 0; i < u->n_want; i++) {
		struct units_file *f = &u->want[i];
		char *dir = units_rooted(u, f->dir);
		char *path = xasprintf("%s/%s", dir, f->name), *old = NULL;
		char ignore[ERR_MAX];
		int exists = util_read_file(&old, NULL, path, ignore) == 0;
		int same = exists && strcmp(old, f->text) == 0;
		const char *what = same ? "unchanged" : exists ? "updated" : "created";
		int rc = 0;

		if (u->dry_run)
			printf("### %s (%s)\n%s\n", path, same ? "unchanged" : exists ? "would be updated" : "would be created", f->text);
		else if (!same)
			rc = util_mkdir_p(dir, 0755, err) < 0 ? -1
			   : util_write_atomic(path, f->text, strlen(f->text), 0644, err);
		if (rc == 0 && !same && !u->dry_run) {
			log_info("%s '%s'", what, path);
			if (!strcmp(f->dir, UNITS_DIR))
				u->reload = 1;
		}
		*(same ? &u->unchanged : exists ? &u->updated : &u->created) += 1;
		free(old);
		free(path);
		free(dir);
		if (rc < 0)
			goto out;
	}
	ret = 0;
out:
	free(unit_dir);
	return ret;
}

size_t unitfiles_enablable(const char **names, const struct units_file *files, size_t n, int at_boot)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(files[i].dir, UNITS_DIR) && !strstr(files[i].name, ".service") &&
		    (at_boot < 0 || files[i].at_boot == at_boot))
			names[k++] = files[i].name;
	return k;
}
