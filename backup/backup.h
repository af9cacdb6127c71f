/*
 * backup: one run of `drctl backup`: plan the set, capture every component
 * into its own archive object, publish the signed set last.
 */
#ifndef DRCTL_BACKUP_H
#define DRCTL_BACKUP_H

#include <jansson.h>

#include "components/component.h"
#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/set/backup_set.h"

struct backup_request {
	const char *components[16]; /* names; none = every configured component */
	size_t n_components;
	const char *tag;
	long parallel; /* components at the same time; 0 = [backup] parallel */
	int steal; /* --steal: remove stale conflicting locks (lib/storage/repo_lock.h) */
};

/* Components captured at the same time when [backup] parallel is unset:
 * every configured one, at most this many. */
#define BACKUP_PARALLEL_DEFAULT 4

struct backup_result {
	char id[BACKUP_SET_ID_MAX];
	json_t *manifest; /* owned by the caller after success */
};

int backup_run(const struct config *cfg, const struct backup_request *req,
	       struct backup_result *res, struct drctl_error *err);

#endif
