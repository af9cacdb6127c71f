/*
 * set_copy: a complete set from one repository into another (see
 * set_copy.h for the rules).
 */
#include "lib/set/set_copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/stream/stream.h"

/* The signed objects, in the order a backup publishes them. */
static const char *const signed_in_order[] = { "SHA256SUMS", "SHA256SUMS.minisig", "manifest.json.minisig",
					       "manifest.json" };

/* What the source says the set is, verified. */
struct verified_set {
	char *manifest, *manifest_sig, *sums_text, *sums_sig;
	size_t manifest_len, manifest_sig_len, sums_len, sums_sig_len;
	json_t *sums; /* {file: hex} */
};

static void verified_set_free(struct verified_set *v)
{
	free(v->manifest);
	free(v->manifest_sig);
	free(v->sums_text);
	free(v->sums_sig);
	json_decref(v->sums);
	memset(v, 0, sizeof(*v));
}

static int read_source_set(struct repo *src, const struct minisign_public_key *pk, const char *id,
			   struct verified_set *v, struct drctl_error *err)
{
	json_t *manifest = NULL;
	char *copy;
	int rc;

	if (backup_set_read_signed(src, pk, id, "manifest.json", &v->manifest, &v->manifest_len, &v->manifest_sig,
				   &v->manifest_sig_len, err) != 0 ||
	    backup_set_parse_manifest(v->manifest, v->manifest_len, id, &manifest, err) != 0 ||
	    backup_set_read_signed(src, pk, id, "SHA256SUMS", &v->sums_text, &v->sums_len, &v->sums_sig,
				   &v->sums_sig_len, err) != 0) {
		json_decref(manifest);
		return -1;
	}
	json_decref(manifest);
	/* The parser cuts its text in place: it gets a copy, the bytes to
	 * write stay as signed. */
	if (!(copy = strndup(v->sums_text, v->sums_len)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	rc = backup_set_parse_sums(copy, &v->sums, err);
	free(copy);
	return rc;
}

/* 1 when the target has the set complete, 0 when it has none of it (what
 * an interrupted copy left is removed first), -1 on error. */
static int target_state(struct repo *dst, const struct minisign_public_key *pk, const char *id,
			struct drctl_error *err)
{
	char dir[256], **names = NULL;
	size_t n = 0;
	json_t *manifest = NULL;

	if (backup_set_load_manifest(dst, pk, id, &manifest, err) == 0) {
		json_decref(manifest);
		return 1;
	}
	if (err->code != EXIT_NOT_FOUND) {
		err_prefix(err, "backup set %s is in %s already but is not a good copy; it was left as it is", id,
			   dst->description);
		return -1;
	}
	err_clear(err);
	snprintf(dir, sizeof(dir), "backups/%s", id);
	if (repo_list(dst, dir, &names, &n, err) != 0)
		return -1;
	repo_names_free(names, n);
	if (n == 0)
		return 0;
	/* No manifest: an earlier copy (or a backup with this id, which cannot
	 * be: ids are new) stopped half-way.  It is debris, not a set. */
	log_warn("removing the incomplete copy of %s in %s that an earlier copy left (%zu objects, no manifest)", id,
		 dst->description, n);
	return backup_set_remove(dst, id, err) == 0 ? 0 : -1;
}

/* One archive object, streamed, its SHA-256 checked before the target
 * shows it. */
static int copy_object(struct repo *src, struct repo *dst, const char *id, const char *file, const char *want_hex,
		       struct set_copy_result *out, struct drctl_error *err)
{
	char name[512];
	struct digest d = { 0 };
	struct source *in = NULL;
	struct sink *to = NULL;
	uint64_t copied = 0;
	int rc = -1;

	backup_set_path(id, file, name, sizeof(name));
	if (!(in = repo_open_read(src, name, err))) {
		if (err->code == EXIT_NOT_FOUND) {
			err_clear(err);
			err_set(err, EXIT_INTEGRITY, name, "the set is damaged in the source: copy another set (`drctl list`)",
				"%s is named in SHA256SUMS of backup set %s but missing from %s", file, id, src->description);
		}
		goto done;
	}
	if (!(in = digest_source_new(in, &d, err)) || !(to = repo_open_write(dst, name, err)))
		goto done;
	if (stream_copy(in, to, &copied, err) != 0)
		goto done;
	if (strcmp(d.sha256_hex, want_hex) != 0) {
		err_set(err, EXIT_INTEGRITY, name,
			"the source's copy of the set is damaged: `drctl verify --deep` it there; nothing of it was left in the target",
			"%s of backup set %s in %s has SHA-256 %s, but its signed SHA256SUMS says %s", file, id,
			src->description, d.sha256_hex, want_hex);
		goto done;
	}
	rc = sink_close(to, err);
	to = NULL;
	if (rc == 0) {
		out->objects++;
		out->bytes += copied;
	}
done:
	if (to)
		sink_abort(to);
	if (in)
		source_close(in);
	return rc;
}

static int copy_signed(struct repo *dst, const char *id, const struct verified_set *v, struct set_copy_result *out,
		       struct drctl_error *err)
{
	const struct { const char *data; size_t len; } bytes[] = {
		{ v->sums_text, v->sums_len },
		{ v->sums_sig, v->sums_sig_len },
		{ v->manifest_sig, v->manifest_sig_len },
		{ v->manifest, v->manifest_len },
	};
	char name[512];

	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
		backup_set_path(id, signed_in_order[i], name, sizeof(name));
		if (repo_write_all(dst, name, bytes[i].data, bytes[i].len, err) != 0)
			return -1;
		out->objects++;
		out->bytes += bytes[i].len;
	}
	return 0;
}

int set_copy(struct repo *src, struct repo *dst, const struct minisign_public_key *pk, const char *id,
	     struct set_copy_result *out, struct drctl_error *err)
{
	struct verified_set v = { 0 };
	const char *file;
	json_t *hex;
	int rc = -1, state, wrote = 0;

	memset(out, 0, sizeof(*out));
	if (read_source_set(src, pk, id, &v, err) != 0) {
		err_prefix(err, "backup set %s cannot be copied from %s", id, src->description);
		goto done;
	}
	if ((state = target_state(dst, pk, id, err)) < 0)
		goto done;
	if (state == 1) {
		rc = 0; /* complete there already */
		goto done;
	}
	wrote = 1;
	json_object_foreach(v.sums, file, hex) {
		if (copy_object(src, dst, id, file, json_string_value(hex), out, err) != 0)
			goto done;
	}
	if (copy_signed(dst, id, &v, out, err) != 0)
		goto done;
	out->copied = 1;
	rc = 0;
done:
	if (rc != 0 && wrote) {
		/* Without its manifest what was written is debris: take it away. */
		struct drctl_error cleanup;
		err_clear(&cleanup);
		if (backup_set_remove(dst, id, &cleanup) != 0) {
			log_warn("could not remove the partial copy of %s from %s: %s", id, dst->description, cleanup.message);
			err_prefix(err, "copying backup set %s stopped; what it wrote has no manifest (the next copy or `drctl prune` removes it)", id);
		} else {
			err_prefix(err, "copying backup set %s stopped; nothing of it was left in %s", id, dst->description);
		}
	}
	verified_set_free(&v);
	return rc;
}
