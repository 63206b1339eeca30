/* birdhouse: a birdhouse-deploy host's wrapper and scheduler.  See birdhouse.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "birdhouse.h"
#include "cfg.h"
#include "log.h"
#include "util.h"

/* `[ -f DIR/NAME ]`, the test deploy.sh makes. */
static int is_file(const char *dir, const char *name)
{
	struct stat st;
	char *path = xasprintf("%s/%s", dir, name);
	int yes = stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return yes;
}

/* 2.4 renamed pavics-compose.sh; the old name stayed as a shim, so a
 * host that upgrades keeps working with either, but 1.x-2.3 have only
 * the old one. */
const char *birdhouse_wrapper(const char *compose_dir)
{
	if (compose_dir && !is_file(compose_dir, "birdhouse-compose.sh") &&
	    is_file(compose_dir, "pavics-compose.sh"))
		return "./pavics-compose.sh";
	return "./birdhouse-compose.sh";
}

/*
 * The lists birdhouse reads its components from; 2.4 added the
 * BIRDHOUSE_ names and still reads the old ones.  Entries are folders,
 * relative to the compose dir or absolute: a component is known by the
 * last part of its path.
 */
static const char *const conf_keys[] = {
	"BIRDHOUSE_EXTRA_CONF_DIRS", "EXTRA_CONF_DIRS", "BIRDHOUSE_DEFAULT_CONF_DIRS", "DEFAULT_CONF_DIRS",
};

/* The key whose list enables component name, or NULL. */
static const char *enabling_key(const struct cfg *c, const char *name)
{
	static const char ws[] = " \t\n\r\v\f";
	size_t len = strlen(name);

	for (size_t k = 0; k < sizeof(conf_keys) / sizeof(conf_keys[0]); k++) {
		const char *v = cfg_get(c, conf_keys[k]);
		for (const char *p = v ? v + strspn(v, ws) : NULL; p && *p; p += strspn(p, ws)) {
			size_t n = strcspn(p, ws), end = n, start;
			while (end > 0 && p[end - 1] == '/')
				end--;
			for (start = end; start > 0 && p[start - 1] != '/'; start--)
				;
			if (end - start == len && strncmp(p + start, name, len) == 0)
				return conf_keys[k];
			p += n;
		}
	}
	return NULL;
}

/* Since 2.15 each job is a component of its own that the scheduler runs
 * only when it is enabled too; before, the scheduler always ran its
 * autodeploy, notebookdeploy and logrotate jobs.  The checked-out tree
 * tells which generation the host runs. */
static int jobs_are_components(const char *compose_dir)
{
	struct stat st;
	char *path;
	int yes;

	if (!compose_dir)
		return 0;
	path = xasprintf("%s/optional-components/scheduler-job-autodeploy", compose_dir);
	yes = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	free(path);
	return yes;
}

int birdhouse_scheduler_check(const struct cfg *c, const char *compose_dir, const char *job, char *why)
{
	const char *sched = enabling_key(c, "scheduler"), *key;
	char component[64];

	/* a scheduler-job-* alone mounts its job into a scheduler that is
	 * not there: nothing runs */
	if (!sched)
		return 0;
	if (!jobs_are_components(compose_dir))
		return err_set(why, "%s:%d: %s enables birdhouse's scheduler component, which before "
		               "birdhouse-deploy 2.15 always runs its own autodeploy, notebookdeploy and "
		               "logrotate jobs ('%s' has no optional-components/scheduler-job-autodeploy): "
		               "remove components/scheduler from %s, or upgrade birdhouse-deploy to 2.15 or "
		               "later, whose scheduler runs only the scheduler-job-* components enabled with it",
		               cfg_name(c), cfg_line(c, sched), sched, compose_dir ? compose_dir : "(no compose dir)",
		               sched);
	snprintf(component, sizeof(component), "scheduler-job-%s", job);
	if (!(key = enabling_key(c, component)))
		return 0;
	return err_set(why, "%s:%d: %s enables birdhouse's %s, which its scheduler component runs "
	               "beside ours: remove optional-components/%s from %s (the scheduler may stay for "
	               "its other jobs)", cfg_name(c), cfg_line(c, key), key, component, component, key);
}

void birdhouse_marker(const char *job, const char *what, time_t t)
{
	char when[40];

	util_iso_time(when, sizeof when, t);
	log_info("%s %s=%s", job, what, when);
}
