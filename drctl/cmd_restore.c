/*
 * drctl restore COMPONENT [--backup ID|latest] [--target ...] [--force] [--dry-run] [component options]
 *
 * The common options are parsed here; anything else is passed to the
 * component (e.g. --database for postgres), which rejects what it does not
 * know.
 */
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "restore/restore.h"

static const char USAGE[] =
	"drctl restore COMPONENT [--backup ID|latest] [--target TARGET] [--force] [--dry-run] [component options]";

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	struct restore_options opts = { .backup = "latest" };
	char *rest[64];
	const char *component = NULL;
	struct config *cfg;
	json_t *report;
	int rc;

	opts.argv = rest;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		size_t len = strcspn(a, "=");
		int has_eq = a[len] == '=';
#define OPT_VALUE(name)                                                                    \
	(!strncmp(a, name, len) && len == strlen(name) &&                                  \
	 ((val = has_eq ? a + len + 1 : (i + 1 < argc ? argv[++i] : NULL)) != NULL ||      \
	  (cli_usage(cli, USAGE, "%s needs a value", name), 0)))
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("usage: %s\n", USAGE);
			return EXIT_OK;
		} else if (!strcmp(a, "--force")) {
			opts.force = 1;
		} else if (!strcmp(a, "--dry-run")) {
			opts.dry_run = 1;
		} else if (OPT_VALUE("--backup")) {
			opts.backup = val;
		} else if (OPT_VALUE("--target")) {
			opts.target = val;
		} else if (err_is_set(&cli->err)) {
			return EXIT_USAGE;
		} else if (a[0] != '-' && !component) {
			component = a;
		} else if (opts.argc < 63) {
			rest[opts.argc++] = argv[i];
		}
#undef OPT_VALUE
	}
	rest[opts.argc] = NULL;
	if (!component)
		return cli_usage(cli, USAGE, "restore needs a component: files, postgres, redis or vault");
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	report = json_object();
	rc = restore_run(cfg, component, &opts, report, &cli->err);
	if (rc == 0) {
		json_object_set_new(report, "ok", json_true());
		if (cli->json)
			cli_print_json(report);
		else
			printf("restored %s from %s%s%s\n", component,
			       json_string_value(json_object_get(report, "backup")),
			       opts.target ? " into " : "", opts.target ? opts.target : "");
	}
	json_decref(report);
	return rc == 0 ? EXIT_OK : cli->err.code;
}
