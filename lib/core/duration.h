/*
 * duration: spans of calendar time written as configuration values, such as
 * "30d", "2w", "36h" or "1y2m".
 *
 * A duration is a sum of units, each a whole number followed by its letter:
 * y (years), m (months), w (weeks), d (days), h (hours), in any order, each
 * at most once.  "0" is the empty duration.  There are no minutes: "m" is a
 * month, as in restic's --keep-within.
 *
 * Years and months are calendar units, not fixed numbers of seconds: one
 * month before 31 March is "31 February", which normalises to 3 March (2 in a
 * leap year), the way Go's time.AddDate and C's timegm() both count.  All
 * arithmetic is in UTC.
 */
#ifndef DRCTL_CORE_DURATION_H
#define DRCTL_CORE_DURATION_H

#include <stddef.h>
#include <time.h>

#define DURATION_UNIT_MAX 100000 /* any one unit: keeps the arithmetic in range */
#define DURATION_TEXT_MAX 64

struct duration {
	int years, months, weeks, days, hours;
};

/* 0, or -1 when text is not a duration (nothing is written to out then). */
int duration_parse(const char *text, struct duration *out);
int duration_is_zero(const struct duration *d);
/* t minus d, calendar units first (years, months, weeks and days from the
 * UTC date), then hours. */
time_t duration_before(time_t t, const struct duration *d);
/* The canonical text ("1y2m", "2w", "24h"; "0" for the empty duration). */
void duration_format(const struct duration *d, char out[DURATION_TEXT_MAX]);

#endif
