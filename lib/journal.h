/*
 * journal: STATE_DIR/deploy.journal, written by run-deploy before it stops
 * the stack and removed once the stack runs again.  Its presence means a
 * deploy was interrupted after it may have moved the checkouts: work that
 * is due even when every checkout looks up to date.
 */
#ifndef AUTODEPLOY_JOURNAL_H
#define AUTODEPLOY_JOURNAL_H

#include <stddef.h>
#include <git2.h>

#include "images.h"

#define JOURNAL_NAME "deploy.journal"

/* STATE_DIR/deploy.journal into buf. */
void journal_path(char *buf, size_t len, const char *state_dir);

/* 1 when a journal exists, 0 when not, -1 on error (err set). */
int journal_exists(const char *state_dir, char *err);

/*
 * What the journal says the interrupted run was doing:
 *   JOURNAL_DEPLOY      checkouts marked touched may be anywhere between
 *                       their old and new commit: restore them, start
 *   JOURNAL_START_ONLY  AUTODEPLOY_ROLLBACK=no left the new commits in
 *                       place after a failure: start the stack as it is
 */
enum journal_state { JOURNAL_DEPLOY, JOURNAL_START_ONLY };

struct journal_entry {
	char *path;     /* as configured (a folder inside the work tree) */
	git_oid old, new;
	int touched;    /* its files may have changed: a restore must put `old` back */
	char *root;     /* the work tree's top: a restore opens the repository
	                   there, since the new commit may delete `path`;
	                   NULL in a journal of an older release */
	char *branch;   /* what HEAD named when the deploy began: "refs/heads/X",
	                   or JOURNAL_DETACHED; NULL in an older journal */
};

#define JOURNAL_DETACHED "detached"

/*
 * Fill e->root and e->branch from the checkout at e->path (malloc'd; the
 * caller frees them, journal_free does for a journal read back).
 */
int journal_locate(struct journal_entry *e, char *err);

/* Open the repository of an entry: at its root when journaled (no search
 * upwards), else through its configured path. */
int journal_open_repo(git_repository **r, const struct journal_entry *e, char *err);

struct journal {
	enum journal_state state;
	struct journal_entry *e;
	size_t n;
	struct images images; /* what the stack ran before anything changed:
	                         a restore brings these image IDs back */
};

/*
 * Write the journal atomically and durably: it must be on disk before the
 * stack is stopped, and again each time a checkout is marked touched,
 * before that checkout's files change.  Paths holding a newline cannot be
 * journaled and are refused.
 */
int journal_write(const char *state_dir, const struct journal *j, char *err);

/* Read it back (this format and the older ones: version 1's checkouts
 * all count as touched; versions 1 and 2 have no root nor branch;
 * versions 1 to 3 have no images); free with journal_free. */
int journal_read(struct journal *j, const char *state_dir, char *err);
void journal_free(struct journal *j);

/* Remove it (durably: the folder is fsynced).  No journal is not an error. */
int journal_remove(const char *state_dir, char *err);

#endif
