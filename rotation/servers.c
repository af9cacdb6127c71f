/*
 * servers: what each kind of secret does on the server that checks it, and
 * drctl's connections to those servers.
 *
 *   PostgreSQL role   works: a login as the role; apply: ALTER ROLE with a
 *                     client-side SCRAM verifier (the role has one password:
 *                     the old one stops working at that instant)
 *   Redis ACL user    works: AUTH user value; apply: ACL SETUSER #<sha256>
 *                     (the old password still works); retire: remove every
 *                     other password, then save the ACL
 *   Redis requirepass works: AUTH value; apply: CONFIG SET requirepass;
 *                     retire: save the configuration
 *   generated value   nothing outside Vault: always "works"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/pg.h"
#include "lib/core/keyfile.h"
#include "rotation/rotation_private.h"

int rotation_need_vault(struct rotation *r, struct vault_client **vc, struct drctl_error *err)
{
	if (!r->vault && vault_client_open(&r->vault, r->cfg, NULL, 1, err) != 0)
		return -1;
	*vc = r->vault;
	return 0;
}

int rotation_need_pg(struct rotation *r, PGconn **c, struct drctl_error *err)
{
	if (r->pg && PQstatus(r->pg) != CONNECTION_OK) {
		PQfinish(r->pg);
		r->pg = NULL;
	}
	if (!r->pg && !(r->pg = pg_connect(r->cfg, NULL, err)))
		return -1;
	*c = r->pg;
	return 0;
}

static const struct rotation_secret *requirepass_secret(struct rotation *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->secrets[i].kind == ROTATION_REDIS_REQUIREPASS)
			return &r->secrets[i];
	return NULL;
}

/* A rotated requirepass makes [redis] password stale: then the values in
 * Vault (current, and the one before a pending version) are tried. */
int rotation_need_redis(struct rotation *r, struct redis_conn **c, struct drctl_error *err)
{
	const struct rotation_secret *rp;
	struct drctl_error first;
	struct vault_kv_meta m = { 0 };
	struct vault_client *vc;
	char value[ROTATION_VALUE_MAX];
	int rc = -1;

	*c = NULL;
	if (r->redis) {
		*c = r->redis;
		return 0;
	}
	err_clear(&first);
	if (redis_conn_open(&r->redis, r->cfg, NULL, REDIS_ROLE_RESTORE, &first) == 0) {
		*c = r->redis;
		return 0;
	}
	if (!(rp = requirepass_secret(r)) || first.code != EXIT_USAGE) {
		*err = first;
		return -1;
	}
	if (rotation_need_vault(r, &vc, err) != 0 || vault_kv_meta_read(vc, rp->mount, rp->path, &m, err) != 0)
		return -1;
	for (long v = m.current_version; v > 0 && v >= m.current_version - 1 && !r->redis; v--) {
		struct drctl_error e;
		err_clear(&e);
		if (rotation_read_value(r, rp, v, value, sizeof(value), &e) == 1)
			redis_conn_open_as(&r->redis, r->cfg, NULL, "", value, &e);
		secure_wipe(value, sizeof(value));
	}
	if (r->redis) {
		*c = r->redis;
		rc = 0;
	} else {
		*err = first;
		err_hint(err, "neither [redis] password nor the requirepass values in Vault %s work; check the server", rp->vault);
	}
	vault_kv_meta_free(&m);
	return rc;
}

/* --- PostgreSQL ------------------------------------------------------------- */

static int pg_works(struct rotation *r, const struct rotation_secret *s, const char *value, struct drctl_error *err)
{
	PGconn *c;
	return rotation_need_pg(r, &c, err) == 0 ? pg_role_login_works(c, s->name, value, err) : -1;
}

static int pg_apply(struct rotation *r, const struct rotation_secret *s, const char *value, struct drctl_error *err)
{
	PGconn *c;
	if (rotation_need_pg(r, &c, err) != 0)
		return -1;
	if (pg_role_set_password(c, s->name, value, err) != 0) {
		err_hint(err, "drctl's role needs CREATEROLE (or to be a superuser for a superuser role); the old password of "
			      "%s still works and the new one waits in %s as a pending version: fix it, then resume, or abort",
			 s->name, s->vault);
		return -1;
	}
	return 0;
}

/* --- Redis -------------------------------------------------------------------- */

static int redis_user_works(struct rotation *r, const struct rotation_secret *s, const char *value,
			    struct drctl_error *err)
{
	return redis_conn_login_works(r->cfg, NULL, s->kind == ROTATION_REDIS_REQUIREPASS ? "" : s->name, value, err);
}

static int redis_user_apply(struct rotation *r, const struct rotation_secret *s, const char *value,
			    struct drctl_error *err)
{
	struct redis_conn *c;
	return rotation_need_redis(r, &c, err) == 0 ? redis_acl_add_password(c, s->name, value, err) : -1;
}

static int save_redis(struct rotation *r, struct redis_conn *c, const struct rotation_secret *s, struct drctl_error *err)
{
	char how[300];
	if (redis_persist(c, r->redis_persist, how, sizeof(how), err) != 0) {
		err_prefix(err, "saving the rotation of Redis %s", s->name);
		err_hint(err, "the new password works now but a Redis restart would lose it: fix the server's aclfile or "
			      "configuration file, or set [rotation] redis_persist, then resume");
		return -1;
	}
	rotation_note(r, "Redis %s: %s", s->name, how);
	return 0;
}

static int redis_user_retire(struct rotation *r, const struct rotation_secret *s, const char *value,
			     struct drctl_error *err)
{
	struct redis_conn *c;
	char hash[65];
	int removed = 0;

	if (rotation_need_redis(r, &c, err) != 0)
		return -1;
	redis_password_hash(value, hash);
	if (redis_acl_keep_only(c, s->name, hash, &removed, err) != 0)
		return -1;
	if (removed)
		rotation_note(r, "Redis user %s: %d old password(s) removed; only the new one works", s->name, removed);
	return save_redis(r, c, s, err);
}

static int requirepass_apply(struct rotation *r, const struct rotation_secret *s, const char *value,
			     struct drctl_error *err)
{
	struct redis_conn *c;
	(void)s;
	return rotation_need_redis(r, &c, err) == 0 ? redis_set_requirepass(c, value, err) : -1;
}

static int requirepass_retire(struct rotation *r, const struct rotation_secret *s, const char *value,
			      struct drctl_error *err)
{
	struct redis_conn *c;
	(void)value;
	return rotation_need_redis(r, &c, err) == 0 ? save_redis(r, c, s, err) : -1;
}

/* --- generated values ----------------------------------------------------------- */

static int generated_works(struct rotation *r, const struct rotation_secret *s, const char *value,
			   struct drctl_error *err)
{
	(void)r;
	(void)s;
	(void)err;
	return value[0] != '\0';
}

static const struct rotation_kind_ops kind_ops[] = {
	[ROTATION_POSTGRES] = { "PostgreSQL role", pg_works, pg_apply, NULL },
	[ROTATION_REDIS_USER] = { "Redis user", redis_user_works, redis_user_apply, redis_user_retire },
	[ROTATION_REDIS_REQUIREPASS] = { "Redis requirepass", redis_user_works, requirepass_apply, requirepass_retire },
	[ROTATION_GENERATED] = { "Vault value", generated_works, NULL, NULL },
	[ROTATION_MANUAL] = { "third-party key", NULL, NULL, NULL },
};

const struct rotation_kind_ops *rotation_ops(enum rotation_kind kind)
{
	return &kind_ops[kind];
}

char *rotation_redis_password(struct rotation *r)
{
	const struct rotation_secret *rp = requirepass_secret(r);
	struct drctl_error e;
	char *value;

	if (!rp || !(value = malloc(ROTATION_VALUE_MAX)))
		return NULL;
	err_clear(&e);
	if (rotation_read_value(r, rp, 0, value, ROTATION_VALUE_MAX, &e) == 1)
		return value;
	rotation_value_free(value);
	return NULL;
}

void rotation_value_free(char *value)
{
	if (value) {
		secure_wipe(value, ROTATION_VALUE_MAX);
		free(value);
	}
}

/* --- preflight ----------------------------------------------------------------- */

static int preflight_vault(struct rotation *r, struct drctl_error *err)
{
	struct vault_client *vc;

	if (rotation_need_vault(r, &vc, err) != 0)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		struct vault_kv_meta m;
		const char *run;
		if (vault_kv_meta_read(vc, s->mount, s->path, &m, err) != 0)
			return -1;
		run = json_string_value(json_object_get(m.custom_metadata, ROTATION_MARK_RUN));
		if (run && strcmp(run, r->j.run_id) != 0) {
			err_set(err, EXIT_LOCKED, s->vault, NULL,
				"%s has a pending version left by run %s, which did not finish; nothing was changed", s->vault, run);
			err_hint(err, "finish that run with `drctl scenario resume %s`, or settle it with `drctl scenario abort %s`",
				 run, run);
			vault_kv_meta_free(&m);
			return -1;
		}
		vault_kv_meta_free(&m);
	}
	return 0;
}

static int preflight_pg(struct rotation *r, struct drctl_error *err)
{
	PGconn *c;
	const char *self;

	if (rotation_need_pg(r, &c, err) != 0)
		return -1;
	self = PQuser(c);
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		const char *params[1] = { s->name };
		PGresult *res;
		int found;
		if (s->kind != ROTATION_POSTGRES)
			continue;
		if (self && !strcmp(self, s->name))
			return err_set(err, EXIT_USAGE, "[rotation] postgres_roles",
				       "connect drctl as a role of its own ([postgres] conninfo) with CREATEROLE, or leave this role out",
				       "PostgreSQL role %s is the one drctl connects as: rotating it would lock drctl out", s->name);
		if (!(res = pg_query(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, params, s->name, err)))
			return -1;
		found = PQntuples(res) == 1;
		PQclear(res);
		if (!found)
			return err_set(err, EXIT_NOT_FOUND, s->name, "fix [rotation] postgres_roles",
				       "PostgreSQL has no role %s", s->name);
	}
	return 0;
}

static int preflight_redis(struct rotation *r, struct drctl_error *err)
{
	struct redis_conn *c;
	struct redis_url u;
	int rc = 0;

	if (rotation_need_redis(r, &c, err) != 0)
		return -1;
	if (redis_url_parse(config_get(r->cfg, "redis", "url"), &u, err) != 0)
		return -1;
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		json_t *hashes = NULL;
		int nopass = 0;
		if (s->kind != ROTATION_REDIS_USER)
			continue;
		if (!strcmp(u.user[0] ? u.user : "default", s->name))
			rc = err_set(err, EXIT_USAGE, "[rotation] redis_users",
				     "connect drctl as a user of its own ([redis] url) with +acl +client +config, or leave this user out",
				     "Redis user %s is the one drctl connects as: rotating it would lock drctl out", s->name);
		else
			rc = redis_acl_passwords(c, s->name, &hashes, &nopass, err);
		json_decref(hashes);
	}
	redis_url_wipe(&u);
	return rc;
}

int rotation_preflight(struct rotation *r, struct drctl_error *err)
{
	int pg = 0, redis = 0;

	for (size_t i = 0; i < r->n; i++) {
		pg |= r->secrets[i].kind == ROTATION_POSTGRES;
		redis |= r->secrets[i].kind == ROTATION_REDIS_USER || r->secrets[i].kind == ROTATION_REDIS_REQUIREPASS;
	}
	if (r->n && preflight_vault(r, err) != 0)
		return -1;
	if (pg && preflight_pg(r, err) != 0)
		return -1;
	if (redis && preflight_redis(r, err) != 0)
		return -1;
	rotation_note(r, "%zu secret(s) to rotate, %zu third-party key(s) for a person; every server reachable",
		      rotation_owned_count(r), rotation_manual_count(r));
	return 0;
}
