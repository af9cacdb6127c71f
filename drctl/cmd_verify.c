/*
 * drctl verify ID|latest [--deep]
 */
#include <getopt.h>
#include <stdio.h>

#include "drctl/cli.h"
#include "verify/verify.h"

static const char USAGE[] = "drctl verify ID|latest [--deep]";

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct config *cfg;
	json_t *report;
	int c, deep = 0, rc;

	while ((c = getopt_long(argc, argv, "dh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': deep = 1; break;
		case 'h': printf("usage: %s\n", USAGE); return EXIT_OK;
		default: return cli_usage(cli, USAGE, "bad option for verify");
		}
	}
	if (optind != argc - 1)
		return cli_usage(cli, USAGE, "verify takes one backup set: an id from `drctl list`, or latest");
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	report = json_object();
	rc = verify_run(cfg, argv[optind], deep, report, &cli->err);
	if (cli->json) {
		cli_print_json(report);
	} else if (rc == 0) {
		size_t i;
		json_t *o;
		json_array_foreach(json_object_get(report, "objects"), i, o)
			printf("ok  %s\n", json_string_value(json_object_get(o, "object")));
		printf("backup set %s verified%s: signatures and every object%s match\n",
		       json_string_value(json_object_get(report, "backup")), deep ? " (deep)" : "",
		       deep ? " and member" : "");
	}
	json_decref(report);
	return rc == 0 ? EXIT_OK : cli->err.code;
}
