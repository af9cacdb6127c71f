/*
 * smoke_services: proves the test harness's servers are reachable the way
 * drctl reaches them.  PostgreSQL through libpq with nothing but the PG*
 * environment (PQconnectdb("")), `SELECT 41+1` must be 42; Redis through
 * hiredis at 127.0.0.1:$REDIS_PORT, a SET then GET must round-trip.
 * Exit 0 when both work, 1 otherwise, with a message saying which failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

static int check_postgres(void)
{
	PGconn *conn = PQconnectdb("");
	PGresult *res;
	int ok = 0;

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "FAIL postgres: cannot connect (PGHOST=%s PGPORT=%s PGUSER=%s): %s",
			getenv("PGHOST") ? getenv("PGHOST") : "", getenv("PGPORT") ? getenv("PGPORT") : "",
			getenv("PGUSER") ? getenv("PGUSER") : "", PQerrorMessage(conn));
		PQfinish(conn);
		return 0;
	}
	res = PQexec(conn, "SELECT 41+1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "FAIL postgres: SELECT 41+1: %s", PQerrorMessage(conn));
	else if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "42") != 0)
		fprintf(stderr, "FAIL postgres: SELECT 41+1 returned \"%s\", expected 42\n",
			PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "(no row)");
	else {
		printf("ok postgres: server %d at %s:%s says 41+1 = 42\n", PQserverVersion(conn), PQhost(conn),
		       PQport(conn));
		ok = 1;
	}
	PQclear(res);
	PQfinish(conn);
	return ok;
}

static int check_redis(void)
{
	const char *port_s = getenv("REDIS_PORT");
	char key[64], value[64];
	redisContext *c;
	redisReply *r;
	int port, ok = 0;

	if (!port_s || (port = atoi(port_s)) <= 0 || port > 65535) {
		fprintf(stderr, "FAIL redis: REDIS_PORT is not set to a port (start_redis exports it)\n");
		return 0;
	}
	c = redisConnect("127.0.0.1", port);
	if (!c || c->err) {
		fprintf(stderr, "FAIL redis: cannot connect to 127.0.0.1:%d: %s\n", port, c ? c->errstr : "out of memory");
		if (c)
			redisFree(c);
		return 0;
	}
	snprintf(key, sizeof(key), "drctl:smoke:%ld", (long)getpid());
	snprintf(value, sizeof(value), "hello-%ld", (long)getpid());
	r = redisCommand(c, "SET %s %s", key, value);
	if (!r || r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0) {
		fprintf(stderr, "FAIL redis: SET %s: %s\n", key, r ? (r->str ? r->str : "unexpected reply") : c->errstr);
		goto out;
	}
	freeReplyObject(r);
	r = redisCommand(c, "GET %s", key);
	if (!r || r->type != REDIS_REPLY_STRING || strcmp(r->str, value) != 0) {
		fprintf(stderr, "FAIL redis: GET %s returned %s, expected \"%s\"\n", key,
			r ? (r->str ? r->str : "a non-string reply") : c->errstr, value);
		goto out;
	}
	printf("ok redis: SET/GET round-trip on 127.0.0.1:%d\n", port);
	ok = 1;
out:
	if (r)
		freeReplyObject(r);
	redisFree(c);
	return ok;
}

int main(void)
{
	int pg = check_postgres();
	int redis = check_redis();

	if (pg && redis) {
		printf("smoke_services: PostgreSQL and Redis both work\n");
		return 0;
	}
	fprintf(stderr, "smoke_services: FAILED (%s%s%s)\n", pg ? "" : "postgres", !pg && !redis ? ", " : "",
		redis ? "" : "redis");
	return 1;
}
