#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "repo.h"
#include "strbuf.h"
#include "util.h"

void journal_path(char *buf, size_t len, const char *state_dir)
{
	snprintf(buf, len, "%s/%s", state_dir, JOURNAL_NAME);
}

int journal_exists(const char *state_dir, char *err)
{
	char path[4096];
	struct stat st;
	journal_path(path, sizeof path, state_dir);
	if (lstat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return err_set(err, "cannot check '%s': %s", path, strerror(errno));
}

/*
 * Version 4, one line per checkout after the state, each followed by
 * lines that say more about it, then one line per container:
 *     autodeploy-journal 4
 *     state deploy|start-only
 *     OLD NEW TOUCHED PATH        (TOUCHED: 0 or 1)
 *     root WORK-TREE-TOP
 *     branch refs/heads/main|detached
 *     image IMAGE-ID CONTAINER-ID PROJECT SERVICE REF
 * Version 3 (no image lines), version 2 (no root nor branch lines either)
 * and version 1 (no state line, OLD NEW PATH) are still read: a journal
 * left by an older release is restored as that release would have.  A
 * release that knows only version 3 refuses version 4 (its magic line)
 * rather than misread it.
 */
#define MAGIC_V1 "autodeploy-journal 1\n"
#define MAGIC_V2 "autodeploy-journal 2\n"
#define MAGIC_V3 "autodeploy-journal 3\n"
#define MAGIC_V4 "autodeploy-journal 4\n"
#define HEX GIT_OID_HEXSZ
/* what to do about a journal we cannot read */
#define BY_HAND ": look at it, restore the checkouts by hand, then remove it"

static const char *state_name(enum journal_state s)
{
	return s == JOURNAL_START_ONLY ? "start-only" : "deploy";
}

int journal_write(const char *state_dir, const struct journal *j, char *err)
{
	char path[4096];
	struct strbuf b = STRBUF_INIT;
	int ret = -1;

	journal_path(path, sizeof path, state_dir);
	strbuf_addf(&b, "%sstate %s\n", MAGIC_V4, state_name(j->state));
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_entry *e = &j->e[i];
		char o[HEX + 1], w[HEX + 1];
		if (strchr(e->path, '\n') || (e->root && strchr(e->root, '\n')) ||
		    (e->branch && strchr(e->branch, '\n'))) {
			err_set(err, "cannot journal '%s': the path holds a newline", e->path);
			goto out;
		}
		strbuf_addf(&b, "%s %s %d %s\n", git_oid_tostr(o, sizeof o, &e->old),
		            git_oid_tostr(w, sizeof w, &e->new), e->touched ? 1 : 0, e->path);
		if (e->root)
			strbuf_addf(&b, "root %s\n", e->root);
		if (e->branch)
			strbuf_addf(&b, "branch %s\n", e->branch);
	}
	/* images_parse let through no field holding white space */
	for (size_t i = 0; i < j->images.n; i++) {
		const struct image_rec *r = &j->images.v[i];
		strbuf_addf(&b, "image %s %s %s %s %s\n", r->id, r->container, r->project, r->service, r->ref);
	}
	if (util_mkdir_p(state_dir, 0755, err) < 0)
		goto out;
	ret = util_write_atomic(path, strbuf_str(&b), b.len, 0644, err);
out:
	strbuf_release(&b);
	return ret;
}

void journal_free(struct journal *j)
{
	for (size_t i = 0; j->e && i < j->n; i++) {
		free(j->e[i].path);
		free(j->e[i].root);
		free(j->e[i].branch);
	}
	free(j->e);
	j->e = NULL;
	j->n = 0;
	images_free(&j->images);
}

/* "image ID CONTAINER PROJECT SERVICE REF" (after "image ") into j. */
static int parse_image(struct journal *j, char *line, const char *path, size_t lineno, char *err)
{
	char *f[5], *save = NULL;
	for (int k = 0; k < 5; k++)
		if (!(f[k] = strtok_r(k ? NULL : line, " ", &save)))
			return err_set(err, "%s:%zu: malformed image line" BY_HAND, path, lineno);
	if (strtok_r(NULL, " ", &save))
		return err_set(err, "%s:%zu: malformed image line" BY_HAND, path, lineno);
	images_add(&j->images, f[0], f[1], f[2], f[3], f[4]);
	return 0;
}

/* "OLD NEW [T ]PATH" into e; 0 or -1 with err naming the line. */
static int parse_entry(struct journal_entry *e, char *line, int v2, const char *path, size_t lineno, char *err)
{
	size_t need = 2 * (HEX + 1) + (v2 ? 2 : 0) + 1;
	if (strlen(line) < need || line[HEX] != ' ' || line[2 * HEX + 1] != ' ' ||
	    (v2 && ((line[2 * HEX + 2] != '0' && line[2 * HEX + 2] != '1') || line[2 * HEX + 3] != ' ')))
		return err_set(err, "%s:%zu: malformed line" BY_HAND, path, lineno);
	line[HEX] = line[2 * HEX + 1] = '\0';
	if (git_oid_fromstr(&e->old, line) < 0 || git_oid_fromstr(&e->new, line + HEX + 1) < 0)
		return err_set(err, "%s:%zu: malformed commit id" BY_HAND, path, lineno);
	e->touched = v2 ? line[2 * HEX + 2] == '1' : 1;
	e->path = xstrdup(line + 2 * (HEX + 1) + (v2 ? 2 : 0));
	return 0;
}

int journal_read(struct journal *j, const char *state_dir, char *err)
{
	char path[4096];
	char *buf = NULL, *line;
	size_t lineno = 1, cap = 0;
	int ret = -1, v2, v3, v4;

	memset(j, 0, sizeof *j);
	journal_path(path, sizeof path, state_dir);
	if (util_read_file(&buf, NULL, path, err) < 0)
		return -1;
	v4 = strncmp(buf, MAGIC_V4, strlen(MAGIC_V4)) == 0;
	v3 = v4 || strncmp(buf, MAGIC_V3, strlen(MAGIC_V3)) == 0;
	v2 = v3 || strncmp(buf, MAGIC_V2, strlen(MAGIC_V2)) == 0;
	if (!v2 && strncmp(buf, MAGIC_V1, strlen(MAGIC_V1)) != 0) {
		err_set(err, "%s:1: not an autodeploy journal" BY_HAND, path);
		goto out;
	}
	line = buf + strlen(MAGIC_V2);
	while (*line) {
		char *nl = strchr(line, '\n');
		lineno++;
		if (!nl) {
			err_set(err, "%s:%zu: truncated line" BY_HAND, path, lineno);
			goto out;
		}
		*nl = '\0';
		if (v2 && lineno == 2) {
			if (strcmp(line, "state deploy") == 0)
				j->state = JOURNAL_DEPLOY;
			else if (strcmp(line, "state start-only") == 0)
				j->state = JOURNAL_START_ONLY;
			else {
				err_set(err, "%s:2: unknown state line" BY_HAND, path);
				goto out;
			}
		} else if (v4 && strncmp(line, "image ", 6) == 0) {
			if (parse_image(j, line + 6, path, lineno, err) < 0)
				goto out;
		} else if (v3 && (strncmp(line, "root ", 5) == 0 || strncmp(line, "branch ", 7) == 0)) {
			int is_root = line[0] == 'r';
			char **field = j->n ? (is_root ? &j->e[j->n - 1].root : &j->e[j->n - 1].branch) : NULL;
			if (!field || *field) {
				err_set(err, "%s:%zu: misplaced '%s' line" BY_HAND, path, lineno,
				        is_root ? "root" : "branch");
				goto out;
			}
			*field = xstrdup(line + (is_root ? 5 : 7));
		} else {
			ARRAY_GROW(j->e, j->n, cap);
			memset(&j->e[j->n], 0, sizeof *j->e);
			if (parse_entry(&j->e[j->n], line, v2, path, lineno, err) < 0)
				goto out;
			j->n++;
		}
		line = nl + 1;
	}
	if (v2 && lineno < 2) {
		err_set(err, "%s:2: no state line" BY_HAND, path);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		journal_free(j);
	free(buf);
	return ret;
}

int journal_remove(const char *state_dir, char *err)
{
	char path[4096];
	journal_path(path, sizeof path, state_dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	/* best effort, as it always was: the journal is gone from the folder
	 * either way, and a failed sync only makes the removal less durable */
	util_fsync_dir(AT_FDCWD, state_dir, NULL);
	return 0;
}

int journal_locate(struct journal_entry *e, char *err)
{
	git_repository *r = NULL;
	git_reference *head = NULL;
	char *top = NULL;
	int ret = -1;

	e->root = e->branch = NULL;
	if (repo_open(&r, e->path, err) < 0)
		return -1;
	/* the real path: a restore must find the same folder whatever
	 * symlink the configuration went through */
	if (!(top = realpath(git_repository_workdir(r), NULL))) {
		err_set(err, "cannot resolve '%s': %s", git_repository_workdir(r), strerror(errno));
		goto out;
	}
	if (git_reference_lookup(&head, r, "HEAD") < 0) {
		repo_git_err(err, "cannot read HEAD of '%s'", top);
		goto out;
	}
	e->branch = xstrdup(git_reference_type(head) == GIT_REFERENCE_SYMBOLIC ?
	                    git_reference_symbolic_target(head) : JOURNAL_DETACHED);
	e->root = top;
	top = NULL;
	ret = 0;
out:
	free(top);
	git_reference_free(head);
	git_repository_free(r);
	return ret;
}

int journal_open_repo(git_repository **r, const struct journal_entry *e, char *err)
{
	*r = NULL;
	if (!e->root)
		return repo_open(r, e->path, err);
	if (git_repository_open_ext(r, e->root, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return repo_git_err(err, "cannot open the work tree '%s'", e->root);
	return 0;
}
