#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo.h"
#include "sshconn.h"
#include "strbuf.h"
#include "util.h"

void repo_global_init(void)
{
	git_libgit2_init();
	/* The service runs as root over checkouts an operator owns (uid 1000
	 * on a birdhouse host); libgit2 1.5 would refuse them and ignores
	 * git's safe.directory '*'.  The configured paths are the operator's
	 * own choice, in a root-owned env.local: they are trusted. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

void repo_global_shutdown(void)
{
	/* the shared ssh connections of this run (sshconn.h) end with it */
	sshconn_shutdown();
	git_libgit2_shutdown();
}

/* For messages: the work tree, or the git folder of a bare repository. */
const char *repo_where(git_repository *r)
{
	const char *w = git_repository_workdir(r);
	return w ? w : git_repository_path(r);
}

int repo_git_err(char *err, const char *fmt, ...)
{
	char what[ERR_MAX / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const git_error *e = git_error_last();
	return err_set(err, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

int repo_open(git_repository **out, const char *path, char *err)
{
	struct stat st;
	*out = NULL;
	if (stat(path, &st) < 0) {
		err_set(err, "cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT || errno == ENOTDIR ? REPO_NOTFOUND : -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		err_set(err, "'%s' is not a folder", path);
		return REPO_NOTFOUND;
	}
	/* any folder inside a work tree: a compose dir is often <repo>/birdhouse */
	int rc = git_repository_open_ext(out, path, 0, NULL);
	if (rc == GIT_ENOTFOUND) {
		err_set(err, "'%s' is a folder but not inside a git work tree (no .git in it or above it)", path);
		return REPO_NOTFOUND;
	}
	if (rc < 0)
		return repo_git_err(err, "cannot open '%s'", path);
	if (git_repository_is_bare(*out)) {
		git_repository_free(*out);
		*out = NULL;
		err_set(err, "'%s' is a bare repository, not a checkout", path);
		return REPO_NOTFOUND;
	}
	return 0;
}

int repo_is_clean(int *clean, char *first, size_t firstlen, git_repository *r, char *err)
{
	git_status_options opts;
	git_status_list *list = NULL;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, r, &opts) < 0)
		return repo_git_err(err, "cannot read the status of '%s'", repo_where(r));
	size_t n = git_status_list_entrycount(list);
	*clean = n == 0;
	if (first && firstlen) {
		first[0] = '\0';
		if (n > 0) {
			const git_status_entry *e = git_status_byindex(list, 0);
			const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
			if (d)
				snprintf(first, firstlen, "%s", d->new_file.path ? d->new_file.path : d->old_file.path);
		}
	}
	git_status_list_free(list);
	return 0;
}

int repo_head_commit(git_oid *out, git_repository *r, char *err)
{
	git_object *obj = NULL;
	if (git_revparse_single(&obj, r, "HEAD^{commit}") < 0)
		return repo_git_err(err, "cannot resolve HEAD of '%s'", repo_where(r));
	git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	return 0;
}

char *repo_current_branch(git_repository *r)
{
	git_reference *head = NULL;
	char *name = NULL;
	if (git_repository_head_detached(r) == 1)
		return NULL;
	if (git_repository_head(&head, r) < 0)
		return NULL;
	if (git_reference_is_branch(head))
		name = xstrdup(git_reference_shorthand(head));
	git_reference_free(head);
	return name;
}

int repo_upstream(char **remote, char **merge_ref, git_repository *r, const char *branch, char *err)
{
	git_buf b_remote = { 0 }, b_merge = { 0 };
	char *local = xasprintf("refs/heads/%s", branch);
	int ret = -1, rc;

	*remote = *merge_ref = NULL;
	rc = git_branch_upstream_remote(&b_remote, r, local);
	if (rc == GIT_ENOTFOUND) {
		ret = REPO_NOTFOUND;
		err_set(err, "branch '%s' has no upstream", branch);
		goto out;
	}
	if (rc < 0) {
		repo_git_err(err, "cannot read the upstream of branch '%s'", branch);
		goto out;
	}
	if (git_branch_upstream_merge(&b_merge, r, local) < 0) {
		ret = REPO_NOTFOUND;
		err_set(err, "branch '%s' has no upstream branch (branch.%s.merge)", branch, branch);
		goto out;
	}
	*remote = xstrdup(b_remote.ptr);
	*merge_ref = xstrdup(b_merge.ptr);
	ret = 0;
out:
	git_buf_dispose(&b_remote);
	git_buf_dispose(&b_merge);
	free(local);
	return ret;
}

int repo_ahead_behind(size_t *ahead, size_t *behind, git_repository *r,
                      const git_oid *local, const git_oid *upstream, char *err)
{
	if (git_graph_ahead_behind(ahead, behind, r, local, upstream) < 0)
		return repo_git_err(err, "cannot compare commits in '%s'", repo_where(r));
	return 0;
}

int repo_commit_tree(git_tree **tree, git_repository *r, const git_oid *id, char *err)
{
	git_commit *c = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	if (git_commit_lookup(&c, r, id) < 0 || git_commit_tree(tree, c) < 0) {
		git_commit_free(c);
		return repo_git_err(err, "cannot read commit %s", git_oid_tostr(hex, sizeof hex, id));
	}
	git_commit_free(c);
	return 0;
}

struct paths {
	char **v;
	size_t n, cap;
};

static void paths_add(struct paths *p, const char *s)
{
	if (!s)
		return;
	if (p->n > 0 && strcmp(p->v[p->n - 1], s) == 0)
		return;
	ARRAY_GROW(p->v, p->n + 1, p->cap);     /* and the NULL after it */
	p->v[p->n++] = xstrdup(s);
	p->v[p->n] = NULL;
}

/* The changes from commit `from` to `to` as a NULL-terminated list:
 * both sides of each delta (with_status 0), or "X<TAB>path" lines. */
static int changes(char ***out, size_t *n, git_repository *r, const git_oid *from,
                   const git_oid *to, int with_status, char *err)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	struct paths p = { 0 };
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (repo_commit_tree(&a, r, from, err) < 0 || repo_commit_tree(&b, r, to, err) < 0)
		goto out;
	if (git_diff_tree_to_tree(&diff, r, a, b, NULL) < 0) {
		repo_git_err(err, "cannot compare trees in '%s'", repo_where(r));
		goto out;
	}
	/* git diff finds renames by default since git 2.9 (diff.renames),
	 * at its 50% similarity, which is libgit2's default too */
	git_diff_find_options fo;
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (with_status && git_diff_find_similar(diff, &fo) < 0) {
		repo_git_err(err, "cannot find renames in '%s'", repo_where(r));
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (with_status) {
			char line[8192];
			/* `git diff --name-status`: "R100<TAB>old<TAB>new" */
			if (d->status == GIT_DELTA_RENAMED)
				snprintf(line, sizeof line, "R%03u\t%s\t%s", (unsigned)d->similarity,
				         d->old_file.path, d->new_file.path);
			else
				snprintf(line, sizeof line, "%c\t%s", git_diff_status_char(d->status),
				         d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path);
			paths_add(&p, line);
		} else {
			paths_add(&p, d->old_file.path);
			paths_add(&p, d->new_file.path);
		}
	}
	if (!p.v)
		p.v = xcalloc(1, sizeof *p.v);
	*out = p.v;
	*n = p.n;
	ret = 0;
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return ret;
}

int repo_changed_paths(char ***out, size_t *n, git_repository *r,
                       const git_oid *from, const git_oid *to, char *err)
{
	return changes(out, n, r, from, to, 0, err);
}

int repo_changed_status(char ***out, size_t *n, git_repository *r,
                        const git_oid *from, const git_oid *to, char *err)
{
	return changes(out, n, r, from, to, 1, err);
}

void repo_paths_free(char **paths)
{
	if (!paths)
		return;
	for (char **p = paths; *p; p++)
		free(*p);
	free(paths);
}

int repo_read_file(char **data, size_t *len, git_repository *r,
                   const git_oid *commit, const char *path, char *err)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int ret = -1, rc;

	*data = NULL;
	*len = 0;
	if (repo_commit_tree(&tree, r, commit, err) < 0)
		return -1;
	rc = git_tree_entry_bypath(&e, tree, path);
	if (rc == GIT_ENOTFOUND || (rc == 0 && git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB_EXECUTABLE &&
	                            git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB)) {
		ret = 0;
		goto out;
	}
	if (rc < 0 || git_blob_lookup(&blob, r, git_tree_entry_id(e)) < 0) {
		repo_git_err(err, "cannot read '%s'", path);
		goto out;
	}
	*len = (size_t)git_blob_rawsize(blob);
	*data = xmemdupz(git_blob_rawcontent(blob), *len);
	ret = 1;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return ret;
}

char *repo_subdir(git_repository *r, const char *path)
{
	const char *wd = git_repository_workdir(r);
	char *rwd = wd ? realpath(wd, NULL) : NULL, *rpath = realpath(path, NULL), *sub;
	size_t wl = rwd ? strlen(rwd) : 0;

	if (rwd && rpath && strncmp(rpath, rwd, wl) == 0 && rpath[wl] == '/' && rpath[wl + 1])
		sub = xstrdup(rpath + wl + 1);
	else
		sub = xstrdup("");
	free(rwd);
	free(rpath);
	return sub;
}
