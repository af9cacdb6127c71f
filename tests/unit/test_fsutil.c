/*
 * Unit tests of lib/core/fsutil.c: mkdir -p, the folders of a file, and the
 * atomic replacement of a small file (content, mode, no temporary left
 * behind, the old content kept when the write cannot happen).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/fsutil.h"
#include "tests/unit/unit_tmpdir.h"

static char root[256];

static int setup(void **state)
{
	(void)state;
	return unit_tmpdir_make(root, sizeof(root), "fsutil");
}

static int teardown(void **state)
{
	(void)state;
	return unit_tmpdir_remove(root);
}

static void read_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;
	assert_non_null(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static int entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_mkdir_p_makes_every_level_and_is_idempotent(void **state)
{
	char path[PATH_MAX];
	struct drctl_error err = { 0 };
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/a/b/c", root);
	assert_int_equal(fs_mkdir_p(path, 0700, NULL, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fs_mkdir_p(path, 0700, NULL, &err), 0);
	assert_false(err_is_set(&err));
}

static void test_mkdir_p_names_the_folder_it_cannot_make(void **state)
{
	char file[512], path[PATH_MAX];
	struct drctl_error err = { 0 };
	(void)state;

	snprintf(file, sizeof(file), "%s/plainfile", root);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0600, &err), 0);
	snprintf(path, sizeof(path), "%s/below", file);
	assert_int_equal(fs_mkdir_p(path, 0700, "the hint", &err), -1);
	assert_int_equal(err.code, EXIT_IO);
	assert_non_null(strstr(err.message, "plainfile"));
	assert_string_equal(err.hint, "the hint");
}

static void test_mkdir_parents_makes_only_the_folders_of_a_file(void **state)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct drctl_error err = { 0 };
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/x/y/file.json", root);
	snprintf(dir, sizeof(dir), "%s/x/y", root);
	assert_int_equal(fs_mkdir_parents(path, 0750, NULL, &err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(path, &st), -1);
}

static void test_write_atomic_replaces_whole_with_mode_and_leaves_no_temporary(void **state)
{
	char dir[512], path[PATH_MAX], back[64];
	struct drctl_error err = { 0 };
	struct stat st;
	(void)state;

	snprintf(dir, sizeof(dir), "%s/atomic", root);
	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(fs_mkdir_p(dir, 0700, NULL, &err), 0);
	assert_int_equal(fs_write_atomic(path, "first version", 13, 0600, &err), 0);
	read_file(path, back, sizeof(back));
	assert_string_equal(back, "first version");
	assert_int_equal(fs_write_atomic(path, "second", 6, 0640, &err), 0);
	read_file(path, back, sizeof(back));
	assert_string_equal(back, "second");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(entries_in(dir), 1);
}

static void test_write_atomic_failure_keeps_the_old_file(void **state)
{
	char dir[512], path[PATH_MAX], back[64];
	struct drctl_error err = { 0 };
	(void)state;

	if (geteuid() == 0) {
		/* root writes into a 0500 folder anyway: prove the same with a
		 * target that is a folder, which rename refuses. */
		snprintf(dir, sizeof(dir), "%s/target-is-dir", root);
		snprintf(path, sizeof(path), "%s/target-is-dir/inner", root);
		assert_int_equal(fs_mkdir_p(path, 0700, NULL, &err), 0);
		assert_int_equal(fs_write_atomic(dir, "new", 3, 0600, &err), -1);
		assert_int_equal(err.code, EXIT_IO);
		assert_int_equal(entries_in(root) >= 1, 1);
		assert_int_equal(entries_in(dir), 1); /* only "inner": no temporary left */
		return;
	}
	snprintf(dir, sizeof(dir), "%s/readonly", root);
	snprintf(path, sizeof(path), "%s/keep.txt", dir);
	assert_int_equal(fs_mkdir_p(dir, 0700, NULL, &err), 0);
	assert_int_equal(fs_write_atomic(path, "old", 3, 0600, &err), 0);
	assert_int_equal(chmod(dir, 0500), 0);
	assert_int_equal(fs_write_atomic(path, "new", 3, 0600, &err), -1);
	assert_int_equal(err.code, EXIT_IO);
	chmod(dir, 0700);
	read_file(path, back, sizeof(back));
	assert_string_equal(back, "old");
	assert_int_equal(entries_in(dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mkdir_p_makes_every_level_and_is_idempotent),
		cmocka_unit_test(test_mkdir_p_names_the_folder_it_cannot_make),
		cmocka_unit_test(test_mkdir_parents_makes_only_the_folders_of_a_file),
		cmocka_unit_test(test_write_atomic_replaces_whole_with_mode_and_leaves_no_temporary),
		cmocka_unit_test(test_write_atomic_failure_keeps_the_old_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
