/* url: the one URL reader.  Its parts, the ssh port, redaction for logs,
 * and url_scrub: a password or token from a remote URL never stays in
 * libgit2's words about it, whatever it is, and the message never grows
 * past ERR_MAX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "tap.h"
#include "util.h"

static const char *scrub(char *buf, const char *msg, const char *url)
{
	snprintf(buf, ERR_MAX, "%s", msg);
	url_scrub(buf, url);
	return buf;
}

static void test_redact(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "https://user:pass@host/x", "https://***@host/x" },
		{ "https://token@host/x", "https://***@host/x" },
		{ "https://x-access-token:ghs_abc@github.com/org/repo.git", "https://***@github.com/org/repo.git" },
		{ "ssh://git@host:22/x", "ssh://***@host:22/x" },
		{ "git@host:org/x.git", "git@host:org/x.git" },
		{ "/local/path", "/local/path" },
		{ "/local/p@th:x", "/local/p@th:x" },
		{ "file:///x", "file:///x" },
		{ "https://host/x", "https://host/x" },
		{ "https://host/path@v1", "https://host/path@v1" },
		{ "https://user:p@ss@host/x", "https://***@host/x" },
		{ "https://user:pass@host", "https://***@host" },
		{ "https://user:p@ss@host", "https://***@host" },
		{ "host.example:repo", "host.example:repo" },
		{ "user:pass@host/x", "user:pass@host/x" },
		{ "git+ssh://me@host/x", "git+ssh://***@host/x" },
		{ "", "" },
	};
	char out[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		url_redact(out, sizeof out, cases[i].in);
		is_str(out, cases[i].out, "redact '%s'", cases[i].in);
	}
	char small[12];
	url_redact(small, sizeof small, "https://user:secret@host/x");
	is_str(small, "https://***", "a short buffer is cut, still without the secret");
}

static void test_parts(void)
{
	struct url u;
	url_parse(&u, "https://deploy:s3@cret@git.example.org:8443/x.git");
	ok(u.kind == URL_SCHEME && u.scheme_len == 5 && u.user_len == 14 &&
	   strncmp(u.user, "deploy:s3@cret", u.user_len) == 0 && u.host_len == 15 &&
	   strncmp(u.host, "git.example.org", 15) == 0 && u.port_len == 4 && strncmp(u.port, "8443", 4) == 0,
	   "scheme, userinfo up to the last @, host and port");
	url_parse(&u, "ssh://[::1]:2200/repo.git");
	ok(u.host_len == 3 && strncmp(u.host, "::1", 3) == 0 && !u.user, "an IPv6 literal without brackets");
	url_parse(&u, "git@github.com:org/repo.git");
	ok(u.kind == URL_SCP && u.user_len == 3 && u.host_len == 10 && url_is_ssh(&u), "scp-like user@host:path");
	url_parse(&u, "/srv/x:y/repo.git");
	ok(u.kind == URL_PATH && !url_is_ssh(&u), "a path: a ':' after a '/' is no host");
	url_parse(&u, "1http://x");
	ok(u.kind != URL_SCHEME, "a scheme starts with a letter");
	char h[64];
	url_host(h, sizeof h, "https://tok@h.example/x");
	is_str(h, "h.example", "url_host never shows the userinfo");
	url_host(h, sizeof h, "/srv/x");
	is_str(h, "?", "a path has no host");
	char *d = url_decode("a%40b%2fc%4", 11);
	is_str(d, "a@b/c%4", "url_decode: %%XX decoded, a cut one kept");
	free(d);
	is_int(url_ssh_port("ssh://git@git.example.org:2222/org/repo.git"), 2222, "ssh:// with a port");
	is_int(url_ssh_port("ssh://git.example.org/org/repo.git"), 22, "ssh:// without a port is 22");
	is_int(url_ssh_port("ssh://[::1]:2200/repo.git"), 2200, "an IPv6 literal with a port");
	is_int(url_ssh_port("git@github.com:org/repo.git"), 22, "scp-like user@host:path is 22");
	is_int(url_ssh_port("https://example.org:8443/repo.git"), 0, "https is not ssh");
	is_int(url_ssh_port("/srv/git/repo.git"), 0, "a path is not ssh");
	is_int(url_ssh_port("ssh://h:99999/x"), 22, "a port out of range is 22");
	is_int(url_ssh_port("git+ssh://h:2/x"), 2, "git+ssh:// is ssh");
}

int main(void)
{
	char m[ERR_MAX];

	test_redact();
	test_parts();

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
