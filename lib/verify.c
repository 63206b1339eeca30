/*
 * verify: signatures of commits and tags.  See verify.h.
 *
 * Why the reference verifiers and not an in-process check: the verdict
 * must be git's (SPEC.md: "verdicts agree with git verify-commit"), and
 * git's verdict is ssh-keygen's and gpg's.  allowed_signers has its own
 * grammar (principal patterns, cert-authority, namespaces=, valid-after=,
 * valid-before= judged at the commit time) and OpenPGP its own key
 * semantics (expiry, revocation, subkeys); a second implementation of
 * either would drift from the one git trusts, and a drift here ships
 * code nobody vouched for.  So: ssh-keygen -Y find-principals / verify
 * exactly as git's gpg-interface.c runs them, and gpgv (gpg's verifier
 * alone: no agent, no trust database, no keyserver code) on the keyring
 * given.  Each runs through an argument vector (proc_run: no shell),
 * with a time limit, a cleared environment, no descriptor of ours, no
 * network (a namespace of its own; neither needs one: gpgv has no
 * keyserver code, ssh-keygen -Y reads files) and files in a private 0700
 * folder.  The cost is a
 * fork and exec or two per object (bench/verify.sh measures it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "proc.h"
#include "repo.h"
#include "util.h"
#include "verify.h"

/* Seconds one verifier may take: milliseconds normally, but a hung one
 * must not hold the deploy lock until the next timer. */
#define VERIFY_TIMEOUT 30

static const char *const level_names[] = { "no", "tip", "all" };

static const char *const why_names[] = {
	[VERIFY_GOOD] = "good signature",
	[VERIFY_UNSIGNED] = "unsigned",
	[VERIFY_UNKNOWN_KEY] = "unknown key",
	[VERIFY_EXPIRED] = "expired",
	[VERIFY_REVOKED] = "revoked",
	[VERIFY_BAD_SIGNATURE] = "bad signature",
	[VERIFY_WRONG_NAMESPACE] = "wrong namespace",
	[VERIFY_UNSUPPORTED] = "unsupported signature format",
};

int verify_parse_level(enum verify_level *out, const char *text)
{
	for (size_t i = 0; i < sizeof level_names / sizeof *level_names; i++)
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum verify_level)i;
			return 0;
		}
	return -1;
}

const char *verify_level_name(enum verify_level l)
{
	return level_names[l];
}

const char *verify_why_name(enum verify_why w)
{
	return why_names[w];
}

void verify_describe(char *buf, size_t size, const struct verify_verdict *v)
{
	char hex[13];
	git_oid_tostr(hex, sizeof hex, &v->id);
	if (v->signer[0])
		snprintf(buf, size, "%s %s signed by '%s': %s", v->is_tag ? "tag" : "commit", hex,
		         v->signer, why_names[v->why]);
	else
		snprintf(buf, size, "%s %s: %s", v->is_tag ? "tag" : "commit", hex, why_names[v->why]);
}

/* The private folder of one verify_range call and the files in it; the
 * principals ssh-keygen found for the last SSH key seen (ssh_cached). */
struct work {
	char dir[PATH_MAX - 32];
	char sig[PATH_MAX], payload[PATH_MAX], out[PATH_MAX], errf[PATH_MAX];
	char *key, *principals;
	size_t key_len;
};

static int work_open(struct work *w, char *err)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 256)
		tmp = "/tmp";
	snprintf(w->dir, sizeof w->dir, "%s/autodeploy-verify-XXXXXX", tmp);
	/* mkdtemp makes it 0700: the payload and signature are nobody else's
	 * to read or to swap between our write and the verifier's read */
	if (!mkdtemp(w->dir))
		return err_set(err, "cannot make a temporary folder in '%s': %s", tmp, strerror(errno));
	snprintf(w->sig, sizeof w->sig, "%s/sig", w->dir);
	snprintf(w->payload, sizeof w->payload, "%s/payload", w->dir);
	snprintf(w->out, sizeof w->out, "%s/out", w->dir);
	snprintf(w->errf, sizeof w->errf, "%s/err", w->dir);
	return 0;
}

static void work_close(struct work *w)
{
	char err[ERR_MAX];
	free(w->key);
	free(w->principals);
	if (w->dir[0] && util_remove_tree(w->dir, err) < 0)
		fprintf(stderr, "%s\n", err);
}

static int write_file(const char *path, const char *data, size_t len, char *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || util_write_all(fd, data, len) < 0) {
		err_set(err, "cannot write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Run argv with the payload (with_payload) or nothing on stdin, its
 * stdout and stderr read back into *out and *errout (malloc'd).  Returns
 * 0 when it ran to an end (its exit code in *status), -1 with err.
 */
static int run(int *status, char **out, char **errout, const char *const *argv,
               const struct work *w, int with_payload, char *err)
{
	static const char *const env[] = { "LC_ALL=C", NULL };
	struct proc_opts o = { .timeout = VERIFY_TIMEOUT, .env = env, .clear_env = 1, .close_fds = 1,
	                       .no_network = 1 };
	int fo = -1, fe = -1, in = -1, ret = -1;

	*out = *errout = NULL;
	fo = open(w->out, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	fe = open(w->errf, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	in = with_payload ? open(w->payload, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fo < 0 || fe < 0 || (with_payload && in < 0)) {
		err_set(err, "cannot open files in '%s': %s", w->dir, strerror(errno));
		goto out;
	}
	o.null_stdin = !with_payload;
	o.stdin_fd = in;
	o.stdout_fd = fo;
	o.stderr_fd = fe;
	if (proc_run(status, argv, &o, err) < 0)
		goto out;
	if (*status == PROC_TIMEOUT) {
		err_set(err, "'%s' gave no verdict within %d s", argv[0], VERIFY_TIMEOUT);
		goto out;
	}
	if (util_read_file(out, NULL, w->out, err) < 0 || util_read_file(errout, NULL, w->errf, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		free(*out);
		free(*errout);
		*out = *errout = NULL;
	}
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	if (in >= 0)
		close(in);
	return ret;
}

/* What one signed object gives the verifier. */
struct signed_obj {
	char *sig, *payload;
	size_t sig_len, payload_len;
	time_t when;                  /* committer or tagger time */
};

static void signed_obj_free(struct signed_obj *s)
{
	free(s->sig);
	free(s->payload);
	memset(s, 0, sizeof *s);
}

/* The time of the "committer" or "tagger" header of a payload: what git
 * hands ssh-keygen as the verify time, so that valid-before/valid-after
 * are judged when the commit was made, not when it is deployed. */
static time_t header_time(const char *payload, size_t len, const char *header)
{
	size_t hl = strlen(header), pos = 0;
	while (pos < len && payload[pos] != '\n') {
		const char *line = payload + pos, *eol = memchr(line, '\n', len - pos);
		size_t ll = eol ? (size_t)(eol - line) : len - pos;
		if (ll > hl && memcmp(line, header, hl) == 0 && line[hl] == ' ') {
			char *copy = xmemdupz(line, ll), *gt = strrchr(copy, '>');
			time_t t = gt ? (time_t)strtoll(gt + 1, NULL, 10) : 0;
			free(copy);
			return t;
		}
		pos += ll + 1;
	}
	return 0;
}

/* Where a tag's signature starts: the last line that opens one, as git's
 * parse_signed_buffer finds it (size when there is none). */
static size_t signature_start(const char *buf, size_t size)
{
	static const char *const markers[] = { "-----BEGIN PGP SIGNATURE-----", "-----BEGIN PGP MESSAGE-----",
	                                       "-----BEGIN SSH SIGNATURE-----", "-----BEGIN SIGNED MESSAGE-----" };
	size_t len = 0, match = size;
	while (len < size) {
		const char *eol = memchr(buf + len, '\n', size - len);
		for (size_t i = 0; i < sizeof markers / sizeof *markers; i++)
			if (size - len >= strlen(markers[i]) && memcmp(buf + len, markers[i], strlen(markers[i])) == 0)
				match = len;
		len = eol ? (size_t)(eol - buf) + 1 : size;
	}
	return match;
}

/* The signature of a commit (libgit2 takes the gpgsig header out and
 * gives the rest as the payload, as git does).  0, 1 when unsigned, -1. */
static int extract_commit(struct signed_obj *s, git_repository *r, const git_oid *id, char *err)
{
	git_buf sig = { 0 }, data = { 0 };
	char hex[GIT_OID_HEXSZ + 1];
	int rc = git_commit_extract_signature(&sig, &data, r, (git_oid *)id, NULL);

	if (rc == GIT_ENOTFOUND)
		return 1;
	if (rc < 0)
		return repo_git_err(err, "cannot read the signature of commit %s", git_oid_tostr(hex, sizeof hex, id));
	s->sig = xmemdupz(sig.ptr, sig.size);
	s->sig_len = sig.size;
	s->payload = xmemdupz(data.ptr, data.size);
	s->payload_len = data.size;
	s->when = header_time(s->payload, s->payload_len, "committer");
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return 0;
}

/* The signature of an annotated tag: its raw content split at the
 * signature block (libgit2 has no extractor for tags).  0, 1 when
 * unsigned or not a tag object (a lightweight tag), -1. */
static int extract_tag(struct signed_obj *s, git_repository *r, const git_oid *id, char *err)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = 1;

	if (git_repository_odb(&odb, r) < 0 || git_odb_read(&obj, odb, id) < 0) {
		ret = repo_git_err(err, "cannot read tag %s", git_oid_tostr(hex, sizeof hex, id));
		goto out;
	}
	if (git_odb_object_type(obj) == GIT_OBJECT_TAG) {
		const char *buf = git_odb_object_data(obj);
		size_t size = git_odb_object_size(obj), at = signature_start(buf, size);
		if (at < size) {
			s->payload = xmemdupz(buf, at);
			s->payload_len = at;
			s->sig = xmemdupz(buf + at, size - at);
			s->sig_len = size - at;
			s->when = header_time(s->payload, s->payload_len, "tagger");
			ret = 0;
		}
	}
out:
	git_odb_object_free(obj);
	git_odb_free(odb);
	return ret;
}

/* "Good "git" signature with ED25519 key SHA256:..." -> "SHA256:...":
 * the key that signed, named for a key no principal matched. */
static void ssh_name_key(struct verify_verdict *v, const struct work *w, const char *when)
{
	static const char good[] = "Good \"git\" signature with ";
	const char *argv[] = { "ssh-keygen", "-Y", "check-novalidate", "-n", "git", "-s", w->sig, when, NULL };
	char *out = NULL, *errout = NULL, err[ERR_MAX];
	const char *key;
	int status;

	if (run(&status, &out, &errout, argv, w, 1, err) == 0 && status == 0 &&
	    strncmp(out, good, sizeof good - 1) == 0 && (key = strstr(out, "key ")) != NULL)
		snprintf(v->signer, sizeof v->signer, "%.*s", (int)strcspn(key + 4, "\n"), key + 4);
	else if (errout && strstr(errout, "namespace"))
		v->why = VERIFY_WRONG_NAMESPACE;
	free(out);
	free(errout);
}

/* Why ssh-keygen refused, from its words (LC_ALL=C). */
static enum verify_why ssh_reason(const char *errout)
{
	if (strstr(errout, "namespace"))
		return VERIFY_WRONG_NAMESPACE;
	if (strstr(errout, "expired") || strstr(errout, "not yet valid"))
		return VERIFY_EXPIRED;
	if (strstr(errout, "revoked"))
		return VERIFY_REVOKED;
	return VERIFY_BAD_SIGNATURE;
}

/* git's loop: `-Y verify` as each principal found, until one says Good. */
static int ssh_principals(struct verify_verdict *v, const struct verify_keys *k, const struct work *w,
                          const char *when, char *principals, char *err)
{
	char *line = principals, *next;
	v->why = VERIFY_UNKNOWN_KEY;
	for (; *line; line = next) {
		char *out = NULL, *errout = NULL;
		int status, good;
		size_t len = strcspn(line, "\n");
		next = line[len] ? line + len + 1 : line + len;
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		if (!line[0])
			continue;
		const char *argv[] = { "ssh-keygen", "-Y", "verify", "-n", "git", "-f", k->allowed_signers,
		                       "-I", line, "-s", w->sig, when, NULL };
		if (run(&status, &out, &errout, argv, w, 1, err) < 0)
			return -1;
		good = status == 0 && strncmp(out, "Good", 4) == 0;
		snprintf(v->signer, sizeof v->signer, "%s", line);
		v->why = good ? VERIFY_GOOD : ssh_reason(errout);
		free(out);
		free(errout);
		if (good)
			break;
	}
	return 0;
}

/* The public key an SSH signature names: the second field of its SSHSIG
 * blob (OpenSSH's PROTOCOL.sshsig: "SSHSIG", uint32 version, string
 * publickey, ...).  malloc'd, or NULL when the armor holds no such blob. */
static char *sshsig_key(size_t *key_len, const char *armor, size_t len)
{
	static const char end[] = "-----END SSH SIGNATURE-----";
	const char *p = armor + strlen("-----BEGIN SSH SIGNATURE-----");
	const char *stop = memmem(armor, len, end, sizeof end - 1);
	char *body = xmalloc(len + 1), *key = NULL;
	unsigned char *blob = xmalloc(len + 1);
	size_t n = 0;
	long m;

	for (; stop && p < stop; p++)
		if (*p != '\n' && *p != '\r')
			body[n++] = *p;
	m = stop ? crypto_b64_decode(blob, len + 1, body, n) : -1;
	if (m >= 14 && memcmp(blob, "SSHSIG", 6) == 0) {
		size_t kl = (size_t)blob[10] << 24 | (size_t)blob[11] << 16 | (size_t)blob[12] << 8 | blob[13];
		if (kl <= (size_t)m - 14) {
			key = xmemdupz(blob + 14, kl);
			*key_len = kl;
		}
	}
	free(body);
	free(blob);
	return key;
}

/*
 * `all` verifies many commits, mostly by the same few keys: the
 * principals find-principals gave for a key are tried first for the next
 * signature by it, which saves one ssh-keygen per commit.  Sound, since
 * `-Y verify -I PRINCIPAL` checks the key, the namespace and the validity
 * at the verify time itself: a principal from the cache can only make it
 * say Good where it is.  Anything but Good goes the whole way (a key
 * listed twice, for other times, may match another principal now).
 * Returns 1 with *ret when the cache decided, else 0 (and w->key is s's).
 */
static int ssh_cached(struct verify_verdict *v, const struct verify_keys *k, struct work *w,
                      const struct signed_obj *s, const char *when, int *ret, char *err)
{
	size_t len = 0;
	char *key = sshsig_key(&len, s->sig, s->sig_len), *copy;

	if (key && w->key && w->principals && len == w->key_len && memcmp(key, w->key, len) == 0) {
		free(key);
		copy = xstrdup(w->principals);
		*ret = ssh_principals(v, k, w, when, copy, err);
		free(copy);
		if (*ret < 0 || v->why == VERIFY_GOOD)
			return 1;
		memset(v->signer, 0, sizeof v->signer);
		return 0;
	}
	free(w->key);
	free(w->principals);
	w->key = key;
	w->key_len = len;
	w->principals = NULL;
	return 0;
}

static int ssh_verify(struct verify_verdict *v, const struct verify_keys *k, struct work *w,
                      const struct signed_obj *s, char *err)
{
	time_t when = s->when;
	char vt[64] = "", *out = NULL, *errout = NULL;
	int status, ret = -1;
	struct tm tm;

	if (!k->allowed_signers) {
		v->why = VERIFY_UNKNOWN_KEY;
		snprintf(v->signer, sizeof v->signer, "an SSH key (AUTODEPLOY_ALLOWED_SIGNERS is not set)");
		return 0;
	}
	/* as git: the signer's time in the local zone, for allowed_signers
	 * times carry no zone and ssh-keygen reads them as local */
	if (when && localtime_r(&when, &tm))
		strftime(vt, sizeof vt, "-Overify-time=%Y%m%d%H%M%S", &tm);
	if (ssh_cached(v, k, w, s, vt[0] ? vt : NULL, &ret, err))
		return ret;
	const char *find[] = { "ssh-keygen", "-Y", "find-principals", "-f", k->allowed_signers,
	                       "-s", w->sig, vt[0] ? vt : NULL, NULL };
	if (run(&status, &out, &errout, find, w, 0, err) < 0)
		goto out;
	if (status != 0 && strstr(errout, "usage:")) {
		err_set(err, "ssh-keygen cannot verify signatures (OpenSSH 8.2p1 or later is needed)");
		goto out;
	}
	if (status != 0 || !out[0]) {
		/* no allowed principal for this key at that time: name the key */
		v->why = strstr(errout, "expired") || strstr(errout, "not yet valid") ? VERIFY_EXPIRED : VERIFY_UNKNOWN_KEY;
		ssh_name_key(v, w, vt[0] ? vt : NULL);
		ret = 0;
		goto out;
	}
	free(w->principals);
	w->principals = xstrdup(out);
	ret = ssh_principals(v, k, w, vt[0] ? vt : NULL, out, err);
out:
	free(out);
	free(errout);
	return ret;
}

/* The verdict of gpgv's status lines, as git's parse_gpg_output reads
 * gpg's: exactly one of the exclusive statuses, and it must be GOODSIG;
 * more than one (several signatures) is refused altogether. */
static void gpg_verdict(struct verify_verdict *v, const char *status)
{
	static const struct { const char *word; enum verify_why why; } st[] = {
		{ "GOODSIG ", VERIFY_GOOD }, { "BADSIG ", VERIFY_BAD_SIGNATURE },
		{ "ERRSIG ", VERIFY_UNKNOWN_KEY }, { "EXPSIG ", VERIFY_EXPIRED },
		{ "EXPKEYSIG ", VERIFY_EXPIRED }, { "REVKEYSIG ", VERIFY_REVOKED },
	};
	int seen = 0;
	v->why = VERIFY_BAD_SIGNATURE;
	for (const char *line = status; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		if (strncmp(line, "[GNUPG:] ", 9) != 0)
			continue;
		for (size_t i = 0; i < sizeof st / sizeof *st; i++) {
			size_t wl = strlen(st[i].word);
			if (strncmp(line + 9, st[i].word, wl) != 0)
				continue;
			/* "KEYID USER ID": the user id; ERRSIG has a key id only */
			const char *rest = line + 9 + wl;
			size_t keylen = strcspn(rest, " \n");
			const char *uid = rest + keylen;
			if (st[i].why != VERIFY_UNKNOWN_KEY && *uid == ' ')
				snprintf(v->signer, sizeof v->signer, "%.*s", (int)strcspn(uid + 1, "\n"), uid + 1);
			else
				snprintf(v->signer, sizeof v->signer, "%.*s", (int)keylen, rest);
			v->why = seen++ ? VERIFY_BAD_SIGNATURE : st[i].why;
		}
	}
}

static int gpg_verify(struct verify_verdict *v, const struct verify_keys *k, const struct work *w, char *err)
{
	char *out = NULL, *errout = NULL;
	int status;

	if (!k->gpg_keyring) {
		v->why = VERIFY_UNKNOWN_KEY;
		snprintf(v->signer, sizeof v->signer, "an OpenPGP key (AUTODEPLOY_GPG_KEYRING is not set)");
		return 0;
	}
	/* --homedir: our empty folder, so that nobody's ~/.gnupg (its
	 * trustedkeys, its options) joins the keyring given */
	const char *argv[] = { "gpgv", "--homedir", w->dir, "--status-fd", "1", "--keyring", k->gpg_keyring,
	                       w->sig, w->payload, NULL };
	if (run(&status, &out, &errout, argv, w, 0, err) < 0)
		return -1;
	gpg_verdict(v, out);
	free(out);
	free(errout);
	return 0;
}

/* The verdict on one commit or tag object into *v. */
static int verify_one(struct verify_verdict *v, git_repository *r, const struct verify_keys *k,
                      struct work *w, const git_oid *id, int is_tag, char *err)
{
	struct signed_obj s = { 0 };
	int rc, ret = -1;

	memset(v, 0, sizeof *v);
	git_oid_cpy(&v->id, id);
	v->is_tag = is_tag;
	rc = is_tag ? extract_tag(&s, r, id, err) : extract_commit(&s, r, id, err);
	if (rc != 0) {
		v->why = VERIFY_UNSIGNED;
		return rc < 0 ? -1 : 0;
	}
	if (write_file(w->sig, s.sig, s.sig_len, err) < 0 || write_file(w->payload, s.payload, s.payload_len, err) < 0)
		goto out;
	if (strncmp(s.sig, "-----BEGIN SSH SIGNATURE-----", 29) == 0)
		ret = ssh_verify(v, k, w, &s, err);
	else if (strncmp(s.sig, "-----BEGIN PGP ", 15) == 0)
		ret = gpg_verify(v, k, w, err);
	else {
		v->why = VERIFY_UNSUPPORTED;
		ret = 0;
	}
out:
	signed_obj_free(&s);
	return ret;
}

/* Every commit of deployed..target, oldest first, until one is refused. */
static int verify_walk(struct verify_verdict *v, git_repository *r, const struct verify_keys *k,
                       struct work *w, const git_oid *deployed, const git_oid *target, char *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc, ret = -1;

	if (git_revwalk_new(&walk, r) < 0 || git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, target) < 0 || (deployed && git_revwalk_hide(walk, deployed) < 0)) {
		ret = repo_git_err(err, "cannot list the commits to verify");
		goto out;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (verify_one(v, r, k, w, &id, 0, err) < 0)
			goto out;
		if (v->why != VERIFY_GOOD) {
			ret = VERIFY_REFUSED;
			goto out;
		}
	}
	ret = rc == GIT_ITEROVER ? 0 : repo_git_err(err, "cannot list the commits to verify");
out:
	git_revwalk_free(walk);
	return ret;
}

int verify_range(struct verify_verdict *v, git_repository *r, const struct verify_keys *k,
                 enum verify_level level, const git_oid *deployed, const git_oid *target,
                 const git_oid *tag, char *err)
{
	struct work w = { 0 };
	int ret = -1;

	memset(v, 0, sizeof *v);
	if (level == VERIFY_NO)
		return 0;
	if (work_open(&w, err) < 0)
		return -1;
	if (verify_one(v, r, k, &w, tag ? tag : target, tag != NULL, err) < 0)
		goto out;
	if (v->why != VERIFY_GOOD) {
		ret = VERIFY_REFUSED;
		goto out;
	}
	ret = level == VERIFY_ALL ? verify_walk(v, r, k, &w, deployed, target, err) : 0;
out:
	work_close(&w);
	return ret;
}
