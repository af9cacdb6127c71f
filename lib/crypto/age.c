/*
 * age: the age v1 file format (C2SP age.md, https://c2sp.org/age) on OpenSSL 3.
 *
 * A file is a text header and a binary payload:
 *
 *   age-encryption.org/v1
 *   -> X25519 <share>            one stanza per recipient: the 16-byte file
 *   <body, base64, 64 columns>   key wrapped for that recipient
 *   --- <HMAC of the header>
 *   <16-byte nonce><64 KiB chunks sealed with ChaCha20-Poly1305>
 *
 * Why it is built this way:
 * - Streaming with flat memory.  The writer holds one plaintext chunk back,
 *   because the last chunk's nonce carries a flag (age.md "Payload") and
 *   only the next write or the close tells which chunk is last.  The reader
 *   reads one sealed chunk plus one byte ahead: a full chunk with more data
 *   behind it is not the last.  Each side keeps one EVP_CIPHER_CTX keyed
 *   once with the payload key and only changes the nonce per chunk, and
 *   whole chunks are sealed from, or opened into, the caller's buffer when
 *   it is large enough, so bulk data is not copied an extra time.
 * - The header is parsed completely (grammar, canonical base64, stanza
 *   shapes) before any key is tried, so a malformed file is a "header
 *   failure" whatever identity is used, as the CCTV age test vectors expect.
 *   Then stanzas are unwrapped (X25519, or scrypt with a passphrase), then
 *   the MAC is checked: the file key is known only after unwrapping.
 * - Failures keep age's categories (enum age_failure) so that callers can
 *   say "wrong identity" apart from "damaged file".  No key, passphrase or
 *   file key ever enters an error message; every secret buffer is wiped.
 *
 * The format: the age v1 specification, C2SP age.md (https://age-encryption.org/v1,
 * published at https://c2sp.org/age); its test vectors are the C2SP CCTV age
 * vectors (https://github.com/C2SP/CCTV/tree/main/age), which the unit tests
 * run from tests/data/age-testkit.
 *
 * The files: age.c (this one: the primitives every part uses), age_header.c
 * (stanzas written, the header parsed, the file key unwrapped), age_writer.c
 * (the header and the STREAM payload, as a sink), age_reader.c (the same
 * read back, as a source), age_keys.c (keys and identity files);
 * age_private.h is what they share.
 */
#include "lib/crypto/age.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/age_private.h"

/* --- primitives ------------------------------------------------------------ */

int age_x25519_public(const uint8_t secret[32], uint8_t pub[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
	size_t len = 32;
	int ok = key && EVP_PKEY_get_raw_public_key(key, pub, &len) == 1 && len == 32;

	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

/* X25519(secret, peer).  Fails on an all-zero result (a low-order peer
 * point), which age.md requires refusing; OpenSSL refuses it as well. */
int age_x25519_shared(const uint8_t secret[32], const uint8_t peer[32], uint8_t out[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, 32);
	EVP_PKEY *peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	uint8_t zero[32] = { 0 };
	size_t len = 32;
	int rc = -1;

	if (!key || !peer_key || !ctx)
		goto fail;
	if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer_key) != 1 ||
	    EVP_PKEY_derive(ctx, out, &len) != 1 || len != 32)
		goto fail;
	if (CRYPTO_memcmp(out, zero, 32) == 0)
		goto fail;
	rc = 0;
fail:
	if (rc != 0)
		secure_wipe(out, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer_key);
	EVP_PKEY_free(key);
	return rc;
}

/* HKDF-SHA-256 (RFC 5869); an empty salt is simply left out. */
int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
	     const char *info, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if (!ctx)
		goto fail;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_len, params) != 1)
		goto fail;
	rc = 0;
fail:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* The header MAC (age.md "Header"): HMAC-SHA-256 keyed with
 * HKDF(file key, no salt, "header") over the header through "---". */
int age_header_mac(const uint8_t file_key[AGE_FILE_KEY], const char *hdr, size_t len,
		   uint8_t mac[32])
{
	uint8_t key[32];
	size_t mac_len = 0;
	int rc = -1;

	if (age_hkdf(file_key, AGE_FILE_KEY, NULL, 0, "header", key, sizeof(key)) != 0)
		goto fail;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key), (const unsigned char *)hdr,
		       len, mac, 32, &mac_len) || mac_len != 32)
		goto fail;
	rc = 0;
fail:
	secure_wipe(key, sizeof(key));
	return rc;
}

/* ChaCha20-Poly1305 with a 12-byte nonce and no associated data.  With key
 * NULL the context keeps the key it was given before and only the nonce
 * changes: that is how each payload chunk is sealed without re-keying. */
int age_seal(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
	     const uint8_t *in, size_t len, uint8_t *out /* len + AGE_TAG */)
{
	int n = 0, f = 0;

	if (EVP_EncryptInit_ex(ctx, key ? EVP_chacha20_poly1305() : NULL, NULL, key, nonce) != 1)
		return -1;
	if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1)
		return -1;
	if (EVP_EncryptFinal_ex(ctx, out + n, &f) != 1 || (size_t)n + (size_t)f != len)
		return -1;
	return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG, out + len) == 1 ? 0 : -1;
}

/* Open `len` sealed bytes (tag included, len >= AGE_TAG) into out.  On a
 * bad tag out is wiped: unauthenticated plaintext is never left behind. */
int age_open(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
	     const uint8_t *in, size_t len, uint8_t *out /* len - AGE_TAG */)
{
	size_t plain = len - AGE_TAG;
	int n = 0, f = 0;

	if (EVP_DecryptInit_ex(ctx, key ? EVP_chacha20_poly1305() : NULL, NULL, key, nonce) != 1)
		goto fail;
	if (plain > 0 && EVP_DecryptUpdate(ctx, out, &n, in, (int)plain) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG, (void *)(in + plain)) != 1)
		goto fail;
	if (EVP_DecryptFinal_ex(ctx, out + n, &f) != 1 || (size_t)n + (size_t)f != plain)
		goto fail;
	return 0;
fail:
	secure_wipe(out, plain);
	return -1;
}

/* A one-shot seal/open with a fresh context, for stanza bodies. */
int age_wrap(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t *out, int seal)
{
	static const uint8_t zero_nonce[12];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int rc = -1;

	if (ctx)
		rc = seal ? age_seal(ctx, key, zero_nonce, in, len, out)
			  : age_open(ctx, key, zero_nonce, in, len, out);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* Chunk nonce: 11-byte big-endian counter, then the last-chunk flag. */
void age_chunk_nonce(uint64_t counter, int last, uint8_t nonce[12])
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (uint8_t)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

const char *age_failure_name(enum age_failure f)
{
	switch (f) {
	case AGE_OK: return "success";
	case AGE_NO_MATCH: return "no match";
	case AGE_HEADER_FAILURE: return "header failure";
	case AGE_HMAC_FAILURE: return "HMAC failure";
	case AGE_PAYLOAD_FAILURE: return "payload failure";
	case AGE_IO_FAILURE: return "I/O failure";
	}
	return "unknown failure";
}
