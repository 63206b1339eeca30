/*
 * remote: a session with a checkout's remote through libgit2: list its
 * refs, fetch what moved, with the credentials and host keys of auth.h,
 * URLs redacted and secrets scrubbed from every message (url.h), and each
 * failure classed by whose fault it is.
 */
#ifndef AUTODEPLOY_REMOTE_H
#define AUTODEPLOY_REMOTE_H

#include <stddef.h>
#include <git2.h>

#include "auth.h"

#define REMOTE_UNREACHABLE (-3) /* the remote could not be reached or refused us */
#define REMOTE_BADDATA (-4)     /* the remote sent objects that are not what they claim */

/* The exit code of a failed remote operation: REMOTE_UNREACHABLE 69,
 * REMOTE_BADDATA 65, anything else (our own disk) 74. */
int remote_exitcode(int rc);

struct remote_ref {
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
 *   remote_open(&rem, r, "origin", err);
 *   remote_ls(&refs, &n, rem, &auth, err);
 *   remote_fetch(r, rem, "refs/heads/main", "refs/remotes/origin/main", &tip, &auth, err);
 *   remote_close(rem);
 *
 * Errors reaching the remote return REMOTE_UNREACHABLE, bad objects from it
 * REMOTE_BADDATA, our own disk failing (full, read-only) -1; err never holds URL
 * credentials.
 */
int remote_open(git_remote **out, git_repository *r, const char *name, char *err);
void remote_close(git_remote *rem);

/* The local ref that follows merge_ref through the remote's fetch
 * refspecs (refs/heads/main -> refs/remotes/origin/main), malloc'd. */
int remote_tracking(char **out, git_remote *rem, const char *merge_ref, char *err);

/* *refs is a malloc'd array; free with remote_refs_free.  The connection
 * stays open for remote_fetch. */
int remote_ls(struct remote_ref **refs, size_t *n, git_remote *rem, struct repo_auth *auth, char *err);
void remote_refs_free(struct remote_ref *refs, size_t n);

/* Make sure `want` is present and `local_ref` points at it (at ref_oid
 * instead when not NULL: an annotated tag's object, so that a local tag
 * stays identical to the remote's and `git fetch --tags` never finds it
 * clobbered): when the objects are already in the local store only the
 * ref is moved, otherwise `remote_ref` is fetched into the store.  No
 * transfer at all when nothing moved. */
int remote_fetch(git_repository *r, git_remote *rem, const char *remote_ref,
                      const char *local_ref, const git_oid *want, const git_oid *ref_oid,
                      struct repo_auth *auth, char *err);

/* The same, each in its own session, for callers that do one thing. */
int remote_ls_once(struct remote_ref **refs, size_t *n, git_repository *r,
                   const char *remote_name, struct repo_auth *auth, char *err);
int remote_fetch_once(git_repository *r, const char *remote_name, const char *remote_ref,
                   const char *local_ref, const git_oid *want, struct repo_auth *auth, char *err);

#endif
