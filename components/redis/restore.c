/*
 * redis (restore): the backed-up RDB put back into a running Redis with no
 * file system access, or written as a plain RDB file (--rdb-file) for a
 * server that will be started on it.
 *
 * Into a server: the RDB is read from the archive through the streaming
 * parser, and each key becomes `RESTORE key <absolute ms> <payload> REPLACE
 * ABSTTL` (plus IDLETIME/FREQ when the RDB kept them), each function library
 * `FUNCTION RESTORE <payload>`.  A DUMP payload is the value's own RDB bytes
 * between a type byte and a trailer (RDB version, CRC64), so values are cut
 * out, never decoded.  The absolute expiry means the time a restore takes
 * never extends a TTL; a key whose expiry has passed is not sent (the server
 * would not create it either) and is counted.  Commands are pipelined through
 * one buffer with a bounded window of unanswered commands; the RESP framing
 * is written here, because a bulk string's length comes first and is only
 * known at the key's end: one key's value is held (once) until then, and a
 * big one is written from that buffer straight to the socket.
 *
 * Safety, in this order, before anything is written:
 *  - the target's version must load the RDB's version (7.0 -> 10, 7.2 -> 11,
 *    7.4 -> 12); an older target is refused, naming both;
 *  - a target holding keys is refused unless --flush, naming the count;
 *  - with --flush and keys there, the backup is proven first: a separate
 *    pass reads the whole object (SHA-256 of every part and of the object
 *    against the signed manifest, RDB structure and CRC64, key counts), and
 *    only then FLUSHALL runs.  An empty target needs no proof pass: nothing
 *    there can be lost, and the one pass checks the same things as it goes.
 * Afterwards INFO keyspace is compared with the manifest's counts, allowing
 * for keys whose expiry passed during the restore.
 *
 * --rdb-file PATH (restore_rdb.c, which also reads the RDB out of
 * the archive for both ways): the RDB is written to a temporary file next
 * to PATH, checked (CRC64, counts, stream SHA-256), fsync'd and renamed
 * into place; an existing file is replaced only with --force.
 */
#include "components/redis/restore_private.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/clients/redis_conn.h"
#include "lib/core/log.h"
#include "lib/format/rdb.h"

#define PUT_OBUF_SIZE (1u << 20)        /* commands gathered before a write */
#define PUT_DIRECT_MIN (128u * 1024)    /* bulk strings this long skip the buffer */
#define PUT_WINDOW 8192                 /* unanswered commands at most */
#define PUT_KEY_NOTE 64                 /* key bytes kept per pending command for messages */

enum put_kind { PUT_SELECT, PUT_RESTORE, PUT_FUNCTION, PUT_FLUSH };

struct put_pending {
	uint8_t kind;
	uint8_t key_len;
	uint32_t db;
	char key[PUT_KEY_NOTE];
};

struct redis_put {
	struct restore_ctx *ctx;
	struct redis_conn *conn;
	int rdb_version;
	int replace_functions;
	/* pipeline */
	char *obuf;
	size_t olen;
	struct put_pending *ring;
	size_t head, count;
	int64_t cur_db;
	/* the key being read */
	uint32_t db;
	uint8_t *key;
	size_t key_len, key_cap;
	int64_t expire_ms, lru_idle;
	int lfu_freq;
	uint8_t *val;
	size_t val_len, val_cap;
	struct rdb_dump_builder dump;
	/* results */
	struct redis_counts counts;
	uint64_t functions;
	struct progress progress;
	uint64_t fed;
	int touched; /* something was written to the target (a flush, a key) */
};

/* ---- pipeline ------------------------------------------------------------ */

static int put_write_out(struct redis_put *t, struct drctl_error *err)
{
	if (t->olen && redis_conn_write(t->conn, t->obuf, t->olen, err) != 0)
		return -1;
	t->olen = 0;
	return 0;
}

/* A reply for the oldest pending command. */
static int put_check_reply(struct redis_put *t, redisReply *r, struct drctl_error *err)
{
	struct put_pending *p = &t->ring[t->head];
	char what[160], key[PUT_KEY_NOTE * 4 + 8];
	int rc = 0;

	t->head = (t->head + 1) % PUT_WINDOW;
	t->count--;
	if (r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return 0;
	}
	/* The key, printable, for the message. */
	{
		size_t o = 0;
		for (size_t i = 0; i < p->key_len && o + 5 < sizeof(key); i++) {
			unsigned char ch = (unsigned char)p->key[i];
			o += (size_t)snprintf(key + o, sizeof(key) - o, ch >= 32 && ch < 127 ? "%c" : "\\x%02x", ch);
		}
		key[o] = '\0';
	}
	switch (p->kind) {
	case PUT_SELECT:
		snprintf(what, sizeof(what), "SELECT %u", p->db);
		if (strstr(r->str, "out of range")) {
			rc = err_set(err, EXIT_USAGE, redis_conn_display(t->conn),
				     "start the target with `databases` set high enough (redis.conf), then restore again with --flush",
				     "the target %s has fewer databases than the backup, which has keys in db %u",
				     redis_conn_display(t->conn), p->db);
			break;
		}
		rc = redis_conn_reply_error(t->conn, r->str, what, NULL, err);
		break;
	case PUT_RESTORE:
		snprintf(what, sizeof(what), "RESTORE of key \"%.100s\" in db %u", key, p->db);
		rc = redis_conn_reply_error(t->conn, r->str, what, key, err);
		break;
	case PUT_FUNCTION:
		if (strstr(r->str, "already exists")) {
			rc = err_set(err, EXIT_USAGE, redis_conn_display(t->conn),
				     "add --flush to replace the target's libraries of the same name",
				     "FUNCTION RESTORE: the target %s already has a function library of the same name (%s)",
				     redis_conn_display(t->conn), r->str);
			break;
		}
		rc = redis_conn_reply_error(t->conn, r->str, "FUNCTION RESTORE", NULL, err);
		break;
	default:
		rc = redis_conn_reply_error(t->conn, r->str, "FLUSHALL", NULL, err);
		break;
	}
	freeReplyObject(r);
	return rc;
}

/* Collect replies: all that are there, then wait until at most `left` are pending. */
static int put_collect(struct redis_put *t, size_t left, struct drctl_error *err)
{
	for (;;) {
		redisReply *r;
		int wait = t->count > left;
		int got;
		if (t->count == 0)
			return 0;
		got = redis_conn_read_reply(t->conn, &r, wait, err);
		if (got < 0)
			return -1;
		if (got == 0)
			return 0;
		if (put_check_reply(t, r, err) != 0)
			return -1;
	}
}

static int put_flush(struct redis_put *t, struct drctl_error *err)
{
	if (put_write_out(t, err) != 0)
		return -1;
	return put_collect(t, PUT_WINDOW, err);
}

/* Room for n bytes in the buffer (n <= PUT_OBUF_SIZE). */
static int put_room(struct redis_put *t, size_t n, struct drctl_error *err)
{
	if (t->olen + n > PUT_OBUF_SIZE)
		return put_flush(t, err);
	return 0;
}

static void put_raw(struct redis_put *t, const void *p, size_t n)
{
	memcpy(t->obuf + t->olen, p, n);
	t->olen += n;
}

static void put_u64(struct redis_put *t, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		t->obuf[t->olen++] = tmp[--n];
}

/* "$<len>\r\n" a b "\r\n": the bulk string a||b; a long one bypasses the
 * buffer so it is never copied whole. */
static int put_bulk(struct redis_put *t, const void *a, size_t alen, const void *b, size_t blen,
		    struct drctl_error *err)
{
	if (put_room(t, 32, err) != 0)
		return -1;
	t->obuf[t->olen++] = '$';
	put_u64(t, alen + blen);
	put_raw(t, "\r\n", 2);
	if (alen >= PUT_DIRECT_MIN) {
		if (put_write_out(t, err) != 0 || redis_conn_write(t->conn, a, alen, err) != 0)
			return -1;
	} else {
		if (put_room(t, alen, err) != 0)
			return -1;
		put_raw(t, a, alen);
	}
	if (put_room(t, blen + 2, err) != 0)
		return -1;
	put_raw(t, b, blen);
	put_raw(t, "\r\n", 2);
	return 0;
}

static int put_word(struct redis_put *t, const char *w, struct drctl_error *err)
{
	return put_bulk(t, w, strlen(w), "", 0, err);
}

static int put_number(struct redis_put *t, int64_t v, struct drctl_error *err)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	return put_bulk(t, tmp, (size_t)n, "", 0, err);
}

static int put_array(struct redis_put *t, unsigned n, struct drctl_error *err)
{
	if (put_room(t, 16, err) != 0)
		return -1;
	t->obuf[t->olen++] = '*';
	put_u64(t, n);
	put_raw(t, "\r\n", 2);
	return 0;
}

/* Note a command as sent; keeps the window bounded. */
static int put_pending_add(struct redis_put *t, enum put_kind kind, uint32_t db, const uint8_t *key,
			   size_t key_len, struct drctl_error *err)
{
	struct put_pending *p;

	if (t->count == PUT_WINDOW) {
		if (put_write_out(t, err) != 0 || put_collect(t, PUT_WINDOW / 2, err) != 0)
			return -1;
	}
	p = &t->ring[(t->head + t->count) % PUT_WINDOW];
	p->kind = (uint8_t)kind;
	p->db = db;
	p->key_len = (uint8_t)(key_len < PUT_KEY_NOTE ? key_len : PUT_KEY_NOTE);
	if (key_len)
		memcpy(p->key, key, p->key_len);
	t->count++;
	return 0;
}

/* ---- from the parser to commands ------------------------------------------- */

static int put_grow(uint8_t **buf, size_t *cap, size_t need, struct drctl_error *err)
{
	size_t cap2 = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	p = realloc(*buf, cap2);
	if (!p)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory holding a value of %zu bytes", need);
	*buf = p;
	*cap = cap2;
	return 0;
}

static int put_on_key_begin(void *ctx, const struct rdb_key_info *k, struct drctl_error *err)
{
	struct redis_put *t = ctx;

	if (put_grow(&t->key, &t->key_cap, k->key_len + 1, err) != 0 || put_grow(&t->val, &t->val_cap, 1, err) != 0)
		return -1;
	memcpy(t->key, k->key, k->key_len);
	t->key_len = k->key_len;
	t->db = k->db;
	t->expire_ms = k->expire_ms;
	t->lru_idle = k->lru_idle;
	t->lfu_freq = k->lfu_freq;
	t->val[0] = k->type;
	t->val_len = 1;
	rdb_dump_begin(&t->dump, k->type);
	return 0;
}

static int put_on_bytes(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	struct redis_put *t = ctx;

	if (put_grow(&t->val, &t->val_cap, t->val_len + len, err) != 0)
		return -1;
	memcpy(t->val + t->val_len, raw, len);
	t->val_len += len;
	rdb_dump_add(&t->dump, raw, len);
	return 0;
}

/* After a big value, give the memory back rather than keep the peak. */
static void put_value_done(struct redis_put *t)
{
	if (t->val_cap > (4u << 20)) {
		free(t->val);
		t->val = NULL;
		t->val_cap = 0;
	}
	t->val_len = 0;
}

static int put_on_key_end(void *ctx, struct drctl_error *err)
{
	struct redis_put *t = ctx;
	uint8_t trailer[RDB_DUMP_TRAILER_LEN];
	unsigned argc = 6;
	int expired = redis_counts_add(&t->counts, t->db, t->expire_ms, err);

	if (expired != 0) {
		put_value_done(t);
		return expired < 0 ? -1 : 0;
	}
	if ((int64_t)t->db != t->cur_db) {
		if (put_array(t, 2, err) || put_word(t, "SELECT", err) || put_number(t, t->db, err) ||
		    put_pending_add(t, PUT_SELECT, t->db, NULL, 0, err))
			return -1;
		t->cur_db = t->db;
	}
	rdb_dump_trailer(&t->dump, t->rdb_version, trailer);
	argc += t->lru_idle >= 0 ? 2 : t->lfu_freq >= 0 ? 2 : 0;
	if (put_array(t, argc, err) || put_word(t, "RESTORE", err) || put_bulk(t, t->key, t->key_len, "", 0, err) ||
	    put_number(t, t->expire_ms > 0 ? t->expire_ms : 0, err) ||
	    put_bulk(t, t->val, t->val_len, trailer, sizeof(trailer), err) || put_word(t, "REPLACE", err) ||
	    put_word(t, "ABSTTL", err))
		return -1;
	if (t->lru_idle >= 0 && (put_word(t, "IDLETIME", err) || put_number(t, t->lru_idle, err)))
		return -1;
	if (t->lru_idle < 0 && t->lfu_freq >= 0 && (put_word(t, "FREQ", err) || put_number(t, t->lfu_freq, err)))
		return -1;
	if (put_pending_add(t, PUT_RESTORE, t->db, t->key, t->key_len, err) != 0)
		return -1;
	put_value_done(t);
	return 0;
}

static int put_on_function_bytes(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	struct redis_put *t = ctx;

	if (t->val_len == 0) {
		if (put_grow(&t->val, &t->val_cap, 1, err) != 0)
			return -1;
		t->val[0] = RDB_OPCODE_FUNCTION2;
		t->val_len = 1;
		rdb_dump_begin(&t->dump, RDB_OPCODE_FUNCTION2);
	}
	return put_on_bytes(ctx, raw, len, err);
}

static int put_on_function_end(void *ctx, struct drctl_error *err)
{
	struct redis_put *t = ctx;
	uint8_t trailer[RDB_DUMP_TRAILER_LEN];

	rdb_dump_trailer(&t->dump, t->rdb_version, trailer);
	if (put_array(t, 4, err) || put_word(t, "FUNCTION", err) || put_word(t, "RESTORE", err) ||
	    put_bulk(t, t->val, t->val_len, trailer, sizeof(trailer), err) ||
	    put_word(t, t->replace_functions ? "REPLACE" : "APPEND", err) ||
	    put_pending_add(t, PUT_FUNCTION, 0, NULL, 0, err))
		return -1;
	t->functions++;
	put_value_done(t);
	return 0;
}

/* ---- the target ------------------------------------------------------------------ */

struct put_target {
	char redis_version[64];
	int rdb_version;
	uint64_t keys;
	char keyspace[256];             /* "db0=12, db3=4" for messages */
};

static int put_inspect_target(struct redis_conn *c, struct put_target *tg, struct drctl_error *err)
{
	redisReply *r;

	memset(tg, 0, sizeof(*tg));
	if (redis_conn_call(c, &r, err, "INFO", "server", NULL) != 0)
		return -1;
	if (r->type != REDIS_REPLY_STRING ||
	    redis_info_field(r->str, "redis_version", tg->redis_version, sizeof(tg->redis_version)) != 0) {
		freeReplyObject(r);
		return err_set(err, EXIT_IO, redis_conn_display(c), NULL, "%s did not say its version (INFO server)",
			       redis_conn_display(c));
	}
	freeReplyObject(r);
	tg->rdb_version = redis_rdb_version_for(tg->redis_version);
	return redis_conn_keyspace(c, NULL, &tg->keys, tg->keyspace, sizeof(tg->keyspace), err);
}

/* Refuse, before anything is written, a target too old to load the RDB
 * and one holding keys without --flush. */
static int put_refuse_unsafe(const struct redis_put *t, const struct put_target *tg, int flush,
			     struct drctl_error *err)
{
	const struct restore_ctx *ctx = t->ctx;

	if (tg->rdb_version < t->rdb_version)
		return err_set(err, EXIT_USAGE, redis_conn_display(t->conn),
			       "restore into a Redis at least as new as the backup's source, or use --rdb-file with a newer redis-server",
			       "the target %s runs Redis %s, which loads RDB version %d at most; the backup is RDB version %d (from Redis %s). Nothing was changed",
			       redis_conn_display(t->conn), tg->redis_version, tg->rdb_version, t->rdb_version,
			       json_string_value(json_object_get(json_object_get(ctx->section, "source"), "redis_version")) ?: "?");
	if (tg->keys > 0 && !flush)
		return err_set(err, EXIT_USAGE, redis_conn_display(t->conn),
			       "restore into an empty server, or add --flush to replace everything there (the backup is proven before the flush)",
			       "the target %s is not empty: it holds %" PRIu64 " keys (%s). Nothing was changed",
			       redis_conn_display(t->conn), tg->keys, tg->keyspace);
	return 0;
}

static void put_report_dry_run(const struct redis_put *t, const struct put_target *tg)
{
	const struct restore_ctx *ctx = t->ctx;

	log_info("dry run: would restore %lld keys (RDB version %d) from %s into %s (Redis %s)%s",
		 (long long)json_integer_value(json_object_get(json_object_get(ctx->section, "rdb"), "keys")),
		 t->rdb_version, ctx->backup_id, redis_conn_display(t->conn), tg->redis_version,
		 tg->keys ? ", after FLUSHALL" : "");
	json_object_set_new(ctx->report, "dry_run", json_true());
	json_object_set_new(ctx->report, "would_flush_keys", json_integer((json_int_t)tg->keys));
}

static const struct config_secret_ref *target_password(const struct restore_ctx *ctx)
{
	const struct redis_restore_options *ro = ctx->opts->component;
	return ro ? ro->password : NULL;
}

/* A target holding keys: prove the backup with a pass of its own, and only
 * then FLUSHALL, on a fresh connection. */
static int put_prove_and_flush(struct redis_put *t, const struct put_target *tg, struct drctl_error *err)
{
	struct restore_ctx *ctx = t->ctx;
	redisReply *r = NULL;

	/* Proving takes a while; do not hold a connection idle through it. */
	redis_conn_close(t->conn);
	t->conn = NULL;
	if (redis_prove_backup(ctx, err) != 0)
		return -1;
	if (redis_conn_open_auth(&t->conn, ctx->cfg, ctx->opts->target, target_password(ctx), REDIS_ROLE_RESTORE, err) != 0)
		return -1;
	log_info("flushing %s (%" PRIu64 " keys: %s)", redis_conn_display(t->conn), tg->keys, tg->keyspace);
	t->touched = 1;
	if (redis_conn_call(t->conn, &r, err, "FLUSHALL", NULL) != 0)
		return -1;
	freeReplyObject(r);
	json_object_set_new(ctx->report, "flushed_keys", json_integer((json_int_t)tg->keys));
	return 0;
}

/* The RDB through the parser into the pipeline, then the last answers. */
static int put_stream_keys(struct redis_put *t, const struct put_target *tg, struct drctl_error *err)
{
	static const struct rdb_callbacks cb = {
		.on_key_begin = put_on_key_begin,
		.on_value_bytes = put_on_bytes,
		.on_key_end = put_on_key_end,
		.on_function_bytes = put_on_function_bytes,
		.on_function_end = put_on_function_end,
	};
	struct restore_ctx *ctx = t->ctx;
	json_t *rdb = json_object_get(ctx->section, "rdb");
	struct rdb_parser *parser;
	int rc = -1;

	t->obuf = malloc(PUT_OBUF_SIZE);
	t->ring = calloc(PUT_WINDOW, sizeof(*t->ring));
	parser = rdb_parser_new(&cb, t);
	if (!t->obuf || !t->ring || !parser) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	redis_counts_start(&t->counts);
	log_info("restoring %lld keys from %s into %s (Redis %s)", (long long)json_integer_value(json_object_get(rdb, "keys")),
		 ctx->backup_id, redis_conn_display(t->conn), tg->redis_version);
	t->touched = 1;
	progress_start(&t->progress, "redis", (uint64_t)json_integer_value(json_object_get(rdb, "bytes")));
	if (redis_read_rdb(ctx->archive, ctx->section, parser, NULL, &t->progress, err) != 0)
		goto done;
	if (put_write_out(t, err) != 0 || put_collect(t, 0, err) != 0)
		goto done;
	rc = 0;
done:
	progress_end(&t->progress);
	rdb_parser_free(parser);
	return rc;
}

static void put_report(const struct redis_put *t, const struct put_target *tg, double t0)
{
	json_t *report = t->ctx->report;

	json_object_set_new(report, "keys_restored", json_integer((json_int_t)t->counts.sent));
	json_object_set_new(report, "keys_expired_before_restore", json_integer((json_int_t)t->counts.skipped));
	json_object_set_new(report, "functions_restored", json_integer((json_int_t)t->functions));
	json_object_set_new(report, "rdb_version", json_integer(t->rdb_version));
	json_object_set_new(report, "target_redis_version", json_string(tg->redis_version));
	json_object_set_new(report, "seconds", json_real(now_seconds() - t0));
	log_info("restored %" PRIu64 " keys and %" PRIu64 " function libraries into %s in %.1f s (%" PRIu64 " already expired, not created); key counts match the manifest",
		 t->counts.sent, t->functions, redis_conn_display(t->conn), now_seconds() - t0, t->counts.skipped);
}

static void put_free(struct redis_put *t)
{
	redis_conn_close(t->conn);
	redis_counts_free(&t->counts);
	free(t->obuf);
	free(t->ring);
	free(t->key);
	free(t->val);
}

/* --method, else [redis] restore_method: 1 for replication, 0 commands, -1 neither. */
static int use_replication(const struct restore_ctx *ctx, struct drctl_error *err)
{
	const struct redis_restore_options *ro = ctx->opts->component;
	const char *m = ro && ro->method ? ro->method : config_get(ctx->cfg, "redis", "restore_method");

	if (!m || !strcmp(m, "commands"))
		return 0;
	if (!strcmp(m, "replication"))
		return 1;
	return err_set(err, EXIT_USAGE, "--method", "use --method commands or --method replication",
		       "unknown Redis restore method \"%s\"", m);
}

/* [redis] restore_method = replication: a target holding keys keeps them
 * until the whole RDB has arrived and was proven; it is still proven first,
 * as for a flush, so a bad set is found before the server is touched. */
static int put_by_replication(struct redis_put *t, const struct put_target *tg, struct drctl_error *err)
{
	struct restore_ctx *ctx = t->ctx;
	const char *url = ctx->opts->target ? ctx->opts->target : config_get(ctx->cfg, "redis", "url");

	if (tg->keys > 0) {
		redis_conn_close(t->conn);
		t->conn = NULL;
		if (redis_prove_backup(ctx, err) != 0 ||
		    redis_conn_open_auth(&t->conn, ctx->cfg, ctx->opts->target, target_password(ctx), REDIS_ROLE_RESTORE, err) != 0)
			return -1;
		log_info("replacing the %" PRIu64 " keys of %s (%s)", tg->keys, redis_conn_display(t->conn), tg->keyspace);
		json_object_set_new(ctx->report, "flushed_keys", json_integer((json_int_t)tg->keys));
	}
	return redis_restore_by_replication(ctx, t->conn, url, err);
}

static int put_by_commands(struct redis_put *t, const struct put_target *tg, double t0, struct drctl_error *err)
{
	if (tg->keys > 0 && put_prove_and_flush(t, tg, err) != 0)
		return -1;
	if (put_stream_keys(t, tg, err) != 0 || redis_counts_compare(t->conn, &t->counts, 0, t->ctx->report, err) != 0)
		return -1;
	json_object_set_new(t->ctx->report, "method", json_string("commands"));
	put_report(t, tg, t0);
	return 0;
}

static int put_into_server(struct restore_ctx *ctx, int flush, struct drctl_error *err)
{
	struct redis_put t = { .ctx = ctx, .cur_db = -1, .replace_functions = flush };
	struct put_target tg;
	int rc = -1, replication = use_replication(ctx, err);
	double t0 = now_seconds();

	if (replication < 0)
		return -1;
	t.rdb_version = (int)json_integer_value(json_object_get(json_object_get(ctx->section, "rdb"), "version"));
	if (t.rdb_version <= 0)
		return err_set(err, EXIT_INTEGRITY, ctx->backup_id, NULL, "the manifest of %s has no RDB version", ctx->backup_id);
	if (redis_conn_open_auth(&t.conn, ctx->cfg, ctx->opts->target, target_password(ctx), REDIS_ROLE_RESTORE, err) != 0)
		goto done;
	json_object_set_new(ctx->report, "target", json_string(redis_conn_display(t.conn)));
	if (put_inspect_target(t.conn, &tg, err) != 0 || put_refuse_unsafe(&t, &tg, flush, err) != 0)
		goto done;
	if (ctx->opts->dry_run) {
		put_report_dry_run(&t, &tg);
		rc = 0;
		goto done;
	}
	rc = replication ? put_by_replication(&t, &tg, err) : put_by_commands(&t, &tg, t0, err);
done:
	if (rc != 0 && t.touched && t.conn)
		err_hint(err, "the target %s now holds a partial restore (%" PRIu64 " keys sent); fix the cause and run `drctl restore redis --backup %s --target %s --flush`",
			 redis_conn_display(t.conn), t.counts.sent, ctx->backup_id, redis_conn_display(t.conn));
	put_free(&t);
	return rc;
}

const struct opt_spec redis_restore_option_table[] = {
	{ "flush", 0, OPT_FLAG, offsetof(struct redis_restore_options, flush), NULL,
	  "empty the target server first (only after the backup was proven)" },
	{ "rdb-file", 0, OPT_STRING, offsetof(struct redis_restore_options, rdb_file), "PATH",
	  "write the RDB to a file for a server to start on, instead of a running server" },
	{ "method", 0, OPT_STRING, offsetof(struct redis_restore_options, method), "commands|replication",
	  "how keys go into the server (default: [redis] restore_method)" },
	{ 0 },
};

int redis_restore(struct restore_ctx *ctx, struct drctl_error *err)
{
	static const struct redis_restore_options defaults;
	const struct redis_restore_options *ro = ctx->opts->component ? ctx->opts->component : &defaults;
	const char *rdb_file = ro->rdb_file;
	int flush = ro->flush;

	if (!json_object_get(ctx->section, "rdb"))
		return err_set(err, EXIT_INTEGRITY, ctx->backup_id, NULL, "the manifest of %s has no RDB facts for redis",
			       ctx->backup_id);
	if (rdb_file) {
		if (ctx->opts->target || flush)
			return err_set(err, EXIT_USAGE, "--rdb-file", "use either --rdb-file PATH or --target URL [--flush]",
				       "--rdb-file writes a file; it takes neither --target nor --flush");
		return redis_write_rdb_file(ctx, rdb_file, err);
	}
	return put_into_server(ctx, flush, err);
}
