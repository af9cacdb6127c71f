/*
 * storage conformance: the same cases against every storage driver, so a
 * driver is interchangeable with the others for everything above it.  Each
 * case checks a promise written in lib/storage/repo.h.
 *
 * The list conformance_fixtures[] (test_storage_conformance/fixtures.c) has
 * one fixture per row of the driver table
 * (a case refuses a row without one): the driver's type, a function that
 * makes a fresh, empty repository for one test and opens it, one that
 * removes it, and one that counts the temporaries the store holds but never
 * shows.  A driver for a remote store points its fixture at a test server
 * (the S3 one at s3rver, which CTest starts).
 * Every case (test_storage_conformance/objects.c and locks.c) runs against
 * every fixture; messages start with its type.  This file runs them, and
 * checks that the driver table and the fixture list agree.
 */
#include "tests/unit/test_storage_conformance/conformance.h"

/* --- the table and the list agree ---------------------------------------------- */

static void every_driver_has_a_fixture(void **state)
{
	size_t n;
	const struct repo_driver *const *drivers = repo_drivers(&n);
	(void)state;

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		size_t j;
		struct drctl_error err;
		struct config *cfg = config_new_empty();

		for (j = 0; j < conformance_fixture_count && strcmp(conformance_fixtures[j].type, drivers[i]->type); j++)
			;
		if (j == conformance_fixture_count)
			fail_msg("driver \"%s\" of the table has no fixture in the conformance list: add one to conformance_fixtures[]",
				 drivers[i]->type);
		if (!drivers[i]->open || !drivers[i]->summary)
			fail_msg("driver \"%s\" has no open function or no summary", drivers[i]->type);
		err_clear(&err);
		assert_non_null(cfg);
		if (config_set(cfg, "repository", "type", drivers[i]->type, &err) != 0)
			fail_msg("driver \"%s\" is not a value [repository] type accepts (%s): add it to lib/core/config_keys.c",
				 drivers[i]->type, err.message);
		config_free(cfg);
	}
	for (size_t j = 0; j < conformance_fixture_count; j++)
		if (!repo_driver_find(conformance_fixtures[j].type, NULL))
			fail_msg("fixture \"%s\" tests a driver the table does not have", conformance_fixtures[j].type);
}

static void an_unknown_type_is_a_config_error_listing_the_types(void **state)
{
	struct drctl_error err;
	size_t n;
	const struct repo_driver *const *drivers = repo_drivers(&n);
	(void)state;

	err_clear(&err);
	if (repo_driver_find("ftp", &err) != NULL)
		fail_msg("repo_driver_find(\"ftp\") finds a driver");
	if (err.code != EXIT_USAGE || strcmp(err.subject, "[repository] type") != 0)
		fail_msg("an unknown type gives exit code %d about \"%s\", expected %d about \"[repository] type\"", err.code,
			 err.subject, EXIT_USAGE);
	if (!strstr(err.message, "\"ftp\""))
		fail_msg("the unknown-type error does not name the value: \"%s\"", err.message);
	for (size_t i = 0; i < n; i++)
		if (!strstr(err.message, drivers[i]->type) || !strstr(err.hint, drivers[i]->type))
			fail_msg("the unknown-type error does not list the type \"%s\": \"%s\" (hint \"%s\")", drivers[i]->type,
				 err.message, err.hint);
	assert_ptr_equal(repo_driver_find(NULL, NULL), repo_driver_find("local", NULL));
}

int main(void)
{
	static struct CMUnitTest cases[64];
	const size_t n_cases = conformance_object_case_count + conformance_lock_case_count;
	const struct CMUnitTest table[] = {
		cmocka_unit_test(every_driver_has_a_fixture),
		cmocka_unit_test(an_unknown_type_is_a_config_error_listing_the_types),
	};
	int failed = cmocka_run_group_tests_name("driver table", table, NULL, NULL);
	/* DRCTL_TEST_STORAGE_FIXTURE=s3: the run against a second test server
	 * (tests/harness/with_s3_double.sh) leaves the other fixtures to the first. */
	const char *only = getenv("DRCTL_TEST_STORAGE_FIXTURE");
	int ran = 0;

	assert_true(n_cases <= sizeof(cases) / sizeof(cases[0]));
	memcpy(cases, conformance_object_cases, conformance_object_case_count * sizeof(cases[0]));
	memcpy(cases + conformance_object_case_count, conformance_lock_cases,
	       conformance_lock_case_count * sizeof(cases[0]));
	for (size_t i = 0; i < conformance_fixture_count; i++) {
		if (only && *only && strcmp(only, conformance_fixtures[i].type) != 0)
			continue;
		ran++;
		for (size_t k = 0; k < n_cases; k++)
			cases[k].initial_state = (void *)&conformance_fixtures[i];
		failed += _cmocka_run_group_tests(conformance_fixtures[i].type, cases, n_cases, NULL, NULL);
	}
	if (!ran) {
		fprintf(stderr, "DRCTL_TEST_STORAGE_FIXTURE=%s names no fixture of this suite\n", only);
		failed++;
	}
	return failed;
}
