/*
 * drift: "is a deploy due?" for one checkout, decided exactly as SPEC.md's
 * check-drift table says.  Shared by check-drift (which reports) and
 * run-deploy (which acts on the same decisions).
 *
 *   size_t n;
 *   struct drift *d = drift_check_stack(&n, &opts);   compose dir, then extras
 *   trigger_apply(d, n, &opts);                        trigger.h: may turn deploy into pull-only
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
	DRIFT_ERROR,
	/* behind, but what it would bring is not signed by an allowed key
	 * (verify.h): refused like a DRIFT_ERROR of 65 */
	DRIFT_UNVERIFIED,
	/* due, but held (hold.h): never set by drift itself */
	DRIFT_QUARANTINED,
	DRIFT_FROZEN,
	DRIFT_DEFERRED
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
	int have_tag;
	git_oid tag;           /* tag mode: the object the tag ref names (an annotated
	                          tag's own object; the commit for a lightweight tag) */
	size_t ahead, behind;
	enum drift_decision decision;
	int exit_code;         /* for DRIFT_ERROR: 69 (remote), 74 (local I/O) or 65
	                          (content refused: a submodule); DRIFT_UNVERIFIED: 65 */
	char reason[1024];
};

/* How many checkouts are checked at once: remotes answer slowly, but a
 * few connections are enough to hide that (check-drift and run-deploy). */
#define DRIFT_THREADS 4

struct drift_opts {
	const struct settings *settings;
	int fetch;              /* 0: --no-fetch, decide from what is already here */
	int no_triggers;        /* for trigger_apply: do not run conditional triggers
	                           (--no-fetch, --dry-run): a look must not run
	                           repository code */
	int max_threads;        /* bound on parallel checks (>= 1) */
};

const char *drift_decision_name(enum drift_decision d);

/* Give d its decision, exit code (for DRIFT_ERROR) and reason. */
void drift_set(struct drift *d, enum drift_decision dec, int code, const char *reason);

/* Check the stack's checkouts (AUTODEPLOY_COMPOSE_DIR, which must be set,
 * then AUTODEPLOY_EXTRA_REPOS, in that order), at most o->max_threads at a
 * time.  Their conditional triggers are not run here: the program that
 * acts on the decisions runs them next (trigger_apply), so that drift
 * knows nothing of what sits above it.  Returns a malloc'd array of *n
 * entries; free with drift_free_all. */
struct drift *drift_check_stack(size_t *n, const struct drift_opts *o);
void drift_free_all(struct drift *d, size_t n);

/* Work is due: deploy or pull-only, or unclean/diverged and behind. */
int drift_is_due(const struct drift *d);

#endif
