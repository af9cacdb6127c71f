/*
 * vault: the HashiCorp Vault component.  capture.c streams the raft snapshot
 * (and, optionally, KV v2 mounts key by key); restore.c posts the snapshot
 * back (snapshot-force onto a new cluster) or imports KV; check.c proves the
 * snapshot's own hashes in deep verify.
 */
#ifndef DRCTL_COMPONENTS_VAULT_H
#define DRCTL_COMPONENTS_VAULT_H

#include "components/component.h"

int vault_configured(const struct config *cfg);
int vault_capture(struct capture_ctx *ctx, struct drctl_error *err);
int vault_restore(struct restore_ctx *ctx, struct drctl_error *err);
int vault_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err);
int vault_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
