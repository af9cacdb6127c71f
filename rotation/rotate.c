/*
 * rotate: the state machine of one owned secret (rotation.h), its abort,
 * and the third-party keys a person rotates.
 *
 * Vault is the only place a new value is kept, so it is written there
 * before any server hears of it, and every state after that reads it back
 * from Vault.  Where the secret stands is read from Vault on every round
 * (the marker in custom_metadata and the current version), the journal only
 * telling which of this run's states came last; a round ends with one
 * action, and the next round looks again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "rotation/rotation_private.h"

struct mark {
	int present;
	long pending;
	char run[128];
};

static void mark_read(json_t *custom, struct mark *m)
{
	const char *v = json_string_value(json_object_get(custom, ROTATION_MARK_VERSION));
	const char *run = json_string_value(json_object_get(custom, ROTATION_MARK_RUN));

	memset(m, 0, sizeof(*m));
	if (!v)
		return;
	m->present = 1;
	m->pending = strtol(v, NULL, 10);
	snprintf(m->run, sizeof(m->run), "%s", run ? run : "?");
}

static int mark_write(struct rotation *r, const struct rotation_secret *s, json_t *custom, long pending,
		      struct drctl_error *err)
{
	json_t *c = json_deep_copy(custom);
	char since[32];
	int rc;

	format_utc(now_seconds(), since);
	json_object_set_new(c, ROTATION_MARK_VERSION, json_sprintf("%ld", pending));
	json_object_set_new(c, ROTATION_MARK_RUN, json_string(r->j.run_id));
	json_object_set_new(c, ROTATION_MARK_SINCE, json_string(since));
	rc = vault_kv_meta_write_custom(r->vault, s->mount, s->path, c, err);
	json_decref(c);
	return rc;
}

static int mark_clear(struct rotation *r, const struct rotation_secret *s, json_t *custom, struct drctl_error *err)
{
	json_t *c = json_deep_copy(custom);
	int rc;

	json_object_del(c, ROTATION_MARK_VERSION);
	json_object_del(c, ROTATION_MARK_RUN);
	json_object_del(c, ROTATION_MARK_SINCE);
	rc = vault_kv_meta_write_custom(r->vault, s->mount, s->path, c, err);
	json_decref(c);
	return rc;
}

int rotation_read_value(struct rotation *r, const struct rotation_secret *s, long version, char *out, size_t cap,
			struct drctl_error *err)
{
	struct vault_client *vc;
	json_t *data = NULL, *v;
	int rc;

	out[0] = '\0';
	if (rotation_need_vault(r, &vc, err) != 0)
		return -1;
	rc = vault_kv_get(vc, s->mount, s->path, version, &data, NULL, err);
	if (rc == 1) {
		v = json_object_get(data, s->field);
		if (json_is_string(v) && json_string_length(v) < cap)
			memcpy(out, json_string_value(v), json_string_length(v) + 1);
		else
			rc = 0;
	}
	vault_kv_secret_free(data);
	return rc;
}

/* The fields of version `version` (0 or missing: none), for a new version
 * that keeps them. */
static int fields_of(struct rotation *r, const struct rotation_secret *s, long version, json_t **fields,
		     struct drctl_error *err)
{
	int rc = version > 0 ? vault_kv_get(r->vault, s->mount, s->path, version, fields, NULL, err) : 0;
	if (rc < 0)
		return -1;
	if (rc == 0)
		*fields = json_object();
	return 0;
}

/* Version `pending`: a new value in s->field, the other fields of version
 * pending - 1 kept.  0 written (or someone else wrote: the next round
 * looks), -1. */
static int write_new(struct rotation *r, const struct rotation_secret *s, long pending, struct drctl_error *err)
{
	char value[ROTATION_VALUE_MAX];
	json_t *fields = NULL;
	long version = 0;
	int rc = -1;

	if (fields_of(r, s, pending - 1, &fields, err) != 0)
		return -1;
	if (random_secret_generate(&s->gen, value, sizeof(value), err) != 0)
		goto done;
	json_object_set_new(fields, s->field, json_string(value));
	secure_wipe(value, sizeof(value));
	rc = vault_kv_put_cas(r->vault, s->mount, s->path, fields, pending - 1, &version, err);
	if (rc == 1) {
		log_warn("%s: %s changed while it was being written; looking again", s->name, s->vault);
		rc = 0;
	}
done:
	vault_kv_secret_free(fields);
	return rc;
}

/* Version `pending` holds the new value: make the server take it (unless
 * it does already), prove it, retire the old one, remove the marker. */
static int finish(struct rotation *r, const struct rotation_secret *s, json_t *custom, long pending,
		  struct drctl_error *err)
{
	const struct rotation_kind_ops *ops = rotation_ops(s->kind);
	const char *before = rotation_state(r, s);
	char value[ROTATION_VALUE_MAX];
	int works, rc = -1;

	if (rotation_read_value(r, s, pending, value, sizeof(value), err) != 1) {
		if (!err_is_set(err))
			err_set(err, EXIT_FAILED, s->vault, "check the secret's versions (vault kv metadata get), then resume or abort",
				"version %ld of %s has no field %s, though it is the pending version of this run", pending,
				s->vault, s->field);
		return -1;
	}
	if ((works = ops->works(r, s, value, err)) < 0)
		goto done;
	if (!works) {
		if (rotation_set_state(r, s, "applying", pending - 1, pending, err) != 0 || ops->apply(r, s, value, err) != 0 ||
		    rotation_set_state(r, s, "proving", pending - 1, pending, err) != 0)
			goto done;
		if ((works = ops->works(r, s, value, err)) < 0)
			goto done;
		if (!works) {
			err_set(err, EXIT_FAILED, s->name, "check how the server authenticates it (pg_hba.conf, ACL rules), then resume",
				"%s %s was given the new value (version %ld of %s, readable there) but a login with it is refused",
				ops->label, s->name, pending, s->vault);
			goto done;
		}
		rotation_note(r, "%s %s: the new value (version %ld) is applied and proven by a login", ops->label, s->name, pending);
	} else if (before && (!strcmp(before, "applying") || !strcmp(before, "proving"))) {
		rotation_note(r, "%s %s: the pending value (version %ld) was applied before the interruption; a login proves it",
			      ops->label, s->name, pending);
	}
	if (ops->retire &&
	    (rotation_set_state(r, s, "retiring", pending - 1, pending, err) != 0 || ops->retire(r, s, value, err) != 0))
		goto done;
	if (rotation_set_state(r, s, "clearing", pending - 1, pending, err) != 0 || mark_clear(r, s, custom, err) != 0 ||
	    rotation_set_state(r, s, "done", pending - 1, pending, err) != 0)
		goto done;
	rotation_note(r, "%s %s rotated: version %ld of %s", ops->label, s->name, pending, s->vault);
	rc = 0;
done:
	secure_wipe(value, sizeof(value));
	if (rc != 0)
		err_prefix(err, "rotation of %s", s->name);
	return rc;
}

static int foreign_mark(const struct rotation_secret *s, const struct mark *m, struct drctl_error *err)
{
	err_set(err, EXIT_LOCKED, s->vault, NULL,
		"%s has a pending version %ld left by run %s, which did not finish; nothing of %s was changed", s->vault,
		m->pending, m->run, s->name);
	err_hint(err, "finish that run with `drctl scenario resume %s`, or settle it with `drctl scenario abort %s`", m->run,
		 m->run);
	return -1;
}

static int rotate_one(struct rotation *r, const struct rotation_secret *s, struct drctl_error *err)
{
	struct vault_client *vc;

	if (rotation_need_vault(r, &vc, err) != 0)
		return -1;
	/* Each round does at most one action; a secret needs four at most
	 * (mark, write, finish), more only when someone else writes meanwhile. */
	for (int round = 0; round < 8; round++) {
		struct vault_kv_meta m;
		struct mark mk;
		const char *st = rotation_state(r, s);
		long fp = (long)json_integer_value(json_object_get(r->j.fact(r->j.ctx, s->key), "pending_version"));
		int rc = 0;

		if (vault_kv_meta_read(vc, s->mount, s->path, &m, err) != 0)
			return -1;
		mark_read(m.custom_metadata, &mk);
		if (mk.present && strcmp(mk.run, r->j.run_id) != 0) {
			rc = foreign_mark(s, &mk, err);
		} else if (mk.present && m.current_version == mk.pending - 1) {
			rc = rotation_set_state(r, s, "writing", mk.pending - 1, mk.pending, err);
			if (rc == 0)
				rc = write_new(r, s, mk.pending, err);
		} else if (mk.present && m.current_version == mk.pending) {
			rc = finish(r, s, m.custom_metadata, mk.pending, err);
			vault_kv_meta_free(&m);
			return rc;
		} else if (mk.present) {
			rc = err_set(err, EXIT_FAILED, s->vault, "look at the versions (vault kv metadata get), then resume or abort",
				     "%s is at version %ld but this run's pending version is %ld: someone else wrote it during the "
				     "rotation; nothing more was done",
				     s->vault, m.current_version, mk.pending);
		} else if (st && (!strcmp(st, "clearing") || !strcmp(st, "done")) && fp > 0 && m.current_version >= fp) {
			if (strcmp(st, "done") != 0)
				rc = rotation_set_state(r, s, "done", fp - 1, fp, err);
			vault_kv_meta_free(&m);
			return rc;
		} else if (st && strcmp(st, "marking") != 0) {
			rc = err_set(err, EXIT_FAILED, s->vault, "look at the secret's custom metadata and versions, then resume or abort",
				     "the pending marker of %s disappeared while its rotation was at \"%s\" (version %ld): someone "
				     "removed it; nothing more was done",
				     s->vault, st, fp);
		} else {
			long cur = m.current_version;
			rc = rotation_set_state(r, s, "marking", cur, cur + 1, err);
			if (rc == 0)
				rc = mark_write(r, s, m.custom_metadata, cur + 1, err);
		}
		vault_kv_meta_free(&m);
		if (rc != 0)
			return -1;
	}
	return err_set(err, EXIT_FAILED, s->vault, "look at the secret's versions, then resume",
		       "%s kept changing under the rotation; stopped after 8 rounds", s->vault);
}

int rotation_rotate_all(struct rotation *r, struct drctl_error *err)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->secrets[i].kind != ROTATION_MANUAL && rotate_one(r, &r->secrets[i], err) != 0)
			return -1;
	return 0;
}

int rotation_all_done(struct rotation *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const char *st = rotation_state(r, &r->secrets[i]);
		if (r->secrets[i].kind != ROTATION_MANUAL && (!st || strcmp(st, "done") != 0))
			return 0;
	}
	return 1;
}

/* --- abort --------------------------------------------------------------------- */

/* The pending value does not work: make Vault's current version the one
 * that does (version pending - 1, written again), or delete the pending
 * version when there was none before it. */
static int settle_on_old(struct rotation *r, const struct rotation_secret *s, long pending, struct drctl_error *err)
{
	const struct rotation_kind_ops *ops = rotation_ops(s->kind);
	char old[ROTATION_VALUE_MAX];
	json_t *fields = NULL;
	long version = 0;
	int works, rc = -1;

	if (pending == 1) {
		if (vault_kv_delete_current(r->vault, s->mount, s->path, err) != 0)
			return -1;
		rotation_note(r, "abort: %s: version 1 of %s (never applied, and the secret had no value before) deleted",
			      s->name, s->vault);
		return 0;
	}
	if (rotation_read_value(r, s, pending - 1, old, sizeof(old), err) < 0)
		return -1;
	works = old[0] ? ops->works(r, s, old, err) : 0;
	secure_wipe(old, sizeof(old));
	if (works < 0)
		return -1;
	if (!works)
		return err_set(err, EXIT_FAILED, s->name, "find out which value the server accepts, write it into Vault, then abort again",
			       "abort: neither the pending value (version %ld of %s) nor the one before it logs in as %s %s; "
			       "nothing was changed and the run is not aborted",
			       pending, s->vault, ops->label, s->name);
	if (fields_of(r, s, pending - 1, &fields, err) != 0)
		return -1;
	rc = vault_kv_put_cas(r->vault, s->mount, s->path, fields, pending, &version, err);
	vault_kv_secret_free(fields);
	if (rc == 1)
		return err_set(err, EXIT_FAILED, s->vault, "look at the versions, then abort again",
			       "abort: %s changed while the old value was being written back", s->vault);
	if (rc != 0)
		return -1;
	rotation_note(r, "abort: %s: the pending value (version %ld) was never applied; the old value, still in use, is "
			 "written back as version %ld",
		      s->name, pending, version);
	return 0;
}

static int abort_one(struct rotation *r, const struct rotation_secret *s, struct drctl_error *err)
{
	struct vault_kv_meta m;
	struct mark mk;
	char value[ROTATION_VALUE_MAX];
	const char *st = rotation_state(r, s);
	int works, rc = -1;

	if (vault_kv_meta_read(r->vault, s->mount, s->path, &m, err) != 0)
		return -1;
	mark_read(m.custom_metadata, &mk);
	if (!mk.present || strcmp(mk.run, r->j.run_id) != 0) {
		if (st && strcmp(st, "done") != 0)
			rotation_note(r, "abort: %s: nothing of this run is pending in %s (it was at \"%s\")", s->name, s->vault, st);
		rc = 0;
		goto done;
	}
	if (m.current_version == mk.pending - 1) {
		rc = mark_clear(r, s, m.custom_metadata, err);
		if (rc == 0)
			rotation_note(r, "abort: %s: the pending version %ld of %s was never written; marker removed, version %ld "
					 "is still the secret",
				      s->name, mk.pending, s->vault, m.current_version);
		goto done;
	}
	if (m.current_version != mk.pending) {
		rotation_note(r, "abort: %s: %s is at version %ld but the marker says %ld (someone else wrote it); marker removed, "
				 "check that version %ld works",
			      s->name, s->vault, m.current_version, mk.pending, m.current_version);
		rc = mark_clear(r, s, m.custom_metadata, err);
		goto done;
	}
	if (rotation_read_value(r, s, mk.pending, value, sizeof(value), err) < 0)
		goto done;
	works = value[0] ? rotation_ops(s->kind)->works(r, s, value, err) : 0;
	secure_wipe(value, sizeof(value));
	if (works < 0)
		goto done;
	if (works) {
		rotation_note(r, "abort: %s: the pending value (version %ld of %s) is in use and stays the current version; "
				 "marker removed%s",
			      s->name, mk.pending, s->vault,
			      s->kind == ROTATION_REDIS_USER ? " (the old password may still work too: rotate again to remove it)" : "");
	} else if (settle_on_old(r, s, mk.pending, err) != 0) {
		goto done;
	}
	rc = mark_clear(r, s, m.custom_metadata, err);
done:
	if (rc == 0 && mk.present && !strcmp(mk.run, r->j.run_id))
		rc = rotation_set_state(r, s, "aborted", mk.pending - 1, mk.pending, err);
	vault_kv_meta_free(&m);
	return rc;
}

int rotation_abort(struct rotation *r, struct drctl_error *err)
{
	struct vault_client *vc;
	int any = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->secrets[i].kind != ROTATION_MANUAL && rotation_state(r, &r->secrets[i]))
			any = 1;
	if (!any)
		return 0;
	if (rotation_need_vault(r, &vc, err) != 0)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		if (r->secrets[i].kind != ROTATION_MANUAL && abort_one(r, &r->secrets[i], err) != 0) {
			err_prefix(err, "abort of the rotation of %s", r->secrets[i].name);
			return -1;
		}
	return 0;
}

/* --- third-party keys ---------------------------------------------------------- */

int rotation_manual_record(struct rotation *r, struct drctl_error *err)
{
	struct vault_client *vc;

	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		struct vault_kv_meta m;
		json_t *f;
		if (s->kind != ROTATION_MANUAL || r->j.fact(r->j.ctx, s->key))
			continue;
		if (rotation_need_vault(r, &vc, err) != 0 || vault_kv_meta_read(vc, s->mount, s->path, &m, err) != 0)
			return -1;
		f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "kind", "manual", "name", s->name, "vault", s->vault,
			      "field", s->field, "who", s->who, "state", "waiting", "recorded_version",
			      (json_int_t)m.current_version);
		vault_kv_meta_free(&m);
		if (r->j.set_fact(r->j.ctx, s->key, f, err) != 0)
			return -1;
	}
	return 0;
}

void rotation_manual_instructions(struct rotation *r, char *buf, size_t cap)
{
	size_t o = 0;
	int k = 0;

	o += (size_t)snprintf(buf + o, cap - o,
			      "Third-party keys only a person can rotate. For each: issue a new key where it is issued, "
			      "revoke the old one there, and write the new value into Vault (the command reads it from "
			      "stdin, so it is in no shell history and no process list):\n");
	for (size_t i = 0; i < r->n && o < cap; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		long v = (long)json_integer_value(json_object_get(r->j.fact(r->j.ctx, s->key), "recorded_version"));
		if (s->kind != ROTATION_MANUAL)
			continue;
		o += (size_t)snprintf(buf + o, cap - o,
				      "\n  %d. %s, field %s (issued by: %s), now at version %ld\n"
				      "     vault kv %s -mount=%s %s %s=-\n",
				      ++k, s->vault, s->field, s->who, v, v > 0 ? "patch" : "put", s->mount, s->path, s->field);
	}
	if (o < cap)
		snprintf(buf + o, cap - o, "\nOn --confirm, drctl checks that each of them has a version newer than the one above.");
}

int rotation_manual_confirm(struct rotation *r, struct drctl_error *err)
{
	struct vault_client *vc;
	char missing[1024] = "", value[ROTATION_VALUE_MAX];
	size_t o = 0;

	if (rotation_need_vault(r, &vc, err) != 0)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct rotation_secret *s = &r->secrets[i];
		json_t *f = r->j.fact(r->j.ctx, s->key);
		long was = (long)json_integer_value(json_object_get(f, "recorded_version"));
		struct vault_kv_meta m;
		int has;
		if (s->kind != ROTATION_MANUAL)
			continue;
		if (vault_kv_meta_read(vc, s->mount, s->path, &m, err) != 0)
			return -1;
		vault_kv_meta_free(&m);
		has = m.current_version > was ? rotation_read_value(r, s, 0, value, sizeof(value), err) : 0;
		secure_wipe(value, sizeof(value));
		if (has < 0)
			return -1;
		if (!has) {
			o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s field %s (version %ld)", o ? ", " : "",
					      s->vault, s->field, m.current_version);
			if (o >= sizeof(missing))
				o = sizeof(missing) - 1;
			continue;
		}
		if (json_is_object(f) && strcmp(json_string_value(json_object_get(f, "state")) ?: "", "rotated") != 0) {
			json_t *nf = json_deep_copy(f);
			json_object_set_new(nf, "state", json_string("rotated"));
			json_object_set_new(nf, "vault_version", json_integer(m.current_version));
			if (r->j.set_fact(r->j.ctx, s->key, nf, err) != 0)
				return -1;
		}
	}
	if (o)
		return err_set(err, EXIT_USAGE, "third-party-keys",
			       "write each new value with the `vault kv` command the gate shows, then --confirm again",
			       "not confirmed: no new value yet in %s; the run still waits", missing);
	return 0;
}
