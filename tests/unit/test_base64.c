/* base64: RFC 4648 section 10 vectors in both forms, and every kind of text
 * the strict decoder must refuse (age needs unpadded canonical base64,
 * minisign padded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/crypto/base64.h"

static const struct {
	const char *plain, *padded, *unpadded;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void test_rfc4648_vectors_encode_in_both_forms(void **state)
{
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t n = strlen(rfc4648[i].plain);
		assert_int_equal(base64_encoded_len(n, 1), strlen(rfc4648[i].padded));
		assert_int_equal(base64_encode((const uint8_t *)rfc4648[i].plain, n, out, 1), strlen(rfc4648[i].padded));
		assert_string_equal(out, rfc4648[i].padded);
		assert_int_equal(base64_encoded_len(n, 0), strlen(rfc4648[i].unpadded));
		assert_int_equal(base64_encode((const uint8_t *)rfc4648[i].plain, n, out, 0), strlen(rfc4648[i].unpadded));
		assert_string_equal(out, rfc4648[i].unpadded);
	}
}

static void test_rfc4648_vectors_decode_in_both_forms(void **state)
{
	uint8_t out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		size_t n = strlen(rfc4648[i].plain);
		memset(out, 0, sizeof(out));
		assert_int_equal(base64_decode(rfc4648[i].padded, strlen(rfc4648[i].padded), out, sizeof(out), 1), n);
		assert_memory_equal(out, rfc4648[i].plain, n);
		memset(out, 0, sizeof(out));
		assert_int_equal(base64_decode(rfc4648[i].unpadded, strlen(rfc4648[i].unpadded), out, sizeof(out), 0), n);
		assert_memory_equal(out, rfc4648[i].plain, n);
	}
}

static void test_every_byte_value_round_trips(void **state)
{
	uint8_t in[256], back[260];
	char text[400];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (size_t n = 0; n <= 256; n += 1 + n / 8) {
		for (int padded = 0; padded <= 1; padded++) {
			size_t len = base64_encode(in, n, text, padded);
			assert_int_equal(base64_decode(text, len, back, sizeof(back), padded), n);
			assert_memory_equal(back, in, n);
		}
	}
	base64_encode(in + 248, 8, text, 0);
	assert_string_equal(text, "+Pn6+/z9/v8"); /* the last two alphabet characters */
}

static void test_unpadded_decoder_refuses_padding_and_junk(void **state)
{
	static const char *bad[] = {
		"Zg==",   /* padding */
		"Zm8=",
		"Z",      /* a lone 6 bits */
		"Zm9vY",
		"Zh",     /* non-canonical: unused bits set ("f" is "Zg") */
		"Zm9",    /* non-canonical: "fo" is "Zm8" */
		"Zm 8",   /* space */
		"Zm8\n",  /* newline */
		"Zm-_",   /* URL alphabet */
		("Zm\x80" "8"), /* a byte outside ASCII */
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), 0), -1);
}

static void test_padded_decoder_requires_exact_padding(void **state)
{
	static const char *bad[] = {
		"Zg",     /* padding missing */
		"Zg=",    /* too short */
		"Zg===",  /* too much */
		"====",
		"Z===",
		"Zg==Zg==", /* padding in the middle */
		"Zh==",   /* non-canonical */
		"Zm9=",
		"=Zg=",
	};
	uint8_t out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(base64_decode(bad[i], strlen(bad[i]), out, sizeof(out), 1), -1);
}

static void test_decoder_respects_out_cap(void **state)
{
	uint8_t out[8];

	(void)state;
	memset(out, 0xaa, sizeof(out));
	/* "foobar" is 6 bytes: a 5-byte buffer is refused, nothing past it written. */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5, 0), -1);
	assert_int_equal(out[5], 0xaa);
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 6, 0), 6);
	assert_memory_equal(out, "foobar", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors_encode_in_both_forms),
		cmocka_unit_test(test_rfc4648_vectors_decode_in_both_forms),
		cmocka_unit_test(test_every_byte_value_round_trips),
		cmocka_unit_test(test_unpadded_decoder_refuses_padding_and_junk),
		cmocka_unit_test(test_padded_decoder_requires_exact_padding),
		cmocka_unit_test(test_decoder_respects_out_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
