/*
 * log: text or JSON lines on stderr, one level filter, and the progress line.
 */
#include "lib/core/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_TEXT;
/* The component this thread works for (log_set_component), so lines of
 * components backed up side by side say whose they are. */
static __thread const char *log_component;
/* One line at a time on stderr: the progress stack and what is drawn. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void log_setup(enum log_level min, enum log_format fmt)
{
	min_level = min;
	format = fmt;
}

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void format_utc(double t, char out[32])
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warning";
	case LOG_ERROR: return "error";
	}
	return "?";
}

void log_set_component(const char *name)
{
	log_component = name;
}

const char *log_get_component(void)
{
	return log_component;
}

static void emit(enum log_level level, const char *msg, const struct drctl_error *e)
{
	char prefix[80] = "";

	if (log_component)
		snprintf(prefix, sizeof(prefix), "%s: ", log_component);
	if (format == LOG_JSON) {
		char ts[32];
		json_t *o;
		char *line;
		format_utc(now_seconds(), ts);
		o = json_pack("{s:s, s:s, s:s}", "time", ts, "level", level_name(level), "message", msg);
		if (log_component)
			json_object_set_new(o, "component", json_string(log_component));
		if (e) {
			if (e->subject[0])
				json_object_set_new(o, "subject", json_string(e->subject));
			if (e->hint[0])
				json_object_set_new(o, "hint", json_string(e->hint));
			json_object_set_new(o, "exit_code", json_integer(e->code));
		}
		line = json_dumps(o, JSON_COMPACT);
		fprintf(stderr, "%s\n", line ? line : msg);
		free(line);
		json_decref(o);
		return;
	}
	/* One write per line with its hint, so threads do not interleave. */
	flockfile(stderr);
	if (level >= LOG_WARN)
		fprintf(stderr, "drctl: %s%s: %s\n", prefix, level_name(level), msg);
	else
		fprintf(stderr, "drctl: %s%s\n", prefix, msg);
	if (e && e->hint[0])
		fprintf(stderr, "  hint: %s\n", e->hint);
	funlockfile(stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (level < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(level, buf, NULL);
}

void log_error_report(const struct drctl_error *err)
{
	emit(LOG_ERROR, err->message[0] ? err->message : "failed", err);
}

/* --- progress ------------------------------------------------------------- */

/* One line on the terminal: when stages nest (the archive's byte count, and
 * inside it a component's own line with its total and ETA), or components
 * run side by side, the most recently started one draws, and the one started
 * before it takes over again when it ends (in whatever order lines end).
 * The stack is shared by every thread, under log_mu. */
static struct progress *progress_current;

static void human_bytes(double b, char *out, size_t cap)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(out, cap, "%.1f %s", b, unit[u]);
}

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->label = label;
	p->total = total;
	p->started = now_seconds();
	p->component = log_component;
	p->active = isatty(STDERR_FILENO) && format == LOG_TEXT && min_level <= LOG_INFO;
	if (!p->active)
		return;
	pthread_mutex_lock(&log_mu);
	p->outer = progress_current;
	progress_current = p;
	pthread_mutex_unlock(&log_mu);
}

void progress_update(struct progress *p, uint64_t done)
{
	double now, rate;
	char a[32], r[32], eta[32] = "";

	p->done = done;
	if (!p->active)
		return;
	now = now_seconds();
	if (now - p->last_drawn < 0.5)
		return;
	pthread_mutex_lock(&log_mu);
	if (p != progress_current) {
		pthread_mutex_unlock(&log_mu);
		return;
	}
	p->last_drawn = now;
	rate = done / (now - p->started > 0.001 ? now - p->started : 0.001);
	human_bytes((double)done, a, sizeof(a));
	human_bytes(rate, r, sizeof(r));
	if (p->total && rate > 0 && done <= p->total)
		snprintf(eta, sizeof(eta), ", ETA %.0fs", (double)(p->total - done) / rate);
	fprintf(stderr, "\r\033[K%s%s%s: %s at %s/s%s", p->component ? p->component : "", p->component ? ": " : "",
		p->label, a, r, eta);
	pthread_mutex_unlock(&log_mu);
}

void progress_end(struct progress *p)
{
	struct progress **at;

	if (!p->active)
		return;
	pthread_mutex_lock(&log_mu);
	if (p->last_drawn > 0)
		fprintf(stderr, "\r\033[K");
	for (at = &progress_current; *at && *at != p; at = &(*at)->outer)
		;
	if (*at)
		*at = p->outer;
	p->active = 0;
	pthread_mutex_unlock(&log_mu);
}
