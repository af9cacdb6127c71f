/*
 * retention: which backup sets `drctl prune` keeps and which it removes, and
 * why.  A pure decision: the caller gives the sets, the policy and "now";
 * nothing here reads the repository or the clock.
 *
 * The keep rules are restic's `forget` rules, applied to complete sets only:
 *
 *   keep_last N     the N newest complete sets.
 *   keep_hourly N   for each of the N most recent hours that have a complete
 *   keep_daily N    set, the newest set of that hour; likewise days, ISO
 *   keep_weekly N   weeks (Monday 00:00 to Sunday 23:59:59, numbered by ISO
 *   keep_monthly N  8601 week-year: 2027-01-03 is in 2026-W53), months and
 *   keep_yearly N   years.  Periods are calendar periods in UTC, not spans
 *                   counted back from now, and only periods that have a set
 *                   count.  When a rule still has periods left after the
 *                   oldest complete set, that oldest set is kept too ("oldest
 *                   set"), as restic does, so the history kept is as long as
 *                   the rule allows.
 *   keep_within D   every set made less than D before the newest complete set
 *                   (not before now: a repository whose backups stopped keeps
 *                   its last D of history).  Sets dated after now (a clock
 *                   that was wrong) do not count as the newest, as in restic.
 *
 * Every rule looks at every complete set on its own and the results are
 * joined: a set is kept when any rule keeps it, and its decision lists every
 * rule that did.
 *
 * drctl's own rules, on top:
 *   - an empty policy (every keep_* 0 and no keep_within) removes no complete
 *     set, and says so;
 *   - the newest complete set is never removed;
 *   - a protected set (the caller says why: a scenario run uses it, Object
 *     Lock holds it) is never removed;
 *   - an invalid set (a manifest whose signature or format fails) is never
 *     removed automatically: it is evidence;
 *   - an incomplete set (no signed manifest) is removed once it is at least
 *     incomplete_grace old (by the time in its id); a younger one may be a
 *     backup still running and is kept;
 *   - a set whose id carries no time is kept: no rule can place it.
 */
#ifndef DRCTL_SET_RETENTION_H
#define DRCTL_SET_RETENTION_H

#include <stddef.h>
#include <time.h>

#include "lib/core/duration.h"
#include "lib/set/backup_set.h"

struct retention_policy {
	long keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
	struct duration keep_within;      /* zero: off */
	struct duration incomplete_grace; /* zero: every incomplete set goes */
};

struct retention_set {
	const char *id;
	time_t time;                  /* the time the id encodes (retention_id_time) */
	int time_known;               /* 0: the id carries no time */
	enum backup_set_state state;
	const char *protected_reason; /* NULL, or why it must stay ("used by scenario run X") */
};

enum retention_rule {
	RETENTION_KEEP_LAST,
	RETENTION_KEEP_HOURLY,
	RETENTION_KEEP_DAILY,
	RETENTION_KEEP_WEEKLY,
	RETENTION_KEEP_MONTHLY,
	RETENTION_KEEP_YEARLY,
	RETENTION_KEEP_WITHIN,
	RETENTION_NEWEST,           /* the newest complete set */
	RETENTION_PROTECTED,
	RETENTION_NO_POLICY,        /* empty policy: every complete set stays */
	RETENTION_INVALID,          /* kept as evidence */
	RETENTION_INCOMPLETE_YOUNG, /* kept: may be a backup in progress */
	RETENTION_INCOMPLETE_OLD,   /* removed */
	RETENTION_NO_TIME,          /* kept: the id carries no time */
	RETENTION_NO_RULE,          /* removed: complete, and no rule keeps it */
};

#define RETENTION_REASONS_MAX 12
#define RETENTION_REASON_TEXT 160

struct retention_reason {
	enum retention_rule rule;
	char text[RETENTION_REASON_TEXT]; /* "keep-daily (2026-11-29)", "protected: ..." */
};

struct retention_decision {
	int remove;                 /* 0: keep */
	size_t n_reasons;
	struct retention_reason reasons[RETENTION_REASONS_MAX];
};

/* The time an id such as 20261129T020000Z-3f9a encodes: 0, or -1 when it
 * does not start with a valid YYYYMMDDTHHMMSSZ. */
int retention_id_time(const char *id, time_t *out);

int retention_policy_is_empty(const struct retention_policy *p);
/* "keep-last 7, keep-daily 7; incomplete sets go once 24h old", or the
 * empty policy's note. */
void retention_policy_describe(const struct retention_policy *p, char *out, size_t cap);
/* The message of an empty policy. */
extern const char retention_empty_policy_note[];

/* Decide every set: decisions[i] is for sets[i] (any order in, the same
 * order out).  -1 only when out of memory. */
int retention_decide(const struct retention_set *sets, size_t n, const struct retention_policy *p,
		     time_t now, struct retention_decision *decisions);

/* "keep-daily", "protected", "incomplete", ... (for --json). */
const char *retention_rule_name(enum retention_rule rule);

#endif
