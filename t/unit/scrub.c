/* repo_scrub_secret: a password or token from a remote URL never stays in
 * libgit2's words about it, whatever it is, and the message never grows
 * past ERR_MAX. */
#include <stdio.h>
#include <string.h>

#include "repo.h"
#include "tap.h"
#include "util.h"

static const char *scrub(char *buf, const char *msg, const char *url)
{
	snprintf(buf, ERR_MAX, "%s", msg);
	repo_scrub_secret(buf, url);
	return buf;
}

int main(void)
{
	char m[ERR_MAX];

	is_str(scrub(m, "auth as deploy:s3cret failed (s3cret)", "https://deploy:s3cret@h/x.git"),
	       "auth as *** failed (***)", "user:password and the password alone are masked");
	is_str(scrub(m, "bad password * for *", "http://u:*@h/x"), "bad password *** for ***",
	       "a password '*' is masked once per copy, not forever");
	is_str(scrub(m, "TOPSECRET99/b@host: no such host", "http://deploy:a%40TOPSECRET99%2Fb@host/x.git"),
	       "***/b@host: no such host", "the pieces of the decoded password a parser cut are masked too");
	is_str(scrub(m, "token ghp_abc123 refused", "https://ghp_abc123@github.com/x"), "token *** refused",
	       "over http a user alone may be a token: masked");
	is_str(scrub(m, "cannot reach github.com as git", "ssh://git@github.com/x"), "cannot reach github.com as git",
	       "an ssh user alone is no secret: github.com stays readable");
	is_str(scrub(m, "no secret here", "/srv/repo.git"), "no secret here", "a path URL changes nothing");

	/* a 1-byte password in a message filling the buffer: each byte grows
	 * to 3, and the result must still fit */
	char big[ERR_MAX];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	scrub(m, big, "http://u:a@h/x");
	is_int((long long)strlen(m), ERR_MAX - 1, "the masked message is cut at ERR_MAX - 1 bytes");
	ok(strspn(m, "*") == strlen(m), "and holds only the mask");
	return done_testing();
}
