/*
 * vault: deep verification of the Vault component's members.
 *
 * The generic walk already proved every member's size and SHA-256 against the
 * signed manifest; this adds what only a Vault reader knows: the snapshot's
 * parts, taken together, are a complete gzip over a complete tar with the four
 * members, SHA256SUMS matching and SHA256SUMS.sealed non-empty, and its member
 * hashes are the ones recorded at backup time; each KV export is whole JSON
 * lines, as many as the manifest counted.  State lives in ctx->state between
 * members; it is freed on the first error and in check_finish.
 */
#include "components/vault/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/component.h"
#include "lib/clients/vault.h"

struct vault_verify_state {
	struct vault_snapshot_check *snap;
	struct vault_kv_lines *kv;
	char kv_stream[ARCHIVE_MEMBER_NAME_MAX + 1];
};

static void vault_verify_free(struct check_ctx *ctx)
{
	struct vault_verify_state *st = ctx->state;
	if (!st)
		return;
	vault_snapshot_check_free(st->snap);
	vault_kv_lines_free(st->kv);
	free(st);
	ctx->state = NULL;
}

/* The KV stream being read is complete: count its lines against the manifest. */
static int vault_verify_kv_end(struct check_ctx *ctx, struct vault_verify_state *st, struct drctl_error *err)
{
	json_t *e;
	size_t i;
	long n;

	if (!st->kv)
		return 0;
	n = vault_kv_lines_finish(st->kv, err);
	vault_kv_lines_free(st->kv);
	st->kv = NULL;
	if (n < 0)
		return err_prefix(err, "%s", st->kv_stream), -1;
	json_array_foreach(json_object_get(ctx->section, "kv"), i, e) {
		const char *m = json_string_value(json_object_get(e, "member"));
		if (m && !strcmp(m, st->kv_stream) && json_integer_value(json_object_get(e, "keys")) != n)
			return err_set(err, EXIT_INTEGRITY, st->kv_stream, NULL, "%s holds %ld keys, the manifest says %lld",
				       st->kv_stream, n, (long long)json_integer_value(json_object_get(e, "keys")));
	}
	return 0;
}

static int feed_snapshot(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	return vault_snapshot_check_feed(arg, buf, len, err);
}

static int feed_kv_lines(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	return vault_kv_lines_feed(arg, buf, len, err);
}

int vault_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err)
{
	struct vault_verify_state *st = ctx->state;
	const char *part = strstr(m->name, ".part-");
	char stream[ARCHIVE_MEMBER_NAME_MAX + 1];
	int is_snap;

	if (!part)
		return 0;
	snprintf(stream, sizeof(stream), "%.*s", (int)(part - m->name), m->name);
	is_snap = !strcmp(stream, VAULT_SNAPSHOT_MEMBER);
	if (!is_snap && strncmp(stream, "vault/kv/", 9) != 0)
		return 0;
	if (!st && !(st = ctx->state = calloc(1, sizeof(*st))))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (is_snap && !st->snap && !(st->snap = vault_snapshot_check_new(err)))
		goto fail;
	if (!is_snap && strcmp(stream, st->kv_stream) != 0) {
		if (vault_verify_kv_end(ctx, st, err) != 0)
			goto fail;
		snprintf(st->kv_stream, sizeof(st->kv_stream), "%s", stream);
		if (!(st->kv = vault_kv_lines_new(err)))
			goto fail;
	}
	if (is_snap ? stream_pump(data, 64 * 1024, feed_snapshot, st->snap, NULL, err) != 0
		    : stream_pump(data, 64 * 1024, feed_kv_lines, st->kv, NULL, err) != 0) {
		err_prefix(err, "%s", is_snap ? "vault snapshot" : stream);
		goto fail;
	}
	return 0;
fail:
	vault_verify_free(ctx);
	return -1;
}

int vault_check_finish(struct check_ctx *ctx, struct drctl_error *err)
{
	struct vault_verify_state *st = ctx->state;
	json_t *want = json_object_get(ctx->section, "snapshot"), *facts = NULL;
	int rc = -1;

	if (json_is_object(want) && (!st || !st->snap)) {
		err_set(err, EXIT_INTEGRITY, VAULT_SNAPSHOT_MEMBER, NULL, "the manifest lists a Vault snapshot but the archive holds none");
		goto done;
	}
	if (st && vault_verify_kv_end(ctx, st, err) != 0)
		goto done;
	if (st && st->snap) {
		const char *hex, *want_hex = json_string_value(json_object_get(want, "sha256"));
		if (vault_snapshot_check_finish(st->snap, &facts, err) != 0) {
			err_prefix(err, "vault snapshot");
			goto done;
		}
		hex = json_string_value(json_object_get(facts, "sha256"));
		if (!want_hex || !hex || strcmp(hex, want_hex) != 0 ||
		    !json_equal(json_object_get(facts, "members"), json_object_get(want, "members"))) {
			err_set(err, EXIT_INTEGRITY, VAULT_SNAPSHOT_MEMBER, NULL,
				"the Vault snapshot's hashes differ from those recorded in the manifest at backup time");
			goto done;
		}
	}
	rc = 0;
done:
	json_decref(facts);
	vault_verify_free(ctx);
	return rc;
}
