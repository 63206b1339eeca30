/*
 * run-deploy: deploy the stack and never leave it down (SPEC.md
 * "run-deploy", steps 1-7).  All network work happens before the stack is
 * stopped, so the downtime window holds only local checkout work; a journal
 * on disk covers that window, so a killed run is repaired by the next one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cfg.h"
#include "cli.h"
#include "drift.h"
#include "journal.h"
#include "log.h"
#include "outcome.h"
#include "proc.h"
#include "repo.h"
#include "settings.h"
#include "stack.h"
#include "util.h"

#define MAX_THREADS 4

static int opt_if_drift, opt_dry_run, opt_force, opt_no_restart;
static long opt_wait;

static struct poptOption options[] = {
	{ "if-drift", 0, POPT_ARG_NONE, &opt_if_drift, 0, "do nothing (exit 0) when no deploy is due", NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print the plan and change nothing", NULL },
	{ "force", 'f', POPT_ARG_NONE, &opt_force, 0, "restart the stack even when no checkout moved", NULL },
	{ "no-restart", 0, POPT_ARG_NONE, &opt_no_restart, 0, "move the checkouts without stopping or starting anything", NULL },
	{ "wait", 'w', POPT_ARG_LONG, &opt_wait, 0, "wait up to SECONDS for the lock (default 0)", "SECONDS" },
	POPT_TABLEEND
};

/* Test-only fault injection (documented in run-deploy(1)): die hard at a
 * named point so the tests can show the next run repairs the damage. */
static void maybe_die(const char *point)
{
	const char *at = getenv("AUTODEPLOY_TEST_KILL_AT");
	if (at && strcmp(at, point) == 0) {
		log_warn("AUTODEPLOY_TEST_KILL_AT=%s: killing myself", point);
		raise(SIGKILL);
	}
}

static void hex(char out[GIT_OID_HEXSZ + 1], const git_oid *id)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

/*
 * Move checkouts to their new commits (REPO_MOVE_SAFE, noting which moved),
 * check that they could move (REPO_MOVE_CHECK), or put the old commits back
 * (REPO_MOVE_FORCE).  A rollback in the same run puts back only what this
 * run moved, so a file someone edits in a checkout that never moved is
 * left alone; a recovery after a kill cannot know and restores every
 * journaled checkout.
 */
static int move_all(struct journal_entry *e, size_t n, enum repo_move how, int only_moved,
                    const struct settings *s, int die_points)
{
	int ret = 0;
	for (size_t i = 0; i < n; i++) {
		const git_oid *target = how == REPO_MOVE_FORCE ? &e[i].old : &e[i].new;
		git_repository *r = NULL;
		char err[ERR_MAX], h[GIT_OID_HEXSZ + 1], point[64];
		if (git_oid_equal(&e[i].old, &e[i].new) || (only_moved && !e[i].moved))
			continue;
		hex(h, target);
		if (repo_open(&r, e[i].path, err) < 0 ||
		    repo_move_to(r, target, how, s->code_owner_set, s->code_uid, s->code_gid, err) < 0) {
			log_error("%s", err);
			ret = -1;
		} else if (how != REPO_MOVE_CHECK) {
			e[i].moved = how == REPO_MOVE_SAFE;
			log_info("'%s': now at %s", e[i].path, h);
		}
		git_repository_free(r);
		if (ret < 0 && how == REPO_MOVE_SAFE)
			return -1; /* rolling forward stops at the first failure */
		snprintf(point, sizeof point, "after-checkout-%zu", i);
		if (die_points)
			maybe_die(point);
	}
	return ret;
}

static void export_commits(struct stack *st, const struct journal_entry *e, size_t n)
{
	char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1], key[64];
	stack_setenv(st, "AUTODEPLOY_CHECKOUTS", "%zu", n);
	for (size_t i = 0; i < n; i++) {
		hex(o, &e[i].old);
		hex(w, &e[i].new);
		snprintf(key, sizeof key, "AUTODEPLOY_CHECKOUT_%zu", i);
		stack_setenv(st, key, "%s", e[i].path);
		snprintf(key, sizeof key, "AUTODEPLOY_OLD_COMMIT_%zu", i);
		stack_setenv(st, key, "%s", o);
		snprintf(key, sizeof key, "AUTODEPLOY_NEW_COMMIT_%zu", i);
		stack_setenv(st, key, "%s", w);
	}
}

/* Step 1: a journal means a run died after it may have moved checkouts
 * with the stack stopped.  Put the old commits back and start. */
static int recover(const struct settings *s, struct stack *st)
{
	struct journal_entry *e = NULL;
	size_t n = 0;
	char err[ERR_MAX];
	int ret = -1;

	if (journal_read(&e, &n, s->state_dir, err) < 0) {
		log_error("%s", err);
		return -1;
	}
	log_warn("recovering an interrupted deploy: restoring the old commits of %zu checkout(s)", n);
	export_commits(st, e, n);
	if (move_all(e, n, REPO_MOVE_FORCE, 0, s, 0) < 0 || stack_start(st, "recover-start") != 0) {
		log_error("recovery failed: the journal '%s/%s' is kept and the next run tries again; "
		          "a person should look", s->state_dir, JOURNAL_NAME);
		goto out;
	}
	if (journal_remove(s->state_dir, err) < 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("recovered: the old commits are running again");
	ret = 0;
out:
	journal_entries_free(e, n);
	return ret;
}

static void print_plan(const struct drift *d, size_t n, int restart, const struct settings *s)
{
	for (size_t i = 0; i < n; i++) {
		char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1];
		char **paths = NULL, err[ERR_MAX];
		size_t np = 0;
		git_repository *r = NULL;
		if (d[i].decision != DRIFT_DEPLOY && d[i].decision != DRIFT_PULL_ONLY) {
			printf("%s: %s, not moved\n", d[i].path, drift_decision_name(d[i].decision));
			continue;
		}
		hex(o, &d[i].local);
		hex(w, &d[i].target);
		if (repo_open(&r, d[i].path, err) < 0 ||
		    repo_changed_paths(&paths, &np, r, &d[i].local, &d[i].target, err) < 0) {
			printf("%s: %s -> %s (changed files unknown: %s)\n", d[i].path, o, w, err);
		} else {
			printf("%s: %s -> %s (%zu files changed)%s\n", d[i].path, o, w, np,
			       d[i].decision == DRIFT_PULL_ONLY ? " pull-only" : "");
			for (size_t k = 0; k < np; k++)
				printf("    %s\n", paths[k]);
		}
		repo_paths_free(paths);
		git_repository_free(r);
	}
	if (s->pre_deploy_command)
		printf("would run: %s\n", s->pre_deploy_command);
	if (restart) {
		printf("would run: %s\n", s->stop_command);
		printf("would run: %s\n", s->start_command);
		if (s->healthcheck_command)
			printf("would run: %s (every %ld s, up to %ld s)\n", s->healthcheck_command,
			       s->healthcheck_interval, s->healthcheck_timeout);
	} else {
		printf("no restart\n");
	}
}

/* Steps 4-6 for the plan in e[0..n): journal, stop, move, start, check;
 * roll back on failure. */
static int deploy(const struct settings *s, struct stack *st, struct journal_entry *e,
                  size_t n, int restart)
{
	char err[ERR_MAX];

	if (journal_write(s->state_dir, e, n, err) < 0) {
		log_error("%s: nothing was stopped", err);
		return EXIT_IOERR;
	}
	if (restart && stack_command(st, "stop", s->stop_command, 0) != 0) {
		log_error("stop failed: starting the stack again on the old commits");
		goto rollback;
	}
	maybe_die("after-stop");
	if (move_all(e, n, REPO_MOVE_SAFE, 0, s, 1) < 0)
		goto rollback;
	if (restart && stack_start(st, "start") != 0)
		goto rollback;
	maybe_die("after-start");
	if (journal_remove(s->state_dir, err) < 0) {
		log_error("%s", err);
		return EXIT_IOERR;
	}
	return EXIT_OK;

rollback:
	if (!s->rollback) {
		log_error("AUTODEPLOY_ROLLBACK=no: leaving the checkouts as they are; a person must look");
		journal_remove(s->state_dir, err);
		return EXIT_BROKEN;
	}
	log_warn("rolling back to the old commits");
	if (restart)
		stack_command(st, "rollback-stop", s->stop_command, 0);
	if (move_all(e, n, REPO_MOVE_FORCE, 1, s, 0) < 0 || (restart && stack_start(st, "rollback-start") != 0)) {
		log_error("rollback failed: the journal is kept and the next run tries again; a person must look");
		return EXIT_BROKEN;
	}
	if (journal_remove(s->state_dir, err) < 0)
		log_error("%s", err);
	log_warn("rolled back: the old commits are running");
	return EXIT_ROLLED_BACK;
}

/* AUTODEPLOY_SELF_UPDATE: the suite's own checkout moved; rebuild first
 * and install only a good build, so a failed build changes nothing. */
static void self_update(const struct settings *s, const char *config, const struct journal_entry *e, size_t n)
{
	char err[ERR_MAX];
	int status;
	size_t i;
	for (i = 0; i < n && strcmp(e[i].path, s->self_update) != 0; i++)
		;
	if (i == n || git_oid_equal(&e[i].old, &e[i].new))
		return;
	const char *build[] = { "make", "-C", s->self_update, NULL };
	const char *install[] = { "make", "-C", s->self_update, "install", NULL };
	const char *units[] = { "install-units", "--config", config, NULL };
	struct proc_opts o = { .null_stdin = 1, .timeout = 1800 };
	log_info("self-update: rebuilding '%s'", s->self_update);
	if (proc_run(&status, build, &o, err) < 0 || status != 0) {
		log_error("self-update: the build in '%s' failed (%s); the installed programs are unchanged",
		          s->self_update, status ? "see the output above" : err);
		return;
	}
	if (proc_run(&status, install, &o, err) < 0 || status != 0) {
		log_error("self-update: 'make install' in '%s' failed; run it by hand", s->self_update);
		return;
	}
	if (proc_run(&status, units, &o, err) < 0 || status != 0)
		log_error("self-update: install-units failed; run it by hand");
	else
		log_info("self-update: installed and units refreshed");
}

int main(int argc, const char **argv)
{
	struct app a;
	struct stack st;
	struct drift *d = NULL;
	struct journal_entry *plan = NULL;
	char err[ERR_MAX];
	int code, have_stack = 0, attempted = 0;
	size_t n = 0;
	time_t t0 = time(NULL);

	app_init(&a);
	if (cli_parse(argc, argv, options,
	              "[--if-drift] [--dry-run] [--force] [--no-restart] [--wait SECONDS]", &code) < 0)
		return code;
	repo_global_init();
	if ((code = app_begin(&a, "autodeploy.log")) != EXIT_OK)
		goto out;
	const struct settings *s = &a.s;
	if ((code = app_need_compose_dir(&a)) != EXIT_OK)
		goto out;
	stack_init(&st, s);
	have_stack = 1;

	/* 1. lock, then repair what an interrupted run left */
	if ((code = app_lock(&a, "lock", opt_wait)) != EXIT_OK)
		goto out;
	int jr = journal_exists(s->state_dir, err);
	if (jr < 0 || (jr == 1 && !opt_dry_run && recover(s, &st) < 0)) {
		if (jr < 0)
			log_error("%s", err);
		code = jr < 0 ? EXIT_IOERR : EXIT_BROKEN;
		attempted = 1;
		goto out;
	}

	/* 2. decide what moves; everything is fetched now, before any stop */
	struct drift_opts o = { .settings = s, .fetch = 1, .max_threads = MAX_THREADS };
	d = drift_check_stack(&n, &o);

	int due = 0, refuse = 0, restart = opt_force, moving = 0;
	code = EXIT_OK;
	plan = xcalloc(n, sizeof *plan);
	for (size_t i = 0; i < n; i++) {
		plan[i].path = d[i].path;
		if (d[i].have_local)
			git_oid_cpy(&plan[i].old, &d[i].local);
		git_oid_cpy(&plan[i].new, &plan[i].old);
		due |= drift_is_due(&d[i]);
		switch (d[i].decision) {
		case DRIFT_DEPLOY:
			restart = 1;
			/* fall through */
		case DRIFT_PULL_ONLY:
			git_oid_cpy(&plan[i].new, &d[i].target);
			moving = 1;
			log_info("'%s': %s: %s", d[i].path, drift_decision_name(d[i].decision), d[i].reason);
			break;
		case DRIFT_UNCLEAN:
		case DRIFT_DIVERGED:
			log_error("'%s': refusing to deploy: %s", d[i].path, d[i].reason);
			refuse = 1;
			break;
		case DRIFT_ERROR:
			log_error("'%s': %s", d[i].path, d[i].reason);
			if (code == EXIT_OK)
				code = d[i].exit_code;
			break;
		case DRIFT_MISSING:
		case DRIFT_NO_UPSTREAM:
			log_warn("'%s': skipped: %s", d[i].path, d[i].reason);
			break;
		default:
			log_info("'%s': %s", d[i].path, d[i].reason);
		}
	}
	if (code != EXIT_OK) {
		log_error("nothing was stopped: fix the remote access above and run again");
		goto out;
	}
	if (opt_if_drift && !due) {
		log_info("nothing is due");
		goto out;
	}
	if (refuse) {
		code = EXIT_CONFIG;
		log_error("nothing was stopped: clean or reset the checkouts named above, then run again");
		goto out;
	}
	if (opt_no_restart)
		restart = 0;
	if (!moving && !restart) {
		log_info("nothing to deploy");
		goto out;
	}

	/* 3. the plan, when that is all that was asked */
	if (opt_dry_run) {
		print_plan(d, n, restart, s);
		goto out;
	}

	/* a checkout that would overwrite a local file is refused now, while
	 * nothing is stopped, not discovered in the downtime window */
	if (move_all(plan, n, REPO_MOVE_CHECK, 0, s, 0) < 0) {
		code = EXIT_CONFIG;
		log_error("nothing was stopped: move or commit the local files named above, then run again");
		goto out;
	}

	attempted = 1;
	export_commits(&st, plan, n);
	if (stack_command(&st, "pre-deploy", s->pre_deploy_command, 0) != 0) {
		log_error("the pre-deploy command failed: nothing was stopped or moved");
		code = EXIT_ROLLED_BACK;
		goto out;
	}

	/* 4-6. */
	code = deploy(s, &st, plan, n, restart);
	if (code == EXIT_OK && s->self_update)
		self_update(s, cfg_name(a.cfg), plan, n);
out:
	/* 7. tell the operator, whatever happened */
	if (attempted) {
		stack_setenv(&st, "AUTODEPLOY_RESULT", "%d", code);
		stack_setenv(&st, "AUTODEPLOY_RESULT_TEXT", "%s", exit_meaning(code));
		stack_command(&st, "notify", a.s.notify_command, a.s.notify_timeout);
	}
	if (a.started && !opt_dry_run) {
		struct outcome oc = { .start = t0, .end = time(NULL), .result = code,
		                      .attempted = attempted, .drift = d, .plan = plan, .n = d ? n : 0 };
		if (outcome_record(&a.s, &oc, err) < 0)
			log_error("%s", err);
	}
	if (have_stack)
		stack_free(&st);
	drift_free_all(d, n);
	free(plan);
	code = app_end(&a, code);
	repo_global_shutdown();
	return code;
}
