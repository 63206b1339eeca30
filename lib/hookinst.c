/* hookinst: see hookinst.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cfg.h"
#include "hookin.h"
#include "hookinst.h"
#include "log.h"
#include "repo.h"
#include "settings.h"
#include "util.h"

static char *parent_of(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));
	free(copy);
	return d;
}

/* The refs whose updates matter: refs/tags/GLOB in tag mode, else the
 * upstream branch (branch.<name>.merge) of each checkout's current branch. */
static int hook_refs(char **out, const struct hookinst *h, char *err)
{
	const struct settings *s = h->s;
	char *list = NULL;

	if (s->track_tags) {
		*out = xasprintf("refs/tags/%s", s->tag_glob);
		return 0;
	}
	for (size_t i = 0; i <= s->n_extra_repos; i++) {
		const char *path = i == 0 ? s->compose_dir : s->extra_repos[i - 1];
		git_repository *repo = NULL;
		git_config *cfg = NULL;
		git_buf merge = GIT_BUF_INIT;
		char *branch = NULL, *key = NULL;
		char e[ERR_MAX];

		if (!path)
			continue;
		/* branch.<name>.merge is the upstream's name on the remote, the
		 * ref a push to the bare repository moves. */
		if (repo_open(&repo, path, e) < 0)
			log_warn("%s: skipped", e);
		else if (!(branch = repo_current_branch(repo)))
			log_warn("'%s' has no branch checked out: skipped", path);
		else if (git_repository_config_snapshot(&cfg, repo) < 0 ||
		         git_config_get_string_buf(&merge, cfg, (key = xasprintf("branch.%s.merge", branch))) < 0)
			log_warn("'%s': branch '%s' has no upstream: skipped", path, branch);
		else if (!list || !hookin_ref_matches(list, merge.ptr)) {
			char *next = list ? xasprintf("%s %s", list, merge.ptr) : xstrdup(merge.ptr);
			free(list);
			list = next;
		}
		git_buf_dispose(&merge);
		free(key);
		free(branch);
		git_config_free(cfg);
		git_repository_free(repo);
	}
	if (!list)
		return err_set(err, "cannot tell which refs the hook should watch: no configured "
		               "checkout has a branch with an upstream (see AUTODEPLOY_COMPOSE_DIR)");
	*out = list;
	return 0;
}

/* The hook binary beside us (installed) or in the build tree. */
static int hook_source(char **data, size_t *len, const struct hookinst *h, char *err)
{
	char *cand[2] = { xasprintf("%s/post-receive", h->bindir),
	                  xasprintf("%s/../hooks/post-receive", h->bindir) };
	int ret = -1;

	for (size_t i = 0; i < 2 && ret < 0; i++)
		if (access(cand[i], R_OK) == 0 && util_read_file(data, len, cand[i], err) == 0) {
			if (memmem(*data, *len, HOOKIN_MARKER, strlen(HOOKIN_MARKER)))
				ret = 0;
			else
				free(*data);
		}
	if (ret < 0)
		err_set(err, "cannot find autodeploy's post-receive hook beside install-units ('%s')", cand[0]);
	free(cand[0]);
	free(cand[1]);
	return ret;
}

static int trigger_group(gid_t *gid, const struct cfg *c, const char *bare, char *err)
{
	const char *g = cfg_str(c, "AUTODEPLOY_TRIGGER_GROUP", NULL);
	struct stat st;

	if (!g) {
		if (stat(bare, &st) < 0)
			return err_set(err, "cannot stat '%s': %s", bare, strerror(errno));
		*gid = st.st_gid;
		return 0;
	}
	struct group *gr = getgrnam(g);
	char *end;
	unsigned long n = strtoul(g, &end, 10);
	if (gr)
		*gid = gr->gr_gid;
	else if (*end == '\0' && end != g)
		*gid = (gid_t)n;
	else
		return err_set(err, "AUTODEPLOY_TRIGGER_GROUP: no group '%s'", g);
	return 0;
}

/* The trigger file: root's (when we are root), the group's, 0660. */
static int make_trigger(const char *path, gid_t gid, char *err)
{
	char *dir = parent_of(path);
	int fd = -1, ret = -1;

	if (util_mkdir_p(dir, 0755, err) < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0 || fchown(fd, geteuid() == 0 ? 0 : (uid_t)-1, gid) < 0 || fchmod(fd, 0660) < 0) {
		err_set(err, "cannot create trigger '%s' with group %u and mode 0660: %s",
		        path, (unsigned)gid, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

static int set_config(git_config *cfg, const char *key, const char *value, int *changed,
                      int dry_run, char *err)
{
	git_buf old = GIT_BUF_INIT;
	int same = git_config_get_string_buf(&old, cfg, key) == 0 && strcmp(old.ptr, value) == 0;

	git_buf_dispose(&old);
	if (same)
		return 0;
	*changed = 1;
	if (dry_run) {
		log_info("would set %s = %s", key, value);
		return 0;
	}
	if (git_config_set_string(cfg, key, value) < 0)
		return repo_git_err(err, "cannot set '%s'", key);
	log_info("set %s = %s", key, value);
	return 0;
}

int hookinst_install(const struct hookinst *h, const char *bare, char *err)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *data = NULL, *old = NULL, *refs = NULL, *hook = NULL, *trigger = NULL, *rtrigger = NULL;
	size_t len, old_len;
	int ret = -1, changed = 0;
	gid_t gid = 0;
	char ignore[ERR_MAX];

	if (git_repository_open_ext(&repo, bare, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		repo_git_err(err, "cannot open '%s'", bare);
		goto out;
	}
	if (!git_repository_is_bare(repo)) {
		err_set(err, "'%s' is not a bare repository: the hook belongs in the repository "
		        "people push to", bare);
		goto out;
	}
	if (hook_refs(&refs, h, err) < 0 || trigger_group(&gid, h->cfg, bare, err) < 0)
		goto out;
	hook = xasprintf("%s/hooks/post-receive", bare);
	if (util_read_file(&old, &old_len, hook, ignore) == 0 &&
	    !memmem(old, old_len, HOOKIN_MARKER, strlen(HOOKIN_MARKER))) {
		err_set(err, "refusing to replace '%s': it is not autodeploy's hook; move it away "
		        "(or call it from a hook of your own) and run install-units --hook again", hook);
		goto out;
	}
	ret = -2;
	if (hook_source(&data, &len, h, err) < 0)
		goto out;
	trigger = xasprintf("%s/trigger", h->s->state_dir);
	rtrigger = xasprintf("%s%s", h->root ? h->root : "", trigger);
	if (!h->dry_run && make_trigger(rtrigger, gid, err) < 0)
		goto out;
	if (git_repository_config(&cfg, repo) < 0) {
		repo_git_err(err, "cannot open the config of '%s'", bare);
		goto out;
	}
	if (set_config(cfg, "autodeploy.trigger", trigger, &changed, h->dry_run, err) < 0 ||
	    set_config(cfg, "autodeploy.refs", refs, &changed, h->dry_run, err) < 0)
		goto out;
	if (old && old_len == len && memcmp(old, data, len) == 0) {
		log_info("hook '%s' is unchanged", hook);
	} else {
		changed = 1;
		if (h->dry_run)
			log_info("would %s '%s'", old ? "update" : "install", hook);
		else if (util_write_atomic(hook, data, len, 0755, err) < 0)
			goto out;
		else
			log_info("%s '%s'", old ? "updated" : "installed", hook);
	}
	log_info("hook: %s; it watches %s", changed ? "done" : "nothing changed", refs);
	ret = 0;
out:
	git_config_free(cfg);
	git_repository_free(repo);
	free(rtrigger);
	free(trigger);
	free(hook);
	free(refs);
	free(old);
	free(data);
	return ret;
}
