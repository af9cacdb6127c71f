/* crc64: the check value, agreement with a bit-at-a-time reference on every
 * length and alignment the slicing loop has edge cases for, piecewise
 * feeding, and a real Redis DUMP payload's stored CRC.  How fast it is:
 * bench/bench_crc64.c (figures, not a test). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/format/crc64.h"
#include "tests/unit/crc64_reference.h"


static void test_check_value_123456789(void **state)
{
	(void)state;
	assert_int_equal(crc64_update(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
	assert_int_equal(crc64_update(0, "", 0), 0);
}

static void test_matches_reference_every_length_and_alignment(void **state)
{
	uint8_t buf[600];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 17; off++)
		for (size_t len = 0; len + off <= 300; len++)
			assert_int_equal(crc64_update(0, buf + off, len),
					 crc64_reference(0, buf + off, len));
}

static void test_piecewise_equals_whole(void **state)
{
	uint8_t buf[1000];
	uint64_t whole, crc = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = crc64_update(0, buf, sizeof(buf));
	for (size_t i = 0, step = 1; i < sizeof(buf); i += step, step = step % 37 + 1) {
		size_t n = i + step > sizeof(buf) ? sizeof(buf) - i : step;
		crc = crc64_update(crc, buf + i, n);
	}
	assert_int_equal(crc, whole);
}

/* `SET k hello` then `DUMP k` on redis-server 7.0.15: type 0, string "hello",
 * RDB version 10, then the CRC of the 9 bytes before it, little-endian. */
static void test_redis_dump_payload_crc(void **state)
{
	static const uint8_t payload[] = {
		0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0x0a, 0x00,
		0x63, 0x72, 0xdf, 0x76, 0x65, 0x34, 0x20, 0x0a,
	};
	uint64_t stored = 0;

	(void)state;
	for (int i = 0; i < 8; i++)
		stored |= (uint64_t)payload[9 + i] << (8 * i);
	assert_int_equal(crc64_update(0, payload, 9), stored);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value_123456789),
		cmocka_unit_test(test_matches_reference_every_length_and_alignment),
		cmocka_unit_test(test_piecewise_equals_whole),
		cmocka_unit_test(test_redis_dump_payload_crc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
