/*
 * drctl export-signing-key --out FILE [--vault-transit KEY]
 *
 * Writes the minisign public key that verifies this installation's backup
 * sets: the Vault transit key's ([signing] vault_transit_key, or
 * --vault-transit) or, without one, the local signing key's.  That file is
 * what `drctl verify` ([signing] public_key_file) and `minisign -V -p FILE`
 * need; keep a copy off the platform.  An existing file is never
 * overwritten.
 */
#include <stddef.h>
#include <stdio.h>

#include "drctl/cli.h"
#include "lib/clients/vault.h"
#include "lib/crypto/minisign.h"
#include "lib/set/keys.h"

struct export_key_args {
	const char *out;
	const char *vault_transit;
};

static const struct opt_spec export_key_options[] = {
	{ "out", 'o', OPT_STRING, offsetof(struct export_key_args, out), "FILE", "where to write the public key" },
	{ "vault-transit", 't', OPT_STRING, offsetof(struct export_key_args, vault_transit), "KEY",
	  "the Vault transit key that signs (default: [signing] vault_transit_key, else the local signing key)" },
	{ 0 },
};

static const struct cli_command_line export_key_command_line = {
	.usage = "drctl export-signing-key --out FILE [--vault-transit KEY]",
	.summary = "Write the minisign public key that verifies the backup sets (`minisign -V -p FILE`).",
	.options = export_key_options,
	.max_args = 0,
	.args_message = "export-signing-key takes no arguments",
};

int cmd_export_signing_key(struct cli *cli, int argc, char **argv)
{
	struct export_key_args args = { 0 };
	struct cli_command_line cl = export_key_command_line;
	const char *out, *transit, *positional[1];
	size_t n_positional;
	struct config *cfg;
	char keyid[17];
	int c;

	cl.target = &args;
	if ((c = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return c > 0 ? EXIT_OK : EXIT_USAGE;
	out = args.out;
	transit = args.vault_transit;
	if (!out)
		return cli_usage(cli, export_key_command_line.usage, "export-signing-key needs --out FILE");
	if (cli_config(cli, &cfg) != 0)
		return cli->err.code;
	if (!transit)
		transit = config_get(cfg, "signing", "vault_transit_key");
	if (transit) {
		if (vault_transit_export_public_key(cfg, transit, out, &cli->err) != 0)
			return cli->err.code;
		printf("wrote the minisign public key of Vault transit key %s to %s\n", transit, out);
		return EXIT_OK;
	}
	{
		struct minisign_secret_key sk;
		struct minisign_public_key pk;
		struct minisign_signer signer;
		int rc = keys_load_signer(cfg, &sk, &signer, &cli->err);
		minisign_public_from_secret(&sk, &pk);
		minisign_secret_key_wipe(&sk);
		if (rc != 0 || minisign_write_public_key(out, &pk, &cli->err) != 0)
			return cli->err.code;
		minisign_keyid_hex(pk.keyid, keyid);
		printf("wrote the minisign public key %s (from [signing] secret_key_file) to %s\n", keyid, out);
	}
	return EXIT_OK;
}
