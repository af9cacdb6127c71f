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
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/format/crc64.h"
#include "lib/format/rdb.h"

#define FIXTURES TEST_DATA_DIR "/rdb/"
#define TTL_2100 4102444800000LL

/* ---- growable byte buffer (also the synthetic RDB writer) --------------- */

struct wbuf {
	uint8_t *d;
	size_t len, cap;
};

static void wb_put(struct wbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->d = realloc(b->d, b->cap);
		assert_non_null(b->d);
	}
	if (n)
		memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void wb_byte(struct wbuf *b, uint8_t c)
{
	wb_put(b, &c, 1);
}

static void wb_printf(struct wbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	wb_put(b, tmp, (size_t)n);
}

static void wb_le(struct wbuf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		wb_byte(b, (uint8_t)(v >> (8 * i)));
}

/* Redis length encoding; force64 writes the 0x81 form whatever the value. */
static void wb_len(struct wbuf *b, uint64_t v, int force64)
{
	if (force64) {
		wb_byte(b, 0x81);
		for (int i = 7; i >= 0; i--)
			wb_byte(b, (uint8_t)(v >> (8 * i)));
	} else if (v < 64) {
		wb_byte(b, (uint8_t)v);
	} else if (v < 16384) {
		wb_byte(b, (uint8_t)(0x40 | (v >> 8)));
		wb_byte(b, (uint8_t)v);
	} else if (v > UINT32_MAX) {
		wb_len(b, v, 1);
	} else {
		wb_byte(b, 0x80);
		for (int i = 3; i >= 0; i--)
			wb_byte(b, (uint8_t)(v >> (8 * i)));
	}
}

static void wb_str(struct wbuf *b, const char *s)
{
	wb_len(b, strlen(s), 0);
	wb_put(b, s, strlen(s));
}

static void wb_free(struct wbuf *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

static struct wbuf read_file(const char *name)
{
	char path[512];
	struct wbuf b = {0};
	char tmp[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		wb_put(&b, tmp, n);
	fclose(f);
	return b;
}

/* ---- recorder: everything the callbacks saw ----------------------------- */

#define MAX_KEYS 64

struct rkey {
	uint32_t db;
	uint8_t type;
	char key[256];
	int64_t expire_ms, lru_idle;
	int lfu_freq;
	struct wbuf raw;
};

struct rec {
	struct rkey keys[MAX_KEYS];
	int nkeys;
	int in_key;
	struct wbuf fn;         /* raw bytes of all function libraries */
	int fn_ends;
	struct wbuf log;        /* every event, for comparing feeding patterns */
	char redis_ver[32], redis_bits[32];
	int module_aux;
	char module_name[10];
	int resize_calls, select_calls;
	size_t max_piece;
	const uint8_t *lo, *hi; /* the buffer fed, for the zero-copy check */
	int pieces_outside;
	int stop_at_key;        /* on_key_begin fails at this key (1-based), 0 never */
};

static int on_aux(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
		  struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	wb_printf(&r->log, "aux %.*s=%.*s\n", (int)kl, k, v ? (int)vl : 4, v ? (const char *)v : "NULL");
	if (kl == 9 && !memcmp(k, "redis-ver", 9))
		snprintf(r->redis_ver, sizeof(r->redis_ver), "%.*s", (int)vl, v);
	if (kl == 10 && !memcmp(k, "redis-bits", 10))
		snprintf(r->redis_bits, sizeof(r->redis_bits), "%.*s", (int)vl, v);
	return 0;
}

static int on_select_db(void *ctx, uint32_t db, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	r->select_calls++;
	wb_printf(&r->log, "select %u\n", db);
	return 0;
}

static int on_resize_db(void *ctx, uint32_t db, uint64_t k, uint64_t e, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	r->resize_calls++;
	wb_printf(&r->log, "resize %u %llu %llu\n", db, (unsigned long long)k, (unsigned long long)e);
	return 0;
}

static int on_key_begin(void *ctx, const struct rdb_key_info *ki, struct drctl_error *err)
{
	struct rec *r = ctx;
	struct rkey *k;

	assert_false(r->in_key);
	assert_true(r->nkeys < MAX_KEYS);
	if (r->stop_at_key && r->nkeys + 1 == r->stop_at_key)
		return err_set(err, EXIT_IO, "test", NULL, "test callback refuses key %d", r->nkeys + 1);
	k = &r->keys[r->nkeys++];
	memset(k, 0, sizeof(*k));
	k->db = ki->db;
	k->type = ki->type;
	assert_true(ki->key_len < sizeof(k->key));
	memcpy(k->key, ki->key, ki->key_len);
	k->expire_ms = ki->expire_ms;
	k->lru_idle = ki->lru_idle;
	k->lfu_freq = ki->lfu_freq;
	r->in_key = 1;
	wb_printf(&r->log, "key %u %u %s %lld\n", ki->db, ki->type, k->key, (long long)ki->expire_ms);
	return 0;
}

static void note_piece(struct rec *r, const uint8_t *raw, size_t len)
{
	if (len > r->max_piece)
		r->max_piece = len;
	if (r->lo && (raw < r->lo || raw + len > r->hi))
		r->pieces_outside++;
}

static int on_value_bytes(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	assert_true(r->in_key);
	assert_true(len > 0);
	note_piece(r, raw, len);
	wb_put(&r->keys[r->nkeys - 1].raw, raw, len);
	return 0;
}

static int on_key_end(void *ctx, struct drctl_error *err)
{
	struct rec *r = ctx;
	struct rkey *k = &r->keys[r->nkeys - 1];

	(void)err;
	assert_true(r->in_key);
	r->in_key = 0;
	wb_printf(&r->log, "end %zu %016llx\n", k->raw.len,
		  (unsigned long long)crc64_update(0, k->raw.d, k->raw.len));
	return 0;
}

static int on_function_bytes(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	note_piece(r, raw, len);
	wb_put(&r->fn, raw, len);
	return 0;
}

static int on_function_end(void *ctx, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	r->fn_ends++;
	wb_printf(&r->log, "function %zu\n", r->fn.len);
	return 0;
}

static int on_module_aux(void *ctx, uint64_t id, const char *name, struct drctl_error *err)
{
	struct rec *r = ctx;

	(void)err;
	r->module_aux++;
	snprintf(r->module_name, sizeof(r->module_name), "%s", name);
	wb_printf(&r->log, "module-aux %llx %s\n", (unsigned long long)id, name);
	return 0;
}

static const struct rdb_callbacks all_callbacks = {
	.on_aux = on_aux,
	.on_select_db = on_select_db,
	.on_resize_db = on_resize_db,
	.on_key_begin = on_key_begin,
	.on_value_bytes = on_value_bytes,
	.on_key_end = on_key_end,
	.on_function_bytes = on_function_bytes,
	.on_function_end = on_function_end,
	.on_module_aux = on_module_aux,
};

static void rec_free(struct rec *r)
{
	for (int i = 0; i < r->nkeys; i++)
		wb_free(&r->keys[i].raw);
	wb_free(&r->fn);
	wb_free(&r->log);
	free(r);
}

static const struct rkey *rec_key(const struct rec *r, uint32_t db, const char *name)
{
	for (int i = 0; i < r->nkeys; i++)
		if (r->keys[i].db == db && !strcmp(r->keys[i].key, name))
			return &r->keys[i];
	fail_msg("key %u/%s not reported by the parser", db, name);
	return NULL;
}

/* ---- driving the parser ------------------------------------------------- */

enum split { WHOLE, ONE_BYTE, RANDOM };

struct run {
	struct rec *rec;
	struct rdb_summary sum;
	struct rdb_db_stats dbs[8];
	int feed_rc, finish_rc;
	struct drctl_error err;
};

/* Feed data in the given pattern; the summary is copied out. */
static struct run parse(const uint8_t *data, size_t len, enum split split, unsigned seed)
{
	struct run run;
	struct rdb_parser *p;
	size_t off = 0;

	memset(&run, 0, sizeof(run));
	run.rec = calloc(1, sizeof(*run.rec));
	assert_non_null(run.rec);
	err_clear(&run.err);
	run.rec->lo = data;
	run.rec->hi = data + len;
	p = rdb_parser_new(&all_callbacks, run.rec);
	assert_non_null(p);
	while (off < len && run.feed_rc == 0) {
		size_t n = len - off;

		if (split == ONE_BYTE) {
			n = 1;
		} else if (split == RANDOM) {
			seed = seed * 1103515245u + 12345u;
			n = (seed >> 16) % 300 + 1;
			if (seed & 0x40000000u)
				n = (seed >> 8) % 70000 + 1;
			if (n > len - off)
				n = len - off;
		}
		run.feed_rc = rdb_parser_feed(p, data + off, n, &run.err);
		off += n;
	}
	if (run.feed_rc == 0)
		run.finish_rc = rdb_parser_finish(p, &run.err);
	run.sum = *rdb_parser_summary(p);
	assert_true(run.sum.ndbs <= 8);
	if (run.sum.ndbs)
		memcpy(run.dbs, run.sum.dbs, run.sum.ndbs * sizeof(run.dbs[0]));
	run.sum.dbs = NULL;
	rdb_parser_free(p);
	return run;
}

static int run_ok(const struct run *r)
{
	if (r->feed_rc || r->finish_rc)
		print_error("parse failed: %s\n", r->err.message);
	return r->feed_rc == 0 && r->finish_rc == 0;
}

static const struct rdb_db_stats *db_stats(const struct run *r, uint32_t db)
{
	/* r->dbs, not r->sum.dbs: the run was returned by value */
	for (size_t i = 0; i < r->sum.ndbs; i++)
		if (r->dbs[i].db == db)
			return &r->dbs[i];
	fail_msg("no stats for db %u", db);
	return NULL;
}

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

/* ---- synthetic RDBs ----------------------------------------------------- */

struct synth {
	struct wbuf b;
	struct {
		char key[32];
		uint8_t type;
		size_t start, end;  /* the value's bytes in b */
	} v[32];
	int n;
};

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

static void sy_finish(struct synth *s, int with_crc)
{
	wb_byte(&s->b, 0xFF);
	if (with_crc)
		wb_le(&s->b, crc64_update(0, s->b.d, s->b.len), 8);
}

/* Version 12 with everything a 7.0 server never writes. */
static void synth_v12(struct synth *s, size_t big)
{
	memset(s, 0, sizeof(*s));
	wb_put(&s->b, "REDIS0012", 9);
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
	memset(&s, 0, sizeof(s));
	wb_put(&s.b, "REDIS0004", 9);
	sy_key(&s, RDB_TYPE_STRING, "k");
	wb_str(&s.b, "v");
	sy_end(&s);
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
	memset(&s, 0, sizeof(s));
	wb_put(&s.b, "REDIS0010", 9);
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
	sy_key(&s, RDB_TYPE_STRING, "k");
	wb_str(&s.b, "v");
	sy_end(&s);
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

	memset(&s, 0, sizeof(s));
	wb_put(&s.b, "REDIS0010", 9);
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
		cmocka_unit_test(test_synthetic_v12_value_boundaries_exact),
		cmocka_unit_test(test_module_name_decoding),
		cmocka_unit_test(test_old_version_without_crc),
		cmocka_unit_test(test_aux_lzf_decoded_and_oversized_skipped),
		cmocka_unit_test(test_malformed_inputs_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
