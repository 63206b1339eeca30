#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
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

#define JOURNAL_MAGIC "autodeploy-journal 1\n"

int journal_write(const char *state_dir, const struct journal_entry *e, size_t n, char *err)
{
	char path[4096];
	size_t cap = sizeof JOURNAL_MAGIC, len = 0;
	for (size_t i = 0; i < n; i++)
		cap += 2 * (GIT_OID_HEXSZ + 1) + strlen(e[i].path) + 1;
	char *buf = xmalloc(cap);
	int ret = -1;

	journal_path(path, sizeof path, state_dir);
	len += (size_t)snprintf(buf, cap, "%s", JOURNAL_MAGIC);
	for (size_t i = 0; i < n; i++) {
		char o[GIT_OID_HEXSZ + 1], w[GIT_OID_HEXSZ + 1];
		if (strchr(e[i].path, '\n')) {
			err_set(err, "cannot journal '%s': the path holds a newline", e[i].path);
			goto out;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s %s %s\n",
		                        git_oid_tostr(o, sizeof o, &e[i].old),
		                        git_oid_tostr(w, sizeof w, &e[i].new), e[i].path);
	}
	if (util_mkdir_p(state_dir, 0755, err) < 0)
		goto out;
	ret = util_write_atomic(path, buf, len, 0644, err);
out:
	free(buf);
	return ret;
}

void journal_entries_free(struct journal_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].path);
	free(e);
}

int journal_read(struct journal_entry **out, size_t *n, const char *state_dir, char *err)
{
	char path[4096];
	char *buf = NULL;
	size_t len, count = 0, lineno = 1;
	struct journal_entry *e = NULL;
	int ret = -1;

	*out = NULL;
	*n = 0;
	journal_path(path, sizeof path, state_dir);
	if (util_read_file(&buf, &len, path, err) < 0)
		return -1;
	if (strncmp(buf, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC)) != 0) {
		err_set(err, "%s:1: not an autodeploy journal: look at it, restore the checkouts by hand, then remove it", path);
		goto out;
	}
	char *line = buf + strlen(JOURNAL_MAGIC);
	while (*line) {
		char *nl = strchr(line, '\n');
		lineno++;
		if (!nl) {
			err_set(err, "%s:%zu: truncated line", path, lineno);
			goto out;
		}
		*nl = '\0';
		e = xrealloc(e, (count + 1) * sizeof *e);
		memset(&e[count], 0, sizeof *e);
		if (strlen(line) < 2 * (GIT_OID_HEXSZ + 1) + 1 || line[GIT_OID_HEXSZ] != ' ' ||
		    line[2 * GIT_OID_HEXSZ + 1] != ' ') {
			err_set(err, "%s:%zu: malformed line", path, lineno);
			goto out;
		}
		line[GIT_OID_HEXSZ] = line[2 * GIT_OID_HEXSZ + 1] = '\0';
		if (git_oid_fromstr(&e[count].old, line) < 0 ||
		    git_oid_fromstr(&e[count].new, line + GIT_OID_HEXSZ + 1) < 0) {
			err_set(err, "%s:%zu: malformed commit id", path, lineno);
			goto out;
		}
		e[count].path = xstrdup(line + 2 * (GIT_OID_HEXSZ + 1));
		count++;
		line = nl + 1;
	}
	*out = e;
	*n = count;
	e = NULL;
	count = 0;
	ret = 0;
out:
	journal_entries_free(e, count);
	free(buf);
	return ret;
}

int journal_remove(const char *state_dir, char *err)
{
	char path[4096];
	journal_path(path, sizeof path, state_dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
