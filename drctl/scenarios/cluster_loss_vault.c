/*
 * cluster_loss_vault: the Vault steps of cluster-loss (see cluster_loss.c):
 * the gate that provisions the new cluster, the snapshot forced onto it, the
 * gate that unseals it with the snapshot's keys, and the wait for an active
 * Vault that holds the snapshot's cluster.
 *
 * Vault restored is recognised by sys/health (no token needed): unsealed and
 * holding the snapshot's cluster id (the manifest recorded it at backup), or
 * sealed after this run posted the snapshot (vault_posted, journaled before
 * the POST): a forced restore from another cluster seals the node until the
 * snapshot's own unseal keys open it.
 */
#include <stdio.h>
#include <string.h>

#include "components/vault/vault.h"
#include "drctl/scenarios/cluster_loss_private.h"
#include "lib/clients/vault.h"
#include "lib/core/log.h"
#include "restore/restore.h"

/* --- Vault ---------------------------------------------------------------------- */

/* The address a person should use: the node that took the snapshot, else
 * the configured one. */
static void vault_where(struct run *r, char *out, size_t cap)
{
	const char *node = json_string_value(json_object_get(run_fact(r, "vault_restored"), "node"));
	struct vault_client *vc = NULL;
	struct drctl_error e;

	err_clear(&e);
	if (node && *node)
		snprintf(out, cap, "%s", node);
	else if (vault_client_open(&vc, run_config(r), NULL, 0, &e) == 0)
		snprintf(out, cap, "%s", vault_client_address(vc));
	else
		snprintf(out, cap, "[vault] address");
	vault_client_close(vc);
}

/* sys/health of the Vault the run restores into (no token needed). */
static int vault_now(struct run *r, struct vault_health *h, struct drctl_error *err)
{
	const char *node = json_string_value(json_object_get(run_fact(r, "vault_restored"), "node"));
	struct vault_client *vc = NULL;
	int rc = vault_client_open(&vc, run_config(r), node && *node ? node : NULL, 0, err) == 0 ? vault_health(vc, h, err) : -1;
	vault_client_close(vc);
	return rc;
}

const char *cl_snapshot_cluster(struct run *r)
{
	return json_string_value(json_object_get(run_fact(r, "vault_cluster"), "id")) ?: "";
}

/* Unsealed and holding the snapshot's cluster? */
static int holds_snapshot(struct run *r, const struct vault_health *h)
{
	return !h->sealed && h->initialized && *cl_snapshot_cluster(r) && !strcmp(h->cluster_id, cl_snapshot_cluster(r));
}

void cl_provision_instructions(struct run *r, char *buf, size_t cap)
{
	char addr[512];
	vault_where(r, addr, sizeof(addr));
	snprintf(buf, cap,
		 "Backup set %s verified; it is what this run restores.\n"
		 "1. Provision the new cluster from the infrastructure code: `terraform apply`.\n"
		 "2. Initialize the NEW Vault at %s and unseal it with the new keys it prints:\n"
		 "     VAULT_ADDR=%s vault operator init; vault operator unseal   (up to the threshold)\n"
		 "   and give drctl that new Vault's root token (VAULT_TOKEN, or [vault] token_file): the\n"
		 "   snapshot restore needs an initialized, unsealed Vault and a token valid there.\n"
		 "3. Have the OLD cluster's Vault unseal keys at hand (kept off-site): after the restore Vault\n"
		 "   holds the old cluster's data and keys (cluster %s), and only those keys unseal it.\n"
		 "Confirm when `vault status` at %s shows Initialized true and Sealed false.\n"
		 "PostgreSQL and Redis need not run yet: the deploy comes after Vault.",
		 run_fact_string(r, "backup_id") ?: "?", addr, addr, *cl_snapshot_cluster(r) ? cl_snapshot_cluster(r) : "?", addr);
}

int cl_provision_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)r;
	(void)err;
	json_array_append_new(touches, json_string("a person: `terraform apply`; the new Vault initialized and unsealed with its own new "
						   "keys, its root token given to drctl (VAULT_TOKEN)"));
	return 0;
}

int cl_restore_vault_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *vs;
	char addr[512];

	if (!m)
		return -1;
	vs = cl_section(m, "vault");
	if (!json_is_object(json_object_get(vs, "snapshot"))) {
		json_array_append_new(touches, json_sprintf("nothing: set %s holds no Vault raft snapshot, and the preflight refuses it",
							   json_string_value(json_object_get(m, "id"))));
		return 0;
	}
	vault_where(r, addr, sizeof(addr));
	json_array_append_new(touches, json_sprintf("posts the raft snapshot of set %s (%lld bytes, cluster %s %s) to %s with "
						   "snapshot-force: it replaces EVERYTHING in that Vault, which must be the new cluster's",
						   json_string_value(json_object_get(m, "id")),
						   (long long)json_integer_value(json_object_get(json_object_get(vs, "snapshot"), "size")),
						   json_string_value(json_object_get(json_object_get(vs, "health"), "cluster_name")) ?: "?",
						   json_string_value(json_object_get(json_object_get(vs, "health"), "cluster_id")) ?: "?", addr));
	return 0;
}

int cl_restore_vault_check(struct run *r, struct drctl_error *err)
{
	struct vault_health h;
	char addr[512];

	if (vault_now(r, &h, err) != 0)
		return -1;
	vault_where(r, addr, sizeof(addr));
	if (holds_snapshot(r, &h)) {
		run_note(r, "Vault at %s already holds cluster %s, the snapshot's", addr, h.cluster_id);
		return 1;
	}
	if (!json_is_true(run_fact(r, "vault_posted")))
		return 0;
	/* The snapshot was sent by an attempt that did not see the end.  Vault
	 * restores in the background (a standby meanwhile), then seals itself
	 * when the snapshot's keys are not the node's. */
	if (h.state == VAULT_STANDBY) {
		struct vault_client *vc = NULL;
		struct drctl_error e;
		err_clear(&e);
		if (vault_client_open(&vc, run_config(r), addr, 0, &e) == 0)
			vault_wait_active(vc, cl_seconds(run_config(r), "vault_wait_seconds", 300), 5.0, &h, &e);
		vault_client_close(vc);
	}
	if (h.state == VAULT_SEALED) {
		run_note(r, "Vault at %s is sealed after an earlier attempt posted the snapshot: it holds the snapshot and waits "
			    "for the snapshot's unseal keys", addr);
		return run_set_fact(r, "vault_restored", json_pack("{s:s, s:b}", "node", addr, "needs_unseal", 1), err) == 0 ? 1 : -1;
	}
	return holds_snapshot(r, &h);
}

int cl_restore_vault_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	struct vault_restore_options vo = { .force_new_cluster = 1, .wait_seconds = (long)cl_seconds(cfg, "vault_wait_seconds", 300) };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &vo };
	struct vault_health h;
	json_t *report, *snap;
	char addr[512];
	int rc;

	if (vault_now(r, &h, err) != 0)
		return -1;
	vault_where(r, addr, sizeof(addr));
	if (h.state == VAULT_UNINITIALIZED || h.state == VAULT_SEALED) {
		err_set(err, EXIT_FAILED, addr, NULL, "Vault at %s is %s; the snapshot was not posted", addr, vault_state_name(h.state));
		err_hint(err, "initialize the NEW Vault and unseal it with its own new keys (`VAULT_ADDR=%s vault operator init`, "
			      "`vault operator unseal`), give drctl its root token (VAULT_TOKEN), then `drctl scenario resume %s`",
			 addr, run_id(r));
		return -1;
	}
	if (run_set_fact(r, "vault_posted", json_true(), err) != 0)
		return -1;
	report = json_object();
	rc = restore_run(cfg, "vault", &o, report, err);
	snap = json_object_get(json_object_get(report, "vault"), "snapshot");
	if (rc == 0)
		rc = run_set_fact(r, "vault_restored", json_pack("{s:s, s:b}", "node", json_string_value(json_object_get(snap, "node")) ?: addr,
								 "needs_unseal", json_is_true(json_object_get(snap, "needs_unseal"))),
				  err);
	if (rc == 0)
		run_note(r, "the snapshot of cluster %s is in Vault at %s%s", cl_snapshot_cluster(r), addr,
			 json_is_true(json_object_get(snap, "needs_unseal")) ? ", which sealed itself: it waits for the snapshot's unseal keys" : "");
	json_decref(report);
	return rc;
}

void cl_unseal_instructions(struct run *r, char *buf, size_t cap)
{
	char addr[512];
	const char *name = json_string_value(json_object_get(run_fact(r, "vault_cluster"), "name")) ?: "?";

	vault_where(r, addr, sizeof(addr));
	if (!json_is_true(json_object_get(run_fact(r, "vault_restored"), "needs_unseal"))) {
		snprintf(buf, cap, "Vault at %s holds the snapshot of cluster %s (%s) and did not seal itself: check `vault status`\n"
				   "(Sealed false), then confirm.", addr, name, cl_snapshot_cluster(r));
		return;
	}
	snprintf(buf, cap,
		 "Vault at %s now holds the snapshot of cluster %s (%s), from backup set %s, and is SEALED.\n"
		 "Unseal it with the unseal keys of THAT cluster, the old one (kept off-site), not the keys\n"
		 "`vault operator init` printed for the new cluster:\n"
		 "  VAULT_ADDR=%s vault operator unseal      (repeat up to the threshold, on every node)\n"
		 "Then `vault status` shows Sealed false. The old cluster's tokens are valid again; the new\n"
		 "cluster's root token is not. The next step waits until sys/health says active.",
		 addr, name, cl_snapshot_cluster(r), run_fact_string(r, "backup_id") ?: "?", addr);
}

int cl_unseal_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)r;
	(void)err;
	json_array_append_new(touches, json_string("a person: `vault operator unseal` with the OLD cluster's unseal keys (the snapshot's)"));
	return 0;
}

int cl_wait_vault_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	(void)err;
	json_array_append_new(touches, json_sprintf("reads sys/health until Vault is active and holds the snapshot's cluster id (at most %.0f s)",
						   cl_seconds(run_config(r), "vault_wait_seconds", 300)));
	return 0;
}

int cl_wait_vault_check(struct run *r, struct drctl_error *err)
{
	struct vault_health h;
	struct drctl_error e;

	(void)err;
	/* Unreachable is not an error here: the act waits for it. */
	err_clear(&e);
	return vault_now(r, &h, &e) == 0 && h.state == VAULT_ACTIVE && holds_snapshot(r, &h);
}

int cl_wait_vault_act(struct run *r, struct drctl_error *err)
{
	const char *node = json_string_value(json_object_get(run_fact(r, "vault_restored"), "node"));
	struct vault_client *vc = NULL;
	struct vault_health h;
	char addr[512];
	int rc = -1;

	memset(&h, 0, sizeof(h));
	vault_where(r, addr, sizeof(addr));
	if (vault_client_open(&vc, run_config(r), node && *node ? node : NULL, 0, err) != 0)
		goto done;
	if (vault_wait_active(vc, cl_seconds(run_config(r), "vault_wait_seconds", 300), 10.0, &h, err) != 0) {
		if (h.state == VAULT_SEALED)
			err_hint(err, "unseal it with the OLD cluster's unseal keys (`VAULT_ADDR=%s vault operator unseal`, up to the "
				      "threshold), then `drctl scenario resume %s`", addr, run_id(r));
		goto done;
	}
	if (*cl_snapshot_cluster(r) && strcmp(h.cluster_id, cl_snapshot_cluster(r)) != 0) {
		err_set(err, EXIT_FAILED, addr, NULL,
			"Vault at %s is active but holds cluster %s, not the snapshot's %s: the snapshot is not in it", addr,
			h.cluster_id, cl_snapshot_cluster(r));
		err_hint(err, "was it initialized again after the restore?  Start over: `drctl scenario abort %s`, then "
			      "`drctl scenario run cluster-loss --backup %s`", run_id(r), run_fact_string(r, "backup_id"));
		goto done;
	}
	run_note(r, "Vault at %s is active: cluster %s (%s), version %s, the snapshot's", addr, h.cluster_name, h.cluster_id,
		 h.version);
	rc = 0;
done:
	vault_client_close(vc);
	return rc;
}
