/*
 * minisign: Ed25519 keys and signatures in minisign's file formats, on
 * OpenSSL 3.
 *
 * Why minisign: an operator with no drctl at hand checks a backup set with
 * stock `minisign -V` (README "Break-glass").  So everything here is
 * byte-for-byte what minisign 0.11 writes and reads; the formats are those
 * of minisign's documentation (https://jedisct1.github.io/minisign/, "Signature
 * format" and "Public key format"), checked against minisign's own
 * source (src/minisign.c: sig_load, pubkey_load_string, seckey_load,
 * generate, sign) and against the installed binary by the unit tests.
 *
 * Binary layouts (all base64, standard alphabet, padded, one line):
 *   public key  (42)  "Ed" | key id (8) | Ed25519 public key (32)
 *   secret key (158)  "Ed" | kdf (2) | "B2" | salt (32) | opslimit (u64 LE)
 *                     | memlimit (u64 LE) | key id (8) | seed (32) | public (32)
 *                     | checksum (32)
 *   signature   (74)  "ED" or legacy "Ed" | key id (8) | signature (64)
 *   global sig  (64)  Ed25519 over signature (64) | trusted comment text
 *
 * Choices worth knowing:
 * - Secret keys are only ever unencrypted (kdf 0,0): drctl signs in
 *   unattended jobs, with no one to type a password.  The checksum is
 *   BLAKE2b-256 of "Ed" | key id | seed | public (lib/crypto/blake2b.c; OpenSSL 3.0
 *   cannot do BLAKE2b-256).  minisign 0.11 `-G -W` leaves the checksum all
 *   zero and never checks it for unencrypted keys, so a zero checksum is
 *   accepted; any other value must match.  Independent of the checksum, the
 *   public half must be the one derived from the seed: libsodium signs with
 *   the stored public half, so a mismatch would make signatures that never
 *   verify.
 * - Signing is prehashed (`ED`, BLAKE2b-512 of the data) as minisign does by
 *   default; verifying accepts legacy `Ed` too.  Ed25519 itself has no
 *   streaming interface, hence the one-shot EVP_DigestSign with no digest.
 * - Reading mirrors minisign's line limits (fgets of 1024 bytes for the
 *   untrusted comment line, 8192 for the trusted comment line), so drctl
 *   never accepts a signature file that stock minisign would misread.
 * - Key ids are shown as minisign shows them: the 8 bytes as a little-endian
 *   u64 in upper-case hex (the public key's comment line, its error messages).
 */
#include "lib/crypto/minisign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/base64.h"
#include "lib/crypto/blake2b.h"

#define MS_PUBKEY_BYTES 42
#define MS_SECKEY_BYTES 158
#define MS_SIG_BYTES 74
#define MS_ED25519_SIG 64
#define MS_CHECKSUM_BYTES 32
/* Offsets in the secret key struct. */
#define MS_SK_KDF 2
#define MS_SK_CHK_ALG 4
#define MS_SK_KEYID 54
#define MS_SK_SEED 62
#define MS_SK_PUB 94
#define MS_SK_CHECKSUM 126

#define MS_UNTRUSTED_PREFIX "untrusted comment: "
#define MS_TRUSTED_PREFIX "trusted comment: "
/* minisign's COMMENTMAXBYTES and TRUSTEDCOMMENTMAXBYTES are fgets buffer
 * sizes: a line (with its newline) must fit in size - 1 bytes. */
#define MS_COMMENT_LINE_MAX 1023
#define MS_TRUSTED_LINE_MAX 8191
#define MS_UNTRUSTED_TEXT_MAX (MS_COMMENT_LINE_MAX - (sizeof(MS_UNTRUSTED_PREFIX) - 1) - 1)
#define MS_TRUSTED_TEXT_MAX (MS_TRUSTED_LINE_MAX - (sizeof(MS_TRUSTED_PREFIX) - 1) - 1)
#define MS_DEFAULT_UNTRUSTED "signature from minisign secret key"
#define MS_KEY_FILE_MAX 4096

#define MS_HINT_UNENCRYPTED \
	"drctl signs in unattended jobs and needs an unencrypted key: remove the password " \
	"with `minisign -C -W -s <file>`, or create a new key with `minisign -G -W` or `drctl init`"

/* ---- small helpers ---- */

void minisign_keyid_hex(const uint8_t keyid[8], char out[17])
{
	static const char hex[] = "0123456789ABCDEF";

	/* Most significant byte of the little-endian u64 first, as minisign prints it. */
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[keyid[7 - i] >> 4];
		out[2 * i + 1] = hex[keyid[7 - i] & 15];
	}
	out[16] = '\0';
}

/*
 * Next line of text starting at *pos: its start and length without the
 * newline (and without a '\r' before it: minisign's trim() drops both).
 * *had_newline tells whether it ended in '\n'.  Returns 0, or -1 at
 * the end of the text.
 */
static int ms_next_line(const char *text, size_t len, size_t *pos, const char **line,
			size_t *line_len, int *had_newline)
{
	const char *nl;
	size_t n;

	if (*pos >= len)
		return -1;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	if (had_newline)
		*had_newline = nl != NULL;
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*line_len = n;
	return 0;
}

/* Everything from *pos on is blank (newlines, spaces, tabs). */
static int ms_rest_is_blank(const char *text, size_t len, size_t pos)
{
	for (; pos < len; pos++)
		if (text[pos] != '\n' && text[pos] != '\r' && text[pos] != ' ' && text[pos] != '\t')
			return 0;
	return 1;
}

static int ms_starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* Decode one base64 line that must hold exactly `want` bytes. */
static int ms_decode_exact(const char *line, size_t len, uint8_t *out, size_t want)
{
	uint8_t buf[MS_SECKEY_BYTES + 16]; /* base64_decode wants len * 3 / 4 + 3 */
	long n;

	if (want > MS_SECKEY_BYTES || len != base64_encoded_len(want, 1))
		return -1;
	n = base64_decode(line, len, buf, sizeof(buf), 1);
	if (n == (long)want)
		memcpy(out, buf, want);
	secure_wipe(buf, sizeof(buf));
	return n == (long)want ? 0 : -1;
}

/* ---- Ed25519 on OpenSSL ---- */

static int ms_public_from_seed(const uint8_t seed[32], uint8_t pub[32], struct drctl_error *err)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	int ok;

	if (!pkey)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot load an Ed25519 key: %s",
			       err_openssl_reason());
	ok = EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 && n == 32;
	EVP_PKEY_free(pkey);
	if (!ok)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot derive an Ed25519 public key: %s",
			       err_openssl_reason());
	return 0;
}

static int ms_ed25519_sign(const uint8_t seed[32], const uint8_t *msg, size_t len,
			   uint8_t sig[64], struct drctl_error *err)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int rc = -1;

	if (!pkey || !mctx) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot set up Ed25519 signing: %s",
			err_openssl_reason());
		goto fail;
	}
	/* NULL digest: Ed25519 hashes internally and signs in one shot. */
	if (EVP_DigestSignInit(mctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(mctx, sig, &siglen, msg, len) != 1 || siglen != 64) {
		err_set(err, EXIT_FAILED, NULL, NULL, "Ed25519 signing failed: %s",
			err_openssl_reason());
		goto fail;
	}
	rc = 0;
fail:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	return rc;
}

/* 1 when valid, 0 when not (including keys OpenSSL refuses). */
static int ms_ed25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
			     const uint8_t sig[64])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int ok = 0;

	if (pkey && mctx && EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(mctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* ---- keys ---- */

int minisign_keygen(struct minisign_secret_key *sk, struct minisign_public_key *pk,
		    struct drctl_error *err)
{
	memset(sk, 0, sizeof(*sk));
	if (RAND_bytes(sk->keyid, sizeof(sk->keyid)) != 1 ||
	    RAND_bytes(sk->seed, sizeof(sk->seed)) != 1) {
		minisign_secret_key_wipe(sk);
		return err_set(err, EXIT_FAILED, NULL, NULL, "no randomness for a new signing key: %s",
			       err_openssl_reason());
	}
	if (ms_public_from_seed(sk->seed, sk->pub, err) != 0) {
		minisign_secret_key_wipe(sk);
		return -1;
	}
	if (pk)
		minisign_public_from_secret(sk, pk);
	return 0;
}

void minisign_public_from_secret(const struct minisign_secret_key *sk, struct minisign_public_key *pk)
{
	memcpy(pk->keyid, sk->keyid, sizeof(pk->keyid));
	memcpy(pk->pub, sk->pub, sizeof(pk->pub));
}

void minisign_secret_key_wipe(struct minisign_secret_key *sk)
{
	secure_wipe(sk, sizeof(*sk));
}

/* BLAKE2b-256 of "Ed" | key id | seed | public: minisign's seckey_compute_chk. */
static void ms_secret_checksum(const uint8_t raw[MS_SECKEY_BYTES], uint8_t chk[MS_CHECKSUM_BYTES])
{
	struct blake2b_ctx ctx;

	blake2b_init(&ctx, MS_CHECKSUM_BYTES);
	blake2b_update(&ctx, raw, 2);
	blake2b_update(&ctx, raw + MS_SK_KEYID, 8 + 64);
	blake2b_final(&ctx, chk);
}

static void ms_public_raw(const struct minisign_public_key *pk, uint8_t raw[MS_PUBKEY_BYTES])
{
	raw[0] = 'E';
	raw[1] = 'd';
	memcpy(raw + 2, pk->keyid, 8);
	memcpy(raw + 10, pk->pub, 32);
}

void minisign_public_key_base64(const struct minisign_public_key *pk, char out[64])
{
	uint8_t raw[MS_PUBKEY_BYTES];

	ms_public_raw(pk, raw);
	base64_encode(raw, sizeof(raw), out, 1);
}

static int ms_public_parse(const char *text, size_t len, const char *name,
			   struct minisign_public_key *pk, struct drctl_error *err)
{
	const char *line = NULL;
	size_t pos = 0, line_len = 0;
	uint8_t raw[MS_PUBKEY_BYTES];
	const char *what = name ? name : "public key";

	/* A whole .pub file has a comment line first; `minisign -P` takes the
	 * base64 line alone. */
	if (ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0)
		return err_set(err, EXIT_USAGE, name, NULL, "%s is empty", what);
	if (ms_starts_with(line, line_len, "untrusted comment:") &&
	    ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0)
		return err_set(err, EXIT_USAGE, name, NULL,
			       "%s has a comment line but no key line", what);
	while (line_len > 0 && (line[line_len - 1] == ' ' || line[line_len - 1] == '\t'))
		line_len--;
	if (!ms_rest_is_blank(text, len, pos) ||
	    ms_decode_exact(line, line_len, raw, sizeof(raw)) != 0)
		return err_set(err, EXIT_USAGE, name,
			       "a minisign public key is a comment line and one base64 line of 56 characters starting with RW",
			       "%s is not a minisign public key", what);
	if (raw[0] != 'E' || raw[1] != 'd')
		return err_set(err, EXIT_USAGE, name, NULL,
			       "%s uses signature algorithm '%c%c'; only Ed25519 ('Ed') is supported",
			       what, raw[0], raw[1]);
	memcpy(pk->keyid, raw + 2, 8);
	memcpy(pk->pub, raw + 10, 32);
	return 0;
}

int minisign_parse_public_key(const char *text, size_t len, struct minisign_public_key *pk,
			      struct drctl_error *err)
{
	return ms_public_parse(text, len, NULL, pk, err);
}

int minisign_load_public_key(const char *path, struct minisign_public_key *pk,
			     struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (keyfile_read(path, "public key", 0, MS_KEY_FILE_MAX, &data, &len, err) != 0)
		return -1;
	rc = ms_public_parse(data, len, path, pk, err);
	keyfile_free(data, len);
	return rc;
}

int minisign_write_public_key(const char *path, const struct minisign_public_key *pk,
			      struct drctl_error *err)
{
	char id[17], b64[64], text[160];
	int n;

	minisign_keyid_hex(pk->keyid, id);
	minisign_public_key_base64(pk, b64);
	n = snprintf(text, sizeof(text), MS_UNTRUSTED_PREFIX "minisign public key %s\n%s\n", id, b64);
	return keyfile_write_new(path, "public key", 0644, text, (size_t)n, err);
}

static int ms_secret_parse(const char *text, size_t len, const char *name,
			   struct minisign_secret_key *sk, struct drctl_error *err)
{
	static const uint8_t zero[MS_CHECKSUM_BYTES];
	uint8_t raw[MS_SECKEY_BYTES], chk[MS_CHECKSUM_BYTES], pub[32];
	const char *line = NULL;
	size_t pos = 0, line_len = 0;
	const char *what = name ? name : "secret key";
	int rc = -1;

	if (ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0 ||
	    !ms_starts_with(line, line_len, "untrusted comment:") ||
	    ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0 ||
	    !ms_rest_is_blank(text, len, pos) ||
	    ms_decode_exact(line, line_len, raw, sizeof(raw)) != 0) {
		/* Never quote the line: it is the secret. */
		err_set(err, EXIT_USAGE, name,
			"a minisign secret key file is a comment line and one base64 line (`minisign -G -W` writes one)",
			"%s is not a minisign secret key", what);
		goto fail;
	}
	if (raw[0] != 'E' || raw[1] != 'd') {
		err_set(err, EXIT_USAGE, name, NULL,
			"%s uses signature algorithm '%c%c'; only Ed25519 ('Ed') is supported",
			what, raw[0], raw[1]);
		goto fail;
	}
	if (raw[MS_SK_CHK_ALG] != 'B' || raw[MS_SK_CHK_ALG + 1] != '2') {
		err_set(err, EXIT_USAGE, name, NULL, "%s uses an unknown checksum algorithm", what);
		goto fail;
	}
	if (raw[MS_SK_KDF] == 'S' && raw[MS_SK_KDF + 1] == 'c') {
		err_set(err, EXIT_USAGE, name, MS_HINT_UNENCRYPTED,
			"%s is encrypted with a password", what);
		goto fail;
	}
	if (raw[MS_SK_KDF] != 0 || raw[MS_SK_KDF + 1] != 0) {
		err_set(err, EXIT_USAGE, name, NULL, "%s uses an unknown key derivation function", what);
		goto fail;
	}
	ms_secret_checksum(raw, chk);
	/* minisign 0.11 `-G -W` writes a zero checksum (see the top comment). */
	if (CRYPTO_memcmp(raw + MS_SK_CHECKSUM, zero, sizeof(zero)) != 0 &&
	    CRYPTO_memcmp(raw + MS_SK_CHECKSUM, chk, sizeof(chk)) != 0) {
		err_set(err, EXIT_USAGE, name, "restore the key file from its backup",
			"%s is damaged: its checksum does not match", what);
		goto fail;
	}
	if (ms_public_from_seed(raw + MS_SK_SEED, pub, err) != 0)
		goto fail;
	if (CRYPTO_memcmp(pub, raw + MS_SK_PUB, sizeof(pub)) != 0) {
		err_set(err, EXIT_USAGE, name, "restore the key file from its backup",
			"%s is damaged: its public half does not belong to its secret half", what);
		goto fail;
	}
	memcpy(sk->keyid, raw + MS_SK_KEYID, 8);
	memcpy(sk->seed, raw + MS_SK_SEED, 32);
	memcpy(sk->pub, pub, 32);
	rc = 0;
fail:
	secure_wipe(raw, sizeof(raw));
	secure_wipe(chk, sizeof(chk));
	return rc;
}

int minisign_parse_secret_key(const char *text, size_t len, struct minisign_secret_key *sk,
			      struct drctl_error *err)
{
	return ms_secret_parse(text, len, NULL, sk, err);
}

int minisign_load_secret_key(const char *path, struct minisign_secret_key *sk,
			     struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (keyfile_read(path, "signing key", 1, MS_KEY_FILE_MAX, &data, &len, err) != 0)
		return -1;
	rc = ms_secret_parse(data, len, path, sk, err);
	keyfile_free(data, len);
	return rc;
}

int minisign_write_secret_key(const char *path, const struct minisign_secret_key *sk,
			      struct drctl_error *err)
{
	uint8_t raw[MS_SECKEY_BYTES];
	char text[sizeof(MS_UNTRUSTED_PREFIX "minisign secret key\n") + 4 * MS_SECKEY_BYTES / 3 + 16];
	size_t n;
	int rc;

	/* Salt and KDF limits stay zero for an unencrypted key, as minisign -W writes them. */
	memset(raw, 0, sizeof(raw));
	raw[0] = 'E';
	raw[1] = 'd';
	raw[MS_SK_CHK_ALG] = 'B';
	raw[MS_SK_CHK_ALG + 1] = '2';
	memcpy(raw + MS_SK_KEYID, sk->keyid, 8);
	memcpy(raw + MS_SK_SEED, sk->seed, 32);
	memcpy(raw + MS_SK_PUB, sk->pub, 32);
	ms_secret_checksum(raw, raw + MS_SK_CHECKSUM);
	n = (size_t)snprintf(text, sizeof(text), "%s", MS_UNTRUSTED_PREFIX "minisign secret key\n");
	n += base64_encode(raw, sizeof(raw), text + n, 1);
	text[n++] = '\n';
	rc = keyfile_write_new(path, "signing key", 0600, text, n, err);
	secure_wipe(raw, sizeof(raw));
	secure_wipe(text, sizeof(text));
	return rc;
}

/* ---- signing ---- */

static int ms_local_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64],
			 struct drctl_error *err)
{
	const struct minisign_secret_key *sk = ctx;

	return ms_ed25519_sign(sk->seed, msg, len, sig, err);
}

void minisign_signer_from_key(const struct minisign_secret_key *sk, struct minisign_signer *signer)
{
	memcpy(signer->keyid, sk->keyid, sizeof(signer->keyid));
	signer->sign = ms_local_sign;
	/* The signer only reads the key; it must outlive the signer. */
	signer->ctx = (void *)sk;
}

/* A comment goes on one line and must fit minisign's line buffer. */
static int ms_check_comment(const char *what, const char *text, size_t max, struct drctl_error *err)
{
	size_t n = strlen(text);

	if (strpbrk(text, "\r\n"))
		return err_set(err, EXIT_USAGE, NULL, NULL, "the %s of a signature must be one line", what);
	if (n > max)
		return err_set(err, EXIT_USAGE, NULL, NULL,
			       "the %s of a signature is %zu bytes; minisign reads at most %zu",
			       what, n, max);
	return 0;
}

static int ms_blake2b512(const void *data, size_t len, uint8_t out[64], struct drctl_error *err)
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_blake2b512(), NULL) != 1 || n != 64)
		return err_set(err, EXIT_FAILED, NULL, NULL, "BLAKE2b-512 failed: %s",
			       err_openssl_reason());
	return 0;
}

int minisign_sign(const struct minisign_signer *signer, const void *data, size_t len,
		  const char *untrusted_comment, const char *trusted_comment,
		  char **sig_text, struct drctl_error *err)
{
	uint8_t hash[64], sigraw[MS_SIG_BYTES], global[MS_ED25519_SIG];
	char sig_b64[104], global_b64[92], default_tc[64];
	uint8_t *signed_tc = NULL;
	size_t tc_len;
	char *out = NULL;
	int rc = -1;

	*sig_text = NULL;
	if (!untrusted_comment)
		untrusted_comment = MS_DEFAULT_UNTRUSTED;
	if (!trusted_comment) {
		snprintf(default_tc, sizeof(default_tc), "timestamp:%lld\thashed", (long long)time(NULL));
		trusted_comment = default_tc;
	}
	if (ms_check_comment("untrusted comment", untrusted_comment, MS_UNTRUSTED_TEXT_MAX, err) != 0 ||
	    ms_check_comment("trusted comment", trusted_comment, MS_TRUSTED_TEXT_MAX, err) != 0)
		return -1;
	tc_len = strlen(trusted_comment);

	/* `ED`: the signature covers BLAKE2b-512 of the data. */
	if (ms_blake2b512(data, len, hash, err) != 0)
		goto fail;
	sigraw[0] = 'E';
	sigraw[1] = 'D';
	memcpy(sigraw + 2, signer->keyid, 8);
	if (signer->sign(signer->ctx, hash, sizeof(hash), sigraw + 10, err) != 0)
		goto fail;

	/* The global signature binds the trusted comment to this signature. */
	signed_tc = malloc(MS_ED25519_SIG + tc_len);
	if (!signed_tc) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory signing");
		goto fail;
	}
	memcpy(signed_tc, sigraw + 10, MS_ED25519_SIG);
	memcpy(signed_tc + MS_ED25519_SIG, trusted_comment, tc_len);
	if (signer->sign(signer->ctx, signed_tc, MS_ED25519_SIG + tc_len, global, err) != 0)
		goto fail;

	base64_encode(sigraw, sizeof(sigraw), sig_b64, 1);
	base64_encode(global, sizeof(global), global_b64, 1);
	if (asprintf(&out, MS_UNTRUSTED_PREFIX "%s\n%s\n" MS_TRUSTED_PREFIX "%s\n%s\n",
		     untrusted_comment, sig_b64, trusted_comment, global_b64) < 0) {
		out = NULL;
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory signing");
		goto fail;
	}
	*sig_text = out;
	rc = 0;
fail:
	free(signed_tc);
	return rc;
}

/* ---- verifying ---- */

struct ms_sig_parsed {
	uint8_t raw[MS_SIG_BYTES];        /* alg | key id | signature */
	uint8_t global[MS_ED25519_SIG];
	const char *tc;                   /* trusted comment text, inside the input */
	size_t tc_len;
};

static int ms_sig_parse(const char *text, size_t len, const char *name, struct ms_sig_parsed *p,
			struct drctl_error *err)
{
	const char *line = NULL;
	size_t pos = 0, line_len = 0;
	int nl = 0;
	const size_t tp = sizeof(MS_TRUSTED_PREFIX) - 1;
	const char *hint = "a .minisig file is four lines: untrusted comment, signature, trusted comment, global signature";

	if (memchr(text, '\0', len))
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s is not a minisign signature (it contains a NUL byte)", name);
	if (ms_next_line(text, len, &pos, &line, &line_len, &nl) != 0 ||
	    !ms_starts_with(line, line_len, MS_UNTRUSTED_PREFIX))
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s does not start with \"" MS_UNTRUSTED_PREFIX "\"", name);
	if (line_len + (size_t)nl > MS_COMMENT_LINE_MAX)
		return err_set(err, EXIT_INTEGRITY, name, NULL,
			       "signature %s has an untrusted comment longer than minisign reads", name);
	if (ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0 ||
	    ms_decode_exact(line, line_len, p->raw, sizeof(p->raw)) != 0)
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s: the second line is not a base64 signature", name);
	if (ms_next_line(text, len, &pos, &line, &line_len, &nl) != 0 ||
	    !ms_starts_with(line, line_len, MS_TRUSTED_PREFIX))
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s: the third line does not start with \"" MS_TRUSTED_PREFIX "\"",
			       name);
	if (line_len + (size_t)nl > MS_TRUSTED_LINE_MAX)
		return err_set(err, EXIT_INTEGRITY, name, NULL,
			       "signature %s has a trusted comment longer than minisign reads", name);
	p->tc = line + tp;
	p->tc_len = line_len - tp;
	/* minisign's trim() cuts the line at a '\r', so it would check a
	 * shorter comment than the one shown here: refuse the ambiguity. */
	if (memchr(p->tc, '\r', p->tc_len))
		return err_set(err, EXIT_INTEGRITY, name, NULL,
			       "signature %s has a carriage return inside its trusted comment", name);
	if (ms_next_line(text, len, &pos, &line, &line_len, NULL) != 0 ||
	    ms_decode_exact(line, line_len, p->global, sizeof(p->global)) != 0)
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s: the fourth line is not a base64 global signature", name);
	if (!ms_rest_is_blank(text, len, pos))
		return err_set(err, EXIT_INTEGRITY, name, hint,
			       "signature %s has unexpected text after its fourth line", name);
	return 0;
}

int minisign_verify(const struct minisign_public_key *pk, const void *data, size_t len,
		    const char *sig_text, size_t sig_len, const char *name,
		    char *trusted_comment, size_t tc_cap, struct drctl_error *err)
{
	struct ms_sig_parsed p;
	uint8_t hash[64], *signed_tc = NULL;
	const uint8_t *msg;
	size_t msg_len;
	int rc = -1;

	if (!name)
		name = "(signature)";
	if (trusted_comment && tc_cap > 0)
		trusted_comment[0] = '\0';
	if (ms_sig_parse(sig_text, sig_len, name, &p, err) != 0)
		return -1;
	if (p.raw[0] == 'E' && p.raw[1] == 'D') {
		if (ms_blake2b512(data, len, hash, err) != 0)
			return -1;
		msg = hash;
		msg_len = sizeof(hash);
	} else if (p.raw[0] == 'E' && p.raw[1] == 'd') {
		msg = data;  /* legacy: the whole data is signed */
		msg_len = len;
	} else {
		return err_set(err, EXIT_INTEGRITY, name, NULL,
			       "signature %s uses an unsupported algorithm (not ED or Ed)", name);
	}
	if (memcmp(p.raw + 2, pk->keyid, 8) != 0) {
		char sig_id[17], key_id[17];

		minisign_keyid_hex(p.raw + 2, sig_id);
		minisign_keyid_hex(pk->keyid, key_id);
		return err_set(err, EXIT_INTEGRITY, name,
			       "verify with the public key that made it (its .pub file's first line names its key id), or re-sign with the configured key",
			       "signature %s was made with key %s, but the public key is %s",
			       name, sig_id, key_id);
	}
	if (!ms_ed25519_verify(pk->pub, msg, msg_len, p.raw + 10))
		return err_set(err, EXIT_INTEGRITY, name,
			       "the signed file was changed or the signature damaged: do not trust this file",
			       "signature %s does not match the data", name);

	signed_tc = malloc(MS_ED25519_SIG + p.tc_len);
	if (!signed_tc) {
		err_set(err, EXIT_FAILED, name, NULL, "out of memory verifying %s", name);
		goto fail;
	}
	memcpy(signed_tc, p.raw + 10, MS_ED25519_SIG);
	memcpy(signed_tc + MS_ED25519_SIG, p.tc, p.tc_len);
	if (!ms_ed25519_verify(pk->pub, signed_tc, MS_ED25519_SIG + p.tc_len, p.global)) {
		err_set(err, EXIT_INTEGRITY, name,
			"the trusted comment or the global signature was changed: do not trust this file",
			"signature %s: the trusted comment's signature does not match", name);
		goto fail;
	}
	if (trusted_comment) {
		if (p.tc_len >= tc_cap) {
			err_set(err, EXIT_FAILED, name, NULL,
				"signature %s: trusted comment of %zu bytes does not fit the %zu-byte buffer",
				name, p.tc_len, tc_cap);
			goto fail;
		}
		memcpy(trusted_comment, p.tc, p.tc_len);
		trusted_comment[p.tc_len] = '\0';
	}
	rc = 0;
fail:
	free(signed_tc);
	return rc;
}
