/*
 * plan: what one run of run-deploy will do, decided once, under the lock:
 * each checkout's old and new commit and decision (from drift), whether
 * the stack restarts, and what stops the run before anything changes.
 * The decision is never taken twice in a run: the service runs
 * `run-deploy --if-drift` alone, not check-drift first.
 *
 * Once a deploy is to happen, the plan also holds its steps, in order,
 * and their undo: run-deploy executes that list and --dry-run prints it,
 * so what is printed is what runs.
 *
 *   struct plan p;
 *   plan_make(&p, &settings, force, no_restart, dry_run);   fetches; logs each decision
 *   if (p.error_code) ...  p.refuse ...  p.due ...
 *   plan_steps(&p, &settings);             the compose CLI settled first
 *   for (i = 0; i < p.nsteps; i++) ... p.step[i].kind ...; on failure at i:
 *       each p.undo[u] with p.undo[u].from <= i, in order
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

/* The steps of a deploy, in the order a run takes them.  Up to and
 * including PLAN_JOURNAL nothing is stopped or moved: a failure ends the
 * run with its own code.  From the step after the journal to PLAN_DONE's
 * look at the signals, a failure is undone (plan.undo). */
enum plan_kind {
	PLAN_CHECK,        /* every move checked and its work tree located */
	PLAN_RECORD,       /* the images that run recorded (and, recreate, the
	                      changed files listed): restart only */
	PLAN_PRE_DEPLOY,   /* AUTODEPLOY_PRE_DEPLOY_COMMAND */
	PLAN_PREPARE,      /* recreate, bluegreen: stage and prepare the new commits */
	PLAN_JOURNAL,      /* the attempt counted, the journal written */
	PLAN_STOP,         /* restart strategy: the stop command */
	PLAN_MOVE,         /* the checkouts moved */
	PLAN_START,        /* (--rollback: its images back,) the start and health */
	PLAN_DONE,         /* the journal removed */
	PLAN_SELF_UPDATE,  /* AUTODEPLOY_SELF_UPDATE's checkout moved: rebuilt */
};

struct plan_step {
	enum plan_kind kind;
	const char *name;      /* the phase its command runs as */
	const char *command;   /* the operator's command it runs, or NULL */
};

/* The rollback, in the order it runs: each entry undoes what the steps
 * from `from` on did, and runs when the run failed at step `from` or
 * later.  The first entry that ends the run (UNDO_KEEP, a failure, or
 * UNDO_FORGET) ends the walk. */
enum plan_undo_kind {
	UNDO_KEEP,         /* AUTODEPLOY_ROLLBACK=no, the move done: the new
	                      commits stay, the journal says start them (3) */
	UNDO_STOP,         /* restart: the stack started on the new commits stopped */
	UNDO_RESTORE,      /* the touched checkouts back (a blue/green switch
	                      undone first), the recorded images tagged back */
	UNDO_START,        /* the stack started on the old commits, health checked */
	UNDO_FORGET,       /* the journal removed: rolled back (2) */
};

struct plan_undo {
	enum plan_undo_kind kind;
	size_t from;           /* index into plan.step */
	const char *name;      /* the phase its command runs as */
	const char *command;
};

#define PLAN_MAX_STEPS 10
#define PLAN_MAX_UNDO 5

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
	int rollback;                 /* --rollback (plan_rollback) */
	struct plan_step step[PLAN_MAX_STEPS];   /* plan_steps */
	size_t nsteps;
	struct plan_undo undo[PLAN_MAX_UNDO];
	size_t nundo;
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

/* The steps of the deploy and their undo, from what plan_make (and
 * plan_rollback) settled and the strategy: called once, after the compose
 * CLI filled in the default commands (settings_compose_cli). */
void plan_steps(struct plan *p, const struct settings *s);

/* Index of the first step of `kind`, or p->nsteps. */
size_t plan_find(const struct plan *p, enum plan_kind kind);

/* The plan as --dry-run prints it: each checkout, old -> new, changed
 * files, then the steps and their undo (after plan_steps), each command as
 * "PHASE: would run: COMMAND".  File names come from a repository: they
 * are escaped as the logs escape them. */
void plan_print(const struct plan *p, const struct settings *s, FILE *out);

void plan_free(struct plan *p);

#endif
