/* settings_load: the spec's defaults, and one refusal per validated key.
 * argv[1] is share/env.local.example, which must parse; argv[2] is
 * share/man/man5/env.local.5, which must describe every key. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "settings.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"

static char err[ERR_MAX];

/* Parse text and load settings; returns settings_load's result.  *c is
 * left for the caller to free (NULL if the text did not parse). */
static int load(struct settings *s, struct cfg **c, const char *text)
{
	err[0] = '\0';
	if (cfg_parse(c, "env.local", text, strlen(text), err) < 0) {
		diag("parse error: %s", err);
		memset(s, 0, sizeof(*s));
		return -2;
	}
	return settings_load(s, *c, err);
}

static void defaults(void)
{
	struct settings s;
	struct cfg *c;

	setenv("HOME", "/home/op", 1);
	is_int(load(&s, &c, "# nothing set\nOTHER_KEY=ignored\n"), 0, "an empty config loads");
	ok(s.compose_dir == NULL, "compose dir: unset is NULL");
	is_int((long long)s.n_extra_repos, 0, "extra repos: none");
	ok(s.extra_repos && s.extra_repos[0] == NULL, "extra repos: an empty list");
	is_str(s.deploy_key_dir, "/home/op/.ssh", "deploy key dir: $HOME/.ssh");
	is_str(s.known_hosts, "/home/op/.ssh/known_hosts", "known hosts: $HOME/.ssh/known_hosts");
	is_int(s.strict_host_key, 1, "strict host key: yes");
	is_int(s.track_tags, 0, "track: branch");
	is_str(s.stop_command, "docker compose stop", "stop command");
	is_str(s.start_command, "docker compose up -d", "start command");
	ok(s.healthcheck_command == NULL, "health check: none");
	is_int(s.healthcheck_timeout, 300, "health check timeout: 300");
	is_int(s.notify_timeout, 60, "notify timeout: 60");
	is_int(s.healthcheck_interval, 5, "health check interval: 5");
	is_int(s.rollback, 1, "rollback: yes");
	is_int(s.engine_health, 1, "engine health: yes");
	is_int(s.bluegreen_drain, 5, "bluegreen drain: 5");
	ok(s.n_bluegreen_services == 0 && !s.bluegreen_proxy, "bluegreen: no services, no proxy");
	ok(s.pre_deploy_command == NULL && s.notify_command == NULL, "pre-deploy and notify: none");
	is_int(s.code_owner_set, 0, "code ownership: unset");
	is_str(s.platform_frequency, "7 5 * * *", "platform frequency");
	is_str(s.notebook_frequency, "@hourly", "notebook frequency");
	is_int((long long)s.n_notebook_sources, 0, "notebook sources: none");
	ok(s.notebook_dir == NULL, "notebook dir: none");
	is_int(s.notebook_owner_set, 0, "notebook owner: unset");
	is_int(s.notebook_max_files, 10000, "notebook max files: 10000");
	ok(s.notebook_max_bytes == (uint64_t)1 << 30, "notebook max bytes: 1G");
	is_str(s.log_dir, "/var/log/PAVICS", "log dir");
	is_str(s.state_dir, "/var/lib/autodeploy", "state dir");
	ok(s.metrics_file == NULL, "metrics file: none");
	is_int(s.rotate_keep, 6, "rotate keep: 6");
	is_int(s.rotate_period, PERIOD_WEEKLY, "rotate period: weekly");
	ok(s.rotate_minsize == 500 * 1024, "rotate minsize: 500k");
	is_int(s.rotate_compress, 1, "rotate compress: yes");
	is_int(s.rotate_compress_level, 6, "compress level: 6");
	is_int(s.rotate_with_logrotate, 0, "rotate with: rotate-logs");
	is_int((long long)s.n_extra_jobs, 0, "extra jobs: none");
	ok(s.self_update == NULL, "self update: none");
	settings_free(&s);
	cfg_free(c);

	is_int(load(&s, &c, "AUTODEPLOY_LOG_DIR=\nAUTODEPLOY_ROTATE_KEEP=\"\"\nAUTODEPLOY_TRACK=\n"), 0,
	       "empty values load");
	is_str(s.log_dir, "/var/log/PAVICS", "an empty value means the default (string)");
	is_int(s.rotate_keep, 6, "an empty value means the default (number)");
	is_int(s.track_tags, 0, "an empty value means the default (track)");
	settings_free(&s);
	cfg_free(c);

	/* A service started by systemd may have no HOME. */
	unsetenv("HOME");
	struct passwd *pw = getpwuid(getuid());
	char want[PATH_MAX + 32];
	is_int(load(&s, &c, ""), 0, "loads without HOME");
	snprintf(want, sizeof(want), "%s/.ssh", pw ? (strcmp(pw->pw_dir, "/") ? pw->pw_dir : "") : "?");
	is_str(s.deploy_key_dir, want, "without HOME, ~/.ssh comes from the password database");
	settings_free(&s);
	cfg_free(c);
	setenv("HOME", "/home/op", 1);
}

static void values(void)
{
	struct settings s;
	struct cfg *c;
	int rc = load(&s, &c,
		"AUTODEPLOY_COMPOSE_DIR=/srv/stack\n"
		"AUTODEPLOY_EXTRA_REPOS=\"\n  /srv/a\n  /srv/b\n\"\n"
		"AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=/etc/keys\n"
		"AUTODEPLOY_STRICT_HOST_KEY=no\n"
		"AUTODEPLOY_TRACK='tag:[0-9]*.[0-9]*'\n"
		"AUTODEPLOY_STOP_COMMAND='make stop'\n"
		"AUTODEPLOY_HEALTHCHECK_COMMAND=true\n"
		"AUTODEPLOY_HEALTHCHECK_TIMEOUT=2m\n"
		"AUTODEPLOY_HEALTHCHECK_INTERVAL=1\n"
		"AUTODEPLOY_ROLLBACK=no\n"
		"AUTODEPLOY_CODE_OWNERSHIP=1000:1000\n"
		"AUTODEPLOY_NOTEBOOK_SOURCES='https://h/x.git#main:nb git@h:y.git'\n"
		"AUTODEPLOY_NOTEBOOK_OWNER=33:44\n"
		"AUTODEPLOY_NOTEBOOK_MAX_BYTES=10M\n"
		"AUTODEPLOY_ROTATE_KEEP=1\n"
		"AUTODEPLOY_ROTATE_PERIOD=monthly\n"
		"AUTODEPLOY_ROTATE_MINSIZE=0\n"
		"AUTODEPLOY_ROTATE_COMPRESS=no\n"
		"AUTODEPLOY_ROTATE_COMPRESS_LEVEL=9\n"
		"AUTODEPLOY_ROTATE_WITH=logrotate\n"
		"AUTODEPLOY_EXTRA_JOBS='backup clean_2'\n"
		"AUTODEPLOY_JOB_backup_SCHEDULE=daily\nAUTODEPLOY_JOB_backup_COMMAND=b\n"
		"AUTODEPLOY_JOB_clean_2_SCHEDULE=daily\nAUTODEPLOY_JOB_clean_2_COMMAND=c\n");
	is_int(rc, 0, "a full config loads");
	if (rc != 0) {
		diag("%s", err);
		return;
	}
	is_str(s.compose_dir, "/srv/stack", "compose dir");
	ok(s.n_extra_repos == 2 && !strcmp(s.extra_repos[0], "/srv/a") && !strcmp(s.extra_repos[1], "/srv/b") &&
	   s.extra_repos[2] == NULL, "extra repos from a multi-line value");
	is_str(s.deploy_key_dir, "/etc/keys", "deploy key dir");
	is_str(s.known_hosts, "/home/op/.ssh/known_hosts", "known hosts stay in ~/.ssh when the key dir moves");
	is_int(s.strict_host_key, 0, "strict host key no");
	ok(s.track_tags == 1 && !strcmp(s.tag_glob, "[0-9]*.[0-9]*"), "track tag:GLOB gives the glob");
	is_str(s.stop_command, "make stop", "stop command");
	is_str(s.healthcheck_command, "true", "health check command");
	is_int(s.healthcheck_timeout, 120, "timeout 2m");
	is_int(s.healthcheck_interval, 1, "interval 1");
	is_int(s.rollback, 0, "rollback no");
	ok(s.code_owner_set && s.code_uid == 1000 && s.code_gid == 1000, "code ownership");
	ok(s.n_notebook_sources == 2 && !strcmp(s.notebook_sources[1], "git@h:y.git"), "notebook sources");
	ok(s.notebook_owner_set && s.notebook_uid == 33 && s.notebook_gid == 44, "notebook owner");
	ok(s.notebook_max_bytes == 10 << 20, "notebook max bytes");
	is_int(s.rotate_keep, 1, "rotate keep 1");
	is_int(s.rotate_period, PERIOD_MONTHLY, "rotate period monthly");
	ok(s.rotate_minsize == 0, "rotate minsize 0");
	is_int(s.rotate_compress, 0, "compress no");
	is_int(s.rotate_compress_level, 9, "level 9");
	is_int(s.rotate_with_logrotate, 1, "rotate with logrotate");
	ok(s.n_extra_jobs == 2 && !strcmp(s.extra_jobs[1], "clean_2"), "extra jobs");
	settings_free(&s);
	ok(s.extra_repos == NULL && s.n_extra_repos == 0, "settings_free clears the lists");
	settings_free(&s);
	cfg_free(c);
}

/* KEY=value on line 3 must be refused as "env.local:3: KEY: ...(expected". */
static void refused(const char *key, const char *value, const char *want)
{
	struct settings s;
	struct cfg *c;
	char text[512], prefix[128];

	snprintf(text, sizeof(text), "A=1\n# two\n%s=%s\n", key, value);
	snprintf(prefix, sizeof(prefix), "env.local:3: %s: ", key);
	int rc = load(&s, &c, text);
	int good = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, want) &&
	           strstr(err, "(expected");
	ok(good, "%s=%s is refused", key, value);
	if (!good)
		diag("rc=%d err='%s' want '%s...%s'", rc, err, prefix, want);
	ok(s.extra_repos == NULL && s.extra_jobs == NULL, "nothing is left allocated after refusing %s", key);
	cfg_free(c);
}

static void refusals(void)
{
	refused("AUTODEPLOY_STRICT_HOST_KEY", "maybe", "'maybe' is not a boolean");
	refused("AUTODEPLOY_TRACK", "tags", "'tags' is not a track mode");
	refused("AUTODEPLOY_TRACK", "tag:", "'tag:' is not a track mode");
	refused("AUTODEPLOY_HEALTHCHECK_TIMEOUT", "5x", "'5x' is not a duration");
	refused("AUTODEPLOY_NOTIFY_TIMEOUT", "soon", "'soon' is not a duration");
	refused("AUTODEPLOY_HEALTHCHECK_INTERVAL", "0", "'0' is too short");
	refused("AUTODEPLOY_HEALTHCHECK_INTERVAL", "-1", "is not a duration");
	refused("AUTODEPLOY_ROLLBACK", "sometimes", "is not a boolean");
	refused("AUTODEPLOY_ENGINE_HEALTH", "mostly", "'mostly' is not a boolean");
	refused("AUTODEPLOY_STRATEGY", "canary", "(expected recreate, restart or bluegreen)");
	refused("AUTODEPLOY_BLUEGREEN_DRAIN", "awhile", "'awhile' is not a duration");
	refused("AUTODEPLOY_CODE_OWNERSHIP", "root:root", "'root:root' is not an owner");
	refused("AUTODEPLOY_NOTEBOOK_OWNER", "1000:", "'1000:' is not an owner");
	refused("AUTODEPLOY_NOTEBOOK_MAX_FILES", "0", "'0' is out of range");
	refused("AUTODEPLOY_NOTEBOOK_MAX_FILES", "lots", "is not a number");
	refused("AUTODEPLOY_NOTEBOOK_MAX_BYTES", "1T", "'1T' is not a size");
	refused("AUTODEPLOY_ROTATE_KEEP", "0", "'0' is out of range");
	refused("AUTODEPLOY_ROTATE_PERIOD", "yearly", "'yearly' is not a period");
	refused("AUTODEPLOY_ROTATE_MINSIZE", "5x", "'5x' is not a size");
	refused("AUTODEPLOY_ROTATE_COMPRESS", "gzip", "'gzip' is not a boolean");
	refused("AUTODEPLOY_ROTATE_COMPRESS_LEVEL", "0", "out of range (expected an integer from 1 to 9)");
	refused("AUTODEPLOY_ROTATE_COMPRESS_LEVEL", "10", "out of range");
	refused("AUTODEPLOY_ROTATE_WITH", "cron", "'cron' is not a rotation tool");
	refused("AUTODEPLOY_EXTRA_JOBS", "'ok bad-name'", "'bad-name' is not a job name");
	refused("AUTODEPLOY_EXTRA_JOBS", "nojob", "job 'nojob' has no AUTODEPLOY_JOB_nojob_SCHEDULE");

	struct settings s;
	struct cfg *c;
	is_int(load(&s, &c, "AUTODEPLOY_EXTRA_REPOS=/x\nAUTODEPLOY_JOB_a_SCHEDULE=daily\n"
	                    "AUTODEPLOY_EXTRA_JOBS='a a'\nAUTODEPLOY_JOB_a_COMMAND=x\n"), -1, "a job listed twice is refused");
	ok(strstr(err, "env.local:3: AUTODEPLOY_EXTRA_JOBS: job 'a' is listed twice") == err, "listed twice message");
	ok(s.extra_repos == NULL, "lists are freed after a late refusal");
	cfg_free(c);
	is_int(load(&s, &c, "AUTODEPLOY_JOB_a_SCHEDULE=daily\nAUTODEPLOY_EXTRA_JOBS=a\n"), -1,
	       "a job without a command is refused");
	ok(strstr(err, "env.local:2: AUTODEPLOY_EXTRA_JOBS: job 'a' has no AUTODEPLOY_JOB_a_COMMAND") == err,
	   "missing command message");
	cfg_free(c);
	is_int(load(&s, &c, "AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=/x/y\nUNKNOWN_THING=not-a-boolean\n"), 0,
	       "unknown keys are ignored");
	settings_free(&s);
	cfg_free(c);
}

/* Every key of SPEC.md's table. */
static const char *const keys[] = {
	"COMPOSE_DIR", "EXTRA_REPOS", "DEPLOY_KEY_ROOT_DIR", "KNOWN_HOSTS", "STRICT_HOST_KEY",
	"TRACK", "STOP_COMMAND", "START_COMMAND", "HEALTHCHECK_COMMAND", "HEALTHCHECK_TIMEOUT",
	"HEALTHCHECK_INTERVAL", "ROLLBACK", "PRE_DEPLOY_COMMAND", "NOTIFY_COMMAND", "NOTIFY_TIMEOUT",
	"CODE_OWNERSHIP", "PLATFORM_FREQUENCY", "NOTEBOOK_FREQUENCY", "NOTEBOOK_SOURCES",
	"NOTEBOOK_DIR", "NOTEBOOK_OWNER", "NOTEBOOK_MAX_FILES", "NOTEBOOK_MAX_BYTES",
	"NOTEBOOK_MAX_ENTRIES", "LOG_DIR",
	"STATE_DIR", "METRICS_FILE", "ROTATE_KEEP", "ROTATE_PERIOD", "ROTATE_MINSIZE",
	"ROTATE_COMPRESS", "ROTATE_COMPRESS_LEVEL", "ROTATE_WITH", "EXTRA_JOBS", "SELF_UPDATE",
	"TRIGGER_USER", "TRIGGER_REPOS",
	"DEPLOY_WINDOW", "VERIFY", "ALLOWED_SIGNERS", "GPG_KEYRING", "VERIFY_CHECKOUTS", "NOTEBOOK_VERIFY",
	"ENGINE_HEALTH", "BLUEGREEN_SERVICES", "BLUEGREEN_PROXY", "BLUEGREEN_DRAIN",
	"BLUEGREEN_SWITCH_COMMAND",
};

/* The example must parse as shipped, and also with every commented
 * "#AUTODEPLOY_KEY=default" line uncommented: the defaults it shows are
 * values settings_load accepts and equal to the real defaults. */
static void example(const char *path)
{
	struct settings s, d;
	struct cfg *c, *dc;
	char *text;
	size_t len;

	if (!path) {
		ok(0, "no path to env.local.example given");
		return;
	}
	is_int(cfg_load(&c, path, err), 0, "env.local.example parses");
	if (!c) {
		diag("%s", err);
		return;
	}
	is_int(settings_load(&s, c, err), 0, "env.local.example loads as settings");
	settings_free(&s);
	cfg_free(c);

	if (util_read_file(&text, &len, path, err) < 0) {
		ok(0, "read %s: %s", path, err);
		return;
	}
	/* Uncomment in place: "#AUTODEPLOY_" becomes " AUTODEPLOY_". */
	for (char *p = text; (p = strstr(p, "\n#AUTODEPLOY_")); p++)
		p[1] = ' ';
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		char k[64];
		snprintf(k, sizeof(k), "\n AUTODEPLOY_%s=", keys[i]);
		int found = strstr(text, k) != NULL;
		snprintf(k, sizeof(k), "\nAUTODEPLOY_%s=", keys[i]);
		found |= strstr(text, k) != NULL;
		ok(found, "env.local.example shows AUTODEPLOY_%s", keys[i]);
	}
	int rc = cfg_parse(&c, "uncommented", text, len, err);
	is_int(rc, 0, "env.local.example with every setting uncommented parses");
	free(text);
	if (rc < 0) {
		diag("%s", err);
		return;
	}
	rc = settings_load(&s, c, err);
	is_int(rc, 0, "and loads as settings");
	if (rc < 0) {
		diag("%s", err);
		cfg_free(c);
		return;
	}
	cfg_parse(&dc, "defaults", "AUTODEPLOY_COMPOSE_DIR=/srv/stack\n", 34, err);
	settings_load(&d, dc, err);
	ok(!strcmp(s.deploy_key_dir, d.deploy_key_dir) && !strcmp(s.known_hosts, d.known_hosts) &&
	   s.strict_host_key == d.strict_host_key && s.track_tags == d.track_tags &&
	   !strcmp(s.stop_command, d.stop_command) && !strcmp(s.start_command, d.start_command) &&
	   s.healthcheck_timeout == d.healthcheck_timeout && s.healthcheck_interval == d.healthcheck_interval &&
	   s.rollback == d.rollback && s.engine_health == d.engine_health &&
	   s.bluegreen_drain == d.bluegreen_drain && !strcmp(s.platform_frequency, d.platform_frequency) &&
	   !strcmp(s.notebook_frequency, d.notebook_frequency) &&
	   s.notebook_max_files == d.notebook_max_files && s.notebook_max_bytes == d.notebook_max_bytes &&
	   !strcmp(s.log_dir, d.log_dir) && !strcmp(s.state_dir, d.state_dir) &&
	   s.rotate_keep == d.rotate_keep && s.rotate_period == d.rotate_period &&
	   s.rotate_minsize == d.rotate_minsize && s.rotate_compress == d.rotate_compress &&
	   s.rotate_compress_level == d.rotate_compress_level &&
	   s.rotate_with_logrotate == d.rotate_with_logrotate &&
	   s.trigger_uid == d.trigger_uid && s.trigger_all == d.trigger_all,
	   "the defaults shown in env.local.example are the real defaults");
	settings_free(&d);
	cfg_free(dc);
	settings_free(&s);
	cfg_free(c);
}

/* env.local(5) documents every key and the exit status. */
static void manpage(const char *path)
{
	char *text;
	size_t len;

	if (!path || util_read_file(&text, &len, path, err) < 0) {
		ok(0, "read env.local.5: %s", path ? err : "no path given");
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		char k[64];
		snprintf(k, sizeof(k), ".B AUTODEPLOY_%s\n", keys[i]);
		ok(strstr(text, k) != NULL, "env.local.5 describes AUTODEPLOY_%s", keys[i]);
	}
	ok(strstr(text, ".SH EXIT STATUS") && strstr(text, ".B 78"), "env.local.5 gives EXIT STATUS 78");
	free(text);
}

/* AUTODEPLOY_PRESET=birdhouse: a birdhouse-deploy host's defaults. */
static void preset(void)
{
	struct settings s;
	struct cfg *c;

	is_int(load(&s, &c, "AUTODEPLOY_PRESET=birdhouse\n"), 0, "preset birdhouse loads");
	is_str(s.stop_command, "./birdhouse-compose.sh stop", "preset: birdhouse's wrapper stops");
	is_str(s.start_command, "./birdhouse-compose.sh up -d", "preset: birdhouse's wrapper starts");
	is_str(s.log_dir, "/var/log/birdhouse", "preset: /var/log/birdhouse");
	is_int(s.strategy, STRATEGY_RESTART, "preset: the restart strategy, as deploy.sh");
	settings_compose_cli(&s, "docker-compose");
	is_str(s.stop_command, "./birdhouse-compose.sh stop", "preset: the wrapper is not replaced by the compose CLI");
	settings_free(&s);
	cfg_free(c);
	is_int(load(&s, &c, "AUTODEPLOY_PRESET=birdhouse\nAUTODEPLOY_STOP_COMMAND=my-stop\n"
	            "AUTODEPLOY_STRATEGY=recreate\nBIRDHOUSE_LOG_DIR=/srv/logs\n"), 0, "preset with own values");
	is_str(s.stop_command, "my-stop", "preset: the operator's stop command wins");
	is_int(s.strategy, STRATEGY_RECREATE, "preset: the operator's strategy wins");
	is_str(s.log_dir, "/srv/logs", "preset: BIRDHOUSE_LOG_DIR wins over the preset default");
	settings_free(&s);
	cfg_free(c);
	/* 1.x-2.3: PAVICS_LOG_DIR, read after BIRDHOUSE_LOG_DIR */
	is_int(load(&s, &c, "AUTODEPLOY_PRESET=birdhouse\nexport PAVICS_LOG_DIR=/srv/pavics-logs\n"), 0,
	       "preset with PAVICS_LOG_DIR");
	is_str(s.log_dir, "/srv/pavics-logs", "preset: PAVICS_LOG_DIR is the log dir's old name");
	is_str(settings_key(c, "AUTODEPLOY_LOG_DIR"), "PAVICS_LOG_DIR", "the log dir goes by PAVICS_LOG_DIR");
	settings_free(&s);
	cfg_free(c);
	is_int(load(&s, &c, "PAVICS_LOG_DIR=/a\nBIRDHOUSE_LOG_DIR=/b\n"), 0, "both names of birdhouse's log dir");
	is_str(s.log_dir, "/b", "BIRDHOUSE_LOG_DIR wins over PAVICS_LOG_DIR");
	settings_free(&s);
	cfg_free(c);
	is_int(load(&s, &c, "PAVICS_LOG_DIR=logs\n"), -1, "a relative PAVICS_LOG_DIR is refused");
	ok(strncmp(err, "env.local:1: PAVICS_LOG_DIR: 'logs' is a relative path", 53) == 0,
	   "naming the old name and its line (%s)", err);
	cfg_free(c);
	refused("AUTODEPLOY_PRESET", "pavics", "'pavics' is not a preset (expected birdhouse)");
}

static int touch(const char *path)
{
	FILE *f = fopen(path, "w");
	return f && fclose(f) == 0;
}

/* The preset follows the host's generation, as deploy.sh does: a compose
 * dir with only pavics-compose.sh (1.x-2.3) is stopped and started with
 * it and logs in /var/log/PAVICS; once birdhouse-compose.sh is there too
 * (2.4 and later), that one and /var/log/birdhouse. */
static void preset_generations(void)
{
	char dir[] = "/tmp/autodeploy-preset.XXXXXX", *text, *old, *new;
	struct settings s;
	struct cfg *c;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	text = xasprintf("AUTODEPLOY_PRESET=birdhouse\nAUTODEPLOY_COMPOSE_DIR=%s\n", dir);
	old = xasprintf("%s/pavics-compose.sh", dir);
	new = xasprintf("%s/birdhouse-compose.sh", dir);
	is_int(load(&s, &c, text), 0, "preset on an empty compose dir");
	is_str(s.start_command, "./birdhouse-compose.sh up -d", "neither wrapper: birdhouse-compose.sh");
	settings_free(&s);
	cfg_free(c);
	ok(touch(old), "made %s", old);
	is_int(load(&s, &c, text), 0, "preset on a 2.3 compose dir");
	is_str(s.stop_command, "./pavics-compose.sh stop", "2.3: pavics-compose.sh stops");
	is_str(s.start_command, "./pavics-compose.sh up -d", "2.3: pavics-compose.sh starts");
	is_str(s.log_dir, "/var/log/PAVICS", "2.3: /var/log/PAVICS");
	settings_free(&s);
	cfg_free(c);
	ok(touch(new), "made %s", new);
	is_int(load(&s, &c, text), 0, "preset on a 2.4 compose dir");
	is_str(s.start_command, "./birdhouse-compose.sh up -d", "2.4: birdhouse-compose.sh first");
	is_str(s.log_dir, "/var/log/birdhouse", "2.4: /var/log/birdhouse");
	settings_free(&s);
	cfg_free(c);
	unlink(new);
	unlink(old);
	rmdir(dir);
	free(new);
	free(old);
	free(text);
}

/* AUTODEPLOY_TRIGGER_USER resolves to ids at load; AUTODEPLOY_TRIGGER_REPOS
 * says whose trigger runs: the compose dir's by default, all under the
 * birdhouse preset, else the checkouts listed. */
static void trigger_keys(void)
{
	struct settings s;
	struct cfg *c;
	struct passwd *pw = getpwnam("nobody");

	is_int(load(&s, &c, "AUTODEPLOY_COMPOSE_DIR=/srv/stack\nAUTODEPLOY_EXTRA_REPOS='/srv/a /srv/b/'\n"), 0,
	       "trigger: defaults load");
	is_str(s.trigger_user, "nobody", "trigger user: nobody by default");
	ok(!pw || s.trigger_uid == (unsigned)pw->pw_uid, "trigger user: nobody's uid");
	ok(settings_trigger_runs(&s, "/srv/stack/") && !settings_trigger_runs(&s, "/srv/a"),
	   "trigger repos: the compose dir's alone by default");
	settings_free(&s);
	cfg_free(c);
	is_int(load(&s, &c, "AUTODEPLOY_COMPOSE_DIR=/srv/stack\nAUTODEPLOY_EXTRA_REPOS='/srv/a /srv/b/'\n"
	            "AUTODEPLOY_TRIGGER_REPOS=/srv/b\nAUTODEPLOY_TRIGGER_USER=4242\n"), 0, "trigger: a list loads");
	ok(settings_trigger_runs(&s, "/srv/b") && !settings_trigger_runs(&s, "/srv/stack"),
	   "trigger repos: only the listed checkouts");
	ok(s.trigger_uid == 4242 && s.trigger_gid == 4242, "trigger user: a uid without an entry, its own group");
	settings_free(&s);
	cfg_free(c);
	is_int(load(&s, &c, "AUTODEPLOY_PRESET=birdhouse\nAUTODEPLOY_EXTRA_REPOS=/srv/a\n"), 0, "trigger: preset");
	ok(s.trigger_all && settings_trigger_runs(&s, "/srv/a"), "trigger repos: all under the birdhouse preset");
	settings_free(&s);
	cfg_free(c);
	refused("AUTODEPLOY_TRIGGER_USER", "no-such-user-x", "user 'no-such-user-x' does not exist");
	refused("AUTODEPLOY_TRIGGER_USER", "4294967295", "'4294967295' is not a uid");
	refused("AUTODEPLOY_TRIGGER_REPOS", "/srv/nowhere", "'/srv/nowhere' is not a checkout");
	refused("AUTODEPLOY_TRIGGER_REPOS", "'all all'", "'all' is not alone");
	refused("AUTODEPLOY_VERIFY", "sometimes", "'sometimes' is not a verify level");
	refused("AUTODEPLOY_NOTEBOOK_VERIFY", "yes", "'yes' is not a verify level");
	refused("AUTODEPLOY_VERIFY_CHECKOUTS", "/srv/x", "'/srv/x' is not PATH=LEVEL");
	refused("AUTODEPLOY_VERIFY_CHECKOUTS", "/srv/x=most", "'/srv/x=most' is not PATH=LEVEL");
	refused("AUTODEPLOY_VERIFY_CHECKOUTS", "/srv/nowhere=all", "'/srv/nowhere' is not a checkout");
}

/* The key table is static: birdhouse's names resolve with no settings
 * loaded before, and asking for any number of names grows nothing (the
 * old table was built by lookups and aborted past 64 keys). */
static void aliases(void)
{
	static const char *const more[] = { "PRESET", "PREPARE_COMMAND", "STRATEGY", "COMMAND_TIMEOUT" };
	const char *names[sizeof(keys) / sizeof(*keys) + sizeof(more) / sizeof(*more)];
	size_t n = 0;
	struct strbuf text = STRBUF_INIT;
	struct cfg *c;
	char want[96], ask[64];
	int same = 1;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		names[n++] = keys[i];
	for (size_t i = 0; i < sizeof(more) / sizeof(*more); i++)
		names[n++] = more[i];
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&text, "BIRDHOUSE_AUTODEPLOY_%s=x\n", names[i]);
	strbuf_addf(&text, "BIRDHOUSE_LOG_DIR=x\nAUTODEPLOY_TRACK=branch\n");
	if (cfg_parse(&c, "env.local", text.buf, text.len, err) < 0) {
		ok(0, "aliases: parse error: %s", err);
		strbuf_release(&text);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(ask, sizeof ask, "AUTODEPLOY_%s", names[i]);
		/* EXTRA_JOBS, the trigger's and the verify keys have no alias (birdhouse
		 * had no such keys); TRACK: both are set, ours win */
		if (strcmp(names[i], "EXTRA_JOBS") == 0 || strcmp(names[i], "TRACK") == 0 ||
		    strncmp(names[i], "TRIGGER_", 8) == 0 || strstr(names[i], "VERIFY") ||
		    strcmp(names[i], "ALLOWED_SIGNERS") == 0 || strcmp(names[i], "GPG_KEYRING") == 0)
			snprintf(want, sizeof want, "%s", ask);
		else if (strcmp(names[i], "LOG_DIR") == 0)
			snprintf(want, sizeof want, "BIRDHOUSE_LOG_DIR");
		else
			snprintf(want, sizeof want, "BIRDHOUSE_%s", ask);
		is_str(settings_key(c, ask), want, "%s goes by %s", ask, want);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(ask, sizeof ask, "AUTODEPLOY_NOT_OURS_%d", i);
		same &= strcmp(settings_key(c, ask), ask) == 0;
	}
	ok(same, "200 keys autodeploy does not know go by their own names");
	cfg_free(c);
	strbuf_release(&text);
}

int main(int argc, char **argv)
{
	unsetenv("AUTODEPLOY_CONFIG");
	aliases();
	defaults();
	values();
	refusals();
	preset();
	preset_generations();
	trigger_keys();
	example(argc > 1 ? argv[1] : NULL);
	manpage(argc > 2 ? argv[2] : NULL);
	return done_testing();
}
