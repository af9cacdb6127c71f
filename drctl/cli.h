/*
 * cli: what every command gets: the global options, the configuration
 * (loaded on first use), the one error that the top level prints, the
 * option parser every command uses, and the output helpers (text for people
 * on stdout, or one JSON document with --json).
 *
 * Global options (--config, --json, --log-format, -v, -q) are taken before
 * or after the command name with the same meaning; a command's own options
 * are described by an opt_spec table (lib/core/options.h), which also gives
 * its --help.
 */
#ifndef DRCTL_CLI_H
#define DRCTL_CLI_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/core/options.h"

struct cli_globals {
	const char *config_path; /* --config */
	const char *log_format;  /* --log-format text|json */
	int json;                /* --json */
	int verbose;             /* -v */
	int quiet;               /* -q */
};

struct cli {
	struct cli_globals g;
	const char *command;     /* "verify", for messages */
	struct config *cfg;
	struct drctl_error err;
};

/* What a command accepts. */
struct cli_command_line {
	const char *usage;                /* "drctl verify ID|latest [--deep]" */
	const char *summary;              /* one line for --help */
	const struct opt_spec *options;   /* the command's own (may be NULL) */
	void *target;                     /* where their values go */
	const struct opt_spec *extra;     /* a second table (a component's), may be NULL */
	void *extra_target;
	size_t min_args, max_args;        /* positional arguments */
	const char *args_message;         /* when their count is wrong */
};

/* Parse argv[1..]: global options, the command's options, positional
 * arguments (into args, at most cl->max_args).  0: parsed; 1: --help was
 * printed (the command returns EXIT_OK); -1: usage error in cli->err (an
 * unknown option is named). */
int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_command_line *cl, const char **args,
	      size_t *n_args);
/* Take argv[*i] as a global option (main, before the command name).
 * 1 taken, 0 not a global option, -1 error. */
int cli_take_global(struct cli *cli, int argc, char **argv, int *i);
/* Apply the global options (log level and format); -1 on a bad value. */
int cli_apply_globals(struct cli *cli);
/* The global options' --help lines. */
void cli_print_global_help(FILE *out);

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

/* A scenario run's status for people: each step, the report, the next
 * command (drctl/cmd_scenario.c; the drill prints it too). */
void cli_print_run_status(json_t *status);
/* What monitoring hears of a drill run that ended or failed (drctl_drill_*;
 * drctl/cmd_drill.c): after `drctl drill` and after `drctl scenario resume`
 * of a drill run alike. */
void cli_publish_drill_metrics(const struct config *cfg, json_t *status);

/* The commands (drctl/cmd_*.c). */
int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_verify(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_prune(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_export_signing_key(struct cli *cli, int argc, char **argv);
int cmd_scenario(struct cli *cli, int argc, char **argv);
int cmd_health(struct cli *cli, int argc, char **argv);
int cmd_drill(struct cli *cli, int argc, char **argv);
int cmd_schedule(struct cli *cli, int argc, char **argv);
int cmd_rotate_secrets(struct cli *cli, int argc, char **argv);
int cmd_repo(struct cli *cli, int argc, char **argv);

/* A scenario run that stopped (drctl/cmd_scenario.c): its status shown, its
 * metrics published, and the exit status: 0 done, 7 waiting at a gate, the
 * error's code otherwise. */
int scenario_outcome(struct cli *cli, int rc, json_t *status);
/* A scenario's plan (engine_plan's document), as text or --json. */
void scenario_show_plan(struct cli *cli, json_t *plan);

#endif
