#include "drctl/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	config_default_path(cli->config_path, out, cap);
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
