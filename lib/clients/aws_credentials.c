/*
 * aws_credentials: keys, region and endpoint of an S3 repository, from
 * drctl's files, the environment and the AWS CLI's files (see
 * aws_credentials.h for the order).
 *
 * The AWS CLI's files are INI as Python's configparser reads them: [section]
 * lines, "key = value" (or "key: value") with keys case-insensitive and
 * values trimmed, whole-line comments starting with '#' or ';', and indented
 * lines continuing the previous value (nested settings such as "s3 =" in the
 * config file), which drctl skips.  No inline comments.
 */
#include "lib/clients/aws_credentials.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/keyfile.h"

#define CRED_FILE_MAX (1u << 20)
#define CRED_VALUE_MAX (64u << 10)

static const char cred_hint[] =
	"give the keys as files of mode 0600 named by [repository] access_key_id_file and "
	"secret_access_key_file, as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or in the AWS "
	"shared credentials file (~/.aws/credentials or AWS_SHARED_CREDENTIALS_FILE) under "
	"[default] or the profile named by AWS_PROFILE (aws_access_key_id, aws_secret_access_key)";

/* An environment variable, NULL when unset or empty. */
static const char *cred_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *cred_home(void)
{
	const char *home = cred_env("HOME");
	struct passwd *pw;

	if (home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

/* $var, else ~/.aws/<name>; *explicit says which.  0, or -1 without a home. */
static int cred_aws_file(const char *var, const char *name, char *out, size_t cap, int *explicit)
{
	const char *v = cred_env(var), *home;

	*explicit = v != NULL;
	if (v) {
		snprintf(out, cap, "%s", v);
		return 0;
	}
	home = cred_home();
	if (!home)
		return -1;
	snprintf(out, cap, "%s/.aws/%s", home, name);
	return 0;
}

/* A key, secret or token travels in an HTTP header: printable ASCII, no spaces. */
static int cred_value_ok(const char *v)
{
	if (!*v)
		return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p >= 127)
			return 0;
	return 1;
}

static int cred_oom(struct drctl_error *err)
{
	return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading S3 credentials");
}

/* --- the AWS CLI's INI files ---------------------------------------------- */

/* Is [sec] the profile's section?  In the config file a profile other than
 * default is [profile NAME] (and [profile default] is accepted too). */
static int ini_section_is(const char *sec, size_t n, const char *profile, int config_file)
{
	size_t plen = strlen(profile);

	if (config_file && n > 7 && !strncmp(sec, "profile", 7) && isspace((unsigned char)sec[7])) {
		sec += 8;
		n -= 8;
		while (n && isspace((unsigned char)*sec)) {
			sec++;
			n--;
		}
		return n == plen && !strncmp(sec, profile, n);
	}
	if (config_file && strcmp(profile, "default"))
		return 0;
	return n == plen && !strncmp(sec, profile, n);
}

static void ini_trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* The first value of key in the profile's section: 1 (*value malloc'd, to
 * be wiped), 0 when absent, -1 when out of memory.  *has_section tells
 * whether the section is there at all. */
static int ini_lookup(const char *text, size_t len, const char *profile, int config_file, const char *key,
		      char **value, int *has_section)
{
	const char *p = text, *end = text + len;
	int in_section = 0;

	*value = NULL;
	*has_section = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *b = p, *e = nl ? nl : end, *sep;

		p = nl ? nl + 1 : end;
		if (b == e || isspace((unsigned char)*b))
			continue; /* blank, or an indented (nested) line */
		ini_trim(&b, &e);
		if (b == e || *b == '#' || *b == ';')
			continue;
		if (*b == '[') {
			const char *sb = b + 1, *se = e;

			if (se > sb && se[-1] == ']')
				se--;
			ini_trim(&sb, &se);
			in_section = ini_section_is(sb, (size_t)(se - sb), profile, config_file);
			*has_section |= in_section;
			continue;
		}
		if (!in_section)
			continue;
		for (sep = b; sep < e && *sep != '=' && *sep != ':'; sep++)
			;
		if (sep == e)
			continue;
		{
			const char *kb = b, *ke = sep, *vb = sep + 1, *ve = e;

			ini_trim(&kb, &ke);
			ini_trim(&vb, &ve);
			if ((size_t)(ke - kb) != strlen(key) || strncasecmp(kb, key, (size_t)(ke - kb)))
				continue;
			*value = strndup(vb, (size_t)(ve - vb));
			return *value ? 1 : -1;
		}
	}
	return 0;
}

static void cred_free_secret(char *s)
{
	if (s) {
		secure_wipe(s, strlen(s));
		free(s);
	}
}

/* --- 1. [repository] *_file ------------------------------------------------ */

/* One secret file: read (mode 0600 enforced), trimmed, checked. */
static int cred_read_file(const struct config *cfg, const char *key, char **out, struct drctl_error *err)
{
	const char *path = config_get_path(cfg, "repository", key);
	char what[96], *data = NULL, *b, *e;
	size_t len = 0;

	*out = NULL;
	snprintf(what, sizeof(what), "[repository] %s", key);
	if (keyfile_read(path, what, 1, CRED_VALUE_MAX, &data, &len, err) != 0)
		return -1;
	b = data;
	e = data + len;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	*e = '\0';
	if (memchr(data, '\0', (size_t)(e - data)) || !cred_value_ok(b)) {
		keyfile_free(data, len);
		return err_set(err, EXIT_USAGE, path, "write the value alone on one line",
			       "%s %s is empty or holds characters a key cannot have (spaces, control characters)",
			       what, path);
	}
	*out = strdup(b);
	keyfile_free(data, len);
	return *out ? 0 : cred_oom(err);
}

static int cred_from_config_files(const struct config *cfg, struct aws_credentials *out, struct drctl_error *err)
{
	const char *id = config_get_path(cfg, "repository", "access_key_id_file");
	const char *secret = config_get_path(cfg, "repository", "secret_access_key_file");
	const char *token = config_get_path(cfg, "repository", "session_token_file");

	if (!id && !secret && !token)
		return 0;
	if (!id || !secret)
		return err_set(err, EXIT_NOT_FOUND, NULL,
			       "set both [repository] access_key_id_file and secret_access_key_file (files of mode 0600)",
			       "[repository] %s is set but %s is not",
			       id ? "access_key_id_file" : secret ? "secret_access_key_file" : "session_token_file",
			       !id ? "access_key_id_file" : "secret_access_key_file");
	if (cred_read_file(cfg, "access_key_id_file", &out->access_key_id, err) != 0 ||
	    cred_read_file(cfg, "secret_access_key_file", &out->secret_access_key, err) != 0 ||
	    (token && cred_read_file(cfg, "session_token_file", &out->session_token, err) != 0))
		return -1;
	snprintf(out->source, sizeof(out->source), "[repository] access_key_id_file %s", id);
	return 1;
}

/* --- 2. environment ------------------------------------------------------- */

static int cred_from_env(struct aws_credentials *out, struct drctl_error *err)
{
	static const char *const vars[] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
	const char *id = cred_env(vars[0]), *secret = cred_env(vars[1]), *token = cred_env(vars[2]);
	const char *vals[] = { id, secret, token };

	if (!id && !secret)
		return 0;
	if (!id || !secret)
		return err_set(err, EXIT_NOT_FOUND, !id ? vars[0] : vars[1],
			       "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither",
			       "%s is set but %s is not", id ? vars[0] : vars[1], id ? vars[1] : vars[0]);
	for (int i = 0; i < 3; i++)
		if (vals[i] && !cred_value_ok(vals[i]))
			return err_set(err, EXIT_USAGE, vars[i], "set it to the value alone",
				       "%s holds characters a key cannot have (spaces, control characters)", vars[i]);
	out->access_key_id = strdup(id);
	out->secret_access_key = strdup(secret);
	out->session_token = token ? strdup(token) : NULL;
	if (!out->access_key_id || !out->secret_access_key || (token && !out->session_token))
		return cred_oom(err);
	snprintf(out->source, sizeof(out->source), "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY%s)",
		 token ? ", AWS_SESSION_TOKEN" : "");
	return 1;
}

/* --- 3. the shared credentials file --------------------------------------- */

/* Read an AWS CLI file: 1 read, 0 absent (and not named by its variable),
 * -1 error.  Secret files are held to mode 0600. */
static int cred_read_aws_file(const char *path, int explicit, const char *var, const char *what, int secret,
			      char **text, size_t *len, struct drctl_error *err)
{
	struct stat st;

	if (!explicit && stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (keyfile_read(path, what, secret, CRED_FILE_MAX, text, len, err) != 0) {
		if (err->code == EXIT_NOT_FOUND)
			err_hint(err, "create %s, or point %s at the file", path, var);
		return -1;
	}
	return 1;
}

static int cred_from_shared_file(struct aws_credentials *out, struct drctl_error *err)
{
	static const char *const keys[] = { "aws_access_key_id", "aws_secret_access_key", "aws_session_token" };
	const char *profile = cred_env("AWS_PROFILE") ? cred_env("AWS_PROFILE") : "default";
	char path[4096], *text = NULL, *vals[3] = { NULL, NULL, NULL };
	size_t len = 0;
	int explicit_file, has_section = 0, rc = -1, got;

	if (cred_aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof(path), &explicit_file) != 0)
		return 0;
	got = cred_read_aws_file(path, explicit_file, "AWS_SHARED_CREDENTIALS_FILE", "AWS shared credentials file",
				 1, &text, &len, err);
	if (got <= 0)
		return got;
	for (int i = 0; i < 3; i++)
		if (ini_lookup(text, len, profile, 0, keys[i], &vals[i], &has_section) < 0) {
			cred_oom(err);
			goto cleanup;
		}
	if (!has_section && !cred_env("AWS_PROFILE")) {
		rc = 0; /* no [default]: the caller says where credentials can be given */
		goto cleanup;
	}
	if (!has_section) {
		err_set(err, EXIT_NOT_FOUND, path, NULL, "profile %s (AWS_PROFILE) is not in %s", profile, path);
		err_hint(err, "add [%s] with aws_access_key_id and aws_secret_access_key to %s, or set AWS_PROFILE to a profile it has",
			 profile, path);
		goto cleanup;
	}
	for (int i = 0; i < 2; i++)
		if (!vals[i] || !*vals[i]) {
			err_set(err, EXIT_NOT_FOUND, path, NULL, "%s [%s] has no %s", path, profile, keys[i]);
			err_hint(err, "add %s = ... under [%s] in %s", keys[i], profile, path);
			goto cleanup;
		}
	for (int i = 0; i < 3; i++)
		if (vals[i] && !cred_value_ok(vals[i])) {
			err_set(err, EXIT_USAGE, path, "write the value alone after '='",
				"%s [%s] %s holds characters a key cannot have (spaces, control characters)",
				path, profile, keys[i]);
			goto cleanup;
		}
	out->access_key_id = vals[0];
	out->secret_access_key = vals[1];
	out->session_token = vals[2] && *vals[2] ? vals[2] : NULL;
	if (!out->session_token)
		cred_free_secret(vals[2]);
	vals[0] = vals[1] = vals[2] = NULL;
	snprintf(out->source, sizeof(out->source), "%s [%s]", path, profile);
	rc = 1;
cleanup:
	for (int i = 0; i < 3; i++)
		cred_free_secret(vals[i]);
	keyfile_free(text, len);
	return rc;
}

/* --- credentials ---------------------------------------------------------- */

int aws_credentials_load(const struct config *cfg, struct aws_credentials *out, struct drctl_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cred_from_config_files(cfg, out, err);
	if (rc == 0)
		rc = cred_from_env(out, err);
	if (rc == 0)
		rc = cred_from_shared_file(out, err);
	if (rc == 0)
		err_set(err, EXIT_NOT_FOUND, "[repository]", cred_hint, "no S3 credentials were given");
	if (rc <= 0) {
		aws_credentials_clear(out);
		return -1;
	}
	return 0;
}

void aws_credentials_clear(struct aws_credentials *cred)
{
	if (!cred)
		return;
	cred_free_secret(cred->access_key_id);
	cred_free_secret(cred->secret_access_key);
	cred_free_secret(cred->session_token);
	secure_wipe(cred, sizeof(*cred));
}

/* --- region and endpoint -------------------------------------------------- */

/* The profile's region in the AWS config file: 1 found, 0 not, -1 error. */
static int cred_region_from_config_file(struct aws_setting *out, struct drctl_error *err)
{
	const char *profile = cred_env("AWS_PROFILE") ? cred_env("AWS_PROFILE") : "default";
	char path[4096], *text = NULL, *value = NULL;
	size_t len = 0;
	int explicit_file, has_section, rc;

	if (cred_aws_file("AWS_CONFIG_FILE", "config", path, sizeof(path), &explicit_file) != 0)
		return 0;
	rc = cred_read_aws_file(path, explicit_file, "AWS_CONFIG_FILE", "AWS config file", 0, &text, &len, err);
	if (rc <= 0)
		return rc;
	rc = ini_lookup(text, len, profile, 1, "region", &value, &has_section);
	if (rc < 0)
		cred_oom(err);
	if (rc > 0 && *value) {
		snprintf(out->value, sizeof(out->value), "%s", value);
		snprintf(out->source, sizeof(out->source), "%s [%s%s]", path,
			 strcmp(profile, "default") ? "profile " : "", profile);
	} else if (rc > 0) {
		rc = 0;
	}
	free(value);
	keyfile_free(text, len);
	return rc;
}

static int cred_take(struct aws_setting *out, const char *value, const char *source)
{
	if (!value || !*value)
		return 0;
	snprintf(out->value, sizeof(out->value), "%s", value);
	snprintf(out->source, sizeof(out->source), "%s", source);
	return 1;
}

int aws_region_resolve(const struct config *cfg, struct aws_setting *out, struct drctl_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cred_take(out, config_get(cfg, "repository", "region"), "[repository] region");
	if (!rc)
		rc = cred_take(out, cred_env("AWS_REGION"), "AWS_REGION");
	if (!rc)
		rc = cred_take(out, cred_env("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION");
	if (!rc)
		rc = cred_region_from_config_file(out, err);
	if (rc < 0)
		return -1;
	if (!rc)
		cred_take(out, "us-east-1", "default (no region configured)");
	for (const char *p = out->value; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return err_set(err, EXIT_USAGE, out->source, "a region looks like eu-west-1",
				       "region \"%.64s\" (from %s) has characters a region cannot have", out->value, out->source);
	if (strlen(out->value) >= 64)
		return err_set(err, EXIT_USAGE, out->source, "a region looks like eu-west-1",
			       "the region from %s is too long", out->source);
	return 0;
}

static int cred_ignore_env_endpoints(void)
{
	const char *v = cred_env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	return v && !strcasecmp(v, "true");
}

int aws_endpoint_resolve(const struct config *cfg, struct aws_setting *out, struct drctl_error *err)
{
	const char *host;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cred_take(out, config_get(cfg, "repository", "endpoint"), "[repository] endpoint");
	if (!rc && !cred_ignore_env_endpoints())
		rc = cred_take(out, cred_env("AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3") ||
		     cred_take(out, cred_env("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL");
	if (!rc)
		return 0; /* AWS's own endpoint */
	n = strlen(out->value);
	while (n > 0 && out->value[n - 1] == '/')
		out->value[--n] = '\0';
	host = !strncasecmp(out->value, "https://", 8) ? out->value + 8
	     : !strncasecmp(out->value, "http://", 7) ? out->value + 7 : NULL;
	if (!host || !*host || *host == '/' || n >= sizeof(out->value) - 1)
		return err_set(err, EXIT_USAGE, out->source, "write it as https://host[:port]",
			       "S3 endpoint \"%.200s\" (from %s) is not an http:// or https:// URL with a host",
			       out->value, out->source);
	for (const unsigned char *p = (const unsigned char *)out->value; *p; p++)
		if (*p <= ' ' || *p >= 127)
			return err_set(err, EXIT_USAGE, out->source, "write it as https://host[:port]",
				       "S3 endpoint from %s has spaces or control characters", out->source);
	return 0;
}
