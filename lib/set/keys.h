/*
 * keys: loading the keys the configuration names, with the checks an
 * operator needs (missing file, mode readable by others, wrong format), so
 * every command gets them the same way.
 */
#ifndef DRCTL_KEYS_H
#define DRCTL_KEYS_H

#include <stddef.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"

/* [signing] public_key_file: needed by every reader of the repository. */
int keys_load_public(const struct config *cfg, struct minisign_public_key *pk, struct drctl_error *err);
/* [signing] secret_key_file: the backup job's signer.  Wipe sk after use. */
int keys_load_signer(const struct config *cfg, struct minisign_secret_key *sk,
		     struct minisign_signer *signer, struct drctl_error *err);
/* [encryption] recipients; *n == 0 when encryption is disabled.  Malloc'd. */
int keys_load_recipients(const struct config *cfg, struct age_recipient **r, size_t *n,
			 struct drctl_error *err);
/* [encryption] identity_file (or DRCTL_ENCRYPTION_IDENTITY_FILE): only to restore / deep verify. */
int keys_load_identities(const struct config *cfg, struct age_identity **ids, size_t *n,
			 struct drctl_error *err);
int keys_encryption_enabled(const struct config *cfg);

#endif
