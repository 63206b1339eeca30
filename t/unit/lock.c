/* lib/lock.c: busy, waiting, release on death, errors. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-lock.XXXXXX";
static char lockpath[512];

struct holder {
	pid_t pid;
	int cmd;     /* write a byte: release the lock (and stay alive until closed) */
};

/*
 * A child process that takes the lock, says so, then on a byte from the
 * parent waits `delay_ms`, releases the lock and lives on until the
 * command pipe closes (so a success afterwards proves the release, not the
 * child's death, freed the lock).
 */
static struct holder start_holder(int delay_ms)
{
	int ready[2], cmd[2];
	struct holder h = { -1, -1 };
	if (pipe(ready) < 0 || pipe(cmd) < 0)
		return h;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char err[ERR_MAX], c;
		int fd;
		close(ready[0]);
		close(cmd[1]);
		if (lock_take(&fd, lockpath, 0, err) != 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(cmd[0], &c, 1) == 1) {
			struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			lock_release(fd);
			while (read(cmd[0], &c, 1) > 0)
				;
		}
		_exit(0);
	}
	close(ready[1]);
	close(cmd[0]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		diag("holder did not start");
	close(ready[0]);
	h.pid = pid;
	h.cmd = cmd[1];
	return h;
}

static void stop_holder(struct holder *h)
{
	close(h->cmd);
	int st;
	waitpid(h->pid, &st, 0);
}

int main(void)
{
	char err[ERR_MAX] = "", pidstr[32];
	int fd = -1, fd2 = -1;
	struct stat st;

	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(lockpath, sizeof lockpath, "%s/state/sub/lock", tmpdir);

	is_int(lock_take(&fd, lockpath, 0, err), 0, "a free lock is taken, its folder created");
	ok(fd >= 0 && stat(lockpath, &st) == 0, "the lock file exists and a descriptor is returned");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "the descriptor is close-on-exec (children do not keep the lock)");
	lock_release(fd);
	is_int(lock_take(&fd, lockpath, 0, err), 0, "after release the lock is taken again");
	lock_release(fd);

	struct holder h = start_holder(300);
	snprintf(pidstr, sizeof pidstr, "(pid %ld)", (long)h.pid);
	err[0] = '\0';
	is_int(lock_take(&fd2, lockpath, 0, err), LOCK_BUSY, "a lock held by another process is busy");
	is_int(fd2, -1, "and no descriptor is returned");
	char want[700];
	snprintf(want, sizeof want, "another run holds '%s' (pid %ld); try again later or pass --wait SECONDS",
	         lockpath, (long)h.pid);
	is_str(err, want, "the message names the lock, its holder and what to do");
	ok(strstr(err, pidstr) != NULL, "and the holder's pid %s", pidstr);
	is_int(lock_take(&fd2, lockpath, 1, err), LOCK_BUSY, "still busy after waiting 1 second");

	/* the holder releases 300 ms from now while it stays alive */
	if (write(h.cmd, "x", 1) != 1)
		diag("cannot talk to the holder");
	is_int(lock_take(&fd2, lockpath, 20, err), 0, "with --wait the lock is taken once the holder releases it");
	ok(kill(h.pid, 0) == 0, "(the holder is still alive)");
	lock_release(fd2);
	stop_holder(&h);

	h = start_holder(0);
	is_int(lock_take(&fd2, lockpath, 0, err), LOCK_BUSY, "a new holder has the lock");
	kill(h.pid, SIGKILL);
	stop_holder(&h);
	is_int(lock_take(&fd2, lockpath, 0, err), 0, "a killed holder's lock is free at once");
	lock_release(fd2);

	char bad[600];
	snprintf(bad, sizeof bad, "%s/lock/x", lockpath);   /* lockpath is a file */
	err[0] = '\0';
	is_int(lock_take(&fd2, bad, 0, err), -1, "a lock that cannot be created is an I/O error (-1)");
	ok(strstr(err, "state/sub/lock") != NULL, "naming the path: %s", err);

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
