/*
 * blake2b: the BLAKE2b hash (RFC 7693) with a chosen output length.
 *
 * OpenSSL 3.0 has BLAKE2b only as the fixed 64-byte EVP_blake2b512, and a
 * shorter BLAKE2b is not a truncated BLAKE2b-512 (the length is mixed into
 * the initial state).  minisign's secret-key checksum is BLAKE2b-256, so drctl
 * carries this small unkeyed implementation for it.
 */
#ifndef DRCTL_BLAKE2B_H
#define DRCTL_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2B_OUTBYTES_MAX 64
#define BLAKE2B_BLOCKBYTES 128

struct blake2b_ctx {
	uint64_t h[8];                    /* chained state */
	uint64_t t[2];                    /* bytes compressed so far, 128-bit */
	uint8_t buf[BLAKE2B_BLOCKBYTES];  /* the block not yet compressed */
	size_t buflen;
	size_t outlen;
};

/* Start an unkeyed hash with outlen 1..64 bytes.  Returns 0, or -1 for a bad outlen. */
int blake2b_init(struct blake2b_ctx *ctx, size_t outlen);
void blake2b_update(struct blake2b_ctx *ctx, const void *in, size_t len);
/* Write ctx->outlen bytes and wipe the state. */
void blake2b_final(struct blake2b_ctx *ctx, uint8_t *out);
/* One shot.  Returns 0, or -1 for a bad outlen. */
int blake2b(uint8_t *out, size_t outlen, const void *in, size_t len);

#endif
