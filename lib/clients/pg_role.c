/*
 * pg_role: what the secret rotation does to a PostgreSQL role, and what the
 * incident evidence reads of the sessions.
 *
 * A new password is never sent to the server in the clear: libpq computes
 * its SCRAM-SHA-256 verifier here (PQencryptPasswordConn, a fresh random
 * salt each time) and the server only ever sees `ALTER ROLE r PASSWORD
 * 'SCRAM-SHA-256$4096:...'`, so neither the wire nor log_statement shows the
 * password.  A login is proven with a connection of its own that has the
 * control connection's host, port, database and TLS settings, as the role.
 */
#include "lib/clients/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/pg_private.h"
#include "lib/core/keyfile.h"

int pg_role_set_password(PGconn *c, const char *role, const char *password, struct drctl_error *err)
{
	char *verifier = PQencryptPasswordConn(c, password, role, "scram-sha-256");
	char *ident = NULL, *literal = NULL, *sql = NULL, msg[512];
	int rc = -1;

	if (!verifier) {
		pg_one_line(PQerrorMessage(c), msg, sizeof(msg));
		return err_set(err, EXIT_FAILED, role, NULL, "cannot compute the SCRAM-SHA-256 verifier of role %s's new password: %s",
			       role, msg);
	}
	ident = PQescapeIdentifier(c, role, strlen(role));
	literal = PQescapeLiteral(c, verifier, strlen(verifier));
	if (!ident || !literal || asprintf(&sql, "ALTER ROLE %s PASSWORD %s", ident, literal) < 0) {
		sql = NULL;
		err_set(err, EXIT_FAILED, role, NULL, "out of memory");
		goto done;
	}
	rc = pg_exec(c, sql, role, NULL, err);
	if (rc != 0)
		err_prefix(err, "ALTER ROLE %s PASSWORD", role);
done:
	if (sql) {
		secure_wipe(sql, strlen(sql));
		free(sql);
	}
	if (literal) {
		secure_wipe(literal, strlen(literal));
		PQfreemem(literal);
	}
	secure_wipe(verifier, strlen(verifier));
	PQfreemem(verifier);
	PQfreemem(ident);
	return rc;
}

/* The parameters `like` ended up with, as keyword/value arrays for another
 * connection: its user, password and password file left out. */
static int borrow_params(PGconn *like, const char *role, const char *password, const char **keys, const char **vals,
			 size_t cap, PQconninfoOption **opts)
{
	size_t n = 0;

	*opts = PQconninfo(like);
	if (!*opts)
		return -1;
	for (PQconninfoOption *o = *opts; o->keyword && n + 4 < cap; o++) {
		if (!o->val || !strcmp(o->keyword, "user") || !strcmp(o->keyword, "password") ||
		    !strcmp(o->keyword, "passfile") || !strcmp(o->keyword, "service") ||
		    !strcmp(o->keyword, "application_name") || !strcmp(o->keyword, "fallback_application_name"))
			continue;
		keys[n] = o->keyword;
		vals[n++] = o->val;
	}
	keys[n] = "user";
	vals[n++] = role;
	keys[n] = "password";
	vals[n++] = password;
	keys[n] = "application_name";
	vals[n++] = "drctl-rotation-proof";
	keys[n] = NULL;
	vals[n] = NULL;
	return 0;
}

int pg_role_login_works(PGconn *like, const char *role, const char *password, struct drctl_error *err)
{
	const char *keys[64], *vals[64];
	PQconninfoOption *opts = NULL;
	PGconn *c;
	char where[512], msg[512];
	int rc;

	if (borrow_params(like, role, password, keys, vals, 64, &opts) != 0)
		return err_set(err, EXIT_FAILED, role, NULL, "out of memory");
	c = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(opts);
	if (!c)
		return err_set(err, EXIT_FAILED, role, NULL, "out of memory connecting to PostgreSQL");
	if (PQstatus(c) == CONNECTION_OK) {
		rc = 1;
	} else if (strstr(PQerrorMessage(c), "password authentication failed")) {
		rc = 0; /* the server refused this password for this role */
	} else {
		pg_describe(c, where, sizeof(where));
		pg_one_line(PQerrorMessage(c), msg, sizeof(msg));
		rc = err_set(err, EXIT_IO, role, "check that the role may log in (LOGIN) from here: pg_hba.conf needs a password method (scram-sha-256) for it",
			     "cannot tell whether role %s logs in with its password: connecting to %s failed: %s", role,
			     where, msg);
	}
	PQfinish(c);
	return rc;
}

int pg_role_terminate_sessions(PGconn *c, const char *role, int *terminated, struct drctl_error *err)
{
	const char *params[1] = { role };
	PGresult *r;
	int refused = 0;

	*terminated = 0;
	r = pg_query(c,
		     "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
		     "WHERE usename = $1 AND pid <> pg_backend_pid()",
		     1, params, role, err);
	if (!r) {
		err_prefix(err, "terminating the sessions of role %s", role);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		if (!strcmp(PQgetvalue(r, i, 1), "t"))
			(*terminated)++;
		else
			refused++;
	}
	PQclear(r);
	if (refused)
		return err_set(err, EXIT_FAILED, role, "give drctl's role pg_signal_backend (or run it as a superuser for superuser roles)",
			       "PostgreSQL refused to terminate %d session(s) of role %s", refused, role);
	return 0;
}

int pg_sessions_list(PGconn *c, json_t **out, struct drctl_error *err)
{
	PGresult *r;
	json_t *rows = json_array();

	*out = NULL;
	r = pg_query(c,
		     "SELECT pid, usename, datname, application_name, client_addr::text AS client_addr, client_hostname, "
		     "client_port, backend_type, state, backend_start::text AS backend_start, xact_start::text AS xact_start, "
		     "query_start::text AS query_start, state_change::text AS state_change, wait_event_type, wait_event, "
		     "left(query, 2048) AS query FROM pg_stat_activity WHERE pid <> pg_backend_pid() ORDER BY pid",
		     0, NULL, "pg_stat_activity", err);
	if (!r) {
		json_decref(rows);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *row = json_object();
		for (int f = 0; f < PQnfields(r); f++)
			json_object_set_new(row, PQfname(r, f), PQgetisnull(r, i, f) ? json_null() : json_string(PQgetvalue(r, i, f)));
		json_array_append_new(rows, row);
	}
	PQclear(r);
	*out = rows;
	return 0;
}
