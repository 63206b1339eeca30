/* remote: a session with one remote.  See remote.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "auth.h"
#include "remote.h"
#include "repo.h"
#include "url.h"
#include "util.h"

/*
 * Whose fault a failed remote operation is, from libgit2's error class:
 * the remote's (REMOTE_UNREACHABLE: network, ssh, credentials, host key), our
 * disk's (-1: a full or read-only file system under the checkout, memory)
 * or the data's (REMOTE_BADDATA: objects that are not what they claim).  A
 * file-system error counts as ours when it names our repository: with a
 * local path remote, reading the remote fails with the same classes.
 */
int remote_exitcode(int rc)
{
	return rc == REMOTE_UNREACHABLE ? EXIT_UNAVAILABLE : rc == REMOTE_BADDATA ? EXIT_DATAERR : EXIT_IOERR;
}

static int remote_fault(const git_error *e, git_remote *rem)
{
	if (!e)
		return REMOTE_UNREACHABLE;
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
		return ours && e->message && strstr(e->message, ours) ? -1 : REMOTE_UNREACHABLE;
	}
	case GIT_ERROR_OBJECT:
	case GIT_ERROR_INVALID:
	case GIT_ERROR_TREE:
		return REMOTE_BADDATA;
	default:
		return REMOTE_UNREACHABLE;
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

void remote_refs_free(struct remote_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
}

int remote_open(git_remote **out, git_repository *r, const char *name, char *err)
{
	if (git_remote_lookup(out, r, name) < 0)
		return repo_git_err(err, "no remote '%s' in '%s'", name, repo_where(r));
	return 0;
}

void remote_close(git_remote *rem)
{
	if (!rem)
		return;
	if (git_remote_connected(rem))
		git_remote_disconnect(rem);
	git_remote_free(rem);
}

int remote_tracking(char **out, git_remote *rem, const char *merge_ref, char *err)
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

int remote_ls(struct remote_ref **refs, size_t *n, git_remote *rem, struct repo_auth *auth, char *err)
{
	git_remote_callbacks cb;
	const git_remote_head **heads = NULL;
	size_t nheads = 0, count = 0;
	struct remote_ref *out = NULL;

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

int remote_fetch(git_repository *r, git_remote *rem, const char *remote_ref,
                      const char *local_ref, const git_oid *want, const git_oid *ref_oid,
                      struct repo_auth *auth, char *err)
{
	git_odb *odb = NULL;
	git_reference *ref = NULL;
	int ret = -1;
	char *spec = NULL;

	if (git_repository_odb(&odb, r) < 0)
		return repo_git_err(err, "cannot open the object store of '%s'", repo_where(r));
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
		/* On the connection remote_ls opened, when there is one:
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
		repo_git_err(err, "cannot update '%s' in '%s'", local_ref, repo_where(r));
		goto out;
	}
	ret = 0;
out:
	git_reference_free(ref);
	git_odb_free(odb);
	free(spec);
	return ret;
}

int remote_ls_once(struct remote_ref **refs, size_t *n, git_repository *r,
                   const char *remote_name, struct repo_auth *auth, char *err)
{
	git_remote *rem = NULL;
	*refs = NULL;
	*n = 0;
	if (remote_open(&rem, r, remote_name, err) < 0)
		return -1;
	int ret = remote_ls(refs, n, rem, auth, err);
	remote_close(rem);
	return ret;
}

int remote_fetch_once(git_repository *r, const char *remote_name, const char *remote_ref,
                   const char *local_ref, const git_oid *want, struct repo_auth *auth, char *err)
{
	git_remote *rem = NULL;
	if (remote_open(&rem, r, remote_name, err) < 0)
		return -1;
	int ret = remote_fetch(r, rem, remote_ref, local_ref, want, NULL, auth, err);
	remote_close(rem);
	return ret;
}

