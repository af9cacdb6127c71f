/*
 * drctl prune [--dry-run]
 *
 * For now: removes incomplete sets (the debris of interrupted backups).  It
 * takes the repository's writer lock, so it never removes the folder of a
 * backup that is still running.  Retention of complete sets (keep-last,
 * keep-daily...) comes with the schedules work.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"

static const char USAGE[] = "drctl prune [--dry-run]";

int cmd_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct config *cfg;
	struct repo *repo = NULL;
	struct minisign_public_key pk;
	struct backup_set_info *sets = NULL;
	size_t n = 0;
	json_t *doc = json_pack("{s:[], s:[]}", "removed", "kept");
	int c, dry_run = 0;

	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry_run = 1; break;
		case 'h': printf("usage: %s\n", USAGE); json_decref(doc); return EXIT_OK;
		default: json_decref(doc); return cli_usage(cli, USAGE, "bad option for prune");
		}
	}
	if (cli_config(cli, &cfg) != 0 || keys_load_public(cfg, &pk, &cli->err) != 0 ||
	    repo_open(&repo, cfg, &cli->err) != 0)
		goto done;
	if (repo_lock(repo, "drctl prune", &cli->err) != 0)
		goto done;
	if (backup_set_list(repo, &pk, &sets, &n, &cli->err) != 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		if (sets[i].state == SET_COMPLETE) {
			json_array_append_new(json_object_get(doc, "kept"), json_string(sets[i].id));
			continue;
		}
		/* Invalid sets (bad signature) are kept: they are evidence, and
		 * only a person should decide to delete them. */
		if (sets[i].state == SET_INVALID) {
			log_warn("keeping %s: %s (remove it by hand once investigated)", sets[i].id, sets[i].reason);
			json_array_append_new(json_object_get(doc, "kept"), json_string(sets[i].id));
			continue;
		}
		if (!cli->json)
			printf("%s %s (incomplete: %s)\n", dry_run ? "would remove" : "removing", sets[i].id, sets[i].reason);
		if (!dry_run && backup_set_remove(repo, sets[i].id, &cli->err) != 0)
			goto done;
		json_array_append_new(json_object_get(doc, "removed"),
				      json_pack("{s:s, s:s}", "id", sets[i].id, "reason", "incomplete"));
	}
	json_object_set_new(doc, "dry_run", json_boolean(dry_run));
	if (cli->json)
		cli_print_json(doc);
done:
	json_decref(doc);
	backup_set_list_free(sets, n);
	repo_close(repo);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
