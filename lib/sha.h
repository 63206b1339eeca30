/*
 * sha: SHA-1, SHA-256 and HMAC-SHA1, enough for OpenSSH's known_hosts
 * (hashed `|1|salt|hash` host names are HMAC-SHA1 of the name keyed with
 * the salt) and for host-key fingerprints as ssh prints them
 * (`SHA256:` + base64 of the SHA-256 of the key blob).  Written here so
 * the suite needs no crypto library beside libgit2's own.
 *
 *   unsigned char md[SHA256_LEN];
 *   sha256(md, data, len);
 *
 * Streaming use: sha1_init / sha1_update (any number of times) / sha1_final.
 * None of these is for secrets at rest: they check identities, nothing more.
 */
#ifndef AUTODEPLOY_SHA_H
#define AUTODEPLOY_SHA_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN 20
#define SHA256_LEN 32
#define SHA_BLOCK 64

struct sha1_ctx {
	uint32_t h[5];
	uint64_t bytes;
	unsigned char buf[SHA_BLOCK];
	size_t used;
};

struct sha256_ctx {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char buf[SHA_BLOCK];
	size_t used;
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(unsigned char md[SHA1_LEN], struct sha1_ctx *c);
void sha1(unsigned char md[SHA1_LEN], const void *data, size_t len);

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(unsigned char md[SHA256_LEN], struct sha256_ctx *c);
void sha256(unsigned char md[SHA256_LEN], const void *data, size_t len);

/* HMAC (RFC 2104) over SHA-1; any key length. */
void hmac_sha1(unsigned char md[SHA1_LEN], const void *key, size_t keylen,
               const void *data, size_t len);

/* Base64 (RFC 4648, standard alphabet).  b64_encode writes the encoding of
 * len bytes into out (outlen bytes, NUL-terminated), with '=' padding when
 * pad is set (ssh's SHA256: fingerprints are written without); returns
 * the length written or -1 when out is too short.  b64_decode accepts
 * padded or unpadded input, no whitespace, and returns the number of
 * bytes written to out (at most outlen), or -1 on a character outside the
 * alphabet, a misplaced '=' or a short buffer. */
long b64_encode(char *out, size_t outlen, const unsigned char *in, size_t len, int pad);
long b64_decode(unsigned char *out, size_t outlen, const char *in, size_t len);

#endif
