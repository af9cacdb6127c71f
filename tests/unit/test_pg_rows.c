/*
 * pg_row_counter: exact row counts from a custom-format dump's data blocks,
 * fed in any split, with COPY's end marker not counted, large-object blocks
 * skipped, and malformed or cut streams refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg.h"

struct buf {
	unsigned char b[4096];
	size_t n;
};

static void put_int(struct buf *o, int64_t v) /* sign byte + 4 bytes LE */
{
	uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
	o->b[o->n++] = v < 0;
	for (int i = 0; i < 4; i++)
		o->b[o->n++] = (unsigned char)(u >> (8 * i));
}

static void put_chunk(struct buf *o, const char *s)
{
	put_int(o, (int64_t)strlen(s));
	memcpy(o->b + o->n, s, strlen(s));
	o->n += strlen(s);
}

/* Two tables (ids 7 and 9, the second empty) and a large-object block. */
static void sample(struct buf *o)
{
	memset(o, 0, sizeof(*o));
	o->b[o->n++] = 1;
	put_int(o, 7);
	put_chunk(o, "1\tline one\n");
	put_chunk(o, "2\ttwo\\nstill two\n"); /* an escaped newline is not a row */
	put_chunk(o, "3\tthree\n");
	put_chunk(o, "\\.\n\n\n");
	put_int(o, 0);
	o->b[o->n++] = 3; /* large objects: oid, chunks, 0; then oid 0 */
	put_int(o, 5);
	put_int(o, 16400);
	put_chunk(o, "binary\n\n\nbytes");
	put_int(o, 0);
	put_int(o, 0);
	o->b[o->n++] = 1;
	put_int(o, 9);
	put_chunk(o, "\\.\n\n\n");
	put_int(o, 0);
}

static void test_rows_are_counted_in_any_split(void **state)
{
	struct buf o;
	char why[256];
	(void)state;
	sample(&o);
	for (size_t step = 1; step <= o.n; step = step < 8 ? step + 1 : step * 3) {
		struct pg_row_counter *c = pg_row_counter_new(4);
		for (size_t off = 0; off < o.n; off += step)
			assert_int_equal(pg_row_counter_feed(c, o.b + off, o.n - off < step ? o.n - off : step, why, sizeof(why)), 0);
		assert_int_equal(pg_row_counter_finish(c, why, sizeof(why)), 0);
		assert_int_equal(pg_row_counter_rows(c, 7), 3);
		assert_int_equal(pg_row_counter_rows(c, 9), 0);
		assert_int_equal(pg_row_counter_rows(c, 8), -1); /* no block */
		assert_int_equal(pg_row_counter_rows(c, 5), -1); /* large objects are not a table */
		pg_row_counter_free(c);
	}
}

static void test_cut_or_malformed_streams_are_refused(void **state)
{
	struct buf o;
	char why[256];
	struct pg_row_counter *c;
	(void)state;
	sample(&o);
	c = pg_row_counter_new(4);
	assert_int_equal(pg_row_counter_feed(c, o.b, 30, why, sizeof(why)), 0);
	assert_int_equal(pg_row_counter_finish(c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "ends inside"));
	pg_row_counter_free(c);

	/* a table block without COPY's end marker */
	memset(&o, 0, sizeof(o));
	o.b[o.n++] = 1;
	put_int(&o, 7);
	put_chunk(&o, "1\tx\n");
	put_int(&o, 0);
	c = pg_row_counter_new(4);
	assert_int_equal(pg_row_counter_feed(c, o.b, o.n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "end marker"));
	pg_row_counter_free(c);

	/* an unknown block type */
	c = pg_row_counter_new(4);
	assert_int_equal(pg_row_counter_feed(c, (const unsigned char *)"\x09", 1, why, sizeof(why)), -1);
	pg_row_counter_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_counted_in_any_split),
		cmocka_unit_test(test_cut_or_malformed_streams_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
