#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drift.h"
#include "log.h"
#include "proc.h"
#include "remote.h"
#include "repo.h"
#include "settings.h"
#include "util.h"

#define TRIGGER_PATH "autodeploy/conditional-trigger"
#define TRIGGER_TIMEOUT 300
#define TRIGGER_LOG_MAX 16384

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

static void set(struct drift *d, enum drift_decision dec, int code, const char *reason)
{
	d->decision = dec;
	d->exit_code = code;
	snprintf(d->reason, sizeof d->reason, "%s", reason);
}

/* The exit code of a failed remote operation (remote.h's classes). */
static int remote_exit(int rc)
{
	return rc == REMOTE_UNREACHABLE ? EXIT_UNAVAILABLE : rc == REMOTE_BADDATA ? EXIT_DATAERR : EXIT_IOERR;
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

/* Find what the checkout follows and where it is now: fills remote,
 * remote_ref, upstream and target, on one remote session.  Returns 0, or
 * -1 after set(). */
static int find_target(struct drift *d, git_repository *r, const struct drift_opts *o)
{
	const struct settings *s = o->settings;
	/* the deploy key is named after the work tree (birdhouse's
	 * `basename $(git rev-parse --show-toplevel)`), not the configured
	 * folder inside it */
	struct repo_auth auth = { .settings = s, .checkout = git_repository_workdir(r) };
	struct remote_ref *refs = NULL;
	git_remote *rem = NULL;
	size_t nrefs = 0;
	char err[ERR_MAX];
	int rc, ret = -1, local, have_tag_obj = 0;
	git_oid tag_obj;                /* tag mode: the object the tag ref names */

	if (d->branch) {
		rc = repo_upstream(&d->remote, &d->remote_ref, r, d->branch, err);
		if (rc == REPO_NOTFOUND && !s->track_tags) {
			size_t len = strlen(err);
			snprintf(err + len, sizeof err - len,
			         "; set one with 'git branch --set-upstream-to=origin/%s'", d->branch);
			set(d, DRIFT_NO_UPSTREAM, 0, err);
			goto out;
		}
		if (rc < 0 && rc != REPO_NOTFOUND) {
			set(d, DRIFT_ERROR, EXIT_IOERR, err);
			goto out;
		}
	} else if (!s->track_tags) {
		set(d, DRIFT_NO_UPSTREAM, 0, "detached HEAD: no branch to follow; check out the branch to deploy, "
		    "or set AUTODEPLOY_TRACK=tag:GLOB to follow tags");
		goto out;
	}
	if (!d->remote)
		d->remote = xstrdup("origin"); /* tag mode on a detached HEAD */
	/* "." is a local branch as upstream: nothing to ask anyone */
	local = strcmp(d->remote, ".") == 0;
	if (!local && remote_open(&rem, r, d->remote, err) < 0) {
		set(d, DRIFT_NO_UPSTREAM, 0, err);
		goto out;
	}

	if (s->track_tags) {
		free(d->remote_ref);
		d->remote_ref = NULL;
		rc = o->fetch && !local ? remote_ls(&refs, &nrefs, rem, &auth, err)
		                        : local_tags(&refs, &nrefs, r, err);
		if (rc < 0) {
			set(d, DRIFT_ERROR, remote_exit(rc), err);
			goto out;
		}
		const struct remote_ref *best = best_tag(refs, nrefs, s->tag_glob);
		if (!best) {
			snprintf(err, sizeof err, "no tag %s matches '%s'",
			         o->fetch ? "on the remote" : "fetched yet", s->tag_glob);
			set(d, DRIFT_NO_UPSTREAM, 0, err);
			goto out;
		}
		d->remote_ref = xstrdup(best->name);
		d->upstream = xstrdup(best->name);
		git_oid_cpy(&d->target, &best->oid);
		git_oid_cpy(&tag_obj, &best->ref_oid);
		have_tag_obj = 1;
	} else if (local) {
		d->upstream = xstrdup(d->remote_ref);
		if (lookup_ref(&d->target, r, d->remote_ref) < 0) {
			set(d, DRIFT_NO_UPSTREAM, 0, "the upstream branch does not exist");
			goto out;
		}
	} else {
		rc = remote_tracking(&d->upstream, rem, d->remote_ref, err);
		if (rc < 0) {
			set(d, DRIFT_NO_UPSTREAM, 0, err);
			goto out;
		}
		if (o->fetch) {
			rc = remote_ls(&refs, &nrefs, rem, &auth, err);
			if (rc < 0) {
				set(d, DRIFT_ERROR, remote_exit(rc), err);
				goto out;
			}
			size_t i;
			for (i = 0; i < nrefs && strcmp(refs[i].name, d->remote_ref) != 0; i++)
				;
			if (i == nrefs) {
				snprintf(err, sizeof err, "'%s' no longer exists on remote '%s': "
			         "point the branch at another upstream (git branch --set-upstream-to)",
			         d->remote_ref, d->remote);
				set(d, DRIFT_NO_UPSTREAM, 0, err);
				goto out;
			}
			git_oid_cpy(&d->target, &refs[i].oid);
		} else if (lookup_ref(&d->target, r, d->upstream) < 0) {
			snprintf(err, sizeof err, "'%s' has not been fetched yet (run without --no-fetch)", d->upstream);
			set(d, DRIFT_NO_UPSTREAM, 0, err);
			goto out;
		}
	}

	/* Bring the wanted commit here now, so that every later step (and
	 * run-deploy's downtime window) works on local objects only. */
	if (o->fetch && !local) {
		rc = remote_fetch(r, rem, d->remote_ref, d->upstream, &d->target,
		                       have_tag_obj ? &tag_obj : NULL, &auth, err);
		if (rc < 0) {
			set(d, DRIFT_ERROR, remote_exit(rc), err);
			goto out;
		}
	}
	d->have_remote = 1;
	ret = 0;
out:
	remote_refs_free(refs, nrefs);
	remote_close(rem);
	return ret;
}

static void drift_check(struct drift *d, const char *path, const struct drift_opts *o)
{
	git_repository *r = NULL;
	char err[ERR_MAX], first[512], sub[512], buf[1024], lhex[12], rhex[12];
	int rc, clean = 1;

	memset(d, 0, sizeof *d);
	d->path = xstrdup(path);
	rc = repo_open(&r, path, err);
	if (rc == REPO_NOTFOUND) {
		size_t len = strlen(err);
		snprintf(err + len, sizeof err - len,
		         ": clone it there, or fix AUTODEPLOY_COMPOSE_DIR / AUTODEPLOY_EXTRA_REPOS");
		set(d, DRIFT_MISSING, 0, err);
		goto out;
	}
	if (rc < 0 || repo_is_clean(&clean, first, sizeof first, r, err) < 0) {
		set(d, DRIFT_ERROR, EXIT_IOERR, err);
		goto out;
	}
	d->branch = repo_current_branch(r);
	if (repo_head_commit(&d->local, r, err) < 0) {
		set(d, DRIFT_ERROR, EXIT_IOERR, err);
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
		set(d, DRIFT_ERROR, EXIT_IOERR, err);
		goto out;
	}
	git_oid_tostr(lhex, sizeof lhex, &d->local);
	git_oid_tostr(rhex, sizeof rhex, &d->target);
	/* libgit2 checks a submodule out as an empty folder, and nothing here
	 * would fetch its commit: refuse rather than deploy a hole. */
	rc = repo_find_gitlink(sub, sizeof sub, r, &d->target, err);
	if (rc != 0) {
		if (rc > 0)
			snprintf(err, sizeof err, "commit %s holds a submodule at '%s': autodeploy does not "
			         "deploy submodules (it would leave the folder empty): vendor its files, or "
			         "list its own checkout in AUTODEPLOY_EXTRA_REPOS", rhex, sub);
		set(d, DRIFT_ERROR, rc > 0 ? EXIT_DATAERR : EXIT_IOERR, err);
		goto out;
	}
	if (!clean) {
		snprintf(buf, sizeof buf, "uncommitted or untracked changes (e.g. '%s'): commit, stash or remove them%s",
		         first, d->behind ? "; behind, so every deploy refuses until then" : "");
		set(d, DRIFT_UNCLEAN, 0, buf);
	} else if (d->behind && d->ahead) {
		snprintf(buf, sizeof buf, "%zu local commit(s) not on '%s' and %zu new there: "
		         "deploys refuse until the checkout is reset or rebased", d->ahead, d->upstream, d->behind);
		set(d, DRIFT_DIVERGED, 0, buf);
	} else if (d->behind) {
		snprintf(buf, sizeof buf, "behind '%s' by %zu commit(s): %s -> %s", d->upstream, d->behind, lhex, rhex);
		set(d, DRIFT_DEPLOY, 0, buf);
	} else if (d->ahead) {
		snprintf(buf, sizeof buf, "%zu local commit(s) not on '%s': local commits never deploy", d->ahead, d->upstream);
		set(d, DRIFT_AHEAD, 0, buf);
	} else {
		snprintf(buf, sizeof buf, "at %s, same as '%s'", lhex, d->upstream);
		set(d, DRIFT_UP_TO_DATE, 0, buf);
	}
out:
	git_repository_free(r);
}

struct pool {
	struct drift *d;
	char *const *paths;
	size_t n, next;
	const struct drift_opts *o;
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
		drift_check(&p->d[i], p->paths[i], p->o);
	}
}

static void drift_check_all(struct drift *d, char *const *paths, size_t n, const struct drift_opts *o)
{
	struct pool p = { .d = d, .paths = paths, .n = n, .o = o };
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
}

static char *join_lines(char **v, size_t n)
{
	size_t total = 1, off = 0;
	for (size_t k = 0; k < n; k++)
		total += strlen(v[k]) + 1;
	char *s = xmalloc(total);
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(v[k]);
		if (k)
			s[off++] = '\n';
		memcpy(s + off, v[k], l);
		off += l;
	}
	s[off] = '\0';
	return s;
}

/* What the trigger printed (stdout and stderr, at most TRIGGER_LOG_MAX
 * bytes), into the log line by line: upstream's went to its log, and on
 * our stdout it would break --json. */
static void log_output(const struct drift *d, int fd)
{
	char buf[TRIGGER_LOG_MAX + 1];
	ssize_t k = pread(fd, buf, TRIGGER_LOG_MAX, 0);
	if (k <= 0)
		return;
	buf[k] = '\0';
	for (char *line = buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		log_info("'%s': %s: %s", d->path, TRIGGER_PATH, line);
	}
}

/* Run the trigger blob from a private temporary file: as a program when
 * it starts with "#!", else through /bin/sh (upstream's sample has no
 * shebang), whatever its mode, with a minimal environment. */
static int run_trigger(int *status, const char *script, size_t len, const struct drift *d,
                       const char *status_list, const char *paths, const struct drift_opts *o, char *err)
{
	const char *dir = o->settings->state_dir;
	char *tmpl = xasprintf("%s/conditional-trigger.XXXXXX", dir);
	char *env_changed = xasprintf("GIT_CHANGED_FILES=%s", status_list);
	char *env_paths = xasprintf("AUTODEPLOY_CHANGED_PATHS=%s", paths);
	char old_hex[GIT_OID_HEXSZ + 1], new_hex[GIT_OID_HEXSZ + 1];
	char *env_old = xasprintf("AUTODEPLOY_OLD_COMMIT=%s", git_oid_tostr(old_hex, sizeof old_hex, &d->local));
	char *env_new = xasprintf("AUTODEPLOY_NEW_COMMIT=%s", git_oid_tostr(new_hex, sizeof new_hex, &d->target));
	const char *env[] = { env_changed, env_paths, env_old, env_new, "LC_ALL=C", NULL };
	const char *direct[] = { tmpl, NULL }, *through_sh[] = { "/bin/sh", tmpl, NULL };
	int fd = -1, out = memfd_create("trigger-output", MFD_CLOEXEC), ret = -1;
	struct proc_opts po = { .cwd = d->path, .env = env, .clear_env = 1, .timeout = TRIGGER_TIMEOUT,
	                        .null_stdin = 1, .stdout_fd = out, .stderr_fd = 1 };

	if (out < 0) {
		err_set(err, "memfd_create: %s", strerror(errno));
		goto out;
	}
	if (util_mkdir_p(dir, 0755, err) < 0)
		goto out;
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "cannot create '%s': %s", tmpl, strerror(errno));
		goto out;
	}
	if (util_write_all(fd, script, len) < 0) {
		err_set(err, "cannot write '%s': %s", tmpl, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0700) < 0 || close(fd) < 0) {
		fd = -1;
		err_set(err, "cannot prepare '%s': %s", tmpl, strerror(errno));
		goto out;
	}
	fd = -1;
	ret = proc_run(status, len >= 2 && script[0] == '#' && script[1] == '!' ? direct : through_sh, &po, err);
	log_output(d, out);
out:
	if (fd >= 0)
		close(fd);
	if (out >= 0)
		close(out);
	unlink(tmpl);
	free(tmpl);
	free(env_changed);
	free(env_paths);
	free(env_old);
	free(env_new);
	return ret;
}

/* The trigger of the new tree: <subdir>/autodeploy/conditional-trigger
 * where the configured folder is <subdir> of its work tree (upstream
 * looks it up relative to the configured dir), then at the top. */
static int read_trigger(char **script, size_t *len, char **where, git_repository *r,
                        const struct drift *d, char *err)
{
	char *sub = repo_subdir(r, d->path);
	int rc = 0;
	*where = NULL;
	if (*sub) {
		*where = xasprintf("%s/%s", sub, TRIGGER_PATH);
		rc = repo_read_file(script, len, r, &d->target, *where, err);
		if (rc == 0) {
			free(*where);
			*where = NULL;
		}
	}
	if (rc == 0) {
		*where = xstrdup(TRIGGER_PATH);
		rc = repo_read_file(script, len, r, &d->target, TRIGGER_PATH, err);
	}
	free(sub);
	return rc;
}

/* For every DRIFT_DEPLOY checkout whose new tree holds a conditional
 * trigger: run it (cwd = the configured folder; GIT_CHANGED_FILES as
 * `git diff --name-status`, AUTODEPLOY_CHANGED_PATHS the paths alone, one
 * per line); non-zero turns the decision into DRIFT_PULL_ONLY.  Serial on
 * purpose: the trigger is written to a temporary file, and a fork in
 * another thread while that file is open for writing would make its exec
 * fail (ETXTBSY). */
static void drift_apply_triggers(struct drift *d, size_t n, const struct drift_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		git_repository *r = NULL;
		char err[ERR_MAX];
		char *script = NULL, *changed = NULL, *statuses = NULL, *where = NULL;
		char **paths = NULL, **status_list = NULL;
		size_t len = 0, npaths = 0, nstatus = 0;
		int status, rc;

		if (d[i].decision != DRIFT_DEPLOY)
			continue;
		if (o->no_triggers) {
			size_t l = strlen(d[i].reason);
			snprintf(d[i].reason + l, sizeof d[i].reason - l,
			         "; a conditional trigger, if any, was not run (%s)", o->fetch ? "--dry-run" : "--no-fetch");
			continue;
		}
		if (repo_open(&r, d[i].path, err) < 0) {
			set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			continue;
		}
		rc = read_trigger(&script, &len, &where, r, &d[i], err);
		if (rc <= 0) {
			if (rc < 0)
				set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			goto next;
		}
		if (repo_changed_paths(&paths, &npaths, r, &d[i].local, &d[i].target, err) < 0 ||
		    repo_changed_status(&status_list, &nstatus, r, &d[i].local, &d[i].target, err) < 0) {
			set(&d[i], DRIFT_ERROR, EXIT_IOERR, err);
			goto next;
		}
		changed = join_lines(paths, npaths);
		statuses = join_lines(status_list, nstatus);
		if (run_trigger(&status, script, len, &d[i], statuses, changed, o, err) < 0) {
			log_warn("'%s': cannot run %s: %s; treating it as 'no deploy'", d[i].path, where, err);
			status = -1;
		}
		size_t l = strlen(d[i].reason);
		if (status != 0)
			snprintf(d[i].reason + l, sizeof d[i].reason - l,
			         "; %s exited %d: pull only, no restart", where, status);
		else
			snprintf(d[i].reason + l, sizeof d[i].reason - l, "; %s said deploy", where);
		if (status != 0)
			d[i].decision = DRIFT_PULL_ONLY;
next:
		repo_paths_free(paths);
		repo_paths_free(status_list);
		free(changed);
		free(statuses);
		free(script);
		free(where);
		git_repository_free(r);
	}
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
	drift_apply_triggers(d, count, o);
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
