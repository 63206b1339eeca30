#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

extern char **environ;

/*
 * Everything the child needs is prepared before fork(): in a program with
 * threads the child may only call async-signal-safe functions until it
 * execs, so no malloc, no getenv, no stdio there.  For the same reason the
 * PATH search is done here and the child merely tries execve() on each
 * candidate, as execvp() would.
 */

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1u << 2)   /* linux/close_range.h */
#endif

#define KILL_GRACE 5.0   /* seconds between SIGTERM and SIGKILL */

enum { STAGE_CHDIR = 1, STAGE_STDIO, STAGE_EXEC, STAGE_USER, STAGE_FDS, STAGE_NET };

struct child_report {
	int stage;
	int err;
};

static size_t key_len(const char *entry)
{
	return strcspn(entry, "=");
}

static int same_key(const char *a, const char *b)
{
	size_t n = key_len(a);
	return n == key_len(b) && strncmp(a, b, n) == 0;
}

/* The inherited environment (PATH and HOME alone when clear) with the
 * extra entries added or overriding;
 * an extra entry without '=' removes that key. */
static char **build_env(const char *const *extra, int clear)
{
	size_t n = 0, m = 0, k = 0;
	while (environ && environ[n])
		n++;
	while (extra && extra[m])
		m++;
	char **envp = xcalloc(n + m + 1, sizeof *envp);
	for (size_t i = 0; i < n; i++) {
		/* cleared: only PATH and HOME survive, what a script needs to
		 * find its tools */
		int keep = !clear || strncmp(environ[i], "PATH=", 5) == 0 || strncmp(environ[i], "HOME=", 5) == 0;
		for (size_t j = 0; j < m && keep; j++)
			keep = !same_key(environ[i], extra[j]);
		if (keep)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++) {
		int later = 0;
		for (size_t l = j + 1; l < m && !later; l++)
			later = same_key(extra[j], extra[l]);
		if (!later && strchr(extra[j], '='))
			envp[k++] = (char *)extra[j];
	}
	envp[k] = NULL;
	return envp;
}

/* Full paths to try, in execvp's order; free each and the array. */
static char **exec_candidates(const char *file, char *const *envp)
{
	if (strchr(file, '/')) {
		char **c = xcalloc(2, sizeof *c);
		c[0] = xstrdup(file);
		return c;
	}
	const char *path = NULL;
	for (char *const *e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	size_t n = 1;
	for (const char *p = path; *p; p++)
		n += *p == ':';
	char **c = xcalloc(n + 1, sizeof *c);
	size_t k = 0;
	for (const char *p = path;; ) {
		size_t len = strcspn(p, ":");
		/* an empty element means the current folder */
		c[k++] = len ? xasprintf("%.*s/%s", (int)len, p, file) : xasprintf("./%s", file);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return c;
}

static void free_candidates(char **c)
{
	for (size_t i = 0; c && c[i]; i++)
		free(c[i]);
	free(c);
}

/* In the child: report why it could not become the program, then die. */
_Noreturn static void child_fail(int fd, int stage, int err)
{
	struct child_report r = { stage, err };
	while (write(fd, &r, sizeof r) < 0 && errno == EINTR)
		;
	_exit(127);
}

/*
 * Every process below the supervisor, whatever group or session it made
 * for itself (`timeout` calls setpgid, `setsid` a new session): the
 * supervisor is a child subreaper (PR_SET_CHILD_SUBREAPER), so an orphan
 * anywhere below it is re-parented to it, not to init, and the parent
 * links in /proc always lead back to it.  We chose this over a cgroup of
 * our own: it needs no delegation from systemd (run-deploy also runs by
 * hand, from cron, under the hook) and no cgroup file system, and it is
 * exactly as wide as one command.  A process that is re-parented above
 * the supervisor can only do so after the supervisor died, which is the
 * moment it kills them all.
 *
 * The supervisor is a fork of a program with threads: no malloc, no
 * stdio here, only system calls on fixed buffers.
 */
#define TREE_MAX 65536
static pid_t tree_pid[TREE_MAX], tree_ppid[TREE_MAX], tree_pgrp[TREE_MAX];
static unsigned char tree_mark[TREE_MAX];
static size_t tree_below[TREE_MAX];

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static long parse_long(const char **p)
{
	long v = 0;
	while (**p == ' ')
		(*p)++;
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (*(*p)++ - '0');
	return v;
}

/* One line of /proc/PID/stat: parent, group; 0 for a zombie or an error. */
static int read_stat(const char *pid, pid_t *ppid, pid_t *pgrp)
{
	char path[64], buf[512];
	size_t n = 0;
	const char *p;
	memcpy(path, "/proc/", 6);
	n = 6;
	for (p = pid; *p && n < sizeof path - 6; p++)
		path[n++] = *p;
	memcpy(path + n, "/stat", 6);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t k = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	/* "PID (COMM) S PPID PGRP ...": COMM may hold anything, ')' too */
	const char *close_paren = NULL;
	for (p = buf; *p; p++)
		if (*p == ')')
			close_paren = p;
	if (!close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z' || close_paren[2] == 'X')
		return 0;
	p = close_paren + 3;
	*ppid = (pid_t)parse_long(&p);
	*pgrp = (pid_t)parse_long(&p);
	return 1;
}

/* Send sig to every live process below us (but our own group when
 * skip_group: the caller signalled it already); how many were found. */
static size_t signal_tree(int sig, int skip_group)
{
	char dents[8192];
	size_t n = 0, found = 0;
	pid_t self = getpid(), group = getpgrp();
	int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 0;
	for (;;) {
		long k = syscall(SYS_getdents64, dir, dents, sizeof dents);
		if (k <= 0)
			break;
		for (long off = 0; off < k && n < TREE_MAX;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(dents + off);
			off += d->d_reclen;
			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			const char *q = d->d_name;
			pid_t pid = (pid_t)parse_long(&q);
			if (pid != self && read_stat(d->d_name, &tree_ppid[n], &tree_pgrp[n])) {
				tree_pid[n] = pid;
				tree_mark[n] = 0;
				n++;
			}
		}
	}
	close(dir);
	/* tree_below lists the ones below us (few): grow it until it stops */
	for (int grew = 1; grew;) {
		grew = 0;
		for (size_t i = 0; i < n; i++) {
			int below = !tree_mark[i] && tree_ppid[i] == self;
			for (size_t j = 0; j < found && !tree_mark[i] && !below; j++)
				below = tree_pid[tree_below[j]] == tree_ppid[i];
			if (below) {
				tree_mark[i] = grew = 1;
				tree_below[found++] = i;
			}
		}
	}
	for (size_t j = 0; j < found; j++)
		if (!skip_group || tree_pgrp[tree_below[j]] != group)
			kill(tree_pid[tree_below[j]], sig);
	return found;
}

/* SIGKILL everything below us until nothing is left (a process may fork
 * between the look and the kill: its child is found on the next round). */
static void kill_tree(void)
{
	for (int round = 0; round < 200 && signal_tree(SIGKILL, 0) > 0; round++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	/* Reap them all (every orphan below is ours: we are the subreaper).
	 * A killed process we leave as a zombie is handed to init when we
	 * exit, and an init that does not reap (a container's) keeps it
	 * forever: to kill(pid, 0) it would look alive. */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* What the supervisor was asked: 1 (SIGTERM: the command is being ended,
 * pass it on), 2 (SIGUSR1: our caller died, or its grace ran out: kill
 * everything now). */
static volatile sig_atomic_t supervisor_asked;

static void on_supervisor_signal(int sig)
{
	if (sig == SIGUSR1)
		supervisor_asked = 2;
	else if (sig == SIGTERM && !supervisor_asked)
		supervisor_asked = 1;
	/* SIGCHLD: only wakes sigsuspend */
}

/* Every descriptor, whatever its close-on-exec flag (the supervisor). */
static void close_every_fd(void)
{
	long closed = -1;
#ifdef SYS_close_range
	closed = syscall(SYS_close_range, 0U, ~0U, 0U);
#endif
	if (closed < 0) {
		struct rlimit nofile;
		long top = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536 ?
		           (long)nofile.rlim_cur : 65536;
		for (long fd = 0; fd < top; fd++)
			close((int)fd);
	}
}

/*
 * The first child is a supervisor, not the command: it leads the group,
 * forks the command into it and waits.  PR_SET_PDEATHSIG reaches only a
 * direct child, and `/bin/sh -c script` forks the script, so when the
 * caller dies (even by SIGKILL) the supervisor kills everything below it
 * (signal_tree) and then itself: a stop command must not go on stopping
 * the stack after the run that asked for it is gone.  A SIGTERM (the
 * caller's deadline or cancel) is passed on to every process below it,
 * and whatever is left once the command exited is killed.  It exits as
 * the command did (same code, same signal), so the caller cannot tell it
 * is there.
 */
static void supervise(int report_fd, int null_fd, pid_t parent)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_supervisor_signal;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* Blocked but while sigsuspend waits: a request that came between
	 * the look at supervisor_asked and a blocking wait would otherwise
	 * be seen only when the command ended on its own (never, for a hung
	 * one). */
	sigset_t none, ours;
	sigemptyset(&none);
	sigemptyset(&ours);
	sigaddset(&ours, SIGUSR1);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGCHLD);
	sigprocmask(SIG_SETMASK, &ours, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* the parent may have died before prctl took effect */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) < 0 || getppid() != parent)
		kill(0, SIGKILL);

	pid_t c = fork();
	if (c < 0)
		child_fail(report_fd, STAGE_EXEC, errno);
	if (c == 0) {
		/* neither the death signal nor the subreaper role are the
		 * command's; fork cleared them, the handlers it must reset */
		prctl(PR_SET_PDEATHSIG, 0);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		return;   /* the command */
	}
	/* The supervisor is a fork that never execs: it would hold every
	 * descriptor of the caller, close-on-exec or not, for as long as it
	 * lives.  The report pipe must close when the command execs (the
	 * caller reads it until every writer is gone), and the caller's lock
	 * (STATE_DIR/lock, an flock) must go with the caller: a supervisor
	 * still killing the tree of a killed run would make the next run
	 * find the lock held (75).  It needs none of them. */
	close_every_fd();
	(void)null_fd;   /* closed with the rest */
	int ws, passed_on = 0;
	for (;;) {
		if (supervisor_asked == 2) {
			kill_tree();
			kill(0, SIGKILL);
		}
		if (supervisor_asked == 1 && !passed_on) {
			passed_on = 1;
			signal_tree(SIGTERM, 1);
		}
		pid_t w = waitpid(c, &ws, WNOHANG);
		if (w == c)
			break;
		if (w < 0 && errno != EINTR)
			_exit(127);
		if (w == 0)
			sigsuspend(&none);
	}
	if (supervisor_asked)
		kill_tree();
	if (WIFEXITED(ws))
		_exit(WEXITSTATUS(ws));
	if (WIFSIGNALED(ws)) {
		int sig = WTERMSIG(ws);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);   /* the command dumped its own */
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		kill(getpid(), sig);
	}
	_exit(127);
}

/*
 * In the child, before exec: shed what the caller holds.  The descriptors
 * are marked close-on-exec rather than closed, so the report pipe still
 * tells the caller why an exec failed; close_range(2) where the kernel has
 * it, else each number up to the limit.  Then the user: groups first
 * (setgroups needs root, which setuid gives up), and no_new_privs so that
 * no setuid program (sudo, su) can give back what was dropped.  Between
 * setuid and exec this process is still a copy of ours (env.local's
 * values in its heap): the kernel makes it undumpable at the switch, so
 * other processes of that user cannot ptrace or read it until exec.
 */
static void child_confine(const struct proc_opts *o, int report_fd)
{
	/* A network namespace of its own holds a loopback that is down: the
	 * command reaches nothing.  Only root may make one; where even root
	 * may not (a container without CAP_SYS_ADMIN: EPERM) the caller's
	 * choice of command is the only guard, as for every other user. */
	if (o->no_network && geteuid() == 0 && unshare(CLONE_NEWNET) < 0 && errno != EPERM)
		child_fail(report_fd, STAGE_NET, errno);
	if (o->close_fds) {
#ifdef SYS_close_range
		if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
#endif
		{
			struct rlimit rl;
			long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (long)rl.rlim_cur : 65536;
			for (long fd = 3; fd < max; fd++)
				fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		}
		if (o->keep_fd > 2 && fcntl(o->keep_fd, F_SETFD, 0) < 0)
			child_fail(report_fd, STAGE_FDS, errno);
	}
	if (!o->drop_privs)
		return;
	if (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(report_fd, STAGE_USER, errno);
	/* every id as asked, or the command does not run with what is left */
	if (getuid() != o->uid || geteuid() != o->uid || getgid() != o->gid || getegid() != o->gid)
		child_fail(report_fd, STAGE_USER, EPERM);
}

/* The supervisor lives on as a copy of the caller and ends with _exit:
 * memcheck checks it for leaks then, and the caller's buffers would look
 * lost in it without a reference that outlives child()'s frame. */
static char **volatile supervisor_keeps[2];

_Noreturn static void child(const struct proc_opts *o, int null_fd, int report_fd,
                            char **cands, const char *const argv[], char **envp, pid_t parent)
{
	/* Own process group, so a timeout reaches grandchildren too. */
	setpgid(0, 0);
	supervisor_keeps[0] = cands;
	supervisor_keeps[1] = envp;
	supervise(report_fd, null_fd, parent);

	/* Ignored signals and the signal mask survive exec; commands expect
	 * the defaults (a pipeline relies on SIGPIPE). */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);

	if (null_fd >= 0 && dup2(null_fd, STDIN_FILENO) < 0)
		child_fail(report_fd, STAGE_STDIO, errno);
	if (null_fd < 0 && o && o->stdin_fd > 0 && dup2(o->stdin_fd, STDIN_FILENO) < 0)
		child_fail(report_fd, STAGE_STDIO, errno);
	/* In order, so stderr_fd = 1 means "where stdout now goes" (2>&1). */
	if (o && o->stdout_fd > 0 && dup2(o->stdout_fd, STDOUT_FILENO) < 0)
		child_fail(report_fd, STAGE_STDIO, errno);
	if (o && o->stderr_fd > 0 && dup2(o->stderr_fd, STDERR_FILENO) < 0)
		child_fail(report_fd, STAGE_STDIO, errno);
	if (o)
		child_confine(o, report_fd);
	/* after the switch: the folder must be one the new user may enter */
	if (o && o->cwd && chdir(o->cwd) < 0)
		child_fail(report_fd, STAGE_CHDIR, errno);

	int err = ENOENT, eacces = 0;
	for (size_t i = 0; cands[i]; i++) {
		/* ETXTBSY: a script just written by another thread of the caller
		 * is still open for writing in some other thread's fork child
		 * until that child execs; it clears within moments. */
		for (int tries = 0; tries < 100; tries++) {
			execve(cands[i], (char *const *)argv, envp);
			err = errno;
			if (err != ETXTBSY)
				break;
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (err == EACCES)
			eacces = 1;
		else if (err != ENOENT && err != ENOTDIR && err != ESTALE &&
		         err != ENODEV && err != ETIMEDOUT)
			break;
	}
	child_fail(report_fd, STAGE_EXEC, eacces && err != ENOEXEC ? EACCES : err);
}

/*
 * Wait until the child has exited or the deadline passed, without reaping
 * it: while the zombie exists its process-group id cannot be reused, so
 * killing the group afterwards cannot hit a stranger.  Returns 1 when it
 * exited, 0 at the deadline, 2 when *cancel became nonzero.  A signal
 * that sets *cancel interrupts the poll (EINTR); the slices are short in
 * case it arrived just before the poll began.
 */
static int exited_by(pid_t pid, int pidfd, double deadline, volatile sig_atomic_t *cancel)
{
	long nap_ms = 1;
	for (;;) {
		if (cancel && *cancel)
			return 2;
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return 1;   /* ECHILD: someone else reaped it; nothing to wait for */
		}
		if (si.si_pid == pid)
			return 1;
		double left = deadline - util_monotonic();
		if (left <= 0)
			return 0;
		long left_ms = (long)(left * 1000) + 1;
		if (pidfd >= 0) {
			/* readable once the process has exited */
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			long slice = cancel ? 200 : 60000;
			poll(&p, 1, left_ms > slice ? (int)slice : (int)left_ms);
		} else {
			long ms = nap_ms < left_ms ? nap_ms : left_ms;
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			if (nap_ms < 100)
				nap_ms *= 2;
		}
	}
}

static int reap(pid_t pid, int *wstatus)
{
	for (;;) {
		if (waitpid(pid, wstatus, 0) == pid)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	return -1;
#endif
}

/* The pipe closes on a successful exec; a report means the child could
 * not become the program: 1 after reaping it and saying why, else 0. */
static int exec_failed(int report_fd, pid_t pid, const char *const argv[], const struct proc_opts *o,
                       char *err)
{
	struct child_report r;
	ssize_t k;
	int ws;

	while ((k = read(report_fd, &r, sizeof r)) < 0 && errno == EINTR)
		;
	if (k != (ssize_t)sizeof r)
		return 0;
	reap(pid, &ws);
	if (r.stage == STAGE_CHDIR)
		err_set(err, "cannot run '%s' in '%s': %s", argv[0], o->cwd, strerror(r.err));
	else if (r.stage == STAGE_USER)
		err_set(err, "cannot run '%s' as uid %u gid %u: %s", argv[0], (unsigned)o->uid,
		        (unsigned)o->gid, strerror(r.err));
	else if (r.stage == STAGE_FDS)
		err_set(err, "cannot run '%s': cannot keep descriptor %d: %s", argv[0], o->keep_fd,
		        strerror(r.err));
	else if (r.stage == STAGE_NET)
		err_set(err, "cannot run '%s' without network: %s", argv[0], strerror(r.err));
	else if (r.stage == STAGE_STDIO)
		err_set(err, "cannot run '%s': cannot set up its input/output: %s",
		        argv[0], strerror(r.err));
	else
		err_set(err, "cannot run '%s': %s", argv[0], strerror(r.err));
	return 1;
}

/* With a timeout or a cancel flag: wait for the child until either
 * comes, then end its group (SIGTERM, KILL_GRACE, SIGKILL).  Returns as
 * exited_by: 1 when it exited on its own, 0 at the timeout, 2 cancelled. */
static int wait_or_end(pid_t pid, const struct proc_opts *o)
{
	double deadline;
	int ended, pidfd;

	if (!o || (o->timeout <= 0 && !o->cancel))
		return 1;
	deadline = o->timeout > 0 ? util_monotonic() + (double)o->timeout : 1e300;
	pidfd = open_pidfd(pid);
	ended = exited_by(pid, pidfd, deadline, o->cancel);
	if (ended != 1) {
		/* the group, and through the supervisor everything below
		 * it that left the group */
		kill(-pid, SIGTERM);
		if (exited_by(pid, pidfd, util_monotonic() + KILL_GRACE, NULL) != 1) {
			/* ignored: the supervisor kills everything below it
			 * with SIGKILL, then itself */
			kill(pid, SIGUSR1);
			exited_by(pid, pidfd, util_monotonic() + KILL_GRACE, NULL);
		}
		/* whatever is left of its group (should the supervisor
		 * itself be stuck) goes now */
		kill(-pid, SIGKILL);
	}
	if (pidfd >= 0)
		close(pidfd);
	return ended;
}

/* proc_run's *status from how the wait ended and the wait status. */
static int run_status(int ended, int ws)
{
	if (ended == 0)
		return PROC_TIMEOUT;
	if (ended == 2)
		return PROC_CANCELLED;
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 127;
}

int proc_run(int *status, const char *const argv[], const struct proc_opts *o, char *err)
{
	char **envp = NULL, **cands = NULL;
	int pipefd[2] = { -1, -1 }, null_fd = -1, ret = -1;
	pid_t pid = -1;

	*status = 127;
	if (!argv || !argv[0] || !argv[0][0])
		return err_set(err, "cannot run '': empty command");
	envp = build_env(o ? o->env : NULL, o ? o->clear_env : 0);
	cands = exec_candidates(argv[0], envp);

	if (o && o->null_stdin) {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0) {
			err_set(err, "cannot open '/dev/null': %s", strerror(errno));
			goto out;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		err_set(err, "cannot run '%s': pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	pid_t parent = getpid();
	pid = fork();
	if (pid < 0) {
		err_set(err, "cannot run '%s': fork: %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(o, null_fd, pipefd[1], cands, argv, envp, parent);

	/* Also here, so the group exists whichever of us runs first; the
	 * child's own call makes it certain before exec. */
	setpgid(pid, pid);
	close(pipefd[1]);
	pipefd[1] = -1;

	if (exec_failed(pipefd[0], pid, argv, o, err)) {
		*status = 127;
		goto out;
	}
	if (o && o->started)
		o->started(pid, o->started_arg);

	int ws = 0, ended = wait_or_end(pid, o);
	if (reap(pid, &ws) < 0) {
		err_set(err, "cannot wait for '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	*status = run_status(ended, ws);
	ret = 0;
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (null_fd >= 0)
		close(null_fd);
	free_candidates(cands);
	free(envp);
	return ret;
}

int proc_shell(int *status, const char *command, const struct proc_opts *o, char *err)
{
	const char *argv[] = { "/bin/sh", "-c", command, NULL };
	return proc_run(status, argv, o, err);
}

/* The first line of what the memory file fd holds, for a message. */
static void first_line(char *out, size_t len, int fd)
{
	ssize_t n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* The output goes to memory files, not pipes: the child never blocks on a
 * reader, and proc_run's wait stays the only loop.  Its stderr is kept
 * for the message: a question the engine cannot answer is said once, by
 * the caller, with the engine's reason. */
int proc_capture(char **out, const char *const argv[], const char *cwd, long timeout, char *err)
{
	int fd = memfd_create("capture", MFD_CLOEXEC), efd = memfd_create("capture-err", MFD_CLOEXEC);
	int status, ret = -1;
	char path[64], why[256];
	*out = NULL;
	if (fd < 0 || efd < 0) {
		err_set(err, "memfd_create: %s", strerror(errno));
		goto out;
	}
	struct proc_opts o = { .cwd = cwd, .null_stdin = 1, .timeout = timeout, .stdout_fd = fd, .stderr_fd = efd };
	if (proc_run(&status, argv, &o, err) < 0)
		goto out;
	if (status != 0) {
		first_line(why, sizeof why, efd);
		err_set(err, "'%s %s' exited %d%s%s", argv[0], argv[1] ? argv[1] : "", status, why[0] ? ": " : "", why);
		goto out;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ret = util_read_file(out, NULL, path, err);
out:
	if (fd >= 0)
		close(fd);
	if (efd >= 0)
		close(efd);
	return ret;
}
