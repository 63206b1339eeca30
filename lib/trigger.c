/* trigger: the conditional trigger of a new tree.  See trigger.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drift.h"
#include "log.h"
#include "proc.h"
#include "repo.h"
#include "settings.h"
#include "strbuf.h"
#include "trigger.h"
#include "util.h"

#define TRIGGER_TIMEOUT 300
#define TRIGGER_LOG_MAX 16384

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U   /* linux/memfd.h, Linux 6.3 */
#endif

static char *join_lines(char **v, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t k = 0; k < n; k++) {
		if (k)
			strbuf_addch(&sb, '\n');
		strbuf_addstr(&sb, v[k]);
	}
	return strbuf_detach(&sb, NULL);
}

/* What the trigger printed (stdout and stderr, at most TRIGGER_LOG_MAX
 * bytes), into the log line by line: upstream's went to its log, and on
 * our stdout it would break --json. */
static void log_output(const struct drift *d, int fd)
{
	char buf[TRIGGER_LOG_MAX + 1];
	ssize_t k = pread(fd, buf, TRIGGER_LOG_MAX, 0);
	if (k <= 0)
		return;
	buf[k] = '\0';
	for (char *line = buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		log_info("'%s': %s: %s", d->path, TRIGGER_PATH, line);
	}
}

/*
 * The script, as the trigger user will read it: a sealed memfd.  That user
 * may not be able to read the checkout (a root-owned 0700 folder) nor the
 * state folder, and a file we would write for it elsewhere could be
 * swapped or left behind; a descriptor of ours it can only read.  The
 * child keeps it open at its number and runs /proc/self/fd/N: the kernel
 * finds the shebang there and hands the interpreter that same path, which
 * it can open since the descriptor is its own; without a shebang it goes
 * to /bin/sh as a file, not as stdin (stdin is /dev/null: a trigger that
 * reads input must not eat its own text).  Mode 0555 and the seals: the
 * trigger cannot rewrite itself for the next run.
 */
static int script_fd(const char *script, size_t len, char *err)
{
	/* MFD_EXEC: a script with a shebang is executed from it, which
	 * vm.memfd_noexec=1 (Linux 6.3) forbids unless asked; older kernels
	 * know no such flag (EINVAL) and allow it anyway */
	int fd = memfd_create("conditional-trigger", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("conditional-trigger", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return err_set(err, "memfd_create: %s", strerror(errno));
	if (util_write_all(fd, script, len) < 0 || fchmod(fd, 0555) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		err_set(err, "cannot prepare the script: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Who runs it: AUTODEPLOY_TRIGGER_USER, which only root can become.  Not
 * root and already that user (a developer's run, a test) needs no switch;
 * not root and someone else cannot honour the setting, so it refuses
 * rather than run the trigger with our rights.
 */
static int trigger_user(struct proc_opts *po, const struct settings *s, char *err)
{
	if (geteuid() == 0) {
		po->drop_privs = 1;
		po->uid = (uid_t)s->trigger_uid;
		po->gid = (gid_t)s->trigger_gid;
		return 0;
	}
	if (getuid() == (uid_t)s->trigger_uid && geteuid() == (uid_t)s->trigger_uid)
		return 0;
	return err_set(err, "only root can run it as %s '%s' (uid %u); set "
	               "AUTODEPLOY_TRIGGER_USER=%u to run it as the user running this",
	               settings_key(s->cfg, "AUTODEPLOY_TRIGGER_USER"), s->trigger_user,
	               s->trigger_uid, (unsigned)getuid());
}

/*
 * Run the trigger as AUTODEPLOY_TRIGGER_USER: as a program when it starts
 * with "#!", else through /bin/sh (upstream's sample has no shebang),
 * whatever its mode.  It gets only the script (above), stdin /dev/null,
 * its output into a memfd of ours; cwd "/" (the checkout may be closed to
 * it); the environment: PATH from ours, HOME=/, LC_ALL=C and what it is
 * told about the change.
 */
static int run_trigger(int *status, const char *script, size_t len, const struct drift *d,
                       const char *status_list, const char *paths, const struct drift_opts *o, char *err)
{
	char *env_changed = xasprintf("GIT_CHANGED_FILES=%s", status_list);
	char *env_paths = xasprintf("AUTODEPLOY_CHANGED_PATHS=%s", paths);
	char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];
	char *env_old = xasprintf("AUTODEPLOY_OLD_COMMIT=%s", git_oid_tostr(old_hex, sizeof old_hex, &d->local));
	char *env_new = xasprintf("AUTODEPLOY_NEW_COMMIT=%s", git_oid_tostr(new_hex, sizeof new_hex, &d->target));
	const char *env[] = { env_changed, env_paths, env_old, env_new, "HOME=/", "LC_ALL=C", NULL };
	char self[32];
	const char *direct[] = { self, NULL }, *through_sh[] = { "/bin/sh", self, NULL };
	int fd = -1, out = memfd_create("trigger-output", MFD_CLOEXEC), ret = -1;
	struct proc_opts po = { .cwd = "/", .env = env, .clear_env = 1, .timeout = TRIGGER_TIMEOUT,
	                        .null_stdin = 1, .stdout_fd = out, .stderr_fd = 1, .close_fds = 1 };

	if (out < 0) {
		err_set(err, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if (trigger_user(&po, o->settings, err) < 0 || (fd = script_fd(script, len, err)) < 0)
		goto out;
	po.keep_fd = fd;
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	ret = proc_run(status, len >= 2 && script[0] == '#' && script[1] == '!' ? direct : through_sh, &po, err);
	log_output(d, out);
out:
	if (fd >= 0)
		close(fd);
	if (out >= 0)
		close(out);
	free(env_changed);
	free(env_paths);
	free(env_old);
	free(env_new);
	return ret;
}

/* The trigger of the new tree: <subdir>/autodeploy/conditional-trigger
 * where the configured folder is <subdir> of its work tree (upstream
 * looks it up relative to the configured dir), then at the top. */
static int read_trigger(char **script, size_t *len, char **where, git_repository *r,
                        const struct drift *d, char *err)
{
	char *sub = repo_subdir(r, d->path);
	int rc = 0;
	*where = NULL;
	if (*sub) {
		*where = xasprintf("%s/%s", sub, TRIGGER_PATH);
		rc = repo_read_file(script, len, r, &d->target, *where, err);
		if (rc == 0) {
			free(*where);
			*where = NULL;
		}
	}
	if (rc == 0) {
		*where = xstrdup(TRIGGER_PATH);
		rc = repo_read_file(script, len, r, &d->target, TRIGGER_PATH, err);
	}
	free(sub);
	return rc;
}

/* Serial: one trigger at a time, its output in the log in one piece.  A
 * checkout that AUTODEPLOY_TRIGGER_REPOS leaves out still has its trigger
 * looked up, so that the reason says it was not run (a birdhouse host
 * would otherwise lose its triggers without a word). */
void trigger_apply(struct drift *d, size_t n, const struct drift_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		git_repository *r = NULL;
		char err[ERR_MAX];
		char *script = NULL, *changed = NULL, *statuses = NULL, *where = NULL;
		char **paths = NULL, **status_list = NULL;
		size_t len = 0, npaths = 0, nstatus = 0;
		int status, rc;

		if (d[i].decision != DRIFT_DEPLOY)
			continue;
		if (o->no_triggers) {
			size_t l = strlen(d[i].reason);
			snprintf(d[i].reason + l, sizeof d[i].reason - l,
			         "; a conditional trigger, if any, was not run (%s)", o->fetch ? "--dry-run" : "--no-fetch");
			continue;
		}
		if (repo_open(&r, d[i].path, err) < 0) {
			drift_set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			continue;
		}
		rc = read_trigger(&script, &len, &where, r, &d[i], err);
		if (rc <= 0) {
			if (rc < 0)
				drift_set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			goto next;
		}
		if (!settings_trigger_runs(o->settings, d[i].path)) {
			size_t l = strlen(d[i].reason);
			snprintf(d[i].reason + l, sizeof d[i].reason - l, "; %s not run (%s does not list "
			         "this checkout)", where, settings_key(o->settings->cfg, "AUTODEPLOY_TRIGGER_REPOS"));
			goto next;
		}
		if (repo_changed_paths(&paths, &npaths, r, &d[i].local, &d[i].target, err) < 0 ||
		    repo_changed_status(&status_list, &nstatus, r, &d[i].local, &d[i].target, err) < 0) {
			drift_set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			goto next;
		}
		changed = join_lines(paths, npaths);
		statuses = join_lines(status_list, nstatus);
		/* what birdhouse's triggerdeploy.sh traced (set -x) before its
		 * trigger ran: the log reads as it did, renames as R100 */
		for (size_t k = 0; k < nstatus; k++)
			log_info("'%s': GIT_CHANGED_FILES: %s", d[i].path, status_list[k]);
		if (run_trigger(&status, script, len, &d[i], statuses, changed, o, err) < 0) {
			log_warn("'%s': cannot run %s: %s; treating it as 'no deploy'", d[i].path, where, err);
			status = -1;
		}
		size_t l = strlen(d[i].reason);
		if (status != 0)
			snprintf(d[i].reason + l, sizeof d[i].reason - l,
			         "; %s exited %d: pull only, no restart", where, status);
		else
			snprintf(d[i].reason + l, sizeof d[i].reason - l, "; %s said deploy", where);
		if (status != 0)
			d[i].decision = DRIFT_PULL_ONLY;
next:
		repo_paths_free(paths);
		repo_paths_free(status_list);
		free(changed);
		free(statuses);
		free(script);
		free(where);
		git_repository_free(r);
	}
}

