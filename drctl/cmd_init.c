/*
 * drctl init [--repository PATH] [--state-dir DIR] [--force-config]
 *
 * Writes a commented configuration with every key, creates the repository it
 * names (through the storage driver of [repository] type: a local folder,
 * or, with DRCTL_REPOSITORY_TYPE=s3 and the DRCTL_REPOSITORY_* keys of the
 * bucket, a check that the bucket is there, those keys written into the
 * configuration), and generates next
 * to the configuration:
 *   signing.key       minisign secret key (unencrypted, mode 0600)
 *   signing.pub       minisign public key
 *   age-identity.txt  age identity (mode 0600), whose recipient goes into
 *                     [encryption] recipients
 * Existing keys are never overwritten: losing a key loses every backup made
 * with it.  Keep copies of age-identity.txt and signing.pub off the platform
 * (the identity is what restores need; the backup job only needs the
 * recipient).
 */
#include <errno.h>
#include <stddef.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drctl/cli.h"
#include "lib/core/fsutil.h"
#include "lib/core/keyfile.h"
#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"
#include "lib/storage/repo.h"

struct init_args {
	const char *repository;
	const char *state_dir;
	int force_config;
};

static const struct opt_spec init_options[] = {
	{ "repository", 'r', OPT_STRING, offsetof(struct init_args, repository), "PATH",
	  "the local repository folder (default: repository/ next to the config)" },
	{ "state-dir", 's', OPT_STRING, offsetof(struct init_args, state_dir), "DIR",
	  "journals, locks and caches (default: state/ next to the config)" },
	{ "force-config", 'f', OPT_FLAG, offsetof(struct init_args, force_config), NULL,
	  "rewrite an existing config (keys are never overwritten)" },
	{ 0 },
};

static const struct cli_command_line init_command_line = {
	.usage = "drctl [--config FILE] init [--repository PATH] [--state-dir DIR] [--force-config]",
	.summary = "Write a commented configuration and generate the signing key and the age identity next to it.",
	.options = init_options,
	.max_args = 0,
	.args_message = "init takes no arguments",
};

/* An absolute, clean path for a file that may not exist yet: its folder is
 * resolved (when it exists) and the last component kept. */
static void absolute(const char *in, char *out, size_t cap)
{
	char cwd[PATH_MAX], joined[PATH_MAX], dir[PATH_MAX], resolved[PATH_MAX];
	char *slash;

	if (in[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		snprintf(joined, sizeof(joined), "%s", in);
	else if (snprintf(joined, sizeof(joined), "%s/%s", cwd, in) >= (int)sizeof(joined))
		joined[sizeof(joined) - 1] = '\0';
	snprintf(dir, sizeof(dir), "%s", joined);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (realpath(dir, resolved) &&
		    snprintf(out, cap, "%s/%s", resolved, slash + 1) < (int)cap)
			return;
	}
	snprintf(out, cap, "%s", joined);
}

/* Where everything goes: absolute, clean paths. */
struct init_paths {
	char config[PATH_MAX];
	char secret_key[PATH_MAX], public_key[PATH_MAX], identity[PATH_MAX];
	char repository[PATH_MAX]; /* the [repository] path value */
	char state[PATH_MAX];
};

/* What init generates; the secrets are wiped by init_keys_wipe. */
struct init_keys {
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct age_identity id;
	char recipient[128];
	char keyid[17];
};

/* An option's value made absolute, or name/ in the config's folder. */
static void init_place(const char *option, const char *dir, const char *name, char *out, size_t cap)
{
	if (option)
		absolute(option, out, cap);
	else
		snprintf(out, cap, "%s/%s", dir, name);
}

static int init_resolve_paths(const struct cli *cli, const struct init_args *args, struct init_paths *p,
			      struct drctl_error *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX - 64];

	cli_config_path(cli, tmp, sizeof(tmp));
	absolute(tmp, p->config, sizeof(p->config));
	snprintf(tmp, sizeof(tmp), "%s", p->config);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	/* The config's folder is made first so every path below is clean
	 * (its symbolic links resolved). */
	if (fs_mkdir_p(dir, 0700, NULL, err) != 0)
		return -1;
	absolute(p->config, tmp, sizeof(tmp));
	snprintf(p->config, sizeof(p->config), "%s", tmp);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(p->secret_key, sizeof(p->secret_key), "%s/signing.key", dir);
	snprintf(p->public_key, sizeof(p->public_key), "%s/signing.pub", dir);
	snprintf(p->identity, sizeof(p->identity), "%s/age-identity.txt", dir);
	init_place(args->repository, dir, "repository", p->repository, sizeof(p->repository));
	init_place(args->state_dir, dir, "state", p->state, sizeof(p->state));
	return 0;
}

/* The repository's configuration: the one init writes, as far as the
 * repository is concerned: [repository] path for a local one; for another
 * type (DRCTL_REPOSITORY_TYPE=s3) its keys as the environment gives them
 * (DRCTL_REPOSITORY_BUCKET, ..._ENDPOINT, ...), and --repository, a folder,
 * has no place. */
static struct config *init_repository_config(const struct init_paths *p, const struct init_args *args,
					     struct drctl_error *err)
{
	struct config *cfg = config_new_empty();
	const char *type;

	if (!cfg) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	type = config_get(cfg, "repository", "type");
	if (type && strcmp(type, "local") != 0) {
		if (!args->repository)
			return cfg;
		err_set(err, EXIT_USAGE, "--repository", "leave out --repository; the bucket and prefix come from [repository] keys",
			"--repository names a local folder, but [repository] type is %s; nothing was changed", type);
	} else if (config_set(cfg, "repository", "path", p->repository, err) == 0) {
		return cfg;
	}
	config_free(cfg);
	return NULL;
}

/* The [repository] keys the configuration gets for a type other than
 * local: those the environment set, paths made absolute. */
static size_t init_repository_values(const struct config *repo_cfg, struct config_fill *out, size_t cap)
{
	static const char *const keys[] = {
		"type", "bucket", "prefix", "region", "endpoint", "force_path_style", "ca_file", "timeout_seconds",
		"access_key_id_file", "secret_access_key_file", "session_token_file", "storage_class", "part_size",
		"object_lock_days", "object_lock_mode",
	};
	const char *type = config_get(repo_cfg, "repository", "type");
	size_t n = 0;

	if (!type || !strcmp(type, "local"))
		return 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && n < cap; i++) {
		int path = strstr(keys[i], "_file") != NULL;
		if (!config_is_set(repo_cfg, "repository", keys[i]))
			continue;
		out[n++] = (struct config_fill){ "repository", keys[i],
						  path ? config_get_path(repo_cfg, "repository", keys[i])
						       : config_get(repo_cfg, "repository", keys[i]) };
	}
	return n;
}

/* Refuse before creating anything: an existing config (without
 * --force-config), any existing key, a repository type without a driver. */
static int init_refuse(const struct init_paths *p, const struct config *repo_cfg, int force_config,
		       struct drctl_error *err)
{
	const char *keys[] = { p->secret_key, p->public_key, p->identity };
	struct stat st;

	if (!force_config && stat(p->config, &st) == 0)
		return err_set(err, EXIT_USAGE, p->config,
			       "drctl is already set up here; edit the file, or add --force-config to rewrite it (keys are never overwritten)",
			       "configuration %s already exists; nothing was changed", p->config);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (stat(keys[i], &st) == 0)
			return err_set(err, EXIT_USAGE, keys[i],
				       "keys are never overwritten (old backups need them); move them away deliberately, or use another --config folder",
				       "key file %s already exists; nothing was changed", keys[i]);
	return repo_driver_find(config_get(repo_cfg, "repository", "type"), err) ? 0 : -1;
}

/* The age identity file: its recipient in a comment, then the secret. */
static int init_write_identity(const struct init_paths *p, struct init_keys *k, struct drctl_error *err)
{
	char identity[128], created[64], *text = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	age_identity_format(&k->id, identity);
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (asprintf(&text, "# created: %s\n# public key: %s\n%s\n", created, k->recipient, identity) < 0) {
		secure_wipe(identity, sizeof(identity));
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	rc = keyfile_write_new(p->identity, "age identity", 0600, text, strlen(text), err);
	secure_wipe(identity, sizeof(identity));
	secure_wipe(text, strlen(text));
	free(text);
	return rc;
}

static int init_make_keys(const struct init_paths *p, struct init_keys *k, struct drctl_error *err)
{
	struct age_recipient rcp;

	if (minisign_keygen(&k->sk, &k->pk, err) != 0 || age_keygen(&k->id, err) != 0)
		return -1;
	age_identity_to_recipient(&k->id, &rcp);
	age_recipient_format(&rcp, k->recipient);
	minisign_keyid_hex(k->pk.keyid, k->keyid);
	if (minisign_write_secret_key(p->secret_key, &k->sk, err) != 0 ||
	    minisign_write_public_key(p->public_key, &k->pk, err) != 0)
		return -1;
	return init_write_identity(p, k, err);
}

static void init_keys_wipe(struct init_keys *k)
{
	minisign_secret_key_wipe(&k->sk);
	secure_wipe(&k->id, sizeof(k->id));
}

static int init_write_config(const struct init_paths *p, const struct init_keys *k, const struct config *repo_cfg,
			     int force_config, struct drctl_error *err)
{
	struct config_fill repo_values[16];
	size_t n = init_repository_values(repo_cfg, repo_values, sizeof(repo_values) / sizeof(repo_values[0]));
	char *text = config_render_template_with(k->recipient, p->secret_key, p->public_key, p->identity,
						 n ? NULL : p->repository, p->state, repo_values, n);
	int rc;

	if (!text)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot render the configuration");
	if (force_config)
		unlink(p->config);
	rc = keyfile_write_new(p->config, "configuration", 0600, text, strlen(text), err);
	free(text);
	return rc;
}

static int init_create_repository(const struct config *repo_cfg, char *where, size_t cap, struct drctl_error *err)
{
	const char *type = config_get(repo_cfg, "repository", "type");
	struct repo *repo;

	if (repo_create(&repo, repo_cfg, err) != 0)
		return -1;
	if (type && strcmp(type, "local") != 0)
		snprintf(where, cap, "%s", repo->description);
	repo_close(repo);
	return 0;
}

static void init_report(const struct cli *cli, const struct init_paths *p, const struct init_keys *k,
			const char *where)
{
	if (cli->g.json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "config", p->config,
					"signing_secret_key", p->secret_key, "signing_public_key", p->public_key,
					"signing_key_id", k->keyid, "age_identity", p->identity,
					"age_recipient", k->recipient, "repository", where[0] ? where : p->repository,
					"state_dir", p->state);
		cli_print_json(doc);
		json_decref(doc);
		return;
	}
	printf("wrote %s\n", p->config);
	printf("signing key   %s (secret, mode 0600) and %s (public, key id %s)\n", p->secret_key,
	       p->public_key, k->keyid);
	printf("age identity  %s (secret, mode 0600); recipient %s\n", p->identity, k->recipient);
	printf("repository    %s\n", where[0] ? where : p->repository);
	printf("\nKeep a copy of %s and %s somewhere safe off this platform:\n"
	       "restores need the identity, and `minisign -V` needs the public key.\n"
	       "Next: set [files] paths, [postgres], [redis] and [vault] in the config, then run `drctl --config %s backup`.\n",
	       p->identity, p->public_key, p->config);
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
	struct init_args args = { 0 };
	struct cli_command_line cl = init_command_line;
	const char *positional[1];
	size_t n_positional;
	struct init_paths paths;
	struct init_keys keys;
	struct config *repo_cfg = NULL;
	char where[512] = "";
	int parsed, rc = EXIT_FAILED;

	cl.target = &args;
	if ((parsed = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return parsed > 0 ? EXIT_OK : EXIT_USAGE;
	memset(&keys, 0, sizeof(keys));
	if (init_resolve_paths(cli, &args, &paths, &cli->err) != 0 ||
	    !(repo_cfg = init_repository_config(&paths, &args, &cli->err)) ||
	    init_refuse(&paths, repo_cfg, args.force_config, &cli->err) != 0 ||
	    fs_mkdir_p(paths.state, 0700, NULL, &cli->err) != 0 ||
	    init_make_keys(&paths, &keys, &cli->err) != 0 ||
	    init_write_config(&paths, &keys, repo_cfg, args.force_config, &cli->err) != 0 ||
	    init_create_repository(repo_cfg, where, sizeof(where), &cli->err) != 0)
		goto cleanup;
	init_report(cli, &paths, &keys, where);
	rc = EXIT_OK;
cleanup:
	init_keys_wipe(&keys);
	config_free(repo_cfg);
	return rc == EXIT_OK ? EXIT_OK : cli->err.code;
}
