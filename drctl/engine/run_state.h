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
/* The pieces, for the drill's report too. */
char *run_report_markdown(json_t *status);
char *run_report_html(json_t *status, const char *extra_html);
/* An SVG timeline of [{"name","start","seconds","state"}] bars, total seconds wide. */
char *run_report_svg_timeline(json_t *bars, double total);

#endif
