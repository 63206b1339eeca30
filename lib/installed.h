/*
 * installed: the fingerprint of the env.local that install-units last
 * installed units from.  The units copy settings (TimeoutStartSec=,
 * ReadWritePaths=, schedules, the hook's refs); when env.local changes
 * afterwards they go stale silently, so install-units records the
 * file's SHA-256 in STATE_DIR/installed and check-drift and run-deploy
 * warn, once per run, while env.local no longer matches it.
 *
 *   installed_write(root, state_dir, config_path, err)   install-units
 *   installed_check(state_dir, config_path)              1: changed since
 *
 * No file (units never installed with this suite, or uninstalled): no
 * warning.
 */
#ifndef AUTODEPLOY_INSTALLED_H
#define AUTODEPLOY_INSTALLED_H

#define INSTALLED_FILE "installed"

/* Record config_path's fingerprint in [root]STATE_DIR/installed
 * (atomically).  -1 with err. */
int installed_write(const char *root, const char *state_dir, const char *config_path, char *err);

/* Remove the record (install-units --uninstall); a missing one is fine. */
int installed_remove(const char *root, const char *state_dir, char *err);

/* 1 when a record exists and config_path's content no longer matches it,
 * 0 otherwise (also when either cannot be read: the warning is advice). */
int installed_check(const char *state_dir, const char *config_path);

#endif
