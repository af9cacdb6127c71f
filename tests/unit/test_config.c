/*
 * Unit tests of lib/core/config.c: parsing, every kind of error (with the exact
 * message, as operators read it), precedence flag > env > file > default,
 * path resolution, lists, secrets from files and the init template.
 *
 * Each test starts from an environment without DRCTL_* and XDG_* variables
 * and with HOME pointing into a private temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/config.h"
#include "lib/core/config_private.h"
#include "tests/unit/unit_tmpdir.h"

static char tmpdir[PATH_MAX];
static char conf_path[PATH_MAX + 16];
static char *saved_home;

static int group_setup(void **state)
{
	char tmpl[] = "/tmp/drctl-test-config-XXXXXX";

	(void)state;
	if (!mkdtemp(tmpl) || !realpath(tmpl, tmpdir))
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/drctl.conf", tmpdir);
	saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unit_tmpdir_remove(tmpdir);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	free(saved_home);
	return 0;
}

/* A clean slate: no DRCTL_* or XDG_* variables, HOME in the temp folder. */
static int test_setup(void **state)
{
	extern char **environ;
	char names[64][128], home[PATH_MAX + 8];
	size_t n = 0;

	(void)state;
	for (char **e = environ; *e && n < 64; e++)
		if (!strncmp(*e, "DRCTL_", 6) || !strncmp(*e, "XDG_", 4))
			snprintf(names[n++], sizeof(names[0]), "%.*s", (int)strcspn(*e, "="), *e);
	for (size_t i = 0; i < n; i++)
		unsetenv(names[i]);
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	return 0;
}

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int load_text(const char *text, struct config **cfg, struct drctl_error *err)
{
	write_file(conf_path, text, strlen(text), 0600);
	err_clear(err);
	return config_load(cfg, conf_path, 0, err);
}

/* Loading text fails with "<conf_path>:<tail>" and the given hint. */
static void expect_file_error(const char *text, const char *tail, const char *hint)
{
	struct config *cfg = (void *)1;
	struct drctl_error err;
	char want[PATH_MAX + 256];

	assert_int_equal(load_text(text, &cfg, &err), -1);
	assert_null(cfg);
	snprintf(want, sizeof(want), "%s:%s", conf_path, tail);
	assert_string_equal(err.message, want);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_string_equal(err.subject, conf_path);
	if (hint)
		assert_string_equal(err.hint, hint);
}

static void test_load_reads_values_and_defaults(void **state)
{
	const char *path = TEST_DATA_DIR "/config/ok.conf", *items[8];
	struct config *cfg;
	struct drctl_error err;
	long n;

	(void)state;
	err_clear(&err);
	assert_int_equal(config_load(&cfg, path, 0, &err), 0);
	assert_string_equal(config_file(cfg), path);
	assert_string_equal(config_dir(cfg), TEST_DATA_DIR "/config");

	assert_string_equal(config_get(cfg, "repository", "type"), "local");
	assert_string_equal(config_get(cfg, "repository", "path"), "backups");
	assert_string_equal(config_get_path(cfg, "repository", "path"), TEST_DATA_DIR "/config/backups");
	assert_string_equal(config_get(cfg, "repository", "region"), "eu-west-1");
	assert_string_equal(config_get_path(cfg, "signing", "secret_key_file"),
			    TEST_DATA_DIR "/config/keys/signing.key");
	assert_string_equal(config_get_path(cfg, "signing", "public_key_file"), "/etc/drctl/signing.pub");
	assert_int_equal(config_get_bool(cfg, "encryption", "enabled"), 0);
	assert_int_equal(config_get_list(cfg, "encryption", "recipients", items, 8), 3);
	assert_string_equal(items[0], "age1aaa");
	assert_string_equal(items[1], "age1bbb");
	assert_string_equal(items[2], "age1ccc");
	/* '#' inside a value is not a comment; '=' after the first is part of the value. */
	assert_string_equal(config_get(cfg, "postgres", "conninfo"),
			    "host=db port=5432 dbname=agents_db options='-c x=1' # not a comment");
	assert_int_equal(config_get_int(cfg, "postgres", "jobs", &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(config_get(cfg, "redis", "url"), "  redis://h:1 \"q\" \\ ");
	assert_string_equal(config_get(cfg, "vault", "auth_method"), "approle");
	assert_int_equal(config_get_int(cfg, "retention", "keep_yearly", &n), 0);
	assert_int_equal(n, 3);

	/* Defaults of keys the file leaves out (retention rules are off until
	 * set; incomplete sets get a day's grace). */
	assert_int_equal(config_get_int(cfg, "retention", "keep_last", &n), 0);
	assert_int_equal(n, 0);
	{
		struct duration grace;
		assert_int_equal(config_get_duration(cfg, "retention", "incomplete_grace", &grace), 0);
		assert_int_equal(grace.hours, 24);
		assert_int_equal(config_get_duration(cfg, "retention", "keep_within", &grace), 0);
		assert_true(duration_is_zero(&grace));
	}
	assert_int_equal(config_get_int(cfg, "compression", "level", &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(config_get(cfg, "postgres", "databases"), "agents_db");
	assert_string_equal(config_get(cfg, "agents", "selector"), "role=agent");
	assert_string_equal(config_get_path(cfg, "vault", "kubernetes_token_file"),
			    "/var/run/secrets/kubernetes.io/serviceaccount/token");
	assert_null(config_get(cfg, "repository", "bucket"));
	assert_null(config_get_path(cfg, "encryption", "identity_file"));
	assert_int_equal(config_get_int(cfg, "repository", "bucket", &n), -1);
	assert_int_equal(config_get_list(cfg, "files", "paths", items, 8), 0);
	/* Unknown keys read as unset rather than crash. */
	assert_null(config_get(cfg, "repository", "nope"));
	assert_null(config_get(cfg, "nope", "path"));
	config_free(cfg);
}

static void test_empty_config_has_defaults(void **state)
{
	struct config *cfg = config_new_empty();

	(void)state;
	assert_non_null(cfg);
	assert_string_equal(config_file(cfg), "");
	assert_string_equal(config_get(cfg, "repository", "type"), "local");
	assert_string_equal(config_get(cfg, "redis", "url"), "redis://127.0.0.1:6379");
	assert_int_equal(config_get_bool(cfg, "encryption", "enabled"), 1);
	config_free(cfg);
}

static void test_unknown_section_suggests_close_name(void **state)
{
	(void)state;
	expect_file_error("# c\n[postgress]\n", "2: unknown section [postgress]", "did you mean [postgres]?");
}

static void test_unknown_section_lists_sections(void **state)
{
	/* The hint lists every section of the key table, in the table's order. */
	char want[1024] = "valid sections: ";
	const char *last = "";

	(void)state;
	for (size_t i = 0; i < config_key_count; i++) {
		if (!strcmp(config_keys[i].section, last))
			continue;
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s[%s]", *last ? ", " : "",
			 config_keys[i].section);
		last = config_keys[i].section;
	}
	assert_non_null(strstr(want, "[repository], [state], [signing], [encryption]"));
	expect_file_error("[colors]\n", "1: unknown section [colors]", want);
}

static void test_unknown_key_names_file_line_and_suggests(void **state)
{
	(void)state;
	expect_file_error("[repository]\ntype = local\npathz = /x\n",
			  "3: unknown key \"pathz\" in [repository]", "did you mean \"path\"?");
}

static void test_unknown_key_lists_valid_keys(void **state)
{
	(void)state;
	expect_file_error("[repository]\ncolour = red\n", "2: unknown key \"colour\" in [repository]",
			  "valid keys in [repository]: type, path, bucket, prefix, region, endpoint, "
			  "force_path_style, ca_file, timeout_seconds, lock_stale_minutes, access_key_id_file, secret_access_key_file, "
			  "session_token_file, storage_class, part_size, object_lock_days, object_lock_mode");
}

static void test_bad_int(void **state)
{
	(void)state;
	expect_file_error("[postgres]\n\njobs = abc\n", "3: [postgres] jobs = \"abc\" is not a whole number",
			  "write a decimal number, e.g. 4");
	expect_file_error("[postgres]\njobs = 4x\n", "2: [postgres] jobs = \"4x\" is not a whole number", NULL);
	expect_file_error("[compression]\nlevel = 25\n", "2: [compression] level = 25 is out of range (1..19)", "");
}

static void test_bad_duration(void **state)
{
	(void)state;
	expect_file_error("[retention]\nkeep_within = 30 days\n",
			  "2: [retention] keep_within = \"30 days\" is not a duration",
			  "write whole numbers with units y (years), m (months), w (weeks), d (days), h (hours), "
			  "e.g. 30d, 2w, 36h, 1y2m; or 0");
	expect_file_error("[retention]\nincomplete_grace = 24\n",
			  "2: [retention] incomplete_grace = \"24\" is not a duration", NULL);
}

static void test_bad_bool(void **state)
{
	(void)state;
	expect_file_error("[encryption]\nenabled = maybe\n", "2: [encryption] enabled = \"maybe\" is not true or false",
			  "use true or false (yes/no, on/off, 1/0 work too)");
}

static void test_bad_enum_lists_choices(void **state)
{
	(void)state;
	expect_file_error("[repository]\ntype = s4\n", "2: [repository] type = \"s4\" is not one of: local, s3", "");
	expect_file_error("[vault]\nauth_method = TOKEN\n",
			  "2: [vault] auth_method = \"TOKEN\" is not one of: token, kubernetes, approle", "");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_file_error("[repository]\npath = a\n[state]\n[repository]\npath = b\n",
			  "5: duplicate key \"path\" in [repository] (first set on line 2)", "keep one of the two lines");
}

static void test_malformed_lines(void **state)
{
	(void)state;
	expect_file_error("[repository]\njust some words\n", "2: expected \"key = value\" or \"[section]\"",
			  "write key = value, or start a comment with #");
	expect_file_error("path = x\n", "1: key \"path\" is outside any section", "put it under its [section] header");
	expect_file_error("[repository\n", "1: malformed section header", NULL);
	expect_file_error("[repository] # c\n", "1: malformed section header", NULL);
	expect_file_error("[repository]\n = x\n", "2: missing key name before '='", NULL);
	expect_file_error("[repository]\npath =\n", "2: [repository] path is empty", "give a path, or leave the key out");
}

static void test_quote_errors(void **state)
{
	(void)state;
	expect_file_error("[repository]\npath = \"abc\n",
			  "2: unterminated quote in the value of \"path\" in [repository]",
			  "close the quote with \", and write \\\" for a quote inside");
	expect_file_error("[repository]\npath = \"abc\\\"\n",
			  "2: unterminated quote in the value of \"path\" in [repository]", NULL);
	expect_file_error("[repository]\npath = \"a\" b\n",
			  "2: text after the closing quote of \"path\" in [repository]", NULL);
	expect_file_error("[repository]\npath = \"a\\n\"\n",
			  "2: unknown escape in the quoted value (only \\\" and \\\\ are allowed) of \"path\" in [repository]",
			  NULL);
}

static void test_long_line_and_nul_byte(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	char text[5000 + 64], want[PATH_MAX + 64];
	const char nul[] = "[repository]\npath = a\0b\n";

	(void)state;
	snprintf(text, sizeof(text), "[repository]\nbucket = %04999d\n", 0);
	snprintf(want, sizeof(want), "2: line is longer than 4096 characters");
	expect_file_error(text, want, NULL);
	/* Exactly at the limit is fine. */
	snprintf(text, sizeof(text), "[repository]\nbucket = %04087d\n", 0);
	assert_int_equal(load_text(text, &cfg, &err), 0);
	assert_int_equal(strlen(config_get(cfg, "repository", "bucket")), 4087);
	config_free(cfg);

	write_file(conf_path, nul, sizeof(nul) - 1, 0600);
	err_clear(&err);
	assert_int_equal(config_load(&cfg, conf_path, 0, &err), -1);
	snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", conf_path);
	assert_string_equal(err.message, want);
}

static void test_env_overrides_file(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	long n;

	(void)state;
	setenv("DRCTL_POSTGRES_JOBS", "8", 1);
	setenv("DRCTL_REPOSITORY_STORAGE_CLASS", "GLACIER", 1);
	setenv("DRCTL_REPOSITORY_PATH", "rel/repo", 1);
	setenv("DRCTL_REDIS_URL", "", 1); /* empty counts as unset */
	assert_int_equal(load_text("[postgres]\njobs = 4\n[repository]\npath = /r\n[redis]\nurl = redis://file:1\n",
				   &cfg, &err), 0);
	assert_int_equal(config_get_int(cfg, "postgres", "jobs", &n), 0);
	assert_int_equal(n, 8);
	assert_string_equal(config_get(cfg, "repository", "storage_class"), "GLACIER");
	/* A relative path from the environment is relative to the working directory. */
	assert_string_equal(config_get_path(cfg, "repository", "path"), "rel/repo");
	assert_string_equal(config_get(cfg, "redis", "url"), "redis://file:1");
	config_free(cfg);
}

/* [repository.NAME]: its own keys (paths against the file's folder), the
 * defaults for the others, nothing of [repository], DRCTL_REPOSITORY_* or
 * flags; "default" is [repository] with all of them; errors name the
 * line, the section, and the repositories there are. */
static void test_named_repositories(void **state)
{
	struct config *cfg, *off, *def;
	struct drctl_error err;
	char want[PATH_MAX + 64];
	long n;

	(void)state;
	setenv("DRCTL_REPOSITORY_STORAGE_CLASS", "GLACIER", 1);
	assert_int_equal(load_text("[repository]\npath = /r\npart_size = 6291456\n[postgres]\njobs = 3\n"
				   "[repository.offsite]\ntype = s3\nbucket = b\nca_file = ca.pem\n"
				   "[repository.back-2]\npath = rel\n",
				   &cfg, &err), 0);
	assert_int_equal(config_set(cfg, "repository", "prefix", "flag/", &err), 0);
	assert_int_equal(config_for_repository(cfg, "offsite", &off, &err), 0);
	assert_string_equal(config_get(off, "repository", "type"), "s3");
	assert_string_equal(config_get(off, "repository", "bucket"), "b");
	snprintf(want, sizeof(want), "%s/ca.pem", config_dir(cfg));
	assert_string_equal(config_get_path(off, "repository", "ca_file"), want);
	assert_null(config_get(off, "repository", "path"));
	assert_null(config_get(off, "repository", "storage_class"));
	assert_null(config_get(off, "repository", "prefix"));
	assert_int_equal(config_get_int(off, "repository", "part_size", &n), 0);
	assert_int_equal(n, 16777216); /* the default, not [repository]'s */
	assert_int_equal(config_get_int(off, "postgres", "jobs", &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(config_file(off), config_file(cfg));
	config_free(off);
	assert_int_equal(config_for_repository(cfg, "default", &def, &err), 0);
	assert_string_equal(config_get_path(def, "repository", "path"), "/r");
	assert_string_equal(config_get(def, "repository", "storage_class"), "GLACIER");
	assert_string_equal(config_get(def, "repository", "prefix"), "flag/");
	config_free(def);
	assert_int_equal(config_for_repository(cfg, "nowhere", &def, &err), -1);
	assert_null(def);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "no repository \"nowhere\""));
	assert_non_null(strstr(err.hint, "default, offsite, back-2"));
	config_free(cfg);
	unsetenv("DRCTL_REPOSITORY_STORAGE_CLASS");

	expect_file_error("[repository.offsite]\nbukcet = b\n", "2: unknown key \"bukcet\" in [repository]",
			  "did you mean \"bucket\"?");
	expect_file_error("[repository.offsite]\ntype = s3\ntype = local\n",
			  "3: duplicate key \"type\" in [repository.offsite] (first set on line 2)", NULL);
	expect_file_error("[repository.Off site]\n", "1: [repository.Off site] does not name a repository", NULL);
	expect_file_error("[repository.default]\n", "1: [repository.default] does not name a repository", NULL);
	expect_file_error("[repository.x]\npart_size = 12\n", "2: [repository] part_size = 12 is out of range (5242880..5368709120)", NULL);
}

static void test_env_bad_value_names_variable(void **state)
{
	struct config *cfg;
	struct drctl_error err;

	(void)state;
	setenv("DRCTL_POSTGRES_JOBS", "abc", 1);
	err_clear(&err);
	assert_int_equal(config_load(&cfg, NULL, 0, &err), -1);
	assert_string_equal(err.message,
			    "environment variable DRCTL_POSTGRES_JOBS: [postgres] jobs = \"abc\" is not a whole number");
	assert_string_equal(err.subject, "DRCTL_POSTGRES_JOBS");
	assert_int_equal(err.code, EXIT_USAGE);

	/* config_new_empty cannot report, so it skips the bad variable. */
	cfg = config_new_empty();
	assert_string_equal(config_get(cfg, "postgres", "jobs"), "2");
	config_free(cfg);
}

static void test_set_beats_env(void **state)
{
	struct config *cfg;
	struct drctl_error err;

	(void)state;
	setenv("DRCTL_POSTGRES_JOBS", "8", 1);
	assert_int_equal(load_text("[postgres]\njobs = 4\n", &cfg, &err), 0);
	assert_int_equal(config_set(cfg, "postgres", "jobs", "16", &err), 0);
	assert_string_equal(config_get(cfg, "postgres", "jobs"), "16");
	assert_int_equal(config_set(cfg, "postgres", "jobs", NULL, &err), 0);
	assert_string_equal(config_get(cfg, "postgres", "jobs"), "8");
	unsetenv("DRCTL_POSTGRES_JOBS");
	config_free(cfg);
}

static void test_set_validates(void **state)
{
	struct config *cfg = config_new_empty();
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(config_set(cfg, "postgres", "jobs", "x", &err), -1);
	assert_string_equal(err.message, "[postgres] jobs = \"x\" is not a whole number");
	assert_string_equal(err.subject, "[postgres] jobs");
	assert_string_equal(config_get(cfg, "postgres", "jobs"), "2");

	err_clear(&err);
	assert_int_equal(config_set(cfg, "repository", "pathz", "/x", &err), -1);
	assert_string_equal(err.message, "unknown key \"pathz\" in [repository]");
	assert_string_equal(err.hint, "did you mean \"path\"?");

	err_clear(&err);
	assert_int_equal(config_set(cfg, "repo", "path", "/x", &err), -1);
	assert_string_equal(err.message, "unknown section [repo]");
	config_free(cfg);
}

static void test_relative_paths_resolve_against_config_folder(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	char want[PATH_MAX + 64], sub[PATH_MAX + 8], cwd[PATH_MAX];

	(void)state;
	assert_int_equal(load_text("[repository]\npath = ../repo\n[signing]\nsecret_key_file = ~/keys/s.key\n"
				   "public_key_file = .\n[state]\ndir = ./state//x\n",
				   &cfg, &err), 0);
	assert_string_equal(config_get(cfg, "repository", "path"), "../repo");
	snprintf(want, sizeof(want), "%s/../repo", tmpdir);
	assert_string_equal(config_get_path(cfg, "repository", "path"), want);
	snprintf(want, sizeof(want), "%s/home/keys/s.key", tmpdir);
	assert_string_equal(config_get_path(cfg, "signing", "secret_key_file"), want);
	assert_string_equal(config_get_path(cfg, "signing", "public_key_file"), tmpdir);
	snprintf(want, sizeof(want), "%s/state//x", tmpdir);
	assert_string_equal(config_get_path(cfg, "state", "dir"), want);
	config_free(cfg);

	/* A relative config path: its folder is made absolute. */
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	mkdir(sub, 0700);
	snprintf(want, sizeof(want), "%s/x.conf", sub);
	write_file(want, "[repository]\npath = r\n", 22, 0600);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	err_clear(&err);
	assert_int_equal(config_load(&cfg, "./sub/x.conf", 0, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(config_file(cfg), "./sub/x.conf");
	assert_string_equal(config_dir(cfg), sub);
	snprintf(want, sizeof(want), "%s/r", sub);
	assert_string_equal(config_get_path(cfg, "repository", "path"), want);
	config_free(cfg);
}

static void test_list_splitting(void **state)
{
	struct config *cfg = config_new_empty();
	struct drctl_error err;
	const char *items[4];

	(void)state;
	err_clear(&err);
	assert_int_equal(config_set(cfg, "files", "paths", " /a , ,/b c,, ", &err), 0);
	assert_int_equal(config_get_list(cfg, "files", "paths", items, 4), 2);
	assert_string_equal(items[0], "/a");
	assert_string_equal(items[1], "/b c");
	/* The count is the whole list even when max is smaller. */
	items[1] = NULL;
	assert_int_equal(config_get_list(cfg, "files", "paths", items, 1), 2);
	assert_string_equal(items[0], "/a");
	assert_null(items[1]);
	assert_int_equal(config_set(cfg, "files", "paths", " , ", &err), 0);
	assert_int_equal(config_get_list(cfg, "files", "paths", items, 4), 0);
	config_free(cfg);
}

static void test_secret_from_file(void **state)
{
	struct config *cfg = config_new_empty();
	struct drctl_error err;
	char pw[PATH_MAX + 16], two[PATH_MAX + 16], *value;

	(void)state;
	snprintf(pw, sizeof(pw), "%s/redis.pw", tmpdir);
	snprintf(two, sizeof(two), "%s/pg.pw", tmpdir);
	write_file(pw, "s3cret\n", 7, 0600);
	write_file(two, "two\n\n", 5, 0400);
	err_clear(&err);

	assert_int_equal(config_get_secret(cfg, "redis", "password", &value, &err), 0);
	assert_null(value);
	assert_int_equal(config_set(cfg, "redis", "password_file", pw, &err), 0);
	assert_int_equal(config_get_secret(cfg, "redis", "password", &value, &err), 1);
	assert_string_equal(value, "s3cret");
	config_secret_free(value);
	/* Asking for the _file key itself reads the file too. */
	assert_int_equal(config_get_secret(cfg, "redis", "password_file", &value, &err), 1);
	assert_string_equal(value, "s3cret");
	config_secret_free(value);
	/* The key itself wins over its file. */
	assert_int_equal(config_set(cfg, "redis", "password", "direct", &err), 0);
	assert_int_equal(config_get_secret(cfg, "redis", "password", &value, &err), 1);
	assert_string_equal(value, "direct");
	config_secret_free(value);

	/* [postgres] has only password_file; one trailing newline is stripped. */
	assert_int_equal(config_set(cfg, "postgres", "password_file", two, &err), 0);
	assert_int_equal(config_get_secret(cfg, "postgres", "password", &value, &err), 1);
	assert_string_equal(value, "two\n");
	config_secret_free(value);

	assert_int_equal(err.code, 0);
	assert_int_equal(config_get_secret(cfg, "redis", "nope", &value, &err), -1);
	assert_string_equal(err.message, "no key [redis] nope or nope_file is known");
	config_free(cfg);
}

static void test_secret_file_readable_by_others_refused(void **state)
{
	struct config *cfg = config_new_empty();
	struct drctl_error err;
	char pw[PATH_MAX + 16], want[2 * PATH_MAX], *value = (char *)1;

	(void)state;
	snprintf(pw, sizeof(pw), "%s/vault.token", tmpdir);
	write_file(pw, "hvs.topsecret\n", 14, 0644);
	err_clear(&err);
	assert_int_equal(config_set(cfg, "vault", "token_file", pw, &err), 0);
	assert_int_equal(config_get_secret(cfg, "vault", "token", &value, &err), -1);
	assert_null(value);
	snprintf(want, sizeof(want), "[vault] token_file %s is readable by others (mode 0644); refusing to use it", pw);
	assert_string_equal(err.message, want);
	snprintf(want, sizeof(want), "chmod 600 '%s' (and check who may have read it)", pw);
	assert_string_equal(err.hint, want);
	assert_null(strstr(err.message, "topsecret"));
	config_free(cfg);
}

static void test_missing_file_hints_init(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	char path[PATH_MAX + 16], want[PATH_MAX + 64];

	(void)state;
	snprintf(path, sizeof(path), "%s/nope.conf", tmpdir);
	err_clear(&err);
	assert_int_equal(config_load(&cfg, path, 0, &err), -1);
	snprintf(want, sizeof(want), "configuration file %s does not exist", path);
	assert_string_equal(err.message, want);
	assert_string_equal(err.hint,
			    "run `drctl init` to create it, or point --config or DRCTL_CONFIG at an existing file");
	assert_int_equal(err.code, EXIT_USAGE);

	err_clear(&err);
	assert_int_equal(config_load(&cfg, path, 1, &err), 0);
	assert_string_equal(config_file(cfg), path);
	assert_string_equal(config_dir(cfg), tmpdir);
	assert_string_equal(config_get(cfg, "repository", "type"), "local");
	config_free(cfg);
}

static void test_template_round_trip(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	const char *items[4];
	char want[PATH_MAX + 64];
	char *t = config_render_template("age1xyz", "/k/signing.key", "signing.pub", "/k/age.txt",
					 "/repo \"q\" ", "state");

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "\n[metrics]\n"));
	assert_non_null(strstr(t, "\nrecipients = age1xyz\n"));
	assert_non_null(strstr(t, "\npath = \"/repo \\\"q\\\" \"\n"));
	assert_non_null(strstr(t, "\n# conninfo = host=127.0.0.1 dbname=agents_db\n"));
	assert_non_null(strstr(t, "\n# S3 region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region in "
				  "~/.aws/config, else us-east-1)\n# region = us-east-1\n"));
	assert_non_null(strstr(t, "\n# part_size = 16777216\n# S3 Object Lock"));
	assert_non_null(strstr(t, "\n# tls_server_name =\n"));
	assert_int_equal(load_text(t, &cfg, &err), 0);
	free(t);
	assert_int_equal(config_get_list(cfg, "encryption", "recipients", items, 4), 1);
	assert_string_equal(items[0], "age1xyz");
	assert_string_equal(config_get_path(cfg, "signing", "secret_key_file"), "/k/signing.key");
	snprintf(want, sizeof(want), "%s/signing.pub", tmpdir);
	assert_string_equal(config_get_path(cfg, "signing", "public_key_file"), want);
	assert_string_equal(config_get_path(cfg, "encryption", "identity_file"), "/k/age.txt");
	assert_string_equal(config_get(cfg, "repository", "path"), "/repo \"q\" ");
	snprintf(want, sizeof(want), "%s/state", tmpdir);
	assert_string_equal(config_get_path(cfg, "state", "dir"), want);
	assert_null(config_get(cfg, "repository", "bucket"));
	/* No default region: an unset one falls back to AWS_REGION and the AWS config file. */
	assert_null(config_get(cfg, "repository", "region"));
	config_free(cfg);

	/* A value a line cannot hold is refused. */
	assert_null(config_render_template("age1\nx", NULL, NULL, NULL, NULL, NULL));
}

/* Uncommenting every shown default and example must give a valid file. */
static void test_template_defaults_and_examples_are_valid(void **state)
{
	struct config *cfg;
	struct drctl_error err;
	char *t = config_render_template(NULL, NULL, NULL, NULL, NULL, NULL), *out, *w, *line;
	size_t uncommented = 0, bare = 0;

	(void)state;
	assert_non_null(t);
	assert_null(strstr(t, "\nrecipients ="));
	out = calloc(1, strlen(t) + 1);
	w = out;
	for (line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
		size_t key = strspn(line + 2, "abcdefghijklmnopqrstuvwxyz_");

		if (!strncmp(line, "# ", 2) && key && !strncmp(line + 2 + key, " = ", 3) && line[5 + key]) {
			line += 2;
			uncommented++;
		} else if (!strncmp(line, "# ", 2) && key && !strcmp(line + 2 + key, " =")) {
			bare++; /* no default, no example: stays commented */
		}
		w += sprintf(w, "%s\n", line);
	}
	free(t);
	/* Every key of the table is in the template: with its default or
	 * example when it has one, bare otherwise. */
	{
		size_t with_value = 0, without = 0;
		for (size_t i = 0; i < config_key_count; i++) {
			if (config_keys[i].def || config_keys[i].example)
				with_value++;
			else
				without++;
		}
		assert_int_equal(uncommented, with_value);
		assert_int_equal(bare, without);
		assert_true(with_value > 40);
	}
	assert_int_equal(load_text(out, &cfg, &err), 0);
	free(out);
	assert_string_equal(config_get(cfg, "postgres", "conninfo"), "host=127.0.0.1 dbname=agents_db");
	assert_string_equal(config_get(cfg, "repository", "bucket"), "drctl-backups");
	assert_string_equal(config_get(cfg, "repository", "object_lock_mode"), "GOVERNANCE");
	assert_int_equal(config_get_bool(cfg, "repository", "force_path_style"), 0);
	assert_string_equal(config_get_path(cfg, "repository", "secret_access_key_file"),
			    "/run/secrets/s3-secret-access-key");
	config_free(cfg);
}

static void test_default_path_precedence(void **state)
{
	char out[PATH_MAX], want[PATH_MAX + 64], xdg[PATH_MAX + 8];

	(void)state;
	setenv("DRCTL_CONFIG", "/from/env.conf", 1);
	config_default_path("/explicit.conf", out, sizeof(out));
	assert_string_equal(out, "/explicit.conf");
	config_default_path(NULL, out, sizeof(out));
	assert_string_equal(out, "/from/env.conf");
	config_default_path("", out, sizeof(out));
	assert_string_equal(out, "/from/env.conf");
	unsetenv("DRCTL_CONFIG");

	/* An existing per-user file wins over /etc/drctl/drctl.conf. */
	snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
	mkdir(xdg, 0700);
	snprintf(want, sizeof(want), "%s/drctl", xdg);
	mkdir(want, 0700);
	snprintf(want, sizeof(want), "%s/drctl/drctl.conf", xdg);
	write_file(want, "", 0, 0600);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	config_default_path(NULL, out, sizeof(out));
	assert_string_equal(out, want);
	unlink(want);
	if (access("/etc/drctl/drctl.conf", F_OK) != 0) {
		/* Nothing exists: the per-user path, where init writes. */
		config_default_path(NULL, out, sizeof(out));
		assert_string_equal(out, want);
		/* A relative XDG_CONFIG_HOME is ignored, as the XDG spec says. */
		setenv("XDG_CONFIG_HOME", "rel", 1);
		config_default_path(NULL, out, sizeof(out));
		snprintf(want, sizeof(want), "%s/home/.config/drctl/drctl.conf", tmpdir);
		assert_string_equal(out, want);
	}
}

static void test_state_dir_default(void **state)
{
	struct config *cfg;

	(void)state;
	setenv("XDG_STATE_HOME", "/x/state", 1);
	cfg = config_new_empty();
	assert_string_equal(config_get_path(cfg, "state", "dir"), "/x/state/drctl");
	config_free(cfg);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/h", 1);
	cfg = config_new_empty();
	assert_string_equal(config_get_path(cfg, "state", "dir"), "/h/.local/state/drctl");
	config_free(cfg);
}

#define T(f) cmocka_unit_test_setup(f, test_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_load_reads_values_and_defaults),
		T(test_empty_config_has_defaults),
		T(test_unknown_section_suggests_close_name),
		T(test_unknown_section_lists_sections),
		T(test_unknown_key_names_file_line_and_suggests),
		T(test_unknown_key_lists_valid_keys),
		T(test_bad_int),
		T(test_bad_duration),
		T(test_bad_bool),
		T(test_bad_enum_lists_choices),
		T(test_duplicate_key),
		T(test_malformed_lines),
		T(test_quote_errors),
		T(test_long_line_and_nul_byte),
		T(test_env_overrides_file),
		T(test_named_repositories),
		T(test_env_bad_value_names_variable),
		T(test_set_beats_env),
		T(test_set_validates),
		T(test_relative_paths_resolve_against_config_folder),
		T(test_list_splitting),
		T(test_secret_from_file),
		T(test_secret_file_readable_by_others_refused),
		T(test_missing_file_hints_init),
		T(test_template_round_trip),
		T(test_template_defaults_and_examples_are_valid),
		T(test_default_path_precedence),
		T(test_state_dir_default),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
