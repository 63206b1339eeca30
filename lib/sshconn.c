/* sshconn: ssh through OpenSSH, one master per destination.  See sshconn.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "knownhosts.h"
#include "log.h"
#include "sshconn.h"
#include "sshmsg.h"
#include "strbuf.h"
#include "util.h"

extern char **environ;

#define CONTROL_PERSIST "30"    /* s a master outlives its last session (a killed run) */
#define CLOSE_GRACE 10.0        /* s a client gets to exit once its stdin closed */
#define STDERR_MAX (256 * 1024) /* what we read back of a session's stderr */
#define STR_(x) #x
#define XSTR(x) STR_(x)

/* ---- argument vectors ---- */

struct argv {
	char **v;
	size_t n, cap;
};

static void av_add(struct argv *a, char *s)
{
	ARRAY_GROW(a->v, a->n + 1, a->cap);   /* and the NULL after it */
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void av_opt(struct argv *a, const char *fmt, const char *value)
{
	av_add(a, xstrdup("-o"));
	av_add(a, xasprintf(fmt, value));
}

static void av_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

/* A path as ssh reads it in IdentityFile, UserKnownHostsFile or
 * ControlPath: '%' starts a token there, so it is doubled; quoted when
 * `quote` (an -o value is split at blanks).  NULL for a path ssh cannot be
 * told (a quote, a backslash or a newline in it). */
static char *ssh_path(const char *path, int quote)
{
	if (strpbrk(path, "\"\\\n"))
		return NULL;
	char *out = xmalloc(strlen(path) * 2 + 3), *o = out;
	if (quote)
		*o++ = '"';
	for (const char *p = path; *p; p++) {
		*o++ = *p;
		if (*p == '%')
			*o++ = '%';
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	return out;
}

/* ---- the run's masters ---- */

enum master_state { M_STARTING, M_UP, M_FAILED };

struct master {
	struct master *next;
	char id[17];              /* hex of the destination's hash: the socket's name */
	enum master_state state;
	char err[ERR_MAX];        /* M_FAILED: why, said to every session */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct master *masters;
static char private_dir[64];

/* Our own folder for the control sockets and accepted host keys: 0700,
 * made by mkdtemp (a name nobody could prepare), in /tmp because a socket
 * path must fit in 108 bytes with the 17 that ssh adds while it binds
 * (STATE_DIR may be long) and because the services' PrivateTmp= removes
 * what a killed run leaves.  Called with mu held. */
static int ensure_dir(char *err)
{
	if (private_dir[0])
		return 0;
	snprintf(private_dir, sizeof private_dir, "/tmp/autodeploy-ssh.XXXXXX");
	if (!mkdtemp(private_dir)) {
		int e = errno;
		private_dir[0] = '\0';
		return err_set(err, "cannot make a folder for ssh's control sockets in '/tmp': %s", strerror(e));
	}
	return 0;
}

/* The destination's identity: a connection made with one deploy key
 * must never serve a repository that has another. */
static void target_id(char out[17], const struct sshconn_target *t)
{
	char *s = xasprintf("%s\n%s\n%d\n%s\n%s\n%d\n%s", t->user ? t->user : "", t->host, t->port,
	                    t->key ? t->key : "", t->known_hosts, t->strict, t->ssh_config ? t->ssh_config : "");
	unsigned char md[CRYPTO_SHA256_LEN];
	crypto_sha256(md, s, strlen(s));
	free(s);
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- the ssh command line ---- */

/*
 * What every ssh of a destination gets, master or session.  BatchMode:
 * never a prompt on a server; IdentitiesOnly: the deploy key, not
 * whatever else ~/.ssh holds (a GitHub deploy key opens one repository
 * only, so offering another key first would open the wrong one); no global
 * known_hosts: only AUTODEPLOY_KNOWN_HOSTS vouches, as before; with strict
 * checking off, accept-new writes what it accepts into a file of ours
 * listed first, and a changed key is still refused.
 */
static int common_argv(struct argv *a, const struct sshconn_target *t, const char *id, char *err)
{
	char *kh = ssh_path(t->known_hosts, 1), *key = t->key && *t->key ? ssh_path(t->key, 0) : NULL;
	char *cp = NULL, *accepted = NULL, *sock = xasprintf("%s/%s", private_dir, id);
	int ret = -1;

	cp = ssh_path(sock, 1);
	if (!kh || (t->key && *t->key && !key) || !cp ||
	    (t->ssh_config && strpbrk(t->ssh_config, "\"\\\n"))) {
		err_set(err, "cannot hand '%s' to ssh: a quote, backslash or newline in a path",
		        !kh ? t->known_hosts : !cp ? sock : t->key && !key ? t->key : t->ssh_config);
		goto out;
	}
	av_add(a, xstrdup("ssh"));
	if (t->ssh_config) {
		av_add(a, xstrdup("-F"));
		av_add(a, xstrdup(t->ssh_config));
	}
	av_opt(a, "BatchMode=%s", "yes");
	if (key) {
		av_opt(a, "IdentitiesOnly=%s", "yes");
		av_add(a, xstrdup("-i"));
		av_add(a, xstrdup(key));
	}
	if (!t->strict) {
		char *acc = xasprintf("%s/%s.accepted", private_dir, id);
		accepted = ssh_path(acc, 1);
		free(acc);
		av_add(a, xstrdup("-o"));
		av_add(a, xasprintf("UserKnownHostsFile=%s %s", accepted, kh));
	} else {
		av_opt(a, "UserKnownHostsFile=%s", kh);
	}
	av_opt(a, "GlobalKnownHostsFile=%s", "/dev/null");
	av_opt(a, "StrictHostKeyChecking=%s", t->strict ? "yes" : "accept-new");
	av_opt(a, "CheckHostIP=%s", "no");
	av_opt(a, "UpdateHostKeys=%s", "no");
	av_opt(a, "ConnectTimeout=%s", XSTR(SSHCONN_CONNECT_TIMEOUT));
	/* a peer gone silent ends the session within a minute */
	av_opt(a, "ServerAliveInterval=%s", "15");
	av_opt(a, "ServerAliveCountMax=%s", "4");
	av_opt(a, "ControlPath=%s", cp);
	if (t->port > 0) {
		av_add(a, xstrdup("-p"));
		av_add(a, xasprintf("%d", t->port));
	}
	ret = 0;
out:
	free(kh);
	free(key);
	free(cp);
	free(accepted);
	free(sock);
	return ret;
}

/* [user@]host, after "--" so that nothing in it is read as an option */
static void add_destination(struct argv *a, const struct sshconn_target *t)
{
	av_add(a, xstrdup("--"));
	av_add(a, t->user ? xasprintf("%s@%s", t->user, t->host) : xstrdup(t->host));
}

/* ---- processes ---- */

/* posix_spawnp: no shell, safe beside other threads; the descriptors are
 * close-on-exec everywhere else, so a session's pipes reach its ssh only.
 * Its own process group, for the kill at a deadline; SIGPIPE at its
 * default, whatever the program did with it. */
static int spawn(pid_t *pid, char **argv, int in, int out, int errfd, char *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	/* a descriptor of ours left without close-on-exec (a lock) must not
	 * live on in a master that outlives the run */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return err_set(err, "cannot run 'ssh' (openssh-client): %s", strerror(rc));
	return 0;
}

/* A descriptor that turns readable when pid exits (-1 where the kernel
 * has none: then we nap), so that a reap costs no polling delay. */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);   /* always close-on-exec */
#else
	(void)pid;
	return -1;
#endif
}

/* Sleep until pidfd (or other, when >= 0) turns readable, at most
 * `left` seconds; without a pidfd, a nap that grows up to 20 ms. */
static void wait_for(int pidfd, int other, double left, long *nap_us)
{
	int ms = left > 60.0 ? 60000 : (int)(left * 1000) + 1;
	struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = other, .events = POLLIN } };

	if (pidfd >= 0) {
		poll(p, other >= 0 ? 2 : 1, ms);
		return;
	}
	if (other >= 0 && poll(&p[1], 1, 0) > 0)
		return;
	struct timespec ts = { 0, *nap_us * 1000 };
	nanosleep(&ts, NULL);
	if (*nap_us < 20000)
		*nap_us *= 2;
}

/* Reap pid, waiting at most `grace` seconds; then its group is killed.
 * Returns the exit status, 128+N for signal N, -1 when it was killed. */
static int reap_within(pid_t pid, double grace)
{
	double deadline = util_monotonic() + grace;
	long nap_us = 1000;
	int ws, status, pidfd = open_pidfd(pid);

	for (;;) {
		pid_t r = waitpid(pid, &ws, WNOHANG);
		if (r == pid) {
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
			break;
		}
		if (r < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (util_monotonic() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
				;
			status = -1;
			break;
		}
		wait_for(pidfd, -1, deadline - util_monotonic(), &nap_us);
	}
	if (pidfd >= 0)
		close(pidfd);
	return status;
}

/* All of a memfd's text, NUL-terminated, malloc'd. */
static char *read_back(int fd)
{
	char *buf = xmalloc(STDERR_MAX + 1);
	ssize_t k;
	size_t n = 0;

	while (n < STDERR_MAX && (k = pread(fd, buf + n, STDERR_MAX - n, (off_t)n)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return buf;
}

/* AUTODEPLOY_STRICT_HOST_KEY=no: what accept-new took in goes into our
 * file, never the operator's; each key it holds is said, once per
 * destination and run, with the fingerprint to check. */
static void warn_accepted(const char *id, const struct sshconn_target *t, const char *text)
{
	char path[128], err[ERR_MAX], name[KH_NAME_MAX], type[KH_TYPE_MAX], fp[KH_FP_MAX];
	char *kh = NULL;
	size_t len = 0;
	const char *q = strstr(text, "Permanently added '");

	snprintf(path, sizeof path, "%s/%s.accepted", private_dir, id);
	if (util_read_file(&kh, &len, path, err) < 0)
		return;
	if (q) {
		q += strlen("Permanently added '");
		snprintf(name, sizeof name, "%.*s", (int)strcspn(q, "'"), q);
	} else {
		kh_host_name(name, sizeof name, t->host, t->port);
	}
	char host[KH_NAME_MAX];
	int port = t->port > 0 ? t->port : 22;
	snprintf(host, sizeof host, "%s", name);
	if (host[0] == '[' && strstr(host, "]:")) {
		port = atoi(strstr(host, "]:") + 2);
		*strstr(host, "]:") = '\0';
		memmove(host, host + 1, strlen(host));
	}
	for (const char *p = kh; p < kh + len;) {
		size_t n = strcspn(p, "\n");
		struct kh_entry e;
		if (kh_parse_line(&e, p, n) == 1) {
			kh_blob_type(type, sizeof type, e.blob, e.blob_len);
			kh_fingerprint(fp, sizeof fp, e.blob, e.blob_len);
			log_warn("AUTODEPLOY_STRICT_HOST_KEY=no: accepting the host key of '%s' (%s %s) "
			         "that '%s' does not vouch for (unknown); anyone who can spoof that host can feed "
			         "this server code: add the key (ssh-keyscan -p %d %s) and turn strict checking on",
			         name, type, fp, t->known_hosts, port, host);
			kh_entry_free(&e);
		}
		p += n + (p[n] == '\n');
	}
	free(kh);
}

/* 1 once the master's control socket is in place (ssh links it under
 * its final name when it listens, after authentication), else 0. */
static int socket_up(const char *id)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", private_dir, id);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* 1 when the session has written to its stdout (the connection is up even
 * without a socket: ssh could not make one and went on without it). */
static int session_spoke(const struct sshconn_session *s)
{
	int n = 0;
	return ioctl(s->out, FIONREAD, &n) == 0 && n > 0;
}

/* The starting session s of master m: wait until its socket serves (1),
 * ssh ended (0, its stderr says why) or the start ran out of time (-1).
 * inotify on our folder and a pidfd on ssh: no polling delay. */
static int wait_master(const struct master *m, const struct sshconn_session *s)
{
	double deadline = util_monotonic() + SSHCONN_START_TIMEOUT;
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), pidfd = open_pidfd(s->pid), ret;
	long nap_us = 1000;
	char buf[4096];

	if (in >= 0 && inotify_add_watch(in, private_dir, IN_CREATE | IN_MOVED_TO) < 0) {
		close(in);
		in = -1;
	}
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (socket_up(m->id) || session_spoke(s)) {
			ret = 1;
			break;
		}
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == s->pid) {
			ret = 0;
			break;
		}
		double left = deadline - util_monotonic();
		if (left <= 0) {
			ret = -1;
			break;
		}
		/* without inotify, the socket is looked for after each nap */
		wait_for(in >= 0 ? pidfd : -1, in, in >= 0 ? left : 0.02, &nap_us);
		while (in >= 0 && read(in, buf, sizeof buf) > 0)
			;
	}
	if (in >= 0)
		close(in);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

/* The first session to a destination is its master too: one ssh, one
 * handshake, no `ssh -f` to wait for before the first fetch.  Wait until
 * it serves its socket (the other sessions then ride on it) or failed:
 * then say why as autodeploy-ssh(7) does (-v: the server's key
 * fingerprint, for a refused host key) and end the session. */
static int master_up(struct master *m, struct sshconn_session *s, const struct sshconn_target *t,
                     char *err)
{
	struct sshmsg_ctx ctx = { .host = t->host, .key = t->key, .known_hosts = t->known_hosts };
	int up = wait_master(m, s);
	char *text;

	if (up == 1) {
		if (!t->strict) {
			text = read_back(s->errfd);
			warn_accepted(m->id, t, text);
			free(text);
		}
		return 0;
	}
	if (up < 0) {
		sshconn_close(s, NULL);
		return err_set(err, "cannot reach '%s' through ssh: no connection within %d s", t->host,
		               SSHCONN_START_TIMEOUT);
	}
	reap_within(s->pid, CLOSE_GRACE);
	s->pid = -1;
	text = read_back(s->errfd);
	sshmsg_explain(err, text, &ctx);
	free(text);
	sshconn_close(s, NULL);
	return -1;
}

/* The master of t.  The first thread that needs it gets *starter (its
 * session will be the master) while the others wait for the outcome: one
 * handshake per destination, even when checkouts are checked in
 * parallel.  id gets the destination's socket name. */
static int get_master(char id[17], struct master **starter, const struct sshconn_target *t, char *err)
{
	struct master *m;
	int ret = 0;

	*starter = NULL;
	target_id(id, t);
	pthread_mutex_lock(&mu);
	if (ensure_dir(err) < 0) {
		pthread_mutex_unlock(&mu);
		return -1;
	}
	for (m = masters; m && strcmp(m->id, id) != 0; m = m->next)
		;
	if (!m) {
		m = xcalloc(1, sizeof *m);
		memcpy(m->id, id, sizeof m->id);
		m->state = M_STARTING;
		m->next = masters;
		masters = m;
		*starter = m;
		pthread_mutex_unlock(&mu);
		return 0;
	}
	while (m->state == M_STARTING)
		pthread_cond_wait(&changed, &mu);
	if (m->state == M_FAILED)
		ret = err_set(err, "%s", m->err);
	pthread_mutex_unlock(&mu);
	return ret;
}

/* The outcome of the start of m, to the threads that wait for it. */
static void master_settle(struct master *m, int ok, const char *err)
{
	pthread_mutex_lock(&mu);
	m->state = ok ? M_UP : M_FAILED;
	if (!ok)
		snprintf(m->err, sizeof m->err, "%s", err);
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&mu);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* `ssh [options] -T destination command` on fresh pipes into s. */
static int session_start(struct sshconn_session *s, const struct sshconn_target *t, const char *id,
                         int master, const char *command, char *err)
{
	struct argv a = { 0 };
	int sv[2] = { -1, -1 }, pv[2] = { -1, -1 }, ret = -1;

	if (common_argv(&a, t, id, err) < 0)
		goto out;
	if (master) {
		/* ControlPersist: once authenticated, ssh forks the master off
		 * and runs this session through it as any other */
		av_opt(&a, "ControlMaster=%s", "yes");
		av_opt(&a, "ControlPersist=%s", CONTROL_PERSIST);
		av_add(&a, xstrdup("-v"));
	} else {
		/* should the master be gone (ControlPersist ran out), ssh
		 * connects on its own with the same options: slower, never
		 * less checked */
		av_opt(&a, "ControlMaster=%s", "no");
	}
	av_add(&a, xstrdup("-T"));
	add_destination(&a, t);
	av_add(&a, xstrdup(command));
	/* stdin a socket: send(MSG_NOSIGNAL) to an ssh that died is an
	 * error to report, not a SIGPIPE that ends the run */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(pv, O_CLOEXEC) < 0 ||
	    (s->errfd = memfd_create("ssh-stderr", MFD_CLOEXEC)) < 0) {
		err_set(err, "cannot start ssh: %s", strerror(errno));
		goto out;
	}
	if (spawn(&s->pid, a.v, sv[1], pv[1], s->errfd, err) < 0)
		goto out;
	s->in = sv[0];
	s->out = pv[0];
	sv[0] = pv[0] = -1;
	ret = 0;
out:
	av_free(&a);
	close_fd(&sv[0]);
	close_fd(&sv[1]);
	close_fd(&pv[0]);
	close_fd(&pv[1]);
	if (ret < 0)
		close_fd(&s->errfd);
	return ret;
}

int sshconn_open(struct sshconn_session *s, const struct sshconn_target *t, const char *command,
                 char *err)
{
	struct master *starter;
	char id[17];
	int ret;

	s->pid = -1;
	s->in = s->out = s->errfd = -1;
	if (get_master(id, &starter, t, err) < 0)
		return -1;
	ret = session_start(s, t, id, starter != NULL, command, err);
	if (starter) {
		if (ret == 0 && (ret = master_up(starter, s, t, err)) < 0)
			s->pid = -1;
		master_settle(starter, ret == 0, err);
	}
	return ret;
}

void sshconn_stderr(const struct sshconn_session *s, char *why)
{
	/* ssh may still be writing what the remote said: let it finish */
	double deadline = util_monotonic() + 2.0;
	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == s->pid ||
		    util_monotonic() >= deadline)
			break;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	char *text = read_back(s->errfd);
	sshmsg_plain(why, ERR_MAX, text);
	free(text);
}

int sshconn_close(struct sshconn_session *s, char *why)
{
	int status = -1;

	if (why)
		why[0] = '\0';
	/* stdout first: an ssh blocked on a full pipe must not hold us */
	close_fd(&s->out);
	close_fd(&s->in);
	if (s->pid > 0)
		status = reap_within(s->pid, CLOSE_GRACE);
	if (why && s->errfd >= 0) {
		char *text = read_back(s->errfd);
		sshmsg_plain(why, ERR_MAX, text);
		free(text);
	}
	close_fd(&s->errfd);
	s->pid = -1;
	return status;
}

/* Ask the master behind socket `path` to exit, as `ssh -O exit` does but
 * without starting an ssh: the control protocol's hello, then a terminate
 * request (OpenSSH's PROTOCOL.mux), and its answer read back. */
static void mux_terminate(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	unsigned char hello[12] = { 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 4 };       /* MUX_MSG_HELLO, 4 */
	unsigned char term[12] = { 0, 0, 0, 8, 0x10, 0, 0, 5, 0, 0, 0, 1 };      /* MUX_C_TERMINATE, id 1 */
	unsigned char buf[256];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	if (strlen(path) >= sizeof sa.sun_path) {
		close(fd);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    send(fd, hello, sizeof hello, MSG_NOSIGNAL) == (ssize_t)sizeof hello &&
	    recv(fd, buf, sizeof buf, 0) > 0 && send(fd, term, sizeof term, MSG_NOSIGNAL) == (ssize_t)sizeof term) {
		/* its answer (MUX_S_OK: length, type, our id) says it agreed,
		 * as `ssh -O exit` waits for it; its exit follows */
		size_t got = 0;
		ssize_t k;
		while (got < 12 && (k = recv(fd, buf, sizeof buf, 0)) > 0)
			got += (size_t)k;
	}
	close(fd);
}

void sshconn_shutdown(void)
{
	char err[ERR_MAX], path[128];

	pthread_mutex_lock(&mu);
	while (masters) {
		struct master *m = masters;
		masters = m->next;
		snprintf(path, sizeof path, "%s/%s", private_dir, m->id);
		if (m->state == M_UP)
			mux_terminate(path);
		free(m);
	}
	if (private_dir[0] && util_remove_tree(private_dir, err) < 0)
		log_warn("%s", err);
	private_dir[0] = '\0';
	pthread_mutex_unlock(&mu);
}
