#include "lib/set/keys.h"

#include <stdlib.h>
#include <string.h>

#include "lib/clients/vault.h"
#include "lib/core/keyfile.h"

int keys_encryption_enabled(const struct config *cfg)
{
	const char *v = config_get(cfg, "encryption", "enabled");
	return v == NULL || config_get_bool(cfg, "encryption", "enabled");
}

int keys_load_public(const struct config *cfg, struct minisign_public_key *pk, struct drctl_error *err)
{
	const char *path = config_get_path(cfg, "signing", "public_key_file");
	if (!path)
		return err_set(err, EXIT_USAGE, "[signing] public_key_file",
			       "set [signing] public_key_file to the minisign public key (drctl init writes signing.pub)",
			       "no signing public key is configured");
	return minisign_load_public_key(path, pk, err);
}

int keys_load_signer(const struct config *cfg, struct minisign_secret_key *sk,
		     struct minisign_signer *signer, struct drctl_error *err)
{
	const char *path = config_get_path(cfg, "signing", "secret_key_file");
	/* [signing] vault_transit_key: the secret stays in Vault (lib/clients/vault_transit.c). */
	if (config_get(cfg, "signing", "vault_transit_key"))
		return vault_transit_signer_for_backup(cfg, signer, err);
	if (!path)
		return err_set(err, EXIT_USAGE, "[signing] secret_key_file",
			       "set [signing] secret_key_file (drctl init writes signing.key)",
			       "no signing secret key is configured; a backup set cannot be published unsigned");
	if (minisign_load_secret_key(path, sk, err) != 0)
		return -1;
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
	const char *path = config_get_path(cfg, "encryption", "identity_file");
	char *text = NULL;
	size_t len = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (!path)
		return err_set(err, EXIT_USAGE, "[encryption] identity_file",
			       "set [encryption] identity_file (or DRCTL_ENCRYPTION_IDENTITY_FILE) to the age identity that decrypts the backups",
			       "reading archive contents needs the age identity, and none is configured");
	if (keyfile_read(path, "age identity", 1, 1 << 20, &text, &len, err) != 0)
		return -1;
	rc = age_identities_parse(text, len, ids, n, err);
	keyfile_free(text, len);
	if (rc == 0 && *n == 0)
		rc = err_set(err, EXIT_USAGE, path, NULL, "%s holds no AGE-SECRET-KEY-1 identity", path);
	if (rc != 0)
		err_prefix(err, "%s", path);
	return rc;
}
