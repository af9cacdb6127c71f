/*
 * drctl prune [--dry-run]
 *
 * For now: removes incomplete sets (the debris of interrupted backups).  It
 * takes the repository's writer lock, so it never removes the folder of a
 * backup that is still running.  Retention of complete sets (keep-last,
 * keep-daily...) comes with the schedules work.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"

struct prune_args {
	int dry_run;
};

static const struct opt_spec prune_options[] = {
	{ "dry-run", 'n', OPT_FLAG, offsetof(struct prune_args, dry_run), NULL, "say what would be removed; remove nothing" },
	{ 0 },
};

static const struct cli_command_line prune_command_line = {
	.usage = "drctl prune [--dry-run]",
	.summary = "Remove incomplete backup sets (the debris of interrupted backups).",
	.options = prune_options,
	.max_args = 0,
	.args_message = "prune takes no arguments",
};

int cmd_prune(struct cli *cli, int argc, char **argv)
{
	struct prune_args args = { 0 };
	struct cli_command_line cl = prune_command_line;
	const char *positional[1];
	size_t n_positional;
	struct config *cfg;
	struct repo *repo = NULL;
	struct minisign_public_key pk;
	struct backup_set_info *sets = NULL;
	size_t n = 0;
	json_t *doc;
	int rc, dry_run;

	cl.target = &args;
	if ((rc = cli_parse(cli, argc, argv, &cl, positional, &n_positional)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	dry_run = args.dry_run;
	doc = json_pack("{s:[], s:[]}", "removed", "kept");
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
		if (!cli->g.json)
			printf("%s %s (incomplete: %s)\n", dry_run ? "would remove" : "removing", sets[i].id, sets[i].reason);
		if (!dry_run && backup_set_remove(repo, sets[i].id, &cli->err) != 0)
			goto done;
		json_array_append_new(json_object_get(doc, "removed"),
				      json_pack("{s:s, s:s}", "id", sets[i].id, "reason", "incomplete"));
	}
	json_object_set_new(doc, "dry_run", json_boolean(dry_run));
	if (cli->g.json)
		cli_print_json(doc);
done:
	json_decref(doc);
	backup_set_list_free(sets, n);
	repo_close(repo);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
