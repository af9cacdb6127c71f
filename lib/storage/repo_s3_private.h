/*
 * repo_s3_private: what the S3 driver's two files share: repo_s3.c (open,
 * read, list, stat, remove, stale uploads) and repo_s3_write.c (the
 * object sink), with repo_s3_retention.c (Object Lock).  Only they include it.
 */
#ifndef DRCTL_REPO_S3_PRIVATE_H
#define DRCTL_REPO_S3_PRIVATE_H

#include <pthread.h>

#include "lib/clients/s3.h"
#include "lib/storage/repo_private.h"

/* S3 keys are at most 1024 bytes: the prefix and the name together. */
#define REPO_S3_KEY_MAX 1024

struct repo_s3 {
	struct repo base;
	struct s3_client *client;
	/* The handle's connection, for everything but the parts a writer
	 * uploads on its own thread; mu serializes its use (a reader or
	 * writer may run on a stream_thread worker). */
	struct s3_conn *conn;
	pthread_mutex_t mu;
	char prefix[REPO_S3_KEY_MAX];  /* "" or "a/b/" */
	int object_lock;               /* the bucket's Object Lock: -1 not asked yet, 0 none, 1 enabled, 2 unknown */
	size_t part_size;
};

/* The key of an object or folder name: the prefix and the name; a key
 * longer than S3 takes is EXIT_FAILED naming it. */
int repo_s3_key(const struct repo_s3 *r, const char *name, char *out, size_t cap, struct drctl_error *err);
void repo_s3_take(struct repo_s3 *r);
void repo_s3_release(struct repo_s3 *r);

/* Object Lock (repo_s3_retention.c).  At open: with [repository]
 * object_lock_days set, the bucket must have Object Lock enabled, else
 * EXIT_USAGE with the way out.  retained_until is the driver's op. */
int repo_s3_check_object_lock(struct repo_s3 *r, struct drctl_error *err);
int repo_s3_retained_until(struct repo *base, const char *name, time_t *until, struct drctl_error *err);

/* The object sink (repo_s3_write.c). */
struct sink *repo_s3_writer_new(struct repo_s3 *r, const char *name, struct drctl_error *err);

#endif
