/*
 * settings: every key of SPEC.md's table, with its default, checked here
 * once so that all programs refuse the same malformed value with the same
 * words.  An empty value means the default, as if the key were unset.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "birdhouse.h"
#include "cfg.h"
#include "cron.h"
#include "log.h"
#include "settings.h"
#include "util.h"
#include "value.h"

enum key_id {
	K_PRESET, K_COMPOSE_DIR, K_STOP_COMMAND, K_START_COMMAND, K_PREPARE_COMMAND,
	K_HEALTHCHECK_COMMAND, K_PRE_DEPLOY_COMMAND, K_NOTIFY_COMMAND,
	K_PLATFORM_FREQUENCY, K_NOTEBOOK_FREQUENCY, K_NOTEBOOK_DIR,
	K_LOG_DIR, K_STATE_DIR, K_METRICS_FILE, K_SELF_UPDATE,
	K_EXTRA_REPOS, K_NOTEBOOK_SOURCES, K_EXTRA_JOBS,
	K_DEPLOY_KEY_ROOT_DIR, K_KNOWN_HOSTS, K_STRICT_HOST_KEY, K_TRACK,
	K_HEALTHCHECK_TIMEOUT, K_HEALTHCHECK_INTERVAL, K_ROLLBACK, K_NOTIFY_TIMEOUT,
	K_CODE_OWNERSHIP, K_NOTEBOOK_OWNER, K_NOTEBOOK_MAX_FILES, K_NOTEBOOK_MAX_BYTES, K_NOTEBOOK_MAX_ENTRIES,
	K_ROTATE_PERIOD, K_ROTATE_WITH, K_ROTATE_KEEP, K_ROTATE_MINSIZE,
	K_ROTATE_COMPRESS, K_ROTATE_COMPRESS_LEVEL, K_STRATEGY, K_COMMAND_TIMEOUT,
	K_TRIGGER_USER, K_TRIGGER_REPOS, K_DEPLOY_WINDOW, K_SSH_CONFIG,
	K_VERIFY, K_ALLOWED_SIGNERS, K_GPG_KEYRING, K_VERIFY_CHECKOUTS, K_NOTEBOOK_VERIFY,
	K_ENGINE_HEALTH, K_BLUEGREEN_SERVICES, K_BLUEGREEN_PROXY, K_BLUEGREEN_DRAIN, K_BLUEGREEN_SWITCH_COMMAND,
	N_KEYS
};

/* How a value is read (value.h), and so which default column counts. */
enum kind {
	TEXT,           /* a string, as written; default: text */
	COMMAND,        /* a string; unset: "<compose CLI> text" (settings_compose_cli) */
	CHOICE,         /* one word of a few; default: text */
	LIST,           /* whitespace separated; default: empty */
	PATH,           /* a path; default: from the running user's home */
	OWNER,          /* uid[:gid]; default: unset */
	BOOL,           /* default: num */
	NUMBER,         /* default: num, within [min, max] */
	SECONDS,        /* default: num, at least min */
	SIZE,           /* default: num bytes */
};

/*
 * Every key autodeploy knows, its type and its default.  birdhouse-deploy
 * (2.4 and later) names our keys BIRDHOUSE_AUTODEPLOY_* and its log folder
 * BIRDHOUSE_LOG_DIR; a host taken over keeps its env.local, so those are
 * read as aliases; before 2.4 the log folder was PAVICS_LOG_DIR, read as
 * its older name.  Ours win when several are set; settings_load warns when
 * they differ.  Under AUTODEPLOY_PRESET=birdhouse a few defaults are
 * birdhouse-deploy's own (its compose wrapper, its log folder, the restart
 * strategy of its deploy.sh), of the generation the compose dir holds
 * (lib/birdhouse).  The table is the only description of a key:
 * nothing is built or counted at run time.
 */
#define OURS(k) "AUTODEPLOY_" #k, "BIRDHOUSE_AUTODEPLOY_" #k, NULL
static const struct key {
	const char *name;       /* AUTODEPLOY_COMPOSE_DIR */
	const char *alias;      /* BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR; NULL: none */
	const char *old;        /* a name before that (1.x-2.3), read last; NULL: none */
	enum kind kind;
	const char *text;       /* default of a TEXT or CHOICE (NULL: unset); a COMMAND's verb */
	const char *birdhouse;  /* the default under the birdhouse preset, when it differs; a
	                         * COMMAND's verb after birdhouse's wrapper */
	long num, min, max;     /* default and bounds of a number */
	int absolute;           /* a path (or a list of paths) that must start with '/' */
} keys[N_KEYS] = {
	[K_PRESET] = { OURS(PRESET), CHOICE },
	[K_COMPOSE_DIR] = { OURS(COMPOSE_DIR), TEXT, .absolute = 1 },
	/* birdhouse's own wrapper, in the compose dir, stop then up -d: its
	 * deploy.sh stops everything so that bind-mounted configs are read
	 * again (preset_commands) */
	[K_STOP_COMMAND] = { OURS(STOP_COMMAND), COMMAND, "stop", "stop" },
	[K_START_COMMAND] = { OURS(START_COMMAND), COMMAND, "up -d", "up -d" },
	/* the preset's runs the staged copy's wrapper, which reads the live
	 * env.local through BIRDHOUSE_LOCAL_ENV (run-deploy) */
	[K_PREPARE_COMMAND] = { OURS(PREPARE_COMMAND), COMMAND, "pull", "pull" },
	[K_HEALTHCHECK_COMMAND] = { OURS(HEALTHCHECK_COMMAND), TEXT },
	[K_PRE_DEPLOY_COMMAND] = { OURS(PRE_DEPLOY_COMMAND), TEXT },
	[K_NOTIFY_COMMAND] = { OURS(NOTIFY_COMMAND), TEXT },
	[K_PLATFORM_FREQUENCY] = { OURS(PLATFORM_FREQUENCY), TEXT, "7 5 * * *" },
	[K_NOTEBOOK_FREQUENCY] = { OURS(NOTEBOOK_FREQUENCY), TEXT, "@hourly" },
	[K_NOTEBOOK_DIR] = { OURS(NOTEBOOK_DIR), TEXT, .absolute = 1 },
	/* /var/log/PAVICS is also the preset's on a host before 2.4 (preset_default) */
	[K_LOG_DIR] = { "AUTODEPLOY_LOG_DIR", "BIRDHOUSE_LOG_DIR", "PAVICS_LOG_DIR", TEXT, "/var/log/PAVICS",
	                "/var/log/birdhouse", .absolute = 1 },
	[K_STATE_DIR] = { OURS(STATE_DIR), TEXT, "/var/lib/autodeploy", .absolute = 1 },
	[K_METRICS_FILE] = { OURS(METRICS_FILE), TEXT, .absolute = 1 },
	[K_SELF_UPDATE] = { OURS(SELF_UPDATE), TEXT, .absolute = 1 },
	[K_EXTRA_REPOS] = { OURS(EXTRA_REPOS), LIST, .absolute = 1 },
	[K_NOTEBOOK_SOURCES] = { OURS(NOTEBOOK_SOURCES), LIST },
	/* not aliased: birdhouse's EXTRA_SCHEDULER_JOBS are another format */
	[K_EXTRA_JOBS] = { "AUTODEPLOY_EXTRA_JOBS", NULL, NULL, LIST },
	[K_DEPLOY_KEY_ROOT_DIR] = { OURS(DEPLOY_KEY_ROOT_DIR), PATH, .absolute = 1 },
	[K_KNOWN_HOSTS] = { OURS(KNOWN_HOSTS), PATH, .absolute = 1 },
	[K_STRICT_HOST_KEY] = { OURS(STRICT_HOST_KEY), BOOL, .num = 1 },
	[K_TRACK] = { OURS(TRACK), CHOICE, "branch" },
	[K_HEALTHCHECK_TIMEOUT] = { OURS(HEALTHCHECK_TIMEOUT), SECONDS, .num = 300 },
	[K_HEALTHCHECK_INTERVAL] = { OURS(HEALTHCHECK_INTERVAL), SECONDS, .num = 5, .min = 1 },
	[K_ROLLBACK] = { OURS(ROLLBACK), BOOL, .num = 1 },
	[K_NOTIFY_TIMEOUT] = { OURS(NOTIFY_TIMEOUT), SECONDS, .num = 60 },
	[K_CODE_OWNERSHIP] = { OURS(CODE_OWNERSHIP), OWNER },
	[K_NOTEBOOK_OWNER] = { OURS(NOTEBOOK_OWNER), OWNER },
	[K_NOTEBOOK_MAX_FILES] = { OURS(NOTEBOOK_MAX_FILES), NUMBER, .num = 10000, .min = 1, .max = LONG_MAX },
	[K_NOTEBOOK_MAX_BYTES] = { OURS(NOTEBOOK_MAX_BYTES), SIZE, .num = 1L << 30 },
	/* Folders and files visited, notebooks or not: a tree that lists one
	 * folder 16 times over, 12 levels deep, holds no notebook and 16^12
	 * paths; only this bound ends its walk. */
	[K_NOTEBOOK_MAX_ENTRIES] = { OURS(NOTEBOOK_MAX_ENTRIES), NUMBER, .num = 100000, .min = 1, .max = LONG_MAX },
	[K_ROTATE_PERIOD] = { OURS(ROTATE_PERIOD), CHOICE, "weekly" },
	[K_ROTATE_WITH] = { OURS(ROTATE_WITH), CHOICE, "rotate-logs" },
	/* Keeping none would delete each rotated file as it is made: a
	 * policy that loses logs is more likely a typo than a wish. */
	[K_ROTATE_KEEP] = { OURS(ROTATE_KEEP), NUMBER, .num = 6, .min = 1, .max = LONG_MAX },
	[K_ROTATE_MINSIZE] = { OURS(ROTATE_MINSIZE), SIZE, .num = 500 * 1024 },
	[K_ROTATE_COMPRESS] = { OURS(ROTATE_COMPRESS), BOOL, .num = 1 },
	[K_ROTATE_COMPRESS_LEVEL] = { OURS(ROTATE_COMPRESS_LEVEL), NUMBER, .num = 6, .min = 1, .max = 9 },
	[K_STRATEGY] = { OURS(STRATEGY), CHOICE, "recreate", "restart" },
	[K_COMMAND_TIMEOUT] = { OURS(COMMAND_TIMEOUT), SECONDS, .num = 900 },
	/* Ours alone (birdhouse ran the trigger as root, for every checkout):
	 * whoever can push to a listed repository runs code on the host, so
	 * by default only the compose dir's, as a user with no rights; the
	 * preset keeps birdhouse's every checkout (the migration guide warns). */
	[K_TRIGGER_USER] = { "AUTODEPLOY_TRIGGER_USER", NULL, NULL, TEXT, "nobody" },
	[K_TRIGGER_REPOS] = { "AUTODEPLOY_TRIGGER_REPOS", NULL, NULL, LIST, NULL, "all" },
	[K_DEPLOY_WINDOW] = { OURS(DEPLOY_WINDOW), TEXT },
	/* ssh -F: the service may run as a user whose ~/.ssh/config is not
	 * the one the operator keeps for the deploy (e.g. /etc/autodeploy) */
	[K_SSH_CONFIG] = { OURS(SSH_CONFIG), TEXT, .absolute = 1 },
	/* Ours alone (birdhouse verified nothing).  Per checkout:
	 * AUTODEPLOY_VERIFY_CHECKOUTS="/srv/config=all /srv/data=no", for a
	 * repository that other people sign, or none. */
	[K_VERIFY] = { "AUTODEPLOY_VERIFY", NULL, NULL, CHOICE, "no" },
	[K_ALLOWED_SIGNERS] = { "AUTODEPLOY_ALLOWED_SIGNERS", NULL, NULL, TEXT, .absolute = 1 },
	[K_GPG_KEYRING] = { "AUTODEPLOY_GPG_KEYRING", NULL, NULL, TEXT, .absolute = 1 },
	[K_VERIFY_CHECKOUTS] = { "AUTODEPLOY_VERIFY_CHECKOUTS", NULL, NULL, LIST, .absolute = 1 },
	[K_NOTEBOOK_VERIFY] = { "AUTODEPLOY_NOTEBOOK_VERIFY", NULL, NULL, CHOICE, "no" },
	[K_ENGINE_HEALTH] = { OURS(ENGINE_HEALTH), BOOL, .num = 1 },
	/* AUTODEPLOY_STRATEGY=bluegreen (SPEC.md "blue/green"): the services
	 * replaced beside their running container, the proxy service that is
	 * reloaded to switch, how long the old container keeps its requests */
	[K_BLUEGREEN_SERVICES] = { OURS(BLUEGREEN_SERVICES), LIST },
	/* birdhouse's nginx service: a recreate start reloads it when it
	 * recreated a service behind it (recreate.c) */
	[K_BLUEGREEN_PROXY] = { OURS(BLUEGREEN_PROXY), TEXT, NULL, "proxy" },
	[K_BLUEGREEN_DRAIN] = { OURS(BLUEGREEN_DRAIN), SECONDS, .num = 5 },
	[K_BLUEGREEN_SWITCH_COMMAND] = { OURS(BLUEGREEN_SWITCH_COMMAND), TEXT },
};
#undef OURS

/* The name k goes by in c: the first set of ours, birdhouse's, its older
 * one; ours when none is. */
static const char *key_name(const struct cfg *c, enum key_id k)
{
	if (cfg_get(c, keys[k].name))
		return keys[k].name;
	if (keys[k].alias && cfg_get(c, keys[k].alias))
		return keys[k].alias;
	if (keys[k].old && cfg_get(c, keys[k].old))
		return keys[k].old;
	return keys[k].name;
}

const char *settings_key(const struct cfg *c, const char *key)
{
	for (size_t k = 0; k < N_KEYS; k++)
		if (strcmp(keys[k].name, key) == 0)
			return key_name(c, (enum key_id)k);
	return key;
}

/* The preset's default of k: birdhouse's, except that hosts before 2.4
 * (pavics-compose.sh) log where ours do by default, to /var/log/PAVICS. */
static const char *preset_default(const struct settings *s, enum key_id k)
{
	if (k == K_LOG_DIR && strcmp(birdhouse_wrapper(s->compose_dir), "./pavics-compose.sh") == 0)
		return keys[k].text;
	return keys[k].birdhouse;
}

/* A text key's value, else its default (the preset's, if it has one; a
 * COMMAND's is made by preset_commands). */
static const char *text(const struct settings *s, enum key_id k)
{
	const char *def = keys[k].kind == COMMAND ? NULL : keys[k].text;
	if (s->preset_birdhouse && keys[k].birdhouse && keys[k].kind != COMMAND)
		def = preset_default(s, k);
	return cfg_str(s->cfg, key_name(s->cfg, k), def);
}

static int get_bool(int *out, const struct cfg *c, enum key_id k, char *err)
{
	return value_bool(out, c, key_name(c, k), (int)keys[k].num, err);
}

static int get_size(uint64_t *out, const struct cfg *c, enum key_id k, char *err)
{
	return value_size(out, c, key_name(c, k), (uint64_t)keys[k].num, err);
}

/* A NUMBER within [min, max], or SECONDS of at least min: a health check
 * retried every 0 seconds would spin instead of waiting. */
static int get_long(long *out, const struct cfg *c, enum key_id k, char *err)
{
	const char *name = key_name(c, k);

	if (keys[k].kind == NUMBER)
		return value_long(out, c, name, keys[k].num, keys[k].min, keys[k].max, err);
	if (value_seconds(out, c, name, keys[k].num, err) < 0)
		return -1;
	if (*out < keys[k].min)
		return cfg_error(c, name, err, "'%.60s' is too short (expected at least %ld second%s)",
		                 cfg_get(c, name), keys[k].min, keys[k].min == 1 ? "" : "s");
	return 0;
}

/* Two names of one key set to different values: say which lines and
 * which is used. */
static void warn_conflicts(const struct cfg *c)
{
	for (size_t k = 0; k < N_KEYS; k++) {
		const char *used = key_name(c, (enum key_id)k), *others[2] = { keys[k].alias, keys[k].old };
		const char *a = cfg_get(c, used);
		for (size_t i = 0; a && i < 2; i++) {
			const char *b = others[i] && others[i] != used ? cfg_get(c, others[i]) : NULL;
			if (b && strcmp(a, b) != 0)
				log_warn("%s:%d: %s and %s:%d: %s differ: %s is used", cfg_name(c), cfg_line(c, used),
				         used, cfg_name(c), cfg_line(c, others[i]), others[i], used);
		}
	}
}

/*
 * A relative path would be resolved against the folder a program starts
 * in: a run from / and one from /root would take different locks and
 * deploy one checkout at the same time.  Every program refuses them, at
 * the line that sets them.
 */
static int check_absolute(const struct cfg *c, char *err)
{
	static const char ws[] = " \t\n\r\v\f";
	for (size_t k = 0; k < N_KEYS; k++) {
		const char *name = key_name(c, (enum key_id)k), *v;
		if (!keys[k].absolute || !(v = cfg_str(c, name, NULL)))
			continue;
		for (const char *p = v + strspn(v, ws); *p; p += strspn(p, ws)) {
			size_t len = strcspn(p, ws);
			if (*p != '/')
				return cfg_error(c, name, err, "'%.*s' is a relative path: write it from / "
				                 "(it would depend on the folder the program starts in)",
				                 (int)(len > 60 ? 60 : len), p);
			if (keys[k].kind != LIST)
				break;
			p += len;
		}
	}
	return 0;
}

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
	const char *dir = cfg_str(c, key_name(c, K_DEPLOY_KEY_ROOT_DIR), NULL);
	const char *kh = cfg_str(c, key_name(c, K_KNOWN_HOSTS), NULL);
	char ssh[PATH_MAX], def[PATH_MAX + 16];

	if (!dir || !kh) {
		if (ssh_dir(ssh, sizeof(ssh), err) < 0)
			return -1;
		snprintf(def, sizeof(def), "%s/known_hosts", ssh);
	}
	if (path_setting(s->deploy_key_dir, sizeof(s->deploy_key_dir), c,
	                 key_name(c, K_DEPLOY_KEY_ROOT_DIR), dir ? dir : ssh, err) < 0 ||
	    path_setting(s->known_hosts, sizeof(s->known_hosts), c,
	                 key_name(c, K_KNOWN_HOSTS), kh ? kh : def, err) < 0)
		return -1;
	return 0;
}

static int load_track(struct settings *s, const struct cfg *c, char *err)
{
	const char *v = text(s, K_TRACK);

	if (strcmp(v, "branch") == 0)
		return 0;
	if (strncmp(v, "tag:", 4) == 0 && v[4]) {
		s->track_tags = 1;
		s->tag_glob = v + 4;
		return 0;
	}
	return cfg_error(c, key_name(c, K_TRACK), err, "'%.60s' is not a track mode "
	                 "(expected branch or tag:GLOB, e.g. tag:[0-9]*.[0-9]*.[0-9]*)", v);
}

static int load_rotate(struct settings *s, const struct cfg *c, char *err)
{
	static const char *const periods[] = { "daily", "weekly", "monthly" };
	const char *v = text(s, K_ROTATE_PERIOD);
	size_t i;

	for (i = 0; i < 3 && strcmp(v, periods[i]); i++)
		;
	if (i == 3)
		return cfg_error(c, key_name(c, K_ROTATE_PERIOD), err, "'%.60s' is not a period "
		                 "(expected daily, weekly or monthly)", v);
	s->rotate_period = (enum rotate_period)i;

	v = text(s, K_ROTATE_WITH);
	if (strcmp(v, "logrotate") == 0)
		s->rotate_with_logrotate = 1;
	else if (strcmp(v, "rotate-logs") != 0)
		return cfg_error(c, key_name(c, K_ROTATE_WITH), err, "'%.60s' is not a rotation tool "
		                 "(expected rotate-logs or logrotate)", v);

	if (get_long(&s->rotate_keep, c, K_ROTATE_KEEP, err) < 0 ||
	    get_size(&s->rotate_minsize, c, K_ROTATE_MINSIZE, err) < 0 ||
	    get_bool(&s->rotate_compress, c, K_ROTATE_COMPRESS, err) < 0 ||
	    get_long(&s->rotate_compress_level, c, K_ROTATE_COMPRESS_LEVEL, err) < 0)
		return -1;
	return 0;
}

static int load_strategy(struct settings *s, const struct cfg *c, char *err)
{
	const char *v = text(s, K_STRATEGY);
	if (strcmp(v, "recreate") == 0)
		s->strategy = STRATEGY_RECREATE;
	else if (strcmp(v, "restart") == 0)
		s->strategy = STRATEGY_RESTART;
	else if (strcmp(v, "bluegreen") == 0)
		s->strategy = STRATEGY_BLUEGREEN;
	else
		return cfg_error(c, key_name(c, K_STRATEGY), err, "'%.60s' is not a strategy "
		                 "(expected recreate, restart or bluegreen)", v);
	return 0;
}

/* Under the preset, an unset stop or start command is the table's verb
 * after birdhouse's wrapper of the host's generation, chosen once, as
 * deploy.sh does before it stops anything: 2.4 and later keep the old
 * name as a shim, so a deploy from 2.3 to 2.4 still starts. */
static void preset_commands(struct settings *s)
{
	static const enum key_id ids[3] = { K_STOP_COMMAND, K_START_COMMAND, K_PREPARE_COMMAND };
	const char **cmd[3] = { &s->stop_command, &s->start_command, &s->prepare_command };

	for (int i = 0; s->preset_birdhouse && i < 3; i++) {
		if (cfg_str(s->cfg, key_name(s->cfg, ids[i]), NULL))
			continue;
		free(s->compose_commands[i]);
		s->compose_commands[i] = xasprintf("%s %s", birdhouse_wrapper(s->compose_dir), keys[ids[i]].birdhouse);
		*cmd[i] = s->compose_commands[i];
	}
}

/* Is the command of k the compose CLI's default: unset, and no preset
 * default instead? */
static int compose_default(const struct settings *s, enum key_id k)
{
	if (s->preset_birdhouse && keys[k].birdhouse)
		return 0;
	return !s->cfg || !cfg_str(s->cfg, key_name(s->cfg, k), NULL);
}

void settings_compose_cli(struct settings *s, const char *cli)
{
	static const enum key_id ids[3] = { K_STOP_COMMAND, K_START_COMMAND, K_PREPARE_COMMAND };
	const char **cmd[3] = { &s->stop_command, &s->start_command, &s->prepare_command };
	for (int i = 0; i < 3; i++) {
		if (!compose_default(s, ids[i]))
			continue;
		free(s->compose_commands[i]);
		s->compose_commands[i] = xasprintf("%s %s", cli, keys[ids[i]].text);
		*cmd[i] = s->compose_commands[i];
	}
}

/* Each extra job needs its schedule and command, and its name goes into a
 * unit name and two keys: [A-Za-z0-9_]+, listed once. */
static int check_jobs(const struct settings *s, const struct cfg *c, char *err)
{
	const char *key = keys[K_EXTRA_JOBS].name;
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

static int load_owner(unsigned *uid, unsigned *gid, int *set, const struct cfg *c, enum key_id k, char *err)
{
	return value_owner(uid, gid, set, c, key_name(c, k), err);
}

/* CODE_OWNERSHIP=uid: the group of that user's passwd entry (as
 * `chown uid:` would), kept as it is when the uid has none. */
static int load_code_owner(struct settings *s, const struct cfg *c, char *err)
{
	if (load_owner(&s->code_uid, &s->code_gid, &s->code_owner_set, c, K_CODE_OWNERSHIP, err) < 0)
		return -1;
	if (s->code_owner_set && s->code_gid == VALUE_GID_UNCHANGED) {
		struct passwd *pw = getpwuid((uid_t)s->code_uid);
		if (pw)
			s->code_gid = (unsigned)pw->pw_gid;
	}
	return 0;
}

/* AUTODEPLOY_TRIGGER_USER: a name, or a uid (its passwd group, else a
 * group of the same number); resolved now so that a typo is refused
 * before any run rather than each time a trigger comes. */
static int load_trigger_user(struct settings *s, const struct cfg *c, char *err)
{
	const char *v = text(s, K_TRIGGER_USER);
	struct passwd *pw;
	char *end;
	unsigned long uid;

	s->trigger_user = v;
	errno = 0;
	uid = strtoul(v, &end, 10);
	if (*v >= '0' && *v <= '9' && !*end) {
		/* (uid_t)-1 means "unchanged" to setuid and chown */
		if (errno || uid >= 0xffffffffUL)
			return cfg_error(c, key_name(c, K_TRIGGER_USER), err, "'%.60s' is not a uid "
			                 "(expected a user name or a uid below 4294967295)", v);
		pw = getpwuid((uid_t)uid);
		s->trigger_uid = (unsigned)uid;
		s->trigger_gid = pw ? (unsigned)pw->pw_gid : (unsigned)uid;
		return 0;
	}
	pw = getpwnam(v);
	if (!pw)
		return cfg_error(c, key_name(c, K_TRIGGER_USER), err, "user '%.60s' does not exist "
		                 "(expected a user name or uid with no rights on this host, e.g. nobody)", v);
	s->trigger_uid = (unsigned)pw->pw_uid;
	s->trigger_gid = (unsigned)pw->pw_gid;
	return 0;
}

/* Two spellings of one checkout path: "/srv/stack/" is "/srv/stack". */
static int same_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

static int is_checkout(const struct settings *s, const char *path)
{
	if (s->compose_dir && same_path(s->compose_dir, path))
		return 1;
	for (size_t i = 0; i < s->n_extra_repos; i++)
		if (same_path(s->extra_repos[i], path))
			return 1;
	return 0;
}

/* AUTODEPLOY_TRIGGER_REPOS: unset, `all`, or checkouts of this host; a
 * path that is none of them is a typo that would silently turn a
 * trigger off. */
static int load_trigger_repos(struct settings *s, const struct cfg *c, char *err)
{
	const char *name = key_name(c, K_TRIGGER_REPOS), *def = text(s, K_TRIGGER_REPOS);

	value_list(&s->trigger_repos, &s->n_trigger_repos, c, name);
	if (s->n_trigger_repos == 0 && def && strcmp(def, "all") == 0)
		s->trigger_all = 1;
	for (size_t i = 0; i < s->n_trigger_repos; i++) {
		const char *r = s->trigger_repos[i];
		if (strcmp(r, "all") == 0 && s->n_trigger_repos == 1)
			s->trigger_all = 1;
		else if (strcmp(r, "all") == 0)
			return cfg_error(c, name, err, "'all' is not alone (expected all, or checkout paths)");
		else if (!is_checkout(s, r))
			return cfg_error(c, name, err, "'%.60s' is not a checkout (expected all, or paths "
			                 "among AUTODEPLOY_COMPOSE_DIR and AUTODEPLOY_EXTRA_REPOS)", r);
	}
	return 0;
}

int settings_trigger_runs(const struct settings *s, const char *checkout)
{
	if (s->trigger_all)
		return 1;
	if (s->n_trigger_repos == 0)
		return s->compose_dir && same_path(s->compose_dir, checkout);
	for (size_t i = 0; i < s->n_trigger_repos; i++)
		if (same_path(s->trigger_repos[i], checkout))
			return 1;
	return 0;
}

/* A verify level: no, tip or all. */
static int get_level(enum verify_level *out, const struct settings *s, const struct cfg *c, enum key_id k,
                     char *err)
{
	const char *v = text(s, k);
	if (verify_parse_level(out, v) < 0)
		return cfg_error(c, key_name(c, k), err, "'%.60s' is not a verify level (expected no, tip or all)", v);
	return 0;
}

/*
 * AUTODEPLOY_VERIFY, its per-checkout entries and the notebooks' level,
 * and the keys they need: a level other than no with neither key file
 * would refuse every commit, which is a typo rather than a wish.
 */
static int load_verify(struct settings *s, const struct cfg *c, char *err)
{
	const char *name = key_name(c, K_VERIFY_CHECKOUTS);
	int any;

	s->allowed_signers = text(s, K_ALLOWED_SIGNERS);
	s->gpg_keyring = text(s, K_GPG_KEYRING);
	if (get_level(&s->verify, s, c, K_VERIFY, err) < 0 ||
	    get_level(&s->notebook_verify, s, c, K_NOTEBOOK_VERIFY, err) < 0)
		return -1;
	any = s->verify != VERIFY_NO || s->notebook_verify != VERIFY_NO;
	value_list(&s->verify_checkouts, &s->n_verify_checkouts, c, name);
	for (size_t i = 0; i < s->n_verify_checkouts; i++) {
		char *e = s->verify_checkouts[i], *eq = strrchr(e, '=');
		enum verify_level l;
		if (!eq || verify_parse_level(&l, eq + 1) < 0)
			return cfg_error(c, name, err, "'%.60s' is not PATH=LEVEL (expected e.g. /srv/config=all; "
			                 "levels no, tip, all)", e);
		*eq = '\0';
		int known = is_checkout(s, e);
		*eq = '=';
		if (!known)
			return cfg_error(c, name, err, "'%.*s' is not a checkout (expected paths among "
			                 "AUTODEPLOY_COMPOSE_DIR and AUTODEPLOY_EXTRA_REPOS)", (int)(eq - e > 60 ? 60 : eq - e), e);
		any |= l != VERIFY_NO;
	}
	if (any && !s->allowed_signers && !s->gpg_keyring)
		return cfg_error(c, key_name(c, K_VERIFY), err, "verifying needs keys: set AUTODEPLOY_ALLOWED_SIGNERS "
		                 "(SSH) or AUTODEPLOY_GPG_KEYRING (OpenPGP), or both");
	return 0;
}

enum verify_level settings_verify_level(const struct settings *s, const char *checkout)
{
	for (size_t i = s->n_verify_checkouts; i-- > 0;) {
		const char *e = s->verify_checkouts[i], *eq = strrchr(e, '=');
		char *path = xmemdupz(e, (size_t)(eq - e));
		enum verify_level l = s->verify;
		int match = same_path(path, checkout) && verify_parse_level(&l, eq + 1) == 0;
		free(path);
		if (match)
			return l;
	}
	return s->verify;
}

/* AUTODEPLOY_PRESET: empty, or birdhouse (a birdhouse-deploy host's
 * defaults: the table's birdhouse column). */
static int load_preset(struct settings *s, const struct cfg *c, char *err)
{
	const char *v = text(s, K_PRESET);
	if (!v)
		return 0;
	if (strcmp(v, "birdhouse") != 0)
		return cfg_error(c, key_name(c, K_PRESET), err, "'%.60s' is not a preset (expected birdhouse)", v);
	s->preset_birdhouse = 1;
	return 0;
}

/* The values taken as they are: strings and lists. */
static void load_texts(struct settings *s, const struct cfg *c)
{
	s->compose_dir = text(s, K_COMPOSE_DIR);
	s->stop_command = text(s, K_STOP_COMMAND);
	s->start_command = text(s, K_START_COMMAND);
	s->prepare_command = text(s, K_PREPARE_COMMAND);
	settings_compose_cli(s, "docker compose");
	preset_commands(s);
	s->healthcheck_command = text(s, K_HEALTHCHECK_COMMAND);
	s->pre_deploy_command = text(s, K_PRE_DEPLOY_COMMAND);
	s->notify_command = text(s, K_NOTIFY_COMMAND);
	s->platform_frequency = text(s, K_PLATFORM_FREQUENCY);
	s->notebook_frequency = text(s, K_NOTEBOOK_FREQUENCY);
	s->notebook_dir = text(s, K_NOTEBOOK_DIR);
	s->log_dir = text(s, K_LOG_DIR);
	s->state_dir = text(s, K_STATE_DIR);
	s->metrics_file = text(s, K_METRICS_FILE);
	s->self_update = text(s, K_SELF_UPDATE);
	s->deploy_window = text(s, K_DEPLOY_WINDOW);
	s->ssh_config = text(s, K_SSH_CONFIG);
	s->bluegreen_proxy = text(s, K_BLUEGREEN_PROXY);
	s->bluegreen_switch_command = text(s, K_BLUEGREEN_SWITCH_COMMAND);

	value_list(&s->extra_repos, &s->n_extra_repos, c, key_name(c, K_EXTRA_REPOS));
	value_list(&s->notebook_sources, &s->n_notebook_sources, c, key_name(c, K_NOTEBOOK_SOURCES));
	value_list(&s->extra_jobs, &s->n_extra_jobs, c, key_name(c, K_EXTRA_JOBS));
	value_list(&s->bluegreen_services, &s->n_bluegreen_services, c, key_name(c, K_BLUEGREEN_SERVICES));
}

/* A window that is not cron syntax would defer every deploy, or none:
 * refused when read, by every program (78). */
static int check_window(const struct settings *s, const struct cfg *c, char *err)
{
	struct cron_expr e;
	char why[ERR_MAX];
	if (s->deploy_window && cron_parse(&e, key_name(c, K_DEPLOY_WINDOW), s->deploy_window, why) < 0)
		return cfg_error(c, key_name(c, K_DEPLOY_WINDOW), err, "%s",
		                 why + strlen(key_name(c, K_DEPLOY_WINDOW)) + 2);
	return 0;
}

int settings_load(struct settings *s, const struct cfg *c, char *err)
{
	memset(s, 0, sizeof(*s));
	s->cfg = c;

	if (load_preset(s, c, err) < 0 || check_absolute(c, err) < 0)
		goto fail;
	load_texts(s, c);
	if (load_paths(s, c, err) < 0 ||
	    get_bool(&s->strict_host_key, c, K_STRICT_HOST_KEY, err) < 0 ||
	    load_track(s, c, err) < 0 ||
	    get_long(&s->healthcheck_timeout, c, K_HEALTHCHECK_TIMEOUT, err) < 0 ||
	    get_long(&s->healthcheck_interval, c, K_HEALTHCHECK_INTERVAL, err) < 0 ||
	    get_bool(&s->rollback, c, K_ROLLBACK, err) < 0 ||
	    get_bool(&s->engine_health, c, K_ENGINE_HEALTH, err) < 0 ||
	    get_long(&s->notify_timeout, c, K_NOTIFY_TIMEOUT, err) < 0 ||
	    load_code_owner(s, c, err) < 0 ||
	    load_owner(&s->notebook_uid, &s->notebook_gid, &s->notebook_owner_set, c, K_NOTEBOOK_OWNER, err) < 0 ||
	    get_long(&s->notebook_max_files, c, K_NOTEBOOK_MAX_FILES, err) < 0 ||
	    get_size(&s->notebook_max_bytes, c, K_NOTEBOOK_MAX_BYTES, err) < 0 ||
	    get_long(&s->notebook_max_entries, c, K_NOTEBOOK_MAX_ENTRIES, err) < 0 ||
	    load_rotate(s, c, err) < 0 ||
	    load_strategy(s, c, err) < 0 ||
	    get_long(&s->command_timeout, c, K_COMMAND_TIMEOUT, err) < 0 ||
	    get_long(&s->bluegreen_drain, c, K_BLUEGREEN_DRAIN, err) < 0 ||
	    check_window(s, c, err) < 0 ||
	    check_jobs(s, c, err) < 0 ||
	    load_trigger_user(s, c, err) < 0 ||
	    load_trigger_repos(s, c, err) < 0 ||
	    load_verify(s, c, err) < 0)
		goto fail;
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
	value_list_free(s->trigger_repos);
	value_list_free(s->verify_checkouts);
	value_list_free(s->bluegreen_services);
	s->extra_repos = s->notebook_sources = s->extra_jobs = s->trigger_repos = NULL;
	s->verify_checkouts = s->bluegreen_services = NULL;
	s->n_extra_repos = s->n_notebook_sources = s->n_extra_jobs = s->n_trigger_repos = 0;
	s->n_verify_checkouts = s->n_bluegreen_services = 0;
	for (int i = 0; i < 3; i++) {
		free(s->compose_commands[i]);
		s->compose_commands[i] = NULL;
	}
}
