#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drift.h"
#include "remote.h"
#include "repo.h"
#include "settings.h"
#include "treecheck.h"
#include "util.h"
#include "verify.h"


static const char *const names[] = {
	[DRIFT_UP_TO_DATE] = "up-to-date",
	[DRIFT_AHEAD] = "ahead",
	[DRIFT_DEPLOY] = "deploy",
	[DRIFT_PULL_ONLY] = "pull-only",
	[DRIFT_DIVERGED] = "diverged",
	[DRIFT_UNCLEAN] = "unclean",
	[DRIFT_NO_UPSTREAM] = "no-upstream",
	[DRIFT_MISSING] = "missing",
	[DRIFT_ERROR] = "error",
	[DRIFT_UNVERIFIED] = "unverified",
	[DRIFT_QUARANTINED] = "quarantined",
	[DRIFT_FROZEN] = "frozen",
	[DRIFT_DEFERRED] = "deferred",
};

const char *drift_decision_name(enum drift_decision d)
{
	return names[d];
}

int drift_is_due(const struct drift *d)
{
	switch (d->decision) {
	case DRIFT_DEPLOY:
	case DRIFT_PULL_ONLY:
		return 1;
	case DRIFT_UNCLEAN:
	case DRIFT_DIVERGED:
		return d->have_remote && d->behind > 0;
	default:
		return 0;
	}
}

void drift_set(struct drift *d, enum drift_decision dec, int code, const char *reason)
{
	d->decision = dec;
	d->exit_code = code;
	snprintf(d->reason, sizeof d->reason, "%s", reason);
}

/* Tags compared as versions: runs of digits as numbers (1.10.0 > 1.9.3),
 * everything else byte by byte; <0, 0, >0 as strcmp. */
static int version_cmp(const char *a, const char *b)
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

/* Highest version among tags (without "refs/tags/") matching glob. */
static const struct remote_ref *best_tag(const struct remote_ref *refs, size_t n, const char *glob)
{
	const struct remote_ref *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(refs[i].name, "refs/tags/", 10) != 0)
			continue;
		const char *tag = refs[i].name + 10;
		if (fnmatch(glob, tag, 0) != 0)
			continue;
		if (!best || version_cmp(tag, best->name + 10) > 0)
			best = &refs[i];
	}
	return best;
}

/* The local tags as a ref list (peeled to commits), for --no-fetch. */
static int local_tags(struct remote_ref **out, size_t *n, git_repository *r, char *err)
{
	git_strarray names = { 0 };
	*out = NULL;
	*n = 0;
	if (git_tag_list(&names, r) < 0)
		return repo_git_err(err, "cannot list tags of '%s'", git_repository_workdir(r));
	struct remote_ref *refs = xcalloc(names.count ? names.count : 1, sizeof *refs);
	size_t k = 0;
	for (size_t i = 0; i < names.count; i++) {
		git_object *obj = NULL;
		char *spec = xasprintf("refs/tags/%s^{commit}", names.strings[i]);
		if (git_revparse_single(&obj, r, spec) == 0) {
			refs[k].name = xasprintf("refs/tags/%s", names.strings[i]);
			git_oid_cpy(&refs[k].oid, git_object_id(obj));
			if (git_reference_name_to_id(&refs[k].ref_oid, r, refs[k].name) < 0)
				git_oid_cpy(&refs[k].ref_oid, &refs[k].oid);
			k++;
		}
		git_object_free(obj);
		free(spec);
	}
	git_strarray_dispose(&names);
	*out = refs;
	*n = k;
	return 0;
}

static int lookup_ref(git_oid *out, git_repository *r, const char *name)
{
	git_object *obj = NULL;
	char *spec = xasprintf("%s^{commit}", name);
	int rc = git_revparse_single(&obj, r, spec);
	if (rc == 0)
		git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	free(spec);
	return rc;
}

/* The remote and the ref the checkout follows, from its branch's
 * upstream; tag mode needs no upstream ("origin" then).  Returns 0, or -1
 * after drift_set(). */
static int find_upstream(struct drift *d, git_repository *r, const struct settings *s)
{
	char err[ERR_MAX];
	int rc;

	if (d->branch) {
		rc = repo_upstream(&d->remote, &d->remote_ref, r, d->branch, err);
		if (rc == REPO_NOTFOUND && !s->track_tags) {
			size_t len = strlen(err);
			snprintf(err + len, sizeof err - len,
			         "; set one with 'git branch --set-upstream-to=origin/%s'", d->branch);
			drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
			return -1;
		}
		if (rc < 0 && rc != REPO_NOTFOUND) {
			drift_set(d, DRIFT_ERROR, EXIT_IOERR, err);
			return -1;
		}
	} else if (!s->track_tags) {
		drift_set(d, DRIFT_NO_UPSTREAM, 0, "detached HEAD: no branch to follow; check out the branch to deploy, "
		    "or set AUTODEPLOY_TRACK=tag:GLOB to follow tags");
		return -1;
	}
	if (!d->remote)
		d->remote = xstrdup("origin"); /* tag mode on a detached HEAD */
	return 0;
}

/* AUTODEPLOY_TRACK=tag:GLOB: the highest matching tag, from the remote
 * (rem NULL: the upstream is local) or, without fetching, from the tags
 * already here.  *tag_obj is the object the tag ref names (an annotated
 * tag is fetched with it).  Returns 0, or -1 after drift_set(). */
static int track_tag(struct drift *d, git_oid *tag_obj, git_repository *r, git_remote *rem,
                     struct repo_auth *auth, int fetch, const char *glob)
{
	struct remote_ref *refs = NULL;
	size_t nrefs = 0;
	char err[ERR_MAX];
	int rc, ret = -1;

	free(d->remote_ref);
	d->remote_ref = NULL;
	rc = fetch && rem ? remote_ls(&refs, &nrefs, rem, auth, err) : local_tags(&refs, &nrefs, r, err);
	if (rc < 0) {
		drift_set(d, DRIFT_ERROR, remote_exitcode(rc), err);
		goto out;
	}
	const struct remote_ref *best = best_tag(refs, nrefs, glob);
	if (!best) {
		snprintf(err, sizeof err, "no tag %s matches '%s'", fetch ? "on the remote" : "fetched yet", glob);
		drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
		goto out;
	}
	d->remote_ref = xstrdup(best->name);
	d->upstream = xstrdup(best->name);
	git_oid_cpy(&d->target, &best->oid);
	git_oid_cpy(tag_obj, &best->ref_oid);
	ret = 0;
out:
	remote_refs_free(refs, nrefs);
	return ret;
}

/* A local branch as upstream ("." as its remote): nothing to ask anyone.
 * Returns 0, or -1 after drift_set(). */
static int track_local_branch(struct drift *d, git_repository *r)
{
	d->upstream = xstrdup(d->remote_ref);
	if (lookup_ref(&d->target, r, d->remote_ref) < 0) {
		drift_set(d, DRIFT_NO_UPSTREAM, 0, "the upstream branch does not exist");
		return -1;
	}
	return 0;
}

/* A remote branch as upstream: where the remote has it now, or without
 * fetching, where its remote-tracking ref was left.  Returns 0, or -1
 * after drift_set(). */
static int track_remote_branch(struct drift *d, git_repository *r, git_remote *rem,
                               struct repo_auth *auth, int fetch)
{
	struct remote_ref *refs = NULL;
	size_t nrefs = 0, i;
	char err[ERR_MAX];
	int rc, ret = -1;

	rc = remote_tracking(&d->upstream, rem, d->remote_ref, err);
	if (rc < 0) {
		drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
		return -1;
	}
	if (!fetch) {
		if (lookup_ref(&d->target, r, d->upstream) == 0)
			return 0;
		snprintf(err, sizeof err, "'%s' has not been fetched yet (run without --no-fetch)", d->upstream);
		drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
		return -1;
	}
	rc = remote_ls(&refs, &nrefs, rem, auth, err);
	if (rc < 0) {
		drift_set(d, DRIFT_ERROR, remote_exitcode(rc), err);
		goto out;
	}
	for (i = 0; i < nrefs && strcmp(refs[i].name, d->remote_ref) != 0; i++)
		;
	if (i == nrefs) {
		snprintf(err, sizeof err, "'%s' no longer exists on remote '%s': "
		         "point the branch at another upstream (git branch --set-upstream-to)",
		         d->remote_ref, d->remote);
		drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
		goto out;
	}
	git_oid_cpy(&d->target, &refs[i].oid);
	ret = 0;
out:
	remote_refs_free(refs, nrefs);
	return ret;
}

/* Find what the checkout follows and where it is now: fills remote,
 * remote_ref, upstream and target, on one remote session.  Returns 0, or
 * -1 after drift_set(). */
static int find_target(struct drift *d, git_repository *r, const struct drift_opts *o)
{
	const struct settings *s = o->settings;
	/* the deploy key is named after the work tree (birdhouse's
	 * `basename $(git rev-parse --show-toplevel)`), not the configured
	 * folder inside it */
	struct repo_auth auth = { .settings = s, .checkout = git_repository_workdir(r) };
	git_remote *rem = NULL;
	char err[ERR_MAX];
	int rc, ret = -1, local;
	git_oid tag_obj;                /* tag mode: the object the tag ref names */

	if (find_upstream(d, r, s) < 0)
		return -1;
	/* "." is a local branch as upstream: nothing to ask anyone */
	local = strcmp(d->remote, ".") == 0;
	if (!local && remote_open(&rem, r, d->remote, err) < 0) {
		drift_set(d, DRIFT_NO_UPSTREAM, 0, err);
		goto out;
	}

	if (s->track_tags)
		rc = track_tag(d, &tag_obj, r, rem, &auth, o->fetch, s->tag_glob);
	else if (local)
		rc = track_local_branch(d, r);
	else
		rc = track_remote_branch(d, r, rem, &auth, o->fetch);
	if (rc < 0)
		goto out;
	if (s->track_tags) {
		git_oid_cpy(&d->tag, &tag_obj);
		d->have_tag = 1;
	}

	/* Bring the wanted commit here now, so that every later step (and
	 * run-deploy's downtime window) works on local objects only. */
	if (o->fetch && !local) {
		rc = remote_fetch(r, rem, d->remote_ref, d->upstream, &d->target,
		                       s->track_tags ? &tag_obj : NULL, &auth, err);
		if (rc < 0) {
			drift_set(d, DRIFT_ERROR, remote_exitcode(rc), err);
			goto out;
		}
	}
	d->have_remote = 1;
	ret = 0;
out:
	remote_close(rem);
	return ret;
}

/*
 * SPEC.md "Verified commits": what a deploy would bring must be signed by
 * an allowed key.  Decided here, so that check-drift shows it, the
 * conditional trigger of an unverified commit never runs (trigger_apply
 * looks at deploy decisions only) and run-deploy refuses before anything
 * stops.  A verifier that cannot run refuses too: nothing unverified
 * deploys.  Returns 0 to go on, -1 after drift_set().
 */
static int verify_target(struct drift *d, git_repository *r, const struct settings *s)
{
	enum verify_level level = settings_verify_level(s, d->path);
	struct verify_keys k = { s->allowed_signers, s->gpg_keyring };
	struct verify_verdict v;
	char err[ERR_MAX], what[512], buf[sizeof d->reason], hex[13];
	int rc;

	if (level == VERIFY_NO)
		return 0;
	rc = verify_range(&v, r, &k, level, &d->local, &d->target, d->have_tag ? &d->tag : NULL, err);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		snprintf(buf, sizeof buf, "cannot verify the signatures up to %s: %.900s; nothing deploys unverified",
		         git_oid_tostr(hex, sizeof hex, &d->target), err);
	} else {
		verify_describe(what, sizeof what, &v);
		snprintf(buf, sizeof buf, "%s (AUTODEPLOY_VERIFY=%s): not deployed; %s must be signed by a key of "
		         "AUTODEPLOY_ALLOWED_SIGNERS or AUTODEPLOY_GPG_KEYRING", what, verify_level_name(level),
		         d->have_tag ? "the tag" : level == VERIFY_ALL ? "every new commit" : "the new tip");
	}
	drift_set(d, DRIFT_UNVERIFIED, EXIT_DATAERR, buf);
	return -1;
}

static void drift_check(struct drift *d, const char *path, const struct drift_opts *o)
{
	git_repository *r = NULL;
	char err[ERR_MAX], first[512], buf[1024], lhex[12], rhex[12];
	int rc, clean = 1;

	memset(d, 0, sizeof *d);
	d->path = xstrdup(path);
	rc = repo_open(&r, path, err);
	if (rc == REPO_NOTFOUND) {
		size_t len = strlen(err);
		snprintf(err + len, sizeof err - len,
		         ": clone it there, or fix AUTODEPLOY_COMPOSE_DIR / AUTODEPLOY_EXTRA_REPOS");
		drift_set(d, DRIFT_MISSING, 0, err);
		goto out;
	}
	if (rc < 0 || repo_is_clean(&clean, first, sizeof first, r, err) < 0) {
		drift_set(d, DRIFT_ERROR, EXIT_IOERR, err);
		goto out;
	}
	d->branch = repo_current_branch(r);
	if (repo_head_commit(&d->local, r, err) < 0) {
		drift_set(d, DRIFT_ERROR, EXIT_IOERR, err);
		goto out;
	}
	d->have_local = 1;
	if (find_target(d, r, o) < 0) {
		if (!clean && d->decision == DRIFT_ERROR) {
			size_t len = strlen(d->reason);
			snprintf(d->reason + len, sizeof d->reason - len, "; the checkout also has local changes");
		}
		goto out;
	}
	if (repo_ahead_behind(&d->ahead, &d->behind, r, &d->local, &d->target, err) < 0) {
		drift_set(d, DRIFT_ERROR, EXIT_IOERR, err);
		goto out;
	}
	git_oid_tostr(lhex, sizeof lhex, &d->local);
	git_oid_tostr(rhex, sizeof rhex, &d->target);
	if (clean && d->behind && !d->ahead && verify_target(d, r, o->settings) < 0)
		goto out;
	/* A tree git fsck would refuse, or a submodule (libgit2 checks it out
	 * as an empty folder): refused here, so that check-drift says so and
	 * run-deploy stops before anything is stopped or written. */
	rc = treecheck_commit(r, &d->target, err);
	if (rc != 0) {
		drift_set(d, DRIFT_ERROR, rc == TREECHECK_REFUSED ? EXIT_DATAERR : EXIT_IOERR, err);
		goto out;
	}
	if (!clean) {
		snprintf(buf, sizeof buf, "uncommitted or untracked changes (e.g. '%s'): commit, stash or remove them%s",
		         first, d->behind ? "; behind, so every deploy refuses until then" : "");
		drift_set(d, DRIFT_UNCLEAN, 0, buf);
	} else if (d->behind && d->ahead) {
		snprintf(buf, sizeof buf, "%zu local commit(s) not on '%s' and %zu new there: "
		         "deploys refuse until the checkout is reset or rebased", d->ahead, d->upstream, d->behind);
		drift_set(d, DRIFT_DIVERGED, 0, buf);
	} else if (d->behind) {
		snprintf(buf, sizeof buf, "behind '%s' by %zu commit(s): %s -> %s", d->upstream, d->behind, lhex, rhex);
		drift_set(d, DRIFT_DEPLOY, 0, buf);
	} else if (d->ahead) {
		snprintf(buf, sizeof buf, "%zu local commit(s) not on '%s': local commits never deploy", d->ahead, d->upstream);
		drift_set(d, DRIFT_AHEAD, 0, buf);
	} else {
		snprintf(buf, sizeof buf, "at %s, same as '%s'", lhex, d->upstream);
		drift_set(d, DRIFT_UP_TO_DATE, 0, buf);
	}
out:
	git_repository_free(r);
}

struct pool {
	struct drift *d;
	char *const *paths;
	size_t n, next;
	const struct drift_opts *o;
	const unsigned char *skip;   /* checked afterwards, without a fetch */
	pthread_mutex_t mu;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		if (!p->skip[i])
			drift_check(&p->d[i], p->paths[i], p->o);
	}
}

/*
 * The configured folders that share a repository with an earlier one (two
 * folders of one work tree): later[i] = 1.  They are checked after the
 * others, without a fetch of their own: two fetches into one repository
 * at once race for its ref locks (one of them fails), and one fetch
 * brings all either would.
 */
static unsigned char *same_repository(char *const *paths, size_t n)
{
	unsigned char *later = xcalloc(n ? n : 1, 1);
	char **git = xcalloc(n ? n : 1, sizeof *git);
	for (size_t i = 0; i < n; i++) {
		git_buf b = { 0 };
		if (git_repository_discover(&b, paths[i], 0, NULL) == 0)
			git[i] = realpath(b.ptr, NULL);
		git_buf_dispose(&b);
		for (size_t j = 0; j < i && git[i] && !later[i]; j++)
			later[i] = git[j] && !later[j] && strcmp(git[i], git[j]) == 0;
	}
	for (size_t i = 0; i < n; i++)
		free(git[i]);
	free(git);
	return later;
}

static void drift_check_all(struct drift *d, char *const *paths, size_t n, const struct drift_opts *o)
{
	unsigned char *later = o->fetch ? same_repository(paths, n) : xcalloc(n ? n : 1, 1);
	struct pool p = { .d = d, .paths = paths, .n = n, .o = o, .skip = later };
	size_t nthreads = o->max_threads > 0 ? (size_t)o->max_threads : 1;
	if (nthreads > n)
		nthreads = n;
	pthread_t *t = xcalloc(nthreads ? nthreads : 1, sizeof *t);
	size_t started = 0;

	pthread_mutex_init(&p.mu, NULL);
	for (; started < nthreads; started++)
		if (pthread_create(&t[started], NULL, worker, &p) != 0)
			break;
	if (started == 0)
		worker(&p); /* no thread could start: do the work here */
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(t);
	/* from what the first folder of their repository fetched */
	struct drift_opts fetched = *o;
	fetched.fetch = 0;
	for (size_t i = 0; i < n; i++)
		if (later[i])
			drift_check(&d[i], paths[i], &fetched);
	free(later);
}

static void drift_free(struct drift *d)
{
	free(d->path);
	free(d->branch);
	free(d->remote);
	free(d->remote_ref);
	free(d->upstream);
	memset(d, 0, sizeof *d);
}

struct drift *drift_check_stack(size_t *n, const struct drift_opts *o)
{
	const struct settings *s = o->settings;
	size_t count = 1 + s->n_extra_repos;
	char **paths = xcalloc(count, sizeof *paths);
	struct drift *d = xcalloc(count, sizeof *d);

	paths[0] = (char *)s->compose_dir;
	for (size_t i = 0; i < s->n_extra_repos; i++)
		paths[i + 1] = s->extra_repos[i];
	drift_check_all(d, paths, count, o);
	free(paths);
	*n = count;
	return d;
}

void drift_free_all(struct drift *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		drift_free(&d[i]);
	free(d);
}
