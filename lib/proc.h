/*
 * proc: run child processes.  Repository data only ever travels in argument
 * vectors or the environment (proc_run); only the operator's own
 * *_COMMAND settings run under /bin/sh -c (proc_shell).
 *
 *   const char *env[] = { "AUTODEPLOY_RESULT=0", NULL };
 *   struct proc_opts o = { .cwd = dir, .env = env, .timeout = 60 };
 *   int status;
 *   if (proc_run(&status, argv, &o, err) < 0) ... could not start
 *   status: exit code; 128+N when killed by signal N; PROC_TIMEOUT on timeout
 *
 * The child runs in its own process group, led by a small supervisor
 * process that is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever the
 * command starts stays below it, even what leaves the group or the
 * session (`timeout`, `setsid`).  SIGPIPE is at its default and no signal
 * is blocked.  No global state and no signal handlers in the caller: safe
 * to call from several threads.  On a timeout (or cancel) the group and
 * everything below the supervisor get SIGTERM; once the child itself has
 * exited, or 5 s later, whatever remains gets SIGKILL.  When the calling
 * thread dies, even by SIGKILL, everything below the supervisor is killed
 * (PR_SET_PDEATHSIG), so a killed caller leaves nothing running;
 * `started` lets the caller record the group in case the supervisor
 * itself is killed.
 */
#ifndef AUTODEPLOY_PROC_H
#define AUTODEPLOY_PROC_H

#include <signal.h>
#include <sys/types.h>

#define PROC_TIMEOUT 124   /* as timeout(1) */
#define PROC_CANCELLED 125 /* *cancel became nonzero while it ran */

struct proc_opts {
	const char *cwd;          /* NULL: inherit */
	const char *const *env;   /* extra "KEY=VALUE" entries, NULL-terminated; may be NULL.
	                             They override inherited ones; a bare "KEY" unsets it.
	                             A PATH given here is used to find argv[0]. */
	long timeout;             /* seconds; 0: none.  On expiry the child's whole
	                             process tree gets SIGTERM, then SIGKILL 5 s later */
	int stdout_fd;            /* -1 or 0: inherit; else dup2'ed onto fd 1 */
	int stderr_fd;            /* -1 or 0: inherit; else dup2'ed onto fd 2, after
	                             stdout_fd, so 1 means "with stdout" (2>&1) */
	int null_stdin;           /* give the child /dev/null as stdin */
	int stdin_fd;             /* -1 or 0: inherit (or null_stdin); else dup2'ed onto
	                             fd 0 (a file the caller opened: verify's payload) */
	int clear_env;            /* the child gets only `env` (and PATH and HOME from
	                             ours, unless env sets them), nothing inherited */
	volatile sig_atomic_t *cancel; /* NULL, or a flag a signal handler sets: when it
	                             becomes nonzero the group is ended as on a timeout
	                             and the status is PROC_CANCELLED */
	void (*started)(pid_t pgid, void *arg); /* called in the parent once the
	                             child's process group exists */
	void *started_arg;
	int drop_privs;           /* run as uid/gid, no supplementary groups and no way
	                             back (no_new_privs): setgroups(0), setgid, setuid
	                             in the child before exec; the caller must be root */
	uid_t uid;                /* with drop_privs */
	gid_t gid;
	int close_fds;            /* every descriptor above 2 is closed at exec, so the
	                             child holds nothing of ours (keep_fd excepted) */
	int no_network;           /* run in a network namespace of its own (nothing
	                             but a loopback that is down), where the kernel
	                             lets the caller make one (root) */
	int keep_fd;              /* with close_fds: > 2, stays open at its own number
	                             (e.g. a script handed over as /proc/self/fd/N) */
};

/* Run argv[0] (looked up in PATH when it has no '/') with argv.  Returns 0
 * when the child ran (its status in *status), -1 when it could not be
 * started (err says why; exec failure gives status 127). */
int proc_run(int *status, const char *const argv[], const struct proc_opts *o, char *err);

/* Run argv in cwd (NULL: ours), stdin /dev/null, within timeout seconds,
 * and hand back its stdout (malloc'd, NUL-terminated).  0, or -1 with err
 * set when it cannot start or does not exit 0 (err then holds the first
 * line of its stderr): the docker CLI asked a question (binds, images,
 * engine health, blue/green). */
int proc_capture(char **out, const char *const argv[], const char *cwd, long timeout, char *err);

/* Run `command` with /bin/sh -c. */
int proc_shell(int *status, const char *command, const struct proc_opts *o, char *err);

#endif
