/*
 * publish: which files of git trees are published (SPEC.md
 * "deploy-notebooks"): the walk, its refusals and limits, and the clashes
 * between sources.
 *
 *   struct publish_set set = { 0 };
 *   for each source:
 *       publish_collect(&set, repo, &commit, subdir, &lim, label, i, err)
 *           PUBLISH_REFUSED -> 65, PUBLISH_NOSUBDIR -> 78, -1 -> 74
 *   publish_settle(&set, on_clash, ctx);       later sources win
 *   stage_write(&set, dest, &owner, err)       stage.h: -1 -> 74 (dest untouched)
 *   publish_set_free(&set);
 *
 * publish_collect walks the tree under SUBDIR and keeps the *.ipynb blobs,
 * refusing the whole source when anything under SUBDIR could escape or
 * confuse the destination: a symlink (mode 120000), a submodule (a commit
 * entry, 160000), a name publish_name_check refuses, a path too long for
 * the destination, or more files or bytes than the limits allow.
 *
 * Writing and swapping the set in is stage.h's.
 */
#ifndef AUTODEPLOY_PUBLISH_H
#define AUTODEPLOY_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include <git2.h>

#include "util.h"

#define PUBLISH_REFUSED (-2)   /* the tree holds something we will not publish */
#define PUBLISH_NOSUBDIR (-3)  /* SUBDIR is not a folder of the tree */
/* ".staging.XXXXXX" and the '.' and '/' around the name: what a staging
 * path (stage.h) has beyond the destination's own path, with slack. */
#define PUBLISH_STAGING_EXTRA 24

struct publish_file {
	char *path;             /* relative to the destination, '/'-separated */
	git_repository *repo;   /* borrowed: the repository holding the blob */
	git_oid blob;
	uint64_t size;
	size_t source;          /* index of the source it came from */
	size_t seq;             /* order of collection (internal) */
};

struct publish_set {
	struct publish_file *files;
	size_t n, cap;
};

/* What publish_collect takes of one source and how much of it. */
struct publish_limits {
	long max_files;          /* per source */
	uint64_t max_bytes;      /* per source, the files taken only */
	long max_entries;        /* per source, every entry visited (0: no bound) */
	const char *dest;        /* paths must fit below it (PATH_MAX) */
	const char *into;        /* NULL or "": the top; else a folder below dest (checked) */
	int whole;               /* every regular file, not only *.ipynb */
};

/* Why a tree entry name may not be published, or NULL when it may: empty,
 * ".", "..", ".git" (any case), holding '/' or NUL, longer than NAME_MAX.
 * len is the name's length (the name need not be NUL-terminated). */
const char *publish_name_check(const char *name, size_t len);

/* Add the *.ipynb blobs under subdir ("" for the root) of commit's tree to
 * set.  Messages name the source (label) and the path in the tree.  On
 * failure nothing of this source stays in the set. */
int publish_collect(struct publish_set *set, git_repository *r, const git_oid *commit,
                    const char *subdir, const struct publish_limits *lim,
                    const char *label, size_t source, char *err);

/* Sort the set and resolve clashes: for one path, or a file where another
 * source has a folder, the later source wins.  on_clash (may be NULL) is
 * called once per dropped file with its path and both source indexes. */
typedef void publish_clash_fn(const char *path, size_t loser, size_t winner, void *ctx);
void publish_settle(struct publish_set *set, publish_clash_fn *on_clash, void *ctx);

/* The index in a settled set of the file whose path is key[0, len), or
 * -1 (a binary search). */
long publish_find(const struct publish_set *set, const char *key, size_t len);

void publish_set_free(struct publish_set *set);


#endif
