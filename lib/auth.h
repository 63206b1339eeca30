/*
 * auth: how autodeploy authenticates to remotes and decides whether to
 * trust them (SPEC.md: AUTODEPLOY_DEPLOY_KEY_ROOT_DIR, _KNOWN_HOSTS,
 * _STRICT_HOST_KEY; the whole story for operators is autodeploy-ssh(7)).
 * Every libgit2 connection the programs open gets its callbacks from
 * auth_callbacks().
 *
 *   struct repo_auth auth = { .settings = &s, .checkout = "/srv/stack" };
 *   git_remote_callbacks cb;
 *   auth_callbacks(&cb, &auth);
 *
 * ssh remotes go through the system's OpenSSH client (sshgit.h,
 * sshconn.h): the key is KEY_DIR/<basename of checkout>_deploy_key, else
 * KEY_DIR/id_rsa_git_ssh_read_only, else ssh-agent's keys (SSH_AUTH_SOCK);
 * a key file readable by group or others is refused, as ssh refuses it.
 * ssh checks the server's host key against the known_hosts file alone
 * (StrictHostKeyChecking=yes), or accepts a new one when strict checking
 * is off (accept-new, logged as a warning once per host and run; a
 * changed or revoked key is refused even then).  ~/.ssh/config (or
 * AUTODEPLOY_SSH_CONFIG) gives host aliases, ports, users, ProxyJump.
 * https remotes: libgit2 checks the certificate; user:password in the URL
 * is used once, never logged.
 *
 * The callbacks write their refusals with git_error_set_str, so the
 * caller's git_error_last() names the key file, host, key type and
 * fingerprint.  One repo_auth may serve several connections in turn (a
 * listing, then a fetch), never two at once: its counters start over at
 * each connection.
 */
#ifndef AUTODEPLOY_AUTH_H
#define AUTODEPLOY_AUTH_H

#include <limits.h>
#include <git2.h>

struct settings;

struct repo_auth {
	const struct settings *settings;  /* keys, known_hosts; may be NULL (~/.ssh, strict) */
	const char *checkout;             /* the checkout's path (basename picks the deploy key) */

	/* Filled in by the callbacks, per connection; start zeroed. */
	int url_tries;                    /* URL user:password handed out on this connection */
};

/* Fill callbacks for a remote connection (credentials, host key check). */
void auth_callbacks(git_remote_callbacks *cb, struct repo_auth *auth);


#endif
