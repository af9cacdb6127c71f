/*
 * drill_private: what the drill's files share.  drill.c is the step table
 * and the steps; drill_scratch.c proves that each scratch target is not the
 * production server (and refuses before anything is touched when it is);
 * drill_report.c builds the signed record and the report (RTO, RPO, the
 * history of every drill kept in the repository).
 *
 * Facts the drill records (journaled before the step that depends on them):
 *   backup_id, set_finished, drill_started, rpo_seconds, components
 *   production_postgres, scratch_postgres    identities (drill_scratch.c)
 *   production_redis, scratch_redis, scratch_vault
 *   scratch_databases     {database of the set: its scratch copy's name},
 *                         recorded after proving none of them exists
 *   postgres_globals, restored_databases, postgres_done
 *   redis_written         the restore is about to write into the scratch Redis
 *   redis_restored, vault_posted, vault_restored, verified
 *   scratch_dropped / kept, record
 */
#ifndef DRCTL_SCENARIOS_DRILL_PRIVATE_H
#define DRCTL_SCENARIOS_DRILL_PRIVATE_H

#include <jansson.h>

#include "drctl/engine/engine.h"
#include "lib/core/error.h"

/* --- drill_scratch.c ------------------------------------------------------ */

/* The scratch servers' own secrets: production's are never sent to them. */
extern const struct config_secret_ref drill_scratch_redis_password; /* [scratch] redis_password_file */
extern const struct config_secret_ref drill_scratch_vault_token;    /* [scratch] vault_token_file */

/* Each compares the scratch target with the production one and fails with
 * EXIT_USAGE, naming both and what proved it, when they are the same server;
 * `first` (preflight) also records both identities as facts.  PostgreSQL:
 * the system identifier when both servers give it, else the host's resolved
 * addresses and the port; Redis: INFO server's run_id, else host:port;
 * Vault: the cluster id, else the address.  When production cannot be
 * reached the addresses decide, and a note says so. */
int drill_guard_postgres(struct run *r, int first, struct drctl_error *err);
int drill_guard_redis(struct run *r, int first, struct drctl_error *err);
int drill_guard_vault(struct run *r, int first, struct drctl_error *err);

/* INFO keyspace of the scratch Redis: its total keys. */
int drill_scratch_redis_keys(struct run *r, unsigned long long *keys, struct drctl_error *err);
/* FLUSHDB in each of `dbs` (the databases the set's RDB has keys in, which
 * the drill wrote) of the scratch Redis, and nothing else. */
int drill_scratch_redis_flush(struct run *r, json_t *dbs, struct drctl_error *err);
/* The scratch Vault is initialized, unsealed and active. */
int drill_scratch_vault_ready(struct run *r, struct drctl_error *err);

/* --- drill_report.c ------------------------------------------------------- */

/* The record of a drill that reached its end, from its facts and status. */
json_t *drill_record_build(struct run *r, json_t *status);
/* The scenario's report hook (struct scenario.report). */
int drill_report(struct run *r, json_t *status, const char *dir, struct drctl_error *err);

/* "2026-12-01T08:39:03Z" -> seconds since the epoch; -1 when it is not one. */
double drill_parse_utc(const char *text);

#endif
