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

struct redis_conn;
struct redis_db_count;

/* The keys a restore put into a server (restore_counts.c). */
struct redis_counts {
	struct redis_db_count *dbs;
	size_t ndbs;
	uint64_t sent;    /* keys put in */
	uint64_t skipped; /* keys whose expiry had passed when they were read */
	int64_t started_ms;
};
int64_t redis_now_ms(void);
void redis_counts_start(struct redis_counts *c);
/* One key of database db: 1 when its expiry (ms since the epoch, -1 none)
 * has passed (counted as skipped), 0 counted as sent, -1 out of memory. */
int redis_counts_add(struct redis_counts *c, uint32_t db, int64_t expire_ms, struct drctl_error *err);
/* INFO keyspace of conn against the counts; per-database figures go into
 * report["databases"]. */
int redis_counts_compare(struct redis_conn *conn, const struct redis_counts *c, int expired_may_remain, json_t *report,
			 struct drctl_error *err);
void redis_counts_free(struct redis_counts *c);

/* How the RDB's bytes are copied on as they are read (the file of
 * --rdb-file, the replication link); NULL: they are only checked. */
struct rdb_copy {
	int (*write)(void *arg, const void *buf, size_t len, struct drctl_error *err);
	void *arg;
};

/* Read the whole RDB stream of an archive through `parser`, also into copy
 * (may be NULL), and check CRC and the manifest's counts; progress may be
 * NULL. */
int redis_read_rdb(struct archive_in *ai, json_t *section, struct rdb_parser *parser, const struct rdb_copy *copy,
		   struct progress *progress, struct drctl_error *err);

/* Prove the backup before anything in the target is destroyed: a pass of
 * its own over the same set, every hash and the RDB's CRC. */
int redis_prove_backup(struct restore_ctx *ctx, struct drctl_error *err);

/* Into the server on conn (at target_url) as its replication primary
 * (restore_replica.c); the checks before it are the caller's. */
int redis_restore_by_replication(struct restore_ctx *ctx, struct redis_conn *conn, const char *target_url,
				 struct drctl_error *err);

/* --rdb-file PATH. */
int redis_write_rdb_file(struct restore_ctx *ctx, const char *path, struct drctl_error *err);

#endif
