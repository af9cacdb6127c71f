/*
 * calendar: see calendar.h.
 */
#include "lib/core/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int calendar_is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int calendar_days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && calendar_is_leap_year(year));
}

/* Sakamoto's method: the weekday of a Gregorian date, 0 = Sunday. */
int calendar_weekday(int year, int month, int day)
{
	static const int t[12] = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 };
	int y = month < 3 ? year - 1 : year;
	int w = (y + y / 4 - y / 100 + y / 400 + t[month - 1] + day) % 7;
	return w < 0 ? w + 7 : w;
}

/* Is tz the name of a zone in the system's database?  Only plain relative
 * names: no absolute path, no "..", nothing a file name could hide. */
static int zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	struct stat st;

	if (!strcmp(tz, "UTC") || !strcmp(tz, "GMT"))
		return 1;
	if (tz[0] == '/' || tz[0] == ':' || strstr(tz, "..") || strlen(tz) > 200)
		return 0;
	for (const char *p = tz; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' ||
		      *p == '_' || *p == '-' || *p == '+'))
			return 0;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int calendar_local_date(time_t t, const char *tz, struct calendar_date *out, struct drctl_error *err)
{
	char *saved = NULL;
	const char *old;
	struct tm tm;
	int ok;

	memset(out, 0, sizeof(*out));
	if (!tz || !*tz)
		tz = "UTC";
	if (!zone_known(tz))
		return err_set(err, EXIT_USAGE, tz,
			       "give an IANA time zone name such as Europe/Paris or America/New_York (`ls /usr/share/zoneinfo`)",
			       "\"%s\" is not a time zone of this system's time zone database", tz);
	old = getenv("TZ");
	if (old && !(saved = strdup(old)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	setenv("TZ", tz, 1);
	tzset();
	ok = localtime_r(&t, &tm) != NULL;
	if (ok)
		strftime(out->zone, sizeof(out->zone), "%Z", &tm);
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	if (!ok)
		return err_set(err, EXIT_FAILED, tz, NULL, "cannot convert the time to zone %s", tz);
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->weekday = tm.tm_wday;
	return 0;
}

/* --- rules ---------------------------------------------------------------- */

static const char *const ordinals[] = { "first", "second", "third", "fourth" };
static const char *const weekdays[] = { "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday" };

int calendar_rule_parse(const char *text, const char *what, struct calendar_rule *rule, struct drctl_error *err)
{
	const char *dash = text ? strchr(text, '-') : NULL;
	size_t n = dash ? (size_t)(dash - text) : 0;

	rule->ordinal = 0;
	rule->weekday = -1;
	if (dash && n == 4 && !strncmp(text, "last", 4))
		rule->ordinal = -1;
	for (int i = 0; dash && i < 4; i++)
		if (strlen(ordinals[i]) == n && !strncmp(text, ordinals[i], n))
			rule->ordinal = i + 1;
	for (int i = 0; dash && i < 7; i++)
		if (!strcmp(dash + 1, weekdays[i]))
			rule->weekday = i;
	if (rule->ordinal == 0 || rule->weekday < 0)
		return err_set(err, EXIT_USAGE, what, "use first|second|third|fourth|last-<weekday>, e.g. third-monday or last-friday",
			       "%s \"%s\" is not a day rule", what, text ? text : "");
	return 0;
}

int calendar_rule_day(const struct calendar_rule *rule, int year, int month)
{
	int last = calendar_days_in_month(year, month);

	if (rule->ordinal < 0) /* back from the month's last day to its weekday */
		return last - (calendar_weekday(year, month, last) - rule->weekday + 7) % 7;
	return 1 + (rule->weekday - calendar_weekday(year, month, 1) + 7) % 7 + 7 * (rule->ordinal - 1);
}

int calendar_rule_is_day(const struct calendar_rule *rule, int year, int month, int day)
{
	return day == calendar_rule_day(rule, year, month);
}

void calendar_rule_next(const struct calendar_rule *rule, int year, int month, int day, int *out_year,
			int *out_month, int *out_day)
{
	if (day > calendar_rule_day(rule, year, month)) {
		month++;
		if (month > 12) {
			month = 1;
			year++;
		}
	}
	*out_year = year;
	*out_month = month;
	*out_day = calendar_rule_day(rule, year, month);
}

void calendar_rule_format(const struct calendar_rule *rule, char *out, size_t cap)
{
	snprintf(out, cap, "%s-%s", rule->ordinal < 0 ? "last" : ordinals[rule->ordinal - 1], weekdays[rule->weekday]);
}

int calendar_rule_matches(const struct calendar_rule *rule, time_t t, const char *tz, char *day, size_t day_cap,
			  struct drctl_error *err)
{
	struct calendar_date d;
	struct tm tm;

	if (tz && *tz) {
		if (calendar_local_date(t, tz, &d, err) != 0)
			return -1;
	} else {
		tzset(); /* the process's own zone: TZ, else /etc/localtime */
		if (!localtime_r(&t, &tm))
			return err_set(err, EXIT_FAILED, NULL, NULL, "cannot tell the local date");
		d = (struct calendar_date){ .year = tm.tm_year + 1900, .month = tm.tm_mon + 1, .day = tm.tm_mday,
					    .weekday = tm.tm_wday };
	}
	if (day)
		snprintf(day, day_cap, "%04d-%02d-%02d (%c%s)", d.year, d.month, d.day, weekdays[d.weekday][0] - 32,
			 weekdays[d.weekday] + 1);
	return calendar_rule_is_day(rule, d.year, d.month, d.day);
}
