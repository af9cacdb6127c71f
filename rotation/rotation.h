/*
 * rotation: new values for every secret the platform owns, with no instant
 * at which a credential that works is not readable from Vault.
 *
 * The secrets are listed in [rotation] (docs/secrets.md): PostgreSQL roles,
 * Redis ACL users (or the requirepass of a Redis without ACL users), values
 * kept in Vault KV v2 that drctl generates, and third-party keys only a
 * person can rotate.  Each owned secret goes through a small state machine
 * of its own, every state journaled before the action it leads to:
 *
 *   marking   custom_metadata drctl_pending_version = P (= current + 1),
 *             drctl_run = the run: P belongs to this run
 *   writing   a new random value written as version P with check-and-set
 *             (cas = P - 1), the other fields of the secret kept
 *   applying  the server made to accept it: ALTER ROLE with a SCRAM
 *             verifier, ACL SETUSER #<sha256> (the old password stays
 *             valid), CONFIG SET requirepass
 *   proving   a login with it, on a connection of its own
 *   retiring  the server made to accept nothing else (Redis: the old
 *             password hashes removed) and the change saved to disk
 *   clearing  the marker removed
 *   done      version P is the secret
 *
 * The journal records states and version numbers, never a value; the new
 * value exists in memory only between its generation and the write that
 * puts it into Vault, and every later action reads it back from Vault.  On
 * resume the state is read from Vault and the servers, not trusted from the
 * journal: a marker with version P not written yet means write it; version
 * P written means "it may or may not be applied": it is tried (a login) and
 * applied only when it does not work.  So at every instant the working
 * credential is version P or P - 1 of the secret, both readable in Vault.
 *
 * This module knows nothing of the engine: the scenario hands it a
 * rotation_journal (its facts and notes).
 */
#ifndef DRCTL_ROTATION_H
#define DRCTL_ROTATION_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

/* How the rotation remembers and tells (the engine's facts and notes). */
struct rotation_journal {
	json_t *(*fact)(void *ctx, const char *key); /* borrowed, NULL when not recorded */
	/* durable when it returns; steals value */
	int (*set_fact)(void *ctx, const char *key, json_t *value, struct drctl_error *err);
	void (*note)(void *ctx, const char *text);
	void *ctx;
	const char *run_id;
	const char *run_folder; /* its journal is <run_folder>/journal (evidence) */
};

struct rotation;

/* Read [rotation] (a configuration error names its key); connects to
 * nothing yet. */
int rotation_open(struct rotation **out, const struct config *cfg, const struct rotation_journal *j,
		  struct drctl_error *err);
void rotation_close(struct rotation *r);

/* How many secrets of each sort are configured. */
size_t rotation_owned_count(const struct rotation *r);
size_t rotation_manual_count(const struct rotation *r);

/* --- the steps ------------------------------------------------------------ */

/* Every server and secret reachable, nothing rotated by another unfinished
 * run, no role or user drctl itself connects as. */
int rotation_preflight(struct rotation *r, struct drctl_error *err);
/* Every owned secret through its state machine (resumable anywhere). */
int rotation_rotate_all(struct rotation *r, struct drctl_error *err);
/* 1 when the journal says every owned secret is done. */
int rotation_all_done(struct rotation *r);
/* Old credentials stop working: the PostgreSQL sessions of the rotated
 * roles terminated, the Redis clients of the rotated users killed, the Vault
 * tokens of [rotation] revoke_token_accessors_file revoked. */
int rotation_revoke_old(struct rotation *r, struct drctl_error *err);
/* The evidence (sessions, clients, token accessors, the run's journal)
 * into the signed, encrypted incident bundle incidents/<run>/. */
int rotation_collect_evidence(struct rotation *r, const char *scenario, struct drctl_error *err);
int rotation_evidence_published(struct rotation *r, struct drctl_error *err);

/* Third-party keys: record the version each has now (before asking a
 * person for a new one); the gate's text; on --confirm, a newer version of
 * each, or an error naming those still at the recorded one. */
int rotation_manual_record(struct rotation *r, struct drctl_error *err);
void rotation_manual_instructions(struct rotation *r, char *buf, size_t cap);
int rotation_manual_confirm(struct rotation *r, struct drctl_error *err);

/* --- around the steps ---------------------------------------------------- */

/* What each step will do, touching nothing (strings appended to touches). */
void rotation_plan_rotate(struct rotation *r, json_t *touches);
void rotation_plan_revoke(struct rotation *r, json_t *touches);
void rotation_plan_evidence(struct rotation *r, json_t *touches);
/* Where each secret stands, from the journal, for a failure's report. */
void rotation_describe(struct rotation *r, json_t *lines);
/* Abort: settle every secret this run left pending (the marker removed,
 * Vault's current version made the credential that works) and say, in
 * notes, exactly what was pending and what was done. */
int rotation_abort(struct rotation *r, struct drctl_error *err);
/* The requirepass of a Redis whose requirepass is rotated, as Vault holds
 * it now (for drctl's own health check), or NULL; free with
 * rotation_value_free. */
char *rotation_redis_password(struct rotation *r);
void rotation_value_free(char *value);

#endif
