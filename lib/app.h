/*
 * app: the beginning and end every program shares (SPEC.md "Common
 * behaviour"): read env.local and the settings (exit 78 on an error that
 * names file and line), open the program's log file and write the start
 * line; take a lock in the state folder (75 when busy, 74 on an I/O error);
 * at the end write the end line, release the lock and free it all.
 *
 *   struct app a;
 *   app_init(&a);
 *   if (cli_parse(...) < 0) return code;
 *   if ((code = app_begin(&a, "autodeploy.log")) != EXIT_OK) goto out;
 *   if ((code = app_lock(&a, "lock", opt_wait)) != EXIT_OK) goto out;
 *   ... a.s (settings), a.cfg ...
 * out:
 *   return app_end(&a, code);
 *
 * A program that must check its options against the settings before it
 * writes anything (install-units' --only: a bad one is a usage error that
 * leaves no log behind) calls app_load first, then app_begin.
 */
#ifndef AUTODEPLOY_APP_H
#define AUTODEPLOY_APP_H

#include "settings.h"

struct cfg;

struct app {
	struct cfg *cfg;
	struct settings s;
	int have_settings;
	int started;      /* the start line was written: the end line is due */
	int lockfd;
	const char *root;  /* set before app_begin: the log folder is taken
	                      under it (install-units --root); NULL: "/" */
};

void app_init(struct app *a);

/* Load the config named by --config / $AUTODEPLOY_CONFIG and its settings
 * (once: a second call does nothing).  Returns EXIT_OK or EXIT_CONFIG,
 * after logging why. */
int app_load(struct app *a);

/* app_load, then open LOG_DIR/log_file (NULL: stderr only) and log the
 * start line.  Returns EXIT_OK or the exit code, after logging why. */
int app_begin(struct app *a, const char *log_file);

/* Take STATE_DIR/name, waiting up to wait_seconds (from --wait), once
 * STATE_DIR is known to be a real folder that only we (or root) own and
 * write (LOCK_NO_WAIT: a program without --wait).  Returns EXIT_OK,
 * EXIT_USAGE (negative wait), EXIT_CONFIG (an
 * untrusted STATE_DIR, saying what to fix), EXIT_BUSY or EXIT_IOERR. */
int app_lock(struct app *a, const char *name, long wait_seconds);

/* Warn (once: call it once per run) when env.local changed since
 * install-units made the units from it (installed.h). */
void app_warn_stale_units(const struct app *a);

/* check-drift and run-deploy need AUTODEPLOY_COMPOSE_DIR: EXIT_OK, or
 * EXIT_CONFIG after saying what to set. */
int app_need_compose_dir(struct app *a);

/* Log the end line (when the start line was written), release the lock,
 * free the settings, config and common options; returns code. */
int app_end(struct app *a, int code);

#endif
