/* installed: env.local's fingerprint at install time.  See installed.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "installed.h"
#include "util.h"

/* "sha256 HEX\n" of the file at path, or NULL. */
static char *fingerprint(const char *path)
{
	char *data = NULL, ignored[ERR_MAX], hex[2 * CRYPTO_SHA256_LEN + 1];
	unsigned char md[CRYPTO_SHA256_LEN];
	size_t len;

	if (util_read_file(&data, &len, path, ignored) < 0)
		return NULL;
	crypto_sha256(md, data, len);
	free(data);
	for (size_t i = 0; i < sizeof md; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("sha256 %s\n", hex);
}

static char *record_path(const char *root, const char *state_dir)
{
	return xasprintf("%s%s/" INSTALLED_FILE, root ? root : "", state_dir);
}

int installed_write(const char *root, const char *state_dir, const char *config_path, char *err)
{
	char *fp = fingerprint(config_path), *path = record_path(root, state_dir), *have = NULL;
	char ignored[ERR_MAX];
	int ret = 0;
	if (!fp)
		ret = err_set(err, "cannot read '%s' to record what was installed", config_path);
	/* A second run with the same env.local changes no file, not even
	 * this one's mtime: backups and configuration management watch it. */
	else if (util_read_file(&have, NULL, path, ignored) < 0 || strcmp(have, fp) != 0)
		ret = util_write_atomic(path, fp, strlen(fp), 0644, err);
	free(have);
	free(fp);
	free(path);
	return ret;
}

int installed_remove(const char *root, const char *state_dir, char *err)
{
	char *path = record_path(root, state_dir);
	int ret = 0;
	if (unlink(path) < 0 && errno != ENOENT)
		ret = err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	free(path);
	return ret;
}

int installed_check(const char *state_dir, const char *config_path)
{
	char *path = record_path(NULL, state_dir), *have = NULL, ignored[ERR_MAX];
	int changed = 0;
	if (util_read_file(&have, NULL, path, ignored) == 0) {
		char *now = fingerprint(config_path);
		changed = now && strcmp(now, have) != 0;
		free(now);
	}
	free(have);
	free(path);
	return changed;
}
