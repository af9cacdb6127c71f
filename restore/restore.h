/*
 * restore: `drctl restore COMPONENT`: find a complete, signed set, stream the
 * component's object back (repository -> hash -> age -> tar.zst), hand the
 * members to the component's restore, and check the object's hash against the
 * signed manifest at the end.
 */
#ifndef DRCTL_RESTORE_H
#define DRCTL_RESTORE_H

#include <jansson.h>

#include "component.h"
#include "config.h"
#include "error.h"

/* report: filled with what was done (id, component, target, counts). */
int restore_run(const struct config *cfg, const char *component, const struct restore_options *opts,
		json_t *report, struct drctl_error *err);

/* The files component (restore/files.c). */
int files_restore(struct restore_ctx *ctx, struct drctl_error *err);

/* The PostgreSQL component (restore/postgres.c). */
int postgres_restore(struct restore_ctx *ctx, struct drctl_error *err);

/* The Vault component (restore/vault.c). */
int vault_restore(struct restore_ctx *ctx, struct drctl_error *err);

/* The Redis component (restore/redis.c): RESTORE into a running server, or --rdb-file. */
int redis_restore(struct restore_ctx *ctx, struct drctl_error *err);

#endif
