/*
 * auth: how autodeploy authenticates to remotes and decides whether to
 * trust them (SPEC.md: AUTODEPLOY_DEPLOY_KEY_ROOT_DIR, _KNOWN_HOSTS,
 * _STRICT_HOST_KEY).  Every libgit2 connection the programs open gets its
 * callbacks from auth_callbacks().
 *
 *   struct repo_auth auth = { .settings = &s, .checkout = "/srv/stack" };
 *   git_remote_callbacks cb;
 *   auth_callbacks(&cb, &auth);
 */
#ifndef AUTODEPLOY_AUTH_H
#define AUTODEPLOY_AUTH_H

#include <git2.h>

struct settings;

struct repo_auth {
	const struct settings *settings;  /* keys, known_hosts; may be NULL */
	const char *checkout;             /* the checkout's path (basename picks the deploy key) */
	int warned_host_key;              /* set once the non-strict warning was logged */
};

/* Fill callbacks for a remote connection (credentials, host key check). */
void auth_callbacks(git_remote_callbacks *cb, struct repo_auth *auth);

#endif
