/*
 * fuzz_pg_dump: drctl's readers of pg_dump's custom format on arbitrary
 * input: the TOC parser on the whole input, and the data-block reader, with
 * the routing and re-framing the parallel restore uses, on the input after
 * its first byte (which picks where the input is split in two feeds and how
 * large re-framed chunks may be).  Beyond not crashing, leaking or hanging,
 * one property is checked: when the reader accepts a stream, the blocks it
 * routed for each table read again, on their own, to the same rows.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/format/pg_dumpfile.h"

#define MAX_IDS 32

struct routed {
	int64_t id[MAX_IDS];
	unsigned char *buf[MAX_IDS];
	size_t len[MAX_IDS], cap[MAX_IDS];
	int n;
};

static int collect(void *arg, int64_t dump_id, enum pg_piece piece, const unsigned char *buf, size_t len)
{
	struct routed *r = arg;
	int i;

	/* a ROWS piece ends at a row's end, a PART one does not (after the
	 * sign byte and the 4-byte length) */
	if ((piece == PG_PIECE_ROWS || piece == PG_PIECE_PART) &&
	    (len <= 5 || (buf[len - 1] == '\n') != (piece == PG_PIECE_ROWS)))
		abort();
	for (i = 0; i < r->n && r->id[i] != dump_id; i++)
		;
	if (i == r->n) {
		if (r->n == MAX_IDS)
			return 0; /* enough to check */
		r->id[r->n++] = dump_id;
	}
	if (r->len[i] + len > r->cap[i]) {
		size_t cap = (r->len[i] + len) * 2;
		unsigned char *grown = realloc(r->buf[i], cap);
		if (!grown)
			abort();
		r->buf[i] = grown;
		r->cap[i] = cap;
	}
	memcpy(r->buf[i] + r->len[i], buf, len);
	r->len[i] += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t coalesce[] = { 0, 1, 5, 64, 65536 };
	struct routed r;
	struct pg_data_reader *c;
	json_t *info = json_object();
	char why[256];
	size_t split, body_len;
	const uint8_t *body;
	int ok;

	pg_toc_parse(data, size, info, why, sizeof(why));
	json_decref(info);
	if (size < 1)
		return 0;
	body = data + 1;
	body_len = size - 1;
	split = body_len ? (data[0] * 7u) % (body_len + 1) : 0;
	memset(&r, 0, sizeof(r));
	c = pg_data_reader_new(4);
	if (!c || pg_data_reader_route(c, collect, &r, coalesce[data[0] % 5]) != 0)
		abort();
	ok = pg_data_reader_feed(c, body, split, why, sizeof(why)) == 0 &&
	     pg_data_reader_feed(c, body + split, body_len - split, why, sizeof(why)) == 0 &&
	     pg_data_reader_finish(c, why, sizeof(why)) == 0;
	for (int i = 0; ok && i < r.n; i++) {
		struct pg_data_reader *again = pg_data_reader_new(4);
		if (!again)
			abort();
		if (pg_data_reader_feed(again, r.buf[i], r.len[i], why, sizeof(why)) != 0 ||
		    pg_data_reader_finish(again, why, sizeof(why)) != 0)
			abort(); /* a routed block that does not read again */
		if (pg_data_reader_rows(again, r.id[i]) != pg_data_reader_rows(c, r.id[i]))
			abort(); /* ... or reads to other rows */
		pg_data_reader_free(again);
	}
	pg_data_reader_free(c);
	for (int i = 0; i < r.n; i++)
		free(r.buf[i]);
	return 0;
}
