/* hold: quarantine, freeze and deploy window.  See hold.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron.h"
#include "drift.h"
#include "hold.h"
#include "log.h"
#include "settings.h"
#include "strbuf.h"
#include "util.h"

#define QUARANTINE_NAME "quarantine"
#define ATTEMPTS_NAME "attempts"
#define FREEZE_NAME "freeze"

static char *target_of(const struct drift *d, size_t n, int remote)
{
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		char hex[GIT_OID_HEXSZ + 1] = "-";
		if (remote && d[i].have_remote)
			git_oid_tostr(hex, sizeof hex, &d[i].target);
		else if (d[i].have_local)
			git_oid_tostr(hex, sizeof hex, &d[i].local);
		strbuf_addf(&b, "%s %s\n", hex, d[i].path);
	}
	return strbuf_detach(&b, NULL);
}

char *hold_target(const struct drift *d, size_t n)
{
	return target_of(d, n, 1);
}

char *hold_current(const struct drift *d, size_t n)
{
	return target_of(d, n, 0);
}

/* STATE_DIR/name into *out (NULL when there is no such file: 0). */
static int read_state(char **out, const char *state_dir, const char *name, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, name);
	int ret = 0;
	if (util_read_file(out, NULL, path, err) < 0) {
		*out = NULL;
		ret = errno == ENOENT ? 0 : -1;
	}
	free(path);
	return ret;
}

static int write_state(const char *state_dir, const char *name, const char *text, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, name);
	int ret = util_mkdir_p(state_dir, 0755, err);
	if (ret == 0)
		ret = util_write_atomic(path, text, strlen(text), 0644, err);
	free(path);
	return ret;
}

static int remove_state(const char *state_dir, const char *name, char *err)
{
	char *path = xasprintf("%s/%s", state_dir, name);
	int ret = 0;
	if (unlink(path) < 0 && errno != ENOENT)
		ret = err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	free(path);
	return ret;
}

int hold_quarantine(const char *state_dir, const char *target, char *err)
{
	return write_state(state_dir, QUARANTINE_NAME, target, err);
}

int hold_lift(const char *state_dir, char *err)
{
	return remove_state(state_dir, QUARANTINE_NAME, err);
}

int hold_is_quarantined(const char *state_dir, const char *target, char *err)
{
	char *q;
	int ret;
	if (read_state(&q, state_dir, QUARANTINE_NAME, err) < 0)
		return -1;
	ret = q && strcmp(q, target) == 0;
	free(q);
	return ret;
}

int hold_attempts(const char *state_dir, char **target, int *count, char *err)
{
	char *a, *nl;
	*target = NULL;
	*count = 0;
	if (read_state(&a, state_dir, ATTEMPTS_NAME, err) < 0)
		return -1;
	if (a && (nl = strchr(a, '\n')) != NULL) {
		*count = atoi(a);
		*target = xstrdup(nl + 1);
	}
	free(a);
	return 0;
}

int hold_attempt(const char *state_dir, const char *target, int *count, char *err)
{
	char *prev, *text;
	int ret;
	if (hold_attempts(state_dir, &prev, count, err) < 0)
		return -1;
	*count = prev && strcmp(prev, target) == 0 ? *count + 1 : 1;
	text = xasprintf("%d\n%s", *count, target);
	ret = write_state(state_dir, ATTEMPTS_NAME, text, err);
	free(text);
	free(prev);
	return ret;
}

int hold_attempts_clear(const char *state_dir, char *err)
{
	return remove_state(state_dir, ATTEMPTS_NAME, err);
}

char *hold_frozen(const char *state_dir)
{
	char *r, err[ERR_MAX];
	if (read_state(&r, state_dir, FREEZE_NAME, err) < 0) {
		/* a freeze we cannot read is still a freeze */
		log_warn("%s", err);
		return xstrdup("(the reason cannot be read)");
	}
	if (r)
		r[strcspn(r, "\n")] = '\0';
	return r;
}

int hold_freeze(const char *state_dir, const char *reason, char *err)
{
	char *text;
	int ret;
	if (!reason[0] || strchr(reason, '\n'))
		return err_set(err, "a freeze needs a reason on one line (--freeze \"release week\")");
	text = xasprintf("%s\n", reason);
	ret = write_state(state_dir, FREEZE_NAME, text, err);
	free(text);
	return ret;
}

int hold_unfreeze(const char *state_dir, char *err)
{
	return remove_state(state_dir, FREEZE_NAME, err);
}

int hold_in_window(const struct settings *s, time_t now, char *err)
{
	struct cron_expr e;
	struct tm tm;
	if (!s->deploy_window)
		return 1;
	if (cron_parse(&e, "AUTODEPLOY_DEPLOY_WINDOW", s->deploy_window, err) < 0)
		return -1;
	localtime_r(&now, &tm);
	return cron_matches(&e, &tm);
}

char *hold_describe(const char *target)
{
	struct strbuf b = STRBUF_INIT;
	const char *p = target;
	while (*p) {
		const char *sp = strchr(p, ' '), *nl = strchr(p, '\n');
		if (!sp || !nl || sp > nl)
			break;
		strbuf_addf(&b, "%s'%.*s'@%.*s", b.len ? ", " : "", (int)(nl - sp - 1), sp + 1,
		            (int)(sp - p > 12 ? 12 : sp - p), p);
		p = nl + 1;
	}
	return strbuf_detach(&b, NULL);
}

enum hold_kind hold_check_operator(char **why, const struct settings *s, time_t now)
{
	char err[ERR_MAX], *reason = hold_frozen(s->state_dir);
	int in;

	*why = NULL;
	if (reason) {
		*why = xasprintf("%s ('run-deploy --unfreeze' ends it)", reason);
		free(reason);
		return HOLD_FROZEN;
	}
	in = hold_in_window(s, now, err);
	if (in < 0)
		log_warn("%s", err);
	if (in == 0) {
		*why = xasprintf("outside AUTODEPLOY_DEPLOY_WINDOW '%s'; it deploys when the window opens",
		                 s->deploy_window);
		return HOLD_DEFERRED;
	}
	return HOLD_NONE;
}

enum hold_kind hold_check(char **why, const struct settings *s, const char *target, time_t now)
{
	char err[ERR_MAX];
	int q = hold_is_quarantined(s->state_dir, target, err);

	if (q < 0)
		log_warn("%s", err);
	if (q == 1) {
		char *what = hold_describe(target);
		*why = xasprintf("the deploy of %s failed; push a newer commit, or "
		                 "'run-deploy --retry' tries it once more", what);
		free(what);
		return HOLD_QUARANTINED;
	}
	return hold_check_operator(why, s, now);
}

const char *hold_name(enum hold_kind k)
{
	return k == HOLD_QUARANTINED ? "quarantined" : k == HOLD_FROZEN ? "frozen" : k == HOLD_DEFERRED ? "deferred" : "none";
}

void hold_mark(struct drift *d, size_t n, enum hold_kind k, const char *why)
{
	enum drift_decision dec = k == HOLD_QUARANTINED ? DRIFT_QUARANTINED :
	                          k == HOLD_FROZEN ? DRIFT_FROZEN : DRIFT_DEFERRED;
	if (k == HOLD_NONE)
		return;
	for (size_t i = 0; i < n; i++)
		if (d[i].decision == DRIFT_DEPLOY || d[i].decision == DRIFT_PULL_ONLY)
			drift_set(&d[i], dec, 0, why);
}
