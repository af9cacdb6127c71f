/*
 * postgres: the PostgreSQL component's backup.
 *
 * What goes into the archive object:
 *   postgres/globals.sql      pg_dumpall --globals-only (roles with their
 *                             attributes, passwords and memberships; tablespaces)
 *   postgres/<db>.dump        pg_dump custom format (-Fc -Z0), one per database
 * both stored as part streams (archive_stream.h), so memory stays flat.
 *
 * Why custom format to stdout rather than directory format with -j: the
 * directory format writes every table to local files first (an uncompressed or
 * gzip-compressed temporary copy of the whole database) before drctl could
 * archive it, and gzip is the slow part of the runbook's routine.  One custom
 * stream, left uncompressed by pg_dump (-Z0) and compressed by zstd inside
 * drctl on its own threads, goes from the server to the repository in one
 * pass with no temporary copy, and pg_restore -j can still restore it in
 * parallel from a file (docs/postgres.md has the measurements).
 *
 * Consistency: for each database a control connection opens a REPEATABLE
 * READ transaction, exports its snapshot and keeps it open while pg_dump runs
 * with --snapshot.  The tables to fingerprint are listed in that same
 * transaction, and their exact row counts are counted in the dump's own COPY
 * data as it streams past (pg_data_reader in lib/format/pg_dumpfile.c): the very snapshot
 * pg_dump read, at no cost to the server (a second scan of every table would
 * compete with pg_dump for the same cores).  Sequence values are not
 * transactional, so theirs are taken from the dump's own table of contents
 * (see sequences_from_toc).
 *
 * Nothing of the globals' content is ever logged: it holds password hashes.
 */
#include "components/postgres/postgres.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/format/pg_dumpfile.h"
#include "lib/core/log.h"

#define POSTGRES_DB_MAX 256
#define POSTGRES_READ_SIZE (256 * 1024)

struct pg_backup {
	struct capture_ctx *ctx;
	const char *state_dir;
	char pg_dump[PATH_MAX], pg_dumpall[PATH_MAX];
	PGconn *control;
	struct pg_child_env env;
	json_t *streams, *databases, *warnings;
	char *buf;
	/* The head of the dump being pumped, until its TOC parses. */
	unsigned char *head;
	size_t head_len;
	int head_state; /* 0 gathering, 1 parsed into head_toc, -1 not wanted */
	json_t *head_toc;
	struct pg_data_reader *rows; /* counts COPY rows in the data blocks after the TOC */
};

int postgres_configured(const struct config *cfg)
{
	return config_get(cfg, "postgres", "conninfo") != NULL;
}

/* A member name made from a database name when it is plain, else from its
 * position, so no database name can shape a path in the archive. */
static void stream_name_for(const char *db, size_t index, char *out, size_t cap)
{
	int plain = *db && *db != '.' && strlen(db) <= PG_NAME_MAX;
	for (const char *p = db; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '_' || *p == '-' || *p == '.';
	if (plain)
		snprintf(out, cap, "postgres/%s.dump", db);
	else
		snprintf(out, cap, "postgres/database-%zu.dump", index + 1);
}

/* [postgres] databases: a list, or "*" for every database but templates. */
/* The configured list, split at commas and trimmed, into names (pointing into
 * `keep`, which owns the strings).  Empty means agents_db. */
static int configured_databases(const struct config *cfg, const char **names, size_t *n, json_t *keep,
				struct drctl_error *err)
{
	const char *v = config_get(cfg, "postgres", "databases");
	*n = 0;
	while (v && *v) {
		size_t len = strcspn(v, ","), a = 0, z = len;
		while (a < z && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (z > a && (v[z - 1] == ' ' || v[z - 1] == '\t'))
			z--;
		if (z > a) {
			if (*n == POSTGRES_DB_MAX)
				return err_set(err, EXIT_USAGE, "[postgres] databases", NULL, "at most %d databases",
					       POSTGRES_DB_MAX);
			json_array_append_new(keep, json_stringn(v + a, z - a));
			names[(*n)++] = json_string_value(json_array_get(keep, json_array_size(keep) - 1));
		}
		v += len + (v[len] == ',');
	}
	if (*n == 0)
		names[(*n)++] = "agents_db";
	return 0;
}

static int list_databases(struct pg_backup *b, const char **names, size_t *n, json_t *keep,
			  struct drctl_error *err)
{
	PGresult *r;

	if (configured_databases(b->ctx->cfg, names, n, keep, err) != 0)
		return -1;
	if (!(*n == 1 && !strcmp(names[0], "*")))
		return 0;
	r = pg_query(b->control,
		     "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY datname", 0, NULL,
		     "list of databases", err);
	if (!r)
		return -1;
	*n = 0;
	for (int i = 0; i < PQntuples(r) && *n < POSTGRES_DB_MAX; i++) {
		json_array_append_new(keep, json_string(PQgetvalue(r, i, 0)));
		names[(*n)++] = json_string_value(json_array_get(keep, json_array_size(keep) - 1));
	}
	PQclear(r);
	return 0;
}

/* Keep the start of the dump until its table of contents parses: the
 * sequence values pg_dump wrote are in it (see dump_database). */
static int gather_head(struct pg_backup *b, size_t got, const char *subject, struct drctl_error *err)
{
	char why[256];
	unsigned char *grown;
	int p;

	if (b->head_len + got > PG_TOC_MAX)
		return err_set(err, EXIT_FAILED, subject, NULL,
			       "the dump's table of contents of %s is larger than %u MiB; drctl cannot check it", subject,
			       PG_TOC_MAX >> 20);
	if (!(grown = realloc(b->head, b->head_len + got)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	b->head = grown;
	memcpy(b->head + b->head_len, b->buf, got);
	b->head_len += got;
	json_decref(b->head_toc);
	b->head_toc = json_object();
	p = pg_toc_parse(b->head, b->head_len, b->head_toc, why, sizeof(why));
	if (p < 0)
		return err_set(err, EXIT_FAILED, subject, "check that [postgres] pg_dump is PostgreSQL's pg_dump",
			       "pg_dump's output for %s does not read as a custom-format dump: %s", subject, why);
	if (p == 0) {
		size_t toc_end = (size_t)json_integer_value(json_object_get(b->head_toc, "toc_end"));
		b->head_state = 1;
		pg_data_reader_free(b->rows);
		b->rows = pg_data_reader_new((int)json_integer_value(json_object_get(b->head_toc, "int_size")));
		if (!b->rows)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		/* What came after the TOC in this read is already data. */
		if (pg_data_reader_feed(b->rows, b->head + toc_end, b->head_len - toc_end, why, sizeof(why)) != 0)
			return err_set(err, EXIT_FAILED, subject, NULL, "pg_dump's output for %s: %s", subject, why);
		free(b->head);
		b->head = NULL;
		b->head_len = 0;
	}
	return 0;
}

/* The row-count fingerprints, from the dump's own data blocks; `sizes` gets
 * each table's bytes of COPY text, which the restore uses to spread the
 * tables over its loaders. */
static int rows_from_dump(struct pg_backup *b, json_t *tables, json_t *sizes, const char *db, struct drctl_error *err)
{
	json_t *ids = json_object_get(b->head_toc, "tables"), *t;
	char why[256];
	size_t i;

	if (!b->rows || pg_data_reader_finish(b->rows, why, sizeof(why)) != 0)
		return err_set(err, EXIT_FAILED, db, "run the backup again; report this if it persists",
			       "pg_dump's output for %s ended early or is malformed: %s", db, b->rows ? why : "no data");
	json_array_foreach(tables, i, t) {
		char key[2 * PG_NAME_MAX + 8];
		json_t *id;
		int64_t rows;
		snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(t, "schema")),
			 json_string_value(json_object_get(t, "name")));
		id = json_object_get(ids, key);
		rows = id ? pg_data_reader_rows(b->rows, json_integer_value(id)) : -1;
		if (rows < 0)
			return err_set(err, EXIT_FAILED, key, "run the backup again; report this if it persists",
				       "pg_dump wrote no data for table %s of database %s", key, db);
		json_object_set_new(t, "rows", json_integer((json_int_t)rows));
		json_object_set_new(sizes, key,
				    json_integer((json_int_t)pg_data_reader_bytes(b->rows, json_integer_value(id))));
	}
	return 0;
}

/* Sequences are not transactional: no snapshot fixes their values, and
 * pg_dump reads each one on its own.  The fingerprint is therefore the value
 * the dump itself holds (its SEQUENCE SET entries), for the sequences the
 * snapshot listed; a restore that does not reproduce it is caught. */
static int sequences_from_toc(json_t *fp, json_t *toc, const char *db, struct drctl_error *err)
{
	json_t *seqs = json_object_get(fp, "sequences"), *s, *from = json_object_get(toc, "sequences");
	size_t i;

	json_array_foreach(seqs, i, s) {
		char key[2 * PG_NAME_MAX + 8];
		json_t *v;
		snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(s, "schema")),
			 json_string_value(json_object_get(s, "name")));
		if (!(v = json_object_get(from, key)))
			return err_set(err, EXIT_FAILED, key, "run the backup again; report this if it persists",
				       "pg_dump's output for %s has no value for sequence %s", db, key);
		json_object_set(s, "last_value", json_object_get(v, "last_value"));
		json_object_set(s, "is_called", json_object_get(v, "is_called"));
	}
	return 0;
}

/* Copy a tool's stdout into an archive stream (and, for a dump, into the
 * TOC reader and then the row counter). */
static int pump_stream(struct pg_backup *b, struct pg_tool *t, const char *subject, struct drctl_error *err)
{
	for (;;) {
		ssize_t got;

		got = read(t->out_fd, b->buf, POSTGRES_READ_SIZE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return err_set_errno(err, EXIT_FAILED, errno, subject, NULL, "reading %s's output", t->name);
		if (got == 0)
			return 0;
		if (archive_out_stream_write(b->ctx->archive, b->buf, (size_t)got, err) != 0)
			return -1;
		if (b->head_state == 0) {
			if (gather_head(b, (size_t)got, subject, err) != 0)
				return -1;
		} else if (b->head_state == 1 && b->rows) {
			char why[256];
			if (pg_data_reader_feed(b->rows, (const unsigned char *)b->buf, (size_t)got, why, sizeof(why)) != 0)
				return err_set(err, EXIT_FAILED, subject, NULL, "pg_dump's output for %s: %s", subject, why);
		}
	}
}

static void tool_failure_hint(struct drctl_error *err, const char *db)
{
	if (strstr(err->message, "server closed the connection") || strstr(err->message, "terminating connection") ||
	    strstr(err->message, "connection to server") || strstr(err->message, "SSL SYSCALL"))
		err_hint(err,
			 "the connection to PostgreSQL was lost during the dump of %s (server restart or a terminated backend): check the server log, then run `drctl backup --component postgres` again; nothing was published",
			 db);
	else if (!err->hint[0])
		err_hint(err, "read the PostgreSQL server log around this time, fix the cause, then run `drctl backup --component postgres` again; nothing was published");
}

static int dump_database(struct pg_backup *b, const char *db, size_t index, struct drctl_error *err)
{
	char stream[PATH_MAX], snapshot[128], dbarg[512], snaparg[160];
	json_t *entry = NULL, *fp = json_object(), *tables = json_array(), *table_bytes = json_object();
	struct pg_tool t = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	PGconn *conn = NULL;
	double t0 = now_seconds();
	int rc = -1;

	json_object_set_new(fp, "tables", tables);
	stream_name_for(db, index, stream, sizeof(stream));
	if (pg_dbname_arg(db, dbarg, sizeof(dbarg)) != 0) {
		err_set(err, EXIT_USAGE, db, NULL, "database name %s is too long", db);
		goto done;
	}
	if (!(conn = pg_connect(b->ctx->cfg, db, err)))
		goto done;
	if (pg_check_dump_privileges(conn, db, err) != 0)
		goto done;
	if (!(entry = pg_database_properties(conn, err)))
		goto done;
	if (pg_snapshot_export(conn, snapshot, sizeof(snapshot), err) != 0)
		goto done;
	if (pg_fingerprint_sequences(conn, fp, err) != 0)
		goto done;
	/* The tables to fingerprint, listed in the snapshot; their rows are
	 * counted in the dump's own data (rows_from_dump), not by a second scan
	 * of every table competing with pg_dump. */
	if (pg_fingerprint_tables(conn, tables, NULL, err) != 0)
		goto done;
	snprintf(snaparg, sizeof(snaparg), "--snapshot=%s", snapshot);
	{
		char *argv[] = { b->pg_dump, "--format=custom", "--compress=0", snaparg, "--dbname", dbarg, NULL };
		if (pg_tool_start(&t, argv, &b->env, 0, 1, b->state_dir, err) != 0)
			goto done;
	}
	log_info("dumping database %s (snapshot %s) into %s", db, snapshot, stream);
	if (archive_out_stream_begin(b->ctx->archive, stream, 0600, b->streams, err) != 0)
		goto done;
	b->head_state = 0;
	if (pump_stream(b, &t, db, err) != 0)
		goto done;
	if (pg_tool_finish(&t, "dump", db, err) != 0) {
		tool_failure_hint(err, db);
		goto done;
	}
	if (b->head_state != 1) {
		err_set(err, EXIT_FAILED, db, NULL, "pg_dump's output for %s ended inside its table of contents", db);
		goto done;
	}
	if (sequences_from_toc(fp, b->head_toc, db, err) != 0)
		goto done;
	if (rows_from_dump(b, tables, table_bytes, db, err) != 0)
		goto done;
	/* Only now may the snapshot go: pg_dump has finished with it. */
	if (pg_snapshot_release(conn, err) != 0)
		goto done;
	if (archive_out_stream_end(b->ctx->archive, err) != 0)
		goto done;
	json_object_set_new(entry, "stream", json_string(stream));
	json_object_set_new(entry, "format", json_string("custom"));
	json_object_set_new(entry, "snapshot", json_string(snapshot));
	json_object_set(entry, "fingerprints", fp);
	json_object_set(entry, "table_bytes", table_bytes);
	json_object_set_new(entry, "duration_seconds", json_real(now_seconds() - t0));
	json_object_set_new(b->databases, db, json_incref(entry));
	log_info("database %s: %zu tables, %zu sequences fingerprinted, %.1f s", db, json_array_size(tables),
		 json_array_size(json_object_get(fp, "sequences")), now_seconds() - t0);
	rc = 0;
done:
	if (t.pid > 0)
		pg_tool_kill(&t);
	if (rc != 0)
		err_prefix(err, "database %s", db);
	b->head_state = -1;
	free(b->head);
	b->head = NULL;
	b->head_len = 0;
	json_decref(b->head_toc);
	b->head_toc = NULL;
	pg_data_reader_free(b->rows);
	b->rows = NULL;
	PQfinish(conn);
	json_decref(entry);
	json_decref(fp);
	json_decref(table_bytes);
	return rc;
}

/* Roles (with passwords when we may read them) and tablespaces. */
static int dump_globals(struct pg_backup *b, const char *db, json_t *section, struct drctl_error *err)
{
	int super = pg_is_superuser(b->control);
	char *argv[8];
	int n = 0, rc = -1;
	struct pg_tool t = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	PGresult *r;
	json_t *roles = json_array();

	argv[n++] = b->pg_dumpall;
	argv[n++] = "--globals-only";
	if (!super) {
		/* pg_authid (the password hashes) is readable by superusers only. */
		argv[n++] = "--no-role-passwords";
		json_array_append_new(b->warnings,
				      json_string("globals dumped without role passwords: the backup user is not a superuser; after restoring roles, set their passwords again"));
		log_warn("the backup user is not a superuser, so roles are dumped without their passwords");
	}
	argv[n++] = "-l";
	argv[n++] = (char *)db;
	argv[n] = NULL;
	if (pg_tool_start(&t, argv, &b->env, 0, 1, b->state_dir, err) != 0)
		goto done;
	if (archive_out_stream_begin(b->ctx->archive, "postgres/globals.sql", 0600, b->streams, err) != 0)
		goto done;
	if (pump_stream(b, &t, "globals", err) != 0)
		goto done;
	if (pg_tool_finish(&t, "roles and tablespaces", "globals", err) != 0) {
		tool_failure_hint(err, "the globals");
		goto done;
	}
	if (archive_out_stream_end(b->ctx->archive, err) != 0)
		goto done;
	if (!(r = pg_query(b->control, "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1", 0, NULL,
			   "roles", err)))
		goto done;
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(roles, json_string(PQgetvalue(r, i, 0)));
	PQclear(r);
	json_object_set_new(section, "globals", json_pack("{s:s, s:b, s:O}", "stream", "postgres/globals.sql",
							  "role_passwords", super, "roles", roles));
	rc = 0;
done:
	if (t.pid > 0)
		pg_tool_kill(&t);
	json_decref(roles);
	return rc;
}

static int check_tools(struct pg_backup *b, json_t *section, struct drctl_error *err)
{
	char server[64], dump_v[64], dumpall_v[64];
	const char *prog = config_get(b->ctx->cfg, "postgres", "pg_dump");

	snprintf(b->pg_dump, sizeof(b->pg_dump), "%s", prog ? prog : "pg_dump");
	pg_tool_sibling(b->pg_dump, "pg_dumpall", b->pg_dumpall, sizeof(b->pg_dumpall));
	pg_server_version(b->control, server, sizeof(server));
	if (pg_tool_check(b->pg_dump, b->control, dump_v, sizeof(dump_v), err) != 0)
		return -1;
	if (pg_tool_check(b->pg_dumpall, b->control, dumpall_v, sizeof(dumpall_v), err) != 0)
		return -1;
	json_object_set_new(section, "server_version", json_string(server));
	json_object_set_new(section, "server_version_num", json_integer(PQserverVersion(b->control)));
	json_object_set_new(section, "pg_dump_version", json_string(dump_v));
	log_info("server %s, pg_dump %s", server, dump_v);
	return 0;
}

int postgres_capture(struct capture_ctx *ctx, struct drctl_error *err)
{
	struct pg_backup b = { .ctx = ctx, .head_state = -1 };
	const char *names[POSTGRES_DB_MAX];
	json_t *keep = json_array();
	size_t n = 0;
	int rc = -1;

	b.state_dir = config_get_path(ctx->cfg, "state", "dir");
	b.streams = json_object();
	b.databases = json_object();
	b.warnings = json_array();
	json_object_set_new(ctx->section, "streams", b.streams);
	json_object_set_new(ctx->section, "databases", b.databases);
	json_object_set_new(ctx->section, "warnings", b.warnings);
	json_object_set_new(ctx->section, "format", json_string("pg_dump custom (-Fc -Z0), one stream per database"));
	if (!(b.buf = malloc(POSTGRES_READ_SIZE))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	/* The first configured database is where the checks and globals run
	 * (with "*", the database of [postgres] conninfo). */
	if (configured_databases(ctx->cfg, names, &n, keep, err) != 0)
		goto done;
	if (!(b.control = pg_connect(ctx->cfg, strcmp(names[0], "*") ? names[0] : NULL, err)))
		goto done;
	if (check_tools(&b, ctx->section, err) != 0)
		goto done;
	if (list_databases(&b, names, &n, keep, err) != 0)
		goto done;
	if (n == 0) {
		err_set(err, EXIT_USAGE, "[postgres] databases", "set [postgres] databases", "no database to back up");
		goto done;
	}
	if (pg_child_env_build(b.control, b.state_dir, &b.env, err) != 0)
		goto done;
	if (dump_globals(&b, PQdb(b.control), ctx->section, err) != 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (dump_database(&b, names[i], i, err) != 0)
			goto done;
	rc = 0;
done:
	pg_child_env_free(&b.env);
	PQfinish(b.control);
	free(b.buf);
	json_decref(keep);
	return rc;
}
