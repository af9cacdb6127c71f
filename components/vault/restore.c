/*
 * vault: `drctl restore vault [--target ADDR] [--force-new-cluster]
 *        [--kv-only] [--wait SECONDS] [--force] [--dry-run]`.
 *
 * The raft snapshot is posted to sys/storage/raft/snapshot (snapshot-force
 * with --force-new-cluster) straight from the backup set, never staged on
 * disk.  The body is checked while it goes (SHA-256 against the signed
 * manifest, gzip/tar/SHA256SUMS) and its last byte is held back until both
 * checks pass, so Vault never receives a complete snapshot drctl has not
 * proven.  A standby answers with a 307: the body cannot be rewound, so it is
 * replayed from the repository (a second reader of the same object) to the
 * active node the standby named.  Vault restores in the background after its
 * 204, so drctl then polls sys/health until the node is active, or says that
 * it sealed itself / needs the snapshot's unseal keys and what to run next.
 *
 * KV exports are written back with check-and-set (see lib/clients/vault_kv.c) when
 * the set has no snapshot, or with --kv-only.  --force lets them overwrite
 * keys changed after the backup.
 */
#include "components/vault/vault.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/vault.h"
#include "lib/core/log.h"
#include "lib/set/set_reader.h"

const struct opt_spec vault_restore_option_table[] = {
	{ "force-new-cluster", 0, OPT_FLAG, offsetof(struct vault_restore_options, force_new_cluster), NULL,
	  "the snapshot comes from another cluster (snapshot-force)" },
	{ "kv-only", 0, OPT_FLAG, offsetof(struct vault_restore_options, kv_only), NULL,
	  "write the KV v2 exports back instead of the snapshot" },
	{ "wait", 0, OPT_LONG, offsetof(struct vault_restore_options, wait_seconds), "SECONDS",
	  "how long to wait for an active, unsealed node afterwards (default 300)" },
	{ 0 },
};

/* The options as given, with their defaults filled in. */
struct vault_restore_args {
	int force_new_cluster, kv_only;
	double wait;
	const struct config_secret_ref *token;
};

static void vault_restore_args_from(const struct restore_options *o, struct vault_restore_args *a)
{
	static const struct vault_restore_options defaults;
	const struct vault_restore_options *vo = o->component ? o->component : &defaults;

	a->force_new_cluster = vo->force_new_cluster;
	a->kv_only = vo->kv_only;
	a->wait = vo->wait_seconds > 0 ? (double)vo->wait_seconds : 300;
	a->token = vo->token;
}

/* Bodies for the snapshot POST: the first attempt reads the set being
 * restored; a retry or a redirect re-reads the object from the repository. */
struct vault_body_origin {
	struct restore_ctx *ctx;
	json_t *expect;
	struct set_reader set;
	struct object_read obj;
	int set_open, obj_open;
};

static void vault_body_origin_close(struct vault_body_origin *o)
{
	if (o->obj_open)
		set_reader_abandon_component(&o->obj);
	if (o->set_open)
		set_reader_close(&o->set);
	o->obj_open = o->set_open = 0;
}

static struct source *vault_body_open(void *ud, unsigned attempt, struct drctl_error *err)
{
	struct vault_body_origin *o = ud;
	struct archive_in *ai = o->ctx->archive;
	struct source *src;

	if (attempt > 0) {
		char first[ARCHIVE_MEMBER_NAME_MAX + 16];
		struct archive_member m;
		int more;

		vault_body_origin_close(o);
		log_info("reading the snapshot again from backup set %s", o->ctx->backup_id);
		if (set_reader_open(&o->set, o->ctx->cfg, o->ctx->backup_id, err) != 0)
			return NULL;
		o->set_open = 1;
		memset(&o->obj, 0, sizeof(o->obj));
		if (set_reader_open_component(&o->set, "vault", &o->obj, err) != 0)
			return NULL;
		o->obj_open = 1;
		archive_stream_part_name(VAULT_SNAPSHOT_MEMBER, 1, first, sizeof(first));
		while ((more = archive_in_next(o->obj.archive, &m, err)) == 1 && strcmp(m.name, first) != 0)
			;
		if (more != 1) {
			if (more == 0)
				err_set(err, EXIT_INTEGRITY, first, NULL, "backup set %s has no member %s", o->ctx->backup_id, first);
			return NULL;
		}
		ai = o->obj.archive;
	}
	src = archive_in_stream_source(ai, VAULT_SNAPSHOT_MEMBER, o->expect, err);
	return src ? vault_snapshot_checked_source(src, err) : NULL;
}

static int vault_restore_snapshot(struct restore_ctx *ctx, struct vault_client *vc, const struct vault_restore_args *a,
				  json_t *out, struct drctl_error *err)
{
	struct vault_body_origin origin = { .ctx = ctx };
	struct vault_client *hc = NULL;
	struct vault_health h;
	char node[512];
	json_t *expect = json_object_get(json_object_get(ctx->section, "streams"), VAULT_SNAPSHOT_MEMBER);
	json_int_t size = json_integer_value(json_object_get(expect, "size"));
	struct drctl_error werr;
	int rc = -1;

	origin.expect = expect;
	if (!expect || size <= 0)
		return err_set(err, EXIT_INTEGRITY, VAULT_SNAPSHOT_MEMBER, NULL,
			       "the manifest of %s has no valid entry for %s", ctx->backup_id, VAULT_SNAPSHOT_MEMBER);
	if (a->force_new_cluster)
		log_warn("--force-new-cluster: the snapshot replaces everything in the Vault at %s WITHOUT checking that it "
			 "belongs to this cluster; afterwards that Vault must be unsealed with the unseal keys (or recovery keys) "
			 "of the cluster the snapshot came from. Have them ready.", vault_client_address(vc));
	log_info("posting the raft snapshot of %s (%lld bytes) to %s", ctx->backup_id, (long long)size,
		 vault_client_address(vc));
	if (vault_snapshot_restore(vc, a->force_new_cluster, vault_body_open, &origin, (uint64_t)size, node,
				   sizeof(node), err) != 0)
		goto done;
	json_object_set_new(out, "node", json_string(node));
	json_object_set_new(out, "force_new_cluster", json_boolean(a->force_new_cluster));
	log_info("Vault at %s accepted the snapshot; waiting for it to be active (up to %.0f s)", node, a->wait);

	/* Poll the node that took the snapshot: the configured one may be a standby. */
	if (vault_client_open(&hc, ctx->cfg, node, 0, err) != 0)
		goto done;
	err_clear(&werr);
	/* Sealed after a forced restore is the expected end (the keys are now
	 * the snapshot's): a second of it is enough.  Otherwise it is a failure,
	 * so a longer look rules out a passing state. */
	if (vault_wait_active(hc, a->wait, a->force_new_cluster ? 1.0 : 5.0, &h, &werr) != 0) {
		json_object_set_new(out, "health", vault_health_json(&h));
		if (h.state == VAULT_SEALED && a->force_new_cluster) {
			/* Expected on a new cluster: its keys are now the snapshot's. */
			json_object_set_new(out, "needs_unseal", json_true());
			log_warn("Vault at %s holds the snapshot's data and is SEALED: unseal it with the unseal keys of the "
				 "cluster the snapshot came from (`VAULT_ADDR=%s vault operator unseal`, repeated up to the "
				 "threshold), then check it with `vault status`.", node, node);
			rc = 0;
			goto done;
		}
		*err = werr;
		if (h.state == VAULT_SEALED)
			err_prefix(err, "Vault sealed itself after the snapshot restore (the restore failed inside Vault)");
		goto done;
	}
	json_object_set_new(out, "health", vault_health_json(&h));
	log_info("Vault at %s is active again (version %s, cluster %s)", node, h.version, h.cluster_name);
	rc = 0;
done:
	vault_client_close(hc);
	vault_body_origin_close(&origin);
	return rc;
}

static json_t *vault_kv_entry(json_t *section, const char *stream)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(section, "kv"), i, e) {
		const char *m = json_string_value(json_object_get(e, "member"));
		if (m && !strcmp(m, stream))
			return e;
	}
	return NULL;
}

int vault_restore(struct restore_ctx *ctx, struct drctl_error *err)
{
	struct vault_restore_args a = { 0 };
	struct vault_client *vc = NULL;
	struct vault_health h;
	struct archive_member m;
	json_t *snap = json_object_get(ctx->section, "snapshot");
	json_t *kv_entries = json_object_get(ctx->section, "kv");
	json_t *out = json_object(), *kv_reports = json_array();
	int do_snapshot, do_kv, more, rc = -1;
	char first_snap[ARCHIVE_MEMBER_NAME_MAX + 16];

	json_object_set_new(ctx->report, "vault", out);
	json_object_set_new(out, "kv", kv_reports);
	vault_restore_args_from(ctx->opts, &a);
	do_snapshot = json_is_object(snap) && !a.kv_only;
	do_kv = json_array_size(kv_entries) > 0 && (a.kv_only || !json_is_object(snap));
	if (!do_snapshot && !do_kv)
		return err_set(err, EXIT_USAGE, ctx->backup_id,
			       a.kv_only ? "drop --kv-only: this set holds a raft snapshot only" : "restore from another set (`drctl list`)",
			       "backup set %s holds nothing to restore for vault%s", ctx->backup_id,
			       a.kv_only ? " with --kv-only (no KV export)" : "");
	if (ctx->opts->dry_run) {
		json_object_set_new(out, "dry_run", json_true());
		json_object_set_new(out, "would_restore_snapshot", json_boolean(do_snapshot));
		json_object_set_new(out, "would_restore_kv", json_boolean(do_kv));
		log_info("dry run: would %s%s%s into %s", do_snapshot ? "restore the raft snapshot" : "",
			 do_snapshot && do_kv ? " and " : "", do_kv ? "write the KV exports back (check-and-set)" : "",
			 ctx->opts->target ? ctx->opts->target : "the configured Vault");
		return 0;
	}
	if ((a.token ? vault_client_open_token(&vc, ctx->cfg, ctx->opts->target, a.token, err)
		     : vault_client_open(&vc, ctx->cfg, ctx->opts->target, 1, err)) != 0)
		goto done;
	json_object_set_new(out, "address", json_string(vault_client_address(vc)));
	if (vault_health(vc, &h, err) != 0)
		goto done;
	if (h.state == VAULT_UNINITIALIZED) {
		err_set(err, EXIT_FAILED, vault_client_address(vc),
			"initialize it first (`vault operator init`), log in with its root token, then run the restore again",
			"Vault at %s is not initialized; nothing was restored", vault_client_address(vc));
		goto done;
	}
	if (h.state == VAULT_SEALED) {
		err_set(err, EXIT_FAILED, vault_client_address(vc),
			"unseal it (`vault operator unseal`), then run the restore again",
			"Vault at %s is sealed; nothing was restored", vault_client_address(vc));
		goto done;
	}
	archive_stream_part_name(VAULT_SNAPSHOT_MEMBER, 1, first_snap, sizeof(first_snap));
	while ((more = archive_in_next(ctx->archive, &m, err)) == 1) {
		char stream[ARCHIVE_MEMBER_NAME_MAX + 1];
		const char *part = strstr(m.name, ".part-000001");
		json_t *entry;

		if (do_snapshot && !strcmp(m.name, first_snap)) {
			json_t *so = json_object();
			json_object_set_new(out, "snapshot", so);
			if (vault_restore_snapshot(ctx, vc, &a, so, err) != 0)
				goto done;
			continue;
		}
		if (!do_kv || !part || part[12] != '\0')
			continue;
		snprintf(stream, sizeof(stream), "%.*s", (int)(part - m.name), m.name);
		if ((entry = vault_kv_entry(ctx->section, stream)) != NULL) {
			json_t *expect = json_object_get(json_object_get(ctx->section, "streams"), stream);
			json_t *rep = json_object();
			struct source *src = archive_in_stream_source(ctx->archive, stream, expect, err);
			int irc;
			json_array_append_new(kv_reports, rep);
			if (!src)
				goto done;
			irc = vault_kv_import(vc, json_string_value(json_object_get(entry, "mount")), src,
					      json_string_value(json_object_get(entry, "exported_at")), ctx->opts->force, rep, err);
			source_close(src);
			if (irc != 0)
				goto done;
		}
	}
	if (more < 0)
		goto done;
	rc = 0;
done:
	vault_client_close(vc);
	return rc;
}
