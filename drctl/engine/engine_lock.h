/*
 * engine_lock: one scenario run acts on a platform at a time.
 *
 * <state dir>/<name>.lock (scenario.lock for the platform's lock, which
 * every disaster scenario takes; drill.lock for the drills) holds the holder (run id, host, pid, since) as
 * JSON and is flock'ed while held, so the kernel drops the lock when its
 * holder dies.  A second run or resume fails at once naming the holder.  A
 * lock whose holder died without releasing it (the file still names a
 * holder, but nobody has the flock) is stale: the run it names may have been
 * in the middle of a step, so it is taken over only with --steal, and the
 * error says whose it was.
 */
#ifndef DRCTL_ENGINE_LOCK_H
#define DRCTL_ENGINE_LOCK_H

#include "lib/core/error.h"

struct engine_lock {
	int fd;
	char path[4096];
};

/* name: NULL for the platform's lock, else the lock's own name ("drill");
 * run: the run that takes it; steal: take over a stale lock. */
int engine_lock_take(struct engine_lock *l, const char *state_dir, const char *name, const char *run, int steal,
		     struct drctl_error *err);
void engine_lock_release(struct engine_lock *l);

#endif
