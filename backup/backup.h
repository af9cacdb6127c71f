/*
 * backup: one run of `drctl backup`: plan the set, capture every component
 * into its own archive object, publish the signed set last.
 */
#ifndef DRCTL_BACKUP_H
#define DRCTL_BACKUP_H

#include <jansson.h>

#include "backup_set.h"
#include "component.h"
#include "config.h"
#include "error.h"

struct backup_request {
	const char *components[16]; /* names; none = every configured component */
	size_t n_components;
	const char *tag;
};

struct backup_result {
	char id[BACKUP_SET_ID_MAX];
	json_t *manifest; /* owned by the caller after success */
};

int backup_run(const struct config *cfg, const struct backup_request *req,
	       struct backup_result *res, struct drctl_error *err);

/* The files component (backup/files.c). */
int files_configured(const struct config *cfg);
int files_capture(struct capture_ctx *ctx, struct drctl_error *err);

/* The PostgreSQL component (backup/postgres.c). */
int postgres_configured(const struct config *cfg);
int postgres_capture(struct capture_ctx *ctx, struct drctl_error *err);

/* The Vault component (backup/vault.c). */
int vault_configured(const struct config *cfg);
int vault_capture(struct capture_ctx *ctx, struct drctl_error *err);

/* The Redis component (backup/redis.c): the RDB over the replication protocol. */
int redis_configured(const struct config *cfg);
int redis_capture(struct capture_ctx *ctx, struct drctl_error *err);

#endif
