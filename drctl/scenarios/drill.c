/*
 * drill: the runbook's monthly "disaster recovery drill, backup restoration
 * test" (its last Friday), as a scenario of the engine: journaled, resumable
 * with `drctl scenario resume RUN`, reported like every run.
 *
 * It proves a backup set restores, and measures how long that takes (RTO)
 * and how old the set was (RPO), without touching production: the set is
 * verified deeply; PostgreSQL (globals and every database) is restored into
 * new databases of the scratch server ([scratch] postgres_conninfo), Redis
 * into the scratch Redis ([scratch] redis_url), Vault's snapshot into a
 * scratch Vault when [scratch] vault_address is set (else its deep check is
 * the proof); the restores compare fingerprints and key counts with the
 * signed manifest; the scratch copies are dropped (unless --keep); and the
 * drill's signed record is published in the repository.  drill_scratch.c
 * refuses a scratch target that is the production server before any step
 * writes; drill_report.c writes the record and the report.
 *
 * The drill takes a lock of its own (drill.lock): it never keeps a disaster
 * scenario waiting, and two drills do not run at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "components/postgres/postgres.h"
#include "components/redis/redis.h"
#include "components/vault/vault.h"
#include "drctl/scenarios/drill_private.h"
#include "drctl/scenarios/scenarios.h"
#include "drctl/scenarios/steps_common.h"
#include "lib/clients/pg.h"
#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/set/drill_record.h"
#include "lib/set/keys.h"
#include "restore/restore.h"
#include "verify/verify.h"

/* The run's context is a struct steps_context (steps_common.h): its control
 * connection is the scratch server's maintenance connection; the drill
 * touches no agent. */

static int keep(struct run *r)
{
	return !strcmp(run_option(r, "keep") ?: "", "yes");
}

static json_t *manifest_of(struct run *r, struct drctl_error *err)
{
	return steps_manifest(r, &steps_of(r)->manifest, err);
}

static json_t *section(json_t *manifest, const char *component)
{
	return json_object_get(json_object_get(manifest, "components"), component);
}

static int has(struct run *r, const char *component)
{
	size_t i;
	json_t *c;
	json_array_foreach(run_fact(r, "components"), i, c)
		if (!strcmp(json_string_value(c), component))
			return 1;
	return 0;
}

static PGconn *scratch_conn(struct run *r, struct drctl_error *err)
{
	struct steps_context *d = steps_of(r);
	if (!d->control)
		d->control = pg_connect_to(run_config(r), &pg_server_scratch, NULL, err);
	return d->control;
}

/* --- preflight ----------------------------------------------------------- */

static int preflight_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	(void)err;
	json_array_append_new(touches, json_sprintf("reads backup set %s (signatures, hashes, every member)",
						   run_option(r, "backup") ?: "latest"));
	json_array_append_new(touches, json_sprintf("asks production and scratch servers who they are; never writes to production"));
	json_array_append_new(touches, json_sprintf("scratch PostgreSQL: %s", config_get(cfg, "scratch", "postgres_conninfo") ? "[scratch] postgres_conninfo" : "(not configured)"));
	json_array_append_new(touches, json_sprintf("scratch Redis: %s", config_get(cfg, "scratch", "redis_url") ?: "(not configured)"));
	json_array_append_new(touches, json_sprintf("scratch Vault: %s", config_get(cfg, "scratch", "vault_address") ?: "(none: the snapshot's deep check is the proof)"));
	return 0;
}

static int record_set(struct run *r, struct drctl_error *err)
{
	json_t *m, *components, *status;
	const char *name;
	json_t *c;
	double started, finished;

	if (steps_record_backup_id(r, err) != 0 || !(m = manifest_of(r, err)))
		return -1;
	components = json_array();
	json_object_foreach(json_object_get(m, "components"), name, c)
		json_array_append_new(components, json_string(name));
	if (run_set_fact(r, "components", components, err) != 0)
		return -1;
	/* RPO: how old the set was when the drill started. */
	status = run_status_now(r);
	started = drill_parse_utc(json_string_value(json_object_get(status, "started")));
	finished = drill_parse_utc(json_string_value(json_object_get(m, "finished")));
	if (run_set_fact(r, "drill_started", json_string(json_string_value(json_object_get(status, "started"))), err) != 0 ||
	    run_set_fact(r, "set_finished", json_string(json_string_value(json_object_get(m, "finished")) ?: ""), err) != 0) {
		json_decref(status);
		return -1;
	}
	json_decref(status);
	if (started < 0 || finished < 0)
		return err_set(err, EXIT_INTEGRITY, run_fact_string(r, "backup_id"), NULL,
			       "the manifest of backup set %s gives no time it finished", run_fact_string(r, "backup_id"));
	return run_set_fact(r, "rpo_seconds", json_real(started - finished), err);
}

/* The scratch copies' names, proven free before they are recorded: a
 * database of that name is then always this drill's. */
static int plan_databases(struct run *r, struct drctl_error *err)
{
	json_t *dbs = json_object_get(section(manifest_of(r, err), "postgres"), "databases"), *names = json_object(), *e;
	const char *db;
	PGconn *c = scratch_conn(r, err);

	if (!c || pg_check_createdb(c, err) != 0)
		goto fail;
	json_object_foreach(dbs, db, e) {
		char name[PG_NAME_MAX + 1];
		int exists = 0;
		(void)e;
		steps_derived_name(r, db, "drill", name, sizeof(name)); /* <db>_drill_<run time> */
		if (pg_database_exists(c, name, &exists, err) != 0)
			goto fail;
		if (exists && !run_fact(r, "scratch_databases")) {
			err_set(err, EXIT_USAGE, name, "drop it (`dropdb` on the scratch server) if nothing there is needed, then run the drill again",
				"database %s already exists on the scratch server, and the drill only drops databases it created; nothing was touched",
				name);
			goto fail;
		}
		json_object_set_new(names, db, json_string(name));
	}
	if (run_fact(r, "scratch_databases")) { /* preflight again, after a crash in it */
		json_decref(names);
		return 0;
	}
	return run_set_fact(r, "scratch_databases", names, err);
fail:
	json_decref(names);
	return -1;
}

static int preflight_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	unsigned long long keys = 0;

	if (record_set(r, err) != 0)
		return -1;
	if (has(r, "postgres") && (drill_guard_postgres(r, 1, err) != 0 || plan_databases(r, err) != 0))
		return -1;
	if (has(r, "redis")) {
		if (drill_guard_redis(r, 1, err) != 0)
			return -1;
		if (!run_fact(r, "redis_written") && drill_scratch_redis_keys(r, &keys, err) != 0)
			return -1;
		if (keys > 0)
			return err_set(err, EXIT_USAGE, config_get(cfg, "scratch", "redis_url"),
				       "empty it (`redis-cli -u URL FLUSHALL`) if nothing there is needed, then run the drill again",
				       "the scratch Redis %s holds %llu keys; the drill restores only into an empty one and flushes only what it wrote; nothing was touched",
				       config_get(cfg, "scratch", "redis_url"), keys);
	}
	if (has(r, "vault") && config_get(cfg, "scratch", "vault_address") &&
	    (drill_guard_vault(r, 1, err) != 0 || drill_scratch_vault_ready(r, err) != 0))
		return -1;
	if (steps_check_identities(r, err) != 0)
		return -1;
	run_note(r, "backup set %s (finished %s, %.0f s before the drill started); scratch targets are not production",
		 run_fact_string(r, "backup_id"), run_fact_string(r, "set_finished"),
		 json_number_value(run_fact(r, "rpo_seconds")));
	return 0;
}

static int restores_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)r;
	(void)err;
	json_array_append_new(touches, json_string("scratch PostgreSQL: the globals (roles), then a new database "
						   "<database>_drill_<run time> for every database of the set"));
	return 0;
}

static int redis_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	json_array_append_new(touches, json_sprintf("scratch Redis %s (it must be empty): the set's keys",
						   config_get(run_config(r), "scratch", "redis_url") ?: "(not configured)"));
	return 0;
}

static int vault_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	const char *address = config_get(run_config(r), "scratch", "vault_address");
	(void)err;
	json_array_append_new(touches, address ? json_sprintf("scratch Vault %s: the snapshot, forced; it is sealed afterwards", address)
					       : json_string("nothing: no [scratch] vault_address"));
	return 0;
}

static int drop_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)r;
	(void)err;
	json_array_append_new(touches, json_string("drops the scratch databases this drill created and runs FLUSHDB in the "
						   "scratch Redis databases it wrote (nothing with --keep)"));
	return 0;
}

static int record_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)r;
	(void)err;
	json_array_append_new(touches, json_string("writes drills/<run id>/record.json and record.json.minisig in the repository, once"));
	return 0;
}

/* --- verify ----------------------------------------------------------------- */

static int verify_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "verified") != NULL;
}

static int verify_act(struct run *r, struct drctl_error *err)
{
	json_t *report = json_object();
	int rc = verify_run(run_config(r), run_fact_string(r, "backup_id"), VERIFY_DEEP, report, err);

	if (rc == 0)
		rc = run_set_fact(r, "verified",
				  json_pack("{s:b, s:I}", "deep", 1, "objects",
					    (json_int_t)json_array_size(json_object_get(report, "objects"))),
				  err);
	json_decref(report);
	return rc;
}

/* --- PostgreSQL ------------------------------------------------------------- */

static int postgres_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return json_is_true(run_fact(r, "postgres_done"));
}

static int restore_one(struct run *r, const char *db, const char *name, int globals, struct drctl_error *err)
{
	struct postgres_restore_options po = { .database = db, .target_database = name, .globals = globals,
					       .server = &pg_server_scratch };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &po };
	json_t *report = json_object(), *done, *fp;
	int rc = -1;

	if (restore_run(run_config(r), "postgres", &o, report, err) != 0)
		goto out;
	fp = json_object_get(report, "fingerprints");
	done = run_fact(r, "restored_databases") ? json_deep_copy(run_fact(r, "restored_databases")) : json_object();
	json_object_set_new(done, db, json_pack("{s:s, s:O?, s:O?, s:O?}", "copy", name, "tables",
						json_object_get(fp, "tables"), "sequences", json_object_get(fp, "sequences"),
						"seconds", json_object_get(report, "seconds")));
	if (run_set_fact(r, "restored_databases", done, err) != 0)
		goto out;
	if (globals && run_set_fact(r, "postgres_globals", json_true(), err) != 0)
		goto out;
	run_note(r, "%s restored into %s on the scratch server%s; fingerprints match (%lld tables, %lld sequences)", db,
		 name, globals ? " with the globals" : "", (long long)json_integer_value(json_object_get(fp, "tables")),
		 (long long)json_integer_value(json_object_get(fp, "sequences")));
	rc = 0;
out:
	json_decref(report);
	return rc;
}

static int drop_scratch_database(struct run *r, const char *name, int *dropped, struct drctl_error *err)
{
	PGconn *c = scratch_conn(r, err);
	int exists = 0, terminated = 0;

	*dropped = 0;
	if (!c || pg_database_exists(c, name, &exists, err) != 0)
		return -1;
	if (!exists)
		return 0;
	/* A pg_restore of a killed drill may still be connected. */
	if (pg_database_terminate_sessions(c, name, &terminated, err) != 0 || pg_database_drop(c, name, err) != 0)
		return -1;
	*dropped = 1;
	return 0;
}

static int postgres_act(struct run *r, struct drctl_error *err)
{
	json_t *names = run_fact(r, "scratch_databases"), *e;
	const char *db;

	if (!has(r, "postgres")) {
		run_note(r, "the set holds no PostgreSQL");
		return run_set_fact(r, "postgres_done", json_true(), err);
	}
	if (drill_guard_postgres(r, 0, err) != 0)
		return -1;
	json_object_foreach(names, db, e) {
		const char *name = json_string_value(e);
		int dropped = 0;
		if (json_object_get(run_fact(r, "restored_databases"), db))
			continue;
		if (drop_scratch_database(r, name, &dropped, err) != 0)
			return -1;
		if (dropped)
			run_note(r, "dropped %s, this drill's unfinished restore of an earlier attempt", name);
		if (restore_one(r, db, name, !json_is_true(run_fact(r, "postgres_globals")), err) != 0)
			return -1;
	}
	if (json_object_size(names) == 0 && !json_is_true(run_fact(r, "postgres_globals"))) {
		struct postgres_restore_options po = { .globals_only = 1, .server = &pg_server_scratch };
		struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &po };
		json_t *report = json_object();
		int rc = restore_run(run_config(r), "postgres", &o, report, err);
		json_decref(report);
		if (rc != 0 || run_set_fact(r, "postgres_globals", json_true(), err) != 0)
			return -1;
	}
	return run_set_fact(r, "postgres_done", json_true(), err);
}

/* --- Redis -------------------------------------------------------------------- */

static json_t *rdb_databases(struct run *r, struct drctl_error *err)
{
	return json_object_get(json_object_get(section(manifest_of(r, err), "redis"), "rdb"), "databases");
}

static int redis_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "redis_restored") != NULL;
}

static int redis_act(struct run *r, struct drctl_error *err)
{
	struct redis_restore_options ro = { .password = &drill_scratch_redis_password };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &ro };
	json_t *report, *dbs;
	int rc;

	if (!has(r, "redis")) {
		run_note(r, "the set holds no Redis");
		return run_set_fact(r, "redis_restored", json_pack("{s:b}", "restored", 0), err);
	}
	if (drill_guard_redis(r, 0, err) != 0 || !(dbs = rdb_databases(r, err)))
		return -1;
	if (json_is_true(run_fact(r, "redis_written"))) {
		/* An earlier attempt wrote part of the set: only its databases. */
		if (drill_scratch_redis_flush(r, dbs, err) != 0)
			return -1;
		run_note(r, "flushed the %zu database(s) an earlier attempt of this drill wrote into the scratch Redis",
			 json_array_size(dbs));
	} else if (run_set_fact(r, "redis_written", json_true(), err) != 0) {
		return -1;
	}
	o.target = config_get(run_config(r), "scratch", "redis_url");
	report = json_object();
	rc = restore_run(run_config(r), "redis", &o, report, err);
	if (rc == 0) {
		run_note(r, "%lld keys restored into the scratch Redis; key counts match the manifest",
			 (long long)json_integer_value(json_object_get(report, "keys_restored")));
		rc = run_set_fact(r, "redis_restored",
				  json_pack("{s:b, s:O?, s:O?, s:O?}", "restored", 1, "keys",
					    json_object_get(report, "keys_restored"), "databases",
					    json_object_get(report, "databases"), "seconds", json_object_get(report, "seconds")),
				  err);
	}
	json_decref(report);
	return rc;
}

/* --- Vault --------------------------------------------------------------------- */

static int vault_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "vault_restored") != NULL;
}

static int vault_act(struct run *r, struct drctl_error *err)
{
	struct vault_restore_options vo = { .force_new_cluster = 1, .wait_seconds = 120, .token = &drill_scratch_vault_token };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &vo };
	const char *address = config_get(run_config(r), "scratch", "vault_address");
	json_t *report, *snap;
	int rc;

	if (!has(r, "vault")) {
		run_note(r, "the set holds no Vault");
		return run_set_fact(r, "vault_restored", json_pack("{s:b}", "restored", 0), err);
	}
	if (!address) {
		run_note(r, "no [scratch] vault_address: Vault's snapshot is proven by verify-set's deep check (gzip, tar, SHA256SUMS and every hash)");
		return run_set_fact(r, "vault_restored", json_pack("{s:b, s:s}", "restored", 0, "proof", "deep check"), err);
	}
	if (drill_guard_vault(r, 0, err) != 0)
		return -1;
	if (run_fact(r, "vault_posted") && drill_scratch_vault_ready(r, err) != 0) {
		err_hint(err, "an earlier attempt of this drill posted the snapshot: initialize the scratch Vault anew, then `drctl scenario resume %s`",
			 run_id(r));
		return -1;
	}
	if (run_set_fact(r, "vault_posted", json_true(), err) != 0)
		return -1;
	o.target = address;
	report = json_object();
	rc = restore_run(run_config(r), "vault", &o, report, err);
	snap = json_object_get(json_object_get(report, "vault"), "snapshot");
	if (rc == 0) {
		int sealed = json_is_true(json_object_get(snap, "needs_unseal"));
		run_note(r, "the scratch Vault %s took the snapshot%s", address,
			 sealed ? "; it is sealed now, with the unseal keys of the cluster the snapshot came from" : " and is active");
		rc = run_set_fact(r, "vault_restored", json_pack("{s:b, s:s, s:b}", "restored", 1, "address", address,
								 "sealed_after", sealed),
				  err);
	}
	json_decref(report);
	return rc;
}

/* --- the scratch copies ------------------------------------------------------- */

static int drop_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return json_is_true(run_fact(r, "scratch_dropped")) || json_is_true(run_fact(r, "kept"));
}

static int drop_act(struct run *r, struct drctl_error *err)
{
	json_t *names = run_fact(r, "scratch_databases"), *e;
	const char *db;
	size_t n = 0;

	if (keep(r)) {
		char list[1024] = "";
		size_t used = 0;
		json_object_foreach(names, db, e) {
			int k = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", json_string_value(e));
			used = k > 0 && (size_t)k < sizeof(list) - used ? used + (size_t)k : used;
		}
		run_note(r, "--keep: the scratch copies stay: database(s) %s%s", used ? list : "none",
			 json_is_true(run_fact(r, "redis_written")) ? " and the keys in the scratch Redis" : "");
		return run_set_fact(r, "kept", json_true(), err);
	}
	if (json_object_size(names) && drill_guard_postgres(r, 0, err) != 0)
		return -1;
	json_object_foreach(names, db, e) {
		int dropped = 0;
		(void)db;
		if (drop_scratch_database(r, json_string_value(e), &dropped, err) != 0)
			return -1;
		n += (size_t)dropped;
	}
	if (json_is_true(run_fact(r, "redis_written"))) {
		json_t *dbs;
		if (drill_guard_redis(r, 0, err) != 0 || !(dbs = rdb_databases(r, err)) ||
		    drill_scratch_redis_flush(r, dbs, err) != 0)
			return -1;
		run_note(r, "flushed the %zu database(s) the drill wrote into the scratch Redis", json_array_size(dbs));
	}
	run_note(r, "dropped %zu scratch database(s)%s", n,
		 json_is_true(json_object_get(run_fact(r, "vault_restored"), "restored"))
			 ? "; the scratch Vault holds the snapshot, sealed: initialize it anew before the next drill"
			 : "");
	return run_set_fact(r, "scratch_dropped", json_true(), err);
}

/* Nothing the drill made is left (unless it was to be kept). */
static int drop_verify(struct run *r, struct drctl_error *err)
{
	json_t *e;
	const char *db;
	unsigned long long keys = 0;

	if (keep(r))
		return 0;
	json_object_foreach(run_fact(r, "scratch_databases"), db, e) {
		int exists = 0;
		PGconn *c = scratch_conn(r, err);
		(void)db;
		if (!c || pg_database_exists(c, json_string_value(e), &exists, err) != 0)
			return -1;
		if (exists)
			return err_set(err, EXIT_FAILED, json_string_value(e), NULL,
				       "scratch database %s is still there after it was dropped", json_string_value(e));
	}
	if (json_is_true(run_fact(r, "redis_written")) && drill_scratch_redis_keys(r, &keys, err) != 0)
		return -1;
	if (keys > 0)
		return err_set(err, EXIT_FAILED, config_get(run_config(r), "scratch", "redis_url"),
			       "another client writes to the scratch Redis: find it",
			       "the scratch Redis still holds %llu keys after the drill flushed what it wrote", keys);
	return 0;
}

/* --- the record ---------------------------------------------------------------- */

static int record_act(struct run *r, struct drctl_error *err)
{
	struct minisign_secret_key sk;
	struct minisign_signer signer;
	struct repo *repo = NULL;
	json_t *status = run_status_now(r), *record = drill_record_build(r, status);
	char name[REPO_NAME_MAX];
	int already = 0, rc = -1;

	memset(&sk, 0, sizeof(sk));
	if (keys_load_signer(run_config(r), &sk, &signer, err) != 0 || repo_open(&repo, run_config(r), err) != 0)
		goto done;
	if (drill_record_publish(repo, &signer, run_id(r), record, &already, err) != 0)
		goto done;
	drill_record_name(run_id(r), 0, name, sizeof(name));
	run_note(r, "the drill's record is %s (signed, %s)", name, already ? "written by an earlier attempt" : "new");
	rc = run_set_fact(r, "record", json_string(name), err);
done:
	minisign_secret_key_wipe(&sk);
	repo_close(repo);
	json_decref(record);
	json_decref(status);
	return rc;
}

static void describe_failure(struct run *r, const char *step, json_t *lines)
{
	json_t *e;
	const char *db;
	(void)step;
	json_array_append_new(lines, json_string("production is untouched: the drill only reads the repository and writes to scratch servers"));
	json_object_foreach(run_fact(r, "scratch_databases"), db, e)
		json_array_append_new(lines, json_sprintf("%s: scratch copy %s (%s)", db, json_string_value(e),
							  json_object_get(run_fact(r, "restored_databases"), db) ? "restored" : "not restored"));
	if (json_is_true(run_fact(r, "redis_written")))
		json_array_append_new(lines, json_string("the scratch Redis holds (part of) the set's keys"));
	json_array_append_new(lines, json_sprintf("next: fix the cause, then `drctl scenario resume %s` (it drops the scratch copies at its end)", run_id(r)));
}

static const struct step steps[] = {
	{ "preflight", "the set, its decryption key, and scratch targets that are proven not to be production",
	  STEP_ACTION, preflight_plan, NULL, preflight_act, NULL, NULL },
	{ "verify-set", "signatures, hashes and every member of the set (deep verify)", STEP_ACTION, NULL, verify_check,
	  verify_act, NULL, NULL },
	{ "restore-postgres", "globals and every database into new databases of the scratch PostgreSQL; fingerprints compared",
	  STEP_TOGETHER, restores_plan, postgres_check, postgres_act, NULL, NULL },
	{ "restore-redis", "the RDB into the empty scratch Redis; key counts compared", STEP_TOGETHER, redis_plan, redis_check,
	  redis_act, NULL, NULL },
	{ "restore-vault", "the raft snapshot into the scratch Vault (force, a cluster of its own), if one is configured",
	  STEP_ACTION, vault_plan, vault_check, vault_act, NULL, NULL },
	{ "drop-scratch", "drop the scratch databases and flush the Redis databases the drill wrote (not with --keep)",
	  STEP_ACTION, drop_plan, drop_check, drop_act, drop_verify, NULL },
	{ "record", "publish the drill's signed record in the repository", STEP_ACTION, record_plan, NULL, record_act,
	  NULL, NULL },
};

const struct scenario drill_scenario = {
	.name = "drill",
	.summary = "the monthly DR drill: restore a set into scratch servers, prove it, measure RTO and RPO",
	.steps = steps,
	.n_steps = sizeof(steps) / sizeof(steps[0]),
	.open = steps_open,
	.close = steps_close,
	.describe_failure = describe_failure,
	.lock = "drill",
	.report = drill_report,
};
