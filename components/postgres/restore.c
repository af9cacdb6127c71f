/*
 * postgres: restoring one database (and optionally the cluster globals) from
 * a backup set.
 *
 *   drctl restore postgres [--backup ID|latest] [--database NAME]
 *         [--target-database NAME] [--jobs N] [--globals | --globals-only]
 *         [--force] [--dry-run]
 *
 * The steps, in order, each proven before the next:
 *   1. plan: which database, which target name, swap or not (--dry-run stops here);
 *   2. globals (--globals): roles re-created or altered in place, so running
 *      it twice changes nothing the second time;
 *   3. a NEW database (CREATE DATABASE ... TEMPLATE template0, the source's
 *      encoding and collation) receives pg_restore;
 *   4. its fingerprints are compared with the signed manifest, table by table;
 *   5. only then, if the target existed (and --force was given), the swap:
 *      sessions on the old database are terminated, it is renamed
 *      <db>_replaced_<UTC time>, and the new one takes its name.  Nothing is
 *      ever dropped.
 *
 * Step 3's loading, pg_restore fed from the stream, one or N at a time, is
 * restore_load.c (and restore_spread.c); docs/postgres.md has the
 * design and the measurements.
 */
#include "components/postgres/postgres.h"
#include "components/postgres/restore_private.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/core/log.h"

#define POSTGRES_GLOBALS_MAX (64u << 20)

struct pg_restore_plan {
	struct restore_ctx *ctx;
	const char *state_dir;
	/* options */
	const char *database, *target_option;
	long jobs;
	int globals, globals_only;
	const struct pg_server *server;
	/* derived */
	json_t *entry; /* the database's manifest entry */
	char target[PG_NAME_MAX + 1], staging[PG_NAME_MAX + 1], replaced[PG_NAME_MAX + 1];
	char pg_restore[PATH_MAX];
	int target_exists, created, roles_missing;
	PGconn *control;
	struct pg_child_env env;
};

const struct opt_spec postgres_restore_option_table[] = {
	{ "database", 0, OPT_STRING, offsetof(struct postgres_restore_options, database), "NAME",
	  "the database of the set to restore (needed when it has several)" },
	{ "target-database", 0, OPT_STRING, offsetof(struct postgres_restore_options, target_database), "NAME",
	  "restore under this name (default: its own name; --target is the same)" },
	{ "jobs", 0, OPT_LONG, offsetof(struct postgres_restore_options, jobs), "N",
	  "pg_restore processes at once, 1 to 64 (default: [postgres] jobs)" },
	{ "globals", 0, OPT_FLAG, offsetof(struct postgres_restore_options, globals), NULL,
	  "also restore the cluster globals (roles) first" },
	{ "globals-only", 0, OPT_FLAG, offsetof(struct postgres_restore_options, globals_only), NULL,
	  "restore only the cluster globals" },
	{ 0 },
};

static int parse_options(struct pg_restore_plan *p, struct drctl_error *err)
{
	static const struct postgres_restore_options defaults;
	const struct restore_options *o = p->ctx->opts;
	const struct postgres_restore_options *po = o->component ? o->component : &defaults;
	long cfg_jobs = 0;

	p->jobs = config_get_int(p->ctx->cfg, "postgres", "jobs", &cfg_jobs) == 0 ? cfg_jobs : 1;
	if (po->jobs) {
		if (po->jobs > 64)
			return err_set(err, EXIT_USAGE, "--jobs", "--jobs takes a number from 1 to 64", "bad --jobs %ld",
				       po->jobs);
		p->jobs = po->jobs;
	}
	p->database = po->database;
	p->target_option = po->target_database ? po->target_database : o->target;
	p->globals = po->globals || po->globals_only;
	p->globals_only = po->globals_only;
	p->server = po->server;
	return 0;
}

/* --- plan ------------------------------------------------------------------ */

static int choose_database(struct pg_restore_plan *p, struct drctl_error *err)
{
	json_t *dbs = json_object_get(p->ctx->section, "databases");
	const char *name;
	json_t *e;

	if (!p->database) {
		if (json_object_size(dbs) != 1) {
			char list[512] = "";
			size_t len = 0;
			json_object_foreach(dbs, name, e) {
				int n = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", name);
				if (n < 0 || (size_t)n >= sizeof(list) - len)
					break;
				len += (size_t)n;
			}
			return err_set(err, EXIT_USAGE, "--database", "add --database NAME",
				       "backup set %s holds %zu databases (%s); say which one to restore", p->ctx->backup_id,
				       json_object_size(dbs), list);
		}
		json_object_foreach(dbs, name, e)
			p->database = name;
	}
	if (!(p->entry = json_object_get(dbs, p->database)))
		return err_set(err, EXIT_NOT_FOUND, p->database, "`drctl show ID` lists the databases of a set",
			       "backup set %s has no database %s", p->ctx->backup_id, p->database);
	return 0;
}

/* Copy a database name into out (PG_NAME_MAX + 1 bytes) if it fits. */
static int name_set(char *out, const char *name, const char *what, struct drctl_error *err)
{
	size_t n = strlen(name);
	if (n > PG_NAME_MAX)
		return err_set(err, EXIT_USAGE, name, "choose a shorter name with --target-database",
			       "%s name %s is longer than PostgreSQL's %d characters", what, name, PG_NAME_MAX);
	memcpy(out, name, n + 1);
	return 0;
}

static int plan_names(struct pg_restore_plan *p, struct drctl_error *err)
{
	char stamp[32], buf[512];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (p->target_option)
		snprintf(buf, sizeof(buf), "%s", p->target_option);
	else
		snprintf(buf, sizeof(buf), "%s_restore_%s", p->database, p->ctx->backup_id);
	if (name_set(p->target, buf, "target database", err) != 0)
		return -1;
	if (pg_database_exists(p->control, p->target, &p->target_exists, err) != 0)
		return -1;
	if (p->target_exists && !p->ctx->opts->force && !p->globals_only)
		return err_set(err, EXIT_USAGE, p->target,
			       "add --force to restore into a new database and swap it in by renaming (the current one is kept, renamed), or choose another --target-database",
			       "database %s already exists; nothing was changed", p->target);
	if (!p->target_exists) {
		memcpy(p->staging, p->target, sizeof(p->staging));
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s_replaced_%s", p->target, stamp);
	if (name_set(p->replaced, buf, "kept database", err) != 0)
		return -1;
	/* The usual restore name, unless it is taken (an earlier restore of the
	 * same set, kept): then a dated one. */
	snprintf(buf, sizeof(buf), "%s_restore_%s", p->database, p->ctx->backup_id);
	for (int attempt = 0; attempt < 2; attempt++) {
		int exists = 0;
		if (attempt == 1 || !strcmp(buf, p->target))
			snprintf(buf, sizeof(buf), "%s_new_%s", p->target, stamp);
		if (name_set(p->staging, buf, "staging database", err) != 0)
			return -1;
		if (pg_database_exists(p->control, p->staging, &exists, err) != 0)
			return -1;
		if (!exists)
			break;
		if (attempt == 1)
			return err_set(err, EXIT_USAGE, p->staging,
				       "inspect it (an earlier restore that was not swapped in?), then drop it (`dropdb NAME`) or rename it, and run the restore again",
				       "database %s, where the restore would go before the swap, already exists; nothing was changed",
				       p->staging);
	}
	return 0;
}

/* Owners and grantees must exist, or pg_restore fails on ALTER ... OWNER. */
static int check_roles(struct pg_restore_plan *p, struct drctl_error *err)
{
	json_t *roles = json_object_get(json_object_get(p->ctx->section, "globals"), "roles"), *r;
	size_t i;

	p->roles_missing = 0;
	json_array_foreach(roles, i, r) {
		const char *params[1] = { json_string_value(r) };
		PGresult *res = pg_query(p->control, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, params, "roles", err);
		if (!res)
			return -1;
		if (PQntuples(res) == 0) {
			if (!p->roles_missing)
				log_warn("role %s of the backup does not exist here: objects will belong to the restoring user and grants are skipped (restore roles with --globals)",
					 params[0]);
			p->roles_missing++;
		}
		PQclear(res);
	}
	return 0;
}

static int connect_control(struct pg_restore_plan *p, struct drctl_error *err)
{
	/* Never the database being replaced: it cannot be renamed while we are on it. */
	const char *maint = strcmp(p->database ? p->database : "", "postgres") ? "postgres" : "template1";
	struct drctl_error first;

	err_clear(&first);
	if ((p->control = pg_connect_to(p->ctx->cfg, p->server, maint, &first)) != NULL)
		return 0;
	if (first.code != EXIT_NOT_FOUND) {
		*err = first;
		return -1;
	}
	return (p->control = pg_connect_to(p->ctx->cfg, p->server, "template1", err)) ? 0 : -1;
}

/* --- globals ----------------------------------------------------------------- */

/* Split SQL into statements at semicolons outside quotes, identifiers,
 * dollar quotes and comments; calls fn for each (NUL-terminated in place). */
static void sql_split(char *sql, void (*fn)(char *stmt, void *arg), void *arg)
{
	char *start = sql, *p = sql;
	while (*p) {
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;
			while (*p && !(*p == q && p[1] != q))
				p += (*p == q) ? 2 : 1;
			if (*p)
				p++;
		} else if (*p == '$') {
			char *tag_end = strchr(p + 1, '$');
			size_t tl = tag_end ? (size_t)(tag_end - p) + 1 : 0;
			int is_tag = tag_end != NULL;
			for (char *t = p + 1; is_tag && t < tag_end; t++)
				is_tag = (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || *t == '_' ||
					 (*t >= '0' && *t <= '9' && t > p + 1);
			if (is_tag) {
				char *close = NULL;
				for (char *s = p + tl; *s && !close; s++)
					if (!strncmp(s, p, tl))
						close = s;
				p = close ? close + tl : p + strlen(p);
			} else {
				p++;
			}
		} else if (*p == ';') {
			*p++ = '\0';
			fn(start, arg);
			start = p;
		} else {
			p++;
		}
	}
	fn(start, arg);
}

struct globals_run {
	PGconn *conn;
	char self[PG_NAME_MAX + 1]; /* the role this restore is connected as */
	int applied, existing, failed, kept_self;
	char first_error[400];
};

/* Is stmt `ALTER ROLE <name> ...`?  pg_dumpall writes the name bare or, when
 * it must, as a quoted identifier ("" for a quote). */
static int alters_role(const char *stmt, const char *name)
{
	char got[PG_NAME_MAX + 1];
	size_t n = 0;
	const char *p;

	if (strncasecmp(stmt, "ALTER ROLE ", 11) != 0 || !*name)
		return 0;
	p = stmt + 11;
	if (*p == '"') {
		for (p++; *p && n < PG_NAME_MAX; p++) {
			if (*p == '"' && p[1] != '"')
				break;
			if (*p == '"')
				p++;
			got[n++] = *p;
		}
	} else {
		while (*p && !strchr(" \t\r\n;", *p) && n < PG_NAME_MAX)
			got[n++] = *p++;
	}
	got[n] = '\0';
	return !strcmp(got, name);
}

/* Never logs a statement: ALTER ROLE lines hold password hashes. */
static void globals_statement(char *stmt, void *arg)
{
	struct globals_run *g = arg;
	char state[6], kind[32];
	struct drctl_error e;
	size_t skip = 0;

	for (;;) { /* skip blanks, comment lines and psql meta-commands (\restrict) */
		skip += strspn(stmt + skip, " \t\r\n");
		if (!strncmp(stmt + skip, "--", 2) || stmt[skip] == '\\')
			skip += strcspn(stmt + skip, "\n");
		else
			break;
	}
	if (!stmt[skip])
		return;
	snprintf(kind, sizeof(kind), "%.*s", (int)strcspn(stmt + skip, " \t\r\n;"), stmt + skip);
	/* The role this restore logs in as keeps its password and attributes
	 * here: the backup's (another server's password) would lock the restore,
	 * and everything after it, out of this server. */
	if (alters_role(stmt + skip, g->self)) {
		g->kept_self++;
		return;
	}
	err_clear(&e);
	if (pg_exec(g->conn, stmt + skip, "globals", state, &e) == 0) {
		g->applied++;
		return;
	}
	/* CREATE ROLE / TABLESPACE of one that exists: the ALTER that follows
	 * brings its attributes to the backup's. */
	if (!strcmp(state, "42710") && !strncasecmp(stmt + skip, "CREATE", 6)) {
		g->existing++;
		return;
	}
	if (!g->failed)
		snprintf(g->first_error, sizeof(g->first_error), "%s statement: %.340s", kind, e.message);
	g->failed++;
}

static int restore_globals(struct pg_restore_plan *p, struct source *src, struct drctl_error *err)
{
	char *sql = malloc(POSTGRES_GLOBALS_MAX + 1);
	size_t len = 0, got;
	struct globals_run g = { .conn = p->control };
	int rc = -1;

	if (!sql)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	do {
		if (source_read(src, sql + len, POSTGRES_GLOBALS_MAX - len, &got, err) != 0)
			goto done;
		len += got;
	} while (got > 0 && len < POSTGRES_GLOBALS_MAX);
	if (len >= POSTGRES_GLOBALS_MAX) {
		err_set(err, EXIT_INTEGRITY, "postgres/globals.sql", NULL, "globals.sql is larger than %u MiB; refused",
			POSTGRES_GLOBALS_MAX >> 20);
		goto done;
	}
	sql[len] = '\0';
	{
		PGresult *who = pg_query(p->control, "SELECT session_user", 0, NULL, "globals", err);
		if (!who)
			goto done;
		snprintf(g.self, sizeof(g.self), "%s", PQgetvalue(who, 0, 0));
		PQclear(who);
	}
	if (memchr(sql, '\0', len)) {
		err_set(err, EXIT_INTEGRITY, "postgres/globals.sql", NULL, "globals.sql holds a NUL byte; refused");
		goto done;
	}
	sql_split(sql, globals_statement, &g);
	json_object_set_new(p->ctx->report, "globals",
			    json_pack("{s:i, s:i, s:i, s:s, s:b}", "statements_applied", g.applied, "roles_existing",
				      g.existing, "failed", g.failed, "role_kept_as_is", g.kept_self ? g.self : "",
				      "role_passwords", json_is_true(json_object_get(json_object_get(p->ctx->section, "globals"), "role_passwords"))));
	if (g.failed) {
		err_set(err, EXIT_FAILED, "globals",
			"restore roles as a superuser; the statements that worked stay applied and running it again is safe",
			"%d of the globals' statements failed; first: %s", g.failed, g.first_error);
		goto done;
	}
	log_info("globals: %d statements applied, %d roles already existed (altered to the backup's attributes)", g.applied,
		 g.existing);
	if (g.kept_self)
		log_info("role %s, which this restore is connected as, keeps its password and attributes on this server "
			 "(the backup's ALTER ROLE for it was not applied)", g.self);
	if (!json_is_true(json_object_get(json_object_get(p->ctx->section, "globals"), "role_passwords")))
		log_warn("this backup's globals have no role passwords (taken by a non-superuser): set them with ALTER ROLE ... PASSWORD");
	rc = 0;
done:
	if (len)
		memset(sql, 0, len); /* password hashes */
	free(sql);
	return rc;
}

/* --- the database ---------------------------------------------------------------- */

int postgres_check_fingerprints(const struct config *cfg, const struct pg_server *server, json_t *want,
				const char *database, json_t *report, struct drctl_error *err)
{
	json_t *got = NULL, *diffs = json_array();
	double t0 = now_seconds();
	PGconn *c = pg_connect_to(cfg, server, database, err), *helper = NULL;
	size_t n;
	int rc = -1;

	if (!c)
		goto done;
	{
		/* A second connection lets the counts use two cores; without it
		 * they still run, on one. */
		struct drctl_error ignored;
		err_clear(&ignored);
		helper = pg_connect_to(cfg, server, database, &ignored);
	}
	if (pg_fingerprint_take(c, helper, &got, err) != 0)
		goto done;
	n = pg_fingerprint_compare(want, got, diffs);
	json_object_set_new(report, "fingerprints",
			    json_pack("{s:I, s:I, s:O}", "tables", (json_int_t)json_array_size(json_object_get(want, "tables")),
				      "sequences", (json_int_t)json_array_size(json_object_get(want, "sequences")),
				      "differences", diffs));
	if (n > 0) {
		json_t *d;
		size_t i;
		json_array_foreach(diffs, i, d) {
			char *e = json_dumps(json_object_get(d, "expected"), JSON_ENCODE_ANY);
			char *a = json_dumps(json_object_get(d, "actual"), JSON_ENCODE_ANY);
			log_msg(LOG_ERROR, "%s %s: backup has %s, restored database has %s",
				json_string_value(json_object_get(d, "kind")), json_string_value(json_object_get(d, "object")),
				e ? e : "?", a ? a : "?");
			free(e);
			free(a);
		}
		d = json_array_get(diffs, 0);
		err_set(err, EXIT_INTEGRITY, database,
			"inspect the restored database (it was kept, and nothing was swapped or renamed); drop it with `dropdb` when done, and try another backup set (`drctl list`)",
			"restored database %s differs from the backup's fingerprints in %zu place(s), first %s %s",
			database, n, json_string_value(json_object_get(d, "kind")),
			json_string_value(json_object_get(d, "object")));
		goto done;
	}
	log_debug("fingerprints taken in %.2f s", now_seconds() - t0);
	log_info("fingerprints match: %zu tables (exact row counts) and %zu sequences", json_array_size(json_object_get(want, "tables")),
		 json_array_size(json_object_get(want, "sequences")));
	rc = 0;
done:
	PQfinish(c);
	if (helper)
		PQfinish(helper);
	json_decref(got);
	json_decref(diffs);
	return rc;
}

static int compare_fingerprints(struct pg_restore_plan *p, struct drctl_error *err)
{
	return postgres_check_fingerprints(p->ctx->cfg, p->server, json_object_get(p->entry, "fingerprints"), p->staging,
					   p->ctx->report, err);
}

/* Old out of the way (kept), new into its name, in one transaction. */
static int swap_in(struct pg_restore_plan *p, struct drctl_error *err)
{
	int terminated = 0;

	if (pg_database_swap(p->control, p->target, p->staging, p->replaced, &terminated, err) != 0) {
		err_hint(err, "stop the clients of %s (the agents) and run the restore again; the restored copy %s was kept and %s is unchanged",
			 p->target, p->staging, p->target);
		return -1;
	}
	log_info("swapped: %s is the restored database; the previous one is kept as %s (%d sessions terminated)", p->target,
		 p->replaced, terminated);
	json_object_set_new(p->ctx->report, "swap",
			    json_pack("{s:s, s:s, s:i}", "replaced_database_kept_as", p->replaced, "restored_from", p->staging,
				      "sessions_terminated", terminated));
	return 0;
}

static void report_plan(struct pg_restore_plan *p)
{
	json_t *r = p->ctx->report;
	json_object_set_new(r, "database", json_string(p->database));
	json_object_set_new(r, "target_database", json_string(p->target));
	json_object_set_new(r, "restore_into", json_string(p->staging));
	if (p->target_exists)
		json_object_set_new(r, "replaced_database_kept_as", json_string(p->replaced));
	json_object_set_new(r, "jobs", json_integer(p->jobs));
	json_object_set_new(r, "globals", json_boolean(p->globals));
}

/* The dump stream's size, from the signed manifest. */
static uint64_t dump_size(struct pg_restore_plan *p)
{
	const char *stream = json_string_value(json_object_get(p->entry, "stream"));
	json_t *info = json_object_get(json_object_get(p->ctx->section, "streams"), stream ? stream : "");
	return (uint64_t)json_integer_value(json_object_get(info, "size"));
}

static void log_plan(struct pg_restore_plan *p)
{
	if (p->globals)
		log_info("dry run: would restore roles and tablespaces (existing roles altered, none duplicated)");
	if (p->globals_only)
		return;
	log_info("dry run: would create database %s and restore %s from %s into it with pg_restore%s",
		 p->staging, p->database, p->ctx->backup_id,
		 p->roles_missing ? ", without owners and grants: roles are missing" : "");
	if (p->jobs == 1) {
		log_info("dry run: one pg_restore would read the dump as it streams (--jobs 1)");
	} else {
		uint64_t size = dump_size(p), free_bytes;
		int room = postgres_spool_room(p->state_dir, size, &free_bytes);
		log_info("dry run: up to %ld tables would load at once, queued in %s (needs up to %.2f GiB, has %.2f GiB free)%s",
			 p->jobs, p->state_dir, (double)size / (1 << 30), (double)free_bytes / (1 << 30),
			 room ? "" : ": too little, so they would load one at a time");
		log_info("dry run: indexes and constraints would be built %ld at a time, each as soon as its tables are in",
			 p->jobs);
	}
	log_info("dry run: would compare its fingerprints (%zu tables, %zu sequences) with the backup's",
		 json_array_size(json_object_get(json_object_get(p->entry, "fingerprints"), "tables")),
		 json_array_size(json_object_get(json_object_get(p->entry, "fingerprints"), "sequences")));
	if (p->target_exists)
		log_info("dry run: would then terminate sessions on %s, rename it to %s (kept), and rename %s to %s",
			 p->target, p->replaced, p->staging, p->target);
}

/* The sizes that spread the tables over the loaders: each table's bytes in
 * the dump, or, in sets from before drctl recorded them, its rows. */
static json_t *table_weights(json_t *entry)
{
	json_t *bytes = json_object_get(entry, "table_bytes"), *w, *t;
	size_t i;

	if (json_is_object(bytes))
		return json_incref(bytes);
	w = json_object();
	json_array_foreach(json_object_get(json_object_get(entry, "fingerprints"), "tables"), i, t) {
		char key[2 * PG_NAME_MAX + 8];
		snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(t, "schema")),
			 json_string_value(json_object_get(t, "name")));
		json_object_set(w, key, json_object_get(t, "rows"));
	}
	return w;
}

static int load_dump(struct pg_restore_plan *p, struct source *dump, struct drctl_error *err)
{
	struct pg_load l = {
		.pg_restore = p->pg_restore,
		.database = p->database,
		.staging = p->staging,
		.state_dir = p->state_dir,
		.env = &p->env,
		.jobs = p->jobs,
		.no_owner = p->roles_missing,
		.weights = table_weights(p->entry),
		.dump_size = dump_size(p),
	};
	int rc = postgres_load(&l, dump, p->ctx->report, err);

	json_decref(l.weights);
	return rc;
}

/* Walk the archive to the members we need, in the order they were written
 * (globals first). */
static int restore_members(struct pg_restore_plan *p, struct drctl_error *err)
{
	json_t *streams = json_object_get(p->ctx->section, "streams");
	const char *dump = json_string_value(json_object_get(p->entry, "stream"));
	const char *globals = json_string_value(json_object_get(json_object_get(p->ctx->section, "globals"), "stream"));
	char dump_first[ARCHIVE_MEMBER_NAME_MAX + 16], globals_first[ARCHIVE_MEMBER_NAME_MAX + 16];
	struct archive_member m;
	int more, globals_done = !p->globals, dump_done = p->globals_only;

	if (p->globals_only)
		dump = "";
	if (!dump || (p->globals && !globals))
		return err_set(err, EXIT_INTEGRITY, p->database, NULL, "the manifest names no stream for %s",
			       p->globals && !globals ? "the globals" : p->database);
	archive_stream_part_name(dump, 1, dump_first, sizeof(dump_first));
	archive_stream_part_name(globals ? globals : "", 1, globals_first, sizeof(globals_first));
	while ((!globals_done || !dump_done) && (more = archive_in_next(p->ctx->archive, &m, err)) == 1) {
		struct source *src;
		int rc;
		if (!globals_done && !strcmp(m.name, globals_first)) {
			if (!(src = archive_in_stream_source(p->ctx->archive, globals, json_object_get(streams, globals), err)))
				return -1;
			rc = restore_globals(p, src, err);
			source_close(src);
			if (rc != 0)
				return -1;
			globals_done = 1;
			if (check_roles(p, err) != 0)
				return -1;
		} else if (!dump_done && !strcmp(m.name, dump_first)) {
			if (!globals_done)
				return err_set(err, EXIT_INTEGRITY, "globals", NULL, "the globals come after the dump in this archive");
			if (pg_database_create(p->control, p->staging, p->entry, err) != 0)
				return -1;
			p->created = 1;
			log_info("created database %s; restoring %s into it", p->staging, p->database);
			if (!(src = archive_in_stream_source(p->ctx->archive, dump, json_object_get(streams, dump), err)))
				return -1;
			rc = load_dump(p, src, err);
			source_close(src);
			if (rc != 0)
				return -1;
			dump_done = 1;
		}
	}
	if (!globals_done || !dump_done)
		return err_set(err, EXIT_INTEGRITY, globals_done ? dump : globals, "restore from another set (`drctl list`)",
			       "the archive lacks %s, which the signed manifest lists", globals_done ? dump : globals);
	return 0;
}

int postgres_restore(struct restore_ctx *ctx, struct drctl_error *err)
{
	struct pg_restore_plan p = { .ctx = ctx };
	const char *prog = config_get(ctx->cfg, "postgres", "pg_restore");
	char version[64];
	double t0 = now_seconds();
	int rc = -1;

	p.state_dir = config_get_path(ctx->cfg, "state", "dir");
	snprintf(p.pg_restore, sizeof(p.pg_restore), "%s", prog ? prog : "pg_restore");
	if (parse_options(&p, err) != 0)
		goto done;
	if (!p.globals_only && choose_database(&p, err) != 0)
		goto done;
	if (connect_control(&p, err) != 0)
		goto done;
	if (!p.globals_only) {
		if (pg_tool_check(p.pg_restore, p.control, version, sizeof(version), err) != 0)
			goto done;
		if (pg_check_createdb(p.control, err) != 0)
			goto done;
		if (plan_names(&p, err) != 0)
			goto done;
		if (!p.globals && check_roles(&p, err) != 0)
			goto done;
		report_plan(&p);
	}
	if (ctx->opts->dry_run) {
		log_plan(&p);
		json_object_set_new(ctx->report, "dry_run", json_true());
		rc = 0;
		goto done;
	}
	if (pg_child_env_build(p.control, p.state_dir, &p.env, err) != 0)
		goto done;
	if (restore_members(&p, err) != 0)
		goto done;
	if (!p.globals_only) {
		if (compare_fingerprints(&p, err) != 0) {
			p.created = 0; /* keep it for inspection */
			goto done;
		}
		if (p.target_exists && swap_in(&p, err) != 0) {
			p.created = 0;
			goto done;
		}
		log_info("database %s restored from backup set %s into %s in %.1f s", p.database, ctx->backup_id, p.target,
			 now_seconds() - t0);
	}
	json_object_set_new(ctx->report, "seconds", json_real(now_seconds() - t0));
	rc = 0;
done:
	if (rc != 0 && p.created) {
		/* Only ever the database this run created and never proved good. */
		struct drctl_error ignored;
		err_clear(&ignored);
		if (pg_database_drop(p.control, p.staging, &ignored) == 0)
			log_info("removed the incomplete database %s that this restore had created", p.staging);
		else
			err_hint(err, "the incomplete database %s is left behind: drop it (`dropdb`) before trying again", p.staging);
	}
	pg_child_env_free(&p.env);
	PQfinish(p.control);
	return rc;
}
