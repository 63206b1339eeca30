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

/* A command of the run as run-deploy would start it: an unset or empty
 * command runs nothing (stack_command), so it is not listed. */
static void print_command(FILE *out, const char *command, const char *note)
{
	if (command && command[0])
		fprintf(out, "would run: %s%s\n", command, note);
}

/* bluegreen: the services replaced beside their old container when
 * their config changed (those that cannot run twice are named at run
 * time, once the new compose file is read), and how traffic switches. */
static void print_bluegreen(FILE *out, const struct settings *s)
{
	fprintf(out, "bluegreen, when changed:");
	for (size_t i = 0; i < s->n_bluegreen_services; i++)
		fprintf(out, " %s", s->bluegreen_services[i]);
	fprintf(out, "%s; switch: %s%s; drain %ld s\n", s->n_bluegreen_services ? "" : " (none)",
	        s->bluegreen_switch_command ? s->bluegreen_switch_command :
	        s->bluegreen_proxy ? "nginx -s reload in " : "none",
	        !s->bluegreen_switch_command && s->bluegreen_proxy ? s->bluegreen_proxy : "", s->bluegreen_drain);
}

/* The commands in the order a run starts them (before_stop, deploy,
 * report), with the restart already settled by plan_make: what is
 * listed is what runs when every step succeeds. */
void plan_print(const struct plan *p, const struct settings *s, FILE *out)
{
	char every[96];
	for (size_t i = 0; i < p->n; i++)
		print_checkout(&p->d[i], &p->e[i], out);
	print_command(out, s->pre_deploy_command, "");
	if (!p->restart) {
		fprintf(out, "no restart%s\n", p->no_restart ? " (--no-restart)" : "");
	} else {
		fprintf(out, "strategy: %s\n", s->strategy == STRATEGY_RESTART ? "restart" :
		        s->strategy == STRATEGY_BLUEGREEN ? "bluegreen" : "recreate");
		if (s->strategy != STRATEGY_RESTART)
			print_command(out, s->prepare_command, " (in a staged checkout of the new commits)");
		else
			print_command(out, s->stop_command, "");
		if (s->strategy == STRATEGY_BLUEGREEN)
			print_bluegreen(out, s);
		print_command(out, s->start_command, "");
		if (s->engine_health)
			fprintf(out, "then: wait up to %ld s until the containers the start makes run, healthy "
			        "(AUTODEPLOY_ENGINE_HEALTH)\n", s->healthcheck_timeout);
		snprintf(every, sizeof every, " (every %ld s, up to %ld s)", s->healthcheck_interval,
		         s->healthcheck_timeout);
		print_command(out, s->healthcheck_command, every);
	}
	print_command(out, s->notify_command, " (after the run)");
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
