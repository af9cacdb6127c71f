/*
 * repo_s3_retention: the S3 driver and Object Lock (Amazon S3 User Guide,
 * "Locking objects with Object Lock").
 *
 * - Writing: with [repository] object_lock_days = N every new object gets
 *   x-amz-object-lock-mode and x-amz-object-lock-retain-until-date (the
 *   client does that, lib/clients/s3_object.c).  A bucket without Object
 *   Lock refuses those headers, so the driver asks the bucket first, at
 *   open (GetObjectLockConfiguration), and refuses with the way out
 *   instead of failing at the first upload of a backup.
 * - Removing: a version under retention cannot be deleted, and a DELETE
 *   without versionId in a versioned bucket (Object Lock turns versioning
 *   on) only adds a delete marker over it.  retained_until tells prune which
 *   objects the store still holds, from HeadObject's lock headers, so it
 *   keeps their sets rather than hide them behind delete markers.  drctl
 *   never deletes a version by id and never sends
 *   x-amz-bypass-governance-retention.
 */
#include "lib/storage/repo_s3_private.h"

#include <time.h>

#include "lib/core/log.h"

int repo_s3_check_object_lock(struct repo_s3 *r, struct drctl_error *err)
{
	long days = s3_client_lock_days(r->client);
	const char *bucket = s3_client_bucket(r->client);
	int rc;

	if (days <= 0)
		return 0; /* asked later, lazily, only if prune needs to know */
	if ((rc = s3_object_lock_enabled(r->conn, err)) < 0) {
		err_prefix(err, "checking that bucket %s has Object Lock ([repository] object_lock_days = %ld)", bucket, days);
		return -1;
	}
	r->object_lock = rc;
	if (rc == 1)
		return 0;
	err_set(err, EXIT_USAGE, "[repository] object_lock_days",
		"use a bucket made with Object Lock (`aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket`), or set [repository] object_lock_days = 0 to write without retention (DRCTL_REPOSITORY_OBJECT_LOCK_DAYS=0 for one command, e.g. a restore)",
		"bucket %s has no Object Lock enabled, but [repository] object_lock_days = %ld asks for every object to be retained %ld day%s; nothing was written",
		bucket, days, days, days == 1 ? "" : "s");
	return -1;
}

/* Whether HEADs can tell anything: the bucket's Object Lock, asked once.
 * A store that cannot say (a refused GetObjectLockConfiguration) is asked
 * object by object. */
static int s3_bucket_may_retain(struct repo_s3 *r)
{
	struct drctl_error err;
	int rc;

	if (r->object_lock >= 0)
		return r->object_lock != 0;
	err_clear(&err);
	rc = s3_object_lock_enabled(r->conn, &err);
	if (rc < 0)
		log_debug("%s: the bucket's Object Lock configuration is unknown (%s); each object's retention is asked for",
			  r->base.description, err.message);
	r->object_lock = rc < 0 ? 2 : rc;
	return r->object_lock != 0;
}

int repo_s3_retained_until(struct repo *base, const char *name, time_t *until, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	char key[REPO_S3_KEY_MAX + 1];
	struct s3_object_info info;
	int rc = 0;

	*until = 0;
	if (repo_s3_key(r, name, key, sizeof(key), err) != 0)
		return -1;
	repo_s3_take(r);
	if (s3_bucket_may_retain(r))
		rc = s3_head_object(r->conn, key, &info, err);
	repo_s3_release(r);
	if (rc != 1)
		return rc; /* no Object Lock, the object is gone, or an error */
	if (!info.lock_mode[0] || info.retain_until <= time(NULL))
		return 0;
	*until = info.retain_until;
	return 1;
}
