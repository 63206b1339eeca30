#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int err_set(char *err, const char *fmt, ...)
{
	/* Callers often format strerror(errno) and then look at errno again
	 * to decide the exit code: keep it as it was. */
	int saved = errno;
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, ERR_MAX, fmt, ap);
		va_end(ap);
	}
	errno = saved;
	return -1;
}

static void oom(size_t n)
{
	/* No allocation from here on: write what we can and stop. */
	char msg[96];
	int k = snprintf(msg, sizeof msg, "fatal: out of memory (%zu bytes)\n", n);
	if (k > 0 && write(STDERR_FILENO, msg, (size_t)k) < 0) {
		/* nothing left to try */
	}
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void *xmemdupz(const void *data, size_t len)
{
	char *p = xmalloc(len + 1);
	memcpy(p, data, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		oom(strlen(fmt));
	return s;
}

int util_mkdir_p(const char *path, mode_t mode, char *err)
{
	if (!path || !*path)
		return err_set(err, "cannot create folder '': empty path");
	char *p = xstrdup(path);
	int ret = -1;
	struct stat st;

	/* Walk the components left to right; a component that already exists
	 * must be a folder (or a symlink to one). */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0) {
			if (errno != EEXIST) {
				err_set(err, "cannot create folder '%s': %s", p, strerror(errno));
				goto out;
			}
			if (stat(p, &st) < 0) {
				err_set(err, "cannot create folder '%s': %s", p, strerror(errno));
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				err_set(err, "cannot create folder '%s': %s", p, strerror(ENOTDIR));
				goto out;
			}
		}
		*s = c;
		if (c == '\0')
			break;
		while (s[1] == '/')
			s++;
		if (s[1] == '\0')
			break;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

int util_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t k = write(fd, p, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

const char *util_home(void)
{
	const char *home = getenv("HOME");
	if (home && *home)
		return home;
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

int util_open_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	static unsigned counter;
	for (int i = 0; i < 100; i++) {
		unsigned r = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL) ^
		             (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) * 40503u);
		if ((size_t)snprintf(tmp, len, ".%s.%08x.tmp", name, r) >= len) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int util_temp_target(const char *tmp, char *name, size_t len)
{
	size_t n = strlen(tmp);
	/* "." NAME "." 8 hex digits ".tmp" */
	if (n < 1 + 1 + 1 + 8 + 4 || tmp[0] != '.' || strcmp(tmp + n - 4, ".tmp") != 0 ||
	    tmp[n - 13] != '.')
		return -1;
	for (size_t i = n - 12; i < n - 4; i++)
		if (!strchr("0123456789abcdef", tmp[i]))
			return -1;
	size_t k = n - 13 - 1;
	if (k >= len)
		return -1;
	memcpy(name, tmp + 1, k);
	name[k] = '\0';
	return 0;
}

int util_temp_rename(int dirfd, const char *tmp, const char *dst, char *err)
{
	if (renameat(dirfd, tmp, dirfd, dst) < 0) {
		err_set(err, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	if (util_fsync_dir(dirfd, ".", err) < 0)
		return err_set(err, "cannot sync the folder of '%s': %s", dst, strerror(errno));
	return 0;
}

int util_fsync_dir(int dirfd, const char *path, char *err)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
		ret = err_set(err, "cannot sync folder '%s': %s", path, strerror(errno));
	if (fd >= 0) {
		int saved = errno;   /* callers may report it again */
		close(fd);
		errno = saved;
	}
	return ret;
}

int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", (int)(slash == path ? 1 : slash - path), path)
	                  : xstrdup(".");
	const char *base = slash ? slash + 1 : path;
	char tmp[NAME_MAX + 16];
	int fd = -1, dfd = -1, ret = -1;

	if (!*base) {
		err_set(err, "cannot write '%s': not a file name", path);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A hidden name beside the target (util_open_temp): same file system,
	 * so rename is atomic, and never picked up by globs such as *.log. */
	if (dfd < 0 || (fd = util_open_temp(dfd, base, tmp, sizeof tmp)) < 0) {
		err_set(err, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
		goto out;
	}
	int failed = util_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0;
	int e = errno;
	if (close(fd) < 0 && !failed) {
		failed = 1;
		e = errno;
	}
	fd = -1;
	if (failed) {
		err_set(err, "cannot write '%s': %s", path, strerror(e));
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	ret = util_temp_rename(dfd, tmp, base, err);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return ret;
}

int util_read_file(char **out, size_t *len, const char *path, char *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t n = 0, cap;
	struct stat st;

	*out = NULL;
	if (len)
		*len = 0;
	if (fd < 0)
		return err_set(err, "cannot open '%s': %s", path, strerror(errno));
	/* st_size is only a hint: files in /proc say 0, and a file may grow
	 * while we read it. */
	cap = (fstat(fd, &st) == 0 && st.st_size > 0) ? (size_t)st.st_size + 1 : 4096;
	buf = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			err_set(err, "cannot read '%s': %s", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

void util_iso_time(char *buf, size_t len, time_t t)
{
	struct tm tm;
	char tmp[64];

	if (len == 0)
		return;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00+00:00");
		return;
	}
	size_t k = strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(tmp + k, sizeof tmp - k, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
	snprintf(buf, len, "%s", tmp);
}

/* Empty the folder open at fd (which this closes), making each folder
 * below it writable by its owner first: a published set is read-only. */
static int empty_dir(int fd, const char *top, char *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		close(fd);
		return err_set(err, "cannot read '%s': %s", top, strerror(errno));
	}
	while (ret == 0 && (errno = 0, e = readdir(d)) != NULL) {
		struct stat st;
		int sub;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR) {
			ret = err_set(err, "cannot remove '%s' in '%s': %s", e->d_name, top, strerror(errno));
			break;
		}
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || fstat(sub, &st) < 0 || fchmod(sub, (st.st_mode & 07777) | S_IRWXU) < 0) {
			ret = err_set(err, "cannot open '%s' in '%s': %s", e->d_name, top, strerror(errno));
			if (sub >= 0)
				close(sub);
			break;
		}
		if ((ret = empty_dir(sub, top, err)) < 0)
			break;
		if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
			ret = err_set(err, "cannot remove '%s' in '%s': %s", e->d_name, top, strerror(errno));
	}
	if (ret == 0 && errno != 0)
		ret = err_set(err, "cannot read '%s': %s", top, strerror(errno));
	closedir(d);
	return ret;
}

int util_remove_tree(const char *path, char *err)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? err_set(err, "cannot remove '%s': %s", path, strerror(errno)) : 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, (st.st_mode & 07777) | S_IRWXU) < 0) {
		err_set(err, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (empty_dir(fd, path, err) < 0)
		return -1;
	if (rmdir(path) < 0)
		return err_set(err, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

double util_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long util_test_kill_count(const char *prefix)
{
	const char *at = getenv("AUTODEPLOY_TEST_KILL_AT");
	size_t n = strlen(prefix);
	if (!at || strncmp(at, prefix, n) != 0)
		return 0;
	return strtol(at + n, NULL, 10);
}

void util_test_kill(void)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "TERM", SIGTERM }, { "HUP", SIGHUP }, { "INT", SIGINT }, { "PIPE", SIGPIPE },
	};
	const char *name = getenv("AUTODEPLOY_TEST_KILL_SIGNAL");
	int sig = SIGKILL;
	for (size_t i = 0; name && i < sizeof sigs / sizeof sigs[0]; i++)
		if (strcmp(name, sigs[i].name) == 0)
			sig = sigs[i].sig;
	raise(sig);
}
