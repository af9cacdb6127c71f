/*
 * agents_kubernetes: agents as Deployments and StatefulSets, through the
 * Kubernetes API ([agents] control = kubernetes).
 */
#include "lib/platform/agents.h"

int agents_kubernetes_open(struct agents **out, const struct config *cfg, struct drctl_error *err)
{
	(void)cfg;
	*out = NULL;
	return err_set(err, EXIT_USAGE, "[agents] control", "set [agents] control = command and its commands",
		       "[agents] control = kubernetes is not available in this build yet");
}
