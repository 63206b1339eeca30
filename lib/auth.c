#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth.h"
#include "knownhosts.h"
#include "log.h"
#include "settings.h"
#include "crypto.h"
#include "url.h"
#include "util.h"

/* libgit2 reports what we say here as the connection's error, and the
 * repo layer quotes it: one lowercase line, as util.h asks. */
static int refuse(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(int code, const char *fmt, ...)
{
	char msg[ERR_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	git_error_set_str(GIT_ERROR_SSH, msg);
	return code;
}

/* ~/.ssh[/leaf], for callers without settings (settings.c gives the
 * configured or defaulted paths otherwise). */
static const char *home_ssh(char *buf, size_t len, const char *leaf)
{
	const char *home = util_home();
	snprintf(buf, len, "%s/.ssh%s%s", home && strcmp(home, "/") ? home : "", leaf ? "/" : "",
	         leaf ? leaf : "");
	return buf;
}

static const char *key_dir(char *buf, size_t len, const struct repo_auth *a)
{
	if (a->settings && a->settings->deploy_key_dir[0])
		snprintf(buf, len, "%s", a->settings->deploy_key_dir);
	else
		home_ssh(buf, len, NULL);
	return buf;
}

static const char *known_hosts(char *buf, size_t len, const struct repo_auth *a)
{
	if (a->settings && a->settings->known_hosts[0])
		snprintf(buf, len, "%s", a->settings->known_hosts);
	else
		home_ssh(buf, len, "known_hosts");
	return buf;
}

static int strict(const struct repo_auth *a)
{
	return !a->settings || a->settings->strict_host_key;
}

static int remote_ready(git_remote *remote, int direction, void *payload)
{
	struct repo_auth *a = payload;
	const char *url = direction == GIT_DIRECTION_PUSH && git_remote_pushurl(remote)
	                  ? git_remote_pushurl(remote) : git_remote_url(remote);

	/* a new connection: the counters of the last one do not apply */
	a->port = url_ssh_port(url);
	a->key_tries = 0;
	a->url_tries = 0;
	a->key_used[0] = '\0';
	return 0;
}

static int key_usable(const char *path, int *refused)
{
	struct stat st;

	*refused = 0;
	if (stat(path, &st) < 0)
		return 0;
	/* ssh refuses a private key others can read: so do we, before
	 * anything is sent, so that a leaked key is noticed, not used */
	if ((st.st_mode & 077) != 0) {
		*refused = refuse(GIT_EUSER, "permissions %04o for '%s' are too open: "
		                  "it is a private key, chmod 600 it",
		                  (unsigned)(st.st_mode & 07777), path);
		return 0;
	}
	return 1;
}

/* Is the private key file at path an RSA key?  PEM "RSA PRIVATE KEY",
 * or OpenSSH's format, whose public half (unencrypted) names its type:
 * "openssh-key-v1\0", cipher, kdf, kdf options, key count, public key. */
static int key_is_rsa(const char *path)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	char err[ERR_MAX], type[KH_TYPE_MAX];
	char *text = NULL, *b64 = NULL;
	unsigned char *bin = NULL;
	size_t len = 0, n = 0;
	long got;
	int rsa = 0;

	if (util_read_file(&text, &len, path, err) < 0)
		return 0;
	if (strstr(text, "-----BEGIN RSA PRIVATE KEY-----")) {
		rsa = 1;
		goto out;
	}
	const char *p = strstr(text, begin);
	if (!p)
		goto out;
	p += sizeof begin - 1;
	b64 = xmalloc(len + 1);
	for (; *p && *p != '-'; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			b64[n++] = *p;
	bin = xmalloc(n + 3);
	got = crypto_b64_decode(bin, n + 3, b64, n);
	if (got < 15 || memcmp(bin, "openssh-key-v1", 15) != 0)
		goto out;
	size_t at = 15;
	for (int field = 0; field < 3; field++) {
		if ((size_t)got - at < 4)
			goto out;
		size_t flen = (size_t)bin[at] << 24 | (size_t)bin[at + 1] << 16 | (size_t)bin[at + 2] << 8 | bin[at + 3];
		if (flen > (size_t)got - at - 4)
			goto out;
		at += 4 + flen;
	}
	/* key count, then the public key as a string */
	if ((size_t)got - at < 8)
		goto out;
	at += 8;
	rsa = kh_blob_type(type, sizeof type, bin + at, (size_t)got - at) == 0 && strcmp(type, "ssh-rsa") == 0;
out:
	/* the private key went through these buffers */
	if (text)
		explicit_bzero(text, len);
	if (b64)
		explicit_bzero(b64, n);
	if (bin)
		explicit_bzero(bin, n + 3);
	free(text);
	free(b64);
	free(bin);
	return rsa;
}

static int ssh_key(git_credential **out, struct repo_auth *a, const char *url, const char *user)
{
	char dir[PATH_MAX], per[PATH_MAX + 64] = "", def[PATH_MAX + 64], host[256];
	const char *sock = getenv("SSH_AUTH_SOCK");
	int refused;

	url_host(host, sizeof host, url);
	if (a->key_tries++ > 0) {
		/* libgit2 asks again after a rejection: one try per source, or
		 * we would loop for ever on a key the server does not want */
		if (a->key_used[0] && key_is_rsa(a->key_used))
			return refuse(GIT_EUSER, "ssh key '%s' was refused by '%s': "
			              "add its public key to the deploy keys of the repository; "
			              "if it is there, note that libssh2 signs rsa keys with sha-1 (ssh-rsa), "
			              "which OpenSSH 8.8 and later and GitHub refuse: use an ed25519 key",
			              a->key_used, host);
		if (a->key_used[0])
			return refuse(GIT_EUSER, "ssh key '%s' was refused by '%s': "
			              "add its public key to the deploy keys of the repository",
			              a->key_used, host);
		return refuse(GIT_EUSER, "the keys of ssh-agent were refused by '%s'", host);
	}

	key_dir(dir, sizeof dir, a);
	if (a->checkout && *a->checkout) {
		size_t n = strlen(a->checkout);
		while (n > 1 && a->checkout[n - 1] == '/')
			n--;
		const char *base = a->checkout + n;
		while (base > a->checkout && base[-1] != '/')
			base--;
		snprintf(per, sizeof per, "%s/%.*s_deploy_key", dir,
		         (int)(a->checkout + n - base), base);
	}
	snprintf(def, sizeof def, "%s/id_rsa_git_ssh_read_only", dir);

	const char *pick = NULL;
	if (per[0] && key_usable(per, &refused))
		pick = per;
	else if (per[0] && refused)
		return refused;
	else if (key_usable(def, &refused))
		pick = def;
	else if (refused)
		return refused;

	if (pick) {
		if (snprintf(a->key_used, sizeof a->key_used, "%s", pick) >= (int)sizeof a->key_used)
			return refuse(GIT_EUSER, "ssh key path '%s' is too long", pick);
		/* no public key file: libssh2 derives it from the private key,
		 * so a stale .pub beside it cannot get in the way */
		if (git_credential_ssh_key_new(out, user, NULL, pick, NULL) < 0)
			return -1;
		return 0;
	}
	if (sock && *sock) {
		a->key_used[0] = '\0';
		return git_credential_ssh_key_from_agent(out, user);
	}
	if (per[0])
		return refuse(GIT_EUSER, "no ssh key for '%s': tried '%s', '%s' and ssh-agent "
		              "(SSH_AUTH_SOCK is not set); install the repository's deploy key as '%s' (mode 0600)",
		              host, per, def, per);
	return refuse(GIT_EUSER, "no ssh key for '%s': tried '%s' and ssh-agent (SSH_AUTH_SOCK is not set)",
	              host, def);
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* https://user:password@host/...: hand the URL's own credentials to the
 * server once.  Nothing here is ever logged. */
static int url_userpass(git_credential **out, struct repo_auth *a, const char *url)
{
	const char *colon;
	char hostbuf[256];
	struct url u;
	int rc;

	if (!url)
		return GIT_PASSTHROUGH;
	url_parse(&u, url);
	if (u.kind != URL_SCHEME || !u.user || !(colon = memchr(u.user, ':', u.user_len)))
		return GIT_PASSTHROUGH;
	url_host(hostbuf, sizeof hostbuf, url);
	if (a->url_tries++ > 0)
		return refuse(GIT_EUSER, "the credentials in the url were refused by '%s'", hostbuf);
	char *name = url_decode(u.user, (size_t)(colon - u.user));
	char *pass = url_decode(colon + 1, u.user_len - (size_t)(colon - u.user) - 1);
	rc = git_credential_userpass_plaintext_new(out, name, pass);
	free_secret(name);
	free_secret(pass);
	return rc;
}

static int credentials(git_credential **out, const char *url, const char *username_from_url,
                       unsigned int allowed, void *payload)
{
	struct repo_auth *a = payload;
	const char *user = username_from_url && *username_from_url ? username_from_url : "git";

	*out = NULL;
	if (allowed & GIT_CREDENTIAL_SSH_KEY)
		return ssh_key(out, a, url, user);
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		return url_userpass(out, a, url);
	return GIT_PASSTHROUGH;
}

static int host_key(git_cert *cert, int valid, const char *host, void *payload)
{
	struct repo_auth *a = payload;
	const git_cert_hostkey *hk;
	char kh[PATH_MAX], name[KH_NAME_MAX], type[KH_TYPE_MAX], fp[KH_FP_MAX], err[ERR_MAX];
	char *text = NULL;
	size_t len = 0;
	struct kh_result r;
	struct stat st;
	int port = a->port > 0 ? a->port : 22;

	(void)valid; /* libssh2's verdict comes from ~/.ssh/known_hosts: not ours */
	a->key_tries = 0;
	a->url_tries = 0;
	/* TLS: libgit2 has checked the chain; keep its verdict */
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	hk = (const git_cert_hostkey *)cert;
	if (!(hk->type & GIT_CERT_SSH_RAW) || !hk->hostkey || hk->hostkey_len == 0)
		return refuse(GIT_ECERTIFICATE, "cannot check the host key of '%s': libssh2 did not give it", host);

	kh_host_name(name, sizeof name, host, port);
	kh_blob_type(type, sizeof type, (const unsigned char *)hk->hostkey, hk->hostkey_len);
	kh_fingerprint(fp, sizeof fp, (const unsigned char *)hk->hostkey, hk->hostkey_len);
	known_hosts(kh, sizeof kh, a);

	if (stat(kh, &st) < 0 && errno == ENOENT) {
		text = xstrdup("");
	} else if (util_read_file(&text, &len, kh, err) < 0) {
		return refuse(GIT_ECERTIFICATE, "cannot check the host key of '%s': %s", name, err);
	}
	kh_check_host(&r, text, len, host, port, (const unsigned char *)hk->hostkey, hk->hostkey_len);
	free(text);

	switch (r.verdict) {
	case KH_MATCH:
		if (r.without_port)
			log_debug("host key of '%s' found in '%s' line %zu, listed without the port (as ssh "
			          "accepts it)", name, kh, r.line);
		return 0;
	case KH_KEY_REVOKED:
		/* as ssh: a revoked key is refused even when not strict */
		return refuse(GIT_ECERTIFICATE, "host key of '%s' (%s %s) is marked @revoked in '%s' line %zu: refusing it",
		              name, type, fp, kh, r.line);
	default:
		break;
	}
	if (!strict(a)) {
		if (!a->warned_host_key)
			log_warn("AUTODEPLOY_STRICT_HOST_KEY=no: accepting the host key of '%s' (%s %s) "
			         "that '%s' does not vouch for (%s); anyone who can spoof that host can feed "
			         "this server code: add the key (ssh-keyscan -p %d %s) and turn strict checking on",
			         name, type, fp, kh, kh_verdict_name(r.verdict), port, host);
		a->warned_host_key = 1;
		return 0;
	}
	switch (r.verdict) {
	case KH_MISMATCH:
		return refuse(GIT_ECERTIFICATE, "host key of '%s' has changed: it shows %s %s but '%s' line %zu "
		              "holds another (someone may be impersonating the host); if the key change is expected, "
		              "update '%s' (ssh-keyscan -p %d %s)", name, type, fp, kh, r.line, kh, port, host);
	case KH_OTHER_TYPE:
		return refuse(GIT_ECERTIFICATE, "host key of '%s' is not trusted: it shows %s %s and '%s' "
		              "holds only keys of other types for it (line %zu); if the key is expected, add it to '%s' "
		              "(ssh-keyscan -p %d %s)", name, type, fp, kh, r.line, kh, port, host);
	default:
		return refuse(GIT_ECERTIFICATE, "host key of '%s' is not trusted: %s %s is not in '%s'; "
		              "if the fingerprint is the host's, add it to '%s' (ssh-keyscan -p %d %s)",
		              name, type, fp, kh, kh, port, host);
	}
}

void auth_callbacks(git_remote_callbacks *cb, struct repo_auth *auth)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->certificate_check = host_key;
	cb->remote_ready = remote_ready;
	cb->payload = auth;
}
