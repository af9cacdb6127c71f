#include "lib/core/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void calendar_rule_format(const struct calendar_rule *rule, char *out, size_t cap)
{
	snprintf(out, cap, "%s-%s", rule->ordinal < 0 ? "last" : ordinals[rule->ordinal - 1], weekdays[rule->weekday]);
}

/* A zone the C library will really load: glibc takes an unknown name for
 * UTC without a word, which would run a routine on the wrong day. */
static int zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	struct stat st;

	if (!strcmp(tz, "UTC") || !strcmp(tz, "GMT") || !strcmp(tz, "UTC0"))
		return 1;
	if (tz[0] == '/' || strstr(tz, ".."))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int local_day(time_t t, const char *tz, struct tm *tm)
{
	char *saved = NULL;
	const char *old;
	int ok;

	if (!tz || !*tz) {
		tzset();
		return localtime_r(&t, tm) != NULL;
	}
	old = getenv("TZ");
	if (old && !(saved = strdup(old)))
		return 0;
	setenv("TZ", tz, 1);
	tzset();
	ok = localtime_r(&t, tm) != NULL;
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	return ok;
}

static int days_in_month(int year, int month0)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return days[month0] + (month0 == 1 && leap);
}

int calendar_rule_matches(const struct calendar_rule *rule, time_t t, const char *tz, char *day, size_t day_cap,
			  struct drctl_error *err)
{
	struct tm tm;
	int week;

	if (tz && *tz && !zone_known(tz))
		return err_set(err, EXIT_USAGE, tz, "use an IANA time zone name (ls /usr/share/zoneinfo), e.g. Europe/Paris, or UTC",
			       "time zone \"%s\" is not known on this machine", tz);
	if (!local_day(t, tz, &tm))
		return err_set(err, EXIT_FAILED, tz, NULL, "cannot tell the date in time zone %s", tz && *tz ? tz : "(local)");
	if (day)
		snprintf(day, day_cap, "%04d-%02d-%02d (%c%s)", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 weekdays[tm.tm_wday][0] - 32, weekdays[tm.tm_wday] + 1);
	if (tm.tm_wday != rule->weekday)
		return 0;
	if (rule->ordinal < 0)
		return tm.tm_mday + 7 > days_in_month(tm.tm_year + 1900, tm.tm_mon);
	week = (tm.tm_mday - 1) / 7 + 1;
	return week == rule->ordinal;
}
