#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkout.h"
#include "journal.h"
#include "repo.h"
#include "util.h"
#include "value.h"

struct co_ctx {
	const char *workdir;            /* with its trailing '/' */
	const struct util_owner *own;
	long kill_after;                /* test only: die after this many files */
	int failed;                     /* errno of the first chown that failed */
	char failed_path[512];
	char conflict[512];             /* the first local file that would be overwritten */
};

/* Remember the first conflicting path, so the refusal can name it. */
static int note_conflict(git_checkout_notify_t why, const char *path, const git_diff_file *baseline,
                         const git_diff_file *target, const git_diff_file *workdir, void *payload)
{
	struct co_ctx *c = payload;
	(void)baseline;
	(void)target;
	(void)workdir;
	if (why == GIT_CHECKOUT_NOTIFY_CONFLICT && path && !c->conflict[0])
		snprintf(c->conflict, sizeof c->conflict, "%s", path);
	return 0;
}

/* Called by libgit2 for every file it writes: only the test-only kill
 * point lives here (ownership is given to the whole tree afterwards).
 * Once only: a SIGTERM lets the checkout run on to its end, as it would
 * for a real one (the run then sees the signal and rolls back). */
static void progress(const char *path, size_t done, size_t total, void *payload)
{
	struct co_ctx *c = payload;
	(void)path;
	(void)total;
	if (c->kill_after > 0 && done >= (size_t)c->kill_after) {
		c->kill_after = 0;
		util_test_kill();
	}
}

/*
 * AUTODEPLOY_CODE_OWNERSHIP applies to the whole checkout after a move,
 * .git included, as birdhouse's `chown -R` did: a checkout run as root
 * must leave files the operator and the stack's user can use, including
 * those libgit2 did not rewrite.  Symlinks are not followed.
 */
static struct co_ctx *walk_ctx;   /* nftw has no payload; main thread only */

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)type;
	(void)f;
	if ((st->st_uid == walk_ctx->own->uid &&
	     (walk_ctx->own->gid == VALUE_GID_UNCHANGED || st->st_gid == walk_ctx->own->gid)))
		return 0;
	if (lchown(path, walk_ctx->own->uid, walk_ctx->own->gid) < 0 && errno != ENOENT && !walk_ctx->failed) {
		walk_ctx->failed = errno;
		snprintf(walk_ctx->failed_path, sizeof walk_ctx->failed_path, "%s", path);
	}
	return 0;
}

static void chown_tree(struct co_ctx *c)
{
	if (!c->own || !c->own->set)
		return;
	walk_ctx = c;
	if (nftw(c->workdir, chown_entry, 32, FTW_PHYS) < 0 && !c->failed) {
		c->failed = errno;
		snprintf(c->failed_path, sizeof c->failed_path, "%s", c->workdir);
	}
	walk_ctx = NULL;
}

static void co_options(git_checkout_options *co, struct co_ctx *c, unsigned strategy)
{
	git_checkout_options_init(co, GIT_CHECKOUT_OPTIONS_VERSION);
	co->checkout_strategy = strategy;
	co->notify_flags = GIT_CHECKOUT_NOTIFY_CONFLICT;
	co->notify_cb = note_conflict;
	co->notify_payload = c;
	if (c->kill_after > 0) {
		co->progress_cb = progress;
		co->progress_payload = c;
	}
}

/*
 * Is there anything under the work tree folder `rel` that `head` does
 * not track?  Such files (ignored ones included) would keep the folder
 * alive when the new commit wants a file there, and libgit2's dry run
 * does not see that: the checkout would fail half-way, in the downtime
 * window.  The first such path goes into `first`.
 */
static int holds_untracked(const char *workdir, const char *rel, git_tree *head, char *first, size_t len)
{
	char *full = xasprintf("%s%s", workdir, rel);
	DIR *d = opendir(full);
	struct dirent *de;
	int found = 0;
	free(full);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *sub = xasprintf("%s/%s", rel, de->d_name);
		char *subfull = xasprintf("%s%s", workdir, sub);
		struct stat st;
		if (lstat(subfull, &st) == 0 && S_ISDIR(st.st_mode)) {
			found = holds_untracked(workdir, sub, head, first, len);
		} else {
			git_tree_entry *e = NULL;
			if (git_tree_entry_bypath(&e, head, sub) != 0) {
				snprintf(first, len, "%s", sub);
				found = 1;
			}
			git_tree_entry_free(e);
		}
		free(subfull);
		free(sub);
	}
	closedir(d);
	return found;
}

/* The trees of `from` and `to` and the diff between them. */
static int trees_diff(git_tree **a, git_tree **b, git_diff **diff, git_repository *r,
                      const git_oid *from, const git_oid *to, char *err)
{
	*a = *b = NULL;
	*diff = NULL;
	if (repo_commit_tree(a, r, from, err) < 0 || repo_commit_tree(b, r, to, err) < 0)
		return -1;
	if (git_diff_tree_to_tree(diff, r, *a, *b, NULL) < 0)
		return repo_git_err(err, "cannot compare trees in '%s'", git_repository_workdir(r));
	return 0;
}

/* A path the new tree adds as a file where the work tree has a folder
 * holding files HEAD does not track: named in `first`. */
static int folder_to_file_conflict(git_repository *r, const git_oid *head_id, const git_oid *target,
                                   char *first, size_t len, char *err)
{
	git_tree *a, *b;
	git_diff *diff;
	int ret = -1;
	const char *wd = git_repository_workdir(r);

	first[0] = '\0';
	if (trees_diff(&a, &b, &diff, r, head_id, target, err) < 0)
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff) && !first[0]; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status != GIT_DELTA_ADDED)
			continue;
		char *full = xasprintf("%s%s", wd, d->new_file.path);
		struct stat st;
		if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode))
			holds_untracked(wd, d->new_file.path, a, first, len);
		free(full);
	}
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return ret;
}

/* Point the checked-out branch (or a detached HEAD) at `target`, unless
 * it is there already (a held refs/heads/X.lock must not fail a restore
 * that has nothing to move). */
static int point_head(git_repository *r, const git_oid *target, char *err)
{
	git_reference *head = NULL, *moved = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;
	const char *wd = git_repository_workdir(r);

	git_oid_tostr(hex, sizeof hex, target);
	if (git_repository_head(&head, r) == 0 && git_reference_is_branch(head)) {
		const git_oid *now = git_reference_target(head);
		if (now && git_oid_equal(now, target))
			ret = 0;
		else if (git_reference_set_target(&moved, head, target, "autodeploy: deploy") < 0)
			repo_git_err(err, "cannot move branch '%s' of '%s' to %s",
			             git_reference_shorthand(head), wd, hex);
		else
			ret = 0;
	} else if (git_repository_set_head_detached(r, target) < 0) {
		repo_git_err(err, "cannot move HEAD of '%s' to %s", wd, hex);
	} else {
		ret = 0;
	}
	git_reference_free(moved);
	git_reference_free(head);
	return ret;
}

static int owner_failed(char *err, const struct co_ctx *c)
{
	if (c->own->gid == VALUE_GID_UNCHANGED)
		return err_set(err, "cannot give '%s' to uid %u: %s", c->failed_path, c->own->uid,
		               strerror(c->failed));
	return err_set(err, "cannot give '%s' to %u:%u: %s", c->failed_path, c->own->uid, c->own->gid,
	               strerror(c->failed));
}

static int checkout_failed(char *err, const struct co_ctx *c, const char *hex)
{
	const git_error *e = git_error_last();
	if (c->conflict[0])
		return err_set(err, "cannot check out %s in '%s': the local file '%s' would be overwritten "
		               "(local files never are: commit, stash or remove it)", hex, c->workdir, c->conflict);
	return err_set(err, "cannot check out %s in '%s': %s", hex, c->workdir,
	               e && e->message ? e->message : "unknown error");
}

int checkout_move(git_repository *r, const git_oid *target, enum checkout_how how,
                  const struct util_owner *own, char *err)
{
	git_commit *commit = NULL;
	git_checkout_options co;
	struct co_ctx c = { .workdir = git_repository_workdir(r), .own = own };
	char hex[GIT_OID_HEXSZ + 1], blocked[512];
	git_oid head_id;
	int ret = -1, rc;

	git_oid_tostr(hex, sizeof hex, target);
	if (git_commit_lookup(&commit, r, target) < 0)
		return repo_git_err(err, "cannot find commit %s in '%s'", hex, c.workdir);
	if (repo_head_commit(&head_id, r, err) < 0 ||
	    folder_to_file_conflict(r, &head_id, target, blocked, sizeof blocked, err) < 0)
		goto out;
	if (blocked[0]) {
		err_set(err, "cannot check out %s in '%s': the local file '%s' is in a folder that the new "
		        "commit replaces with a file (local files never are removed: move or remove it)",
		        hex, c.workdir, blocked);
		ret = CHECKOUT_UNTOUCHED;
		goto out;
	}
	/* Test-only fault injection (run-deploy(1)): die half-way through a
	 * move, after N files, as a kill in the downtime window would. */
	if (how == CHECKOUT_SAFE)
		c.kill_after = util_test_kill_count("checkout-file-");
	/* libgit2's SAFE still overwrites ignored files: a local file that the
	 * new commit starts tracking would be lost without DONT_OVERWRITE_IGNORED */
	co_options(&co, &c, GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_OVERWRITE_IGNORED |
	           (how == CHECKOUT_CHECK ? GIT_CHECKOUT_DRY_RUN : 0));
	if ((rc = git_checkout_tree(r, (const git_object *)commit, &co)) < 0) {
		checkout_failed(err, &c, hex);
		/* libgit2 finds conflicts before it writes anything */
		if (rc == GIT_ECONFLICT || c.conflict[0])
			ret = CHECKOUT_UNTOUCHED;
		goto out;
	}
	if (how == CHECKOUT_CHECK) {
		ret = 0;
		goto out;
	}
	if (point_head(r, target, err) < 0)
		goto out;
	chown_tree(&c);
	if (c.failed) {
		owner_failed(err, &c);
		goto out;
	}
	ret = 0;
out:
	git_commit_free(commit);
	return ret;
}

/*
 * The folder holding `rel` in the work tree, opened through real folders
 * only (O_NOFOLLOW at each step from the top), and *name its last part;
 * -1 when a folder on the way is missing or is a symlink.  Where the old
 * tree has a symlink "link" (to /etc, say) and the new one a folder
 * "link/passwd", a move killed before it replaced the symlink leaves it
 * in place: a path walk would find, and unlink, /etc/passwd.
 */
static int open_parent(const char *workdir, char *rel, const char **name)
{
	char *slash = strrchr(rel, '/');
	int fd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*name = rel;
	if (!slash)
		return fd;
	*slash = '\0';
	*name = slash + 1;
	for (char *p = rel, *next; fd >= 0 && p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		int sub = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = sub;
	}
	return fd;
}

/* Is `rel` there, and not a folder, inside the work tree proper? */
static int file_there(const char *workdir, const char *rel)
{
	char *copy = xstrdup(rel);
	const char *name;
	struct stat st;
	int fd = open_parent(workdir, copy, &name);
	int there = fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode);
	if (fd >= 0)
		close(fd);
	free(copy);
	return there;
}

/* Remove `rel` (not a folder), never through a symlink (open_parent),
 * then its parents while they are empty, up to the work tree's top. */
static void remove_path(const char *workdir, const char *rel)
{
	char *copy = xstrdup(rel), *full = NULL;
	const char *name;
	struct stat st;
	int fd = open_parent(workdir, copy, &name);

	if (fd < 0 || fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode) ||
	    unlinkat(fd, name, 0) < 0)
		goto out;
	/* the folders on the way were checked above: empty ones go too */
	full = xasprintf("%s%s", workdir, rel);
	size_t top = strlen(workdir);
	for (char *slash = strrchr(full, '/'); slash && (size_t)(slash - full) >= top; slash = strrchr(full, '/')) {
		*slash = '\0';
		if (strlen(full) < top || rmdir(full) < 0)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	free(full);
	free(copy);
}

/*
 * Where HEAD stands, checked against what the journal says the deploy
 * found: on `branch` (or detached, as journaled), at `old` or `new` (a
 * move changes nothing else).  Anything else is a person's work (a
 * hotfix committed, another branch checked out): -1, naming it, and the
 * checkout is left as it is.  `branch` NULL (an older journal): HEAD is
 * taken as it is.
 */
static int head_is_ours(git_oid *at, git_repository *r, const char *branch, const git_oid *old,
                        const git_oid *new, char *err)
{
	git_reference *head = NULL, *res = NULL;
	const char *wd = git_repository_workdir(r);
	char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1], h[GIT_OID_HEXSZ + 1];
	int ret = -1;

	git_oid_tostr(o, sizeof o, old);
	git_oid_tostr(w, sizeof w, new);
	if (git_reference_lookup(&head, r, "HEAD") < 0 || git_reference_resolve(&res, head) < 0) {
		repo_git_err(err, "cannot read HEAD of '%s'", wd);
		goto out;
	}
	git_oid_cpy(at, git_reference_target(res));
	git_oid_tostr(h, sizeof h, at);
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		const char *now = git_reference_symbolic_target(head);
		if (branch && strcmp(branch, now) != 0) {
			err_set(err, "HEAD of '%s' is on '%s', not on '%s' as the deploy found it: a person moved it, "
			        "so it is left as it is", wd, now, branch);
			goto out;
		}
	} else if (branch && strcmp(branch, JOURNAL_DETACHED) != 0) {
		err_set(err, "HEAD of '%s' is detached at %s, not on '%s' as the deploy found it: a person moved it, "
		        "so it is left as it is", wd, h, branch);
		goto out;
	}
	if (!git_oid_equal(at, old) && !git_oid_equal(at, new)) {
		err_set(err, "'%s' is at %s, neither the old %s nor the new %s: a person committed or moved it, "
		        "so it is left as it is", wd, h, o, w);
		goto out;
	}
	ret = 0;
out:
	git_reference_free(res);
	git_reference_free(head);
	return ret;
}

/* A path only the new tree has that is still in the work tree (an ignored
 * one git status does not show): named in `first`. */
static int new_path_left(const char *workdir, git_diff *diff, char *first, size_t len)
{
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status != GIT_DELTA_ADDED)
			continue;
		/* a folder there is the old tree's (the new one has a file); a
		 * path through the old tree's symlink is not in the work tree */
		if (file_there(workdir, d->new_file.path)) {
			snprintf(first, len, "%s", d->new_file.path);
			return 1;
		}
	}
	return 0;
}

/* Is the checkout exactly `old` already: HEAD there, nothing changed,
 * untracked or left of the new tree?  Then a restore writes nothing (a
 * move killed before its first file, or a file system gone read-only). */
static int clean_at(int *yes, git_repository *r, const git_oid *at, const git_oid *old, git_diff *diff,
                    char *first, size_t len, char *err)
{
	int clean;
	*yes = 0;
	first[0] = '\0';
	if (!git_oid_equal(at, old))
		return 0;
	if (repo_is_clean(&clean, first, len, r, err) < 0)
		return -1;
	*yes = clean && !new_path_left(git_repository_workdir(r), diff, first, len);
	return 0;
}

int checkout_restore(git_repository *r, const char *branch, const git_oid *old, const git_oid *new,
                     const struct util_owner *own, char *err)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_index *idx = NULL;
	git_checkout_options co;
	struct co_ctx c = { .workdir = git_repository_workdir(r), .own = own };
	char hex[GIT_OID_HEXSZ + 1], first[512];
	git_oid at;
	int ret = -1, clean;

	git_oid_tostr(hex, sizeof hex, old);
	if (head_is_ours(&at, r, branch, old, new, err) < 0 ||
	    trees_diff(&a, &b, &diff, r, old, new, err) < 0 ||
	    clean_at(&clean, r, &at, old, diff, first, sizeof first, err) < 0)
		goto out;
	if (clean) {
		ret = CHECKOUT_CLEAN;
		goto out;
	}
	/* The work tree may hold anything between the two trees.  First what
	 * only the new tree has, and what changed its type, goes (with the
	 * folders it leaves empty): a file where the old tree has a folder,
	 * a folder of new files where it has a file, an ignored file the old
	 * tree would not delete.  The pre-deploy check made sure no local
	 * file lived at any of these paths. */
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_TYPECHANGE)
			remove_path(c.workdir, d->new_file.path);
	}
	/* The index may be the new one (the move writes it at its end): it
	 * is read from the old tree, so that it names no file of the new one
	 * (a checkout updates only the entries of the trees it compares). */
	if (git_repository_index(&idx, r) < 0 || git_index_read_tree(idx, a) < 0 || git_index_write(idx) < 0) {
		repo_git_err(err, "cannot reset the index of '%s' to %s", c.workdir, hex);
		goto out;
	}
	/* Then the old tree, against itself as baseline: FORCE rewrites every
	 * file that differs from it and recreates every missing one, however
	 * far the move went. */
	/* Test-only: a restore killed half-way, after N files (run-deploy(1)) */
	c.kill_after = util_test_kill_count("restore-file-");
	co_options(&co, &c, GIT_CHECKOUT_FORCE | GIT_CHECKOUT_RECREATE_MISSING);
	co.baseline = a;
	if (git_checkout_tree(r, (const git_object *)a, &co) < 0) {
		checkout_failed(err, &c, hex);
		goto out;
	}
	if (point_head(r, old, err) < 0)
		goto out;
	chown_tree(&c);
	if (c.failed) {
		owner_failed(err, &c);
		goto out;
	}
	/* Trust nothing: say exactly what is not as it was. */
	if (repo_head_commit(&at, r, err) < 0 || clean_at(&clean, r, &at, old, diff, first, sizeof first, err) < 0)
		goto out;
	if (!git_oid_equal(&at, old)) {
		err_set(err, "'%s' is not at %s after the restore", c.workdir, hex);
		goto out;
	}
	if (!clean) {
		err_set(err, "'%s' differs from %s after the restore: '%s'", c.workdir, hex, first);
		goto out;
	}
	ret = 0;
out:
	git_index_free(idx);
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return ret;
}

int checkout_stage(git_repository *r, const git_oid *commit, const char *dir, char *err)
{
	git_tree *t = NULL;
	git_index *empty = NULL;
	git_checkout_options co;
	int ret = -1;

	if (repo_commit_tree(&t, r, commit, err) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0) {
		err_set(err, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	/* The folder is empty, and libgit2 must know it: with the repository's
	 * index as baseline it takes the checkout's files for the folder's,
	 * and a file the commit turns into a folder fails ("File exists").
	 * An empty index in memory is the truth: any commit that checks out
	 * also stages. */
	if (git_index_new(&empty) < 0) {
		repo_git_err(err, "cannot stage into '%s'", dir);
		goto out;
	}
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
	co.baseline_index = empty;
	co.target_directory = dir;
	if (git_checkout_tree(r, (const git_object *)t, &co) < 0) {
		repo_git_err(err, "cannot write the tree into '%s'", dir);
		goto out;
	}
	ret = 0;
out:
	git_index_free(empty);
	git_tree_free(t);
	return ret;
}
