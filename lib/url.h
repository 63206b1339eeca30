/*
 * url: the one reader of remote URLs, for what messages and credentials
 * need from them: which kind, the ssh port, the host, and no secret.
 *
 *   struct url u;
 *   url_parse(&u, "https://deploy:s3cret@git.example.org:8443/x.git");
 *   u.kind == URL_SCHEME, u.user "deploy:s3cret", u.host "git.example.org",
 *   u.port "8443" (each a pointer and a length into the string)
 *
 *   url_redact(out, len, url)     "https://" "***@git.example.org:8443/x.git"
 *   url_scrub(msg, url)           the userinfo's secret masked inside msg
 *
 * Three kinds, as git tells them apart: SCHEME://[userinfo@]host[:port]/path
 * (scheme = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), scp-like
 * [user@]host:path (a ':' before any '/'), and a local path.  The
 * authority ends at the first '/'; the userinfo is everything before its
 * last '@' (a password may hold an '@', a host never does); an IPv6
 * literal's brackets are not part of the host.  Parsing never fails: a
 * string that is no URL is a path.
 */
#ifndef AUTODEPLOY_URL_H
#define AUTODEPLOY_URL_H

#include <stddef.h>

enum url_kind { URL_PATH, URL_SCP, URL_SCHEME };

struct url {
	enum url_kind kind;
	const char *scheme;     /* URL_SCHEME: before "://" */
	size_t scheme_len;
	const char *user;       /* the userinfo, NULL when there is no '@' */
	size_t user_len;
	const char *host;       /* URL_SCHEME and URL_SCP */
	size_t host_len;
	const char *port;       /* what follows the host's ':' in the authority, or NULL */
	size_t port_len;
};

void url_parse(struct url *u, const char *s);

/* ssh://, ssh+git://, git+ssh:// or scp-like. */
int url_is_ssh(const struct url *u);

/* The port an ssh URL connects to (22 when none or not a port), 0 when
 * url is not ssh. */
int url_ssh_port(const char *url);

/* The host, for messages ("?" when there is none). */
void url_host(char *out, size_t len, const char *url);

/* s[0, n) with its %XX sequences decoded (as libgit2 decodes a userinfo),
 * malloc'd and NUL-terminated. */
char *url_decode(const char *s, size_t n);

/* url for messages and logs: the userinfo of a SCHEME:// URL becomes ***
 * (the user too: tokens are often passed as the user); scp-like URLs and
 * paths hold no secret and are copied.  out is always NUL-terminated. */
void url_redact(char *out, size_t len, const char *url);

/* Mask (***) in msg, a NUL-terminated message of at most ERR_MAX bytes,
 * every copy of url's password or token, as written and percent-decoded
 * (libgit2 decodes the userinfo and may quote it either way).  One pass
 * into a bounded buffer: the mask is never scanned again and msg never
 * grows past ERR_MAX.  A user name alone is left over ssh (git@...). */
void url_scrub(char *msg, const char *url);

#endif
