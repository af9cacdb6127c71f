/*
 * drctl backup [--component C,...] [--tag T]
 * One backup set; prints its id on stdout (or the manifest with --json).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backup/backup.h"
#include "drctl/cli.h"

struct backup_args {
	const char *components;
	const char *tag;
};

static const struct opt_spec backup_options[] = {
	{ "component", 'c', OPT_STRING, offsetof(struct backup_args, components), "C,...",
	  "only these components (files, postgres, redis, vault); default: every configured one" },
	{ "tag", 't', OPT_STRING, offsetof(struct backup_args, tag), "TAG", "a label stored in the manifest" },
	{ 0 },
};

static const struct cli_command_line backup_command_line = {
	.usage = "drctl backup [--component C,...] [--tag TAG]",
	.summary = "Take one backup set of the configured components and print its id (the manifest with --json).",
	.options = backup_options,
	.max_args = 0,
	.args_message = "backup takes no arguments",
};

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	struct backup_args args = { 0 };
	struct backup_request req = { 0 };
	struct backup_result res;
	struct config *cfg;
	char components[512];
	const char *positional[1];
	size_t n_positional;
	struct cli_command_line cl = backup_command_line;
	int rc;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (args.components) {
		snprintf(components, sizeof(components), "%s", args.components);
		req.n_components = cli_split_commas(components, req.components, 16);
	}
	req.tag = args.tag;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	if (backup_run(cfg, &req, &res, &cli->err) != 0)
		return cli->err.code;
	if (cli->g.json)
		cli_print_json(res.manifest);
	else
		printf("%s\n", res.id);
	json_decref(res.manifest);
	return EXIT_OK;
}
