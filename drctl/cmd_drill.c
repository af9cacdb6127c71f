/*
 * drctl drill [--backup ID|latest] [--when last-friday] [--timezone TZ] [--keep]
 *
 * The runbook's monthly disaster-recovery drill (drctl/scenarios/drill.c),
 * run by the scenario engine: journaled, resumable with `drctl scenario
 * resume RUN`, reported in Markdown, JSON and HTML in the run's folder, its
 * signed record published in the repository.  --when last-friday lets a
 * weekly CronJob run it: on any other day it says so, and when the next
 * last Friday is, and exits 0 having done nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drctl/cli.h"
#include "drctl/engine/engine.h"
#include "lib/core/calendar.h"
#include "lib/core/log.h"
#include "lib/report/metrics.h"

struct drill_args {
	const char *backup;
	const char *when;
	const char *timezone;
	int keep;
	int steal;
};

static const struct opt_spec drill_options[] = {
	{ "backup", 'b', OPT_STRING, offsetof(struct drill_args, backup), "ID|latest",
	  "the backup set to drill with (default: latest)" },
	{ "when", 0, OPT_STRING, offsetof(struct drill_args, when), "last-friday",
	  "run only on the last Friday of the month; any other day exit 0 at once" },
	{ "timezone", 0, OPT_STRING, offsetof(struct drill_args, timezone), "TZ",
	  "whose Friday --when means: an IANA zone such as Europe/Paris (default UTC)" },
	{ "keep", 0, OPT_FLAG, offsetof(struct drill_args, keep), NULL,
	  "keep the scratch databases and the scratch Redis's keys afterwards" },
	{ "steal", 0, OPT_FLAG, offsetof(struct drill_args, steal), NULL, "take over a stale drill lock (its holder died)" },
	{ 0 },
};

static const char USAGE[] = "drctl drill [--backup ID|latest] [--when last-friday] [--timezone TZ] [--keep]";

static const char *weekday_name(int w)
{
	static const char *names[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };
	return w >= 0 && w < 7 ? names[w] : "?";
}

/* 1: today is the day, go on; 0: it is not (said, exit 0); -1: error. */
static int today_is_the_day(struct cli *cli, const struct drill_args *a)
{
	struct calendar_rule rule;
	struct calendar_date today;
	int y, m, d;
	char zone[128];

	if (calendar_rule_parse(a->when, "--when", &rule, &cli->err) != 0 ||
	    calendar_local_date(time(NULL), a->timezone, &today, &cli->err) != 0)
		return -1;
	snprintf(zone, sizeof(zone), "%s", a->timezone && *a->timezone ? a->timezone : "UTC");
	if (calendar_rule_is_day(&rule, today.year, today.month, today.day)) {
		log_info("today, Friday %04d-%02d-%02d (%s), is the last Friday of the month: the drill runs", today.year,
			 today.month, today.day, zone);
		return 1;
	}
	calendar_rule_next(&rule, today.year, today.month, today.day, &y, &m, &d);
	if (cli->g.json) {
		json_t *doc = json_pack("{s:b, s:s}", "ran", 0, "timezone", zone);
		json_object_set_new(doc, "today", json_sprintf("%04d-%02d-%02d", today.year, today.month, today.day));
		json_object_set_new(doc, "next", json_sprintf("%04d-%02d-%02d", y, m, d));
		cli_print_json(doc);
		json_decref(doc);
	} else {
		printf("today, %s %04d-%02d-%02d (%s), is not the last Friday of its month; the next one is Friday %04d-%02d-%02d. Nothing was done.\n",
		       weekday_name(today.weekday), today.year, today.month, today.day, zone, y, m, d);
	}
	return 0;
}

static void print_seconds(const char *what, json_t *v, const char *none)
{
	double s = json_number_value(v);
	if (!json_is_number(v))
		printf("%s %s", what, none);
	else if (s < 120)
		printf("%s %.1f s", what, s);
	else
		printf("%s %.0f s (%.1f min)", what, s, s / 60);
}

static void print_drill(json_t *status)
{
	json_t *d = json_object_get(status, "drill"), *rto = json_object_get(d, "rto_seconds");

	if (!d)
		return;
	printf("\n");
	print_seconds("RPO (the set's age at the drill's start):", json_object_get(d, "rpo_seconds"), "not measured");
	printf("\n");
	print_seconds("RTO: total", json_object_get(rto, "total"), "?");
	print_seconds(", postgres", json_object_get(rto, "postgres"), "not restored");
	print_seconds(", redis", json_object_get(rto, "redis"), "not restored");
	print_seconds(", vault", json_object_get(rto, "vault"), "not restored");
	printf("\n");
	if (json_is_string(json_object_get(d, "record")))
		printf("record: %s (signed)\n", json_string_value(json_object_get(d, "record")));
}

void cli_publish_drill_metrics(const struct config *cfg, json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	json_t *d = json_object_get(status, "drill"), *samples;
	int ok = state && !strcmp(state, "done");

	/* Still going (a resumable stop is a failure; a wait is not possible). */
	if (!state || !strcmp(state, "running") || !strcmp(state, "pending") || !strcmp(state, "aborted"))
		return;
	samples = metrics_samples_new();
	metrics_sample(samples, "drctl_drill_last_status", ok);
	metrics_sample(samples, "drctl_drill_duration_seconds", json_number_value(json_object_get(status, "seconds")));
	if (ok) { /* the module leaves these out of a failure's push anyway */
		metrics_sample(samples, "drctl_drill_last_success_timestamp_seconds", now_seconds());
		metrics_sample(samples, "drctl_drill_rto_seconds",
			       json_number_value(json_object_get(json_object_get(d, "rto_seconds"), "total")));
		metrics_sample(samples, "drctl_drill_rpo_seconds", json_number_value(json_object_get(d, "rpo_seconds")));
	}
	metrics_publish(cfg, "drill", samples);
	json_decref(samples);
}

int cmd_drill(struct cli *cli, int argc, char **argv)
{
	struct drill_args a = { 0 };
	struct cli_command_line cl = {
		.usage = USAGE,
		.summary = "The monthly disaster-recovery drill: restore a backup set into the scratch servers, prove it, "
			   "measure RTO and RPO, publish a signed record.",
		.options = drill_options,
		.target = &a,
		.max_args = 0,
		.args_message = "drill takes no arguments; the set is chosen with --backup",
	};
	struct engine_options eo;
	struct config *cfg;
	const struct scenario *s = scenario_find("drill");
	json_t *doc = NULL, *extra;
	const char *state, *args[1];
	size_t n_args;
	int rc;

	if ((rc = cli_parse(cli, argc, argv, &cl, args, &n_args)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (a.when && strcmp(a.when, "last-friday") != 0)
		return cli_usage(cli, USAGE, "--when takes last-friday, not \"%s\"", a.when);
	if (a.timezone && !a.when)
		return cli_usage(cli, USAGE, "--timezone says whose Friday --when means; give it with --when last-friday");
	if (a.when && (rc = today_is_the_day(cli, &a)) != 1)
		return rc == 0 ? EXIT_OK : cli->err.code;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	extra = a.keep ? json_pack("{s:s}", "keep", "yes") : json_object();
	eo = (struct engine_options){ .backup = a.backup, .steal = a.steal, .extra = extra };
	rc = engine_run(cfg, s, &eo, &doc, &cli->err);
	json_decref(extra);
	if (doc && cli->g.json) {
		cli_print_json(doc);
	} else if (doc) {
		cli_print_run_status(doc);
		print_drill(doc);
	}
	if (doc)
		cli_publish_drill_metrics(cfg, doc);
	state = json_string_value(json_object_get(doc, "state"));
	rc = rc != 0 ? (cli->err.code ? cli->err.code : EXIT_FAILED) : state && !strcmp(state, "done") ? EXIT_OK : EXIT_FAILED;
	json_decref(doc);
	return rc;
}
