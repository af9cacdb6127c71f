/*
 * drill_report: what a drill measured, as its signed record (published by
 * the last step) and as the run's report: the common report of every run
 * (steps, timeline) followed by the drill's own section (RPO, RTO of each
 * component and in total, the scratch copies, the record) and the history
 * of every drill whose record is in the repository, as a table and a chart.
 *
 * RTO: the restore steps' durations (restore-postgres, -redis, -vault, as
 * the journal times them, a resumed step from its first start) and the
 * run's total.  RPO: the set's age when the drill started (the run's start
 * minus the manifest's "finished").  The history is read back from the
 * repository, each record's signature checked; a record that does not
 * verify is shown as not trusted, with no value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drctl/engine/run_state.h"
#include "drctl/scenarios/drill_private.h"
#include "lib/core/log.h"
#include "lib/set/drill_record.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"

double drill_parse_utc(const char *text)
{
	struct tm tm;
	const char *end;

	if (!text)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	return (double)timegm(&tm);
}

static json_t *step_seconds(json_t *status, const char *name)
{
	size_t i;
	json_t *st;
	json_array_foreach(json_object_get(status, "steps"), i, st)
		if (!strcmp(json_string_value(json_object_get(st, "name")) ?: "", name))
			return json_object_get(st, "seconds") ? json_real(json_number_value(json_object_get(st, "seconds")))
							      : json_null();
	return json_null();
}

/* A component's restore time, or null when it was not restored. */
static json_t *component_rto(struct run *r, json_t *status, const char *component, const char *fact)
{
	char step[64];
	json_t *f = run_fact(r, fact);

	if (!f || (json_is_object(f) && json_is_false(json_object_get(f, "restored"))) || json_is_false(f))
		return json_null();
	snprintf(step, sizeof(step), "restore-%s", component);
	return step_seconds(status, step);
}

static json_t *rto_of(struct run *r, json_t *status)
{
	return json_pack("{s:f, s:o, s:o, s:o}", "total", json_number_value(json_object_get(status, "seconds")),
			 "postgres", component_rto(r, status, "postgres", "restored_databases"), "redis",
			 component_rto(r, status, "redis", "redis_restored"), "vault",
			 component_rto(r, status, "vault", "vault_restored"));
}

/* What a scratch target was, without its password (identities hold none). */
static json_t *scratch_of(struct run *r)
{
	return json_pack("{s:O?, s:O?, s:O?}", "postgres", run_fact(r, "scratch_postgres"), "redis",
			 run_fact(r, "scratch_redis"), "vault", run_fact(r, "scratch_vault"));
}

json_t *drill_record_build(struct run *r, json_t *status)
{
	char host[256] = "?", now[32];

	gethostname(host, sizeof(host) - 1);
	format_utc(now_seconds(), now);
	return json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:O?, s:o, s:O?, s:O?, s:O?, s:O?, s:o, s:b, s:s, s:s}", "status",
			 "passed", "backup", run_fact_string(r, "backup_id"), "set_finished",
			 run_fact_string(r, "set_finished"), "started", run_fact_string(r, "drill_started") ?: "", "recorded",
			 now, "rpo_seconds", run_fact(r, "rpo_seconds"), "rto_seconds", rto_of(r, status), "verified",
			 run_fact(r, "verified"), "postgres", run_fact(r, "restored_databases"), "redis",
			 run_fact(r, "redis_restored"), "vault", run_fact(r, "vault_restored"), "scratch", scratch_of(r),
			 "kept", json_is_true(run_fact(r, "kept")), "host", host, "drctl_version", DRCTL_VERSION);
}

/* --- history ------------------------------------------------------------------ */

static json_t *load_history(struct run *r, char *why, size_t cap)
{
	struct minisign_public_key pk;
	struct repo *repo = NULL;
	struct drctl_error e;
	json_t *list = NULL;

	err_clear(&e);
	if (keys_load_public(run_config(r), &pk, &e) != 0 || repo_open(&repo, run_config(r), &e) != 0 ||
	    drill_record_list(repo, &pk, &list, &e) != 0)
		snprintf(why, cap, "%s", e.message);
	repo_close(repo);
	return list;
}

/* The chart's points: each record's drill date, RTO and RPO. */
static json_t *history_points(json_t *history)
{
	json_t *points = json_array(), *h;
	size_t i;

	json_array_foreach(history, i, h) {
		json_t *rec = json_object_get(h, "record");
		const char *run = json_string_value(json_object_get(h, "run"));
		char label[32];
		/* 20261127T020000Z-drill-3f9a -> 2026-11-27 */
		snprintf(label, sizeof(label), "%.4s-%.2s-%.2s", run, strlen(run) > 4 ? run + 4 : "", strlen(run) > 6 ? run + 6 : "");
		json_array_append_new(points, json_pack("{s:s, s:s, s:O, s:{s:O?, s:O?}, s:O?}", "run", run, "label", label,
							"valid", json_object_get(h, "valid"), "values", "rto",
							json_object_get(json_object_get(rec, "rto_seconds"), "total"), "rpo",
							json_object_get(rec, "rpo_seconds"), "reason",
							json_object_get(h, "reason")));
	}
	return points;
}

static void seconds_or(struct report_buf *b, json_t *v, const char *none)
{
	char t[32];
	if (!json_is_number(v)) {
		report_put(b, "%s", none);
		return;
	}
	report_format_seconds(json_number_value(v), t, sizeof(t));
	report_put(b, "%s", t);
}

/* --- the drill's sections ---------------------------------------------------- */

static json_t *drill_section(struct run *r, json_t *status)
{
	return json_pack("{s:s?, s:s?, s:s?, s:O?, s:o, s:o, s:b, s:b, s:O?, s:O?}", "backup",
			 run_fact_string(r, "backup_id"), "set_finished", run_fact_string(r, "set_finished"), "started",
			 run_fact_string(r, "drill_started"), "rpo_seconds", run_fact(r, "rpo_seconds"), "rto_seconds",
			 rto_of(r, status), "scratch", scratch_of(r), "kept", json_is_true(run_fact(r, "kept")), "dropped",
			 json_is_true(run_fact(r, "scratch_dropped")), "databases", run_fact(r, "scratch_databases"),
			 "record", run_fact(r, "record"));
}

static char *drill_markdown(json_t *d, json_t *history, const char *why)
{
	struct report_buf b = { 0 };
	json_t *rto = json_object_get(d, "rto_seconds"), *h;
	const char *db;
	json_t *name;
	size_t i;

	report_put(&b, "## Drill\n\n- backup set: %s (finished %s)\n", json_string_value(json_object_get(d, "backup")) ?: "?",
		   json_string_value(json_object_get(d, "set_finished")) ?: "?");
	report_put(&b, "- RPO, the set's age when the drill started: ");
	seconds_or(&b, json_object_get(d, "rpo_seconds"), "not measured");
	report_put(&b, "\n- RTO: total ");
	seconds_or(&b, json_object_get(rto, "total"), "?");
	report_put(&b, " (the run's total); PostgreSQL ");
	seconds_or(&b, json_object_get(rto, "postgres"), "not restored");
	report_put(&b, "; Redis ");
	seconds_or(&b, json_object_get(rto, "redis"), "not restored");
	report_put(&b, "; Vault ");
	seconds_or(&b, json_object_get(rto, "vault"), "not restored (the snapshot's deep check is the proof)");
	report_put(&b, "\n- scratch copies: %s\n", json_is_true(json_object_get(d, "kept")) ? "kept (--keep)"
						  : json_is_true(json_object_get(d, "dropped")) ? "dropped"
												: "not dropped yet");
	json_object_foreach(json_object_get(d, "databases"), db, name)
		report_put(&b, "  - %s -> %s\n", db, json_string_value(name));
	if (json_is_string(json_object_get(d, "record")))
		report_put(&b, "- record: `%s` (signed with the backup signing key; `minisign -Vm record.json -p signing.pub`)\n",
			   json_string_value(json_object_get(d, "record")));
	report_put(&b, "\n## Drill history (the records in the repository)\n\n");
	if (!history) {
		report_put(&b, "The history could not be read: %s\n", why);
		return b.p;
	}
	report_put(&b, "| drill | backup set | RTO | RPO | record |\n| --- | --- | --- | --- | --- |\n");
	json_array_foreach(history, i, h) {
		json_t *rec = json_object_get(h, "record");
		int valid = json_is_true(json_object_get(h, "valid"));
		report_put(&b, "| %s | %s | ", json_string_value(json_object_get(h, "run")),
			   valid ? json_string_value(json_object_get(rec, "backup")) ?: "?" : "-");
		seconds_or(&b, valid ? json_object_get(json_object_get(rec, "rto_seconds"), "total") : NULL, "-");
		report_put(&b, " | ");
		seconds_or(&b, valid ? json_object_get(rec, "rpo_seconds") : NULL, "-");
		report_put(&b, " | %s%s |\n", valid ? "signed, verified" : "NOT TRUSTED: ",
			   valid ? "" : json_string_value(json_object_get(h, "reason")));
	}
	return b.p;
}

static void html_row(struct report_buf *b, const char *what, json_t *v, const char *none)
{
	report_put(b, "<tr><th>");
	report_put_escaped(b, what);
	report_put(b, "</th><td>");
	seconds_or(b, v, none);
	report_put(b, "</td></tr>\n");
}

static char *drill_html(json_t *d, json_t *history, const char *why)
{
	static const char series[] = "[{\"key\":\"rto\",\"title\":\"RTO: the drill's total\"},"
				     "{\"key\":\"rpo\",\"title\":\"RPO: the set's age when the drill started\"}]";
	struct report_buf b = { 0 };
	json_t *rto = json_object_get(d, "rto_seconds"), *h, *ser = json_loads(series, 0, NULL), *points;
	char *svg;
	size_t i;

	report_put(&b, "<h2>Drill</h2>\n<p>backup set <code>");
	report_put_escaped(&b, json_string_value(json_object_get(d, "backup")) ?: "?");
	report_put(&b, "</code>, finished ");
	report_put_escaped(&b, json_string_value(json_object_get(d, "set_finished")) ?: "?");
	report_put(&b, "</p>\n<table id=\"drill\">\n");
	html_row(&b, "RPO (the set's age when the drill started)", json_object_get(d, "rpo_seconds"), "not measured");
	html_row(&b, "RTO total (the run's total)", json_object_get(rto, "total"), "?");
	html_row(&b, "RTO PostgreSQL", json_object_get(rto, "postgres"), "not restored");
	html_row(&b, "RTO Redis", json_object_get(rto, "redis"), "not restored");
	html_row(&b, "RTO Vault", json_object_get(rto, "vault"), "not restored (the snapshot's deep check is the proof)");
	report_put(&b, "<tr><th>scratch copies</th><td>%s</td></tr>\n",
		   json_is_true(json_object_get(d, "kept")) ? "kept (--keep)"
		   : json_is_true(json_object_get(d, "dropped")) ? "dropped"
								 : "not dropped yet");
	if (json_is_string(json_object_get(d, "record"))) {
		report_put(&b, "<tr><th>record</th><td><code>");
		report_put_escaped(&b, json_string_value(json_object_get(d, "record")));
		report_put(&b, "</code> (signed)</td></tr>\n");
	}
	report_put(&b, "</table>\n<h2>Drill history</h2>\n");
	if (!history) {
		report_put(&b, "<p id=\"history-error\">The history could not be read: ");
		report_put_escaped(&b, why);
		report_put(&b, "</p>\n");
		json_decref(ser);
		return b.p;
	}
	points = history_points(history);
	svg = run_report_svg_series(points, ser, "RTO and RPO of every drill in the repository");
	report_put(&b, "%s<table id=\"history\"><tr><th>drill</th><th>backup set</th><th>RTO</th><th>RPO</th><th>record</th></tr>\n",
		   svg ? svg : "");
	json_array_foreach(history, i, h) {
		json_t *rec = json_object_get(h, "record");
		int valid = json_is_true(json_object_get(h, "valid"));
		report_put(&b, "<tr class=\"%s\"><td>", valid ? "valid" : "invalid");
		report_put_escaped(&b, json_string_value(json_object_get(h, "run")));
		report_put(&b, "</td><td>");
		report_put_escaped(&b, valid ? json_string_value(json_object_get(rec, "backup")) : "-");
		report_put(&b, "</td><td>");
		seconds_or(&b, valid ? json_object_get(json_object_get(rec, "rto_seconds"), "total") : NULL, "-");
		report_put(&b, "</td><td>");
		seconds_or(&b, valid ? json_object_get(rec, "rpo_seconds") : NULL, "-");
		report_put(&b, "</td><td>");
		if (valid)
			report_put(&b, "signed, verified");
		else {
			report_put(&b, "<strong class=\"state-failed\">not trusted</strong>: ");
			report_put_escaped(&b, json_string_value(json_object_get(h, "reason")));
		}
		report_put(&b, "</td></tr>\n");
	}
	report_put(&b, "</table>\n");
	free(svg);
	json_decref(points);
	json_decref(ser);
	return b.p;
}

int drill_report(struct run *r, json_t *status, const char *dir, struct drctl_error *err)
{
	char why[1024] = "";
	json_t *d = drill_section(r, status), *history = load_history(r, why, sizeof(why));
	char *md, *html;
	int rc;

	json_object_set(d, "history", history ? history : json_null());
	if (!history)
		json_object_set_new(d, "history_error", json_string(why));
	json_object_set_new(status, "drill", d);
	md = drill_markdown(d, history, why);
	html = drill_html(d, history, why);
	rc = run_report_write_with(status, dir, md, html, err);
	free(md);
	free(html);
	json_decref(history);
	return rc;
}
