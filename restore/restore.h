/*
 * restore: `drctl restore COMPONENT`: find a complete, signed set, stream the
 * component's object back (repository -> hash -> age -> tar.zst), hand the
 * members to the component's restore, and check the object's hash against the
 * signed manifest at the end.
 */
#ifndef DRCTL_RESTORE_H
#define DRCTL_RESTORE_H

#include <jansson.h>
#include <stdint.h>

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

/* Loading one PostgreSQL dump stream into an existing, empty database with
 * pg_restore (restore/postgres_load.c), for restore/postgres.c.  report
 * gets what was done. */
struct pg_child_env;
struct pg_load {
	const char *pg_restore;  /* the program */
	const char *database;    /* the dump's database, for messages */
	const char *staging;     /* the database to load into */
	const char *state_dir;   /* for the TOC file, the lists and the spools */
	const struct pg_child_env *env;
	long jobs;               /* pg_restore processes at once */
	int no_owner;            /* the roles are missing: --no-owner --no-acl */
	json_t *weights;         /* {"schema.table": size}, to spread the tables; may be NULL */
	uint64_t dump_size;      /* the dump stream's size: the most a spool can hold */
};
struct source;
int postgres_load(const struct pg_load *l, struct source *dump, json_t *report, struct drctl_error *err);

/* The Vault component (restore/vault.c). */
int vault_restore(struct restore_ctx *ctx, struct drctl_error *err);

/* The Redis component (restore/redis.c): RESTORE into a running server, or --rdb-file. */
int redis_restore(struct restore_ctx *ctx, struct drctl_error *err);

#endif
