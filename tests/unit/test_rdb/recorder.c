/*
 * The rdb tests' byte buffer, callback recorder and parser driver; see
 * rdb_test.h.
 */
#include "tests/unit/test_rdb/rdb_test.h"

/* ---- growable byte buffer (also the synthetic RDB writer) --------------- */

void wb_put(struct wbuf *b, const void *p, size_t n)
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

void wb_byte(struct wbuf *b, uint8_t c)
{
	wb_put(b, &c, 1);
}

void wb_printf(struct wbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	wb_put(b, tmp, (size_t)n);
}

void wb_le(struct wbuf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		wb_byte(b, (uint8_t)(v >> (8 * i)));
}

/* Redis length encoding; force64 writes the 0x81 form whatever the value. */
void wb_len(struct wbuf *b, uint64_t v, int force64)
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

void wb_str(struct wbuf *b, const char *s)
{
	wb_len(b, strlen(s), 0);
	wb_put(b, s, strlen(s));
}

void wb_free(struct wbuf *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

struct wbuf read_file(const char *name)
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

const struct rdb_callbacks all_callbacks = {
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

void rec_free(struct rec *r)
{
	for (int i = 0; i < r->nkeys; i++)
		wb_free(&r->keys[i].raw);
	wb_free(&r->fn);
	wb_free(&r->log);
	free(r);
}

const struct rkey *rec_key(const struct rec *r, uint32_t db, const char *name)
{
	for (int i = 0; i < r->nkeys; i++)
		if (r->keys[i].db == db && !strcmp(r->keys[i].key, name))
			return &r->keys[i];
	fail_msg("key %u/%s not reported by the parser", db, name);
	return NULL;
}

/* ---- driving the parser ------------------------------------------------- */

/* Feed data in the given pattern; the summary is copied out. */
struct run parse(const uint8_t *data, size_t len, enum split split, unsigned seed)
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

int run_ok(const struct run *r)
{
	if (r->feed_rc || r->finish_rc)
		print_error("parse failed: %s\n", r->err.message);
	return r->feed_rc == 0 && r->finish_rc == 0;
}

const struct rdb_db_stats *db_stats(const struct run *r, uint32_t db)
{
	/* r->dbs, not r->sum.dbs: the run was returned by value */
	for (size_t i = 0; i < r->sum.ndbs; i++)
		if (r->dbs[i].db == db)
			return &r->dbs[i];
	fail_msg("no stats for db %u", db);
	return NULL;
}
