#include "lib/set/keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/vault.h"
#include "lib/core/keyfile.h"

int keys_encryption_enabled(const struct config *cfg)
{
	const char *v = config_get(cfg, "encryption", "enabled");
	return v == NULL || config_get_bool(cfg, "encryption", "enabled");
}

/* A key file as the configuration names it, so every error about it names
 * the file and the key that points at it, and says what to do. */
struct key_file {
	const char *section, *key;  /* "encryption", "identity_file" */
	const char *what;           /* "age identity", for messages */
	int secret;                 /* refuse it when readable by others */
	const char *recover;        /* where a lost one comes back from */
	const char *untouched;      /* what the failure says nothing about, or NULL */
};

#define KEY_FILE_MAX 4096
#define KEY_UNTOUCHED_SETS "the backup sets were not checked and none is known to be damaged"

static const struct key_file key_public = {
	"signing", "public_key_file", "signing public key", 0,
	"restore signing.pub from its off-site copy (`drctl export-signing-key --out FILE` writes it again from the signing key)",
	KEY_UNTOUCHED_SETS,
};
static const struct key_file key_secret = {
	"signing", "secret_key_file", "signing secret key", 1,
	"restore the signing key from its off-site copy",
	NULL,
};
static const struct key_file key_identity = {
	"encryption", "identity_file", "age identity", 1,
	"restore the identity from its off-site copy",
	"the backup set itself was not checked and is not known to be damaged",
};

/* The hint for a key file that failed to load: the way back (for a missing
 * or a damaged one), or else the fix the reader gave (chmod...), and what
 * the failure leaves untouched. */
static void keys_hint(const struct key_file *k, int recover, struct drctl_error *err)
{
	char env[64], first[sizeof(err->hint)];
	size_t n = (size_t)snprintf(env, sizeof(env), "DRCTL_%s_%s", k->section, k->key);

	for (size_t i = 0; i < n && i < sizeof(env); i++)
		env[i] = (char)toupper((unsigned char)env[i]);
	if (recover || err->code == EXIT_NOT_FOUND)
		snprintf(first, sizeof(first), "%s, or point [%s] %s / %s at it", k->recover, k->section, k->key, env);
	else if (err->hint[0])
		snprintf(first, sizeof(first), "%s", err->hint);
	else
		snprintf(first, sizeof(first), "fix the file, or point [%s] %s / %s at a copy that reads", k->section,
			 k->key, env);
	if (k->untouched)
		err_hint(err, "%s; %s", first, k->untouched);
	else
		err_hint(err, "%s", first);
}

/* Read the file a key of the configuration names: NULL and an error when
 * none is configured or it does not read. */
static char *keys_read(const struct config *cfg, const struct key_file *k, const char **path,
		       size_t max, size_t *len, struct drctl_error *err)
{
	char what[128];
	char *text = NULL;

	*path = config_get_path(cfg, k->section, k->key);
	if (!*path)
		return NULL;
	snprintf(what, sizeof(what), "%s [%s] %s", k->what, k->section, k->key);
	if (keyfile_read(*path, what, k->secret, max, &text, len, err) != 0) {
		keys_hint(k, 0, err);
		return NULL;
	}
	return text;
}

/* A key file that read but does not hold a usable key: name it. */
static int keys_bad_content(const struct key_file *k, const char *path, struct drctl_error *err)
{
	err_prefix(err, "[%s] %s %s", k->section, k->key, path);
	if (!err->subject[0])
		snprintf(err->subject, sizeof(err->subject), "%s", path);
	keys_hint(k, 1, err);
	return -1;
}

int keys_load_public(const struct config *cfg, struct minisign_public_key *pk, struct drctl_error *err)
{
	const char *path;
	size_t len = 0;
	char *text = keys_read(cfg, &key_public, &path, KEY_FILE_MAX, &len, err);
	int rc;

	if (!text && !path)
		return err_set(err, EXIT_USAGE, "[signing] public_key_file",
			       "set [signing] public_key_file to the minisign public key (drctl init writes signing.pub)",
			       "no signing public key is configured");
	if (!text)
		return -1;
	rc = minisign_parse_public_key(text, len, pk, err);
	keyfile_free(text, len);
	return rc == 0 ? 0 : keys_bad_content(&key_public, path, err);
}

int keys_load_signer(const struct config *cfg, struct minisign_secret_key *sk,
		     struct minisign_signer *signer, struct drctl_error *err)
{
	const char *path;
	size_t len = 0;
	char *text;
	int rc;

	/* [signing] vault_transit_key: the secret stays in Vault (lib/clients/vault_transit.c). */
	if (config_get(cfg, "signing", "vault_transit_key"))
		return vault_transit_signer_for_backup(cfg, signer, err);
	text = keys_read(cfg, &key_secret, &path, KEY_FILE_MAX, &len, err);
	if (!text && !path)
		return err_set(err, EXIT_USAGE, "[signing] secret_key_file",
			       "set [signing] secret_key_file (drctl init writes signing.key)",
			       "no signing secret key is configured; a backup set cannot be published unsigned");
	if (!text)
		return -1;
	rc = minisign_parse_secret_key(text, len, sk, err);
	keyfile_free(text, len);
	if (rc != 0)
		return keys_bad_content(&key_secret, path, err);
	minisign_signer_from_key(sk, signer);
	return 0;
}

int keys_load_recipients(const struct config *cfg, struct age_recipient **r, size_t *n,
			 struct drctl_error *err)
{
	const char *items[64];
	size_t count;

	*r = NULL;
	*n = 0;
	if (!keys_encryption_enabled(cfg))
		return 0;
	count = config_get_list(cfg, "encryption", "recipients", items, 64);
	if (count == 0)
		return err_set(err, EXIT_USAGE, "[encryption] recipients",
			       "add the age1... recipient of your identity (drctl init writes it), or set [encryption] enabled = false to store backups unencrypted",
			       "encryption is on but no recipients are configured");
	if (count > 64)
		return err_set(err, EXIT_USAGE, "[encryption] recipients", NULL, "at most 64 recipients are supported");
	*r = calloc(count, sizeof(**r));
	if (!*r)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (age_recipient_parse(items[i], &(*r)[i], err) != 0) {
			err_prefix(err, "[encryption] recipients");
			free(*r);
			*r = NULL;
			return -1;
		}
	}
	*n = count;
	return 0;
}

int keys_load_identities(const struct config *cfg, struct age_identity **ids, size_t *n,
			 struct drctl_error *err)
{
	const char *path;
	size_t len = 0;
	char *text;
	int rc;

	*ids = NULL;
	*n = 0;
	text = keys_read(cfg, &key_identity, &path, 1 << 20, &len, err);
	if (!text && !path)
		return err_set(err, EXIT_USAGE, "[encryption] identity_file",
			       "set [encryption] identity_file (or DRCTL_ENCRYPTION_IDENTITY_FILE) to the age identity that decrypts the backups",
			       "reading archive contents needs the age identity, and none is configured");
	if (!text)
		return -1;
	rc = age_identities_parse(text, len, ids, n, err);
	keyfile_free(text, len);
	return rc == 0 ? 0 : keys_bad_content(&key_identity, path, err);
}
