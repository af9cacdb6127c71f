/*
 * drctl list         backup sets, newest first, with their state
 * drctl show ID|latest   one set's manifest
 */
#include <stdio.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"
#include "verify/verify.h"

static const struct cli_command_line list_command_line = {
	.usage = "drctl list",
	.summary = "Backup sets, newest first: complete, incomplete or invalid, and when each was last verified.",
	.max_args = 0,
	.args_message = "list takes no arguments",
};

static const struct cli_command_line show_command_line = {
	.usage = "drctl show ID|latest",
	.summary = "A backup set's signed manifest, readable (or as JSON with --json).",
	.min_args = 1,
	.max_args = 1,
	.args_message = "show takes one backup set: an id from `drctl list`, or latest",
};

static int open_repo(struct cli *cli, struct config **cfg, struct repo **repo, struct minisign_public_key *pk)
{
	if (cli_config(cli, cfg) != 0 || keys_load_public(*cfg, pk, &cli->err) != 0 ||
	    repo_open(repo, *cfg, &cli->err) != 0)
		return -1;
	return 0;
}

static const char *components_of(json_t *manifest, char *out, size_t cap)
{
	const char *name;
	json_t *c;
	size_t len = 0;
	out[0] = '\0';
	json_object_foreach(json_object_get(manifest, "components"), name, c)
		len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", name);
	return out;
}

static json_int_t total_size(json_t *manifest)
{
	const char *name;
	json_t *c;
	json_int_t sum = 0;
	json_object_foreach(json_object_get(manifest, "components"), name, c)
		sum += json_integer_value(json_object_get(c, "object_size"));
	return sum;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct config *cfg;
	struct repo *repo = NULL;
	struct minisign_public_key pk;
	struct backup_set_info *sets = NULL;
	size_t n = 0;
	json_t *doc = json_array();

	const char *positional[1];
	size_t n_positional;
	int rc = cli_parse(cli, argc, argv, &list_command_line, positional, &n_positional);

	if (rc != 0) {
		json_decref(doc);
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (open_repo(cli, &cfg, &repo, &pk) != 0 || backup_set_list(repo, &pk, &sets, &n, &cli->err) != 0)
		goto done;
	if (!cli->g.json)
		printf("%-24s %-11s %-10s %12s  %s\n", "ID", "STATE", "VERIFIED", "SIZE", "COMPONENTS");
	for (size_t i = 0; i < n; i++) {
		char comps[256] = "", when[40] = "";
		const char *verified = sets[i].state == SET_COMPLETE ? verify_recorded(cfg, sets[i].id, when, sizeof(when)) : NULL;
		json_t *row = json_pack("{s:s, s:s}", "id", sets[i].id, "state", backup_set_state_name(sets[i].state));
		if (sets[i].manifest) {
			components_of(sets[i].manifest, comps, sizeof(comps));
			json_object_set_new(row, "components", json_string(comps));
			json_object_set_new(row, "size", json_integer(total_size(sets[i].manifest)));
			json_object_set(row, "finished", json_object_get(sets[i].manifest, "finished"));
			if (json_object_get(sets[i].manifest, "tag"))
				json_object_set(row, "tag", json_object_get(sets[i].manifest, "tag"));
		} else {
			json_object_set_new(row, "reason", json_string(sets[i].reason));
		}
		if (verified)
			json_object_set_new(row, "verified", json_pack("{s:s, s:s}", "kind", verified, "at", when));
		json_array_append_new(doc, row);
		if (!cli->g.json)
			printf("%-24s %-11s %-10s %12lld  %s\n", sets[i].id, backup_set_state_name(sets[i].state),
			       verified ? verified : "-", (long long)(sets[i].manifest ? total_size(sets[i].manifest) : 0),
			       sets[i].manifest ? comps : sets[i].reason);
	}
	if (cli->g.json)
		cli_print_json(doc);
done:
	json_decref(doc);
	backup_set_list_free(sets, n);
	repo_close(repo);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}

int cmd_show(struct cli *cli, int argc, char **argv)
{
	struct config *cfg;
	struct repo *repo = NULL;
	struct minisign_public_key pk;
	char id[BACKUP_SET_ID_MAX];
	json_t *m = NULL;

	const char *ref[1];
	size_t n_ref;
	int rc = cli_parse(cli, argc, argv, &show_command_line, ref, &n_ref);

	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (open_repo(cli, &cfg, &repo, &pk) != 0 || backup_set_resolve(repo, &pk, ref[0], id, &cli->err) != 0 ||
	    backup_set_load_manifest(repo, &pk, id, &m, &cli->err) != 0)
		goto done;
	if (cli->g.json) {
		cli_print_json(m);
	} else {
		const char *name;
		json_t *c, *enc = json_object_get(m, "encryption");
		printf("backup set   %s\n", id);
		printf("started      %s\n", json_string_value(json_object_get(m, "started")));
		printf("finished     %s\n", json_string_value(json_object_get(m, "finished")));
		printf("host         %s\n", json_string_value(json_object_get(m, "host")));
		if (json_object_get(m, "tag"))
			printf("tag          %s\n", json_string_value(json_object_get(m, "tag")));
		printf("signed by    key %s\n", json_string_value(json_object_get(m, "signing_key_id")));
		printf("encryption   %s\n", json_string_value(json_object_get(enc, "format")));
		{
			/* The age recipients: which identity opens the set. */
			size_t i;
			json_t *r;
			json_array_foreach(json_object_get(enc, "recipients"), i, r)
				printf("recipient    %s\n", json_string_value(r));
		}
		json_object_foreach(json_object_get(m, "components"), name, c) {
			size_t i;
			json_t *mem;
			printf("\n%s: %s, %lld bytes, sha256 %s\n", name, json_string_value(json_object_get(c, "object")),
			       (long long)json_integer_value(json_object_get(c, "object_size")),
			       json_string_value(json_object_get(c, "object_sha256")));
			json_array_foreach(json_object_get(c, "members"), i, mem)
				printf("  %12lld  %s\n", (long long)json_integer_value(json_object_get(mem, "size")),
				       json_string_value(json_object_get(mem, "name")));
		}
	}
done:
	json_decref(m);
	repo_close(repo);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
