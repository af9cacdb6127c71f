#include "lib/platform/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include "lib/clients/http.h"
#include "lib/clients/pg.h"
#include "lib/clients/redis_conn.h"
#include "lib/clients/vault.h"
#include "lib/core/log.h"

static long check_timeout(const struct config *cfg)
{
	long s = 0;
	if (config_get_int(cfg, "health", "timeout_seconds", &s) != 0 || s <= 0)
		s = 10;
	return s;
}

static void add(json_t *results, const char *check, const char *target, int ok, const char *detail, double started)
{
	json_array_append_new(results, json_pack("{s:s, s:s, s:b, s:s, s:f}", "check", check, "target", target, "ok", ok,
						 "detail", detail, "seconds", now_seconds() - started));
}

static void check_postgres(const struct config *cfg, const struct health_options *o, json_t *results)
{
	double t0 = now_seconds();
	struct drctl_error e;
	char target[256] = "postgres", detail[512], version[64];
	const char *db = o->database;
	char first[128] = "";
	PGconn *c;
	PGresult *r;

	if (!db) {
		const char *dbs = config_get(cfg, "postgres", "databases");
		if (dbs)
			snprintf(first, sizeof(first), "%.*s", (int)strcspn(dbs, ", "), dbs);
		db = first[0] ? first : NULL;
	}
	err_clear(&e);
	c = pg_connect(cfg, db, &e);
	if (!c) {
		add(results, "postgres", db ? db : "postgres", 0, e.message, t0);
		return;
	}
	pg_describe(c, target, sizeof(target));
	r = PQexec(c, "SELECT 1, pg_is_in_recovery()");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(detail, sizeof(detail), "SELECT 1 failed: %s", PQerrorMessage(c));
		add(results, "postgres", target, 0, detail, t0);
	} else {
		int standby = !strcmp(PQgetvalue(r, 0, 1), "t");
		pg_server_version(c, version, sizeof(version));
		snprintf(detail, sizeof(detail), "%s, PostgreSQL %s%s", standby ? "in recovery (a standby)" : "primary",
			 version, standby != o->expect_standby ? (standby ? ": a primary was expected" : ": a standby was expected") : "");
		add(results, "postgres", target, standby == o->expect_standby, detail, t0);
	}
	PQclear(r);
	PQfinish(c);
}

static void check_redis(const struct config *cfg, const struct health_options *o, json_t *results)
{
	double t0 = now_seconds();
	struct drctl_error e;
	struct redis_conn *c;
	redisReply *reply = NULL;
	char role[32] = "?", detail[512];

	err_clear(&e);
	if (o->redis_password ? redis_conn_open_as(&c, cfg, NULL, "", o->redis_password, &e) != 0
			      : redis_conn_open(&c, cfg, NULL, REDIS_ROLE_RESTORE, &e) != 0) {
		add(results, "redis", config_get(cfg, "redis", "url") ? "[redis] url" : "redis", 0, e.message, t0);
		return;
	}
	if (redis_conn_call(c, &reply, &e, "PING", NULL) != 0) {
		add(results, "redis", redis_conn_display(c), 0, e.message, t0);
	} else {
		freeReplyObject(reply);
		reply = NULL;
		if (redis_conn_call(c, &reply, &e, "INFO", "replication", NULL) == 0 && reply->type == REDIS_REPLY_STRING)
			redis_info_field(reply->str, "role", role, sizeof(role));
		snprintf(detail, sizeof(detail), "PONG, role %s%s", role, strcmp(role, "master") ? ": a master was expected" : "");
		add(results, "redis", redis_conn_display(c), !strcmp(role, "master"), detail, t0);
	}
	if (reply)
		freeReplyObject(reply);
	redis_conn_close(c);
}

static void check_vault(const struct config *cfg, json_t *results)
{
	double t0 = now_seconds();
	struct drctl_error e;
	struct vault_client *vc;
	struct vault_health h;
	char detail[512];

	err_clear(&e);
	if (vault_client_open(&vc, cfg, NULL, 0, &e) != 0) {
		add(results, "vault", "[vault] address", 0, e.message, t0);
		return;
	}
	if (vault_health(vc, &h, &e) != 0) {
		add(results, "vault", vault_client_address(vc), 0, e.message, t0);
	} else {
		snprintf(detail, sizeof(detail), "%s, version %s", vault_state_name(h.state), h.version);
		add(results, "vault", vault_client_address(vc), h.state == VAULT_ACTIVE, detail, t0);
	}
	vault_client_close(vc);
}

/* The URL template with {name} replaced. */
static void agent_url(const char *tmpl, const char *name, char *out, size_t cap)
{
	size_t k = 0;
	for (const char *p = tmpl; *p && k + 1 < cap; p++) {
		if (!strncmp(p, "{name}", 6)) {
			size_t l = strlen(name);
			if (k + l + 1 >= cap)
				break;
			memcpy(out + k, name, l);
			k += l;
			p += 5;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
}

static void check_agents(const struct config *cfg, const struct health_options *o, json_t *results)
{
	const char *tmpl = config_get(cfg, "agents", "health_url");
	struct drctl_error e;
	struct http_client *hc;
	size_t i;
	json_t *agent;

	if (!tmpl || !o->agents)
		return;
	err_clear(&e);
	hc = http_client_new(NULL, check_timeout(cfg), &e);
	if (!hc) {
		add(results, "agent", tmpl, 0, e.message, now_seconds());
		return;
	}
	json_array_foreach(o->agents, i, agent) {
		const char *name = json_string_value(json_object_get(agent, "name"));
		double t0 = now_seconds();
		struct http_request req = { .method = "GET" };
		struct http_response res;
		char url[2048], detail[512];

		if (json_integer_value(json_object_get(agent, "replicas")) == 0)
			continue; /* an agent that is meant to be stopped has nothing to answer */
		agent_url(tmpl, name ? name : "", url, sizeof(url));
		req.url = url;
		memset(&res, 0, sizeof(res));
		err_clear(&e);
		if (http_perform(hc, &req, &res, &e) != 0) {
			add(results, "agent", url, 0, e.message, t0);
		} else {
			snprintf(detail, sizeof(detail), "HTTP %ld%s", res.status, res.status == 200 ? "" : ": 200 was expected");
			add(results, "agent", url, res.status == 200, detail, t0);
		}
		http_response_free(&res);
	}
	http_client_free(hc);
}

int health_check_all(const struct config *cfg, const struct health_options *o, json_t **results,
		     struct drctl_error *err)
{
	static const struct health_options none;
	json_t *r = json_array(), *one;
	size_t i;

	if (!o)
		o = &none;
	/* What the platform has, as the configuration says: a default alone
	 * (redis://127.0.0.1:6379) is not a server to check. */
	if (config_is_set(cfg, "postgres", "conninfo"))
		check_postgres(cfg, o, r);
	if (config_is_set(cfg, "redis", "url"))
		check_redis(cfg, o, r);
	if (config_is_set(cfg, "vault", "address"))
		check_vault(cfg, r);
	check_agents(cfg, o, r);
	*results = r;
	json_array_foreach(r, i, one)
		if (!json_is_true(json_object_get(one, "ok")))
			return err_set(err, EXIT_FAILED, json_string_value(json_object_get(one, "target")),
				       "the table above lists every check; fix the failing one and run `drctl health` again",
				       "health check %s of %s failed: %s", json_string_value(json_object_get(one, "check")),
				       json_string_value(json_object_get(one, "target")),
				       json_string_value(json_object_get(one, "detail")));
	if (json_array_size(r) == 0)
		return err_set(err, EXIT_USAGE, "configuration",
			       "configure [postgres] conninfo, [redis] url, [vault] address or [agents] health_url",
			       "there is nothing to check: no server is configured");
	return 0;
}

void health_print(FILE *out, json_t *results)
{
	size_t i;
	json_t *r;

	fprintf(out, "%-9s %-4s %7s  %-44s %s\n", "CHECK", "OK", "SECONDS", "TARGET", "DETAIL");
	json_array_foreach(results, i, r)
		fprintf(out, "%-9s %-4s %7.2f  %-44s %s\n", json_string_value(json_object_get(r, "check")),
			json_is_true(json_object_get(r, "ok")) ? "ok" : "FAIL", json_real_value(json_object_get(r, "seconds")),
			json_string_value(json_object_get(r, "target")), json_string_value(json_object_get(r, "detail")));
}
