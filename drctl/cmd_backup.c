/*
 * drctl backup [--component C,...] [--tag T] [--parallel N] [--steal]
 * One backup set; prints its id on stdout (or the manifest with --json).
 * Its metrics (status, duration, each component's size and success time)
 * are published when [metrics] names a destination.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backup/backup.h"
#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/report/metrics.h"

struct backup_args {
	const char *components;
	const char *tag;
	long parallel;
	int steal;
};

static const struct opt_spec backup_options[] = {
	{ "component", 'c', OPT_STRING, offsetof(struct backup_args, components), "C,...",
	  "only these components (files, postgres, redis, vault); default: every configured one" },
	{ "tag", 't', OPT_STRING, offsetof(struct backup_args, tag), "TAG", "a label stored in the manifest" },
	{ "parallel", 'j', OPT_LONG, offsetof(struct backup_args, parallel), "N",
	  "components backed up at the same time (default [backup] parallel; 1 = one after another)" },
	{ "steal", 0, OPT_FLAG, offsetof(struct backup_args, steal), NULL,
	  "remove stale repository locks (not refreshed for [repository] lock_stale_minutes) that would stop the backup" },
	{ 0 },
};

static const struct cli_command_line backup_command_line = {
	.usage = "drctl backup [--component C,...] [--tag TAG] [--parallel N] [--steal]",
	.summary = "Take one backup set of the configured components and print its id (the manifest with --json).",
	.options = backup_options,
	.max_args = 0,
	.args_message = "backup takes no arguments",
};

/* Status and duration always; each component's size and success time only
 * when the set was published (metrics.h: success only). */
static void publish_metrics(const struct config *cfg, const struct backup_result *res, int ok, double started)
{
	json_t *samples = metrics_samples_new(), *section;
	double finished = now_seconds();
	const char *component;

	metrics_sample(samples, "drctl_backup_last_status", ok);
	metrics_sample(samples, "drctl_backup_duration_seconds", finished - started);
	if (ok) {
		json_object_foreach(json_object_get(res->manifest, "components"), component, section) {
			metrics_sample_labelled(samples, "drctl_backup_size_bytes", "component", component,
						(double)json_integer_value(json_object_get(section, "object_size")));
			metrics_sample_labelled(samples, "drctl_backup_last_success_timestamp_seconds", "component",
						component, finished);
		}
	}
	metrics_publish(cfg, "backup", samples);
	json_decref(samples);
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	struct backup_args args = { .parallel = -1 };
	struct backup_request req = { 0 };
	struct backup_result res;
	struct config *cfg;
	char components[512];
	const char *positional[1];
	size_t n_positional;
	struct cli_command_line cl = backup_command_line;
	double started;
	int rc;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (args.components) {
		snprintf(components, sizeof(components), "%s", args.components);
		req.n_components = cli_split_commas(components, req.components, 16);
	}
	req.tag = args.tag;
	if (args.parallel != -1 && (args.parallel < 1 || args.parallel > 16)) {
		err_set(&cli->err, EXIT_USAGE, "--parallel", "give 1 (one after another) to 16",
			"--parallel %ld is out of range (1..16)", args.parallel);
		return EXIT_USAGE;
	}
	req.parallel = args.parallel > 0 ? args.parallel : 0;
	req.steal = args.steal;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	started = now_seconds();
	rc = backup_run(cfg, &req, &res, &cli->err);
	publish_metrics(cfg, &res, rc == 0, started);
	if (rc != 0)
		return cli->err.code;
	if (cli->g.json)
		cli_print_json(res.manifest);
	else
		printf("%s\n", res.id);
	json_decref(res.manifest);
	return EXIT_OK;
}
