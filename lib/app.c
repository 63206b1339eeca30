#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "cfg.h"
#include "cli.h"
#include "installed.h"
#include "lock.h"
#include "log.h"
#include "util.h"

void app_init(struct app *a)
{
	memset(a, 0, sizeof *a);
	a->lockfd = -1;
}

/*
 * The lock, the journal and the trigger live in STATE_DIR, the logs in
 * LOG_DIR: a folder that someone else can replace or write would let them
 * plant a symlink or a hard link and have root create or append to files
 * elsewhere.  It must be a real folder, ours (or root's), written by
 * nobody else.  A missing one is created (0755).
 */
static int dir_trusted(const char *key, const char *dir, char *err)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : err_set(err, "cannot check '%s': %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return err_set(err, "AUTODEPLOY_%s '%s' is a symbolic link: make it a real folder "
		               "(or point AUTODEPLOY_%s at the link's target)", key, dir, key);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, "AUTODEPLOY_%s '%s' is not a folder", key, dir);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return err_set(err, "AUTODEPLOY_%s '%s' belongs to uid %u: give it to uid %u "
		               "(chown %u '%s')", key, dir, (unsigned)st.st_uid, (unsigned)geteuid(),
		               (unsigned)geteuid(), dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(err, "AUTODEPLOY_%s '%s' can be written by others (mode %04o): "
		               "chmod go-w '%s'", key, dir, (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

int app_load(struct app *a)
{
	char err[ERR_MAX];

	if (a->have_settings)
		return EXIT_OK;
	if (cfg_load(&a->cfg, cfg_default_path(cli.config), err) < 0 ||
	    settings_load(&a->s, a->cfg, err) < 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	a->have_settings = 1;
	return EXIT_OK;
}

int app_begin(struct app *a, const char *log_file)
{
	char err[ERR_MAX];
	int code = app_load(a);

	if (code != EXIT_OK)
		return code;
	if (log_file) {
		char *dir = xasprintf("%s%s", a->root ? a->root : "", a->s.log_dir);
		if (dir_trusted("LOG_DIR", dir, err) < 0) {
			log_error("%s", err);
			free(dir);
			return EXIT_CONFIG;
		}
		if (log_open_file(dir, log_file, err) < 0)
			log_warn("%s; logging to stderr only", err);
		free(dir);
	}
	log_start();
	a->started = 1;
	return EXIT_OK;
}

int app_lock(struct app *a, const char *name, long wait_seconds)
{
	char err[ERR_MAX];
	char *path;
	int rc;

	if (wait_seconds < 0 && wait_seconds != LOCK_NO_WAIT) {
		log_error("--wait: %ld is not a number of seconds", wait_seconds);
		return EXIT_USAGE;
	}
	if (dir_trusted("STATE_DIR", a->s.state_dir, err) < 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	path = xasprintf("%s/%s", a->s.state_dir, name);
	rc = lock_take(&a->lockfd, path, wait_seconds, err);
	free(path);
	if (rc == 0)
		return EXIT_OK;
	a->lockfd = -1;
	log_error("%s", err);
	return rc == LOCK_BUSY ? EXIT_BUSY : EXIT_IOERR;
}

void app_warn_stale_units(const struct app *a)
{
	const char *config = cfg_default_path(cli.config);
	if (installed_check(a->s.state_dir, config)) {
		/* The advice names the file absolutely: it is read in a
		 * journal or a mail, far from the folder this run started in. */
		char *abs = realpath(config, NULL);
		log_warn("'%s' has changed since install-units last made the units from it: they may "
		         "hold stale settings (timeouts, writable paths, schedules, the hook's refs); "
		         "run 'install-units --config %s' (and '--hook BARE' for a hooked repository)",
		         config, abs ? abs : config);
		free(abs);
	}
}

int app_need_compose_dir(struct app *a)
{
	if (a->s.compose_dir)
		return EXIT_OK;
	log_error("%s: AUTODEPLOY_COMPOSE_DIR is not set: set it to the checkout that holds the compose file",
	          cfg_name(a->cfg));
	return EXIT_CONFIG;
}

int app_end(struct app *a, int code)
{
	if (a->started)
		log_end(code);
	if (a->lockfd >= 0)
		lock_release(a->lockfd);
	if (a->have_settings)
		settings_free(&a->s);
	cfg_free(a->cfg);
	cli_free();
	log_close();
	app_init(a);
	return code;
}
