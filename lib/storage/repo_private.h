/*
 * repo_private: the drivers' rows, which lib/storage/repo.c puts in its
 * table.  Only repo.c and the drivers include it; repo.h is the module's
 * public face.
 */
#ifndef DRCTL_REPO_PRIVATE_H
#define DRCTL_REPO_PRIVATE_H

#include "lib/storage/repo.h"

/* lib/storage/repo_local.c: [repository] type = local, a folder. */
extern const struct repo_driver repo_driver_local;
/* lib/storage/repo_s3.c: [repository] type = s3, an S3-compatible bucket. */
extern const struct repo_driver repo_driver_s3;

#endif
