/*
 * journal: STATE_DIR/deploy.journal, written by run-deploy before it stops
 * the stack and removed once the stack runs again.  Its presence means a
 * deploy was interrupted after it may have moved the checkouts: work that
 * is due even when every checkout looks up to date.
 */
#ifndef AUTODEPLOY_JOURNAL_H
#define AUTODEPLOY_JOURNAL_H

#include <stddef.h>

#define JOURNAL_NAME "deploy.journal"

/* STATE_DIR/deploy.journal into buf. */
void journal_path(char *buf, size_t len, const char *state_dir);

/* 1 when a journal exists, 0 when not, -1 on error (err set). */
int journal_exists(const char *state_dir, char *err);

#endif
