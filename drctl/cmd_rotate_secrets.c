/*
 * drctl rotate-secrets [--dry-run] [--when third-monday] [--timezone TZ]
 *
 * The runbook's third-Monday secret rotation on its own: the
 * secrets-rotation scenario (drctl/scenarios/secrets.c), run by the engine
 * like any scenario, so a run that breaks is resumed with `drctl scenario
 * resume RUN`.  It asks for no confirmation (a CronJob runs it); --dry-run
 * prints what would be rotated and touches nothing.  Cron cannot say "the
 * third Monday", so the CronJob runs every Monday with --when third-monday,
 * which exits 0 at once on the other days.
 */
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "drctl/cli.h"
#include "drctl/engine/engine.h"
#include "drctl/scenarios/scenarios.h"
#include "lib/core/calendar.h"
#include "lib/core/log.h"

struct rotate_args {
	int dry_run;
	const char *when;
	const char *timezone;
	int steal;
};

static const struct opt_spec rotate_options[] = {
	{ "dry-run", 'n', OPT_FLAG, offsetof(struct rotate_args, dry_run), NULL,
	  "say what would be rotated and restarted; touch nothing" },
	{ "when", 0, OPT_STRING, offsetof(struct rotate_args, when), "RULE",
	  "run only on that day of the month, e.g. third-monday; on any other day exit 0 at once" },
	{ "timezone", 0, OPT_STRING, offsetof(struct rotate_args, timezone), "TZ",
	  "the time zone --when reads the day in (e.g. Europe/Paris; default: TZ or the machine's)" },
	{ "steal", 0, OPT_FLAG, offsetof(struct rotate_args, steal), NULL,
	  "take over a stale scenario lock (its holder died)" },
	{ 0 },
};

static const struct cli_command_line rotate_command_line = {
	.usage = "drctl rotate-secrets [--dry-run] [--when third-monday] [--timezone TZ]",
	.summary = "Rotate every secret in [rotation] (PostgreSQL roles, Redis users, generated Vault values), restart "
		   "the agents, check their health; third-party keys wait for a person.",
	.options = rotate_options,
	.max_args = 0,
	.args_message = "rotate-secrets takes no arguments",
};

/* 1 when today is the day (or no rule was given), 0 when not, -1 error. */
static int is_the_day(struct cli *cli, const struct rotate_args *a)
{
	struct calendar_rule rule;
	char day[64], rule_text[32];
	int match;

	if (!a->when)
		return 1;
	if (calendar_rule_parse(a->when, "--when", &rule, &cli->err) != 0)
		return -1;
	if ((match = calendar_rule_matches(&rule, time(NULL), a->timezone, day, sizeof(day), &cli->err)) < 0)
		return -1;
	calendar_rule_format(&rule, rule_text, sizeof(rule_text));
	if (!match)
		log_info("today is %s%s%s, not the %s of the month: nothing to do", day, a->timezone ? " in " : "",
			 a->timezone ? a->timezone : "", rule_text);
	return match;
}

int cmd_rotate_secrets(struct cli *cli, int argc, char **argv)
{
	struct rotate_args a = { 0 };
	struct cli_command_line cl = rotate_command_line;
	struct engine_options eo = { 0 };
	const char *positional[1];
	size_t n;
	struct config *cfg;
	json_t *doc = NULL;
	int rc;

	cl.target = &a;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (a.timezone && !a.when)
		return cli_usage(cli, cl.usage, "--timezone is the zone of --when; give --when too");
	if ((rc = is_the_day(cli, &a)) <= 0)
		return rc == 0 ? EXIT_OK : cli->err.code;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	if (a.dry_run) {
		rc = engine_plan(cfg, &secrets_rotation_scenario, &eo, &doc, &cli->err);
		if (rc == 0)
			scenario_show_plan(cli, doc);
		json_decref(doc);
		return rc == 0 ? EXIT_OK : cli->err.code;
	}
	eo.steal = a.steal;
	rc = engine_run(cfg, &secrets_rotation_scenario, &eo, &doc, &cli->err);
	rc = scenario_outcome(cli, rc, doc);
	json_decref(doc);
	return rc;
}
