/*
 * vault_health: sys/health read as a state (active, standby, sealed...), and
 * waiting for a node to be active after a snapshot restore.
 *
 * Waiting is polling a state, not retrying a failure: it asks every 250 ms
 * until the state is reached or the time is up, and each health request has
 * the ordinary retries of vault_call underneath.
 */
#include "lib/clients/vault.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/core/log.h"

const char *vault_state_name(enum vault_state s)
{
	switch (s) {
	case VAULT_ACTIVE: return "active";
	case VAULT_STANDBY: return "standby";
	case VAULT_PERF_STANDBY: return "performance standby";
	case VAULT_DR_SECONDARY: return "DR secondary";
	case VAULT_SEALED: return "sealed";
	case VAULT_UNINITIALIZED: return "not initialized";
	}
	return "unknown";
}

int vault_health(struct vault_client *vc, struct vault_health *h, struct drctl_error *err)
{
	/* sys/health's status codes are states, not errors (vault-api.md): ask
	 * for all of them as 200 and tell the states apart by the body, which
	 * Vault fills the same way whatever code it answers with. */
	struct vault_call call = {
		.method = "GET", .flags = VAULT_CALL_NO_TOKEN,
		.path = "sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200&drsecondarycode=200",
	};
	const char *s;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (vault_call(vc, &call, err) != 0)
		return -1;
	if (!json_is_object(call.json)) {
		err_set(err, EXIT_FAILED, vault_client_address(vc), NULL, "Vault at %s: sys/health answered without a JSON body", vault_client_address(vc));
		goto done;
	}
	h->status = call.status;
	h->initialized = json_is_true(json_object_get(call.json, "initialized"));
	h->sealed = json_is_true(json_object_get(call.json, "sealed"));
	h->standby = json_is_true(json_object_get(call.json, "standby"));
	h->performance_standby = json_is_true(json_object_get(call.json, "performance_standby"));
	if ((s = json_string_value(json_object_get(call.json, "version"))))
		snprintf(h->version, sizeof(h->version), "%s", s);
	if ((s = json_string_value(json_object_get(call.json, "cluster_name"))))
		snprintf(h->cluster_name, sizeof(h->cluster_name), "%s", s);
	if ((s = json_string_value(json_object_get(call.json, "cluster_id"))))
		snprintf(h->cluster_id, sizeof(h->cluster_id), "%s", s);
	s = json_string_value(json_object_get(call.json, "replication_dr_mode"));
	/* Vault's order: uninitialized, sealed, DR secondary, perf standby, standby, active. */
	if (!h->initialized)
		h->state = VAULT_UNINITIALIZED;
	else if (h->sealed)
		h->state = VAULT_SEALED;
	else if (s && !strcmp(s, "secondary"))
		h->state = VAULT_DR_SECONDARY;
	else if (h->performance_standby)
		h->state = VAULT_PERF_STANDBY;
	else if (h->standby)
		h->state = VAULT_STANDBY;
	else
		h->state = VAULT_ACTIVE;
	rc = 0;
done:
	json_decref(call.json);
	return rc;
}

json_t *vault_health_json(const struct vault_health *h)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:b}", "state", vault_state_name(h->state), "version", h->version,
			 "cluster_name", h->cluster_name, "cluster_id", h->cluster_id, "initialized", h->initialized,
			 "sealed", h->sealed, "standby", h->standby);
}

int vault_wait_active(struct vault_client *vc, double timeout, double sealed_grace,
		      struct vault_health *last, struct drctl_error *err)
{
	double start = now_seconds(), sealed_since = -1;
	int active_seen = 0;
	struct vault_health h;

	memset(&h, 0, sizeof(h));
	for (;;) {
		struct drctl_error e;
		double now;
		struct timespec ts = { 0, 250 * 1000 * 1000 };

		err_clear(&e);
		if (vault_health(vc, &h, &e) == 0) {
			if (h.state == VAULT_ACTIVE) {
				if (++active_seen >= 2)
					break;
			} else {
				active_seen = 0;
			}
			if (h.state == VAULT_SEALED) {
				if (sealed_since < 0)
					sealed_since = now_seconds();
			} else {
				sealed_since = -1;
			}
			if (h.state == VAULT_UNINITIALIZED) {
				if (last)
					*last = h;
				return err_set(err, EXIT_FAILED, vault_client_address(vc),
					       "initialize it (`vault operator init`) or point drctl at an initialized Vault",
					       "Vault at %s is not initialized", vault_client_address(vc));
			}
		}
		now = now_seconds();
		if (sealed_since >= 0 && now - sealed_since >= sealed_grace) {
			if (last)
				*last = h;
			return err_set(err, EXIT_FAILED, vault_client_address(vc),
				       "unseal it: `vault operator unseal` with key shares until the threshold, then wait for it to become active",
				       "Vault at %s is sealed", vault_client_address(vc));
		}
		if (now - start >= timeout) {
			if (last)
				*last = h;
			return err_set(err, EXIT_IO, vault_client_address(vc),
				       "check `vault status` on each node and Vault's server log",
				       "Vault at %s did not become active within %.0f s (last seen: %s%s)", vault_client_address(vc),
				       timeout, e.code ? "unreachable: " : vault_state_name(h.state), e.code ? e.message : "");
		}
		nanosleep(&ts, NULL);
	}
	if (last)
		*last = h;
	return 0;
}
