/*
 * sshmsg: what OpenSSH's client wrote on stderr when a connection failed,
 * told in autodeploy's words (autodeploy-ssh(7)): the host key that is
 * not trusted, has changed or is revoked (with its type, fingerprint and
 * the known_hosts line, and the ssh-keyscan that fixes it), the deploy key
 * the server refused, or ssh's own lines for anything else.
 *
 *   struct sshmsg_ctx c = { .host = "127.0.0.1", .key = keyfile, .known_hosts = kh };
 *   sshmsg_explain(err, stderr_text, &c);
 *
 * The text is what `ssh -v` wrote (the -v line "Server host key: TYPE FP"
 * gives the fingerprint, which ssh's own refusal does not print).
 */
#ifndef AUTODEPLOY_SSHMSG_H
#define AUTODEPLOY_SSHMSG_H

#include <stddef.h>

struct sshmsg_ctx {
	const char *host;         /* the host as the URL names it (maybe an alias) */
	const char *key;          /* the key file offered; NULL or "": ssh-agent's keys */
	const char *known_hosts;  /* AUTODEPLOY_KNOWN_HOSTS */
};

/* One line (ERR_MAX) for err. */
void sshmsg_explain(char *err, const char *text, const struct sshmsg_ctx *c);

/* The lines an operator should read: -v's debug lines, banners and blank
 * lines left out, the rest joined with "; "; "" when none. */
void sshmsg_plain(char *out, size_t len, const char *text);

/* From -v output: the server's host key type ("ssh-ed25519") and
 * fingerprint ("SHA256:..."); -1 when it is not there. */
int sshmsg_server_key(char *type, size_t tlen, char *fp, size_t flen, const char *text);

#endif
