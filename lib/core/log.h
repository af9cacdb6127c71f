/*
 * log: messages for the operator, on stderr, as text or JSON lines.
 *
 * stdout is kept for the command's result (ids, tables, --json documents), so
 * scripts can parse it while people read stderr.  Never pass a secret here.
 */
#ifndef DRCTL_LOG_H
#define DRCTL_LOG_H

#include <stdint.h>

#include "lib/core/error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

void log_setup(enum log_level min, enum log_format fmt);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)

/* The component the calling thread works for ("postgres"), or NULL: its
 * log lines and progress lines start with the name (JSON: "component"), so
 * components backed up side by side can be told apart.  Per thread. */
void log_set_component(const char *name);
const char *log_get_component(void);

/* Print an error once, the way the operator should see it. */
void log_error_report(const struct drctl_error *err);

/* A progress line (bytes, rate, ETA) redrawn on stderr when it is a terminal;
 * silent otherwise.  total 0 = unknown.  Any thread may start and end lines. */
struct progress {
	const char *label;
	const char *component; /* log_get_component() when it started */
	uint64_t total, done;
	double started, last_drawn;
	int active;
	struct progress *outer; /* the line that was drawing before this one */
};
void progress_start(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);

double now_seconds(void);
/* "2026-11-29T02:00:00Z" */
void format_utc(double t, char out[32]);

#endif
