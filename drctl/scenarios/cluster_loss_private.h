/*
 * cluster_loss_private: what the three files of the cluster-loss scenario
 * share.  cluster_loss.c holds the step table, the preflight, the deploy
 * hook, the agents and the health checks; cluster_loss_vault.c the gates
 * and the Vault steps; cluster_loss_data.c the restores of PostgreSQL, Redis
 * and the files.  Nothing outside this folder includes it.
 */
#ifndef DRCTL_SCENARIOS_CLUSTER_LOSS_PRIVATE_H
#define DRCTL_SCENARIOS_CLUSTER_LOSS_PRIVATE_H

#include <jansson.h>
#include <libpq-fe.h>

#include "drctl/engine/engine.h"
#include "drctl/scenarios/steps_common.h"

/* The run's context is a struct steps_context (steps_common.h). */

/* The signed manifest of the run's set (borrowed): the set the preflight
 * recorded, or, in a plan, the one --backup names. */
json_t *cl_manifest(struct run *r, struct drctl_error *err);
/* A component's section of a manifest, NULL when the set has none. */
json_t *cl_section(json_t *manifest, const char *component);
PGconn *cl_control(struct run *r, struct drctl_error *err);
/* [scenario] key in seconds, fallback when unset. */
double cl_seconds(const struct config *cfg, const char *key, long fallback);

/* --- cluster_loss_vault.c: the gates and Vault --------------------------- */
int cl_provision_plan(struct run *r, json_t *touches, struct drctl_error *err);
void cl_provision_instructions(struct run *r, char *buf, size_t cap);
int cl_restore_vault_plan(struct run *r, json_t *touches, struct drctl_error *err);
int cl_restore_vault_check(struct run *r, struct drctl_error *err);
int cl_restore_vault_act(struct run *r, struct drctl_error *err);
int cl_unseal_plan(struct run *r, json_t *touches, struct drctl_error *err);
void cl_unseal_instructions(struct run *r, char *buf, size_t cap);
int cl_wait_vault_plan(struct run *r, json_t *touches, struct drctl_error *err);
int cl_wait_vault_check(struct run *r, struct drctl_error *err);
int cl_wait_vault_act(struct run *r, struct drctl_error *err);
/* The snapshot's cluster id, as the preflight recorded it ("" unknown). */
const char *cl_snapshot_cluster(struct run *r);

/* --- cluster_loss_data.c: the steps that put the data back -------------- */
int cl_postgres_plan(struct run *r, json_t *touches, struct drctl_error *err);
int cl_postgres_check(struct run *r, struct drctl_error *err);
int cl_postgres_act(struct run *r, struct drctl_error *err);
int cl_redis_plan(struct run *r, json_t *touches, struct drctl_error *err);
int cl_redis_check(struct run *r, struct drctl_error *err);
int cl_redis_act(struct run *r, struct drctl_error *err);
int cl_files_plan(struct run *r, json_t *touches, struct drctl_error *err);
int cl_files_check(struct run *r, struct drctl_error *err);
int cl_files_act(struct run *r, struct drctl_error *err);
/* Where the data stands, as lines for a failure's report. */
void cl_data_describe(struct run *r, json_t *lines);

#endif
