/*
 * redis: the Redis component.  capture.c takes the RDB over the replication
 * protocol (as a replica would), validated while it streams; restore.c
 * RESTOREs it into a running server, restore_rdb.c reads it out of the
 * archive (and writes --rdb-file); check.c re-walks it in deep verify.
 */
#ifndef DRCTL_COMPONENTS_REDIS_H
#define DRCTL_COMPONENTS_REDIS_H

#include "components/component.h"

/* drctl restore redis [--target URL] [--flush] [--method commands|replication] | --rdb-file PATH */
struct redis_restore_options {
	const char *rdb_file; /* write the RDB to this file instead of a server */
	int flush;            /* empty the target server first (after the backup was proven) */
	/* "commands" (RESTORE per key) or "replication" (the server loads the
	 * RDB as drctl's replica); NULL: [redis] restore_method. */
	const char *method;
	/* The target's password when its URL has none: NULL is [redis]'s (the
	 * platform's server); the drill gives its scratch server's. */
	const struct config_secret_ref *password;
};
extern const struct opt_spec redis_restore_option_table[];

int redis_configured(const struct config *cfg);
int redis_capture(struct capture_ctx *ctx, struct drctl_error *err);
int redis_restore(struct restore_ctx *ctx, struct drctl_error *err);
int redis_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err);
int redis_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
