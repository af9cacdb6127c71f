/*
 * age: file encryption in the age v1 format (C2SP age.md), X25519 recipients.
 *
 * Written on OpenSSL 3 so that stock `age -d -i identity` opens what drctl
 * writes, and drctl opens what `age -r` wrote.  The backup job holds only
 * recipients (public keys); identities are needed only to restore.
 * The format is the age v1 specification (https://age-encryption.org/v1),
 * cited in detail in age.c.
 */
#ifndef DRCTL_AGE_H
#define DRCTL_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"
#include "lib/stream/stream.h"

struct age_recipient {
	uint8_t pub[32];
};

struct age_identity {
	uint8_t secret[32];
	uint8_t pub[32];
};

/* Why a read failed, for callers and for the official test vectors. */
enum age_failure {
	AGE_OK = 0,
	AGE_NO_MATCH,        /* no identity opens any stanza (EXIT_NOT_FOUND: a key error) */
	AGE_HEADER_FAILURE,  /* malformed header */
	AGE_HMAC_FAILURE,    /* header MAC wrong */
	AGE_PAYLOAD_FAILURE, /* chunk fails to open, truncated, trailing data */
	AGE_IO_FAILURE,      /* the upstream source failed */
};

/* Generate a new X25519 identity. */
int age_keygen(struct age_identity *id, struct drctl_error *err);

/* "age1..." (Bech32, lower case). */
int age_recipient_parse(const char *text, struct age_recipient *out, struct drctl_error *err);
void age_recipient_format(const struct age_recipient *r, char out[128]);

/* "AGE-SECRET-KEY-1..." (Bech32, upper case). */
int age_identity_parse(const char *text, struct age_identity *out, struct drctl_error *err);
void age_identity_format(const struct age_identity *id, char out[128]);
void age_identity_to_recipient(const struct age_identity *id, struct age_recipient *out);

/* Parse an identity file as age-keygen writes it: `#` comments, blank lines,
 * one AGE-SECRET-KEY-1 per line.  Returns a malloc'd array; wipe with
 * age_identities_free. */
int age_identities_parse(const char *text, size_t len, struct age_identity **ids,
			 size_t *n, struct drctl_error *err);
void age_identities_free(struct age_identity *ids, size_t n);

/* Encrypt to every recipient: a sink that writes the age file into `next`.
 * On failure `next` is aborted. */
struct sink *age_writer_new(struct sink *next, const struct age_recipient *recipients,
			    size_t n, struct drctl_error *err);

/* Decrypt: a source of plaintext read from an age file in `upstream`, opened
 * with any of the identities, or with `passphrase` (scrypt stanza) if not NULL.
 * The header is read and checked here, so a wrong key fails at once.  The
 * reader owns `upstream` (closed by source_close, also on failure).  A
 * failure's kind is left in *failure if not NULL. */
struct source *age_reader_new(struct source *upstream, const struct age_identity *ids,
			      size_t n, const char *passphrase, enum age_failure *failure,
			      struct drctl_error *err);
/* The kind of failure a reader met while streaming (AGE_PAYLOAD_FAILURE for a
 * damaged chunk, AGE_IO_FAILURE when upstream failed), AGE_OK if none.  The
 * `failure` pointer given to age_reader_new is only written during that call. */
enum age_failure age_reader_failure(const struct source *reader);

/* "no match", "header failure", "HMAC failure", "payload failure": the words
 * the age test vectors use. */
const char *age_failure_name(enum age_failure f);

#endif
