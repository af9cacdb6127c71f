/*
 * redis (backup): the RDB of a running Redis, taken over the replication
 * protocol exactly as a replica (or `redis-cli --rdb`) takes it, so drctl
 * needs no file system access to the server and no rights but +psync
 * +replconf.
 *
 * The conversation: REPLCONF capa eof (so a diskless server may stream),
 * REPLCONF rdb-only 1 (6.2+: the server closes after the RDB; an older one
 * answers an error, which is only a warning), then PSYNC ? -1 (SYNC when the
 * server does not know PSYNC).  While the server prepares the RDB it sends
 * bare "\n" keepalives, skipped.  The payload is either "$<len>\r\n" and
 * exactly len bytes (disk-based sync) or "$EOF:<40 bytes>\r\n", the RDB and
 * the same 40 bytes again (diskless).  For the latter the last 39 bytes read
 * are always held back, so the end mark is never stored; a mark found in the
 * middle counts only when the RDB parser agrees the RDB ended right there.
 *
 * Every byte goes once through the RDB parser (magic, version, structure,
 * CRC64, per-database counts) and into the archive as the stream
 * "redis/dump.rdb" (parts of 8 MiB).  The parser is finished (CRC checked)
 * before the stream is closed, so a cut or corrupt transfer fails the backup
 * and nothing is published.  The socket is read on a worker thread so the
 * server streams at its own pace while drctl compresses (a stalled replica
 * link slows the server's fork child).  Memory: a few read buffers and one
 * archive part.
 */
#include "components/redis/redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/redis_conn.h"
#include "lib/core/log.h"
#include "lib/format/rdb.h"
#include "lib/stream/stream_thread.h"

#define REDIS_RDB_STREAM "redis/dump.rdb"
#define REDIS_EOF_MARK_LEN 40
#define REDIS_READ_SIZE (256u * 1024)
#define REDIS_LINE_MAX 512

struct redis_take {
	struct capture_ctx *ctx;
	struct redis_conn *conn;
	struct rdb_parser *parser;
	/* bytes read from the socket and not yet used; room in front for the
	 * 39 bytes held back while looking for the $EOF mark */
	uint8_t *buf;
	size_t pos, len;
	char redis_version[64];
	char aux_version[64];
	int rdb_only;
	int diskless;
	struct progress progress;
	uint64_t payload_bytes;
};

int redis_configured(const struct config *cfg)
{
	/* The built-in default URL alone does not make Redis part of every
	 * backup; an explicit [redis] url (or DRCTL_REDIS_URL) does. */
	const char *url = config_get(cfg, "redis", "url");
	return url && *url && config_is_set(cfg, "redis", "url");
}

static int take_on_aux(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
		       size_t value_len, struct drctl_error *err)
{
	struct redis_take *t = ctx;

	(void)err;
	if (key_len == 9 && !memcmp(key, "redis-ver", 9) && value && value_len < sizeof(t->aux_version)) {
		memcpy(t->aux_version, value, value_len);
		t->aux_version[value_len] = '\0';
	}
	return 0;
}

/* The next header line (without CRLF), skipping the "\n" keepalives. */
static int take_read_line(struct redis_take *t, char *line, size_t cap, struct drctl_error *err)
{
	size_t n = 0;

	for (;;) {
		if (t->pos == t->len) {
			size_t got;
			t->pos = t->len = 0;
			if (redis_conn_read_raw(t->conn, t->buf + REDIS_EOF_MARK_LEN, REDIS_READ_SIZE, &got, err) != 0)
				return -1;
			if (got == 0)
				return err_set(err, EXIT_IO, redis_conn_display(t->conn),
					       "check the server's log (maxclients, replica output buffer limits, a restart) and run the backup again",
					       "Redis on %s closed the connection before sending the RDB",
					       redis_conn_display(t->conn));
			t->pos = REDIS_EOF_MARK_LEN;
			t->len = REDIS_EOF_MARK_LEN + got;
		}
		while (t->pos < t->len) {
			char ch = (char)t->buf[t->pos++];
			if (ch == '\n') {
				if (n == 0)
					continue; /* keepalive while the server prepares the RDB */
				if (line[n - 1] == '\r')
					n--;
				line[n] = '\0';
				return 0;
			}
			if (n + 1 >= cap)
				return err_set(err, EXIT_IO, redis_conn_display(t->conn), NULL,
					       "Redis on %s sent an over-long line where the RDB header was expected",
					       redis_conn_display(t->conn));
			line[n++] = ch;
		}
	}
}

/* One piece of the RDB (a struct redis_take in arg): validate and store. */
static int take_emit(void *arg, const void *data, size_t len, struct drctl_error *err)
{
	struct redis_take *t = arg;

	if (len == 0)
		return 0;
	if (rdb_parser_feed(t->parser, data, len, err) != 0)
		return -1;
	if (archive_out_stream_write(t->ctx->archive, data, len, err) != 0)
		return -1;
	t->payload_bytes += len;
	progress_update(&t->progress, t->payload_bytes);
	return 0;
}

static int take_cut(struct redis_take *t, uint64_t delivered, struct drctl_error *err)
{
	return err_set(err, EXIT_IO, redis_conn_display(t->conn),
		       "the server stopped or the network dropped; nothing was published: run the backup again",
		       "the connection to Redis on %s ended after %" PRIu64 " bytes of the RDB, before its end: transfer cut",
		       redis_conn_display(t->conn), delivered);
}

/*
 * The payload as a source, read on a worker thread (thread_source_new) so
 * the socket is drained while the caller parses and compresses: the server
 * never waits for drctl's zstd.  "$<len>": exactly len bytes.  "$EOF:<mark>":
 * bytes up to the mark; the last 39 bytes read are held back until more
 * arrive, so no byte of the mark is ever handed out, and whatever follows
 * the mark (a pre-6.2 server's replication stream) is ignored.  The caller's
 * rdb_parser_finish then proves the RDB ended exactly at the mark.
 */
struct take_source {
	struct source base;
	struct redis_take *t;
	int eof_mode;
	uint64_t left;                  /* $len: bytes still to come */
	const uint8_t *mark;
	uint8_t *buf;                   /* $EOF: [start, safe) ready, [safe, n) held back */
	size_t start, safe, n;
	int scan_first;                 /* bytes from the header read are there: scan before reading */
	int ended;
	uint64_t delivered;
};

static int take_source_fill(struct take_source *ts, struct drctl_error *err)
{
	size_t keep = ts->n - ts->start, got = 0;
	uint8_t *hit;

	if (!ts->scan_first) {
		memmove(ts->buf, ts->buf + ts->start, keep);
		if (redis_conn_read_raw(ts->t->conn, ts->buf + keep, REDIS_READ_SIZE, &got, err) != 0)
			return -1;
		if (got == 0)
			return take_cut(ts->t, ts->delivered, err);
		ts->n = keep + got;
		ts->start = 0;
	}
	ts->scan_first = 0;
	hit = memmem(ts->buf + ts->start, ts->n - ts->start, ts->mark, REDIS_EOF_MARK_LEN);
	if (hit) {
		ts->safe = (size_t)(hit - ts->buf);
		ts->ended = 1;
	} else {
		ts->safe = ts->n - ts->start < REDIS_EOF_MARK_LEN - 1 ? ts->start : ts->n - (REDIS_EOF_MARK_LEN - 1);
	}
	return 0;
}

static int take_source_read(struct source *s, void *out, size_t cap, size_t *got, struct drctl_error *err)
{
	struct take_source *ts = (struct take_source *)s;
	struct redis_take *t = ts->t;
	size_t n = 0;

	*got = 0;
	if (!ts->eof_mode) {
		/* Fill the caller's buffer: fewer, fuller hand-offs. */
		while (n < cap && ts->left > 0) {
			size_t want = cap - n, r;
			if (want > ts->left)
				want = (size_t)ts->left;
			if (t->pos < t->len) {
				r = t->len - t->pos < want ? t->len - t->pos : want;
				memcpy((uint8_t *)out + n, t->buf + t->pos, r);
				t->pos += r;
			} else {
				if (redis_conn_read_raw(t->conn, (uint8_t *)out + n, want, &r, err) != 0)
					return -1;
				if (r == 0)
					return take_cut(t, ts->delivered + n, err);
			}
			ts->left -= r;
			n += r;
		}
	} else {
		while (n < cap) {
			size_t r;
			if (ts->start == ts->safe) {
				if (ts->ended)
					break;
				if (take_source_fill(ts, err) != 0)
					return -1;
				continue;
			}
			r = ts->safe - ts->start < cap - n ? ts->safe - ts->start : cap - n;
			memcpy((uint8_t *)out + n, ts->buf + ts->start, r);
			ts->start += r;
			n += r;
		}
	}
	ts->delivered += n;
	*got = n;
	return 0;
}

static void take_source_close(struct source *s)
{
	(void)s; /* the take owns the connection and the buffers */
}

static const struct source_ops take_source_ops = { take_source_read, take_source_close };

/* Parse and store the payload as the worker hands it over. */
static int take_payload(struct redis_take *t, struct take_source *ts, struct drctl_error *err)
{
	struct source *src = thread_source_new(&ts->base, err);
	int rc = -1;

	if (!src) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (stream_pump(src, REDIS_READ_SIZE, take_emit, t, NULL, err) != 0)
		goto done;
	rc = 0;
done:
	/* A worker blocked in a read must not wait out the timeout. */
	if (rc != 0)
		redis_conn_shutdown(t->conn);
	source_close(src);
	return rc;
}

/* REPLCONF, then PSYNC (or SYNC), up to the payload header. */
static int take_handshake(struct redis_take *t, char *header, size_t cap, struct drctl_error *err)
{
	struct drctl_error soft;
	redisReply *r = NULL;
	const char *psync[] = { "PSYNC", "?", "-1" }, *sync[] = { "SYNC" };
	const size_t psync_len[] = { 5, 1, 2 }, sync_len[] = { 4 };
	int used_sync = 0;

	if (redis_conn_call(t->conn, &r, err, "REPLCONF", "capa", "eof", NULL) != 0)
		return -1;
	freeReplyObject(r);
	err_clear(&soft);
	if (redis_conn_call(t->conn, &r, &soft, "REPLCONF", "rdb-only", "1", NULL) == 0) {
		t->rdb_only = 1;
		freeReplyObject(r);
	} else if (soft.code == EXIT_IO) {
		*err = soft;
		return -1;
	} else {
		log_warn("Redis on %s does not know REPLCONF rdb-only (before 6.2): the replication stream after the RDB is discarded",
			 redis_conn_display(t->conn));
	}
	if (redis_conn_send(t->conn, 3, psync, psync_len, err) != 0)
		return -1;
	for (;;) {
		if (take_read_line(t, header, cap, err) != 0)
			return -1;
		if (header[0] == '$')
			return 0;
		if (!strncmp(header, "+FULLRESYNC", 11)) {
			log_debug("Redis on %s: %s", redis_conn_display(t->conn), header);
			continue;
		}
		if (header[0] == '-' && !used_sync && strstr(header, "unknown command")) {
			log_warn("Redis on %s does not know PSYNC; using SYNC", redis_conn_display(t->conn));
			used_sync = 1;
			if (redis_conn_send(t->conn, 1, sync, sync_len, err) != 0)
				return -1;
			continue;
		}
		if (header[0] == '-')
			return redis_conn_reply_error(t->conn, header + 1, used_sync ? "SYNC" : "PSYNC", NULL, err);
		return err_set(err, EXIT_IO, redis_conn_display(t->conn), NULL,
			       "Redis on %s answered the sync with \"%.80s\" instead of an RDB",
			       redis_conn_display(t->conn), header);
	}
}

/* INFO server is a courtesy: a user with only +psync +replconf may not run
 * it, and the RDB's own redis-ver field says the same. */
static void take_server_facts(struct redis_take *t)
{
	struct drctl_error ignored;
	redisReply *r = NULL;

	err_clear(&ignored);
	if (redis_conn_call(t->conn, &r, &ignored, "INFO", "server", NULL) == 0) {
		if (r->type == REDIS_REPLY_STRING)
			redis_info_field(r->str, "redis_version", t->redis_version, sizeof(t->redis_version));
		freeReplyObject(r);
	}
}

static const char *crc_name(enum rdb_crc_status s)
{
	return s == RDB_CRC_VERIFIED ? "verified" : s == RDB_CRC_DISABLED ? "disabled" : s == RDB_CRC_ABSENT ? "absent" : "unread";
}

/* The facts restore and verify compare against. */
static void take_record(struct redis_take *t, json_t *section)
{
	const struct rdb_summary *s = rdb_parser_summary(t->parser);
	json_t *dbs = json_array(), *types = json_object();
	char crc[17];
	const char *version = t->redis_version[0] ? t->redis_version : t->aux_version;

	for (size_t i = 0; i < s->ndbs; i++)
		if (s->dbs[i].keys > 0)
			json_array_append_new(dbs, json_pack("{s:i, s:I, s:I}", "db", (int)s->dbs[i].db, "keys",
							     (json_int_t)s->dbs[i].keys, "expires",
							     (json_int_t)s->dbs[i].expires));
	for (int i = 0; i < RDB_TYPE_COUNT; i++)
		if (s->keys_by_type[i])
			json_object_set_new(types, rdb_type_name(i), json_integer((json_int_t)s->keys_by_type[i]));
	snprintf(crc, sizeof(crc), "%016" PRIx64, s->crc_stored);
	json_object_set_new(section, "source",
			    json_pack("{s:s, s:s, s:s, s:b}", "url", redis_conn_display(t->conn), "redis_version",
				      version[0] ? version : "unknown", "transfer", t->diskless ? "diskless" : "disk",
				      "rdb_only", t->rdb_only));
	json_object_set_new(section, "rdb",
			    json_pack("{s:s, s:i, s:I, s:s, s:s, s:I, s:I, s:I, s:o, s:o}", "stream", REDIS_RDB_STREAM,
				      "version", s->version, "bytes", (json_int_t)s->bytes, "crc", crc_name(s->crc_status),
				      "crc64", crc, "keys", (json_int_t)s->keys, "expires", (json_int_t)s->expires,
				      "functions", (json_int_t)s->functions, "databases", dbs, "types", types));
}

int redis_capture(struct capture_ctx *ctx, struct drctl_error *err)
{
	static const struct rdb_callbacks cb = { .on_aux = take_on_aux };
	struct redis_take t = { .ctx = ctx };
	struct take_source ts = { .base = { &take_source_ops }, .t = &t };
	uint8_t *eof_buf = NULL;
	char header[REDIS_LINE_MAX];
	json_t *streams = json_object();
	int rc = -1;

	json_object_set_new(ctx->section, "streams", streams);
	t.buf = malloc(REDIS_EOF_MARK_LEN + REDIS_READ_SIZE);
	t.parser = rdb_parser_new(&cb, &t);
	if (!t.buf || !t.parser) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (redis_conn_open(&t.conn, ctx->cfg, NULL, REDIS_ROLE_BACKUP, err) != 0)
		goto done;
	take_server_facts(&t);
	log_info("taking the RDB of Redis %s on %s over the replication protocol",
		 t.redis_version[0] ? t.redis_version : "(version not visible to this user)", redis_conn_display(t.conn));
	if (take_handshake(&t, header, sizeof(header), err) != 0)
		goto done;
	if (archive_out_stream_begin(ctx->archive, REDIS_RDB_STREAM, 0600, streams, err) != 0)
		goto done;
	if (!strncmp(header, "$EOF:", 5)) {
		if (strlen(header + 5) != REDIS_EOF_MARK_LEN) {
			err_set(err, EXIT_IO, redis_conn_display(t.conn), NULL, "Redis on %s sent a malformed $EOF: header",
				redis_conn_display(t.conn));
			goto done;
		}
		t.diskless = 1;
		/* The header read's leftover is the payload's start: scan it first. */
		eof_buf = malloc(REDIS_EOF_MARK_LEN + REDIS_READ_SIZE);
		if (!eof_buf) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		ts.eof_mode = 1;
		ts.mark = (const uint8_t *)header + 5;
		ts.buf = eof_buf;
		ts.n = t.len - t.pos;
		memcpy(eof_buf, t.buf + t.pos, ts.n);
		t.pos = t.len;
		ts.scan_first = 1;
		progress_start(&t.progress, "redis", 0);
	} else {
		char *end;
		unsigned long long len = strtoull(header + 1, &end, 10);
		if (end == header + 1 || *end) {
			err_set(err, EXIT_IO, redis_conn_display(t.conn), NULL, "Redis on %s sent \"%.60s\" as the RDB length",
				redis_conn_display(t.conn), header);
			goto done;
		}
		ts.left = len;
		progress_start(&t.progress, "redis", len);
	}
	if (take_payload(&t, &ts, err) != 0)
		goto done;
	progress_end(&t.progress);
	/* CRC and completeness before the stream is closed: a bad RDB fails
	 * the backup rather than reaching the repository. */
	if (rdb_parser_finish(t.parser, err) != 0) {
		err_prefix(err, "RDB from %s", redis_conn_display(t.conn));
		goto done;
	}
	if (archive_out_stream_end(ctx->archive, err) != 0)
		goto done;
	take_record(&t, ctx->section);
	{
		const struct rdb_summary *s = rdb_parser_summary(t.parser);
		if (s->crc_status == RDB_CRC_DISABLED)
			log_warn("Redis on %s saves RDBs without a checksum (rdbchecksum no): the transfer was checked structurally only",
				 redis_conn_display(t.conn));
		log_info("RDB version %d: %" PRIu64 " bytes, %" PRIu64 " keys in %zu database(s), %" PRIu64 " function libraries, CRC64 %s",
			 s->version, s->bytes, s->keys, s->ndbs, s->functions, crc_name(s->crc_status));
	}
	rc = 0;
done:
	progress_end(&t.progress);
	rdb_parser_free(t.parser);
	redis_conn_close(t.conn);
	free(t.buf);
	free(eof_buf);
	return rc;
}
