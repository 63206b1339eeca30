#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "repo.h"
#include "settings.h"
#include "trigger.h"
#include "util.h"

void plan_make(struct plan *p, const struct settings *s, int force, int no_restart, int dry_run)
{
	struct drift_opts o = { .settings = s, .fetch = 1, .no_triggers = dry_run, .max_threads = DRIFT_THREADS };

	memset(p, 0, sizeof *p);
	p->restart = force && !no_restart;
	p->d = drift_check_stack(&p->n, &o);
	trigger_apply(p->d, p->n, &o);
	p->no_restart = no_restart;
	p->e = xcalloc(p->n ? p->n : 1, sizeof *p->e);
	for (size_t i = 0; i < p->n; i++) {
		const struct drift *d = &p->d[i];
		p->e[i].path = d->path;
		if (d->have_local)
			git_oid_cpy(&p->e[i].old, &d->local);
		git_oid_cpy(&p->e[i].new, &p->e[i].old);
		p->due |= drift_is_due(d);
		switch (d->decision) {
		case DRIFT_DEPLOY:
			p->restart = !no_restart;
			/* fall through */
		case DRIFT_PULL_ONLY:
			git_oid_cpy(&p->e[i].new, &d->target);
			p->moving = 1;
			log_info("'%s': %s: %s", d->path, drift_decision_name(d->decision), d->reason);
			break;
		case DRIFT_UNCLEAN:
		case DRIFT_DIVERGED:
			log_error("'%s': refusing to deploy: %s", d->path, d->reason);
			p->refuse = 1;
			break;
		case DRIFT_UNVERIFIED:
			p->unverified = 1;
			/* refused as an error of 65 is */
			/* fall through */
		case DRIFT_ERROR:
			log_error("'%s': %s%s", d->path, d->decision == DRIFT_UNVERIFIED ? "unverified: " : "", d->reason);
			if (!p->error_code)
				p->error_code = d->exit_code;
			break;
		case DRIFT_MISSING:
		case DRIFT_NO_UPSTREAM:
			log_warn("'%s': skipped: %s", d->path, d->reason);
			break;
		default:
			log_info("'%s': %s", d->path, d->reason);
		}
	}
}

void plan_rollback(struct plan *p, const struct history_good *g, int no_restart)
{
	p->moving = p->due = 0;
	p->error_code = 0;
	p->rollback = 1;
	p->restart = !no_restart;
	for (size_t i = 0; i < p->n; i++) {
		struct drift *d = &p->d[i];
		size_t k = 0;
		char o[GIT_OID_HEXSZ + 1], why[128];
		while (k < g->n && strcmp(g->path[k], d->path) != 0)
			k++;
		git_oid_cpy(&p->e[i].new, &p->e[i].old);
		if (d->decision == DRIFT_UNCLEAN || d->decision == DRIFT_DIVERGED)
			continue;   /* refused (p->refuse), as for any deploy */
		if (!d->have_local || k == g->n || git_oid_equal(&g->old[k], &p->e[i].old)) {
			drift_set(d, DRIFT_UP_TO_DATE, 0, "the last good deploy found it where it is");
			continue;
		}
		git_oid_cpy(&p->e[i].new, &g->old[k]);
		snprintf(why, sizeof why, "--rollback: back to %s, what the last good deploy found",
		         git_oid_tostr(o, sizeof o, &g->old[k]));
		drift_set(d, DRIFT_DEPLOY, 0, why);
		log_info("'%s': %s", d->path, why);
		p->moving = p->due = 1;
	}
}

static void print_checkout(const struct drift *d, const struct journal_entry *e, FILE *out)
{
	char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1], err[ERR_MAX], name[4096];
	char **paths = NULL;
	size_t np = 0;
	git_repository *r = NULL;

	log_escape(name, sizeof name, d->path);
	if (d->decision != DRIFT_DEPLOY && d->decision != DRIFT_PULL_ONLY) {
		fprintf(out, "%s: %s, not moved\n", name, drift_decision_name(d->decision));
		return;
	}
	git_oid_tostr(o, sizeof o, &e->old);
	git_oid_tostr(w, sizeof w, &e->new);
	if (repo_open(&r, d->path, err) < 0 ||
	    repo_changed_paths(&paths, &np, r, &e->old, &e->new, err) < 0) {
		fprintf(out, "%s: %s -> %s (changed files unknown: %s)\n", name, o, w, err);
	} else {
		fprintf(out, "%s: %s -> %s (%zu files changed)%s\n", name, o, w, np,
		        d->decision == DRIFT_PULL_ONLY ? " pull-only" : "");
		for (size_t k = 0; k < np; k++) {
			log_escape(name, sizeof name, paths[k]);
			fprintf(out, "    %s\n", name);
		}
	}
	repo_paths_free(paths);
	git_repository_free(r);
}

static void add_step(struct plan *p, enum plan_kind kind, const char *name, const char *command)
{
	p->step[p->nsteps++] = (struct plan_step){ kind, name, command };
}

static void add_undo(struct plan *p, enum plan_undo_kind kind, size_t from, const char *name, const char *command)
{
	p->undo[p->nundo++] = (struct plan_undo){ kind, from, name, command };
}

/* AUTODEPLOY_SELF_UPDATE names a checkout that this plan moves. */
static int self_update_moves(const struct plan *p, const struct settings *s)
{
	for (size_t i = 0; s->self_update && i < p->n; i++)
		if (strcmp(p->e[i].path, s->self_update) == 0)
			return !git_oid_equal(&p->e[i].old, &p->e[i].new);
	return 0;
}

/*
 * The undo mirrors the steps: what the start did is undone first (the
 * stack stopped again), then the checkouts and images go back, then the
 * stack starts on them.  The restart strategy stopped the stack at its
 * stop, so from there on it starts it again; the others stopped nothing
 * before their start, so only a start reached makes a start on the old
 * commits necessary (after the checkouts are back: it starts from them).
 */
void plan_steps(struct plan *p, const struct settings *s)
{
	int stops = p->restart && s->strategy == STRATEGY_RESTART;
	size_t first, after_move;

	p->nsteps = p->nundo = 0;
	add_step(p, PLAN_CHECK, "check", NULL);
	if (p->restart)
		add_step(p, PLAN_RECORD, "record", NULL);
	add_step(p, PLAN_PRE_DEPLOY, "pre-deploy", s->pre_deploy_command);
	if (p->restart && s->strategy != STRATEGY_RESTART)
		add_step(p, PLAN_PREPARE, "prepare", s->prepare_command);
	add_step(p, PLAN_JOURNAL, "journal", NULL);
	first = p->nsteps;
	if (stops)
		add_step(p, PLAN_STOP, "stop", s->stop_command);
	add_step(p, PLAN_MOVE, "move", NULL);
	after_move = p->nsteps;
	if (p->restart)
		add_step(p, PLAN_START, "start", s->start_command);
	add_step(p, PLAN_DONE, "done", NULL);
	if (self_update_moves(p, s))
		add_step(p, PLAN_SELF_UPDATE, "self-update", NULL);

	if (!s->rollback)
		add_undo(p, UNDO_KEEP, after_move, "keep", NULL);
	if (stops)
		add_undo(p, UNDO_STOP, after_move, "rollback-stop", s->stop_command);
	add_undo(p, UNDO_RESTORE, first, "restore", NULL);
	if (p->restart)
		add_undo(p, UNDO_START, stops ? first : after_move, "rollback-start", s->start_command);
	add_undo(p, UNDO_FORGET, first, "forget", NULL);
}

size_t plan_find(const struct plan *p, enum plan_kind kind)
{
	size_t i = 0;
	while (i < p->nsteps && p->step[i].kind != kind)
		i++;
	return i;
}

/* A command as run-deploy starts it, under its phase: an unset or empty
 * command runs nothing (stack_command), and is said so. */
static void print_command(FILE *out, const char *phase, const char *command, const char *note)
{
	if (command && command[0])
		fprintf(out, "%s: would run: %s%s\n", phase, command, note);
	else
		fprintf(out, "%s: no command\n", phase);
}

/* bluegreen: the services replaced beside their old container when
 * their config changed (those that cannot run twice are named at run
 * time, once the new compose file is read), and how traffic switches. */
static void print_bluegreen(FILE *out, const struct settings *s)
{
	fprintf(out, "    bluegreen, when changed:");
	for (size_t i = 0; i < s->n_bluegreen_services; i++)
		fprintf(out, " %s", s->bluegreen_services[i]);
	fprintf(out, "%s; switch: %s%s; drain %ld s\n", s->n_bluegreen_services ? "" : " (none)",
	        s->bluegreen_switch_command ? s->bluegreen_switch_command :
	        s->bluegreen_proxy ? "nginx -s reload in " : "none",
	        !s->bluegreen_switch_command && s->bluegreen_proxy ? s->bluegreen_proxy : "", s->bluegreen_drain);
}

/* What recreate_start does for `phase` ("start", "rollback-start"), after
 * the start command: its parts are lines of their own. */
static void print_start_rest(FILE *out, const struct settings *s, const char *phase)
{
	char every[96], health[64];
	if (s->strategy != STRATEGY_RESTART)
		fprintf(out, "    then: the services that bind-mount a changed file, if the start left them, "
		        "recreated\n");
	if (s->engine_health)
		fprintf(out, "    then: wait up to %ld s until the containers the start makes run, healthy "
		        "(AUTODEPLOY_ENGINE_HEALTH)\n", s->healthcheck_timeout);
	snprintf(every, sizeof every, " (every %ld s, up to %ld s)", s->healthcheck_interval, s->healthcheck_timeout);
	snprintf(health, sizeof health, "    %.*shealthcheck", (int)(strlen(phase) - strlen("start")), phase);
	print_command(out, health, s->healthcheck_command, every);
}

static void print_step(FILE *out, const struct plan *p, const struct settings *s, const struct plan_step *st)
{
	switch (st->kind) {
	case PLAN_CHECK:
		fprintf(out, "check: every move can be written, each work tree located (nothing is stopped yet)\n");
		break;
	case PLAN_RECORD:
		fprintf(out, "record: the image each container of the project runs, for a rollback%s\n",
		        s->strategy != STRATEGY_RESTART ? "; the files the moves change" : "");
		break;
	case PLAN_PREPARE:
		print_command(out, st->name, st->command, " (in a staged checkout of the new commits)");
		if (s->strategy == STRATEGY_BLUEGREEN)
			print_bluegreen(out, s);
		break;
	case PLAN_JOURNAL:
		fprintf(out, "journal: the attempt counted, '%s/%s' written (a killed run is repaired from it)\n",
		        s->state_dir, JOURNAL_NAME);
		break;
	case PLAN_MOVE:
		fprintf(out, "move: %s\n", p->moving ? "the checkouts to their new commits" : "nothing moves");
		break;
	case PLAN_START:
		print_command(out, st->name, st->command,
		              p->rollback ? " (the images the last good deploy found tagged back first)" : "");
		print_start_rest(out, s, st->name);
		break;
	case PLAN_DONE:
		fprintf(out, "done: the journal removed\n");
		break;
	case PLAN_SELF_UPDATE:
		fprintf(out, "self-update: '%s' rebuilt, then installed if the build succeeds\n", s->self_update);
		break;
	default:
		print_command(out, st->name, st->command, "");
	}
}

static void print_undo(FILE *out, const struct plan *p, const struct settings *s, const struct plan_undo *u)
{
	fprintf(out, "  from step %zu: ", u->from + 1);
	switch (u->kind) {
	case UNDO_KEEP:
		fprintf(out, "keep: the new commits stay, the next run starts the stack as it is "
		        "(exit 3, AUTODEPLOY_ROLLBACK=no; nothing below runs)\n");
		break;
	case UNDO_RESTORE:
		fprintf(out, "restore: %sthe touched checkouts back at their old commits%s\n",
		        s->strategy == STRATEGY_BLUEGREEN ? "a blue/green switch left half-done undone, " : "",
		        p->restart ? ", the recorded images tagged back" : "");
		break;
	case UNDO_START:
		print_command(out, u->name, u->command, "");
		print_start_rest(out, s, u->name);
		break;
	case UNDO_FORGET:
		fprintf(out, "forget: the journal removed (exit 2, rolled back)\n");
		break;
	default:
		print_command(out, u->name, u->command, "");
	}
}

/* The plan's own steps and undo (plan_steps), with the restart already
 * settled by plan_make: what is listed is what runs. */
void plan_print(const struct plan *p, const struct settings *s, FILE *out)
{
	for (size_t i = 0; i < p->n; i++)
		print_checkout(&p->d[i], &p->e[i], out);
	if (!p->restart)
		fprintf(out, "no restart%s\n", p->no_restart ? " (--no-restart)" : "");
	else
		fprintf(out, "strategy: %s\n", s->strategy == STRATEGY_RESTART ? "restart" :
		        s->strategy == STRATEGY_BLUEGREEN ? "bluegreen" : "recreate");
	for (size_t i = 0; i < p->nsteps; i++) {
		fprintf(out, "%zu. ", i + 1);
		print_step(out, p, s, &p->step[i]);
	}
	fprintf(out, "on a failure, each of these whose step was reached, in this order:\n");
	for (size_t i = 0; i < p->nundo; i++)
		print_undo(out, p, s, &p->undo[i]);
	print_command(out, "notify", s->notify_command, " (after the run, whatever its result)");
}

void plan_free(struct plan *p)
{
	drift_free_all(p->d, p->n);
	for (size_t i = 0; p->e && i < p->n; i++) {
		free(p->e[i].root);
		free(p->e[i].branch);
	}
	free(p->e);
	memset(p, 0, sizeof *p);
}
