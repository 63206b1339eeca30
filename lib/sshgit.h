/*
 * sshgit: libgit2's smart protocol carried by OpenSSH (sshconn.h): a
 * git_transport for ssh://, ssh+git://, git+ssh:// and scp-like
 * [user@]host:path URLs.  libgit2 still does all the git work; this only
 * starts `ssh ... host "git-upload-pack '<path>'"` (the path quoted as
 * git quotes it) and moves bytes.
 *
 *   git_remote_callbacks cb;   cb.transport = my_transport;  (auth.c)
 *   my_transport(out, owner, payload):
 *       struct sshconn_target base = { .key = ..., .known_hosts = ..., .strict = 1 };
 *       return sshgit_transport(out, owner, &base);
 *
 * base gives the key and host key settings; user, host and port come from
 * each URL (copied: base need not outlive the call).  Fetch only: a push
 * is refused.  Errors are set with git_error_set_str (GIT_ERROR_SSH),
 * worded for the operator.
 */
#ifndef AUTODEPLOY_SSHGIT_H
#define AUTODEPLOY_SSHGIT_H

#include <git2.h>

#include "sshconn.h"

int sshgit_transport(git_transport **out, git_remote *owner, const struct sshconn_target *base);

/* The parts of an ssh URL as ssh and git-upload-pack take them (malloc'd,
 * percent-decoded, user NULL when absent, port 0 when absent) and the
 * remote command; -1 with err for a URL git would refuse too (a host,
 * user or path that starts with '-', no path, a bad port). */
struct sshgit_url {
	char *user, *host, *path, *command;
	int port;
};
int sshgit_parse_url(struct sshgit_url *u, const char *url, char *err);
void sshgit_url_free(struct sshgit_url *u);

#endif
