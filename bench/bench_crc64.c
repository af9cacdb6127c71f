/*
 * bench_crc64: how fast lib/crc64 checksums, the CRC every Redis RDB and DUMP
 * payload carries, and which a backup computes while the RDB streams in.
 *
 *   build/bench/bench_crc64 [MIB]        (default 256 MiB per buffer size)
 *
 * For each buffer size it feeds MIB MiB of data through crc64_update and
 * prints the throughput; then it times a bit-at-a-time CRC (the definition,
 * no tables) on a smaller amount for comparison.  The sliced-table loop
 * should reach GB/s and be well over ten times the bitwise one; a figure near
 * the bitwise one means the fast path was lost.  Figures only: nothing here
 * passes or fails, since machines differ.  (The CRCs printed differ per line:
 * each line checksums its own repetition of the buffer.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/format/crc64.h"
#include "tests/unit/crc64_reference.h"

#define MiB (1024u * 1024u)

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static void fill(uint8_t *buf, size_t len)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

/* Feeds total bytes in pieces of piece bytes; returns MB/s. */
static double run_sliced(const uint8_t *buf, size_t piece, uint64_t total, uint64_t *crc)
{
	uint64_t done = 0;
	double t0 = now_seconds(), secs;

	*crc = 0;
	while (done < total) {
		*crc = crc64_update(*crc, buf, piece);
		done += piece;
	}
	secs = now_seconds() - t0;
	return (double)done / secs / 1e6;
}

int main(int argc, char **argv)
{
	static const size_t pieces[] = { 64, 4096, 64 * 1024, MiB };
	unsigned long mib = 256, bitwise_pieces;
	uint64_t total, crc;
	uint8_t *buf;
	double sliced_mbs = 0, bitwise_mbs, t0;

	if (argc > 2 || (argc == 2 && ((mib = strtoul(argv[1], NULL, 10)) == 0 || mib > 65536))) {
		fprintf(stderr, "usage: %s [MIB]   (MiB fed per buffer size, 1..65536, default 256)\n", argv[0]);
		return 2;
	}
	total = (uint64_t)mib * MiB;
	if (!(buf = malloc(MiB))) {
		fprintf(stderr, "bench_crc64: out of memory\n");
		return 1;
	}
	fill(buf, MiB);
	printf("crc64 (lib/crc64.c, slicing-by-16), %lu MiB per buffer size\n", mib);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		double mbs = run_sliced(buf, pieces[i], total, &crc);

		printf("  pieces of %8zu bytes: %8.0f MB/s  (crc %016llx)\n", pieces[i], mbs, (unsigned long long)crc);
		if (pieces[i] == MiB)
			sliced_mbs = mbs;
	}
	/* The bitwise loop is slow: a sixteenth of the amount is plenty. */
	bitwise_pieces = mib / 16 ? mib / 16 : 1;
	t0 = now_seconds();
	crc = 0;
	for (unsigned long i = 0; i < bitwise_pieces; i++)
		crc = crc64_reference(crc, buf, MiB); /* the baseline to compare with */
	bitwise_mbs = (double)bitwise_pieces * MiB / (now_seconds() - t0) / 1e6;
	printf("  bitwise reference:          %8.0f MB/s  (crc %016llx)\n", bitwise_mbs, (unsigned long long)crc);
	printf("  sliced / bitwise:           %8.1f x\n", sliced_mbs / bitwise_mbs);
	free(buf);
	return 0;
}
