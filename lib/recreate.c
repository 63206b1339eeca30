#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binds.h"
#include "checkout.h"
#include "engine.h"
#include "log.h"
#include "proc.h"
#include "recreate.h"
#include "repo.h"
#include "settings.h"
#include "stack.h"
#include "strbuf.h"
#include "util.h"

/* recreate: the new commits, written beside the state, prepared (images
 * pulled, compose file checked) while the stack still runs the old ones.
 * Each work tree is staged at its full real path below STATE_DIR/stage
 * (/srv/stack -> STATE_DIR/stage/srv/stack): two work trees of one name
 * cannot meet, and work trees side by side stay side by side (a compose
 * file may refer to ../other-repo).  A work tree that holds several
 * configured folders is staged once; each folder maps to the same folder
 * inside its staged copy. */
int recreate_prepare(struct recreate *rc, struct stack *st, const struct journal *j)
{
	char err[ERR_MAX], key[64];
	char *stagetop = xasprintf("%s/stage", st->s->state_dir), *compose = NULL;
	char **staged = xcalloc(j->n + 1, sizeof *staged);
	size_t nstaged = 0;
	int ret = -1;

	if (util_remove_tree(stagetop, err) < 0 || util_mkdir_p(stagetop, 0700, err) < 0) {
		log_error("%s", err);
		goto out;
	}
	for (size_t i = 0; i < j->n; i++) {
		struct journal_entry *e = &j->e[i];
		git_repository *r = NULL;
		char *dir = NULL, *sub = NULL, *top = NULL;
		int seen = 0;
		/* a checkout that is missing (skipped with a warning) has no commit */
		if (git_oid_is_zero(&e->new))
			continue;
		int rc = repo_open(&r, e->path, err);
		if (rc == 0 && !(top = realpath(git_repository_workdir(r), NULL)))
			rc = err_set(err, "cannot resolve '%s': %s", git_repository_workdir(r), strerror(errno));
		if (rc == 0) {
			sub = repo_subdir(r, e->path);
			dir = xasprintf("%s%s", stagetop, top);
			for (size_t k = 0; k < nstaged && !seen; k++)
				seen = strcmp(staged[k], top) == 0;
			if (!seen) {
				char *parent = xasprintf("%.*s", (int)(strrchr(dir, '/') - dir), dir);
				rc = util_mkdir_p(parent, 0700, err);
				free(parent);
				if (rc == 0)
					rc = checkout_stage(r, &e->new, dir, err);
				staged[nstaged++] = top;
				top = NULL;
			}
		}
		free(top);
		git_repository_free(r);
		if (rc < 0) {
			log_error("prepare: %s", err);
			free(dir);
			free(sub);
			goto out;
		}
		snprintf(key, sizeof key, "AUTODEPLOY_STAGED_CHECKOUT_%zu", i);
		stack_setenv(st, key, "%s%s%s", dir, *sub ? "/" : "", sub);
		if (i == 0)
			compose = xasprintf("%s%s%s", dir, *sub ? "/" : "", sub);
		free(dir);
		free(sub);
	}
	st->cwd = compose;
	ret = stack_command(st, "prepare", st->s->prepare_command, st->s->command_timeout) == 0 ? 0 : -1;
	st->cwd = st->s->compose_dir;
	/* the new commits' compose file, read before anything stops */
	if (ret == 0 && st->s->strategy == STRATEGY_BLUEGREEN &&
	    bluegreen_check(&rc->bg, st->s, rc->cli, compose, err) < 0) {
		log_error("%s", err);
		ret = RECREATE_REFUSED;
	}
out:
	if (util_remove_tree(stagetop, err) < 0)
		log_warn("%s", err);
	for (size_t k = 0; k < nstaged; k++)
		free(staged[k]);
	free(staged);
	free(compose);
	free(stagetop);
	return ret;
}

/* recreate: every path the move changes, absolute and real (docker
 * reports bind mount sources that way). */
void recreate_collect(struct recreate *rc, const struct journal *j)
{
	size_t cap = 0;
	for (size_t i = 0; i < j->n; i++) {
		struct journal_entry *e = &j->e[i];
		git_repository *r = NULL;
		char **paths = NULL, err[ERR_MAX] = "", *top = NULL;
		size_t np = 0;
		if (git_oid_equal(&e->old, &e->new))
			continue;
		if (journal_open_repo(&r, e, err) < 0 || !(top = realpath(git_repository_workdir(r), NULL)) ||
		    repo_changed_paths(&paths, &np, r, &e->old, &e->new, err) < 0)
			log_warn("'%s': cannot list the changed files (%s): services that bind-mount them "
			         "are not recreated", e->path, err);
		for (size_t k = 0; k < np; k++) {
			ARRAY_GROW(rc->changed, rc->nchanged, cap);
			rc->changed[rc->nchanged++] = xasprintf("%s/%s", top, paths[k]);
		}
		repo_paths_free(paths);
		git_repository_free(r);
		free(top);
	}
}

/*
 * recreate: `up -d` leaves a service whose compose config is unchanged
 * alone, even when a file it bind-mounts changed (a config it reads at
 * start).  Those that the start command did not recreate (same container
 * as before it) are recreated now.
 */
static int recreate_bound(struct recreate *rc, struct stack *st, const struct binds *before, const char *phase)
{
	struct binds now;
	char err[ERR_MAX];
	const char **argv;
	size_t n = 0, first;
	int status, ret = 0;

	if (binds_scan(&now, rc->cli, st->s->compose_dir, NULL, 0, err) < 0) {
		log_warn("%s: cannot ask which services run (%s): services whose bind-mounted files "
		         "changed are not recreated", phase, err);
		return 0;
	}
	/* room for every service, however many: the compose words (two at
	 * most), four options, the services and the NULL */
	argv = xcalloc(before->n + 7, sizeof *argv);
	n = stack_compose_argv(argv, rc->cli);
	argv[n++] = "up";
	argv[n++] = "-d";
	argv[n++] = "--no-deps";
	argv[n++] = "--force-recreate";
	first = n;
	for (size_t i = 0; i < before->n; i++) {
		const char *id = binds_id(&now, before->service[i]);
		if (!before->path[i][0] || !id || strcmp(id, before->id[i]) != 0)
			continue;
		log_info("%s: recreating '%s': its bind-mounted '%s' changed", phase, before->service[i],
		         before->path[i]);
		argv[n++] = before->service[i];
	}
	argv[n] = NULL;
	if (n > first) {
		struct proc_opts o = { .cwd = st->s->compose_dir, .null_stdin = 1,
		                       .timeout = st->s->command_timeout, .cancel = st->cancel };
		if (proc_run(&status, argv, &o, err) < 0 || status != 0) {
			log_error("%s: recreating the services failed: %s", phase, status ? "see above" : err);
			ret = -1;
		}
	}
	free(argv);
	binds_free(&now);
	return ret;
}

/*
 * SPEC.md "Health from the engine": a start command that exits 0 has only
 * asked for containers.  What runs before it is noted, so that afterwards
 * the containers it made or started again are known, and waited for
 * before the operator's health command runs.
 */
static int engine_healthy(const struct recreate *rc, struct stack *st, const struct engine_set *before,
                          const char *phase)
{
	struct engine_wait_opts o = { .cli = rc->cli, .dir = st->s->compose_dir, .phase = phase,
	                              .timeout = st->s->healthcheck_timeout, .cancel = st->cancel };
	if (!st->s->engine_health)
		return 0;
	return engine_wait(before, &o);
}

/* Is a proxy named, or a switch command set, for reload_proxy? */
static int proxy_watched(const struct settings *s)
{
	return s->strategy != STRATEGY_RESTART && (s->bluegreen_proxy || s->bluegreen_switch_command);
}

/*
 * nginx looks a proxy_pass service name up once, when it loads its
 * config: a service recreated by the start comes back at another address
 * on the compose network, and a proxy left running would keep sending
 * to the old one (502) until it restarts.  So when the start gave any
 * other service a new or restarted container and left the proxy's as it
 * was, the proxy is reloaded as bluegreen switches it: gracefully, so the
 * services that did not change lose no request.  Recreating the services
 * that depend on a recreated one (compose's depends_on) would also renew
 * the address, but would drop every request through the proxy meanwhile.
 * After the engine's health: nginx refuses a reload whose names do not
 * resolve yet.
 */
static int reload_proxy(const struct recreate *rc, struct stack *st, const struct engine_set *before, const char *phase)
{
	const struct settings *s = st->s;
	struct engine_set now = { 0 };
	char err[ERR_MAX];
	const char *moved = NULL;
	int proxy_renewed = 0, proxy_runs = 0, ret = 0;

	if (!proxy_watched(s) || before->skipped)
		return 0;
	if (engine_list(&now, rc->cli ? rc->cli : "docker compose", s->compose_dir, err) < 0) {
		log_warn("%s: cannot ask which containers the start made (%s): the proxy is not reloaded",
		         phase, err);
		return 0;
	}
	for (size_t i = 0; i < now.n; i++) {
		const struct engine_ctr *c = &now.c[i], *was = engine_find(before, c->id);
		int is_proxy = s->bluegreen_proxy && strcmp(c->service, s->bluegreen_proxy) == 0;
		if (c->oneoff)
			continue;
		if (is_proxy && c->status && strcmp(c->status, "running") == 0)
			proxy_runs = 1;
		if (was && strcmp(was->started_at, c->started_at) == 0)
			continue;
		if (is_proxy)
			proxy_renewed = 1;
		else if (!moved)
			moved = c->service;
	}
	/* a stack with no proxy running (the preset names birdhouse's, which
	 * a host may leave out) has nothing to reload */
	if (moved && !proxy_renewed && (proxy_runs || s->bluegreen_switch_command)) {
		log_info("%s: '%s' has a new container: the proxy must look its address up again", phase, moved);
		ret = bluegreen_switch(st, &now, moved, phase);
	}
	engine_free(&now);
	return ret;
}

/* Start (and health-check) the stack: recreate also recreates what
 * bind-mounts changed files; every strategy waits for the engine's
 * health, then runs the health command. */
int recreate_start(struct recreate *rc, struct stack *st, const char *phase)
{
	struct binds before;
	struct engine_set was = { 0 };
	char err[ERR_MAX];
	int ret = -1, scanned = 0;

	if (st->s->strategy != STRATEGY_RESTART && rc->nchanged > 0) {
		if (binds_scan(&before, rc->cli, st->s->compose_dir, (const char *const *)rc->changed,
		               rc->nchanged, err) == 0)
			scanned = 1;
		else
			log_warn("%s: cannot ask which services run (%s): services whose bind-mounted files "
			         "changed are not recreated", phase, err);
	}
	/* blue/green's own replacements first: health-gated and switched to
	 * already, they are part of what the snapshot finds, so neither the
	 * engine's health nor reload_proxy takes them up again */
	int replaced = st->s->strategy != STRATEGY_BLUEGREEN || strcmp(phase, "start") != 0 ||
	               bluegreen_start(&rc->bg, st, rc->cli, phase) == 0;
	if (replaced && (st->s->engine_health || proxy_watched(st->s)))
		engine_snapshot(&was, rc->cli ? rc->cli : "docker compose", st->s->compose_dir);
	if (replaced && stack_command(st, phase, st->s->start_command, st->s->command_timeout) == 0 &&
	    (!scanned || recreate_bound(rc, st, &before, phase) == 0) &&
	    engine_healthy(rc, st, &was, phase) == 0 && reload_proxy(rc, st, &was, phase) == 0)
		ret = stack_healthcheck(st, phase);
	if (scanned)
		binds_free(&before);
	engine_free(&was);
	return ret;
}

void recreate_free(struct recreate *rc)
{
	for (size_t i = 0; i < rc->nchanged; i++)
		free(rc->changed[i]);
	free(rc->changed);
	rc->changed = NULL;
	rc->nchanged = 0;
	bluegreen_free(&rc->bg);
}
