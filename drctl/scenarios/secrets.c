/*
 * secrets-compromise and secrets-rotation: the runbook's scenario 3
 * ("Compromised Secrets") and its third-Monday secret rotation.
 *
 * The runbook rotates everything with a script, restarts every agent, then
 * asks a person to audit the logs, investigate and update the policies.
 * Here the evidence is kept first (sessions, clients, token accessors,
 * signed and encrypted in the repository, before anything is rotated or
 * killed); each secret is rotated so that no working credential is ever
 * missing from Vault (rotation/rotation.h); what was opened with the old
 * credentials is then closed (sessions, clients, listed Vault tokens); the
 * agents restart so they read the new values, at the replicas they run;
 * third-party keys and the investigation are gates with exact instructions.
 *
 * secrets-rotation (`drctl rotate-secrets`) is the monthly routine: the same
 * rotation, restart and health checks, no evidence, nothing killed, no
 * breach gates.  Both are resumable anywhere; abort settles every secret
 * left pending on the value that works.
 *
 * Facts: rotation.<kind>.<name> (each secret's state and versions, never a
 * value), evidence.bundle, agents (every agent with its replicas, before the
 * restart), agents_restarted and agents_restarted_again (names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drctl/engine/engine.h"
#include "drctl/scenarios/scenarios.h"
#include "drctl/scenarios/steps_common.h"
#include "lib/core/log.h"
#include "lib/platform/agents.h"
#include "lib/platform/health.h"
#include "lib/report/metrics.h"
#include "rotation/rotation.h"

struct secrets {
	struct rotation *rot;
	struct agents *agents;
};

static struct secrets *ctx_of(struct run *r)
{
	return run_context(r);
}

static struct rotation *rot(struct run *r)
{
	return ctx_of(r)->rot;
}

static json_t *journal_fact(void *ctx, const char *key)
{
	return run_fact(ctx, key);
}

static int journal_set_fact(void *ctx, const char *key, json_t *value, struct drctl_error *err)
{
	return run_set_fact(ctx, key, value, err);
}

static void journal_note(void *ctx, const char *text)
{
	run_note(ctx, "%s", text);
}

static int secrets_open(struct run *r, struct drctl_error *err)
{
	struct secrets *c = steps_context_new(r, sizeof(struct secrets), err);
	struct rotation_journal j = { .fact = journal_fact, .set_fact = journal_set_fact, .note = journal_note, .ctx = r,
				      .run_id = run_id(r), .run_folder = run_folder(r) };

	if (!c)
		return -1;
	return rotation_open(&c->rot, run_config(r), &j, err);
}

static void secrets_close(struct run *r)
{
	struct secrets *c = ctx_of(r);
	rotation_close(c->rot);
	agents_close(c->agents);
	free(c);
	run_set_context(r, NULL);
}

static struct agents *agents_of(struct run *r, struct drctl_error *err)
{
	return steps_agents(r, &ctx_of(r)->agents, err);
}

/* --- preflight, evidence, rotation, revocation ----------------------------------- */

static int preflight_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	json_array_append_new(touches, json_sprintf("reads the metadata of %zu Vault secret(s); connects to PostgreSQL and Redis "
						    "where a secret of theirs is rotated; lists the agents",
						    rotation_owned_count(rot(r)) + rotation_manual_count(rot(r))));
	return 0;
}

static int preflight_act(struct run *r, struct drctl_error *err)
{
	struct agents *a;
	json_t *list = NULL;

	if (rotation_preflight(rot(r), err) != 0 || !(a = agents_of(r, err)) || agents_list(a, &list, err) != 0)
		return -1;
	run_note(r, "%zu agent workload(s) to restart afterwards", json_array_size(list));
	json_decref(list);
	return 0;
}

static int evidence_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	rotation_plan_evidence(rot(r), touches);
	return 0;
}

static int evidence_check(struct run *r, struct drctl_error *err)
{
	return rotation_evidence_published(rot(r), err);
}

static int evidence_act(struct run *r, struct drctl_error *err)
{
	return rotation_collect_evidence(rot(r), "secrets-compromise", err);
}

static int rotate_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	rotation_plan_rotate(rot(r), touches);
	return 0;
}

static int rotate_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return rotation_all_done(rot(r));
}

static int rotate_act(struct run *r, struct drctl_error *err)
{
	/* The third-party keys' versions first: the gate asks for newer ones. */
	if (rotation_manual_record(rot(r), err) != 0)
		return -1;
	return rotation_rotate_all(rot(r), err);
}

static int revoke_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	rotation_plan_revoke(rot(r), touches);
	return 0;
}

static int revoke_act(struct run *r, struct drctl_error *err)
{
	return rotation_revoke_old(rot(r), err);
}

/* --- the agents ------------------------------------------------------------------ */

static int restart_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	return a ? steps_plan_agents(a, touches, "restarted, then waited for at its ", " replicas", err) : -1;
}

static int restarted(struct run *r, const char *fact, const char *name)
{
	json_t *v;
	size_t i;
	json_array_foreach(run_fact(r, fact), i, v)
		if (!strcmp(json_string_value(v), name))
			return 1;
	return 0;
}

static int all_restarted(struct run *r, const char *fact)
{
	json_t *ag;
	size_t i;

	if (!run_fact(r, "agents"))
		return 0;
	json_array_foreach(run_fact(r, "agents"), i, ag)
		if (!restarted(r, fact, json_string_value(json_object_get(ag, "name"))))
			return 0;
	return 1;
}

/* Every agent restarted once (journaled by name after each, so a resumed
 * run restarts only the ones not yet restarted, and at worst one twice),
 * then waited for at the replicas it ran before. */
static int restart_agents(struct run *r, const char *fact, struct drctl_error *err)
{
	struct agents *a = agents_of(r, err);
	json_t *ag;
	size_t i;

	if (!a)
		return -1;
	if (!run_fact(r, "agents")) {
		json_t *list;
		if (agents_list(a, &list, err) != 0 || run_set_fact(r, "agents", list, err) != 0)
			return -1;
	}
	json_array_foreach(run_fact(r, "agents"), i, ag) {
		const char *name = json_string_value(json_object_get(ag, "name"));
		json_t *done;
		char shown[256];
		if (restarted(r, fact, name))
			continue;
		agents_name(ag, shown, sizeof(shown));
		log_info("%s: restarting", shown);
		if (agents_restart(a, ag, err) != 0)
			return -1;
		done = run_fact(r, fact) ? json_deep_copy(run_fact(r, fact)) : json_array();
		json_array_append_new(done, json_string(name));
		if (run_set_fact(r, fact, done, err) != 0)
			return -1;
	}
	return agents_wait(a, run_fact(r, "agents"), agents_timeout(run_config(r)), err);
}

static int restart_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return all_restarted(r, "agents_restarted");
}

static int restart_act(struct run *r, struct drctl_error *err)
{
	return restart_agents(r, "agents_restarted", err);
}

/* The first of [postgres] databases, for the PostgreSQL check. */
static void platform_database(const struct config *cfg, char *out, size_t cap)
{
	const char *dbs = config_get(cfg, "postgres", "databases");
	snprintf(out, cap, "%.*s", dbs ? (int)strcspn(dbs, ", ") : 0, dbs ? dbs : "");
}

static int health_act(struct run *r, struct drctl_error *err)
{
	char db[128], *redis_password = rotation_redis_password(rot(r));
	struct health_options o = { .agents = run_fact(r, "agents"), .redis_password = redis_password };
	int rc;

	platform_database(run_config(r), db, sizeof(db));
	o.database = db[0] ? db : NULL;
	rc = steps_health(r, &o, err);
	rotation_value_free(redis_password);
	return rc;
}

/* --- third-party keys ------------------------------------------------------------ */

static int keys_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return rotation_manual_count(rot(r)) == 0;
}

static int keys_verify(struct run *r, struct drctl_error *err)
{
	return rotation_manual_confirm(rot(r), err);
}

static void keys_instructions(struct run *r, char *buf, size_t cap)
{
	rotation_manual_instructions(rot(r), buf, cap);
}

static int again_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	if (rotation_manual_count(rot(r)) == 0)
		json_array_append_new(touches, json_string("nothing: no third-party key is configured"));
	else
		json_array_append_new(touches, json_string("every agent restarted again, so it reads the new third-party keys; "
							   "health checks"));
	return 0;
}

static int again_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return rotation_manual_count(rot(r)) == 0 || all_restarted(r, "agents_restarted_again");
}

static int again_act(struct run *r, struct drctl_error *err)
{
	if (restart_agents(r, "agents_restarted_again", err) != 0)
		return -1;
	return health_act(r, err);
}

/* --- the investigation ----------------------------------------------------------- */

static void audit_instructions(struct run *r, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "Audit access logs (runbook scenario 3, step 3). The evidence taken before anything changed is in the "
		 "repository: incidents/%s/bundle.tar.zst.age (check it: minisign -V -p signing.pub -m manifest.json; open "
		 "it: age -d -i age-identity.txt bundle.tar.zst.age | zstd -d | tar -x). Go through:\n"
		 "  - Vault's audit device log (vault audit list): every request by the token accessors in "
		 "vault/token-accessors.json, reads of the rotated secrets' paths, logins from unknown addresses\n"
		 "  - PostgreSQL's log: connections of the rotated roles and the clients in postgres/pg_stat_activity.json\n"
		 "  - Redis: the clients in redis/client-list.txt (addresses, users, last commands)\n"
		 "  - Kubernetes audit logs and events (kubectl get events -A --sort-by=.lastTimestamp): who read the "
		 "Secrets, exec'd into pods, changed Deployments\n"
		 "  - the agents' own logs for requests from unknown callers",
		 run_id(r));
}

static void investigate_instructions(struct run *r, char *buf, size_t cap)
{
	(void)r;
	snprintf(buf, cap,
		 "Investigate the breach (runbook scenario 3, step 4): find how the secrets were exposed (a leaked "
		 "kubeconfig or CI variable, a compromised pod or node, a secret in a repository or a log), how long they "
		 "were exposed, and what was read or changed with them; close that path; record the timeline and the "
		 "findings with the incident; tell the people who must know (security, the owners of affected data).");
}

static void policies_instructions(struct run *r, char *buf, size_t cap)
{
	(void)r;
	snprintf(buf, cap,
		 "Update security policies (runbook scenario 3, step 5): narrow the Vault policies and token TTLs of what "
		 "leaked, the PostgreSQL grants of the rotated roles and the Redis ACL rules of the rotated users to what "
		 "they need; add what would have caught it earlier (audit alerts, [rotation] entries for any secret found "
		 "missing from the rotation); review the NetworkPolicies and RBAC that allowed the access.");
}

/* --- failure, abort, metrics -------------------------------------------------------- */

static void describe_failure(struct run *r, const char *step, json_t *lines)
{
	json_t *ag;
	size_t i;

	(void)step;
	rotation_describe(rot(r), lines);
	json_array_foreach(run_fact(r, "agents"), i, ag) {
		char name[256];
		agents_name(ag, name, sizeof(name));
		json_array_append_new(lines, json_sprintf("%s: %s (recorded at %lld replicas)", name,
							  restarted(r, "agents_restarted", json_string_value(json_object_get(ag, "name")))
								  ? "restarted"
								  : "not restarted yet",
							  (long long)json_integer_value(json_object_get(ag, "replicas"))));
	}
}

static int secrets_abort(struct run *r, struct drctl_error *err)
{
	return rotation_abort(rot(r), err);
}

static void rotation_metrics(json_t *status, json_t *samples)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	const char *scenario = json_string_value(json_object_get(status, "scenario"));
	int ok = state && !strcmp(state, "done");

	metrics_sample_labelled(samples, "drctl_rotation_last_status", "scenario", scenario, ok);
	metrics_sample_labelled(samples, "drctl_rotation_last_success_timestamp_seconds", "scenario", scenario,
				now_seconds());
}

/* --- the tables ------------------------------------------------------------------ */

#define PREFLIGHT                                                                                                  \
	{ "preflight", "every server and secret reachable, nothing left pending by another run", STEP_ACTION,         \
	  preflight_plan, NULL, preflight_act, NULL, NULL }
#define ROTATE                                                                                                     \
	{ "rotate-secrets", "each secret: new value into Vault first, then applied, proven by a login, the old one retired", \
	  STEP_ACTION, rotate_plan, rotate_check, rotate_act, NULL, NULL }
#define RESTART                                                                                                    \
	{ "restart-agents", "restart every agent so it reads the new secrets, and wait for its replicas", STEP_ACTION, \
	  restart_plan, restart_check, restart_act, NULL, NULL }
#define HEALTH                                                                                                     \
	{ "health-checks", "PostgreSQL, Redis, Vault and every agent's health URL", STEP_ACTION, NULL, NULL,          \
	  health_act, NULL, NULL }
#define KEYS                                                                                                       \
	{ "third-party-keys", "a person issues new third-party keys and writes them into Vault", STEP_GATE, NULL,      \
	  keys_check, NULL, keys_verify, keys_instructions }
#define AGAIN                                                                                                      \
	{ "restart-for-new-keys", "restart the agents again so they read the new third-party keys; health checks",    \
	  STEP_ACTION, again_plan, again_check, again_act, NULL, NULL }

static const struct step compromise_steps[] = {
	PREFLIGHT,
	{ "collect-evidence", "sessions, clients, token accessors and the journal into a signed, encrypted incident bundle",
	  STEP_ACTION, evidence_plan, evidence_check, evidence_act, NULL, NULL },
	ROTATE,
	{ "revoke-old-access", "terminate the sessions and clients of the rotated roles and users, revoke the listed Vault tokens",
	  STEP_ACTION, revoke_plan, NULL, revoke_act, NULL, NULL },
	RESTART,
	HEALTH,
	KEYS,
	AGAIN,
	{ "audit-access-logs", "a person audits the access logs against the evidence", STEP_GATE, NULL, NULL, NULL, NULL,
	  audit_instructions },
	{ "investigate-breach", "a person finds how the secrets leaked and closes that path", STEP_GATE, NULL, NULL, NULL,
	  NULL, investigate_instructions },
	{ "update-security-policies", "a person narrows the policies that let it happen", STEP_GATE, NULL, NULL, NULL, NULL,
	  policies_instructions },
};

static const struct step rotation_steps[] = { PREFLIGHT, ROTATE, RESTART, HEALTH, KEYS, AGAIN };

const struct scenario secrets_compromise_scenario = {
	.name = "secrets-compromise",
	.summary = "keep the evidence, rotate every secret with no working credential ever missing from Vault, close old access, restart the agents",
	.steps = compromise_steps,
	.n_steps = sizeof(compromise_steps) / sizeof(compromise_steps[0]),
	.open = secrets_open,
	.close = secrets_close,
	.describe_failure = describe_failure,
	.abort = secrets_abort,
	.metrics = rotation_metrics,
};

const struct scenario secrets_rotation_scenario = {
	.name = "secrets-rotation",
	.summary = "the monthly rotation (drctl rotate-secrets): every secret, then the agents restart",
	.steps = rotation_steps,
	.n_steps = sizeof(rotation_steps) / sizeof(rotation_steps[0]),
	.open = secrets_open,
	.close = secrets_close,
	.describe_failure = describe_failure,
	.abort = secrets_abort,
	.metrics = rotation_metrics,
};
