/*
 * stack: run the operator's own commands (stop, start, health check,
 * pre-deploy, notify) the way SPEC.md says: `/bin/sh -c COMMAND` in the
 * compose dir, the deploy's facts in the environment, never interpolated
 * into the command string.
 *
 *   struct stack st;
 *   stack_init(&st, &settings);
 *   stack_setenv(&st, "AUTODEPLOY_OLD_COMMIT_0", "%s", hex);
 *   if (stack_command(&st, "stop", settings.stop_command, 0) != 0) ...
 *   if (stack_healthcheck(&st, "start") != 0) ...  after the start
 *   stack_free(&st);
 */
#ifndef AUTODEPLOY_STACK_H
#define AUTODEPLOY_STACK_H

#include <stddef.h>

struct settings;

#include <signal.h>

struct stack {
	const struct settings *s;
	char **env;        /* "KEY=VALUE", NULL-terminated */
	size_t n, cap;
	const char *cwd;   /* where commands run: the compose dir unless set */
	volatile sig_atomic_t *cancel; /* NULL, or the flag SIGTERM/SIGINT set:
	                      a running command is ended (PROC_CANCELLED) */
	char *group_file;  /* STATE_DIR/children: the process group of the
	                      command running now, for the next run to kill
	                      if this one is killed */
};

void stack_init(struct stack *st, const struct settings *s);
void stack_free(struct stack *st);

/* Set (or replace) KEY in the commands' environment. */
void stack_setenv(struct stack *st, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A command of a run that was killed may still be running (the process
 * group recorded in STATE_DIR/children): kill it and wait until it is
 * gone, so it cannot stop the stack after this run started it. */
void stack_kill_orphans(struct stack *st);

/* "docker compose" when the compose v2 plugin answers, else
 * "docker-compose" (Debian's docker.io hosts have only that). */
const char *stack_detect_compose(void);

/* The first words of an argument vector for that compose CLI ("docker
 * compose" is two): fills argv[0..], returns how many. */
size_t stack_compose_argv(const char **argv, const char *cli);

/* Seconds a question to the engine (compose ps, docker inspect, tag)
 * may take: binds, images, engine health and blue/green ask it alike. */
#define STACK_ASK_TIMEOUT 120

/* The engine's JSON (`docker inspect`) for the containers that `ask`
 * lists, one ID a line as `ps -q` prints them, run in dir: binds, images
 * and engine health ask the same two questions.  *json is NULL when the
 * list is empty.  0, or -1 with err set. */
int stack_inspect(char **json, const char *const *ask, const char *dir, char *err);

/* Test-only fault injection (run-deploy(1)): when AUTODEPLOY_TEST_KILL_AT
 * names `point`, say so and die by SIGKILL (or take the signal
 * AUTODEPLOY_TEST_KILL_SIGNAL names: util_test_kill), so that the tests
 * can show the next run repairs what a kill there leaves. */
void stack_test_kill(const char *point);

/* Run `command` for `phase` (given as AUTODEPLOY_PHASE), with a time limit
 * in seconds (0: none).  Returns the exit status (0: success), logging a
 * failure once.  An empty or NULL command succeeds. */
int stack_command(struct stack *st, const char *phase, const char *command, long timeout);

/* Run the health command every HEALTHCHECK_INTERVAL seconds until it
 * passes or HEALTHCHECK_TIMEOUT has gone by.  `phase` names the start
 * ("start", "rollback-start", "recover-start"); the health check runs as
 * "<phase minus start>healthcheck".  Returns 0 when healthy.  The start
 * itself is recreate_start's (recreate.h): every strategy's. */
int stack_healthcheck(struct stack *st, const char *phase);

#endif
