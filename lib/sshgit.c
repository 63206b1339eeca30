/* sshgit: the smart subtransport over OpenSSH.  See sshgit.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/transport.h>

#include "sshgit.h"
#include "strbuf.h"
#include "url.h"
#include "util.h"

struct sub {
	git_smart_subtransport parent;
	struct sshconn_target base;   /* its strings owned */
	struct stream *current;
};

struct stream {
	git_smart_subtransport_stream parent;
	struct sshconn_session s;
	char host[256];               /* for messages */
};

static int fail(const char *msg)
{
	git_error_set_str(GIT_ERROR_SSH, msg);
	return -1;
}

/* 'path' as git's sq_quote writes it for the remote shell: ' and ! closed
 * out of the quotes and escaped. */
static char *sq_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '!')
			strbuf_addf(&sb, "'\\%c'", *s);
		else
			strbuf_addch(&sb, *s);
	}
	strbuf_addch(&sb, '\'');
	return strbuf_detach(&sb, NULL);
}

static int parse_port(int *port, const struct url *u)
{
	long p = 0;
	*port = 0;
	if (!u->port || u->port_len == 0)
		return 0;
	for (size_t i = 0; i < u->port_len; i++) {
		if (u->port[i] < '0' || u->port[i] > '9' || p > 65535)
			return -1;
		p = p * 10 + (u->port[i] - '0');
	}
	if (p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

void sshgit_url_free(struct sshgit_url *u)
{
	free(u->user);
	free(u->host);
	free(u->path);
	free(u->command);
	memset(u, 0, sizeof *u);
}

/* As git's connect.c: the URL forms are percent-decoded, "/~user/x" is
 * "~user/x" (a home folder), scp-like paths are taken as written; a
 * host, user or path that starts with '-' would be read by ssh or the
 * remote as an option, and git blocks it too. */
int sshgit_parse_url(struct sshgit_url *out, const char *url, char *err)
{
	struct url u;
	const char *path;

	memset(out, 0, sizeof *out);
	url_parse(&u, url);
	if (!url_is_ssh(&u) || u.host_len == 0)
		return err_set(err, "'%s' is not an ssh url", url);
	if (u.kind == URL_SCHEME) {
		path = u.scheme + u.scheme_len + 3;
		path += strcspn(path, "/");
		if (parse_port(&out->port, &u) < 0)
			return err_set(err, "bad port in ssh url '%s'", url);
		out->host = url_decode(u.host, u.host_len);
		out->user = u.user ? url_decode(u.user, u.user_len) : NULL;
		out->path = url_decode(path, strlen(path));
		if (out->path[0] == '/' && out->path[1] == '~')
			memmove(out->path, out->path + 1, strlen(out->path));
	} else {
		path = u.host + u.host_len + 1;
		out->host = xmemdupz(u.host, u.host_len);
		out->user = u.user ? xmemdupz(u.user, u.user_len) : NULL;
		out->path = xstrdup(path);
	}
	if (out->host[0] == '-' || (out->user && out->user[0] == '-') || out->path[0] == '-' ||
	    !out->path[0]) {
		sshgit_url_free(out);
		return err_set(err, "refusing ssh url '%s': %s", url,
		               path[0] ? "a host, user or path that starts with '-' (as git refuses it)"
		                       : "no repository path");
	}
	char *q = sq_quote(out->path);
	out->command = xasprintf("git-upload-pack %s", q);
	free(q);
	return 0;
}

static int stream_read(git_smart_subtransport_stream *gs, char *buf, size_t size, size_t *got)
{
	struct stream *st = (struct stream *)gs;
	char why[ERR_MAX], msg[ERR_MAX * 2];
	struct pollfd p = { .fd = st->s.out, .events = POLLIN };
	ssize_t k;

	*got = 0;
	for (;;) {
		int rc = poll(&p, 1, SSHCONN_STALL_TIMEOUT * 1000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0) {
			snprintf(msg, sizeof msg, "'%s' sent nothing for %d s: giving up", st->host,
			         SSHCONN_STALL_TIMEOUT);
			return fail(msg);
		}
		k = read(st->s.out, buf, size);
		if (k < 0 && errno == EINTR)
			continue;
		break;
	}
	if (k > 0) {
		*got = (size_t)k;
		return 0;
	}
	/* the protocol never reads past its end: an end here is an error,
	 * and ssh's stderr (or the remote git's) says which */
	sshconn_stderr(&st->s, why);
	snprintf(msg, sizeof msg, "ssh to '%s' ended: %s", st->host,
	         why[0] ? why : k < 0 ? strerror(errno) : "the connection closed early");
	return fail(msg);
}

static int stream_write(git_smart_subtransport_stream *gs, const char *buf, size_t len)
{
	struct stream *st = (struct stream *)gs;
	char why[ERR_MAX], msg[ERR_MAX * 2];

	while (len > 0) {
		ssize_t k = send(st->s.in, buf, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			sshconn_stderr(&st->s, why);
			snprintf(msg, sizeof msg, "ssh to '%s' ended: %s", st->host, why[0] ? why : strerror(e));
			return fail(msg);
		}
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

static void stream_free(git_smart_subtransport_stream *gs)
{
	struct stream *st = (struct stream *)gs;
	struct sub *t = (struct sub *)gs->subtransport;

	if (t->current == st)
		t->current = NULL;
	sshconn_close(&st->s, NULL);
	free(st);
}

static int start(git_smart_subtransport_stream **out, struct sub *t, const char *url)
{
	struct sshgit_url u;
	struct sshconn_target target = t->base;
	char err[ERR_MAX];
	struct stream *st;

	if (sshgit_parse_url(&u, url, err) < 0)
		return fail(err);
	target.user = u.user;
	target.host = u.host;
	target.port = u.port;
	st = xcalloc(1, sizeof *st);
	snprintf(st->host, sizeof st->host, "%s", u.host);
	if (sshconn_open(&st->s, &target, u.command, err) < 0) {
		sshgit_url_free(&u);
		free(st);
		return fail(err);
	}
	sshgit_url_free(&u);
	st->parent.subtransport = &t->parent;
	st->parent.read = stream_read;
	st->parent.write = stream_write;
	st->parent.free = stream_free;
	t->current = st;
	*out = &st->parent;
	return 0;
}

static int sub_action(git_smart_subtransport_stream **out, git_smart_subtransport *gt, const char *url,
                      git_smart_service_t action)
{
	struct sub *t = (struct sub *)gt;

	*out = NULL;
	switch (action) {
	case GIT_SERVICE_UPLOADPACK_LS:
		return start(out, t, url);
	case GIT_SERVICE_UPLOADPACK:
		/* the fetch goes on the connection the listing opened */
		if (!t->current)
			return fail("the ssh connection is gone before the fetch");
		*out = &t->current->parent;
		return 0;
	default:
		return fail("autodeploy only fetches over ssh: a push is refused");
	}
}

static int sub_close(git_smart_subtransport *gt)
{
	(void)gt;   /* libgit2 frees the stream (stream_free) before this */
	return 0;
}

static void sub_free(git_smart_subtransport *gt)
{
	struct sub *t = (struct sub *)gt;
	free((char *)t->base.key);
	free((char *)t->base.known_hosts);
	free((char *)t->base.ssh_config);
	free(t);
}

static int sub_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	const struct sshconn_target *base = param;
	struct sub *t = xcalloc(1, sizeof *t);

	(void)owner;
	t->base.key = base->key && *base->key ? xstrdup(base->key) : NULL;
	t->base.known_hosts = xstrdup(base->known_hosts);
	t->base.ssh_config = base->ssh_config ? xstrdup(base->ssh_config) : NULL;
	t->base.strict = base->strict;
	t->parent.action = sub_action;
	t->parent.close = sub_close;
	t->parent.free = sub_free;
	*out = &t->parent;
	return 0;
}

int sshgit_transport(git_transport **out, git_remote *owner, const struct sshconn_target *base)
{
	/* stateful, as git:// and ssh are: the listing and the fetch share
	 * one ssh session; libgit2 calls sub_new at once, so the definition
	 * may live on this stack */
	git_smart_subtransport_definition def = { sub_new, 0, (void *)base };
	return git_transport_smart(out, owner, &def);
}
