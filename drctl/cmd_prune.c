/*
 * drctl prune [--dry-run] [--steal]
 *
 * Retention: decides every backup set by the [retention] policy (the rules
 * are in lib/set/retention.h, the run in schedules/prune.h) and removes what
 * the decision says, under the repository's exclusive lock (--steal first
 * removes stale locks in its way, lib/storage/repo_lock.h).  --dry-run lists
 * every set with keep or remove and the rules that decided, and removes
 * nothing.  A prune (not a dry run) publishes its metrics when [metrics]
 * names a destination.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/report/metrics.h"
#include "schedules/prune.h"

struct prune_args {
	int dry_run;
	int steal;
};

static const struct opt_spec prune_options[] = {
	{ "dry-run", 'n', OPT_FLAG, offsetof(struct prune_args, dry_run), NULL,
	  "list every set with keep or remove and the rules that decided; remove nothing" },
	{ "steal", 0, OPT_FLAG, offsetof(struct prune_args, steal), NULL,
	  "remove stale repository locks (not refreshed for [repository] lock_stale_minutes) that would stop the prune" },
	{ 0 },
};

static const struct cli_command_line prune_command_line = {
	.usage = "drctl prune [--dry-run] [--steal]",
	.summary = "Remove the backup sets that the [retention] policy does not keep, and old incomplete sets.",
	.options = prune_options,
	.max_args = 0,
	.args_message = "prune takes no arguments",
};

/* "keep-daily (2026-11-29); newest complete set" */
static void reasons_text(const struct retention_decision *d, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t r = 0; r < d->n_reasons && len < cap; r++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", r ? "; " : "", d->reasons[r].text);
}

static void print_policy(const struct prune_plan *plan)
{
	char text[1024];

	retention_policy_describe(&plan->policy, text, sizeof(text));
	printf("policy: %s\n", text);
}

/* The sets kept only because the store still retains them, and until when. */
static void print_held(const struct prune_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->holds[i].until)
			printf("%s kept: %s\n", plan->sets[i].id, plan->holds[i].reason);
}

static void print_table(const struct prune_plan *plan)
{
	printf("%-7s %-24s %-11s %s\n", "ACTION", "ID", "STATE", "WHY");
	for (size_t i = 0; i < plan->n; i++) {
		char why[RETENTION_REASONS_MAX * (RETENTION_REASON_TEXT + 2)];
		reasons_text(&plan->decisions[i], why, sizeof(why));
		printf("%-7s %-24s %-11s %s\n", plan->decisions[i].remove ? "remove" : "keep", plan->sets[i].id,
		       backup_set_state_name(plan->sets[i].state), why);
	}
	printf("would keep %zu set%s and remove %zu\n", plan->n - plan->n_remove, plan->n - plan->n_remove == 1 ? "" : "s",
	       plan->n_remove);
}

/* Each removal as it happens, so an interrupted prune shows how far it got. */
static void print_removed(const struct prune_plan *plan, size_t i, void *arg)
{
	char why[RETENTION_REASONS_MAX * (RETENTION_REASON_TEXT + 2)];

	(void)arg;
	reasons_text(&plan->decisions[i], why, sizeof(why));
	printf("removed %s (%s: %s)\n", plan->sets[i].id, backup_set_state_name(plan->sets[i].state), why);
	fflush(stdout);
}

static json_t *policy_json(const struct retention_policy *p)
{
	char within[DURATION_TEXT_MAX], grace[DURATION_TEXT_MAX];

	duration_format(&p->keep_within, within);
	duration_format(&p->incomplete_grace, grace);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:b}", "keep_last", (json_int_t)p->keep_last,
			 "keep_hourly", (json_int_t)p->keep_hourly, "keep_daily", (json_int_t)p->keep_daily,
			 "keep_weekly", (json_int_t)p->keep_weekly, "keep_monthly", (json_int_t)p->keep_monthly,
			 "keep_yearly", (json_int_t)p->keep_yearly, "keep_within", within, "incomplete_grace", grace,
			 "empty", retention_policy_is_empty(p));
}

static void print_json(const struct prune_plan *plan, int dry_run)
{
	char text[1024];
	json_t *sets = json_array(), *kept = json_array(), *removed = json_array(), *doc;

	for (size_t i = 0; i < plan->n; i++) {
		const struct retention_decision *d = &plan->decisions[i];
		json_t *reasons = json_array(), *rules = json_array();
		for (size_t r = 0; r < d->n_reasons; r++) {
			json_array_append_new(reasons, json_string(d->reasons[r].text));
			json_array_append_new(rules, json_string(retention_rule_name(d->reasons[r].rule)));
		}
		json_t *set = json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", plan->sets[i].id, "state",
					backup_set_state_name(plan->sets[i].state), "action", d->remove ? "remove" : "keep",
					"reasons", reasons, "rules", rules);
		if (plan->holds[i].until)
			json_object_set_new(set, "object_lock_until",
					    json_string(plan->holds[i].until_text));
		json_array_append_new(sets, set);
		json_array_append_new(d->remove ? removed : kept, json_string(plan->sets[i].id));
	}
	retention_policy_describe(&plan->policy, text, sizeof(text));
	doc = json_pack("{s:b, s:o, s:s, s:o, s:o, s:o, s:I}", "dry_run", dry_run, "policy", policy_json(&plan->policy),
			"policy_text", text, "sets", sets, "kept", kept, "removed", removed, "aborted_uploads",
			(json_int_t)plan->n_uploads_aborted);
	cli_print_json(doc);
	json_decref(doc);
}

/* Status, duration and the sets removed always; the success time and the
 * sets left by state only after a prune that finished (metrics.h). */
static void publish_metrics(const struct config *cfg, const struct prune_plan *plan, int ok, double started)
{
	json_t *samples = metrics_samples_new();
	double finished = now_seconds();
	size_t left[3] = { 0 };
	const enum backup_set_state states[] = { SET_COMPLETE, SET_INCOMPLETE, SET_INVALID };

	metrics_sample(samples, "drctl_prune_last_status", ok);
	metrics_sample(samples, "drctl_prune_duration_seconds", finished - started);
	metrics_sample(samples, "drctl_prune_removed_sets", (double)plan->n_removed);
	if (ok) {
		metrics_sample(samples, "drctl_prune_last_success_timestamp_seconds", finished);
		for (size_t i = 0; i < plan->n; i++)
			for (size_t s = 0; s < 3; s++)
				left[s] += !plan->decisions[i].remove && plan->sets[i].state == states[s];
		for (size_t s = 0; s < 3; s++)
			metrics_sample_labelled(samples, "drctl_repository_sets", "state",
						backup_set_state_name(states[s]), (double)left[s]);
	}
	metrics_publish(cfg, "prune", samples);
	json_decref(samples);
}

int cmd_prune(struct cli *cli, int argc, char **argv)
{
	struct prune_args args = { 0 };
	struct cli_command_line cl = prune_command_line;
	struct prune_plan plan = { 0 };
	struct prune_request req;
	const char *positional[1];
	size_t n_positional;
	struct config *cfg = NULL;
	double started = now_seconds();
	int rc;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	req.dry_run = args.dry_run;
	req.steal = args.steal;
	if (prune_open(&plan, cfg, &req, &cli->err) != 0 || prune_decide(&plan, &cli->err) != 0)
		goto done;
	if (!cli->g.json) {
		print_policy(&plan);
		print_held(&plan);
	}
	if (args.dry_run) {
		if (!cli->g.json)
			print_table(&plan);
	} else {
		if (prune_apply(&plan, cli->g.json ? NULL : print_removed, NULL, &cli->err) != 0)
			goto done;
		if (!cli->g.json && plan.n_uploads_aborted)
			printf("aborted %zu unfinished upload%s left by writers that died\n", plan.n_uploads_aborted,
			       plan.n_uploads_aborted == 1 ? "" : "s");
		if (!cli->g.json)
			printf("kept %zu set%s, removed %zu (`drctl prune --dry-run` says why each set is kept)\n",
			       plan.n - plan.n_removed, plan.n - plan.n_removed == 1 ? "" : "s", plan.n_removed);
	}
	if (cli->g.json)
		print_json(&plan, args.dry_run);
done:
	if (!args.dry_run)
		publish_metrics(cfg, &plan, !err_is_set(&cli->err), started);
	prune_close(&plan);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
