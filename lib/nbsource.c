#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nbsource.h"
#include "publish.h"
#include "remote.h"
#include "repo.h"
#include "url.h"
#include "util.h"

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The entry with the URL redacted, for every message about it. */
static char *make_label(const char *url, const char *rest)
{
	char red[1024];
	url_redact(red, sizeof red, url);
	return rest ? xasprintf("%s#%s", red, rest) : xstrdup(red);
}

/* Check the SUBDIR of an entry and write it without empty components
 * ("/a//b/" becomes "a/b"), so that it can be looked up in a tree. */
static int normalize_subdir(char **out, const char *label, const char *sub, char *err)
{
	size_t len = strlen(sub), o = 0;
	char *norm = xmalloc(len + 1);
	const char *p = sub;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 0) {
			const char *why = publish_name_check(p, n);
			if (why) {
				err_set(err, "'%s': subdir '%s': %s", label, sub, why);
				free(norm);
				return -1;
			}
			if (o)
				norm[o++] = '/';
			memcpy(norm + o, p, n);
			o += n;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	norm[o] = '\0';
	*out = norm;
	return 0;
}

/* "SUBDIR[/\**][>DEST]": what to take and where to put it.  DEST is a
 * folder below the destination; "**" takes every file, not only the
 * notebooks (data files a tutorial reads). */
static int parse_place(struct nbsource *out, const char *place, char *err)
{
	const char *gt = strrchr(place, '>');
	size_t len = gt ? (size_t)(gt - place) : strlen(place);
	char *sub = xmemdupz(place, len);
	int rc = -1;

	if (len >= 2 && strcmp(sub + len - 2, "**") == 0 && (len == 2 || sub[len - 3] == '/')) {
		out->whole = 1;
		sub[len - 2] = '\0';
	}
	if (strchr(sub, '*')) {
		err_set(err, "'%s': subdir '%s': '*' only as a last '/**' (every file)", out->label, sub);
		goto out;
	}
	if (normalize_subdir(&out->subdir, out->label, sub, err) < 0)
		goto out;
	if (gt) {
		if (!gt[1] || gt[1] == '/') {
			err_set(err, "'%s': '>' needs a folder below the destination (e.g. >hydro)", out->label);
			goto out;
		}
		if (normalize_subdir(&out->into, out->label, gt + 1, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(sub);
	return rc;
}

static int check_ref(const char *label, const char *ref, char *err)
{
	int valid = 0;
	char *full = strncmp(ref, "refs/", 5) == 0 ? xstrdup(ref) : xasprintf("refs/heads/%s", ref);
	if (git_reference_name_is_valid(&valid, full) < 0)
		valid = 0;
	free(full);
	if (!valid)
		return err_set(err, "'%s': '%s' is not a valid ref name (write a branch, a tag or refs/...)",
		               label, ref);
	return 0;
}

int nbsource_parse(struct nbsource *out, const char *spec, char *err)
{
	const char *hash = strchr(spec, '#');
	size_t urllen = hash ? (size_t)(hash - spec) : strlen(spec);

	memset(out, 0, sizeof *out);
	out->spec = xstrdup(spec);
	out->url = xmemdupz(spec, urllen);
	out->label = make_label(out->url, hash ? hash + 1 : NULL);

	if (has_control(spec)) {
		err_set(err, "'%s': control characters in a source", out->label);
		goto fail;
	}
	if (urllen == 0) {
		err_set(err, "'%s': no URL before '#' (write URL#REF:SUBDIR)", out->label);
		goto fail;
	}
	if (hash) {
		/* a ref name cannot hold ':', so the first ':' after '#' starts SUBDIR */
		const char *rest = hash + 1, *colon = strchr(rest, ':');
		size_t reflen = colon ? (size_t)(colon - rest) : strlen(rest);
		if (reflen > 0) {
			out->ref = xmemdupz(rest, reflen);
			if (check_ref(out->label, out->ref, err) < 0)
				goto fail;
		}
		if (colon && parse_place(out, colon + 1, err) < 0)
			goto fail;
	}
	if (!out->subdir)
		out->subdir = xstrdup("");
	if (!out->into)
		out->into = xstrdup("");
	return 0;
fail:
	nbsource_free(out);
	return -1;
}

void nbsource_free(struct nbsource *s)
{
	if (s->cache)
		git_repository_free(s->cache);
	free(s->spec);
	free(s->url);
	free(s->ref);
	free(s->subdir);
	free(s->into);
	free(s->label);
	free(s->cache_path);
	free(s->remote_ref);
	memset(s, 0, sizeof *s);
}

static const struct remote_ref *find_ref(const struct remote_ref *refs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(refs[i].name, name) == 0)
			return &refs[i];
	return NULL;
}

/* The branch the remote's HEAD names.  The advertisement gives HEAD's
 * commit, not its target, so pick a branch at the same commit: any of
 * them fetches the same tree. */
static const struct remote_ref *default_branch(const struct remote_ref *refs, size_t n, const git_oid *head)
{
	static const char *const preferred[] = { "refs/heads/main", "refs/heads/master" };
	const struct remote_ref *first = NULL;

	for (size_t k = 0; k < sizeof preferred / sizeof *preferred; k++) {
		const struct remote_ref *r = find_ref(refs, n, preferred[k]);
		if (r && git_oid_equal(&r->oid, head))
			return r;
	}
	for (size_t i = 0; i < n && !first; i++)
		if (strncmp(refs[i].name, "refs/heads/", 11) == 0 && git_oid_equal(&refs[i].oid, head))
			first = &refs[i];
	return first;
}

int nbsource_resolve(char **remote_ref, git_oid *oid, const char *ref,
                     const struct remote_ref *refs, size_t n, char *err)
{
	const struct remote_ref *hit = NULL;

	*remote_ref = NULL;
	if (!ref) {
		const struct remote_ref *head = find_ref(refs, n, "HEAD");
		if (!head) {
			err_set(err, "the remote advertises no default branch (empty repository?): name one as URL#BRANCH");
			return NBSOURCE_NOREF;
		}
		hit = default_branch(refs, n, &head->oid);
		if (!hit)
			hit = head;
	} else if (strncmp(ref, "refs/", 5) == 0) {
		hit = find_ref(refs, n, ref);
	} else {
		char *b = xasprintf("refs/heads/%s", ref), *t = xasprintf("refs/tags/%s", ref);
		hit = find_ref(refs, n, b);
		if (!hit)
			hit = find_ref(refs, n, t);
		free(b);
		free(t);
	}
	if (!hit) {
		err_set(err, "the remote has no branch or tag '%s'", ref);
		return NBSOURCE_NOREF;
	}
	*remote_ref = xstrdup(hit->name);
	git_oid_cpy(oid, &hit->oid);
	return 0;
}

static int make_cache(git_repository **out, const char *path, const char *url, char *err)
{
	git_repository_init_options o;
	git_remote *rem = NULL;

	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	if (git_repository_init_ext(out, path, &o) < 0)
		return repo_git_err(err, "cannot create the cache '%s'", path);
	if (git_remote_create(&rem, *out, "origin", url) < 0) {
		repo_git_err(err, "cannot set the remote of the cache '%s'", path);
		git_repository_free(*out);
		*out = NULL;
		return -1;
	}
	git_remote_free(rem);
	return 0;
}

/* An existing cache must still point at the URL it is named after. */
static int check_cache(git_repository *r, const char *path, const char *url, char *err)
{
	git_remote *rem = NULL;
	int ret = 0;

	if (git_remote_lookup(&rem, r, "origin") < 0) {
		if (git_remote_create(&rem, r, "origin", url) < 0)
			ret = repo_git_err(err, "cannot set the remote of the cache '%s'", path);
	} else if (!git_remote_url(rem) || strcmp(git_remote_url(rem), url) != 0) {
		if (git_remote_set_url(r, "origin", url) < 0)
			ret = repo_git_err(err, "cannot set the remote of the cache '%s'", path);
	}
	git_remote_free(rem);
	return ret;
}

int nbsource_open_cache(struct nbsource *s, const char *state_dir, char *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	char *top = xasprintf("%s/notebook-cache", state_dir);
	git_oid id;
	struct stat st;
	int ret = -1;

	/* The folder name only has to be stable and safe: the URL's hash. */
	if (git_odb_hash(&id, s->url, strlen(s->url), GIT_OBJECT_BLOB) < 0) {
		repo_git_err(err, "'%s': cannot hash the URL", s->label);
		goto out;
	}
	free(s->cache_path);
	s->cache_path = xasprintf("%s/%s", top, git_oid_tostr(hex, sizeof hex, &id));
	if (util_mkdir_p(top, 0700, err) < 0)
		goto out;
	if (lstat(s->cache_path, &st) == 0) {
		if (git_repository_open_bare(&s->cache, s->cache_path) == 0) {
			ret = check_cache(s->cache, s->cache_path, s->url, err);
			goto out;
		}
		/* a damaged cache holds nothing that cannot be fetched again */
		if (util_remove_tree(s->cache_path, err) < 0)
			goto out;
	} else if (errno != ENOENT) {
		err_set(err, "cannot look at the cache '%s': %s", s->cache_path, strerror(errno));
		goto out;
	}
	ret = make_cache(&s->cache, s->cache_path, s->url, err);
out:
	free(top);
	return ret;
}

int nbsource_ls(struct nbsource *s, struct repo_auth *auth, char *err)
{
	struct remote_ref *refs = NULL;
	size_t n = 0;
	char why[ERR_MAX];
	int rc;

	rc = remote_ls_once(&refs, &n, s->cache, "origin", auth, why);
	if (rc < 0) {
		err_set(err, "'%s': %s", s->label, why);
		return rc;
	}
	free(s->remote_ref);
	s->remote_ref = NULL;
	rc = nbsource_resolve(&s->remote_ref, &s->commit, s->ref, refs, n, why);
	if (rc < 0)
		err_set(err, "'%s': %s", s->label, why);
	remote_refs_free(refs, n);
	return rc;
}

int nbsource_fetch(struct nbsource *s, struct repo_auth *auth, char *err)
{
	char why[ERR_MAX];
	char *local = xasprintf("refs/autodeploy/%s", s->remote_ref);
	int rc = remote_fetch_once(s->cache, "origin", s->remote_ref, local, &s->commit, auth, why);
	if (rc < 0)
		err_set(err, "'%s': %s", s->label, why);
	free(local);
	return rc;
}
