/*
 * settings: every key of SPEC.md's table, with its default, checked here
 * once so that all programs refuse the same malformed value with the same
 * words.  An empty value means the default, as if the key were unset.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "settings.h"
#include "util.h"
#include "value.h"

/*
 * birdhouse-deploy (2.4 and later) names our keys BIRDHOUSE_AUTODEPLOY_*
 * and its log folder BIRDHOUSE_LOG_DIR; a host taken over keeps its
 * env.local, so those are read as aliases.  Ours win when both are set;
 * settings_load warns when they differ.  The table lives as long as the
 * program (settings are loaded from main, once).
 */
#define MAX_KEYS 64
static struct key_alias {
	char name[40];      /* COMPOSE_DIR */
	char ours[64];      /* AUTODEPLOY_COMPOSE_DIR */
	char theirs[64];    /* BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR */
} keys[MAX_KEYS];
static size_t n_keys;

static const char *key_of(const struct cfg *c, const char *name)
{
	size_t i;
	for (i = 0; i < n_keys && strcmp(keys[i].name, name) != 0; i++)
		;
	if (i == n_keys) {
		if (n_keys == MAX_KEYS)
			abort();   /* a programming error: more keys than the table */
		snprintf(keys[i].name, sizeof keys[i].name, "%s", name);
		snprintf(keys[i].ours, sizeof keys[i].ours, "AUTODEPLOY_%s", name);
		if (strcmp(name, "LOG_DIR") == 0)
			snprintf(keys[i].theirs, sizeof keys[i].theirs, "BIRDHOUSE_LOG_DIR");
		else
			snprintf(keys[i].theirs, sizeof keys[i].theirs, "BIRDHOUSE_AUTODEPLOY_%s", name);
		n_keys++;
	}
	if (cfg_get(c, keys[i].ours) || !cfg_get(c, keys[i].theirs))
		return keys[i].ours;
	return keys[i].theirs;
}

/* Both names set, to different values: say which lines and which wins. */
static void warn_conflicts(const struct cfg *c)
{
	for (size_t i = 0; i < n_keys; i++) {
		const char *a = cfg_get(c, keys[i].ours), *b = cfg_get(c, keys[i].theirs);
		if (a && b && strcmp(a, b) != 0)
			log_warn("%s:%d: %s and %s:%d: %s differ: %s is used", cfg_name(c),
			         cfg_line(c, keys[i].ours), keys[i].ours, cfg_name(c), cfg_line(c, keys[i].theirs),
			         keys[i].theirs, keys[i].ours);
	}
}

#define K(name) key_of(c, name)

/* ~/.ssh of the running user (util_home). */
static int ssh_dir(char *buf, size_t size, char *err)
{
	const char *home = util_home();
	if (!home)
		return err_set(err, "cannot find the home folder of uid %u "
		               "(set AUTODEPLOY_DEPLOY_KEY_ROOT_DIR and AUTODEPLOY_KNOWN_HOSTS)",
		               (unsigned)getuid());
	if ((size_t)snprintf(buf, size, "%s/.ssh", strcmp(home, "/") ? home : "") >= size)
		return err_set(err, "home folder '%.60s...' is too long", home);
	return 0;
}

static int path_setting(char *buf, size_t size, const struct cfg *c, const char *key,
                        const char *def, char *err)
{
	const char *v = cfg_str(c, key, def);
	if (strlen(v) >= size)
		return cfg_error(c, key, err, "path is too long (expected at most %zu bytes)", size - 1);
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

static int load_paths(struct settings *s, const struct cfg *c, char *err)
{
	const char *dir = cfg_str(c, K("DEPLOY_KEY_ROOT_DIR"), NULL);
	const char *kh = cfg_str(c, K("KNOWN_HOSTS"), NULL);
	char ssh[PATH_MAX], def[PATH_MAX + 16];

	if (!dir || !kh) {
		if (ssh_dir(ssh, sizeof(ssh), err) < 0)
			return -1;
		snprintf(def, sizeof(def), "%s/known_hosts", ssh);
	}
	if (path_setting(s->deploy_key_dir, sizeof(s->deploy_key_dir), c,
	                 K("DEPLOY_KEY_ROOT_DIR"), dir ? dir : ssh, err) < 0 ||
	    path_setting(s->known_hosts, sizeof(s->known_hosts), c,
	                 K("KNOWN_HOSTS"), kh ? kh : def, err) < 0)
		return -1;
	return 0;
}

static int load_track(struct settings *s, const struct cfg *c, char *err)
{
	const char *v = cfg_str(c, K("TRACK"), "branch");

	if (strcmp(v, "branch") == 0)
		return 0;
	if (strncmp(v, "tag:", 4) == 0 && v[4]) {
		s->track_tags = 1;
		s->tag_glob = v + 4;
		return 0;
	}
	return cfg_error(c, K("TRACK"), err, "'%.60s' is not a track mode "
	                 "(expected branch or tag:GLOB, e.g. tag:[0-9]*.[0-9]*.[0-9]*)", v);
}

static int load_rotate(struct settings *s, const struct cfg *c, char *err)
{
	static const char *const periods[] = { "daily", "weekly", "monthly" };
	const char *v = cfg_str(c, K("ROTATE_PERIOD"), "weekly");
	size_t i;

	for (i = 0; i < 3 && strcmp(v, periods[i]); i++)
		;
	if (i == 3)
		return cfg_error(c, K("ROTATE_PERIOD"), err, "'%.60s' is not a period "
		                 "(expected daily, weekly or monthly)", v);
	s->rotate_period = (enum rotate_period)i;

	v = cfg_str(c, K("ROTATE_WITH"), "rotate-logs");
	if (strcmp(v, "logrotate") == 0)
		s->rotate_with_logrotate = 1;
	else if (strcmp(v, "rotate-logs") != 0)
		return cfg_error(c, K("ROTATE_WITH"), err, "'%.60s' is not a rotation tool "
		                 "(expected rotate-logs or logrotate)", v);

	/* Keeping none would delete each rotated file as it is made: a
	 * policy that loses logs is more likely a typo than a wish. */
	if (value_long(&s->rotate_keep, c, K("ROTATE_KEEP"), 6, 1, LONG_MAX, err) < 0 ||
	    value_size(&s->rotate_minsize, c, K("ROTATE_MINSIZE"), 500 * 1024, err) < 0 ||
	    value_bool(&s->rotate_compress, c, K("ROTATE_COMPRESS"), 1, err) < 0 ||
	    value_long(&s->rotate_compress_level, c, K("ROTATE_COMPRESS_LEVEL"), 6, 1, 9, err) < 0)
		return -1;
	return 0;
}

static int load_strategy(struct settings *s, const struct cfg *c, const char *def, char *err)
{
	const char *v = cfg_str(c, K("STRATEGY"), def);
	if (strcmp(v, "recreate") == 0)
		s->strategy = STRATEGY_RECREATE;
	else if (strcmp(v, "restart") == 0)
		s->strategy = STRATEGY_RESTART;
	else
		return cfg_error(c, K("STRATEGY"), err, "'%.60s' is not a strategy "
		                 "(expected recreate or restart)", v);
	return 0;
}

void settings_compose_cli(struct settings *s, const char *cli)
{
	static const char *const verbs[3] = { "stop", "up -d", "pull" };
	const char **cmd[3] = { &s->stop_command, &s->start_command, &s->prepare_command };
	for (int i = 0; i < 3; i++) {
		if (*cmd[i] && !(s->commands_defaulted & (1 << i)))
			continue;
		free(s->compose_commands[i]);
		s->compose_commands[i] = xasprintf("%s %s", cli, verbs[i]);
		*cmd[i] = s->compose_commands[i];
		s->commands_defaulted |= 1 << i;
	}
}

/* Each extra job needs its schedule and command, and its name goes into a
 * unit name and two keys: [A-Za-z0-9_]+, listed once. */
static int check_jobs(const struct settings *s, const struct cfg *c, char *err)
{
	static const char key[] = "AUTODEPLOY_EXTRA_JOBS";
	static const char *const parts[] = { "SCHEDULE", "COMMAND" };

	for (size_t i = 0; i < s->n_extra_jobs; i++) {
		const char *name = s->extra_jobs[i];
		if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
		    != strlen(name))
			return cfg_error(c, key, err, "'%.60s' is not a job name (expected [A-Za-z0-9_]+)", name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, s->extra_jobs[j]) == 0)
				return cfg_error(c, key, err, "job '%s' is listed twice (expected each name once)",
				                 name);
	}
	for (size_t i = 0; i < s->n_extra_jobs; i++) {
		for (size_t p = 0; p < 2; p++) {
			char *k = xasprintf("AUTODEPLOY_JOB_%s_%s", s->extra_jobs[i], parts[p]);
			int missing = cfg_str(c, k, NULL) == NULL;
			if (missing)
				cfg_error(c, key, err, "job '%s' has no %s (expected a non-empty %s)",
				          s->extra_jobs[i], k, p == 0 ? "schedule" : "command");
			free(k);
			if (missing)
				return -1;
		}
	}
	return 0;
}

/* CODE_OWNERSHIP=uid: the group of that user's passwd entry (as
 * `chown uid:` would), kept as it is when the uid has none. */
static int load_code_owner(struct settings *s, const struct cfg *c, char *err)
{
	if (value_owner(&s->code_uid, &s->code_gid, &s->code_owner_set, c, K("CODE_OWNERSHIP"), err) < 0)
		return -1;
	if (s->code_owner_set && s->code_gid == VALUE_GID_UNCHANGED) {
		struct passwd *pw = getpwuid((uid_t)s->code_uid);
		if (pw)
			s->code_gid = (unsigned)pw->pw_gid;
	}
	return 0;
}

/* AUTODEPLOY_PRESET: empty, or birdhouse (a birdhouse-deploy host's
 * defaults: its compose wrapper, its log folder, the restart strategy). */
static int load_preset(int *birdhouse, const struct cfg *c, char *err)
{
	const char *v = cfg_str(c, K("PRESET"), NULL);
	*birdhouse = 0;
	if (!v)
		return 0;
	if (strcmp(v, "birdhouse") != 0)
		return cfg_error(c, K("PRESET"), err, "'%.60s' is not a preset (expected birdhouse)", v);
	*birdhouse = 1;
	return 0;
}

int settings_load(struct settings *s, const struct cfg *c, char *err)
{
	int preset;

	memset(s, 0, sizeof(*s));
	s->cfg = c;

	if (load_preset(&preset, c, err) < 0)
		goto fail;
	s->compose_dir = cfg_str(c, K("COMPOSE_DIR"), NULL);
	s->stop_command = cfg_str(c, K("STOP_COMMAND"), NULL);
	s->start_command = cfg_str(c, K("START_COMMAND"), NULL);
	s->prepare_command = cfg_str(c, K("PREPARE_COMMAND"), NULL);
	settings_compose_cli(s, "docker compose");
	if (preset) {
		/* birdhouse's own wrapper, in the compose dir, stop then up -d:
		 * its deploy.sh stops everything so that bind-mounted configs
		 * are read again */
		if (s->commands_defaulted & 1) {
			s->stop_command = "./birdhouse-compose.sh stop";
			s->commands_defaulted &= ~1;
		}
		if (s->commands_defaulted & 2) {
			s->start_command = "./birdhouse-compose.sh up -d";
			s->commands_defaulted &= ~2;
		}
	}
	s->healthcheck_command = cfg_str(c, K("HEALTHCHECK_COMMAND"), NULL);
	s->pre_deploy_command = cfg_str(c, K("PRE_DEPLOY_COMMAND"), NULL);
	s->notify_command = cfg_str(c, K("NOTIFY_COMMAND"), NULL);
	s->platform_frequency = cfg_str(c, K("PLATFORM_FREQUENCY"), "7 5 * * *");
	s->notebook_frequency = cfg_str(c, K("NOTEBOOK_FREQUENCY"), "@hourly");
	s->notebook_dir = cfg_str(c, K("NOTEBOOK_DIR"), NULL);
	s->log_dir = cfg_str(c, K("LOG_DIR"), preset ? "/var/log/birdhouse" : "/var/log/PAVICS");
	s->state_dir = cfg_str(c, K("STATE_DIR"), "/var/lib/autodeploy");
	s->metrics_file = cfg_str(c, K("METRICS_FILE"), NULL);
	s->self_update = cfg_str(c, K("SELF_UPDATE"), NULL);

	value_list(&s->extra_repos, &s->n_extra_repos, c, K("EXTRA_REPOS"));
	value_list(&s->notebook_sources, &s->n_notebook_sources, c, K("NOTEBOOK_SOURCES"));
	/* not aliased: birdhouse's EXTRA_SCHEDULER_JOBS are another format */
	value_list(&s->extra_jobs, &s->n_extra_jobs, c, "AUTODEPLOY_EXTRA_JOBS");

	if (load_paths(s, c, err) < 0 ||
	    value_bool(&s->strict_host_key, c, K("STRICT_HOST_KEY"), 1, err) < 0 ||
	    load_track(s, c, err) < 0 ||
	    value_seconds(&s->healthcheck_timeout, c, K("HEALTHCHECK_TIMEOUT"), 300, err) < 0 ||
	    value_seconds(&s->healthcheck_interval, c, K("HEALTHCHECK_INTERVAL"), 5, err) < 0 ||
	    value_bool(&s->rollback, c, K("ROLLBACK"), 1, err) < 0 ||
	    value_seconds(&s->notify_timeout, c, K("NOTIFY_TIMEOUT"), 60, err) < 0 ||
	    load_code_owner(s, c, err) < 0 ||
	    value_owner(&s->notebook_uid, &s->notebook_gid, &s->notebook_owner_set, c,
	              K("NOTEBOOK_OWNER"), err) < 0 ||
	    value_long(&s->notebook_max_files, c, K("NOTEBOOK_MAX_FILES"), 10000, 1, LONG_MAX, err) < 0 ||
	    value_size(&s->notebook_max_bytes, c, K("NOTEBOOK_MAX_BYTES"), (uint64_t)1 << 30, err) < 0 ||
	    load_rotate(s, c, err) < 0 ||
	    load_strategy(s, c, preset ? "restart" : "recreate", err) < 0 ||
	    value_seconds(&s->command_timeout, c, K("COMMAND_TIMEOUT"), 900, err) < 0 ||
	    check_jobs(s, c, err) < 0)
		goto fail;
	if (s->healthcheck_interval < 1) {
		cfg_error(c, K("HEALTHCHECK_INTERVAL"), err, "'%.60s' is too short (expected at least 1 second)",
		          cfg_get(c, K("HEALTHCHECK_INTERVAL")));
		goto fail;
	}
	warn_conflicts(c);
	return 0;
fail:
	settings_free(s);
	return -1;
}

void settings_free(struct settings *s)
{
	value_list_free(s->extra_repos);
	value_list_free(s->notebook_sources);
	value_list_free(s->extra_jobs);
	s->extra_repos = s->notebook_sources = s->extra_jobs = NULL;
	s->n_extra_repos = s->n_notebook_sources = s->n_extra_jobs = 0;
	for (int i = 0; i < 3; i++) {
		free(s->compose_commands[i]);
		s->compose_commands[i] = NULL;
	}
}
