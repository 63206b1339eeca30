/* The known_hosts reader: line parsing, host patterns (plain, [host]:port,
 * wildcards, negation, hashed |1|), and the verdict for a server's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"
#include "crypto.h"
#include "tap.h"

/* A wire-format key blob: string TYPE, then `fill` repeated n times. */
static size_t make_blob(unsigned char *out, const char *type, int fill, size_t n)
{
	size_t tl = strlen(type);
	out[0] = out[1] = out[2] = 0;
	out[3] = (unsigned char)tl;
	memcpy(out + 4, type, tl);
	out[4 + tl] = out[5 + tl] = out[6 + tl] = 0;
	out[7 + tl] = (unsigned char)n;
	memset(out + 8 + tl, fill, n);
	return 8 + tl + n;
}

static char *b64(const unsigned char *p, size_t n)
{
	static char buf[4][256];
	static int which;
	char *out = buf[which++ % 4];
	crypto_b64_encode(out, 256, p, n, 1);
	return out;
}

static int parse(struct kh_entry *e, const char *line)
{
	return kh_parse_line(e, line, strlen(line));
}

static const char *verdict(const char *text, const char *name, const unsigned char *key, size_t len,
                           size_t *line)
{
	struct kh_result r;
	kh_check(&r, text, strlen(text), name, key, len);
	if (line)
		*line = r.line;
	return kh_verdict_name(r.verdict);
}

int main(void)
{
	unsigned char ed[64], ed2[64], ec[128];
	size_t edn = make_blob(ed, "ssh-ed25519", 0x11, 32);
	size_t ed2n = make_blob(ed2, "ssh-ed25519", 0x22, 32);
	size_t ecn = make_blob(ec, "ecdsa-sha2-nistp256", 0x33, 65);
	char line[1024], text[4096], name[KH_NAME_MAX], type[KH_TYPE_MAX];
	struct kh_entry e;
	size_t at;

	/* names */
	kh_host_name(name, sizeof name, "Git.Example.ORG", 22);
	is_str(name, "git.example.org", "port 22 gives the bare host name, lowercased");
	kh_host_name(name, sizeof name, "127.0.0.1", 2222);
	is_str(name, "[127.0.0.1]:2222", "another port gives [host]:port");
	kh_host_name(name, sizeof name, "h", 0);
	is_str(name, "h", "an unknown port counts as 22");

	/* blob types */
	ok(kh_blob_type(type, sizeof type, ed, edn) == 0 && strcmp(type, "ssh-ed25519") == 0,
	   "the key type is read from the blob");
	ok(kh_blob_type(type, sizeof type, ed, 6) == -1 && strcmp(type, "unknown") == 0,
	   "a blob shorter than its type name is malformed");

	/* parsing */
	is_int(parse(&e, ""), 0, "a blank line is no entry");
	is_int(parse(&e, "   # comment"), 0, "a comment is no entry");
	snprintf(line, sizeof line, "host1,host2 ssh-ed25519 %s a comment\r", b64(ed, edn));
	is_int(parse(&e, line), 1, "a plain entry with a comment and a CR is read");
	ok(e.marker == KH_PLAIN && e.hosts_len == 11 && strncmp(e.hosts, "host1,host2", 11) == 0 &&
	   strcmp(e.type, "ssh-ed25519") == 0 && e.blob_len == edn && memcmp(e.blob, ed, edn) == 0,
	   "its fields are the hosts, the type and the decoded key");
	kh_entry_free(&e);
	snprintf(line, sizeof line, "@revoked * ssh-ed25519 %s", b64(ed, edn));
	ok(parse(&e, line) == 1 && e.marker == KH_REVOKED, "@revoked is a marker");
	kh_entry_free(&e);
	snprintf(line, sizeof line, "@cert-authority *.example.org ssh-ed25519 %s", b64(ed, edn));
	ok(parse(&e, line) == 1 && e.marker == KH_CERT_AUTHORITY, "@cert-authority is a marker");
	kh_entry_free(&e);
	snprintf(line, sizeof line, "@trusted * ssh-ed25519 %s", b64(ed, edn));
	is_int(parse(&e, line), -1, "an unknown marker makes the line malformed");
	is_int(parse(&e, "host ssh-ed25519"), -1, "a line without a key is malformed");
	is_int(parse(&e, "host ssh-ed25519 not*base64"), -1, "a key that is not base64 is malformed");
	snprintf(line, sizeof line, "host ssh-rsa %s", b64(ed, edn));
	is_int(parse(&e, line), -1, "a key whose blob names another type is malformed");

	/* host patterns */
	snprintf(line, sizeof line, "git.example.org,[10.0.0.*]:2222,!10.0.0.9 ssh-ed25519 %s", b64(ed, edn));
	parse(&e, line);
	ok(kh_host_matches(&e, "git.example.org"), "a listed name matches");
	ok(kh_host_matches(&e, "GIT.example.org") == 1, "names are compared without regard to case");
	ok(!kh_host_matches(&e, "example.org"), "an unlisted name does not");
	ok(kh_host_matches(&e, "[10.0.0.7]:2222"), "* matches in a [host]:port pattern");
	ok(!kh_host_matches(&e, "[10.0.0.7]:22222"), "the port must match exactly");
	kh_entry_free(&e);
	snprintf(line, sizeof line, "10.0.0.?,!10.0.0.9 ssh-ed25519 %s", b64(ed, edn));
	parse(&e, line);
	ok(kh_host_matches(&e, "10.0.0.8"), "? matches one character");
	ok(!kh_host_matches(&e, "10.0.0.9"), "a matching !pattern rules the line out");
	ok(!kh_host_matches(&e, "10.0.0.10"), "? matches exactly one character");
	kh_entry_free(&e);
	snprintf(line, sizeof line, "*a*a*a*a*a*a*a*a*a*a*a*b ssh-ed25519 %s", b64(ed, edn));
	parse(&e, line);
	ok(!kh_host_matches(&e, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	   "a pattern full of stars fails quickly instead of backtracking for ever");
	kh_entry_free(&e);

	/* hashed names: HMAC-SHA1 of the name keyed with the salt */
	{
		unsigned char salt[20], mac[CRYPTO_SHA1_LEN];
		char hashed[256];
		memset(salt, 0x5a, sizeof salt);
		crypto_hmac_sha1(mac, salt, sizeof salt, "[127.0.0.1]:2222", 16);
		snprintf(hashed, sizeof hashed, "|1|%s|%s", b64(salt, sizeof salt), b64(mac, sizeof mac));
		snprintf(line, sizeof line, "%s ssh-ed25519 %s", hashed, b64(ed, edn));
		parse(&e, line);
		ok(kh_host_matches(&e, "[127.0.0.1]:2222"), "a hashed entry matches its name");
		ok(!kh_host_matches(&e, "127.0.0.1"), "a hashed entry does not match the name without the port");
		kh_entry_free(&e);
		snprintf(text, sizeof text, "%s ssh-ed25519 %s\n", hashed, b64(ed, edn));
		is_str(verdict(text, "[127.0.0.1]:2222", ed, edn, NULL), "match", "a hashed entry vouches for the key");
	}

	/* verdicts */
	snprintf(text, sizeof text,
	         "# known hosts\n"
	         "other.example.org ssh-ed25519 %s\n"
	         "garbage line\n"
	         "git.example.org ssh-ed25519 %s\n"
	         "git.example.org ecdsa-sha2-nistp256 %s\n",
	         b64(ed2, ed2n), b64(ed, edn), b64(ec, ecn));
	is_str(verdict(text, "git.example.org", ed, edn, &at), "match", "the listed key matches");
	is_int((long long)at, 4, "on the line that holds it");
	is_str(verdict(text, "git.example.org", ec, ecn, NULL), "match", "so does a second key type of the same host");
	is_str(verdict(text, "git.example.org", ed2, ed2n, &at), "mismatch", "another key of a listed type is a mismatch");
	is_int((long long)at, 4, "naming the line that holds the expected key");
	is_str(verdict(text, "new.example.org", ed, edn, &at), "unknown", "an unlisted host is unknown");
	is_int((long long)at, 0, "with no line");
	{
		struct kh_result r;
		kh_check(&r, text, strlen(text), "x", ed, edn);
		ok(r.entries == 3 && r.skipped == 1, "three entries read, the malformed line skipped");
	}
	snprintf(text, sizeof text, "git.example.org ecdsa-sha2-nistp256 %s", b64(ec, ecn));
	is_str(verdict(text, "git.example.org", ed, edn, &at), "other-type",
	       "a host listed only with other key types is reported as such (no newline at the end either)");
	snprintf(text, sizeof text, "git.example.org ssh-ed25519 %s\n@revoked * ssh-ed25519 %s\n",
	         b64(ed, edn), b64(ed, edn));
	is_str(verdict(text, "git.example.org", ed, edn, &at), "revoked", "a revoked key is refused despite a matching line");
	is_int((long long)at, 2, "naming the @revoked line");
	is_str(verdict(text, "git.example.org", ed2, ed2n, NULL), "mismatch", "@revoked applies to its key only");
	snprintf(text, sizeof text, "@cert-authority * ssh-ed25519 %s\n", b64(ed, edn));
	is_str(verdict(text, "git.example.org", ed, edn, NULL), "unknown", "@cert-authority lines vouch for nothing");

	{
		char fp[KH_FP_MAX];
		kh_fingerprint(fp, sizeof fp, (const unsigned char *)"abc", 3);
		is_str(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
		       "the fingerprint is SHA256: and unpadded base64 of the blob's SHA-256");
	}
	return done_testing();
}
