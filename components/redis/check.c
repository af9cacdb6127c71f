/*
 * redis (deep verify): the RDB stored as parts "redis/dump.rdb.part-NNNNNN"
 * is re-walked through the same streaming parser the backup used: magic,
 * version, structure of every value, the trailing CRC64, and the per-database
 * key and expiry counts, which must equal the signed manifest's.  The
 * generic code has already matched each part's size and SHA-256; this proves
 * that what those hashes protect is a loadable RDB.
 *
 * State between members (the parser, the next part expected) lives in
 * ctx->state, made on the first part and freed by check_finish, or at once
 * when a check fails.
 */
#include "components/redis/redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/component.h"
#include "lib/format/rdb.h"

#define REDIS_RDB_STREAM "redis/dump.rdb"

struct redis_check {
	struct rdb_parser *parser;
	unsigned next_part;
};

static void redis_check_free(struct check_ctx *ctx)
{
	struct redis_check *st = ctx->state;

	if (st) {
		rdb_parser_free(st->parser);
		free(st);
	}
	ctx->state = NULL;
}

/* One part's bytes into the parser; a failure names the part. */
struct part_feed {
	struct rdb_parser *parser;
	const char *member;
};

static int feed_part(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	struct part_feed *f = arg;

	if (rdb_parser_feed(f->parser, buf, len, err) != 0) {
		err_prefix(err, "RDB in %s", f->member);
		return -1;
	}
	return 0;
}

int redis_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err)
{
	struct redis_check *st = ctx->state;
	char want[ARCHIVE_MEMBER_NAME_MAX + 1];
	struct part_feed feed = { .member = m->name };
	int rc = -1;

	if (strncmp(m->name, REDIS_RDB_STREAM ".part-", strlen(REDIS_RDB_STREAM ".part-")) != 0)
		return err_set(err, EXIT_INTEGRITY, m->name, NULL, "unexpected member %s in the redis archive", m->name);
	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st || !(st->parser = rdb_parser_new(NULL, NULL))) {
			free(st);
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		}
		st->next_part = 1;
		ctx->state = st;
	}
	archive_stream_part_name(REDIS_RDB_STREAM, st->next_part, want, sizeof(want));
	if (strcmp(m->name, want) != 0) {
		err_set(err, EXIT_INTEGRITY, m->name, NULL, "RDB part %s found where %s was expected", m->name, want);
		goto done;
	}
	st->next_part++;
	feed.parser = st->parser;
	if (stream_pump(data, 256 * 1024, feed_part, &feed, NULL, err) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		redis_check_free(ctx);
	return rc;
}

/* A manifest count against what the walk found. */
static int redis_check_count(const char *what, json_t *manifest_value, uint64_t found, struct drctl_error *err)
{
	if (!json_is_integer(manifest_value) || (uint64_t)json_integer_value(manifest_value) != found)
		return err_set(err, EXIT_INTEGRITY, "RDB", NULL, "the RDB holds %" PRIu64 " %s, the signed manifest says %lld",
			       found, what, (long long)json_integer_value(manifest_value));
	return 0;
}

int redis_check_finish(struct check_ctx *ctx, struct drctl_error *err)
{
	struct redis_check *st = ctx->state;
	json_t *rdb = json_object_get(ctx->section, "rdb"), *db;
	const struct rdb_summary *s;
	size_t i;
	int rc = -1;

	if (!st) {
		err_set(err, EXIT_INTEGRITY, "RDB", NULL, "the redis archive holds no RDB");
		goto done;
	}
	if (rdb_parser_finish(st->parser, err) != 0)
		goto done;
	s = rdb_parser_summary(st->parser);
	if (s->crc_status != RDB_CRC_VERIFIED && !(s->crc_status == RDB_CRC_DISABLED &&
						    !strcmp(json_string_value(json_object_get(rdb, "crc")) ?: "", "disabled"))) {
		err_set(err, EXIT_INTEGRITY, "RDB", NULL, "the RDB's CRC64 was not verified");
		goto done;
	}
	if (redis_check_count("as RDB version", json_object_get(rdb, "version"), (uint64_t)s->version, err) ||
	    redis_check_count("keys", json_object_get(rdb, "keys"), s->keys, err) ||
	    redis_check_count("keys with an expiry", json_object_get(rdb, "expires"), s->expires, err) ||
	    redis_check_count("function libraries", json_object_get(rdb, "functions"), s->functions, err))
		goto done;
	json_array_foreach(json_object_get(rdb, "databases"), i, db) {
		uint32_t n = (uint32_t)json_integer_value(json_object_get(db, "db"));
		uint64_t keys = 0, expires = 0;
		char what[64];
		for (size_t j = 0; j < s->ndbs; j++)
			if (s->dbs[j].db == n) {
				keys = s->dbs[j].keys;
				expires = s->dbs[j].expires;
			}
		snprintf(what, sizeof(what), "keys in db %u", n);
		if (redis_check_count(what, json_object_get(db, "keys"), keys, err))
			goto done;
		snprintf(what, sizeof(what), "keys with an expiry in db %u", n);
		if (redis_check_count(what, json_object_get(db, "expires"), expires, err))
			goto done;
	}
	rc = 0;
done:
	redis_check_free(ctx);
	return rc;
}
