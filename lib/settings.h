/*
 * settings: the typed view of every key autodeploy knows (SPEC.md's table),
 * with the spec's defaults, validated in one place so that every program
 * refuses the same malformed value the same way ("FILE:LINE: KEY: ...",
 * exit 78).  Keys the programs do not know are ignored.
 *
 * Strings are borrowed from the cfg (or static defaults): keep the cfg alive
 * as long as the settings.  Lists are owned and freed by settings_free.
 * AUTODEPLOY_COMPOSE_DIR is required only by the programs that deploy;
 * they check `compose_dir != NULL` themselves.
 */
#ifndef AUTODEPLOY_SETTINGS_H
#define AUTODEPLOY_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <limits.h>

#include "verify.h"

struct cfg;

enum rotate_period { PERIOD_DAILY, PERIOD_WEEKLY, PERIOD_MONTHLY };

struct settings {
	const struct cfg *cfg;
	int preset_birdhouse;           /* AUTODEPLOY_PRESET=birdhouse */

	const char *compose_dir;        /* NULL when unset */
	char **extra_repos;             /* NULL-terminated, owned */
	size_t n_extra_repos;

	char deploy_key_dir[PATH_MAX];  /* default: $HOME/.ssh of the running user */
	char known_hosts[PATH_MAX];     /* default: <that .ssh>/known_hosts */
	int strict_host_key;            /* default 1 */
	const char *ssh_config;         /* AUTODEPLOY_SSH_CONFIG (ssh -F); NULL: ssh's own */

	int track_tags;                 /* 0: branch mode; 1: tag:GLOB */
	const char *tag_glob;           /* the GLOB of tag:GLOB */

	const char *stop_command;       /* default "docker compose stop" */
	const char *start_command;      /* default "docker compose up -d" */
	const char *prepare_command;    /* default "docker compose pull" */
	char *compose_commands[3];      /* owned, after settings_compose_cli */
	enum strategy { STRATEGY_RECREATE, STRATEGY_RESTART, STRATEGY_BLUEGREEN } strategy; /* recreate;
	                                   bluegreen is recreate plus its services */
	long command_timeout;           /* 900: pre-deploy, prepare, stop, start */
	const char *healthcheck_command; /* NULL when unset */
	long healthcheck_timeout;       /* 300 */
	long healthcheck_interval;      /* 5 */
	int engine_health;              /* 1: wait for the engine's own health after a start */
	char **bluegreen_services;      /* NULL-terminated, owned */
	size_t n_bluegreen_services;
	const char *bluegreen_proxy;    /* the proxy service; NULL when unset */
	long bluegreen_drain;           /* 5 */
	const char *bluegreen_switch_command; /* NULL: nginx -s reload in the proxy */
	int rollback;                   /* 1 */
	const char *pre_deploy_command; /* NULL when unset */
	const char *notify_command;     /* NULL when unset */
	long notify_timeout;            /* 60: beyond SPEC.md, see env.local(5) */
	int code_owner_set;
	unsigned code_uid, code_gid;

	const char *platform_frequency; /* "7 5 * * *" */
	const char *notebook_frequency; /* "@hourly" */
	const char *deploy_window;      /* AUTODEPLOY_DEPLOY_WINDOW, cron syntax; NULL: always */

	char **notebook_sources;        /* NULL-terminated, owned */
	size_t n_notebook_sources;
	const char *notebook_dir;       /* NULL when unset */
	int notebook_owner_set;
	unsigned notebook_uid, notebook_gid;
	long notebook_max_files;        /* 10000 */
	uint64_t notebook_max_bytes;    /* 1G */
	long notebook_max_entries;      /* 100000: folders and files visited */

	const char *log_dir;            /* "/var/log/PAVICS" */
	const char *state_dir;          /* "/var/lib/autodeploy" */
	const char *metrics_file;       /* NULL when unset */

	long rotate_keep;               /* 6 */
	enum rotate_period rotate_period; /* weekly */
	uint64_t rotate_minsize;        /* 500k */
	int rotate_compress;            /* 1 */
	long rotate_compress_level;     /* 6, 1..9 */
	int rotate_with_logrotate;      /* AUTODEPLOY_ROTATE_WITH=logrotate */

	char **extra_jobs;              /* NULL-terminated, owned */
	size_t n_extra_jobs;
	const char *self_update;        /* NULL when unset */

	const char *trigger_user;       /* "nobody": who runs conditional triggers */
	unsigned trigger_uid, trigger_gid; /* resolved at load (getpwnam) */
	int trigger_all;                /* AUTODEPLOY_TRIGGER_REPOS=all (birdhouse preset) */
	char **trigger_repos;           /* NULL-terminated, owned; empty: the compose dir */
	size_t n_trigger_repos;

	enum verify_level verify;       /* AUTODEPLOY_VERIFY: no */
	const char *allowed_signers;    /* NULL when unset */
	const char *gpg_keyring;        /* NULL when unset */
	char **verify_checkouts;        /* NULL-terminated "PATH=LEVEL", owned, checked */
	size_t n_verify_checkouts;
	enum verify_level notebook_verify; /* AUTODEPLOY_NOTEBOOK_VERIFY: no */
};

/* Fill s from c; on a malformed value returns -1 with "FILE:LINE: KEY: ...". */
int settings_load(struct settings *s, const struct cfg *c, char *err);
void settings_free(struct settings *s);

/* May the conditional trigger of checkout (a path as configured) run:
 * AUTODEPLOY_TRIGGER_REPOS lists it, says all, or is unset and checkout is
 * the compose dir. */
int settings_trigger_runs(const struct settings *s, const char *checkout);

/* How much of what checkout (a path as configured) brings must be signed:
 * its AUTODEPLOY_VERIFY_CHECKOUTS entry, else AUTODEPLOY_VERIFY. */
enum verify_level settings_verify_level(const struct settings *s, const char *checkout);

/* The name one of our keys goes by in c ("AUTODEPLOY_NOTEBOOK_SOURCES"):
 * birdhouse-deploy's alias (BIRDHOUSE_AUTODEPLOY_NOTEBOOK_SOURCES) when
 * only that is set, else key itself; for messages about a value that
 * settings handed out. */
const char *settings_key(const struct cfg *c, const char *key);

/* The default stop/start/prepare commands use `cli` ("docker compose" or
 * "docker-compose") instead of "docker compose"; commands the operator
 * set are left alone. */
void settings_compose_cli(struct settings *s, const char *cli);

#endif
