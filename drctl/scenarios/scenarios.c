/*
 * scenarios: the table of the disaster scenarios drctl runs.  Each is a
 * table of steps in a file of its own (drctl/scenarios/<name>.c) run by the
 * one engine (drctl/engine/engine.c).
 */
#include <string.h>

#include "drctl/engine/engine.h"
#include "drctl/scenarios/scenarios.h"

/* The drill is one of them: `scenario status`, `plan` and `resume` work on
 * its runs as on any; `drctl drill` starts it with its own options. */
static const struct scenario *const all_scenarios[] = {
	&db_corruption_scenario,
	&drill_scenario,
	&cluster_loss_scenario,
	&secrets_compromise_scenario,
	&secrets_rotation_scenario,
};

const struct scenario *const *scenario_all(size_t *n)
{
	*n = sizeof(all_scenarios) / sizeof(all_scenarios[0]);
	return all_scenarios;
}

const struct scenario *scenario_find(const char *name)
{
	size_t n;
	const struct scenario *const *all = scenario_all(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
