/*
 * repo: the libgit2 layer.  Everything the programs ask of a checkout or a
 * remote goes through here, so that errors carry libgit2's message and
 * remote URLs are redacted before they reach a message.
 *
 *   repo_global_init();                       once, in main
 *   git_repository *r;
 *   int rc = repo_open(&r, "/srv/stack", err); REPO_NOTFOUND: not a checkout
 *   ...
 *   git_repository_free(r);
 *   repo_global_shutdown();
 *
 * Remote access (repo_ls_remote, repo_fetch_ref) takes a struct repo_auth
 * (auth.h): the settings that say which ssh keys and host keys to trust and
 * the checkout's name for its per-repo deploy key.
 */
#ifndef AUTODEPLOY_REPO_H
#define AUTODEPLOY_REPO_H

#include <stddef.h>
#include <git2.h>

#include "auth.h"

struct settings;

#define REPO_NOTFOUND (-2)   /* folder missing, or not inside a work tree */
#define REPO_UNREACHABLE (-3) /* the remote could not be reached or refused us */
#define REPO_BADDATA (-4)     /* the remote sent objects that are not what they claim */

void repo_global_init(void);
void repo_global_shutdown(void);


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

/* 1 when commit's tree holds a submodule (a gitlink entry), its path
 * into path; 0 when none does; -1 on error. */
int repo_find_gitlink(char *path, size_t len, git_repository *r, const git_oid *commit, char *err);

/* The commit HEAD points at. */
int repo_head_commit(git_oid *out, git_repository *r, char *err);

/* Name of the checked-out branch (malloc'd) or NULL when detached/unborn. */
char *repo_current_branch(git_repository *r);

/* The upstream of local branch `branch`: remote name ("origin", "." for a
 * local upstream) and the ref on the remote ("refs/heads/main"), both
 * malloc'd.  Returns REPO_NOTFOUND when the branch has no upstream. */
int repo_upstream(char **remote, char **merge_ref, git_repository *r, const char *branch, char *err);

struct repo_ref {
	char *name;       /* e.g. refs/heads/main, refs/tags/1.2.0 */
	git_oid oid;      /* what the ref points at, peeled to the commit for annotated tags */
	git_oid ref_oid;  /* what the ref itself names: an annotated tag's tag object */
};

/*
 * A remote session: look the remote up once, list its refs (the ref
 * advertisement only: no object is transferred), fetch on the same
 * connection when needed, close.  Debian's libgit2 1.5 leaks memory on
 * every remote lookup, and an ssh connection costs a handshake: one of
 * each per checkout.
 *
 *   git_remote *rem;
 *   repo_remote_open(&rem, r, "origin", err);
 *   repo_remote_ls(&refs, &n, rem, &auth, err);
 *   repo_remote_fetch(r, rem, "refs/heads/main", "refs/remotes/origin/main", &tip, &auth, err);
 *   repo_remote_close(rem);
 *
 * Errors reaching the remote return REPO_UNREACHABLE, bad objects from it
 * REPO_BADDATA, our own disk failing (full, read-only) -1; err never holds URL
 * credentials.
 */
int repo_remote_open(git_remote **out, git_repository *r, const char *name, char *err);
void repo_remote_close(git_remote *rem);

/* The local ref that follows merge_ref through the remote's fetch
 * refspecs (refs/heads/main -> refs/remotes/origin/main), malloc'd. */
int repo_remote_tracking(char **out, git_remote *rem, const char *merge_ref, char *err);

/* *refs is a malloc'd array; free with repo_refs_free.  The connection
 * stays open for repo_remote_fetch. */
int repo_remote_ls(struct repo_ref **refs, size_t *n, git_remote *rem, struct repo_auth *auth, char *err);
void repo_refs_free(struct repo_ref *refs, size_t n);

/* Make sure `want` is present and `local_ref` points at it (at ref_oid
 * instead when not NULL: an annotated tag's object, so that a local tag
 * stays identical to the remote's and `git fetch --tags` never finds it
 * clobbered): when the objects are already in the local store only the
 * ref is moved, otherwise `remote_ref` is fetched into the store.  No
 * transfer at all when nothing moved. */
int repo_remote_fetch(git_repository *r, git_remote *rem, const char *remote_ref,
                      const char *local_ref, const git_oid *want, const git_oid *ref_oid,
                      struct repo_auth *auth, char *err);

/* The same, each in its own session, for callers that do one thing. */
int repo_ls_remote(struct repo_ref **refs, size_t *n, git_repository *r,
                   const char *remote_name, struct repo_auth *auth, char *err);
int repo_fetch_ref(git_repository *r, const char *remote_name, const char *remote_ref,
                   const char *local_ref, const git_oid *want, struct repo_auth *auth, char *err);

/* Commits in `local` not in `upstream` (ahead) and the reverse (behind). */
int repo_ahead_behind(size_t *ahead, size_t *behind, git_repository *r,
                      const git_oid *local, const git_oid *upstream, char *err);

/* Paths that differ between the trees of two commits (both sides of a
 * rename), as a NULL-terminated malloc'd list; free with repo_paths_free. */
int repo_changed_paths(char ***out, size_t *n, git_repository *r,
                       const git_oid *from, const git_oid *to, char *err);
void repo_paths_free(char **paths);

/* `git diff --name-status` of two commits (no rename detection): one
 * "X<TAB>path" per change, X one of A, D, M, T; free with repo_paths_free. */
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

/* Compare two version strings (1.10.0 > 1.9.3; numbers compared as
 * numbers, other characters as characters): <0, 0, >0. */
int repo_version_cmp(const char *a, const char *b);

#endif
