#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2/sys/transport.h>

#include "auth.h"
#include "log.h"
#include "settings.h"
#include "sshgit.h"
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

static int remote_ready(git_remote *remote, int direction, void *payload)
{
	struct repo_auth *a = payload;
	(void)remote;
	(void)direction;
	/* a new connection: the URL's credentials may be offered once more */
	a->url_tries = 0;
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

/* The deploy key for a connection to host: KEY_DIR/<checkout>_deploy_key,
 * else KEY_DIR/id_rsa_git_ssh_read_only, else "" (ssh-agent's keys). */
static int pick_key(char *out, size_t len, const struct repo_auth *a, const char *host)
{
	char dir[PATH_MAX], per[PATH_MAX + 64] = "", def[PATH_MAX + 64];
	const char *sock = getenv("SSH_AUTH_SOCK");
	int refused;

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
		if (snprintf(out, len, "%s", pick) >= (int)len)
			return refuse(GIT_EUSER, "ssh key path '%s' is too long", pick);
		return 0;
	}
	out[0] = '\0';
	if (sock && *sock)
		return 0;
	if (per[0])
		return refuse(GIT_EUSER, "no ssh key for '%s': tried '%s', '%s' and ssh-agent "
		              "(SSH_AUTH_SOCK is not set); install the repository's deploy key as '%s' (mode 0600)",
		              host, per, def, per);
	return refuse(GIT_EUSER, "no ssh key for '%s': tried '%s' and ssh-agent (SSH_AUTH_SOCK is not set)",
	              host, def);
}

/* The callbacks' transport: ssh URLs go through OpenSSH (sshgit.h) with
 * this checkout's key and the host key settings; any other URL gets
 * libgit2's own transport for it. */
static int transport(git_transport **out, git_remote *owner, void *payload)
{
	struct repo_auth *a = payload;
	const char *url = git_remote_url(owner);
	char key[PATH_MAX], kh[PATH_MAX], host[256];
	struct url u;

	url_parse(&u, url ? url : "");
	if (!url || !url_is_ssh(&u))
		return git_transport_new(out, owner, url ? url : "");
	url_host(host, sizeof host, url);
	int rc = pick_key(key, sizeof key, a, host);
	if (rc < 0)
		return rc;
	struct sshconn_target base = {
		.key = key,
		.known_hosts = known_hosts(kh, sizeof kh, a),
		.strict = !a->settings || a->settings->strict_host_key,
		.ssh_config = a->settings ? a->settings->ssh_config : NULL,
	};
	return sshgit_transport(out, owner, &base);
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
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		return url_userpass(out, a, url);
	return GIT_PASSTHROUGH;
}

void auth_callbacks(git_remote_callbacks *cb, struct repo_auth *auth)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = credentials;
	cb->transport = transport;
	cb->remote_ready = remote_ready;
	cb->payload = auth;
}
