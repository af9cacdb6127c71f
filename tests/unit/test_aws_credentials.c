/* aws_credentials: every source of S3 credentials ([repository] *_file keys,
 * AWS_* variables, the shared credentials file and its profiles), their
 * precedence, the region and endpoint chains, and the errors: a missing key
 * (exit 3, naming the source), a file readable by others (exit 2), and never
 * a secret in any message.  HOME points at a temporary folder, so ~/.aws is
 * the test's own. */
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

#include "lib/clients/aws_credentials.h"
#include "tests/unit/unit_tmpdir.h"

#define SECRET_DEFAULT "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SECRET_PROD "prodSECRETprodSECRETprodSECRET/+prodSECR"
#define TOKEN_PROD "FwoGZXIvYXdzPRODTOKENvalue+/=="
#define SECRET_ENV "envSECRETenvSECRETenvSECRETenvSECRETenvS"
#define SECRET_FILE "fileSECRETfileSECRETfileSECRETfileSECRET"

static char tmpdir[PATH_MAX], aws_dir[PATH_MAX + 8], creds_path[PATH_MAX + 32], config_path[PATH_MAX + 32];

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "DRCTL_REPOSITORY_REGION",
	"DRCTL_REPOSITORY_ENDPOINT", "DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE",
	"DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE", "DRCTL_REPOSITORY_SESSION_TOKEN_FILE",
};

static const char CREDENTIALS[] =
	"# written by aws configure\n"
	"[default]\n"
	"aws_access_key_id = AKIADEFAULTEXAMPLE\n"
	"aws_secret_access_key = " SECRET_DEFAULT "\n"
	"\n"
	"; a profile with temporary credentials\n"
	"[prod]\n"
	"AWS_Access_Key_Id=ASIAPRODEXAMPLE\n"
	"aws_secret_access_key:" SECRET_PROD "   \n"
	"aws_session_token = " TOKEN_PROD "\n"
	"\n"
	"[halfway]\n"
	"aws_access_key_id = AKIAHALFEXAMPLE\n";

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (unit_tmpdir_make(tmpdir, sizeof(tmpdir), "awscred") != 0)
		return -1;
	snprintf(aws_dir, sizeof(aws_dir), "%s/.aws", tmpdir);
	snprintf(creds_path, sizeof(creds_path), "%s/credentials", aws_dir);
	snprintf(config_path, sizeof(config_path), "%s/config", aws_dir);
	for (size_t i = 0; i < sizeof(aws_vars) / sizeof(aws_vars[0]); i++)
		unsetenv(aws_vars[i]);
	setenv("HOME", tmpdir, 1);
	return mkdir(aws_dir, 0700);
}

static int teardown(void **state)
{
	(void)state;
	return unit_tmpdir_remove(tmpdir);
}

static void assert_no_secret(const struct drctl_error *err)
{
	static const char *const secrets[] = { SECRET_DEFAULT, SECRET_PROD, TOKEN_PROD, SECRET_ENV, SECRET_FILE,
					       "prodSECRET", "envSECRET", "fileSECRET", "EXAMPLEKEY" };

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		assert_null(strstr(err->message, secrets[i]));
		assert_null(strstr(err->subject, secrets[i]));
		assert_null(strstr(err->hint, secrets[i]));
	}
}

/* Load, expecting failure with this code and these words in the message. */
static void expect_error(struct config *cfg, int code, const char *in_message, const char *in_hint)
{
	struct aws_credentials cred;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(aws_credentials_load(cfg, &cred, &err), -1);
	print_message("error: %s [%s] (%s)\n", err.message, err.subject, err.hint);
	assert_int_equal(err.code, code);
	assert_non_null(strstr(err.message, in_message));
	if (in_hint)
		assert_non_null(strstr(err.hint, in_hint));
	assert_null(cred.secret_access_key);
	assert_no_secret(&err);
}

static void expect_keys(struct config *cfg, const char *id, const char *secret, const char *token,
			const char *source)
{
	struct aws_credentials cred;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(aws_credentials_load(cfg, &cred, &err), 0);
	assert_string_equal(cred.access_key_id, id);
	assert_string_equal(cred.secret_access_key, secret);
	if (token)
		assert_string_equal(cred.session_token, token);
	else
		assert_null(cred.session_token);
	assert_string_equal(cred.source, source);
	aws_credentials_clear(&cred);
	assert_null(cred.secret_access_key);
}

static struct config *empty_config(void)
{
	struct config *cfg = config_new_empty();

	assert_non_null(cfg);
	return cfg;
}

static void set_key(struct config *cfg, const char *key, const char *value)
{
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(config_set(cfg, "repository", key, value, &err), 0);
}

static void test_nothing_given_is_not_found_with_every_way_in_the_hint(void **state)
{
	struct config *cfg = empty_config();

	(void)state;
	expect_error(cfg, EXIT_NOT_FOUND, "no S3 credentials", "access_key_id_file");
	expect_error(cfg, EXIT_NOT_FOUND, "no S3 credentials", "AWS_ACCESS_KEY_ID");
	expect_error(cfg, EXIT_NOT_FOUND, "no S3 credentials", "~/.aws/credentials");
	expect_error(cfg, EXIT_NOT_FOUND, "no S3 credentials", "AWS_PROFILE");
	/* a credentials file without [default] is no credentials either */
	write_file(creds_path, "[other]\naws_access_key_id = A\naws_secret_access_key = B\n", 0600);
	expect_error(cfg, EXIT_NOT_FOUND, "no S3 credentials", "AWS_SHARED_CREDENTIALS_FILE");
	config_free(cfg);
}

static void test_shared_file_default_profile(void **state)
{
	struct config *cfg = empty_config();
	char source[PATH_MAX + 64];

	(void)state;
	write_file(creds_path, CREDENTIALS, 0600);
	snprintf(source, sizeof(source), "%s [default]", creds_path);
	expect_keys(cfg, "AKIADEFAULTEXAMPLE", SECRET_DEFAULT, NULL, source);
	config_free(cfg);
}

static void test_shared_file_profile_selection(void **state)
{
	struct config *cfg = empty_config();
	char source[PATH_MAX + 64];

	(void)state;
	write_file(creds_path, CREDENTIALS, 0600);
	setenv("AWS_PROFILE", "prod", 1);
	snprintf(source, sizeof(source), "%s [prod]", creds_path);
	/* key names are case-insensitive, ':' works as '=', values are trimmed */
	expect_keys(cfg, "ASIAPRODEXAMPLE", SECRET_PROD, TOKEN_PROD, source);

	setenv("AWS_PROFILE", "staging", 1);
	expect_error(cfg, EXIT_NOT_FOUND, "profile staging (AWS_PROFILE) is not in", "[staging]");
	setenv("AWS_PROFILE", "halfway", 1);
	expect_error(cfg, EXIT_NOT_FOUND, "[halfway] has no aws_secret_access_key", "aws_secret_access_key");
	config_free(cfg);
}

static void test_shared_file_named_by_its_variable(void **state)
{
	struct config *cfg = empty_config();
	char other[PATH_MAX + 32], source[PATH_MAX + 64];

	(void)state;
	write_file(creds_path, CREDENTIALS, 0600);
	snprintf(other, sizeof(other), "%s/elsewhere", tmpdir);
	write_file(other, "[default]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=" SECRET_FILE "\n", 0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", other, 1);
	snprintf(source, sizeof(source), "%s [default]", other);
	expect_keys(cfg, "AKIAOTHER", SECRET_FILE, NULL, source);

	unlink(other);
	expect_error(cfg, EXIT_NOT_FOUND, other, "AWS_SHARED_CREDENTIALS_FILE");
	config_free(cfg);
}

static void test_shared_file_readable_by_others_is_refused(void **state)
{
	struct config *cfg = empty_config();

	(void)state;
	write_file(creds_path, CREDENTIALS, 0644);
	expect_error(cfg, EXIT_USAGE, "readable by others", "chmod 600");
	write_file(creds_path, CREDENTIALS, 0640);
	expect_error(cfg, EXIT_USAGE, creds_path, "chmod 600");
	config_free(cfg);
}

static void test_environment_beats_the_shared_file(void **state)
{
	struct config *cfg = empty_config();

	(void)state;
	write_file(creds_path, CREDENTIALS, 0600);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_ENV, 1);
	expect_keys(cfg, "AKIAENVEXAMPLE", SECRET_ENV, NULL,
		    "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
	setenv("AWS_SESSION_TOKEN", TOKEN_PROD, 1);
	expect_keys(cfg, "AKIAENVEXAMPLE", SECRET_ENV, TOKEN_PROD,
		    "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)");

	/* half of a pair is a missing key, named */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	expect_error(cfg, EXIT_NOT_FOUND, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not", NULL);
	setenv("AWS_SECRET_ACCESS_KEY", "", 1); /* empty is unset */
	expect_error(cfg, EXIT_NOT_FOUND, "AWS_SECRET_ACCESS_KEY is not", NULL);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_ENV " trailing", 1);
	expect_error(cfg, EXIT_USAGE, "AWS_SECRET_ACCESS_KEY holds characters", NULL);
	config_free(cfg);
}

static void test_config_files_beat_everything(void **state)
{
	struct config *cfg = empty_config();
	char id[PATH_MAX + 32], secret[PATH_MAX + 32], token[PATH_MAX + 32], source[PATH_MAX + 64];

	(void)state;
	write_file(creds_path, CREDENTIALS, 0600);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_ENV, 1);
	snprintf(id, sizeof(id), "%s/id", tmpdir);
	snprintf(secret, sizeof(secret), "%s/secret", tmpdir);
	snprintf(token, sizeof(token), "%s/token", tmpdir);
	write_file(id, "AKIAFILEEXAMPLE\n", 0600);
	write_file(secret, SECRET_FILE "\n", 0400);
	write_file(token, "  " TOKEN_PROD "\r\n", 0600);
	set_key(cfg, "access_key_id_file", id);
	set_key(cfg, "secret_access_key_file", secret);
	snprintf(source, sizeof(source), "[repository] access_key_id_file %s", id);
	expect_keys(cfg, "AKIAFILEEXAMPLE", SECRET_FILE, NULL, source);
	set_key(cfg, "session_token_file", token);
	expect_keys(cfg, "AKIAFILEEXAMPLE", SECRET_FILE, TOKEN_PROD, source);

	/* a Secret mount readable by others is refused, naming the key and file */
	write_file(secret, SECRET_FILE "\n", 0644);
	expect_error(cfg, EXIT_USAGE, "[repository] secret_access_key_file", "chmod 600");
	write_file(secret, "\n", 0600);
	expect_error(cfg, EXIT_USAGE, "is empty", NULL);
	write_file(secret, "two words\n", 0600);
	expect_error(cfg, EXIT_USAGE, "holds characters", NULL);
	unlink(secret);
	expect_error(cfg, EXIT_NOT_FOUND, secret, NULL);

	/* one of the pair alone is a missing key, not a fall back to the environment */
	set_key(cfg, "secret_access_key_file", NULL);
	expect_error(cfg, EXIT_NOT_FOUND, "[repository] access_key_id_file is set but secret_access_key_file is not",
		     "secret_access_key_file");
	config_free(cfg);
}

static void test_drctl_variables_name_the_files_too(void **state)
{
	char id[PATH_MAX + 32], secret[PATH_MAX + 32];
	struct config *cfg;

	(void)state;
	snprintf(id, sizeof(id), "%s/id", tmpdir);
	snprintf(secret, sizeof(secret), "%s/secret", tmpdir);
	write_file(id, "AKIAFILEEXAMPLE", 0600);
	write_file(secret, SECRET_FILE, 0600);
	setenv("DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE", id, 1);
	setenv("DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE", secret, 1);
	cfg = empty_config();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_ENV, 1);
	{
		char source[PATH_MAX + 64];

		snprintf(source, sizeof(source), "[repository] access_key_id_file %s", id);
		expect_keys(cfg, "AKIAFILEEXAMPLE", SECRET_FILE, NULL, source);
	}
	config_free(cfg);
}

static void expect_region(struct config *cfg, const char *value, const char *source)
{
	struct aws_setting s;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(aws_region_resolve(cfg, &s, &err), 0);
	assert_string_equal(s.value, value);
	assert_string_equal(s.source, source);
}

static void test_region_precedence(void **state)
{
	struct config *cfg = empty_config();
	struct aws_setting s;
	struct drctl_error err;
	char source[PATH_MAX + 64], other[PATH_MAX + 32];

	(void)state;
	expect_region(cfg, "us-east-1", "default (no region configured)");
	write_file(config_path,
		   "[default]\n"
		   "s3 =\n"
		   "  region = nested-not-this\n"
		   "region = eu-central-1\n"
		   "[prod]\n"
		   "region = not-a-config-profile\n"
		   "[profile prod]\n"
		   "region = ap-south-1\n",
		   0644); /* the config file holds no secret: any mode */
	snprintf(source, sizeof(source), "%s [default]", config_path);
	expect_region(cfg, "eu-central-1", source);
	setenv("AWS_PROFILE", "prod", 1);
	snprintf(source, sizeof(source), "%s [profile prod]", config_path);
	expect_region(cfg, "ap-south-1", source);
	setenv("AWS_PROFILE", "nope", 1);
	expect_region(cfg, "us-east-1", "default (no region configured)");
	snprintf(other, sizeof(other), "%s/cfg", tmpdir);
	write_file(other, "[profile nope]\nregion=sa-east-1\n", 0600);
	setenv("AWS_CONFIG_FILE", other, 1);
	snprintf(source, sizeof(source), "%s [profile nope]", other);
	expect_region(cfg, "sa-east-1", source);

	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	expect_region(cfg, "us-west-1", "AWS_DEFAULT_REGION");
	setenv("AWS_REGION", "us-west-2", 1);
	expect_region(cfg, "us-west-2", "AWS_REGION");
	set_key(cfg, "region", "eu-west-1");
	expect_region(cfg, "eu-west-1", "[repository] region");

	set_key(cfg, "region", "eu west/1");
	err_clear(&err);
	assert_int_equal(aws_region_resolve(cfg, &s, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "from [repository] region"));
	/* a named config file that is not there is an error, naming it */
	set_key(cfg, "region", NULL);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	unlink(other);
	err_clear(&err);
	assert_int_equal(aws_region_resolve(cfg, &s, &err), -1);
	assert_int_equal(err.code, EXIT_NOT_FOUND);
	assert_non_null(strstr(err.message, other));
	assert_non_null(strstr(err.hint, "AWS_CONFIG_FILE"));
	config_free(cfg);
}

static void expect_endpoint(struct config *cfg, const char *value, const char *source)
{
	struct aws_setting s;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(aws_endpoint_resolve(cfg, &s, &err), 0);
	assert_string_equal(s.value, value);
	assert_string_equal(s.source, source);
}

static void test_endpoint_precedence(void **state)
{
	struct config *cfg = empty_config();
	struct aws_setting s;
	struct drctl_error err;

	(void)state;
	expect_endpoint(cfg, "", "");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
	expect_endpoint(cfg, "http://127.0.0.1:9000", "AWS_ENDPOINT_URL");
	setenv("AWS_ENDPOINT_URL_S3", "https://minio.example:9000", 1);
	expect_endpoint(cfg, "https://minio.example:9000", "AWS_ENDPOINT_URL_S3");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	expect_endpoint(cfg, "", "");
	set_key(cfg, "endpoint", "https://storage.googleapis.com");
	expect_endpoint(cfg, "https://storage.googleapis.com", "[repository] endpoint");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	expect_endpoint(cfg, "https://storage.googleapis.com", "[repository] endpoint");

	set_key(cfg, "endpoint", "minio.example:9000");
	err_clear(&err);
	assert_int_equal(aws_endpoint_resolve(cfg, &s, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "(from [repository] endpoint) is not an http:// or https:// URL"));
	set_key(cfg, "endpoint", NULL);
	setenv("AWS_ENDPOINT_URL_S3", "https://", 1);
	err_clear(&err);
	assert_int_equal(aws_endpoint_resolve(cfg, &s, &err), -1);
	assert_non_null(strstr(err.message, "AWS_ENDPOINT_URL_S3"));
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nothing_given_is_not_found_with_every_way_in_the_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_default_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_profile_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_named_by_its_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file_readable_by_others_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_beats_the_shared_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_files_beat_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drctl_variables_name_the_files_too, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endpoint_precedence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
