/*
 * db-corruption: the runbook's scenario 2 ("Database Corruption"), done
 * better.  The runbook drops the damaged database before it knows the
 * backup restores, and starts a fixed 2 replicas of every agent; here the
 * damaged database is never dropped (it is kept under a dated name for
 * forensics), the restored one is proven against the backup's fingerprints
 * before it takes the name, the swap is one transaction, and every agent
 * comes back at the replicas it had.
 *
 * Facts the run records (journaled before the step that depends on them):
 *   backup_id            the set, resolved once ("latest" at the start)
 *   database             the platform's database, e.g. agents_db
 *   agents               every agent workload with its replicas, before any scaling
 *   staging_database     where the backup is restored first
 *   kept_database        the damaged database's new name
 *   restored, swapped    markers of done work
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "components/postgres/postgres.h"
#include "drctl/engine/engine.h"
#include "drctl/scenarios/scenarios.h"
#include "drctl/scenarios/steps_common.h"
#include "lib/clients/pg.h"
#include "lib/core/log.h"
#include "lib/platform/agents.h"
#include "lib/platform/health.h"
#include "restore/restore.h"
#include "verify/verify.h"

/* The run's context is a struct steps_context (steps_common.h): its control
 * connection is on the maintenance database, never on the one being swapped. */

static struct agents *agents_of(struct run *r, struct drctl_error *err)
{
	return steps_agents(r, &steps_of(r)->agents, err);
}

static PGconn *need_control(struct run *r, struct drctl_error *err)
{
	struct steps_context *c = steps_of(r);
	if (!c->control)
		c->control = pg_connect(run_config(r), NULL, err);
	return c->control;
}

/* The platform's database: the first of [postgres] databases. */
static int platform_database(const struct config *cfg, char *out, size_t cap, struct drctl_error *err)
{
	const char *dbs = config_get(cfg, "postgres", "databases");
	size_t n;
	if (!dbs || !*dbs)
		return err_set(err, EXIT_USAGE, "[postgres] databases", "set [postgres] databases (e.g. agents_db)",
			       "db-corruption needs to know which database to restore");
	n = strcspn(dbs, ", ");
	if (n >= cap || n > PG_NAME_MAX)
		return err_set(err, EXIT_USAGE, "[postgres] databases", NULL, "database name too long");
	snprintf(out, cap, "%.*s", (int)n, dbs);
	return 0;
}

static json_t *manifest_of(struct run *r, struct drctl_error *err)
{
	return steps_manifest(r, &steps_of(r)->manifest, err);
}

static json_t *database_entry(json_t *manifest, const char *db)
{
	return json_object_get(json_object_get(json_object_get(json_object_get(manifest, "components"), "postgres"),
					       "databases"),
			       db);
}

static int database_exists(struct run *r, const char *name, int *exists, struct drctl_error *err)
{
	PGconn *c = need_control(r, err);
	return c ? pg_database_exists(c, name, exists, err) : -1;
}

/* --- preflight --------------------------------------------------------------- */

static int preflight_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	char db[PG_NAME_MAX + 1];
	if (platform_database(run_config(r), db, sizeof(db), err) != 0)
		return -1;
	json_array_append_new(touches, json_sprintf("reads backup set %s, its signatures and hashes",
						   run_option(r, "backup") ?: "latest"));
	json_array_append_new(touches, json_sprintf("reads database %s on [postgres] conninfo", db));
	return 0;
}

/* A complete set that verifies, the identity that decrypts it, every server
 * reachable: found out before anything is touched. */
static int preflight_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	char db[PG_NAME_MAX + 1];
	json_t *manifest, *report = json_object(), *list = NULL;
	struct agents *agents;
	int rc = -1;

	if (platform_database(cfg, db, sizeof(db), err) != 0 || steps_record_backup_id(r, err) != 0)
		goto done;
	if (!run_fact(r, "database") && run_set_fact(r, "database", json_string(db), err) != 0)
		goto done;
	if (verify_run(cfg, run_fact_string(r, "backup_id"), VERIFY_QUICK, report, err) != 0 || steps_check_identities(r, err) != 0)
		goto done;
	if (!(manifest = manifest_of(r, err)))
		goto done;
	if (!database_entry(manifest, db)) {
		err_set(err, EXIT_NOT_FOUND, run_fact_string(r, "backup_id"), "choose a set that has it with --backup ID (`drctl list`)",
			"backup set %s has no dump of database %s", run_fact_string(r, "backup_id"), db);
		goto done;
	}
	if (!need_control(r, err) || !(agents = agents_of(r, err)) || agents_list(agents, &list, err) != 0)
		goto done;
	run_note(r, "backup set %s verified (signatures and hashes); identity and servers ready; %zu agent workloads",
		 run_fact_string(r, "backup_id"), json_array_size(list));
	rc = 0;
done:
	json_decref(report);
	json_decref(list);
	return rc;
}

/* --- the agents ---------------------------------------------------------------- */

/* One line per agent as it runs now: "<agent>: <replicas><suffix>". */
static int plan_agents(struct run *r, json_t *touches, const char *suffix, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	return a ? steps_plan_agents(a, touches, "", suffix, err) : -1;
}

static int record_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	return plan_agents(r, touches, " replicas now", err);
}

static int record_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "agents") != NULL;
}

static int record_act(struct run *r, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	json_t *list;
	if (!a || agents_list(a, &list, err) != 0)
		return -1;
	return run_set_fact(r, "agents", list, err);
}

static json_t *targets(struct run *r, int zero)
{
	json_t *recorded = run_fact(r, "agents");
	if (zero)
		return steps_agents_at_zero(recorded);
	return recorded ? json_deep_copy(recorded) : json_array();
}

static int stop_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	return plan_agents(r, touches, " -> 0", err);
}

/* The entry of `list` for the same workload as `agent`, or NULL. */
static json_t *find_agent(json_t *list, json_t *agent)
{
	json_t *cur;
	size_t i;
	json_array_foreach(list, i, cur)
		if (!strcmp(json_string_value(json_object_get(cur, "name")), json_string_value(json_object_get(agent, "name"))) &&
		    !strcmp(json_string_value(json_object_get(cur, "kind")) ?: "", json_string_value(json_object_get(agent, "kind")) ?: "") &&
		    !strcmp(json_string_value(json_object_get(cur, "namespace")) ?: "",
			    json_string_value(json_object_get(agent, "namespace")) ?: ""))
			return cur;
	return NULL;
}

/* Every recorded agent at `zero ? 0 : its recorded replicas`? */
static int agents_at(struct run *r, int zero, struct drctl_error *err)
{
	struct agents *a;
	json_t *list, *want = targets(r, zero), *t;
	size_t i;
	int ok = 1;

	if (!(a = agents_of(r, err)) || agents_list(a, &list, err) != 0) {
		json_decref(want);
		return -1;
	}
	json_array_foreach(want, i, t) {
		json_t *cur = find_agent(list, t);
		if (!cur || json_integer_value(json_object_get(cur, "replicas")) != json_integer_value(json_object_get(t, "replicas")) ||
		    json_integer_value(json_object_get(cur, "ready")) != json_integer_value(json_object_get(t, "replicas")))
			ok = 0;
	}
	json_decref(list);
	json_decref(want);
	return ok;
}

/* Every recorded agent to 0 (zero) or back to its recorded replicas; with
 * wait, until they run so (0: until no pod of them runs). */
static int scale_all(struct run *r, int zero, int wait, struct drctl_error *err)
{
	struct agents *a;
	json_t *want = targets(r, zero), *t, *now = NULL;
	size_t i;
	int rc = -1;

	if (!(a = agents_of(r, err)) || agents_list(a, &now, err) != 0)
		goto done;
	json_array_foreach(want, i, t) {
		char name[256];
		json_int_t wanted = json_integer_value(json_object_get(t, "replicas"));
		json_t *cur = find_agent(now, t);
		if (cur && json_integer_value(json_object_get(cur, "replicas")) == wanted)
			continue; /* asked for already: no write */
		agents_name(t, name, sizeof(name));
		log_info("%s: scaling to %lld", name, (long long)wanted);
		if (agents_scale(a, t, (long)wanted, err) != 0)
			goto done;
	}
	rc = wait ? agents_wait(a, want, agents_timeout(run_config(r)), err) : 0;
done:
	json_decref(want);
	json_decref(now);
	return rc;
}

/* No check: scaling to zero again is harmless, and the wait that follows
 * is the real proof (no pod runs, terminating ones included), which a
 * look at the replica counts alone would not give. */
static int stop_act(struct run *r, struct drctl_error *err)
{
	return scale_all(r, 1, 1, err);
}

static int start_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	json_array_append_new(touches, json_string("every agent back at the replicas recorded by record-replicas"));
	(void)r;
	return 0;
}

static int start_check(struct run *r, struct drctl_error *err)
{
	return agents_at(r, 0, err);
}

/* Scales only; wait-rollout waits. */
static int start_act(struct run *r, struct drctl_error *err)
{
	return scale_all(r, 0, 0, err);
}

/* --- the database -------------------------------------------------------------- */

static int restore_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	char db[PG_NAME_MAX + 1];
	if (platform_database(run_config(r), db, sizeof(db), err) != 0)
		return -1;
	json_array_append_new(touches, json_sprintf("creates database %s_restore_<run time> from the backup set", db));
	return 0;
}

static int restore_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return json_is_true(run_fact(r, "restored"));
}

static int restore_act(struct run *r, struct drctl_error *err)
{
	struct postgres_restore_options po = { 0 };
	struct restore_options o = { 0 };
	const char *db = run_fact_string(r, "database");
	char staging[PG_NAME_MAX + 1];
	json_t *report;
	int exists = 0, rc;

	if (!run_fact(r, "staging_database")) {
		steps_derived_name(r, db, "restore", staging, sizeof(staging));
		if (run_set_fact(r, "staging_database", json_string(staging), err) != 0)
			return -1;
	}
	snprintf(staging, sizeof(staging), "%s", run_fact_string(r, "staging_database"));
	if (database_exists(r, staging, &exists, err) != 0)
		return -1;
	if (exists) {
		/* Ours (its name is in this run's journal) and never proven: the
		 * leftover of a restore that was cut short. */
		run_note(r, "dropping %s, the unfinished restore of an earlier attempt of this run", staging);
		if (pg_database_drop(need_control(r, err), staging, err) != 0)
			return -1;
	}
	po.database = db;
	po.target_database = staging;
	o.backup = run_fact_string(r, "backup_id");
	o.component = &po;
	report = json_object();
	rc = restore_run(run_config(r), "postgres", &o, report, err);
	if (rc == 0 && json_array_size(json_object_get(json_object_get(report, "fingerprints"), "differences")) == 0 &&
	    json_object_get(report, "fingerprints"))
		/* The restore compared the fingerprints as its last act: the
		 * next step needs not take them again in this run. */
		rc = run_set_fact(r, "fingerprints", json_incref(json_object_get(report, "fingerprints")), err);
	json_decref(report);
	if (rc != 0)
		return -1;
	return run_set_fact(r, "restored", json_true(), err);
}

static int compare_act(struct run *r, struct drctl_error *err)
{
	json_t *manifest = manifest_of(r, err), *report;
	int rc = -1;

	if (!manifest)
		return -1;
	report = json_object();
	rc = postgres_check_fingerprints(run_config(r), NULL,
					 json_object_get(database_entry(manifest, run_fact_string(r, "database")), "fingerprints"),
					 run_fact_string(r, "staging_database"), report, err);
	if (rc == 0) {
		json_t *fp = json_object_get(report, "fingerprints");
		run_note(r, "%s matches the backup: %lld tables (exact row counts), %lld sequences",
			 run_fact_string(r, "staging_database"), (long long)json_integer_value(json_object_get(fp, "tables")),
			 (long long)json_integer_value(json_object_get(fp, "sequences")));
	}
	json_decref(report);
	return rc;
}

static int compare_check(struct run *r, struct drctl_error *err)
{
	json_t *fp = run_fact(r, "fingerprints");

	(void)err;
	/* After the swap the staging name is gone: the fingerprints were
	 * compared before it happened. */
	if (json_is_true(run_fact(r, "swapped")))
		return 1;
	/* The restore compared them against the signed manifest as it ended,
	 * with no difference, and journaled that. */
	if (fp && json_array_size(json_object_get(fp, "differences")) == 0) {
		run_note(r, "%s matched the backup when the restore ended: %lld tables (exact row counts), %lld sequences",
			 run_fact_string(r, "staging_database"), (long long)json_integer_value(json_object_get(fp, "tables")),
			 (long long)json_integer_value(json_object_get(fp, "sequences")));
		return 1;
	}
	return 0;
}

static int swap_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	char db[PG_NAME_MAX + 1];
	if (platform_database(run_config(r), db, sizeof(db), err) != 0)
		return -1;
	json_array_append_new(touches, json_sprintf("terminates the sessions on %s", db));
	json_array_append_new(touches, json_sprintf("renames %s to %s_corrupt_<run time> (kept, never dropped) and the "
						   "restored database to %s, in one transaction", db, db, db));
	return 0;
}

static int swap_check(struct run *r, struct drctl_error *err)
{
	int kept = 0, staging = 0, target = 0;

	if (json_is_true(run_fact(r, "swapped")))
		return 1;
	if (!run_fact(r, "kept_database"))
		return 0;
	/* Killed between the commit and the journal: the names tell. */
	if (database_exists(r, run_fact_string(r, "kept_database"), &kept, err) != 0 ||
	    database_exists(r, run_fact_string(r, "staging_database"), &staging, err) != 0 ||
	    database_exists(r, run_fact_string(r, "database"), &target, err) != 0)
		return -1;
	if (kept && target && !staging)
		return run_set_fact(r, "swapped", json_true(), err) == 0 ? 1 : -1;
	return 0;
}

static int swap_act(struct run *r, struct drctl_error *err)
{
	const char *db = run_fact_string(r, "database"), *staging = run_fact_string(r, "staging_database");
	char kept[PG_NAME_MAX + 1];
	PGconn *c = need_control(r, err);
	int terminated = 0, exists = 0;

	if (!c)
		return -1;
	if (!run_fact(r, "kept_database")) {
		steps_derived_name(r, db, "corrupt", kept, sizeof(kept));
		if (run_set_fact(r, "kept_database", json_string(kept), err) != 0)
			return -1;
	}
	snprintf(kept, sizeof(kept), "%s", run_fact_string(r, "kept_database"));
	if (pg_database_exists(c, db, &exists, err) != 0)
		return -1;
	if (!exists) {
		/* Nothing to keep: the damaged database is gone already. */
		run_note(r, "database %s does not exist; the restored one simply takes its name", db);
		if (pg_database_rename(c, staging, db, err) != 0)
			return -1;
	} else if (pg_database_swap(c, db, staging, kept, &terminated, err) != 0) {
		return -1;
	} else {
		run_note(r, "%s is the restored database; the damaged one is kept as %s (%d sessions terminated)", db, kept,
			 terminated);
	}
	return run_set_fact(r, "swapped", json_true(), err);
}

/* --- the end ------------------------------------------------------------------- */

/* The recorded replicas asked for again (harmless when they already are,
 * and what a resumed run needs when the scale-up did not take), then the
 * wait for every agent to run them. */
static int wait_act(struct run *r, struct drctl_error *err)
{
	return scale_all(r, 0, 1, err);
}

static int health_act(struct run *r, struct drctl_error *err)
{
	struct health_options o = { .database = run_fact_string(r, "database"), .agents = run_fact(r, "agents") };
	return steps_health(r, &o, err);
}

static void describe_failure(struct run *r, const char *step, json_t *lines)
{
	const char *db = run_fact_string(r, "database") ?: "the database";
	int swapped = json_is_true(run_fact(r, "swapped"));
	int agents_touched = run_fact(r, "agents") && strcmp(step, "preflight") && strcmp(step, "record-replicas");

	if (swapped)
		json_array_append_new(lines, json_sprintf("database %s is the restored one; the damaged one is kept as %s",
							  db, run_fact_string(r, "kept_database")));
	else
		json_array_append_new(lines, json_sprintf("the damaged database %s is untouched", db));
	if (!swapped && run_fact(r, "staging_database"))
		json_array_append_new(lines, json_sprintf("the restore goes into %s (%s)", run_fact_string(r, "staging_database"),
							  json_is_true(run_fact(r, "restored")) ? "restored" : "not finished"));
	if (agents_touched && strcmp(step, "wait-rollout") && strcmp(step, "health-checks")) {
		json_array_append_new(lines, json_string("the agents may be stopped: resuming starts them at their recorded replicas"));
	}
	if (run_fact(r, "agents")) {
		json_t *ag;
		size_t i;
		json_array_foreach(run_fact(r, "agents"), i, ag) {
			char name[256];
			agents_name(ag, name, sizeof(name));
			json_array_append_new(lines, json_sprintf("%s: recorded at %lld replicas", name,
								  (long long)json_integer_value(json_object_get(ag, "replicas"))));
		}
	}
	json_array_append_new(lines, json_sprintf("next: fix the cause, then `drctl scenario resume %s`", run_id(r)));
}

static const struct step steps[] = {
	{ "preflight", "a complete, verified backup set, the identity that decrypts it, every server reachable",
	  STEP_ACTION, preflight_plan, NULL, preflight_act, NULL, NULL },
	{ "record-replicas", "record every agent's replicas before anything is scaled", STEP_ACTION, record_plan,
	  record_check, record_act, NULL, NULL },
	{ "stop-agents", "scale the agents to zero and wait until none runs", STEP_ACTION, stop_plan, NULL, stop_act,
	  NULL, NULL },
	{ "restore-database", "restore the backup into a new database", STEP_ACTION, restore_plan, restore_check,
	  restore_act, NULL, NULL },
	{ "compare-fingerprints", "compare the new database's row counts and sequences with the backup's", STEP_ACTION,
	  NULL, compare_check, compare_act, NULL, NULL },
	{ "swap-databases", "keep the damaged database under a dated name and give the restored one its name, atomically",
	  STEP_ACTION, swap_plan, swap_check, swap_act, NULL, NULL },
	{ "start-agents", "scale the agents back to their recorded replicas", STEP_ACTION, start_plan, start_check,
	  start_act, NULL, NULL },
	{ "wait-rollout", "wait until every agent runs its recorded replicas", STEP_ACTION, NULL, NULL, wait_act, NULL,
	  NULL },
	{ "health-checks", "PostgreSQL, Redis, Vault and every agent's health URL", STEP_ACTION, NULL, NULL, health_act,
	  NULL, NULL },
};

const struct scenario db_corruption_scenario = {
	.name = "db-corruption",
	.summary = "restore the database into a new one, prove it, swap it in; the damaged one is kept",
	.steps = steps,
	.n_steps = sizeof(steps) / sizeof(steps[0]),
	.open = steps_open,
	.close = steps_close,
	.describe_failure = describe_failure,
};
