/*
 * vault: the HashiCorp Vault component.  capture.c streams the raft snapshot
 * (and, optionally, KV v2 mounts key by key); restore.c posts the snapshot
 * back (snapshot-force onto a new cluster) or imports KV; check.c proves the
 * snapshot's own hashes in deep verify.
 */
#ifndef DRCTL_COMPONENTS_VAULT_H
#define DRCTL_COMPONENTS_VAULT_H

#include "components/component.h"

/* drctl restore vault [--target ADDR] [--force-new-cluster] [--kv-only] [--wait SECONDS] */
struct vault_restore_options {
	int force_new_cluster; /* snapshot-force: the snapshot comes from another cluster */
	int kv_only;           /* write the KV exports back, not the snapshot */
	long wait_seconds;     /* for an active, unsealed node after the restore; 0: 300 */
	/* The target's own token (the drill's scratch Vault), instead of
	 * [vault]'s login; NULL: [vault]'s. */
	const struct config_secret_ref *token;
};
extern const struct opt_spec vault_restore_option_table[];

int vault_configured(const struct config *cfg);
int vault_capture(struct capture_ctx *ctx, struct drctl_error *err);
int vault_restore(struct restore_ctx *ctx, struct drctl_error *err);
int vault_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err);
int vault_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
