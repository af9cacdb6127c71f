/*
 * engine_private: what the engine's files share: engine.c (runs on disk,
 * the run API steps use, the commands) and engine_drive.c (the step
 * driver).  engine.h is the engine's public face.
 */
#ifndef DRCTL_ENGINE_PRIVATE_H
#define DRCTL_ENGINE_PRIVATE_H

#include <limits.h>

#include "drctl/engine/engine.h"
#include "drctl/engine/journal.h"

struct run {
	const struct config *cfg;
	const struct scenario *s;
	char id[RUN_ID_MAX];
	char dir[PATH_MAX];
	struct journal *journal;
	json_t *records; /* every record, replayed and appended */
	json_t *facts;
	json_t *options;
	void *ctx;
};

enum drive_outcome { DRIVE_DONE, DRIVE_WAITING, DRIVE_FAILED, DRIVE_STOPPED };

/* The step being driven on this thread, for notes: steps marked together
 * run on threads of their own. */
extern _Thread_local const char *engine_driving_step;

/* Append a record to the journal (durable when it returns) and the run's
 * records; steals rec.  Safe from any thread. */
int engine_record(struct run *r, json_t *rec, struct drctl_error *err);
/* A step's record {"type":"step","step","event"} plus extra (stolen, may be NULL). */
int engine_record_step(struct run *r, const char *step, const char *event, json_t *extra, struct drctl_error *err);
/* From the first step that is not done to the end, a gate or a failure:
 * a drive_outcome. */
int engine_drive(struct run *r, const char *confirm, struct drctl_error *err);

#endif
