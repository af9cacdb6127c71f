/*
 * plan: [rotation] read into the list of secrets, and what the steps say
 * they will do (plans, failure descriptions, the gate's text).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "rotation/rotation_private.h"

#define ROTATION_MAX_SECRETS 256

const char *rotation_kind_name(enum rotation_kind kind)
{
	switch (kind) {
	case ROTATION_POSTGRES: return "postgres";
	case ROTATION_REDIS_USER:
	case ROTATION_REDIS_REQUIREPASS: return "redis";
	case ROTATION_GENERATED: return "kv";
	case ROTATION_MANUAL: return "manual";
	}
	return "?";
}

/* "secret/platform/postgres/{role}" with {role} (or {user}) replaced. */
static int expand_path(const char *pattern, const char *placeholder, const char *value, char *out, size_t cap)
{
	const char *at = strstr(pattern, placeholder);
	int n;

	if (!at)
		n = snprintf(out, cap, "%s", pattern);
	else
		n = snprintf(out, cap, "%.*s%s%s", (int)(at - pattern), pattern, value, at + strlen(placeholder));
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static struct rotation_secret *add_secret(struct rotation *r, enum rotation_kind kind, const char *name,
					  const char *vault, const char *field, const char *key_name,
					  struct drctl_error *err)
{
	struct rotation_secret *s;

	if (r->n >= ROTATION_MAX_SECRETS) {
		err_set(err, EXIT_USAGE, "[rotation]", NULL, "more than %d secrets in [rotation]", ROTATION_MAX_SECRETS);
		return NULL;
	}
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->secrets[i].vault, vault)) {
			/* One marker per secret: two rotations of one secret would
			 * take each other's pending version for their own. */
			err_set(err, EXIT_USAGE, vault, "keep one rotated field per Vault secret (move the other field to a secret of its own)",
				"Vault secret %s is named twice in [rotation] (for %s and %s)", vault, r->secrets[i].name, name);
			return NULL;
		}
	s = &r->secrets[r->n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->vault, sizeof(s->vault), "%s", vault);
	snprintf(s->field, sizeof(s->field), "%s", field);
	snprintf(s->key, sizeof(s->key), "rotation.%s.%s", rotation_kind_name(kind), key_name);
	if (vault_kv_split(vault, s->mount, sizeof(s->mount), s->path, sizeof(s->path), err) != 0)
		return NULL;
	r->n++;
	return s;
}

static int load_servers(struct rotation *r, const char *section_key, const char *placeholder, enum rotation_kind kind,
			const char *path_key, const char *field_key, const struct random_secret_generator *gen,
			struct drctl_error *err)
{
	const char *items[ROTATION_MAX_SECRETS];
	size_t n = config_get_list(r->cfg, "rotation", section_key, items, ROTATION_MAX_SECRETS);
	const char *pattern = config_get(r->cfg, "rotation", path_key), *field = config_get(r->cfg, "rotation", field_key);
	char vault[512], what[64];

	snprintf(what, sizeof(what), "[rotation] %s", path_key);
	for (size_t i = 0; i < n && i < ROTATION_MAX_SECRETS; i++) {
		struct rotation_secret *s;
		if (expand_path(pattern, placeholder, items[i], vault, sizeof(vault)) != 0)
			return err_set(err, EXIT_USAGE, what, NULL, "%s is too long for %s", what, items[i]);
		if (!strstr(pattern, placeholder) && n > 1)
			return err_set(err, EXIT_USAGE, what, "put the placeholder into the path, e.g. secret/platform/postgres/{role}",
				       "%s has no %s: every one of the %zu entries would share one secret", what, placeholder, n);
		if (!(s = add_secret(r, kind, items[i], vault, field, items[i], err)))
			return -1;
		s->gen = *gen;
	}
	return 0;
}

/* "PATH:FIELD:THIRD" entries of [rotation] generated / manual. */
static int load_kv_entries(struct rotation *r, const char *key, enum rotation_kind kind, struct drctl_error *err)
{
	const char *items[ROTATION_MAX_SECRETS];
	size_t n = config_get_list(r->cfg, "rotation", key, items, ROTATION_MAX_SECRETS);
	char what[64];

	snprintf(what, sizeof(what), "[rotation] %s", key);
	for (size_t i = 0; i < n && i < ROTATION_MAX_SECRETS; i++) {
		const char *c1 = strchr(items[i], ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char vault[512], field[128], name[700];
		struct rotation_secret *s;
		if (!c1 || !c2 || c1 == items[i] || c2 == c1 + 1 || !c2[1] || (size_t)(c1 - items[i]) >= sizeof(vault) ||
		    (size_t)(c2 - c1 - 1) >= sizeof(field))
			return err_set(err, EXIT_USAGE, what,
				       kind == ROTATION_MANUAL ? "write PATH:FIELD:WHERE, e.g. secret/agents/anthropic:api_key:Anthropic console"
							       : "write PATH:FIELD:GENERATOR, e.g. secret/agents/webhook:secret:hex64",
				       "%s: \"%s\" is not PATH:FIELD:%s", what, items[i], kind == ROTATION_MANUAL ? "WHERE" : "GENERATOR");
		snprintf(vault, sizeof(vault), "%.*s", (int)(c1 - items[i]), items[i]);
		snprintf(field, sizeof(field), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
		snprintf(name, sizeof(name), "%s:%s", vault, field);
		if (!(s = add_secret(r, kind, name, vault, field, name, err)))
			return -1;
		if (kind == ROTATION_MANUAL)
			snprintf(s->who, sizeof(s->who), "%s", c2 + 1);
		else if (random_secret_parse(c2 + 1, what, &s->gen, err) != 0)
			return -1;
	}
	return 0;
}

int rotation_open(struct rotation **out, const struct config *cfg, const struct rotation_journal *j,
		  struct drctl_error *err)
{
	struct rotation *r = calloc(1, sizeof(*r));
	struct random_secret_generator gen;

	*out = NULL;
	if (!r || !(r->secrets = calloc(ROTATION_MAX_SECRETS, sizeof(*r->secrets)))) {
		free(r);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	r->cfg = cfg;
	r->j = *j;
	r->revoke_file = config_get_path(cfg, "rotation", "revoke_token_accessors_file");
	r->redis_persist = config_get(cfg, "rotation", "redis_persist");
	if (random_secret_parse(config_get(cfg, "rotation", "password_generator"), "[rotation] password_generator", &gen,
				err) != 0 ||
	    load_servers(r, "postgres_roles", "{role}", ROTATION_POSTGRES, "postgres_vault_path", "postgres_vault_field",
			 &gen, err) != 0 ||
	    load_servers(r, "redis_users", "{user}", ROTATION_REDIS_USER, "redis_vault_path", "redis_vault_field", &gen,
			 err) != 0)
		goto fail;
	if (config_get_bool(cfg, "rotation", "redis_requirepass")) {
		char vault[512];
		struct rotation_secret *s;
		expand_path(config_get(cfg, "rotation", "redis_vault_path"), "{user}", "default", vault, sizeof(vault));
		if (!(s = add_secret(r, ROTATION_REDIS_REQUIREPASS, "default", vault,
				     config_get(cfg, "rotation", "redis_vault_field"), "default", err)))
			goto fail;
		s->gen = gen;
	}
	if (load_kv_entries(r, "generated", ROTATION_GENERATED, err) != 0 ||
	    load_kv_entries(r, "manual", ROTATION_MANUAL, err) != 0)
		goto fail;
	*out = r;
	return 0;
fail:
	rotation_close(r);
	return -1;
}

void rotation_close(struct rotation *r)
{
	if (!r)
		return;
	vault_client_close(r->vault);
	PQfinish(r->pg);
	redis_conn_close(r->redis);
	free(r->secrets);
	free(r);
}

size_t rotation_owned_count(const struct rotation *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->secrets[i].kind != ROTATION_MANUAL;
	return n;
}

size_t rotation_manual_count(const struct rotation *r)
{
	return r->n - rotation_owned_count(r);
}

void rotation_note(struct rotation *r, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (r->j.note)
		r->j.note(r->j.ctx, text);
	else
		log_info("%s", text);
}

const char *rotation_state(struct rotation *r, const struct rotation_secret *s)
{
	return json_string_value(json_object_get(r->j.fact(r->j.ctx, s->key), "state"));
}

static long fact_version(struct rotation *r, const struct rotation_secret *s, const char *field)
{
	return (long)json_integer_value(json_object_get(r->j.fact(r->j.ctx, s->key), field));
}

int rotation_set_state(struct rotation *r, const struct rotation_secret *s, const char *state, long old_version,
		       long pending_version, struct drctl_error *err)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "kind", rotation_kind_name(s->kind), "name", s->name,
			      "vault", s->vault, "field", s->field, "state", state, "old_version", (json_int_t)old_version,
			      "pending_version", (json_int_t)pending_version);
	if (!strcmp(state, "done"))
		json_object_set_new(f, "vault_version", json_integer(pending_version));
	return r->j.set_fact(r->j.ctx, s->key, f, err);
}

/* --- what the steps will do ------------------------------------------------ */

static void version_now(struct rotation *r, const struct rotation_secret *s, char *out, size_t cap)
{
	struct vault_client *vc;
	struct vault_kv_meta m;
	struct drctl_error e;

	err_clear(&e);
	if (rotation_need_vault(r, &vc, &e) != 0 || vault_kv_meta_read(vc, s->mount, s->path, &m, &e) != 0) {
		snprintf(out, cap, "version unknown: %.400s", e.message);
		return;
	}
	if (m.current_version == 0)
		snprintf(out, cap, "not in Vault yet: created");
	else
		snprintf(out, cap, "now at version %ld", m.current_version);
	vault_kv_meta_free(&m);
}

void rotation_plan_rotate(struct rotation *r, json_t *touches)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		char gen[32], now[600];
		if (s->kind == ROTATION_MANUAL)
			continue;
		random_secret_format(&s->gen, gen, sizeof(gen));
		version_now(r, s, now, sizeof(now));
		switch (s->kind) {
		case ROTATION_POSTGRES:
			json_array_append_new(touches, json_sprintf("PostgreSQL role %s: a new password (%s) written first into %s "
								    "field %s (%s) with check-and-set, then ALTER ROLE with a "
								    "SCRAM-SHA-256 verifier, proven by a login as %s",
								    s->name, gen, s->vault, s->field, now, s->name));
			break;
		case ROTATION_REDIS_USER:
			json_array_append_new(touches, json_sprintf("Redis user %s: a new password (%s) written first into %s field %s "
								    "(%s), added with ACL SETUSER #<sha256> while the old one "
								    "still works, proven by AUTH, then the old one removed",
								    s->name, gen, s->vault, s->field, now));
			break;
		case ROTATION_REDIS_REQUIREPASS:
			json_array_append_new(touches, json_sprintf("Redis requirepass: a new password (%s) written first into %s field "
								    "%s (%s), then CONFIG SET requirepass, proven by AUTH",
								    gen, s->vault, s->field, now));
			break;
		default:
			json_array_append_new(touches, json_sprintf("Vault %s field %s: a new value (%s) as a new version (%s), the "
								    "other fields kept",
								    s->vault, s->field, gen, now));
		}
	}
	if (rotation_owned_count(r) == 0)
		json_array_append_new(touches, json_string("nothing: [rotation] names no PostgreSQL role, Redis user or generated value"));
}

void rotation_plan_revoke(struct rotation *r, json_t *touches)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		if (s->kind == ROTATION_POSTGRES)
			json_array_append_new(touches, json_sprintf("terminates every PostgreSQL session of role %s", s->name));
		else if (s->kind == ROTATION_REDIS_USER)
			json_array_append_new(touches, json_sprintf("kills every Redis client of user %s (CLIENT KILL USER)", s->name));
		else if (s->kind == ROTATION_REDIS_REQUIREPASS)
			json_array_append_new(touches, json_string("kills every Redis client of the default user (CLIENT KILL USER default)"));
	}
	if (r->revoke_file)
		json_array_append_new(touches, json_sprintf("revokes the Vault tokens whose accessors %s lists", r->revoke_file));
	else
		json_array_append_new(touches, json_string("no Vault token to revoke ([rotation] revoke_token_accessors_file is not set)"));
}

void rotation_plan_evidence(struct rotation *r, json_t *touches)
{
	json_array_append_new(touches, json_sprintf("writes incidents/%s/bundle.tar.zst.age (encrypted) and its signed manifest "
						    "into the repository",
						    r->j.run_id));
	json_array_append_new(touches, json_string("reads pg_stat_activity, Redis CLIENT LIST, Vault token accessors "
						   "(LIST auth/token/accessors, lookup-accessor) and the run's journal"));
}

void rotation_describe(struct rotation *r, json_t *lines)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		const char *st = rotation_state(r, s);
		long p = fact_version(r, s, "pending_version");
		if (s->kind == ROTATION_MANUAL || !st)
			continue;
		if (!strcmp(st, "done"))
			json_array_append_new(lines, json_sprintf("%s: rotated (version %ld of %s)", s->name, p, s->vault));
		else if (!strcmp(st, "marking") || !strcmp(st, "writing"))
			json_array_append_new(lines, json_sprintf("%s: nothing applied; %s may hold a pending version %ld, not in "
								  "use: the old value (version %ld) still works",
								  s->name, s->vault, p, p - 1));
		else if (!strcmp(st, "applying") || !strcmp(st, "proving"))
			json_array_append_new(lines, json_sprintf("%s: the new value (version %ld of %s, pending) may or may not be "
								  "in use: resume tries it and applies it if needed",
								  s->name, p, s->vault));
		else
			json_array_append_new(lines, json_sprintf("%s: the new value (version %ld of %s) works; %s", s->name, p,
								  s->vault, !strcmp(st, "retiring") ? "the old one may still work too" : "its pending marker is being removed"));
	}
	json_array_append_new(lines, json_sprintf("every pending value is readable in Vault; `drctl scenario resume %s` finishes, "
						  "`drctl scenario abort %s` settles each secret on the value that works",
						  r->j.run_id, r->j.run_id));
}
