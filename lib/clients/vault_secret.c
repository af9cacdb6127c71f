/*
 * vault_secret: one KV version 2 secret at a time, and the token store's
 * accessors, for the secret rotation.
 *
 * KV v2 (https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2):
 * GET <mount>/data/<path>[?version=N] reads a version, POST with
 * {"options":{"cas":N},"data":{...}} writes a new one only when N is still
 * the current version, GET/POST <mount>/metadata/<path> reads the version
 * list and sets custom_metadata (a POST changes only the fields it names).
 * Values are secrets: the JSON they arrive in is wiped when freed, and no
 * message names anything but the mount, the path and the field.
 *
 * Token accessors (https://developer.hashicorp.com/vault/api-docs/auth/token):
 * LIST auth/token/accessors (sent as GET ?list=true, as Vault's Go client
 * does), POST auth/token/lookup-accessor and revoke-accessor with
 * {"accessor": ...}.  An accessor Vault does not know is 400 "invalid
 * accessor": for revoke-accessor that means the token is gone already.
 */
#include "lib/clients/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/vault_private.h"

#define KV_API_MAX 4096

int vault_kv_split(const char *full, char *mount, size_t mount_cap, char *path, size_t path_cap,
		   struct drctl_error *err)
{
	const char *slash = full ? strchr(full, '/') : NULL;
	size_t n = slash ? (size_t)(slash - full) : 0;

	if (!slash || n == 0 || !slash[1] || slash[strlen(slash) - 1] == '/' || n >= mount_cap ||
	    strlen(slash + 1) >= path_cap)
		return err_set(err, EXIT_USAGE, full ? full : "", "write it as MOUNT/PATH, e.g. secret/agents/webhook",
			       "\"%s\" is not a KV v2 secret path (its mount, then the path of the secret)", full ? full : "");
	memcpy(mount, full, n);
	mount[n] = '\0';
	snprintf(path, path_cap, "%s", slash + 1);
	return 0;
}

static int api(const char *mount, const char *kind, const char *path, const char *suffix, char *out,
	       struct drctl_error *err)
{
	if (vault_kv_api_path(mount, kind, path, suffix, out, KV_API_MAX) != 0)
		return err_set(err, EXIT_USAGE, path, NULL, "KV path %s/%s is too long", mount, path);
	return 0;
}

int vault_kv_meta_read(struct vault_client *vc, const char *mount, const char *path, struct vault_kv_meta *m,
		       struct drctl_error *err)
{
	char p[KV_API_MAX];
	json_t *resp = NULL, *d, *cm;
	long status = 0;

	m->current_version = 0;
	m->custom_metadata = NULL;
	if (api(mount, "metadata", path, "", p, err) != 0 ||
	    vault_json(vc, "GET", p, NULL, VAULT_CALL_OK_404, &status, &resp, err) != 0) {
		err_prefix(err, "metadata of %s/%s", mount, path);
		return -1;
	}
	d = json_object_get(resp, "data");
	if (status != 404)
		m->current_version = (long)json_integer_value(json_object_get(d, "current_version"));
	cm = json_object_get(d, "custom_metadata");
	m->custom_metadata = json_is_object(cm) ? json_deep_copy(cm) : json_object();
	json_decref(resp);
	return 0;
}

void vault_kv_meta_free(struct vault_kv_meta *m)
{
	json_decref(m->custom_metadata);
	m->custom_metadata = NULL;
}

int vault_kv_meta_write_custom(struct vault_client *vc, const char *mount, const char *path, json_t *custom,
			       struct drctl_error *err)
{
	char p[KV_API_MAX];
	json_t *body;
	int rc;

	if (api(mount, "metadata", path, "", p, err) != 0)
		return -1;
	body = json_pack("{s:O}", "custom_metadata", custom);
	/* The same custom metadata again is harmless: the HTTP layer's retries
	 * are fine here. */
	rc = vault_json(vc, "POST", p, body, 0, NULL, NULL, err);
	json_decref(body);
	if (rc != 0)
		err_prefix(err, "custom metadata of %s/%s", mount, path);
	return rc;
}

int vault_kv_get(struct vault_client *vc, const char *mount, const char *path, long version, json_t **data,
		 long *version_read, struct drctl_error *err)
{
	char p[KV_API_MAX], suffix[40] = "";
	json_t *resp = NULL, *d, *fields;
	long status = 0;
	int rc = -1;

	*data = NULL;
	if (version > 0)
		snprintf(suffix, sizeof(suffix), "?version=%ld", version);
	if (api(mount, "data", path, suffix, p, err) != 0)
		return -1;
	if (vault_json(vc, "GET", p, NULL, VAULT_CALL_OK_404, &status, &resp, err) != 0) {
		err_prefix(err, "read of %s/%s", mount, path);
		return -1;
	}
	d = json_object_get(resp, "data");
	fields = json_object_get(d, "data");
	if (status == 404 || !json_is_object(fields)) { /* missing, deleted or destroyed */
		rc = 0;
		goto done;
	}
	if (version_read)
		*version_read = (long)json_integer_value(json_object_get(json_object_get(d, "metadata"), "version"));
	/* A copy: the response is wiped whole when it is freed below. */
	*data = json_deep_copy(fields);
	rc = *data ? 1 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
done:
	vault_json_wipe_free(resp);
	return rc;
}

void vault_kv_secret_free(json_t *data)
{
	vault_json_wipe_free(data);
}

int vault_kv_put_cas(struct vault_client *vc, const char *mount, const char *path, json_t *data, long cas,
		     long *version, struct drctl_error *err)
{
	char p[KV_API_MAX];
	json_t *body, *resp = NULL;
	struct drctl_error e;
	long status = 0;
	int rc;

	if (api(mount, "data", path, "", p, err) != 0)
		return -1;
	body = json_pack("{s:{s:I}, s:O}", "options", "cas", (json_int_t)cas, "data", data);
	err_clear(&e);
	/* A retry of a write that had landed fails the check-and-set: the
	 * caller then reads the metadata, which says what is there. */
	rc = vault_json(vc, "POST", p, body, 0, &status, &resp, &e);
	json_object_del(body, "data"); /* the caller's, wiped with it */
	json_decref(body);
	if (rc != 0) {
		json_decref(resp);
		if (status == 400 && strstr(e.message, "check-and-set"))
			return 1;
		*err = e;
		err_prefix(err, "write of %s/%s", mount, path);
		return -1;
	}
	if (version)
		*version = (long)json_integer_value(json_object_get(json_object_get(resp, "data"), "version"));
	json_decref(resp);
	return 0;
}

int vault_kv_delete_current(struct vault_client *vc, const char *mount, const char *path, struct drctl_error *err)
{
	char p[KV_API_MAX];

	if (api(mount, "data", path, "", p, err) != 0)
		return -1;
	if (vault_json(vc, "DELETE", p, NULL, 0, NULL, NULL, err) != 0) {
		err_prefix(err, "delete of the current version of %s/%s", mount, path);
		return -1;
	}
	return 0;
}

/* --- token accessors -------------------------------------------------------- */

int vault_token_accessors(struct vault_client *vc, json_t **accessors, struct drctl_error *err)
{
	json_t *resp = NULL, *keys;
	long status = 0;

	*accessors = NULL;
	if (vault_json(vc, "GET", "auth/token/accessors?list=true", NULL, VAULT_CALL_OK_404, &status, &resp, err) != 0)
		return -1;
	keys = json_object_get(json_object_get(resp, "data"), "keys");
	*accessors = status != 404 && json_is_array(keys) ? json_incref(keys) : json_array();
	json_decref(resp);
	return 0;
}

/* POST auth/token/<op> {"accessor": a}: 0 with *resp, 1 for "invalid
 * accessor" (Vault knows no such token), -1. */
static int accessor_call(struct vault_client *vc, const char *op, const char *accessor, json_t **resp,
			 struct drctl_error *err)
{
	char p[64];
	json_t *body = json_pack("{s:s}", "accessor", accessor);
	struct drctl_error e;
	long status = 0;
	int rc;

	snprintf(p, sizeof(p), "auth/token/%s", op);
	err_clear(&e);
	rc = vault_json(vc, "POST", p, body, 0, &status, resp, &e);
	json_decref(body);
	if (rc == 0)
		return 0;
	if (status == 400 && strstr(e.message, "invalid accessor"))
		return 1;
	*err = e;
	return -1;
}

int vault_token_lookup_accessor(struct vault_client *vc, const char *accessor, json_t **info, struct drctl_error *err)
{
	json_t *resp = NULL;
	int rc = accessor_call(vc, "lookup-accessor", accessor, &resp, err);

	*info = NULL;
	if (rc == 0) {
		*info = json_deep_copy(json_object_get(resp, "data"));
		if (!json_is_object(*info)) {
			json_decref(*info);
			*info = json_object();
		}
		/* Vault blanks it for an accessor lookup; never keep a token value. */
		json_object_del(*info, "id");
	}
	json_decref(resp);
	return rc;
}

int vault_token_revoke_accessor(struct vault_client *vc, const char *accessor, struct drctl_error *err)
{
	json_t *resp = NULL;
	int rc = accessor_call(vc, "revoke-accessor", accessor, &resp, err);
	json_decref(resp);
	return rc;
}

int vault_token_self_accessor(struct vault_client *vc, char *out, size_t cap, struct drctl_error *err)
{
	json_t *resp = NULL;
	const char *a;

	out[0] = '\0';
	if (vault_json(vc, "GET", "auth/token/lookup-self", NULL, 0, NULL, &resp, err) != 0)
		return -1;
	a = json_string_value(json_object_get(json_object_get(resp, "data"), "accessor"));
	snprintf(out, cap, "%s", a ? a : "");
	vault_json_wipe_free(resp); /* data.id is the token itself */
	return 0;
}
