/*
 * pg: libpq connections, checks, snapshot, fingerprints, database actions
 * and child tools (see pg.h for the design).
 *
 * Why fingerprints are counted with one UNION ALL statement: the backup sends
 * it asynchronously on the snapshot connection while pg_dump streams, so the
 * counting scan overlaps the dump instead of adding to its wall time, and it
 * still sees exactly the snapshot pg_dump sees.
 */
#include "lib/clients/pg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/core/log.h"

extern char **environ;

/* ------------------------------------------------------------ connecting */

const char *pg_describe(PGconn *c, char *out, size_t cap)
{
	const char *host = c ? PQhost(c) : NULL, *port = c ? PQport(c) : NULL, *db = c ? PQdb(c) : NULL;
	snprintf(out, cap, "%s:%s/%s", host && *host ? host : "(default host)", port && *port ? port : "5432",
		 db && *db ? db : "?");
	return out;
}

/* The server's message on one line, without libpq's trailing newline. */
static void one_line(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; in && *in && n + 1 < cap; in++)
		out[n++] = (*in == '\n' || *in == '\r') ? ' ' : *in;
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static int connect_error(PGconn *c, const char *dbname, struct drctl_error *err)
{
	char where[512], msg[512];
	const char *m = PQerrorMessage(c);
	const char *user = PQuser(c);
	const char *hint;
	int code = EXIT_IO;

	pg_describe(c, where, sizeof(where));
	one_line(m, msg, sizeof(msg));
	if (strstr(m, "password authentication failed") || strstr(m, "no password supplied") ||
	    strstr(m, "SCRAM")) {
		hint = "check the password in [postgres] password_file (or PGPASSFILE / ~/.pgpass) for this user, then run the command again";
		code = EXIT_USAGE;
	} else if (strstr(m, "does not exist") && strstr(m, "database")) {
		hint = "check [postgres] databases and conninfo (`psql -l` lists the databases), then run the command again";
		code = EXIT_NOT_FOUND;
	} else if (strstr(m, "role") && strstr(m, "does not exist")) {
		hint = "check the user in [postgres] conninfo (or PGUSER)";
		code = EXIT_USAGE;
	} else if (strstr(m, "pg_hba.conf")) {
		hint = "allow this host and user in the server's pg_hba.conf, or use another user in [postgres] conninfo";
		code = EXIT_USAGE;
	} else {
		hint = "check that PostgreSQL is running and reachable (`pg_isready -h HOST -p PORT`) and that [postgres] conninfo names the right host and port";
	}
	return err_set(err, code, dbname ? dbname : where, hint, "cannot connect to PostgreSQL at %s as %s: %s",
		       where, user && *user ? user : "(default user)", msg);
}

/* The server's NOTICEs ("role is already a member...") are for -v only. */
static void notice_to_debug(void *arg, const char *message)
{
	(void)arg;
	log_debug("PostgreSQL: %.*s", (int)strcspn(message, "\n"), message);
}

PGconn *pg_connect_with(const char *conninfo, const char *password, const char *dbname,
			struct drctl_error *err)
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
		connect_error(c, dbname, err);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, notice_to_debug, NULL);
	return c;
}

PGconn *pg_connect(const struct config *cfg, const char *dbname, struct drctl_error *err)
{
	char *password = NULL;
	PGconn *c = NULL;

	if (config_get_secret(cfg, "postgres", "password_file", &password, err) < 0)
		return NULL;
	c = pg_connect_with(config_get(cfg, "postgres", "conninfo"), password, dbname, err);
	config_secret_free(password);
	return c;
}

/* ------------------------------------------------------------ statements */

static int result_error(PGconn *c, PGresult *r, const char *subject, char sqlstate[6], struct drctl_error *err)
{
	char msg[512], where[256];
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *hint = NULL;

	one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(c), msg, sizeof(msg));
	if (!*msg)
		one_line(PQerrorMessage(c), msg, sizeof(msg));
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

/* ------------------------------------------------------------ versions */

void pg_server_version(PGconn *c, char *out, size_t cap)
{
	const char *v = PQparameterStatus(c, "server_version");
	size_t n = 0;
	/* "15.18 (Debian 15.18-1.pgdg120+1)" -> "15.18" */
	while (v && v[n] && v[n] != ' ' && n + 1 < cap)
		n++;
	snprintf(out, cap, "%.*s", (int)n, v ? v : "?");
}

int pg_tool_version(const char *program, char *version, size_t cap, int *major, struct drctl_error *err)
{
	char *argv[] = { (char *)program, "--version", NULL };
	char buf[256];
	const char *p;
	struct pg_tool t;
	struct pg_child_env env = { .envp = environ };
	size_t got = 0;
	ssize_t n;
	int rc;

	if (pg_tool_start(&t, argv, &env, 0, 1, NULL, err) != 0)
		return -1;
	while (got + 1 < sizeof(buf) && (n = read(t.out_fd, buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	rc = pg_tool_finish(&t, "version check", program, err);
	if (rc != 0)
		return err_hint(err, "set [postgres] pg_dump / pg_restore to a PostgreSQL client at least as new as the server"), -1;
	p = strstr(buf, ") ");
	if (!p || !isdigit((unsigned char)p[2]))
		return err_set(err, EXIT_USAGE, program, "set [postgres] pg_dump / pg_restore to PostgreSQL's own tools",
			       "%s --version printed something that is not a PostgreSQL version", program);
	p += 2;
	*major = atoi(p);
	snprintf(version, cap, "%.*s", (int)strspn(p, "0123456789."), p);
	return 0;
}

int pg_tool_check(const char *program, PGconn *c, char *version, size_t cap, struct drctl_error *err)
{
	char server[64];
	int major = 0;

	if (pg_tool_version(program, version, cap, &major, err) != 0)
		return -1;
	pg_server_version(c, server, sizeof(server));
	if (major < PQserverVersion(c) / 10000)
		return err_set(err, EXIT_USAGE, program,
			       "install the PostgreSQL client tools of the server's major version or newer (e.g. postgresql-client-16) and point [postgres] pg_dump / pg_restore at them",
			       "%s is version %s but the server is %s: an older %s cannot read a newer server safely; refused",
			       program, version, server, program);
	return 0;
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

/* ------------------------------------------------------------ fingerprints */

int pg_fingerprint_sequences(PGconn *c, json_t *fp, struct drctl_error *err)
{
	/* pg_sequence_last_value() is what pg_dump's setval() restores: the
	 * value, or NULL when the sequence was never called (is_called false). */
	static const char sql[] =
		"SELECT n.nspname, c.relname, pg_sequence_last_value(c.oid), s.seqstart "
		"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_sequence s ON s.seqrelid = c.oid "
		"WHERE c.relkind = 'S' AND c.relpersistence <> 't' "
		"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
		"                  AND d.objid = c.oid AND d.deptype = 'e') "
		"ORDER BY 1, 2";
	json_t *seqs = json_array();
	PGresult *r = pg_query(c, sql, 0, NULL, "sequence fingerprints", err);

	if (!r) {
		json_decref(seqs);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int called = !PQgetisnull(r, i, 2);
		json_array_append_new(seqs, json_pack("{s:s, s:s, s:I, s:b}", "schema", PQgetvalue(r, i, 0),
						      "name", PQgetvalue(r, i, 1), "last_value",
						      (json_int_t)strtoll(PQgetvalue(r, i, called ? 2 : 3), NULL, 10),
						      "is_called", called));
	}
	PQclear(r);
	json_object_set_new(fp, "sequences", seqs);
	return 0;
}

int pg_fingerprint_tables(PGconn *c, json_t *tables, json_t *sizes, struct drctl_error *err)
{
	/* The tables pg_dump writes TABLE DATA for: ordinary tables and
	 * partitions outside the system schemas, not temporary, not owned by an
	 * extension. */
	static const char list[] =
		"SELECT n.nspname, c.relname, pg_relation_size(c.oid) FROM pg_class c "
		"JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
		"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
		"                  AND d.objid = c.oid AND d.deptype = 'e') "
		"ORDER BY 1, 2";
	PGresult *r = pg_query(c, list, 0, NULL, "table fingerprints", err);

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		json_array_append_new(tables, json_pack("{s:s, s:s, s:I}", "schema", PQgetvalue(r, i, 0), "name",
							PQgetvalue(r, i, 1), "rows", (json_int_t)-1));
		if (sizes)
			json_array_append_new(sizes, json_integer((json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10)));
	}
	PQclear(r);
	return 0;
}

/* "SELECT i, count(*) FROM ONLY s.t UNION ALL ..." for the tables whose
 * index has group[i] == want (ONLY: the rows pg_dump dumps for a table are
 * its own, not an inheritance child's).  NULL when the group is empty. */
static char *count_sql(PGconn *c, json_t *tables, const int *group, int want, struct drctl_error *err)
{
	char *q = NULL;
	size_t len = 0, cap = 0, i;
	json_t *t;

	json_array_foreach(tables, i, t) {
		const char *sn = json_string_value(json_object_get(t, "schema")), *tn = json_string_value(json_object_get(t, "name"));
		char *ns, *rel;
		size_t need;
		if (group[i] != want)
			continue;
		ns = PQescapeIdentifier(c, sn, strlen(sn));
		rel = PQescapeIdentifier(c, tn, strlen(tn));
		need = (ns ? strlen(ns) : 0) + (rel ? strlen(rel) : 0) + 80;
		if (!ns || !rel || (len + need >= cap && !(q = realloc(q, cap = (cap + need) * 2)))) {
			PQfreemem(ns);
			PQfreemem(rel);
			free(q);
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory building the fingerprint query");
			return NULL;
		}
		len += (size_t)snprintf(q + len, cap - len, "%sSELECT %zu, count(*) FROM ONLY %s.%s", len ? " UNION ALL " : "",
					i, ns, rel);
		PQfreemem(ns);
		PQfreemem(rel);
	}
	return q;
}

static int count_result(PGresult *r, json_t *tables, struct drctl_error *err)
{
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *t = json_array_get(tables, (size_t)atoi(PQgetvalue(r, i, 0)));
		if (!t)
			return err_set(err, EXIT_FAILED, NULL, NULL, "row counts: unexpected table index");
		json_object_set_new(t, "rows", json_integer((json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10)));
	}
	return 0;
}

/* Wait for the result of a query sent with PQsendQuery. */
static int collect_counts(PGconn *c, json_t *tables, struct drctl_error *err)
{
	PGresult *r;
	int rc = 0;

	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = err_set(err, EXIT_FAILED, NULL, "check the server log", "counting rows failed: %s",
				     PQresultErrorMessage(r));
		else if (rc == 0)
			rc = count_result(r, tables, err);
		PQclear(r);
	}
	return rc;
}

struct sized {
	long long size;
	size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
	long long x = ((const struct sized *)a)->size, y = ((const struct sized *)b)->size;
	return x < y ? 1 : x > y ? -1 : 0;
}

int pg_fingerprint_take(PGconn *c, PGconn *helper, json_t **out, struct drctl_error *err)
{
	json_t *fp = json_object(), *tables = json_array(), *sizes = json_array(), *v;
	PGconn *conns[2] = { c, helper ? helper : c };
	char *sql[2] = { NULL, NULL };
	long long load[2] = { 0, 0 };
	int *group = NULL, rc = -1;
	size_t n, i;

	json_object_set_new(fp, "tables", tables);
	if (pg_fingerprint_tables(c, tables, sizes, err) != 0)
		goto done;
	/* Two groups of about equal size, largest tables first, counted on two
	 * connections at once when a helper connection is there: a count is a
	 * full scan, and one connection uses one core. */
	n = json_array_size(tables);
	if (!(group = calloc(n ? n : 1, sizeof(*group)))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	{
		struct sized *order = calloc(n ? n : 1, sizeof(*order));
		if (!order) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		json_array_foreach(sizes, i, v)
			order[i] = (struct sized){ json_integer_value(v), i };
		qsort(order, n, sizeof(*order), by_size_desc);
		for (size_t k = 0; k < n; k++) {
			int g = load[0] <= load[1] ? 0 : 1;
			group[order[k].index] = g + 1;
			load[g] += order[k].size;
		}
		free(order);
	}
	for (int g = 0; g < 2; g++) {
		sql[g] = count_sql(c, tables, group, g + 1, err);
		if (err_is_set(err))
			goto done;
	}
	for (int g = 0; g < 2; g++) {
		if (!sql[g])
			continue;
		if (!PQsendQuery(conns[g], sql[g])) {
			err_set(err, EXIT_IO, NULL, NULL, "cannot send the row-count query: %s", PQerrorMessage(conns[g]));
			goto done;
		}
		if (conns[0] == conns[1] && collect_counts(conns[g], tables, err) != 0)
			goto done;
	}
	if (conns[0] != conns[1])
		for (int g = 0; g < 2; g++)
			if (sql[g] && collect_counts(conns[g], tables, err) != 0)
				goto done;
	json_array_foreach(tables, i, v)
		if (json_integer_value(json_object_get(v, "rows")) < 0) {
			err_set(err, EXIT_FAILED, NULL, NULL, "row counts: no count for table %s",
				json_string_value(json_object_get(v, "name")));
			goto done;
		}
	if (pg_fingerprint_sequences(c, fp, err) != 0)
		goto done;
	*out = json_incref(fp);
	rc = 0;
done:
	free(sql[0]);
	free(sql[1]);
	free(group);
	json_decref(sizes);
	json_decref(fp);
	return rc;
}

static json_t *index_by_name(json_t *list)
{
	json_t *idx = json_object(), *e;
	size_t i;
	json_array_foreach(list, i, e) {
		char key[2 * PG_NAME_MAX + 8];
		snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(e, "schema")),
			 json_string_value(json_object_get(e, "name")));
		json_object_set(idx, key, e);
	}
	return idx;
}

static size_t compare_list(json_t *want, json_t *got, const char *kind, const char *field, json_t *diffs)
{
	json_t *w = index_by_name(want), *g = index_by_name(got), *e;
	const char *key;
	size_t n = 0;

	json_object_foreach(w, key, e) {
		json_t *a = json_object_get(g, key);
		json_t *ev = json_object_get(e, field), *av = a ? json_object_get(a, field) : NULL;
		int same = a && json_equal(ev, av);
		if (same && !strcmp(kind, "sequence"))
			same = json_equal(json_object_get(e, "is_called"), json_object_get(a, "is_called"));
		if (!same) {
			json_array_append_new(diffs, json_pack("{s:s, s:s, s:O, s:O}", "object", key, "kind", kind,
							       "expected", ev, "actual", av ? av : json_null()));
			n++;
		}
	}
	json_object_foreach(g, key, e) {
		if (!json_object_get(w, key)) {
			json_array_append_new(diffs, json_pack("{s:s, s:s, s:n, s:O}", "object", key, "kind", kind,
							       "expected", "actual", json_object_get(e, field)));
			n++;
		}
	}
	json_decref(w);
	json_decref(g);
	return n;
}

size_t pg_fingerprint_compare(json_t *expected, json_t *actual, json_t *differences)
{
	return compare_list(json_object_get(expected, "tables"), json_object_get(actual, "tables"), "table", "rows",
			    differences) +
	       compare_list(json_object_get(expected, "sequences"), json_object_get(actual, "sequences"), "sequence",
			    "last_value", differences);
}

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

int pg_database_rename(PGconn *c, const char *from, const char *to, struct drctl_error *err)
{
	char *a = PQescapeIdentifier(c, from, strlen(from)), *b = PQescapeIdentifier(c, to, strlen(to));
	char *sql = NULL;
	int rc = -1;

	if (!a || !b || asprintf(&sql, "ALTER DATABASE %s RENAME TO %s", a, b) < 0) {
		sql = NULL;
		err_set(err, EXIT_FAILED, from, NULL, "out of memory");
		goto done;
	}
	rc = pg_exec(c, sql, from, NULL, err);
done:
	free(sql);
	PQfreemem(a);
	PQfreemem(b);
	return rc;
}

int pg_database_drop(PGconn *c, const char *name, struct drctl_error *err)
{
	char *a = PQescapeIdentifier(c, name, strlen(name));
	char *sql = NULL;
	int rc = -1;

	if (!a || asprintf(&sql, "DROP DATABASE %s", a) < 0) {
		sql = NULL;
		err_set(err, EXIT_FAILED, name, NULL, "out of memory");
		goto done;
	}
	rc = pg_exec(c, sql, name, NULL, err);
done:
	free(sql);
	PQfreemem(a);
	return rc;
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

/* ------------------------------------------------------------ child tools */

int pg_dbname_arg(const char *dbname, char *out, size_t cap)
{
	size_t n = 0;

	if (cap < 12)
		return -1;
	n = (size_t)snprintf(out, cap, "dbname='");
	for (const char *p = dbname; *p; p++) {
		if (n + 3 >= cap)
			return -1;
		if (*p == '\'' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	if (n + 2 > cap)
		return -1;
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

void pg_tool_sibling(const char *program, const char *name, char *out, size_t cap)
{
	const char *slash = strrchr(program, '/');
	if (slash)
		snprintf(out, cap, "%.*s/%s", (int)(slash - program), program, name);
	else
		snprintf(out, cap, "%s", name);
}

/* Write "*:*:*:*:password" with ':' and '\' escaped, as .pgpass wants. */
static int write_passfile(const char *dir, const char *password, char *path, size_t cap, struct drctl_error *err)
{
	int fd, n = snprintf(path, cap, "%s/pgpass.XXXXXX", dir && *dir ? dir : "/tmp");
	FILE *f;

	if (n < 0 || (size_t)n >= cap)
		return err_set(err, EXIT_USAGE, dir, NULL, "state folder path too long");
	fd = mkstemp(path); /* mode 0600 */
	if (fd < 0) {
		err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir exists and is writable",
			      "cannot create a private password file in %s", dir);
		path[0] = '\0';
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
	}
	fputs("*:*:*:*:", f);
	for (const char *p = password; *p; p++) {
		if (*p == ':' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('\n', f);
	if (fclose(f) != 0)
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
	return 0;
}

static int env_push(char ***envp, size_t *n, size_t *cap, const char *name, const char *value)
{
	char *s;
	if (*n + 2 > *cap) {
		char **grown = realloc(*envp, (*cap = *cap * 2 + 16) * sizeof(char *));
		if (!grown)
			return -1;
		*envp = grown;
	}
	if (value ? asprintf(&s, "%s=%s", name, value) < 0 : !(s = strdup(name)))
		return -1;
	(*envp)[(*n)++] = s;
	(*envp)[*n] = NULL;
	return 0;
}

int pg_child_env_build(PGconn *c, const char *dir, struct pg_child_env *env, struct drctl_error *err)
{
	PQconninfoOption *opts = PQconninfo(c), *o;
	const char *password = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	memset(env, 0, sizeof(*env));
	if (!opts)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	/* Our own values replace inherited ones; PGPASSWORD never reaches a child. */
	for (char **e = environ; *e; e++) {
		int ours = !strncmp(*e, "PGPASSWORD=", 11) || !strncmp(*e, "PGDATABASE=", 11) ||
			   !strncmp(*e, "PGSERVICE=", 10) || !strncmp(*e, "PGAPPNAME=", 10);
		for (o = opts; !ours && o->keyword; o++)
			if (o->envvar && o->val && *o->val && !strncmp(*e, o->envvar, strlen(o->envvar)) &&
			    (*e)[strlen(o->envvar)] == '=')
				ours = 1;
		if (!ours && env_push(&env->envp, &n, &cap, *e, NULL) != 0)
			goto oom;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val || !*o->val || !o->envvar)
			continue;
		if (!strcmp(o->keyword, "password")) {
			password = o->val;
			continue;
		}
		/* dbname: each tool gets its database by -d; service: already applied;
		 * application_name: let each tool name itself. */
		if (!strcmp(o->keyword, "dbname") || !strcmp(o->keyword, "service") ||
		    !strcmp(o->keyword, "application_name") || !strcmp(o->keyword, "passfile"))
			continue;
		if (env_push(&env->envp, &n, &cap, o->envvar, o->val) != 0)
			goto oom;
	}
	if (password && PQconnectionUsedPassword(c)) {
		if (write_passfile(dir, password, env->passfile, sizeof(env->passfile), err) != 0)
			goto done;
		if (env_push(&env->envp, &n, &cap, "PGPASSFILE", env->passfile) != 0)
			goto oom;
	} else {
		for (o = opts; o->keyword; o++)
			if (!strcmp(o->keyword, "passfile") && o->val && *o->val &&
			    env_push(&env->envp, &n, &cap, "PGPASSFILE", o->val) != 0)
				goto oom;
	}
	if (!env->envp && env_push(&env->envp, &n, &cap, "PGCONNECT_TIMEOUT", "15") != 0)
		goto oom;
	rc = 0;
	goto done;
oom:
	err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
done:
	PQconninfoFree(opts);
	if (rc != 0)
		pg_child_env_free(env);
	return rc;
}

void pg_child_env_free(struct pg_child_env *env)
{
	if (env->envp && env->envp != environ) {
		for (char **e = env->envp; *e; e++)
			free(*e);
		free(env->envp);
	}
	env->envp = NULL;
	if (env->passfile[0])
		unlink(env->passfile);
	env->passfile[0] = '\0';
}

int pg_tool_start(struct pg_tool *t, char *const argv[], const struct pg_child_env *env, int want_stdin,
		  int want_stdout, const char *dir, struct drctl_error *err)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errfd = -1, rc = -1, e;

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->in_fd = t->out_fd = -1;
	t->name = argv[0];
	if (posix_spawn_file_actions_init(&fa) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if ((want_stdin && pipe2(in, O_CLOEXEC) != 0) || (want_stdout && pipe2(out, O_CLOEXEC) != 0)) {
		err_set_errno(err, EXIT_FAILED, errno, argv[0], NULL, "cannot create a pipe for %s", argv[0]);
		goto done;
	}
	if (dir) {
		int n = snprintf(t->errfile, sizeof(t->errfile), "%s/pgtool-stderr.XXXXXX", dir);
		if (n < 0 || (size_t)n >= sizeof(t->errfile) || (errfd = mkstemp(t->errfile)) < 0) {
			t->errfile[0] = '\0';
			err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir exists and is writable",
				      "cannot create a file for %s's messages in %s", argv[0], dir);
			goto done;
		}
	}
	if (want_stdin)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (want_stdout)
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (errfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	e = posix_spawnp(&t->pid, argv[0], &fa, NULL, argv, env->envp ? env->envp : environ);
	if (e != 0) {
		t->pid = -1;
		err_set_errno(err, EXIT_USAGE, e, argv[0],
			      "install PostgreSQL's client tools or set [postgres] pg_dump / pg_restore to their full path",
			      "cannot run %s", argv[0]);
		goto done;
	}
	if (want_stdin) {
		t->in_fd = in[1];
		in[1] = -1;
	}
	if (want_stdout) {
		t->out_fd = out[0];
		out[0] = -1;
	}
	rc = 0;
done:
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (errfd >= 0)
		close(errfd);
	if (rc != 0 && t->errfile[0]) {
		unlink(t->errfile);
		t->errfile[0] = '\0';
	}
	return rc;
}

/* The last non-empty line of the tool's stderr (bounded read of the tail). */
static void last_error_line(const char *path, char *out, size_t cap)
{
	char buf[4096];
	ssize_t n;
	int fd = path[0] ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	off_t size;
	char *line, *end;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Prefer the first "error:" line of the tail: pg_dump prints the cause
	 * first and the consequences ("connection lost") after it. */
	line = strstr(buf, "error: ");
	if (!line) {
		end = buf + n;
		while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
			*--end = '\0';
		line = strrchr(buf, '\n');
		line = line ? line + 1 : buf;
	}
	one_line(line, out, cap);
	if (strlen(out) > 300)
		out[300] = '\0';
}

int pg_tool_finish(struct pg_tool *t, const char *what, const char *subject, struct drctl_error *err)
{
	int status = 0, rc = 0;
	char line[512];

	if (t->in_fd >= 0)
		close(t->in_fd);
	if (t->out_fd >= 0)
		close(t->out_fd);
	t->in_fd = t->out_fd = -1;
	if (t->pid > 0) {
		while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
			;
		t->pid = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			last_error_line(t->errfile, line, sizeof(line));
			if (WIFSIGNALED(status))
				rc = err_set(err, EXIT_FAILED, subject, NULL, "%s (%s) was killed by signal %d%s%s", t->name,
					     what, WTERMSIG(status), *line ? ": " : "", line);
			else
				rc = err_set(err, EXIT_FAILED, subject, NULL, "%s (%s) failed with exit status %d%s%s",
					     t->name, what, WEXITSTATUS(status), *line ? ": " : "", line);
		}
	}
	if (t->errfile[0]) {
		unlink(t->errfile);
		t->errfile[0] = '\0';
	}
	return rc;
}

int pg_tool_exited(const struct pg_tool *t)
{
	siginfo_t info;

	if (t->pid <= 0)
		return 1;
	memset(&info, 0, sizeof(info));
	/* WNOWAIT: only look; pg_tool_finish reaps it and reads its status. */
	if (waitid(P_PID, (id_t)t->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return info.si_pid == t->pid;
}

void pg_tool_kill(struct pg_tool *t)
{
	struct drctl_error ignored;
	if (t->pid > 0)
		kill(t->pid, SIGTERM);
	err_clear(&ignored);
	pg_tool_finish(t, "stopped", NULL, &ignored);
}
