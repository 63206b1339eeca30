/*
 * outcome: what a run-deploy run leaves for people and monitoring:
 * STATE_DIR/last-deploy.json after every deploy attempt, and the
 * Prometheus text file AUTODEPLOY_METRICS_FILE after every run, both
 * replaced atomically (util_write_atomic).
 *
 * Metrics: autodeploy_last_run_timestamp_seconds,
 * autodeploy_last_success_timestamp_seconds (kept across runs in
 * STATE_DIR/last-success), autodeploy_last_result,
 * autodeploy_deploy_duration_seconds, autodeploy_checkout_behind_commits{path},
 * autodeploy_quarantined (1 when the commits due are quarantined),
 * autodeploy_unverified (1 when the commits due are refused unsigned or
 * signed by no allowed key).
 */
#ifndef AUTODEPLOY_OUTCOME_H
#define AUTODEPLOY_OUTCOME_H

#include <stddef.h>
#include <time.h>

struct settings;
struct drift;
struct journal_entry;

struct outcome {
	time_t start, end;
	int result;                        /* the run's exit code */
	int attempted;                     /* a deploy (or recovery) was tried */
	const struct drift *drift;         /* n checkouts, may be NULL */
	const struct journal_entry *plan;  /* n entries, may be NULL */
	size_t n;
	int quarantined;                   /* the run ends with its target quarantined */
	int unverified;                    /* the run refused commits no allowed key signed */
};

int outcome_record(const struct settings *s, const struct outcome *o, char *err);

#endif
