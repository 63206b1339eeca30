#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
