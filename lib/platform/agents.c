#include "lib/platform/agents.h"

#include <stdio.h>
#include <string.h>

int agents_open(struct agents **out, const struct config *cfg, struct drctl_error *err)
{
	const char *control = config_get(cfg, "agents", "control");

	*out = NULL;
	if (control && !strcmp(control, "command"))
		return agents_command_open(out, cfg, err);
	return agents_kubernetes_open(out, cfg, err);
}

int agents_list(struct agents *a, json_t **out, struct drctl_error *err)
{
	return a->ops->list(a, out, err);
}

int agents_scale(struct agents *a, json_t *agent, long replicas, struct drctl_error *err)
{
	return a->ops->scale(a, agent, replicas, err);
}

int agents_wait(struct agents *a, json_t *targets, double timeout, struct drctl_error *err)
{
	return a->ops->wait(a, targets, timeout, err);
}

int agents_restart(struct agents *a, json_t *agent, struct drctl_error *err)
{
	return a->ops->restart(a, agent, err);
}

void agents_close(struct agents *a)
{
	if (a)
		a->ops->close(a);
}

void agents_name(json_t *agent, char *out, size_t cap)
{
	const char *kind = json_string_value(json_object_get(agent, "kind"));
	const char *ns = json_string_value(json_object_get(agent, "namespace"));
	const char *name = json_string_value(json_object_get(agent, "name"));
	char lower[32] = "agent";

	if (kind) {
		size_t i;
		for (i = 0; kind[i] && i < sizeof(lower) - 1; i++)
			lower[i] = (char)(kind[i] >= 'A' && kind[i] <= 'Z' ? kind[i] + 32 : kind[i]);
		lower[i] = '\0';
	}
	if (ns && *ns)
		snprintf(out, cap, "%s %s/%s", lower, ns, name ? name : "?");
	else
		snprintf(out, cap, "%s %s", lower, name ? name : "?");
}

double agents_timeout(const struct config *cfg)
{
	long s = 0;
	if (config_get_int(cfg, "agents", "wait_seconds", &s) != 0 || s <= 0)
		s = 600;
	return (double)s;
}
