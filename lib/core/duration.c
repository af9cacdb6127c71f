/*
 * duration: parsing, formatting and subtracting calendar durations (see
 * duration.h for the syntax and the calendar rules).
 */
#include "lib/core/duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int *duration_unit(struct duration *d, char unit)
{
	switch (unit) {
	case 'y': return &d->years;
	case 'm': return &d->months;
	case 'w': return &d->weeks;
	case 'd': return &d->days;
	case 'h': return &d->hours;
	}
	return NULL;
}

int duration_parse(const char *text, struct duration *out)
{
	struct duration d = { 0 };
	char seen[8] = "";
	const char *p = text;

	if (!text || !*text)
		return -1;
	if (!strcmp(text, "0")) {
		*out = d;
		return 0;
	}
	while (*p) {
		long n = 0;
		int *field;

		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > DURATION_UNIT_MAX)
				return -1;
		}
		field = duration_unit(&d, *p);
		if (!field || strchr(seen, *p))
			return -1;
		seen[strlen(seen)] = *p++;
		*field = (int)n;
	}
	*out = d;
	return 0;
}

int duration_is_zero(const struct duration *d)
{
	return !d->years && !d->months && !d->weeks && !d->days && !d->hours;
}

time_t duration_before(time_t t, const struct duration *d)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year -= d->years;
	tm.tm_mon -= d->months;
	tm.tm_mday -= 7 * d->weeks + d->days;
	return timegm(&tm) - (time_t)d->hours * 3600;
}

void duration_format(const struct duration *d, char out[DURATION_TEXT_MAX])
{
	const struct { int n; char unit; } parts[] = {
		{ d->years, 'y' }, { d->months, 'm' }, { d->weeks, 'w' }, { d->days, 'd' }, { d->hours, 'h' },
	};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].n)
			len += (size_t)snprintf(out + len, DURATION_TEXT_MAX - len, "%d%c", parts[i].n, parts[i].unit);
	if (!len)
		snprintf(out, DURATION_TEXT_MAX, "0");
}
