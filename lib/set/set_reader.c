#include "lib/set/set_reader.h"

#include <stdio.h>
#include <string.h>

#include "lib/set/keys.h"
#include "lib/stream/stream_thread.h"

int set_reader_open(struct set_reader *s, const struct config *cfg, const char *ref,
		    struct drctl_error *err)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	if (keys_load_public(cfg, &s->pk, err) != 0 || repo_open(&s->repo, cfg, err) != 0)
		return -1;
	if (backup_set_resolve(s->repo, &s->pk, ref ? ref : "latest", s->id, err) != 0)
		return -1;
	return backup_set_load_manifest(s->repo, &s->pk, s->id, &s->manifest, err);
}

int set_reader_encrypted(const struct set_reader *s)
{
	const char *format = json_string_value(json_object_get(json_object_get(s->manifest, "encryption"), "format"));
	return !format || strcmp(format, "none") != 0;
}

/* 1 when the signed manifest lists the recipient of one of the identities,
 * 0 when it lists others only, -1 when it lists none to compare with.
 * first: the first identity's recipient, for messages. */
static int set_reader_identity_listed(const struct set_reader *s, char first[128])
{
	json_t *listed = json_object_get(json_object_get(s->manifest, "encryption"), "recipients"), *r;
	size_t i;

	first[0] = '\0';
	if (!json_is_array(listed) || json_array_size(listed) == 0)
		return -1;
	for (size_t k = 0; k < s->n_ids; k++) {
		struct age_recipient recipient;
		char text[128];
		age_identity_to_recipient(&s->ids[k], &recipient);
		age_recipient_format(&recipient, text);
		if (k == 0)
			snprintf(first, 128, "%s", text);
		json_array_foreach(listed, i, r)
			if (json_is_string(r) && !strcmp(json_string_value(r), text))
				return 1;
	}
	return 0;
}

int set_reader_load_identities(struct set_reader *s, struct drctl_error *err)
{
	const char *path = config_get_path(s->cfg, "encryption", "identity_file");
	size_t n = json_array_size(json_object_get(json_object_get(s->manifest, "encryption"), "recipients"));
	char mine[128];
	int listed;

	if (!set_reader_encrypted(s) || s->ids)
		return 0;
	if (keys_load_identities(s->cfg, &s->ids, &s->n_ids, err) != 0)
		return -1;
	listed = set_reader_identity_listed(s, mine);
	s->ids_listed = listed == 1;
	if (listed != 0)
		return 0;
	/* The signed manifest proves the set was encrypted to other keys: this
	 * identity cannot open it, and that says nothing about the set. */
	err_set(err, EXIT_NOT_FOUND, path, NULL,
		"cannot decrypt backup set %s with this identity: [encryption] identity_file %s holds %s%s, "
		"and the set was encrypted to %zu other recipient%s",
		s->id, path, mine, s->n_ids > 1 ? " (and others)" : "", n, n == 1 ? "" : "s");
	err_hint(err, "use the identity of one of the set's recipients (`drctl show %s` lists them): restore it from its "
		 "off-site copy, or point [encryption] identity_file / DRCTL_ENCRYPTION_IDENTITY_FILE at it; "
		 "the backup set itself is not known to be damaged", s->id);
	age_identities_free(s->ids, s->n_ids);
	s->ids = NULL;
	s->n_ids = 0;
	return -1;
}

/* An age header that no identity opens: with the identity's recipient in
 * the signed manifest, the object's header was altered (a verdict on the
 * set); without a list to compare with, it is the key that is in doubt. */
static void set_reader_no_match(const struct set_reader *s, struct drctl_error *err)
{
	if (s->ids_listed) {
		size_t len = strlen(err->message);
		snprintf(err->message + len, sizeof(err->message) - len,
			 ", though the signed manifest lists its recipient: the object's header was altered");
		err->code = EXIT_INTEGRITY;
		err_hint(err, "the signed manifest lists this identity as a recipient, so the object's header was altered: "
			 "restore from another set (`drctl list`) and keep this one for investigation");
		return;
	}
	err_hint(err, "use the identity of one of the set's recipients: restore it from its off-site copy, or point "
		 "[encryption] identity_file / DRCTL_ENCRYPTION_IDENTITY_FILE at it; the backup set itself is not known "
		 "to be damaged");
}

int set_reader_open_component(struct set_reader *s, const char *component, struct object_read *o,
			      struct drctl_error *err)
{
	const char *file;
	struct source *src;

	memset(o, 0, sizeof(*o));
	o->section = json_object_get(json_object_get(s->manifest, "components"), component);
	if (!o->section)
		return err_set(err, EXIT_NOT_FOUND, s->id, "pick a set that has it: `drctl list`",
			       "backup set %s holds no %s backup", s->id, component);
	file = json_string_value(json_object_get(o->section, "object"));
	if (!file || strchr(file, '/'))
		return err_set(err, EXIT_INTEGRITY, s->id, NULL, "the manifest of %s names no valid object for %s",
			       s->id, component);
	backup_set_path(s->id, file, o->name, sizeof(o->name));
	if (set_reader_load_identities(s, err) != 0)
		return -1;
	src = repo_open_read(s->repo, o->name, err);
	if (!src && err->code == EXIT_NOT_FOUND) {
		/* The signed manifest says it is there: the set is damaged. */
		err->code = EXIT_INTEGRITY;
		err_hint(err, "the signed manifest of %s lists this object: restore from another set (`drctl list`) and keep this one for investigation",
			 s->id);
	}
	if (src)
		src = digest_source_new(src, &o->digest, err);
	if (src)
		src = progress_source_new(src, component,
					  (uint64_t)json_integer_value(json_object_get(o->section, "object_size")), err);
	if (src && set_reader_encrypted(s)) {
		enum age_failure why = AGE_OK;
		src = age_reader_new(src, s->ids, s->n_ids, NULL, &why, err);
		if (!src) {
			err_prefix(err, "%s", o->name);
			if (why == AGE_NO_MATCH)
				set_reader_no_match(s, err);
		}
	}
	/* Decryption and hashing on a worker; decompression and tar here. */
	if (src)
		src = thread_source_new(src, err);
	if (!src)
		return -1;
	o->archive = archive_in_new(src, o->name, err);
	return o->archive ? 0 : -1;
}

int set_reader_finish_component(struct set_reader *s, struct object_read *o, struct drctl_error *err)
{
	const char *want = json_string_value(json_object_get(o->section, "object_sha256"));
	json_int_t size = json_integer_value(json_object_get(o->section, "object_size"));
	int rc = archive_in_drain(o->archive, err);

	archive_in_close(o->archive);
	o->archive = NULL;
	if (rc != 0)
		return -1;
	if ((json_int_t)o->digest.bytes != size || !want || strcmp(want, o->digest.sha256_hex) != 0)
		return err_set(err, EXIT_INTEGRITY, o->name,
			       "the object was changed or damaged after the backup; restore from another set (`drctl list`)",
			       "%s does not match the signed manifest of %s (size %llu, expected %lld; SHA-256 %.16s..., expected %.16s...)",
			       o->name, s->id, (unsigned long long)o->digest.bytes, (long long)size,
			       o->digest.sha256_hex, want ? want : "?");
	return 0;
}

void set_reader_abandon_component(struct object_read *o)
{
	archive_in_close(o->archive);
	o->archive = NULL;
}

void set_reader_close(struct set_reader *s)
{
	age_identities_free(s->ids, s->n_ids);
	json_decref(s->manifest);
	repo_close(s->repo);
	memset(s, 0, sizeof(*s));
}
