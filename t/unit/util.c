/* lib/util.c: atomic writes, mkdir -p, reading files, times, exit words. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-util.XXXXXX";

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_write_atomic(void)
{
	char err[ERR_MAX] = "", path[512], dir[256], *buf = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/w", tmpdir);
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/state.json", dir);

	is_int(util_write_atomic(path, "first\n", 6, 0644, err), 0, "atomic write creates a new file");
	is_int(util_read_file(&buf, &len, path, err), 0, "the file reads back");
	is_str(buf, "first\n", "with the content written");
	free(buf);

	/* a reader holding the old file keeps seeing the old content */
	FILE *old = fopen(path, "r");
	is_int(util_write_atomic(path, "second, longer\n", 15, 0600, err), 0,
	       "atomic write replaces an existing file");
	is_int(util_read_file(&buf, &len, path, err), 0, "the replaced file reads back");
	is_str(buf, "second, longer\n", "with the new content");
	is_int((long long)len, 15, "and the length of the new content");
	free(buf);
	char oldbuf[32] = "";
	if (old) {
		if (!fgets(oldbuf, sizeof oldbuf, old))
			oldbuf[0] = '\0';
		fclose(old);
	}
	is_str(oldbuf, "first\n", "a reader of the old file never sees a half-written one");

	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "the mode is exactly the one asked for (0600)");
	umask(0077);
	is_int(util_write_atomic(path, "x", 1, 0644, err), 0, "write again under umask 077");
	umask(0022);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644, "the mode ignores the umask (0644)");
	is_int(count_entries(dir), 1, "no temporary file is left beside the target");

	is_int(util_write_atomic(path, "", 0, 0644, err), 0, "an empty content can be written");
	ok(stat(path, &st) == 0 && st.st_size == 0, "and gives an empty file");

	/* failure: the folder does not exist */
	char missing[512];
	snprintf(missing, sizeof missing, "%s/nope/state.json", tmpdir);
	err[0] = '\0';
	is_int(util_write_atomic(missing, "x", 1, 0644, err), -1, "writing into a missing folder fails");
	ok(strstr(err, "nope") != NULL, "the error names the folder: %s", err);
	ok(!is_dir(missing) && access(missing, F_OK) < 0, "and nothing is created");

	/* failure after the temp file exists: the target is a folder, so
	 * rename fails; the old folder stays and no temp file is left */
	char sub[512];
	snprintf(sub, sizeof sub, "%s/adir", dir);
	mkdir(sub, 0755);
	is_int(util_write_atomic(sub, "x", 1, 0644, err), -1, "replacing a folder with a file fails");
	ok(strstr(err, "adir") != NULL, "the error names the target: %s", err);
	ok(is_dir(sub), "the folder is untouched");
	is_int(count_entries(dir), 2, "the temporary file was removed on failure");
	rmdir(sub);

	/* failure while writing (file size limit, as a full disk would): the
	 * old file keeps its content and the temporary file is removed */
	is_int(util_write_atomic(path, "old\n", 4, 0644, err), 0, "write the old content");
	struct rlimit saved, small = { 10, 10 };
	getrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_IGN);
	small.rlim_max = saved.rlim_max;
	setrlimit(RLIMIT_FSIZE, &small);
	char big[100];
	memset(big, 'n', sizeof big);
	err[0] = '\0';
	is_int(util_write_atomic(path, big, sizeof big, 0644, err), -1, "a write that fails half-way is an error");
	setrlimit(RLIMIT_FSIZE, &saved);
	ok(strstr(err, "state.json'") != NULL, "naming the file: %s", err);
	is_int(util_read_file(&buf, &len, path, err), 0, "the old file is still there");
	is_str(buf, "old\n", "with its old content");
	free(buf);
	is_int(count_entries(dir), 1, "and the temporary file is gone");
	unlink(path);
	rmdir(dir);
}

static void test_mkdir_p(void)
{
	char err[ERR_MAX] = "", p[512], file[512];
	struct stat st;

	snprintf(p, sizeof p, "%s/a/b//c/", tmpdir);
	is_int(util_mkdir_p(p, 0750, err), 0, "mkdir -p creates nested folders (with // and a trailing /)");
	snprintf(p, sizeof p, "%s/a/b/c", tmpdir);
	ok(is_dir(p), "the deepest folder exists");
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == (0750 & ~022), "with the mode asked (less umask)");
	is_int(util_mkdir_p(p, 0750, err), 0, "mkdir -p on an existing folder succeeds");

	snprintf(file, sizeof file, "%s/a/file", tmpdir);
	FILE *f = fopen(file, "w");
	if (f)
		fclose(f);
	snprintf(p, sizeof p, "%s/a/file/sub", tmpdir);
	err[0] = '\0';
	is_int(util_mkdir_p(p, 0755, err), -1, "a file in the way is an error");
	ok(strstr(err, "a/file'") != NULL && strstr(err, "Not a directory"), "naming it: %s", err);
	is_int(util_mkdir_p("", 0755, err), -1, "an empty path is an error");

	unlink(file);
	snprintf(p, sizeof p, "%s/a/b/c", tmpdir); rmdir(p);
	snprintf(p, sizeof p, "%s/a/b", tmpdir); rmdir(p);
	snprintf(p, sizeof p, "%s/a", tmpdir); rmdir(p);
}

static void test_read_file(void)
{
	char err[ERR_MAX] = "", path[512], *buf = (char *)"sentinel";
	size_t len = 99;

	snprintf(path, sizeof path, "%s/missing", tmpdir);
	is_int(util_read_file(&buf, &len, path, err), -1, "reading a missing file fails");
	ok(buf == NULL, "and leaves no buffer");
	ok(strstr(err, "missing'") && strstr(err, "No such file"), "the error names the file: %s", err);

	/* binary content with a NUL, bigger than one read */
	size_t n = 100000;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i % 251);
	snprintf(path, sizeof path, "%s/big", tmpdir);
	is_int(util_write_atomic(path, data, n, 0644, err), 0, "a 100 kB binary file is written");
	is_int(util_read_file(&buf, &len, path, err), 0, "and read back");
	ok(len == n && memcmp(buf, data, n) == 0, "byte for byte");
	ok(buf[len] == '\0', "the buffer is NUL-terminated");
	free(buf);
	free(data);
	unlink(path);

	/* st_size says 0 for /proc files: the content must still be read */
	is_int(util_read_file(&buf, NULL, "/proc/self/status", err), 0, "a /proc file (size 0 in stat) is read");
	ok(buf && strstr(buf, "Name:") != NULL, "with its content");
	free(buf);
	is_int(util_read_file(&buf, NULL, tmpdir, err), -1, "reading a folder fails");
}

static void test_iso_time(void)
{
	char buf[64];
	regex_t re;
	regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$", REG_EXTENDED | REG_NOSUB);

	setenv("TZ", "UTC", 1);
	tzset();
	util_iso_time(buf, sizeof buf, 1795306027);
	is_str(buf, "2026-11-22T00:07:07+00:00", "iso time in UTC");
	setenv("TZ", "<-0330>3:30", 1);   /* 3h30 west of UTC, no DST */
	tzset();
	util_iso_time(buf, sizeof buf, 1795306027);
	is_str(buf, "2026-11-21T20:37:07-03:30", "iso time with a negative, non-whole-hour offset");
	setenv("TZ", "<+0545>-5:45", 1);
	tzset();
	util_iso_time(buf, sizeof buf, 1795306027);
	is_str(buf, "2026-11-22T05:52:07+05:45", "iso time with a positive offset");
	ok(regexec(&re, buf, 0, NULL, 0) == 0, "matches the documented shape");
	util_iso_time(buf, 11, 1795306027);
	is_str(buf, "2026-11-22", "a short buffer is truncated and terminated");
	unsetenv("TZ");
	tzset();
	regfree(&re);
}

static void test_exit_and_err(void)
{
	static const int codes[] = { 0, 1, 2, 3, 64, 65, 69, 74, 75, 78 };
	int distinct = 1;
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(exitcode_meaning(codes[i]), exitcode_meaning(codes[k])))
				distinct = 0;
	ok(distinct, "every exit code of the table has its own words");
	is_str(exitcode_meaning(2), "deploy failed, old commits restored and started", "meaning of 2");
	ok(strstr(exitcode_meaning(75), "lock") != NULL, "meaning of 75 speaks of the lock");
	is_str(exitcode_meaning(42), "unknown exit code", "an unknown code says so");

	char err[ERR_MAX];
	errno = ENOENT;
	is_int(err_set(err, "cannot open '%s': %s", "/x", "why"), -1, "err_set returns -1");
	is_str(err, "cannot open '/x': why", "and formats the message");
	is_int(errno, ENOENT, "and keeps errno");
	char *big = malloc(3000);
	memset(big, 'a', 2999);
	big[2999] = '\0';
	err_set(err, "%s", big);
	is_int((long long)strlen(err), ERR_MAX - 1, "a long message is cut to ERR_MAX");
	free(big);

	char *s = xasprintf("%s-%d", "a", 7);
	is_str(s, "a-7", "xasprintf formats");
	free(s);
	s = xstrdup("copy");
	is_str(s, "copy", "xstrdup copies");
	free(s);
}

static void test_temp_target(void)
{
	char name[32];
	ok(util_temp_target(".x.log-20200101.gz.0badf00d.tmp", name, sizeof name) == 0 &&
	   strcmp(name, "x.log-20200101.gz") == 0, "temp_target: the name a temporary file was made for");
	ok(util_temp_target(".x.0BADF00D.tmp", name, sizeof name) < 0, "temp_target: lower-case hex only");
	ok(util_temp_target(".x.badf00d.tmp", name, sizeof name) < 0, "temp_target: exactly 8 digits");
	ok(util_temp_target("x.0badf00d.tmp", name, sizeof name) < 0, "temp_target: hidden names only");
	ok(util_temp_target("..0badf00d.tmp", name, sizeof name) < 0, "temp_target: an empty name is none");
	ok(util_temp_target(".a-name-longer-than-the-buffer-holds.0badf00d.tmp", name, 8) < 0,
	   "temp_target: a name that does not fit is none");
}

static void test_open_temp(const char *dir)
{
	char a[256], b[256];
	struct stat st;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	int fa = util_open_temp(dirfd, "x.gz", a, sizeof a);
	int fb = util_open_temp(dirfd, "x.gz", b, sizeof b);
	char target[16];
	ok(util_temp_target(a, target, sizeof target) == 0 && strcmp(target, "x.gz") == 0,
	   "open_temp's names are what temp_target recognises");
	ok(fa >= 0 && fb >= 0, "open_temp: two temporary files open");
	ok(strncmp(a, ".x.gz.", 6) == 0 && strlen(a) > 10 && strcmp(a + strlen(a) - 4, ".tmp") == 0,
	   "open_temp: name is dot-prefixed and ends in .tmp ('%s')", a);
	ok(strcmp(a, b) != 0, "open_temp: two calls, two names");
	ok(fstatat(dirfd, a, &st, 0) == 0 && (st.st_mode & 07777) == 0600, "open_temp: mode 0600");
	ok(util_write_all(fa, "hello", 5) == 0 && fstat(fa, &st) == 0 && st.st_size == 5,
	   "write_all writes everything");
	unlinkat(dirfd, a, 0);
	unlinkat(dirfd, b, 0);
	char lng[300];
	memset(lng, 'n', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	errno = 0;
	ok(util_open_temp(dirfd, lng, a, 64) < 0 && errno == ENAMETOOLONG, "open_temp: name too long for the buffer");
	close(fa);
	close(fb);
	close(dirfd);
}

static void test_memdupz(void)
{
	const char src[] = "abc\0def";
	char *p = xmemdupz(src, 2);
	is_str(p, "ab", "xmemdupz: len bytes, then a NUL");
	free(p);
	p = xmemdupz(src, 7);
	ok(memcmp(p, src, 7) == 0 && p[7] == '\0', "xmemdupz: NULs inside are copied, not stopped at");
	free(p);
	p = xmemdupz("", 0);
	is_str(p, "", "xmemdupz: no bytes is the empty string");
	free(p);
}

static double clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_monotonic(void)
{
	double before = clock_now(), m = util_monotonic(), after = clock_now();
	ok(before <= m && m <= after, "util_monotonic reads CLOCK_MONOTONIC, in seconds");
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	nanosleep(&nap, NULL);
	ok(util_monotonic() - m >= 0.019, "util_monotonic counts a sleep (at least, never less)");
}

static void test_fsync_dir(const char *dir)
{
	char err[ERR_MAX], *missing = xasprintf("%s/missing", dir), *file = xasprintf("%s/file", dir);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	is_int(util_fsync_dir(AT_FDCWD, dir, err), 0, "fsync_dir: a folder by its path");
	is_int(util_fsync_dir(dirfd, ".", err), 0, "fsync_dir: \".\" is the folder dirfd");
	errno = 0;
	ok(util_fsync_dir(AT_FDCWD, missing, err) < 0 && errno == ENOENT &&
	   strstr(err, "cannot sync folder '") && strstr(err, "/missing'"),
	   "fsync_dir: a missing folder fails, naming it, errno kept ('%s')", err);
	errno = 0;
	ok(util_write_atomic(file, "x", 1, 0644, err) == 0 &&
	   util_fsync_dir(dirfd, "file", err) < 0 && errno == ENOTDIR,
	   "fsync_dir: a file is no folder");
	unlink(file);
	close(dirfd);
	free(missing);
	free(file);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_write_atomic();
	test_mkdir_p();
	test_read_file();
	test_iso_time();
	test_exit_and_err();
	test_open_temp(tmpdir);
	test_temp_target();
	test_memdupz();
	test_monotonic();
	test_fsync_dir(tmpdir);
	is_int(count_entries(tmpdir), 0, "the tests leave nothing behind");
	rmdir(tmpdir);
	return done_testing();
}
