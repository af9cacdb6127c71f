/*
 * drctl: disaster recovery and backups for the AI agents platform.
 *
 * This file is the table of contents: global options, then one entry per
 * command.  Each command lives in drctl/cmd_<name>.c and reads like the steps
 * it runs; the work itself is in backup/, restore/, verify/ and schedules/.
 * Errors are printed once, here, with their hint; the exit codes are
 * documented in the README and in lib/core/error.h.
 */
#include <getopt.h>
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
	{ "prune", cmd_prune, "remove incomplete sets (debris of interrupted backups)" },
	{ "export-signing-key", cmd_export_signing_key, "write the minisign public key that verifies the sets" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: drctl [--config FILE] [--json] [--log-format text|json] [-v|-q] COMMAND [ARGS]\n\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n`drctl COMMAND --help` for a command's options; exit codes: see README.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct cli cli = { 0 };
	enum log_level level = LOG_INFO;
	enum log_format format = LOG_TEXT;
	int c, rc = EXIT_USAGE;

	/* '+': stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+c:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cli.config_path = optarg; break;
		case 'j': cli.json = 1; break;
		case 'L':
			if (!strcmp(optarg, "json"))
				format = LOG_JSON;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "drctl: --log-format must be text or json\n");
				return EXIT_USAGE;
			}
			break;
		case 'v': level = LOG_DEBUG; break;
		case 'q': level = LOG_WARN; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("drctl %s\n", DRCTL_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	log_setup(level, format);
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	err_clear(&cli.err);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		{
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			/* 0, not 1: GNU getopt then fully re-initializes (permutation mode). */
			optind = 0;
			rc = commands[i].run(&cli, sub_argc, sub_argv);
		}
		goto done;
	}
	fprintf(stderr, "drctl: unknown command \"%s\"\n\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
done:
	if (err_is_set(&cli.err)) {
		log_error_report(&cli.err);
		if (cli.json) {
			json_t *doc = json_pack("{s:{s:i, s:s, s:s, s:s}}", "error", "exit_code", cli.err.code,
						"message", cli.err.message, "subject", cli.err.subject, "hint", cli.err.hint);
			cli_print_json(doc);
			json_decref(doc);
		}
		if (rc == EXIT_OK)
			rc = cli.err.code ? cli.err.code : EXIT_FAILED;
	}
	config_free(cli.cfg);
	return rc;
}
