/*
 * retention: the keep rules of restic's `forget` and drctl's own never-remove
 * rules, as one pure decision (the semantics are in retention.h).
 *
 * The complete sets are sorted newest first once; each count rule then walks
 * that list with its own counter, keeping the first set of every period it
 * has not seen yet, so the rules never influence each other.  The decision of
 * a set is the join of what every rule said about it.
 */
#include "lib/set/retention.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char retention_empty_policy_note[] = "no [retention] rule is set: keeping every complete set";

#define PERIOD_KEY_MAX 32

/* A complete set whose time is known, in the newest-first list. */
struct dated_set {
	time_t time;
	const char *id;
	size_t index; /* into the caller's arrays */
};

/* The count rules; strftime formats name their UTC calendar periods. */
static const struct count_rule {
	enum retention_rule rule;
	const char *name;
	size_t policy_offset;
	const char *period_format; /* NULL: every set is its own period */
} count_rules[] = {
	{ RETENTION_KEEP_LAST, "keep-last", offsetof(struct retention_policy, keep_last), NULL },
	{ RETENTION_KEEP_HOURLY, "keep-hourly", offsetof(struct retention_policy, keep_hourly), "%Y-%m-%d %H:00" },
	{ RETENTION_KEEP_DAILY, "keep-daily", offsetof(struct retention_policy, keep_daily), "%Y-%m-%d" },
	/* ISO 8601: weeks start on Monday, and %G is the week's own year. */
	{ RETENTION_KEEP_WEEKLY, "keep-weekly", offsetof(struct retention_policy, keep_weekly), "%G-W%V" },
	{ RETENTION_KEEP_MONTHLY, "keep-monthly", offsetof(struct retention_policy, keep_monthly), "%Y-%m" },
	{ RETENTION_KEEP_YEARLY, "keep-yearly", offsetof(struct retention_policy, keep_yearly), "%Y" },
};
#define COUNT_RULES (sizeof(count_rules) / sizeof(count_rules[0]))

static long rule_count(const struct retention_policy *p, const struct count_rule *r)
{
	return *(const long *)((const char *)p + r->policy_offset);
}

int retention_id_time(const char *id, time_t *out)
{
	struct tm tm = { 0 }, check;
	time_t t;

	if (strlen(id) < 16)
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)id[i]))
			return -1;
	if (id[8] != 'T' || id[15] != 'Z' || (id[16] != '\0' && id[16] != '-'))
		return -1;
	if (sscanf(id, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	check = tm;
	t = timegm(&tm);
	/* timegm normalises 31 November into 1 December: such an id is no time. */
	if (t == (time_t)-1 || tm.tm_year != check.tm_year || tm.tm_mon != check.tm_mon ||
	    tm.tm_mday != check.tm_mday || tm.tm_hour != check.tm_hour || tm.tm_min != check.tm_min ||
	    tm.tm_sec != check.tm_sec)
		return -1;
	*out = t;
	return 0;
}

int retention_policy_is_empty(const struct retention_policy *p)
{
	for (size_t r = 0; r < COUNT_RULES; r++)
		if (rule_count(p, &count_rules[r]) > 0)
			return 0;
	return duration_is_zero(&p->keep_within);
}

void retention_policy_describe(const struct retention_policy *p, char *out, size_t cap)
{
	char grace[DURATION_TEXT_MAX], within[DURATION_TEXT_MAX];
	size_t len = 0;

	out[0] = '\0';
	if (retention_policy_is_empty(p)) {
		len = (size_t)snprintf(out, cap, "%s", retention_empty_policy_note);
	} else {
		for (size_t r = 0; r < COUNT_RULES; r++)
			if (rule_count(p, &count_rules[r]) > 0 && len < cap)
				len += (size_t)snprintf(out + len, cap - len, "%s%s %ld", len ? ", " : "",
							count_rules[r].name, rule_count(p, &count_rules[r]));
		if (!duration_is_zero(&p->keep_within) && len < cap) {
			duration_format(&p->keep_within, within);
			len += (size_t)snprintf(out + len, cap - len, "%skeep-within %s", len ? ", " : "", within);
		}
	}
	duration_format(&p->incomplete_grace, grace);
	if (len < cap)
		snprintf(out + len, cap - len, "; incomplete sets are removed %s%s%s",
			 duration_is_zero(&p->incomplete_grace) ? "at once" : "once ",
			 duration_is_zero(&p->incomplete_grace) ? "" : grace,
			 duration_is_zero(&p->incomplete_grace) ? "" : " old");
}

static void add_reason(struct retention_decision *d, enum retention_rule rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_reason(struct retention_decision *d, enum retention_rule rule, const char *fmt, ...)
{
	va_list ap;

	if (d->n_reasons == RETENTION_REASONS_MAX)
		return; /* more reasons than rules exist: cannot happen */
	d->reasons[d->n_reasons].rule = rule;
	va_start(ap, fmt);
	vsnprintf(d->reasons[d->n_reasons].text, RETENTION_REASON_TEXT, fmt, ap);
	va_end(ap);
	d->n_reasons++;
}

static int newest_first(const void *a, const void *b)
{
	const struct dated_set *x = a, *y = b;

	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	return -strcmp(x->id, y->id);
}

static void period_key(const struct count_rule *r, time_t t, size_t nr, char key[PERIOD_KEY_MAX])
{
	struct tm tm;

	if (!r->period_format) {
		snprintf(key, PERIOD_KEY_MAX, "#%zu", nr);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(key, PERIOD_KEY_MAX, r->period_format, &tm);
}

/* One count rule over the newest-first list: the newest set of each period
 * not seen yet, while the count lasts; and the oldest set when the count
 * outlasts the list (restic keeps it to make the history as long as the
 * rule allows). */
static void apply_count_rule(const struct count_rule *r, long n, const struct dated_set *list, size_t m,
			     struct retention_decision *decisions)
{
	char last[PERIOD_KEY_MAX] = "", key[PERIOD_KEY_MAX];
	long left = n;

	for (size_t nr = 0; nr < m && left > 0; nr++) {
		struct retention_decision *d = &decisions[list[nr].index];
		int new_period;

		period_key(r, list[nr].time, nr, key);
		new_period = nr == 0 || strcmp(key, last) != 0;
		if (!new_period && nr != m - 1)
			continue;
		if (!r->period_format)
			add_reason(d, r->rule, "%s %ld", r->name, n);
		else
			add_reason(d, r->rule, "%s (%s%s)", r->name, key, new_period ? "" : ", oldest set");
		memcpy(last, key, sizeof(last));
		left--;
	}
}

/* keep_within: relative to the newest complete set that is not in the
 * future; when every set is in the future, all of them are within. */
static void apply_keep_within(const struct duration *within, time_t now, const struct dated_set *list, size_t m,
			      struct retention_decision *decisions)
{
	char text[DURATION_TEXT_MAX];
	time_t newest = 0, from;
	int have_newest = 0;

	for (size_t nr = 0; nr < m && !have_newest; nr++)
		if (list[nr].time < now) {
			newest = list[nr].time;
			have_newest = 1;
		}
	from = have_newest ? duration_before(newest, within) : 0;
	duration_format(within, text);
	for (size_t nr = 0; nr < m; nr++)
		if (!have_newest || list[nr].time > from)
			add_reason(&decisions[list[nr].index], RETENTION_KEEP_WITHIN, "keep-within %s", text);
}

/* The rules over complete sets (or the empty policy's note). */
static void apply_keep_rules(const struct retention_policy *p, time_t now, const struct dated_set *list, size_t m,
			     struct retention_decision *decisions)
{
	if (retention_policy_is_empty(p)) {
		for (size_t nr = 0; nr < m; nr++)
			add_reason(&decisions[list[nr].index], RETENTION_NO_POLICY, "%s", retention_empty_policy_note);
	} else {
		for (size_t r = 0; r < COUNT_RULES; r++)
			if (rule_count(p, &count_rules[r]) > 0)
				apply_count_rule(&count_rules[r], rule_count(p, &count_rules[r]), list, m, decisions);
		if (!duration_is_zero(&p->keep_within))
			apply_keep_within(&p->keep_within, now, list, m, decisions);
	}
	if (m > 0)
		add_reason(&decisions[list[0].index], RETENTION_NEWEST, "newest complete set");
}

/* What the set's state says, once the rules have spoken. */
static void apply_state_rules(const struct retention_set *s, const struct retention_policy *p, time_t now,
			      struct retention_decision *d)
{
	char grace[DURATION_TEXT_MAX];

	duration_format(&p->incomplete_grace, grace);
	if (!s->time_known) {
		add_reason(d, RETENTION_NO_TIME, "%s, its id carries no time: kept", backup_set_state_name(s->state));
		return;
	}
	switch (s->state) {
	case SET_COMPLETE:
		if (d->n_reasons == 0) {
			add_reason(d, RETENTION_NO_RULE, "no rule keeps it");
			d->remove = 1;
		}
		break;
	case SET_INVALID:
		add_reason(d, RETENTION_INVALID, "invalid: kept as evidence");
		break;
	case SET_INCOMPLETE:
		if (s->time <= duration_before(now, &p->incomplete_grace)) {
			if (duration_is_zero(&p->incomplete_grace))
				add_reason(d, RETENTION_INCOMPLETE_OLD, "incomplete (incomplete_grace is 0)");
			else
				add_reason(d, RETENTION_INCOMPLETE_OLD, "incomplete, older than %s", grace);
			d->remove = 1;
		} else {
			add_reason(d, RETENTION_INCOMPLETE_YOUNG, "incomplete, younger than %s: may be a backup in progress",
				   grace);
		}
		break;
	}
}

int retention_decide(const struct retention_set *sets, size_t n, const struct retention_policy *p,
		     time_t now, struct retention_decision *decisions)
{
	struct dated_set *list = calloc(n ? n : 1, sizeof(*list));
	size_t m = 0;

	if (!list)
		return -1;
	memset(decisions, 0, n * sizeof(*decisions));
	for (size_t i = 0; i < n; i++) {
		if (sets[i].protected_reason)
			add_reason(&decisions[i], RETENTION_PROTECTED, "protected: %s", sets[i].protected_reason);
		if (sets[i].state == SET_COMPLETE && sets[i].time_known)
			list[m++] = (struct dated_set){ sets[i].time, sets[i].id, i };
	}
	qsort(list, m, sizeof(*list), newest_first);
	apply_keep_rules(p, now, list, m, decisions);
	for (size_t i = 0; i < n; i++) {
		apply_state_rules(&sets[i], p, now, &decisions[i]);
		if (sets[i].protected_reason)
			decisions[i].remove = 0;
	}
	free(list);
	return 0;
}

const char *retention_rule_name(enum retention_rule rule)
{
	switch (rule) {
	case RETENTION_KEEP_LAST: return "keep-last";
	case RETENTION_KEEP_HOURLY: return "keep-hourly";
	case RETENTION_KEEP_DAILY: return "keep-daily";
	case RETENTION_KEEP_WEEKLY: return "keep-weekly";
	case RETENTION_KEEP_MONTHLY: return "keep-monthly";
	case RETENTION_KEEP_YEARLY: return "keep-yearly";
	case RETENTION_KEEP_WITHIN: return "keep-within";
	case RETENTION_NEWEST: return "newest";
	case RETENTION_PROTECTED: return "protected";
	case RETENTION_NO_POLICY: return "no-policy";
	case RETENTION_INVALID: return "invalid";
	case RETENTION_INCOMPLETE_YOUNG: return "incomplete-young";
	case RETENTION_INCOMPLETE_OLD: return "incomplete-old";
	case RETENTION_NO_TIME: return "no-time";
	case RETENTION_NO_RULE: return "no-rule";
	}
	return "?";
}
