/*
 * cluster-loss: the runbook's scenario 1 ("Complete Cluster Loss"): the
 * cluster is gone and the backup repository (off-site) is all that is left.
 * The runbook's five commands become fourteen steps, each of which knows
 * whether its effect is already there, so a run killed anywhere resumes:
 *
 *   preflight         the set verifies (signatures, every object there at
 *                     its signed size), the identity opens it, it holds
 *                     Vault; the RPO is recorded.  No object is read here:
 *                     each step that reads one checks its members' signed
 *                     SHA-256 on the way, the new cluster holds nothing a
 *                     damaged object could cost, and reading a large set
 *                     twice from off-site storage would add its whole
 *                     download time to the RTO
 *   provision-cluster gate: `terraform apply`, the new Vault initialized and
 *                     unsealed with its own new keys, its token for drctl
 *   restore-vault     the raft snapshot, forced onto the new cluster
 *                     (snapshot-force)
 *   unseal-vault      gate: unseal with the SNAPSHOT's keys (the old cluster's)
 *   wait-vault        sys/health active, holding the snapshot's cluster id
 *   deploy-platform   [scenario] deploy_command, its output shown, bounded
 *   hold-agents       the agents the deploy started are held at zero until
 *                     the data is back (the runbook lets them run on an
 *                     empty database)
 *   wait-services     PostgreSQL and Redis answer (bounded)
 *   restore-postgres  the roles, then every database of the set, each proven
 *                     against the set's fingerprints
 *   restore-redis     every key, the key counts compared
 *   restore-files     under [scenario] files_target, when it is set
 *   check-services    PostgreSQL, Redis and Vault healthy
 *   start-agents      every agent at the replicas the BACKUP recorded (the
 *                     manifest's platform.agents), not a fixed 2
 *   health-checks     everything, the agents' health URLs too
 *
 * The run reads nothing from the lost cluster and nothing from an old state
 * folder: only the repository, the signing public key and the decryption
 * identity (and the configuration that names them and the new servers).
 * docs/cluster-loss.md is the operator's page.
 *
 * Facts (journaled before the step that depends on them): backup_id, rpo,
 * vault_cluster (the snapshot's cluster id and name), agents_recorded (the
 * set's), vault_posted (before the snapshot is sent), vault_restored,
 * deployed, agents_after_deploy, agents_targets, and the data steps' own
 * (cluster_loss_data.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drctl/engine/engine.h"
#include "drctl/scenarios/cluster_loss_private.h"
#include "drctl/scenarios/scenarios.h"
#include "drctl/scenarios/steps_common.h"
#include "lib/clients/pg.h"
#include "lib/clients/redis_conn.h"
#include "lib/core/log.h"
#include "lib/core/process.h"
#include "lib/platform/health.h"
#include "verify/verify.h"

#define DEPLOY_ARGS_MAX 64

/* --- what the steps share ---------------------------------------------------- */

json_t *cl_manifest(struct run *r, struct drctl_error *err)
{
	return steps_manifest(r, &steps_of(r)->manifest, err);
}

json_t *cl_section(json_t *manifest, const char *component)
{
	json_t *s = json_object_get(json_object_get(manifest, "components"), component);
	return json_is_object(s) ? s : NULL;
}

PGconn *cl_control(struct run *r, struct drctl_error *err)
{
	struct steps_context *c = steps_of(r);
	if (!c->control)
		c->control = pg_connect(run_config(r), "postgres", err);
	return c->control;
}

/* Are the agents controlled here?  The same rule as the backup's record. */
static int agents_controlled(const struct config *cfg)
{
	return config_is_set(cfg, "agents", "control") || getenv("KUBERNETES_SERVICE_HOST") != NULL;
}

static struct agents *agents_of(struct run *r, struct drctl_error *err)
{
	return steps_agents(r, &steps_of(r)->agents, err);
}

double cl_seconds(const struct config *cfg, const char *key, long fallback)
{
	long s = 0;
	if (config_get_int(cfg, "scenario", key, &s) != 0 || s <= 0)
		s = fallback;
	return (double)s;
}

/* "2026-12-01T03:15:00Z" (a manifest's times) or "20261201T031500Z" (a
 * run id's start) as Unix time; -1 when it is neither. */
static double parse_utc(const char *text)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!text || (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			     &tm.tm_min, &tm.tm_sec) != 6 &&
		      sscanf(text, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			     &tm.tm_sec) != 6))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm);
}

/* The run's start, taken as the time of the disaster (now, in a plan). */
static double run_start(struct run *r)
{
	double t = parse_utc(run_id(r));
	return t < 0 ? now_seconds() : t;
}

/* --- preflight --------------------------------------------------------------- */

static int preflight_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err);
	char rpo[32];

	if (!m)
		return -1;
	format_utc(run_start(r), rpo);
	json_array_append_new(touches, json_sprintf("reads backup set %s (finished %s: an RPO of %.0f s if the disaster was at %s), "
						   "its signatures and its objects' sizes, from %s", json_string_value(json_object_get(m, "id")),
						   json_string_value(json_object_get(m, "finished")),
						   run_start(r) - parse_utc(json_string_value(json_object_get(m, "finished"))), rpo,
						   config_get(run_config(r), "repository", "type") ?: "local"));
	json_array_append_new(touches, json_string("needs only the repository, [signing] public_key_file and [encryption] identity_file"));
	return 0;
}

/* The facts the later steps need from the set, each recorded once. */
static int preflight_record(struct run *r, json_t *m, struct drctl_error *err)
{
	json_t *health = json_object_get(cl_section(m, "vault"), "health");
	json_t *platform = json_object_get(m, "platform");
	double finished = parse_utc(json_string_value(json_object_get(m, "finished")));

	if (!run_fact(r, "vault_cluster") &&
	    run_set_fact(r, "vault_cluster", json_pack("{s:s, s:s}", "id", json_string_value(json_object_get(health, "cluster_id")) ?: "",
						       "name", json_string_value(json_object_get(health, "cluster_name")) ?: ""),
			 err) != 0)
		return -1;
	if (!run_fact(r, "agents_recorded") &&
	    run_set_fact(r, "agents_recorded", json_is_array(json_object_get(platform, "agents"))
						       ? json_deep_copy(json_object_get(platform, "agents")) : json_null(),
			 err) != 0)
		return -1;
	if (!run_fact(r, "rpo")) {
		char disaster[32];
		format_utc(run_start(r), disaster);
		if (run_set_fact(r, "rpo", json_pack("{s:f, s:s, s:s, s:s}", "seconds", finished < 0 ? 0 : run_start(r) - finished,
						     "backup", run_fact_string(r, "backup_id"), "backup_finished",
						     json_string_value(json_object_get(m, "finished")) ?: "?", "disaster", disaster),
				 err) != 0)
			return -1;
	}
	return 0;
}

/* The set verifies, the identity opens it, it holds what the run needs:
 * found out before anyone provisions anything. */
static int preflight_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	json_t *report = json_object(), *m, *recorded;
	int rc = -1;

	if (!config_is_set(cfg, "scenario", "deploy_command")) {
		err_set(err, EXIT_USAGE, "[scenario] deploy_command",
			"set it to the platform's deploy, e.g. deploy_command = ./infrastructure/scripts/deploy.sh production full "
			"(or `true` to deploy by hand while the run waits for the services), then `drctl scenario resume` this run",
			"cluster-loss deploys the platform onto the new cluster and no [scenario] deploy_command is configured");
		goto done;
	}
	if (steps_record_backup_id(r, err) != 0)
		goto done;
	if (verify_run(cfg, run_fact_string(r, "backup_id"), VERIFY_SIZES, report, err) != 0) {
		if (err->code == EXIT_INTEGRITY) /* the set, not the run, is wrong: another set, in a new run */
			err_hint(err, "nothing was provisioned, posted or restored; keep this set for investigation, end this run with "
				      "`drctl scenario abort %s`, then choose another complete set (`drctl list`) and run "
				      "`drctl scenario run cluster-loss --backup ID`", run_id(r));
		goto done;
	}
	if (steps_check_identities(r, err) != 0 || !(m = cl_manifest(r, err)))
		goto done;
	if (!json_is_object(json_object_get(cl_section(m, "vault"), "snapshot"))) {
		err_set(err, EXIT_NOT_FOUND, run_fact_string(r, "backup_id"),
			"choose a set with a Vault raft snapshot with --backup ID (`drctl list`, `drctl show ID`)",
			"backup set %s holds no Vault raft snapshot, and a new cluster starts from Vault", run_fact_string(r, "backup_id"));
		goto done;
	}
	recorded = json_object_get(json_object_get(m, "platform"), "agents");
	if (json_array_size(recorded) > 0 && !agents_controlled(cfg)) {
		err_set(err, EXIT_USAGE, "[agents] control", "set [agents] control (kubernetes or command) and its keys",
			"backup set %s recorded %zu agent workloads, and no [agents] control is configured to start them",
			run_fact_string(r, "backup_id"), json_array_size(recorded));
		goto done;
	}
	if (preflight_record(r, m, err) != 0)
		goto done;
	{
		char agents[64];
		if (json_is_array(recorded))
			snprintf(agents, sizeof(agents), "%zu agent workloads recorded", json_array_size(recorded));
		else
			snprintf(agents, sizeof(agents), "no agents recorded (the deploy's counts will be kept)");
		run_note(r, "backup set %s verified (signatures, every object at its signed size; each member's hash is checked as it is restored), the identity opens it; it holds vault%s%s%s; %s; RPO %.0f s",
			 run_fact_string(r, "backup_id"), cl_section(m, "postgres") ? ", postgres" : "",
			 cl_section(m, "redis") ? ", redis" : "", cl_section(m, "files") ? ", files" : "", agents,
			 json_number_value(json_object_get(run_fact(r, "rpo"), "seconds")));
	}
	rc = 0;
done:
	json_decref(report);
	return rc;
}

/* --- the deploy hook ------------------------------------------------------------ */

static int deploy_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	const char *cmd = config_get(run_config(r), "scenario", "deploy_command");
	(void)err;
	if (!cmd)
		json_array_append_new(touches, json_string("no [scenario] deploy_command is configured: the preflight refuses to start"));
	else
		json_array_append_new(touches, json_sprintf("runs `%s` (no shell, at most %.0f s), its output shown; it must be safe to run twice",
							   cmd, cl_seconds(run_config(r), "deploy_timeout_seconds", 1800)));
	return 0;
}

static int deploy_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return json_is_true(run_fact(r, "deployed"));
}

static int deploy_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	char buf[4096], *argv[DEPLOY_ARGS_MAX];
	double t0 = now_seconds();

	if (process_split_words(config_get(cfg, "scenario", "deploy_command"), "[scenario] deploy_command", buf, sizeof(buf),
				argv, DEPLOY_ARGS_MAX, err) != 0)
		return -1;
	log_info("deploying the platform: %s (its output follows, prefixed deploy|)", config_get(cfg, "scenario", "deploy_command"));
	if (process_run_shown(argv, "[scenario] deploy_command", cl_seconds(cfg, "deploy_timeout_seconds", 1800), "deploy| ", err) != 0) {
		err_hint(err, "fix the deploy (its output is above); it runs again on `drctl scenario resume %s`", run_id(r));
		return -1;
	}
	run_note(r, "the deploy command finished in %.1f s", now_seconds() - t0);
	return run_set_fact(r, "deployed", json_true(), err);
}

/* --- the agents ----------------------------------------------------------------- */

static int same_agent(json_t *a, json_t *b)
{
	return !strcmp(json_string_value(json_object_get(a, "name")) ?: "", json_string_value(json_object_get(b, "name")) ?: "") &&
	       !strcmp(json_string_value(json_object_get(a, "namespace")) ?: "",
		       json_string_value(json_object_get(b, "namespace")) ?: "");
}

static json_t *find_agent(json_t *list, json_t *agent)
{
	json_t *one;
	size_t i;
	json_array_foreach(list, i, one)
		if (same_agent(one, agent))
			return one;
	return NULL;
}

/* Each target running exactly its replicas (1), not yet (0), -1 error. */
static int agents_at(struct run *r, json_t *targets, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	json_t *now, *t;
	size_t i;
	int ok = 1;

	if (!a || agents_list(a, &now, err) != 0)
		return -1;
	json_array_foreach(targets, i, t) {
		json_t *cur = find_agent(now, t);
		json_int_t want = json_integer_value(json_object_get(t, "replicas"));
		if (!cur || json_integer_value(json_object_get(cur, "replicas")) != want ||
		    json_integer_value(json_object_get(cur, "ready")) != want)
			ok = 0;
	}
	json_decref(now);
	return ok;
}

static int scale_to(struct run *r, json_t *targets, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	json_t *t;
	size_t i;

	if (!a)
		return -1;
	json_array_foreach(targets, i, t) {
		char name[256];
		agents_name(t, name, sizeof(name));
		log_info("%s: scaling to %lld", name, (long long)json_integer_value(json_object_get(t, "replicas")));
		if (agents_scale(a, t, (long)json_integer_value(json_object_get(t, "replicas")), err) != 0)
			return -1;
	}
	return agents_wait(a, targets, agents_timeout(run_config(r)), err);
}

static int hold_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	if (!agents_controlled(run_config(r)))
		json_array_append_new(touches, json_string("nothing: no [agents] control is configured"));
	else
		json_array_append_new(touches, json_string("every agent workload the deploy started is scaled to 0 (its count recorded) "
							   "until the data is back"));
	return 0;
}

static int hold_check(struct run *r, struct drctl_error *err)
{
	struct agents *a;
	json_t *now, *zero;
	int rc;

	if (!agents_controlled(run_config(r))) {
		run_note(r, "no [agents] control is configured: no agents to hold or start");
		return 1;
	}
	if (!run_fact(r, "agents_after_deploy"))
		return 0;
	if (!(a = agents_of(r, err)) || agents_list(a, &now, err) != 0)
		return -1;
	zero = steps_agents_at_zero(now);
	json_decref(now);
	rc = agents_at(r, zero, err);
	json_decref(zero);
	return rc;
}

static int hold_act(struct run *r, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	json_t *now, *zero;
	int rc;

	if (!a)
		return -1;
	if (!run_fact(r, "agents_after_deploy")) {
		if (agents_list(a, &now, err) != 0 || run_set_fact(r, "agents_after_deploy", now, err) != 0)
			return -1;
	}
	zero = steps_agents_at_zero(run_fact(r, "agents_after_deploy"));
	rc = scale_to(r, zero, err);
	json_decref(zero);
	if (rc == 0)
		run_note(r, "%zu agent workloads held at 0 until the data is back", json_array_size(run_fact(r, "agents_after_deploy")));
	return rc;
}

/* The workload of `agent` at its replicas, saying where the count came from. */
static json_t *agent_target(json_t *agent, const char *source)
{
	return json_pack("{s:O?, s:O?, s:O?, s:O, s:s}", "kind", json_object_get(agent, "kind"), "namespace",
			 json_object_get(agent, "namespace"), "name", json_object_get(agent, "name"), "replicas",
			 json_object_get(agent, "replicas"), "source", source);
}

/* What start-agents brings each agent to: the replicas the backup recorded;
 * an agent the backup does not know keeps the count the deploy gave it. */
static json_t *agent_targets(struct run *r)
{
	json_t *recorded = run_fact(r, "agents_recorded"), *deployed = run_fact(r, "agents_after_deploy");
	json_t *out = json_array(), *one;
	size_t i;

	json_array_foreach(recorded, i, one)
		json_array_append_new(out, agent_target(one, "backup"));
	json_array_foreach(deployed, i, one)
		if (!json_is_array(recorded) || !find_agent(recorded, one))
			json_array_append_new(out, agent_target(one, "deploy"));
	return out;
}

static int start_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *agents, *one;
	size_t i;

	if (!m)
		return -1;
	agents = json_object_get(json_object_get(m, "platform"), "agents");
	if (!agents_controlled(run_config(r)))
		json_array_append_new(touches, json_string("nothing: no [agents] control is configured"));
	else if (!json_is_array(agents))
		json_array_append_new(touches, json_string("the set recorded no agents: each agent back at the count the deploy gave it"));
	json_array_foreach(agents, i, one) {
		char name[256];
		agents_name(one, name, sizeof(name));
		json_array_append_new(touches, json_sprintf("%s: started at %lld replicas (recorded in the backup set)", name,
							   (long long)json_integer_value(json_object_get(one, "replicas"))));
	}
	return 0;
}

static int start_check(struct run *r, struct drctl_error *err)
{
	json_t *targets = run_fact(r, "agents_targets");
	if (!agents_controlled(run_config(r)))
		return 1;
	return targets ? agents_at(r, targets, err) : 0;
}

static int start_act(struct run *r, struct drctl_error *err)
{
	json_t *t;
	size_t i;

	if (!run_fact(r, "agents_targets") && run_set_fact(r, "agents_targets", agent_targets(r), err) != 0)
		return -1;
	if (scale_to(r, run_fact(r, "agents_targets"), err) != 0)
		return -1;
	json_array_foreach(run_fact(r, "agents_targets"), i, t) {
		char name[256];
		agents_name(t, name, sizeof(name));
		run_note(r, "%s runs %lld replicas (%s)", name, (long long)json_integer_value(json_object_get(t, "replicas")),
			 !strcmp(json_string_value(json_object_get(t, "source")) ?: "", "backup") ? "recorded in the backup set"
												  : "the deploy's count: the backup did not record it");
	}
	return 0;
}

/* --- the services and the health checks ---------------------------------------------- */

/* Do PostgreSQL and Redis (those the set has) answer?  why: the first that does not. */
static int services_answer(struct run *r, json_t *m, struct drctl_error *why)
{
	const struct config *cfg = run_config(r);
	if (cl_section(m, "postgres")) {
		PGconn *c = pg_connect(cfg, "postgres", why);
		PGresult *res;
		int ok;
		if (!c)
			return 0;
		res = PQexec(c, "SELECT 1");
		ok = PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok)
			err_set(why, EXIT_IO, "postgres", NULL, "PostgreSQL does not answer SELECT 1: %s", PQerrorMessage(c));
		PQclear(res);
		PQfinish(c);
		if (!ok)
			return 0;
	}
	if (cl_section(m, "redis")) {
		struct redis_conn *rc = NULL;
		redisReply *reply = NULL;
		int ok = redis_conn_open(&rc, cfg, NULL, REDIS_ROLE_RESTORE, why) == 0 &&
			 redis_conn_call(rc, &reply, why, "PING", NULL) == 0;
		if (reply)
			freeReplyObject(reply);
		redis_conn_close(rc);
		if (!ok)
			return 0;
	}
	return 1;
}

static int wait_services_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	json_array_append_new(touches, json_sprintf("connects to [postgres] conninfo and [redis] url until both answer (at most %.0f s)",
						   cl_seconds(run_config(r), "services_wait_seconds", 600)));
	return 0;
}

static int wait_services_check(struct run *r, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err);
	struct drctl_error why;

	err_clear(&why);
	return m ? services_answer(r, m, &why) : -1;
}

static int wait_services_act(struct run *r, struct drctl_error *err)
{
	double timeout = cl_seconds(run_config(r), "services_wait_seconds", 600), start = now_seconds();
	json_t *m = cl_manifest(r, err);
	struct drctl_error why;

	if (!m)
		return -1;
	for (;;) {
		struct timespec ts = { 1, 0 };
		err_clear(&why);
		if (services_answer(r, m, &why)) {
			run_note(r, "PostgreSQL and Redis answer, %.1f s after the deploy", now_seconds() - start);
			return 0;
		}
		if (process_stop_requested())
			return err_set(err, EXIT_FAILED, "wait-services", NULL, "stopped while waiting for the services");
		if (now_seconds() - start >= timeout)
			break;
		nanosleep(&ts, NULL);
	}
	err_set(err, EXIT_IO, why.subject, NULL, "the deployed services did not answer within %.0f s: %s", timeout, why.message);
	err_hint(err, "check the deploy (e.g. `kubectl get pods -n ai-agents`), [postgres] conninfo and [redis] url, then "
		      "`drctl scenario resume %s`", run_id(r));
	return -1;
}

static const char *first_database(json_t *m)
{
	void *it = json_object_iter(json_object_get(cl_section(m, "postgres"), "databases"));
	return it ? json_object_iter_key(it) : NULL;
}

static int run_health(struct run *r, json_t *agents, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err);
	struct health_options o = { .agents = agents };

	if (!m)
		return -1;
	o.database = first_database(m);
	return steps_health(r, &o, err);
}

static int check_services_act(struct run *r, struct drctl_error *err)
{
	return run_health(r, NULL, err);
}

static int health_act(struct run *r, struct drctl_error *err)
{
	return run_health(r, run_fact(r, "agents_targets"), err);
}

/* --- the report of a failure -------------------------------------------------------------- */

static void describe_failure(struct run *r, const char *step, json_t *lines)
{
	(void)step;
	if (json_object_get(run_fact(r, "vault_restored"), "node"))
		json_array_append_new(lines, json_sprintf("Vault at %s holds the snapshot of cluster %s",
							  json_string_value(json_object_get(run_fact(r, "vault_restored"), "node")),
							  cl_snapshot_cluster(r)));
	else if (json_is_true(run_fact(r, "vault_posted")))
		json_array_append_new(lines, json_string("the snapshot was posted to Vault; resuming checks whether it took"));
	else
		json_array_append_new(lines, json_string("Vault is untouched: no snapshot was posted"));
	if (json_is_true(run_fact(r, "deployed")))
		json_array_append_new(lines, json_string("the platform is deployed"));
	cl_data_describe(r, lines);
	if (run_fact(r, "agents_after_deploy") && !run_fact(r, "agents_targets"))
		json_array_append_new(lines, json_string("the agents are held at 0: resuming starts them at the counts the backup recorded"));
	json_array_append_new(lines, json_sprintf("next: fix the cause, then `drctl scenario resume %s`", run_id(r)));
}

static const struct step steps[] = {
	{ "preflight", "the backup set verifies, the identity opens it, it holds Vault; the RPO is recorded", STEP_ACTION,
	  preflight_plan, NULL, preflight_act, NULL, NULL },
	{ "provision-cluster", "a person provisions the new cluster and initializes and unseals its new Vault", STEP_GATE,
	  cl_provision_plan, NULL, NULL, NULL, cl_provision_instructions },
	{ "restore-vault", "restore Vault's raft snapshot onto the new cluster (snapshot-force)", STEP_ACTION,
	  cl_restore_vault_plan, cl_restore_vault_check, cl_restore_vault_act, NULL, NULL },
	{ "unseal-vault", "a person unseals Vault with the snapshot's (the old cluster's) unseal keys", STEP_GATE, cl_unseal_plan,
	  NULL, NULL, NULL, cl_unseal_instructions },
	{ "wait-vault", "wait until Vault is active and holds the snapshot's cluster", STEP_ACTION, cl_wait_vault_plan,
	  cl_wait_vault_check, cl_wait_vault_act, NULL, NULL },
	{ "deploy-platform", "deploy the platform onto the new cluster ([scenario] deploy_command)", STEP_ACTION, deploy_plan,
	  deploy_check, deploy_act, NULL, NULL },
	{ "hold-agents", "hold the agents the deploy started at zero until the data is back", STEP_ACTION, hold_plan,
	  hold_check, hold_act, NULL, NULL },
	{ "wait-services", "wait until the deployed PostgreSQL and Redis answer", STEP_ACTION, wait_services_plan,
	  wait_services_check, wait_services_act, NULL, NULL },
	{ "restore-postgres", "restore the roles, then every database of the set, each proven against its fingerprints",
	  STEP_TOGETHER, cl_postgres_plan, cl_postgres_check, cl_postgres_act, NULL, NULL },
	{ "restore-redis", "restore every key into Redis and compare the key counts", STEP_TOGETHER, cl_redis_plan,
	  cl_redis_check, cl_redis_act, NULL, NULL },
	{ "restore-files", "restore the files under [scenario] files_target", STEP_ACTION, cl_files_plan, cl_files_check,
	  cl_files_act, NULL, NULL },
	{ "check-services", "PostgreSQL, Redis and Vault healthy before the agents come", STEP_ACTION, NULL, NULL,
	  check_services_act, NULL, NULL },
	{ "start-agents", "start every agent at the replicas the backup recorded", STEP_ACTION, start_plan, start_check,
	  start_act, NULL, NULL },
	{ "health-checks", "PostgreSQL, Redis, Vault and every agent's health URL", STEP_ACTION, NULL, NULL, health_act, NULL,
	  NULL },
};

const struct scenario cluster_loss_scenario = {
	.name = "cluster-loss",
	.summary = "rebuild the platform on a new cluster from the repository alone: Vault, deploy, data, agents",
	.steps = steps,
	.n_steps = sizeof(steps) / sizeof(steps[0]),
	.open = steps_open,
	.close = steps_close,
	.describe_failure = describe_failure,
};
