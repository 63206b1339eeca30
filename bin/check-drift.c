/*
 * check-drift: is a deploy due?  For each checkout (compose dir first, then
 * the extra repos) ask the remote for the tip of what it follows, fetch
 * objects only when that tip is not already here, and decide as SPEC.md's
 * check-drift table says.  Exit 0: nothing due; 1: work is due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cli.h"
#include "drift.h"
#include "hold.h"
#include "journal.h"
#include "json.h"
#include "log.h"
#include "repo.h"
#include "settings.h"
#include "trigger.h"
#include "util.h"

static int opt_json, opt_no_fetch, opt_condition;
static long opt_wait;

static struct poptOption options[] = {
	{ "json", 'j', POPT_ARG_NONE, &opt_json, 0, "print one JSON array, one object per checkout", NULL },
	{ "no-fetch", 'n', POPT_ARG_NONE, &opt_no_fetch, 0, "decide from what is already fetched; contact no remote", NULL },
	{ "condition", 0, POPT_ARG_NONE, &opt_condition, 0,
	  "exit 0 when a deploy is due, 1 when not, 255 on error (for systemd's ExecCondition=)", NULL },
	{ "wait", 'w', POPT_ARG_LONG, &opt_wait, 0, "wait up to SECONDS for the lock (default 0)", "SECONDS" },
	POPT_TABLEEND
};

static void print_oid(struct json *j, int have, const git_oid *oid)
{
	char hex[GIT_OID_HEXSZ + 1];
	json_string(j, have ? git_oid_tostr(hex, sizeof hex, oid) : NULL);
}

static void print_json(const struct drift *d, size_t n, int interrupted)
{
	struct json j;
	json_init(&j);
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j);
		json_key(&j, "path");
		json_string(&j, d[i].path);
		json_key(&j, "branch");
		json_string(&j, d[i].branch);
		json_key(&j, "upstream");
		json_string(&j, d[i].upstream);
		json_key(&j, "local_commit");
		print_oid(&j, d[i].have_local, &d[i].local);
		json_key(&j, "remote_commit");
		print_oid(&j, d[i].have_remote, &d[i].target);
		json_key(&j, "ahead");
		json_int(&j, (long long)d[i].ahead);
		json_key(&j, "behind");
		json_int(&j, (long long)d[i].behind);
		json_key(&j, "decision");
		json_string(&j, drift_decision_name(d[i].decision));
		json_key(&j, "reason");
		json_string(&j, d[i].reason);
		json_object_end(&j);
	}
	if (interrupted) {
		/* keys as for a checkout, so consumers need one schema */
		json_object_begin(&j);
		const char *nulls[] = { "path", "branch", "upstream", "local_commit", "remote_commit" };
		for (size_t k = 0; k < sizeof nulls / sizeof *nulls; k++) {
			json_key(&j, nulls[k]);
			json_null(&j);
		}
		json_key(&j, "ahead");
		json_int(&j, 0);
		json_key(&j, "behind");
		json_int(&j, 0);
		json_key(&j, "decision");
		json_string(&j, "interrupted");
		json_key(&j, "reason");
		json_string(&j, "an interrupted deploy left its journal: run-deploy recovers it");
		json_object_end(&j);
	}
	json_array_end(&j);
	printf("%s\n", json_str(&j));
	json_free(&j);
}

/* One log line per checkout: warnings for what a person should look at. */
static void report(const struct drift *d, size_t n, int interrupted)
{
	for (size_t i = 0; i < n; i++) {
		const char *dec = drift_decision_name(d[i].decision);
		switch (d[i].decision) {
		case DRIFT_DIVERGED:
		case DRIFT_UNCLEAN:
		case DRIFT_NO_UPSTREAM:
		case DRIFT_MISSING:
		case DRIFT_QUARANTINED:
			log_warn("'%s': %s: %s", d[i].path, dec, d[i].reason);
			break;
		case DRIFT_ERROR:
		case DRIFT_UNVERIFIED:
			log_error("'%s': %s: %s", d[i].path, dec, d[i].reason);
			break;
		default:
			log_info("'%s': %s: %s", d[i].path, dec, d[i].reason);
		}
	}
	if (interrupted)
		log_warn("interrupted: a deploy journal was left behind; run-deploy will recover it");
}

static int decide_exit(const struct drift *d, size_t n, int interrupted)
{
	int due = interrupted, code = EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		if (drift_is_due(&d[i]))
			due = 1;
		/* unverified: refused with 65, as a refused tree is */
		if ((d[i].decision == DRIFT_ERROR || d[i].decision == DRIFT_UNVERIFIED) && code == EXIT_OK)
			code = d[i].exit_code;
	}
	return due ? EXIT_DUE : code;
}

/* A due deploy that run-deploy --if-drift would leave (quarantine,
 * freeze, window) is shown as such and is not due: the timer would do
 * nothing now, and the drift stays for the run that may take it. */
static void apply_holds(struct drift *d, size_t n, const struct settings *s)
{
	char *target = hold_target(d, n), *why = NULL;
	int moving = 0;
	for (size_t i = 0; i < n; i++)
		moving |= d[i].decision == DRIFT_DEPLOY || d[i].decision == DRIFT_PULL_ONLY;
	if (moving) {
		enum hold_kind k = hold_check(&why, s, target, time(NULL));
		hold_mark(d, n, k, why);
	}
	free(why);
	free(target);
}

/* ExecCondition= wants 0 to go on, 1..254 to skip quietly, 255 for a
 * failure.  A busy lock means a deploy is running now: skip, not fail. */
static int condition_exit(int code)
{
	switch (code) {
	case EXIT_DUE:
		return 0;
	case EXIT_OK:
	case EXIT_BUSY:
		return 1;
	default:
		return 255;
	}
}

int main(int argc, const char **argv)
{
	struct app a;
	struct drift *d = NULL;
	char err[ERR_MAX];
	int code, interrupted = 0;
	size_t n = 0;

	app_init(&a);
	if (cli_parse(argc, argv, options, "[--json] [--no-fetch] [--condition] [--wait SECONDS]", &code) < 0) {
		/* under ExecCondition= a usage error (64) would read as "skip"
		 * and hide a broken unit file for good: make it a failure */
		for (int i = 1; i < argc && code == EXIT_USAGE; i++)
			if (strcmp(argv[i], "--condition") == 0)
				return 255;
		return code;
	}
	repo_global_init();
	if ((code = app_begin(&a, "autodeploy.log")) != EXIT_OK)
		goto out;
	app_warn_stale_units(&a);
	if ((code = app_need_compose_dir(&a)) != EXIT_OK || (code = app_lock(&a, "lock", opt_wait)) != EXIT_OK)
		goto out;

	struct drift_opts o = { .settings = &a.s, .fetch = !opt_no_fetch, .no_triggers = opt_no_fetch, .max_threads = DRIFT_THREADS };
	d = drift_check_stack(&n, &o);
	trigger_apply(d, n, &o);
	apply_holds(d, n, &a.s);

	interrupted = journal_exists(a.s.state_dir, err);
	if (interrupted < 0) {
		log_error("%s", err);
		code = EXIT_IOERR;
		goto out;
	}
	report(d, n, interrupted);
	if (opt_json)
		print_json(d, n, interrupted);
	code = decide_exit(d, n, interrupted);
out:
	drift_free_all(d, n);
	code = app_end(&a, code);
	repo_global_shutdown();
	return opt_condition ? condition_exit(code) : code;
}
