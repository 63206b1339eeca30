/* lib/crypto's SHA-256, HMAC-SHA1 and base64 against the published test
 * vectors (FIPS 180-2 appendices, RFC 2202, RFC 4648): the wrapping of
 * mbedTLS, and our stricter base64 decoding, are what is tested. */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "tap.h"

static const char *hex(const unsigned char *md, size_t n)
{
	static char buf[2 * 64 + 1];
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", md[i]);
	buf[2 * n] = '\0';
	return buf;
}

static const char *h256(const char *s)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	crypto_sha256(md, s, strlen(s));
	return hex(md, sizeof md);
}

static const char *hmac(const void *key, size_t keylen, const char *msg)
{
	unsigned char md[CRYPTO_SHA1_LEN];
	crypto_hmac_sha1(md, key, keylen, msg, strlen(msg));
	return hex(md, sizeof md);
}

static const char *enc(const char *s, int pad)
{
	static char out[64];
	if (crypto_b64_encode(out, sizeof out, (const unsigned char *)s, strlen(s), pad) < 0)
		return "(error)";
	return out;
}

static const char *dec(const char *s)
{
	static char out[64];
	long n = crypto_b64_decode((unsigned char *)out, sizeof out - 1, s, strlen(s));
	if (n < 0)
		return "(error)";
	out[n] = '\0';
	return out;
}

int main(void)
{
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static char million[1000001];
	unsigned char key[80];

	is_str(h256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of nothing");
	is_str(h256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	       "sha256 of abc");
	is_str(h256(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	       "sha256 of 56 bytes");

	memset(million, 'a', sizeof million - 1);
	is_str(h256(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	       "sha256 of a million a");

	memset(key, 0x0b, 20);
	is_str(hmac(key, 20, "Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00", "hmac-sha1 rfc 2202 case 1");
	is_str(hmac("Jefe", 4, "what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
	       "hmac-sha1 rfc 2202 case 2");
	memset(key, 0xaa, 80);
	is_str(hmac(key, 80, "Test Using Larger Than Block-Size Key - Hash Key First"),
	       "aa4ae5e15272d00e95705637ce8a3b55ed402112", "hmac-sha1 with a key longer than a block is hashed first");

	is_str(enc("", 1), "", "base64 of nothing");
	is_str(enc("f", 1), "Zg==", "base64 f");
	is_str(enc("fo", 1), "Zm8=", "base64 fo");
	is_str(enc("foo", 1), "Zm9v", "base64 foo");
	is_str(enc("foobar", 1), "Zm9vYmFy", "base64 foobar");
	is_str(enc("fooba", 0), "Zm9vYmE", "base64 without padding, as ssh prints fingerprints");
	is_str(dec("Zm9vYmE="), "fooba", "decode padded");
	is_str(dec("Zm9vYg"), "foob", "decode unpadded");
	is_str(dec("Zm9v"), "foo", "decode a whole group");
	is_str(dec("Zm9v!A=="), "(error)", "decode refuses a character outside the alphabet");
	is_str(dec("Zm9=v"), "(error)", "decode refuses padding in the middle");
	is_str(dec("Z"), "(error)", "decode refuses a lone sixth of a byte");
	is_str(dec("Zm9v\nYmFy"), "(error)", "decode refuses whitespace (mbedTLS alone would skip it)");
	is_str(dec("Zm9vY==="), "(error)", "decode refuses a third '='");
	is_str(dec("Zm8"), "fo", "decode unpadded, two bytes");
	{
		char small[5];
		ok(crypto_b64_encode(small, sizeof small, (const unsigned char *)"foob", 4, 1) == -1,
		   "encode into a short buffer fails instead of overflowing");
		unsigned char two[2];
		ok(crypto_b64_decode(two, sizeof two, "Zm9v", 4) == -1,
		   "decode into a short buffer fails instead of overflowing");
	}
	return done_testing();
}
