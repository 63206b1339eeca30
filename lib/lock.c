#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

/* The holder's pid, as it wrote it into the lock file, or 0. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	char *end;
	long pid = strtol(buf, &end, 10);
	return (pid > 0 && *end == '\n') ? pid : 0;
}

int lock_take(int *fd, const char *path, long wait_seconds, char *err)
{
	*fd = -1;
	const char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		char *dir = xasprintf("%.*s", (int)(slash - path), path);
		int r = util_mkdir_p(dir, 0755, err);
		free(dir);
		if (r < 0)
			return -1;
	}
	/* The lock is truncated to write our pid: never through a symlink,
	 * never into a file that is not a lock of ours alone (a hard link
	 * to /etc/passwd would be emptied). */
	int f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	if (f < 0 && errno == ELOOP)
		return err_set(err, "lock '%s' is a symbolic link: remove it (nobody but us should "
		               "write in its folder)", path);
	if (f < 0)
		return err_set(err, "cannot open lock '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(f);
		return err_set(err, "lock '%s' is not a plain file of its own (a link or a special "
		               "file): remove it", path);
	}

	/* Poll rather than block: a blocking flock could only be bounded with
	 * a signal, and signals do not mix with the threads of check-drift. */
	double deadline = util_monotonic() + (double)(wait_seconds > 0 ? wait_seconds : 0);
	for (;;) {
		if (flock(f, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			err_set(err, "cannot lock '%s': %s", path, strerror(errno));
			close(f);
			return -1;
		}
		if (util_monotonic() >= deadline) {
			long pid = holder_pid(f);
			char who[40] = "";
			if (pid > 0)
				snprintf(who, sizeof who, " (pid %ld)", pid);
			err_set(err, "another run holds '%s'%s; try again later%s", path, who,
			        wait_seconds == LOCK_NO_WAIT ? ", when it has finished" :
			        " or pass --wait SECONDS");
			close(f);
			return LOCK_BUSY;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}

	/* Tell whoever finds the lock busy who holds it.  Best effort: the
	 * lock is the flock, not the file's content. */
	char buf[32];
	int k = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(f, 0) == 0 && pwrite(f, buf, (size_t)k, 0) < 0) {
		/* the message will just not name the pid */
	}
	*fd = f;
	return 0;
}

void lock_release(int fd)
{
	if (fd < 0)
		return;
	/* Empty the file first, so that a pid read later is never a stale one. */
	if (ftruncate(fd, 0) < 0) {
		/* best effort */
	}
	close(fd);
}
