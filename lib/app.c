#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cfg.h"
#include "cli.h"
#include "lock.h"
#include "log.h"
#include "util.h"

void app_init(struct app *a)
{
	memset(a, 0, sizeof *a);
	a->lockfd = -1;
}

int app_begin(struct app *a, const char *log_file)
{
	char err[ERR_MAX];

	if (cfg_load(&a->cfg, cfg_default_path(cli.config), err) < 0 ||
	    settings_load(&a->s, a->cfg, err) < 0) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	a->have_settings = 1;
	if (log_file && log_open_file(a->s.log_dir, log_file, err) < 0)
		log_warn("%s; logging to stderr only", err);
	log_start();
	a->started = 1;
	return EXIT_OK;
}

int app_lock(struct app *a, const char *name, long wait_seconds)
{
	char err[ERR_MAX];
	char *path;
	int rc;

	if (wait_seconds < 0) {
		log_error("--wait: %ld is not a number of seconds", wait_seconds);
		return EXIT_USAGE;
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
