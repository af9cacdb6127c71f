/*
 * check: the morning check, for monitoring (`drctl check`): is there, for
 * every component that matters, a complete backup set young enough?
 *
 * A component's set is the newest complete set that holds it: its manifest
 * is there and its signature verifies with the configured public key (what
 * `drctl list` calls complete); incomplete and invalid sets never count.  A
 * set's age is measured from the time in its id (when the backup began), so
 * a slow backup never looks younger than its data.  A component is fresh
 * when its set is younger than the maximum age; the check is ok when every
 * component is fresh.  Nothing is locked or written: a check may run while a
 * backup does.
 */
#ifndef DRCTL_SCHEDULES_CHECK_H
#define DRCTL_SCHEDULES_CHECK_H

#include <stddef.h>
#include <time.h>

#include "lib/core/config.h"
#include "lib/core/duration.h"
#include "lib/core/error.h"
#include "lib/set/backup_set.h"

#define CHECK_COMPONENTS_MAX 16

struct check_component {
	const char *name;             /* the registry's name */
	int found;                    /* a complete set holds it */
	char set[BACKUP_SET_ID_MAX];  /* that set, when found */
	long long age_seconds;        /* now minus the set's time (0 for a set from the future) */
	int fresh;                    /* found and younger than the maximum age */
};

struct check_result {
	time_t now;
	long long max_age_seconds;    /* the maximum age, counted back from now */
	struct check_component components[CHECK_COMPONENTS_MAX];
	size_t n;
	int ok;                       /* every component is fresh */
};

/* Check the named components (n_names 0: every configured one) against
 * max_age at `now`.  -1 with err when the check cannot say (an unknown
 * component, none configured, the public key, the repository); a stale or
 * missing set is a result (ok = 0), not an error. */
int check_run(const struct config *cfg, const char *const *names, size_t n_names, const struct duration *max_age,
	      time_t now, struct check_result *res, struct drctl_error *err);

#endif
