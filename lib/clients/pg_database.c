/*
 * pg_database: the database-level actions a restore takes, each on a
 * connection to another database: does it exist, its properties, create,
 * rename, drop, terminate its sessions (see pg.h).
 */
#include "lib/clients/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ databases */

int pg_database_exists(PGconn *c, const char *name, int *exists, struct drctl_error *err)
{
	const char *p[1] = { name };
	PGresult *r = pg_query(c, "SELECT 1 FROM pg_database WHERE datname = $1", 1, p, name, err);

	if (!r)
		return -1;
	*exists = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

json_t *pg_database_properties(PGconn *c, struct drctl_error *err)
{
	PGresult *r = pg_query(c,
			       "SELECT pg_encoding_to_char(encoding), datcollate, datctype, pg_get_userbyid(datdba) "
			       "FROM pg_database WHERE datname = current_database()",
			       0, NULL, PQdb(c), err);
	json_t *props;

	if (!r)
		return NULL;
	props = json_pack("{s:s, s:s, s:s, s:s}", "encoding", PQgetvalue(r, 0, 0), "collate", PQgetvalue(r, 0, 1),
			  "ctype", PQgetvalue(r, 0, 2), "owner", PQgetvalue(r, 0, 3));
	PQclear(r);
	return props;
}

/* Append ` KEY literal` to a statement when value is set. */
static int append_literal(PGconn *c, char *sql, size_t cap, const char *key, const char *value)
{
	char *lit;
	size_t len = strlen(sql);
	int n;

	if (!value || !*value)
		return 0;
	if (!(lit = PQescapeLiteral(c, value, strlen(value))))
		return -1;
	n = snprintf(sql + len, cap - len, " %s %s", key, lit);
	PQfreemem(lit);
	return n < 0 || (size_t)n >= cap - len ? -1 : 0;
}

int pg_database_create(PGconn *c, const char *name, json_t *props, struct drctl_error *err)
{
	const char *owner = json_string_value(json_object_get(props, "owner"));
	char sql[2048];
	char *id = PQescapeIdentifier(c, name, strlen(name)), *oid = NULL;
	int rc = -1, exists = 0;

	if (!id)
		return err_set(err, EXIT_FAILED, name, NULL, "cannot quote database name %s", name);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", id);
	if (append_literal(c, sql, sizeof(sql), "ENCODING", json_string_value(json_object_get(props, "encoding"))) ||
	    append_literal(c, sql, sizeof(sql), "LC_COLLATE", json_string_value(json_object_get(props, "collate"))) ||
	    append_literal(c, sql, sizeof(sql), "LC_CTYPE", json_string_value(json_object_get(props, "ctype")))) {
		err_set(err, EXIT_FAILED, name, NULL, "cannot build CREATE DATABASE for %s", name);
		goto done;
	}
	if (owner && *owner) {
		const char *p[1] = { owner };
		PGresult *r = pg_query(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, p, name, err);
		if (!r)
			goto done;
		exists = PQntuples(r) > 0;
		PQclear(r);
		if (exists && (oid = PQescapeIdentifier(c, owner, strlen(owner))) != NULL) {
			size_t len = strlen(sql);
			snprintf(sql + len, sizeof(sql) - len, " OWNER %s", oid);
		}
	}
	rc = pg_exec(c, sql, name, NULL, err);
done:
	PQfreemem(id);
	PQfreemem(oid);
	return rc;
}

/* Run head + "one" [+ middle + "two"], both quoted as identifiers. */
static int exec_on_identifiers(PGconn *c, const char *head, const char *one, const char *middle, const char *two,
			       struct drctl_error *err)
{
	char *a = PQescapeIdentifier(c, one, strlen(one)), *b = two ? PQescapeIdentifier(c, two, strlen(two)) : NULL;
	char *sql = NULL;
	int rc = -1;

	if (!a || (two && !b) || asprintf(&sql, "%s%s%s%s", head, a, two ? middle : "", two ? b : "") < 0) {
		sql = NULL;
		err_set(err, EXIT_FAILED, one, NULL, "out of memory");
		goto done;
	}
	rc = pg_exec(c, sql, one, NULL, err);
done:
	free(sql);
	PQfreemem(a);
	PQfreemem(b);
	return rc;
}

int pg_database_rename(PGconn *c, const char *from, const char *to, struct drctl_error *err)
{
	return exec_on_identifiers(c, "ALTER DATABASE ", from, " RENAME TO ", to, err);
}

int pg_database_drop(PGconn *c, const char *name, struct drctl_error *err)
{
	return exec_on_identifiers(c, "DROP DATABASE ", name, NULL, NULL, err);
}

int pg_database_terminate_sessions(PGconn *c, const char *name, int *terminated, struct drctl_error *err)
{
	const char *p[1] = { name };
	PGresult *r = pg_query(c,
			       "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
			       "WHERE datname = $1 AND pid <> pg_backend_pid()",
			       1, p, name, err);

	if (!r)
		return -1;
	*terminated = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* Putting a restored database in place of another, atomically.
 *
 * PostgreSQL runs ALTER DATABASE ... RENAME inside a transaction block, so
 * both renames commit together or not at all: there is no instant at which
 * the database's name points at nothing, whatever kills drctl (or the
 * server) in between.  Sessions must be off both databases for a rename;
 * ones that reconnect between the terminate and the rename make it fail
 * ("is being accessed by other users"), and it is tried again. */
static int swap_once(PGconn *c, const char *target, const char *replacement, const char *kept_as,
		     struct drctl_error *err)
{
	char *t = PQescapeIdentifier(c, target, strlen(target));
	char *r = PQescapeIdentifier(c, replacement, strlen(replacement));
	char *k = PQescapeIdentifier(c, kept_as, strlen(kept_as));
	char *sql = NULL;
	int rc = -1;

	if (!t || !r || !k ||
	    asprintf(&sql, "BEGIN; ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT", t, k, r,
		     t) < 0) {
		sql = NULL;
		err_set(err, EXIT_FAILED, target, NULL, "out of memory");
		goto done;
	}
	rc = pg_exec(c, sql, target, NULL, err);
	if (rc != 0) {
		/* A failed statement leaves the transaction aborted: end it. */
		PGresult *res = PQexec(c, "ROLLBACK");
		PQclear(res);
	}
done:
	free(sql);
	PQfreemem(t);
	PQfreemem(r);
	PQfreemem(k);
	return rc;
}

int pg_database_swap(PGconn *c, const char *target, const char *replacement, const char *kept_as, int *terminated,
		     struct drctl_error *err)
{
	struct drctl_error e;

	*terminated = 0;
	for (int attempt = 0;; attempt++) {
		int n = 0, m = 0;
		if (pg_database_terminate_sessions(c, target, &n, err) != 0 ||
		    pg_database_terminate_sessions(c, replacement, &m, err) != 0)
			return -1;
		*terminated += n + m;
		err_clear(&e);
		if (swap_once(c, target, replacement, kept_as, &e) == 0)
			return 0;
		if (attempt == 20) {
			*err = e;
			err_hint(err, "stop the clients of %s (the agents) and try again; %s and %s are both unchanged", target,
				 target, replacement);
			return -1;
		}
		usleep(250000);
	}
}
