/*
 * run_state: what a run's journal says, as the documents people read.
 *
 * run_state_summary replays the records into the run's status: its state
 * (done, waiting at a gate, failed, stopped by a signal, aborted, running,
 * or died: a step started and the process is gone), each step's state,
 * attempts, start, duration, last error with its hint and what the platform
 * looked like then, the notes, and the next command.  The total from the
 * run's start to its end is the measured RTO; a fact "rpo" ({"seconds",
 * "backup", "backup_finished", "disaster"}) that a scenario records is the
 * RPO, shown with it.  run_report_write renders the
 * same document as report.md, report.json and report.html (a self-contained
 * page with an inline SVG timeline of the steps) in the run's folder.
 */
#ifndef DRCTL_ENGINE_RUN_STATE_H
#define DRCTL_ENGINE_RUN_STATE_H

#include <jansson.h>

#include "drctl/engine/engine.h"
#include "lib/core/error.h"

/* {step name: {"state", "started", "seconds", ...}} in step order. */
json_t *run_state_steps(const struct scenario *s, json_t *records);
/* The gate the run waits at, or NULL (borrowed from states). */
const char *run_state_waiting_step(json_t *states);
json_t *run_state_summary(const struct scenario *s, const char *run, json_t *records);

/* Writes <dir>/report.{md,json,html}; adds "report" paths to status. */
int run_report_write(json_t *status, const char *dir, struct drctl_error *err);
/* The same with a scenario's own sections after the common ones (the
 * drill's RTO, RPO and history): Markdown and HTML, either may be NULL. */
int run_report_write_with(json_t *status, const char *dir, const char *extra_md, const char *extra_html,
			  struct drctl_error *err);
/* The pieces, for the drill's report too. */
char *run_report_markdown(json_t *status);
char *run_report_html(json_t *status, const char *extra_html);
/* An SVG timeline of [{"name","start","seconds","state"}] bars, total seconds wide:
 * one <g class="step" data-step="NAME" data-state="STATE"> per bar. */
char *run_report_svg_timeline(json_t *bars, double total);
/* An SVG chart of values over runs, one panel per series:
 * points [{"run", "label", "valid", "values": {series: seconds}, "reason"}]
 * in time order, series [{"key", "title"}].  One <g class="point"
 * data-run="RUN" data-valid="true|false"> per point; a point that is not
 * valid is drawn as such (a cross, its reason as its title), with no value. */
char *run_report_svg_series(json_t *points, json_t *series, const char *label);

/* Text building for the reports and the scenarios' own sections. */
struct report_buf {
	char *p;
	size_t len, cap;
};
void report_put(struct report_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* & < > " escaped, for HTML and SVG. */
void report_put_escaped(struct report_buf *b, const char *s);
/* "12.3 s", "4m05s", "2h10m" */
void report_format_seconds(double s, char *out, size_t cap);

#endif
