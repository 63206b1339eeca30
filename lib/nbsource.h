/*
 * nbsource: one entry of AUTODEPLOY_NOTEBOOK_SOURCES, from its text to the
 * commit whose tree deploy-notebooks publishes (SPEC.md "deploy-notebooks").
 *
 * An entry is URL, URL#REF, URL#REF:PLACE or URL#:PLACE, where PLACE is
 * SUBDIR, SUBDIR/\** (every file, not only *.ipynb), either followed by
 * >DEST (publish into that folder below the destination, e.g.
 * URL#main:docs>hydro/paper).  The place exists only after the first '#'
 * (a ref name never holds ':'), so an scp-like URL such as
 * git@host:org/repo.git parses unambiguously.
 *
 *   struct nbsource src;
 *   if (nbsource_parse(&src, "https://h/x.git#main:docs", err) < 0) -> 78
 *   nbsource_open_cache(&src, settings.state_dir, err)        -> 74
 *   nbsource_ls(&src, &auth, err)     REMOTE_UNREACHABLE -> 69,
 *                                     NBSOURCE_NOREF -> 78, else 74
 *   ... src.commit is the remote's tip of REF ...
 *   nbsource_fetch(&src, &auth, err)  only transfers what is missing
 *   nbsource_free(&src);
 *
 * Each URL has its own bare cache repository,
 * STATE_DIR/notebook-cache/<sha1 of the URL>, with the URL as its remote
 * "origin"; the fetched tip is kept under refs/autodeploy/<remote ref> so
 * that several sources may share one cache.
 */
#ifndef AUTODEPLOY_NBSOURCE_H
#define AUTODEPLOY_NBSOURCE_H

#include <stddef.h>
#include <git2.h>

#include "auth.h"
#include "remote.h"
#include "repo.h"

#define NBSOURCE_NOREF (-2)   /* the remote has no such ref (or no default branch) */

struct nbsource {
	char *spec;        /* the entry as written in the config */
	char *url;
	char *ref;         /* NULL: the remote's default branch */
	char *subdir;      /* "" for the root; no leading, trailing or doubled '/' */
	char *into;        /* ">DEST": "" for the top of the destination, same form */
	int whole;         /* "/\**": every regular file, not only *.ipynb */
	char *label;       /* the entry with the URL's credentials shown as *** (for messages) */

	char *cache_path;  /* set by nbsource_open_cache */
	git_repository *cache;
	char *remote_ref;  /* set by nbsource_ls: the full ref name fetched */
	git_oid commit;    /* set by nbsource_ls: the commit it points at */
};

/* Split and check an entry (libgit2 checks the ref name: call
 * repo_global_init() first).  The message names the entry (redacted) and
 * what is wrong with it; the caller adds the file, line and key. */
int nbsource_parse(struct nbsource *out, const char *spec, char *err);
void nbsource_free(struct nbsource *s);

/* The pure part of nbsource_ls: pick, from a ref advertisement, the ref
 * that `ref` names (NULL: the default branch, i.e. the branch that the
 * advertised HEAD points at; when several do, refs/heads/main, then
 * master, then the first; "HEAD" itself when no branch matches).  A short
 * name is tried as refs/heads/NAME, then refs/tags/NAME.  *remote_ref is
 * malloc'd.  Returns NBSOURCE_NOREF when nothing matches. */
int nbsource_resolve(char **remote_ref, git_oid *oid, const char *ref,
                     const struct remote_ref *refs, size_t n, char *err);

/* Open (creating it the first time) the bare cache for s->url under
 * state_dir/notebook-cache.  A cache that cannot be opened is removed and
 * made again: it holds nothing that cannot be fetched. */
int nbsource_open_cache(struct nbsource *s, const char *state_dir, char *err);

/* Ask the remote for its refs and set s->remote_ref and s->commit. */
int nbsource_ls(struct nbsource *s, struct repo_auth *auth, char *err);

/* Make s->commit present in the cache (no transfer when it already is). */
int nbsource_fetch(struct nbsource *s, struct repo_auth *auth, char *err);

#endif
