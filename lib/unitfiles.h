/*
 * unitfiles: units.h's planned files against what is on disk (SPEC.md
 * "install-units"): refuse conflicts (cron-era files, foreign files, the
 * scheduler component), find our stale files, write the planned ones and
 * remove the stale ones.
 *
 *   if (units_plan(&u, err) < 0 || unitfiles_conflicts(&u, err) < 0)  -> exit 78
 *   unitfiles_find_stale(&u, 1);         ours, selected, no longer planned
 *   if (unitfiles_write(&u, err) < 0)    -> exit 74
 *   (systemctl disable the unitfiles_enablable() names of u.stale)
 *   if (unitfiles_remove_stale(&u, err) < 0) -> exit 74
 *   if (u.reload) (systemctl daemon-reload, enable --now)
 *   units_free(&u);
 * --uninstall is unitfiles_find_stale(&u, 0) then the removal.
 */
#ifndef AUTODEPLOY_UNITFILES_H
#define AUTODEPLOY_UNITFILES_H

#include <stddef.h>

#include "units.h"

/* Refuse what would run a planned job twice or lose an operator's file:
 * a cron-era file doing the job of a planned group (with u->migrate, move
 * it into STATE_DIR/cron-backup/ instead), or a planned file's path held
 * by a file that is not ours.  -1 with err naming the file and what to do. */
int unitfiles_conflicts(struct units *u, char *err);

/* Collect into u->stale our files of the selected groups; with
 * keep_planned, only those not in u->want. */
void unitfiles_find_stale(struct units *u, int keep_planned);

/* Write the planned files whose text changed, atomically; count them. */
int unitfiles_write(struct units *u, char *err);

/* Remove u->stale; count them. */
int unitfiles_remove_stale(struct units *u, char *err);

/* The names among files[0..n) that systemctl enables (timers and path
 * units, not services nor the logrotate snippet), into names (n slots);
 * returns how many.  at_boot 1: only the @reboot timers (enabled, not
 * started: cron would not run them at install); 0: only the others
 * (enable --now); -1: all. */
size_t unitfiles_enablable(const char **names, const struct units_file *files, size_t n, int at_boot);

#endif
