/*
 * random_secret: the generators of the secret rotation.  Each makes values
 * of its length from its alphabet only, no two alike, every character as
 * likely as the others (a modulo bias would make the first 8 of the 62
 * token characters 25% likelier: far outside the bounds checked here);
 * names and lengths that are not generators are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/crypto/random_secret.h"

static const char token_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void test_generators_parse_and_format(void **state)
{
	static const char *const good[] = { "token32", "hex64", "base64url43", "token16", "hex1024" };
	struct random_secret_generator g;
	struct drctl_error err = { 0 };
	char text[32];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(random_secret_parse(good[i], "[rotation] generated", &g, &err), 0);
		random_secret_format(&g, text, sizeof(text));
		assert_string_equal(text, good[i]);
	}
	assert_int_equal(random_secret_parse("hex64", "x", &g, &err), 0);
	assert_int_equal(g.alphabet, RANDOM_SECRET_HEX);
	assert_int_equal(g.length, 64);
}

static void test_what_is_not_a_generator_is_refused(void **state)
{
	static const char *const bad[] = { "token", "token8", "hex1025", "token32x", "sha32", "", "32", "Token32",
					   "base64", "hex-1" };
	struct random_secret_generator g;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct drctl_error err = { 0 };
		assert_int_equal(random_secret_parse(bad[i], "[rotation] generated", &g, &err), -1);
		assert_int_equal(err.code, EXIT_USAGE);
		assert_non_null(strstr(err.message, "[rotation] generated"));
	}
}

static void test_values_have_their_length_and_alphabet_and_differ(void **state)
{
	static const struct {
		const char *spec, *chars;
	} cases[] = {
		{ "token32", token_chars },
		{ "hex64", "0123456789abcdef" },
		{ "base64url43", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" },
	};
	struct drctl_error err = { 0 };
	char a[128], b[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct random_secret_generator g;
		assert_int_equal(random_secret_parse(cases[i].spec, "x", &g, &err), 0);
		assert_int_equal(random_secret_generate(&g, a, sizeof(a), &err), 0);
		assert_int_equal(random_secret_generate(&g, b, sizeof(b), &err), 0);
		assert_int_equal(strlen(a), g.length);
		assert_int_equal(strspn(a, cases[i].chars), g.length);
		assert_string_not_equal(a, b);
	}
}

static void test_every_character_is_equally_likely(void **state)
{
	struct random_secret_generator g = { RANDOM_SECRET_TOKEN, 1000 };
	struct drctl_error err = { 0 };
	long counts[62] = { 0 };
	char v[1001];

	(void)state;
	/* 124000 characters: 2000 expected of each, standard deviation ~44 */
	for (int round = 0; round < 124; round++) {
		assert_int_equal(random_secret_generate(&g, v, sizeof(v), &err), 0);
		for (size_t i = 0; i < 1000; i++)
			counts[strchr(token_chars, v[i]) - token_chars]++;
	}
	for (int c = 0; c < 62; c++) {
		assert_true(counts[c] > 1700);
		assert_true(counts[c] < 2300);
	}
}

static void test_a_buffer_too_small_is_an_error(void **state)
{
	struct random_secret_generator g = { RANDOM_SECRET_HEX, 64 };
	struct drctl_error err = { 0 };
	char v[64];

	(void)state;
	assert_int_equal(random_secret_generate(&g, v, sizeof(v), &err), -1);
	assert_int_equal(err.code, EXIT_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generators_parse_and_format),
		cmocka_unit_test(test_what_is_not_a_generator_is_refused),
		cmocka_unit_test(test_values_have_their_length_and_alphabet_and_differ),
		cmocka_unit_test(test_every_character_is_equally_likely),
		cmocka_unit_test(test_a_buffer_too_small_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
