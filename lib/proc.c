#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
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

enum { STAGE_CHDIR = 1, STAGE_STDIO, STAGE_EXEC, STAGE_USER, STAGE_FDS };

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

/* The supervisor's parent died: end the whole group, itself included. */
static void on_parent_death(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/*
 * The first child is a supervisor, not the command: it leads the group,
 * forks the command into it and waits.  PR_SET_PDEATHSIG reaches only a
 * direct child, and `/bin/sh -c script` forks the script, so when the
 * caller dies (even by SIGKILL) the supervisor kills the whole group:
 * a stop command must not go on stopping the stack after the run that
 * asked for it is gone.  It exits as the command did (same code, same
 * signal), so the caller cannot tell it is there.
 */
static void supervise(int report_fd, int null_fd, pid_t parent)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_parent_death;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* the parent may have died before prctl took effect */
	if (prctl(PR_SET_PDEATHSIG, SIGUSR1) < 0 || getppid() != parent)
		kill(0, SIGKILL);

	pid_t c = fork();
	if (c < 0)
		child_fail(report_fd, STAGE_EXEC, errno);
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, 0);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGUSR1, &sa, NULL);
		return;   /* the command */
	}
	/* only the command may hold these: the caller reads the report pipe
	 * until every writer is gone */
	close(report_fd);
	if (null_fd >= 0)
		close(null_fd);
	int ws;
	while (waitpid(c, &ws, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFEXITED(ws))
		_exit(WEXITSTATUS(ws));
	if (WIFSIGNALED(ws)) {
		int sig = WTERMSIG(ws);
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);   /* the command dumped its own */
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
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
		kill(-pid, SIGTERM);
		exited_by(pid, pidfd, util_monotonic() + KILL_GRACE, NULL);
		/* The leader is gone or ignored SIGTERM; whatever is left
		 * of its group (grandchildren) goes now. */
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
