/* lib/proc.c: statuses, timeouts that reach grandchildren, environment,
 * cwd, exec failures, argument vectors that no shell interprets. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/autodeploy-proc.XXXXXX";
static char outfile[512];

static char *slurp(const char *path)
{
	char *buf = NULL, err[ERR_MAX];
	if (util_read_file(&buf, NULL, path, err) < 0)
		return xstrdup("");
	return buf;
}

static int out_fd(void)
{
	return open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static int sh(const char *cmd, const struct proc_opts *o)
{
	char err[ERR_MAX];
	int status = -1;
	if (proc_shell(&status, cmd, o, err) < 0)
		diag("%s", err);
	return status;
}

static void test_statuses(void)
{
	char err[ERR_MAX];
	int status = -1;
	const char *t[] = { "true", NULL };
	const char *f[] = { "false", NULL };

	is_int(proc_run(&status, t, NULL, err), 0, "proc_run runs a program found in PATH");
	is_int(status, 0, "true gives 0");
	proc_run(&status, f, NULL, err);
	is_int(status, 1, "false gives 1");
	is_int(sh("exit 3", NULL), 3, "an exit code is passed through");
	is_int(sh("exit 255", NULL), 255, "exit 255 too");
	is_int(sh("kill -TERM $$", NULL), 128 + SIGTERM, "death by SIGTERM gives 143");
	is_int(sh("kill -KILL $$", NULL), 128 + SIGKILL, "death by SIGKILL gives 137");

	/* the caller ignores SIGPIPE (as a program writing to sockets would);
	 * the child must not inherit that */
	signal(SIGPIPE, SIG_IGN);
	is_int(sh("kill -PIPE $$", NULL), 128 + SIGPIPE, "the child has SIGPIPE at its default even if the caller ignores it");
	signal(SIGPIPE, SIG_DFL);
}

static pid_t read_pid(const char *path)
{
	char *s = slurp(path);
	pid_t p = (pid_t)atol(s);
	free(s);
	return p;
}

/* Is g gone (dead and reaped, by proc's supervisor, which is a subreaper
 * and reaps all it kills before it exits, or by us)?  Waits up to 5 s. */
static int gone(pid_t g)
{
	for (int i = 0; i < 500; i++) {
		waitpid(g, NULL, WNOHANG);
		if (kill(g, 0) < 0 && errno == ESRCH)
			return 1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void test_timeout(void)
{
	char cmd[1024], pidfile[600];
	struct proc_opts o = { .timeout = 1 };

	/* Orphaned grandchildren come to us, so we can see how they died. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snprintf(pidfile, sizeof pidfile, "%s/grandchild.pid", tmpdir);

	snprintf(cmd, sizeof cmd, "sleep 8 & echo $! > '%s'; wait", pidfile);
	is_int(sh(cmd, &o), PROC_TIMEOUT, "a command over its timeout gives 124");
	pid_t g = read_pid(pidfile);
	ok(g > 0 && gone(g), "its grandchild (sleep) was killed too, not left running");

	/* a grandchild that ignores SIGTERM goes with SIGKILL once the
	 * command itself has died */
	snprintf(cmd, sizeof cmd, "(trap '' TERM; sleep 8) & echo $! > '%s'; wait", pidfile);
	is_int(sh(cmd, &o), PROC_TIMEOUT, "timeout with a grandchild that ignores SIGTERM");
	g = read_pid(pidfile);
	ok(g > 0 && gone(g), "the grandchild that ignored SIGTERM is gone (SIGKILL)");

	/* one that leaves the group (setsid) is below the supervisor all the
	 * same: ended at the deadline too */
	snprintf(cmd, sizeof cmd, "setsid sh -c 'echo $$ > \"%s\"; exec sleep 8' & wait", pidfile);
	is_int(sh(cmd, &o), PROC_TIMEOUT, "timeout with a grandchild in a session of its own");
	g = read_pid(pidfile);
	ok(g > 0 && gone(g), "the grandchild in its own session is gone too");

	o.timeout = 5;
	is_int(sh("exit 7", &o), 7, "a command within its timeout gives its own status");
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void test_env_cwd_io(void)
{
	char err[ERR_MAX];
	int status;
	const char *env[] = { "AUTODEPLOY_X=hello  world", "HOME=/override", "GONE", NULL };
	struct proc_opts o = { .env = env };
	char *s;

	setenv("INHERITED", "yes", 1);
	setenv("GONE", "should not be seen", 1);
	const char *home = getenv("HOME");
	char *home_before = xstrdup(home ? home : "");
	o.stdout_fd = out_fd();
	is_int(sh("printf '%s|%s|%s|%s' \"$AUTODEPLOY_X\" \"$HOME\" \"$INHERITED\" \"${GONE-unset}\"", &o), 0,
	       "a command with extra environment entries");
	close(o.stdout_fd);
	s = slurp(outfile);
	is_str(s, "hello  world|/override|yes|unset",
	       "extra entries are added, override inherited ones, a bare KEY unsets; the rest is inherited");
	free(s);
	is_str(getenv("HOME"), home_before, "the caller's own environment is unchanged");
	free(home_before);

	/* a PATH given in env is the one used to find the program */
	char bindir[600], tool[700];
	snprintf(bindir, sizeof bindir, "%s/bin", tmpdir);
	mkdir(bindir, 0755);
	snprintf(tool, sizeof tool, "%s/autodeploy-test-tool", bindir);
	util_write_atomic(tool, "#!/bin/sh\necho tool ran\n", 24, 0755, err);
	char pathenv[700];
	snprintf(pathenv, sizeof pathenv, "PATH=%s:/usr/bin:/bin", bindir);
	const char *env2[] = { pathenv, NULL };
	const char *targv[] = { "autodeploy-test-tool", NULL };
	struct proc_opts o2 = { .env = env2, .stdout_fd = out_fd() };
	is_int(proc_run(&status, targv, &o2, err), 0, "a program is found through the PATH given in env");
	close(o2.stdout_fd);
	s = slurp(outfile);
	is_str(s, "tool ran\n", "and runs");
	free(s);

	/* cwd */
	struct proc_opts o3 = { .cwd = bindir, .stdout_fd = out_fd() };
	is_int(sh("pwd -P", &o3), 0, "a command runs in the folder asked");
	close(o3.stdout_fd);
	s = slurp(outfile);
	char want[700];
	snprintf(want, sizeof want, "%s\n", bindir);
	is_str(s, want, "pwd shows that folder");
	free(s);

	char missing[600];
	snprintf(missing, sizeof missing, "%s/missing", tmpdir);
	struct proc_opts o4 = { .cwd = missing };
	status = 0;
	err[0] = '\0';
	is_int(proc_shell(&status, "true", &o4, err), -1, "a missing folder means the command cannot start");
	is_int(status, 127, "status 127");
	ok(strstr(err, "missing'") && strstr(err, "No such file"), "the error names the folder: %s", err);

	/* stderr with stdout (2>&1) */
	struct proc_opts o5 = { .stdout_fd = out_fd(), .stderr_fd = 1 };
	sh("echo out; echo err >&2", &o5);
	close(o5.stdout_fd);
	s = slurp(outfile);
	is_str(s, "out\nerr\n", "stderr_fd = 1 sends stderr where stdout goes");
	free(s);

	/* /dev/null as stdin: cat ends at once with nothing */
	int p[2];
	if (pipe(p) == 0) {
		/* the test's own stdin is a pipe that never ends while we hold
		 * its write end: without null_stdin cat would hang */
		int saved = dup(0);
		dup2(p[0], 0);
		struct proc_opts o6 = { .null_stdin = 1, .stdout_fd = out_fd(), .timeout = 10 };
		const char *cat[] = { "cat", NULL };
		is_int(proc_run(&status, cat, &o6, err), 0, "cat with null_stdin runs");
		is_int(status, 0, "and ends at once with status 0 (not killed by the timeout)");
		close(o6.stdout_fd);
		dup2(saved, 0);
		close(saved);
		close(p[0]);
		close(p[1]);
	}
}

/* close_fds: a descriptor we leaked (no O_CLOEXEC) is gone in the child,
 * keep_fd is there at its number; drop_privs: the child is that user with
 * no supplementary group (root only: anyone else cannot switch). */
static void test_confine(void)
{
	char err[ERR_MAX], kept[600], cmd[300];
	int status = -1, leak = open("/dev/null", O_RDONLY), keep;

	snprintf(kept, sizeof kept, "%s/kept", tmpdir);
	keep = open(kept, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (leak < 0 || keep < 0 || write(keep, "kept\n", 5) != 5) {
		ok(0, "confine: cannot set up: %s", strerror(errno));
		return;
	}
	snprintf(cmd, sizeof cmd, "if [ -e /proc/$$/fd/%d ]; then echo leaked; else echo closed; fi; "
	         "cat /proc/self/fd/%d 2>/dev/null", leak, keep);
	struct proc_opts o = { .stdout_fd = out_fd(), .close_fds = 1, .keep_fd = keep };
	is_int(proc_shell(&status, cmd, &o, err), 0, "close_fds runs");
	close(o.stdout_fd);
	char *s = slurp(outfile);
	is_str(s, "closed\nkept\n", "close_fds: what we leaked is closed, keep_fd is kept");
	free(s);
	struct proc_opts o2 = { .stdout_fd = out_fd() };
	proc_shell(&status, cmd, &o2, err);
	close(o2.stdout_fd);
	s = slurp(outfile);
	ok(strncmp(s, "leaked\n", 7) == 0, "without close_fds the leak reaches the child (the test can fail)");
	free(s);

	struct proc_opts o3 = { .stdout_fd = out_fd(), .drop_privs = 1, .uid = 4242, .gid = 4343 };
	const char *id[] = { "/bin/sh", "-c", "id -u; id -G; grep NoNewPrivs /proc/self/status", NULL };
	int rc = proc_run(&status, id, &o3, err);
	close(o3.stdout_fd);
	s = slurp(outfile);
	if (geteuid() == 0)
		is_str(s, "4242\n4343\nNoNewPrivs:\t1\n", "drop_privs: that uid and gid, no other group, no_new_privs");
	else
		ok(rc < 0 && strstr(err, "as uid 4242 gid 4343"), "drop_privs without root: refused (%s)", err);
	free(s);
	close(leak);
	close(keep);
}

static void test_exec_failure(void)
{
	char err[ERR_MAX] = "";
	int status = 0;
	const char *nope[] = { "autodeploy-no-such-program", NULL };
	/* a PATH of folders anyone may search: an unreadable folder in the
	 * caller's PATH would make the answer EACCES, as execvp's is */
	const char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct proc_opts po = { .env = env };

	is_int(proc_run(&status, nope, &po, err), -1, "a program that does not exist cannot be started");
	is_int(status, 127, "status 127");
	is_str(err, "cannot run 'autodeploy-no-such-program': No such file or directory", "the error says so");

	char plain[600];
	snprintf(plain, sizeof plain, "%s/not-executable", tmpdir);
	util_write_atomic(plain, "echo hi\n", 8, 0644, err);
	const char *np[] = { plain, NULL };
	/* even root may not exec a file without any x bit */
	is_int(proc_run(&status, np, NULL, err), -1, "a file without the x bit cannot be started");
	ok(strstr(err, "Permission denied") != NULL, "permission denied: %s", err);
}

/*
 * A script another process still holds open for writing cannot be exec'd
 * (ETXTBSY).  In a threaded caller that happens whenever another thread
 * forks while this one writes a script; proc_run waits for it to clear.
 */
static void test_text_busy(void)
{
	char err[ERR_MAX] = "", script[600];
	int status = -1;
	snprintf(script, sizeof script, "%s/busy-script", tmpdir);
	int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (write(fd, "#!/bin/sh\nexit 5\n", 18) != 18)
		diag("short write");
	fflush(stdout);
	pid_t holder = fork();
	if (holder == 0) {
		struct timespec ts = { 0, 300 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		_exit(0);   /* closes the inherited write descriptor */
	}
	close(fd);
	const char *argv[] = { script, NULL };
	is_int(proc_run(&status, argv, NULL, err), 0, "a script briefly held open for writing elsewhere still runs");
	is_int(status, 5, "with its own status");
	if (err[0] && status != 5)
		diag("%s", err);
	int st;
	waitpid(holder, &st, 0);
}

static void test_no_shell(void)
{
	char err[ERR_MAX], want[256];
	int status;
	const char *argv[] = { "printf", "[%s]\\n", "a b", "\"q\" 'r'", "$(touch pwned)", "`touch pwned2`",
	                       "; touch pwned3", "*", NULL };
	struct proc_opts o = { .cwd = tmpdir, .stdout_fd = out_fd() };

	is_int(proc_run(&status, argv, &o, err), 0, "argv with spaces, quotes and $(...) runs");
	close(o.stdout_fd);
	char *s = slurp(outfile);
	snprintf(want, sizeof want, "[a b]\n[\"q\" 'r']\n[$(touch pwned)]\n[`touch pwned2`]\n[; touch pwned3]\n[*]\n");
	is_str(s, want, "each argument arrives exactly as given");
	free(s);
	char p[600];
	int any = 0;
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, i ? "%s/pwned%d" : "%s/pwned", tmpdir, i + 1);
		any |= access(p, F_OK) == 0;
	}
	ok(!any, "nothing in them was run by a shell");
}

static void *thread_main(void *arg)
{
	long n = (long)arg, bad = 0;
	char cmd[32], err[ERR_MAX];
	snprintf(cmd, sizeof cmd, "exit %ld", n);
	for (int i = 0; i < 15; i++) {
		int status = -1;
		struct proc_opts o = { .timeout = 20 };   /* exercise the polling wait too */
		if (proc_shell(&status, cmd, &o, err) < 0 || status != n)
			bad++;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	pthread_t t[4];
	long bad = 0;
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)(i + 10));
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	is_int(bad, 0, "4 threads running 15 commands each all get their own statuses");
}

/* no_network: the child sees only a loopback (its own namespace) as
 * root; stdin_fd: a file the caller opened is its input. */
static void test_no_network_stdin(void)
{
	char err[ERR_MAX], in[600];
	int status = -1;
	const char *count[] = { "/bin/sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '", NULL };

	struct proc_opts o = { .stdout_fd = out_fd(), .no_network = 1 };
	is_int(proc_run(&status, count, &o, err), 0, "no_network runs");
	close(o.stdout_fd);
	char *s = slurp(outfile);
	if (geteuid() == 0)
		is_str(s, "lo\n", "no_network: the child sees a loopback and nothing else");
	else
		ok(s != NULL, "no_network without root: runs with the network it has");
	free(s);

	snprintf(in, sizeof in, "%s/in", tmpdir);
	int fd = open(in, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "payload\n", 8) != 8 || lseek(fd, 0, SEEK_SET) != 0) {
		ok(0, "stdin_fd: cannot set up: %s", strerror(errno));
		return;
	}
	const char *cat[] = { "cat", NULL };
	struct proc_opts o2 = { .stdout_fd = out_fd(), .stdin_fd = fd };
	proc_run(&status, cat, &o2, err);
	close(o2.stdout_fd);
	close(fd);
	s = slurp(outfile);
	is_str(s, "payload\n", "stdin_fd: the child reads the caller's file");
	free(s);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(outfile, sizeof outfile, "%s/out", tmpdir);
	fflush(stdout);

	test_statuses();
	test_timeout();
	test_env_cwd_io();
	test_confine();
	test_exec_failure();
	test_text_busy();
	test_no_shell();
	test_threads();
	test_no_network_stdin();

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
