/*
 * post-receive: ask for a deploy when a push moves a ref that matters
 * (SPEC.md "post-receive", install-units(1) "THE HOOK").
 *
 * Runs as the pushing user, with no privilege: it reads the repository's
 * own git config (autodeploy.trigger, autodeploy.refs, written by
 * `install-units --hook`, never env.local), validates the whole input, and
 * rewrites the trigger file with the refs and ids that moved.  The write
 * and close wake autodeploy.path; check-drift still decides.  It never
 * waits for the deploy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "hookin.h"
#include "util.h"
#include "version.h"

#define INPUT_MAX (64u << 20)   /* a mirror push of many tags fits; a flood does not */

static int read_input(char **out, size_t *len, char *err)
{
	size_t cap = 65536, n = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		if (n == cap) {
			if (cap >= INPUT_MAX) {
				free(buf);
				return err_set(err, "input longer than %u bytes", INPUT_MAX);
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(0, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return err_set(err, "cannot read input: %s", strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* autodeploy.trigger and autodeploy.refs of the repository git runs us in. */
static int read_config(char **trigger, char **refs, char *err)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf t = GIT_BUF_INIT, r = GIT_BUF_INIT;
	const char *dir = getenv("GIT_DIR");
	int ret = -1;

	if (!dir || !*dir)
		dir = ".";
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    git_repository_config_snapshot(&cfg, repo) < 0) {
		err_set(err, "cannot read the repository's config: %s", git_error_last()->message);
		goto out;
	}
	if (git_config_get_string_buf(&t, cfg, "autodeploy.trigger") < 0 || t.size == 0) {
		err_set(err, "autodeploy.trigger is not set in this repository (run install-units --hook)");
		goto out;
	}
	if (git_config_get_string_buf(&r, cfg, "autodeploy.refs") < 0) {
		err_set(err, "autodeploy.refs is not set in this repository (run install-units --hook)");
		goto out;
	}
	*trigger = xstrdup(t.ptr);
	*refs = xstrdup(r.ptr);
	ret = 0;
out:
	git_buf_dispose(&t);
	git_buf_dispose(&r);
	git_config_free(cfg);
	git_repository_free(repo);
	return ret;
}

/* "Touch" = open for writing, write, close: inotify then reports a close
 * after write and PathChanged= fires (a bare utimensat would not). */
static int touch_trigger(const char *path, const char *data, size_t len, char *err)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return err_set(err, "cannot open trigger '%s': %s", path, strerror(errno));
	ssize_t w = write(fd, data, len);
	if (w < 0 || (size_t)w != len) {
		err_set(err, "cannot write trigger '%s': %s", path, w < 0 ? strerror(errno) : "short write");
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return err_set(err, "cannot write trigger '%s': %s", path, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	char err[ERR_MAX];
	char *input = NULL, *trigger = NULL, *refs = NULL, *note = NULL;
	struct hookin_update *u = NULL;
	size_t len = 0, n = 0, note_len = 0;
	int code = EXIT_OK;

	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", HOOKIN_MARKER, AUTODEPLOY_VERSION);
		return 0;
	}
	git_libgit2_init();
	/* git itself chose to run us in this repository; libgit2's ownership
	 * check would only refuse pushes to a repository shared by a group. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);

	if (read_input(&input, &len, err) < 0 || hookin_parse(&u, &n, input, len, err) < 0) {
		code = EXIT_DATAERR;
		goto out;
	}
	if (read_config(&trigger, &refs, err) < 0) {
		code = EXIT_CONFIG;
		goto out;
	}
	/* One line "REF NEWID" per ref that asks for a deploy, while they fit
	 * in HOOKIN_TRIGGER_MAX, then a count of the others. */
	size_t wanted = 0, listed = 0;
	note = xmalloc(HOOKIN_TRIGGER_MAX + 1);
	for (size_t i = 0; i < n; i++) {
		if (!hookin_wanted(&u[i], refs))
			continue;
		wanted++;
		size_t line = strlen(u[i].ref) + strlen(u[i].new_id) + 2;
		if (note_len + line + sizeof("+18446744073709551615 more refs\n") > HOOKIN_TRIGGER_MAX)
			continue;
		note_len += (size_t)snprintf(note + note_len, HOOKIN_TRIGGER_MAX + 1 - note_len, "%s %s\n",
		                             u[i].ref, u[i].new_id);
		listed++;
	}
	if (wanted == 0)
		goto out;
	if (listed < wanted)
		note_len += (size_t)snprintf(note + note_len, HOOKIN_TRIGGER_MAX + 1 - note_len,
		                             "+%zu more refs\n", wanted - listed);
	if (touch_trigger(trigger, note, note_len, err) < 0) {
		code = EXIT_IOERR;
		goto out;
	}
	for (size_t i = 0, said = 0; i < n && said < HOOKIN_SAY_MAX; i++)
		if (hookin_wanted(&u[i], refs)) {
			fprintf(stderr, "autodeploy: deploy of %s %.7s queued\n",
			        hookin_short_ref(u[i].ref), u[i].new_id);
			said++;
		}
	if (wanted > HOOKIN_SAY_MAX)
		fprintf(stderr, "autodeploy: and %zu more refs\n", wanted - HOOKIN_SAY_MAX);
out:
	if (code != EXIT_OK)
		fprintf(stderr, "autodeploy: %s; no deploy queued\n", err);
	free(note);
	free(refs);
	free(trigger);
	hookin_free(u, n);
	free(input);
	git_libgit2_shutdown();
	return code;
}
