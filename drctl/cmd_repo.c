/*
 * drctl repo copy --from NAME --to NAME ID|latest|--all
 *
 * Copies complete backup sets between the repositories the configuration
 * names: "default" is [repository], any other NAME a [repository.NAME]
 * section with the same keys (a local folder and an S3 bucket, two buckets,
 * ...).  Each set is copied by lib/set/set_copy.h: signatures verified,
 * every object's SHA-256 checked against the set's signed SHA256SUMS while
 * it streams, the manifest published last, a set already complete on the
 * target skipped, nothing overwritten.  The target's writer lock is held
 * throughout, so a prune there cannot race the copy.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drctl/cli.h"
#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/set/set_copy.h"
#include "lib/storage/repo_lock.h"

#define USAGE "drctl repo copy --from NAME --to NAME ID|latest|--all"

struct repo_args {
	const char *from, *to;
	int all;
};

static const struct opt_spec repo_options[] = {
	{ "from", 0, OPT_STRING, offsetof(struct repo_args, from), "NAME",
	  "the repository to copy from: default ([repository]) or NAME of a [repository.NAME] section" },
	{ "to", 0, OPT_STRING, offsetof(struct repo_args, to), "NAME", "the repository to copy into (it must differ)" },
	{ "all", 0, OPT_FLAG, offsetof(struct repo_args, all), NULL, "every complete set of the source, oldest first" },
	{ 0 },
};

/* The two repositories, their configurations and what was done. */
struct repo_copy {
	struct config *from_cfg, *to_cfg;
	struct repo *from, *to;
	struct minisign_public_key pk;
	char (*ids)[BACKUP_SET_ID_MAX];
	size_t n_ids, n_copied, n_skipped;
	json_t *done; /* [{id, action, objects, bytes}] */
};

static int check_args(struct cli *cli, const struct repo_args *a, const char **args, size_t n)
{
	if (strcmp(args[0], "copy") != 0)
		return cli_usage(cli, USAGE, "unknown repo subcommand \"%s\" (there is: copy)", args[0]);
	if (!a->from || !a->to)
		return cli_usage(cli, USAGE, "repo copy needs --from NAME and --to NAME (default is [repository])");
	if (!strcmp(a->from, a->to))
		return cli_usage(cli, USAGE, "--from and --to name the same repository, %s", a->from);
	if ((n == 2) == !!a->all)
		return cli_usage(cli, USAGE, "repo copy takes one set (an id from `drctl list`, or latest) or --all");
	return 0;
}

static int open_named(const struct config *cfg, const char *name, enum repo_open_mode mode, struct config **out,
		      struct repo **repo, struct drctl_error *err)
{
	if (config_for_repository(cfg, name, out, err) != 0)
		return -1;
	if ((mode == REPO_CREATE ? repo_create(repo, *out, err) : repo_open(repo, *out, err)) != 0) {
		err_prefix(err, "repository %s", name);
		return -1;
	}
	return 0;
}

/* The ids to copy, oldest first: the one asked for, or every complete set. */
static int choose_sets(struct repo_copy *c, const char *ref, struct drctl_error *err)
{
	struct backup_set_info *sets = NULL;
	size_t n = 0;

	if (ref) {
		if (!(c->ids = calloc(1, sizeof(*c->ids))))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		c->n_ids = 1;
		return backup_set_resolve(c->from, &c->pk, ref, c->ids[0], err);
	}
	if (backup_set_list(c->from, &c->pk, &sets, &n, err) != 0)
		return -1;
	if (!(c->ids = calloc(n ? n : 1, sizeof(*c->ids)))) {
		backup_set_list_free(sets, n);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	for (size_t i = n; i-- > 0;)
		if (sets[i].state == SET_COMPLETE)
			memcpy(c->ids[c->n_ids++], sets[i].id, BACKUP_SET_ID_MAX);
		else
			log_info("not copying %s: %s", sets[i].id, backup_set_state_name(sets[i].state));
	backup_set_list_free(sets, n);
	return 0;
}

static int copy_sets(struct cli *cli, struct repo_copy *c)
{
	for (size_t i = 0; i < c->n_ids; i++) {
		struct set_copy_result r;
		if (set_copy(c->from, c->to, &c->pk, c->ids[i], &r, &cli->err) != 0)
			return -1;
		if (r.copied) {
			c->n_copied++;
			if (!cli->g.json)
				printf("copied %s (%zu objects, %llu bytes)\n", c->ids[i], r.objects, (unsigned long long)r.bytes);
		} else {
			c->n_skipped++;
			if (!cli->g.json)
				printf("skipped %s: complete in the target already\n", c->ids[i]);
		}
		fflush(stdout);
		json_array_append_new(c->done, json_pack("{s:s, s:s, s:I, s:I}", "id", c->ids[i], "action",
							 r.copied ? "copied" : "skipped", "objects", (json_int_t)r.objects,
							 "bytes", (json_int_t)r.bytes));
	}
	return 0;
}

static void print_summary(const struct cli *cli, const struct repo_copy *c, const struct repo_args *a)
{
	if (cli->g.json) {
		json_t *doc = json_pack("{s:s, s:s, s:O, s:I, s:I}", "from", a->from, "to", a->to, "sets", c->done,
					"copied", (json_int_t)c->n_copied, "skipped", (json_int_t)c->n_skipped);
		cli_print_json(doc);
		json_decref(doc);
		return;
	}
	printf("copied %zu set%s from %s to %s, skipped %zu already there\n", c->n_copied, c->n_copied == 1 ? "" : "s",
	       a->from, a->to, c->n_skipped);
}

int cmd_repo(struct cli *cli, int argc, char **argv)
{
	struct repo_args a = { 0 };
	struct cli_command_line cl = {
		.usage = USAGE,
		.summary = "Copy complete backup sets from one configured repository into another, verifying every object.",
		.options = repo_options,
		.target = &a,
		.min_args = 1,
		.max_args = 2,
		.args_message = "repo needs a subcommand: copy",
	};
	struct repo_copy c = { 0 };
	const struct repo_lock_request copy_lock = { .kind = REPO_LOCK_SHARED, .purpose = "drctl repo copy",
						     .command = "drctl repo copy" };
	struct repo_lock *from_lock = NULL, *to_lock = NULL;
	const char *args[2];
	struct config *cfg;
	size_t n;
	int rc;

	if ((rc = cli_parse(cli, argc, argv, &cl, args, &n)) != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (check_args(cli, &a, args, n) != 0)
		return EXIT_USAGE;
	if (cli_config(cli, &cfg) != 0 || keys_load_public(cfg, &c.pk, &cli->err) != 0 ||
	    open_named(cfg, a.from, REPO_OPEN_EXISTING, &c.from_cfg, &c.from, &cli->err) != 0 ||
	    open_named(cfg, a.to, REPO_CREATE, &c.to_cfg, &c.to, &cli->err) != 0)
		goto done;
	/* Shared on both sides: a prune of either waits, backups go on. */
	if (repo_lock_take(c.from_cfg, &copy_lock, &from_lock, &cli->err) != 0 ||
	    repo_lock_take(c.to_cfg, &copy_lock, &to_lock, &cli->err) != 0 ||
	    choose_sets(&c, n == 2 ? args[1] : NULL, &cli->err) != 0)
		goto done;
	if (!(c.done = json_array()) || copy_sets(cli, &c) != 0)
		goto done;
	print_summary(cli, &c, &a);
done:
	repo_lock_release(to_lock);
	repo_lock_release(from_lock);
	json_decref(c.done);
	free(c.ids);
	if (c.to)
		repo_close(c.to);
	if (c.from)
		repo_close(c.from);
	config_free(c.to_cfg);
	config_free(c.from_cfg);
	return err_is_set(&cli->err) ? cli->err.code : EXIT_OK;
}
