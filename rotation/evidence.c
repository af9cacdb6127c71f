/*
 * evidence: what the platform looked like when the incident was declared,
 * before anything is rotated or killed, kept in the repository as a signed,
 * encrypted incident bundle (lib/set/incident.h).
 *
 *   evidence.json                   when, from where, and what each source gave
 *   postgres/pg_stat_activity.json  every session: role, client, state, last query
 *   redis/client-list.txt           CLIENT LIST: every client, its user and address
 *   vault/token-accessors.json      every token accessor with its display name,
 *                                   policies, creation and expiry (never a token)
 *   journal                         the run's journal so far
 *
 * A source that cannot be read (a server down, a token without sudo for
 * the accessor list) is recorded as such in evidence.json and the manifest:
 * the evidence that could be had is kept, and the rotation goes on.
 * Kubernetes events are not collected yet (drctl has no Kubernetes events
 * client); the manifest says so.
 *
 * Facts: evidence.bundle (the object's size, SHA-256, members and sources,
 * noted between writing the object and publishing its manifest).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "lib/set/incident.h"
#include "rotation/rotation_private.h"

#define EVIDENCE_ACCESSORS_MAX 10000
#define JOURNAL_COPY_MAX (64u << 20)

static int add_json(struct archive_out *ao, const char *member, json_t *doc, struct drctl_error *err)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return err_set(err, EXIT_FAILED, member, NULL, "cannot serialise %s", member);
	rc = archive_out_add_buffer(ao, member, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

static json_t *source_failed(const struct drctl_error *e)
{
	return json_pack("{s:b, s:s}", "collected", 0, "error", e->message);
}

static json_t *postgres_sessions(struct rotation *r, struct archive_out *ao, struct drctl_error *err)
{
	PGconn *c;
	json_t *rows = NULL, *out;
	struct drctl_error e;

	err_clear(&e);
	if (rotation_need_pg(r, &c, &e) != 0 || pg_sessions_list(c, &rows, &e) != 0)
		return source_failed(&e);
	out = add_json(ao, "postgres/pg_stat_activity.json", rows, err) == 0
		      ? json_pack("{s:b, s:s, s:I}", "collected", 1, "member", "postgres/pg_stat_activity.json", "sessions",
				  (json_int_t)json_array_size(rows))
		      : NULL;
	json_decref(rows);
	return out;
}

static json_t *redis_clients(struct rotation *r, struct archive_out *ao, struct drctl_error *err)
{
	struct redis_conn *c;
	char *text = NULL;
	json_t *out = NULL;
	struct drctl_error e;
	size_t lines = 0;

	err_clear(&e);
	if (rotation_need_redis(r, &c, &e) != 0 || redis_client_list(c, &text, &e) != 0)
		return source_failed(&e);
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	if (archive_out_add_buffer(ao, "redis/client-list.txt", text, strlen(text), 0600, err) == 0)
		out = json_pack("{s:b, s:s, s:I}", "collected", 1, "member", "redis/client-list.txt", "clients", (json_int_t)lines);
	free(text);
	return out;
}

static json_t *vault_accessors(struct rotation *r, struct archive_out *ao, struct drctl_error *err)
{
	struct vault_client *vc;
	json_t *list = NULL, *tokens = json_array(), *a, *out = NULL;
	struct drctl_error e;
	size_t i, failed = 0;

	err_clear(&e);
	if (rotation_need_vault(r, &vc, &e) != 0 || vault_token_accessors(vc, &list, &e) != 0) {
		json_decref(tokens);
		return source_failed(&e);
	}
	json_array_foreach(list, i, a) {
		json_t *info = NULL;
		if (i >= EVIDENCE_ACCESSORS_MAX)
			break;
		err_clear(&e);
		if (vault_token_lookup_accessor(vc, json_string_value(a), &info, &e) == 0)
			json_array_append_new(tokens, info);
		else
			failed++;
	}
	if (add_json(ao, "vault/token-accessors.json", tokens, err) == 0)
		out = json_pack("{s:b, s:s, s:I, s:I, s:I}", "collected", 1, "member", "vault/token-accessors.json", "accessors",
				(json_int_t)json_array_size(list), "looked_up", (json_int_t)json_array_size(tokens),
				"lookups_failed", (json_int_t)failed);
	json_decref(list);
	json_decref(tokens);
	return out;
}

static json_t *journal_copy(struct rotation *r, struct archive_out *ao, struct drctl_error *err)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	struct drctl_error e;
	json_t *out = NULL;

	snprintf(path, sizeof(path), "%s/journal", r->j.run_folder ? r->j.run_folder : ".");
	err_clear(&e);
	if (keyfile_read(path, "run journal", 0, JOURNAL_COPY_MAX, &text, &len, &e) != 0)
		return source_failed(&e);
	if (archive_out_add_buffer(ao, "journal", text, len, 0600, err) == 0)
		out = json_pack("{s:b, s:s, s:I}", "collected", 1, "member", "journal", "bytes", (json_int_t)len);
	free(text);
	return out;
}

/* Every source into the open bundle; sources gets what each gave. */
static int collect(struct rotation *r, struct archive_out *ao, const char *scenario, json_t *sources,
		   struct drctl_error *err)
{
	char host[256] = "?", at[32];
	json_t *doc, *s;
	int rc;

	gethostname(host, sizeof(host) - 1);
	if (!(s = postgres_sessions(r, ao, err)) || json_object_set_new(sources, "postgres", s) != 0 ||
	    !(s = redis_clients(r, ao, err)) || json_object_set_new(sources, "redis", s) != 0 ||
	    !(s = vault_accessors(r, ao, err)) || json_object_set_new(sources, "vault", s) != 0)
		return -1;
	json_object_set_new(sources, "kubernetes",
			    json_pack("{s:b, s:s}", "collected", 0, "error",
				      "not collected: this drctl has no Kubernetes events client yet (kubectl get events -A "
				      "--sort-by=.lastTimestamp gives them)"));
	/* The journal last: it then says what the evidence step did so far. */
	if (!(s = journal_copy(r, ao, err)) || json_object_set_new(sources, "journal", s) != 0)
		return -1;
	format_utc(now_seconds(), at);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:O}", "incident", r->j.run_id, "scenario", scenario, "collected_at", at,
			"host", host, "sources", sources);
	rc = add_json(ao, "evidence.json", doc, err);
	json_decref(doc);
	return rc;
}

static int publish(struct rotation *r, const char *scenario, json_t *bundle, struct drctl_error *err)
{
	json_t *manifest;
	char at[32];
	long signed_at = (long)json_integer_value(json_object_get(bundle, "collected_unix"));
	int rc;

	format_utc((double)signed_at, at);
	manifest = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:O, s:O, s:O}, s:{s:s, s:O}, s:O, s:O}", "format",
			     INCIDENT_MANIFEST_FORMAT, "incident", r->j.run_id, "scenario", scenario, "collected_at", at,
			     "tool", "name", "drctl", "version", DRCTL_VERSION, "bundle", "object",
			     json_object_get(bundle, "object"), "size", json_object_get(bundle, "size"), "sha256",
			     json_object_get(bundle, "sha256"), "encryption", "format", "age-v1", "recipients",
			     json_object_get(bundle, "recipients") ?: json_null(), "members",
			     json_object_get(bundle, "members") ?: json_null(), "sources",
			     json_object_get(bundle, "sources") ?: json_null());
	if (!manifest)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot build the incident manifest");
	rc = incident_publish(r->cfg, r->j.run_id, manifest, signed_at, err);
	json_decref(manifest);
	if (rc == 0)
		rotation_note(r, "evidence: incidents/%s/%s (%lld bytes, sha256 %s), manifest signed", r->j.run_id,
			      INCIDENT_BUNDLE_FILE, (long long)json_integer_value(json_object_get(bundle, "size")),
			      json_string_value(json_object_get(bundle, "sha256")));
	return rc;
}

int rotation_evidence_published(struct rotation *r, struct drctl_error *err)
{
	int state = 0;
	return incident_state(r->cfg, r->j.run_id, &state, err) == 0 ? state == 2 : -1;
}

int rotation_collect_evidence(struct rotation *r, const char *scenario, struct drctl_error *err)
{
	struct incident_writer *w = NULL;
	json_t *bundle = json_incref(r->j.fact(r->j.ctx, "evidence.bundle")), *sources = NULL;
	int state = 0, rc = -1;

	if (incident_state(r->cfg, r->j.run_id, &state, err) != 0)
		goto done;
	if (state == 2) {
		rc = 0;
		goto done;
	}
	if (state == 1 && !bundle) {
		/* Killed between the object and the fact: the object is the
		 * evidence (collected first, never replaced); its digest is read
		 * back.  Its member list is then known only from the bundle. */
		if (incident_bundle_digest(r->cfg, r->j.run_id, &bundle, err) != 0)
			goto done;
		json_object_set_new(bundle, "collected_unix", json_integer((json_int_t)time(NULL)));
		json_object_set_new(bundle, "sources", json_string("see evidence.json inside the bundle"));
		if (r->j.set_fact(r->j.ctx, "evidence.bundle", json_incref(bundle), err) != 0)
			goto done;
	}
	if (state == 0) {
		json_decref(bundle);
		bundle = NULL;
		sources = json_object();
		if (incident_writer_open(&w, r->cfg, r->j.run_id, err) != 0)
			goto done;
		if (collect(r, incident_writer_archive(w), scenario, sources, err) != 0) {
			incident_writer_abort(w);
			goto done;
		}
		if (incident_writer_close(w, &bundle, err) != 0)
			goto done;
		json_object_set_new(bundle, "collected_unix", json_integer((json_int_t)time(NULL)));
		json_object_set(bundle, "sources", sources);
		if (r->j.set_fact(r->j.ctx, "evidence.bundle", json_incref(bundle), err) != 0)
			goto done;
	}
	rc = publish(r, scenario, bundle, err);
done:
	json_decref(bundle);
	json_decref(sources);
	return rc;
}
