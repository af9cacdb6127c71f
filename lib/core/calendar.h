/*
 * calendar: the days cron cannot name alone.
 *
 * The monthly routines run on a weekday of a given week: the drill on the
 * last Friday of the month, the secret rotation on the third Monday.  Cron
 * can say "every Friday" but not "the last Friday", so the schedule runs the
 * job on every such weekday and the job asks `--when last-friday`: on any
 * other day it exits 0 at once, touching nothing.
 *
 * Dates are proleptic Gregorian; weekdays count from Sunday (0) to Saturday
 * (6), as struct tm's tm_wday.  Which day it is depends on the time zone
 * (an IANA name such as Europe/Paris, or UTC), since "Monday" at 23:30 UTC
 * is already Tuesday in Berlin; names that are not zones of the system's
 * database are refused (glibc would take them for UTC without a word).
 *
 * A rule is "<ordinal>-<weekday>": ordinal first, second, third, fourth or
 * last; weekday monday ... sunday (e.g. "third-monday", "last-friday").
 */
#ifndef DRCTL_CORE_CALENDAR_H
#define DRCTL_CORE_CALENDAR_H

#include <stddef.h>
#include <time.h>

#include "lib/core/error.h"

/* --- dates ----------------------------------------------------------------- */
struct calendar_date {
	int year, month, day; /* 2026, 1..12, 1..31 */
	int weekday;          /* 0 Sunday .. 6 Saturday */
	char zone[16];        /* the zone's abbreviation then ("CET", "UTC") */
};

int calendar_is_leap_year(int year);
int calendar_days_in_month(int year, int month);
int calendar_weekday(int year, int month, int day);

/* The local date of instant t in zone tz (an IANA name such as
 * "America/New_York"; NULL or "" is UTC).  A name that is not a zone of
 * the system's time zone database is EXIT_USAGE: tzset alone would take
 * it as UTC without a word. */
int calendar_local_date(time_t t, const char *tz, struct calendar_date *out, struct drctl_error *err);

/* --- rules ---------------------------------------------------------------- */

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
/* The day of the month that is the rule's day in year-month ("last-friday"
 * of 2026-11: 27). */
int calendar_rule_day(const struct calendar_rule *rule, int year, int month);
/* Is year-month-day the rule's day of its month? */
int calendar_rule_is_day(const struct calendar_rule *rule, int year, int month, int day);
/* The first day of the rule on or after year-month-day (that day itself
 * when it is one). */
void calendar_rule_next(const struct calendar_rule *rule, int year, int month, int day, int *out_year,
			int *out_month, int *out_day);
/* The rule as text ("third-monday"), for messages. */
void calendar_rule_format(const struct calendar_rule *rule, char *out, size_t cap);

#endif
