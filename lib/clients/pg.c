/*
 * pg: libpq connections, statements, the server's version, privilege checks
 * and the exported snapshot (see pg.h for the design).  The rest of the
 * module: pg_fingerprint.c (row counts and sequence values), pg_database.c
 * (create, rename, drop, terminate sessions) and pg_tool.c (PostgreSQL's
 * tools as child processes); pg_private.h is what they share.
 */
#include "lib/clients/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/net_addresses.h"
#include "lib/clients/pg_private.h"
#include "lib/core/log.h"

/* ------------------------------------------------------------ connecting */

const char *pg_describe(PGconn *c, char *out, size_t cap)
{
	const char *host = c ? PQhost(c) : NULL, *port = c ? PQport(c) : NULL, *db = c ? PQdb(c) : NULL;
	snprintf(out, cap, "%s:%s/%s", host && *host ? host : "(default host)", port && *port ? port : "5432",
		 db && *db ? db : "?");
	return out;
}

void pg_one_line(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; in && *in && n + 1 < cap; in++)
		out[n++] = (*in == '\n' || *in == '\r') ? ' ' : *in;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

const struct pg_server pg_server_platform = { "postgres", "conninfo", "password_file" };
const struct pg_server pg_server_scratch = { "scratch", "postgres_conninfo", "postgres_password_file" };

static int connect_error(PGconn *c, const char *dbname, const struct pg_server *sv, struct drctl_error *err)
{
	char keys[2][80], hint_text[400];
	char where[512], msg[512];
	const char *m = PQerrorMessage(c);
	const char *user = PQuser(c);
	const char *hint;
	int code = EXIT_IO;

	pg_describe(c, where, sizeof(where));
	pg_one_line(m, msg, sizeof(msg));
	snprintf(keys[0], sizeof(keys[0]), "[%s] %s", sv->section, sv->password_file_key);
	snprintf(keys[1], sizeof(keys[1]), "[%s] %s", sv->section, sv->conninfo_key);
	if (strstr(m, "password authentication failed") || strstr(m, "no password supplied") ||
	    strstr(m, "SCRAM")) {
		snprintf(hint_text, sizeof(hint_text), "check the password in %s (or PGPASSFILE / ~/.pgpass) for this user, then run the command again", keys[0]);
		code = EXIT_USAGE;
	} else if (strstr(m, "does not exist") && strstr(m, "database")) {
		snprintf(hint_text, sizeof(hint_text), "check [postgres] databases and %s (`psql -l` lists the databases), then run the command again", keys[1]);
		code = EXIT_NOT_FOUND;
	} else if (strstr(m, "role") && strstr(m, "does not exist")) {
		snprintf(hint_text, sizeof(hint_text), "check the user in %s (or PGUSER)", keys[1]);
		code = EXIT_USAGE;
	} else if (strstr(m, "pg_hba.conf")) {
		snprintf(hint_text, sizeof(hint_text), "allow this host and user in the server's pg_hba.conf, or use another user in %s", keys[1]);
		code = EXIT_USAGE;
	} else {
		snprintf(hint_text, sizeof(hint_text), "check that PostgreSQL is running and reachable (`pg_isready -h HOST -p PORT`) and that %s names the right host and port", keys[1]);
	}
	hint = hint_text;
	return err_set(err, code, dbname ? dbname : where, hint, "cannot connect to PostgreSQL at %s as %s: %s",
		       where, user && *user ? user : "(default user)", msg);
}

/* The server's NOTICEs ("role is already a member...") are for -v only. */
static void notice_to_debug(void *arg, const char *message)
{
	(void)arg;
	log_debug("PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *connect_keys(const char *conninfo, const char *password, const char *dbname,
			    const struct pg_server *sv, struct drctl_error *err)
{
	const char *keys[8], *vals[8];
	int n = 0;
	PGconn *c;

	/* Later entries win; only the first dbname is expanded as a conninfo. */
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[n] = "connect_timeout";
		vals[n++] = "15";
	}
	if (conninfo && *conninfo) {
		keys[n] = "dbname";
		vals[n++] = conninfo;
	}
	if (dbname) {
		if (!conninfo || !*conninfo) {
			/* Not expanded either way; an empty expanded entry keeps the rule simple. */
			keys[n] = "dbname";
			vals[n++] = "";
		}
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	if (password) {
		keys[n] = "password";
		vals[n++] = password;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "drctl";
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (!c) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory connecting to PostgreSQL");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		connect_error(c, dbname, sv, err);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_to_debug, NULL);
	return c;
}

PGconn *pg_connect_with(const char *conninfo, const char *password, const char *dbname,
			struct drctl_error *err)
{
	return connect_keys(conninfo, password, dbname, &pg_server_platform, err);
}

PGconn *pg_connect_to(const struct config *cfg, const struct pg_server *server, const char *dbname,
		      struct drctl_error *err)
{
	const struct pg_server *sv = server ? server : &pg_server_platform;
	char *password = NULL;
	PGconn *c = NULL;

	if (config_get_secret(cfg, sv->section, sv->password_file_key, &password, err) < 0)
		return NULL;
	c = connect_keys(config_get(cfg, sv->section, sv->conninfo_key), password, dbname, sv, err);
	config_secret_free(password);
	return c;
}

PGconn *pg_connect(const struct config *cfg, const char *dbname, struct drctl_error *err)
{
	return pg_connect_to(cfg, &pg_server_platform, dbname, err);
}

/* The host's addresses ("127.0.0.1", "::1"), or a socket folder as it is. */
static json_t *host_addresses(const char *host, const char *port)
{
	if (!host || !*host || host[0] == '/' || host[0] == '@')
		return json_pack("[o]", json_sprintf("unix:%s", host && *host ? host : "(default socket)"));
	return net_host_addresses(host, port);
}

json_t *pg_server_identity(PGconn *c)
{
	const char *host = PQhost(c), *port = PQport(c);
	json_t *id = json_pack("{s:s, s:s, s:s}", "host", host ? host : "", "port", port && *port ? port : "5432",
			       "database", PQdb(c) ? PQdb(c) : "");
	PGresult *r;

	json_object_set_new(id, "addresses", host_addresses(host, port && *port ? port : "5432"));
	/* Readable by superusers and pg_monitor members only; without it the
	 * addresses are all there is to go by. */
	r = PQexec(c, "SELECT system_identifier::text FROM pg_control_system()");
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		json_object_set_new(id, "system_identifier", json_string(PQgetvalue(r, 0, 0)));
	PQclear(r);
	return id;
}

/* ------------------------------------------------------------ statements */

static int result_error(PGconn *c, PGresult *r, const char *subject, char sqlstate[6], struct drctl_error *err)
{
	char msg[512], where[256];
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *hint = NULL;

	pg_one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c), msg, sizeof(msg));
	if (!*msg)
		pg_one_line(PQerrorMessage(c), msg, sizeof(msg));
	if (sqlstate)
		snprintf(sqlstate, 6, "%s", state ? state : "");
	if (PQstatus(c) != CONNECTION_OK)
		hint = "the connection to PostgreSQL was lost: check the server log (a restart or a terminated backend), then run the command again";
	else if (state && !strcmp(state, "42501"))
		hint = "grant the privilege to the user drctl connects as (or use a superuser in [postgres] conninfo)";
	pg_describe(c, where, sizeof(where));
	return err_set(err, PQstatus(c) != CONNECTION_OK ? EXIT_IO : EXIT_FAILED, subject, hint, "%s (%s): %s",
		       subject ? subject : "PostgreSQL", where, msg);
}

int pg_exec(PGconn *c, const char *sql, const char *subject, char sqlstate[6], struct drctl_error *err)
{
	PGresult *r = PQexec(c, sql);
	int rc = 0;

	if (sqlstate)
		sqlstate[0] = '\0';
	if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK))
		rc = result_error(c, r, subject, sqlstate, err);
	PQclear(r);
	return rc;
}

PGresult *pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		   const char *subject, struct drctl_error *err)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		result_error(c, r, subject, NULL, err);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* ------------------------------------------------------------ version */

void pg_server_version(PGconn *c, char *out, size_t cap)
{
	const char *v = PQparameterStatus(c, "server_version");
	size_t n = 0;
	/* "15.18 (Debian 15.18-1.pgdg120+1)" -> "15.18" */
	while (v && v[n] && v[n] != ' ' && n + 1 < cap)
		n++;
	snprintf(out, cap, "%.*s", (int)n, v ? v : "?");
}

/* ------------------------------------------------------------ privileges */

int pg_is_superuser(PGconn *c)
{
	const char *s = PQparameterStatus(c, "is_superuser");
	return s && !strcmp(s, "on");
}

int pg_check_dump_privileges(PGconn *c, const char *dbname, struct drctl_error *err)
{
	/* pg_dump needs SELECT on every table and sequence it dumps (and USAGE
	 * on their schemas); finding the first one missing up front gives a clear
	 * error instead of a failed dump half way. */
	static const char sql[] =
		"SELECT format('%I.%I', n.nspname, c.relname), "
		"       CASE WHEN has_schema_privilege(n.oid, 'USAGE') THEN 'SELECT' ELSE 'USAGE on schema' END "
		"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind IN ('r', 'p', 'S', 'm') AND c.relpersistence <> 't' "
		"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"  AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')) "
		"ORDER BY 1 LIMIT 1";
	PGresult *r;
	int rc = 0;

	if (pg_is_superuser(c))
		return 0;
	if (!(r = pg_query(c, sql, 0, NULL, dbname, err)))
		return -1;
	if (PQntuples(r) > 0) {
		char hint[512];
		snprintf(hint, sizeof(hint),
			 "GRANT pg_read_all_data TO %s (PostgreSQL 14+), or grant SELECT on every table and sequence; or back up as a superuser",
			 PQuser(c));
		rc = err_set(err, EXIT_USAGE, dbname, hint,
			     "user %s cannot read %s in database %s (missing %s privilege); nothing was dumped",
			     PQuser(c), PQgetvalue(r, 0, 0), dbname, PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return rc;
}

int pg_check_createdb(PGconn *c, struct drctl_error *err)
{
	PGresult *r;
	int rc = 0;

	if (pg_is_superuser(c))
		return 0;
	if (!(r = pg_query(c, "SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user", 0, NULL,
			   "privilege check", err)))
		return -1;
	if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		rc = err_set(err, EXIT_USAGE, PQuser(c), "ALTER ROLE ... CREATEDB for this user, or restore as a superuser",
			     "user %s may not create databases, which a restore needs (it always restores into a new database)",
			     PQuser(c));
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------ snapshot */

int pg_snapshot_export(PGconn *c, char *id, size_t cap, struct drctl_error *err)
{
	PGresult *r;

	if (pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "snapshot", NULL, err) != 0)
		return -1;
	if (!(r = pg_query(c, "SELECT pg_export_snapshot()", 0, NULL, "snapshot", err)))
		return -1;
	snprintf(id, cap, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int pg_snapshot_release(PGconn *c, struct drctl_error *err)
{
	return pg_exec(c, "COMMIT", "snapshot", NULL, err);
}
