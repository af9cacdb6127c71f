/*
 * vault_private: what the files of the Vault client share beyond vault.h.
 */
#ifndef DRCTL_VAULT_PRIVATE_H
#define DRCTL_VAULT_PRIVATE_H

#include <stddef.h>

#include <jansson.h>

/* "<mount>/<kind>/<path>[suffix]" with every segment of path
 * percent-encoded (kind: data, metadata); -1 when it does not fit. */
int vault_kv_api_path(const char *mount, const char *kind, const char *path, const char *suffix, char *out,
		      size_t cap);
/* Overwrite every string a JSON document holds (secret values), then drop
 * the reference (wiped only when it was the last one). */
void vault_json_wipe_free(json_t *j);

#endif
