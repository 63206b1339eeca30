/*
 * history: STATE_DIR/history, the last HISTORY_MAX runs of run-deploy that
 * tried a deploy (or a recovery, or a --rollback), one JSON object a line,
 * oldest first (SPEC.md "Exact and final": history and manual rollback):
 *
 *   {"start":"ISO","end":"ISO","result":0,"result_text":"...","rollback":false,
 *    "checkouts":[{"path":"...","old_commit":"HEX","new_commit":"HEX"}],
 *    "images":[{"service":"web","container":"ID","image":"sha256:...",
 *               "ref":"app:cur","project":"stack"}]}
 *
 * "images" are what the stack ran when the run began (the journal's).
 * The file is rewritten whole for each run (temporary file, fsync,
 * rename), trimmed to the last HISTORY_MAX lines.
 *
 *   struct history_run h = { .start = t0, .end = t1, .result = 0, .e = e, .n = n, .images = &im };
 *   history_append(state_dir, &h, err);
 *   struct history_good g;
 *   if (history_last_good(&g, state_dir, err) == 1) ... g.path[i], g.old[i], g.images
 *   history_good_free(&g);
 */
#ifndef AUTODEPLOY_HISTORY_H
#define AUTODEPLOY_HISTORY_H

#include <stddef.h>
#include <time.h>
#include <git2.h>

#include "images.h"
#include "journal.h"

#define HISTORY_NAME "history"
#define HISTORY_MAX 100

struct history_run {
	time_t start, end;
	int result;                      /* the exit code */
	int rollback;                    /* a run-deploy --rollback */
	const struct journal_entry *e;   /* each checkout's old -> new */
	size_t n;
	const struct images *images;     /* may be NULL: none recorded */
};

/* Add one line for h, dropping the oldest beyond HISTORY_MAX. */
int history_append(const char *state_dir, const struct history_run *h, char *err);

/* What the last successful deploy (not a --rollback) found running: each
 * checkout's old commit, and the images. */
struct history_good {
	char **path;
	git_oid *old;
	size_t n;
	struct images images;
};

/* 1 with *g filled, 0 when no successful deploy is recorded (or no
 * history), -1 with err when the file cannot be read.  Lines that are not
 * such objects are skipped. */
int history_last_good(struct history_good *g, const char *state_dir, char *err);

void history_good_free(struct history_good *g);

#endif
