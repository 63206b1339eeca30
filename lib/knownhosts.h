/*
 * knownhosts: OpenSSH's known_hosts format, read by autodeploy itself.
 * OpenSSH checks the host keys of ssh remotes (sshconn.h); this reader
 * names what it refused or accepted: the line of a @revoked entry, the
 * type and fingerprint of a key accept-new took in (sshmsg.h, sshconn.c).
 *
 *   char name[KH_NAME_MAX];
 *   kh_host_name(name, sizeof name, "git.example.org", 2222);  "[git.example.org]:2222"
 *   struct kh_result r;
 *   kh_check(&r, text, len, name, blob, bloblen);             r.verdict, r.line
 *
 * What is understood (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): one entry
 * per line, `[@marker] hostpatterns keytype base64-key [comment]`; host
 * patterns separated by commas, with `*` and `?` wildcards and `!`
 * negation, compared without regard to case; `[host]:port` names for
 * ports other than 22 (and, as ssh(1) does, the entry for the host alone
 * when none names [host]:port: kh_check_host); hashed names
 * `|1|base64-salt|base64-hmac-sha1` with a 20-byte salt (others are
 * ignored, as ssh ignores them);
 * `@revoked` keys are refused whatever else the file says;
 * `@cert-authority` lines are ignored (autodeploy checks plain host keys,
 * not certificates).  Blank lines, `#` comments and malformed lines are
 * skipped, as ssh skips them.  Keys are compared as decoded blobs, so any
 * key type works (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa...).
 */
#ifndef AUTODEPLOY_KNOWNHOSTS_H
#define AUTODEPLOY_KNOWNHOSTS_H

#include <stddef.h>

#define KH_NAME_MAX 300   /* "[" host "]:" port */
#define KH_TYPE_MAX 64
#define KH_FP_MAX 64      /* "SHA256:" + 43 base64 characters */

enum kh_marker { KH_PLAIN, KH_REVOKED, KH_CERT_AUTHORITY };

struct kh_entry {
	enum kh_marker marker;
	const char *hosts;          /* the host pattern field, inside the line */
	size_t hosts_len;
	char type[KH_TYPE_MAX];     /* the key type field */
	unsigned char *blob;        /* the decoded key (malloc'd) */
	size_t blob_len;
};

/* Parse one line (without its newline; a trailing \r is ignored).
 * Returns 1 with *e filled (free it with kh_entry_free), 0 for a blank or
 * comment line, -1 for a line that is not a valid entry. */
int kh_parse_line(struct kh_entry *e, const char *line, size_t len);
void kh_entry_free(struct kh_entry *e);

/* The name ssh looks up for host:port: "host" for port 22 (or port <= 0),
 * "[host]:port" otherwise; lowercased. */
void kh_host_name(char *out, size_t len, const char *host, int port);

/* Does entry e apply to name (as made by kh_host_name)?  1 yes, 0 no
 * (also when a `!pattern` matches). */
int kh_host_matches(const struct kh_entry *e, const char *name);

enum kh_verdict {
	KH_UNKNOWN,      /* no entry for this host */
	KH_MATCH,        /* an entry for this host holds this key */
	KH_MISMATCH,     /* entries for this host hold other keys of the same type */
	KH_OTHER_TYPE,   /* entries for this host hold keys of other types only */
	KH_KEY_REVOKED   /* an @revoked entry holds this key */
};

struct kh_result {
	enum kh_verdict verdict;
	size_t line;     /* 1-based line of the entry behind the verdict; 0 for KH_UNKNOWN */
	size_t entries;  /* valid entries read */
	size_t skipped;  /* malformed lines skipped */
	int without_port; /* kh_check_host: the verdict is that of the entry for host alone */
};

/* Look key (a wire-format key blob, as a server sends it) up for name in
 * the known_hosts text. */
enum kh_verdict kh_check(struct kh_result *r, const char *text, size_t len,
                         const char *name, const unsigned char *key, size_t keylen);

/* As ssh(1) checks host:port: kh_check of "[host]:port"; when no entry
 * names it at all (KH_UNKNOWN) and the port is not 22, an entry for the
 * host without port vouches for the key if it holds it (a revocation
 * there refuses it); r->without_port then says so. */
enum kh_verdict kh_check_host(struct kh_result *r, const char *text, size_t len, const char *host,
                              int port, const unsigned char *key, size_t keylen);

/* The key type written at the start of a key blob ("ssh-ed25519").
 * Returns -1 (out = "unknown") when the blob is malformed. */
int kh_blob_type(char *out, size_t len, const unsigned char *blob, size_t bloblen);

/* ssh's fingerprint of a key blob: "SHA256:" + unpadded base64. */
void kh_fingerprint(char *out, size_t len, const unsigned char *blob, size_t bloblen);

/* printable name of a verdict, for tests and logs */
const char *kh_verdict_name(enum kh_verdict v);

#endif
