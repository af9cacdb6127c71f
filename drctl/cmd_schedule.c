/*
 * drctl schedule render --kind cronjob|crontab|systemd [--out-dir DIR] ...
 *
 * Prints what deploys the unattended schedules (schedules/schedule.h) for
 * the current configuration: the Kubernetes manifests, crontab lines, or
 * systemd units.  With --out-dir it writes them as files instead (the
 * manifests as schedules/kubernetes/ holds them).  Nothing is installed.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drctl/cli.h"
#include "drctl/engine/engine.h"
#include "schedules/schedule.h"

#define DEFAULT_IMAGE "ghcr.io/your-org/drctl:" DRCTL_VERSION
#define DEFAULT_SCENARIO "db-corruption"

struct schedule_args {
	const char *kind;
	const char *out_dir;
	const char *image;
	const char *drctl;
	const char *scenario;
	const char *user;
};

static const struct opt_spec schedule_options_table[] = {
	{ "kind", 'k', OPT_STRING, offsetof(struct schedule_args, kind), "KIND",
	  "cronjob (Kubernetes manifests), crontab (crontab lines) or systemd (service and timer units); required" },
	{ "out-dir", 'o', OPT_STRING, offsetof(struct schedule_args, out_dir), "DIR",
	  "write the files into DIR instead of printing them" },
	{ "image", 0, OPT_STRING, offsetof(struct schedule_args, image), "IMAGE",
	  "cronjob: the drctl container image (default " DEFAULT_IMAGE ")" },
	{ "scenario", 0, OPT_STRING, offsetof(struct schedule_args, scenario), "NAME",
	  "cronjob: the scenario of the Job template (default " DEFAULT_SCENARIO ")" },
	{ "drctl", 0, OPT_STRING, offsetof(struct schedule_args, drctl), "PATH",
	  "crontab, systemd: the drctl program to run (default: this one)" },
	{ "user", 0, OPT_STRING, offsetof(struct schedule_args, user), "NAME",
	  "crontab, systemd: the user the tasks run as (systemd User=)" },
	{ 0 },
};

static const char USAGE[] = "drctl schedule render --kind cronjob|crontab|systemd [--out-dir DIR] [--image IMAGE] "
			    "[--scenario NAME] [--drctl PATH] [--user NAME]";

/* A path that works from cron's and systemd's working folder. */
static int absolute(struct cli *cli, const char *path, const char *what, char *out)
{
	if (!realpath(path, out))
		return err_set_errno(&cli->err, EXIT_USAGE, errno, path, "give the full path", "cannot find the %s %s",
				     what, path);
	return 0;
}

static int user_name_ok(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 32)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

static int fill_options(struct cli *cli, const struct config *cfg, const struct schedule_args *a,
			struct schedule_options *o, char *drctl, char *config_path)
{
	o->image = a->image ? a->image : DEFAULT_IMAGE;
	o->scenario = a->scenario ? a->scenario : DEFAULT_SCENARIO;
	o->user = a->user;
	if (!scenario_find(o->scenario))
		return err_set(&cli->err, EXIT_USAGE, o->scenario, "`drctl scenario list` lists them",
			       "there is no scenario \"%s\"", o->scenario);
	if (a->user && !user_name_ok(a->user))
		return err_set(&cli->err, EXIT_USAGE, a->user, "give a user name such as drctl",
			       "\"%s\" is not a user name", a->user);
	if (absolute(cli, a->drctl ? a->drctl : "/proc/self/exe", "drctl program", drctl) != 0 ||
	    absolute(cli, config_file(cfg), "configuration", config_path) != 0)
		return -1;
	o->drctl = drctl;
	o->config_path = config_path;
	return 0;
}

int cmd_schedule(struct cli *cli, int argc, char **argv)
{
	struct schedule_args a = { 0 };
	struct cli_command_line cl = {
		.usage = USAGE,
		.summary = "Print (or write) what runs drctl unattended: the nightly backup and prune, Friday's deep "
			   "verify, the last-Friday drill, the third-Monday rotation, for Kubernetes, cron or systemd.",
		.options = schedule_options_table,
		.target = &a,
		.min_args = 1,
		.max_args = 1,
		.args_message = "schedule needs a subcommand: render",
	};
	struct schedule_options o = { 0 };
	struct schedule_output out = { 0 };
	char drctl[PATH_MAX], config_path[PATH_MAX];
	const char *args[1];
	enum schedule_kind kind;
	struct config *cfg;
	size_t n;
	int rc;

	if ((rc = cli_parse(cli, argc, argv, &cl, args, &n)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (strcmp(args[0], "render") != 0)
		return cli_usage(cli, USAGE, "unknown schedule subcommand \"%s\"", args[0]);
	if (schedule_kind_parse(a.kind, &kind, &cli->err) != 0)
		return EXIT_USAGE;
	if (cli_config(cli, &cfg) != 0 || fill_options(cli, cfg, &a, &o, drctl, config_path) != 0 ||
	    schedule_render(cfg, kind, &o, &out, &cli->err) != 0)
		goto done;
	if (!a.out_dir)
		schedule_output_print(&out, kind, stdout);
	else if (schedule_output_write(&out, a.out_dir, &cli->err) == 0)
		for (size_t i = 0; i < out.n; i++)
			fprintf(stderr, "wrote %s/%s\n", a.out_dir, out.files[i].name);
done:
	schedule_output_free(&out);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
