/*
 * libFuzzer target for what deploy-notebooks reads from outside: the
 * operator's source entries (nbsource_parse) and a remote's tree objects
 * (publish_collect, publish_name_check).  The input is used three ways:
 *   - as a tree entry name: whatever publish_name_check accepts must be a
 *     plain file name (no '/', no NUL, not ".", "..", ".git", <= NAME_MAX);
 *   - as a source entry: whatever parses must have a URL and a SUBDIR
 *     whose every component the name check accepts;
 *   - as the raw bytes of a tree object in an in-memory repository, walked
 *     by publish_collect: every path it keeps must be made of accepted
 *     names and end in .ipynb; and checked by treecheck_tree: a tree it
 *     accepts has no two entries of one name and only names that
 *     treecheck_name accepts (fuzz/corpus/tree holds crafted trees: a
 *     symlink and a folder of one name, .GIT, an HFS+ spelling).
 *   make fuzz && build/fuzz/tree_fuzz fuzz/corpus/tree
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <git2.h>
#include <git2/sys/mempack.h>

#include "nbsource.h"
#include "publish.h"
#include "treecheck.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static git_repository *repo;
static git_odb_backend *mem;

static void setup(void)
{
	git_odb *odb = NULL;
	git_libgit2_init();
	/* Every input writes new objects: libgit2's object cache would keep
	 * them all (up to 256 MiB) and the fuzzer stop on its rss limit. */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	if (git_mempack_new(&mem) < 0 || git_odb_new(&odb) < 0 ||
	    git_odb_add_backend(odb, mem, 1) < 0 || git_repository_wrap_odb(&repo, odb) < 0)
		abort();
	git_odb_free(odb);
}

/* Every '/'-separated component of path passes the name check. */
static int components_ok(const char *path)
{
	while (*path) {
		const char *end = strchr(path, '/');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		if (publish_name_check(path, n) != NULL)
			return 0;
		path += n;
		if (*path == '/')
			path++;
	}
	return 1;
}

static void check_name(const uint8_t *data, size_t size)
{
	const char *why = publish_name_check((const char *)data, size);
	if (why)
		return;
	if (size == 0 || size > NAME_MAX || memchr(data, '/', size) || memchr(data, '\0', size) ||
	    (size == 1 && data[0] == '.') || (size == 2 && data[0] == '.' && data[1] == '.') ||
	    (size == 4 && strncasecmp((const char *)data, ".git", 4) == 0))
		abort();
}

static void check_source(const uint8_t *data, size_t size)
{
	char err[ERR_MAX];
	struct nbsource s;
	char *spec = xmalloc(size + 1);

	memcpy(spec, data, size);
	spec[size] = '\0';
	if (nbsource_parse(&s, spec, err) == 0) {
		if (!*s.url || !components_ok(s.subdir) || s.subdir[0] == '/' ||
		    (*s.subdir && s.subdir[strlen(s.subdir) - 1] == '/') || strstr(s.subdir, "//"))
			abort();
		nbsource_free(&s);
	}
	free(spec);
}

/* A tree treecheck accepts: every name is one it accepts, none twice. */
static void check_treecheck(const git_oid *tree)
{
	char err[ERR_MAX];
	git_tree *t = NULL;
	if (treecheck_tree(repo, tree, "fuzz", err) != 0)
		return;
	if (git_tree_lookup(&t, repo, tree) < 0)
		abort();
	size_t n = git_tree_entrycount(t);
	for (size_t i = 0; i < n; i++) {
		const char *a = git_tree_entry_name(git_tree_entry_byindex(t, i));
		if (treecheck_name(a, strlen(a)) != NULL ||
		    git_tree_entry_filemode(git_tree_entry_byindex(t, i)) == GIT_FILEMODE_COMMIT)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(a, git_tree_entry_name(git_tree_entry_byindex(t, j))) == 0)
				abort();
	}
	git_tree_free(t);
}

static void check_tree(const uint8_t *data, size_t size)
{
	char err[ERR_MAX], hex[GIT_OID_HEXSZ + 1];
	git_odb *odb = NULL;
	git_oid tree, commit;
	struct publish_set set = { 0 };
	struct publish_limits lim = { .max_files = 100, .max_bytes = 1 << 20, .dest = "/srv/nb" };

	if (git_repository_odb(&odb, repo) < 0)
		abort();
	/* a blob and a tree from the same bytes, so entries may name either */
	git_oid blob;
	git_odb_write(&blob, odb, data, size, GIT_OBJECT_BLOB);
	if (git_odb_write(&tree, odb, data, size, GIT_OBJECT_TREE) == 0) {
		check_treecheck(&tree);
		char *c = xasprintf("tree %s\nauthor F <f@x> 0 +0000\ncommitter F <f@x> 0 +0000\n\nf\n",
		                    git_oid_tostr(hex, sizeof hex, &tree));
		if (git_odb_write(&commit, odb, c, strlen(c), GIT_OBJECT_COMMIT) == 0 &&
		    publish_collect(&set, repo, &commit, "", &lim, "fuzz", 0, err) == 0) {
			publish_settle(&set, NULL, NULL);
			for (size_t i = 0; i < set.n; i++) {
				size_t len = strlen(set.files[i].path);
				if (!components_ok(set.files[i].path) || len <= 6 ||
				    strcmp(set.files[i].path + len - 6, ".ipynb") != 0)
					abort();
			}
		}
		free(c);
	}
	publish_set_free(&set);
	git_odb_free(odb);
	git_mempack_reset(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!repo)
		setup();
	check_name(data, size);
	check_source(data, size);
	check_tree(data, size);
	return 0;
}
