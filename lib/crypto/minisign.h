/*
 * minisign: Ed25519 signatures in the minisign formats, so `minisign -V`
 * checks drctl's backup sets with no drctl, and drctl checks what stock
 * minisign signed.  Formats: minisign's documentation
 * (https://jedisct1.github.io/minisign/) and source, cited in minisign.c.
 * Files signed here are small (the manifest, SHA256SUMS), so they are
 * handled in memory.
 */
#ifndef DRCTL_MINISIGN_H
#define DRCTL_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"

struct minisign_public_key {
	uint8_t keyid[8];
	uint8_t pub[32];
};

struct minisign_secret_key {
	uint8_t keyid[8];
	uint8_t seed[32];
	uint8_t pub[32];
};

/* Something that can produce an Ed25519 signature for a key id: a local
 * secret key, or (later) a Vault transit key. */
struct minisign_signer {
	uint8_t keyid[8];
	int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64], struct drctl_error *err);
	void *ctx;
};

int minisign_keygen(struct minisign_secret_key *sk, struct minisign_public_key *pk,
		    struct drctl_error *err);
void minisign_public_from_secret(const struct minisign_secret_key *sk, struct minisign_public_key *pk);
void minisign_secret_key_wipe(struct minisign_secret_key *sk);

/* Key files.  The secret key is written unencrypted (kdf bytes 0,0) with mode
 * 0600 and O_EXCL: an existing file is never overwritten. */
int minisign_write_secret_key(const char *path, const struct minisign_secret_key *sk,
			      struct drctl_error *err);
int minisign_write_public_key(const char *path, const struct minisign_public_key *pk,
			      struct drctl_error *err);
/* Loading refuses a secret key file readable by group or others, and an
 * encrypted (scrypt) secret key, with a hint. */
int minisign_load_secret_key(const char *path, struct minisign_secret_key *sk,
			     struct drctl_error *err);
int minisign_load_public_key(const char *path, struct minisign_public_key *pk,
			     struct drctl_error *err);
/* Text forms: a whole .pub file, or just its base64 line (minisign -P). */
int minisign_parse_public_key(const char *text, size_t len, struct minisign_public_key *pk,
			      struct drctl_error *err);
int minisign_parse_secret_key(const char *text, size_t len, struct minisign_secret_key *sk,
			      struct drctl_error *err);
/* The base64 line of a public key (what `minisign -P` takes). */
void minisign_public_key_base64(const struct minisign_public_key *pk, char out[64]);
void minisign_keyid_hex(const uint8_t keyid[8], char out[17]);

void minisign_signer_from_key(const struct minisign_secret_key *sk, struct minisign_signer *signer);

/* Sign `data` (prehashed `ED` signature) and return the four-line .minisig
 * text (malloc'd).  trusted_comment: by convention
 * "timestamp:<unix>\tfile:<name>\thashed". */
int minisign_sign(const struct minisign_signer *signer, const void *data, size_t len,
		  const char *untrusted_comment, const char *trusted_comment,
		  char **sig_text, struct drctl_error *err);

/* Verify a .minisig text over `data` with `pk` (both `ED` and legacy `Ed`).
 * Checks the key id, the signature and the global signature over the trusted
 * comment.  On success copies the trusted comment into the buffer if given.
 * `name` is used in error messages. */
int minisign_verify(const struct minisign_public_key *pk, const void *data, size_t len,
		    const char *sig_text, size_t sig_len, const char *name,
		    char *trusted_comment, size_t tc_cap, struct drctl_error *err);

#endif
