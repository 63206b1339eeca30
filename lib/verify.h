/*
 * verify: does a key the operator allows vouch for what is about to be
 * deployed (SPEC.md "Verified commits")?  The signature and the signed
 * payload are taken out of the object with libgit2; the verdict is the
 * reference verifier's (ssh-keygen -Y for SSH signatures, gpgv for
 * OpenPGP), run as git runs it, so that it agrees with `git verify-commit`
 * and `git verify-tag` given the same keys.
 *
 *   struct verify_keys k = { s->allowed_signers, s->gpg_keyring };
 *   struct verify_verdict v;
 *   rc = verify_range(&v, repo, &k, VERIFY_ALL, &deployed, &target, tag_or_NULL, err);
 *   rc == 0: every object is good; VERIFY_REFUSED: v says which one and
 *   why (verify_describe); -1: err (the verifier could not run at all)
 *
 * Safe to call from several threads at once (each call has its own
 * private temporary folder, removed before it returns).
 */
#ifndef AUTODEPLOY_VERIFY_H
#define AUTODEPLOY_VERIFY_H

#include <stddef.h>
#include <git2.h>

#define VERIFY_REFUSED 1

enum verify_level { VERIFY_NO, VERIFY_TIP, VERIFY_ALL };

enum verify_why {
	VERIFY_GOOD,
	VERIFY_UNSIGNED,
	VERIFY_UNKNOWN_KEY,
	VERIFY_EXPIRED,
	VERIFY_REVOKED,
	VERIFY_BAD_SIGNATURE,
	VERIFY_WRONG_NAMESPACE,
	VERIFY_UNSUPPORTED      /* a signature format neither verifier reads (x509) */
};

struct verify_keys {
	const char *allowed_signers;  /* OpenSSH allowed_signers; NULL: no SSH key is allowed */
	const char *gpg_keyring;      /* OpenPGP public keys (binary, as gpg --export
	                                 writes them); NULL: no OpenPGP key is allowed */
};

struct verify_verdict {
	enum verify_why why;
	int is_tag;                   /* id names an annotated (or lightweight) tag */
	git_oid id;                   /* the object refused */
	char signer[256];             /* principal, user id or key; "" when unsigned */
};

/* "no", "tip", "all" into *out; -1 for anything else. */
int verify_parse_level(enum verify_level *out, const char *text);
const char *verify_level_name(enum verify_level l);

/* "unsigned", "unknown key", "expired", ...: the reason, for people. */
const char *verify_why_name(enum verify_why w);

/*
 * Verify what moving from deployed to target brings.  VERIFY_TIP: the
 * target commit, or with tag (tag mode: the object the tag ref names) the
 * tag's own signature, as git verify-tag; a lightweight tag has none.
 * VERIFY_ALL: that, and every commit reachable from target and not from
 * deployed (merges included), oldest first.  deployed may be NULL (no
 * commit yet: the whole history).  Returns 0, VERIFY_REFUSED with *v,
 * or -1 with err.
 */
int verify_range(struct verify_verdict *v, git_repository *r, const struct verify_keys *k,
                 enum verify_level level, const git_oid *deployed, const git_oid *target,
                 const git_oid *tag, char *err);

/* "commit 0123456789ab signed by 'alice@example.com': expired" or
 * "tag 0123456789ab: unsigned", into buf. */
void verify_describe(char *buf, size_t size, const struct verify_verdict *v);

#endif
