/*
 * rdb: the streaming parser against real RDBs of redis-server 7.0 (fixtures
 * made by tests/data/rdb/make-fixtures.sh, whose data the expected counts
 * below follow) and against synthetic RDBs written here for the types and
 * opcodes a 7.0 server does not write (legacy encodings, stream v1 and v3,
 * module values, version 12 opcodes, a large uncompressed value).
 *
 * The key property: for every key, type byte || raw value bytes || trailer
 * equals, byte for byte, what the server's own DUMP returned, whatever the
 * sizes of the pieces the RDB was fed in.
 *
 * This file: the real fixtures; test_rdb/synthetic.c the synthetic RDBs;
 * test_rdb/recorder.c the recorder and the feeding both use.
 */
#include "tests/unit/test_rdb/rdb_test.h"

/* ---- real fixtures ------------------------------------------------------ */

static void test_all_types_summary(void **state)
{
	struct wbuf f = read_file("all-types.rdb");
	struct run r = parse(f.d, f.len, WHOLE, 0);
	const struct rdb_db_stats *d0, *d3;

	(void)state;
	assert_true(run_ok(&r));
	assert_int_equal(r.sum.version, 10);
	assert_true(r.sum.complete);
	assert_int_equal(r.sum.crc_status, RDB_CRC_VERIFIED);
	assert_int_equal(r.sum.crc_stored, r.sum.crc_computed);
	assert_int_equal(r.sum.bytes, f.len);
	assert_int_equal(r.sum.keys, 22);
	assert_int_equal(r.sum.expires, 3);
	assert_int_equal(r.sum.ndbs, 2);
	d0 = db_stats(&r, 0);
	d3 = db_stats(&r, 3);
	assert_int_equal(d0->keys, 19);
	assert_int_equal(d0->expires, 2);
	assert_true(d0->has_resize);
	assert_int_equal(d0->resize_keys, 19);
	assert_int_equal(d0->resize_expires, 2);
	assert_int_equal(d3->keys, 3);
	assert_int_equal(d3->expires, 1);
	assert_int_equal(d3->resize_keys, 3);
	assert_int_equal(d3->resize_expires, 1);
	assert_int_equal(r.rec->resize_calls, 2);
	assert_int_equal(r.rec->select_calls, 2);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_STRING], 9);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_LIST_QUICKLIST_2], 2);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_SET], 2);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_SET_INTSET], 1);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_ZSET_LISTPACK], 1);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_ZSET_2], 1);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_HASH_LISTPACK], 3);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_HASH], 1);
	assert_int_equal(r.sum.keys_by_type[RDB_TYPE_STREAM_LISTPACKS_2], 2);
	assert_int_equal(r.sum.functions, 1);
	assert_int_equal(r.rec->fn_ends, 1);
	assert_int_equal(r.sum.aux_fields, 5);
	assert_string_equal(r.rec->redis_ver, "7.0.15");
	assert_string_equal(r.rec->redis_bits, "64");  /* integer-encoded aux value */
	/* Key names decoded: integer-encoded and LZF-compressed. */
	assert_int_equal(rec_key(r.rec, 0, "42")->type, RDB_TYPE_STRING);
	assert_int_equal(rec_key(r.rec, 0, "key:with:a:long:name:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")->expire_ms, -1);
	assert_int_equal(rec_key(r.rec, 0, "ttl:str")->expire_ms, TTL_2100);
	assert_int_equal(rec_key(r.rec, 0, "ttl:hash")->expire_ms, TTL_2100);
	assert_int_equal(rec_key(r.rec, 3, "db3:ttl")->expire_ms, TTL_2100);
	assert_int_equal(rec_key(r.rec, 0, "stream")->type, RDB_TYPE_STREAM_LISTPACKS_2);
	assert_int_equal(rec_key(r.rec, 0, "str:short")->lru_idle, -1);
	assert_int_equal(rec_key(r.rec, 0, "str:short")->lfu_freq, -1);
	rec_free(r.rec);
	wb_free(&f);
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* type || raw || trailer, as a restore would send it. */
static struct wbuf build_payload(uint8_t first, const struct wbuf *raw, int version)
{
	struct rdb_dump_builder b;
	uint8_t trailer[RDB_DUMP_TRAILER_LEN];
	struct wbuf out = {0};

	rdb_dump_begin(&b, first);
	/* in uneven pieces, as the parser delivers them */
	for (size_t off = 0, n = 1; off < raw->len; off += n, n = n * 3 + 1) {
		if (n > raw->len - off)
			n = raw->len - off;
		rdb_dump_add(&b, raw->d + off, n);
	}
	rdb_dump_trailer(&b, version, trailer);
	wb_byte(&out, first);
	wb_put(&out, raw->d, raw->len);
	wb_put(&out, trailer, sizeof(trailer));
	return out;
}

static void test_dump_payloads_match_server_dump(void **state)
{
	struct wbuf f = read_file("all-types.rdb"), dumps = read_file("dumps.txt");
	struct run r = parse(f.d, f.len, RANDOM, 7);
	char *save = NULL, *line;
	int checked = 0;

	(void)state;
	assert_true(run_ok(&r));
	wb_byte(&dumps, 0);
	for (line = strtok_r((char *)dumps.d, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char db[8], key[256];
		const char *hex = NULL;
		struct wbuf want = {0}, got;
		int n = 0;

		assert_int_equal(sscanf(line, "%7s %255s %n", db, key, &n), 2);
		hex = line + n;
		for (size_t i = 0; hex[i] && hex[i + 1]; i += 2)
			wb_byte(&want, (uint8_t)(hexval(hex[i]) << 4 | hexval(hex[i + 1])));
		if (!strcmp(db, "F"))
			got = build_payload(RDB_OPCODE_FUNCTION2, &r.rec->fn, r.sum.version);
		else {
			const struct rkey *k = rec_key(r.rec, (uint32_t)atoi(db), key);

			got = build_payload(k->type, &k->raw, r.sum.version);
		}
		if (got.len != want.len || memcmp(got.d, want.d, want.len) != 0)
			fail_msg("DUMP payload of %s/%s differs: built %zu bytes, server's %zu",
				 db, key, got.len, want.len);
		checked++;
		wb_free(&want);
		wb_free(&got);
	}
	assert_int_equal(checked, 23);  /* 22 keys and the function library */
	rec_free(r.rec);
	wb_free(&f);
	wb_free(&dumps);
}

/* The same events and bytes whatever the split points. */
static void check_splits_identical(const char *name)
{
	struct wbuf f = read_file(name);
	struct run whole = parse(f.d, f.len, WHOLE, 0);

	assert_true(run_ok(&whole));
	assert_true(whole.rec->max_piece <= f.len);
	for (int mode = 0; mode < 4; mode++) {
		struct run r = parse(f.d, f.len, mode == 0 ? ONE_BYTE : RANDOM, (unsigned)mode * 977);

		assert_true(run_ok(&r));
		if (r.rec->log.len != whole.rec->log.len ||
		    memcmp(r.rec->log.d, whole.rec->log.d, whole.rec->log.len) != 0)
			fail_msg("%s: events differ when fed in pieces (mode %d)", name, mode);
		assert_int_equal(r.sum.keys, whole.sum.keys);
		assert_int_equal(r.sum.crc_computed, whole.sum.crc_computed);
		assert_int_equal(r.rec->pieces_outside, 0);  /* pieces point into the input */
		if (mode == 0)
			assert_true(r.rec->max_piece <= 1);
		rec_free(r.rec);
	}
	rec_free(whole.rec);
	wb_free(&f);
}

static void test_split_feeding_gives_identical_results(void **state)
{
	(void)state;
	check_splits_identical("all-types.rdb");
	check_splits_identical("nocompress.rdb");
	check_splits_identical("nochecksum.rdb");
	check_splits_identical("empty.rdb");
}

static void test_nocompress_with_lru_idle(void **state)
{
	struct wbuf f = read_file("nocompress.rdb");
	struct run r = parse(f.d, f.len, WHOLE, 0);

	(void)state;
	assert_true(run_ok(&r));
	assert_int_equal(r.sum.crc_status, RDB_CRC_VERIFIED);
	assert_int_equal(r.sum.keys, 21);
	assert_int_equal(db_stats(&r, 0)->keys, 18);
	assert_int_equal(r.sum.expires, 3);
	for (int i = 0; i < r.rec->nkeys; i++) {
		assert_true(r.rec->keys[i].lru_idle >= 0);
		assert_int_equal(r.rec->keys[i].lfu_freq, -1);
	}
	{
		const struct rkey *k = rec_key(r.rec, 0, "str:long");
		const char *want = "3compressible compressible compressible compressible";

		assert_int_equal(k->raw.len, 52);  /* length byte 51 = '3', then the text */
		assert_memory_equal(k->raw.d, want, 52);
	}
	rec_free(r.rec);
	wb_free(&f);
}

static void test_checksum_disabled_is_accepted_and_flagged(void **state)
{
	struct wbuf f = read_file("nochecksum.rdb");
	struct run r = parse(f.d, f.len, WHOLE, 0);

	(void)state;
	assert_true(run_ok(&r));
	assert_int_equal(r.sum.crc_status, RDB_CRC_DISABLED);
	assert_int_equal(r.sum.crc_stored, 0);
	assert_int_equal(r.sum.keys, 21);
	for (int i = 0; i < r.rec->nkeys; i++) {
		assert_true(r.rec->keys[i].lfu_freq >= 0);
		assert_int_equal(r.rec->keys[i].lru_idle, -1);
	}
	rec_free(r.rec);
	wb_free(&f);
}

static void test_empty_rdb(void **state)
{
	struct wbuf f = read_file("empty.rdb");
	struct run r = parse(f.d, f.len, ONE_BYTE, 0);

	(void)state;
	assert_true(run_ok(&r));
	assert_int_equal(f.len, 89);
	assert_int_equal(r.sum.version, 10);
	assert_int_equal(r.sum.keys, 0);
	assert_int_equal(r.sum.ndbs, 0);
	assert_int_equal(r.sum.functions, 0);
	assert_int_equal(r.sum.crc_status, RDB_CRC_VERIFIED);
	{
		/* the stored CRC is the file's last 8 bytes, and that of the rest */
		uint64_t last = 0;

		for (int i = 0; i < 8; i++)
			last |= (uint64_t)f.d[f.len - 8 + i] << (8 * i);
		assert_int_equal(r.sum.crc_stored, last);
		assert_int_equal(r.sum.crc_computed, crc64_update(0, f.d, f.len - 8));
	}
	rec_free(r.rec);
	wb_free(&f);
}

static void test_any_flipped_byte_is_detected(void **state)
{
	struct wbuf f = read_file("nocompress.rdb");
	int tried = 0;

	(void)state;
	for (size_t pos = 0; pos < f.len; pos += (pos < 200 || pos > f.len - 200) ? 1 : 53) {
		struct run r;

		f.d[pos] ^= 0x10;
		r = parse(f.d, f.len, RANDOM, (unsigned)pos);
		if (r.feed_rc == 0 && r.finish_rc == 0)
			fail_msg("byte %zu flipped, parse succeeded", pos);
		assert_int_equal(r.err.code, EXIT_INTEGRITY);
		f.d[pos] ^= 0x10;
		rec_free(r.rec);
		tried++;
	}
	assert_true(tried > 500);
	{
		/* a flip inside a value is caught by the CRC, and says so */
		struct run r;

		f.d[f.len / 2] ^= 0x01;
		r = parse(f.d, f.len, WHOLE, 0);
		f.d[f.len / 2] ^= 0x01;
		assert_int_not_equal(r.feed_rc | r.finish_rc, 0);
		rec_free(r.rec);
	}
	wb_free(&f);
}

static void test_value_flip_reports_checksum_mismatch(void **state)
{
	struct wbuf f = read_file("all-types.rdb");
	struct run r;
	const char *needle = "compressible";
	uint8_t *at = memmem(f.d, f.len, needle, strlen(needle));

	(void)state;
	assert_non_null(at);
	at[0] = 'C';
	r = parse(f.d, f.len, WHOLE, 0);
	assert_int_equal(r.feed_rc, -1);
	assert_int_equal(r.err.code, EXIT_INTEGRITY);
	assert_non_null(strstr(r.err.message, "checksum mismatch"));
	rec_free(r.rec);
	wb_free(&f);
}

static void test_truncated_rdb_fails_at_finish(void **state)
{
	struct wbuf f = read_file("all-types.rdb");
	size_t cuts[] = {0, 1, 5, 9, 10, 50, 200, 1000, f.len / 2, f.len - 10, f.len - 9,
			 f.len - 8, f.len - 1};

	(void)state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct run r = parse(f.d, cuts[i], i % 2 ? ONE_BYTE : WHOLE, 0);

		assert_int_equal(r.feed_rc, 0);
		if (r.finish_rc != -1)
			fail_msg("RDB cut at %zu of %zu bytes accepted", cuts[i], f.len);
		assert_int_equal(r.err.code, EXIT_INTEGRITY);
		assert_non_null(strstr(r.err.message, cuts[i] == f.len - 9 ?
				       "without its EOF" : "truncated"));
		assert_false(r.sum.complete);
		rec_free(r.rec);
	}
	wb_free(&f);
}

static void test_bytes_after_crc_fail(void **state)
{
	struct wbuf f = read_file("empty.rdb");
	struct run r;

	(void)state;
	wb_byte(&f, 0);
	r = parse(f.d, f.len, WHOLE, 0);
	assert_int_equal(r.feed_rc, -1);
	assert_non_null(strstr(r.err.message, "1 bytes after the end"));
	rec_free(r.rec);
	r = parse(f.d, f.len, ONE_BYTE, 0);
	assert_int_equal(r.feed_rc, -1);
	assert_non_null(strstr(r.err.message, "at byte 89:"));
	rec_free(r.rec);
	wb_free(&f);
}

static void test_unsupported_versions_named(void **state)
{
	static const char *const bad[] = {"REDIS0013", "REDIS0000", "REDIS9999"};
	static const char *const named[] = {"version 13 ", "version 0 ", "version 9999 "};

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct run r = parse((const uint8_t *)bad[i], 9, WHOLE, 0);

		assert_int_equal(r.feed_rc, -1);
		assert_non_null(strstr(r.err.message, named[i]));
		rec_free(r.rec);
	}
	{
		struct run r = parse((const uint8_t *)"PK\3\4junkjunk", 12, WHOLE, 0);

		assert_int_equal(r.feed_rc, -1);
		assert_non_null(strstr(r.err.message, "not an RDB"));
		rec_free(r.rec);
	}
}

static void test_callback_error_stops_the_parse(void **state)
{
	struct wbuf f = read_file("all-types.rdb");
	struct rec *rec = calloc(1, sizeof(*rec));
	struct drctl_error err;
	struct rdb_parser *p = rdb_parser_new(&all_callbacks, rec);

	(void)state;
	err_clear(&err);
	rec->stop_at_key = 3;
	assert_int_equal(rdb_parser_feed(p, f.d, f.len, &err), -1);
	assert_int_equal(err.code, EXIT_IO);
	assert_string_equal(err.message, "test callback refuses key 3");
	assert_int_equal(rec->nkeys, 2);
	/* and it stays failed */
	assert_int_equal(rdb_parser_feed(p, f.d, 1, &err), -1);
	rdb_parser_free(p);
	rec_free(rec);
	wb_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_types_summary),
		cmocka_unit_test(test_dump_payloads_match_server_dump),
		cmocka_unit_test(test_split_feeding_gives_identical_results),
		cmocka_unit_test(test_nocompress_with_lru_idle),
		cmocka_unit_test(test_checksum_disabled_is_accepted_and_flagged),
		cmocka_unit_test(test_empty_rdb),
		cmocka_unit_test(test_any_flipped_byte_is_detected),
		cmocka_unit_test(test_value_flip_reports_checksum_mismatch),
		cmocka_unit_test(test_truncated_rdb_fails_at_finish),
		cmocka_unit_test(test_bytes_after_crc_fail),
		cmocka_unit_test(test_unsupported_versions_named),
		cmocka_unit_test(test_callback_error_stops_the_parse),
	};
	int failed = cmocka_run_group_tests_name("real fixtures", tests, NULL, NULL);

	return failed + _cmocka_run_group_tests("synthetic RDBs", rdb_synthetic_tests, rdb_synthetic_test_count, NULL, NULL);
}
