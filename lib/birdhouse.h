/*
 * birdhouse: what a birdhouse-deploy host (1.x-2.x) has that autodeploy
 * takes over (SPEC.md "Compatibility with birdhouse-deploy"): the compose
 * wrapper of its generation, and the jobs its scheduler component runs.
 * Only reads: env.local (a cfg) and the compose dir.
 *
 *   cmd = xasprintf("%s up -d", birdhouse_wrapper(compose_dir));
 *   birdhouse_marker("notebookdeploy", "START_TIME", time(NULL));
 *   if (birdhouse_scheduler_check(cfg, compose_dir, "autodeploy", why) < 0)
 *       refuse to install autodeploy, saying why
 */
#ifndef AUTODEPLOY_BIRDHOUSE_H
#define AUTODEPLOY_BIRDHOUSE_H

#include <time.h>

struct cfg;

/* "./birdhouse-compose.sh", or "./pavics-compose.sh" when the compose dir
 * has only that one (1.x to 2.3), as birdhouse's deploy.sh chooses; the
 * first when it has neither (or compose_dir is NULL). */
const char *birdhouse_wrapper(const char *compose_dir);

/* -1 when birdhouse's scheduler component, enabled in c's *_CONF_DIRS,
 * runs job ("autodeploy", "notebookdeploy" or "logrotate") on this host:
 * why (ERR_MAX bytes) names the file, line and key that enable it, and
 * what to change.  0 when it does not. */
int birdhouse_scheduler_check(const struct cfg *c, const char *compose_dir, const char *job, char *why);

/* Log "JOB WHAT=ISO-TIME" (info): the lines birdhouse's triggerdeploy.sh
 * and trigger-deploy-notebook wrote at the start ("START_TIME") and end
 * ("finished START_TIME", "finished   END_TIME") of each run, which its
 * docs tell operators to watch: log watchers of a host taken over keep
 * working.  job: "triggerdeploy" or "notebookdeploy". */
void birdhouse_marker(const char *job, const char *what, time_t t);

#endif
