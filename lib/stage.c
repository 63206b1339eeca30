/* stage: write a settled publish_set beside the destination and swap it
 * in.  See stage.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish.h"
#include "repo.h"
#include "stage.h"
#include "strbuf.h"
#include "util.h"

static int write_file(const char *full, const struct publish_file *f,
                      const struct util_owner *owner, char *err)
{
	git_blob *b = NULL;
	int fd = -1, ret = -1;

	if (git_blob_lookup(&b, f->repo, &f->blob) < 0)
		return repo_git_err(err, "cannot read the blob of '%s'", f->path);
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || util_write_all(fd, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b)) < 0 ||
	    (owner->set && fchown(fd, owner->uid, owner->gid) < 0) ||
	    fchmod(fd, 0444) < 0 || fsync(fd) < 0) {
		err_set(err, "cannot write '%s': %s", full, strerror(errno));
		goto out;
	}
	ret = close(fd);
	fd = -1;
	if (ret < 0)
		err_set(err, "cannot write '%s': %s", full, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	git_blob_free(b);
	return ret;
}

struct dirs {
	char **v;
	size_t n, cap;
};

/* Create the folders above rel inside staging, remembering the new ones. */
static int make_parents(struct dirs *dirs, const char *staging, const char *rel, char *err)
{
	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		char *full = xasprintf("%s/%.*s", staging, (int)(s - rel), rel);
		if (mkdir(full, 0700) < 0) {
			if (errno != EEXIST) {
				err_set(err, "cannot create '%s': %s", full, strerror(errno));
				free(full);
				return -1;
			}
			free(full);
			continue;
		}
		ARRAY_GROW(dirs->v, dirs->n, dirs->cap);
		dirs->v[dirs->n++] = full;
	}
	return 0;
}

/* Folders become read-only once their files are in, and are synced so
 * that the swap never publishes entries that a crash could lose. */
static int seal_dir(const char *path, const struct util_owner *owner, char *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ret = 0;
	if (fd < 0 || (owner->set && fchown(fd, owner->uid, owner->gid) < 0) ||
	    fchmod(fd, 0555) < 0 || fsync(fd) < 0)
		ret = err_set(err, "cannot finish folder '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* A run killed while staging leaves its folder behind; we hold the lock,
 * so every staging folder of this destination is a leftover. */
static int remove_stale(const char *parent, const char *prefix, char *err)
{
	DIR *d = opendir(parent);
	struct dirent *e;
	size_t plen = strlen(prefix);
	int ret = 0;

	if (!d)
		return err_set(err, "cannot read '%s': %s", parent, strerror(errno));
	while (ret == 0 && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		char *p = xasprintf("%s/%s", parent, e->d_name);
		ret = util_remove_tree(p, err);
		free(p);
	}
	closedir(d);
	return ret;
}

/* dest without its trailing slashes (in place), split into the folder
 * above it and its own name. */
static void split_dest(char **parent, char **base, char *d)
{
	size_t len = strlen(d);
	char *slash;

	while (len > 1 && d[len - 1] == '/')
		d[--len] = '\0';
	slash = strrchr(d, '/');
	if (!slash) {
		*parent = xstrdup(".");
		*base = xstrdup(d);
	} else {
		*parent = slash == d ? xstrdup("/") : xasprintf("%.*s", (int)(slash - d), d);
		*base = xstrdup(slash + 1);
	}
}

/* 1: d is a folder, to be swapped with the new set; 0: it does not exist
 * yet; -1: something else is there, or we cannot tell. */
static int dest_exists(const char *d, char *err)
{
	struct stat st;

	if (lstat(d, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return err_set(err, "'%s' is not a folder%s", d, S_ISLNK(st.st_mode) ?
			               " but a symbolic link: set AUTODEPLOY_NOTEBOOK_DIR to the folder it points at" : "");
		return 1;
	}
	if (errno == ENOENT)
		return 0;
	return err_set(err, "cannot look at '%s': %s", d, strerror(errno));
}

/* Every file of set into staging, then every folder sealed, the deepest
 * first and staging itself last. */
static int fill_staging(struct dirs *dirs, const char *staging, const struct publish_set *set,
                        const struct util_owner *owner, char *err)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct publish_file *f = &set->files[i];
		char *full = xasprintf("%s/%s", staging, f->path);
		int rc = make_parents(dirs, staging, f->path, err);
		if (rc == 0)
			rc = write_file(full, f, owner, err);
		free(full);
		if (rc < 0)
			return -1;
	}
	for (size_t i = dirs->n; i-- > 0;)
		if (seal_dir(dirs->v[i], owner, err) < 0)
			return -1;
	return seal_dir(staging, owner, err);
}

int stage_write(const struct publish_set *set, const char *dest,
                  const struct util_owner *owner, char *err)
{
	char *d = xstrdup(dest), *parent, *base, *prefix = NULL, *staging = NULL;
	struct dirs dirs = { 0 };
	int ret = -1, exists;

	split_dest(&parent, &base, d);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		err_set(err, "'%s' cannot be a notebook folder: name the folder itself", dest);
		goto out;
	}
	if ((exists = dest_exists(d, err)) < 0)
		goto out;
	if (util_mkdir_p(parent, 0755, err) < 0)
		goto out;
	prefix = xasprintf(".%s.staging.", base);
	if (remove_stale(parent, prefix, err) < 0)
		goto out;
	staging = xasprintf("%s/%sXXXXXX", strcmp(parent, "/") ? parent : "", prefix);
	if (!mkdtemp(staging)) {
		err_set(err, "cannot create a staging folder beside '%s': %s", d, strerror(errno));
		free(staging);
		staging = NULL;
		goto out;
	}

	if (fill_staging(&dirs, staging, set, owner, err) < 0)
		goto out;

	/* The one step readers can see: the old set or the new, never a mix. */
	if (exists ? renameat2(AT_FDCWD, staging, AT_FDCWD, d, RENAME_EXCHANGE) < 0
	           : rename(staging, d) < 0) {
		err_set(err, "cannot swap '%s' into '%s': %s%s", staging, d, strerror(errno),
		        errno == EINVAL ? " (the file system must support renameat2 RENAME_EXCHANGE)" : "");
		goto out;
	}
	ret = 0;
	if (!exists) {
		free(staging);
		staging = NULL;
	}
	if (util_fsync_dir(AT_FDCWD, parent, err) < 0)
		ret = 1;
	/* after the swap the staging name holds the old set */
	if (staging && util_remove_tree(staging, err) < 0) {
		ret = 1;
	} else if (staging) {
		free(staging);
		staging = NULL;
	}
out:
	if (ret < 0 && staging) {
		char ignored[ERR_MAX];
		util_remove_tree(staging, ignored);
	}
	free(staging);
	for (size_t i = 0; i < dirs.n; i++)
		free(dirs.v[i]);
	free(dirs.v);
	free(prefix);
	free(parent);
	free(base);
	free(d);
	return ret;
}

/* Does the file at full hold exactly the blob's bytes? */
static int same_content(const char *full, const struct publish_file *f)
{
	git_blob *b = NULL;
	char *data = NULL;
	size_t len = 0;
	char ignored[ERR_MAX];
	int same = 0;

	if (util_read_file(&data, &len, full, ignored) == 0 && git_blob_lookup(&b, f->repo, &f->blob) == 0)
		same = (uint64_t)len == (uint64_t)git_blob_rawsize(b) &&
		       memcmp(data, git_blob_rawcontent(b), len) == 0;
	git_blob_free(b);
	free(data);
	return same;
}

/* Call on_change("removed") for each file below dest/rel not in set. */
static int diff_removed(const struct publish_set *set, const char *dest, char *rel, size_t len,
                        stage_change_fn *on_change, void *ctx, char *err)
{
	char *dir = xasprintf("%s/%s", dest, rel);
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		ret = err_set(err, "cannot read '%s': %s", dir, strerror(errno));
		free(dir);
		return ret;
	}
	while (ret == 0 && (e = readdir(d)) != NULL) {
		struct stat st;
		size_t nlen = strlen(e->d_name), at = len ? len + 1 : 0;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (at + nlen >= PATH_MAX)
			continue;
		if (len)
			rel[len] = '/';
		memcpy(rel + at, e->d_name, nlen + 1);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			ret = err_set(err, "cannot look at '%s/%s': %s", dest, rel, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = diff_removed(set, dest, rel, at + nlen, on_change, ctx, err);
		else if (publish_find(set, rel, at + nlen) < 0)
			on_change("removed", rel, ctx);
		rel[len] = '\0';
	}
	closedir(d);
	free(dir);
	return ret;
}

int stage_diff(const struct publish_set *set, const char *dest,
                 stage_change_fn *on_change, void *ctx, char *err)
{
	struct stat st;
	char *rel;
	int ret;

	for (size_t i = 0; i < set->n; i++) {
		const struct publish_file *f = &set->files[i];
		char *full = xasprintf("%s/%s", dest, f->path);
		if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode))
			on_change("added", f->path, ctx);
		else if (!same_content(full, f))
			on_change("changed", f->path, ctx);
		free(full);
	}
	if (lstat(dest, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	rel = xcalloc(PATH_MAX, 1);
	ret = diff_removed(set, dest, rel, 0, on_change, ctx, err);
	free(rel);
	return ret;
}
