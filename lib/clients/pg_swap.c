/*
 * pg_swap: putting a restored database in place of another, atomically.
 *
 * PostgreSQL runs ALTER DATABASE ... RENAME inside a transaction block, so
 * both renames commit together or not at all: there is no instant at which
 * the database's name points at nothing, whatever kills drctl (or the
 * server) in between.  Sessions must be off both databases for a rename;
 * ones that reconnect between the terminate and the rename make it fail
 * ("is being accessed by other users"), and it is tried again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clients/pg.h"

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
