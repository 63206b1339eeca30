/*
 * recreate: the steps of AUTODEPLOY_STRATEGY=recreate (run-deploy(1)).
 * The new commits are written into STATE_DIR/stage and prepared there
 * (images pulled, compose file checked) while the stack runs; after the
 * move the start command (`up -d`) recreates what changed, and services
 * that bind-mount a changed file are recreated too.
 *
 *   struct recreate rc = { .cli = "docker-compose" };
 *   if (recreate_prepare(&rc, &st, &journal) < 0) ... nothing was touched
 *   recreate_collect(&rc, &journal);              the changed paths
 *   ... move the checkouts ...
 *   if (recreate_start(&rc, &st, "start") < 0) ... roll back
 *   recreate_free(&rc);
 */
#ifndef AUTODEPLOY_RECREATE_H
#define AUTODEPLOY_RECREATE_H

#include <stddef.h>

#include "bluegreen.h"
#include "journal.h"

struct stack;

struct recreate {
	const char *cli;      /* "docker compose" or "docker-compose" */
	char **changed;       /* absolute real paths the deploy changes */
	size_t nchanged;
	struct bluegreen bg;  /* bluegreen: the services replaced beside the old */
};

#define RECREATE_REFUSED (-2)

/* Stage the new commit of every work tree once, in STATE_DIR/stage/PATH
 * (PATH: the work tree's full real path; a configured subfolder maps into
 * it) and run the prepare command in the staged compose folder; with
 * bluegreen, check the listed services there (rc->bg).  0, -1 after
 * logging, or RECREATE_REFUSED (logged) when the configuration cannot
 * work with the new commits (78). */
int recreate_prepare(struct recreate *rc, struct stack *st, const struct journal *j);

/* Collect the paths that the moves in j change (logs what it cannot). */
void recreate_collect(struct recreate *rc, const struct journal *j);

/* The start command, then (recreate) the services whose bind-mounted
 * files changed, then the engine's health of what the start made
 * (AUTODEPLOY_ENGINE_HEALTH), then the health command: 0 when healthy.
 * Every start of every strategy goes through here. */
int recreate_start(struct recreate *rc, struct stack *st, const char *phase);

void recreate_free(struct recreate *rc);

#endif
