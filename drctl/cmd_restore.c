/*
 * drctl restore COMPONENT [--backup ID|latest] [--target ...] [--force] [--dry-run] [component options]
 *
 * The options every component takes are parsed here; the component's own
 * (e.g. --database for postgres) come from its option table in the registry
 * and fill its restore-options struct, which restore_run passes on as data,
 * exactly as the scenarios and the drill do.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/component.h"
#include "drctl/cli.h"
#include "restore/restore.h"

static const struct opt_spec restore_common_options[] = {
	{ "backup", 'b', OPT_STRING, offsetof(struct restore_options, backup), "ID|latest",
	  "the backup set (default: latest)" },
	{ "target", 0, OPT_STRING, offsetof(struct restore_options, target), "TARGET",
	  "where to restore: a folder (files), a database name (postgres), a URL (redis), an address (vault)" },
	{ "force", 0, OPT_FLAG, offsetof(struct restore_options, force), NULL,
	  "replace what is there, once the backup has been proven" },
	{ "dry-run", 'n', OPT_FLAG, offsetof(struct restore_options, dry_run), NULL,
	  "say what would be done; change nothing" },
	{ 0 },
};

static const char USAGE[] =
	"drctl restore COMPONENT [--backup ID|latest] [--target TARGET] [--force] [--dry-run] [component options]";

/* Does argv[i] take the next argument as its value (in any table)? */
static int takes_value(const char *arg)
{
	size_t n;
	const struct component *const *all = component_all(&n);
	const struct opt_spec *s;

	if (strchr(arg, '='))
		return 0;
	if (!strcmp(arg, "--config") || !strcmp(arg, "--log-format"))
		return 1;
	if ((s = opt_find(restore_common_options, arg)))
		return s->type != OPT_FLAG;
	for (size_t i = 0; i < n; i++)
		if ((s = opt_find(all[i]->restore_option_table, arg)))
			return s->type != OPT_FLAG;
	return 0;
}

/* The component named on the command line (its first argument that is
 * neither an option nor an option's value), so its options can be parsed. */
static const char *find_component_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? argv[i + 1] : NULL;
		if (argv[i][0] == '-') {
			i += takes_value(argv[i]);
			continue;
		}
		return argv[i];
	}
	return NULL;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	struct restore_options opts = { 0 };
	struct cli_command_line cl = {
		.usage = USAGE,
		.summary = "Restore one component from a complete, verified backup set.",
		.options = restore_common_options,
		.target = &opts,
		.min_args = 1,
		.max_args = 1,
	};
	const char *name = find_component_arg(argc, argv), *positional[1];
	const struct component *c = name ? component_find(name) : NULL;
	size_t n_positional;
	void *component_options = NULL;
	struct config *cfg;
	json_t *report = NULL;
	char message[256];
	int rc = EXIT_USAGE;

	snprintf(message, sizeof(message), "restore needs a component: %s", component_names());
	cl.args_message = message;
	if (c && c->restore_option_table) {
		component_options = calloc(1, c->restore_options_size);
		if (!component_options) {
			err_set(&cli->err, EXIT_FAILED, NULL, NULL, "out of memory");
			return EXIT_FAILED;
		}
		cl.extra = c->restore_option_table;
		cl.extra_target = component_options;
	}
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0) {
		rc = rc > 0 ? EXIT_OK : EXIT_USAGE;
		goto done;
	}
	if (!opts.backup)
		opts.backup = "latest";
	opts.component = component_options;
	if (cli_config(cli, &cfg) != 0) {
		rc = cli->err.code;
		goto done;
	}
	report = json_object();
	if (restore_run(cfg, positional[0], &opts, report, &cli->err) != 0) {
		rc = cli->err.code;
		goto done;
	}
	json_object_set_new(report, "ok", json_true());
	if (cli->g.json)
		cli_print_json(report);
	else
		printf("restored %s from %s%s%s\n", positional[0], json_string_value(json_object_get(report, "backup")),
		       opts.target ? " into " : "", opts.target ? opts.target : "");
	rc = EXIT_OK;
done:
	json_decref(report);
	free(component_options);
	return rc;
}
