/*
 * backup_set: the publication order (archives, SHA256SUMS, signatures, the
 * manifest last), and how list tells complete sets from debris.  The order is
 * observed through a repository driver that wraps the local one and records
 * every object at the moment it becomes visible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/crypto/minisign.h"
#include "lib/set/backup_set.h"
#include "lib/storage/repo.h"

static char committed[16][256];
static size_t n_committed;

struct recording_sink {
	struct sink base;
	struct sink *inner;
	char name[256];
};

static int rec_write(struct sink *s, const void *b, size_t l, struct drctl_error *e)
{
	return sink_write(((struct recording_sink *)s)->inner, b, l, e);
}
static int rec_close(struct sink *s, struct drctl_error *e)
{
	struct recording_sink *r = (struct recording_sink *)s;
	int rc = sink_close(r->inner, e);
	if (rc == 0 && n_committed < 16)
		snprintf(committed[n_committed++], 256, "%s", r->name);
	free(r);
	return rc;
}
static void rec_abort(struct sink *s)
{
	sink_abort(((struct recording_sink *)s)->inner);
	free(s);
}
static const struct sink_ops rec_ops = { rec_write, rec_close, rec_abort };

static struct repo_ops recording_ops;
static const struct repo_ops *local_ops;

static struct sink *rec_open_write(struct repo *r, const char *name, struct drctl_error *err)
{
	struct recording_sink *s = calloc(1, sizeof(*s));
	s->inner = local_ops->open_write(r, name, err);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->base.ops = &rec_ops;
	return &s->base;
}

static char tmpdir[] = "/tmp/drctl-test-set.XXXXXX";

/* The local repository in dir, opened through the driver table. */
static struct repo *open_local(const char *dir)
{
	struct drctl_error err;
	struct config *cfg = config_new_empty();
	struct repo *r = NULL;

	err_clear(&err);
	assert_non_null(cfg);
	assert_int_equal(config_set(cfg, "repository", "type", "local", &err), 0);
	assert_int_equal(config_set(cfg, "repository", "path", dir, &err), 0);
	if (repo_open(&r, cfg, &err) != 0)
		fail_msg("opening the local repository %s: %s", dir, err.message);
	config_free(cfg);
	return r;
}

static void test_manifest_is_published_last(void **state)
{
	struct drctl_error err;
	struct repo *r;
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct minisign_signer signer;
	json_t *m, *got;
	char id[BACKUP_SET_ID_MAX], name[300];
	(void)state;

	err_clear(&err);
	r = open_local(mkdtemp(tmpdir));
	local_ops = r->ops;
	recording_ops = *r->ops;
	recording_ops.open_write = rec_open_write;
	r->ops = &recording_ops;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	minisign_signer_from_key(&sk, &signer);
	backup_set_new_id(id);
	assert_true(backup_set_id_valid(id));

	snprintf(name, sizeof(name), "backups/%s/files.tar.zst.age", id);
	assert_int_equal(repo_write_all(r, name, "object", 6, &err), 0);
	m = json_pack("{s:s, s:s, s:{s:{s:s, s:s, s:i}}}", "format", MANIFEST_FORMAT, "id", id, "components", "files",
		      "object", "files.tar.zst.age", "object_sha256",
		      "3c8727e019a42b444667a587b6001251becadabbb36bfed8087a92c18882d111", "object_size", 6);
	assert_int_equal(backup_set_publish(r, &signer, id, m, &err), 0);

	assert_int_equal(n_committed, 5);
	assert_non_null(strstr(committed[0], "files.tar.zst.age"));
	assert_non_null(strstr(committed[1], "/SHA256SUMS"));
	assert_non_null(strstr(committed[2], "/SHA256SUMS.minisig"));
	assert_non_null(strstr(committed[3], "/manifest.json.minisig"));
	assert_non_null(strstr(committed[4], "/manifest.json"));
	assert_null(strstr(committed[4], "minisig"));

	/* What was published loads back, signature checked. */
	assert_int_equal(backup_set_load_manifest(r, &pk, id, &got, &err), 0);
	assert_string_equal(json_string_value(json_object_get(got, "id")), id);
	json_decref(got);
	{
		json_t *sums;
		assert_int_equal(backup_set_load_sums(r, &pk, id, &sums, &err), 0);
		assert_string_equal(json_string_value(json_object_get(sums, "files.tar.zst.age")),
				    "3c8727e019a42b444667a587b6001251becadabbb36bfed8087a92c18882d111");
		json_decref(sums);
	}

	/* Another key does not verify it. */
	{
		struct minisign_secret_key sk2;
		struct minisign_public_key pk2;
		assert_int_equal(minisign_keygen(&sk2, &pk2, &err), 0);
		assert_int_equal(backup_set_load_manifest(r, &pk2, id, &got, &err), -1);
		assert_int_equal(err.code, EXIT_INTEGRITY);
		err_clear(&err);
	}
	json_decref(m);
	r->ops = local_ops;
	repo_close(r);
}

static void test_list_states(void **state)
{
	struct drctl_error err;
	struct repo *r;
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct minisign_signer signer;
	struct backup_set_info *sets;
	size_t n;
	char resolved[BACKUP_SET_ID_MAX];
	const char *complete = "20260101T000000Z-aaaa", *debris = "20260102T000000Z-bbbb",
		   *bad = "20260103T000000Z-cccc";
	json_t *m;
	(void)state;

	err_clear(&err);
	r = open_local(tmpdir);
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	minisign_signer_from_key(&sk, &signer);
	m = json_pack("{s:s, s:s, s:{}}", "format", MANIFEST_FORMAT, "id", complete, "components");
	assert_int_equal(backup_set_publish(r, &signer, complete, m, &err), 0);
	json_decref(m);
	/* debris: an object but no manifest */
	assert_int_equal(repo_write_all(r, "backups/20260102T000000Z-bbbb/files.tar.zst.age", "x", 1, &err), 0);
	/* invalid: a manifest whose signature belongs to other bytes */
	m = json_pack("{s:s, s:s, s:{}}", "format", MANIFEST_FORMAT, "id", bad, "components");
	assert_int_equal(backup_set_publish(r, &signer, bad, m, &err), 0);
	json_decref(m);
	assert_int_equal(repo_write_all(r, "backups/20260103T000000Z-cccc/manifest.json", "{}", 2, &err), 0);

	assert_int_equal(backup_set_list(r, &pk, &sets, &n, &err), 0);
	/* the set of the previous test, then these three, newest first */
	assert_int_equal(n, 4);
	assert_string_equal(sets[1].id, bad);
	assert_int_equal(sets[1].state, SET_INVALID);
	assert_string_equal(sets[2].id, debris);
	assert_int_equal(sets[2].state, SET_INCOMPLETE);
	assert_string_equal(sets[3].id, complete);
	assert_int_equal(sets[3].state, SET_COMPLETE);
	backup_set_list_free(sets, n);

	assert_int_equal(backup_set_resolve(r, &pk, debris, resolved, &err), -1);
	assert_non_null(strstr(err.message, "incomplete"));
	err_clear(&err);
	assert_int_equal(backup_set_remove(r, debris, &err), 0);
	assert_int_equal(backup_set_resolve(r, &pk, debris, resolved, &err), -1);
	assert_non_null(strstr(err.message, "does not exist"));
	repo_close(r);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		assert_int_equal(system(cmd), 0);
	}
}

/* Removal is publication backwards: manifest.json goes first, so from the
 * first step on the set is incomplete, never complete with objects missing. */
static char removed[16][256];
static size_t n_removed;
static int manifest_present_during_later_removal;

static int rec_remove(struct repo *r, const char *name, struct drctl_error *err)
{
	int rc = local_ops->remove(r, name, err);
	char manifest[300];
	uint64_t size;

	if (n_removed > 0) {
		snprintf(manifest, sizeof(manifest), "%.*s/manifest.json", (int)(strrchr(removed[0], '/') - removed[0]),
			 removed[0]);
		if (local_ops->stat(r, manifest, &size, err) != 0)
			manifest_present_during_later_removal = 1;
	}
	if (rc == 0 && n_removed < 16)
		snprintf(removed[n_removed++], 256, "%s", name);
	return rc;
}

static int rec_remove_dir(struct repo *r, const char *dir, struct drctl_error *err)
{
	int rc = local_ops->remove_dir(r, dir, err);
	if (rc == 0 && n_removed < 16)
		snprintf(removed[n_removed++], 256, "%s/", dir);
	return rc;
}

static void test_remove_takes_the_manifest_first(void **state)
{
	static char dir[] = "/tmp/drctl-test-remove.XXXXXX";
	const char *id = "20260104T000000Z-dddd";
	struct drctl_error err;
	struct repo *r;
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct minisign_signer signer;
	uint64_t size;
	json_t *m;
	(void)state;

	err_clear(&err);
	r = open_local(mkdtemp(dir));
	assert_non_null(r);
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	minisign_signer_from_key(&sk, &signer);
	assert_int_equal(repo_write_all(r, "backups/20260104T000000Z-dddd/files.tar.zst.age", "x", 1, &err), 0);
	assert_int_equal(repo_write_all(r, "backups/20260104T000000Z-dddd/redis.tar.zst.age.part-000001", "y", 1, &err), 0);
	m = json_pack("{s:s, s:s, s:{}}", "format", MANIFEST_FORMAT, "id", id, "components");
	assert_int_equal(backup_set_publish(r, &signer, id, m, &err), 0);
	json_decref(m);

	local_ops = r->ops;
	recording_ops = *r->ops;
	recording_ops.remove = rec_remove;
	recording_ops.remove_dir = rec_remove_dir;
	r->ops = &recording_ops;
	assert_int_equal(backup_set_remove(r, id, &err), 0);
	assert_int_equal(n_removed, 7);
	assert_string_equal(removed[0], "backups/20260104T000000Z-dddd/manifest.json");
	assert_string_equal(removed[1], "backups/20260104T000000Z-dddd/manifest.json.minisig");
	assert_string_equal(removed[2], "backups/20260104T000000Z-dddd/SHA256SUMS");
	assert_string_equal(removed[3], "backups/20260104T000000Z-dddd/SHA256SUMS.minisig");
	assert_string_equal(removed[4], "backups/20260104T000000Z-dddd/files.tar.zst.age");
	assert_string_equal(removed[5], "backups/20260104T000000Z-dddd/redis.tar.zst.age.part-000001");
	assert_string_equal(removed[6], "backups/20260104T000000Z-dddd/");
	assert_int_equal(manifest_present_during_later_removal, 0);
	assert_int_equal(repo_stat(r, "backups/20260104T000000Z-dddd", &size, &err), 0);
	/* Again, on what is no longer there: nothing to do, no error. */
	assert_int_equal(repo_remove(r, "backups/20260104T000000Z-dddd/manifest.json", &err), 0);
	r->ops = local_ops;
	repo_close(r);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_is_published_last),
		cmocka_unit_test(test_list_states),
		cmocka_unit_test(test_remove_takes_the_manifest_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
