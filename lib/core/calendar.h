/*
 * calendar: the date arithmetic of schedules that cron cannot say alone,
 * such as the runbook's monthly drill "on the last Friday of the month".
 *
 * Dates are proleptic Gregorian; weekdays count from Sunday (0) to Saturday
 * (6), as struct tm's tm_wday.  Which day it is depends on the time zone:
 * calendar_local_date gives the date of an instant in an IANA zone
 * ("Europe/Paris"), through TZ, tzset and localtime_r, so a job can ask
 * about its own office's Friday and not UTC's.
 */
#ifndef DRCTL_CORE_CALENDAR_H
#define DRCTL_CORE_CALENDAR_H

#include <time.h>

#include "lib/core/error.h"

struct calendar_date {
	int year, month, day; /* 2026, 1..12, 1..31 */
	int weekday;          /* 0 Sunday .. 6 Saturday */
	char zone[16];        /* the zone's abbreviation then ("CET", "UTC") */
};

int calendar_is_leap_year(int year);
int calendar_days_in_month(int year, int month);
int calendar_weekday(int year, int month, int day);
/* The day of the month of that month's last Friday (25 to 31). */
int calendar_last_friday(int year, int month);
int calendar_is_last_friday(int year, int month, int day);
/* The first last Friday of a month on or after year-month-day. */
void calendar_next_last_friday(int year, int month, int day, int *out_year, int *out_month, int *out_day);

/* The local date of instant t in zone tz (an IANA name such as
 * "America/New_York"; NULL or "" is UTC).  A name that is not a zone of
 * the system's time zone database is EXIT_USAGE: tzset alone would take
 * it as UTC without a word. */
int calendar_local_date(time_t t, const char *tz, struct calendar_date *out, struct drctl_error *err);

#endif
