/*
 * kubernetes_workloads: what drctl does with Deployments and StatefulSets
 * (apps/v1): read and patch /scale, restart as `kubectl rollout restart`,
 * read a rollout as `kubectl rollout status`, count the pods that may still
 * run (see kubernetes.h).
 *
 * The rollout rules are kubectl's, word for word where kubectl has words, so
 * that "drctl says the rollout is done" means what an operator who watched
 * `kubectl rollout status` would conclude.  Status counters the API omits
 * when they are zero (a workload scaled to zero has none) read as 0.
 */
#include "lib/clients/kubernetes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"

#define K8S_CONFLICT_ATTEMPTS 3

const char *k8s_kind_name(enum k8s_kind kind)
{
	return kind == K8S_STATEFULSET ? "StatefulSet" : "Deployment";
}

const char *k8s_kind_resource(enum k8s_kind kind)
{
	return kind == K8S_STATEFULSET ? "statefulsets" : "deployments";
}

int k8s_kind_parse(const char *name, enum k8s_kind *kind)
{
	if (name && !strcmp(name, "Deployment"))
		return *kind = K8S_DEPLOYMENT, 0;
	if (name && !strcmp(name, "StatefulSet"))
		return *kind = K8S_STATEFULSET, 0;
	return -1;
}

long k8s_spec_replicas(json_t *obj)
{
	json_t *r = json_object_get(json_object_get(obj, "spec"), "replicas");
	return json_is_integer(r) ? (long)json_integer_value(r) : 1;
}

long k8s_status_count(json_t *obj, const char *field)
{
	json_t *v = json_object_get(json_object_get(obj, "status"), field);
	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static long k8s_meta_generation(json_t *obj)
{
	return (long)json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
}

static const char *k8s_meta_name(json_t *obj)
{
	const char *n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	return n ? n : "?";
}

static json_t *k8s_condition(json_t *obj, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(obj, "status"), "conditions"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "type")) ?: "", type))
			return c;
	return NULL;
}

/* --- rollout status (kubectl rollout_status.go) ---------------------------------- */

static enum k8s_rollout k8s_deployment_rollout(json_t *d, char *msg, size_t cap)
{
	const char *name = k8s_meta_name(d);
	json_t *progressing = k8s_condition(d, "Progressing");
	json_t *spec_replicas = json_object_get(json_object_get(d, "spec"), "replicas");
	long updated = k8s_status_count(d, "updatedReplicas"), replicas = k8s_status_count(d, "replicas");
	long available = k8s_status_count(d, "availableReplicas");

	if (k8s_meta_generation(d) > k8s_status_count(d, "observedGeneration")) {
		snprintf(msg, cap, "Waiting for deployment spec update to be observed...");
		return K8S_ROLLOUT_WAITING;
	}
	if (progressing && !strcmp(json_string_value(json_object_get(progressing, "reason")) ?: "", "ProgressDeadlineExceeded")) {
		snprintf(msg, cap, "deployment \"%s\" exceeded its progress deadline", name);
		return K8S_ROLLOUT_FAILED;
	}
	if (json_is_integer(spec_replicas) && updated < json_integer_value(spec_replicas)) {
		snprintf(msg, cap, "Waiting for deployment \"%s\" rollout to finish: %ld out of %lld new replicas have been updated...",
			 name, updated, (long long)json_integer_value(spec_replicas));
		return K8S_ROLLOUT_WAITING;
	}
	if (replicas > updated) {
		snprintf(msg, cap, "Waiting for deployment \"%s\" rollout to finish: %ld old replicas are pending termination...",
			 name, replicas - updated);
		return K8S_ROLLOUT_WAITING;
	}
	if (available < updated) {
		snprintf(msg, cap, "Waiting for deployment \"%s\" rollout to finish: %ld of %ld updated replicas are available...",
			 name, available, updated);
		return K8S_ROLLOUT_WAITING;
	}
	snprintf(msg, cap, "deployment \"%s\" successfully rolled out", name);
	return K8S_ROLLOUT_COMPLETE;
}

static enum k8s_rollout k8s_statefulset_rollout(json_t *s, char *msg, size_t cap)
{
	json_t *spec = json_object_get(s, "spec"), *strategy = json_object_get(spec, "updateStrategy");
	json_t *spec_replicas = json_object_get(spec, "replicas");
	json_t *rolling = json_object_get(strategy, "rollingUpdate");
	json_t *partition = json_object_get(rolling, "partition");
	const char *type = json_string_value(json_object_get(strategy, "type")) ?: "RollingUpdate";
	const char *current = json_string_value(json_object_get(json_object_get(s, "status"), "currentRevision")) ?: "";
	const char *update = json_string_value(json_object_get(json_object_get(s, "status"), "updateRevision")) ?: "";
	long observed = k8s_status_count(s, "observedGeneration"), ready = k8s_status_count(s, "readyReplicas");
	long updated = k8s_status_count(s, "updatedReplicas");

	if (observed == 0 || k8s_meta_generation(s) > observed) {
		snprintf(msg, cap, "Waiting for statefulset spec update to be observed...");
		return K8S_ROLLOUT_WAITING;
	}
	if (json_is_integer(spec_replicas) && ready < json_integer_value(spec_replicas)) {
		snprintf(msg, cap, "Waiting for %lld pods to be ready...", (long long)json_integer_value(spec_replicas) - ready);
		return K8S_ROLLOUT_WAITING;
	}
	if (strcmp(type, "RollingUpdate")) {
		/* kubectl has no rollout status for OnDelete: its pods are
		 * replaced only when someone deletes them. */
		snprintf(msg, cap, "statefulset \"%s\" (%s) has its %ld pods ready", k8s_meta_name(s), type, ready);
		return K8S_ROLLOUT_COMPLETE;
	}
	if (json_is_object(rolling)) {
		if (json_is_integer(spec_replicas) && json_is_integer(partition) &&
		    updated < json_integer_value(spec_replicas) - json_integer_value(partition)) {
			snprintf(msg, cap, "Waiting for partitioned roll out to finish: %ld out of %lld new pods have been updated...",
				 updated, (long long)(json_integer_value(spec_replicas) - json_integer_value(partition)));
			return K8S_ROLLOUT_WAITING;
		}
		snprintf(msg, cap, "partitioned roll out complete: %ld new pods have been updated...", updated);
		return K8S_ROLLOUT_COMPLETE;
	}
	if (strcmp(update, current)) {
		snprintf(msg, cap, "waiting for statefulset rolling update to complete %ld pods at revision %s...", updated,
			 update);
		return K8S_ROLLOUT_WAITING;
	}
	snprintf(msg, cap, "statefulset rolling update complete %ld pods at revision %s...",
		 k8s_status_count(s, "currentReplicas"), current);
	return K8S_ROLLOUT_COMPLETE;
}

enum k8s_rollout k8s_rollout_status(enum k8s_kind kind, json_t *obj, char *msg, size_t cap)
{
	return kind == K8S_STATEFULSET ? k8s_statefulset_rollout(obj, msg, cap) : k8s_deployment_rollout(obj, msg, cap);
}

/* --- selectors ------------------------------------------------------------------- */

static int k8s_append(char *out, size_t cap, size_t *used, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(out + *used, cap - *used, fmt, a, b);
	if (n < 0 || (size_t)n >= cap - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

/* One matchExpressions entry: "k in (a,b)", "k notin (a)", "k", "!k". */
static int k8s_expression(json_t *e, char *out, size_t cap, size_t *used)
{
	const char *key = json_string_value(json_object_get(e, "key"));
	const char *op = json_string_value(json_object_get(e, "operator"));
	json_t *v;
	size_t i;

	if (!key || !op)
		return -1;
	if (!strcmp(op, "Exists"))
		return k8s_append(out, cap, used, "%s%s", key, "");
	if (!strcmp(op, "DoesNotExist"))
		return k8s_append(out, cap, used, "!%s%s", key, "");
	if (strcmp(op, "In") && strcmp(op, "NotIn"))
		return -1;
	if (k8s_append(out, cap, used, "%s %s (", key, strcmp(op, "In") ? "notin" : "in") != 0)
		return -1;
	json_array_foreach(json_object_get(e, "values"), i, v)
		if (k8s_append(out, cap, used, "%s%s", i ? "," : "", json_string_value(v) ?: "") != 0)
			return -1;
	return k8s_append(out, cap, used, "%s%s", ")", "");
}

int k8s_selector_string(json_t *selector, char *out, size_t cap)
{
	const char *key;
	json_t *v, *e;
	size_t used = 0, i;

	out[0] = '\0';
	json_object_foreach(json_object_get(selector, "matchLabels"), key, v)
		if (k8s_append(out, cap, &used, used ? ",%s=" : "%s=", key, NULL) != 0 ||
		    k8s_append(out, cap, &used, "%s%s", json_string_value(v) ?: "", "") != 0)
			return -1;
	json_array_foreach(json_object_get(selector, "matchExpressions"), i, e)
		if ((used && k8s_append(out, cap, &used, "%s%s", ",", "") != 0) || k8s_expression(e, out, cap, &used) != 0)
			return -1;
	return 0;
}

/* --- scale and restart --------------------------------------------------------- */

static struct k8s_ref k8s_workload_ref(enum k8s_kind kind, const char *ns, const char *name, const char *sub)
{
	return (struct k8s_ref){ .group = "apps", .resource = k8s_kind_resource(kind), .subresource = sub, .ns = ns,
				 .name = name };
}

int k8s_read_scale(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long *replicas,
		   char *selector, size_t cap, struct drctl_error *err)
{
	struct k8s_ref ref = k8s_workload_ref(kind, ns, name, "scale");
	json_t *scale = NULL, *workload = NULL;
	const char *sel;
	int rc = -1;

	if (k8s_get(kc, &ref, 0, NULL, &scale, err) != 0)
		goto cleanup;
	*replicas = (long)json_integer_value(json_object_get(json_object_get(scale, "spec"), "replicas"));
	if (!selector) {
		rc = 0;
		goto cleanup;
	}
	sel = json_string_value(json_object_get(json_object_get(scale, "status"), "selector"));
	if (sel && *sel) {
		if (snprintf(selector, cap, "%s", sel) >= (int)cap) {
			err_set(err, EXIT_FAILED, name, NULL, "the selector of %s %s/%s is too long", k8s_kind_name(kind), ns, name);
			goto cleanup;
		}
		rc = 0;
		goto cleanup;
	}
	/* No status.selector: the workload's own selector says the same. */
	ref.subresource = NULL;
	if (k8s_get(kc, &ref, 0, NULL, &workload, err) != 0)
		goto cleanup;
	if (k8s_selector_string(json_object_get(json_object_get(workload, "spec"), "selector"), selector, cap) != 0 ||
	    !selector[0]) {
		err_set(err, EXIT_FAILED, name, NULL, "%s %s/%s has no selector drctl can read", k8s_kind_name(kind), ns, name);
		goto cleanup;
	}
	rc = 0;
cleanup:
	json_decref(scale);
	json_decref(workload);
	return rc;
}

int k8s_scale(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long replicas,
	      struct drctl_error *err)
{
	struct k8s_ref ref = k8s_workload_ref(kind, ns, name, "scale");
	json_t *patch = json_pack("{s:{s:I}}", "spec", "replicas", (json_int_t)replicas);
	long status = 0, now = 0;
	int rc = -1;

	if (!patch)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (int attempt = 1;; attempt++) {
		int r = k8s_patch(kc, &ref, K8S_MERGE_PATCH, patch, K8S_IDEMPOTENT | K8S_ANSWER_409, &status, NULL, err);
		if (r <= 0) {
			rc = r;
			break;
		}
		if (attempt >= K8S_CONFLICT_ATTEMPTS) {
			err_set(err, EXIT_FAILED, name, "something else scales it at the same time; run the command again",
				"scaling %s %s/%s to %ld: 409 Conflict %d times", k8s_kind_name(kind), ns, name, replicas, attempt);
			break;
		}
		/* A fresh object: is it still there, and where is it now? */
		if (k8s_read_scale(kc, kind, ns, name, &now, NULL, 0, err) != 0)
			break;
		log_info("scaling %s %s/%s: 409 Conflict; it is at %ld replicas now, patching again", k8s_kind_name(kind), ns,
			 name, now);
	}
	json_decref(patch);
	return rc;
}

/* Is it a paused Deployment?  kubectl refuses to restart one. */
static int k8s_restart_allowed(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name,
			       struct drctl_error *err)
{
	struct k8s_ref ref = k8s_workload_ref(kind, ns, name, NULL);
	json_t *obj = NULL;
	int paused;

	if (kind != K8S_DEPLOYMENT)
		return 0;
	if (k8s_get(kc, &ref, 0, NULL, &obj, err) != 0)
		return -1;
	paused = json_is_true(json_object_get(json_object_get(obj, "spec"), "paused"));
	json_decref(obj);
	if (paused) {
		char hint[512];
		snprintf(hint, sizeof(hint), "kubectl -n %s rollout resume deployment/%s, then run this again", ns, name);
		return err_set(err, EXIT_FAILED, name, hint,
			       "deployments.apps \"%s\" can't restart paused deployment (run rollout resume first); it was not restarted",
			       name);
	}
	return 0;
}

int k8s_restart(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, time_t now,
		struct drctl_error *err)
{
	struct k8s_ref ref = k8s_workload_ref(kind, ns, name, NULL);
	char stamp[32];
	struct tm tm;
	json_t *patch;
	long status = 0;
	int rc = -1;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	patch = json_pack("{s:{s:{s:{s:{s:s}}}}}", "spec", "template", "metadata", "annotations",
			  "kubectl.kubernetes.io/restartedAt", stamp);
	if (!patch)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (int attempt = 1;; attempt++) {
		int r;
		if (k8s_restart_allowed(kc, kind, ns, name, err) != 0)
			break;
		r = k8s_patch(kc, &ref, K8S_STRATEGIC_MERGE_PATCH, patch, K8S_ANSWER_409, &status, NULL, err);
		if (r <= 0) {
			rc = r;
			break;
		}
		if (attempt >= K8S_CONFLICT_ATTEMPTS) {
			err_set(err, EXIT_FAILED, name, "something else changes it at the same time; run the command again",
				"restarting %s %s/%s: 409 Conflict %d times", k8s_kind_name(kind), ns, name, attempt);
			break;
		}
		log_info("restarting %s %s/%s: 409 Conflict; reading it again", k8s_kind_name(kind), ns, name);
	}
	json_decref(patch);
	return rc;
}

/* --- pods and waiting ------------------------------------------------------------- */

int k8s_count_pods(struct k8s_client *kc, const char *ns, const char *selector, long *running,
		   struct drctl_error *err)
{
	struct k8s_ref ref = { .group = "", .resource = "pods", .ns = ns };
	json_t *pods, *pod;
	size_t i;

	*running = 0;
	if (k8s_list(kc, &ref, selector, &pods, err) != 0)
		return -1;
	json_array_foreach(pods, i, pod) {
		const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase")) ?: "";
		/* A finished pod (an evicted one is Failed) runs nothing and may
		 * linger until it is collected. */
		if (strcmp(phase, "Succeeded") && strcmp(phase, "Failed"))
			(*running)++;
	}
	json_decref(pods);
	return 0;
}

static int k8s_settled_at_zero(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, char *msg,
			       size_t cap, struct drctl_error *err)
{
	char selector[2048];
	long replicas = 0, running = 0;

	if (k8s_read_scale(kc, kind, ns, name, &replicas, selector, sizeof(selector), err) != 0)
		return -1;
	if (replicas != 0) {
		snprintf(msg, cap, "%s %s/%s is at %ld replicas, 0 wanted", k8s_kind_name(kind), ns, name, replicas);
		return 0;
	}
	if (k8s_count_pods(kc, ns, selector, &running, err) != 0)
		return -1;
	if (running > 0) {
		snprintf(msg, cap, "%s %s/%s: %ld pods (%s) still running or terminating", k8s_kind_name(kind), ns, name,
			 running, selector);
		return 0;
	}
	snprintf(msg, cap, "%s %s/%s: no pod left", k8s_kind_name(kind), ns, name);
	return 1;
}

int k8s_workload_settled(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long wanted,
			 char *msg, size_t cap, struct drctl_error *err)
{
	struct k8s_ref ref = k8s_workload_ref(kind, ns, name, NULL);
	char rollout[400];
	json_t *obj = NULL;
	enum k8s_rollout state;
	long ready;
	int rc = -1;

	if (wanted == 0)
		return k8s_settled_at_zero(kc, kind, ns, name, msg, cap, err);
	if (k8s_get(kc, &ref, 0, NULL, &obj, err) != 0)
		return -1;
	state = k8s_rollout_status(kind, obj, rollout, sizeof(rollout));
	ready = k8s_status_count(obj, "readyReplicas");
	if (state == K8S_ROLLOUT_FAILED) {
		char hint[512];
		snprintf(hint, sizeof(hint), "see why: kubectl -n %s describe %s %s; fix it, then resume", ns,
			 kind == K8S_STATEFULSET ? "statefulset" : "deployment", name);
		err_set(err, EXIT_FAILED, name, hint, "the rollout of %s %s/%s failed: %s", k8s_kind_name(kind), ns, name, rollout);
	} else if (state == K8S_ROLLOUT_WAITING) {
		snprintf(msg, cap, "%s", rollout);
		rc = 0;
	} else if (ready != wanted) {
		snprintf(msg, cap, "%s %s/%s has %ld ready replicas of %ld in its spec, %ld wanted", k8s_kind_name(kind), ns, name,
			 ready, k8s_spec_replicas(obj), wanted);
		rc = 0;
	} else {
		snprintf(msg, cap, "%s", rollout);
		rc = 1;
	}
	json_decref(obj);
	return rc;
}
