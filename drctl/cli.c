#include "drctl/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"

static const struct opt_spec global_options[] = {
	{ "config", 0, OPT_STRING, offsetof(struct cli_globals, config_path), "FILE",
	  "the configuration file (default: $DRCTL_CONFIG, ~/.config/drctl/drctl.conf, /etc/drctl/drctl.conf)" },
	{ "json", 0, OPT_FLAG, offsetof(struct cli_globals, json), NULL, "results (and errors) as JSON on stdout" },
	{ "log-format", 0, OPT_STRING, offsetof(struct cli_globals, log_format), "text|json",
	  "messages on stderr as text, or one JSON object per line" },
	{ "verbose", 'v', OPT_FLAG, offsetof(struct cli_globals, verbose), NULL, "say every step" },
	{ "quiet", 'q', OPT_FLAG, offsetof(struct cli_globals, quiet), NULL, "only warnings and errors" },
	{ 0 },
};

int cli_take_global(struct cli *cli, int argc, char **argv, int *i)
{
	/* -vv as -v: there is one verbose level. */
	if (!strcmp(argv[*i], "-vv")) {
		cli->g.verbose = 1;
		return 1;
	}
	/* -c FILE is --config only before the command name; after it, short
	 * options are the command's own (backup -c is --component). */
	if (!strcmp(argv[*i], "-c") && !cli->command) {
		if (*i + 1 >= argc)
			return err_set(&cli->err, EXIT_USAGE, "-c", NULL, "-c needs a value (FILE)");
		cli->g.config_path = argv[++*i];
		return 1;
	}
	return opt_take(global_options, &cli->g, argc, argv, i, &cli->err);
}

int cli_apply_globals(struct cli *cli)
{
	enum log_format format = LOG_TEXT;
	if (cli->g.log_format && !strcmp(cli->g.log_format, "json"))
		format = LOG_JSON;
	else if (cli->g.log_format && strcmp(cli->g.log_format, "text") != 0)
		return err_set(&cli->err, EXIT_USAGE, "--log-format", "use --log-format text or --log-format json",
			       "--log-format must be text or json, not \"%s\"", cli->g.log_format);
	log_setup(cli->g.verbose ? LOG_DEBUG : cli->g.quiet ? LOG_WARN : LOG_INFO, format);
	return 0;
}

void cli_print_global_help(FILE *out)
{
	opt_print_help(out, global_options);
}

static void print_help(const struct cli_command_line *cl)
{
	printf("usage: %s\n", cl->usage);
	if (cl->summary)
		printf("\n%s\n", cl->summary);
	if ((cl->options && cl->options->name) || (cl->extra && cl->extra->name)) {
		printf("\noptions:\n");
		opt_print_help(stdout, cl->options);
		opt_print_help(stdout, cl->extra);
	}
	printf("\nglobal options (before or after the command):\n");
	opt_print_help(stdout, global_options);
	printf("  %-28s %s\n", "-h, --help", "this help");
}

int cli_parse(struct cli *cli, int argc, char **argv, const struct cli_command_line *cl, const char **args,
	      size_t *n_args)
{
	int only_args = 0, r;

	*n_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_args && a[0] == '-' && a[1] != '\0') {
			if (!strcmp(a, "--")) {
				only_args = 1;
				continue;
			}
			if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
				print_help(cl);
				return 1;
			}
			if ((r = cli_take_global(cli, argc, argv, &i)) != 0 ||
			    (r = opt_take(cl->options, cl->target, argc, argv, &i, &cli->err)) != 0 ||
			    (r = opt_take(cl->extra, cl->extra_target, argc, argv, &i, &cli->err)) != 0) {
				if (r < 0) {
					err_hint(&cli->err, "usage: %s (drctl %s --help for more)", cl->usage, cli->command);
					return -1;
				}
				continue;
			}
			err_set(&cli->err, EXIT_USAGE, a, NULL, "unknown option \"%s\" for drctl %s", a, cli->command);
			err_hint(&cli->err, "usage: %s (drctl %s --help lists its options)", cl->usage, cli->command);
			return -1;
		}
		if (*n_args >= cl->max_args) {
			err_set(&cli->err, EXIT_USAGE, a, NULL, "%s (unexpected argument \"%s\")",
				cl->args_message ? cl->args_message : "too many arguments", a);
			err_hint(&cli->err, "usage: %s", cl->usage);
			return -1;
		}
		args[(*n_args)++] = a;
	}
	if (*n_args < cl->min_args) {
		err_set(&cli->err, EXIT_USAGE, cli->command, NULL, "%s",
			cl->args_message ? cl->args_message : "missing arguments");
		err_hint(&cli->err, "usage: %s", cl->usage);
		return -1;
	}
	return cli_apply_globals(cli);
}

int cli_config(struct cli *cli, struct config **cfg)
{
	char path[4096];
	if (!cli->cfg) {
		cli_config_path(cli, path, sizeof(path));
		if (config_load(&cli->cfg, path, 0, &cli->err) != 0)
			return -1;
	}
	*cfg = cli->cfg;
	return 0;
}

void cli_config_path(const struct cli *cli, char *out, size_t cap)
{
	config_default_path(cli->g.config_path, out, cap);
}

void cli_print_json(json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	}
}

int cli_usage(struct cli *cli, const char *usage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(&cli->err, EXIT_USAGE, NULL, usage, "%s", msg);
	return EXIT_USAGE;
}

size_t cli_split_commas(char *s, const char **items, size_t max)
{
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(s, ",", &save); p && n < max; p = strtok_r(NULL, ",", &save))
		if (*p)
			items[n++] = p;
	return n;
}
