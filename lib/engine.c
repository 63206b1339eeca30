#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine.h"
#include "log.h"
#include "proc.h"
#include "stack.h"
#include "strbuf.h"
#include "util.h"

/* How often the engine is asked while a start settles: docker inspect is
 * cheap, and a container without a healthcheck must be seen running twice
 * this far apart (one that exits at once may still be "running" when
 * `up -d` returns). */
#define POLL_MS 1000
#define HEALTH_LOG_MAX 300

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static json_object *at(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v = at(o, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Config.Healthcheck.Test: ["NONE"] (or nothing) means no healthcheck. */
static int healthcheck_set(json_object *config)
{
	json_object *test = at(at(config, "Healthcheck"), "Test");
	if (!test || !json_object_is_type(test, json_type_array) || json_object_array_length(test) == 0)
		return 0;
	const char *first = json_object_get_string(json_object_array_get_idx(test, 0));
	return !first || strcmp(first, "NONE") != 0;
}

/* The last entry of State.Health.Log: what the healthcheck said last. */
static const char *last_health_output(json_object *health)
{
	json_object *log = at(health, "Log");
	size_t n;
	if (!log || !json_object_is_type(log, json_type_array) || (n = json_object_array_length(log)) == 0)
		return NULL;
	return str_at(json_object_array_get_idx(log, n - 1), "Output");
}

static void add(struct engine_set *set, json_object *c, const char *id, const char *service)
{
	json_object *state = at(c, "State"), *config = at(c, "Config"), *health = at(state, "Health");
	json_object *code = at(state, "ExitCode");
	const char *name = str_at(c, "Name"), *oneoff = str_at(at(config, "Labels"), "com.docker.compose.oneoff");
	const char *error = str_at(state, "Error");
	const char *hash = str_at(at(config, "Labels"), "com.docker.compose.config-hash");

	ARRAY_GROW(set->c, set->n, set->cap);
	struct engine_ctr *e = &set->c[set->n++];
	memset(e, 0, sizeof *e);
	e->id = xstrdup(id);
	e->service = xstrdup(service);
	e->name = xstrdup(name ? name + (*name == '/') : id);
	e->status = xstrdup(str_at(state, "Status") ? str_at(state, "Status") : "unknown");
	e->started_at = xstrdup(str_at(state, "StartedAt") ? str_at(state, "StartedAt") : "");
	e->health = dup_or_null(str_at(health, "Status"));
	e->health_log = dup_or_null(last_health_output(health));
	e->error = error && *error ? xstrdup(error) : NULL;
	e->config_hash = xstrdup(hash ? hash : "");
	e->exit_code = code ? json_object_get_int(code) : 0;
	e->oneoff = oneoff && strcmp(oneoff, "True") == 0;
	e->has_healthcheck = healthcheck_set(config);
}

int engine_parse(struct engine_set *set, const char *json, char *err)
{
	json_object *all = json_tokener_parse(json);
	int ret = -1;

	if (!all || !json_object_is_type(all, json_type_array)) {
		err_set(err, "docker inspect did not print a JSON array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *c = json_object_array_get_idx(all, i);
		const char *id = str_at(c, "Id");
		const char *service = str_at(at(at(c, "Config"), "Labels"), "com.docker.compose.service");
		if (id && service)
			add(set, c, id, service);
	}
	ret = 0;
out:
	json_object_put(all);
	return ret;
}

int engine_inspect(struct engine_set *set, const char *const *ids, size_t n, char *err)
{
	const char **argv = xcalloc(n + 3, sizeof *argv);
	char *json = NULL;
	int ret = 0;

	argv[0] = "docker";
	argv[1] = "inspect";
	memcpy(argv + 2, ids, n * sizeof *ids);
	if (n > 0 && (ret = proc_capture(&json, argv, NULL, STACK_ASK_TIMEOUT, err)) == 0)
		ret = engine_parse(set, json, err);
	free(json);
	free(argv);
	return ret;
}

int engine_list(struct engine_set *set, const char *cli, const char *dir, char *err)
{
	const char *ask[6];
	char *json = NULL;
	size_t n = stack_compose_argv(ask, cli);
	int ret;

	ask[n++] = "ps";
	ask[n++] = "-a";
	ask[n++] = "-q";
	ask[n] = NULL;
	ret = stack_inspect(&json, ask, dir, err);
	if (ret == 0 && json)
		ret = engine_parse(set, json, err);
	free(json);
	return ret;
}

const struct engine_ctr *engine_find(const struct engine_set *set, const char *id)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->c[i].id, id) == 0)
			return &set->c[i];
	return NULL;
}

void engine_free(struct engine_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct engine_ctr *e = &set->c[i];
		free(e->id);
		free(e->name);
		free(e->service);
		free(e->status);
		free(e->started_at);
		free(e->health);
		free(e->health_log);
		free(e->error);
		free(e->config_hash);
	}
	free(set->c);
	memset(set, 0, sizeof *set);
}

int engine_project_here(const char *dir)
{
	static const char *const names[] = { "compose.yaml", "compose.yml", "docker-compose.yml",
	                                     "docker-compose.yaml" };
	const char *env = getenv("COMPOSE_FILE");
	if (env && *env)
		return 1;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		int found = access(path, F_OK) == 0;
		free(path);
		if (found)
			return 1;
	}
	return 0;
}

void engine_snapshot(struct engine_set *set, const char *cli, const char *dir)
{
	char err[ERR_MAX];

	memset(set, 0, sizeof *set);
	if (!engine_project_here(dir)) {
		set->skipped = 1;
		snprintf(set->why, sizeof set->why, "no compose file in '%s'", dir);
	} else if (engine_list(set, cli, dir, err) < 0) {
		engine_free(set);
		set->skipped = 2;
		snprintf(set->why, sizeof set->why, "cannot ask the engine: %s", err);
	}
}

/* A container the start made or (re)started, as it was first seen. */
struct watch {
	const char *id;
	char *started_at;   /* NULL until seen running */
	int stable;         /* seen running twice with this started_at */
	int ok;
};

/* The containers of `after` that are new, or (re)started, since `before`:
 * those the start is answerable for.  One-off `compose run` containers
 * are not part of the stack. */
static size_t started_by(const char ***out, const struct engine_set *before, const struct engine_set *after)
{
	size_t n = 0;
	*out = xcalloc(after->n ? after->n : 1, sizeof **out);
	for (size_t i = 0; i < after->n; i++) {
		const struct engine_ctr *a = &after->c[i], *b = engine_find(before, a->id);
		if (a->oneoff)
			continue;
		if (b && strcmp(b->status, "running") == 0 && strcmp(b->started_at, a->started_at) == 0)
			continue;
		(*out)[n++] = a->id;
	}
	return n;
}

/* One line of the container's own words: its last health output, else
 * the engine's error. */
static const char *said(char *buf, size_t size, const struct engine_ctr *c)
{
	const char *what = c->health_log ? c->health_log : c->error;
	if (!what || !*what)
		return "(nothing)";
	log_escape(buf, size, what);
	return buf;
}

/* 1: ready, 0: not yet, -1: failed (logged, naming the service). */
static int judge(struct watch *w, const struct engine_ctr *c, const char *phase)
{
	char out[HEALTH_LOG_MAX];
	const char *why = NULL;

	if (strcmp(c->status, "restarting") == 0)
		why = "keeps restarting: it exits and its restart policy starts it again";
	else if (strcmp(c->status, "running") != 0 && strcmp(c->status, "created") != 0)
		why = "is not running";
	else if (w->started_at && strcmp(w->started_at, c->started_at) != 0)
		why = "was restarted: it exited and its restart policy started it again";
	else if (c->health && strcmp(c->health, "unhealthy") == 0)
		why = "is unhealthy";
	if (why) {
		log_error("%s: service '%s' (container '%s') %s (state %s, exit code %d); last health "
		          "output: %s", phase, c->service, c->name, why, c->status, c->exit_code,
		          said(out, sizeof out, c));
		return -1;
	}
	if (strcmp(c->status, "running") != 0)
		return 0;
	if (!w->started_at)
		w->started_at = xstrdup(c->started_at);
	else
		w->stable = 1;
	if (c->health)
		return strcmp(c->health, "healthy") == 0;
	return w->stable;
}

/* Said when the time is up: each container not ready, and why not. */
static void say_late(const struct watch *w, size_t n, const struct engine_set *now,
                     const struct engine_wait_opts *o)
{
	char out[HEALTH_LOG_MAX];
	for (size_t i = 0; i < n; i++) {
		const struct engine_ctr *c = engine_find(now, w[i].id);
		if (w[i].ok || !c)
			continue;
		log_error("%s: service '%s' (container '%s') is not %s after %ld s (state %s, health %s); "
		          "last health output: %s", o->phase, c->service, c->name, c->health ? "healthy" : "running",
		          o->timeout, c->status, c->health ? c->health : "none", said(out, sizeof out, c));
	}
}

/* One look at every watched container: 1 all ready, 0 not yet, -1 failed. */
static int look(struct watch *w, size_t n, struct engine_set *now, const struct engine_wait_opts *o)
{
	const char **ids = xcalloc(n, sizeof *ids);
	char err[ERR_MAX];
	int ready = 1;

	for (size_t i = 0; i < n; i++)
		ids[i] = w[i].id;
	engine_free(now);
	if (engine_inspect(now, ids, n, err) < 0) {
		log_error("%s: cannot ask the engine how the containers are: %s", o->phase, err);
		ready = -1;
	}
	for (size_t i = 0; i < n && ready >= 0; i++) {
		const struct engine_ctr *c = engine_find(now, w[i].id);
		int v = c ? judge(&w[i], c, o->phase) : -1;
		if (!c)
			log_error("%s: container %.12s is gone: it was removed as soon as it stopped", o->phase, w[i].id);
		w[i].ok = v == 1;
		if (v < 0)
			ready = -1;
		else if (v == 0)
			ready = 0;
	}
	free(ids);
	return ready;
}

int engine_wait_ids(const char *const *ids, size_t n, const struct engine_wait_opts *o)
{
	struct engine_set now = { 0 };
	struct watch *w = xcalloc(n ? n : 1, sizeof *w);
	double deadline = util_monotonic() + (double)o->timeout;
	int ret;

	for (size_t i = 0; i < n; i++)
		w[i].id = ids[i];
	while ((ret = look(w, n, &now, o)) == 0) {
		struct timespec ts = { POLL_MS / 1000, (POLL_MS % 1000) * 1000000L };
		if (util_monotonic() >= deadline) {
			say_late(w, n, &now, o);
			ret = -1;
			break;
		}
		nanosleep(&ts, NULL);   /* a stop signal cuts it short */
		if (o->cancel && *o->cancel) {
			ret = -1;
			break;
		}
	}
	if (ret > 0) {
		log_info("%s: the engine reports %zu started container(s) running and healthy", o->phase, n);
		ret = 0;
	}
	for (size_t i = 0; i < n; i++)
		free(w[i].started_at);
	free(w);
	engine_free(&now);
	return ret;
}

int engine_wait(const struct engine_set *before, const struct engine_wait_opts *o)
{
	struct engine_set after = { 0 };
	const char **ids = NULL;
	char err[ERR_MAX];
	size_t n = 0;
	int ret = 0;

	if (before->skipped == 1)
		log_info("%s: the engine's health is not checked: %s", o->phase, before->why);
	else if (before->skipped)
		log_warn("%s: the engine's health is not checked: %s", o->phase, before->why);
	if (before->skipped)
		return 0;
	if (engine_list(&after, o->cli, o->dir, err) < 0) {
		log_error("%s: cannot ask the engine which containers run: %s", o->phase, err);
		return -1;
	}
	if ((n = started_by(&ids, before, &after)) == 0)
		log_info("%s: the start made or restarted no container: no engine health to wait for", o->phase);
	else
		ret = engine_wait_ids(ids, n, o);
	free(ids);
	engine_free(&after);
	return ret;
}
