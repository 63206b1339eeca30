/* treecheck: refuse trees that git fsck would refuse.  See treecheck.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strbuf.h"
#include "treecheck.h"
#include "util.h"

/*
 * HFS+ ignores some code points when it compares names, so ".g\u200cit"
 * opens ".git" (git's is_hfs_dotgit).  They are all three bytes long in
 * UTF-8: E2 80 8C-8F, E2 80 AA-AE, E2 81 AA-AF and EF BB BF.
 */
static size_t hfs_ignorable(const unsigned char *p, size_t left)
{
	if (left < 3)
		return 0;
	if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x8c && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xaa && p[2] <= 0xaf)
		return 3;
	if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;
	return 0;
}

/* ".git" once the ignorable code points are dropped, in any case. */
static int hfs_dotgit(const char *name, size_t len)
{
	static const char want[] = ".git";
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0, k = 0;
	while (i < len) {
		size_t skip = hfs_ignorable(p + i, len - i);
		if (skip) {
			i += skip;
			continue;
		}
		if (k == 4 || (p[i] | 0x20) != (unsigned char)want[k] ||
		    (k == 0 && p[i] != '.'))
			return 0;
		i++;
		k++;
	}
	return k == 4;
}

/* NTFS drops trailing dots and spaces and reads "name:stream" as name;
 * "git~1" is the short name of ".git". */
static int ntfs_dotgit(const char *name, size_t len)
{
	size_t stem;
	if (len >= 4 && strncasecmp(name, ".git", 4) == 0)
		stem = 4;
	else if (len >= 5 && strncasecmp(name, "git~1", 5) == 0)
		stem = 5;
	else
		return 0;
	for (size_t i = stem; i < len; i++) {
		if (name[i] == ':')
			return 1;
		if (name[i] != '.' && name[i] != ' ')
			return 0;
	}
	return 1;
}

const char *treecheck_name(const char *name, size_t len)
{
	if (len == 0)
		return "an empty name";
	if (memchr(name, '\0', len))
		return "a name holding a NUL byte";
	if (memchr(name, '/', len))
		return "a name holding '/', which could leave the folder";
	if (len == 1 && name[0] == '.')
		return "the name '.'";
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return "the name '..', which would leave the folder";
	if (ntfs_dotgit(name, len) || hfs_dotgit(name, len))
		return "the name '.git' (in any case, or as NTFS or HFS+ read it)";
	return NULL;
}

/* The trees still to visit, each with the path that first led to it. */
struct pending {
	git_oid id;
	char *path;
};

struct walk {
	git_repository *r;
	const char *label;
	char *err;
	struct pending *todo;
	size_t n_todo, cap_todo;
	git_oid *seen;              /* open addressing; zero id = empty slot */
	size_t n_seen, cap_seen;
};

static size_t oid_hash(const git_oid *id)
{
	size_t h;
	memcpy(&h, id->id, sizeof h);
	return h;
}

static int is_zero(const git_oid *id)
{
	static const git_oid zero;
	return memcmp(id, &zero, sizeof zero) == 0;
}

/* 1 when `id` was already seen, else remember it and 0. */
static int seen_before(struct walk *w, const git_oid *id)
{
	if (2 * (w->n_seen + 1) > w->cap_seen) {
		size_t cap = w->cap_seen ? 2 * w->cap_seen : 64;
		git_oid *old = w->seen, *grown = xcalloc(cap, sizeof *grown);
		for (size_t i = 0; i < w->cap_seen; i++) {
			if (is_zero(&old[i]))
				continue;
			size_t j = oid_hash(&old[i]) & (cap - 1);
			while (!is_zero(&grown[j]))
				j = (j + 1) & (cap - 1);
			grown[j] = old[i];
		}
		free(old);
		w->seen = grown;
		w->cap_seen = cap;
	}
	size_t j = oid_hash(id) & (w->cap_seen - 1);
	while (!is_zero(&w->seen[j])) {
		if (git_oid_equal(&w->seen[j], id))
			return 1;
		j = (j + 1) & (w->cap_seen - 1);
	}
	w->seen[j] = *id;
	w->n_seen++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const git_tree_entry *const *x = a, *const *y = b;
	return strcmp(git_tree_entry_name(*x), git_tree_entry_name(*y));
}

static int refuse(struct walk *w, const char *dir, const char *name, const char *why)
{
	err_set(w->err, "%s: '%s%s%s': %s; nothing of this commit is written",
	        w->label, dir, *dir ? "/" : "", name, why);
	return TREECHECK_REFUSED;
}

/* Check one tree's entries; queue its subtrees. */
static int check_one(struct walk *w, const git_tree *t, const char *dir)
{
	size_t n = git_tree_entrycount(t);
	const git_tree_entry **sorted = xcalloc(n ? n : 1, sizeof *sorted);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e), *why = treecheck_name(name, strlen(name));
		sorted[i] = e;
		if (!why && git_tree_entry_filemode(e) == GIT_FILEMODE_COMMIT)
			why = "a submodule: autodeploy does not deploy submodules (it would leave the folder "
			      "empty); vendor its files, or list its own checkout in AUTODEPLOY_EXTRA_REPOS";
		if (why)
			rc = refuse(w, dir, name, why);
	}
	/* Tree order sorts a folder "a" as "a/", so a file and a folder of
	 * one name need not be neighbours there: sort by the bare name. */
	if (rc == 0 && n > 1) {
		qsort(sorted, n, sizeof *sorted, by_name);
		for (size_t i = 1; i < n && rc == 0; i++)
			if (strcmp(git_tree_entry_name(sorted[i - 1]), git_tree_entry_name(sorted[i])) == 0)
				rc = refuse(w, dir, git_tree_entry_name(sorted[i]),
				            "two entries of one folder with this name (a path that may go through a symlink)");
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE || seen_before(w, git_tree_entry_id(e)))
			continue;
		ARRAY_GROW(w->todo, w->n_todo, w->cap_todo);
		w->todo[w->n_todo].id = *git_tree_entry_id(e);
		w->todo[w->n_todo].path = *dir ? xasprintf("%s/%s", dir, git_tree_entry_name(e))
		                               : xstrdup(git_tree_entry_name(e));
		w->n_todo++;
	}
	free(sorted);
	return rc;
}

int treecheck_tree(git_repository *r, const git_oid *tree, const char *label, char *err)
{
	struct walk w = { .r = r, .label = label, .err = err };
	int rc = 0;

	seen_before(&w, tree);
	ARRAY_GROW(w.todo, w.n_todo, w.cap_todo);
	w.todo[w.n_todo++] = (struct pending){ *tree, xstrdup("") };
	while (w.n_todo > 0 && rc == 0) {
		struct pending p = w.todo[--w.n_todo];
		git_tree *t = NULL;
		char hex[GIT_OID_HEXSZ + 1];
		if (git_tree_lookup(&t, r, &p.id) < 0) {
			git_oid_tostr(hex, sizeof hex, &p.id);
			rc = err_set(err, "%s: cannot read the tree %s of '%s': %s", label, hex,
			             *p.path ? p.path : "/", git_error_last() ? git_error_last()->message : "?");
		} else {
			rc = check_one(&w, t, p.path);
		}
		git_tree_free(t);
		free(p.path);
	}
	while (w.n_todo > 0)
		free(w.todo[--w.n_todo].path);
	free(w.todo);
	free(w.seen);
	return rc;
}

int treecheck_commit(git_repository *r, const git_oid *commit, char *err)
{
	git_commit *c = NULL;
	char label[GIT_OID_HEXSZ + 8];
	int rc;

	snprintf(label, sizeof label, "commit ");
	git_oid_tostr(label + 7, sizeof label - 7, commit);
	if (git_commit_lookup(&c, r, commit) < 0)
		rc = err_set(err, "%s: cannot read it: %s", label,
		             git_error_last() ? git_error_last()->message : "?");
	else
		rc = treecheck_tree(r, git_commit_tree_id(c), label, err);
	git_commit_free(c);
	return rc;
}
