/*
 * make_sets CONFIG ID...: write one complete, signed backup set for each id
 * into the repository CONFIG names, for the retention tests.
 *
 * Retention decides by the time in a set's id, and drctl makes ids from the
 * clock; a test needs sets from two years of nights in seconds.  drctl itself
 * offers no way to choose an id (a backdoor that would let a set claim a
 * time it was not made at), and renaming a real set's folder breaks it (the
 * id is inside the signed manifest).  So this test program builds each set
 * the way `drctl backup` does, through the same code: a files-component
 * archive (tar, zstd) of one small member, encrypted to the configured age
 * recipients, hashed on the way into the repository, then published by
 * backup_set_publish with the configured signing key.  What it writes passes
 * `drctl verify --deep`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/config.h"
#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"
#include "lib/storage/repo_lock.h"
#include "lib/stream/archive_stream.h"

struct maker {
	struct repo *repo;
	struct minisign_secret_key sk;
	struct minisign_signer signer;
	struct age_recipient *recipients;
	size_t n_recipients;
};

/* The files component's archive object, with its manifest section. */
static int write_object(struct maker *mk, const char *id, json_t *section, struct drctl_error *err)
{
	char file[128], name[512], member[160], content[160];
	json_t *members = json_array();
	struct digest digest;
	struct archive_out *ao;
	struct sink *sink;

	json_object_set_new(section, "members", members);
	backup_set_object_file("files", mk->n_recipients > 0, file, sizeof(file));
	backup_set_path(id, file, name, sizeof(name));
	sink = repo_open_write(mk->repo, name, err);
	if (sink)
		sink = digest_sink_new(sink, &digest, err);
	if (sink && mk->n_recipients)
		sink = age_writer_new(sink, mk->recipients, mk->n_recipients, err);
	if (!sink || !(ao = archive_out_new(sink, 3, 1, members, err)))
		return -1;
	snprintf(member, sizeof(member), "srv/retention-test/%s.txt", id);
	snprintf(content, sizeof(content), "backup set %s, made by tests/tools/make_sets\n", id);
	if (archive_out_add_buffer(ao, member, content, strlen(content), 0644, err) != 0) {
		archive_out_abort(ao);
		return -1;
	}
	if (archive_out_close(ao, err) != 0)
		return -1;
	json_object_set_new(section, "source", json_pack("{s:[s]}", "paths", "/srv/retention-test"));
	json_object_set_new(section, "skipped", json_array());
	json_object_set_new(section, "object", json_string(file));
	json_object_set_new(section, "object_size", json_integer((json_int_t)digest.bytes));
	json_object_set_new(section, "object_sha256", json_string(digest.sha256_hex));
	return 0;
}

static int make_set(struct maker *mk, const char *id, struct drctl_error *err)
{
	char keyid[17];
	json_t *section = json_object(), *manifest;
	int rc = -1;

	minisign_keyid_hex(mk->signer.keyid, keyid);
	manifest = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:{s:s}, s:{s:s, s:i}, s:{s:o}}",
			     "format", MANIFEST_FORMAT, "id", id, "started", id, "host", "make_sets",
			     "tool", "name", "drctl-test", "version", "0", "signing_key_id", keyid,
			     "encryption", "format", mk->n_recipients ? "age-v1" : "none",
			     "compression", "format", "zstd", "level", 3, "components", "files", section);
	if (!manifest)
		return err_set(err, EXIT_FAILED, id, NULL, "cannot build the manifest of %s", id);
	if (write_object(mk, id, section, err) == 0 &&
	    backup_set_publish(mk->repo, &mk->signer, id, manifest, err) == 0)
		rc = 0;
	json_decref(manifest);
	return rc;
}

int main(int argc, char **argv)
{
	struct drctl_error err;
	struct config *cfg = NULL;
	struct maker mk = { 0 };
	struct repo_lock *lock = NULL;
	const struct repo_lock_request shared = { .kind = REPO_LOCK_SHARED, .purpose = "make_sets", .command = "make_sets" };
	int rc = 1, i = 2;

	err_clear(&err);
	if (argc < 3) {
		fprintf(stderr, "usage: make_sets CONFIG ID...\n");
		return 2;
	}
	if (config_load(&cfg, argv[1], 0, &err) != 0 || keys_load_signer(cfg, &mk.sk, &mk.signer, &err) != 0 ||
	    keys_load_recipients(cfg, &mk.recipients, &mk.n_recipients, &err) != 0 ||
	    repo_open(&mk.repo, cfg, &err) != 0 || repo_lock_take(cfg, &shared, &lock, &err) != 0)
		goto done;
	for (; i < argc; i++) {
		if (!backup_set_id_valid(argv[i])) {
			err_set(&err, EXIT_USAGE, argv[i], NULL, "%s is not a backup set id", argv[i]);
			goto done;
		}
		if (make_set(&mk, argv[i], &err) != 0)
			goto done;
	}
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "make_sets: %s%s%s\n", err.message, err.hint[0] ? "\nhint: " : "", err.hint);
	minisign_secret_key_wipe(&mk.sk);
	free(mk.recipients);
	repo_lock_release(lock);
	repo_close(mk.repo);
	config_free(cfg);
	return rc;
}
