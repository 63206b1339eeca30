/*
 * plan: what one run of run-deploy will do, decided once, under the lock:
 * each checkout's old and new commit and decision (from drift), whether
 * the stack restarts, and what stops the run before anything changes.
 * The decision is never taken twice in a run: the service runs
 * `run-deploy --if-drift` alone, not check-drift first.
 *
 *   struct plan p;
 *   plan_make(&p, &settings, force, no_restart, dry_run);   fetches; logs each decision
 *   if (p.error_code) ...  p.refuse ...  p.due ...
 *   plan_print(&p, &settings, stdout);     --dry-run
 *   plan_free(&p);
 */
#ifndef AUTODEPLOY_PLAN_H
#define AUTODEPLOY_PLAN_H

#include <stdio.h>

#include "drift.h"
#include "history.h"
#include "journal.h"

struct settings;

struct plan {
	struct drift *d;              /* one per checkout, compose dir first */
	struct journal_entry *e;      /* the same order: old -> new (new == old when it stays) */
	size_t n;
	int due;                      /* check-drift would say work is due */
	int refuse;                   /* an unclean or diverged checkout: refuse (78) */
	int restart;                  /* a `deploy` checkout moves (or --force), and not
	                                 --no-restart: settled here, once, for the run
	                                 and for --dry-run alike */
	int no_restart;               /* --no-restart was given (said by plan_print) */
	int moving;                   /* some checkout moves */
	int error_code;               /* the first remote/local error (69, 74) or
	                                 refusal (65), else 0 */
	int unverified;               /* a checkout's new commits are not signed by an
	                                 allowed key (verify.h): error_code is 65 */
};

/* Check every checkout (fetching), log each decision once and fill p.
 * no_restart (--no-restart) wins over force and every deploy decision.
 * dry_run: conditional triggers are not run (a look runs no repository
 * code); their checkouts show as deploy. */
void plan_make(struct plan *p, const struct settings *s, int force, int no_restart, int dry_run);

/* --rollback: after plan_make, each checkout that the last good deploy
 * (g) moved goes back to the commit it found (the others stay), whatever
 * the remotes hold; a remote that cannot be reached does not matter.  The
 * restart is settled again (no_restart wins). */
void plan_rollback(struct plan *p, const struct history_good *g, int no_restart);

/* The plan as --dry-run prints it: each checkout, old -> new, changed
 * files, the commands that would run.  File names come from a repository:
 * they are escaped as the logs escape them. */
void plan_print(const struct plan *p, const struct settings *s, FILE *out);

void plan_free(struct plan *p);

#endif
