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
#include <getopt.h>
#include <stdio.h>

#include "drctl/cli.h"
#include "lib/clients/vault.h"
#include "lib/crypto/minisign.h"
#include "lib/set/keys.h"

static const char USAGE[] = "drctl export-signing-key --out FILE [--vault-transit KEY]";

int cmd_export_signing_key(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "vault-transit", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *transit = NULL;
	struct config *cfg;
	char keyid[17];
	int c;

	while ((c = getopt_long(argc, argv, "o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 't': transit = optarg; break;
		case 'h': printf("usage: %s\n", USAGE); return EXIT_OK;
		default: return cli_usage(cli, USAGE, "bad option for export-signing-key");
		}
	}
	if (!out || optind < argc)
		return cli_usage(cli, USAGE, "export-signing-key needs --out FILE");
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
