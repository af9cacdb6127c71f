/*
 * calendar: the days cron cannot name alone.
 *
 * The monthly routines run on a weekday of a given week: the drill on the
 * last Friday of the month, the secret rotation on the third Monday.  Cron
 * can say "every Friday" but not "the last Friday", so the schedule runs the
 * job on every such weekday and the job asks `--when last-friday`: on any
 * other day it exits 0 at once, touching nothing.
 *
 * A rule is "<ordinal>-<weekday>": ordinal first, second, third, fourth or
 * last; weekday monday ... sunday (e.g. "third-monday", "last-friday").
 * The day is taken in a time zone (an IANA name such as Europe/Paris, or
 * UTC), since "Monday" at 23:30 UTC is already Tuesday in Berlin.
 */
#ifndef DRCTL_CORE_CALENDAR_H
#define DRCTL_CORE_CALENDAR_H

#include <stddef.h>
#include <time.h>

#include "lib/core/error.h"

struct calendar_rule {
	int ordinal; /* 1..4, or -1 for "last" */
	int weekday; /* 0 = Sunday ... 6 = Saturday (struct tm's tm_wday) */
};

/* Parse "third-monday"; EXIT_USAGE naming `what` (the option) otherwise. */
int calendar_rule_parse(const char *text, const char *what, struct calendar_rule *rule, struct drctl_error *err);
/* Is the day of `t` in time zone `tz` (NULL or "": the process's own, TZ or
 * /etc/localtime) a day of the rule?  1 yes, 0 no, -1 with EXIT_USAGE when
 * the time zone is not one this machine knows.  `day` (may be NULL) gets
 * that day as "2026-11-16 (Monday)". */
int calendar_rule_matches(const struct calendar_rule *rule, time_t t, const char *tz, char *day, size_t day_cap,
			  struct drctl_error *err);
/* The rule as text ("third-monday"), for messages. */
void calendar_rule_format(const struct calendar_rule *rule, char *out, size_t cap);

#endif
