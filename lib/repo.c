#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "repo.h"
#include "settings.h"
#include "url.h"
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
	git_libgit2_shutdown();
}

/* For messages: the work tree, or the git folder of a bare repository. */
static const char *where(git_repository *r)
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
		return repo_git_err(err, "cannot read the status of '%s'", where(r));
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
		return repo_git_err(err, "cannot resolve HEAD of '%s'", where(r));
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

/*
 * Whose fault a failed remote operation is, from libgit2's error class:
 * the remote's (REPO_UNREACHABLE: network, ssh, credentials, host key), our
 * disk's (-1: a full or read-only file system under the checkout, memory)
 * or the data's (REPO_BADDATA: objects that are not what they claim).  A
 * file-system error counts as ours when it names our repository: with a
 * local path remote, reading the remote fails with the same classes.
 */
static int remote_fault(const git_error *e, git_remote *rem)
{
	if (!e)
		return REPO_UNREACHABLE;
	switch (e->klass) {
	case GIT_ERROR_NOMEMORY:
		return -1;
	case GIT_ERROR_OS:
	case GIT_ERROR_FILESYSTEM:
	case GIT_ERROR_ODB:
	case GIT_ERROR_REFERENCE:
	case GIT_ERROR_INDEX: {
		git_repository *r = rem ? git_remote_owner(rem) : NULL;
		const char *ours = r ? git_repository_path(r) : NULL;
		return ours && e->message && strstr(e->message, ours) ? -1 : REPO_UNREACHABLE;
	}
	case GIT_ERROR_OBJECT:
	case GIT_ERROR_INVALID:
	case GIT_ERROR_TREE:
		return REPO_BADDATA;
	default:
		return REPO_UNREACHABLE;
	}
}

static int remote_err(char *err, git_remote *rem, const char *remote_name, const char *what)
{
	char url[512], why[ERR_MAX];
	const git_error *e = git_error_last();
	int fault = remote_fault(e, rem);
	url_redact(url, sizeof url, rem && git_remote_url(rem) ? git_remote_url(rem) : remote_name);
	/* only libgit2's words can hold the secret: our own are masked already */
	snprintf(why, sizeof why, "%s", e && e->message ? e->message : "unknown error");
	if (rem)
		url_scrub(why, git_remote_url(rem));
	err_set(err, "cannot %s '%s' (%s): %s", what, remote_name, url, why);
	return fault;
}

void repo_refs_free(struct repo_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
}

int repo_remote_open(git_remote **out, git_repository *r, const char *name, char *err)
{
	if (git_remote_lookup(out, r, name) < 0)
		return repo_git_err(err, "no remote '%s' in '%s'", name, where(r));
	return 0;
}

void repo_remote_close(git_remote *rem)
{
	if (!rem)
		return;
	if (git_remote_connected(rem))
		git_remote_disconnect(rem);
	git_remote_free(rem);
}

int repo_remote_tracking(char **out, git_remote *rem, const char *merge_ref, char *err)
{
	*out = NULL;
	for (size_t i = 0; i < git_remote_refspec_count(rem); i++) {
		const git_refspec *spec = git_remote_get_refspec(rem, i);
		git_buf buf = { 0 };
		if (git_refspec_direction(spec) != GIT_DIRECTION_FETCH || !git_refspec_src_matches(spec, merge_ref))
			continue;
		if (git_refspec_transform(&buf, spec, merge_ref) < 0)
			return repo_git_err(err, "cannot map '%s' through remote '%s'", merge_ref, git_remote_name(rem));
		*out = xstrdup(buf.ptr);
		git_buf_dispose(&buf);
		return 0;
	}
	err_set(err, "no fetch refspec of remote '%s' maps '%s' to a remote-tracking branch",
	        git_remote_name(rem), merge_ref);
	return REPO_NOTFOUND;
}

int repo_remote_ls(struct repo_ref **refs, size_t *n, git_remote *rem, struct repo_auth *auth, char *err)
{
	git_remote_callbacks cb;
	const git_remote_head **heads = NULL;
	size_t nheads = 0, count = 0;
	struct repo_ref *out = NULL;

	*refs = NULL;
	*n = 0;
	auth_callbacks(&cb, auth);
	if (!git_remote_connected(rem) && git_remote_connect(rem, GIT_DIRECTION_FETCH, &cb, NULL, NULL) < 0)
		return remote_err(err, rem, git_remote_name(rem), "reach remote");
	if (git_remote_ls(&heads, &nheads, rem) < 0)
		return remote_err(err, rem, git_remote_name(rem), "list the refs of remote");
	out = xcalloc(nheads ? nheads : 1, sizeof *out);
	for (size_t i = 0; i < nheads; i++) {
		const char *name = heads[i]->name;
		size_t len = strlen(name);
		/* "refs/tags/v1^{}" carries the commit an annotated tag points
		 * at: it replaces the tag object's id on the entry before it. */
		if (len > 3 && strcmp(name + len - 3, "^{}") == 0) {
			if (count > 0 && strncmp(out[count - 1].name, name, len - 3) == 0 &&
			    out[count - 1].name[len - 3] == '\0')
				git_oid_cpy(&out[count - 1].oid, &heads[i]->oid);
			continue;
		}
		out[count].name = xstrdup(name);
		git_oid_cpy(&out[count].oid, &heads[i]->oid);
		git_oid_cpy(&out[count].ref_oid, &heads[i]->oid);
		count++;
	}
	*refs = out;
	*n = count;
	return 0;
}

int repo_remote_fetch(git_repository *r, git_remote *rem, const char *remote_ref,
                      const char *local_ref, const git_oid *want, const git_oid *ref_oid,
                      struct repo_auth *auth, char *err)
{
	git_odb *odb = NULL;
	git_reference *ref = NULL;
	int ret = -1;
	char *spec = NULL;

	if (git_repository_odb(&odb, r) < 0)
		return repo_git_err(err, "cannot open the object store of '%s'", where(r));
	if (!ref_oid)
		ref_oid = want;
	if (!git_odb_exists(odb, want) || !git_odb_exists(odb, ref_oid)) {
		/* the INIT macros trip -Wmissing-field-initializers */
		git_fetch_options fo;
		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		auth_callbacks(&fo.callbacks, auth);
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		fo.update_fetchhead = 0;
		spec = xasprintf("+%s:%s", remote_ref, local_ref);
		char *specs[] = { spec };
		git_strarray arr = { specs, 1 };
		/* On the connection repo_remote_ls opened, when there is one:
		 * one ssh session per checkout, not two.  The ref is moved below,
		 * by us, to exactly the commit we decided on. */
		if (git_remote_download(rem, &arr, &fo) < 0) {
			ret = remote_err(err, rem, git_remote_name(rem), "fetch from remote");
			goto out;
		}
		/* The remote may have moved again between the listing and the
		 * fetch: we decide on what we listed, so that object must be here. */
		git_odb_refresh(odb);
		if (!git_odb_exists(odb, want) || !git_odb_exists(odb, ref_oid)) {
			char hex[GIT_OID_HEXSZ + 1];
			git_oid_tostr(hex, sizeof hex, want);
			err_set(err, "fetch from '%s' did not bring commit %s (did the remote move meanwhile? run again)",
			        git_remote_name(rem), hex);
			goto out;
		}
	}
	if (git_reference_create(&ref, r, local_ref, ref_oid, 1, "autodeploy: update from remote") < 0) {
		repo_git_err(err, "cannot update '%s' in '%s'", local_ref, where(r));
		goto out;
	}
	ret = 0;
out:
	git_reference_free(ref);
	git_odb_free(odb);
	free(spec);
	return ret;
}

int repo_ls_remote(struct repo_ref **refs, size_t *n, git_repository *r,
                   const char *remote_name, struct repo_auth *auth, char *err)
{
	git_remote *rem = NULL;
	*refs = NULL;
	*n = 0;
	if (repo_remote_open(&rem, r, remote_name, err) < 0)
		return -1;
	int ret = repo_remote_ls(refs, n, rem, auth, err);
	repo_remote_close(rem);
	return ret;
}

int repo_fetch_ref(git_repository *r, const char *remote_name, const char *remote_ref,
                   const char *local_ref, const git_oid *want, struct repo_auth *auth, char *err)
{
	git_remote *rem = NULL;
	if (repo_remote_open(&rem, r, remote_name, err) < 0)
		return -1;
	int ret = repo_remote_fetch(r, rem, remote_ref, local_ref, want, NULL, auth, err);
	repo_remote_close(rem);
	return ret;
}

int repo_ahead_behind(size_t *ahead, size_t *behind, git_repository *r,
                      const git_oid *local, const git_oid *upstream, char *err)
{
	if (git_graph_ahead_behind(ahead, behind, r, local, upstream) < 0)
		return repo_git_err(err, "cannot compare commits in '%s'", where(r));
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

struct gitlink_find {
	char *path;
	size_t len;
	int found;
};

static int gitlink_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct gitlink_find *f = payload;
	if (git_tree_entry_filemode(e) != GIT_FILEMODE_COMMIT)
		return 0;
	snprintf(f->path, f->len, "%s%s", root, git_tree_entry_name(e));
	f->found = 1;
	return -1;                      /* the first one is enough */
}

int repo_find_gitlink(char *path, size_t len, git_repository *r, const git_oid *commit, char *err)
{
	git_tree *tree = NULL;
	struct gitlink_find f = { path, len, 0 };
	if (repo_commit_tree(&tree, r, commit, err) < 0)
		return -1;
	int rc = git_tree_walk(tree, GIT_TREEWALK_PRE, gitlink_cb, &f);
	git_tree_free(tree);
	if (f.found)
		return 1;
	if (rc < 0)
		return repo_git_err(err, "cannot read the tree of a commit in '%s'", where(r));
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
		repo_git_err(err, "cannot compare trees in '%s'", where(r));
		goto out;
	}
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		if (with_status) {
			char line[4096];
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
	*data = xmalloc(*len + 1);
	memcpy(*data, git_blob_rawcontent(blob), *len);
	(*data)[*len] = '\0';
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

int repo_version_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
			/* compare digit runs as numbers: skip leading zeros, then
			 * the longer run is bigger, else the first differing digit */
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			const char *ea = a, *eb = b;
			while (*ea >= '0' && *ea <= '9')
				ea++;
			while (*eb >= '0' && *eb <= '9')
				eb++;
			if (ea - a != eb - b)
				return ea - a < eb - b ? -1 : 1;
			int c = strncmp(a, b, (size_t)(ea - a));
			if (c)
				return c < 0 ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	if (*a == *b)
		return 0;
	return *a ? 1 : -1;
}
