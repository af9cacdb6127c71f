/*
 * cli: what every command gets: the global options, the configuration
 * (loaded on first use), the one error that the top level prints, and the
 * output helpers (text for people on stdout, or one JSON document with
 * --json).
 */
#ifndef DRCTL_CLI_H
#define DRCTL_CLI_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

struct cli {
	const char *config_path; /* --config */
	int json;                /* --json */
	struct config *cfg;
	struct drctl_error err;
};

/* Load the configuration if not yet loaded. */
int cli_config(struct cli *cli, struct config **cfg);
/* For commands that do not need one (init): the path it would be at. */
void cli_config_path(const struct cli *cli, char *out, size_t cap);

/* Print a JSON document to stdout (always newline-terminated). */
void cli_print_json(json_t *doc);
/* Usage error: sets cli->err and returns EXIT_USAGE. */
int cli_usage(struct cli *cli, const char *usage, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Split "a,b,c" into up to max items in place. */
size_t cli_split_commas(char *s, const char **items, size_t max);

/* The commands (drctl/cmd_*.c). */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);
int cmd_export_signing_key(struct cli *cli, int argc, char **argv);

#endif
