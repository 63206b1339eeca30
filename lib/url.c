/* url: one reader of remote URLs.  See url.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"

static int alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int digit(char c) { return c >= '0' && c <= '9'; }

/* host[:port] or [v6][:port] in [h, end). */
static void split_hostport(struct url *u, const char *h, const char *end)
{
	const char *colon;
	if (h < end && *h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (!close)
			close = end;
		u->host = h + 1;
		u->host_len = (size_t)(close - h - 1);
		colon = close < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		u->host = h;
		u->host_len = (size_t)((colon ? colon : end) - h);
	}
	if (colon) {
		u->port = colon + 1;
		u->port_len = (size_t)(end - colon - 1);
	}
}

/* The userinfo before the last '@' of [from, end); returns where the host starts. */
static const char *split_user(struct url *u, const char *from, const char *end)
{
	const char *at = NULL;
	for (const char *p = from; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return from;
	u->user = from;
	u->user_len = (size_t)(at - from);
	return at + 1;
}

void url_parse(struct url *u, const char *s)
{
	const char *p = s;
	memset(u, 0, sizeof(*u));
	if (alpha(*p))
		while (alpha(*p) || digit(*p) || *p == '+' || *p == '-' || *p == '.')
			p++;
	if (p > s && strncmp(p, "://", 3) == 0) {
		u->kind = URL_SCHEME;
		u->scheme = s;
		u->scheme_len = (size_t)(p - s);
		const char *auth = p + 3, *end = auth + strcspn(auth, "/");
		split_hostport(u, split_user(u, auth, end), end);
		return;
	}
	/* git's rule: a ':' before any '/' makes [user@]host:path */
	size_t colon = strcspn(s, ":");
	if (s[colon] == ':' && colon < strcspn(s, "/")) {
		u->kind = URL_SCP;
		const char *h = split_user(u, s, s + colon);
		u->host = h;
		u->host_len = (size_t)(s + colon - h);
	}
}

int url_is_ssh(const struct url *u)
{
	static const char *const ssh[] = { "ssh", "ssh+git", "git+ssh" };
	if (u->kind == URL_SCP)
		return 1;
	for (size_t i = 0; u->kind == URL_SCHEME && i < sizeof(ssh) / sizeof(ssh[0]); i++)
		if (u->scheme_len == strlen(ssh[i]) && strncmp(u->scheme, ssh[i], u->scheme_len) == 0)
			return 1;
	return 0;
}

int url_ssh_port(const char *url)
{
	struct url u;
	if (!url)
		return 0;
	url_parse(&u, url);
	if (!url_is_ssh(&u))
		return 0;
	if (u.kind != URL_SCHEME || !u.port || u.port_len == 0 || u.port_len > 5)
		return 22;
	long port = 0;
	for (size_t i = 0; i < u.port_len; i++) {
		if (!digit(u.port[i]))
			return 22;
		port = port * 10 + (u.port[i] - '0');
	}
	return port > 0 && port < 65536 ? (int)port : 22;
}

void url_host(char *out, size_t len, const char *url)
{
	struct url u;
	url_parse(&u, url ? url : "");
	if (u.kind == URL_PATH || u.host_len == 0)
		snprintf(out, len, "?");
	else
		snprintf(out, len, "%.*s", (int)u.host_len, u.host);
}

void url_redact(char *out, size_t len, const char *url)
{
	struct url u;
	if (len == 0)
		return;
	url_parse(&u, url ? url : "");
	if (u.kind != URL_SCHEME || !u.user)
		snprintf(out, len, "%s", url ? url : "");
	else
		snprintf(out, len, "%.*s***%s", (int)(u.user - url), url, u.user + u.user_len);
}

/* msg with every copy of needle as "***", in one pass into a bounded
 * buffer: what was written is never scanned again (a password "*" would
 * match its own mask forever) and never grows past ERR_MAX (a 1-byte
 * password turns into 3 bytes). */
static void mask_all(char *msg, const char *needle)
{
	char out[ERR_MAX];
	size_t nlen = strlen(needle), o = 0;
	const char *p = msg;

	if (nlen == 0)
		return;
	while (*p && o + 1 < sizeof out) {
		if (strncmp(p, needle, nlen) == 0) {
			for (int k = 0; k < 3 && o + 1 < sizeof out; k++)
				out[o++] = '*';
			p += nlen;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	memcpy(msg, out, o + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

char *url_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void url_scrub(char *msg, const char *url)
{
	struct url u;
	url_parse(&u, url ? url : "");
	if (u.kind != URL_SCHEME || !u.user || u.user_len == 0)
		return;
	char *forms[2];
	forms[0] = xmemdupz(u.user, u.user_len);
	forms[1] = url_decode(u.user, u.user_len);
	/* A user name alone is no secret over ssh (git@, the ssh user), and
	 * masking it everywhere would maim the message ('***hub.com'); over
	 * http it may be a token (https://TOKEN@host). */
	int http = u.scheme_len >= 4 && strncmp(u.scheme, "http", 4) == 0;
	/* the decoded form only when it differs: masking "***" twice would
	 * turn a password "*" into nine stars */
	for (int f = 0; f < (strcmp(forms[0], forms[1]) ? 2 : 1); f++) {
		char *colon = strchr(forms[f], ':');
		if (colon || http)
			mask_all(msg, forms[f]);
		/* a password alone (after ':') may be quoted too */
		if (colon && colon[1])
			mask_all(msg, colon + 1);
		/* decoded, a password may hold '@', '/' or ':' where a parser
		 * cuts the URL (libgit2 then quotes a "host" that is its tail):
		 * mask each piece long enough to matter */
		for (char *piece = colon ? colon + 1 : NULL; f == 1 && piece && *piece;) {
			size_t n = strcspn(piece, "@/:");
			char keep = piece[n];
			piece[n] = '\0';
			if (n >= 3)
				mask_all(msg, piece);
			piece[n] = keep;
			piece += n + (keep != '\0');
		}
	}
	free(forms[0]);
	free(forms[1]);
}
