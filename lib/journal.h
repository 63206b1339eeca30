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

#define JOURNAL_NAME "deploy.journal"

/* STATE_DIR/deploy.journal into buf. */
void journal_path(char *buf, size_t len, const char *state_dir);

/* 1 when a journal exists, 0 when not, -1 on error (err set). */
int journal_exists(const char *state_dir, char *err);

struct journal_entry {
	char *path;
	git_oid old, new;
	int moved;      /* run-deploy's own note that it moved this checkout (not journaled) */
};

/*
 * Write the journal (one line per checkout: OLD NEW PATH) atomically and
 * durably: it must be on disk before the stack is stopped.  Paths holding
 * a newline cannot be journaled and are refused.
 */
int journal_write(const char *state_dir, const struct journal_entry *e, size_t n, char *err);

/* Read it back: *e is a malloc'd array; free with journal_entries_free. */
int journal_read(struct journal_entry **e, size_t *n, const char *state_dir, char *err);
void journal_entries_free(struct journal_entry *e, size_t n);

/* Remove it (durably: the folder is fsynced).  No journal is not an error. */
int journal_remove(const char *state_dir, char *err);

#endif
