#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bluegreen.h"
#include "engine.h"
#include "log.h"
#include "proc.h"
#include "settings.h"
#include "stack.h"
#include "strbuf.h"
#include "util.h"

/* A YAML key at the start of `line` (quotes taken off) equals `want`. */
static int key_is(const char *line, const char *want)
{
	size_t n = strlen(want);
	if ((*line == '\'' || *line == '"') && strncmp(line + 1, want, n) == 0 && line[n + 1] == *line)
		return line[n + 2] == ':';
	return strncmp(line, want, n) == 0 && line[n] == ':';
}

void bluegreen_scan(struct bluegreen_facts *f, const char *yaml, const char *service)
{
	int in_services = 0, in_service = 0;

	memset(f, 0, sizeof *f);
	for (const char *line = yaml; *line;) {
		size_t len = strcspn(line, "\n"), indent = strspn(line, " ");
		if (indent < len && line[indent] != '#') {
			if (indent == 0) {
				in_services = key_is(line, "services");
				in_service = 0;
			} else if (in_services && indent == 2) {
				in_service = key_is(line + 2, service);
				f->found |= in_service;
			} else if (in_service && indent == 4) {
				f->healthcheck |= key_is(line + 4, "healthcheck");
				f->container_name |= key_is(line + 4, "container_name");
				f->ports |= key_is(line + 4, "ports");
			} else if (in_service && indent == 6 && key_is(line + 6, "disable")) {
				/* healthcheck: {disable: true} is no healthcheck */
				f->healthcheck &= !strstr(line, "true");
			}
		}
		line += len + (line[len] == '\n');
	}
}

/* `COMPOSE config` in dir, printed. */
static int compose_config(char **out, const char *cli, const char *dir, const char *hash_of, char *err)
{
	const char *argv[6];
	char *opt = hash_of ? xasprintf("--hash=%s", hash_of) : NULL;
	size_t n = stack_compose_argv(argv, cli);
	argv[n++] = "config";
	if (opt)
		argv[n++] = opt;
	argv[n] = NULL;
	int ret = proc_capture(out, argv, dir, STACK_ASK_TIMEOUT, err);
	free(opt);
	return ret;
}

int bluegreen_check(struct bluegreen *bg, const struct settings *s, const char *cli, const char *dir, char *err)
{
	char *yaml = NULL;
	int ret = -1;

	if (s->n_bluegreen_services == 0)
		return 0;
	if (compose_config(&yaml, cli, dir, NULL, err) < 0)
		return -1;
	bg->services = xcalloc(s->n_bluegreen_services + 1, sizeof *bg->services);
	for (size_t i = 0; i < s->n_bluegreen_services; i++) {
		const char *name = s->bluegreen_services[i];
		struct bluegreen_facts f;
		bluegreen_scan(&f, yaml, name);
		if (!f.found) {
			err_set(err, "AUTODEPLOY_BLUEGREEN_SERVICES: '%s' is not a service of the new commit's "
			        "compose file", name);
			goto out;
		}
		if (!f.healthcheck) {
			err_set(err, "AUTODEPLOY_BLUEGREEN_SERVICES: '%s' has no compose healthcheck: the new "
			        "container could not be told ready; give it one, or take it off the list", name);
			goto out;
		}
		if (f.container_name || f.ports) {
			log_warn("bluegreen: '%s' %s: it cannot run twice, so it is recreated (a short outage)", name,
			         f.container_name ? "sets container_name" : "publishes ports on the host");
			continue;
		}
		bg->services[bg->n++] = xstrdup(name);
	}
	ret = 0;
out:
	free(yaml);
	return ret;
}

void bluegreen_free(struct bluegreen *bg)
{
	for (size_t i = 0; i < bg->n; i++)
		free(bg->services[i]);
	free(bg->services);
	memset(bg, 0, sizeof *bg);
}

/* STATE_DIR/bluegreen.journal: "SERVICE OLD-ID NEW-ID|-", or removed. */
static int record(const struct settings *s, const char *service, const char *old, const char *new_id)
{
	char err[ERR_MAX], *path = xasprintf("%s/%s", s->state_dir, BLUEGREEN_JOURNAL);
	char *line = service ? xasprintf("%s %s %s\n", service, old, new_id ? new_id : "-") : NULL;
	int ret = line ? util_write_atomic(path, line, strlen(line), 0644, err) : 0;
	if (!line && unlink(path) < 0 && errno != ENOENT)
		ret = err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	if (ret < 0)
		log_error("bluegreen: %s", err);
	if (!line)
		util_fsync_dir(AT_FDCWD, s->state_dir, NULL);
	free(line);
	free(path);
	return ret;
}

/* `docker ARGS... ID`: 0, or -1 logged. */
static int docker_on(const char *verb, const char *opt, const char *id, long timeout)
{
	const char *argv[] = { "docker", verb, opt ? opt : id, opt ? id : NULL, NULL };
	char err[ERR_MAX];
	int status;
	struct proc_opts o = { .null_stdin = 1, .timeout = timeout };
	if (proc_run(&status, argv, &o, err) < 0 || status != 0) {
		log_error("bluegreen: 'docker %s %.12s' failed: %s", verb, id, status ? "see above" : err);
		return -1;
	}
	return 0;
}

/* The running containers of `service` in set (ids borrowed). */
static size_t running_of(const char ***ids, const struct engine_set *set, const char *service)
{
	size_t n = 0;
	*ids = xcalloc(set->n + 1, sizeof **ids);
	for (size_t i = 0; i < set->n; i++)
		if (!set->c[i].oneoff && strcmp(set->c[i].service, service) == 0 &&
		    strcmp(set->c[i].status, "running") == 0)
			(*ids)[n++] = set->c[i].id;
	return n;
}

/* The containers of `service` in set that are not among `old`, whatever
 * their state: the ones the scale-up made. */
static size_t new_of(const char ***ids, const struct engine_set *set, const char *service,
                     const char *const *old, size_t nold)
{
	size_t n = 0;
	*ids = xcalloc(set->n + 1, sizeof **ids);
	for (size_t i = 0; i < set->n; i++) {
		int was = 0;
		for (size_t k = 0; k < nold && !was; k++)
			was = strcmp(old[k], set->c[i].id) == 0;
		if (!was && !set->c[i].oneoff && strcmp(set->c[i].service, service) == 0)
			(*ids)[n++] = set->c[i].id;
	}
	return n;
}

/* Has the compose config of `service` changed since `old` were made?
 * compose's own answer: the config hash it labels its containers with. */
static int changed(const struct settings *s, const char *cli, const char *service, const struct engine_set *set,
                   const char *const *old, size_t nold)
{
	char *out = NULL, err[ERR_MAX];
	int ret = -1;
	if (compose_config(&out, cli, s->compose_dir, service, err) < 0) {
		log_error("bluegreen: cannot ask compose for the config hash of '%s': %s", service, err);
		return -1;
	}
	size_t n = strlen(service);
	const char *hash = strncmp(out, service, n) == 0 && out[n] == ' ' ? out + n + 1 : "";
	size_t hlen = strcspn(hash, "\n");
	ret = 0;
	for (size_t k = 0; k < nold; k++) {
		const char *have = engine_find(set, old[k])->config_hash;
		ret |= hlen == 0 || strlen(have) != hlen || strncmp(have, hash, hlen) != 0;
	}
	free(out);
	return ret;
}

/* `argv`, logged once when it fails: 0 or -1. */
static int run(const char *const *argv, const struct stack *st, const char *phase)
{
	char err[ERR_MAX];
	int status;
	struct proc_opts o = { .cwd = st->s->compose_dir, .null_stdin = 1, .timeout = st->s->command_timeout,
	                       .cancel = st->cancel };
	if (proc_run(&status, argv, &o, err) < 0 || status != 0) {
		log_error("%s: '%s %s' failed: %s", phase, argv[0], argv[1], status ? "see above" : err);
		return -1;
	}
	return 0;
}

/* The pids of the nginx workers that serve in the container `id` (not
 * the old ones "shutting down"), as " PID PID ... " in *pids: `docker
 * top` (the proxy's image need not have ps or a shell). */
static int nginx_workers(char **pids, const char *id, char *err)
{
	const char *argv[] = { "docker", "top", id, NULL };
	struct strbuf sb = STRBUF_INIT;
	char *out = NULL;

	if (proc_capture(&out, argv, NULL, STACK_ASK_TIMEOUT, err) < 0)
		return -1;
	strbuf_addch(&sb, ' ');
	for (char *line = out, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char uid[64], pid[32];
		const char *title = strstr(line, "nginx: worker process");
		if (title && !strstr(title, "shutting down") && sscanf(line, "%63s %31s", uid, pid) == 2)
			strbuf_addf(&sb, "%s ", pid);
	}
	free(out);
	*pids = strbuf_detach(&sb, NULL);
	return 0;
}

/*
 * `nginx -s reload` only signals the master and returns: the old workers,
 * with the addresses of before, take every request until the master has
 * read its configuration again (looking the service name up through the
 * engine's DNS, slow when the engine is busy) and started new workers.
 * So the switch is done when a worker runs that was not among `before`;
 * a drain or a stop counted from the signal alone would send requests to
 * a container that is gone.  A master that never gets there (its
 * configuration no longer loads) is a failed switch.
 */
static int nginx_reloaded(const struct stack *st, const char *id, const char *before, const char *phase)
{
	double end = util_monotonic() + (double)st->s->healthcheck_timeout;
	char err[ERR_MAX];

	for (;;) {
		char *now = NULL, *tok, *save = NULL;
		int fresh = 0;
		if (nginx_workers(&now, id, err) < 0) {
			log_error("%s: cannot list the processes of the proxy %.12s: %s", phase, id, err);
			return -1;
		}
		for (tok = strtok_r(now, " ", &save); tok && !fresh; tok = strtok_r(NULL, " ", &save)) {
			char *pad = xasprintf(" %s ", tok);
			fresh = strstr(before, pad) == NULL;
			free(pad);
		}
		free(now);
		if (fresh)
			return 0;
		if ((st->cancel && *st->cancel) || util_monotonic() >= end) {
			log_error("%s: the proxy %.12s started no new nginx worker within %ld s of its reload: its "
			          "configuration did not load (docker logs %.12s says why)", phase, id,
			          st->s->healthcheck_timeout, id);
			return -1;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Switch traffic: the operator's command, else `nginx -s reload` in each
 * running container of the proxy service, `proxies` (a graceful reload:
 * nginx looks the service name up again, and its old workers finish their
 * requests), done once its new workers run. */
int bluegreen_switch(struct stack *st, const struct engine_set *proxies, const char *service, const char *phase)
{
	const struct settings *s = st->s;
	const char **ids = NULL;
	int ret = 0;

	if (s->bluegreen_switch_command) {
		stack_setenv(st, "AUTODEPLOY_BLUEGREEN_SERVICE", "%s", service);
		return stack_command(st, "switch", s->bluegreen_switch_command, s->command_timeout) == 0 ? 0 : -1;
	}
	if (!s->bluegreen_proxy)
		return 0;
	size_t n = running_of(&ids, proxies, s->bluegreen_proxy);
	if (n == 0) {
		log_error("%s: the proxy service '%s' runs no container: nothing to switch", phase, s->bluegreen_proxy);
		ret = -1;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *argv[] = { "docker", "exec", ids[i], "nginx", "-s", "reload", NULL };
		char *before = NULL, err[ERR_MAX];
		log_info("%s: switching: reloading the proxy '%s' (%.12s)", phase, s->bluegreen_proxy, ids[i]);
		if (nginx_workers(&before, ids[i], err) < 0) {
			log_error("%s: cannot list the processes of the proxy %.12s: %s", phase, ids[i], err);
			ret = -1;
		} else {
			ret = run(argv, st, phase) < 0 ? -1 : nginx_reloaded(st, ids[i], before, phase);
		}
		free(before);
	}
	free(ids);
	return ret;
}

/* The old container keeps the requests it has: wait, unless stopped. */
static int drain(const struct stack *st, const char *phase)
{
	double end = util_monotonic() + (double)st->s->bluegreen_drain;
	log_info("%s: draining the old container for %ld s", phase, st->s->bluegreen_drain);
	while (util_monotonic() < end) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		if (st->cancel && *st->cancel)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Take the new containers away again: the old one never stopped. */
static void give_up(const struct stack *st, const char *service, const char *const *fresh, size_t n)
{
	for (size_t i = 0; i < n; i++)
		docker_on("rm", "-f", fresh[i], STACK_ASK_TIMEOUT);
	if (record(st->s, NULL, NULL, NULL) == 0)
		log_error("bluegreen: '%s': the new container was removed; the old one was never stopped", service);
}

/*
 * The new ones serve: switch (the proxy now sends to both), drain, stop
 * the old, switch again at once, then remove the old.  The old one leaves
 * the network as it stops: the proxy forgets it right after, without
 * first asking compose again (a second), since a request sent to its
 * vanished address waits for the proxy's connect timeout.
 */
static int hand_over(struct stack *st, const struct engine_set *set, const char *service, const char *const *old,
                     size_t nold, const char *phase)
{
	if (bluegreen_switch(st, set, service, phase) < 0 || drain(st, phase) < 0)
		return -1;
	stack_test_kill("bluegreen-drained");
	for (size_t k = 0; k < nold; k++) {
		log_info("%s: stopping the old container %.12s of '%s'", phase, old[k], service);
		if (docker_on("stop", NULL, old[k], st->s->command_timeout) < 0)
			return -1;
	}
	if (bluegreen_switch(st, set, service, phase) < 0)
		return -1;
	for (size_t k = 0; k < nold; k++) {
		log_info("%s: removing the old container %.12s of '%s'", phase, old[k], service);
		if (docker_on("rm", NULL, old[k], STACK_ASK_TIMEOUT) < 0)
			return -1;
	}
	stack_test_kill("bluegreen-removed");
	return 0;
}

/* The new containers alone: each with a healthcheck of its own (what
 * plan time saw in the compose file), healthy by the engine. */
static int ready(struct stack *st, const char *cli, const char *service, const struct engine_set *after,
                 const char *const *fresh, size_t n, const char *phase)
{
	struct engine_wait_opts o = { .cli = cli, .dir = st->s->compose_dir, .phase = phase,
	                              .timeout = st->s->healthcheck_timeout, .cancel = st->cancel };
	for (size_t i = 0; i < n; i++) {
		if (!engine_find(after, fresh[i])->has_healthcheck) {
			log_error("%s: bluegreen: the new '%s' has no healthcheck: it cannot be told ready", phase, service);
			return -1;
		}
	}
	return engine_wait_ids(fresh, n, &o);
}

/* One listed service, blue/green: 0 (replaced, or nothing to do), -1. */
static int replace(struct stack *st, const char *cli, const char *service, const char *phase)
{
	const struct settings *s = st->s;
	struct engine_set set = { 0 }, after = { 0 };
	const char **old = NULL, **fresh = NULL, *argv[12];
	char err[ERR_MAX], *scale = NULL;
	size_t nold = 0, nfresh = 0, n;
	int ret = -1, c;

	if (engine_list(&set, cli, s->compose_dir, err) < 0) {
		log_error("%s: bluegreen: cannot ask which containers run: %s", phase, err);
		goto out;
	}
	nold = running_of(&old, &set, service);
	if (nold == 0 || (c = changed(s, cli, service, &set, old, nold)) == 0) {
		log_info("%s: bluegreen: '%s' %s: left to the start", phase, service, nold ? "is unchanged" : "runs no container");
		ret = 0;
		goto out;
	}
	if (c < 0 || record(s, service, old[0], NULL) < 0)
		goto out;
	scale = xasprintf("%s=%zu", service, nold + 1);
	n = stack_compose_argv(argv, cli);
	const char *up[] = { "up", "-d", "--no-deps", "--scale", scale, "--no-recreate", service, NULL };
	memcpy(argv + n, up, sizeof up);
	log_info("%s: bluegreen: starting a new '%s' beside the old one", phase, service);
	int up_rc = run(argv, st, phase);
	stack_test_kill("bluegreen-scaled");
	if (engine_list(&after, cli, s->compose_dir, err) < 0)
		log_error("%s: bluegreen: cannot ask which containers run: %s", phase, err);
	nfresh = new_of(&fresh, &after, service, old, nold);
	if (nfresh > 0)
		record(s, service, old[0], fresh[0]);
	ret = up_rc == 0 && nfresh > 0 ? ready(st, cli, service, &after, fresh, nfresh, phase) : -1;
	if (ret == 0)
		ret = hand_over(st, &after, service, old, nold, phase);
	if (ret < 0)
		give_up(st, service, fresh, nfresh);
	else
		record(s, NULL, NULL, NULL);
	if (ret == 0)
		log_info("%s: bluegreen: '%s' replaced with no outage: %.12s serves", phase, service, fresh[0]);
out:
	free(scale);
	free(old);
	free(fresh);
	engine_free(&after);
	engine_free(&set);
	return ret;
}

int bluegreen_start(const struct bluegreen *bg, struct stack *st, const char *cli, const char *phase)
{
	for (size_t i = 0; i < bg->n; i++)
		if ((st->cancel && *st->cancel) || replace(st, cli, bg->services[i], phase) < 0)
			return -1;
	return 0;
}

int bluegreen_undo(const struct settings *s, const char *cli)
{
	char err[ERR_MAX], *path = xasprintf("%s/%s", s->state_dir, BLUEGREEN_JOURNAL), *buf = NULL;
	char service[256], old[80], fresh[80];
	struct engine_set set = { 0 };
	int ret = -1;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	if (util_read_file(&buf, NULL, path, err) < 0 || sscanf(buf, "%255s %79s %79s", service, old, fresh) != 3) {
		log_error("bluegreen: cannot read '%s' (%s): remove the extra containers by hand, then the file",
		          path, buf ? "malformed" : err);
		goto out;
	}
	if (engine_list(&set, cli, s->compose_dir, err) < 0) {
		log_error("bluegreen: cannot ask which containers of '%s' run: %s", service, err);
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < set.n; i++) {
		const struct engine_ctr *c = &set.c[i];
		if (c->oneoff || strcmp(c->service, service) != 0 || strcmp(c->id, old) == 0)
			continue;
		log_warn("bluegreen: removing the container %.12s of '%s' that the interrupted switch made "
		         "(the old one is %.12s)", c->id, service, old);
		ret |= docker_on("rm", "-f", c->id, STACK_ASK_TIMEOUT);
	}
	if (ret == 0)
		ret = record(s, NULL, NULL, NULL);
out:
	engine_free(&set);
	free(buf);
	free(path);
	return ret;
}
