/*
 * drctl: disaster recovery and backups for the AI agents platform.
 *
 * This file is the table of contents: global options, then one entry per
 * command.  Each command lives in drctl/cmd_<name>.c and reads like the steps
 * it runs; the work itself is in backup/, restore/, verify/ and schedules/.
 * Errors are printed once, here, with their hint; the exit codes are
 * documented in the README and in lib/core/error.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"

static const struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "init", cmd_init, "write a commented config and generate the signing key and age identity" },
	{ "backup", cmd_backup, "take one backup set; prints its id" },
	{ "list", cmd_list, "backup sets, newest first, with their state" },
	{ "show", cmd_show, "a backup set's manifest (ID or latest)" },
	{ "verify", cmd_verify, "check signatures and hashes of a set (--deep: every member too)" },
	{ "restore", cmd_restore, "restore one component from a set" },
	{ "repo", cmd_repo, "copy complete sets between configured repositories (copy --from NAME --to NAME ID|--all)" },
	{ "prune", cmd_prune, "remove the sets the [retention] policy does not keep, and old incomplete ones" },
	{ "check", cmd_check, "is the newest complete set of each component young enough? (exit 0 ok, 1 stale, 2 error)" },
	{ "export-signing-key", cmd_export_signing_key, "write the minisign public key that verifies the sets" },
	{ "scenario", cmd_scenario, "the disaster scenarios: list, plan, run, resume, status, abort" },
	{ "rotate-secrets", cmd_rotate_secrets, "rotate every secret in [rotation], restart the agents (monthly; --dry-run)" },
	{ "health", cmd_health, "check PostgreSQL, Redis, Vault and the agents" },
	{ "drill", cmd_drill, "the monthly DR drill: restore a set into scratch servers, report RTO and RPO" },
	{ "schedule", cmd_schedule, "render the unattended schedules (render --kind cronjob|crontab|systemd)" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: drctl [global options] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nglobal options (before or after the command):\n");
	cli_print_global_help(out);
	fprintf(out, "  %-28s %s\n  %-28s %s\n", "-h, --help", "this help", "--version", "drctl's version");
	fprintf(out, "\n`drctl COMMAND --help` for a command's options; exit codes: see README.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* The error, once: text on stderr, and with --json also on stdout. */
static int report_error(struct cli *cli, int rc)
{
	log_error_report(&cli->err);
	if (cli->g.json) {
		json_t *doc = json_pack("{s:{s:i, s:s, s:s, s:s}}", "error", "exit_code", cli->err.code, "message",
					cli->err.message, "subject", cli->err.subject, "hint", cli->err.hint);
		cli_print_json(doc);
		json_decref(doc);
	}
	if (rc == EXIT_OK)
		rc = cli->err.code ? cli->err.code : EXIT_FAILED;
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const struct command *cmd;
	int i, rc;

	err_clear(&cli.err);
	/* Global options before the command name; the command's parser takes
	 * them after it too. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("drctl %s\n", DRCTL_VERSION);
			return EXIT_OK;
		}
		rc = cli_take_global(&cli, argc, argv, &i);
		if (rc < 0)
			return report_error(&cli, EXIT_USAGE);
		if (rc == 0) {
			err_set(&cli.err, EXIT_USAGE, argv[i], "`drctl --help` lists the global options and commands",
				"unknown global option \"%s\"", argv[i]);
			return report_error(&cli, EXIT_USAGE);
		}
	}
	if (cli_apply_globals(&cli) != 0)
		return report_error(&cli, EXIT_USAGE);
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		err_set(&cli.err, EXIT_USAGE, argv[i], "`drctl --help` lists the commands", "unknown command \"%s\"",
			argv[i]);
		return report_error(&cli, EXIT_USAGE);
	}
	cli.command = cmd->name;
	rc = cmd->run(&cli, argc - i, argv + i);
	if (err_is_set(&cli.err))
		rc = report_error(&cli, rc);
	config_free(cli.cfg);
	return rc;
}
