/*
 * trigger: birdhouse's conditional trigger, autodeploy/conditional-trigger
 * in a checkout's new tree (check-drift(1)): run before a deploy, its
 * non-zero exit turns the decision into pull-only (no restart).
 *
 *   d = drift_check_stack(&n, &opts);
 *   trigger_apply(d, n, &opts);      after the drift checks, serially
 *
 * Called by whoever owns the decision (check-drift, the deploy plan),
 * never by drift itself: trigger sits above drift and uses its types.
 */
#ifndef AUTODEPLOY_TRIGGER_H
#define AUTODEPLOY_TRIGGER_H

#include <stddef.h>

#include "drift.h"

#define TRIGGER_PATH "autodeploy/conditional-trigger"

/* For every DRIFT_DEPLOY checkout of d[0, n) whose new tree holds a
 * trigger (looked up below the configured folder first, then at the top)
 * and that AUTODEPLOY_TRIGGER_REPOS lets run it (settings_trigger_runs;
 * else the reason says it was not run): run it as AUTODEPLOY_TRIGGER_USER
 * (root switches to it; anyone else must already be it), as a program
 * (with "#!") or through /bin/sh, cwd "/", no descriptor of ours but its
 * own script, a minimal environment with GIT_CHANGED_FILES (as `git diff
 * --name-status`) and AUTODEPLOY_CHANGED_PATHS, its output (at most 16
 * KiB) into the log, at most 5 minutes; non-zero, or failing to start,
 * makes it DRIFT_PULL_ONLY.  o->no_triggers runs none and says so in the
 * reason. */
void trigger_apply(struct drift *d, size_t n, const struct drift_opts *o);

#endif
