/*
 * pg: everything drctl says to PostgreSQL through libpq, and how it runs
 * PostgreSQL's own tools (pg_dump, pg_dumpall, pg_restore) next to it.
 *
 * Connections take the libpq settings an operator already has: [postgres]
 * conninfo (a connection string, expanded as libpq's dbname), then the PG*
 * variables, service files and ~/.pgpass for whatever it leaves open.  The
 * password comes from [postgres] password_file when set.  Child tools get the
 * very parameters the control connection ended up with, through the
 * environment (PGHOST, PGPORT, PGUSER, PGSSLMODE...) and a private 0600
 * password file (PGPASSFILE): never argv, so nothing secret shows in a
 * process list, and never a log line.
 *
 * The backup, restore, drill and scenario code share this module: version and
 * privilege checks, the exported snapshot, fingerprints (exact row counts and
 * sequence values), and the database-level actions a restore needs (create,
 * rename, terminate sessions, drop).
 *
 * Its files: pg.c (connections, statements, checks, the snapshot),
 * pg_fingerprint.c, pg_database.c, pg_role.c (passwords, sessions) and
 * pg_tool.c (the child tools).
 */
#ifndef DRCTL_PG_H
#define DRCTL_PG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/format/pg_dumpfile.h" /* PG_NAME_MAX */

/* A server drctl connects to, as the configuration keys of its connection
 * string and password file: the platform's ([postgres] conninfo and
 * password_file) or the drill's scratch server ([scratch] postgres_conninfo
 * and postgres_password_file).  A restore is pointed at another server by
 * passing another of these, never by a copy of the configuration. */
struct pg_server {
	const char *section;
	const char *conninfo_key;
	const char *password_file_key;
};
extern const struct pg_server pg_server_platform, pg_server_scratch;

/* Connect with [postgres] conninfo + password_file; dbname, when not NULL,
 * replaces the conninfo's database.  The error names host, port and database
 * and says what to check (server down, password, missing database). */
PGconn *pg_connect(const struct config *cfg, const char *dbname, struct drctl_error *err);
/* The same on another server (NULL: the platform's); the error's hint names
 * that server's keys. */
PGconn *pg_connect_to(const struct config *cfg, const struct pg_server *server, const char *dbname,
		      struct drctl_error *err);
/* The same with an explicit connection string and password. */
PGconn *pg_connect_with(const char *conninfo, const char *password, const char *dbname,
			struct drctl_error *err);
/* What identifies the server behind a connection: {"host", "port", "database"
 * (as libpq resolved them: PQhost, PQport, PQdb), "addresses" (the host's
 * resolved IP addresses, or its socket folder), "system_identifier" (from
 * pg_control_system(), when this user may read it; else absent)}. */
json_t *pg_server_identity(PGconn *c);
/* "host:port/dbname" of a connection, for messages. */
const char *pg_describe(PGconn *c, char *out, size_t cap);

/* Run a statement that returns no rows / a query.  On failure the error
 * carries the server's message, `subject` and the SQLSTATE in *sqlstate
 * (when not NULL). */
int pg_exec(PGconn *c, const char *sql, const char *subject, char sqlstate[6], struct drctl_error *err);
PGresult *pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		   const char *subject, struct drctl_error *err);

/* "15.18" and 150018 style versions of the server. */
void pg_server_version(PGconn *c, char *out, size_t cap);
/* Run `program --version` and parse "pg_dump (PostgreSQL) 15.18 ...". */
int pg_tool_version(const char *program, char *version, size_t cap, int *major, struct drctl_error *err);
/* Refuse a tool older than the server (pg_dump 14 cannot dump 15 safely). */
int pg_tool_check(const char *program, PGconn *c, char *version, size_t cap, struct drctl_error *err);

/* Is the session user a superuser? */
int pg_is_superuser(PGconn *c);
/* Can this connection read everything pg_dump must read in its database?
 * Names the first table or sequence it cannot read. */
int pg_check_dump_privileges(PGconn *c, const char *dbname, struct drctl_error *err);
/* Can it create databases (CREATEDB or superuser)? */
int pg_check_createdb(PGconn *c, struct drctl_error *err);

/* Start a REPEATABLE READ, READ ONLY transaction and export its snapshot.
 * Keep the connection open and idle in it until every user of the snapshot
 * (pg_dump --snapshot) is done, then pg_snapshot_release. */
int pg_snapshot_export(PGconn *c, char *id, size_t cap, struct drctl_error *err);
int pg_snapshot_release(PGconn *c, struct drctl_error *err);

/* Fingerprints: {"tables": [{"schema","name","rows"}...], "sequences":
 * [{"schema","name","last_value","is_called"}...]}, sorted by name.
 * Tables are the ordinary tables (and partitions) pg_dump dumps data for;
 * extension-owned and temporary ones are left out. */
int pg_fingerprint_sequences(PGconn *c, json_t *fp, struct drctl_error *err);
/* The tables whose rows are fingerprinted (those pg_dump writes data for),
 * appended to `tables` as {"schema","name","rows": -1}; their sizes in
 * bytes to `sizes` when not NULL. */
int pg_fingerprint_tables(PGconn *c, json_t *tables, json_t *sizes, struct drctl_error *err);
/* Exact row counts of every table and the sequences' values, in the current
 * transaction of c; with a second connection `helper` (may be NULL) to the
 * same database, the tables are counted on both at once. */
int pg_fingerprint_take(PGconn *c, PGconn *helper, json_t **out, struct drctl_error *err);
/* Compare; appends {"object","kind","expected","actual"} per difference to
 * `differences` and returns their number. */
size_t pg_fingerprint_compare(json_t *expected, json_t *actual, json_t *differences);

/* Database-level actions (run on a connection to another database). */
int pg_database_exists(PGconn *c, const char *name, int *exists, struct drctl_error *err);
/* CREATE DATABASE name TEMPLATE template0 with the encoding, collation and
 * owner in `props` ({"encoding","collate","ctype","owner"}, each optional;
 * an owner that does not exist here is left out). */
int pg_database_create(PGconn *c, const char *name, json_t *props, struct drctl_error *err);
int pg_database_rename(PGconn *c, const char *from, const char *to, struct drctl_error *err);
int pg_database_drop(PGconn *c, const char *name, struct drctl_error *err);
/* `target` becomes `kept_as` and `replacement` becomes `target` in one
 * transaction, after terminating the sessions on
 * both; *terminated counts them. */
int pg_database_swap(PGconn *c, const char *target, const char *replacement, const char *kept_as, int *terminated,
		     struct drctl_error *err);
/* pg_terminate_backend for every other session on the database. */
int pg_database_terminate_sessions(PGconn *c, const char *name, int *terminated, struct drctl_error *err);
/* encoding, collate, ctype, owner of the connection's database. */
json_t *pg_database_properties(PGconn *c, struct drctl_error *err);

/* --- roles and sessions (pg_role.c): the secret rotation, evidence ----- */

/* ALTER ROLE role PASSWORD '<verifier>': the SCRAM-SHA-256 verifier is
 * computed here (PQencryptPasswordConn), so the clear password never
 * crosses the wire nor reaches the server's log. */
int pg_role_set_password(PGconn *c, const char *role, const char *password, struct drctl_error *err);
/* Log in as `role` with `password` on a connection of its own, with the
 * host, port, database and TLS settings of `like`: 1 it works, 0 the server
 * refused the password, -1 when it cannot tell (server down, pg_hba.conf
 * refuses the role, no LOGIN). */
int pg_role_login_works(PGconn *like, const char *role, const char *password, struct drctl_error *err);
/* pg_terminate_backend for every session of `role` but this one. */
int pg_role_terminate_sessions(PGconn *c, const char *role, int *terminated, struct drctl_error *err);
/* pg_stat_activity (but this session) as an array of objects: pid,
 * usename, datname, application_name, client_addr, client_port, state,
 * backend_start, query_start, wait_event, query (its first 2048 bytes)... */
int pg_sessions_list(PGconn *c, json_t **out, struct drctl_error *err);

/* --- PostgreSQL's tools as child processes ---------------------------- */

/* The environment children run with: this process's, with the control
 * connection's parameters as PG* variables and its password (if one was
 * used) in a fresh 0600 file named by PGPASSFILE in `dir` (state dir). */
struct pg_child_env {
	char **envp;
	char passfile[4096];
};
int pg_child_env_build(PGconn *c, const char *dir, struct pg_child_env *env, struct drctl_error *err);
void pg_child_env_free(struct pg_child_env *env);

/* A "dbname='...'" connection string naming one database, for a tool's -d
 * (a plain name with '=' in it would otherwise be read as a conninfo). */
int pg_dbname_arg(const char *dbname, char *out, size_t cap);
/* The sibling of `program` ("/usr/lib/postgresql/15/bin/pg_dump" ->
 * ".../pg_dumpall"; "pg_dump" -> "pg_dumpall"). */
void pg_tool_sibling(const char *program, const char *name, char *out, size_t cap);

/* A running tool: stdin and/or stdout as pipes (fd -1 when not asked for),
 * stderr into a private file in `dir` so its last lines can explain a
 * failure. */
struct pg_tool {
	pid_t pid;
	int in_fd, out_fd;
	char errfile[4096];
	const char *name;
};
int pg_tool_start(struct pg_tool *t, char *const argv[], const struct pg_child_env *env, int want_stdin,
		  int want_stdout, const char *dir, struct drctl_error *err);
/* Wait; 0 if it exited 0, else -1 with its last stderr line in the error. */
int pg_tool_finish(struct pg_tool *t, const char *what, const char *subject, struct drctl_error *err);
/* 1 when the tool has exited (it is not reaped: pg_tool_finish does that). */
int pg_tool_exited(const struct pg_tool *t);
/* Stop it (SIGTERM, then wait) after a failure elsewhere. */
void pg_tool_kill(struct pg_tool *t);

#endif
