/*
 * agents: the platform's AI agents, stopped and started around a restore,
 * through whatever runs them.
 *
 * [agents] control = kubernetes: the Deployments and StatefulSets of
 * [agents] namespace matching [agents] selector, through the Kubernetes API
 * (agents_kubernetes.c); control = command: the commands the configuration
 * names, for platforms without Kubernetes (agents_command.c).  The scenarios
 * use only this interface:
 *
 *   list    every agent workload with its replicas now
 *   scale   set one workload's replicas
 *   wait    until each given workload runs exactly its given replicas (0:
 *           until no pod of it runs), bounded by a timeout
 *   restart roll a workload's pods (to pick up new secrets)
 *
 * An agent is a JSON object {"kind", "namespace", "name", "replicas",
 * "ready"}: the scenario journals it as is, so a resumed run scales back to
 * the counts recorded before anything was touched.
 */
#ifndef DRCTL_PLATFORM_AGENTS_H
#define DRCTL_PLATFORM_AGENTS_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

struct agents;

struct agents_ops {
	int (*list)(struct agents *a, json_t **out, struct drctl_error *err);
	int (*scale)(struct agents *a, json_t *agent, long replicas, struct drctl_error *err);
	int (*wait)(struct agents *a, json_t *targets, double timeout, struct drctl_error *err);
	int (*restart)(struct agents *a, json_t *agent, struct drctl_error *err);
	void (*close)(struct agents *a);
};

struct agents {
	const struct agents_ops *ops;
	const struct config *cfg;
	char description[256]; /* "deployments in ai-agents with role=agent", for messages */
};

/* The control [agents] control names. */
int agents_open(struct agents **out, const struct config *cfg, struct drctl_error *err);
int agents_list(struct agents *a, json_t **out, struct drctl_error *err);
int agents_scale(struct agents *a, json_t *agent, long replicas, struct drctl_error *err);
/* targets: [{"kind","namespace","name","replicas": wanted}] */
int agents_wait(struct agents *a, json_t *targets, double timeout, struct drctl_error *err);
int agents_restart(struct agents *a, json_t *agent, struct drctl_error *err);
void agents_close(struct agents *a);
/* "deployment ai-agents/planner" */
void agents_name(json_t *agent, char *out, size_t cap);
/* [agents] wait_seconds: how long a scale or rollout may take. */
double agents_timeout(const struct config *cfg);

/* The backends. */
int agents_command_open(struct agents **out, const struct config *cfg, struct drctl_error *err);
int agents_kubernetes_open(struct agents **out, const struct config *cfg, struct drctl_error *err);

#endif
