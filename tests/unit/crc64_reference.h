/*
 * crc64_reference: CRC-64/Jones (the CRC of Redis's RDB files) straight
 * from its definition, bit by bit, reflected (poly 0xad93d23594c935a9):
 * the oracle test_crc64 checks lib/format/crc64 against, and the baseline
 * bench_crc64 measures it against.  Header only.
 */
#ifndef DRCTL_TESTS_UNIT_CRC64_REFERENCE_H
#define DRCTL_TESTS_UNIT_CRC64_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t crc64_reference(uint64_t crc, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
	}
	return crc;
}

#endif
