/*
 * redis_rdb (restore): the RDB read out of a backup set's archive, checked
 * as it streams (structure, CRC64, the signed manifest's counts; the stream
 * source checks every part's and the stream's SHA-256), for both ways of
 * restoring Redis; and --rdb-file PATH, which writes it to a temporary file
 * next to PATH, fsyncs it and renames it into place (an existing file is
 * replaced only with --force).  restore.c is the way into a server.
 */
#include "components/redis/restore_private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/set/set_reader.h"

#define RDB_READ_SIZE (256u * 1024)

/* The RDB's counts must be the signed manifest's. */
static int check_summary(const struct rdb_summary *s, json_t *rdb, struct drctl_error *err)
{
	json_t *db;
	size_t i;

	if (s->version != json_integer_value(json_object_get(rdb, "version")) ||
	    (json_int_t)s->keys != json_integer_value(json_object_get(rdb, "keys")) ||
	    (json_int_t)s->expires != json_integer_value(json_object_get(rdb, "expires")) ||
	    (json_int_t)s->functions != json_integer_value(json_object_get(rdb, "functions")))
		return err_set(err, EXIT_INTEGRITY, "RDB", "restore from another set (`drctl list`) and keep this one for investigation",
			       "the RDB (version %d, %" PRIu64 " keys, %" PRIu64 " with expiry, %" PRIu64 " functions) differs from the signed manifest",
			       s->version, s->keys, s->expires, s->functions);
	json_array_foreach(json_object_get(rdb, "databases"), i, db) {
		uint32_t n = (uint32_t)json_integer_value(json_object_get(db, "db"));
		uint64_t keys = 0;
		for (size_t j = 0; j < s->ndbs; j++)
			if (s->dbs[j].db == n)
				keys = s->dbs[j].keys;
		if ((json_int_t)keys != json_integer_value(json_object_get(db, "keys")))
			return err_set(err, EXIT_INTEGRITY, "RDB", NULL,
				       "db %u of the RDB holds %" PRIu64 " keys, the signed manifest says %lld", n, keys,
				       (long long)json_integer_value(json_object_get(db, "keys")));
	}
	return 0;
}

/* Where each chunk of the RDB goes: the parser, the copy, the progress line. */
struct rdb_out {
	struct rdb_parser *parser;
	const struct rdb_copy *copy;
	struct progress *progress;
	uint64_t total;
};

static int rdb_out_feed(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	struct rdb_out *o = arg;

	if (rdb_parser_feed(o->parser, buf, len, err) != 0)
		return -1;
	if (o->copy && o->copy->write(o->copy->arg, buf, len, err) != 0)
		return -1;
	o->total += len;
	if (o->progress)
		progress_update(o->progress, o->total);
	return 0;
}

/* Read the whole RDB stream of an archive through `parser`, also into fd
 * when fd >= 0, and check CRC and counts.  The stream source checks the
 * parts and the stream's SHA-256 against the signed manifest at its end. */
int redis_read_rdb(struct archive_in *ai, json_t *section, struct rdb_parser *parser, const struct rdb_copy *copy,
		   struct progress *progress, struct drctl_error *err)
{
	json_t *expect = json_object_get(json_object_get(section, "streams"), REDIS_RDB_STREAM);
	struct archive_member m;
	struct source *src = NULL;
	struct rdb_out out = { .parser = parser, .copy = copy, .progress = progress };
	int rc = -1, more;

	more = archive_in_next(ai, &m, err);
	if (more < 0)
		goto done;
	if (more == 0 || strncmp(m.name, REDIS_RDB_STREAM ".part-", strlen(REDIS_RDB_STREAM ".part-")) != 0) {
		err_set(err, EXIT_INTEGRITY, REDIS_RDB_STREAM, "restore from another set (`drctl list`)",
			"the redis archive does not start with the RDB stream %s", REDIS_RDB_STREAM);
		goto done;
	}
	src = archive_in_stream_source(ai, REDIS_RDB_STREAM, expect, err);
	if (!src)
		goto done;
	if (stream_pump(src, RDB_READ_SIZE, rdb_out_feed, &out, NULL, err) != 0)
		goto done;
	if (rdb_parser_finish(parser, err) != 0)
		goto done;
	if (check_summary(rdb_parser_summary(parser), json_object_get(section, "rdb"), err) != 0)
		goto done;
	rc = 0;
done:
	source_close(src);
	return rc;
}

/* Prove the backup before anything in the target is destroyed: a pass of
 * its own over the same set, every hash and the RDB's CRC. */
int redis_prove_backup(struct restore_ctx *ctx, struct drctl_error *err)
{
	struct set_reader s;
	struct object_read o = { 0 };
	struct rdb_parser *parser = rdb_parser_new(NULL, NULL);
	int rc = -1;

	if (!parser)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	log_info("proving backup set %s before the target is flushed (a full read, hashes and RDB CRC64)", ctx->backup_id);
	if (set_reader_open(&s, ctx->cfg, ctx->backup_id, err) != 0)
		goto done;
	if (set_reader_open_component(&s, "redis", &o, err) != 0)
		goto done;
	if (redis_read_rdb(o.archive, o.section, parser, NULL, NULL, err) != 0)
		goto done;
	rc = set_reader_finish_component(&s, &o, err);
done:
	set_reader_abandon_component(&o);
	set_reader_close(&s);
	rdb_parser_free(parser);
	if (rc != 0)
		err_prefix(err, "the backup could not be proven, so the target was NOT flushed");
	return rc;
}

/* The file of --rdb-file. */
struct rdb_file_out {
	int fd;
	const char *name;
};

static int write_to_file(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	const struct rdb_file_out *f = arg;

	for (size_t off = 0; off < len;) {
		ssize_t w = write(f->fd, (const uint8_t *)buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set_errno(err, EXIT_IO, errno, f->name, NULL, "cannot write %s", f->name);
		off += (size_t)w;
	}
	return 0;
}

int redis_write_rdb_file(struct restore_ctx *ctx, const char *path, struct drctl_error *err)
{
	char tmp[PATH_MAX] = "", dir[PATH_MAX], base[NAME_MAX + 1];
	struct rdb_parser *parser = rdb_parser_new(NULL, NULL);
	struct progress progress;
	int fd = -1, dfd = -1, rc = -1, n, created = 0;

	if (!parser)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	{
		char a[PATH_MAX], b[PATH_MAX];
		snprintf(a, sizeof(a), "%s", path);
		snprintf(b, sizeof(b), "%s", path);
		snprintf(dir, sizeof(dir), "%s", dirname(a));
		n = snprintf(base, sizeof(base), "%s", basename(b));
		if (n < 0 || (size_t)n >= sizeof(base)) {
			err_set(err, EXIT_USAGE, path, NULL, "file name %s is too long", path);
			goto done;
		}
	}
	if (!ctx->opts->force && access(path, F_OK) == 0) {
		err_set(err, EXIT_USAGE, path, "remove it, pick another path, or add --force to replace it (only after the new RDB is verified)",
			"%s already exists; not overwritten", path);
		goto done;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%.200s.drctl-%ld", dir, base, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		err_set(err, EXIT_USAGE, path, NULL, "path %s is too long", path);
		goto done;
	}
	if (ctx->opts->dry_run) {
		tmp[0] = '\0';
		log_info("dry run: would write the RDB of %s to %s", ctx->backup_id, path);
		json_object_set_new(ctx->report, "dry_run", json_true());
		rc = 0;
		goto done;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	created = fd >= 0;
	if (dfd < 0 || fd < 0) {
		err_set_errno(err, EXIT_IO, errno, path, "check that the folder exists and is writable", "cannot create %s", tmp);
		goto done;
	}
	progress_start(&progress, "redis", (uint64_t)json_integer_value(json_object_get(json_object_get(ctx->section, "rdb"), "bytes")));
	{
		struct rdb_file_out f = { .fd = fd, .name = tmp };
		struct rdb_copy copy = { write_to_file, &f };
		rc = redis_read_rdb(ctx->archive, ctx->section, parser, &copy, &progress, err);
	}
	progress_end(&progress);
	if (rc != 0)
		goto done;
	rc = -1;
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot finish %s", tmp);
		goto done;
	}
	fd = -1;
	if ((ctx->opts->force ? rename(tmp, path) : renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE)) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot put %s in place", path);
		goto done;
	}
	tmp[0] = '\0';
	fsync(dfd);
	{
		const struct rdb_summary *s = rdb_parser_summary(parser);
		log_info("wrote %s: RDB version %d, %" PRIu64 " bytes, %" PRIu64 " keys, CRC64 verified. Start a Redis that loads RDB version %d (%s) on it: chown it to the server's user, point `dir` and `dbfilename` at it, appendonly no",
			 path, s->version, s->bytes, s->keys, s->version,
			 s->version >= 12 ? "7.4 or newer" : s->version == 11 ? "7.2 or newer" : s->version == 10 ? "7.0 or newer" : "6.0 or newer");
		json_object_set_new(ctx->report, "rdb_file", json_string(path));
		json_object_set_new(ctx->report, "rdb_version", json_integer(s->version));
		json_object_set_new(ctx->report, "bytes", json_integer((json_int_t)s->bytes));
		json_object_set_new(ctx->report, "keys", json_integer((json_int_t)s->keys));
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (created && tmp[0] && rc != 0)
		unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	rdb_parser_free(parser);
	return rc;
}
