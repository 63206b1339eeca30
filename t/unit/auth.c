/* The auth callbacks outside a connection: the transport each URL gets,
 * the user name libgit2 asks for, and https credentials taken from the
 * URL (used once, never shown in an error). */
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/credential.h>
#include <git2/sys/transport.h>

#include "auth.h"
#include "tap.h"

static const char *last_error(void)
{
	const git_error *e = git_error_last();
	return e && e->message ? e->message : "";
}

int main(void)
{
	struct repo_auth auth = { .settings = NULL, .checkout = "/srv/stack" };
	git_remote_callbacks cb;
	git_credential *cred = NULL;
	int rc;

	git_libgit2_init();
	auth_callbacks(&cb, &auth);
	ok(cb.credentials && cb.transport && cb.remote_ready && cb.payload == &auth,
	   "every callback is set, with the repo_auth as payload");
	ok(!cb.certificate_check, "TLS certificates are libgit2's to check, ssh host keys OpenSSH's");

	git_remote *rem = NULL;
	git_transport *t = NULL;
	git_remote_create_detached(&rem, "https://example.org/x.git");
	rc = cb.transport(&t, rem, &auth);
	ok(rc == 0 && t, "an https remote gets libgit2's own transport");
	if (t)
		t->free(t);
	git_remote_free(rem);

	/* no key in ~/.ssh of a HOME that does not exist, no agent: refused
	 * before any ssh runs, naming what was tried */
	setenv("HOME", "/nonexistent-autodeploy-home", 1);
	unsetenv("SSH_AUTH_SOCK");
	t = NULL;
	git_remote_create_detached(&rem, "git@git.example.org:org/stack.git");
	rc = cb.transport(&t, rem, &auth);
	ok(rc < 0 && !t, "an scp-like remote with no key and no agent is refused");
	ok(strstr(last_error(), "no ssh key for 'git.example.org': tried "
	          "'/nonexistent-autodeploy-home/.ssh/stack_deploy_key'") != NULL, "naming the keys: %s", last_error());
	git_remote_free(rem);


	rc = cb.credentials(&cred, "ssh://git.example.org/x.git", NULL, GIT_CREDENTIAL_USERNAME, &auth);
	ok(rc == 0 && cred && cred->credtype == GIT_CREDENTIAL_USERNAME &&
	   strcmp(git_credential_get_username(cred), "git") == 0,
	   "an ssh URL without a user name logs in as git");
	git_credential_free(cred);
	cred = NULL;

	rc = cb.credentials(&cred, "https://example.org/x.git", NULL, GIT_CREDENTIAL_USERPASS_PLAINTEXT, &auth);
	is_int(rc, GIT_PASSTHROUGH, "https without credentials in the URL: nothing to offer");

	rc = cb.credentials(&cred, "https://deploy%2Dbot:s%40cr%3At@example.org/x.git", "deploy-bot",
	                    GIT_CREDENTIAL_USERPASS_PLAINTEXT, &auth);
	ok(rc == 0 && cred && cred->credtype == GIT_CREDENTIAL_USERPASS_PLAINTEXT,
	   "https with user:password in the URL: they are offered");
	if (cred && cred->credtype == GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		git_credential_userpass_plaintext *up = (git_credential_userpass_plaintext *)cred;
		is_str(up->username, "deploy-bot", "the user name is percent-decoded");
		is_str(up->password, "s@cr:t", "the password is percent-decoded");
	}
	git_credential_free(cred);
	cred = NULL;

	rc = cb.credentials(&cred, "https://deploy-bot:s%40cr%3At@example.org/x.git", "deploy-bot",
	                    GIT_CREDENTIAL_USERPASS_PLAINTEXT, &auth);
	ok(rc < 0 && !cred, "once refused, the URL's credentials are not offered again");
	ok(strstr(last_error(), "refused by 'example.org'") != NULL, "the error names the host: %s", last_error());
	ok(!strstr(last_error(), "s%40cr") && !strstr(last_error(), "s@cr"), "and never the password");

	git_libgit2_shutdown();
	return done_testing();
}
