/*
 * bluegreen: the steps of AUTODEPLOY_STRATEGY=bluegreen (SPEC.md "blue/
 * green") for each listed service whose compose config changed: a second
 * container beside the running one, from the new commit; the new one
 * alone health-checked by the engine; the proxy switched; the old one
 * drained, stopped and removed; the proxy switched again.  A new container
 * that never turns healthy is removed and the old one never stopped.
 *
 *   struct bluegreen bg = { 0 };
 *   bluegreen_check(&bg, s, cli, staged_compose_dir, err)   plan time: 78 on -1
 *   ... move the checkouts ...
 *   bluegreen_start(&bg, &st, cli, "start")                 before `up -d`
 *   bluegreen_undo(s, cli)                                  rollback, recovery
 *   bluegreen_free(&bg);
 *
 * STATE_DIR/bluegreen.journal names the service and its old (and, once
 * made, new) container while both may exist, so that a rollback or the
 * recovery of a killed run removes every container but the old one and
 * the start that follows leaves exactly one, on the restored commit.
 */
#ifndef AUTODEPLOY_BLUEGREEN_H
#define AUTODEPLOY_BLUEGREEN_H

#include <stddef.h>

struct settings;
struct stack;

#define BLUEGREEN_JOURNAL "bluegreen.journal"

struct bluegreen {
	char **services;   /* the listed services that can run twice: replaced blue/green */
	size_t n;
};

/* What `compose config` says of one service. */
struct bluegreen_facts {
	int found, healthcheck, container_name, ports;
};

/* Read the normalized YAML that `compose config` prints (two spaces per
 * level): the keys of services.SERVICE.  Exposed for the fuzz target and
 * unit tests. */
void bluegreen_scan(struct bluegreen_facts *f, const char *yaml, const char *service);

/* Plan time, in the staged compose folder of the new commits: every
 * listed service must exist and have a healthcheck (else -1, err says
 * which: exit 78); one that sets container_name or publishes ports cannot
 * run twice and is left to `up -d` (said in the log). */
int bluegreen_check(struct bluegreen *bg, const struct settings *s, const char *cli, const char *dir, char *err);

/* Replace each service of bg whose config changed, one after the other;
 * 0, or -1 (logged) when one failed: its new container is removed, the
 * old one still serves. */
int bluegreen_start(const struct bluegreen *bg, struct stack *st, const char *cli, const char *phase);

struct engine_set;

/* Switch traffic: AUTODEPLOY_BLUEGREEN_SWITCH_COMMAND (told the service),
 * else `nginx -s reload` in each running container of the proxy service
 * (AUTODEPLOY_BLUEGREEN_PROXY) found in proxies; 0 when neither is set.
 * Also what a recreate start does when it gave a service a new container
 * (recreate.h).  0, or -1 (logged). */
int bluegreen_switch(struct stack *st, const struct engine_set *proxies, const char *service, const char *phase);

/* After a failure or a kill: remove every container of a journaled
 * service but its old one, then the journal.  0, or -1 (logged). */
int bluegreen_undo(const struct settings *s, const char *cli);

void bluegreen_free(struct bluegreen *bg);

#endif
