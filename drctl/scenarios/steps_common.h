/*
 * steps_common: what the scenarios' steps do alike (db-corruption,
 * cluster-loss, the drill, the secrets scenarios): their context, the backup
 * set they work from, the agents, the health checks, dated names.  Nothing
 * outside this folder includes it.
 */
#ifndef DRCTL_SCENARIOS_STEPS_COMMON_H
#define DRCTL_SCENARIOS_STEPS_COMMON_H

#include <jansson.h>
#include <libpq-fe.h>

#include "drctl/engine/engine.h"
#include "lib/core/error.h"
#include "lib/platform/agents.h"
#include "lib/platform/health.h"

/* A zeroed context of `size` bytes, made the run's (run_context); NULL
 * with err when memory runs out. */
void *steps_context_new(struct run *r, size_t size, struct drctl_error *err);

/* What the steps of a scenario that restores a backup set share within one
 * process (a resumed run builds it again): db-corruption's, cluster-loss's
 * and the drill's context. */
struct steps_context {
	json_t *manifest;      /* the run's set, its signed manifest, read once (steps_manifest) */
	struct agents *agents; /* opened on first use (steps_agents) */
	PGconn *control;       /* on the maintenance database of the server restored into, never
				* on a database being restored */
};

/* The scenario's open and close hooks (struct scenario) for a struct
 * steps_context, and the run's context. */
int steps_open(struct run *r, struct drctl_error *err);
void steps_close(struct run *r);
struct steps_context *steps_of(struct run *r);

/* --- the backup set ------------------------------------------------------ */

/* Records the fact backup_id, unless the run has it: the set --backup
 * names, "latest" by default, resolved once. */
int steps_record_backup_id(struct run *r, struct drctl_error *err);
/* The identity that decrypts the run's set is there and opens it: a
 * missing key stops the run before anything is touched. */
int steps_check_identities(struct run *r, struct drctl_error *err);
/* The signed manifest of the run's set (borrowed, read once into *cache):
 * the set of the fact backup_id, or, before it is recorded (a plan), the
 * one --backup names. */
json_t *steps_manifest(struct run *r, json_t **cache, struct drctl_error *err);

/* --- the agents ---------------------------------------------------------- */

/* The agents of [agents], opened once per process into *slot. */
struct agents *steps_agents(struct run *r, struct agents **slot, struct drctl_error *err);
/* One touch per agent as it runs now, "<agent>: <before><replicas><after>",
 * or a line saying none was found. */
int steps_plan_agents(struct agents *a, json_t *touches, const char *before, const char *after,
		      struct drctl_error *err);
/* Copies of the agents of `list`, each at 0 replicas. */
json_t *steps_agents_at_zero(json_t *list);

/* --- the end ------------------------------------------------------------- */

/* Every configured health check, each result a note of the run; 0 when all
 * pass. */
int steps_health(struct run *r, const struct health_options *o, struct drctl_error *err);

/* "<db>_<what>_<run time>" (e.g. agents_db_restore_20261201t031500z), at
 * most PG_NAME_MAX bytes: the database's name is shortened when it has to
 * be. */
void steps_derived_name(struct run *r, const char *db, const char *what, char *out, size_t cap);

#endif
