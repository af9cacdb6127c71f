/*
 * engine: runs a scenario (a table of named steps) as a resumable state
 * machine.  One engine runs every scenario; a scenario has no loop of its
 * own.
 *
 * A run has an id (20261201T031500Z-db-corruption-3f9a) and a folder
 * <state dir>/runs/<id>/ with its journal (journal.h) and, once it ends, its
 * report.  For each step, in order:
 *
 *   journal "start" -> check(): is the effect already there? -> act() ->
 *   verify() -> journal "done"
 *
 * A step whose check() says its effect is there is not acted again, so a run
 * killed at any instant (SIGKILL, power loss) and resumed re-checks the step
 * it was in and carries on; the end state is that of a run never
 * interrupted.  What a step decides or observes and a later step (or a
 * resumed run) needs is recorded with run_set_fact(), which is journaled and
 * fsync'd before it returns: a step records the replica counts before it
 * scales anything.
 *
 * Steps marked together (restoring PostgreSQL and Redis) run at the same
 * time, each through the same sequence on a thread of its own.
 *
 * A gate is a step only a person can do: the run pauses, prints exactly what
 * to do, and `drctl scenario resume RUN --confirm STEP` goes on.  SIGINT and
 * SIGTERM stop the current child process, journal the stop and leave the run
 * resumable.  One run acts on a platform at a time (engine_lock.h).
 */
#ifndef DRCTL_ENGINE_ENGINE_H
#define DRCTL_ENGINE_ENGINE_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

#define RUN_ID_MAX 96

struct run;

enum step_kind {
	STEP_ACTION,
	STEP_GATE, /* a person acts; the run waits for --confirm */
	/* An action that runs at the same time as the STEP_TOGETHER steps next
	 * to it (each on a thread of its own, each journaled on its own; a
	 * resume drives only those not done).  Such steps share nothing but
	 * the run's facts and notes, which are safe to use from any thread. */
	STEP_TOGETHER,
};

struct step {
	const char *name;    /* "scale-down-agents" */
	const char *summary; /* what it does, one line */
	enum step_kind kind;
	/* What it will touch for this configuration ("database agents_db",
	 * "deployment ai-agents/planner: 3 -> 0"), appended to `touches` as
	 * strings, touching nothing.  May be NULL. */
	int (*plan)(struct run *r, json_t *touches, struct drctl_error *err);
	/* Is the step's effect already there?  1 yes (act is skipped), 0 no,
	 * -1 error.  NULL: act always runs (it must then be idempotent).  For a
	 * gate: 1 means there is nothing for a person to do here (the gate is
	 * done without waiting). */
	int (*check)(struct run *r, struct drctl_error *err);
	int (*act)(struct run *r, struct drctl_error *err);
	/* Proves the effect after act (or after check said it was there);
	 * -1 fails the step.  May be NULL.  For a gate: run on --confirm; -1
	 * refuses the confirmation (the gate keeps waiting, the error says
	 * what is still missing). */
	int (*verify)(struct run *r, struct drctl_error *err);
	/* A gate's instructions: exactly what to do. */
	void (*instructions)(struct run *r, char *buf, size_t cap);
};

struct scenario {
	const char *name;    /* "db-corruption" */
	const char *summary; /* one line for `scenario list` */
	const struct step *steps;
	size_t n_steps;
	/* Set up what the steps share (clients, names) from the configuration
	 * and the facts already recorded; may be NULL.  close frees it. */
	int (*open)(struct run *r, struct drctl_error *err);
	void (*close)(struct run *r);
	/* After a failure: where the platform stands and the next command, as
	 * lines for the report and the error (e.g. "agents are still at zero",
	 * "the damaged database agents_db is untouched"); may be NULL. */
	void (*describe_failure)(struct run *r, const char *step, json_t *lines);
	/* Which engine lock its runs take (engine_lock.h): NULL is the
	 * platform's, one run acting on the platform at a time; a scenario
	 * that does not act on the platform (the drill) names its own, so it
	 * never keeps a disaster run waiting. */
	const char *lock;
	/* Write the run's report into dir instead of run_report_write (the
	 * drill adds its RTO, RPO and history); may be NULL.  Called at the end
	 * of every run, resume and abort, with the run's facts (run_fact) but
	 * maybe without open() having run. */
	int (*report)(struct run *r, json_t *status, const char *dir, struct drctl_error *err);
	/* On abort, before the run ends for good: put right what only this
	 * scenario knows is left half done (the rotation's pending versions),
	 * saying in run_note what was found and what was done.  -1 leaves the
	 * run as it was (not aborted).  May be NULL: the platform is left as it
	 * stands. */
	int (*abort)(struct run *r, struct drctl_error *err);
	/* Samples of the scenario's own metrics (lib/report/metrics.h), added
	 * to drctl_scenario_* when a run ends; status is engine_status's
	 * document.  May be NULL. */
	void (*metrics)(json_t *status, json_t *samples);
};

/* --- what steps use ------------------------------------------------------ */
const struct config *run_config(const struct run *r);
const char *run_id(const struct run *r);
/* <state dir>/runs/<id>: its journal is <folder>/journal. */
const char *run_folder(const struct run *r);
/* A fact recorded by this run (borrowed; NULL when not recorded yet). */
json_t *run_fact(const struct run *r, const char *key);
const char *run_fact_string(const struct run *r, const char *key);
/* Record a fact (steals value); journaled and durable when it returns. */
int run_set_fact(struct run *r, const char *key, json_t *value, struct drctl_error *err);
/* The scenario's own context (set by open). */
void *run_context(const struct run *r);
void run_set_context(struct run *r, void *ctx);
/* The options the run was started with ("backup": id or "latest"). */
const char *run_option(const struct run *r, const char *key);
/* The run's status as it stands now (run_state_summary of its records so
 * far: each step's state and duration, the total); caller frees. */
json_t *run_status_now(const struct run *r);
/* A note in the journal and the report ("terminated 2 sessions"). */
void run_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- what the command line uses ------------------------------------------ */
struct engine_options {
	const char *backup;  /* --backup ID|latest */
	const char *confirm; /* resume --confirm STEP */
	int steal;           /* --steal a stale lock */
	/* More options of a new run, journaled with it and read back with
	 * run_option (strings): the drill's {"keep": "yes"}.  Borrowed. */
	json_t *extra;
};

/* The scenarios drctl knows (drctl/scenarios/scenarios.c). */
const struct scenario *scenario_find(const char *name);
const struct scenario *const *scenario_all(size_t *n);
/* Which scenarios the engine resolves runs against (default: the ones
 * above); the engine's unit tests give it scenarios of their own. */
void engine_use_scenarios(const struct scenario *const *list, size_t n);

/* Start a new run; fills out with its final status (see engine_status). */
int engine_run(const struct config *cfg, const struct scenario *s, const struct engine_options *o, json_t **out,
	       struct drctl_error *err);
/* Go on with a run that failed, paused at a gate or was stopped. */
int engine_resume(const struct config *cfg, const char *run, const struct engine_options *o, json_t **out,
		  struct drctl_error *err);
/* End a run for good where it stands (the platform is left as it is, but
 * for what the scenario's abort hook puts right). */
int engine_abort(const struct config *cfg, const char *run, const struct engine_options *o, json_t **out,
		 struct drctl_error *err);
/* The steps and what each would touch, touching nothing. */
int engine_plan(const struct config *cfg, const struct scenario *s, const struct engine_options *o, json_t **out,
		struct drctl_error *err);
/* One run's state: {"run","scenario","state","steps":[{name,state,started,
 * duration,error,hint}], "facts", "report"}; run NULL: the newest run. */
int engine_status(const struct config *cfg, const char *run, json_t **out, struct drctl_error *err);
/* Every run, newest first: [{"run","scenario","state","started"}]. */
int engine_list_runs(const struct config *cfg, json_t **out, struct drctl_error *err);

#endif
