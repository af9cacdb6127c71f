#include "drctl/engine/run_state.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/fsutil.h"
#include "lib/core/log.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static double num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

json_t *run_state_steps(const struct scenario *s, json_t *records)
{
	json_t *steps = json_object(), *rec;
	size_t i;

	for (size_t k = 0; k < s->n_steps; k++)
		json_object_set_new(steps, s->steps[k].name,
				    json_pack("{s:s, s:s, s:s, s:[]}", "name", s->steps[k].name, "summary",
					      s->steps[k].summary, "state", "pending", "attempts"));
	json_array_foreach(records, i, rec) {
		json_t *st;
		const char *event = str(rec, "event");
		double t = num(rec, "t");

		if (strcmp(str(rec, "type") ?: "", "step") != 0 || !(st = json_object_get(steps, str(rec, "step") ?: "")))
			continue;
		if (!strcmp(event, "start")) {
			json_array_append_new(json_object_get(st, "attempts"), json_pack("{s:f, s:s}", "t", t, "at", str(rec, "at")));
			if (!json_object_get(st, "first_t"))
				json_object_set_new(st, "first_t", json_real(t));
			json_object_set_new(st, "state", json_string("running"));
		} else if (!strcmp(event, "present")) {
			json_object_set_new(st, "effect_was_present", json_true());
		} else if (!strcmp(event, "done")) {
			json_object_set_new(st, "state", json_string("done"));
			json_object_set_new(st, "end_t", json_real(t));
			json_object_del(st, "error");
		} else if (!strcmp(event, "failed") || !strcmp(event, "stopped")) {
			json_object_set_new(st, "state", json_string(event));
			json_object_set_new(st, "end_t", json_real(t));
			if (json_object_get(rec, "error"))
				json_object_set(st, "error", json_object_get(rec, "error"));
			if (json_object_get(rec, "platform"))
				json_object_set(st, "platform", json_object_get(rec, "platform"));
		} else if (!strcmp(event, "waiting")) {
			json_object_set_new(st, "state", json_string("waiting"));
			json_object_set(st, "do", json_object_get(rec, "do"));
			if (!json_object_get(st, "first_t"))
				json_object_set_new(st, "first_t", json_real(t));
		} else if (!strcmp(event, "confirmed")) {
			json_object_set_new(st, "confirmed_at", json_string(str(rec, "at")));
		}
		/* the outcome of the attempt that was going on */
		if (strcmp(event, "start") != 0 && strcmp(event, "present") != 0 && strcmp(event, "waiting") != 0) {
			json_t *attempts = json_object_get(st, "attempts");
			json_t *last = json_array_get(attempts, json_array_size(attempts) - 1);
			if (last && !json_object_get(last, "outcome")) {
				json_object_set_new(last, "outcome", json_string(event));
				json_object_set_new(last, "seconds", json_real(t - num(last, "t")));
			}
		}
	}
	return steps;
}

const char *run_state_waiting_step(json_t *states)
{
	const char *name;
	json_t *st;
	json_object_foreach(states, name, st)
		if (!strcmp(str(st, "state"), "waiting"))
			return name;
	return NULL;
}

/* The run's state from its steps and its end record. */
static const char *overall_state(json_t *steps, const char *end, const char **at)
{
	const char *name, *state = "pending";
	json_t *st;

	*at = NULL;
	if (end)
		return !strcmp(end, "done") ? "done" : "aborted";
	json_object_foreach(steps, name, st) {
		const char *s = str(st, "state");
		if (!strcmp(s, "done"))
			continue;
		if (!strcmp(s, "pending"))
			break;
		*at = name;
		state = s; /* running, waiting, failed, stopped */
		break;
	}
	return state;
}

json_t *run_state_summary(const struct scenario *s, const char *run, json_t *records)
{
	json_t *steps = run_state_steps(s, records), *first = json_array_get(records, 0), *rec, *list = json_array();
	json_t *notes = json_array(), *out, *st, *rpo = NULL;
	double t0 = num(first, "t"), t_last = t0;
	const char *end = NULL, *at, *state, *name;
	char next[512] = "", at_step[128];
	size_t i;

	json_array_foreach(records, i, rec) {
		if (num(rec, "t") > t_last)
			t_last = num(rec, "t");
		if (!strcmp(str(rec, "type") ?: "", "end"))
			end = str(rec, "outcome");
		if (!strcmp(str(rec, "type") ?: "", "note"))
			json_array_append_new(notes, json_pack("{s:s?, s:s, s:s}", "step", str(rec, "step"), "text",
							       str(rec, "text"), "at", str(rec, "at")));
		/* A scenario that restores from a set records how much it lost. */
		if (!strcmp(str(rec, "type") ?: "", "fact") && !strcmp(str(rec, "key") ?: "", "rpo"))
			rpo = json_object_get(rec, "value");
	}
	state = overall_state(steps, end, &at);
	if (at) { /* a key of steps, which is freed below */
		snprintf(at_step, sizeof(at_step), "%s", at);
		at = at_step;
	}
	json_object_foreach(steps, name, st) {
		if (json_object_get(st, "first_t")) {
			double endt = json_object_get(st, "end_t") ? num(st, "end_t") : t_last;
			json_object_set_new(st, "start_offset", json_real(num(st, "first_t") - t0));
			json_object_set_new(st, "seconds", json_real(endt - num(st, "first_t")));
		}
		json_object_del(st, "first_t");
		json_object_del(st, "end_t");
		json_array_append(list, st);
	}
	json_decref(steps);
	if (!strcmp(state, "waiting"))
		snprintf(next, sizeof(next), "drctl scenario resume %s --confirm %s", run, at);
	else if (!strcmp(state, "failed") || !strcmp(state, "stopped") || !strcmp(state, "running") ||
		 !strcmp(state, "pending"))
		snprintf(next, sizeof(next), "drctl scenario resume %s", run);
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:o}", "run", run, "scenario", s->name, "summary", s->summary,
			"state", state, "started", str(first, "at") ?: "", "seconds", t_last - t0, "steps", list, "notes",
			notes);
	if (at)
		json_object_set_new(out, "at_step", json_string(at));
	if (end) {
		json_t *last = json_array_get(records, json_array_size(records) - 1);
		json_object_set_new(out, "ended", json_string(str(last, "at")));
	}
	if (next[0])
		json_object_set_new(out, "next", json_string(next));
	if (json_is_object(rpo))
		json_object_set(out, "rpo", rpo);
	json_object_set(out, "options", json_object_get(first, "options"));
	return out;
}

/* --- reports ---------------------------------------------------------------- */

void report_put(struct report_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			return;
	}
}

/* Text for HTML and SVG: & < > " escaped. */
void report_put_escaped(struct report_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': report_put(b, "&amp;"); break;
		case '<': report_put(b, "&lt;"); break;
		case '>': report_put(b, "&gt;"); break;
		case '"': report_put(b, "&quot;"); break;
		default: report_put(b, "%c", *s);
		}
	}
}

static const char *state_colour(const char *state)
{
	if (!strcmp(state, "done"))
		return "#2e7d32";
	if (!strcmp(state, "waiting"))
		return "#f9a825";
	if (!strcmp(state, "failed") || !strcmp(state, "stopped"))
		return "#c62828";
	if (!strcmp(state, "running"))
		return "#1565c0";
	return "#9e9e9e";
}

void report_format_seconds(double s, char *out, size_t cap)
{
	if (s < 60)
		snprintf(out, cap, "%.1f s", s);
	else if (s < 3600)
		snprintf(out, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(out, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

char *run_report_svg_timeline(json_t *bars, double total)
{
	struct report_buf b = { 0 };
	const double width = 760, label = 200, row = 26;
	size_t i, n = json_array_size(bars);
	double scale = total > 0 ? (width - label - 70) / total : 0;
	json_t *bar;

	report_put(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"timeline of the steps\">\n",
	    width, row * (double)n + 30, width, row * (double)n + 30);
	json_array_foreach(bars, i, bar) {
		double y = (double)i * row + 4, x = label + num(bar, "start") * scale;
		double w = num(bar, "seconds") * scale;
		char dur[32];
		const char *state = str(bar, "state") ?: "pending";
		report_format_seconds(num(bar, "seconds"), dur, sizeof(dur));
		if (w < 2)
			w = 2;
		report_put(&b, "<g class=\"step\" data-step=\"");
		report_put_escaped(&b, str(bar, "name"));
		report_put(&b, "\" data-state=\"%s\">", state);
		report_put(&b, "<text x=\"0\" y=\"%.0f\" font-size=\"12\" font-family=\"sans-serif\">", y + 14);
		report_put_escaped(&b, str(bar, "name"));
		report_put(&b, "</text><rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" rx=\"3\" fill=\"%s\"><title>", x, y, w,
		    state_colour(state));
		report_put_escaped(&b, str(bar, "name"));
		report_put(&b, ": %s, %s</title></rect>", state, dur);
		report_put(&b, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#333\">%s</text></g>\n",
		    x + w + 4, y + 14, json_object_get(bar, "seconds") ? dur : "");
	}
	report_put(&b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>\n", label, row * (double)n + 8,
	    width - 70, row * (double)n + 8);
	{
		char tot[32];
		report_format_seconds(total, tot, sizeof(tot));
		report_put(&b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" font-family=\"sans-serif\">0</text>", label,
		    row * (double)n + 24);
		report_put(&b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" font-family=\"sans-serif\" text-anchor=\"end\">%s</text>\n",
		    width - 70, row * (double)n + 24, tot);
	}
	report_put(&b, "</svg>\n");
	return b.p;
}

/* One panel of the series chart: the valid points' values on a line, the
 * others as crosses on the axis. */
struct series_panel {
	double top, height, left, width, max;
	size_t n;
};

static double panel_x(const struct series_panel *p, size_t i)
{
	const double inset = 24; /* keeps the first and last points off the axes */
	return p->n > 1 ? p->left + inset + (p->width - 2 * inset) * (double)i / (double)(p->n - 1) : p->left + p->width / 2;
}

static double panel_y(const struct series_panel *p, double v)
{
	return p->top + p->height - (p->max > 0 ? v / p->max * p->height : 0);
}

static void series_axes(struct report_buf *b, const struct series_panel *p, const char *title)
{
	char top[32];
	report_format_seconds(p->max, top, sizeof(top));
	report_put(b, "<text x=\"0\" y=\"%.0f\" font-size=\"12\" font-family=\"sans-serif\" font-weight=\"bold\">", p->top - 8);
	report_put_escaped(b, title);
	report_put(b, "</text>\n<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>"
		      "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>\n",
		   p->left, p->top, p->left, p->top + p->height, p->left, p->top + p->height, p->left + p->width,
		   p->top + p->height);
	report_put(b, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" font-family=\"sans-serif\" text-anchor=\"end\">%s</text>"
		      "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" font-family=\"sans-serif\" text-anchor=\"end\">0</text>\n",
		   p->left - 6, p->top + 4, top, p->left - 6, p->top + p->height);
}

char *run_report_svg_series(json_t *points, json_t *series, const char *label)
{
	struct report_buf b = { 0 };
	const double width = 760, panel_h = 130, gap = 60;
	size_t i, k, n = json_array_size(points), ns = json_array_size(series);
	struct series_panel *panels = calloc(ns ? ns : 1, sizeof(*panels));
	json_t *pt, *se;
	double height = (double)ns * (panel_h + gap) + 40;

	if (!panels)
		return NULL;
	report_put(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"series\" width=\"%.0f\" height=\"%.0f\" "
		       "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
		   width, height, width, height);
	report_put_escaped(&b, label);
	report_put(&b, "\">\n");
	json_array_foreach(series, k, se) {
		struct series_panel *p = &panels[k];
		*p = (struct series_panel){ .top = 30 + (double)k * (panel_h + gap), .height = panel_h, .left = 90,
					    .width = width - 130, .n = n };
		json_array_foreach(points, i, pt) {
			double v = json_number_value(json_object_get(json_object_get(pt, "values"), str(se, "key")));
			if (json_is_true(json_object_get(pt, "valid")) && v > p->max)
				p->max = v;
		}
		p->max = p->max > 0 ? p->max * 1.1 : 1;
		series_axes(&b, p, str(se, "title"));
		/* the line through the valid points, in time order */
		report_put(&b, "<polyline class=\"line\" data-series=\"%s\" fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"",
			   str(se, "key"));
		json_array_foreach(points, i, pt)
			if (json_is_true(json_object_get(pt, "valid")))
				report_put(&b, "%.1f,%.1f ", panel_x(p, i),
					   panel_y(p, json_number_value(json_object_get(json_object_get(pt, "values"), str(se, "key")))));
		report_put(&b, "\"/>\n");
	}
	json_array_foreach(points, i, pt) {
		int valid = json_is_true(json_object_get(pt, "valid"));
		report_put(&b, "<g class=\"point%s\" data-run=\"", valid ? "" : " invalid");
		report_put_escaped(&b, str(pt, "run"));
		report_put(&b, "\" data-valid=\"%s\">", valid ? "true" : "false");
		json_array_foreach(series, k, se) {
			const struct series_panel *p = &panels[k];
			double x = panel_x(p, i), v = json_number_value(json_object_get(json_object_get(pt, "values"), str(se, "key")));
			char txt[32];
			if (valid) {
				report_format_seconds(v, txt, sizeof(txt));
				report_put(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#1565c0\" data-series=\"%s\" data-seconds=\"%.1f\"><title>",
					   x, panel_y(p, v), str(se, "key"), v);
				report_put_escaped(&b, str(pt, "label"));
				report_put(&b, ": %s %s</title></circle>", str(se, "key"), txt);
			} else {
				report_put(&b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"16\" fill=\"#c62828\" text-anchor=\"middle\" data-series=\"%s\">&#x2717;<title>",
					   x, p->top + p->height - 4, str(se, "key"));
				report_put_escaped(&b, str(pt, "label"));
				report_put(&b, ": not trusted: ");
				report_put_escaped(&b, str(pt, "reason"));
				report_put(&b, "</title></text>");
			}
			if (k + 1 == ns) {
				report_put(&b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" font-family=\"sans-serif\" text-anchor=\"middle\"%s>",
					   x, p->top + p->height + 16, valid ? "" : " fill=\"#c62828\"");
				report_put_escaped(&b, str(pt, "label"));
				report_put(&b, "</text>");
			}
		}
		report_put(&b, "</g>\n");
	}
	report_put(&b, "</svg>\n");
	free(panels);
	return b.p;
}

static json_t *timeline_bars(json_t *status)
{
	json_t *bars = json_array(), *st;
	size_t i;
	json_array_foreach(json_object_get(status, "steps"), i, st) {
		json_t *bar = json_pack("{s:s, s:s}", "name", str(st, "name"), "state", str(st, "state"));
		if (json_object_get(st, "start_offset")) {
			json_object_set(bar, "start", json_object_get(st, "start_offset"));
			json_object_set(bar, "seconds", json_object_get(st, "seconds"));
		}
		json_array_append_new(bars, bar);
	}
	return bars;
}

char *run_report_markdown(json_t *status)
{
	struct report_buf b = { 0 };
	json_t *st, *line, *note;
	size_t i, j;
	char total[32];

	report_format_seconds(num(status, "seconds"), total, sizeof(total));
	report_put(&b, "# Scenario run %s\n\n", str(status, "run"));
	report_put(&b, "- scenario: `%s` (%s)\n", str(status, "scenario"), str(status, "summary"));
	report_put(&b, "- state: **%s**%s%s\n", str(status, "state"), str(status, "at_step") ? " at step " : "",
	    str(status, "at_step") ?: "");
	report_put(&b, "- started: %s%s%s\n", str(status, "started"), str(status, "ended") ? ", ended: " : "",
	    str(status, "ended") ?: "");
	report_put(&b, "- total: %s (%.1f s)%s\n", total, num(status, "seconds"),
	    !strcmp(str(status, "state"), "done") ? ": the measured RTO" : "");
	if (str(json_object_get(status, "options"), "backup"))
		report_put(&b, "- backup set asked for: %s\n", str(json_object_get(status, "options"), "backup"));
	if (json_object_get(status, "rpo")) {
		json_t *rpo = json_object_get(status, "rpo");
		char lost[32];
		report_format_seconds(num(rpo, "seconds"), lost, sizeof(lost));
		report_put(&b, "- RPO: %s (%.0f s): backup set %s finished at %s; the disaster is taken as the run's start, %s\n", lost,
		    num(rpo, "seconds"), str(rpo, "backup"), str(rpo, "backup_finished"), str(rpo, "disaster"));
	}
	if (str(status, "next"))
		report_put(&b, "- next: `%s`\n", str(status, "next"));
	report_put(&b, "\n| step | state | started | duration | attempts |\n| --- | --- | --- | --- | --- |\n");
	json_array_foreach(json_object_get(status, "steps"), i, st) {
		char dur[32] = "";
		json_t *a0 = json_array_get(json_object_get(st, "attempts"), 0);
		if (json_object_get(st, "seconds"))
			report_format_seconds(num(st, "seconds"), dur, sizeof(dur));
		report_put(&b, "| %s | %s%s | %s | %s | %zu |\n", str(st, "name"), str(st, "state"),
		    json_is_true(json_object_get(st, "effect_was_present")) ? " (effect already there)" : "",
		    a0 ? str(a0, "at") : "", dur, json_array_size(json_object_get(st, "attempts")));
	}
	json_array_foreach(json_object_get(status, "steps"), i, st) {
		json_t *e = json_object_get(st, "error");
		if (str(st, "do") && !strcmp(str(st, "state"), "waiting"))
			report_put(&b, "\n## Waiting at %s\n\n%s\n", str(st, "name"), str(st, "do"));
		if (!e)
			continue;
		report_put(&b, "\n## %s: %s\n\n%s\n", str(st, "name"), str(st, "state"), str(e, "message"));
		if (str(e, "hint") && *str(e, "hint"))
			report_put(&b, "\nhint: %s\n", str(e, "hint"));
		if (json_array_size(json_object_get(st, "platform"))) {
			report_put(&b, "\nWhere the platform stands:\n\n");
			json_array_foreach(json_object_get(st, "platform"), j, line)
				report_put(&b, "- %s\n", json_string_value(line));
		}
	}
	if (json_array_size(json_object_get(status, "notes"))) {
		report_put(&b, "\n## Notes\n\n");
		json_array_foreach(json_object_get(status, "notes"), i, note)
			report_put(&b, "- %s %s: %s\n", str(note, "at"), str(note, "step") ?: "", str(note, "text"));
	}
	return b.p;
}

char *run_report_html(json_t *status, const char *extra_html)
{
	struct report_buf b = { 0 };
	json_t *bars = timeline_bars(status), *st;
	char *svg = run_report_svg_timeline(bars, num(status, "seconds")), total[32];
	size_t i;

	report_format_seconds(num(status, "seconds"), total, sizeof(total));
	report_put(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>drctl run ");
	report_put_escaped(&b, str(status, "run"));
	report_put(&b, "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
		"td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.state-done{color:#2e7d32}"
		".state-failed,.state-stopped{color:#c62828}.state-waiting{color:#f9a825}</style></head><body>\n");
	report_put(&b, "<h1>Scenario run ");
	report_put_escaped(&b, str(status, "run"));
	report_put(&b, "</h1>\n<p>scenario <code>");
	report_put_escaped(&b, str(status, "scenario"));
	report_put(&b, "</code>: state <strong class=\"state-%s\" id=\"run-state\">%s</strong>, total <span id=\"total\">%s</span>%s</p>\n",
	    str(status, "state"), str(status, "state"), total,
	    !strcmp(str(status, "state"), "done") ? " (the measured RTO)" : "");
	if (json_object_get(status, "rpo")) {
		json_t *rpo = json_object_get(status, "rpo");
		char lost[32];
		report_format_seconds(num(rpo, "seconds"), lost, sizeof(lost));
		report_put(&b, "<p>RPO <span id=\"rpo\">%s</span>: backup set ", lost);
		report_put_escaped(&b, str(rpo, "backup"));
		report_put(&b, " finished at ");
		report_put_escaped(&b, str(rpo, "backup_finished"));
		report_put(&b, ", the run started at ");
		report_put_escaped(&b, str(rpo, "disaster"));
		report_put(&b, "</p>\n");
	}
	if (str(status, "next")) {
		report_put(&b, "<p>next: <code>");
		report_put_escaped(&b, str(status, "next"));
		report_put(&b, "</code></p>\n");
	}
	report_put(&b, "<h2>Timeline</h2>\n%s", svg ? svg : "");
	report_put(&b, "<h2>Steps</h2>\n<table><tr><th>step</th><th>state</th><th>duration</th><th>what happened</th></tr>\n");
	json_array_foreach(json_object_get(status, "steps"), i, st) {
		char dur[32] = "";
		json_t *e = json_object_get(st, "error");
		if (json_object_get(st, "seconds"))
			report_format_seconds(num(st, "seconds"), dur, sizeof(dur));
		report_put(&b, "<tr><td>");
		report_put_escaped(&b, str(st, "name"));
		report_put(&b, "</td><td class=\"state-%s\">%s</td><td>%s</td><td>", str(st, "state"), str(st, "state"), dur);
		report_put_escaped(&b, e ? str(e, "message") : str(st, "summary"));
		if (e && str(e, "hint") && *str(e, "hint")) {
			report_put(&b, "<br>hint: ");
			report_put_escaped(&b, str(e, "hint"));
		}
		report_put(&b, "</td></tr>\n");
	}
	report_put(&b, "</table>\n%s</body></html>\n", extra_html ? extra_html : "");
	free(svg);
	json_decref(bars);
	return b.p;
}

int run_report_write(json_t *status, const char *dir, struct drctl_error *err)
{
	return run_report_write_with(status, dir, NULL, NULL, err);
}

int run_report_write_with(json_t *status, const char *dir, const char *extra_md, const char *extra_html,
			  struct drctl_error *err)
{
	char path[PATH_MAX];
	char *md = run_report_markdown(status), *html = run_report_html(status, extra_html), *js;
	int rc = 0;

	if (md && extra_md) {
		struct report_buf b = { 0 };
		report_put(&b, "%s\n%s", md, extra_md);
		free(md);
		md = b.p;
	}

	json_object_set_new(status, "report", json_object());
	snprintf(path, sizeof(path), "%s/report.md", dir);
	json_object_set_new(json_object_get(status, "report"), "markdown", json_string(path));
	if (!md || fs_write_atomic(path, md, strlen(md), 0640, err) != 0)
		rc = -1;
	snprintf(path, sizeof(path), "%s/report.html", dir);
	json_object_set_new(json_object_get(status, "report"), "html", json_string(path));
	if (rc == 0 && (!html || fs_write_atomic(path, html, strlen(html), 0640, err) != 0))
		rc = -1;
	snprintf(path, sizeof(path), "%s/report.json", dir);
	json_object_set_new(json_object_get(status, "report"), "json", json_string(path));
	js = json_dumps(status, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (rc == 0 && (!js || fs_write_atomic(path, js, strlen(js), 0640, err) != 0))
		rc = -1;
	free(md);
	free(html);
	free(js);
	return rc;
}
