/*
 * repo: what the programs ask of a local repository through libgit2 (open,
 * state, commits, trees, diffs, files), with libgit2's message in errors.
 *
 *   repo_global_init();                       once, in main
 *   git_repository *r;
 *   int rc = repo_open(&r, "/srv/stack", err); REPO_NOTFOUND: not a checkout
 *   ...
 *   git_repository_free(r);
 *   repo_global_shutdown();
 *
 * Remotes are remote.h's.
 */
#ifndef AUTODEPLOY_REPO_H
#define AUTODEPLOY_REPO_H

#include <stddef.h>
#include <git2.h>

#define REPO_NOTFOUND (-2)   /* folder missing, or not inside a work tree */

void repo_global_init(void);
void repo_global_shutdown(void);


/* For messages: the work tree, or the git folder of a bare repository. */
const char *repo_where(git_repository *r);

/* Fill err with "what: <libgit2's last error>" and return -1. */
int repo_git_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open the checkout whose work tree holds the folder `path` (searching
 * upwards, as git does; not across file systems).  Checkouts owned by
 * another user are opened too (repo_global_init turns libgit2's owner
 * check off). */
int repo_open(git_repository **out, const char *path, char *err);

/* *clean = 1 when the work tree and index match HEAD and nothing is
 * untracked (ignored files do not count).  When unclean, `first` gets the
 * first offending path (for the message). */
int repo_is_clean(int *clean, char *first, size_t firstlen, git_repository *r, char *err);

/* The tree of commit `id`. */
int repo_commit_tree(git_tree **tree, git_repository *r, const git_oid *id, char *err);


/* The commit HEAD points at. */
int repo_head_commit(git_oid *out, git_repository *r, char *err);

/* Name of the checked-out branch (malloc'd) or NULL when detached/unborn. */
char *repo_current_branch(git_repository *r);

/* The upstream of local branch `branch`: remote name ("origin", "." for a
 * local upstream) and the ref on the remote ("refs/heads/main"), both
 * malloc'd.  Returns REPO_NOTFOUND when the branch has no upstream. */
int repo_upstream(char **remote, char **merge_ref, git_repository *r, const char *branch, char *err);

/* Commits in `local` not in `upstream` (ahead) and the reverse (behind). */
int repo_ahead_behind(size_t *ahead, size_t *behind, git_repository *r,
                      const git_oid *local, const git_oid *upstream, char *err);

/* Paths that differ between the trees of two commits (both sides of a
 * rename), as a NULL-terminated malloc'd list; free with repo_paths_free. */
int repo_changed_paths(char ***out, size_t *n, git_repository *r,
                       const git_oid *from, const git_oid *to, char *err);
void repo_paths_free(char **paths);

/* `git diff --name-status` of two commits, renames found as git finds
 * them by default: one "X<TAB>path" per change, X one of A, D, M, T, or
 * "R<similarity><TAB>old<TAB>new" (R100: unchanged content); free with
 * repo_paths_free. */
int repo_changed_status(char ***out, size_t *n, git_repository *r,
                        const git_oid *from, const git_oid *to, char *err);

/* Read the file at `path` of commit's tree (a blob of mode 100644 or
 * 100755: a symlink or folder is not a file): returns 1 with *data and
 * *len (malloc'd, NUL-terminated), 0 when absent, -1 on error. */
int repo_read_file(char **data, size_t *len, git_repository *r,
                   const git_oid *commit, const char *path, char *err);

/* Where the folder `path` lies inside r's work tree, compared as real
 * paths: "" for the top, "birdhouse" for <top>/birdhouse; malloc'd. */
char *repo_subdir(git_repository *r, const char *path);


#endif
