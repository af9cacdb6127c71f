/*
 * prune: one run of `drctl prune`: read the [retention] policy, take the
 * repository's exclusive lock (lib/storage/repo_lock.h: no backup, restore,
 * verify or drill holds a shared one meanwhile), list the sets, decide each one
 * (lib/set/retention.h has the rules), and remove what the decision says,
 * oldest first, each set manifest first (backup_set_remove).
 *
 * The steps are separate so that a caller can look at the decision before
 * anything is removed (--dry-run), and so that whoever knows why a set must
 * stay (a scenario run that uses it, Object Lock) can mark it protected
 * between prune_open and prune_decide.
 */
#ifndef DRCTL_SCHEDULES_PRUNE_H
#define DRCTL_SCHEDULES_PRUNE_H

#include <stddef.h>
#include <time.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/set/backup_set.h"
#include "lib/set/retention.h"
#include "lib/storage/repo.h"
#include "lib/storage/repo_lock.h"

/* A set the store itself still holds (S3 Object Lock retention). */
struct prune_hold {
	time_t until;                       /* 0: nothing holds the set */
	char until_text[24];                /* "2026-12-02T10:47:00Z" */
	char reason[64];                    /* "under Object Lock until 2026-12-02T10:47:00Z" */
};

struct prune_plan {
	struct retention_policy policy;
	time_t now;
	struct repo *repo;
	struct repo_lock *lock;             /* exclusive (shared for a dry run) */
	struct backup_set_info *sets;       /* newest first */
	size_t n;
	struct retention_set *input;        /* one per set; protected_reason may be set */
	struct retention_decision *decisions;
	struct prune_hold *holds;           /* one per set */
	size_t n_held;                      /* sets kept only because the store retains them */
	size_t n_remove, n_removed;
	size_t n_uploads_aborted;           /* unfinished uploads of dead writers (S3) */
};

/* The [retention] keys. */
int prune_policy_from_config(const struct config *cfg, struct retention_policy *p, struct drctl_error *err);
struct prune_request {
	int dry_run; /* removes nothing: a shared lock is enough */
	int steal;   /* --steal: remove stale conflicting locks first */
};

/* Policy, repository, lock, the sets and their times. */
int prune_open(struct prune_plan *plan, const struct config *cfg, const struct prune_request *req,
	       struct drctl_error *err);
/* Fill plan->decisions (and n_remove).  A set the policy would remove but
 * whose objects the store still retains (repo_retained_until: S3 Object
 * Lock) is kept instead, protected "under Object Lock until ..." (holds,
 * n_held): drctl never tries to delete what the store holds. */
int prune_decide(struct prune_plan *plan, struct drctl_error *err);
/* Remove every set decided so, oldest first; after each one, removed(plan,
 * i, arg) if given.  Stops at the first failure, which names the set and
 * says what is left of it.  Then aborts the unfinished uploads (S3
 * multipart) older than [retention] incomplete_grace, which only a writer
 * that died leaves (n_uploads_aborted). */
int prune_apply(struct prune_plan *plan, void (*removed)(const struct prune_plan *plan, size_t i, void *arg),
		void *arg, struct drctl_error *err);
/* Unlock, close, free.  Safe on a plan that prune_open failed to fill. */
void prune_close(struct prune_plan *plan);

#endif
