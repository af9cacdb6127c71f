/*
 * crc64: the checksum Redis puts at the end of an RDB file and of every DUMP
 * payload.
 *
 * CRC-64/Jones as Redis uses it (src/crc64.c): polynomial 0xad93d23594c935a9,
 * reflected input and output, initial value 0, no final xor.  Check value:
 * crc64_update(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
 *
 * The value is the running state: start with 0 and feed pieces in order;
 * crc64_update(crc64_update(0, a), b) equals the CRC of a followed by b.
 */
#ifndef DRCTL_CRC64_H
#define DRCTL_CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64_update(uint64_t crc, const void *buf, size_t len);

#endif
