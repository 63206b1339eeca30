/*
 * hold: what keeps a due deploy waiting although drift says go (SPEC.md
 * "Exact and final": quarantine, freeze, deploy window).  Shared by
 * check-drift (which reports the hold as the checkouts' decision) and
 * run-deploy (which obeys it).  The state lives in STATE_DIR, each file
 * replaced atomically (util_write_atomic):
 *
 *   quarantine   the target of a deploy that failed: one "HEX PATH" line
 *                per checkout (hold_target); held while the remotes still
 *                hold exactly that target
 *   attempts     "N" then the target of the deploy attempts interrupted in
 *                a row (a signal, a kill): the third quarantines
 *   freeze       the operator's reason, one line
 *
 *   char *t = hold_target(d, n);
 *   enum hold_kind k = hold_check(&why, s, d, n, t, time(NULL));
 *   if (k != HOLD_NONE) ... why ...
 *   hold_mark(d, n, k, why);       check-drift: the decision of each due checkout
 *   free(why); free(t);
 */
#ifndef AUTODEPLOY_HOLD_H
#define AUTODEPLOY_HOLD_H

#include <stddef.h>
#include <time.h>

struct drift;
struct settings;

/* Strongest first: a quarantined target waits for a newer commit or
 * --retry whatever the freeze and the window say. */
enum hold_kind { HOLD_NONE, HOLD_QUARANTINED, HOLD_FROZEN, HOLD_DEFERRED };

/* Interrupted attempts at one target before it is quarantined. */
#define HOLD_MAX_INTERRUPTED 3

/* The target of a plan: for each checkout its path and the commit its
 * remote holds (its own commit when the remote's is unknown).  A newer
 * commit on any remote gives another target.  malloc'd. */
char *hold_target(const struct drift *d, size_t n);

/* The same for the commits checked out now (run-deploy --rollback
 * quarantines what it leaves). */
char *hold_current(const struct drift *d, size_t n);

/* What holds a due deploy of target now, with *why (malloc'd, NULL for
 * HOLD_NONE): the quarantine, the freeze's reason, the window.  Errors
 * reading the state are logged as warnings and hold nothing. */
enum hold_kind hold_check(char **why, const struct settings *s, const char *target, time_t now);

/* The same without the quarantine (run-deploy --retry). */
enum hold_kind hold_check_operator(char **why, const struct settings *s, time_t now);

/* "quarantined", "frozen", "deferred": the decision check-drift shows. */
const char *hold_name(enum hold_kind k);

/* Give each checkout that would move (deploy, pull-only) the decision of
 * k (quarantined, frozen, deferred) and why as its reason. */
void hold_mark(struct drift *d, size_t n, enum hold_kind k, const char *why);

/* The quarantine: set it to target, lift it (no file: fine). */
int hold_quarantine(const char *state_dir, const char *target, char *err);
int hold_lift(const char *state_dir, char *err);
/* 1 when target is the quarantined one, 0 when not (or none), -1 on error. */
int hold_is_quarantined(const char *state_dir, const char *target, char *err);

/* One more attempt at target begins: *count is how many attempts at it in
 * a row were interrupted before this one, plus one. */
int hold_attempt(const char *state_dir, const char *target, int *count, char *err);
/* The attempts recorded (*target malloc'd, NULL and 0 when none). */
int hold_attempts(const char *state_dir, char **target, int *count, char *err);
/* A deploy ended on its own (success or failure): the count starts over. */
int hold_attempts_clear(const char *state_dir, char *err);

/* The freeze: its reason (malloc'd) or NULL; set it; lift it. */
char *hold_frozen(const char *state_dir);
int hold_freeze(const char *state_dir, const char *reason, char *err);
int hold_unfreeze(const char *state_dir, char *err);

/* Is now inside AUTODEPLOY_DEPLOY_WINDOW (1; no window: 1), 0 outside,
 * -1 with err when the setting is not cron syntax. */
int hold_in_window(const struct settings *s, time_t now, char *err);

/* The commits of target, for people: "PATH@SHORT, PATH@SHORT" (malloc'd). */
char *hold_describe(const char *target);

#endif
