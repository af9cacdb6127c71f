/*
 * calendar: the day rules of the monthly routines (third-monday for the
 * secret rotation, last-friday for the drill) on known dates, in a time
 * zone where the day differs from UTC's, across a leap February; rules and
 * zones that are not ones are refused; TZ is left as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/core/calendar.h"

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
		cmocka_unit_test(test_third_monday_is_the_15th_to_21st_that_is_a_monday),
		cmocka_unit_test(test_last_friday_is_the_one_with_no_friday_after_it_in_the_month),
		cmocka_unit_test(test_the_day_is_read_in_the_time_zone),
		cmocka_unit_test(test_the_process_time_zone_is_left_as_it_was),
		cmocka_unit_test(test_rules_and_zones_that_are_not_ones_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
