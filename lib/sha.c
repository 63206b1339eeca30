#include <string.h>

#include "sha.h"

/* FIPS 180-4.  Both hashes share the padding: 0x80, zeros, then the
 * message length in bits as a big-endian 64-bit number, ending a block. */

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d; d = c; c = rol(b, 30); b = a; a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], s[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(p + 4 * i);
	for (; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(s, h, sizeof s);
	for (i = 0; i < 64; i++) {
		uint32_t e = s[4], a = s[0];
		t1 = s[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & s[5]) ^ (~e & s[6])) + K256[i] + w[i];
		t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & s[1]) ^ (a & s[2]) ^ (s[1] & s[2]));
		memmove(s + 1, s, 7 * sizeof *s);
		s[4] += t1;
		s[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += s[i];
}

/* The buffering common to both: feed whole blocks to `block`. */
#define UPDATE(c, data, len, block) do {                                 \
	const unsigned char *p_ = (data);                                \
	size_t n_ = (len);                                               \
	(c)->bytes += n_;                                                \
	while (n_ > 0) {                                                 \
		size_t take_ = SHA_BLOCK - (c)->used;                    \
		if (take_ > n_)                                          \
			take_ = n_;                                      \
		memcpy((c)->buf + (c)->used, p_, take_);                 \
		(c)->used += take_;                                      \
		p_ += take_;                                             \
		n_ -= take_;                                             \
		if ((c)->used == SHA_BLOCK) {                            \
			block((c)->h, (c)->buf);                         \
			(c)->used = 0;                                   \
		}                                                        \
	}                                                                \
} while (0)

#define FINAL(c, block) do {                                             \
	uint64_t bits_ = (c)->bytes * 8;                                 \
	(c)->buf[(c)->used++] = 0x80;                                    \
	if ((c)->used > SHA_BLOCK - 8) {                                 \
		memset((c)->buf + (c)->used, 0, SHA_BLOCK - (c)->used);  \
		block((c)->h, (c)->buf);                                 \
		(c)->used = 0;                                           \
	}                                                                \
	memset((c)->buf + (c)->used, 0, SHA_BLOCK - 8 - (c)->used);      \
	store_be32((c)->buf + SHA_BLOCK - 8, (uint32_t)(bits_ >> 32));   \
	store_be32((c)->buf + SHA_BLOCK - 4, (uint32_t)bits_);           \
	block((c)->h, (c)->buf);                                         \
} while (0)

void sha1_init(struct sha1_ctx *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->used = 0;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
	UPDATE(c, data, len, sha1_block);
}

void sha1_final(unsigned char md[SHA1_LEN], struct sha1_ctx *c)
{
	FINAL(c, sha1_block);
	for (int i = 0; i < 5; i++)
		store_be32(md + 4 * i, c->h[i]);
	memset(c, 0, sizeof *c);
}

void sha1(unsigned char md[SHA1_LEN], const void *data, size_t len)
{
	struct sha1_ctx c;
	sha1_init(&c);
	sha1_update(&c, data, len);
	sha1_final(md, &c);
}

void sha256_init(struct sha256_ctx *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
	c->used = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	UPDATE(c, data, len, sha256_block);
}

void sha256_final(unsigned char md[SHA256_LEN], struct sha256_ctx *c)
{
	FINAL(c, sha256_block);
	for (int i = 0; i < 8; i++)
		store_be32(md + 4 * i, c->h[i]);
	memset(c, 0, sizeof *c);
}

void sha256(unsigned char md[SHA256_LEN], const void *data, size_t len)
{
	struct sha256_ctx c;
	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(md, &c);
}

void hmac_sha1(unsigned char md[SHA1_LEN], const void *key, size_t keylen,
               const void *data, size_t len)
{
	unsigned char k[SHA_BLOCK] = { 0 }, pad[SHA_BLOCK], inner[SHA1_LEN];
	struct sha1_ctx c;

	/* A key longer than a block is replaced by its hash (RFC 2104 2.) */
	if (keylen > SHA_BLOCK)
		sha1(k, key, keylen);
	else if (keylen > 0)
		memcpy(k, key, keylen);

	for (int i = 0; i < SHA_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&c);
	sha1_update(&c, pad, sizeof pad);
	sha1_update(&c, data, len);
	sha1_final(inner, &c);

	for (int i = 0; i < SHA_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&c);
	sha1_update(&c, pad, sizeof pad);
	sha1_update(&c, inner, sizeof inner);
	sha1_final(md, &c);
	memset(k, 0, sizeof k);
	memset(pad, 0, sizeof pad);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long b64_encode(char *out, size_t outlen, const unsigned char *in, size_t len, int pad)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		size_t rest = len - i;
		uint32_t v = (uint32_t)in[i] << 16;
		if (rest > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (rest > 2)
			v |= in[i + 2];
		size_t nout = rest >= 3 ? 4 : rest + 1;
		size_t need = pad ? 4 : nout;
		if (o + need + 1 > outlen)
			return -1;
		for (size_t j = 0; j < 4; j++) {
			if (j < nout)
				out[o++] = B64[(v >> (18 - 6 * j)) & 63];
			else if (pad)
				out[o++] = '=';
		}
	}
	if (o + 1 > outlen)
		return -1;
	out[o] = '\0';
	return (long)o;
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

long b64_decode(unsigned char *out, size_t outlen, const char *in, size_t len)
{
	size_t o = 0, npad = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && in[len - 1] == '=' && npad < 2) {
		len--;
		npad++;
	}
	/* padding only completes a final group of 2 or 3 characters */
	if (npad && (len + npad) % 4 != 0)
		return -1;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}
