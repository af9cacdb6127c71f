/*
 * drctl scenario list | plan NAME | run NAME [--backup ID] [--yes] |
 *                resume RUN [--confirm STEP] | status [RUN] | abort RUN
 *
 * The disaster scenarios (drctl/scenarios/), run by the engine
 * (drctl/engine/).  `run` asks before it touches anything when a person is
 * at a terminal, and refuses without --yes when nobody is (a Job must say
 * --yes).  Every subcommand that ends a run's process prints where it
 * stands and the next command.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "drctl/cli.h"
#include "drctl/engine/engine.h"
#include "lib/core/log.h"
#include "lib/report/metrics.h"

struct scenario_args {
	const char *backup;
	const char *confirm;
	int yes;
	int steal;
};

static const struct opt_spec scenario_options[] = {
	{ "backup", 'b', OPT_STRING, offsetof(struct scenario_args, backup), "ID|latest",
	  "run: the backup set to restore from (default: latest)" },
	{ "yes", 'y', OPT_FLAG, offsetof(struct scenario_args, yes), NULL,
	  "run: do not ask (needed when stdin is not a terminal)" },
	{ "confirm", 0, OPT_STRING, offsetof(struct scenario_args, confirm), "STEP",
	  "resume: the gate STEP was done by a person" },
	{ "steal", 0, OPT_FLAG, offsetof(struct scenario_args, steal), NULL,
	  "run, resume, abort: take over a stale lock (its holder died)" },
	{ 0 },
};

static const char USAGE[] = "drctl scenario list | plan NAME | run NAME [--backup ID] [--yes] | "
			    "resume RUN [--confirm STEP] | status [RUN] | abort RUN";

void cli_print_run_status(json_t *st)
{
	size_t i;
	json_t *step;

	printf("run %s (%s): %s", json_string_value(json_object_get(st, "run")),
	       json_string_value(json_object_get(st, "scenario")), json_string_value(json_object_get(st, "state")));
	if (json_object_get(st, "at_step"))
		printf(" at step %s", json_string_value(json_object_get(st, "at_step")));
	printf(", %.1f s since %s\n\n", json_number_value(json_object_get(st, "seconds")),
	       json_string_value(json_object_get(st, "started")));
	printf("  %-22s %-9s %-20s %9s\n", "STEP", "STATE", "STARTED", "SECONDS");
	json_array_foreach(json_object_get(st, "steps"), i, step) {
		json_t *a0 = json_array_get(json_object_get(step, "attempts"), 0), *e = json_object_get(step, "error");
		printf("  %-22s %-9s %-20s", json_string_value(json_object_get(step, "name")),
		       json_string_value(json_object_get(step, "state")), a0 ? json_string_value(json_object_get(a0, "at")) : "-");
		if (json_object_get(step, "seconds"))
			printf(" %9.1f", json_number_value(json_object_get(step, "seconds")));
		printf("\n");
		if (e) {
			printf("      error: %s\n", json_string_value(json_object_get(e, "message")));
			if (*json_string_value(json_object_get(e, "hint")))
				printf("      hint: %s\n", json_string_value(json_object_get(e, "hint")));
		}
	}
	if (json_object_get(st, "report"))
		printf("\nreport: %s (also .json, .html)\n",
		       json_string_value(json_object_get(json_object_get(st, "report"), "markdown")));
	if (json_object_get(st, "next"))
		printf("next: %s\n", json_string_value(json_object_get(st, "next")));
}

static int show(struct cli *cli, json_t *doc)
{
	if (cli->g.json)
		cli_print_json(doc);
	else
		cli_print_run_status(doc);
	return 0;
}

void scenario_show_plan(struct cli *cli, json_t *plan)
{
	size_t i, j;
	json_t *st, *t;

	if (cli->g.json) {
		cli_print_json(plan);
		return;
	}
	printf("scenario %s: %s\n", json_string_value(json_object_get(plan, "scenario")),
	       json_string_value(json_object_get(plan, "summary")));
	json_array_foreach(json_object_get(plan, "steps"), i, st) {
		json_t *with = json_object_get(st, "together_with");
		printf("\n%zu. %s%s%s%s%s: %s\n", i + 1, json_string_value(json_object_get(st, "name")),
		       !strcmp(json_string_value(json_object_get(st, "kind")), "gate") ? " (gate: a person acts)" : "",
		       with ? " (at the same time as " : "", with ? json_string_value(json_array_get(with, 0)) : "", with ? ")" : "",
		       json_string_value(json_object_get(st, "summary")));
		json_array_foreach(json_object_get(st, "touches"), j, t)
			printf("   - %s\n", json_string_value(t));
	}
}

/* What `run` does to this platform, and a yes from the person. */
static int confirmed(struct cli *cli, const struct config *cfg, const struct scenario *s, const struct scenario_args *a)
{
	char answer[16] = "";
	json_t *plan = NULL;

	if (a->yes)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		err_set(&cli->err, EXIT_USAGE, s->name, NULL,
			"drctl scenario run acts on the platform and nobody is at a terminal to confirm it; nothing was done");
		err_hint(&cli->err, "see what it does with `drctl scenario plan %s`, then add --yes", s->name);
		return 0;
	}
	if (engine_plan(cfg, s, &(struct engine_options){ .backup = a->backup }, &plan, &cli->err) == 0) {
		size_t i, j;
		json_t *st, *t;
		fprintf(stderr, "scenario %s will:\n", s->name);
		json_array_foreach(json_object_get(plan, "steps"), i, st) {
			fprintf(stderr, "  %zu. %s: %s\n", i + 1, json_string_value(json_object_get(st, "name")),
				json_string_value(json_object_get(st, "summary")));
			json_array_foreach(json_object_get(st, "touches"), j, t)
				fprintf(stderr, "       - %s\n", json_string_value(t));
		}
		json_decref(plan);
	}
	err_clear(&cli->err);
	fprintf(stderr, "\ngo on? type yes: ");
	if (!fgets(answer, sizeof(answer), stdin) || strncmp(answer, "yes", 3) != 0) {
		err_set(&cli->err, EXIT_USAGE, s->name, "run it again and type yes, or add --yes",
			"not confirmed; nothing was done");
		return 0;
	}
	return 1;
}

static int list_scenarios(struct cli *cli)
{
	size_t n;
	const struct scenario *const *all = scenario_all(&n);
	json_t *doc = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(doc, json_pack("{s:s, s:s, s:I}", "name", all[i]->name, "summary", all[i]->summary,
						     "steps", (json_int_t)all[i]->n_steps));
		if (!cli->g.json)
			printf("%-20s %s\n", all[i]->name, all[i]->summary);
	}
	if (cli->g.json)
		cli_print_json(doc);
	json_decref(doc);
	return EXIT_OK;
}

static const struct scenario *find(struct cli *cli, const char *name)
{
	const struct scenario *s = scenario_find(name);
	if (!s) {
		err_set(&cli->err, EXIT_USAGE, name, "`drctl scenario list` lists them", "there is no scenario \"%s\"", name);
	}
	return s;
}

/* What monitoring hears of a run that ended or failed (a run waiting at a
 * gate has neither succeeded nor failed yet). */
static void publish_metrics(const struct config *cfg, json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	const char *scenario = json_string_value(json_object_get(status, "scenario"));
	double seconds = json_number_value(json_object_get(status, "seconds"));
	int ok = state && !strcmp(state, "done");
	const struct scenario *s;
	json_t *samples;

	if (!state || !scenario || !strcmp(state, "waiting") || !strcmp(state, "aborted"))
		return;
	if (!strcmp(scenario, "drill")) { /* a drill's metrics are the drill's own */
		cli_publish_drill_metrics(cfg, status);
		return;
	}
	samples = metrics_samples_new();
	metrics_sample_labelled(samples, "drctl_scenario_last_status", "scenario", scenario, ok);
	metrics_sample_labelled(samples, "drctl_scenario_duration_seconds", "scenario", scenario, seconds);
	metrics_sample_labelled(samples, "drctl_scenario_rto_seconds", "scenario", scenario, seconds);
	metrics_sample_labelled(samples, "drctl_scenario_last_success_timestamp_seconds", "scenario", scenario,
				now_seconds());
	if ((s = scenario_find(scenario)) && s->metrics)
		s->metrics(status, samples);
	metrics_publish(cfg, "scenario", samples);
	json_decref(samples);
}

/* The exit status of a run that stopped: done 0, waiting at a gate 7, the
 * error's code otherwise. */
int scenario_outcome(struct cli *cli, int rc, json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	if (status) {
		show(cli, status);
		publish_metrics(cli->cfg, status);
	}
	if (rc != 0)
		return cli->err.code ? cli->err.code : EXIT_FAILED;
	return state && !strcmp(state, "waiting") ? EXIT_WAITING : EXIT_OK;
}

int cmd_scenario(struct cli *cli, int argc, char **argv)
{
	struct scenario_args a = { 0 };
	struct cli_command_line cl = {
		.usage = USAGE,
		.summary = "The disaster scenarios: resumable, journaled runs of named steps.",
		.options = scenario_options,
		.target = &a,
		.min_args = 1,
		.max_args = 2,
		.args_message = "scenario needs a subcommand: list, plan NAME, run NAME, resume RUN, status [RUN], abort RUN",
	};
	const char *args[2], *sub;
	size_t n;
	struct config *cfg;
	const struct scenario *s;
	struct engine_options eo;
	json_t *doc = NULL;
	int rc;

	if ((rc = cli_parse(cli, argc, argv, &cl, args, &n)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	sub = args[0];
	eo = (struct engine_options){ .backup = a.backup, .confirm = a.confirm, .steal = a.steal };
	if (!strcmp(sub, "list"))
		return list_scenarios(cli);
	if (strcmp(sub, "status") != 0 && n < 2)
		return cli_usage(cli, USAGE, "scenario %s needs %s", sub,
				 !strcmp(sub, "plan") || !strcmp(sub, "run") ? "a scenario name (`drctl scenario list`)"
									     : "a run id (`drctl scenario status`)");
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	if (!strcmp(sub, "plan") || !strcmp(sub, "run")) {
		if (!(s = find(cli, args[1])))
			return EXIT_USAGE;
		if (!strcmp(sub, "plan")) {
			rc = engine_plan(cfg, s, &eo, &doc, &cli->err);
			if (rc == 0)
				scenario_show_plan(cli, doc);
			json_decref(doc);
			return rc == 0 ? EXIT_OK : cli->err.code;
		}
		if (!confirmed(cli, cfg, s, &a))
			return cli->err.code;
		rc = engine_run(cfg, s, &eo, &doc, &cli->err);
	} else if (!strcmp(sub, "resume")) {
		rc = engine_resume(cfg, args[1], &eo, &doc, &cli->err);
	} else if (!strcmp(sub, "abort")) {
		rc = engine_abort(cfg, args[1], &eo, &doc, &cli->err);
	} else if (!strcmp(sub, "status")) {
		rc = engine_status(cfg, n > 1 ? args[1] : NULL, &doc, &cli->err);
		if (rc == 0)
			show(cli, doc);
		json_decref(doc);
		return rc == 0 ? EXIT_OK : cli->err.code;
	} else {
		return cli_usage(cli, USAGE, "unknown scenario subcommand \"%s\"", sub);
	}
	rc = scenario_outcome(cli, rc, doc);
	json_decref(doc);
	return rc;
}
