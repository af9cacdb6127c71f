/*
 * blake2b: unkeyed BLAKE2b with a variable output length, written from
 * RFC 7693 (sections 2 and 3, and the reference structure of appendix C).
 *
 * Why it exists: minisign's secret key checksum is BLAKE2b-256 (libsodium's
 * crypto_generichash with a 32-byte output), which OpenSSL 3.0 cannot
 * compute: its BLAKE2b digest is fixed at 64 bytes, and the output length is
 * part of the parameter block folded into h[0], so truncating BLAKE2b-512
 * gives a different value.  Hashing of whole files still goes through
 * OpenSSL's EVP_blake2b512; this is only for the small checksum, so it is
 * written for clarity, not speed.
 *
 * The one subtle rule: the last block must be compressed with the final
 * flag, so update() keeps a full block buffered until more input arrives.
 */
#include "lib/crypto/blake2b.h"

#include <string.h>

#include "lib/core/keyfile.h"

/* RFC 7693 section 2.6: the SHA-512 initial values. */
static const uint64_t blake2b_iv[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
	0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
	0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* RFC 7693 section 2.7: message word schedule; rounds 10 and 11 reuse rows 0 and 1. */
static const uint8_t blake2b_sigma[12][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

static uint64_t blake2b_rotr(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

static uint64_t blake2b_load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* RFC 7693 section 3.1: the mixing function G. */
static void blake2b_g(uint64_t v[16], int a, int b, int c, int d, uint64_t x, uint64_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = blake2b_rotr(v[d] ^ v[a], 32);
	v[c] = v[c] + v[d];
	v[b] = blake2b_rotr(v[b] ^ v[c], 24);
	v[a] = v[a] + v[b] + y;
	v[d] = blake2b_rotr(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = blake2b_rotr(v[b] ^ v[c], 63);
}

/* RFC 7693 section 3.2: the compression function F. */
static void blake2b_compress(struct blake2b_ctx *ctx, const uint8_t block[BLAKE2B_BLOCKBYTES],
			     int last)
{
	uint64_t v[16], m[16];

	for (int i = 0; i < 16; i++)
		m[i] = blake2b_load64(block + 8 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = ctx->h[i];
		v[i + 8] = blake2b_iv[i];
	}
	v[12] ^= ctx->t[0];
	v[13] ^= ctx->t[1];
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 12; r++) {
		const uint8_t *s = blake2b_sigma[r];

		blake2b_g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
		blake2b_g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
		blake2b_g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
		blake2b_g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
		blake2b_g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
		blake2b_g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
		blake2b_g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
		blake2b_g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (int i = 0; i < 8; i++)
		ctx->h[i] ^= v[i] ^ v[i + 8];
	/* The message words may be secret (minisign hashes the secret key). */
	secure_wipe(v, sizeof(v));
	secure_wipe(m, sizeof(m));
}

static void blake2b_count(struct blake2b_ctx *ctx, uint64_t n)
{
	ctx->t[0] += n;
	if (ctx->t[0] < n)
		ctx->t[1]++;
}

int blake2b_init(struct blake2b_ctx *ctx, size_t outlen)
{
	if (outlen == 0 || outlen > BLAKE2B_OUTBYTES_MAX)
		return -1;
	memset(ctx, 0, sizeof(*ctx));
	memcpy(ctx->h, blake2b_iv, sizeof(ctx->h));
	/* Parameter block word 0: digest length, key length 0, fanout 1, depth 1. */
	ctx->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen;
	ctx->outlen = outlen;
	return 0;
}

void blake2b_update(struct blake2b_ctx *ctx, const void *in, size_t len)
{
	const uint8_t *p = in;

	while (len > 0) {
		size_t n;

		/* A full buffer is compressed only now that more input follows,
		 * since the last block needs the final flag. */
		if (ctx->buflen == BLAKE2B_BLOCKBYTES) {
			blake2b_count(ctx, BLAKE2B_BLOCKBYTES);
			blake2b_compress(ctx, ctx->buf, 0);
			ctx->buflen = 0;
		}
		n = BLAKE2B_BLOCKBYTES - ctx->buflen;
		if (n > len)
			n = len;
		memcpy(ctx->buf + ctx->buflen, p, n);
		ctx->buflen += n;
		p += n;
		len -= n;
	}
}

void blake2b_final(struct blake2b_ctx *ctx, uint8_t *out)
{
	uint8_t full[BLAKE2B_OUTBYTES_MAX];

	blake2b_count(ctx, ctx->buflen);
	memset(ctx->buf + ctx->buflen, 0, BLAKE2B_BLOCKBYTES - ctx->buflen);
	blake2b_compress(ctx, ctx->buf, 1);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			full[8 * i + j] = (uint8_t)(ctx->h[i] >> (8 * j));
	memcpy(out, full, ctx->outlen);
	secure_wipe(full, sizeof(full));
	secure_wipe(ctx, sizeof(*ctx));
}

int blake2b(uint8_t *out, size_t outlen, const void *in, size_t len)
{
	struct blake2b_ctx ctx;

	if (blake2b_init(&ctx, outlen) != 0)
		return -1;
	blake2b_update(&ctx, in, len);
	blake2b_final(&ctx, out);
	return 0;
}
