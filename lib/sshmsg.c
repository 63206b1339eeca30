/* sshmsg: OpenSSH's refusals in our words.  See sshmsg.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"
#include "sshmsg.h"
#include "util.h"

void sshmsg_plain(char *out, size_t len, const char *text)
{
	size_t o = 0;

	out[0] = '\0';
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\r\n");
		/* -v also prints ssh's version first, and who it logged in as */
		int skip = n == 0 || strncmp(p, "debug", 5) == 0 || strncmp(p, "@@@", 3) == 0 ||
		           strncmp(p, "OpenSSH_", 8) == 0 ||
		           strncmp(p, "Warning: Permanently added", 26) == 0 ||
		           strncmp(p, "Authenticated to ", 17) == 0 ||
		           strncmp(p, "Transferred: ", 13) == 0 || strncmp(p, "Bytes per second", 16) == 0;
		if (!skip && o + 3 < len) {
			int w = snprintf(out + o, len - o, "%s%.*s", o ? "; " : "", (int)n, p);
			o = w > 0 && (size_t)w < len - o ? o + (size_t)w : len - 1;
		}
		p += n;
		p += strspn(p, "\r\n");
	}
}

/* The rest of the line after `marker`, into out; -1 when absent. */
static int after(char *out, size_t len, const char *text, const char *marker)
{
	const char *p = strstr(text, marker);
	if (!p)
		return -1;
	p += strlen(marker);
	snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"), p);
	return 0;
}

int sshmsg_server_key(char *type, size_t tlen, char *fp, size_t flen, const char *text)
{
	char line[256];
	const char *sp;

	if (after(line, sizeof line, text, "Server host key: ") < 0 || !(sp = strchr(line, ' ')))
		return -1;
	snprintf(type, tlen, "%.*s", (int)(sp - line), line);
	snprintf(fp, flen, "%s", sp + 1);
	return 0;
}

/* "[host]:port" or "host" (ssh's known_hosts name) into host and port. */
static void split_name(char *host, size_t len, int *port, const char *name)
{
	const char *close;
	*port = 22;
	if (name[0] == '[' && (close = strstr(name, "]:")) != NULL) {
		snprintf(host, len, "%.*s", (int)(close - name - 1), name + 1);
		*port = atoi(close + 2);
	} else {
		snprintf(host, len, "%s", name);
	}
}

/* The line of kh where an @revoked entry holds the key with fingerprint
 * fp; 0 when none (ssh says which file, not which line). */
static size_t revoked_line(const char *kh, const char *fp)
{
	char err[ERR_MAX], got[KH_FP_MAX];
	char *text = NULL;
	size_t len = 0, lineno = 0, found = 0;

	if (util_read_file(&text, &len, kh, err) < 0)
		return 0;
	for (const char *p = text; p < text + len && !found;) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		struct kh_entry e;
		lineno++;
		if (kh_parse_line(&e, p, n) == 1) {
			kh_fingerprint(got, sizeof got, e.blob, e.blob_len);
			if (e.marker == KH_REVOKED && strcmp(got, fp) == 0)
				found = lineno;
			kh_entry_free(&e);
		}
		p += n + 1;
	}
	free(text);
	return found;
}

/* The three host key refusals, when text holds one: 1, else 0. */
static int host_key_refused(char *err, const char *text, const struct sshmsg_ctx *c)
{
	char type[KH_TYPE_MAX] = "?", fp[KH_FP_MAX] = "?", name[KH_NAME_MAX], host[KH_NAME_MAX], tail[512];
	const char *p;
	int port;

	sshmsg_server_key(type, sizeof type, fp, sizeof fp, text);
	if ((p = strstr(text, "host key for ")) && strstr(text, "is marked as revoked")) {
		p += strlen("host key for ");
		snprintf(name, sizeof name, "%.*s", (int)(strstr(p, " is marked") - p), p);
		size_t line = revoked_line(c->known_hosts, fp);
		snprintf(tail, sizeof tail, " line %zu", line);
		err_set(err, "host key of '%s' (%s %s) is marked @revoked in '%s'%s: refusing it",
		        name, type, fp, c->known_hosts, line ? tail : "");
		return 1;
	}
	if (after(name, sizeof name, text, "Host key for ") == 0 && strstr(name, " has changed")) {
		*strstr(name, " has changed") = '\0';
		split_name(host, sizeof host, &port, name);
		/* "Offending ED25519 key in FILE:LINE" */
		const char *off = strstr(text, "Offending ");
		if (!off || after(tail, sizeof tail, off, " key in ") < 0)
			snprintf(tail, sizeof tail, "%s", c->known_hosts);
		p = strrchr(tail, ':');
		err_set(err, "host key of '%s' has changed: it shows %s %s but '%.*s' line %s holds another "
		        "(someone may be impersonating the host); if the key change is expected, update '%s' "
		        "(ssh-keyscan -p %d %s)", name, type, fp, p ? (int)(p - tail) : (int)strlen(tail), tail,
		        p ? p + 1 : "?", c->known_hosts, port, host);
		return 1;
	}
	if (after(name, sizeof name, text, " host key is known for ") == 0 && strstr(name, " and you have")) {
		*strstr(name, " and you have") = '\0';
		split_name(host, sizeof host, &port, name);
		err_set(err, "host key of '%s' is not trusted: %s %s is not in '%s'; if the fingerprint is the "
		        "host's, add it to '%s' (ssh-keyscan -p %d %s)",
		        name, type, fp, c->known_hosts, c->known_hosts, port, host);
		return 1;
	}
	return 0;
}

void sshmsg_explain(char *err, const char *text, const struct sshmsg_ctx *c)
{
	char plain[ERR_MAX / 2];

	if (host_key_refused(err, text, c))
		return;
	if (strstr(text, "Permission denied (")) {
		if (c->key && *c->key)
			err_set(err, "ssh key '%s' was refused by '%s': add its public key to the deploy keys "
			        "of the repository", c->key, c->host);
		else
			err_set(err, "the keys of ssh-agent were refused by '%s'", c->host);
		return;
	}
	sshmsg_plain(plain, sizeof plain, text);
	err_set(err, "cannot reach '%s' through ssh: %s", c->host, plain[0] ? plain : "ssh failed and said nothing");
}
