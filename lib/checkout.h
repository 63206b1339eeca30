/*
 * checkout: the only code that writes a checkout's work tree.  A deploy
 * moves a checkout forward (checkout_move), and when that or anything
 * after it fails, puts back exactly the old tree (checkout_restore), even
 * when the move stopped half-way or was killed.  checkout_stage writes a
 * commit's tree into a separate folder (the "recreate" strategy prepares
 * the new commits there while the stack still runs on the old ones).
 *
 *   struct util_owner own = { .set = 1, .uid = 1000, .gid = 1000 };
 *   if (checkout_move(r, &new, CHECKOUT_CHECK, &own, err) < 0) refuse
 *   ... journal: touched ...
 *   if (checkout_move(r, &new, CHECKOUT_SAFE, &own, err) < 0)
 *       checkout_restore(r, &old, &new, &own, err);
 */
#ifndef AUTODEPLOY_CHECKOUT_H
#define AUTODEPLOY_CHECKOUT_H

#include <git2.h>

#include "util.h"

enum checkout_how {
	CHECKOUT_CHECK,  /* only say whether CHECKOUT_SAFE would succeed: write nothing */
	CHECKOUT_SAFE    /* never overwrite a local change, not even an ignored file */
};

/*
 * Move the checkout from its HEAD to commit `target`: check out the tree
 * with libgit2 (updating the index), then point the checked-out branch
 * (or a detached HEAD) at it.  Refused before any file is written when a
 * local file would be overwritten or removed, including files left in a
 * folder that the new commit replaces with a file; the message names it.
 * Returns 0, CHECKOUT_UNTOUCHED when it refused before writing anything,
 * or -1 when the work tree may have changed.
 */
#define CHECKOUT_UNTOUCHED (-2)
int checkout_move(git_repository *r, const git_oid *target, enum checkout_how how,
                  const struct util_owner *own, char *err);

/*
 * Put the checkout back at `old` after a move towards `new` that may have
 * stopped anywhere (or was killed): paths only `new` has are removed
 * (tracked, untracked or ignored; a file where `old` has a folder and
 * the reverse), every file `old` tracks is rewritten or recreated, the
 * branch points at `old`.  Then verified: HEAD is `old` and the tree is
 * clean; if not, -1 with the offending path named.
 * A checkout already clean at `old` is not written at all:
 * CHECKOUT_CLEAN.  `branch` is what HEAD named when the deploy began
 * ("refs/heads/X" or JOURNAL_DETACHED; NULL: not known): a HEAD that a
 * person moved since (another branch, a commit that is neither `old` nor
 * `new`) is left alone, -1 naming it.
 */
#define CHECKOUT_CLEAN 1
int checkout_restore(git_repository *r, const char *branch, const git_oid *old, const git_oid *new,
                     const struct util_owner *own, char *err);

/* Write the tree of `commit` into the folder `dir` (created, must not
 * exist), leaving the repository, its index and its work tree alone. */
int checkout_stage(git_repository *r, const git_oid *commit, const char *dir, char *err);

#endif
