/*
 * drctl health: the health checks the scenarios end with, alone:
 * PostgreSQL, Redis, Vault and each agent's health URL, as a table (or
 * --json).  Exit 0 when every check passes, 1 otherwise.
 */
#include <stdio.h>

#include "drctl/cli.h"
#include "lib/platform/agents.h"
#include "lib/platform/health.h"

static const struct cli_command_line health_command_line = {
	.usage = "drctl health",
	.summary = "Check PostgreSQL, Redis, Vault and every agent's health URL, each with a timeout.",
	.max_args = 0,
	.args_message = "health takes no arguments",
};

int cmd_health(struct cli *cli, int argc, char **argv)
{
	struct health_options o = { 0 };
	struct agents *agents = NULL;
	struct drctl_error e;
	json_t *results = NULL, *list = NULL;
	const char *positional[1];
	size_t n;
	struct config *cfg;
	int rc = cli_parse(cli, argc, argv, &health_command_line, positional, &n);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	/* The agents' URLs need the agents; a platform without agent control
	 * configured still gets its servers checked. */
	err_clear(&e);
	if (config_get(cfg, "agents", "health_url") && agents_open(&agents, cfg, &e) == 0 &&
	    agents_list(agents, &list, &e) == 0)
		o.agents = list;
	else if (config_get(cfg, "agents", "health_url"))
		fprintf(stderr, "drctl: cannot list the agents for their health URLs: %s\n", e.message);
	rc = health_check_all(cfg, &o, &results, &cli->err);
	if (cli->g.json)
		cli_print_json(results);
	else if (results)
		health_print(stdout, results);
	json_decref(results);
	json_decref(list);
	agents_close(agents);
	return rc == 0 ? EXIT_OK : cli->err.code;
}
