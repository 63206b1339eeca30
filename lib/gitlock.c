/* gitlock: remove the stale lock files of a git folder.  See gitlock.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gitlock.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"

struct locks {
	char **v;
	size_t n, cap;
};

static int ends_with_lock(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".lock") == 0;
}

/*
 * Collect the lock files below `dir`.  objects/ is skipped (no lock of
 * ours lives there, and it is by far the largest part), and so is
 * worktrees/ (the other work trees' own index and HEAD are theirs).
 */
static void find_locks(struct locks *l, const char *dir, int top)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (top && (strcmp(de->d_name, "objects") == 0 || strcmp(de->d_name, "worktrees") == 0))
			continue;
		char *full = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			find_locks(l, full, 0);
			free(full);
		} else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && ends_with_lock(de->d_name)) {
			ARRAY_GROW(l->v, l->n, l->cap);
			l->v[l->n++] = full;
		} else {
			free(full);
		}
	}
	closedir(d);
}

/* Is `path` open in any process?  Every /proc/PID/fd is read (we run as
 * root, or as the user who owns the checkouts); asked only when a lock
 * exists, which is rare. */
static int held_open(const char *path)
{
	DIR *proc = opendir("/proc");
	struct dirent *p;
	int held = 0;
	if (!proc)
		return 1;   /* cannot tell: keep the lock */
	while (!held && (p = readdir(proc))) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		char *fddir = xasprintf("/proc/%s/fd", p->d_name);
		DIR *fds = opendir(fddir);
		struct dirent *f;
		while (fds && !held && (f = readdir(fds))) {
			char link[PATH_MAX + 1], *fd = xasprintf("%s/%s", fddir, f->d_name);
			ssize_t k = readlink(fd, link, sizeof link - 1);
			free(fd);
			if (k > 0) {
				link[k] = '\0';
				held = strcmp(link, path) == 0;
			}
		}
		if (fds)
			closedir(fds);
		free(fddir);
	}
	closedir(proc);
	return held;
}

static void clear_in(struct locks *l, const char *gitdir)
{
	char *real = realpath(gitdir, NULL);
	if (real)
		find_locks(l, real, 1);
	free(real);
}

int gitlock_clear(git_repository *r, long min_age, char *err)
{
	struct locks l = { 0 };
	int removed = 0, ret = 0;
	time_t now = time(NULL);

	clear_in(&l, git_repository_path(r));
	if (strcmp(git_repository_commondir(r), git_repository_path(r)) != 0)
		clear_in(&l, git_repository_commondir(r));
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;
		if (ret < 0 || lstat(l.v[i], &st) < 0 || now - st.st_mtime < min_age || held_open(l.v[i]))
			continue;
		if (unlink(l.v[i]) < 0 && errno != ENOENT) {
			ret = err_set(err, "cannot remove the stale lock '%s': %s", l.v[i], strerror(errno));
			continue;
		}
		log_warn("removed the stale lock '%s' (left by a killed git or deploy: no process holds it)", l.v[i]);
		removed++;
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return ret < 0 ? -1 : removed;
}
