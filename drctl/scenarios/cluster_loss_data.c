/*
 * cluster_loss_data: the steps of cluster-loss that put the data back, each
 * through restore_run with the component's typed options, each recognising
 * its own effect when a run resumes.
 *
 * PostgreSQL.  The globals (roles) come with the first database, in the same
 * pass over the object; then every database of the set, under its own name.
 * A database of that name that this run did not make (the deploy may create
 * an empty one, as the postgres image does) is renamed <db>_prior_<run time>
 * first, never dropped.  Facts per database:
 *   pg_kept:<db>      the name the one found there was given (before renaming)
 *   pg_attempt:<db>   a restore into <db> began (before it begins)
 *   pg_restored:<db>  restored, its fingerprints equal to the set's
 * so a resumed run drops only a <db> that it began itself and never proved.
 *
 * Redis.  Into the configured server.  A server that holds keys before this
 * run wrote any is refused unless [scenario] redis_flush (on a new cluster it
 * should be empty: keys there may mean the wrong server); once this run has
 * begun writing (redis_attempt), a resume empties it first, the backup
 * proven before the flush.  The restore compares the key counts itself.
 *
 * Files.  Under [scenario] files_target by their original paths ("/": the
 * paths themselves), each existing file replaced only by content proven
 * against the manifest; unset: not restored, and the report says so.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include "components/postgres/postgres.h"
#include "components/redis/redis.h"
#include "drctl/scenarios/cluster_loss_private.h"
#include "drctl/scenarios/steps_common.h"
#include "lib/clients/pg.h"
#include "lib/clients/redis_conn.h"
#include "lib/core/log.h"
#include "restore/restore.h"

static json_t *databases_of(json_t *m)
{
	return json_object_get(cl_section(m, "postgres"), "databases");
}

static json_t *fact_of(struct run *r, const char *what, const char *db)
{
	char key[PG_NAME_MAX + 32];
	snprintf(key, sizeof(key), "%s:%s", what, db);
	return run_fact(r, key);
}

static int set_fact_of(struct run *r, const char *what, const char *db, json_t *value, struct drctl_error *err)
{
	char key[PG_NAME_MAX + 32];
	snprintf(key, sizeof(key), "%s:%s", what, db);
	return run_set_fact(r, key, value, err);
}

/* --- PostgreSQL --------------------------------------------------------------------- */

int cl_postgres_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *e;
	const char *db;

	if (!m)
		return -1;
	if (!cl_section(m, "postgres")) {
		json_array_append_new(touches, json_string("nothing: the set has no postgres component"));
		return 0;
	}
	json_array_append_new(touches, json_string("creates the set's roles and tablespaces, or alters existing ones to the backup's attributes"));
	json_object_foreach(databases_of(m), db, e) {
		json_t *fp = json_object_get(e, "fingerprints");
		json_array_append_new(touches, json_sprintf("creates database %s from the set and compares %zu tables (exact row counts) "
							   "and %zu sequences; an existing %s is renamed %s_prior_<run time>, never dropped",
							   db, json_array_size(json_object_get(fp, "tables")),
							   json_array_size(json_object_get(fp, "sequences")), db, db));
	}
	return 0;
}

int cl_postgres_check(struct run *r, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *e;
	const char *db;
	PGconn *c;

	if (!m)
		return -1;
	if (!cl_section(m, "postgres"))
		return 1;
	if (json_object_size(databases_of(m)) == 0)
		return json_is_true(run_fact(r, "pg_globals"));
	json_object_foreach(databases_of(m), db, e) {
		int exists = 0;
		if (!fact_of(r, "pg_restored", db))
			return 0;
		if (!(c = cl_control(r, err)) || pg_database_exists(c, db, &exists, err) != 0)
			return -1;
		if (!exists)
			return 0;
	}
	return 1;
}

/* Make room for <db>: drop our own unproven attempt, or keep a database
 * someone else made (the deploy) under a dated name. */
static int clear_name(struct run *r, const char *db, struct drctl_error *err)
{
	PGconn *c = cl_control(r, err);
	char kept[PG_NAME_MAX + 1];
	int exists = 0, terminated = 0;

	if (!c || pg_database_exists(c, db, &exists, err) != 0)
		return -1;
	if (!exists)
		return 0;
	if (json_is_true(fact_of(r, "pg_attempt", db))) {
		run_note(r, "dropping %s, the unfinished restore of an earlier attempt of this run", db);
		return pg_database_drop(c, db, err);
	}
	if (!fact_of(r, "pg_kept", db)) {
		steps_derived_name(r, db, "prior", kept, sizeof(kept));
		if (set_fact_of(r, "pg_kept", db, json_string(kept), err) != 0)
			return -1;
	}
	snprintf(kept, sizeof(kept), "%s", json_string_value(fact_of(r, "pg_kept", db)));
	if (pg_database_terminate_sessions(c, db, &terminated, err) != 0 || pg_database_rename(c, db, kept, err) != 0)
		return -1;
	run_note(r, "database %s was already there (made by the deploy?): kept as %s, not dropped", db, kept);
	return 0;
}

static int restore_database(struct run *r, const char *db, int globals, struct drctl_error *err)
{
	struct postgres_restore_options po = { .database = db, .target_database = db, .globals = globals,
					       .globals_only = db == NULL };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &po };
	json_t *report, *fp;
	int rc;

	if (db && (clear_name(r, db, err) != 0 || set_fact_of(r, "pg_attempt", db, json_true(), err) != 0))
		return -1;
	report = json_object();
	rc = restore_run(run_config(r), "postgres", &o, report, err);
	fp = json_object_get(report, "fingerprints");
	if (rc == 0 && globals)
		rc = run_set_fact(r, "pg_globals", json_true(), err);
	if (rc == 0 && db)
		rc = set_fact_of(r, "pg_restored", db,
				 json_pack("{s:O?, s:O?}", "tables", json_object_get(fp, "tables"), "sequences",
					   json_object_get(fp, "sequences")),
				 err);
	if (rc == 0 && db)
		run_note(r, "database %s restored: %lld tables (exact row counts) and %lld sequences equal the set's", db,
			 (long long)json_integer_value(json_object_get(fp, "tables")),
			 (long long)json_integer_value(json_object_get(fp, "sequences")));
	json_decref(report);
	return rc;
}

int cl_postgres_act(struct run *r, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *e;
	const char *db;
	PGconn *c;

	if (!m)
		return -1;
	if (json_object_size(databases_of(m)) == 0)
		return restore_database(r, NULL, 1, err);
	json_object_foreach(databases_of(m), db, e) {
		int exists = 0;
		if (!(c = cl_control(r, err)) || pg_database_exists(c, db, &exists, err) != 0)
			return -1;
		if (exists && fact_of(r, "pg_restored", db))
			continue;
		/* The roles come with the first database restored, in one pass. */
		if (restore_database(r, db, !json_is_true(run_fact(r, "pg_globals")), err) != 0)
			return -1;
	}
	return 0;
}

/* --- Redis --------------------------------------------------------------------------- */

int cl_redis_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *rdb;

	if (!m)
		return -1;
	if (!cl_section(m, "redis")) {
		json_array_append_new(touches, json_string("nothing: the set has no redis component"));
		return 0;
	}
	rdb = json_object_get(cl_section(m, "redis"), "rdb");
	json_array_append_new(touches, json_sprintf("restores %lld keys into [redis] url and compares the key counts; a server that "
						   "already holds keys is %s",
						   (long long)json_integer_value(json_object_get(rdb, "keys")),
						   config_get_bool(run_config(r), "scenario", "redis_flush")
							   ? "emptied first ([scenario] redis_flush), after the backup is proven"
							   : "refused ([scenario] redis_flush is off)"));
	return 0;
}

int cl_redis_check(struct run *r, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err);

	if (!m)
		return -1;
	if (!cl_section(m, "redis"))
		return 1;
	return run_fact(r, "redis_restored") != NULL;
}

/* The keys the server holds now, in all its databases. */
static int redis_keys(const struct config *cfg, unsigned long long *total, char *where, size_t cap,
		      struct drctl_error *err)
{
	struct redis_conn *c = NULL;
	int rc = -1;

	*total = 0;
	if (redis_conn_open(&c, cfg, NULL, REDIS_ROLE_RESTORE, err) == 0 && redis_conn_key_count(c, total, err) == 0) {
		snprintf(where, cap, "%s", redis_conn_display(c));
		rc = 0;
	}
	redis_conn_close(c);
	return rc;
}

int cl_redis_act(struct run *r, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	struct redis_restore_options ro = { 0 };
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .component = &ro };
	unsigned long long keys;
	char where[512] = "[redis] url";
	int attempted = json_is_true(run_fact(r, "redis_attempt")), rc;
	json_t *report;

	if (redis_keys(cfg, &keys, where, sizeof(where), err) != 0)
		return -1;
	if (keys > 0 && !attempted && !config_get_bool(cfg, "scenario", "redis_flush")) {
		err_set(err, EXIT_USAGE, where, NULL,
			"Redis at %s already holds %llu keys, and this run has written none; nothing was changed", where, keys);
		err_hint(err, "a new cluster's Redis should be empty: check [redis] url names it; if those keys are not worth "
			      "keeping, set [scenario] redis_flush = true (or DRCTL_SCENARIO_REDIS_FLUSH=true) and `drctl scenario resume %s`",
			 run_id(r));
		return -1;
	}
	if (run_set_fact(r, "redis_attempt", json_true(), err) != 0)
		return -1;
	ro.flush = keys > 0;
	if (ro.flush)
		run_note(r, "Redis at %s holds %llu keys (%s): emptied once the backup is proven", where, keys,
			 attempted ? "an earlier attempt's" : "[scenario] redis_flush");
	report = json_object();
	rc = restore_run(cfg, "redis", &o, report, err);
	if (rc == 0)
		rc = run_set_fact(r, "redis_restored",
				  json_pack("{s:O?, s:O?}", "keys_restored", json_object_get(report, "keys_restored"), "databases",
					    json_object_get(report, "databases")),
				  err);
	if (rc == 0)
		run_note(r, "Redis at %s: %lld keys restored, the key counts equal the set's", where,
			 (long long)json_integer_value(json_object_get(report, "keys_restored")));
	json_decref(report);
	return rc;
}

/* --- files ----------------------------------------------------------------------------- */

int cl_files_plan(struct run *r, json_t *touches, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err);
	const char *target = config_get_path(run_config(r), "scenario", "files_target");

	if (!m)
		return -1;
	if (!cl_section(m, "files"))
		json_array_append_new(touches, json_string("nothing: the set has no files component"));
	else if (!target)
		json_array_append_new(touches, json_string("nothing: [scenario] files_target is not set (`drctl restore files --target DIR` "
							   "restores them by hand)"));
	else
		json_array_append_new(touches, json_sprintf("writes %zu members under %s by their original paths, replacing existing "
							   "files, each only after its content is proven",
							   json_array_size(json_object_get(cl_section(m, "files"), "members")), target));
	return 0;
}

/* Does target/name hold exactly sha256_hex? */
static int file_matches(const char *target, const char *name, const char *sha256_hex)
{
	char path[4096], hex[65];
	unsigned char buf[65536], md[32];
	EVP_MD_CTX *ctx;
	ssize_t n;
	int fd, ok = 0;

	snprintf(path, sizeof(path), "%s/%s", target, name);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (n == 0 && EVP_DigestFinal_ex(ctx, md, NULL) == 1) {
			for (int i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			ok = !strcmp(hex, sha256_hex);
		}
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ok;
}

int cl_files_check(struct run *r, struct drctl_error *err)
{
	json_t *m = cl_manifest(r, err), *e;
	const char *target = config_get_path(run_config(r), "scenario", "files_target");
	size_t i;

	if (!m)
		return -1;
	if (!cl_section(m, "files"))
		return 1;
	if (!target) {
		run_note(r, "the set's files are not restored: [scenario] files_target is not set");
		return 1;
	}
	json_array_foreach(json_object_get(cl_section(m, "files"), "members"), i, e) {
		const char *sha = json_string_value(json_object_get(e, "sha256"));
		if (sha && !file_matches(target, json_string_value(json_object_get(e, "name")), sha))
			return 0;
	}
	run_note(r, "every file of the set is under %s with the set's content", target);
	return 1;
}

int cl_files_act(struct run *r, struct drctl_error *err)
{
	const char *target = config_get_path(run_config(r), "scenario", "files_target");
	struct restore_options o = { .backup = run_fact_string(r, "backup_id"), .target = target, .force = 1 };
	json_t *report = json_object();
	int rc = restore_run(run_config(r), "files", &o, report, err);

	if (rc == 0)
		run_note(r, "the set's files are restored under %s", target);
	json_decref(report);
	return rc;
}

/* --- where the data stands ---------------------------------------------------------------- */

void cl_data_describe(struct run *r, json_t *lines)
{
	json_t *m = steps_of(r)->manifest, *e;
	const char *db;

	json_object_foreach(databases_of(m), db, e) {
		if (fact_of(r, "pg_restored", db))
			json_array_append_new(lines, json_sprintf("database %s is restored and proven", db));
		else if (fact_of(r, "pg_attempt", db))
			json_array_append_new(lines, json_sprintf("database %s: a restore began and was not proven; resuming drops it and "
								  "restores it again", db));
		else
			json_array_append_new(lines, json_sprintf("database %s is not restored yet", db));
		if (fact_of(r, "pg_kept", db))
			json_array_append_new(lines, json_sprintf("the %s found on the new cluster is kept as %s", db,
								  json_string_value(fact_of(r, "pg_kept", db))));
	}
	if (run_fact(r, "redis_restored"))
		json_array_append_new(lines, json_string("Redis is restored, its key counts proven"));
	else if (json_is_true(run_fact(r, "redis_attempt")))
		json_array_append_new(lines, json_string("Redis holds a partial restore; resuming empties it (after proving the backup) "
							 "and restores again"));
}
