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
	if (set_reader_encrypted(s) && !s->ids && keys_load_identities(s->cfg, &s->ids, &s->n_ids, err) != 0)
		return -1;
	src = repo_open_read(s->repo, o->name, err);
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
				err_hint(err, "the identity in [encryption] identity_file is not a recipient of set %s; use the identity that matches the set's recipients (`drctl show %s`)",
					 s->id, s->id);
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
