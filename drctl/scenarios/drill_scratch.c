/*
 * drill_scratch: the drill writes only into scratch servers, and this file
 * proves, before every step that writes, that a scratch target is not the
 * production server it stands in for.  Two configurations can name one
 * server in many ways (localhost and 127.0.0.1, a socket folder and a TCP
 * port, a DNS alias), so names are not compared: the servers are asked who
 * they are.  PostgreSQL's system identifier (pg_control_system) is made by
 * initdb and shared by no other cluster; Redis's run_id is new with every
 * server process; Vault's cluster id is its cluster's.  Where a server does
 * not say (no privilege, production out of reach from the drill's host), the
 * resolved addresses and ports decide.  The PostgreSQL scratch must be
 * another server, not another database of the production one: the globals
 * (roles) a drill restores are the whole cluster's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "drctl/scenarios/drill_private.h"
#include "lib/clients/net_addresses.h"
#include "lib/clients/pg.h"
#include "lib/clients/redis_conn.h"
#include "lib/clients/vault.h"
#include "lib/core/log.h"

const struct config_secret_ref drill_scratch_redis_password = { "scratch", "redis_password" };
const struct config_secret_ref drill_scratch_vault_token = { "scratch", "vault_token" };

/* --- comparing ------------------------------------------------------------ */

static int addresses_overlap(json_t *a, json_t *b)
{
	size_t i, j;
	json_t *x, *y;
	json_array_foreach(json_object_get(a, "addresses"), i, x)
		json_array_foreach(json_object_get(b, "addresses"), j, y)
			if (json_equal(x, y))
				return 1;
	return 0;
}

/* Are they one server?  *by says what decided. */
static int same_server(json_t *prod, json_t *scratch, const char *id_key, const char **by)
{
	const char *a = json_string_value(json_object_get(prod, id_key));
	const char *b = json_string_value(json_object_get(scratch, id_key));
	const char *pa = json_string_value(json_object_get(prod, "port")), *pb = json_string_value(json_object_get(scratch, "port"));

	if (a && b) {
		*by = id_key;
		return !strcmp(a, b);
	}
	*by = "address";
	return pa && pb && !strcmp(pa, pb) && addresses_overlap(prod, scratch);
}

static const char *s_of(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "?";
}

/* Record both identities (preflight), or note how a later check decided. */
static int remember(struct run *r, int first, const char *what, json_t *prod, json_t *scratch, const char *by,
		    struct drctl_error *err)
{
	char key[64];
	if (!first) {
		json_decref(prod);
		json_decref(scratch);
		return 0;
	}
	if (!json_is_true(json_object_get(prod, "reachable")))
		run_note(r, "production %s did not answer here (out of reach, or no credentials for it in this job): the scratch %s was told apart by its address only",
			 what, what);
	else
		run_note(r, "scratch %s is not the production one (told apart by %s)", what, by);
	json_object_set_new(scratch, "told_apart_by", json_string(by));
	snprintf(key, sizeof(key), "production_%s", what);
	if (run_set_fact(r, key, prod, err) != 0) {
		json_decref(scratch);
		return -1;
	}
	snprintf(key, sizeof(key), "scratch_%s", what);
	return run_set_fact(r, key, scratch, err);
}

/* --- PostgreSQL ------------------------------------------------------------ */

/* Where a connection string points, when nobody answers there. */
static json_t *pg_endpoint(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo ? conninfo : "", NULL), *o;
	const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
	json_t *id;

	for (o = opts; o && o->keyword; o++) {
		if (!strcmp(o->keyword, "host") && o->val && *o->val)
			host = o->val;
		if (!strcmp(o->keyword, "port") && o->val && *o->val)
			port = o->val;
	}
	id = json_pack("{s:s, s:s, s:b}", "host", host ? host : "", "port", port ? port : "5432", "reachable", 0);
	if (host && *host && host[0] != '/')
		json_object_set_new(id, "addresses", net_host_addresses(host, port ? port : "5432"));
	else
		json_object_set_new(id, "addresses", json_pack("[s]", host && *host ? host : "(default socket)"));
	PQconninfoFree(opts);
	return id;
}

static json_t *pg_identity(struct run *r, const struct pg_server *sv, struct drctl_error *err)
{
	PGconn *c = pg_connect_to(run_config(r), sv, NULL, err);
	json_t *id;

	if (!c)
		return NULL;
	id = pg_server_identity(c);
	json_object_set_new(id, "reachable", json_true());
	PQfinish(c);
	return id;
}

int drill_guard_postgres(struct run *r, int first, struct drctl_error *err)
{
	const struct config *cfg = run_config(r);
	json_t *scratch, *prod;
	struct drctl_error e;
	const char *by;

	if (!config_get(cfg, "scratch", "postgres_conninfo"))
		return err_set(err, EXIT_USAGE, "[scratch] postgres_conninfo",
			       "set [scratch] postgres_conninfo to a PostgreSQL server that is not production (and postgres_password_file)",
			       "the backup set holds PostgreSQL, and no scratch PostgreSQL is configured to restore it into; nothing was touched");
	if (!(scratch = pg_identity(r, &pg_server_scratch, err)))
		return -1;
	err_clear(&e);
	if (!(prod = pg_identity(r, &pg_server_platform, &e)))
		prod = pg_endpoint(config_get(cfg, "postgres", "conninfo"));
	if (same_server(prod, scratch, "system_identifier", &by)) {
		err_set(err, EXIT_USAGE, "[scratch] postgres_conninfo",
			"point [scratch] postgres_conninfo at another PostgreSQL server; another database of the production server will not do, as the roles a drill restores are the whole server's",
			"[scratch] postgres_conninfo is the production PostgreSQL: %s:%s (database %s) and production's %s:%s (database %s) are one server (%s %s); the drill refuses and touched nothing",
			s_of(scratch, "host"), s_of(scratch, "port"), s_of(scratch, "database"), s_of(prod, "host"),
			s_of(prod, "port"), s_of(prod, "database"),
			!strcmp(by, "address") ? "the same address and port" : "the same system identifier",
			!strcmp(by, "address") ? "" : s_of(prod, "system_identifier"));
		json_decref(prod);
		json_decref(scratch);
		return -1;
	}
	return remember(r, first, "postgres", prod, scratch, by, err);
}

/* --- Redis --------------------------------------------------------------- */

static json_t *redis_endpoint(const char *url)
{
	struct redis_url u;
	struct drctl_error e;
	char port[16];
	json_t *id;

	err_clear(&e);
	if (redis_url_parse(url ? url : "", &u, &e) != 0)
		return json_pack("{s:s, s:s, s:[]}", "url", "?", "port", "?", "addresses");
	snprintf(port, sizeof(port), "%d", u.port);
	id = json_pack("{s:s, s:s, s:s, s:o}", "url", u.display, "host", u.host, "port", port, "addresses",
		       net_host_addresses(u.host, port));
	redis_url_wipe(&u);
	return id;
}

static json_t *redis_identity(struct run *r, const char *url, struct drctl_error *err)
{
	struct redis_conn *c = NULL;
	redisReply *rep = NULL;
	struct drctl_error e;
	char run_id[64];
	json_t *id = redis_endpoint(url ? url : config_get(run_config(r), "redis", "url"));

	/* url NULL: production, with [redis]'s password; else the scratch's own. */
	if (redis_conn_open_auth(&c, run_config(r), url, url ? &drill_scratch_redis_password : NULL, REDIS_ROLE_RESTORE,
				 err) != 0) {
		json_decref(id);
		return NULL;
	}
	json_object_set_new(id, "reachable", json_true());
	err_clear(&e);
	/* A backup user may not run INFO (its ACL has +psync +replconf only). */
	if (redis_conn_call(c, &rep, &e, "INFO", "server", NULL) == 0 && rep->type == REDIS_REPLY_STRING &&
	    redis_info_field(rep->str, "run_id", run_id, sizeof(run_id)) == 0)
		json_object_set_new(id, "run_id", json_string(run_id));
	if (rep)
		freeReplyObject(rep);
	redis_conn_close(c);
	return id;
}

int drill_guard_redis(struct run *r, int first, struct drctl_error *err)
{
	const char *url = config_get(run_config(r), "scratch", "redis_url");
	json_t *scratch, *prod;
	struct drctl_error e;
	const char *by;

	if (!url)
		return err_set(err, EXIT_USAGE, "[scratch] redis_url",
			       "set [scratch] redis_url to an empty Redis that is not production",
			       "the backup set holds Redis, and no scratch Redis is configured to restore it into; nothing was touched");
	if (!(scratch = redis_identity(r, url, err)))
		return -1;
	err_clear(&e);
	if (!(prod = redis_identity(r, NULL, &e))) {
		prod = redis_endpoint(config_get(run_config(r), "redis", "url"));
		json_object_set_new(prod, "reachable", json_false());
	}
	if (same_server(prod, scratch, "run_id", &by)) {
		err_set(err, EXIT_USAGE, "[scratch] redis_url",
			"point [scratch] redis_url at another Redis server: the restore writes into the databases the backup has keys in, production's own",
			"[scratch] redis_url is the production Redis: %s and production's %s are one server (%s%s); the drill refuses and touched nothing",
			s_of(scratch, "url"), s_of(prod, "url"),
			!strcmp(by, "address") ? "the same address and port" : "the same run_id ",
			!strcmp(by, "address") ? "" : s_of(prod, "run_id"));
		json_decref(prod);
		json_decref(scratch);
		return -1;
	}
	return remember(r, first, "redis", prod, scratch, by, err);
}

int drill_scratch_redis_keys(struct run *r, unsigned long long *keys, struct drctl_error *err)
{
	struct redis_conn *c = NULL;
	int rc;

	*keys = 0;
	if (redis_conn_open_auth(&c, run_config(r), config_get(run_config(r), "scratch", "redis_url"),
				 &drill_scratch_redis_password, REDIS_ROLE_RESTORE, err) != 0)
		return -1;
	rc = redis_conn_key_count(c, keys, err);
	redis_conn_close(c);
	return rc;
}

int drill_scratch_redis_flush(struct run *r, json_t *dbs, struct drctl_error *err)
{
	struct redis_conn *c = NULL;
	redisReply *rep = NULL;
	json_t *d;
	size_t i;
	int rc = -1;

	if (redis_conn_open_auth(&c, run_config(r), config_get(run_config(r), "scratch", "redis_url"),
				 &drill_scratch_redis_password, REDIS_ROLE_RESTORE, err) != 0)
		return -1;
	json_array_foreach(dbs, i, d) {
		char db[16];
		snprintf(db, sizeof(db), "%lld", (long long)json_integer_value(json_object_get(d, "db")));
		if (redis_conn_call(c, &rep, err, "SELECT", db, NULL) != 0)
			goto done;
		freeReplyObject(rep);
		if (redis_conn_call(c, &rep, err, "FLUSHDB", NULL) != 0)
			goto done;
		freeReplyObject(rep);
		rep = NULL;
	}
	rc = 0;
done:
	redis_conn_close(c);
	return rc;
}

/* --- Vault ----------------------------------------------------------------- */

/* scheme://host[:port][/...] into host and port. */
static json_t *vault_endpoint(const char *address)
{
	const char *p = strstr(address, "://"), *h, *end;
	char host[256] = "", port[16];
	int https = !strncmp(address, "https", 5);
	json_t *id;

	h = p ? p + 3 : address;
	if (*h == '[') {
		end = strchr(h, ']');
		snprintf(host, sizeof(host), "%.*s", end ? (int)(end - h - 1) : 0, h + 1);
		h = end ? end + 1 : h + strlen(h);
	} else {
		size_t n = strcspn(h, ":/");
		snprintf(host, sizeof(host), "%.*s", (int)n, h);
		h += n;
	}
	if (*h == ':')
		snprintf(port, sizeof(port), "%.*s", (int)strcspn(h + 1, "/"), h + 1);
	else
		snprintf(port, sizeof(port), "%s", https ? "443" : "80");
	id = json_pack("{s:s, s:s, s:s, s:o}", "address", address, "host", host, "port", port, "addresses",
		       net_host_addresses(host, port));
	return id;
}

static json_t *vault_identity(struct run *r, const char *address, struct drctl_error *err)
{
	struct vault_client *vc = NULL;
	struct vault_health h;
	json_t *id;

	if (vault_client_open(&vc, run_config(r), address, 0, err) != 0)
		return NULL;
	id = vault_endpoint(vault_client_address(vc));
	if (vault_health(vc, &h, err) != 0) {
		vault_client_close(vc);
		json_decref(id);
		return NULL;
	}
	json_object_set_new(id, "reachable", json_true());
	json_object_set_new(id, "state", json_string(vault_state_name(h.state)));
	if (h.cluster_id[0])
		json_object_set_new(id, "cluster_id", json_string(h.cluster_id));
	vault_client_close(vc);
	return id;
}

int drill_guard_vault(struct run *r, int first, struct drctl_error *err)
{
	const char *address = config_get(run_config(r), "scratch", "vault_address");
	json_t *scratch, *prod;
	struct drctl_error e;
	const char *by;

	if (!(scratch = vault_identity(r, address, err)))
		return -1;
	err_clear(&e);
	if (!(prod = vault_identity(r, NULL, &e))) {
		struct vault_client *vc = NULL;
		err_clear(&e);
		prod = vault_client_open(&vc, run_config(r), NULL, 0, &e) == 0 ? vault_endpoint(vault_client_address(vc))
										 : json_pack("{s:s, s:s, s:[]}", "address", "?", "port", "?", "addresses");
		vault_client_close(vc);
		json_object_set_new(prod, "reachable", json_false());
	}
	if (same_server(prod, scratch, "cluster_id", &by)) {
		err_set(err, EXIT_USAGE, "[scratch] vault_address",
			"point [scratch] vault_address at a Vault of its own (a throwaway cluster, initialized and unsealed), or unset it to rely on the snapshot's deep check",
			"[scratch] vault_address is the production Vault: %s and production's %s are one %s (%s%s); the drill refuses and touched nothing",
			s_of(scratch, "address"), s_of(prod, "address"), !strcmp(by, "address") ? "server" : "cluster",
			!strcmp(by, "address") ? "the same address and port" : "cluster id ",
			!strcmp(by, "address") ? "" : s_of(prod, "cluster_id"));
		json_decref(prod);
		json_decref(scratch);
		return -1;
	}
	return remember(r, first, "vault", prod, scratch, by, err);
}

int drill_scratch_vault_ready(struct run *r, struct drctl_error *err)
{
	const char *address = config_get(run_config(r), "scratch", "vault_address");
	struct vault_client *vc = NULL;
	struct vault_health h;
	int rc = -1;

	if (!config_get(run_config(r), "scratch", "vault_token_file"))
		return err_set(err, EXIT_USAGE, "[scratch] vault_token_file",
			       "set [scratch] vault_token_file to a file (mode 0600) holding a token of the scratch Vault",
			       "the scratch Vault %s has no token configured (production's is never sent to it); nothing was touched",
			       address);
	if (vault_client_open(&vc, run_config(r), address, 0, err) != 0 || vault_health(vc, &h, err) != 0)
		goto done;
	if (h.state != VAULT_ACTIVE) {
		err_set(err, EXIT_USAGE, address,
			"a drill's scratch Vault must be a cluster of its own, initialized and unsealed (e.g. a fresh one started for the drill); after a drill it holds production's snapshot, sealed, and must be initialized anew",
			"the scratch Vault at %s is %s, not an active, unsealed node; nothing was touched", address,
			vault_state_name(h.state));
		goto done;
	}
	rc = 0;
done:
	vault_client_close(vc);
	return rc;
}
