/* crypto: thin wrappers over mbedTLS.  See crypto.h. */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "crypto.h"
#include "util.h"

void crypto_sha256(unsigned char md[CRYPTO_SHA256_LEN], const void *data, size_t len)
{
	/* mbedTLS 2 names the one-shot call _ret; 3 dropped the suffix */
#if MBEDTLS_VERSION_MAJOR >= 3
	mbedtls_sha256(data, len, md, 0);
#else
	mbedtls_sha256_ret(data, len, md, 0);
#endif
}

void crypto_hmac_sha1(unsigned char md[CRYPTO_SHA1_LEN], const void *key, size_t keylen,
                      const void *data, size_t len)
{
	const mbedtls_md_info_t *sha1 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
	/* Only an unusable build of mbedTLS fails here: never match then. */
	if (!sha1 || mbedtls_md_hmac(sha1, key, keylen, data, len, md) != 0)
		memset(md, 0, CRYPTO_SHA1_LEN);
}

long crypto_b64_encode(char *out, size_t outlen, const unsigned char *in, size_t len, int pad)
{
	size_t n = 0;
	if (mbedtls_base64_encode((unsigned char *)out, outlen, &n, in, len) != 0)
		return -1;
	while (!pad && n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	return (long)n;
}

static int b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/';
}

long crypto_b64_decode(unsigned char *out, size_t outlen, const char *in, size_t len)
{
	size_t body = 0, npad = 0, n = 0;
	while (body < len && b64_char(in[body]))
		body++;
	while (body + npad < len && npad < 2 && in[body + npad] == '=')
		npad++;
	/* only the alphabet, then at most two '=' completing the last group */
	if (body + npad != len || body % 4 == 1 || (npad && (body + npad) % 4 != 0))
		return -1;
	/* mbedTLS wants the padding: add what an unpadded input left out */
	size_t full = (body + 3) / 4 * 4;
	char *padded = xmalloc(full + 1);
	memcpy(padded, in, body);
	memset(padded + body, '=', full - body);
	int rc = mbedtls_base64_decode(out, outlen, &n, (const unsigned char *)padded, full);
	free(padded);
	return rc == 0 ? (long)n : -1;
}
