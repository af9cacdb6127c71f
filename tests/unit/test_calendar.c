/*
 * test_calendar: the last Friday of a month (the drill's rule) and other
 * rules' days, by hand-checked calendar facts;
 * the local date of an instant in a time zone (a UTC Friday that is already
 * Saturday in Auckland, a Tokyo Friday that is still Thursday in UTC), which
 * is what `drctl drill --when last-friday --timezone TZ` asks; the day rules
 * of the monthly routines (third-monday for the secret rotation) on known
 * dates, across a leap February; rules and zones that are not ones are
 * refused; TZ is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/core/calendar.h"

/* 2024-05-31T20:00:00Z and friends, as time_t, without the local zone. */
static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
	return timegm(&tm);
}

/* The drill's day, `--when last-friday`. */
static const struct calendar_rule last_friday = { .ordinal = -1, .weekday = 5 };

static void test_weekdays(void **state)
{
	(void)state;
	assert_int_equal(calendar_weekday(2024, 2, 29), 4);  /* Thursday */
	assert_int_equal(calendar_weekday(2024, 5, 31), 5);  /* Friday */
	assert_int_equal(calendar_weekday(2000, 1, 1), 6);   /* Saturday */
	assert_int_equal(calendar_weekday(2026, 11, 30), 1); /* Monday */
	assert_int_equal(calendar_weekday(2100, 2, 28), 0);  /* Sunday */
}

static void test_leap_years(void **state)
{
	(void)state;
	assert_true(calendar_is_leap_year(2024));
	assert_true(calendar_is_leap_year(2000));
	assert_false(calendar_is_leap_year(2100));
	assert_false(calendar_is_leap_year(2027));
	assert_int_equal(calendar_days_in_month(2024, 2), 29);
	assert_int_equal(calendar_days_in_month(2100, 2), 28);
	assert_int_equal(calendar_days_in_month(2026, 4), 30);
	assert_int_equal(calendar_days_in_month(2026, 12), 31);
	/* February's last Friday moves with the leap day. */
	assert_int_equal(calendar_rule_day(&last_friday, 2024, 2), 23); /* 29th is a Thursday */
	assert_int_equal(calendar_rule_day(&last_friday, 2028, 2), 25); /* 29th is a Tuesday */
	assert_int_equal(calendar_rule_day(&last_friday, 2000, 2), 25); /* 29th is a Tuesday (2000 is leap) */
	assert_int_equal(calendar_rule_day(&last_friday, 2100, 2), 26); /* 28th is a Sunday (2100 is not) */
	assert_int_equal(calendar_rule_day(&last_friday, 2027, 2), 26);
}

static void test_last_fridays(void **state)
{
	(void)state;
	/* Months whose last day is itself a Friday. */
	assert_int_equal(calendar_rule_day(&last_friday, 2024, 5), 31);
	assert_int_equal(calendar_rule_day(&last_friday, 2025, 1), 31);
	assert_int_equal(calendar_rule_day(&last_friday, 2025, 10), 31);
	/* And some that end on other days. */
	assert_int_equal(calendar_rule_day(&last_friday, 2026, 11), 27);
	assert_int_equal(calendar_rule_day(&last_friday, 2026, 12), 25);
	assert_true(calendar_rule_is_day(&last_friday, 2026, 11, 27));
	assert_false(calendar_rule_is_day(&last_friday, 2026, 11, 20)); /* a Friday, not the last */
	assert_false(calendar_rule_is_day(&last_friday, 2026, 11, 28)); /* the Saturday after */
	assert_false(calendar_rule_is_day(&last_friday, 2024, 5, 24));
	assert_true(calendar_rule_is_day(&last_friday, 2024, 5, 31));
}

static void test_next_last_friday(void **state)
{
	int y, m, d;
	(void)state;
	calendar_rule_next(&last_friday, 2026, 11, 2, &y, &m, &d);
	assert_true(y == 2026 && m == 11 && d == 27);
	calendar_rule_next(&last_friday, 2026, 11, 27, &y, &m, &d); /* today is one */
	assert_true(y == 2026 && m == 11 && d == 27);
	calendar_rule_next(&last_friday, 2026, 11, 28, &y, &m, &d);
	assert_true(y == 2026 && m == 12 && d == 25);
	calendar_rule_next(&last_friday, 2026, 12, 26, &y, &m, &d); /* over the year's end */
	assert_true(y == 2027 && m == 1 && d == 29);
	calendar_rule_next(&last_friday, 2024, 2, 24, &y, &m, &d);
	assert_true(y == 2024 && m == 3 && d == 29);
}

static void test_rule_days_of_other_ordinals(void **state)
{
	const struct calendar_rule third_monday = { .ordinal = 3, .weekday = 1 };
	const struct calendar_rule first_sunday = { .ordinal = 1, .weekday = 0 };
	int y, m, d;
	(void)state;
	/* November 2026 begins on a Sunday, December on a Tuesday. */
	assert_int_equal(calendar_rule_day(&third_monday, 2026, 11), 16);
	assert_int_equal(calendar_rule_day(&third_monday, 2026, 12), 21);
	assert_int_equal(calendar_rule_day(&first_sunday, 2026, 11), 1);
	assert_int_equal(calendar_rule_day(&first_sunday, 2026, 12), 6);
	assert_true(calendar_rule_is_day(&third_monday, 2026, 11, 16));
	assert_false(calendar_rule_is_day(&third_monday, 2026, 11, 9));
	calendar_rule_next(&third_monday, 2026, 11, 17, &y, &m, &d);
	assert_true(y == 2026 && m == 12 && d == 21);
	calendar_rule_next(&third_monday, 2026, 11, 16, &y, &m, &d); /* today is one */
	assert_true(y == 2026 && m == 11 && d == 16);
}

static void test_time_zones(void **state)
{
	struct calendar_date cd;
	struct drctl_error err;
	time_t fri_evening_utc = utc(2024, 5, 31, 20, 0); /* the last Friday of May 2024, in UTC */
	(void)state;

	err_clear(&err);
	assert_int_equal(calendar_local_date(fri_evening_utc, NULL, &cd, &err), 0);
	assert_true(cd.year == 2024 && cd.month == 5 && cd.day == 31 && cd.weekday == 5);
	assert_true(calendar_rule_is_day(&last_friday, cd.year, cd.month, cd.day));
	assert_string_equal(cd.zone, "UTC");
	/* Already Saturday 1 June in Auckland (UTC+12): not the last Friday there. */
	assert_int_equal(calendar_local_date(fri_evening_utc, "Pacific/Auckland", &cd, &err), 0);
	assert_true(cd.year == 2024 && cd.month == 6 && cd.day == 1 && cd.weekday == 6);
	assert_false(calendar_rule_is_day(&last_friday, cd.year, cd.month, cd.day));
	/* Still Thursday 30 May in UTC, already the last Friday in Tokyo. */
	assert_int_equal(calendar_local_date(utc(2024, 5, 30, 22, 0), "UTC", &cd, &err), 0);
	assert_false(calendar_rule_is_day(&last_friday, cd.year, cd.month, cd.day));
	assert_int_equal(calendar_local_date(utc(2024, 5, 30, 22, 0), "Asia/Tokyo", &cd, &err), 0);
	assert_true(cd.month == 5 && cd.day == 31 && calendar_rule_is_day(&last_friday, cd.year, cd.month, cd.day));
	/* Saturday in UTC, still the last Friday in Los Angeles. */
	assert_int_equal(calendar_local_date(utc(2024, 6, 1, 2, 0), "America/Los_Angeles", &cd, &err), 0);
	assert_true(cd.month == 5 && cd.day == 31 && calendar_rule_is_day(&last_friday, cd.year, cd.month, cd.day));
	assert_string_equal(cd.zone, "PDT");
	/* The process's own TZ is left as it was. */
	setenv("TZ", "Europe/Paris", 1);
	assert_int_equal(calendar_local_date(fri_evening_utc, "Asia/Tokyo", &cd, &err), 0);
	assert_string_equal(getenv("TZ"), "Europe/Paris");
	unsetenv("TZ");
	assert_false(err_is_set(&err));
}

static void test_bad_zones(void **state)
{
	static const char *bad[] = { "Mars/Olympus_Mons", "../../etc/passwd", "/usr/share/zoneinfo/UTC", ":UTC",
				     "Europe/Paris;rm", "Europe" };
	struct calendar_date cd;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drctl_error err;
		err_clear(&err);
		assert_int_equal(calendar_local_date(0, bad[i], &cd, &err), -1);
		assert_int_equal(err.code, EXIT_USAGE);
		assert_non_null(strstr(err.message, "is not a time zone"));
	}
}

#define DAY 86400
/* 2026-11-16 00:00:00 UTC, a Monday; November 2026 begins on a Sunday. */
static const time_t nov16 = 1794787200;

static int matches(const char *rule_text, time_t t, const char *tz)
{
	struct calendar_rule rule;
	struct drctl_error err = { 0 };
	int m;

	assert_int_equal(calendar_rule_parse(rule_text, "--when", &rule, &err), 0);
	m = calendar_rule_matches(&rule, t, tz, NULL, 0, &err);
	assert_true(m >= 0);
	return m;
}

static void test_third_monday_is_the_15th_to_21st_that_is_a_monday(void **state)
{
	(void)state;
	assert_true(matches("third-monday", nov16, "UTC"));
	assert_false(matches("third-monday", nov16 - 7 * DAY, "UTC")); /* the 9th: second */
	assert_false(matches("third-monday", nov16 + 7 * DAY, "UTC")); /* the 23rd: fourth */
	assert_false(matches("third-monday", nov16 + DAY, "UTC"));     /* a Tuesday */
	assert_true(matches("second-monday", nov16 - 7 * DAY, "UTC"));
	assert_true(matches("fourth-monday", nov16 + 7 * DAY, "UTC"));
	assert_true(matches("first-sunday", nov16 - 15 * DAY, "UTC")); /* the 1st */
}

static void test_last_friday_is_the_one_with_no_friday_after_it_in_the_month(void **state)
{
	(void)state;
	assert_true(matches("last-friday", nov16 + 11 * DAY, "UTC"));  /* the 27th */
	assert_false(matches("last-friday", nov16 + 4 * DAY, "UTC"));  /* the 20th */
	assert_true(matches("fourth-friday", nov16 + 11 * DAY, "UTC")); /* also the fourth */
	/* February 2028 has 29 days: the 26th is its last Saturday, the 19th not. */
	assert_true(matches("last-saturday", 1835136000, "UTC"));
	assert_false(matches("last-saturday", 1835136000 - 7 * DAY, "UTC"));
	/* 2028-02-29, a Tuesday, is the last Tuesday; a day later is March. */
	assert_true(matches("last-tuesday", 1835395200, "UTC"));
}

static void test_the_day_is_read_in_the_time_zone(void **state)
{
	char day[64];
	struct calendar_rule rule;
	struct drctl_error err = { 0 };

	(void)state;
	/* Monday 23:30 UTC is already Tuesday 00:30 in Paris (UTC+1 in November). */
	assert_true(matches("third-monday", nov16 + 23 * 3600 + 1800, "UTC"));
	assert_false(matches("third-monday", nov16 + 23 * 3600 + 1800, "Europe/Paris"));
	/* Sunday 23:30 UTC is Monday in Paris. */
	assert_false(matches("third-monday", nov16 - 1800, "UTC"));
	assert_true(matches("third-monday", nov16 - 1800, "Europe/Paris"));
	assert_int_equal(calendar_rule_parse("third-monday", "--when", &rule, &err), 0);
	assert_int_equal(calendar_rule_matches(&rule, nov16 - 1800, "Europe/Paris", day, sizeof(day), &err), 1);
	assert_string_equal(day, "2026-11-16 (Monday)");
}

static void test_the_process_time_zone_is_left_as_it_was(void **state)
{
	(void)state;
	setenv("TZ", "America/New_York", 1);
	assert_true(matches("third-monday", nov16 - 1800, "Europe/Paris"));
	assert_string_equal(getenv("TZ"), "America/New_York");
	/* in New York, Sunday 23:30 UTC is Sunday afternoon */
	assert_false(matches("third-monday", nov16 - 1800, NULL));
	unsetenv("TZ");
	assert_true(matches("third-monday", nov16 - 1800, "Europe/Paris"));
	assert_null(getenv("TZ"));
}

static void test_rules_and_zones_that_are_not_ones_are_refused(void **state)
{
	static const char *const bad[] = { "", "third", "monday", "fifth-monday", "third-mon", "Third-Monday",
					   "third-monday-x", "-monday", "last-" };
	struct calendar_rule rule;
	struct drctl_error err = { 0 };
	char text[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = (struct drctl_error){ 0 };
		assert_int_equal(calendar_rule_parse(bad[i], "--when", &rule, &err), -1);
		assert_int_equal(err.code, EXIT_USAGE);
		assert_non_null(strstr(err.hint, "third-monday"));
	}
	assert_int_equal(calendar_rule_parse("last-friday", "--when", &rule, &err), 0);
	calendar_rule_format(&rule, text, sizeof(text));
	assert_string_equal(text, "last-friday");
	err = (struct drctl_error){ 0 };
	assert_int_equal(calendar_rule_matches(&rule, nov16, "Mars/Olympus_Mons", NULL, 0, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "Mars/Olympus_Mons"));
	err = (struct drctl_error){ 0 };
	assert_int_equal(calendar_rule_matches(&rule, nov16, "../../etc/passwd", NULL, 0, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekdays),
		cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_last_fridays),
		cmocka_unit_test(test_next_last_friday),
		cmocka_unit_test(test_rule_days_of_other_ordinals),
		cmocka_unit_test(test_time_zones),
		cmocka_unit_test(test_bad_zones),
		cmocka_unit_test(test_third_monday_is_the_15th_to_21st_that_is_a_monday),
		cmocka_unit_test(test_last_friday_is_the_one_with_no_friday_after_it_in_the_month),
		cmocka_unit_test(test_the_day_is_read_in_the_time_zone),
		cmocka_unit_test(test_the_process_time_zone_is_left_as_it_was),
		cmocka_unit_test(test_rules_and_zones_that_are_not_ones_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
