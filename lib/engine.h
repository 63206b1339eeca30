/*
 * engine: what the Docker engine itself says about the compose project's
 * containers (SPEC.md "Health from the engine"): running or not, and the
 * verdict of the service's own compose healthcheck.  A start command that
 * exits 0 says only that compose asked for the containers; a container
 * that exits at once, or whose healthcheck fails, is a failed start.
 *
 *   struct engine_set before;
 *   engine_snapshot(&before, cli, dir);        before the start command
 *   ... the start command ...
 *   if (engine_wait(&before, &wait_opts) < 0) ... a failed start (logged)
 *   engine_free(&before);
 *
 * The containers are asked the way binds.h asks them (`COMPOSE ps -a -q`
 * in the compose dir, then `docker inspect`), so compose v1 and v2 alike.
 */
#ifndef AUTODEPLOY_ENGINE_H
#define AUTODEPLOY_ENGINE_H

#include <signal.h>
#include <stddef.h>

struct engine_ctr {
	char *id;
	char *name;          /* without the leading '/' */
	char *service;       /* com.docker.compose.service */
	char *status;        /* State.Status: created, running, restarting, exited, dead */
	char *started_at;    /* State.StartedAt: changes each time it (re)starts */
	char *health;        /* State.Health.Status (starting, healthy, unhealthy);
	                        NULL when the container has no healthcheck */
	char *health_log;    /* Output of the last State.Health.Log entry, or NULL */
	char *error;         /* State.Error, or NULL */
	int exit_code;       /* State.ExitCode */
	int oneoff;          /* made by `compose run`: not part of the stack */
	int has_healthcheck; /* Config.Healthcheck.Test is set and not NONE */
	char *config_hash;   /* com.docker.compose.config-hash ("" when none) */
};

struct engine_set {
	struct engine_ctr *c;
	size_t n, cap;
	int skipped;         /* engine_snapshot: 1 no compose project here, 2 the
	                        engine could not be asked (see why) */
	char why[1100];      /* ERR_MAX and a little more */
};

/* The containers of the project in `dir`, stopped ones too.  `cli` is
 * "docker compose" or "docker-compose".  0, or -1 with err set. */
int engine_list(struct engine_set *set, const char *cli, const char *dir, char *err);

/* `docker inspect` of the given container ids into set.  0, or -1. */
int engine_inspect(struct engine_set *set, const char *const *ids, size_t n, char *err);

/* Parse `docker inspect` output (a JSON array) into set: exposed for the
 * fuzz target and unit tests.  0, or -1 when it is not such an array. */
int engine_parse(struct engine_set *set, const char *json, char *err);

/* The container of that id in set, or NULL. */
const struct engine_ctr *engine_find(const struct engine_set *set, const char *id);

void engine_free(struct engine_set *set);

/* Does `dir` hold a compose project to ask about (a compose file, or
 * COMPOSE_FILE set)?  A stack run by commands of the operator's own with
 * no compose file has no containers we could name. */
int engine_project_here(const char *dir);

/* What the project runs before a start, so that engine_wait can tell the
 * containers the start created or (re)started.  Never fails: when the
 * engine cannot be asked, set->skipped is set and set->why says why. */
void engine_snapshot(struct engine_set *set, const char *cli, const char *dir);

struct engine_wait_opts {
	const char *cli, *dir;
	const char *phase;             /* for the log: "start", "rollback-start" ... */
	long timeout;                  /* seconds */
	volatile sig_atomic_t *cancel; /* NULL, or the flag a stop signal sets */
};

/* Wait until every container that is new or (re)started since `before`
 * runs (not exited, not restarting) and, where it has a healthcheck, is
 * healthy.  0 then (or when there is nothing to wait for, said in the
 * log); -1 when one exited, restarted, turned unhealthy or is not healthy
 * by the timeout, logged once naming its service and its last health
 * output. */
int engine_wait(const struct engine_set *before, const struct engine_wait_opts *o);

/* The same wait for the given containers alone (blue/green's new one). */
int engine_wait_ids(const char *const *ids, size_t n, const struct engine_wait_opts *o);

#endif
