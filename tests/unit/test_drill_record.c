/*
 * test_drill_record: the drill's signed records in a local repository.
 * Each object is written once: publishing twice writes nothing new, and a
 * publish that died between record.json and its signature is finished by
 * signing the record.json that is there (never by writing a new one); the
 * listing trusts only records whose signature verifies with the public key,
 * whose format is known and that name the run of their folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/core/config.h"
#include "lib/crypto/minisign.h"
#include "lib/set/drill_record.h"
#include "lib/storage/repo.h"
#include "tests/unit/unit_tmpdir.h"

static char dir[64];
static struct repo *repo;
static struct minisign_secret_key sk;
static struct minisign_public_key pk;
static struct minisign_signer signer;
static unsigned writes; /* objects written through the repository */

static struct repo_ops counting_ops;
static const struct repo_ops *local_ops;

static struct sink *count_open_write(struct repo *r, const char *name, struct drctl_error *err)
{
	writes++;
	return local_ops->open_write(r, name, err);
}

static int setup(void **state)
{
	struct drctl_error err;
	struct config *cfg = config_new_empty();
	(void)state;
	err_clear(&err);
	assert_int_equal(unit_tmpdir_make(dir, sizeof(dir), "test-drill"), 0);
	assert_int_equal(config_set(cfg, "repository", "path", dir, &err), 0);
	assert_int_equal(repo_open(&repo, cfg, &err), 0);
	config_free(cfg);
	local_ops = repo->ops;
	counting_ops = *repo->ops;
	counting_ops.open_write = count_open_write;
	repo->ops = &counting_ops;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	minisign_signer_from_key(&sk, &signer);
	writes = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	repo_close(repo);
	unit_tmpdir_remove(dir);
	return 0;
}

static json_t *list(void)
{
	struct drctl_error err;
	json_t *out = NULL;
	err_clear(&err);
	assert_int_equal(drill_record_list(repo, &pk, &out, &err), 0);
	return out;
}

static void publish(const char *run, double rto, int want_already)
{
	struct drctl_error err;
	json_t *rec = json_pack("{s:s, s:{s:f}, s:f}", "status", "passed", "rto_seconds", "total", rto, "rpo_seconds", 3600.0);
	int already = -1;
	err_clear(&err);
	assert_int_equal(drill_record_publish(repo, &signer, run, rec, &already, &err), 0);
	assert_int_equal(already, want_already);
	json_decref(rec);
}

static void test_publish_once_and_list(void **state)
{
	json_t *l;
	(void)state;
	publish("20261127T020000Z-drill-0001", 61.5, 0);
	assert_int_equal(writes, 2); /* record.json, then its signature */
	publish("20261127T020000Z-drill-0001", 99.0, 1); /* again: nothing written */
	assert_int_equal(writes, 2);
	publish("20261225T020000Z-drill-0002", 70.0, 0);
	l = list();
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "run")), "20261127T020000Z-drill-0001");
	assert_true(json_is_true(json_object_get(json_array_get(l, 0), "valid")));
	/* the first publish's values stand */
	assert_true(json_number_value(json_object_get(json_object_get(json_object_get(json_array_get(l, 0), "record"),
								       "rto_seconds"), "total")) == 61.5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(l, 1), "record"), "format")),
			    DRILL_RECORD_FORMAT);
	json_decref(l);
}

static void test_finish_after_a_crash_between_the_two(void **state)
{
	struct drctl_error err;
	char name[REPO_NAME_MAX];
	const char *text = "{\"format\":\"drctl-drill-record/1\",\"run\":\"20261127T020000Z-drill-0003\",\"status\":\"passed\"}";
	json_t *l;
	(void)state;
	err_clear(&err);
	drill_record_name("20261127T020000Z-drill-0003", 0, name, sizeof(name));
	assert_int_equal(repo_write_all(repo, name, text, strlen(text), &err), 0);
	l = list();
	assert_false(json_is_true(json_object_get(json_array_get(l, 0), "valid")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "reason")), "record.json has no signature");
	json_decref(l);
	writes = 0;
	publish("20261127T020000Z-drill-0003", 1.0, 1);
	assert_int_equal(writes, 1); /* only the signature: record.json is not rewritten */
	l = list();
	assert_true(json_is_true(json_object_get(json_array_get(l, 0), "valid")));
	assert_null(json_object_get(json_object_get(json_array_get(l, 0), "record"), "rto_seconds"));
	json_decref(l);
}

static void test_untrusted_records(void **state)
{
	struct drctl_error err;
	char name[REPO_NAME_MAX], *text = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	struct minisign_secret_key other_sk;
	struct minisign_public_key other_pk;
	struct minisign_signer other;
	json_t *l, *e;
	size_t i;
	(void)state;
	err_clear(&err);
	publish("20261127T020000Z-drill-0004", 61.5, 0);
	publish("20261225T020000Z-drill-0005", 62.0, 0);
	/* tampered: one value changed, the signature kept */
	drill_record_name("20261127T020000Z-drill-0004", 0, name, sizeof(name));
	assert_int_equal(repo_read_all(repo, name, 1 << 20, &text, &len, &err), 0);
	text[strstr(text, "61.5") - text + 1] = '2';
	assert_int_equal(repo_write_all(repo, name, text, len, &err), 0);
	/* a genuine record copied into another run's folder */
	drill_record_name("20261225T020000Z-drill-0005", 0, name, sizeof(name));
	free(text);
	assert_int_equal(repo_read_all(repo, name, 1 << 20, &text, &len, &err), 0);
	drill_record_name("20261225T020000Z-drill-0005", 1, name, sizeof(name));
	assert_int_equal(repo_read_all(repo, name, 4096, &sig, &siglen, &err), 0);
	assert_int_equal(repo_write_all(repo, "drills/20270129T020000Z-drill-0006/record.json", text, len, &err), 0);
	assert_int_equal(repo_write_all(repo, "drills/20270129T020000Z-drill-0006/record.json.minisig", sig, siglen, &err), 0);
	/* signed by another key */
	assert_int_equal(minisign_keygen(&other_sk, &other_pk, &err), 0);
	minisign_signer_from_key(&other_sk, &other);
	{
		json_t *rec = json_object();
		int already;
		assert_int_equal(drill_record_publish(repo, &other, "20270226T020000Z-drill-0007", rec, &already, &err), 0);
		json_decref(rec);
	}
	l = list();
	assert_int_equal(json_array_size(l), 4);
	json_array_foreach(l, i, e) {
		const char *run = json_string_value(json_object_get(e, "run"));
		const char *why = json_string_value(json_object_get(e, "reason"));
		int valid = json_is_true(json_object_get(e, "valid"));
		if (!strcmp(run, "20261225T020000Z-drill-0005")) {
			assert_true(valid);
			continue;
		}
		assert_false(valid);
		assert_null(json_object_get(e, "record")); /* no untrusted value */
		if (!strcmp(run, "20261127T020000Z-drill-0004") || !strcmp(run, "20270226T020000Z-drill-0007"))
			assert_non_null(strstr(why, "the signature does not verify"));
		else
			assert_non_null(strstr(why, "copied into another run's folder"));
	}
	json_decref(l);
	free(text);
	free(sig);
	minisign_secret_key_wipe(&other_sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_once_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_after_a_crash_between_the_two, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_records, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
