/*
 * revoke: after the rotation, what was opened with the old credentials
 * stops working.  PostgreSQL keeps a session that logged in with a password
 * changed since, Redis keeps a client that authenticated with a password
 * removed since, and a stolen Vault token works until it expires: so the
 * sessions of the rotated roles are terminated, the clients of the rotated
 * users killed, and the tokens listed in [rotation]
 * revoke_token_accessors_file revoked.  Each action is idempotent (a
 * revoked accessor is "invalid accessor" to Vault), so the step is simply
 * done again after an interruption.  drctl's own session, connection and
 * token are never touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/pg.h"
#include "lib/core/keyfile.h"
#include "rotation/rotation_private.h"

#define ACCESSORS_FILE_MAX (1u << 20)

static int end_sessions(struct rotation *r, struct drctl_error *err)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		PGconn *pg;
		struct redis_conn *rc;
		int terminated = 0;
		long long killed = 0;
		if (s->kind == ROTATION_POSTGRES) {
			if (rotation_need_pg(r, &pg, err) != 0 || pg_role_terminate_sessions(pg, s->name, &terminated, err) != 0)
				return -1;
			rotation_note(r, "PostgreSQL role %s: %d session(s) terminated", s->name, terminated);
		} else if (s->kind == ROTATION_REDIS_USER || s->kind == ROTATION_REDIS_REQUIREPASS) {
			if (rotation_need_redis(r, &rc, err) != 0 || redis_clients_kill_user(rc, s->name, &killed, err) != 0)
				return -1;
			rotation_note(r, "Redis user %s: %lld client(s) killed", s->name, killed);
		}
	}
	return 0;
}

/* An accessor for messages: enough to find it, not the whole of it. */
static void shown(const char *accessor, char *out, size_t cap)
{
	snprintf(out, cap, "%.6s...", accessor);
}

static int revoke_tokens(struct rotation *r, struct drctl_error *err)
{
	struct vault_client *vc;
	char *text = NULL, self[256], *line, *save = NULL;
	size_t len = 0;
	int revoked = 0, gone = 0, rc = -1;

	if (!r->revoke_file)
		return 0;
	if (keyfile_read(r->revoke_file, "token accessors file", 0, ACCESSORS_FILE_MAX, &text, &len, err) != 0) {
		err_hint(err, "fix [rotation] revoke_token_accessors_file (one accessor a line)");
		return -1;
	}
	if (rotation_need_vault(r, &vc, err) != 0 || vault_token_self_accessor(vc, self, sizeof(self), err) != 0)
		goto done;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char a[256], display[16];
		json_t *info = NULL;
		int got;
		if (sscanf(line, " %255s", a) != 1 || a[0] == '#')
			continue;
		shown(a, display, sizeof(display));
		if (!strcmp(a, self)) {
			rotation_note(r, "Vault token %s is drctl's own: not revoked", display);
			continue;
		}
		if ((got = vault_token_lookup_accessor(vc, a, &info, err)) < 0)
			goto done;
		if (got == 0 && vault_token_revoke_accessor(vc, a, err) < 0) {
			json_decref(info);
			goto done;
		}
		if (got == 0) {
			revoked++;
			rotation_note(r, "Vault token %s (%s) revoked", display,
				      json_string_value(json_object_get(info, "display_name")) ?: "no display name");
		} else {
			gone++;
		}
		json_decref(info);
	}
	rotation_note(r, "Vault: %d token(s) revoked, %d listed ones already gone (%s)", revoked, gone, r->revoke_file);
	rc = 0;
done:
	keyfile_free(text, len);
	return rc;
}

int rotation_revoke_old(struct rotation *r, struct drctl_error *err)
{
	if (end_sessions(r, err) != 0 || revoke_tokens(r, err) != 0)
		return -1;
	return 0;
}
