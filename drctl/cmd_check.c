/*
 * drctl check [--max-age 26h] [--component C,...]
 *
 * The morning check, for monitoring (schedules/check.h): one line, or a
 * JSON document, saying for each component its newest complete set and how
 * old it is.  Its exit codes are its own, as monitoring plugins use them:
 *   0  every component has a complete, signed set younger than --max-age
 *   1  stale: some component's newest set is older, or it has none
 *   2  the check could not say: every error (usage, configuration, key,
 *      repository, I/O...) exits 2 here, with its usual message
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "schedules/check.h"

#define CHECK_EXIT_OK 0
#define CHECK_EXIT_STALE 1
#define CHECK_EXIT_ERROR 2

struct check_args {
	const char *max_age;
	const char *components;
};

static const struct opt_spec check_options[] = {
	{ "max-age", 'a', OPT_STRING, offsetof(struct check_args, max_age), "DURATION",
	  "how old the newest set may be: h d w m y, e.g. 26h, 2d (default 26h)" },
	{ "component", 'c', OPT_STRING, offsetof(struct check_args, components), "C,...",
	  "only these components; default: every configured one" },
	{ 0 },
};

static const struct cli_command_line check_command_line = {
	.usage = "drctl check [--max-age 26h] [--component C,...]",
	.summary = "Is each component's newest complete, signed backup set younger than --max-age? "
		   "Exit 0 ok, 1 stale (or no set), 2 error.",
	.options = check_options,
	.max_args = 0,
	.args_message = "check takes no arguments",
};

/* "45s", "12m", "3h12m", "2d3h" */
static void format_age(long long s, char out[32])
{
	if (s >= 86400)
		snprintf(out, 32, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, 32, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, 32, "%lldm", s / 60);
	else
		snprintf(out, 32, "%llds", s);
}

/* ok: postgres 20261201T020000Z-3f9a, 3h12m old; redis ... (max age 26h) */
static void print_text(const struct check_result *res, const char *max_age)
{
	printf("%s:", res->ok ? "ok" : "STALE");
	for (size_t i = 0; i < res->n; i++) {
		const struct check_component *c = &res->components[i];
		char age[32];
		if (!c->found) {
			printf("%s %s: no complete set", i ? ";" : "", c->name);
			continue;
		}
		format_age(c->age_seconds, age);
		printf("%s %s %s, %s old%s", i ? ";" : "", c->name, c->set, age, c->fresh ? "" : ", too old");
	}
	printf(" (max age %s)\n", max_age);
}

static void print_json(const struct check_result *res, const char *max_age)
{
	char at[32];
	json_t *components = json_object(), *doc;

	for (size_t i = 0; i < res->n; i++) {
		const struct check_component *c = &res->components[i];
		json_object_set_new(components, c->name,
				    json_pack("{s:o, s:o, s:b}", "set", c->found ? json_string(c->set) : json_null(),
					      "age_seconds", c->found ? json_integer(c->age_seconds) : json_null(), "ok",
					      c->fresh));
	}
	format_utc((double)res->now, at);
	doc = json_pack("{s:b, s:s, s:I, s:s, s:o}", "ok", res->ok, "max_age", max_age, "max_age_seconds",
			(json_int_t)res->max_age_seconds, "checked_at", at, "components", components);
	cli_print_json(doc);
	json_decref(doc);
}

static int parse_max_age(struct cli *cli, const char *text, struct duration *d)
{
	if (duration_parse(text, d) != 0 || duration_is_zero(d))
		return err_set(&cli->err, EXIT_USAGE, "--max-age", "use a duration such as 26h, 2d or 1w (m is a month)",
			       "--max-age \"%s\" is not a duration longer than 0", text);
	return 0;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check_args args = { .max_age = "26h" };
	struct cli_command_line cl = check_command_line;
	struct check_result res;
	struct duration max_age;
	char components[512], max_age_text[DURATION_TEXT_MAX];
	const char *names[CHECK_COMPONENTS_MAX + 1], *positional[1];
	size_t n_names = 0, n_positional;
	struct config *cfg;
	int rc;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return rc > 0 ? CHECK_EXIT_OK : CHECK_EXIT_ERROR;
	if (args.components) {
		snprintf(components, sizeof(components), "%s", args.components);
		n_names = cli_split_commas(components, names, CHECK_COMPONENTS_MAX + 1);
	}
	if (parse_max_age(cli, args.max_age, &max_age) != 0 || cli_config(cli, &cfg) != 0 ||
	    check_run(cfg, names, n_names, &max_age, time(NULL), &res, &cli->err) != 0) {
		/* The message stays the cause's; the exit status is check's own. */
		cli->err.code = CHECK_EXIT_ERROR;
		return CHECK_EXIT_ERROR;
	}
	duration_format(&max_age, max_age_text);
	if (cli->g.json)
		print_json(&res, max_age_text);
	else
		print_text(&res, max_age_text);
	return res.ok ? CHECK_EXIT_OK : CHECK_EXIT_STALE;
}
