/*
 * test_utf8: strict UTF-8, the rule object names and metric label values
 * follow: each form RFC 3629 allows is taken, overlong forms, surrogates,
 * code points above U+10FFFF, stray continuation bytes and sequences cut
 * short are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/core/utf8.h"

static const struct {
	const char *text;
	size_t first; /* utf8_sequence_length of its first byte */
	int valid;
} cases[] = {
	{ "a", 1, 1 },
	{ "\xc3\xa9t\xc3\xa9", 2, 1 },        /* été */
	{ "\xe2\x82\xac", 3, 1 },             /* U+20AC */
	{ "\xf0\x9f\x98\x80", 4, 1 },         /* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", 4, 1 },         /* U+10FFFF, the last */
	{ "\xed\x9f\xbf", 3, 1 },             /* U+D7FF, just below the surrogates */
	{ "\xc0\xaf", 0, 0 },                 /* overlong '/' */
	{ "\xe0\x80\xaf", 0, 0 },             /* overlong, three bytes */
	{ "\xf0\x80\x80\xaf", 0, 0 },         /* overlong, four bytes */
	{ "\xed\xa0\x80", 0, 0 },             /* U+D800, a surrogate */
	{ "\xf4\x90\x80\x80", 0, 0 },         /* U+110000 */
	{ "\xf5\x80\x80\x80", 0, 0 },         /* no such lead byte */
	{ "\x80", 0, 0 },                     /* a continuation byte alone */
	{ "\xe2\x82", 0, 0 },                 /* cut short by the end */
	{ "\xe2(\xac", 0, 0 },                /* not a continuation byte */
	{ "ok\xc3", 1, 0 },                   /* valid start, cut short at the end */
};

static void each_case_is_judged_as_rfc_3629_says(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = utf8_sequence_length((const unsigned char *)cases[i].text);
		if (len != cases[i].first)
			fail_msg("case %zu: utf8_sequence_length is %zu, expected %zu", i, len, cases[i].first);
		if (utf8_valid(cases[i].text) != cases[i].valid)
			fail_msg("case %zu: utf8_valid is %d, expected %d", i, !cases[i].valid, cases[i].valid);
	}
	assert_true(utf8_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_case_is_judged_as_rfc_3629_says),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
