/*
 * retention: the keep rules (restic's `forget` semantics) and drctl's
 * never-remove rules, on synthetic histories whose expected keep lists are
 * derived by hand below, each id with the reason it stays.
 *
 * The main history: one set every night at 02:00Z from 2024-12-01 to
 * 2026-11-30 (730 sets, suffix -a000), plus extra sets placed on the
 * boundaries the rules care about:
 *
 *   20251231T230000Z-e001  the newest set of 2025 (and of December 2025)
 *   20261031T235959Z-e002  the newest set of October 2026
 *   20261122T235959Z-e003  Sunday 23:59:59, the last second of ISO week 2026-W47
 *   20261123T000000Z-e004  Monday 00:00:00, the first second of 2026-W48
 *   20261129T143000Z-e005  Sunday afternoon: the newest set of 29 November and of 2026-W48
 *   20261130T024000Z-e006  the same hour as the 02:00 set of 30 November, newer
 *   20261130T091500Z-e007  the newest set of all (30 November is a Monday, in 2026-W49)
 *
 * "now" is 2026-12-05T00:00:00Z: no set for four days, so keep_within shows
 * that it counts back from the newest set, not from now.  The process runs
 * with TZ=JST-9, so a rule that used local time instead of UTC would put
 * sets in other periods and fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/core/duration.h"
#include "lib/set/retention.h"

#define HISTORY_MAX 800

struct history {
	char ids[HISTORY_MAX][BACKUP_SET_ID_MAX];
	struct retention_set sets[HISTORY_MAX];
	struct retention_decision decisions[HISTORY_MAX];
	size_t n;
};

static struct history main_history;

static time_t utc(const char *stamp)
{
	time_t t;
	assert_int_equal(retention_id_time(stamp, &t), 0);
	return t;
}

static struct retention_set *add_set(struct history *h, const char *id, enum backup_set_state state)
{
	struct retention_set *s = &h->sets[h->n];

	assert_true(h->n < HISTORY_MAX);
	snprintf(h->ids[h->n], BACKUP_SET_ID_MAX, "%s", id);
	memset(s, 0, sizeof(*s));
	s->id = h->ids[h->n];
	s->state = state;
	s->time_known = retention_id_time(s->id, &s->time) == 0;
	h->n++;
	return s;
}

/* One complete set at 02:00Z every night from first to last (inclusive). */
static void add_nightly(struct history *h, const char *first, const char *last, const char *suffix)
{
	char stamp[32], id[BACKUP_SET_ID_MAX];
	time_t end = utc(last);

	for (time_t t = utc(first); t <= end; t += 86400) {
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(id, sizeof(id), "%s-%s", stamp, suffix);
		add_set(h, id, SET_COMPLETE);
	}
}

static int setup_main_history(void **state)
{
	static const char *const extras[] = {
		"20251231T230000Z-e001", "20261031T235959Z-e002", "20261122T235959Z-e003", "20261123T000000Z-e004",
		"20261129T143000Z-e005", "20261130T024000Z-e006", "20261130T091500Z-e007",
	};
	(void)state;
	main_history.n = 0;
	add_nightly(&main_history, "20241201T020000Z", "20261130T020000Z", "a000");
	assert_int_equal(main_history.n, 730);
	for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
		add_set(&main_history, extras[i], SET_COMPLETE);
	return 0;
}

static const time_t *main_now(void)
{
	static time_t now;
	now = utc("20261205T000000Z");
	return &now;
}

static const struct retention_decision *decision_of(const struct history *h, const char *id)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->ids[i], id))
			return &h->decisions[i];
	fail_msg("no set %s in the history", id);
	return NULL;
}

static void reasons_text(const struct retention_decision *d, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t r = 0; r < d->n_reasons && len < cap; r++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", r ? "; " : "", d->reasons[r].text);
}

/* Decide, then compare with the derivation: every set in expected is kept,
 * every other one is removed.  A difference names each id that differs and
 * what the rules said about it. */
static void expect_kept(struct history *h, const char *what, const struct retention_policy *p, time_t now,
			const char *const *expected, size_t n_expected)
{
	char why[RETENTION_REASONS_MAX * (RETENTION_REASON_TEXT + 2)];
	size_t differences = 0;

	assert_int_equal(retention_decide(h->sets, h->n, p, now, h->decisions), 0);
	for (size_t e = 0; e < n_expected; e++)
		if (decision_of(h, expected[e])->remove) {
			reasons_text(decision_of(h, expected[e]), why, sizeof(why));
			print_error("%s: %s was removed (%s), but the derivation keeps it\n", what, expected[e], why);
			differences++;
		}
	for (size_t i = 0; i < h->n; i++) {
		int listed = 0;
		for (size_t e = 0; e < n_expected && !listed; e++)
			listed = !strcmp(h->ids[i], expected[e]);
		if (!listed && !h->decisions[i].remove) {
			reasons_text(&h->decisions[i], why, sizeof(why));
			print_error("%s: %s was kept (%s), but the derivation removes it\n", what, h->ids[i], why);
			differences++;
		}
	}
	if (differences)
		fail_msg("%s: %zu set(s) differ from the derivation (listed above)", what, differences);
}

static void expect_reasons(const struct history *h, const char *id, const char *want)
{
	char why[RETENTION_REASONS_MAX * (RETENTION_REASON_TEXT + 2)];

	reasons_text(decision_of(h, id), why, sizeof(why));
	if (strcmp(why, want) != 0)
		fail_msg("%s: reasons \"%s\", expected \"%s\"", id, why, want);
}

#define EXPECT_KEPT(h, what, policy, now, ...)                                                         \
	do {                                                                                           \
		static const char *const expected_[] = { __VA_ARGS__ };                                \
		expect_kept((h), (what), (policy), (now), expected_, sizeof(expected_) / sizeof(expected_[0])); \
	} while (0)

static struct duration span(const char *text)
{
	struct duration d;
	assert_int_equal(duration_parse(text, &d), 0);
	return d;
}

/* --- the count rules on the main history ------------------------------------ */

static void test_keep_last_keeps_the_newest(void **state)
{
	struct retention_policy p = { .keep_last = 7, .incomplete_grace = span("24h") };
	(void)state;
	/* The seven newest by time, extras included, whatever their day. */
	EXPECT_KEPT(&main_history, "keep_last 7", &p, *main_now(),
		    "20261130T091500Z-e007", "20261130T024000Z-e006", "20261130T020000Z-a000",
		    "20261129T143000Z-e005", "20261129T020000Z-a000", "20261128T020000Z-a000",
		    "20261127T020000Z-a000");
	expect_reasons(&main_history, "20261130T091500Z-e007", "keep-last 7; newest complete set");
	expect_reasons(&main_history, "20261127T020000Z-a000", "keep-last 7");
	expect_reasons(&main_history, "20261126T020000Z-a000", "no rule keeps it");
}

static void test_keep_hourly_keeps_the_newest_of_each_hour(void **state)
{
	struct retention_policy p = { .keep_hourly = 3, .incomplete_grace = span("24h") };
	(void)state;
	/* Hours that have a set, newest first: 30 Nov 09:00 (e007), 30 Nov
	 * 02:00 (e006 at 02:40 beats the 02:00 set), 29 Nov 14:00 (e005). */
	EXPECT_KEPT(&main_history, "keep_hourly 3", &p, *main_now(),
		    "20261130T091500Z-e007", "20261130T024000Z-e006", "20261129T143000Z-e005");
	expect_reasons(&main_history, "20261130T024000Z-e006", "keep-hourly (2026-11-30 02:00)");
}

static void test_keep_daily_keeps_the_newest_of_each_day(void **state)
{
	struct retention_policy p = { .keep_daily = 7, .incomplete_grace = span("24h") };
	(void)state;
	/* Days 24..30 November; on the 30th e007 is the newest, on the 29th
	 * e005 (14:30) beats the 02:00 set. */
	EXPECT_KEPT(&main_history, "keep_daily 7", &p, *main_now(),
		    "20261130T091500Z-e007", "20261129T143000Z-e005", "20261128T020000Z-a000",
		    "20261127T020000Z-a000", "20261126T020000Z-a000", "20261125T020000Z-a000",
		    "20261124T020000Z-a000");
	expect_reasons(&main_history, "20261129T143000Z-e005", "keep-daily (2026-11-29)");
}

static void test_keep_weekly_uses_iso_weeks_from_monday(void **state)
{
	struct retention_policy p = { .keep_weekly = 4, .incomplete_grace = span("24h") };
	(void)state;
	/* ISO weeks run Monday 00:00 to Sunday 23:59:59 UTC.  Newest first:
	 *   2026-W49 (Mon 30 Nov ..): e007, the newest set
	 *   2026-W48 (Mon 23 Nov 00:00 .. Sun 29 Nov): e005 on Sunday 14:30
	 *            (e004, at Monday 00:00:00, is in this week too, but older)
	 *   2026-W47 (16 .. 22 Nov): e003, Sunday 23:59:59
	 *   2026-W46 (9 .. 15 Nov): the 02:00 set of Sunday 15 November
	 * (Sunday-start weeks would keep 28, 21 and 14 November instead.) */
	EXPECT_KEPT(&main_history, "keep_weekly 4", &p, *main_now(),
		    "20261130T091500Z-e007", "20261129T143000Z-e005", "20261122T235959Z-e003",
		    "20261115T020000Z-a000");
	expect_reasons(&main_history, "20261122T235959Z-e003", "keep-weekly (2026-W47)");
}

static void test_keep_monthly_keeps_the_newest_of_each_month(void **state)
{
	struct retention_policy p = { .keep_monthly = 12, .incomplete_grace = span("24h") };
	(void)state;
	/* 2026-11: e007; 2026-10: e002 (31 Oct 23:59:59 beats the 02:00 set);
	 * 2026-09 .. 2026-01: the last night of each month (28 February: 2026
	 * is no leap year); 2025-12: e001 (31 Dec 23:00).  Twelve months. */
	EXPECT_KEPT(&main_history, "keep_monthly 12", &p, *main_now(),
		    "20261130T091500Z-e007", "20261031T235959Z-e002", "20260930T020000Z-a000",
		    "20260831T020000Z-a000", "20260731T020000Z-a000", "20260630T020000Z-a000",
		    "20260531T020000Z-a000", "20260430T020000Z-a000", "20260331T020000Z-a000",
		    "20260228T020000Z-a000", "20260131T020000Z-a000", "20251231T230000Z-e001");
	expect_reasons(&main_history, "20251231T230000Z-e001", "keep-monthly (2025-12)");
}

static void test_keep_yearly_and_the_oldest_set(void **state)
{
	struct retention_policy p = { .keep_yearly = 3, .incomplete_grace = span("24h") };
	(void)state;
	/* 2026: e007; 2025: e001; 2024: the night of 31 December.  The count is
	 * used up there, so the oldest set (1 December 2024) goes. */
	EXPECT_KEPT(&main_history, "keep_yearly 3", &p, *main_now(),
		    "20261130T091500Z-e007", "20251231T230000Z-e001", "20241231T020000Z-a000");
	/* With 5, two years are left after the oldest set: restic keeps the
	 * oldest set as well, marked so, to keep the longest history. */
	p.keep_yearly = 5;
	EXPECT_KEPT(&main_history, "keep_yearly 5", &p, *main_now(),
		    "20261130T091500Z-e007", "20251231T230000Z-e001", "20241231T020000Z-a000",
		    "20241201T020000Z-a000");
	expect_reasons(&main_history, "20241201T020000Z-a000", "keep-yearly (2024, oldest set)");
}

static void test_keep_within_counts_from_the_newest_set(void **state)
{
	struct retention_policy p = { .keep_within = span("10d"), .incomplete_grace = span("24h") };
	(void)state;
	/* The newest set is e007 (30 Nov 09:15); ten days before is 20 Nov
	 * 09:15, and every set after that stays: the nights of 21..30 November
	 * and e003..e007.  (Counted from now, 5 December, it would keep only
	 * 25..30 November.) */
	EXPECT_KEPT(&main_history, "keep_within 10d", &p, *main_now(),
		    "20261121T020000Z-a000", "20261122T020000Z-a000", "20261123T020000Z-a000",
		    "20261124T020000Z-a000", "20261125T020000Z-a000", "20261126T020000Z-a000",
		    "20261127T020000Z-a000", "20261128T020000Z-a000", "20261129T020000Z-a000",
		    "20261130T020000Z-a000", "20261122T235959Z-e003", "20261123T000000Z-e004",
		    "20261129T143000Z-e005", "20261130T024000Z-e006", "20261130T091500Z-e007");
	expect_reasons(&main_history, "20261121T020000Z-a000", "keep-within 10d");
}

static void test_rules_are_joined_with_every_reason(void **state)
{
	struct retention_policy p = { .keep_daily = 7, .keep_weekly = 4, .keep_monthly = 6,
				      .incomplete_grace = span("24h") };
	(void)state;
	/* daily 7:   e007, e005, 28, 27, 26, 25, 24 November
	 * weekly 4:  e007 (W49), e005 (W48), e003 (W47), 15 November (W46)
	 * monthly 6: e007 (2026-11), e002 (2026-10), 30 Sep, 31 Aug, 31 Jul, 30 Jun
	 * joined: 14 sets. */
	EXPECT_KEPT(&main_history, "daily 7 + weekly 4 + monthly 6", &p, *main_now(),
		    "20261130T091500Z-e007", "20261129T143000Z-e005", "20261128T020000Z-a000",
		    "20261127T020000Z-a000", "20261126T020000Z-a000", "20261125T020000Z-a000",
		    "20261124T020000Z-a000", "20261122T235959Z-e003", "20261115T020000Z-a000",
		    "20261031T235959Z-e002", "20260930T020000Z-a000", "20260831T020000Z-a000",
		    "20260731T020000Z-a000", "20260630T020000Z-a000");
	expect_reasons(&main_history, "20261130T091500Z-e007",
		       "keep-daily (2026-11-30); keep-weekly (2026-W49); keep-monthly (2026-11); newest complete set");
	expect_reasons(&main_history, "20261129T143000Z-e005", "keep-daily (2026-11-29); keep-weekly (2026-W48)");
	expect_reasons(&main_history, "20261115T020000Z-a000", "keep-weekly (2026-W46)");
	expect_reasons(&main_history, "20261031T235959Z-e002", "keep-monthly (2026-10)");
	expect_reasons(&main_history, "20261031T020000Z-a000", "no rule keeps it");
}

/* --- ISO week 53 and the year boundary --------------------------------------- */

static void test_keep_weekly_across_iso_week_53(void **state)
{
	static struct history h;
	struct retention_policy p = { .keep_weekly = 4, .incomplete_grace = span("24h") };
	(void)state;
	/* 2026-12-31 is a Thursday, so 2026 has 53 ISO weeks: 2026-W53 runs from
	 * Monday 28 December 2026 to Sunday 3 January 2027.  Nightly sets from
	 * 14 December 2026 to Tuesday 12 January 2027; newest first:
	 *   2027-W02 (11 .. 17 Jan): 12 January
	 *   2027-W01 (4 .. 10 Jan): Sunday 10 January
	 *   2026-W53 (28 Dec .. 3 Jan): Sunday 3 January 2027, a 2027 date in
	 *            the week of 2026 (a week keyed by calendar year would split
	 *            this week and keep 31 December instead of 27 December)
	 *   2026-W52 (21 .. 27 Dec): Sunday 27 December */
	h.n = 0;
	add_nightly(&h, "20261214T020000Z", "20270112T020000Z", "b000");
	EXPECT_KEPT(&h, "keep_weekly 4 across 2026-W53", &p, utc("20270112T120000Z"),
		    "20270112T020000Z-b000", "20270110T020000Z-b000", "20270103T020000Z-b000",
		    "20261227T020000Z-b000");
	expect_reasons(&h, "20270103T020000Z-b000", "keep-weekly (2026-W53)");
	expect_reasons(&h, "20270110T020000Z-b000", "keep-weekly (2027-W01)");
}

/* --- restic's worked example ------------------------------------------------- */

static void test_restic_documentation_example(void **state)
{
	static struct history h;
	struct retention_policy p = { .keep_daily = 4, .incomplete_grace = span("24h") };
	(void)state;
	/* restic's "Removing backup snapshots": one backup every Sunday at 11:00
	 * for 12 weeks, 2019-09-01 to 2019-11-17; `forget --keep-daily 4` keeps
	 * the last four Sundays and removes the other eight. */
	h.n = 0;
	for (time_t t = utc("20190901T110000Z"); t <= utc("20191117T110000Z"); t += 7 * 86400) {
		char id[BACKUP_SET_ID_MAX];
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(id, sizeof(id), "%Y%m%dT%H%M%SZ-c000", &tm);
		add_set(&h, id, SET_COMPLETE);
	}
	assert_int_equal(h.n, 12);
	EXPECT_KEPT(&h, "restic example, keep-daily 4", &p, utc("20191118T000000Z"),
		    "20191027T110000Z-c000", "20191103T110000Z-c000", "20191110T110000Z-c000",
		    "20191117T110000Z-c000");
}

/* --- drctl's own rules -------------------------------------------------------- */

static void test_never_removed_sets(void **state)
{
	static struct history h;
	struct retention_policy p = { .keep_last = 1, .incomplete_grace = span("24h") };
	time_t now = utc("20261104T120000Z");
	(void)state;
	h.n = 0;
	add_set(&h, "20261101T020000Z-0001", SET_COMPLETE);
	add_set(&h, "20261101T030000Z-0002", SET_COMPLETE)->protected_reason = "used by scenario run restore-1";
	add_set(&h, "20261102T020000Z-0003", SET_COMPLETE);
	add_set(&h, "20261103T020000Z-0004", SET_COMPLETE);
	add_set(&h, "20261104T020000Z-0005", SET_INVALID);
	add_set(&h, "20261104T030000Z-0006", SET_INCOMPLETE);            /* 9 h old */
	add_set(&h, "20261102T030000Z-0007", SET_INCOMPLETE);            /* 57 h old */
	add_set(&h, "20261103T120000Z-0008", SET_INCOMPLETE);            /* exactly 24 h */
	add_set(&h, "20261103T120001Z-0009", SET_INCOMPLETE);            /* 24 h less a second */
	add_set(&h, "20261101T040000Z-0010", SET_INCOMPLETE)->protected_reason = "under Object Lock until 2027-01-01";
	add_set(&h, "1-handmade", SET_COMPLETE);
	/* keep-last 1 keeps 0004 (also the newest complete set, though 0005 and
	 * 0006 are newer); 0002 is protected; 0005 is evidence; 0006 and 0009
	 * are younger than the grace; 0010 is old debris but protected;
	 * "1-handmade" carries no time.  Removed: 0001, 0003 (no rule), 0007
	 * and 0008 (incomplete, at least 24 h old). */
	EXPECT_KEPT(&h, "never-remove rules", &p, now,
		    "20261101T030000Z-0002", "20261103T020000Z-0004", "20261104T020000Z-0005",
		    "20261104T030000Z-0006", "20261103T120001Z-0009", "20261101T040000Z-0010", "1-handmade");
	expect_reasons(&h, "20261103T020000Z-0004", "keep-last 1; newest complete set");
	expect_reasons(&h, "20261101T030000Z-0002", "protected: used by scenario run restore-1");
	expect_reasons(&h, "20261104T020000Z-0005", "invalid: kept as evidence");
	expect_reasons(&h, "20261104T030000Z-0006", "incomplete, younger than 24h: may be a backup in progress");
	expect_reasons(&h, "20261102T030000Z-0007", "incomplete, older than 24h");
	expect_reasons(&h, "20261103T120000Z-0008", "incomplete, older than 24h");
	expect_reasons(&h, "20261101T040000Z-0010",
		       "protected: under Object Lock until 2027-01-01; incomplete, older than 24h");
	expect_reasons(&h, "1-handmade", "complete, its id carries no time: kept");
	expect_reasons(&h, "20261101T020000Z-0001", "no rule keeps it");
}

static void test_empty_policy_removes_no_complete_set(void **state)
{
	static struct history h;
	struct retention_policy p = { .incomplete_grace = span("24h") };
	char text[512];
	(void)state;
	h.n = 0;
	add_nightly(&h, "20261101T020000Z", "20261110T020000Z", "d000");
	add_set(&h, "20261105T030000Z-dead", SET_INCOMPLETE);
	assert_true(retention_policy_is_empty(&p));
	/* Every complete set stays, saying why; old debris still goes. */
	EXPECT_KEPT(&h, "empty policy", &p, utc("20261111T000000Z"),
		    "20261101T020000Z-d000", "20261102T020000Z-d000", "20261103T020000Z-d000",
		    "20261104T020000Z-d000", "20261105T020000Z-d000", "20261106T020000Z-d000",
		    "20261107T020000Z-d000", "20261108T020000Z-d000", "20261109T020000Z-d000",
		    "20261110T020000Z-d000");
	expect_reasons(&h, "20261101T020000Z-d000", "no [retention] rule is set: keeping every complete set");
	expect_reasons(&h, "20261110T020000Z-d000",
		       "no [retention] rule is set: keeping every complete set; newest complete set");
	retention_policy_describe(&p, text, sizeof(text));
	assert_string_equal(text, "no [retention] rule is set: keeping every complete set; "
				  "incomplete sets are removed once 24h old");
}

static void test_keep_within_ignores_sets_from_the_future(void **state)
{
	static struct history h;
	struct retention_policy p = { .keep_within = span("2d"), .incomplete_grace = span("24h") };
	(void)state;
	/* A set dated a year ahead (a wrong clock) is not "the newest" for
	 * keep_within: restic counts from the newest set before now (10 Nov),
	 * and the future set itself is within (after the threshold) too. */
	h.n = 0;
	add_nightly(&h, "20261101T020000Z", "20261110T020000Z", "f000");
	add_set(&h, "20271110T020000Z-f999", SET_COMPLETE);
	EXPECT_KEPT(&h, "keep_within 2d with a set from the future", &p, utc("20261111T000000Z"),
		    "20261109T020000Z-f000", "20261110T020000Z-f000", "20271110T020000Z-f999");
}

/* --- ids and durations ---------------------------------------------------------- */

static void test_id_time(void **state)
{
	time_t t;
	(void)state;
	assert_int_equal(retention_id_time("20261129T020000Z-3f9a", &t), 0);
	assert_int_equal(t, 1795917600); /* date -u -d 2026-11-29T02:00:00Z +%s */
	assert_int_equal(retention_id_time("20261129T020000Z", &t), 0);
	assert_int_equal(retention_id_time("20261131T020000Z-3f9a", &t), -1); /* 31 November */
	assert_int_equal(retention_id_time("20261129T250000Z-3f9a", &t), -1);
	assert_int_equal(retention_id_time("20261129T020000-3f9a", &t), -1);
	assert_int_equal(retention_id_time("20261129T020000Zx", &t), -1);
	assert_int_equal(retention_id_time("2026", &t), -1);
	assert_int_equal(retention_id_time("20261129", &t), -1);
	assert_int_equal(retention_id_time("1-handmade", &t), -1);
}

static void test_durations(void **state)
{
	struct duration d;
	char text[DURATION_TEXT_MAX];
	(void)state;
	assert_int_equal(duration_parse("1y2m", &d), 0);
	assert_int_equal(d.years, 1);
	assert_int_equal(d.months, 2);
	duration_format(&d, text);
	assert_string_equal(text, "1y2m");
	assert_int_equal(duration_parse("2w", &d), 0);
	assert_int_equal(d.weeks, 2);
	duration_format(&d, text);
	assert_string_equal(text, "2w");
	assert_int_equal(duration_parse("36h", &d), 0);
	assert_int_equal(d.hours, 36);
	assert_int_equal(duration_parse("3d1y", &d), 0);
	duration_format(&d, text);
	assert_string_equal(text, "1y3d");
	assert_int_equal(duration_parse("0", &d), 0);
	assert_true(duration_is_zero(&d));
	duration_format(&d, text);
	assert_string_equal(text, "0");
	static const char *const bad[] = { "", "d", "30", "3x", "1d1d", "-1d", "1.5d", "30 d", "100001d", "30min" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (duration_parse(bad[i], &d) == 0)
			fail_msg("\"%s\" was taken as a duration", bad[i]);

	/* Calendar arithmetic, as Go's AddDate: a month before 31 March 2024
	 * is "31 February", which is 2 March in a leap year. */
	assert_int_equal(duration_before(utc("20240331T120000Z"), &(struct duration){ .months = 1 }),
			 utc("20240302T120000Z"));
	assert_int_equal(duration_before(utc("20261130T091500Z"), &(struct duration){ .days = 10 }),
			 utc("20261120T091500Z"));
	assert_int_equal(duration_before(utc("20260101T010000Z"), &(struct duration){ .weeks = 1, .hours = 2 }),
			 utc("20251224T230000Z"));
	assert_int_equal(duration_before(utc("20250301T000000Z"), &(struct duration){ .years = 1 }),
			 utc("20240301T000000Z"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_keep_last_keeps_the_newest, setup_main_history),
		cmocka_unit_test_setup(test_keep_hourly_keeps_the_newest_of_each_hour, setup_main_history),
		cmocka_unit_test_setup(test_keep_daily_keeps_the_newest_of_each_day, setup_main_history),
		cmocka_unit_test_setup(test_keep_weekly_uses_iso_weeks_from_monday, setup_main_history),
		cmocka_unit_test_setup(test_keep_monthly_keeps_the_newest_of_each_month, setup_main_history),
		cmocka_unit_test_setup(test_keep_yearly_and_the_oldest_set, setup_main_history),
		cmocka_unit_test_setup(test_keep_within_counts_from_the_newest_set, setup_main_history),
		cmocka_unit_test_setup(test_rules_are_joined_with_every_reason, setup_main_history),
		cmocka_unit_test(test_keep_weekly_across_iso_week_53),
		cmocka_unit_test(test_restic_documentation_example),
		cmocka_unit_test(test_never_removed_sets),
		cmocka_unit_test(test_empty_policy_removes_no_complete_set),
		cmocka_unit_test(test_keep_within_ignores_sets_from_the_future),
		cmocka_unit_test(test_id_time),
		cmocka_unit_test(test_durations),
	};

	/* Far from UTC, so a rule that used local time would fail. */
	setenv("TZ", "JST-9", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
