#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish.h"
#include "treecheck.h"
#include "repo.h"
#include "strbuf.h"
#include "util.h"


const char *publish_name_check(const char *name, size_t len)
{
	const char *why = treecheck_name(name, len);
	if (why)
		return why;
	if (len > NAME_MAX)
		return "a name longer than NAME_MAX";
	/* a newline would forge lines in every listing of the folder (and in
	 * JupyterHub's); escape codes would reach terminals */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "a name holding a control character (a newline, an escape code...)";
	return NULL;
}

static int is_notebook(const char *name, size_t len)
{
	return len > 6 && memcmp(name + len - 6, ".ipynb", 6) == 0;
}

struct walk {
	struct publish_set *set;
	git_repository *r;
	git_odb *odb;
	const struct publish_limits *lim;
	const char *label;
	size_t source;
	size_t base;      /* length of "SUBDIR/": cut off for the published path */
	size_t room;      /* longest published path that fits below the destination */
	long files, entries;
	uint64_t bytes;
	char *err;
	char path[PATH_MAX + 1];   /* the path in the tree being looked at */
};

static int refuse(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct walk *w, const char *fmt, ...)
{
	char why[ERR_MAX / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	err_set(w->err, "refusing '%s': '%s': %s", w->label, w->path, why);
	return PUBLISH_REFUSED;
}

static void add_file(struct publish_set *set, const char *path, git_repository *r,
                     const git_oid *blob, uint64_t size, size_t source)
{
	ARRAY_GROW(set->files, set->n, set->cap);
	struct publish_file *f = &set->files[set->n];
	f->path = xstrdup(path);
	f->repo = r;
	git_oid_cpy(&f->blob, blob);
	f->size = size;
	f->source = source;
	f->seq = set->n;
	set->n++;
}

static int walk_blob(struct walk *w, const git_tree_entry *e, const char *name, size_t nlen)
{
	size_t size;
	git_object_t type;

	if (!w->lim->whole && !is_notebook(name, nlen))
		return 0;
	if (git_odb_read_header(&size, &type, w->odb, git_tree_entry_id(e)) < 0)
		return repo_git_err(w->err, "'%s': cannot read '%s'", w->label, w->path);
	if (type != GIT_OBJECT_BLOB)
		return refuse(w, "a file entry that is not a blob");
	w->files++;
	w->bytes += size;
	if (w->files > w->lim->max_files)
		return refuse(w, "more than %ld notebooks (AUTODEPLOY_NOTEBOOK_MAX_FILES)", w->lim->max_files);
	if (w->bytes > w->lim->max_bytes)
		return refuse(w, "more than %llu bytes of notebooks (AUTODEPLOY_NOTEBOOK_MAX_BYTES)",
		              (unsigned long long)w->lim->max_bytes);
	if (w->lim->into && *w->lim->into) {
		char *p = xasprintf("%s/%s", w->lim->into, w->path + w->base);
		add_file(w->set, p, w->r, git_tree_entry_id(e), size, w->source);
		free(p);
	} else {
		add_file(w->set, w->path + w->base, w->r, git_tree_entry_id(e), size, w->source);
	}
	return 0;
}

/* w->path[0..len) is the folder that tree is. */
static int walk_tree(struct walk *w, const git_tree *tree, size_t len)
{
	size_t n = git_tree_entrycount(tree);

	for (size_t i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const char *name = git_tree_entry_name(e);
		size_t nlen = strlen(name), at = len ? len + 1 : 0, newlen = at + nlen;
		const char *why;
		int rc = 0;

		w->path[len] = '\0';
		if (newlen >= sizeof w->path)
			return refuse(w, "a path longer than PATH_MAX below it");
		if (len)
			w->path[len] = '/';
		memcpy(w->path + at, name, nlen + 1);
		if (w->lim->max_entries > 0 && ++w->entries > w->lim->max_entries)
			return refuse(w, "more than %ld folders and files below SUBDIR "
			              "(AUTODEPLOY_NOTEBOOK_MAX_ENTRIES)", w->lim->max_entries);
		if ((why = publish_name_check(name, nlen)) != NULL)
			return refuse(w, "%s", why);
		if (newlen - w->base > w->room)
			return refuse(w, "a path too long for the destination (PATH_MAX)");

		/* Classify by the type bits, as git checks entries out: libgit2's
		 * normalized mode would call a 120755 symlink an executable. */
		switch (git_tree_entry_filemode_raw(e) & 0170000) {
		case 0040000: {
			git_tree *sub = NULL;
			if (git_tree_lookup(&sub, w->r, git_tree_entry_id(e)) < 0)
				return repo_git_err(w->err, "'%s': cannot read folder '%s'", w->label, w->path);
			rc = walk_tree(w, sub, newlen);
			git_tree_free(sub);
			break;
		}
		case 0100000:
			rc = walk_blob(w, e, name, nlen);
			break;
		case 0120000:
			return refuse(w, "a symbolic link: only regular files and folders are published; remove it from the repository");
		case 0160000:
			return refuse(w, "a submodule: only regular files and folders are published; remove it or point SUBDIR elsewhere");
		default:
			return refuse(w, "an entry of unknown mode %06o", (unsigned)git_tree_entry_filemode_raw(e));
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The folder SUBDIR of root: *out NULL with an error when absent. */
static int find_subdir(git_tree **out, struct walk *w, const git_tree *root, const char *subdir,
                       const char *commit_hex)
{
	git_tree_entry *te = NULL;
	int rc;

	*out = NULL;
	if (!*subdir)
		return git_tree_dup(out, (git_tree *)root) < 0 ?
		       repo_git_err(w->err, "'%s': cannot read the tree of %s", w->label, commit_hex) : 0;
	rc = git_tree_entry_bypath(&te, root, subdir);
	if (rc == GIT_ENOTFOUND) {
		err_set(w->err, "'%s': no folder '%s' in commit %s: fix SUBDIR in AUTODEPLOY_NOTEBOOK_SOURCES",
		        w->label, subdir, commit_hex);
		return PUBLISH_NOSUBDIR;
	}
	if (rc < 0)
		return repo_git_err(w->err, "'%s': cannot look up '%s' in %s", w->label, subdir, commit_hex);
	snprintf(w->path, sizeof w->path, "%s", subdir);
	switch (git_tree_entry_filemode_raw(te) & 0170000) {
	case 0040000:
		rc = git_tree_lookup(out, w->r, git_tree_entry_id(te)) < 0 ?
		     repo_git_err(w->err, "'%s': cannot read folder '%s'", w->label, subdir) : 0;
		break;
	case 0120000:
		rc = refuse(w, "SUBDIR is a symbolic link");
		break;
	case 0160000:
		rc = refuse(w, "SUBDIR is a submodule");
		break;
	default:
		err_set(w->err, "'%s': '%s' is not a folder in commit %s: fix SUBDIR in AUTODEPLOY_NOTEBOOK_SOURCES",
		        w->label, subdir, commit_hex);
		rc = PUBLISH_NOSUBDIR;
	}
	git_tree_entry_free(te);
	return rc;
}

int publish_collect(struct publish_set *set, git_repository *r, const git_oid *commit,
                    const char *subdir, const struct publish_limits *lim,
                    const char *label, size_t source, char *err)
{
	struct walk *w = xcalloc(1, sizeof *w);
	git_commit *c = NULL;
	git_tree *root = NULL, *top = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	size_t start = set->n, dlen = strlen(lim->dest);
	int rc = -1;

	git_oid_tostr(hex, sizeof hex, commit);
	w->set = set;
	w->r = r;
	w->lim = lim;
	w->label = label;
	w->source = source;
	w->err = err;
	w->base = *subdir ? strlen(subdir) + 1 : 0;
	w->room = dlen + PUBLISH_STAGING_EXTRA < PATH_MAX ? PATH_MAX - 1 - (dlen + PUBLISH_STAGING_EXTRA) : 0;
	if (lim->into && *lim->into)   /* DEST/ goes in front of every path */
		w->room = w->room > strlen(lim->into) + 1 ? w->room - strlen(lim->into) - 1 : 0;
	if (git_repository_odb(&w->odb, r) < 0) {
		repo_git_err(err, "'%s': cannot open the object store", label);
		goto out;
	}
	if (git_commit_lookup(&c, r, commit) < 0 || git_commit_tree(&root, c) < 0) {
		repo_git_err(err, "'%s': cannot read commit %s", label, hex);
		goto out;
	}
	rc = find_subdir(&top, w, root, subdir, hex);
	if (rc < 0)
		goto out;
	/* What git fsck refuses (duplicate names above all) before the walk
	 * takes anything from the tree. */
	char tcheck[ERR_MAX];
	rc = treecheck_commit(r, commit, tcheck);
	if (rc == TREECHECK_REFUSED) {
		err_set(err, "refusing '%s': %s", label, tcheck);
		rc = PUBLISH_REFUSED;
		goto out;
	}
	if (rc < 0) {
		err_set(err, "'%s': %s", label, tcheck);
		goto out;
	}
	rc = walk_tree(w, top, strlen(subdir));
out:
	if (rc < 0) {
		/* all of a source or nothing of it */
		for (size_t i = start; i < set->n; i++)
			free(set->files[i].path);
		set->n = start;
	}
	git_tree_free(top);
	git_tree_free(root);
	git_commit_free(c);
	git_odb_free(w->odb);
	free(w);
	return rc;
}

static int cmp_file(const void *a, const void *b)
{
	const struct publish_file *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* (publish.h) */
long publish_find(const struct publish_set *set, const char *key, size_t len)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *p = set->files[mid].path;
		int c = strncmp(p, key, len);
		if (c == 0)
			c = p[len] ? 1 : 0;
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void publish_settle(struct publish_set *set, publish_clash_fn *on_clash, void *ctx)
{
	size_t j = 0;
	char *drop;

	if (set->n == 0)
		return;
	qsort(set->files, set->n, sizeof *set->files, cmp_file);
	/* the same path twice: sorted by source, so the last one wins */
	for (size_t i = 0; i < set->n; i++) {
		if (j > 0 && strcmp(set->files[j - 1].path, set->files[i].path) == 0) {
			if (on_clash)
				on_clash(set->files[i].path, set->files[j - 1].source, set->files[i].source, ctx);
			free(set->files[j - 1].path);
			set->files[j - 1] = set->files[i];
		} else {
			set->files[j++] = set->files[i];
		}
	}
	set->n = j;

	/* a file where another source has a folder: the later source wins */
	drop = xcalloc(set->n, 1);
	for (size_t i = 0; i < set->n; i++) {
		const char *p = set->files[i].path;
		for (size_t k = 0; p[k] && !drop[i]; k++) {
			long f;
			if (p[k] != '/' || (f = publish_find(set, p, k)) < 0 || drop[f])
				continue;
			size_t loser = set->files[f].source <= set->files[i].source ? (size_t)f : i;
			size_t winner = loser == i ? (size_t)f : i;
			if (on_clash)
				on_clash(set->files[loser].path, set->files[loser].source, set->files[winner].source, ctx);
			drop[loser] = 1;
		}
	}
	j = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (drop[i])
			free(set->files[i].path);
		else
			set->files[j++] = set->files[i];
	}
	set->n = j;
	free(drop);
}

void publish_set_free(struct publish_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->files[i].path);
	free(set->files);
	memset(set, 0, sizeof *set);
}
