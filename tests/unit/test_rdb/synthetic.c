/*
 * The rdb parser against synthetic RDBs written here, for the types and
 * opcodes a 7.0 server does not write: legacy encodings, stream v1 and v3,
 * module values, version 12 opcodes, a large uncompressed value; and
 * malformed inputs, each refused by name.
 */
#include "tests/unit/test_rdb/rdb_test.h"

/* ---- synthetic RDBs ----------------------------------------------------- */

/* An empty synthetic RDB of that version: "REDIS" and its four digits. */
static void sy_start(struct synth *s, int version)
{
	memset(s, 0, sizeof(*s));
	wb_printf(&s->b, "REDIS%04d", version);
}

static void sy_key(struct synth *s, uint8_t type, const char *key)
{
	wb_byte(&s->b, type);
	wb_str(&s->b, key);
	snprintf(s->v[s->n].key, sizeof(s->v[s->n].key), "%s", key);
	s->v[s->n].type = type;
	s->v[s->n].start = s->b.len;
}

static void sy_end(struct synth *s)
{
	s->v[s->n++].end = s->b.len;
}

/* A string key holding a short value. */
static void sy_string(struct synth *s, const char *key, const char *value)
{
	sy_key(s, RDB_TYPE_STRING, key);
	wb_str(&s->b, value);
	sy_end(s);
}

static void sy_finish(struct synth *s, int with_crc)
{
	wb_byte(&s->b, 0xFF);
	if (with_crc)
		wb_le(&s->b, crc64_update(0, s->b.d, s->b.len), 8);
}

/* The header and the opcodes before the first key: aux, module aux, a
 * function library, db, resize, slot info. */
static void synth_v12_opcodes(struct synth *s)
{
	wb_byte(&s->b, 0xFA);                   /* aux, value integer-encoded (int16) */
	wb_str(&s->b, "bits");
	wb_byte(&s->b, 0xC1);
	wb_le(&s->b, (uint64_t)(int16_t)-1234, 2);
	wb_byte(&s->b, 0xF7);                   /* module aux: id, when-opcode, when, ops */
	wb_len(&s->b, 0x1234567890ULL << 10 | 3, 0);
	wb_len(&s->b, 2, 0);
	wb_len(&s->b, 2, 0);
	wb_len(&s->b, 5, 0);
	wb_str(&s->b, "module aux payload");
	wb_len(&s->b, 0, 0);
	wb_byte(&s->b, 0xF5);                   /* function library */
	wb_str(&s->b, "#!lua name=x\nredis.register_function('g', function() return 2 end)");
	wb_byte(&s->b, 0xFE);
	wb_len(&s->b, 5, 0);
	wb_byte(&s->b, 0xFB);
	wb_len(&s->b, 20, 0);
	wb_len(&s->b, 1, 0);
	wb_byte(&s->b, 0xF4);                   /* slot info */
	wb_len(&s->b, 1234, 0);
	wb_len(&s->b, 7, 0);
	wb_len(&s->b, 1, 0);
}

/* Lists (plain, quicklists), a zset with legacy text scores, and
 * containers kept as opaque bytes. */
static void synth_v12_lists_and_zset(struct synth *s)
{
	wb_byte(&s->b, 0xFD);                   /* expiry in seconds */
	wb_le(&s->b, 2000000000, 4);
	wb_byte(&s->b, 0xF8);                   /* idle */
	wb_len(&s->b, 77, 0);
	sy_key(s, RDB_TYPE_LIST, "list1");
	wb_len(&s->b, 3, 0);
	wb_str(&s->b, "a");
	wb_byte(&s->b, 0xC0);                   /* int8 element */
	wb_byte(&s->b, 0x7f);
	wb_byte(&s->b, 0xC2);                   /* int32 element */
	wb_le(&s->b, 0x12345678, 4);
	sy_end(s);

	wb_byte(&s->b, 0xF9);                   /* LFU freq */
	wb_byte(&s->b, 200);
	sy_key(s, RDB_TYPE_ZSET, "zset1");      /* legacy text scores */
	wb_len(&s->b, 4, 0);
	wb_str(&s->b, "m1");
	wb_byte(&s->b, 3);
	wb_put(&s->b, "1.5", 3);
	wb_str(&s->b, "inf");
	wb_byte(&s->b, 254);
	wb_str(&s->b, "ninf");
	wb_byte(&s->b, 255);
	wb_str(&s->b, "nan");
	wb_byte(&s->b, 253);
	sy_end(s);

	{
		static const uint8_t blob_types[] = {
			RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_ZSET_ZIPLIST,
			RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_SET_LISTPACK,
		};
		for (size_t i = 0; i < sizeof(blob_types); i++) {
			char name[16];

			snprintf(name, sizeof(name), "blob%zu", i);
			sy_key(s, blob_types[i], name);
			wb_str(&s->b, "opaque container bytes");
			sy_end(s);
		}
	}

	sy_key(s, RDB_TYPE_LIST_QUICKLIST, "ql1");
	wb_len(&s->b, 2, 0);
	wb_str(&s->b, "ziplist-one");
	wb_byte(&s->b, 0xC3);                   /* an LZF-compressed node: clen 3, ulen 9 */
	wb_len(&s->b, 3, 0);
	wb_len(&s->b, 9, 0);
	wb_put(&s->b, "\x00\x61\xe0", 3);       /* not decoded in values: only skipped */
	sy_end(s);

	sy_key(s, RDB_TYPE_LIST_QUICKLIST_2, "ql2");
	wb_len(&s->b, 2, 0);
	wb_len(&s->b, 2, 0);                    /* packed */
	wb_str(&s->b, "listpack");
	wb_len(&s->b, 1, 0);                    /* plain */
	wb_str(&s->b, "plain element");
	sy_end(s);
}

/* Streams of listpacks v1 and v3, with groups, PEL and consumers. */
static void synth_v12_streams(struct synth *s)
{
	for (int v = 0; v < 2; v++) {
		uint8_t type = v ? RDB_TYPE_STREAM_LISTPACKS_3 : RDB_TYPE_STREAM_LISTPACKS;

		sy_key(s, type, v ? "stream3" : "stream1");
		wb_len(&s->b, 1, 0);
		wb_len(&s->b, 16, 0);
		wb_put(&s->b, "0123456789abcdef", 16);
		wb_str(&s->b, "listpack-bytes");
		wb_len(&s->b, 3, 0);            /* length */
		wb_len(&s->b, 1700000000000ULL, 0);
		wb_len(&s->b, 2, 0);
		if (v)
			for (int i = 0; i < 5; i++)
				wb_len(&s->b, (uint64_t)i, 0);
		wb_len(&s->b, 2, 0);            /* groups */
		for (int g = 0; g < 2; g++) {
			wb_str(&s->b, g ? "g2" : "g1");
			wb_len(&s->b, 5, 0);
			wb_len(&s->b, 0, 0);
			if (v)
				wb_len(&s->b, 9, 0);    /* entries_read */
			wb_len(&s->b, g ? 0 : 2, 0);    /* PEL */
			for (int i = 0; i < (g ? 0 : 2); i++) {
				wb_put(&s->b, "IDIDIDIDIDIDIDID", 16);
				wb_le(&s->b, 1700000000123ULL, 8);
				wb_len(&s->b, 300, 0);
			}
			wb_len(&s->b, g ? 0 : 2, 0);    /* consumers */
			for (int c = 0; c < (g ? 0 : 2); c++) {
				wb_str(&s->b, c ? "bob" : "alice");
				wb_le(&s->b, 1700000000999ULL, 8);
				if (v)
					wb_le(&s->b, 1700000000555ULL, 8);
				wb_len(&s->b, 1, 0);
				wb_put(&s->b, "IDIDIDIDIDIDIDID", 16);
			}
		}
		sy_end(s);
	}
}

/* Hashes with field TTLs (every type of them) and a module value. */
static void synth_v12_hashes_and_module(struct synth *s)
{
	for (int t = RDB_TYPE_HASH_METADATA_PRE_GA; t <= RDB_TYPE_HASH_LISTPACK_EX; t++) {
		char name[16];

		snprintf(name, sizeof(name), "hfe%d", t);
		sy_key(s, (uint8_t)t, name);
		if (t == RDB_TYPE_HASH_METADATA || t == RDB_TYPE_HASH_LISTPACK_EX)
			wb_le(&s->b, 1700000000000ULL, 8);      /* min expire */
		if (t == RDB_TYPE_HASH_LISTPACK_EX_PRE_GA || t == RDB_TYPE_HASH_LISTPACK_EX) {
			wb_str(&s->b, "listpack with TTLs");
		} else {
			wb_len(&s->b, 2, 0);
			wb_len(&s->b, 0, 0);                    /* no TTL */
			wb_str(&s->b, "f1");
			wb_str(&s->b, "v1");
			wb_len(&s->b, 1700000000000ULL, 0);     /* TTL (64-bit length) */
			wb_str(&s->b, "f2");
			wb_str(&s->b, "v2");
		}
		sy_end(s);
	}

	sy_key(s, RDB_TYPE_MODULE_2, "mod");
	wb_len(&s->b, 0xABCDEF12345ULL << 10 | 1, 1);
	wb_len(&s->b, 1, 0);                    /* SINT */
	wb_len(&s->b, 99, 0);
	wb_len(&s->b, 2, 0);                    /* UINT */
	wb_len(&s->b, 1ULL << 40, 1);
	wb_len(&s->b, 3, 0);                    /* FLOAT */
	wb_put(&s->b, "flt4", 4);
	wb_len(&s->b, 4, 0);                    /* DOUBLE */
	wb_put(&s->b, "double-8", 8);
	wb_len(&s->b, 5, 0);                    /* STRING */
	wb_str(&s->b, "module string");
	wb_len(&s->b, 0, 0);                    /* EOF */
	sy_end(s);
}

/* A big string with a 64-bit length, in a db of a 32-bit number, and the
 * end with its CRC. */
static void synth_v12_big_string(struct synth *s, size_t big)
{
	wb_byte(&s->b, 0xFE);
	wb_len(&s->b, 70000, 0);                /* 32-bit length encoding */
	wb_byte(&s->b, 0xFC);
	wb_le(&s->b, (uint64_t)TTL_2100, 8);
	sy_key(s, RDB_TYPE_STRING, "big");      /* 64-bit length, uncompressed */
	wb_len(&s->b, big, 1);
	for (size_t i = 0; i < big; i++)
		wb_byte(&s->b, (uint8_t)(i * 31));
	sy_end(s);
	sy_finish(s, 1);

}

/* Version 12 with everything a 7.0 server never writes. */
static void synth_v12(struct synth *s, size_t big)
{
	sy_start(s, 12);
	synth_v12_opcodes(s);
	synth_v12_lists_and_zset(s);
	synth_v12_streams(s);
	synth_v12_hashes_and_module(s);
	synth_v12_big_string(s, big);
}

static void test_synthetic_v12_value_boundaries_exact(void **state)
{
	struct synth s;

	(void)state;
	if (getenv("DRCTL_RDB_SEED_OUT")) {
		/* make-fixtures.sh: a small copy for the fuzz corpus */
		FILE *f = fopen(getenv("DRCTL_RDB_SEED_OUT"), "wb");

		synth_v12(&s, 300);
		assert_non_null(f);
		assert_int_equal(fwrite(s.b.d, 1, s.b.len, f), s.b.len);
		fclose(f);
		wb_free(&s.b);
	}
	synth_v12(&s, 3u << 20);
	for (int mode = 0; mode < 3; mode++) {
		struct run r = parse(s.b.d, s.b.len, mode == 0 ? WHOLE : RANDOM, (unsigned)mode);

		assert_true(run_ok(&r));
		assert_int_equal(r.sum.version, 12);
		assert_int_equal(r.sum.crc_status, RDB_CRC_VERIFIED);
		assert_int_equal(r.rec->nkeys, s.n);
		for (int i = 0; i < s.n; i++) {
			const struct rkey *k = &r.rec->keys[i];
			size_t want = s.v[i].end - s.v[i].start;

			assert_string_equal(k->key, s.v[i].key);
			assert_int_equal(k->type, s.v[i].type);
			if (k->raw.len != want || memcmp(k->raw.d, s.b.d + s.v[i].start, want) != 0)
				fail_msg("value of %s: %zu raw bytes reported, %zu written",
					 s.v[i].key, k->raw.len, want);
		}
		assert_int_equal(r.rec->keys[0].db, 5);
		assert_int_equal(r.rec->keys[0].expire_ms, 2000000000LL * 1000);
		assert_int_equal(r.rec->keys[0].lru_idle, 77);
		assert_int_equal(r.rec->keys[1].expire_ms, -1);
		assert_int_equal(r.rec->keys[1].lfu_freq, 200);
		assert_int_equal(r.rec->keys[s.n - 1].db, 70000);
		assert_int_equal(r.rec->keys[s.n - 1].expire_ms, TTL_2100);
		assert_int_equal(r.sum.expires, 2);
		assert_int_equal(r.sum.functions, 1);
		assert_int_equal(r.sum.module_aux, 1);
		assert_int_equal(r.rec->module_aux, 1);
		assert_int_equal(r.sum.aux_fields, 1);
		assert_non_null(strstr((const char *)r.rec->log.d, "aux bits=-1234\n"));
		assert_true(db_stats(&r, 5)->has_resize);
		assert_int_equal(db_stats(&r, 5)->resize_keys, 20);
		assert_int_equal(db_stats(&r, 5)->keys, s.n - 1);
		assert_false(db_stats(&r, 70000)->has_resize);
		if (mode)  /* a piece never exceeds what was fed: nothing is buffered */
			assert_true(r.rec->max_piece <= 70000);
		rec_free(r.rec);
	}
	wb_free(&s.b);
}

static void test_module_name_decoding(void **state)
{
	char name[10];
	uint64_t id = 0;
	const char *want = "ReJSON-RL";
	static const char charset[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	(void)state;
	for (int i = 0; i < 9; i++)
		id = id << 6 | (uint64_t)(strchr(charset, want[i]) - charset);
	rdb_module_name(id << 10 | 3, name);
	assert_string_equal(name, "ReJSON-RL");
}

static void test_old_version_without_crc(void **state)
{
	struct synth s;
	struct run r;

	(void)state;
	sy_start(&s, 4);
	sy_string(&s, "k", "v");
	sy_finish(&s, 0);
	r = parse(s.b.d, s.b.len, ONE_BYTE, 0);
	assert_true(run_ok(&r));
	assert_int_equal(r.sum.crc_status, RDB_CRC_ABSENT);
	assert_int_equal(r.sum.keys, 1);
	rec_free(r.rec);
	wb_free(&s.b);
}

/* Aux fields are decoded (LZF here), and one over RDB_AUX_MAX is skipped:
 * on_aux gets NULL and the real length, and parsing goes on. */
static void test_aux_lzf_decoded_and_oversized_skipped(void **state)
{
	struct synth s;
	struct run r;

	(void)state;
	sy_start(&s, 10);
	wb_byte(&s.b, 0xFA);
	wb_str(&s.b, "lzf");
	wb_byte(&s.b, 0xC3);                    /* 'a', then copy 19 from 1 back */
	wb_len(&s.b, 5, 0);
	wb_len(&s.b, 20, 0);
	wb_put(&s.b, "\x00" "a" "\xe0\x0a\x00", 5);
	wb_byte(&s.b, 0xFA);
	wb_str(&s.b, "huge");
	wb_len(&s.b, RDB_AUX_MAX + 1ULL, 0);
	for (size_t i = 0; i <= RDB_AUX_MAX; i++)
		wb_byte(&s.b, 'x');
	sy_string(&s, "k", "v");
	sy_finish(&s, 1);
	r = parse(s.b.d, s.b.len, RANDOM, 11);
	assert_true(run_ok(&r));
	wb_byte(&r.rec->log, 0);
	assert_string_equal((const char *)r.rec->log.d,
			    "aux lzf=aaaaaaaaaaaaaaaaaaaa\n"
			    "aux huge=NULL\n"
			    "key 0 0 k -1\n"
			    "end 2 e40240ef683be6f8\n");
	rec_free(r.rec);
	wb_free(&s.b);
}

static void expect_synthetic_error(void (*build)(struct synth *), const char *needle)
{
	struct synth s;
	struct run r;

	sy_start(&s, 10);
	build(&s);
	sy_finish(&s, 1);
	r = parse(s.b.d, s.b.len, RANDOM, 3);
	assert_int_not_equal(r.feed_rc | r.finish_rc, 0);
	if (!strstr(r.err.message, needle))
		fail_msg("error \"%s\" does not say \"%s\"", r.err.message, needle);
	rec_free(r.rec);
	wb_free(&s.b);
}

static void build_module_v1(struct synth *s)
{
	sy_key(s, RDB_TYPE_MODULE, "m");
	wb_len(&s->b, 1, 0);
}

static void build_huge_key(struct synth *s)
{
	wb_byte(&s->b, RDB_TYPE_STRING);
	wb_len(&s->b, RDB_KEY_MAX + 1ULL, 0);
}

static void build_bad_module_opcode(struct synth *s)
{
	sy_key(s, RDB_TYPE_MODULE_2, "m");
	wb_len(&s->b, 1, 0);
	wb_len(&s->b, 9, 0);
}

static void build_unknown_type(struct synth *s)
{
	wb_byte(&s->b, 8);
}

static void build_old_function(struct synth *s)
{
	wb_byte(&s->b, 0xF6);
}

static void build_bad_length(struct synth *s)
{
	sy_key(s, RDB_TYPE_SET, "s");
	wb_byte(&s->b, 0x85);
}

static void build_bad_lzf_key(struct synth *s)
{
	wb_byte(&s->b, RDB_TYPE_STRING);
	wb_byte(&s->b, 0xC3);
	wb_len(&s->b, 2, 0);
	wb_len(&s->b, 10, 0);
	wb_put(&s->b, "\x40\x05", 2);   /* back-reference before the start */
}

static void test_malformed_inputs_named(void **state)
{
	(void)state;
	expect_synthetic_error(build_module_v1, "type 6");
	expect_synthetic_error(build_huge_key, "key of 8388609 bytes");
	expect_synthetic_error(build_bad_module_opcode, "unknown module value opcode 9");
	expect_synthetic_error(build_unknown_type, "unknown value type or opcode 0x08");
	expect_synthetic_error(build_old_function, "0xF6");
	expect_synthetic_error(build_bad_length, "invalid length encoding 0x85");
	expect_synthetic_error(build_bad_lzf_key, "invalid LZF");
}

const struct CMUnitTest rdb_synthetic_tests[] = {
	cmocka_unit_test(test_synthetic_v12_value_boundaries_exact),
	cmocka_unit_test(test_module_name_decoding),
	cmocka_unit_test(test_old_version_without_crc),
	cmocka_unit_test(test_aux_lzf_decoded_and_oversized_skipped),
	cmocka_unit_test(test_malformed_inputs_named),
};

const size_t rdb_synthetic_test_count = sizeof(rdb_synthetic_tests) / sizeof(rdb_synthetic_tests[0]);
