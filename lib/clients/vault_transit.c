/*
 * vault_transit: minisign signatures made by a Vault transit ed25519 key, so
 * the signing secret never sits on the backup host.
 *
 * minisign's `ED` signature is Ed25519 over BLAKE2b-512(file) and its global
 * signature is Ed25519 over signature || trusted comment: minisign.c hands the
 * signer exactly those bytes, and transit's ed25519 signs its input as is
 * (no prehash), so posting them base64-encoded gives signatures that stock
 * `minisign -V` accepts with the public key exported from transit.
 *
 * Key id: minisign needs 8 bytes; transit has none, so drctl uses the first 8
 * bytes of SHA-256 of the raw 32-byte public key: stable for a key version,
 * different for another key.  The key version is pinned at open time and
 * every signature is checked against the public key before it is used, so a
 * rotation of the transit key in the middle of a backup cannot produce a set
 * that does not verify.
 */
#include "lib/clients/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/clients/http.h"
#include "lib/core/log.h"
#include "lib/crypto/base64.h"

struct transit_signer {
	struct vault_client *vc;
	char key[256];
	long version;
	struct minisign_public_key pk;
};

/* The signer interface has no close; the client (and its token) is closed
 * at exit instead. */
static struct transit_signer *transit_open_signers[4];

static void transit_close_all(void)
{
	for (size_t i = 0; i < 4; i++) {
		if (transit_open_signers[i]) {
			vault_client_close(transit_open_signers[i]->vc);
			free(transit_open_signers[i]);
			transit_open_signers[i] = NULL;
		}
	}
}

static int transit_key_path(const char *prefix, const char *key, char *out, size_t cap, struct drctl_error *err)
{
	char esc[768];
	if (http_escape_segment(key, esc, sizeof(esc)) != 0 || snprintf(out, cap, "transit/%s/%s", prefix, esc) >= (int)cap)
		return err_set(err, EXIT_USAGE, key, NULL, "transit key name %.100s is too long", key);
	return 0;
}

int vault_transit_public_key(struct vault_client *vc, const char *key, struct minisign_public_key *pk,
			     long *version, struct drctl_error *err)
{
	char path[1024], ver[32];
	json_t *resp = NULL, *d;
	const char *type, *b64;
	uint8_t raw[64], digest[32];
	unsigned int dlen = 0;
	long status = 0, n;
	int rc = -1;

	if (transit_key_path("keys", key, path, sizeof(path), err) != 0)
		return -1;
	if (vault_json(vc, "GET", path, NULL, VAULT_CALL_OK_404, &status, &resp, err) != 0 || status == 404) {
		/* Vault answers a missing transit key with 400 (or 404). */
		if (status == 404 || status == 400) {
			err_clear(err);
			err_set(err, EXIT_NOT_FOUND, key,
				"create it: `vault write -f transit/keys/<name> type=ed25519`, or fix [signing] vault_transit_key",
				"Vault at %s has no transit key %s", vault_client_address(vc), key);
		}
		goto done;
	}
	d = json_object_get(resp, "data");
	type = json_string_value(json_object_get(d, "type"));
	if (!type || strcmp(type, "ed25519") != 0) {
		err_set(err, EXIT_USAGE, key, "create an ed25519 key: `vault write -f transit/keys/<name> type=ed25519`",
			"transit key %s is of type %s; minisign signatures need ed25519", key, type ? type : "?");
		goto done;
	}
	*version = (long)json_integer_value(json_object_get(d, "latest_version"));
	snprintf(ver, sizeof(ver), "%ld", *version);
	b64 = json_string_value(json_object_get(json_object_get(json_object_get(d, "keys"), ver), "public_key"));
	if (!b64 || (n = base64_decode(b64, strlen(b64), raw, sizeof(raw), 1)) != 32) {
		err_set(err, EXIT_FAILED, key, NULL, "transit key %s version %ld has no 32-byte public key", key, *version);
		goto done;
	}
	memcpy(pk->pub, raw, 32);
	if (!EVP_Digest(raw, 32, digest, &dlen, EVP_sha256(), NULL)) {
		err_set(err, EXIT_FAILED, NULL, NULL, "SHA-256 failed");
		goto done;
	}
	memcpy(pk->keyid, digest, 8);
	rc = 0;
done:
	json_decref(resp);
	return rc;
}

static int transit_verify(const uint8_t pub[32], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = k && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

static int transit_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64], struct drctl_error *err)
{
	struct transit_signer *t = ctx;
	char path[1024], *b64 = NULL;
	const char *s, *p;
	json_t *body = NULL, *resp = NULL;
	uint8_t raw[96];
	int rc = -1;

	if (transit_key_path("sign", t->key, path, sizeof(path), err) != 0)
		return -1;
	if (!(b64 = malloc(base64_encoded_len(len, 1) + 1))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	base64_encode(msg, len, b64, 1);
	body = json_pack("{s:s, s:i}", "input", b64, "key_version", (int)t->version);
	if (!body) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (vault_json(t->vc, "POST", path, body, 0, NULL, &resp, err) != 0) {
		err_prefix(err, "signing with transit key %s", t->key);
		goto done;
	}
	s = json_string_value(json_object_get(json_object_get(resp, "data"), "signature"));
	/* "vault:v<N>:<base64 of 64 bytes>" */
	if (!s || strncmp(s, "vault:v", 7) != 0 || !(p = strchr(s + 7, ':')) ||
	    base64_decode(p + 1, strlen(p + 1), raw, sizeof(raw), 1) != 64) {
		err_set(err, EXIT_FAILED, t->key, NULL, "transit key %s returned a signature drctl cannot read", t->key);
		goto done;
	}
	if (!transit_verify(t->pk.pub, msg, len, raw)) {
		err_set(err, EXIT_INTEGRITY, t->key, "check that the transit key was not rotated during the backup, then run it again",
			"transit key %s returned a signature that does not verify with its version %ld public key", t->key,
			t->version);
		goto done;
	}
	memcpy(sig, raw, 64);
	rc = 0;
done:
	free(b64);
	json_decref(body);
	json_decref(resp);
	return rc;
}

int vault_transit_signer_open(const struct config *cfg, const char *key, struct minisign_signer *signer,
			      struct minisign_public_key *pk, struct drctl_error *err)
{
	struct transit_signer *t = calloc(1, sizeof(*t));
	size_t slot;

	for (slot = 0; slot < 4 && transit_open_signers[slot]; slot++)
		;
	if (!t || slot == 4) {
		free(t);
		return err_set(err, EXIT_FAILED, NULL, NULL, "too many transit signers open");
	}
	snprintf(t->key, sizeof(t->key), "%s", key);
	if (vault_client_open(&t->vc, cfg, NULL, 1, err) != 0)
		goto fail;
	if (vault_transit_public_key(t->vc, key, &t->pk, &t->version, err) != 0)
		goto fail;
	{
		static int registered;
		if (!registered && atexit(transit_close_all) == 0)
			registered = 1;
	}
	transit_open_signers[slot] = t;
	memcpy(signer->keyid, t->pk.keyid, 8);
	signer->sign = transit_sign;
	signer->ctx = t;
	if (pk)
		*pk = t->pk;
	return 0;
fail:
	vault_client_close(t->vc);
	free(t);
	return -1;
}

int vault_transit_signer_for_backup(const struct config *cfg, struct minisign_signer *signer,
				    struct drctl_error *err)
{
	const char *key = config_get(cfg, "signing", "vault_transit_key");
	const char *path = config_get_path(cfg, "signing", "public_key_file");
	struct minisign_public_key pk, have;
	char id[17];

	if (!path)
		return err_set(err, EXIT_USAGE, "[signing] public_key_file",
			       "set [signing] public_key_file: drctl writes the transit key's minisign public key there",
			       "signing with Vault transit needs [signing] public_key_file");
	if (vault_transit_signer_open(cfg, key, signer, &pk, err) != 0)
		return -1;
	minisign_keyid_hex(pk.keyid, id);
	if (access(path, F_OK) != 0) {
		if (minisign_write_public_key(path, &pk, err) != 0)
			return -1;
		log_info("wrote the minisign public key of transit key %s (key id %s) to %s", key, id, path);
		return 0;
	}
	if (minisign_load_public_key(path, &have, err) != 0) {
		err_prefix(err, "[signing] public_key_file");
		return -1;
	}
	if (memcmp(have.keyid, pk.keyid, 8) != 0 || memcmp(have.pub, pk.pub, 32) != 0)
		return err_set(err, EXIT_USAGE, path,
			       "remove the file (drctl writes the transit key's public key there), or point [signing] public_key_file elsewhere",
			       "%s holds another key than transit key %s (key id %s): sets signed now would not verify with it",
			       path, key, id);
	return 0;
}

int vault_transit_export_public_key(const struct config *cfg, const char *key, const char *path,
				    struct drctl_error *err)
{
	struct vault_client *vc = NULL;
	struct minisign_public_key pk;
	long version;
	int rc = -1;

	if (vault_client_open(&vc, cfg, NULL, 1, err) != 0)
		return -1;
	if (vault_transit_public_key(vc, key, &pk, &version, err) == 0)
		rc = minisign_write_public_key(path, &pk, err);
	vault_client_close(vc);
	return rc;
}
