/*
 * drctl init [--repository PATH] [--state-dir DIR] [--force-config]
 *
 * Writes a commented configuration with every key, and generates next to it:
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

int cmd_init(struct cli *cli, int argc, char **argv)
{
	char config_path[PATH_MAX], dir[PATH_MAX - 64], tmp[PATH_MAX];
	char sk_path[PATH_MAX], pk_path[PATH_MAX], id_path[PATH_MAX], repo_path[PATH_MAX], state_path[PATH_MAX];
	char recipient[128], identity[128], keyid[17], created[64], *idfile = NULL, *text = NULL;
	const char *repo_arg, *state_arg, *positional[1];
	size_t n_positional;
	struct init_args args = { 0 };
	struct cli_command_line cl = init_command_line;
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct age_identity id;
	struct age_recipient rcp;
	struct repo *repo = NULL;
	struct stat st;
	int c, force_config, rc = EXIT_FAILED;
	time_t now = time(NULL);

	cl.target = &args;
	if ((c = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return c > 0 ? EXIT_OK : EXIT_USAGE;
	repo_arg = args.repository;
	state_arg = args.state_dir;
	force_config = args.force_config;

	/* Where everything goes. */
	cli_config_path(cli, tmp, sizeof(tmp));
	absolute(tmp, config_path, sizeof(config_path));
	snprintf(tmp, sizeof(tmp), "%s", config_path);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	/* The config's folder is made first so every path below is clean. */
	if (fs_mkdir_p(dir, 0700, NULL, &cli->err) != 0)
		return cli->err.code;
	absolute(config_path, tmp, sizeof(tmp));
	snprintf(config_path, sizeof(config_path), "%s", tmp);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(sk_path, sizeof(sk_path), "%s/signing.key", dir);
	snprintf(pk_path, sizeof(pk_path), "%s/signing.pub", dir);
	snprintf(id_path, sizeof(id_path), "%s/age-identity.txt", dir);
	if (repo_arg)
		absolute(repo_arg, repo_path, sizeof(repo_path));
	else
		snprintf(repo_path, sizeof(repo_path), "%s/repository", dir);
	if (state_arg)
		absolute(state_arg, state_path, sizeof(state_path));
	else
		snprintf(state_path, sizeof(state_path), "%s/state", dir);

	/* Refuse before creating anything. */
	if (!force_config && stat(config_path, &st) == 0) {
		err_set(&cli->err, EXIT_USAGE, config_path,
			"drctl is already set up here; edit the file, or add --force-config to rewrite it (keys are never overwritten)",
			"configuration %s already exists; nothing was changed", config_path);
		return EXIT_USAGE;
	}
	{
		const char *existing[] = { sk_path, pk_path, id_path };
		for (size_t i = 0; i < 3; i++)
			if (stat(existing[i], &st) == 0) {
				err_set(&cli->err, EXIT_USAGE, existing[i],
					"keys are never overwritten (old backups need them); move them away deliberately, or use another --config folder",
					"key file %s already exists; nothing was changed", existing[i]);
				return EXIT_USAGE;
			}
	}
	if (fs_mkdir_p(state_path, 0700, NULL, &cli->err) != 0)
		return cli->err.code;

	/* Keys. */
	if (minisign_keygen(&sk, &pk, &cli->err) != 0 || age_keygen(&id, &cli->err) != 0)
		goto done;
	age_identity_to_recipient(&id, &rcp);
	age_recipient_format(&rcp, recipient);
	age_identity_format(&id, identity);
	{
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (asprintf(&idfile, "# created: %s\n# public key: %s\n%s\n", created, recipient, identity) < 0) {
		idfile = NULL;
		err_set(&cli->err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (minisign_write_secret_key(sk_path, &sk, &cli->err) != 0 ||
	    minisign_write_public_key(pk_path, &pk, &cli->err) != 0 ||
	    keyfile_write_new(id_path, "age identity", 0600, idfile, strlen(idfile), &cli->err) != 0)
		goto done;

	/* Configuration and repository. */
	text = config_render_template(recipient, sk_path, pk_path, id_path, repo_path, state_path);
	if (!text) {
		err_set(&cli->err, EXIT_FAILED, NULL, NULL, "cannot render the configuration");
		goto done;
	}
	if (force_config)
		unlink(config_path);
	if (keyfile_write_new(config_path, "configuration", 0600, text, strlen(text), &cli->err) != 0)
		goto done;
	if (repo_local_open(&repo, repo_path, 1, &cli->err) != 0)
		goto done;

	minisign_keyid_hex(pk.keyid, keyid);
	if (cli->g.json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "config", config_path,
					"signing_secret_key", sk_path, "signing_public_key", pk_path,
					"signing_key_id", keyid, "age_identity", id_path, "age_recipient", recipient,
					"repository", repo_path, "state_dir", state_path);
		cli_print_json(doc);
		json_decref(doc);
	} else {
		printf("wrote %s\n", config_path);
		printf("signing key   %s (secret, mode 0600) and %s (public, key id %s)\n", sk_path, pk_path, keyid);
		printf("age identity  %s (secret, mode 0600); recipient %s\n", id_path, recipient);
		printf("repository    %s\n", repo_path);
		printf("\nKeep a copy of %s and %s somewhere safe off this platform:\n"
		       "restores need the identity, and `minisign -V` needs the public key.\n"
		       "Next: set [files] paths, [postgres], [redis] and [vault] in the config, then run `drctl --config %s backup`.\n",
		       id_path, pk_path, config_path);
	}
	rc = EXIT_OK;
done:
	minisign_secret_key_wipe(&sk);
	secure_wipe(&id, sizeof(id));
	secure_wipe(identity, sizeof(identity));
	if (idfile) {
		secure_wipe(idfile, strlen(idfile));
		free(idfile);
	}
	free(text);
	repo_close(repo);
	return rc == EXIT_OK ? EXIT_OK : cli->err.code;
}
