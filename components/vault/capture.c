/*
 * vault: the Vault component's backup.
 *
 * What is captured, in this order, into the component's archive:
 *   vault/raft.snap          the raft snapshot (part stream), checked while it
 *                            streams: a snapshot that is truncated or lacks
 *                            SHA256SUMS.sealed fails the backup here, not at
 *                            restore time months later;
 *   vault/kv/<mount>.jsonl   for each [vault] kv_mounts entry, every key's
 *                            current value and metadata (for Vaults without
 *                            raft storage), only into an encrypted archive.
 * The manifest section records the node's health (version, cluster), the
 * snapshot's size, SHA-256 and member hashes, and the KV counts, so `drctl
 * show` answers "which cluster, which version, how many keys" without
 * decrypting anything.
 */
#include "components/vault/vault.h"

#include <stdio.h>
#include <string.h>

#include "lib/clients/vault.h"
#include "lib/core/log.h"
#include "lib/set/keys.h"

int vault_configured(const struct config *cfg)
{
	/* VAULT_ADDR alone does not add Vault to every plain `drctl backup`
	 * (an operator's shell often has it); --component vault uses it. */
	return config_get(cfg, "vault", "address") != NULL;
}

static int vault_capture_health(struct vault_client *vc, json_t *section, struct drctl_error *err)
{
	struct vault_health h;

	if (vault_health(vc, &h, err) != 0)
		return -1;
	json_object_set_new(section, "health", vault_health_json(&h));
	if (h.state == VAULT_SEALED)
		return err_set(err, EXIT_FAILED, vault_client_address(vc),
			       "unseal it (`vault operator unseal`), or point [vault] address at an unsealed node, then run the backup again",
			       "Vault at %s is sealed; nothing can be backed up", vault_client_address(vc));
	if (h.state == VAULT_UNINITIALIZED)
		return err_set(err, EXIT_FAILED, vault_client_address(vc), "check [vault] address / VAULT_ADDR",
			       "Vault at %s is not initialized; there is nothing to back up", vault_client_address(vc));
	log_info("Vault at %s: %s, version %s, cluster %s", vault_client_address(vc), vault_state_name(h.state),
		 h.version, h.cluster_name[0] ? h.cluster_name : "?");
	return 0;
}

int vault_capture(struct capture_ctx *ctx, struct drctl_error *err)
{
	const char *mounts[64];
	size_t n_mounts = config_get_list(ctx->cfg, "vault", "kv_mounts", mounts, 64);
	struct vault_client *vc = NULL;
	json_t *streams = json_object(), *kv = json_array(), *snap = NULL;
	int rc = -1, s;

	json_object_set_new(ctx->section, "streams", streams);
	json_object_set_new(ctx->section, "kv", kv);
	if (n_mounts > 64) {
		err_set(err, EXIT_USAGE, "[vault] kv_mounts", NULL, "at most 64 KV mounts can be exported");
		goto done;
	}
	if (n_mounts > 0 && !keys_encryption_enabled(ctx->cfg)) {
		err_set(err, EXIT_USAGE, "[vault] kv_mounts",
			"turn encryption on ([encryption] enabled = true with recipients), or empty [vault] kv_mounts",
			"refusing to export Vault KV secrets into an unencrypted archive");
		goto done;
	}
	if (vault_client_open(&vc, ctx->cfg, NULL, 1, err) != 0)
		goto done;
	json_object_set_new(ctx->section, "source",
			    json_pack("{s:s, s:s}", "address", vault_client_address(vc), "auth_method",
				      vault_client_auth_method(vc)));
	if (vault_capture_health(vc, ctx->section, err) != 0)
		goto done;

	s = vault_snapshot_save(vc, ctx->archive, VAULT_SNAPSHOT_MEMBER, streams, &snap, err);
	if (s < 0)
		goto done;
	if (s == 1) {
		if (n_mounts == 0) {
			err_set(err, EXIT_USAGE, vault_client_address(vc),
				"list the KV v2 mounts to export key by key in [vault] kv_mounts (e.g. kv_mounts = secret)",
				"Vault at %s does not use raft storage, so it has no snapshot, and no [vault] kv_mounts are listed",
				vault_client_address(vc));
			goto done;
		}
		log_info("Vault at %s does not use raft storage: exporting the KV mounts only", vault_client_address(vc));
		json_object_set_new(ctx->section, "snapshot", json_null());
	} else {
		json_object_set_new(ctx->section, "snapshot", snap);
	}

	for (size_t i = 0; i < n_mounts; i++) {
		json_t *facts = NULL;
		if (vault_kv_export(vc, mounts[i], ctx->archive, streams, &facts, err) != 0)
			goto done;
		json_array_append_new(kv, facts);
	}
	rc = 0;
done:
	vault_client_close(vc);
	return rc;
}
