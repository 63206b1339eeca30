#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "journal.h"
#include "json.h"
#include "outcome.h"
#include "settings.h"
#include "strbuf.h"
#include "util.h"

static int write_state(const struct settings *s, const struct outcome *o, char *err)
{
	struct json j;
	char t0[40], t1[40], path[4096];
	int ret;

	util_iso_time(t0, sizeof t0, o->start);
	util_iso_time(t1, sizeof t1, o->end);
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "start_time");
	json_string(&j, t0);
	json_key(&j, "end_time");
	json_string(&j, t1);
	json_key(&j, "result");
	json_int(&j, o->result);
	json_key(&j, "result_text");
	json_string(&j, exitcode_meaning(o->result));
	json_key(&j, "checkouts");
	json_array_begin(&j);
	for (size_t i = 0; o->plan && i < o->n; i++) {
		char a[GIT_OID_HEXSZ + 1], b[GIT_OID_HEXSZ + 1];
		json_object_begin(&j);
		json_key(&j, "path");
		json_string(&j, o->plan[i].path);
		json_key(&j, "old_commit");
		json_string(&j, git_oid_tostr(a, sizeof a, &o->plan[i].old));
		json_key(&j, "new_commit");
		json_string(&j, git_oid_tostr(b, sizeof b, &o->plan[i].new));
		json_key(&j, "decision");
		json_string(&j, o->drift ? drift_decision_name(o->drift[i].decision) : NULL);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	snprintf(path, sizeof path, "%s/last-deploy.json", s->state_dir);
	ret = util_write_atomic(path, json_str(&j), strlen(json_str(&j)), 0644, err);
	json_free(&j);
	return ret;
}

/* Prometheus label values escape backslash, double quote and newline. */
static void label_escape(char *out, size_t len, const char *in)
{
	size_t k = 0;
	for (; *in && k + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			out[k++] = '\\';
			out[k++] = *in;
		} else if (*in == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else {
			out[k++] = *in;
		}
	}
	out[k] = '\0';
}

static int write_metrics(const struct settings *s, const struct outcome *o, char *err)
{
	char path[4096], *prev = NULL;
	struct strbuf buf = STRBUF_INIT;
	size_t plen;
	long long last_success = 0;
	int ret;

	/* the last success outlives the runs that did not succeed */
	snprintf(path, sizeof path, "%s/last-success", s->state_dir);
	if (util_read_file(&prev, &plen, path, err) == 0)
		last_success = atoll(prev);
	free(prev);
	if (o->result == EXIT_OK) {
		char stamp[32];
		last_success = (long long)o->end;
		int n = snprintf(stamp, sizeof stamp, "%lld\n", last_success);
		if (util_write_atomic(path, stamp, (size_t)n, 0644, err) < 0)
			return -1;
	}

	strbuf_addf(&buf, "# HELP autodeploy_last_run_timestamp_seconds When run-deploy last ran.\n"
	                   "# TYPE autodeploy_last_run_timestamp_seconds gauge\n"
	                   "autodeploy_last_run_timestamp_seconds %lld\n", (long long)o->end);
	if (last_success)
		strbuf_addf(&buf, "# HELP autodeploy_last_success_timestamp_seconds When a run last ended with exit 0.\n"
		                   "# TYPE autodeploy_last_success_timestamp_seconds gauge\n"
		                   "autodeploy_last_success_timestamp_seconds %lld\n", last_success);
	strbuf_addf(&buf, "# HELP autodeploy_last_result Exit code of the last run (0 ok, 2 rolled back, 3 broken).\n"
	                   "# TYPE autodeploy_last_result gauge\n"
	                   "autodeploy_last_result %d\n", o->result);
	strbuf_addf(&buf, "# HELP autodeploy_deploy_duration_seconds Wall time of the last run.\n"
	                   "# TYPE autodeploy_deploy_duration_seconds gauge\n"
	                   "autodeploy_deploy_duration_seconds %lld\n", (long long)(o->end - o->start));
	strbuf_addf(&buf, "# HELP autodeploy_quarantined 1 when the commits due are quarantined after a failed deploy.\n"
	                   "# TYPE autodeploy_quarantined gauge\n"
	                   "autodeploy_quarantined %d\n", o->quarantined);
	strbuf_addf(&buf, "# HELP autodeploy_unverified 1 when the commits due are refused: not signed by an allowed key.\n"
	                   "# TYPE autodeploy_unverified gauge\n"
	                   "autodeploy_unverified %d\n", o->unverified);
	if (o->drift && o->n) {
		strbuf_addf(&buf, "# HELP autodeploy_checkout_behind_commits Commits the checkout was behind its upstream.\n"
		                   "# TYPE autodeploy_checkout_behind_commits gauge\n");
		for (size_t i = 0; i < o->n; i++) {
			char label[2048];
			label_escape(label, sizeof label, o->drift[i].path);
			strbuf_addf(&buf, "autodeploy_checkout_behind_commits{path=\"%s\"} %zu\n",
			       label, o->drift[i].behind);
		}
	}
	ret = util_write_atomic(s->metrics_file, strbuf_str(&buf), buf.len, 0644, err);
	strbuf_release(&buf);
	return ret;
}

int outcome_record(const struct settings *s, const struct outcome *o, char *err)
{
	if (util_mkdir_p(s->state_dir, 0755, err) < 0)
		return -1;
	if (o->attempted && write_state(s, o, err) < 0)
		return -1;
	if (s->metrics_file && write_metrics(s, o, err) < 0)
		return -1;
	return 0;
}
