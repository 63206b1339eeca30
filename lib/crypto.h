/*
 * crypto: the few primitives OpenSSH's known_hosts needs, from mbedTLS
 * (the crypto library Debian's libgit2 is built with, so it costs no new
 * dependency): HMAC-SHA1 for hashed host names (`|1|salt|hash`), SHA-256
 * for fingerprints as ssh prints them (`SHA256:` + base64), and base64.
 *
 *   unsigned char md[CRYPTO_SHA256_LEN];
 *   crypto_sha256(md, blob, len);
 *
 * None of these is for secrets at rest: they check identities, nothing more.
 */
#ifndef AUTODEPLOY_CRYPTO_H
#define AUTODEPLOY_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA1_LEN 20
#define CRYPTO_SHA256_LEN 32

void crypto_sha256(unsigned char md[CRYPTO_SHA256_LEN], const void *data, size_t len);

/* HMAC (RFC 2104) over SHA-1; any key length. */
void crypto_hmac_sha1(unsigned char md[CRYPTO_SHA1_LEN], const void *key, size_t keylen,
                      const void *data, size_t len);

/* Base64 (RFC 4648, standard alphabet).  crypto_b64_encode writes the
 * encoding of len bytes into out (outlen bytes, NUL-terminated), with '='
 * padding when pad is set (ssh's SHA256: fingerprints are written
 * without); returns the length written or -1 when out is too short.
 * crypto_b64_decode accepts padded or unpadded input and nothing else (no
 * whitespace: mbedTLS would skip it), and returns the number of bytes
 * written to out (at most outlen), or -1 on a character outside the
 * alphabet, a misplaced '=' or a short buffer. */
long crypto_b64_encode(char *out, size_t outlen, const unsigned char *in, size_t len, int pad);
long crypto_b64_decode(unsigned char *out, size_t outlen, const char *in, size_t len);

#endif
