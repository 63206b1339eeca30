/* ssh URLs as git reads them (connect.c), and OpenSSH's refusals in our
 * words (sshmsg): what the ssh command line and the remote command get. */
#include <stdlib.h>
#include <string.h>

#include "sshgit.h"
#include "sshmsg.h"
#include "tap.h"
#include "util.h"

static void url_is(const char *url, const char *user, const char *host, int port, const char *command)
{
	struct sshgit_url u;
	char err[ERR_MAX];
	if (sshgit_parse_url(&u, url, err) < 0) {
		ok(0, "%s: %s", url, err);
		return;
	}
	ok((user ? u.user && strcmp(u.user, user) == 0 : !u.user) && strcmp(u.host, host) == 0 &&
	   u.port == port && strcmp(u.command, command) == 0,
	   "%s: user %s host %s port %d: %s", url, u.user ? u.user : "(none)", u.host, u.port, u.command);
	sshgit_url_free(&u);
}

static void url_refused(const char *url, const char *why)
{
	struct sshgit_url u;
	char err[ERR_MAX] = "";
	int rc = sshgit_parse_url(&u, url, err);
	ok(rc < 0 && strstr(err, why), "%s is refused: %s", url, err);
}

static void says(const char *text, const char *want)
{
	char err[ERR_MAX];
	struct sshmsg_ctx c = { .host = "git.example.org", .key = "/k/id", .known_hosts = "/kh" };
	sshmsg_explain(err, text, &c);
	ok(strstr(err, want) != NULL, "%s", err);
}

int main(void)
{
	url_is("ssh://git@git.example.org/org/stack.git", "git", "git.example.org", 0,
	       "git-upload-pack '/org/stack.git'");
	url_is("ssh+git://git.example.org:2222/x.git", NULL, "git.example.org", 2222, "git-upload-pack '/x.git'");
	url_is("git+ssh://u@h/~/x.git", "u", "h", 0, "git-upload-pack '~/x.git'");
	url_is("ssh://h/~alice/x.git", NULL, "h", 0, "git-upload-pack '~alice/x.git'");
	url_is("ssh://h/it's%20a%20repo!.git", NULL, "h", 0, "git-upload-pack '/it'\\''s a repo'\\!'.git'");
	url_is("git@github.com:org/stack.git", "git", "github.com", 0, "git-upload-pack 'org/stack.git'");
	url_is("alias:repo.git", NULL, "alias", 0, "git-upload-pack 'repo.git'");
	url_is("ssh://[::1]:22/x", NULL, "::1", 22, "git-upload-pack '/x'");
	url_refused("ssh://-oProxyCommand=x/y", "starts with '-'");
	url_refused("-oProxyCommand=x:y", "starts with '-'");
	url_refused("git@host:-x", "starts with '-'");
	url_refused("ssh://-u@h/x", "starts with '-'");
	url_refused("ssh://h:99999/x", "bad port");
	url_refused("ssh://h", "no repository path");
	url_refused("https://h/x", "not an ssh url");

	says("debug1: Server host key: ssh-ed25519 SHA256:abc\n"
	     "No ED25519 host key is known for [git.example.org]:2222 and you have requested strict checking.\n"
	     "Host key verification failed.\n",
	     "host key of '[git.example.org]:2222' is not trusted: ssh-ed25519 SHA256:abc is not in '/kh'; "
	     "if the fingerprint is the host's, add it to '/kh' (ssh-keyscan -p 2222 git.example.org)");
	says("debug1: Server host key: ssh-rsa SHA256:xyz\nOffending RSA key in /kh:7\n"
	     "Host key for git.example.org has changed and you have requested strict checking.\n",
	     "host key of 'git.example.org' has changed: it shows ssh-rsa SHA256:xyz but '/kh' line 7 holds another");
	says("The ED25519 host key for git.example.org is marked as revoked.\n",
	     "host key of 'git.example.org' (? ?) is marked @revoked in '/kh': refusing it");
	says("git@git.example.org: Permission denied (publickey).\n",
	     "ssh key '/k/id' was refused by 'git.example.org': add its public key");
	says("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\ndebug1: Connecting\nssh: connect to host git.example.org port 22: Connection refused\n",
	     "cannot reach 'git.example.org' through ssh: ssh: connect to host git.example.org port 22: "
	     "Connection refused");
	says("", "ssh failed and said nothing");
	return done_testing();
}
