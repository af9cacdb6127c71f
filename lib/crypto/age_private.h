/*
 * age_private: what the files of the age module share: age.c (primitives),
 * age_header.c, age_writer.c, age_reader.c and age_keys.c.  Not part of the
 * public face (age.h).
 */
#ifndef DRCTL_AGE_PRIVATE_H
#define DRCTL_AGE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "lib/core/error.h"
#include "lib/crypto/age.h"

enum {
	AGE_CHUNK = 64 * 1024,               /* plaintext per chunk (age.md "Payload") */
	AGE_TAG = 16,                        /* Poly1305 tag */
	AGE_SEALED = AGE_CHUNK + AGE_TAG,    /* a full chunk on disk: 65552 bytes */
	AGE_FILE_KEY = 16,
	AGE_BODY = AGE_FILE_KEY + AGE_TAG,   /* a wrapped file key: 32 bytes */
	AGE_NONCE = 16,                      /* payload nonce after the header */
	AGE_COLUMNS = 64,                    /* stanza body line width */
	AGE_MAX_HEADER = 1024 * 1024,        /* refuse larger headers: nothing legit comes close */
	AGE_SCRYPT_MAX_LOG2N = 22,           /* as age itself: 2^22 * 1 KiB = 4 GiB of memory */
};

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_X25519_INFO "age-encryption.org/v1/X25519"
#define AGE_SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define AGE_HINT_DAMAGED "the encrypted object is damaged or was altered: use another backup set (`drctl list`)"

/* --- primitives (age.c) ----------------------------------------------------- */

/* X25519 public key of a 32-byte secret; 0 or -1. */
int age_x25519_public(const uint8_t secret[32], uint8_t pub[32]);
/* X25519(secret, peer); -1 on an all-zero result (a low-order peer point). */
int age_x25519_shared(const uint8_t secret[32], const uint8_t peer[32], uint8_t out[32]);
/* HKDF-SHA-256 (RFC 5869); an empty salt is simply left out. */
int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const char *info,
	     uint8_t *out, size_t out_len);
/* HMAC-SHA-256 of the header through "---", keyed from the file key. */
int age_header_mac(const uint8_t file_key[AGE_FILE_KEY], const char *hdr, size_t len, uint8_t mac[32]);
/* ChaCha20-Poly1305 seal (out: len + AGE_TAG) and open (out: len - AGE_TAG,
 * wiped on a bad tag); key NULL keeps the context's key, changing the nonce. */
int age_seal(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12], const uint8_t *in, size_t len,
	     uint8_t *out);
int age_open(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12], const uint8_t *in, size_t len,
	     uint8_t *out);
/* A one-shot seal (seal != 0) or open with a zero nonce, for stanza bodies. */
int age_wrap(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t *out, int seal);
/* A payload chunk's nonce: its counter and the last-chunk flag. */
void age_chunk_nonce(uint64_t counter, int last, uint8_t nonce[12]);

/* --- the header (age_header.c) ---------------------------------------------- */

/* Append the X25519 stanza wrapping file_key for r to out at *len. */
int age_x25519_stanza(const struct age_recipient *r, const uint8_t file_key[AGE_FILE_KEY], char *out,
		      size_t *len);

enum age_stanza_type { AGE_STANZA_X25519, AGE_STANZA_SCRYPT };

/* A stanza drctl can unwrap, checked for shape while parsing. */
struct age_stanza {
	enum age_stanza_type type;
	uint8_t arg[32];       /* X25519: the ephemeral share; scrypt: the 16-byte salt */
	int log2n;             /* scrypt work factor */
	uint8_t body[AGE_BODY];
};

struct age_header {
	struct age_stanza *known;
	size_t n_known, n_total, n_scrypt;
	size_t mac_offset;     /* bytes covered by the MAC: through "---" */
	uint8_t mac[32];
};

struct age_failure_report {
	enum age_failure kind;
	struct drctl_error *err;
};

/* Record the first failure: its kind and the error message; returns -1. */
int age_fail(struct age_failure_report *rep, enum age_failure kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse the header text (which ends with the MAC line) into h. */
int age_parse_header(const char *hdr, size_t len, struct age_header *h, struct age_failure_report *rep);
/* The file key from the first stanza an identity or the passphrase opens. */
int age_unwrap(const struct age_header *h, const struct age_identity *ids, size_t n, const char *passphrase,
	       uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep);

#endif
