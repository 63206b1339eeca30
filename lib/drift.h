/*
 * drift: "is a deploy due?" for one checkout, decided exactly as SPEC.md's
 * check-drift table says.  Shared by check-drift (which reports) and
 * run-deploy (which acts on the same decisions).
 *
 *   struct drift *d = xcalloc(n, sizeof *d);
 *   drift_check_all(d, paths, n, &opts);     parallel, bounded threads
 *   drift_apply_triggers(d, n, &opts);       conditional triggers, serial
 *   ... d[i].decision, drift_is_due(&d[i]) ...
 *   drift_free_all(d, n);
 *
 * A check never "fails": what went wrong is the decision DRIFT_ERROR (or
 * MISSING / NO_UPSTREAM) with a reason and the exit code it stands for.
 */
#ifndef AUTODEPLOY_DRIFT_H
#define AUTODEPLOY_DRIFT_H

#include <stddef.h>
#include <git2.h>

struct settings;

enum drift_decision {
	DRIFT_UP_TO_DATE,
	DRIFT_AHEAD,
	DRIFT_DEPLOY,
	DRIFT_PULL_ONLY,
	DRIFT_DIVERGED,
	DRIFT_UNCLEAN,
	DRIFT_NO_UPSTREAM,
	DRIFT_MISSING,
	DRIFT_ERROR
};

struct drift {
	char *path;            /* as configured */
	char *branch;          /* checked-out branch, NULL when detached */
	char *remote;          /* remote name, e.g. origin */
	char *remote_ref;      /* on the remote: refs/heads/main or refs/tags/1.10.0 */
	char *upstream;        /* local ref that follows it: refs/remotes/origin/main, refs/tags/1.10.0 */
	int have_local, have_remote;
	git_oid local;         /* HEAD commit */
	git_oid target;        /* what the remote holds for what we follow */
	size_t ahead, behind;
	enum drift_decision decision;
	int exit_code;         /* for DRIFT_ERROR: 69 (remote) or 74 (local I/O) */
	char reason[1024];
};

struct drift_opts {
	const struct settings *settings;
	int fetch;              /* 0: --no-fetch, decide from what is already here */
	int max_threads;        /* bound on parallel checks (>= 1) */
};

const char *drift_decision_name(enum drift_decision d);

/* Check one checkout, filling d (d->path is set by the function). */
void drift_check(struct drift *d, const char *path, const struct drift_opts *o);

/* Check n checkouts, at most o->max_threads at a time. */
void drift_check_all(struct drift *d, char *const *paths, size_t n, const struct drift_opts *o);

/* For every DRIFT_DEPLOY checkout whose new tree holds an executable
 * autodeploy/conditional-trigger: run it (argument vector, cwd = the
 * checkout, GIT_CHANGED_FILES = changed paths, one per line); non-zero
 * turns the decision into DRIFT_PULL_ONLY.  Serial on purpose: the trigger
 * is written to a temporary file, and a fork in another thread while that
 * file is open for writing would make its exec fail (ETXTBSY). */
void drift_apply_triggers(struct drift *d, size_t n, const struct drift_opts *o);

/* Work is due: deploy or pull-only, or unclean/diverged and behind. */
int drift_is_due(const struct drift *d);

void drift_free(struct drift *d);

#endif
