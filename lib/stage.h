/*
 * stage: put a settled publish_set (publish.h) in place as one folder,
 * swapped in at once.
 *
 *   stage_write(&set, dest, &owner, err)     -1 -> 74 (dest untouched)
 *
 * The set is written into a staging folder beside the destination (same
 * parent, named .<dest>.staging.XXXXXX), files 0444 and folders 0555,
 * every one fsync'ed, then swapped in with renameat2(RENAME_EXCHANGE) (a
 * plain rename the first time) and the old set removed.  On any error
 * before the swap the staging folder is removed and the destination is
 * untouched.
 */
#ifndef AUTODEPLOY_STAGE_H
#define AUTODEPLOY_STAGE_H

#include "publish.h"
#include "util.h"

/* Write the (settled) set and swap it in as dest.  Returns 0 when
 * published; 1 when published but the old set could not be removed (err
 * says where it is); -1 when nothing changed at dest. */
int stage_write(const struct publish_set *set, const char *dest,
                  const struct util_owner *owner, char *err);

/* What publishing the (settled) set would change at dest: on_change is
 * called with "added", "changed" or "removed" and the relative path, in
 * path order for added/changed, then the removed ones. */
typedef void stage_change_fn(const char *what, const char *path, void *ctx);
int stage_diff(const struct publish_set *set, const char *dest,
                 stage_change_fn *on_change, void *ctx, char *err);

#endif
