/*
 * pg_data_reader: exact row counts from a custom-format dump's data blocks,
 * fed in any split, with COPY's end marker not counted, large-object blocks
 * skipped, and malformed or cut streams refused.  Routing: every block is
 * handed on per dump id as a valid block of the same format, carrying the
 * same COPY text; unchanged without coalescing; with coalescing, table data
 * re-framed into joined chunks of at most the limit, large objects unchanged;
 * a refusing route stops the feed with -2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/format/pg_dumpfile.h"

struct buf {
	unsigned char b[1 << 15];
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
		struct pg_data_reader *c = pg_data_reader_new(4);
		for (size_t off = 0; off < o.n; off += step)
			assert_int_equal(pg_data_reader_feed(c, o.b + off, o.n - off < step ? o.n - off : step, why, sizeof(why)), 0);
		assert_int_equal(pg_data_reader_finish(c, why, sizeof(why)), 0);
		assert_int_equal(pg_data_reader_rows(c, 7), 3);
		assert_int_equal(pg_data_reader_rows(c, 9), 0);
		assert_int_equal(pg_data_reader_rows(c, 8), -1); /* no block */
		assert_int_equal(pg_data_reader_rows(c, 5), -1); /* large objects are not a table */
		pg_data_reader_free(c);
	}
}

static void test_cut_or_malformed_streams_are_refused(void **state)
{
	struct buf o;
	char why[256];
	struct pg_data_reader *c;
	(void)state;
	sample(&o);
	c = pg_data_reader_new(4);
	assert_int_equal(pg_data_reader_feed(c, o.b, 30, why, sizeof(why)), 0);
	assert_int_equal(pg_data_reader_finish(c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "ends inside"));
	pg_data_reader_free(c);

	/* a table block without COPY's end marker */
	memset(&o, 0, sizeof(o));
	o.b[o.n++] = 1;
	put_int(&o, 7);
	put_chunk(&o, "1\tx\n");
	put_int(&o, 0);
	c = pg_data_reader_new(4);
	assert_int_equal(pg_data_reader_feed(c, o.b, o.n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "end marker"));
	pg_data_reader_free(c);

	/* an unknown block type */
	c = pg_data_reader_new(4);
	assert_int_equal(pg_data_reader_feed(c, (const unsigned char *)"\x09", 1, why, sizeof(why)), -1);
	pg_data_reader_free(c);
}

/* ------------------------------------------------------------ routing */

/* The COPY text of sample()'s blocks, end marker included, and its large
 * object's bytes. */
#define TEXT7 "1\tline one\n2\ttwo\\nstill two\n3\tthree\n\\.\n\n\n"
#define TEXT9 "\\.\n\n\n"
#define TEXT5 "binary\n\n\nbytes"

static void put_bytes(struct buf *o, const void *p, size_t n)
{
	put_int(o, (int64_t)n);
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

/* A table of 1000 rows of 10 bytes, one chunk per row as pg_dump writes
 * them (id 11), a large-object block with two objects in uneven chunks
 * (id 12), and a one-row table (id 13).  copy11 gets table 11's COPY text. */
#define BIG_ROWS 1000
static void big_sample(struct buf *o, char *copy11, size_t *copy11_len)
{
	static const unsigned char lo[] = { 0, 1, 2, '\n', 0xff, '\\', '.', '\n', '\n', '\n', 7 };
	memset(o, 0, sizeof(*o));
	*copy11_len = 0;
	o->b[o->n++] = 1;
	put_int(o, 11);
	for (int i = 0; i < BIG_ROWS; i++) {
		char row[16];
		snprintf(row, sizeof(row), "r%04d\txyz\n", i); /* 10 bytes */
		put_chunk(o, row);
		memcpy(copy11 + *copy11_len, row, 10);
		*copy11_len += 10;
	}
	put_chunk(o, "\\.\n\n\n");
	memcpy(copy11 + *copy11_len, "\\.\n\n\n", 5);
	*copy11_len += 5;
	put_int(o, 0);
	o->b[o->n++] = 3;
	put_int(o, 12);
	put_int(o, 16401);
	put_bytes(o, lo, 1);
	put_bytes(o, lo + 1, 10);
	put_int(o, 0);
	put_int(o, 16402);
	put_bytes(o, lo, sizeof(lo));
	put_bytes(o, lo + 3, 1);
	put_int(o, 0);
	put_int(o, 0);
	o->b[o->n++] = 1;
	put_int(o, 13);
	put_chunk(o, "42\tanswer\n");
	put_chunk(o, "\\.\n\n\n");
	put_int(o, 0);
}

/* A block parsed by the test's own reading of the format (int size 4). */
struct block {
	int type;
	int64_t id;
	unsigned char *payload; /* the chunks' bytes, joined */
	size_t payload_len;
	size_t chunks, max_chunk;
	size_t last_chunk, max_before_last; /* the last chunk's size, the largest before it */
	size_t len; /* bytes the block takes */
};

static int get_int(const unsigned char *b, size_t len, size_t *pos, int64_t *v)
{
	uint64_t u = 0;
	if (len - *pos < 5)
		return -1;
	for (int i = 0; i < 4; i++)
		u |= (uint64_t)b[*pos + 1 + i] << (8 * i);
	*v = b[*pos] ? -(int64_t)u : (int64_t)u;
	*pos += 5;
	return 0;
}

/* One block at the start of b[0, len); -1 when malformed or cut short. */
static int parse_block(const unsigned char *b, size_t len, struct block *out)
{
	size_t pos = 0;
	int64_t v;

	memset(out, 0, sizeof(*out));
	if (len < 1 || (b[0] != 1 && b[0] != 3))
		return -1;
	out->type = b[pos++];
	if (get_int(b, len, &pos, &out->id) != 0)
		return -1;
	out->payload = malloc(len + 1);
	for (;;) {
		if (out->type == 3) {
			if (get_int(b, len, &pos, &v) != 0)
				goto bad;
			if (v == 0)
				break; /* oid 0: no more large objects */
		}
		for (;;) {
			if (get_int(b, len, &pos, &v) != 0 || v < 0)
				goto bad;
			if (v == 0)
				break;
			if ((uint64_t)v > len - pos)
				goto bad;
			memcpy(out->payload + out->payload_len, b + pos, (size_t)v);
			out->payload_len += (size_t)v;
			pos += (size_t)v;
			out->chunks++;
			if ((size_t)v > out->max_chunk)
				out->max_chunk = (size_t)v;
			if (out->chunks > 1 && out->last_chunk > out->max_before_last)
				out->max_before_last = out->last_chunk;
			out->last_chunk = (size_t)v;
		}
		if (out->type == 1)
			break;
	}
	out->len = pos;
	return 0;
bad:
	free(out->payload);
	out->payload = NULL;
	return -1;
}

#define MAX_ID 16

/* Where each block of an input stream is, found with parse_block. */
struct layout {
	size_t off[MAX_ID], len[MAX_ID];
	int type[MAX_ID];
};

static void layout_of(const struct buf *o, struct layout *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t off = 0; off < o->n;) {
		struct block blk;
		assert_int_equal(parse_block(o->b + off, o->n - off, &blk), 0);
		assert_true(blk.id >= 0 && blk.id < MAX_ID);
		l->off[blk.id] = off;
		l->len[blk.id] = blk.len;
		l->type[blk.id] = blk.type;
		off += blk.len;
		free(blk.payload);
	}
}

/* What a route received: the bytes per dump id, and the ids in the order
 * their runs of calls came. */
struct routed {
	unsigned char *b[MAX_ID];
	size_t n[MAX_ID];
	int64_t order[64];
	size_t norder;
	int bad_id;
	int bad_piece;           /* a ROWS piece not ending at a row's end, or a PART one that does */
	size_t calls, refuse_at; /* refuse the refuse_at-th call (1-based); 0: never */
};

/* A ROWS piece's COPY text ends with a row's newline, a PART one's does not. */
static int piece_is_wrong(enum pg_piece piece, const unsigned char *p, size_t len)
{
	if (piece != PG_PIECE_ROWS && piece != PG_PIECE_PART)
		return 0;
	if (len <= 5) /* sign byte, 4-byte length: no data */
		return 1;
	return (p[len - 1] == '\n') != (piece == PG_PIECE_ROWS);
}

static int collect(void *arg, int64_t id, enum pg_piece piece, const unsigned char *p, size_t len)
{
	struct routed *r = arg;
	unsigned char *grown;

	if (++r->calls == r->refuse_at)
		return 1;
	if (piece_is_wrong(piece, p, len))
		r->bad_piece = 1;
	if (id < 0 || id >= MAX_ID) {
		r->bad_id = 1;
		return 0;
	}
	if ((r->norder == 0 || r->order[r->norder - 1] != id) && r->norder < 64)
		r->order[r->norder++] = id;
	if (!(grown = realloc(r->b[id], r->n[id] + len + 1)))
		return 1;
	r->b[id] = grown;
	memcpy(r->b[id] + r->n[id], p, len);
	r->n[id] += len;
	return 0;
}

static void routed_free(struct routed *r)
{
	for (int i = 0; i < MAX_ID; i++)
		free(r->b[i]);
	memset(r, 0, sizeof(*r));
}

/* Feed o in steps of `step` bytes to a reader routing into r; the reader,
 * finished, is returned for its counts. */
static struct pg_data_reader *route_all(const struct buf *o, size_t step, size_t coalesce, struct routed *r)
{
	struct pg_data_reader *c = pg_data_reader_new(4);
	char why[256] = "";
	assert_non_null(c);
	memset(r, 0, sizeof(*r));
	assert_int_equal(pg_data_reader_route(c, collect, r, coalesce), 0);
	for (size_t off = 0; off < o->n; off += step) {
		int rc = pg_data_reader_feed(c, o->b + off, o->n - off < step ? o->n - off : step, why, sizeof(why));
		if (rc != 0)
			fail_msg("coalesce %zu, step %zu: feed returned %d at byte %zu: %s", coalesce, step, rc, off, why);
	}
	assert_int_equal(pg_data_reader_finish(c, why, sizeof(why)), 0);
	assert_false(r->bad_id);
	if (r->bad_piece)
		fail_msg("coalesce %zu, step %zu: a piece said ROWS or PART wrongly", coalesce, step);
	return c;
}

static const size_t coalesce_values[] = { 0, 1, 7, 65536 };
#define N_COALESCE (sizeof(coalesce_values) / sizeof(coalesce_values[0]))

/* The schedule of split sizes the first test uses, for the larger stream. */
#define FOR_EACH_STEP(step, n) for (size_t step = 1; step <= (n); step = step < 8 ? step + 1 : step * 3)

static void assert_payload(const struct routed *r, int64_t id, int type, const void *text, size_t text_len,
			   size_t coalesce, size_t step)
{
	struct block blk;
	if (parse_block(r->b[id], r->n[id], &blk) != 0)
		fail_msg("coalesce %zu, step %zu: the %zu bytes routed to id %lld are not a block", coalesce, step,
			 r->n[id], (long long)id);
	if (blk.len != r->n[id] || blk.id != id || blk.type != type)
		fail_msg("coalesce %zu, step %zu: id %lld routed %zu bytes, block of %zu, id %lld, type %d", coalesce, step,
			 (long long)id, r->n[id], blk.len, (long long)blk.id, blk.type);
	if (blk.payload_len != text_len || memcmp(blk.payload, text, text_len) != 0)
		fail_msg("coalesce %zu, step %zu: id %lld carries %zu bytes of other text than the original %zu", coalesce,
			 step, (long long)id, blk.payload_len, text_len);
	free(blk.payload);
}

static void test_routed_blocks_carry_the_original_copy_text_in_any_split(void **state)
{
	struct buf o;
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len;
	(void)state;

	sample(&o);
	for (size_t k = 0; k < N_COALESCE; k++)
		for (size_t step = 1; step <= o.n; step++) {
			struct routed r;
			struct pg_data_reader *c = route_all(&o, step, coalesce_values[k], &r);
			assert_int_equal(r.norder, 3); /* the blocks, whole and in order */
			assert_int_equal(r.order[0], 7);
			assert_int_equal(r.order[1], 5);
			assert_int_equal(r.order[2], 9);
			assert_payload(&r, 7, 1, TEXT7, strlen(TEXT7), coalesce_values[k], step);
			assert_payload(&r, 5, 3, TEXT5, strlen(TEXT5), coalesce_values[k], step);
			assert_payload(&r, 9, 1, TEXT9, strlen(TEXT9), coalesce_values[k], step);
			assert_int_equal(pg_data_reader_rows(c, 7), 3); /* routing leaves the counts alone */
			assert_int_equal(pg_data_reader_rows(c, 9), 0);
			pg_data_reader_free(c);
			routed_free(&r);
		}

	big_sample(&o, copy11, &copy11_len);
	for (size_t k = 0; k < N_COALESCE; k++)
		FOR_EACH_STEP(step, o.n) {
			struct routed r;
			struct pg_data_reader *c = route_all(&o, step, coalesce_values[k], &r);
			assert_int_equal(r.norder, 3);
			assert_payload(&r, 11, 1, copy11, copy11_len, coalesce_values[k], step);
			assert_payload(&r, 13, 1, "42\tanswer\n\\.\n\n\n", 15, coalesce_values[k], step);
			assert_int_equal(pg_data_reader_rows(c, 11), BIG_ROWS);
			pg_data_reader_free(c);
			routed_free(&r);
		}
}

/* Feed one id's routed bytes to a fresh reader without a route: 0 when they
 * parse to `rows`, else -1 with the reason in msg (the caller fails after
 * freeing what it holds). */
static int reparses(const struct routed *r, int64_t id, int64_t rows, size_t coalesce, size_t step, char *msg,
		    size_t cap)
{
	struct pg_data_reader *fresh = pg_data_reader_new(4);
	char why[256] = "";
	int rc, bad = 0;
	assert_non_null(fresh);
	if ((rc = pg_data_reader_feed(fresh, r->b[id], r->n[id], why, sizeof(why))) != 0)
		bad = snprintf(msg, cap, "coalesce %zu, step %zu: the bytes routed to id %lld do not parse again: feed %d: %s",
			       coalesce, step, (long long)id, rc, why);
	else if (pg_data_reader_finish(fresh, why, sizeof(why)) != 0)
		bad = snprintf(msg, cap, "coalesce %zu, step %zu: the bytes routed to id %lld do not parse again: %s",
			       coalesce, step, (long long)id, why);
	else if (pg_data_reader_rows(fresh, id) != rows)
		bad = snprintf(msg, cap, "coalesce %zu, step %zu: id %lld parses again to %lld rows, not %lld", coalesce,
			       step, (long long)id, (long long)pg_data_reader_rows(fresh, id), (long long)rows);
	pg_data_reader_free(fresh);
	return bad ? -1 : 0;
}

static void test_routed_blocks_parse_again_to_the_same_rows(void **state)
{
	static const int64_t small_ids[] = { 7, 9, 5 }, small_rows[] = { 3, 0, -1 }; /* 5: a valid block, not a table */
	static const int64_t big_ids[] = { 11, 12, 13 }, big_rows[] = { BIG_ROWS, -1, 1 };
	struct buf o;
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len;
	char msg[512];
	(void)state;

	for (int big = 0; big <= 1; big++) {
		const int64_t *ids = big ? big_ids : small_ids, *rows = big ? big_rows : small_rows;
		if (big)
			big_sample(&o, copy11, &copy11_len);
		else
			sample(&o);
		for (size_t k = 0; k < N_COALESCE; k++)
			/* every split of the small stream; the first test's schedule for the big one */
			for (size_t step = 1; step <= o.n; step = !big || step < 8 ? step + 1 : step * 3) {
				struct routed r;
				int bad = 0;
				pg_data_reader_free(route_all(&o, step, coalesce_values[k], &r));
				for (int j = 0; j < 3 && !bad; j++)
					bad = reparses(&r, ids[j], rows[j], coalesce_values[k], step, msg, sizeof(msg));
				routed_free(&r);
				if (bad)
					fail_msg("%s", msg);
			}
	}
}

static void assert_unchanged(const struct buf *o, const struct layout *l, const struct routed *r, int64_t id,
			     size_t coalesce, size_t step)
{
	if (r->n[id] != l->len[id] || memcmp(r->b[id], o->b + l->off[id], l->len[id]) != 0)
		fail_msg("coalesce %zu, step %zu: block %lld was routed as %zu bytes other than its %zu", coalesce, step,
			 (long long)id, r->n[id], l->len[id]);
}

/* o routed in reads of step bytes with coalesce: each block of ids comes
 * out as it went in.  Returns the bytes routed to those blocks. */
static size_t assert_routed_unchanged(const struct buf *o, const struct layout *l, size_t step, size_t coalesce,
				      const int64_t *ids, size_t n_ids)
{
	struct routed r;
	size_t total = 0;

	pg_data_reader_free(route_all(o, step, coalesce, &r));
	for (size_t i = 0; i < n_ids; i++) {
		assert_unchanged(o, l, &r, ids[i], coalesce, step);
		total += r.n[ids[i]];
	}
	routed_free(&r);
	return total;
}

/* Which blocks come out unchanged with which coalesce values: ids of the
 * small sample, in every read size, and of the big one. */
struct unchanged_case {
	size_t k_from, k_to; /* coalesce_values[k_from .. k_to - 1] */
	int64_t small_ids[3], big_ids[3];
	size_t n_small, n_big;
	int only_these; /* nothing but the small sample's ids was routed */
};

static void check_routed_unchanged(const struct unchanged_case *c)
{
	struct buf o;
	struct layout l;
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len, total;

	sample(&o);
	layout_of(&o, &l);
	for (size_t k = c->k_from; k < c->k_to; k++)
		for (size_t step = 1; step <= o.n; step++) {
			total = assert_routed_unchanged(&o, &l, step, coalesce_values[k], c->small_ids, c->n_small);
			if (c->only_these)
				assert_int_equal(total, o.n);
		}
	big_sample(&o, copy11, &copy11_len);
	layout_of(&o, &l);
	for (size_t k = c->k_from; k < c->k_to; k++)
		FOR_EACH_STEP(step, o.n)
			assert_routed_unchanged(&o, &l, step, coalesce_values[k], c->big_ids, c->n_big);
}

static void test_without_coalescing_blocks_are_routed_byte_for_byte(void **state)
{
	static const struct unchanged_case c = { .k_from = 0, .k_to = 1, .small_ids = { 7, 5, 9 }, .n_small = 3,
						  .big_ids = { 11, 12, 13 }, .n_big = 3, .only_these = 1 };
	(void)state;
	check_routed_unchanged(&c);
}

static void test_large_object_blocks_pass_unchanged_when_coalescing(void **state)
{
	static const struct unchanged_case c = { .k_from = 1, .k_to = N_COALESCE, .small_ids = { 5 }, .n_small = 1,
						  .big_ids = { 12 }, .n_big = 1 };
	(void)state;
	check_routed_unchanged(&c);
}

/* Table data chunks as routed: none longer than c, and no more than the
 * COPY text's rows need in chunks of c (COPY's 5-byte end marker may travel
 * with them or in chunks of its own). */
static void assert_coalesced(const struct routed *r, int64_t id, size_t c, size_t step)
{
	struct block blk;
	size_t most;
	assert_int_equal(parse_block(r->b[id], r->n[id], &blk), 0);
	assert_true(blk.payload_len >= 5);
	/* COPY's end marker stays a 5-byte chunk of its own, last, as pg_dump
	 * writes it (drctl's own reader insists on that); the rows before it
	 * are joined into chunks of at most c, each cut after its last whole
	 * row when it has one, so any two chunks in a row hold more than c
	 * bytes together: at most twice ceil(bytes / c) of them. */
	if (blk.last_chunk != 5 || memcmp(blk.payload + blk.payload_len - 5, "\\.\n\n\n", 5) != 0)
		fail_msg("coalesce %zu, step %zu: id %lld does not end with the end marker as a chunk of its own", c, step,
			 (long long)id);
	most = 2 * ((blk.payload_len - 5 + c - 1) / c) + 1;
	if (blk.max_before_last > c)
		fail_msg("coalesce %zu, step %zu: id %lld has a chunk of %zu bytes", c, step, (long long)id,
			 blk.max_before_last);
	if (blk.chunks > most)
		fail_msg("coalesce %zu, step %zu: id %lld's %zu bytes came in %zu chunks, more than %zu", c, step,
			 (long long)id, blk.payload_len, blk.chunks, most);
	free(blk.payload);
}

static void test_coalesced_table_chunks_are_joined_and_never_over_the_limit(void **state)
{
	struct buf o;
	struct layout l;
	struct block orig;
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len;
	(void)state;

	sample(&o);
	for (size_t k = 1; k < N_COALESCE; k++)
		for (size_t step = 1; step <= o.n; step++) {
			struct routed r;
			pg_data_reader_free(route_all(&o, step, coalesce_values[k], &r));
			assert_coalesced(&r, 7, coalesce_values[k], step); /* 41 bytes: at most 41, 7 or 2 chunks */
			assert_coalesced(&r, 9, coalesce_values[k], step);
			routed_free(&r);
		}
	big_sample(&o, copy11, &copy11_len);
	layout_of(&o, &l);
	assert_int_equal(parse_block(o.b + l.off[11], l.len[11], &orig), 0);
	assert_int_equal(orig.chunks, BIG_ROWS + 1); /* one chunk per row, and the end marker */
	free(orig.payload);
	for (size_t k = 1; k < N_COALESCE; k++)
		FOR_EACH_STEP(step, o.n) {
			struct routed r;
			struct block blk;
			pg_data_reader_free(route_all(&o, step, coalesce_values[k], &r));
			assert_coalesced(&r, 11, coalesce_values[k], step);
			if (coalesce_values[k] == 65536) { /* the 1000 row chunks become one */
				size_t first;
				assert_int_equal(parse_block(r.b[11], r.n[11], &blk), 0);
				/* the first chunk's length: after the type byte, the id and its own sign byte */
				first = (size_t)r.b[11][7] | (size_t)r.b[11][8] << 8 | (size_t)r.b[11][9] << 16;
				assert_true(blk.chunks <= 2);
				assert_true(first >= BIG_ROWS * 10); /* all the rows in the first chunk */
				free(blk.payload);
			}
			routed_free(&r);
		}
}

static void test_bytes_is_each_tables_copy_text_size(void **state)
{
	struct buf o;
	char why[256];
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len;
	(void)state;

	sample(&o);
	for (size_t k = 0; k <= N_COALESCE; k++) { /* without a route, then with each coalescing */
		struct routed r;
		struct pg_data_reader *c;
		if (k == 0) {
			c = pg_data_reader_new(4);
			assert_int_equal(pg_data_reader_feed(c, o.b, o.n, why, sizeof(why)), 0);
		} else {
			c = route_all(&o, 3, coalesce_values[k - 1], &r);
			routed_free(&r);
		}
		assert_int_equal(pg_data_reader_bytes(c, 7), strlen(TEXT7));
		assert_int_equal(pg_data_reader_bytes(c, 9), strlen(TEXT9));
		assert_int_equal(pg_data_reader_bytes(c, 8), 0); /* no block */
		pg_data_reader_free(c);
	}
	big_sample(&o, copy11, &copy11_len);
	FOR_EACH_STEP(step, o.n) {
		struct routed r;
		struct pg_data_reader *c = route_all(&o, step, 65536, &r);
		assert_int_equal(pg_data_reader_bytes(c, 11), copy11_len);
		assert_int_equal(pg_data_reader_bytes(c, 13), 15);
		pg_data_reader_free(c);
		routed_free(&r);
	}
}

static void test_a_refusing_route_makes_feed_return_minus_2(void **state)
{
	static const size_t steps[] = { 1, 3, 17, sizeof(((struct buf *)0)->b) };
	struct buf o;
	(void)state;

	sample(&o);
	for (size_t k = 0; k < N_COALESCE; k++) {
		struct routed all;
		size_t calls;
		pg_data_reader_free(route_all(&o, o.n, coalesce_values[k], &all));
		calls = all.calls;
		routed_free(&all);
		assert_true(calls >= 3);
		/* refuse each call in turn: the header, the data, the block's end */
		for (size_t refuse = 1; refuse <= calls; refuse++)
			for (size_t si = 0; si < sizeof(steps) / sizeof(steps[0]); si++) {
				struct routed r;
				struct pg_data_reader *c = pg_data_reader_new(4);
				char why[256];
				int rc = 0;
				size_t step = steps[si];
				memset(&r, 0, sizeof(r));
				r.refuse_at = refuse;
				assert_int_equal(pg_data_reader_route(c, collect, &r, coalesce_values[k]), 0);
				for (size_t off = 0; off < o.n && rc == 0; off += step)
					rc = pg_data_reader_feed(c, o.b + off, o.n - off < step ? o.n - off : step, why,
								 sizeof(why));
				if (rc != -2 || r.calls != refuse)
					fail_msg("coalesce %zu, step %zu: refusing call %zu of %zu: feed returned %d after %zu calls",
						 coalesce_values[k], step, refuse, calls, rc, r.calls);
				pg_data_reader_free(c);
				routed_free(&r);
			}
	}
}

/* Two loaders sharing table 11's rows: each gets the head and the end, and
 * each ROWS piece goes to the other one than the piece before (PART pieces
 * stay with the row they began).  Each share is a valid block again, the
 * rows add up, and every row is in exactly one share. */
struct shared_out {
	struct routed share[2];
	int to;
};

static int share_rows(void *arg, int64_t id, enum pg_piece piece, const unsigned char *p, size_t len)
{
	struct shared_out *s = arg;

	if (id != 11)
		return collect(&s->share[0], id, piece, p, len);
	if (piece == PG_PIECE_HEAD || piece == PG_PIECE_END)
		return collect(&s->share[0], id, piece, p, len) || collect(&s->share[1], id, piece, p, len);
	assert_true(piece == PG_PIECE_ROWS || piece == PG_PIECE_PART);
	if (collect(&s->share[s->to], id, piece, p, len) != 0)
		return 1;
	if (piece == PG_PIECE_ROWS)
		s->to = !s->to;
	return 0;
}

static void test_rows_shared_out_at_row_ends_make_two_valid_blocks(void **state)
{
	static const size_t coalesce[] = { 7, 10, 25, 64, 4096 };
	static char copy11[BIG_ROWS * 10 + 5];
	size_t copy11_len;
	struct buf o;
	char why[256];
	(void)state;

	big_sample(&o, copy11, &copy11_len);
	for (size_t k = 0; k < sizeof(coalesce) / sizeof(coalesce[0]); k++)
		FOR_EACH_STEP(step, o.n) {
			struct shared_out s;
			struct pg_data_reader *c = pg_data_reader_new(4);
			int64_t rows[2];
			char seen[BIG_ROWS] = { 0 };

			memset(&s, 0, sizeof(s));
			assert_int_equal(pg_data_reader_route(c, share_rows, &s, coalesce[k]), 0);
			for (size_t off = 0; off < o.n; off += step)
				assert_int_equal(pg_data_reader_feed(c, o.b + off, o.n - off < step ? o.n - off : step, why, sizeof(why)), 0);
			assert_int_equal(pg_data_reader_finish(c, why, sizeof(why)), 0);
			pg_data_reader_free(c);
			for (int i = 0; i < 2; i++) {
				struct pg_data_reader *again = pg_data_reader_new(4);
				struct block blk;
				if (s.share[i].bad_piece)
					fail_msg("coalesce %zu, step %zu: a piece said ROWS or PART wrongly", coalesce[k], step);
				if (pg_data_reader_feed(again, s.share[i].b[11], s.share[i].n[11], why, sizeof(why)) != 0 ||
				    pg_data_reader_finish(again, why, sizeof(why)) != 0)
					fail_msg("coalesce %zu, step %zu: share %d of table 11 is not a block: %s", coalesce[k], step, i,
						 why);
				rows[i] = pg_data_reader_rows(again, 11);
				pg_data_reader_free(again);
				assert_int_equal(parse_block(s.share[i].b[11], s.share[i].n[11], &blk), 0);
				/* whole rows "rNNNN\txyz\n", then the end marker */
				assert_true(blk.payload_len >= 5 && (blk.payload_len - 5) % 10 == 0);
				assert_memory_equal(blk.payload + blk.payload_len - 5, "\\.\n\n\n", 5);
				for (size_t r = 0; r + 5 < blk.payload_len; r += 10) {
					int n = atoi((const char *)blk.payload + r + 1);
					assert_true(n >= 0 && n < BIG_ROWS);
					if (seen[n]++)
						fail_msg("coalesce %zu, step %zu: row %d is in both shares", coalesce[k], step, n);
				}
				free(blk.payload);
			}
			if (rows[0] + rows[1] != BIG_ROWS || rows[0] == 0 || rows[1] == 0)
				fail_msg("coalesce %zu, step %zu: the shares hold %lld and %lld rows of %d", coalesce[k], step,
					 (long long)rows[0], (long long)rows[1], BIG_ROWS);
			for (int i = 0; i < 2; i++)
				routed_free(&s.share[i]);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_are_counted_in_any_split),
		cmocka_unit_test(test_cut_or_malformed_streams_are_refused),
		cmocka_unit_test(test_routed_blocks_carry_the_original_copy_text_in_any_split),
		cmocka_unit_test(test_routed_blocks_parse_again_to_the_same_rows),
		cmocka_unit_test(test_without_coalescing_blocks_are_routed_byte_for_byte),
		cmocka_unit_test(test_large_object_blocks_pass_unchanged_when_coalescing),
		cmocka_unit_test(test_coalesced_table_chunks_are_joined_and_never_over_the_limit),
		cmocka_unit_test(test_bytes_is_each_tables_copy_text_size),
		cmocka_unit_test(test_a_refusing_route_makes_feed_return_minus_2),
		cmocka_unit_test(test_rows_shared_out_at_row_ends_make_two_valid_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
