/*
 * gitlock: the `*.lock` files git and libgit2 leave in a repository's git
 * folder when they are killed between taking a lock and committing it
 * (index.lock, HEAD.lock, refs/heads/main.lock, refs/remotes/origin/x.lock,
 * packed-refs.lock, config.lock).  Such a lock blocks every later write
 * to the file it guards, for ever: a deploy killed in its checkout could
 * never be restored, a fetch killed in its ref update would fail every
 * later fetch.
 *
 *   if (gitlock_clear(r, 0, err) < 0) ...       under our own lock
 *
 * A lock counts as stale only when no process holds it open and it is at
 * least `min_age` seconds old; each one removed is named in the log.
 */
#ifndef AUTODEPLOY_GITLOCK_H
#define AUTODEPLOY_GITLOCK_H

#include <git2.h>

/* Seconds after which a lock nobody holds open is stale for a run that
 * did not itself leave it: git closes a ref lock's file before it
 * commits a transaction, so a young closed lock may still be in use. */
#define GITLOCK_STALE_AGE 60

/* Remove the stale locks of r's git folder (and of its common folder for
 * a linked work tree).  Returns how many were removed, or -1 (err set)
 * when one could not be removed. */
int gitlock_clear(git_repository *r, long min_age, char *err);

#endif
