/*
 * age_writer: an age file written as a sink: the header (one X25519 stanza
 * per recipient, the MAC), the payload nonce, then the payload in 64 KiB
 * chunks sealed with ChaCha20-Poly1305 (age.md "Payload").  One plaintext
 * chunk is held back, because the last chunk's nonce carries a flag and only
 * the next write or the close tells which chunk is last.
 */
#include "lib/crypto/age.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/age_private.h"
#include "lib/crypto/base64.h"

struct age_writer {
	struct sink base;
	struct sink *next;
	EVP_CIPHER_CTX *ctx;   /* keyed with the payload key */
	uint64_t counter;      /* index of the next chunk */
	size_t held;           /* plaintext held back in `plain` */
	int failed;
	uint8_t plain[AGE_CHUNK];
	uint8_t sealed[AGE_SEALED];
};

/* Seal one chunk and pass it on. */
static int age_writer_seal(struct age_writer *w, const uint8_t *in, size_t len, int last,
			   struct drctl_error *err)
{
	uint8_t nonce[12];

	age_chunk_nonce(w->counter, last, nonce);
	if (age_seal(w->ctx, NULL, nonce, in, len, w->sealed) != 0) {
		w->failed = 1;
		return err_set(err, EXIT_FAILED, NULL, NULL, "age encryption failed: %s", err_openssl_reason());
	}
	w->counter++;
	if (sink_write(w->next, w->sealed, len + AGE_TAG, err) != 0) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

static int age_writer_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct age_writer *w = (struct age_writer *)s;
	const uint8_t *in = buf;

	if (w->failed)
		return err_set(err, EXIT_FAILED, NULL, NULL, "age encryption already failed");
	while (len > 0) {
		/* More data is coming, so a held full chunk is not the last. */
		if (w->held == AGE_CHUNK) {
			if (age_writer_seal(w, w->plain, AGE_CHUNK, 0, err) != 0)
				return -1;
			w->held = 0;
		}
		/* Whole chunks with data after them go straight from the
		 * caller's buffer. */
		if (w->held == 0 && len > AGE_CHUNK) {
			if (age_writer_seal(w, in, AGE_CHUNK, 0, err) != 0)
				return -1;
			in += AGE_CHUNK;
			len -= AGE_CHUNK;
			continue;
		}
		size_t take = AGE_CHUNK - w->held < len ? AGE_CHUNK - w->held : len;
		memcpy(w->plain + w->held, in, take);
		w->held += take;
		in += take;
		len -= take;
	}
	return 0;
}

static void age_writer_free(struct age_writer *w)
{
	EVP_CIPHER_CTX_free(w->ctx);
	secure_wipe(w->plain, sizeof(w->plain));
	free(w);
}

static int age_writer_close(struct sink *s, struct drctl_error *err)
{
	struct age_writer *w = (struct age_writer *)s;
	struct sink *next = w->next;

	/* The held chunk is the last one: empty only if the whole payload is
	 * (the writer never seals a non-last chunk without data after it). */
	if (w->failed || age_writer_seal(w, w->plain, w->held, 1, err) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "age encryption failed");
		age_writer_free(w);
		sink_abort(next);
		return -1;
	}
	age_writer_free(w);
	return sink_close(next, err);
}

static void age_writer_abort(struct sink *s)
{
	struct age_writer *w = (struct age_writer *)s;
	struct sink *next = w->next;

	age_writer_free(w);
	sink_abort(next);
}

static const struct sink_ops age_writer_ops = { age_writer_write, age_writer_close, age_writer_abort };

struct sink *age_writer_new(struct sink *next, const struct age_recipient *recipients, size_t n,
			    struct drctl_error *err)
{
	static const size_t stanza_max = 10 + 43 + 1 + 43 + 1;
	struct age_writer *w = NULL;
	uint8_t file_key[AGE_FILE_KEY], payload_key[32], mac[32];
	char *hdr = NULL;
	size_t len = 0;

	if (n == 0) {
		err_set(err, EXIT_USAGE, "[encryption] recipients", NULL, "age encryption needs at least one recipient");
		goto fail;
	}
	w = calloc(1, sizeof(*w));
	hdr = malloc(sizeof(AGE_VERSION_LINE) + n * stanza_max + 4 + 43 + 1 + AGE_NONCE);
	if (!w || !hdr || !(w->ctx = EVP_CIPHER_CTX_new())) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto fail;
	}
	if (RAND_bytes(file_key, sizeof(file_key)) != 1) {
		err_set(err, EXIT_FAILED, NULL, NULL, "no random bytes for the age file key: %s", err_openssl_reason());
		goto fail;
	}
	memcpy(hdr, AGE_VERSION_LINE, sizeof(AGE_VERSION_LINE) - 1);
	len = sizeof(AGE_VERSION_LINE) - 1;
	hdr[len++] = '\n';
	for (size_t i = 0; i < n; i++) {
		if (age_x25519_stanza(&recipients[i], file_key, hdr, &len) != 0) {
			char text[128];
			age_recipient_format(&recipients[i], text);
			err_set(err, EXIT_USAGE, text, "check [encryption] recipients: each must be an `age1...` public key from age-keygen",
				"cannot encrypt to age recipient %s (not a valid X25519 public key)", text);
			goto fail;
		}
	}
	memcpy(hdr + len, "---", 3);
	len += 3;
	if (age_header_mac(file_key, hdr, len, mac) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "age encryption failed: %s", err_openssl_reason());
		goto fail;
	}
	hdr[len++] = ' ';
	len += base64_encode(mac, sizeof(mac), hdr + len, 0);
	hdr[len++] = '\n';
	/* The payload nonce follows the header directly. */
	if (RAND_bytes((uint8_t *)hdr + len, AGE_NONCE) != 1 ||
	    age_hkdf(file_key, AGE_FILE_KEY, (uint8_t *)hdr + len, AGE_NONCE, "payload", payload_key, 32) != 0 ||
	    EVP_EncryptInit_ex(w->ctx, EVP_chacha20_poly1305(), NULL, payload_key, NULL) != 1) {
		err_set(err, EXIT_FAILED, NULL, NULL, "age encryption failed: %s", err_openssl_reason());
		goto fail;
	}
	len += AGE_NONCE;
	if (sink_write(next, hdr, len, err) != 0)
		goto fail;
	w->base.ops = &age_writer_ops;
	w->next = next;
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(hdr);
	return &w->base;

fail:
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(hdr);
	if (w)
		age_writer_free(w);
	sink_abort(next);
	return NULL;
}
