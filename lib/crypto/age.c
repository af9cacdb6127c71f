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
 */
#include "lib/crypto/age.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/base64.h"
#include "lib/crypto/age_private.h"

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

static const char AGE_VERSION_LINE[] = "age-encryption.org/v1";
static const char AGE_X25519_INFO[] = "age-encryption.org/v1/X25519";
static const char AGE_SCRYPT_LABEL[] = "age-encryption.org/v1/scrypt";
static const char AGE_HINT_DAMAGED[] =
	"the encrypted object is damaged or was altered: use another backup set (`drctl list`)";

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
static int age_x25519_shared(const uint8_t secret[32], const uint8_t peer[32], uint8_t out[32])
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
static int age_hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len,
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
static int age_header_mac(const uint8_t file_key[AGE_FILE_KEY], const char *hdr, size_t len,
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
static int age_seal(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
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
static int age_open(EVP_CIPHER_CTX *ctx, const uint8_t *key, const uint8_t nonce[12],
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
static int age_wrap(const uint8_t key[32], const uint8_t *in, size_t len, uint8_t *out, int seal)
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
static void age_chunk_nonce(uint64_t counter, int last, uint8_t nonce[12])
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

/* --- writer ------------------------------------------------------------------- */

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

/* Append base64 of data wrapped at 64 columns; the last line is always
 * shorter than 64, so a multiple of 64 gets an empty final line. */
static size_t age_append_body(char *out, const uint8_t *data, size_t len)
{
	char text[64]; /* 44 characters for a 32-byte body */
	size_t tlen = base64_encode(data, len, text, 0), o = 0;

	for (size_t i = 0; i <= tlen; i += AGE_COLUMNS) {
		size_t line = tlen - i < AGE_COLUMNS ? tlen - i : AGE_COLUMNS;
		memcpy(out + o, text + i, line);
		o += line;
		out[o++] = '\n';
		if (line < AGE_COLUMNS)
			break;
	}
	return o;
}

/* The X25519 stanza (age.md "X25519 recipient stanza"), appended to out. */
static int age_x25519_stanza(const struct age_recipient *r, const uint8_t file_key[AGE_FILE_KEY],
			     char *out, size_t *len)
{
	uint8_t eph[32], share[32], shared[32], salt[64], wrap_key[32], body[AGE_BODY];
	size_t o = *len;
	int rc = -1;

	if (RAND_bytes(eph, sizeof(eph)) != 1 || age_x25519_public(eph, share) != 0)
		goto fail;
	if (age_x25519_shared(eph, r->pub, shared) != 0)
		goto fail; /* a low-order recipient point: not a real key */
	memcpy(salt, share, 32);
	memcpy(salt + 32, r->pub, 32);
	if (age_hkdf(shared, 32, salt, 64, AGE_X25519_INFO, wrap_key, 32) != 0 ||
	    age_wrap(wrap_key, file_key, AGE_FILE_KEY, body, 1) != 0)
		goto fail;
	memcpy(out + o, "-> X25519 ", 10);
	o += 10;
	o += base64_encode(share, 32, out + o, 0);
	out[o++] = '\n';
	o += age_append_body(out + o, body, sizeof(body));
	*len = o;
	rc = 0;
fail:
	secure_wipe(eph, sizeof(eph));
	secure_wipe(shared, sizeof(shared));
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

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

/* --- header parsing ------------------------------------------------------------- */

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

static int age_fail(struct age_failure_report *rep, enum age_failure kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first failure: its kind and the error message. */
static int age_fail(struct age_failure_report *rep, enum age_failure kind, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[AGE_NO_MATCH] = "age: no identity matches",
		[AGE_HEADER_FAILURE] = "age header is malformed",
		[AGE_HMAC_FAILURE] = "age header fails its MAC check",
		[AGE_PAYLOAD_FAILURE] = "age payload is damaged",
	};
	const char *hint = kind == AGE_NO_MATCH
		? "use the identity file whose public key is one of the backup's recipients" : AGE_HINT_DAMAGED;
	char msg[400];
	va_list ap;

	if (rep->kind != AGE_OK)
		return -1;
	rep->kind = kind;
	if (kind == AGE_IO_FAILURE)
		return -1; /* the upstream source set the error itself */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* No match is about the key (not the one the file was encrypted to),
	 * not proof that the file is damaged: callers that know more (a signed
	 * list of recipients) decide. */
	return err_set(rep->err, kind == AGE_NO_MATCH ? EXIT_NOT_FOUND : EXIT_INTEGRITY, NULL, hint, "%s: %s",
		       prefix[kind], msg);
}

/* Arguments: VCHAR (0x21-0x7e), at least one character, single spaces. */
static int age_parse_args(const char *p, size_t len, const char **args, size_t *arg_len, size_t max,
			  size_t *nargs)
{
	size_t n = 0, i = 0;

	while (i < len) {
		size_t start;
		if (p[i] != ' ' || n == max)
			return -1;
		start = ++i;
		while (i < len && p[i] >= 0x21 && p[i] <= 0x7e)
			i++;
		if (i == start || (i < len && p[i] != ' '))
			return -1;
		args[n] = p + start;
		arg_len[n++] = i - start;
	}
	*nargs = n;
	return n > 0 ? 0 : -1;
}

static int age_arg_is(const char *arg, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(arg, word, len) == 0;
}

/* scrypt's work factor: decimal, no sign, no leading zero, 1..22. */
static int age_parse_log2n(const char *arg, size_t len, int *log2n)
{
	int v = 0;

	if (len == 0 || len > 2 || arg[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9')
			return -1;
		v = v * 10 + (arg[i] - '0');
	}
	if (v < 1 || v > AGE_SCRYPT_MAX_LOG2N)
		return -1;
	*log2n = v;
	return 0;
}

/* Validate one stanza (arguments and decoded body) and keep it if it is a
 * type drctl unwraps.  Other types (grease, plugins) are skipped. */
static int age_keep_stanza(struct age_header *h, const char **args, const size_t *arg_len, size_t nargs,
			   const uint8_t *body, size_t body_len, struct age_failure_report *rep)
{
	struct age_stanza st;
	int is_x25519 = age_arg_is(args[0], arg_len[0], "X25519");
	int is_scrypt = age_arg_is(args[0], arg_len[0], "scrypt");

	h->n_total++;
	if (!is_x25519 && !is_scrypt)
		return 0;
	memset(&st, 0, sizeof(st));
	if (body_len != AGE_BODY)
		return age_fail(rep, AGE_HEADER_FAILURE, "a %s stanza body is %zu bytes, not %d",
				is_x25519 ? "X25519" : "scrypt", body_len, AGE_BODY);
	memcpy(st.body, body, AGE_BODY);
	if (is_x25519) {
		st.type = AGE_STANZA_X25519;
		if (nargs != 2 || base64_decode(args[1], arg_len[1], st.arg, 32, 0) != 32)
			return age_fail(rep, AGE_HEADER_FAILURE, "an X25519 stanza has no valid 32-byte share");
	} else {
		st.type = AGE_STANZA_SCRYPT;
		h->n_scrypt++;
		if (nargs != 3 || base64_decode(args[1], arg_len[1], st.arg, 16, 0) != 16)
			return age_fail(rep, AGE_HEADER_FAILURE, "a scrypt stanza has no valid 16-byte salt");
		if (age_parse_log2n(args[2], arg_len[2], &st.log2n) != 0)
			return age_fail(rep, AGE_HEADER_FAILURE,
					"a scrypt stanza's work factor is not a decimal from 1 to %d",
					AGE_SCRYPT_MAX_LOG2N);
	}
	if (h->n_known % 8 == 0) {
		struct age_stanza *grown = realloc(h->known, (h->n_known + 8) * sizeof(*grown));
		if (!grown)
			return age_fail(rep, AGE_HEADER_FAILURE, "out of memory");
		h->known = grown;
	}
	h->known[h->n_known++] = st;
	return 0;
}

/* Next line of the header text: every line ends in '\n' by construction. */
static const char *age_next_line(const char *hdr, size_t len, size_t *pos, size_t *line_len)
{
	const char *start = hdr + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(start, '\n', len - *pos);
	*line_len = (size_t)(nl - start);
	*pos += *line_len + 1;
	return start;
}

/* Parse the header lines (age.md "Header" grammar); hdr ends with the MAC line. */
static int age_parse_header(const char *hdr, size_t len, struct age_header *h, struct age_failure_report *rep)
{
	enum { MAX_ARGS = 32 };
	const char *args[MAX_ARGS];
	size_t arg_len[MAX_ARGS], nargs, pos = 0, line_len;
	const char *line = age_next_line(hdr, len, &pos, &line_len);

	if (!line || !age_arg_is(line, line_len, AGE_VERSION_LINE))
		return age_fail(rep, AGE_HEADER_FAILURE, "not an age v1 file (first line is not \"%s\")",
				AGE_VERSION_LINE);
	while ((line = age_next_line(hdr, len, &pos, &line_len)) != NULL) {
		uint8_t body[AGE_BODY], piece[48];
		size_t body_len = 0;
		int final = 0;

		if (line_len >= 3 && memcmp(line, "---", 3) == 0) {
			if (h->n_total == 0)
				return age_fail(rep, AGE_HEADER_FAILURE, "the header has no recipient stanza");
			if (line_len != 4 + 43 || line[3] != ' ' ||
			    base64_decode(line + 4, 43, h->mac, sizeof(h->mac), 0) != 32)
				return age_fail(rep, AGE_HEADER_FAILURE, "the MAC line is not \"--- \" and 43 base64 characters");
			h->mac_offset = (size_t)(line - hdr) + 3;
			return 0;
		}
		if (line_len < 2 || memcmp(line, "->", 2) != 0 ||
		    age_parse_args(line + 2, line_len - 2, args, arg_len, MAX_ARGS, &nargs) != 0)
			return age_fail(rep, AGE_HEADER_FAILURE, "a stanza line is not \"-> TYPE ARGS...\"");
		/* Body: full 64-column lines, ended by one shorter line. */
		while (!final) {
			long got;
			line = age_next_line(hdr, len, &pos, &line_len);
			if (!line || line_len > AGE_COLUMNS || (line_len >= 3 && memcmp(line, "---", 3) == 0))
				return age_fail(rep, AGE_HEADER_FAILURE, "a stanza body is not wrapped at 64 columns "
						"or lacks its short final line");
			final = line_len < AGE_COLUMNS;
			got = base64_decode(line, line_len, piece, sizeof(piece), 0);
			if (got < 0)
				return age_fail(rep, AGE_HEADER_FAILURE, "a stanza body is not canonical unpadded base64");
			/* Keep what fits: only 32-byte bodies are ever used. */
			if (body_len + (size_t)got <= sizeof(body))
				memcpy(body + body_len, piece, (size_t)got);
			body_len += (size_t)got;
		}
		if (age_keep_stanza(h, args, arg_len, nargs, body, body_len, rep) != 0)
			return -1;
	}
	return age_fail(rep, AGE_HEADER_FAILURE, "the header has no MAC line");
}

/* Unwrap an X25519 stanza: 1 if this identity is not its recipient. */
static int age_unwrap_x25519(const struct age_stanza *st, const struct age_identity *id,
			     uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	uint8_t shared[32], salt[64], wrap_key[32];
	int rc = -1;

	if (age_x25519_shared(id->secret, st->arg, shared) != 0) {
		age_fail(rep, AGE_HEADER_FAILURE, "an X25519 share is a low-order point");
		goto fail;
	}
	memcpy(salt, st->arg, 32);
	memcpy(salt + 32, id->pub, 32);
	if (age_hkdf(shared, 32, salt, sizeof(salt), AGE_X25519_INFO, wrap_key, sizeof(wrap_key)) != 0) {
		age_fail(rep, AGE_HEADER_FAILURE, "HKDF failed: %s", err_openssl_reason());
		goto fail;
	}
	rc = age_wrap(wrap_key, st->body, AGE_BODY, file_key, 0) == 0 ? 0 : 1;
fail:
	secure_wipe(shared, sizeof(shared));
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

/* Unwrap a scrypt stanza (age.md "scrypt recipient stanza"): 1 if the
 * passphrase is not the one it was sealed with. */
static int age_unwrap_scrypt(const struct age_stanza *st, const char *passphrase,
			     uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	uint8_t salt[sizeof(AGE_SCRYPT_LABEL) - 1 + 16], wrap_key[32];
	uint64_t n = (uint64_t)1 << st->log2n;
	/* scrypt with r = 8 needs 1 KiB per unit of N, plus small buffers. */
	uint64_t maxmem = 1024 * (n + 2) + 64 * 1024;
	int rc = -1;

	memcpy(salt, AGE_SCRYPT_LABEL, sizeof(AGE_SCRYPT_LABEL) - 1);
	memcpy(salt + sizeof(AGE_SCRYPT_LABEL) - 1, st->arg, 16);
	if (EVP_PBE_scrypt(passphrase, strlen(passphrase), salt, sizeof(salt), n, 8, 1, maxmem, wrap_key,
			   sizeof(wrap_key)) != 1) {
		age_fail(rep, AGE_HEADER_FAILURE, "scrypt with work factor %d failed (out of memory?): %s",
			 st->log2n, err_openssl_reason());
		goto fail;
	}
	rc = age_wrap(wrap_key, st->body, AGE_BODY, file_key, 0) == 0 ? 0 : 1;
fail:
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

/* Find the file key in any stanza we can open. */
static int age_unwrap(const struct age_header *h, const struct age_identity *ids, size_t n,
		      const char *passphrase, uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	if (h->n_scrypt > 0 && h->n_total != 1)
		return age_fail(rep, AGE_HEADER_FAILURE, "a scrypt stanza must be the only stanza");
	for (size_t s = 0; s < h->n_known; s++) {
		const struct age_stanza *st = &h->known[s];
		if (st->type == AGE_STANZA_SCRYPT && passphrase) {
			int rc = age_unwrap_scrypt(st, passphrase, file_key, rep);
			if (rc <= 0)
				return rc;
		}
		for (size_t i = 0; st->type == AGE_STANZA_X25519 && i < n; i++) {
			int rc = age_unwrap_x25519(st, &ids[i], file_key, rep);
			if (rc <= 0)
				return rc;
		}
	}
	if (n == 0 && !passphrase)
		return age_fail(rep, AGE_NO_MATCH, "no identity or passphrase was given");
	return age_fail(rep, AGE_NO_MATCH, "%s%zu identit%s open%s none of the file's %zu stanza%s",
			passphrase ? "the passphrase and " : "", n, n == 1 ? "y" : "ies",
			n == 1 && !passphrase ? "s" : "", h->n_total, h->n_total == 1 ? "" : "s");
}

/* --- reader ----------------------------------------------------------------------- */

enum age_reader_state { AGE_READING, AGE_DONE, AGE_TRAILING, AGE_FAILED };

struct age_reader {
	struct source base;
	struct source *upstream;
	EVP_CIPHER_CTX *ctx;        /* keyed with the payload key */
	uint64_t counter;           /* index of the next chunk */
	enum age_reader_state state;
	enum age_failure failure;
	size_t enc_len;             /* bytes read ahead in enc */
	size_t plain_pos, plain_len; /* plaintext not yet handed out */
	uint8_t enc[AGE_SEALED + 1]; /* one sealed chunk and one byte more */
	uint8_t plain[AGE_CHUNK];
};

/* Read ahead until `want` bytes are buffered or the file ends. */
static int age_reader_fill(struct age_reader *r, size_t want, struct age_failure_report *rep)
{
	while (r->enc_len < want) {
		size_t got = 0;
		if (source_read(r->upstream, r->enc + r->enc_len, sizeof(r->enc) - r->enc_len, &got, rep->err) != 0)
			return age_fail(rep, AGE_IO_FAILURE, "read failed");
		if (got == 0)
			break;
		r->enc_len += got;
	}
	return 0;
}

/* Collect the header lines, through the MAC line, into a new buffer; what
 * was read past it stays at the start of r->enc. */
static int age_reader_header(struct age_reader *r, char **out, size_t *out_len, struct age_failure_report *rep)
{
	char *hdr = NULL;
	size_t len = 0, cap = 0, pos = 0;
	int rc = -1;

	for (;;) {
		uint8_t *nl = memchr(r->enc + pos, '\n', r->enc_len - pos);
		size_t line_len;

		if (!nl) {
			memmove(r->enc, r->enc + pos, r->enc_len - pos);
			r->enc_len -= pos;
			pos = 0;
			if (r->enc_len == sizeof(r->enc)) {
				age_fail(rep, AGE_HEADER_FAILURE, "a header line is too long");
				goto fail;
			}
			size_t before = r->enc_len;
			if (age_reader_fill(r, before + 1, rep) != 0)
				goto fail;
			if (r->enc_len == before) {
				age_fail(rep, AGE_HEADER_FAILURE, "the file ends inside the header");
				goto fail;
			}
			continue;
		}
		line_len = (size_t)(nl - (r->enc + pos)) + 1;
		if (len + line_len > AGE_MAX_HEADER) {
			age_fail(rep, AGE_HEADER_FAILURE, "the header is larger than %d bytes", AGE_MAX_HEADER);
			goto fail;
		}
		if (len + line_len > cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			char *grown;
			while (ncap < len + line_len)
				ncap *= 2;
			grown = realloc(hdr, ncap);
			if (!grown) {
				age_fail(rep, AGE_HEADER_FAILURE, "out of memory");
				goto fail;
			}
			hdr = grown;
			cap = ncap;
		}
		memcpy(hdr + len, r->enc + pos, line_len);
		pos += line_len;
		/* Stop early on something that is not age at all. */
		if (len == 0 && !(line_len == sizeof(AGE_VERSION_LINE) &&
				  memcmp(hdr, AGE_VERSION_LINE, line_len - 1) == 0)) {
			age_fail(rep, AGE_HEADER_FAILURE, "not an age v1 file (first line is not \"%s\")",
				 AGE_VERSION_LINE);
			goto fail;
		}
		len += line_len;
		if (line_len >= 4 && memcmp(hdr + len - line_len, "---", 3) == 0)
			break;
	}
	memmove(r->enc, r->enc + pos, r->enc_len - pos);
	r->enc_len -= pos;
	*out = hdr;
	*out_len = len;
	hdr = NULL;
	rc = 0;
fail:
	free(hdr);
	return rc;
}

/* Open the next chunk into `out` (AGE_CHUNK bytes of room). */
static int age_reader_chunk(struct age_reader *r, uint8_t *out, size_t *out_len, struct age_failure_report *rep)
{
	uint8_t nonce[12];
	size_t sealed;
	int more, last;

	if (age_reader_fill(r, sizeof(r->enc), rep) != 0)
		return -1;
	more = r->enc_len == sizeof(r->enc);
	sealed = more ? AGE_SEALED : r->enc_len;
	if (sealed == 0 && r->counter > 0)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "the file ends without its final chunk (truncated?)");
	if (sealed < AGE_TAG)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "chunk %llu is truncated (%zu bytes)",
				(unsigned long long)r->counter, sealed);
	if (r->counter == UINT64_MAX)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "too many chunks");
	/* A short chunk can only be the last.  A full one is tried as a
	 * middle chunk first, then as the last, as age does: a full middle
	 * chunk at the end of the file is released and the missing final chunk
	 * reported on the next read; a full last chunk with data behind it is
	 * released and the trailing data reported after it. */
	last = sealed < AGE_SEALED;
	age_chunk_nonce(r->counter, last, nonce);
	if (age_open(r->ctx, NULL, nonce, r->enc, sealed, out) != 0) {
		if (last)
			return age_fail(rep, AGE_PAYLOAD_FAILURE,
					"chunk %llu does not authenticate as the final chunk (damaged or truncated)",
					(unsigned long long)r->counter);
		last = 1;
		age_chunk_nonce(r->counter, last, nonce);
		if (age_open(r->ctx, NULL, nonce, r->enc, sealed, out) != 0)
			return age_fail(rep, AGE_PAYLOAD_FAILURE, "chunk %llu does not authenticate",
					(unsigned long long)r->counter);
	}
	if (last && sealed == AGE_TAG && r->counter > 0)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "the final chunk is empty but the payload is not");
	r->counter++;
	if (more) {
		r->enc[0] = r->enc[AGE_SEALED];
		r->enc_len = 1;
	} else {
		r->enc_len = 0;
	}
	if (last)
		r->state = more ? AGE_TRAILING : AGE_DONE;
	*out_len = sealed - AGE_TAG;
	return 0;
}

static int age_reader_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct age_reader *r = (struct age_reader *)s;
	struct age_failure_report rep = { AGE_OK, err };
	size_t n;

	*got = 0;
	while (r->plain_pos == r->plain_len) {
		uint8_t *out;
		size_t len = 0;

		if (cap == 0)
			return 0;
		switch (r->state) {
		case AGE_DONE:
			return 0;
		case AGE_TRAILING:
			r->state = AGE_FAILED;
			r->failure = AGE_PAYLOAD_FAILURE;
			return age_fail(&rep, AGE_PAYLOAD_FAILURE, "data follows the final chunk");
		case AGE_FAILED:
			return err_set(err, EXIT_INTEGRITY, NULL, AGE_HINT_DAMAGED, "age: reading after a failure (%s)",
				       age_failure_name(r->failure));
		case AGE_READING:
			break;
		}
		/* A whole chunk fits: open it straight into the caller's buffer. */
		out = cap >= AGE_CHUNK ? buf : r->plain;
		if (age_reader_chunk(r, out, &len, &rep) != 0) {
			r->state = AGE_FAILED;
			r->failure = rep.kind;
			return -1;
		}
		if (out == buf) {
			*got = len;
			if (len > 0)
				return 0;
		} else {
			r->plain_pos = 0;
			r->plain_len = len;
		}
	}
	n = r->plain_len - r->plain_pos < cap ? r->plain_len - r->plain_pos : cap;
	memcpy(buf, r->plain + r->plain_pos, n);
	r->plain_pos += n;
	*got = n;
	return 0;
}

static void age_reader_free(struct age_reader *r)
{
	source_close(r->upstream);
	EVP_CIPHER_CTX_free(r->ctx);
	secure_wipe(r->plain, sizeof(r->plain));
	free(r);
}

static void age_reader_close(struct source *s)
{
	age_reader_free((struct age_reader *)s);
}

static const struct source_ops age_reader_ops = { age_reader_read, age_reader_close };

enum age_failure age_reader_failure(const struct source *s)
{
	return s && s->ops == &age_reader_ops ? ((const struct age_reader *)s)->failure : AGE_OK;
}

struct source *age_reader_new(struct source *upstream, const struct age_identity *ids, size_t n,
			      const char *passphrase, enum age_failure *failure, struct drctl_error *err)
{
	struct age_failure_report rep = { AGE_OK, err };
	struct age_header h;
	struct age_reader *r = calloc(1, sizeof(*r));
	uint8_t file_key[AGE_FILE_KEY], mac[32], payload_key[32];
	char *hdr = NULL;
	size_t hdr_len = 0;

	memset(&h, 0, sizeof(h));
	if (!r || !(r->ctx = EVP_CIPHER_CTX_new())) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		rep.kind = AGE_IO_FAILURE;
		goto fail;
	}
	r->base.ops = &age_reader_ops;
	r->upstream = upstream;
	upstream = NULL;
	if (age_reader_header(r, &hdr, &hdr_len, &rep) != 0 || age_parse_header(hdr, hdr_len, &h, &rep) != 0 ||
	    age_unwrap(&h, ids, n, passphrase, file_key, &rep) != 0)
		goto fail;
	if (age_header_mac(file_key, hdr, h.mac_offset, mac) != 0) {
		age_fail(&rep, AGE_HMAC_FAILURE, "cannot compute the MAC: %s", err_openssl_reason());
		goto fail;
	}
	if (CRYPTO_memcmp(mac, h.mac, sizeof(mac)) != 0) {
		age_fail(&rep, AGE_HMAC_FAILURE, "the header MAC does not match (header altered)");
		goto fail;
	}
	/* The payload nonce; age counts a missing one as a header failure. */
	if (age_reader_fill(r, AGE_NONCE, &rep) != 0)
		goto fail;
	if (r->enc_len < AGE_NONCE) {
		age_fail(&rep, AGE_HEADER_FAILURE, "the file ends before the payload nonce");
		goto fail;
	}
	if (age_hkdf(file_key, AGE_FILE_KEY, r->enc, AGE_NONCE, "payload", payload_key, sizeof(payload_key)) != 0 ||
	    EVP_DecryptInit_ex(r->ctx, EVP_chacha20_poly1305(), NULL, payload_key, NULL) != 1) {
		age_fail(&rep, AGE_HEADER_FAILURE, "cannot derive the payload key: %s", err_openssl_reason());
		goto fail;
	}
	memmove(r->enc, r->enc + AGE_NONCE, r->enc_len - AGE_NONCE);
	r->enc_len -= AGE_NONCE;
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(h.known);
	free(hdr);
	if (failure)
		*failure = AGE_OK;
	return &r->base;

fail:
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(h.known);
	free(hdr);
	if (r)
		age_reader_free(r);
	source_close(upstream);
	if (failure)
		*failure = rep.kind;
	return NULL;
}
