/*
 * restore_private: what the Redis restore's two files share: restore.c
 * (into a running server) and restore_rdb.c (reading the RDB out of the
 * archive, and --rdb-file).  redis.h is the component's public face.
 */
#ifndef DRCTL_RESTORE_REDIS_PRIVATE_H
#define DRCTL_RESTORE_REDIS_PRIVATE_H

#include "components/redis/redis.h"
#include "lib/core/log.h"
#include "lib/format/rdb.h"
#include "lib/stream/archive_stream.h"

#define REDIS_RDB_STREAM "redis/dump.rdb"

/* Read the whole RDB stream of an archive through `parser`, also into fd
 * when fd >= 0 (fd_name for messages), and check CRC and the manifest's
 * counts; progress may be NULL. */
int redis_read_rdb(struct archive_in *ai, json_t *section, struct rdb_parser *parser, int fd, const char *fd_name,
		   struct progress *progress, struct drctl_error *err);

/* Prove the backup before anything in the target is destroyed: a pass of
 * its own over the same set, every hash and the RDB's CRC. */
int redis_prove_backup(struct restore_ctx *ctx, struct drctl_error *err);

/* --rdb-file PATH. */
int redis_write_rdb_file(struct restore_ctx *ctx, const char *path, struct drctl_error *err);

#endif
