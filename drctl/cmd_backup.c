/*
 * drctl backup [--component C,...] [--tag T]
 * One backup set; prints its id on stdout (or the manifest with --json).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "backup/backup.h"
#include "drctl/cli.h"

static const char USAGE[] = "drctl backup [--component files,postgres,redis,vault] [--tag TAG]";

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "component", required_argument, NULL, 'c' },
		{ "tag", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct backup_request req = { 0 };
	struct backup_result res;
	struct config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "c:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			req.n_components += cli_split_commas(optarg, req.components + req.n_components,
							     16 - req.n_components);
			break;
		case 't': req.tag = optarg; break;
		case 'h': printf("usage: %s\n", USAGE); return EXIT_OK;
		default: return cli_usage(cli, USAGE, "bad option for backup");
		}
	}
	if (optind < argc)
		return cli_usage(cli, USAGE, "unexpected argument \"%s\"", argv[optind]);
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	if (backup_run(cfg, &req, &res, &cli->err) != 0)
		return cli->err.code;
	if (cli->json)
		cli_print_json(res.manifest);
	else
		printf("%s\n", res.id);
	json_decref(res.manifest);
	return EXIT_OK;
}
