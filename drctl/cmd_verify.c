/*
 * drctl verify ID|latest [--deep]
 * Its metrics (status, duration, success time) are published when
 * [metrics] names a destination.
 */
#include <stddef.h>
#include <stdio.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/report/metrics.h"
#include "verify/verify.h"

struct verify_args {
	int deep;
};

static const struct opt_spec verify_options[] = {
	{ "deep", 0, OPT_FLAG, offsetof(struct verify_args, deep), NULL,
	  "also decrypt, decompress and check every member (needs the age identity)" },
	{ 0 },
};

static const struct cli_command_line verify_command_line = {
	.usage = "drctl verify ID|latest [--deep]",
	.summary = "Check a backup set's signatures and the size and SHA-256 of every object; --deep also reads every member.",
	.options = verify_options,
	.min_args = 1,
	.max_args = 1,
	.args_message = "verify takes one backup set: an id from `drctl list`, or latest",
};

static void publish_metrics(const struct config *cfg, int ok, double started)
{
	json_t *samples = metrics_samples_new();
	double finished = now_seconds();

	metrics_sample(samples, "drctl_verify_last_status", ok);
	metrics_sample(samples, "drctl_verify_duration_seconds", finished - started);
	metrics_sample(samples, "drctl_verify_last_success_timestamp_seconds", finished);
	metrics_publish(cfg, "verify", samples);
	json_decref(samples);
}

int cmd_verify(struct cli *cli, int argc, char **argv)
{
	struct verify_args args = { 0 };
	struct cli_command_line cl = verify_command_line;
	const char *ref[1];
	size_t n_ref;
	struct config *cfg;
	json_t *report;
	double started;
	int rc, deep;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, ref, &n_ref)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	deep = args.deep;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	report = json_object();
	started = now_seconds();
	rc = verify_run(cfg, ref[0], deep ? VERIFY_DEEP : VERIFY_QUICK, report, &cli->err);
	publish_metrics(cfg, rc == 0, started);
	if (cli->g.json) {
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
