/*
 * repo_lock: the repository's locks, one design for every driver, built on
 * the driver interface alone (write, read, list, remove of objects), so a
 * local folder and an S3 bucket lock the same way.
 *
 * A lock is an object "locks/<id>.json" (REPO_LOCKS_FOLDER), id
 * "<UTC time>-<host>-<pid>-<random>", so no two takers ever write the same
 * name.  It holds {"host", "pid", "purpose", "kind": "shared"|"exclusive",
 * "created", "refreshed"} (times in UTC, RFC 3339).  Objects are written
 * once: a refresh writes a NEW object (new id, same created, refreshed now)
 * and then removes the older one, so at every moment at least one object of
 * a live holder is listed.
 *
 * Kinds.  Shared: the commands that read sets or add one (backup, verify,
 * restore, a drill for as long as its process runs, a repository copy
 * reading).  Exclusive: the
 * commands that remove sets (prune, repository maintenance).  Shared locks
 * live side by side; an exclusive lock excludes every other lock.  So prune
 * never removes a set that a restore, verify or drill is reading, and
 * nothing reads while prune removes.
 *
 * Stale.  A holder refreshes its lock every REPO_LOCK_REFRESH_DIVISOR-th of
 * `[repository] lock_stale_minutes` (default 30: every 5 minutes) on a
 * thread of its own.  A lock whose "refreshed" time is older than
 * lock_stale_minutes belongs to a holder that died (SIGKILL, a lost
 * machine) or lost the store; so is the lock of a holder that ran on this
 * host (same host name) and whose process is gone.  A stale lock is still
 * a conflict, reported with its holder, until a command given --steal
 * removes it.  A lock that is not stale is never removed by anyone but its
 * holder.  Staleness compares the holder's clock with the taker's: clocks
 * must agree to well within lock_stale_minutes (NTP does).
 *
 * Taking a lock (the protocol; neither a folder nor S3 offers an atomic
 * "create unless a conflicting object exists"):
 *  1. List locks/ and read every lock.  A conflicting lock that is not
 *     stale: EXIT_LOCKED naming its holder.  A conflicting stale one:
 *     removed with steal, else EXIT_LOCKED naming its holder, with the
 *     --steal hint.
 *  2. Write our own lock object.
 *  3. List and read again.  A conflicting lock (not stale) that appeared
 *     meanwhile means another taker raced us: remove ours, wait a random
 *     moment, and start again from 1 (a few times, then EXIT_LOCKED).
 * Two racing takers can both back off, never both proceed: each writes
 * before its second listing, so the later writer's listing shows the
 * earlier writer's lock (both stores list what was written before).  A
 * lock that vanishes between listing and reading (a refresh replaced it)
 * makes the scan list again, since its successor was written first.
 *
 * Release removes the lock.  SIGINT and SIGTERM: when nothing else handles
 * them (the scenario engine does, and its runs release their locks as they
 * unwind), taking a lock installs a handler whose watcher thread removes
 * every lock this process holds and then ends the process by the same
 * signal.  A SIGKILLed holder leaves its lock, which goes stale.
 */
#ifndef DRCTL_REPO_LOCK_H
#define DRCTL_REPO_LOCK_H

#include <time.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/storage/repo.h"

#define REPO_LOCKS_FOLDER "locks"
/* The refresh interval is the stale time divided by this. */
#define REPO_LOCK_REFRESH_DIVISOR 6
#define REPO_LOCK_STALE_MINUTES_DEFAULT 30

enum repo_lock_kind {
	REPO_LOCK_SHARED,
	REPO_LOCK_EXCLUSIVE,
};

struct repo_lock_request {
	enum repo_lock_kind kind;
	const char *purpose; /* "drctl prune", shown to whoever finds the lock */
	/* The command as the user reruns it ("drctl backup"), for hints. */
	const char *command;
	/* The command takes --steal: a conflicting stale lock is removed (with
	 * a warning naming its holder) instead of refused. */
	int can_steal;
	int steal;
};

/* One held lock, with its own repository handle and refresh thread. */
struct repo_lock;

/* What a lock object says (repo_lock_list, for tests and messages). */
struct repo_lock_info {
	char name[256];   /* "locks/<id>.json" */
	char host[128];
	long pid;
	char purpose[256];
	enum repo_lock_kind kind;
	time_t created, refreshed;
	int readable;     /* 0: not a lock drctl wrote (then only name is set) */
};

/* Take a lock on the repository cfg names (see the protocol above); *out
 * is the held lock.  EXIT_LOCKED naming the holder when a conflicting lock
 * is held (or stale, without steal). */
int repo_lock_take(const struct config *cfg, const struct repo_lock_request *req, struct repo_lock **out,
		   struct drctl_error *err);
/* Stop refreshing and remove the lock; NULL is fine. */
void repo_lock_release(struct repo_lock *l);
/* The name of the lock's current object ("locks/<id>.json"). */
const char *repo_lock_name(const struct repo_lock *l);
/* What the refresh thread does every interval: write the successor object,
 * then remove the current one.  The thread calls it; so can a test. */
int repo_lock_refresh(struct repo_lock *l, struct drctl_error *err);

/* The locks in r, read; *n of them. */
int repo_lock_list(struct repo *r, struct repo_lock_info **locks, size_t *n, struct drctl_error *err);
/* [repository] lock_stale_minutes in seconds. */
long repo_lock_stale_seconds(const struct config *cfg);

const char *repo_lock_kind_name(enum repo_lock_kind kind);

#endif
