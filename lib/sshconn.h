/*
 * sshconn: ssh sessions through the system's OpenSSH client (SPEC.md "ssh
 * through OpenSSH"), one shared connection per destination and run.
 *
 *   struct sshconn_target t = { .host = "git.example.org", .user = "git",
 *       .key = "/root/.ssh/stack_deploy_key", .known_hosts = kh, .strict = 1 };
 *   struct sshconn_session s;
 *   if (sshconn_open(&s, &t, "git-upload-pack 'org/stack.git'", err) < 0) ... 69
 *   write(s.in) / read(s.out) the smart protocol
 *   sshconn_close(&s, why);   why: what ssh and the remote said on stderr
 *   ...
 *   sshconn_shutdown();       at the end of the run (repo_global_shutdown)
 *
 * `ssh` runs with an argument vector (posix_spawnp, no shell): BatchMode,
 * IdentitiesOnly with the deploy key (ssh-agent's keys when there is no
 * key file), UserKnownHostsFile = AUTODEPLOY_KNOWN_HOSTS and no global
 * file, StrictHostKeyChecking yes, or accept-new when the operator turned
 * strict checking off (the key it accepts goes to a file of this run, never
 * into AUTODEPLOY_KNOWN_HOSTS, and is logged as a warning).  Everything
 * else -- host aliases, HostName, Port, User, ProxyJump -- is ssh_config's
 * (AUTODEPLOY_SSH_CONFIG, else ssh's own ~/.ssh/config), as for git.
 *
 * The first session to a destination (user, host, port, key, config,
 * known_hosts, strictness) is its master too (ControlMaster=yes with
 * ControlPersist: the one ssh forks the master off once authenticated and
 * carries that session through it), its socket in a private 0700 folder of
 * this process; later sessions to it, from any thread, wait until the
 * socket serves and ride on that one connection: ten repositories on one
 * host cost one handshake and ten ssh.  A destination that failed is not tried again
 * in the same run: the same error is returned at once.  The master lives
 * ControlPersist seconds after its last session, so a killed run leaves
 * nothing behind for long; sshconn_shutdown ends every master (the
 * control protocol's terminate, what ssh -O exit sends) and removes the
 * folder.  Errors (host key refused, key refused, host
 * unreachable) are worded as autodeploy-ssh(7) and the old libssh2 path
 * worded them.
 */
#ifndef AUTODEPLOY_SSHCONN_H
#define AUTODEPLOY_SSHCONN_H

#include <sys/types.h>

#define SSHCONN_CONNECT_TIMEOUT 30  /* s: TCP connect + handshake (ssh ConnectTimeout) */
#define SSHCONN_START_TIMEOUT 60    /* s: the whole master start, ProxyJump included */
#define SSHCONN_STALL_TIMEOUT 300   /* s: a session silent this long is ended */

struct sshconn_target {
	const char *user;         /* NULL: ssh_config's User, else the local user (as git) */
	const char *host;         /* a name, an address or an ssh_config Host alias */
	int port;                 /* 0: ssh_config's Port, else 22 */
	const char *key;          /* private key file; NULL or "": ssh-agent's keys */
	const char *known_hosts;  /* AUTODEPLOY_KNOWN_HOSTS */
	int strict;               /* AUTODEPLOY_STRICT_HOST_KEY */
	const char *ssh_config;   /* AUTODEPLOY_SSH_CONFIG; NULL: ssh's own */
};

struct sshconn_session {
	pid_t pid;                /* the ssh client */
	int in;                   /* its stdin: send(2) with MSG_NOSIGNAL */
	int out;                  /* its stdout */
	int errfd;                /* its stderr (a memfd) */
};

/* Start `ssh ... host command` on the destination's shared connection.
 * -1 with err worded for the operator (the remote's fault: 69). */
int sshconn_open(struct sshconn_session *s, const struct sshconn_target *t, const char *command,
                 char *err);

/* Close stdin, reap the client (killed after a grace), and put in why
 * (ERR_MAX) what it said on stderr, trimmed ("" when nothing).  Returns
 * its exit status (255: ssh's own failure; -1 when it had to be killed). */
int sshconn_close(struct sshconn_session *s, char *why);

/* Text the session wrote to stderr so far, trimmed, into why (ERR_MAX). */
void sshconn_stderr(const struct sshconn_session *s, char *why);

/* End every master of this run and remove the private folder. */
void sshconn_shutdown(void);

#endif
