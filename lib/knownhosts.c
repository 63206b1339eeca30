#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"
#include "crypto.h"
#include "util.h"

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Next whitespace-separated field of [*p, end): sets *f and *flen, moves *p. */
static int next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;
	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return 0;
	*f = s;
	while (s < end && !is_blank(*s))
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return 1;
}

static int field_is(const char *f, size_t flen, const char *word)
{
	return flen == strlen(word) && memcmp(f, word, flen) == 0;
}

int kh_blob_type(char *out, size_t len, const unsigned char *blob, size_t bloblen)
{
	size_t n;

	if (len > 0)
		snprintf(out, len, "unknown");
	if (bloblen < 4)
		return -1;
	n = (size_t)blob[0] << 24 | (size_t)blob[1] << 16 | (size_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > bloblen - 4 || n >= len)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isgraph(blob[4 + i]))
			return -1;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
	return 0;
}

int kh_parse_line(struct kh_entry *e, const char *line, size_t len)
{
	const char *p = line, *end = line + len, *f;
	size_t flen;
	char blobtype[KH_TYPE_MAX];
	long n;

	memset(e, 0, sizeof *e);
	while (end > p && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (!next_field(&p, end, &f, &flen) || *f == '#')
		return 0;
	e->marker = KH_PLAIN;
	if (*f == '@') {
		if (field_is(f, flen, "@revoked"))
			e->marker = KH_REVOKED;
		else if (field_is(f, flen, "@cert-authority"))
			e->marker = KH_CERT_AUTHORITY;
		else
			return -1;
		if (!next_field(&p, end, &f, &flen))
			return -1;
	}
	e->hosts = f;
	e->hosts_len = flen;

	if (!next_field(&p, end, &f, &flen) || flen >= sizeof e->type)
		return -1;
	memcpy(e->type, f, flen);
	e->type[flen] = '\0';

	if (!next_field(&p, end, &f, &flen))
		return -1;
	e->blob = xmalloc(flen / 4 * 3 + 3);
	n = crypto_b64_decode(e->blob, flen / 4 * 3 + 3, f, flen);
	/* The blob names its own type: a line whose two disagree is corrupt
	 * (or hand-edited wrongly) and could never match a server's key. */
	if (n < 0 || kh_blob_type(blobtype, sizeof blobtype, e->blob, (size_t)n) < 0 ||
	    strcmp(blobtype, e->type) != 0) {
		kh_entry_free(e);
		return -1;
	}
	e->blob_len = (size_t)n;
	/* whatever follows is a comment */
	return 1;
}

void kh_entry_free(struct kh_entry *e)
{
	free(e->blob);
	e->blob = NULL;
	e->blob_len = 0;
}

void kh_host_name(char *out, size_t len, const char *host, int port)
{
	if (port <= 0 || port == 22)
		snprintf(out, len, "%s", host);
	else
		snprintf(out, len, "[%s]:%d", host, port);
	for (char *s = out; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Glob with * and ?, case-insensitive.  Iterative, backtracking only to
 * the last star: linear in practice, never exponential on hostile input. */
static int glob_match(const char *pat, size_t plen, const char *s)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0, slen = strlen(s);

	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < plen && (pat[pi] == '?' ||
		           tolower((unsigned char)pat[pi]) == tolower((unsigned char)s[si]))) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

/* `|1|salt|hash`: HMAC-SHA1 of the name keyed with the salt. */
static int hashed_match(const char *f, size_t flen, const char *name)
{
	unsigned char salt[128], want[64], got[CRYPTO_SHA1_LEN];
	const char *sep;
	long nsalt, nhash;

	f += 3;
	flen -= 3;
	sep = memchr(f, '|', flen);
	if (!sep)
		return 0;
	nsalt = crypto_b64_decode(salt, sizeof salt, f, (size_t)(sep - f));
	nhash = crypto_b64_decode(want, sizeof want, sep + 1, flen - (size_t)(sep - f) - 1);
	/* OpenSSH takes a salt of exactly the HMAC's length and ignores
	 * the entry otherwise. */
	if (nsalt != CRYPTO_SHA1_LEN || nhash != CRYPTO_SHA1_LEN)
		return 0;
	crypto_hmac_sha1(got, salt, (size_t)nsalt, name, strlen(name));
	return memcmp(got, want, CRYPTO_SHA1_LEN) == 0;
}

int kh_host_matches(const struct kh_entry *e, const char *name)
{
	const char *p = e->hosts, *end = e->hosts + e->hosts_len;
	int hit = 0;

	if (e->hosts_len > 3 && memcmp(e->hosts, "|1|", 3) == 0)
		return hashed_match(e->hosts, e->hosts_len, name);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		int negate = p < stop && *p == '!';
		const char *pat = p + negate;
		if (glob_match(pat, (size_t)(stop - pat), name)) {
			/* a matching negated pattern rules the line out */
			if (negate)
				return 0;
			hit = 1;
		}
		p = comma ? comma + 1 : end;
	}
	return hit;
}

enum kh_verdict kh_check(struct kh_result *r, const char *text, size_t len,
                         const char *name, const unsigned char *key, size_t keylen)
{
	const char *p = text, *end = text + len;
	char keytype[KH_TYPE_MAX];
	size_t lineno = 0, match = 0, mismatch = 0, other = 0;

	memset(r, 0, sizeof *r);
	kh_blob_type(keytype, sizeof keytype, key, keylen);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		struct kh_entry e;
		int rc;

		lineno++;
		rc = kh_parse_line(&e, p, (size_t)(stop - p));
		p = nl ? nl + 1 : end;
		if (rc < 0) {
			r->skipped++;
			continue;
		}
		if (rc == 0)
			continue;
		r->entries++;
		if (e.marker != KH_CERT_AUTHORITY && kh_host_matches(&e, name)) {
			int same = e.blob_len == keylen && memcmp(e.blob, key, keylen) == 0;
			if (e.marker == KH_REVOKED) {
				if (same) {
					/* a revocation wins over everything: stop here */
					kh_entry_free(&e);
					r->verdict = KH_KEY_REVOKED;
					r->line = lineno;
					return r->verdict;
				}
			} else if (same) {
				if (!match)
					match = lineno;
			} else if (strcmp(e.type, keytype) == 0) {
				if (!mismatch)
					mismatch = lineno;
			} else if (!other) {
				other = lineno;
			}
		}
		kh_entry_free(&e);
	}
	/* keep reading after a match: a later @revoked line still wins */
	if (match) {
		r->verdict = KH_MATCH;
		r->line = match;
	} else if (mismatch) {
		r->verdict = KH_MISMATCH;
		r->line = mismatch;
	} else if (other) {
		r->verdict = KH_OTHER_TYPE;
		r->line = other;
	}
	return r->verdict;
}

enum kh_verdict kh_check_host(struct kh_result *r, const char *text, size_t len, const char *host,
                              int port, const unsigned char *key, size_t keylen)
{
	char name[KH_NAME_MAX];
	struct kh_result plain;

	kh_host_name(name, sizeof name, host, port);
	if (kh_check(r, text, len, name, key, keylen) != KH_UNKNOWN || port <= 0 || port == 22)
		return r->verdict;
	/* ssh(1), when no entry names [host]:port: "checking without port
	 * identifier", and only a match (or a revocation) counts. */
	kh_host_name(name, sizeof name, host, 22);
	if (kh_check(&plain, text, len, name, key, keylen) == KH_MATCH || plain.verdict == KH_KEY_REVOKED) {
		*r = plain;
		r->without_port = 1;
	}
	return r->verdict;
}

void kh_fingerprint(char *out, size_t len, const unsigned char *blob, size_t bloblen)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	char b64[48];

	crypto_sha256(md, blob, bloblen);
	crypto_b64_encode(b64, sizeof b64, md, sizeof md, 0);
	snprintf(out, len, "SHA256:%s", b64);
}

const char *kh_verdict_name(enum kh_verdict v)
{
	switch (v) {
	case KH_UNKNOWN: return "unknown";
	case KH_MATCH: return "match";
	case KH_MISMATCH: return "mismatch";
	case KH_OTHER_TYPE: return "other-type";
	case KH_KEY_REVOKED: return "revoked";
	}
	return "?";
}
