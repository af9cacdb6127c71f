/*
 * kubernetes (k8s_): drctl's client of the Kubernetes API, on the HTTP layer
 * (http.h), for the Deployments and StatefulSets that run the platform's
 * agents.  It knows nothing of agents or scenarios (lib/platform/agents
 * does); it knows the API: paths, objects, Status errors, and how kubectl
 * reads a rollout.
 *
 * Where the API is and who drctl is there:
 *   [kubernetes] api_url     else https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT
 *                            (inside a pod; an IPv6 host is bracketed)
 *   [kubernetes] token_file  else the pod's service account token,
 *                            /var/run/secrets/kubernetes.io/serviceaccount/token
 *   [kubernetes] ca_file     else the service account's ca.crt beside it when it
 *                            exists, else the system's trust store
 * The token file is read again for every request: projected service account
 * tokens are rotated by the kubelet, so a token is never kept beyond the
 * request that sends it (and a 401 right after a rotation is tried once more
 * with the new one).  The token goes only into the Authorization header of
 * an https request; it never reaches a log, an error or a child's argv.  With
 * an http:// api_url (`kubectl proxy`, which adds its own credentials) no
 * token is sent, and naming a token_file for one is refused.
 *
 * Every answer that is not 2xx becomes an error from its Status object
 * (reason, message, code) with the next step: 401 the token file, 403 the
 * RBAC rule that is missing (verb, resource, API group, namespace), 404 not
 * found, 409 and 410 for the callers that handle them (a fresh object, a
 * list started again); 429 and 5xx are retried by the HTTP layer's policy
 * (http_retry_policy_default), Retry-After obeyed.  Each request is logged at
 * -v (method, path, status, time), never a header.
 */
#ifndef DRCTL_KUBERNETES_H
#define DRCTL_KUBERNETES_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "lib/clients/http.h"
#include "lib/core/config.h"
#include "lib/core/error.h"

#define K8S_SERVICE_ACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* --- the client ---------------------------------------------------------------- */

struct k8s_client;

int k8s_client_open(struct k8s_client **out, const struct config *cfg, struct drctl_error *err);
void k8s_client_close(struct k8s_client *kc);
/* "https://10.96.0.1:443", for messages. */
const char *k8s_client_url(const struct k8s_client *kc);
/* Tests: the retry layer's world (clock, sleep, the single attempt). */
void k8s_client_set_env(struct k8s_client *kc, const struct http_retry_env *env);

/* What a request is about, as RBAC names it: group "" (core) or "apps",
 * resource "deployments", subresource "scale" or NULL, name NULL for the
 * collection. */
struct k8s_ref {
	const char *group;
	const char *resource;
	const char *subresource;
	const char *ns;
	const char *name;
};

#define K8S_MERGE_PATCH "application/merge-patch+json"
#define K8S_STRATEGIC_MERGE_PATCH "application/strategic-merge-patch+json"

/* Flags of k8s_get / k8s_patch: statuses the caller handles itself.  The
 * call then returns 1 (nothing in err) and *status says which. */
#define K8S_ANSWER_404 0x01u
#define K8S_ANSWER_409 0x02u
#define K8S_IDEMPOTENT 0x04u /* a PATCH that may be sent twice (a scale) */

/* GET one object.  0 with *obj (caller decrefs), 1 for an answered flag
 * status, -1 with err. */
int k8s_get(struct k8s_client *kc, const struct k8s_ref *ref, unsigned flags, long *status, json_t **obj,
	    struct drctl_error *err);
/* PATCH one object with a patch of patch_type (K8S_MERGE_PATCH...); *obj
 * (may be NULL) gets the object after it. */
int k8s_patch(struct k8s_client *kc, const struct k8s_ref *ref, const char *patch_type, json_t *patch,
	      unsigned flags, long *status, json_t **obj, struct drctl_error *err);
/* Every item of a collection matching the label selector (NULL: all), page
 * by page ([kubernetes] chunk_size objects each, with limit and continue, as
 * kubectl does); a 410 Expired continue token starts the list over (at most
 * 3 times).  *items: a new array. */
int k8s_list(struct k8s_client *kc, const struct k8s_ref *ref, const char *selector, json_t **items,
	     struct drctl_error *err);

/* --- workloads (kubernetes_workloads.c) --------------------------------------- */

enum k8s_kind {
	K8S_DEPLOYMENT,
	K8S_STATEFULSET,
};

/* "Deployment" / "StatefulSet"; k8s_kind_parse returns -1 for another name. */
const char *k8s_kind_name(enum k8s_kind kind);
int k8s_kind_parse(const char *name, enum k8s_kind *kind);
/* "deployments" / "statefulsets" (in API group "apps") */
const char *k8s_kind_resource(enum k8s_kind kind);

/* spec.replicas (the API's default 1 when absent), and a status count
 * (absent: 0, as the API omits zeros). */
long k8s_spec_replicas(json_t *obj);
long k8s_status_count(json_t *obj, const char *field);

enum k8s_rollout {
	K8S_ROLLOUT_WAITING,
	K8S_ROLLOUT_COMPLETE,
	K8S_ROLLOUT_FAILED,
};

/* Has the workload rolled out, by exactly the rules of `kubectl rollout
 * status` (kubectl pkg/polymorphichelpers/rollout_status.go)?  msg gets
 * kubectl's words for what is waited for, or why it failed.
 *   Deployment: generation not yet observed; a Progressing condition with
 *   reason ProgressDeadlineExceeded (failed); updatedReplicas < spec.replicas;
 *   status.replicas > updatedReplicas (old replicas pending termination);
 *   availableReplicas < updatedReplicas.
 *   StatefulSet (RollingUpdate): generation not yet observed (or
 *   observedGeneration 0); readyReplicas < spec.replicas; with
 *   rollingUpdate, updatedReplicas < replicas - partition; without it,
 *   updateRevision != currentRevision.  An OnDelete StatefulSet, for which
 *   kubectl has no rollout status, is complete once its generation is
 *   observed and readyReplicas >= spec.replicas (its pods change only when
 *   deleted). */
enum k8s_rollout k8s_rollout_status(enum k8s_kind kind, json_t *obj, char *msg, size_t cap);

/* A LabelSelector object (spec.selector) in the string form labelSelector
 * takes: "app=planner,tier in (a,b),!canary".  -1 when it does not fit or
 * has an operator the API does not define. */
int k8s_selector_string(json_t *selector, char *out, size_t cap);

/* The /scale subresource: spec.replicas and the selector of its pods
 * (status.selector, else the workload's spec.selector). */
int k8s_read_scale(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long *replicas,
		   char *selector, size_t cap, struct drctl_error *err);
/* PATCH /scale (merge patch {"spec":{"replicas":N}}); a 409 reads the
 * Scale afresh and patches again (at most 3 times). */
int k8s_scale(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long replicas,
	      struct drctl_error *err);
/* kubectl rollout restart: a strategic merge patch of
 * spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] =
 * now (RFC 3339, UTC).  A paused Deployment is refused as kubectl refuses
 * it; a 409 reads the workload afresh and patches again. */
int k8s_restart(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, time_t now,
		struct drctl_error *err);
/* Pods matching the selector that may still run: every one but those in
 * phase Succeeded or Failed (a terminating pod counts until it is gone). */
int k8s_count_pods(struct k8s_client *kc, const char *ns, const char *selector, long *running,
		   struct drctl_error *err);

/* One look at a workload that should run `wanted` replicas: 1 when it does
 * (wanted > 0: the rollout is complete and readyReplicas == wanted; wanted
 * 0: spec.replicas is 0 and no pod of it may still run), 0 when not yet
 * (msg says what is waited for), -1 with err (a rollout that failed, an API
 * error). */
int k8s_workload_settled(struct k8s_client *kc, enum k8s_kind kind, const char *ns, const char *name, long wanted,
			 char *msg, size_t cap, struct drctl_error *err);

#endif
