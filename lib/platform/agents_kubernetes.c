/*
 * agents_kubernetes: agents as Deployments and StatefulSets, through the
 * Kubernetes API ([agents] control = kubernetes), on lib/clients/kubernetes.
 *
 *   list     the Deployments, then the StatefulSets, of [agents] namespace
 *            matching [agents] selector (the runbook's -n ai-agents
 *            -l role=agent): replicas is spec.replicas, ready
 *            status.readyReplicas (absent: 0)
 *   scale    PATCH its /scale
 *   wait     polls each target until it is settled (k8s_workload_settled:
 *            the rollout complete as kubectl reads it and ready == wanted;
 *            for 0, no pod of it left), saying at -v what it waits for
 *   restart  kubectl rollout restart's annotation
 *
 * An agent the scenario recorded names its own namespace: a run resumed
 * after [agents] namespace changed still acts on the workloads it recorded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clients/kubernetes.h"
#include "lib/core/log.h"
#include "lib/core/process.h"
#include "lib/platform/agents.h"

#define WAIT_POLL_SECONDS 1.0

struct kubernetes_agents {
	struct agents base;
	struct k8s_client *kc;
	char ns[256];
	char selector[1024];
};

static struct kubernetes_agents *of(struct agents *a)
{
	return (struct kubernetes_agents *)a;
}

/* The agent's kind, namespace and name, checked. */
static int agent_ref(struct agents *a, json_t *agent, enum k8s_kind *kind, const char **ns, const char **name,
		     struct drctl_error *err)
{
	const char *k = json_string_value(json_object_get(agent, "kind"));

	*ns = json_string_value(json_object_get(agent, "namespace"));
	*name = json_string_value(json_object_get(agent, "name"));
	if (!*ns || !**ns)
		*ns = of(a)->ns;
	if (k8s_kind_parse(k, kind) != 0 || !*name || !**name)
		return err_set(err, EXIT_FAILED, *name ? *name : "agent",
			       "the agent was recorded by another control; resume with the [agents] control that recorded it",
			       "agent %s is not a Deployment or StatefulSet drctl can act on (kind \"%s\")", *name ? *name : "?",
			       k ? k : "");
	return 0;
}

static int kubernetes_list_kind(struct agents *a, enum k8s_kind kind, json_t *out, struct drctl_error *err)
{
	struct kubernetes_agents *ka = of(a);
	struct k8s_ref ref = { .group = "apps", .resource = k8s_kind_resource(kind), .ns = ka->ns };
	json_t *items, *item;
	size_t i;

	if (k8s_list(ka->kc, &ref, ka->selector, &items, err) != 0)
		return -1;
	json_array_foreach(items, i, item) {
		json_t *meta = json_object_get(item, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *ns = json_string_value(json_object_get(meta, "namespace"));
		if (!name)
			continue;
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:I, s:I}", "kind", k8s_kind_name(kind), "namespace",
						     ns ? ns : ka->ns, "name", name, "replicas",
						     (json_int_t)k8s_spec_replicas(item), "ready",
						     (json_int_t)k8s_status_count(item, "readyReplicas")));
	}
	json_decref(items);
	return 0;
}

static int kubernetes_list(struct agents *a, json_t **out, struct drctl_error *err)
{
	json_t *list = json_array();

	*out = NULL;
	if (!list)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (kubernetes_list_kind(a, K8S_DEPLOYMENT, list, err) != 0 || kubernetes_list_kind(a, K8S_STATEFULSET, list, err) != 0) {
		json_decref(list);
		err_prefix(err, "listing the agents (%s)", a->description);
		return -1;
	}
	log_debug("kubernetes: %zu agent workloads (%s)", json_array_size(list), a->description);
	*out = list;
	return 0;
}

static int kubernetes_scale(struct agents *a, json_t *agent, long replicas, struct drctl_error *err)
{
	const char *ns, *name;
	enum k8s_kind kind;

	if (agent_ref(a, agent, &kind, &ns, &name, err) != 0)
		return -1;
	return k8s_scale(of(a)->kc, kind, ns, name, replicas, err);
}

static int kubernetes_restart(struct agents *a, json_t *agent, struct drctl_error *err)
{
	const char *ns, *name;
	enum k8s_kind kind;

	if (agent_ref(a, agent, &kind, &ns, &name, err) != 0)
		return -1;
	return k8s_restart(of(a)->kc, kind, ns, name, time(NULL), err);
}

/* One look at every target; 1 when all are settled, else *lagging says
 * what the first one that is not waits for. */
static int kubernetes_all_settled(struct agents *a, json_t *targets, char *lagging, size_t cap, struct drctl_error *err)
{
	json_t *t;
	size_t i;

	json_array_foreach(targets, i, t) {
		const char *ns, *name;
		enum k8s_kind kind;
		char msg[512];
		int r;

		if (agent_ref(a, t, &kind, &ns, &name, err) != 0)
			return -1;
		r = k8s_workload_settled(of(a)->kc, kind, ns, name, (long)json_integer_value(json_object_get(t, "replicas")), msg,
					 sizeof(msg), err);
		if (r <= 0) {
			if (r == 0)
				snprintf(lagging, cap, "%s", msg);
			return r;
		}
	}
	return 1;
}

static int kubernetes_wait(struct agents *a, json_t *targets, double timeout, struct drctl_error *err)
{
	double deadline = now_seconds() + timeout;
	char lagging[512] = "", logged[512] = "";

	for (;;) {
		int r = kubernetes_all_settled(a, targets, lagging, sizeof(lagging), err);
		if (r < 0)
			return -1;
		if (r == 1)
			return 0;
		if (strcmp(lagging, logged)) {
			log_debug("kubernetes: waiting: %s", lagging);
			snprintf(logged, sizeof(logged), "%s", lagging);
		}
		if (process_stop_requested())
			return err_set(err, EXIT_FAILED, "agents", NULL, "stopped while waiting for the agents (%s)", lagging);
		if (now_seconds() >= deadline)
			return err_set(err, EXIT_FAILED, "agents",
				       "see why with kubectl describe and kubectl get pods in the namespace; then resume the run, which waits again",
				       "the agents did not reach their replicas within %.0f s: %s", timeout, lagging);
		usleep((useconds_t)(WAIT_POLL_SECONDS * 1e6));
	}
}

static void kubernetes_close(struct agents *a)
{
	if (!a)
		return;
	k8s_client_close(of(a)->kc);
	free(a);
}

static const struct agents_ops kubernetes_ops = {
	kubernetes_list, kubernetes_scale, kubernetes_wait, kubernetes_restart, kubernetes_close,
};

int agents_kubernetes_open(struct agents **out, const struct config *cfg, struct drctl_error *err)
{
	struct kubernetes_agents *ka = calloc(1, sizeof(*ka));
	const char *ns = config_get(cfg, "agents", "namespace"), *selector = config_get(cfg, "agents", "selector");

	*out = NULL;
	if (!ka)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	ka->base.ops = &kubernetes_ops;
	ka->base.cfg = cfg;
	snprintf(ka->ns, sizeof(ka->ns), "%s", ns && *ns ? ns : "default");
	snprintf(ka->selector, sizeof(ka->selector), "%s", selector ? selector : "");
	snprintf(ka->base.description, sizeof(ka->base.description), "deployments and statefulsets in %.63s%s%.150s", ka->ns,
		 ka->selector[0] ? " with " : "", ka->selector);
	if (k8s_client_open(&ka->kc, cfg, err) != 0) {
		kubernetes_close(&ka->base);
		return -1;
	}
	*out = &ka->base;
	return 0;
}
