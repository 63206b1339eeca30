/*
 * run-deploy: deploy the stack and never leave it down (SPEC.md
 * "run-deploy", steps 1-7).  All network work happens before the stack is
 * stopped, so the downtime window holds only local checkout work; a journal
 * on disk covers that window, so a killed run is repaired by the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "birdhouse.h"
#include "bluegreen.h"
#include "cfg.h"
#include "cli.h"
#include "checkout.h"
#include "drift.h"
#include "gitlock.h"
#include "hold.h"
#include "history.h"
#include "hookin.h"
#include "images.h"
#include "journal.h"
#include "log.h"
#include "outcome.h"
#include "plan.h"
#include "proc.h"
#include "recreate.h"
#include "repo.h"
#include "settings.h"
#include "stack.h"
#include "util.h"

static int opt_if_drift, opt_dry_run, opt_force, opt_no_restart, opt_requeue, opt_retry, opt_unfreeze, opt_rollback;
static const char *opt_freeze;
static long opt_wait;

static struct poptOption options[] = {
	{ "if-drift", 0, POPT_ARG_NONE, &opt_if_drift, 0, "do nothing (exit 0) when no deploy is due", NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0, "print the plan and change nothing", NULL },
	{ "force", 'f', POPT_ARG_NONE, &opt_force, 0, "restart the stack even when no checkout moved", NULL },
	{ "no-restart", 0, POPT_ARG_NONE, &opt_no_restart, 0, "move the checkouts without stopping or starting anything", NULL },
	{ "wait", 'w', POPT_ARG_LONG, &opt_wait, 0, "wait up to SECONDS for the lock (default 0)", "SECONDS" },
	{ "retry", 0, POPT_ARG_NONE, &opt_retry, 0, "deploy quarantined commits once more", NULL },
	{ "rollback", 0, POPT_ARG_NONE, &opt_rollback, 0,
	  "go back to what ran before the last good deploy (its commits and images) and quarantine "
	  "the commits left", NULL },
	{ "freeze", 0, POPT_ARG_STRING, &opt_freeze, 0,
	  "hold every deploy until --unfreeze (--if-drift defers, a manual run refuses unless --force)", "REASON" },
	{ "unfreeze", 0, POPT_ARG_NONE, &opt_unfreeze, 0, "end a freeze", NULL },
	{ "requeue", 0, POPT_ARG_NONE, &opt_requeue, 0,
	  "(the service's ExecStopPost=) start autodeploy.service again if a push arrived while it ran "
	  "or the run was killed", NULL },
	POPT_TABLEEND
};

/* SIGTERM/SIGINT (systemd's stop, a timeout, ^C) during a deploy: end the
 * running command and take the rollback path, then exit.  SIGHUP (the
 * operator's ssh session dropped) and SIGPIPE (`run-deploy | head` gone,
 * a write to it) are the same request: by default they would kill the
 * run in the downtime window, with no rollback. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;   /* no SA_RESTART: waits wake up */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

static void hex(char out[GIT_OID_HEXSZ + 1], const git_oid *id)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

/* What one deploy works with. */
struct run {
	struct settings *s;
	char *target;             /* hold_target of the plan: what a quarantine names */
	int quarantined;          /* the run ends with its target quarantined */
	struct stack st;
	struct journal j;         /* j.e borrowed from the plan, or read back */
	struct util_owner own;
	struct recreate rc;       /* rc.cli: "docker compose" or "docker-compose", once asked */
	int images_known;         /* j.images is what the engine said (not "no engine") */
	struct images want;       /* --rollback: the images to bring back forward */
	int attempted;            /* the operator is to hear of this run (notify) */
	int attempts;             /* hold_attempt's count at the journal step */
	int have_stack;           /* st initialised */
	const char *config;       /* env.local, for the self-update's install-units */
};

/* The compose CLI, asked only when a deploy is to happen: the default
 * commands use it, and recreate asks it which services run. */
static void need_cli(struct run *rn)
{
	if (rn->rc.cli)
		return;
	rn->rc.cli = stack_detect_compose();
	settings_compose_cli(rn->s, rn->rc.cli);
}

static int save_journal(struct run *rn)
{
	char err[ERR_MAX];
	if (journal_write(rn->s->state_dir, &rn->j, err) < 0) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* Was SIGTERM or SIGINT received?  Checked between steps; a running
 * command is ended by proc itself (stack.cancel). */
static int stopping(void)
{
	return stop_signal != 0;
}

/* Said once, where the run turns back (rollback, or nothing started). */
static void say_interrupted(void)
{
	if (stop_signal)
		log_error("interrupted by signal %d", (int)stop_signal);
}

/*
 * Move each checkout that has somewhere to go, marking it touched in the
 * journal first: from then on a restore owes it its old tree, however
 * little of the move happened.  Stops at the first failure.
 */
static int move_forward(struct run *rn)
{
	for (size_t i = 0; i < rn->j.n; i++) {
		struct journal_entry *e = &rn->j.e[i];
		git_repository *r = NULL;
		char err[ERR_MAX], h[GIT_OID_HEXSZ + 1], point[64];
		int rc;
		if (git_oid_equal(&e->old, &e->new))
			continue;
		if (stopping())
			return -1;
		e->touched = 1;
		if (save_journal(rn) < 0)
			return -1;
		snprintf(point, sizeof point, "touched-%zu", i);
		stack_test_kill(point);
		rc = repo_open(&r, e->path, err) < 0 ? -1 : checkout_move(r, &e->new, CHECKOUT_SAFE, &rn->own, err);
		git_repository_free(r);
		if (rc < 0) {
			log_error("%s", err);
			/* a refusal wrote nothing: the restore owes it nothing, and
			 * must not overwrite the local change it refused to touch */
			if (rc == CHECKOUT_UNTOUCHED) {
				e->touched = 0;
				save_journal(rn);
			}
			return -1;
		}
		hex(h, &e->new);
		log_info("'%s': now at %s", e->path, h);
		snprintf(point, sizeof point, "after-checkout-%zu", i);
		stack_test_kill(point);
	}
	return 0;
}

/* Would every move succeed?  Asked while nothing is stopped. */
static int check_moves(struct run *rn)
{
	int ret = 0;
	for (size_t i = 0; i < rn->j.n; i++) {
		struct journal_entry *e = &rn->j.e[i];
		git_repository *r = NULL;
		char err[ERR_MAX];
		if (git_oid_equal(&e->old, &e->new))
			continue;
		if (repo_open(&r, e->path, err) < 0 || checkout_move(r, &e->new, CHECKOUT_CHECK, &rn->own, err) < 0) {
			log_error("%s", err);
			ret = -1;
		}
		git_repository_free(r);
	}
	return ret;
}

/*
 * Put back the old tree of every touched checkout, verified.  A recovery
 * first removes the lock files a killed run may have left in the git
 * folder (nobody holds them open; we hold our own lock): libgit2 killed
 * in a checkout leaves index.lock, in a ref update refs/heads/X.lock.  A
 * rollback does not: its own run left none, so any lock is someone
 * else's.
 */
static int restore_touched(struct run *rn, int recovering)
{
	int ret = 0;
	for (size_t i = 0; i < rn->j.n; i++) {
		struct journal_entry *e = &rn->j.e[i];
		git_repository *r = NULL;
		char err[ERR_MAX], h[GIT_OID_HEXSZ + 1];
		int rc;
		if (!e->touched || git_oid_equal(&e->old, &e->new))
			continue;
		hex(h, &e->old);
		rc = journal_open_repo(&r, e, err);
		if (rc == 0 && recovering)
			rc = gitlock_clear(r, 0, err) < 0 ? -1 : 0;
		if (rc == 0)
			rc = checkout_restore(r, e->branch, &e->old, &e->new, &rn->own, err);
		if (rc < 0) {
			log_error("cannot restore '%s' to %s: %s", e->path, h, err);
			ret = -1;
		} else if (rc == CHECKOUT_CLEAN) {
			log_info("'%s': already clean at %s: nothing to restore", e->path, h);
		} else {
			log_info("'%s': restored to %s", e->path, h);
		}
		git_repository_free(r);
	}
	return ret;
}

/* Record each moving checkout's work-tree top and branch in the journal
 * entries, while nothing is stopped: a restore must find the repository
 * when the new commit deleted the configured folder, and must know whose
 * HEAD it is moving back. */
static int locate_moves(struct run *rn)
{
	for (size_t i = 0; i < rn->j.n; i++) {
		struct journal_entry *e = &rn->j.e[i];
		char err[ERR_MAX];
		if (git_oid_equal(&e->old, &e->new))
			continue;
		if (journal_locate(e, err) < 0) {
			log_error("%s", err);
			return -1;
		}
	}
	return 0;
}

static void export_commits(struct stack *st, const struct journal *j)
{
	char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1], key[64];
	stack_setenv(st, "AUTODEPLOY_CHECKOUTS", "%zu", j->n);
	for (size_t i = 0; i < j->n; i++) {
		hex(o, &j->e[i].old);
		hex(w, &j->e[i].new);
		snprintf(key, sizeof key, "AUTODEPLOY_CHECKOUT_%zu", i);
		stack_setenv(st, key, "%s", j->e[i].path);
		snprintf(key, sizeof key, "AUTODEPLOY_OLD_COMMIT_%zu", i);
		stack_setenv(st, key, "%s", o);
		snprintf(key, sizeof key, "AUTODEPLOY_NEW_COMMIT_%zu", i);
		stack_setenv(st, key, "%s", w);
	}
}

/* The recorded images under their references again, before the start
 * command: compose then recreates each service that runs another image
 * (the prepare's pull may have moved the tag meanwhile). */
static int bring_back(const struct images *im, const char *phase)
{
	char err[ERR_MAX];
	if (images_restore(im, phase, err) < 0) {
		log_error("%s: cannot bring back the recorded images: %s", phase, err);
		return -1;
	}
	return 0;
}

/*
 * A recovery starts the stack as a rollback does ("Exact and final":
 * recovery is the rollback): with recreate, the services that bind-mount
 * a file the restore changed back are recreated, since `up -d` alone
 * leaves a service whose compose config did not change running with the
 * new commit's file.
 */
static int recover_start(struct run *rn)
{
	int ret;
	if (rn->s->strategy != STRATEGY_RESTART)
		recreate_collect(&rn->rc, &rn->j);
	ret = recreate_start(&rn->rc, &rn->st, "recover-start");
	recreate_free(&rn->rc);
	return ret;
}

/*
 * Step 1: a journal means a run died (or gave up) while the stack may be
 * down.  JOURNAL_DEPLOY: put the touched checkouts back, start.
 * JOURNAL_START_ONLY (ROLLBACK=no): start what is there.  Returns
 * EXIT_OK when the stack runs again and the journal is gone, EXIT_BROKEN
 * when not (the journal is kept: every later run tries again); *keep_on
 * says whether the run may still go on to deploy (a start-only failure
 * must not block the commit that fixes it).
 */
static int recover(struct run *rn, int *keep_on)
{
	char err[ERR_MAX];
	int ret = EXIT_BROKEN;

	*keep_on = 0;
	if (journal_read(&rn->j, rn->s->state_dir, err) < 0) {
		log_error("%s", err);
		return EXIT_BROKEN;
	}
	export_commits(&rn->st, &rn->j);
	if (rn->j.state == JOURNAL_START_ONLY) {
		log_warn("the last deploy failed and AUTODEPLOY_ROLLBACK=no kept its commits: starting the stack as it is");
		if (recreate_start(&rn->rc, &rn->st, "recover-start") != 0) {
			log_error("the stack does not start on the commits that are there: the journal '%s/%s' "
			          "is kept until a deploy succeeds; a person must look", rn->s->state_dir, JOURNAL_NAME);
			*keep_on = 1;
			goto out;
		}
	} else {
		log_warn("recovering an interrupted deploy: restoring the old commits of %zu checkout(s)", rn->j.n);
		int rc = bluegreen_undo(rn->s, rn->rc.cli) < 0 ? -1 : restore_touched(rn, 1);
		if (rc == 0)
			stack_test_kill("recover-after-restore");
		if (rc < 0 || bring_back(&rn->j.images, "recover") < 0 || recover_start(rn) != 0) {
			log_error("recovery failed: the journal '%s/%s' is kept and the next run tries again; "
			          "a person should look", rn->s->state_dir, JOURNAL_NAME);
			goto out;
		}
	}
	if (journal_remove(rn->s->state_dir, err) < 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("recovered: the stack runs again");
	*keep_on = 1;
	ret = EXIT_OK;
out:
	journal_free(&rn->j);
	return ret;
}

/*
 * The pushing user may write the trigger file directly, without bound: a
 * trigger longer than the hook ever writes is emptied before the journal
 * needs the room (the service's ExecStartPre= empties it too, but a run
 * started by hand or by a timer without it must not fail on a full disk).
 */
static void trim_trigger(const struct settings *s)
{
	char *trigger = xasprintf("%s/trigger", s->state_dir);
	int fd = open(trigger, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > HOOKIN_TRIGGER_MAX) {
		if (ftruncate(fd, 0) == 0)
			log_warn("'%s' held %lld bytes, more than a trigger ever needs (%d): emptied",
			         trigger, (long long)st.st_size, HOOKIN_TRIGGER_MAX);
		else
			log_warn("cannot empty '%s' (%lld bytes): %s", trigger, (long long)st.st_size,
			         strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(trigger);
}

/*
 * A fetch or a person's git killed while it held a ref lock
 * (refs/remotes/origin/main.lock) would fail every later fetch, so every
 * deploy (74).  Under our lock, the locks of every configured checkout
 * that nobody holds open and that are older than a git command takes are
 * removed, each named in the log.  A failure is said and the run goes
 * on: the fetch then says what it cannot do.
 */
static void clear_stale_locks(const struct settings *s)
{
	for (size_t i = 0; i <= s->n_extra_repos; i++) {
		const char *path = i == 0 ? s->compose_dir : s->extra_repos[i - 1];
		git_repository *r = NULL;
		char err[ERR_MAX];
		if (repo_open(&r, path, err) == 0 && gitlock_clear(r, GITLOCK_STALE_AGE, err) < 0)
			log_warn("%s", err);
		git_repository_free(r);
	}
}

/*
 * --requeue, the service's ExecStopPost=: a push that arrived while the
 * service ran is lost otherwise (the path unit stops watching the trigger
 * while the service is active, and a start it asks for merges into the
 * running start job), and a run killed by a signal, its timeout or a core
 * dump may have left its journal with the stack down.  Either way the
 * service must run once more, now, not at the next timer.
 *
 * Why "restart" and not "start", by systemd's job semantics: a Type=oneshot
 * service keeps its start job installed until it is inactive, ExecStopPost=
 * included.  A start job asked for now is merged into that job and ends
 * with it: nothing runs.  A restart job is never merged late: systemd
 * re-queues the installed job as a restart, which waits until the unit is
 * inactive (the stop half finds it already stopping), then starts it: one
 * more run, right after this one, whatever else asks meanwhile (the path
 * unit's start merges into it).  --no-block: that job waits for us.
 * --job-mode=fail: when the job installed is a stop (systemctl stop,
 * shutdown), a restart would replace it and undo the stop; systemd then
 * refuses instead, and the stop wins (the push waits for the next start).
 *
 * A run that failed on its own (SERVICE_RESULT=exit-code: exit 2 or 3) is
 * not run again for its journal: that would loop; quarantine and the next
 * push or timer take it from there.
 */
static int requeue(const struct settings *s)
{
	char *trigger = xasprintf("%s/trigger", s->state_dir), err[ERR_MAX];
	const char *result = getenv("SERVICE_RESULT");
	const char *argv[] = { "systemctl", "--no-block", "--job-mode=fail", "restart", "autodeploy.service", NULL };
	struct proc_opts o = { .null_stdin = 1, .timeout = 60 };
	struct stat st;
	int status, code = EXIT_OK, why = 0;

	if (stat(trigger, &st) == 0 && st.st_size > 0)
		why = 1;
	else if (result && strcmp(result, "success") != 0 && strcmp(result, "exit-code") != 0 &&
	         journal_exists(s->state_dir, err) == 1)
		why = 2;
	if (why == 1)
		log_info("a push arrived while the deploy ran ('%s' was written): starting autodeploy.service again", trigger);
	else if (why == 2)
		log_warn("the run was ended (SERVICE_RESULT=%s) and left its journal: starting autodeploy.service "
		         "again to recover", result);
	if (why && (proc_run(&status, argv, &o, err) < 0 || status != 0)) {
		log_error("cannot start autodeploy.service again: %s", status ? "systemctl failed (a stop asked "
		          "meanwhile refuses it: see its message above)" : err);
		code = EXIT_IOERR;
	}
	free(trigger);
	return code;
}

/* AUTODEPLOY_SELF_UPDATE: the suite's own checkout moved (the plan has
 * the step only then); rebuild first
 * and install only a good build, so a failed build changes nothing. */
static void self_update(const struct settings *s, const char *config)
{
	char err[ERR_MAX];
	int status;
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

/*
 * 2b. What holds a due deploy (hold.h): a quarantined target (unless
 * --retry), a freeze (--if-drift defers; a manual run refuses with 75
 * unless --force), the deploy window (--if-drift only: a person may
 * deploy at any hour).  1 when the run ends here, with *code.  The drift
 * stays as it is, so the next run that may deploy takes it.
 */
static int held(int *code, struct run *rn, const struct plan *p, int broken)
{
	char *why = NULL;
	enum hold_kind k;

	if (!p->moving)
		return 0;
	k = opt_retry || opt_rollback ? hold_check_operator(&why, rn->s, time(NULL)) :
	    hold_check(&why, rn->s, rn->target, time(NULL));
	if ((k == HOLD_DEFERRED && !opt_if_drift) || (k == HOLD_FROZEN && opt_force && !opt_if_drift)) {
		if (k == HOLD_FROZEN)
			log_warn("frozen: %s: --force deploys anyway", why);
		k = HOLD_NONE;
	}
	*code = broken ? EXIT_BROKEN : EXIT_OK;
	if (k == HOLD_QUARANTINED) {
		log_warn("nothing deployed: quarantined: %s", why);
		rn->quarantined = 1;
	} else if (k == HOLD_FROZEN && !opt_if_drift) {
		log_error("refusing to deploy: frozen: %s; or deploy anyway with --force", why);
		*code = broken ? EXIT_BROKEN : EXIT_BUSY;
	} else if (k != HOLD_NONE) {
		log_info("nothing deployed now: %s: %s", hold_name(k), why);
	}
	free(why);
	return k != HOLD_NONE;
}

/* The run's target is quarantined: said once, here, and to the notify
 * command (AUTODEPLOY_QUARANTINED=1); later runs that leave it notify
 * nothing. */
static void quarantine(struct run *rn, const char *target)
{
	char err[ERR_MAX], *what = hold_describe(target);
	if (hold_quarantine(rn->s->state_dir, target, err) < 0 || hold_attempts_clear(rn->s->state_dir, err) < 0) {
		log_error("%s", err);
	} else {
		log_warn("quarantined %s: 'run-deploy --if-drift' leaves these commits until a newer commit "
		         "arrives, or 'run-deploy --retry' tries them once more", what);
		rn->quarantined = 1;
		stack_setenv(&rn->st, "AUTODEPLOY_QUARANTINED", "1");
	}
	free(what);
}

/*
 * After a deploy that reached the stack: a success forgets the past
 * attempts and any quarantine; a failure (2, 3) quarantines its target,
 * unless a signal ended it: an interrupted run says nothing about the
 * commits, so the next run tries them again, up to the
 * HOLD_MAX_INTERRUPTED-th interrupted attempt in a row.
 */
static void settle(struct run *rn, int code, int attempts)
{
	char err[ERR_MAX];
	if (code == EXIT_OK) {
		if (hold_attempts_clear(rn->s->state_dir, err) < 0 || hold_lift(rn->s->state_dir, err) < 0)
			log_warn("%s", err);
		/* what this deploy recorded is what a --rollback now needs; the
		 * images kept for earlier ones are let go */
		if (rn->images_known && images_release(rn->s->state_dir, &rn->j.images, err) < 0)
			log_warn("%s", err);
		/* --rollback: the timer must not deploy again what was left */
		if (opt_rollback)
			quarantine(rn, rn->target);
		return;
	}
	if (code != EXIT_ROLLED_BACK && code != EXIT_BROKEN)
		return;
	if (stop_signal && attempts < HOLD_MAX_INTERRUPTED) {
		log_info("interrupted attempt %d of %d at these commits: the next run tries them again",
		         attempts, HOLD_MAX_INTERRUPTED);
		return;
	}
	quarantine(rn, rn->target);
}

/* A run killed outright (SIGKILL, a crash) counts its attempt only here,
 * once its journal is recovered. */
static void settle_killed(struct run *rn)
{
	char err[ERR_MAX], *target;
	int attempts;
	if (hold_attempts(rn->s->state_dir, &target, &attempts, err) < 0)
		log_warn("%s", err);
	else if (target && attempts >= HOLD_MAX_INTERRUPTED)
		quarantine(rn, target);
	else if (target)
		log_info("interrupted attempt %d of %d at these commits: this run tries them again",
		         attempts, HOLD_MAX_INTERRUPTED);
	free(target);
}

/* --freeze REASON / --unfreeze: the operator's hold, a file in STATE_DIR,
 * written under the lock (so in a STATE_DIR found trustworthy, and never
 * in the middle of a deploy's decision: --wait waits for a running one). */
static int freeze(struct app *a)
{
	const struct settings *s = &a->s;
	char err[ERR_MAX];
	int code;
	if (opt_freeze && opt_unfreeze) {
		log_error("--freeze and --unfreeze exclude each other");
		return EXIT_USAGE;
	}
	if ((code = app_lock(a, "lock", opt_wait)) != EXIT_OK)
		return code;
	if ((opt_freeze ? hold_freeze(s->state_dir, opt_freeze, err) : hold_unfreeze(s->state_dir, err)) < 0) {
		log_error("%s", err);
		return opt_freeze && (!opt_freeze[0] || strchr(opt_freeze, '\n')) ? EXIT_USAGE : EXIT_IOERR;
	}
	if (opt_freeze)
		log_info("frozen: %s; 'run-deploy --if-drift' defers, a manual run refuses unless --force, "
		         "until 'run-deploy --unfreeze'", opt_freeze);
	else
		log_info("unfrozen: deploys go on");
	return EXIT_OK;
}

/* Under the preset, birdhouse's wrapper reads the env.local we read: a
 * host without the birdhouse/env.local symlink (deploy.sh's default)
 * names it in BIRDHOUSE_LOCAL_ENV, absolute since the wrapper runs in
 * the compose dir.  One the operator gave run-deploy is kept, as
 * deploy.sh keeps it. */
static void birdhouse_env(struct stack *st, const struct app *a)
{
	char *path;

	if (!a->s.preset_birdhouse || getenv("BIRDHOUSE_LOCAL_ENV"))
		return;
	path = realpath(cfg_name(a->cfg), NULL);
	stack_setenv(st, "BIRDHOUSE_LOCAL_ENV", "%s", path ? path : cfg_name(a->cfg));
	free(path);
}

/*
 * A compose dir that is not there is a mistake in env.local, not a
 * checkout to skip: every run would exit 0 with nothing due, or stop and
 * "fail the rollback" of a stack it never touched and leave a journal.
 * Refused before anything is tried.  With a journal, the folder may be
 * one that the interrupted deploy removed: the recovery puts it back.
 */
static int compose_dir_present(const struct app *a)
{
	char err[ERR_MAX];
	struct stat st;
	int journal, found = stat(a->s.compose_dir, &st) == 0;
	const char *what = found ? "is not a folder" : errno == ENOENT || errno == ENOTDIR ? "does not exist"
	                                                                                   : strerror(errno);

	if (found && S_ISDIR(st.st_mode))
		return EXIT_OK;
	if ((journal = journal_exists(a->s.state_dir, err)) != 0) {
		if (journal < 0)
			log_error("%s", err);
		return journal < 0 ? EXIT_IOERR : EXIT_OK;
	}
	cfg_error(a->cfg, settings_key(a->cfg, "AUTODEPLOY_COMPOSE_DIR"), err, "'%s' %s: clone the stack's "
	          "repository there, or point the key at its checkout (nothing was stopped)", a->s.compose_dir, what);
	log_error("%s", err);
	return EXIT_CONFIG;
}

/* 1. Repair what an interrupted run left: the trigger file, orphaned
 * commands, a journal.  Returns EXIT_OK to go on (*broken when the
 * recovery failed but the run may still deploy), else the code to end
 * with. */
static int repair(struct run *rn, int *broken)
{
	char err[ERR_MAX];
	int jr, keep_on, code;

	*broken = 0;
	trim_trigger(rn->s);
	stack_kill_orphans(&rn->st);
	clear_stale_locks(rn->s);
	jr = journal_exists(rn->s->state_dir, err);
	if (jr < 0) {
		log_error("%s", err);
		return EXIT_IOERR;
	}
	if (jr == 0)
		return EXIT_OK;
	rn->attempted = 1;
	need_cli(rn);
	code = recover(rn, &keep_on);
	settle_killed(rn);
	if (code != EXIT_OK && !keep_on)
		return code;
	*broken = code != EXIT_OK;
	return EXIT_OK;
}

/*
 * 2. Decide what moves; everything is fetched now, before any stop.
 * --rollback: the commits and images the last good deploy found; its
 * quarantine target is what is checked out now.  0 when the run ends
 * here, with *code.
 */
static int make_plan(int *code, struct run *rn, struct plan *p)
{
	struct history_good g;
	char err[ERR_MAX];
	int found = 0;

	if (opt_rollback && (found = history_last_good(&g, rn->s->state_dir, err)) <= 0) {
		if (found < 0)
			log_error("%s", err);
		else
			log_error("nothing to go back to: no successful deploy is recorded in '%s/%s'",
			          rn->s->state_dir, HISTORY_NAME);
		*code = found < 0 ? EXIT_IOERR : EXIT_USAGE;
		return 0;
	}
	plan_make(p, rn->s, opt_force, opt_no_restart, opt_dry_run);
	if (!opt_rollback) {
		rn->target = hold_target(p->d, p->n);
		return 1;
	}
	rn->target = hold_current(p->d, p->n);
	plan_rollback(p, &g, opt_no_restart);
	rn->want = g.images;
	memset(&g.images, 0, sizeof g.images);
	history_good_free(&g);
	return 1;
}

/* 2. What the plan allows: 1 when there is work; 0 when the run ends
 * here, with *code (after saying why). */
static int plan_allows(int *code, const struct plan *p, int broken)
{
	*code = broken ? EXIT_BROKEN : EXIT_OK;
	if (p->error_code) {
		*code = broken ? EXIT_BROKEN : p->error_code;
		log_error(p->error_code == EXIT_DATAERR ?
		          "nothing was stopped: the commits named above are refused and will not be written" :
		          "nothing was stopped: fix the remote access above and run again");
		return 0;
	}
	if (opt_if_drift && !p->due) {
		log_info("nothing is due");
		return 0;
	}
	if (p->refuse) {
		*code = broken ? EXIT_BROKEN : EXIT_CONFIG;
		log_error("nothing was stopped: clean or reset the checkouts named above, then run again");
		return 0;
	}
	if (!p->moving && !p->restart) {
		log_info("nothing to deploy");
		return 0;
	}
	return 1;
}

/* Before anything changes (the prepare's pull moves tags): the image of
 * every container of the project, for the journal, each kept from
 * pruning by a tag of ours.  No engine, or nothing running: nothing to
 * record, and the deploy goes on (a stack not run by compose). */
static void record_images(struct run *rn)
{
	char err[ERR_MAX];
	if (images_scan(&rn->j.images, rn->s->compose_dir, err) < 0) {
		log_info("no images recorded: cannot ask the engine (%s)", err);
		images_free(&rn->j.images);
		return;
	}
	rn->images_known = 1;
	for (size_t i = 0; i < rn->j.images.n; i++)
		log_info("recorded: service '%s' runs %.19s ('%s')", rn->j.images.v[i].service,
		         rn->j.images.v[i].id, rn->j.images.v[i].ref);
	if (images_keep(rn->s->state_dir, &rn->j.images, err) < 0)
		log_warn("%s: a prune may remove an image a rollback needs", err);
}

/* PLAN_CHECK: what comes before the downtime window: every move checked
 * and located, the commits in the commands' environment.  From here the
 * operator is to hear of the run, and a signal cancels a command. */
static int step_check(struct run *rn)
{
	/* a checkout that would overwrite a local file is refused now, while
	 * nothing is stopped, not discovered in the downtime window */
	if (check_moves(rn) < 0) {
		log_error("nothing was stopped: move or commit the local files named above, then run again");
		return EXIT_CONFIG;
	}
	if (locate_moves(rn) < 0) {
		log_error("nothing was stopped");
		return EXIT_IOERR;
	}
	rn->attempted = 1;
	rn->st.cancel = &stop_signal;
	export_commits(&rn->st, &rn->j);
	return EXIT_OK;
}

/* PLAN_PREPARE (recreate, bluegreen): the new commits staged and
 * prepared while the stack runs. */
static int step_prepare(struct run *rn)
{
	int rc = stopping() ? -1 : recreate_prepare(&rn->rc, &rn->st, &rn->j);
	if (rc == RECREATE_REFUSED) {
		log_error("nothing was stopped or moved: fix the setting named above, then run again");
		return EXIT_CONFIG;
	}
	if (rc < 0) {
		say_interrupted();
		log_error("preparing the new commits failed: nothing was stopped or moved");
		return EXIT_ROLLED_BACK;
	}
	return EXIT_OK;
}

/* A downtime step's failure: the plan's undo takes over. */
#define STEP_UNDO (-1)

/*
 * PLAN_JOURNAL: the attempt is on record before anything is stopped, so
 * a kill in the downtime window is counted too (settle_killed); then the
 * journal, which from here on lets the next run repair a killed one.
 */
static int step_journal(struct run *rn)
{
	char err[ERR_MAX];
	if (hold_attempt(rn->s->state_dir, rn->target, &rn->attempts, err) < 0)
		log_warn("%s", err);
	rn->j.state = JOURNAL_DEPLOY;
	if (save_journal(rn) < 0) {
		log_error("nothing was stopped");
		return EXIT_IOERR;
	}
	stack_test_kill("after-journal");
	return EXIT_OK;
}

/* PLAN_DONE: a signal that arrived during the start still rolls back;
 * else the journal goes and the deploy is settled. */
static int step_done(struct run *rn)
{
	char err[ERR_MAX];
	if (stopping())
		return STEP_UNDO;
	stack_test_kill("after-start");
	if (journal_remove(rn->s->state_dir, err) < 0) {
		log_error("%s", err);
		return EXIT_IOERR;
	}
	settle(rn, EXIT_OK, rn->attempts);
	return EXIT_OK;
}

/* One step of the plan: EXIT_OK, STEP_UNDO, or the code to end with. */
static int run_step(struct run *rn, const struct plan_step *st)
{
	const struct settings *s = rn->s;
	switch (st->kind) {
	case PLAN_CHECK:
		return step_check(rn);
	case PLAN_RECORD:
		record_images(rn);
		if (s->strategy != STRATEGY_RESTART)
			recreate_collect(&rn->rc, &rn->j);
		return EXIT_OK;
	case PLAN_PRE_DEPLOY:
		if (stopping() || stack_command(&rn->st, st->name, st->command, s->command_timeout) != 0) {
			say_interrupted();
			log_error("the pre-deploy command failed: nothing was stopped or moved");
			return EXIT_ROLLED_BACK;
		}
		return EXIT_OK;
	case PLAN_PREPARE:
		return step_prepare(rn);
	case PLAN_JOURNAL:
		return step_journal(rn);
	case PLAN_STOP:
		if (stopping() || stack_command(&rn->st, st->name, st->command, s->command_timeout) != 0) {
			log_error("stop failed: starting the stack again on the old commits");
			return STEP_UNDO;
		}
		return EXIT_OK;
	case PLAN_MOVE:
		stack_test_kill("after-stop");
		return move_forward(rn) < 0 ? STEP_UNDO : EXIT_OK;
	case PLAN_START:
		return stopping() || bring_back(&rn->want, "start") < 0 ||
		       recreate_start(&rn->rc, &rn->st, st->name) != 0 ? STEP_UNDO : EXIT_OK;
	case PLAN_DONE:
		return step_done(rn);
	case PLAN_SELF_UPDATE:
		self_update(s, rn->config);
		return EXIT_OK;
	}
	return EXIT_OK;
}

static int rollback_failed(void)
{
	log_error("rollback failed: the journal is kept and the next run tries again; a person must look");
	return EXIT_BROKEN;
}

/* One entry of the plan's undo: EXIT_OK to go on, or the code the run
 * ends with. */
static int undo_one(struct run *rn, const struct plan *p, const struct plan_undo *u)
{
	char err[ERR_MAX];
	switch (u->kind) {
	case UNDO_KEEP:
		rn->j.state = JOURNAL_START_ONLY;
		save_journal(rn);
		log_error("AUTODEPLOY_ROLLBACK=no: the new commits stay; the next run starts the stack "
		          "as it is; a person must look");
		return EXIT_BROKEN;
	case UNDO_STOP:
		stack_command(&rn->st, u->name, u->command, rn->s->command_timeout);
		return EXIT_OK;
	case UNDO_RESTORE:
		/* bluegreen_undo finds nothing unless a switch of this run left
		 * its record: only bluegreen makes one */
		if (bluegreen_undo(rn->s, rn->rc.cli) < 0 || restore_touched(rn, 0) < 0 ||
		    (p->restart && bring_back(&rn->j.images, "rollback") < 0))
			return rollback_failed();
		stack_test_kill("rollback-after-restore");
		return EXIT_OK;
	case UNDO_START:
		return recreate_start(&rn->rc, &rn->st, u->name) != 0 ? rollback_failed() : EXIT_OK;
	case UNDO_FORGET:
		if (journal_remove(rn->s->state_dir, err) < 0)
			log_error("%s", err);
		log_warn("rolled back: the old commits are running");
		return EXIT_ROLLED_BACK;
	}
	return EXIT_OK;
}

/*
 * A failure at step `failed`: each undo entry whose step was reached, in
 * the plan's order, until one ends the run.  The rollback runs to its end
 * whatever else arrives: systemd gives it TimeoutStopSec before its
 * SIGKILL.
 */
static int undo(struct run *rn, const struct plan *p, size_t failed)
{
	int code = EXIT_OK, said = 0;
	say_interrupted();
	rn->st.cancel = NULL;
	for (size_t i = 0; i < p->nundo && code == EXIT_OK; i++) {
		if (p->undo[i].from > failed)
			continue;
		if (p->undo[i].kind != UNDO_KEEP && !said++)
			log_warn("rolling back to the old commits");
		log_info("undo of step %zu: %s", p->undo[i].from + 1, p->undo[i].name);
		code = undo_one(rn, p, &p->undo[i]);
	}
	settle(rn, code, rn->attempts);
	return code;
}

/* Steps 3-6: the plan's steps, in order (plan.h). */
static int execute(struct run *rn, const struct plan *p)
{
	rn->j.e = p->e;
	rn->j.n = p->n;
	for (size_t i = 0; i < p->nsteps; i++) {
		int code;
		/* the steps as --dry-run numbers them: a run's log reads as its plan */
		log_info("step %zu of %zu: %s", i + 1, p->nsteps, p->step[i].name);
		code = run_step(rn, &p->step[i]);
		if (code == STEP_UNDO)
			return undo(rn, p, i);
		if (code != EXIT_OK)
			return code;
	}
	return EXIT_OK;
}

/* 7. Tell the operator, whatever happened: the notify command, the
 * outcome files, birdhouse's closing lines. */
static void report(struct app *a, struct run *rn, const struct plan *p, int code, time_t t0)
{
	char err[ERR_MAX];

	/* unverified commits: the operator hears of it at each run that
	 * refuses them (a push nobody vouched for may be an attack); a dry
	 * run tells nobody anything */
	int unverified = p->unverified && !opt_dry_run;
	for (size_t i = 0; unverified && i < p->n; i++)
		if (p->d[i].decision == DRIFT_UNVERIFIED) {
			stack_setenv(&rn->st, "AUTODEPLOY_UNVERIFIED", "1");
			stack_setenv(&rn->st, "AUTODEPLOY_UNVERIFIED_REASON", "'%s': %s", p->d[i].path, p->d[i].reason);
			break;
		}
	if (rn->attempted || unverified) {
		rn->st.cancel = NULL;
		stack_setenv(&rn->st, "AUTODEPLOY_RESULT", "%d", code);
		stack_setenv(&rn->st, "AUTODEPLOY_RESULT_TEXT", "%s", exitcode_meaning(code));
		stack_command(&rn->st, "notify", a->s.notify_command, a->s.notify_timeout);
	}
	if (a->started && !opt_dry_run && !opt_requeue) {
		struct outcome oc = { .start = t0, .end = time(NULL), .result = code, .attempted = rn->attempted,
		                      .drift = p->d, .plan = p->e, .n = p->n, .quarantined = rn->quarantined,
		                      .unverified = p->unverified };
		if (outcome_record(&a->s, &oc, err) < 0)
			log_error("%s", err);
	}
	if (a->started && rn->attempted && !opt_dry_run && !opt_requeue) {
		struct history_run h = { .start = t0, .end = time(NULL), .result = code, .rollback = opt_rollback,
		                         .e = p->e, .n = p->n, .images = &rn->j.images };
		if (history_append(a->s.state_dir, &h, err) < 0)
			log_error("%s", err);
	}
	if (a->started && !opt_requeue) {
		birdhouse_marker("triggerdeploy", "finished START_TIME", t0);
		birdhouse_marker("triggerdeploy", "finished   END_TIME", time(NULL));
	}
}

/* What every mode needs: the log, the settings, and for a deploy the
 * stack's command environment.  1 to go on to the deploy; 0 when the run
 * ends here (--requeue, --freeze, --unfreeze, an error), with *code. */
static int setup(int *code, struct app *a, struct run *rn, time_t t0)
{
	/* --requeue runs after every run of the service: its lines go to the
	 * journal only, not to autodeploy.log */
	if ((*code = app_begin(a, opt_requeue ? NULL : "autodeploy.log")) != EXIT_OK)
		return 0;
	if (!opt_requeue)
		birdhouse_marker("triggerdeploy", "START_TIME", t0);
	if ((*code = app_need_compose_dir(a)) != EXIT_OK)
		return 0;
	if (opt_requeue || opt_freeze || opt_unfreeze) {
		*code = opt_requeue ? requeue(&a->s) : freeze(a);
		return 0;
	}
	if (opt_rollback && (opt_if_drift || opt_retry)) {
		log_error("--rollback excludes --if-drift and --retry");
		*code = EXIT_USAGE;
		return 0;
	}
	app_warn_stale_units(a);
	rn->s = &a->s;
	rn->config = cfg_name(a->cfg);
	rn->own = (struct util_owner){ a->s.code_owner_set, a->s.code_uid, a->s.code_gid };
	stack_init(&rn->st, &a->s);
	rn->have_stack = 1;
	birdhouse_env(&rn->st, a);
	return 1;
}

/* Steps 1-6: lock, repair, plan; then print the plan (--dry-run) or
 * execute it. */
static int run(struct app *a, struct run *rn, struct plan *p)
{
	int code, broken = 0;

	if ((code = app_lock(a, "lock", opt_wait)) != EXIT_OK || (code = compose_dir_present(a)) != EXIT_OK)
		return code;
	catch_stop_signals();
	if (!opt_dry_run && (code = repair(rn, &broken)) != EXIT_OK)
		return code;
	if (!make_plan(&code, rn, p) || !plan_allows(&code, p, broken) || held(&code, rn, p, broken))
		return code;
	need_cli(rn);
	plan_steps(p, rn->s);
	if (opt_dry_run) {
		plan_print(p, rn->s, stdout);
		return EXIT_OK;
	}
	return execute(rn, p);
}

int main(int argc, const char **argv)
{
	struct app a;
	struct run rn;
	struct plan p = { 0 };
	int code;
	time_t t0 = time(NULL);

	memset(&rn, 0, sizeof rn);
	app_init(&a);
	if (cli_parse(argc, argv, options, "[--if-drift] [--dry-run] [--force] [--no-restart] [--retry] "
	              "[--wait SECONDS] [--requeue] | --rollback | --freeze REASON | --unfreeze", &code) < 0)
		return code;
	repo_global_init();
	if (setup(&code, &a, &rn, t0))
		code = run(&a, &rn, &p);
	report(&a, &rn, &p, code, t0);
	if (rn.have_stack)
		stack_free(&rn.st);
	recreate_free(&rn.rc);
	images_free(&rn.j.images);
	images_free(&rn.want);
	plan_free(&p);
	free(rn.target);
	code = app_end(&a, code);
	repo_global_shutdown();
	return code;
}
