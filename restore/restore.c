/*
 * restore: the generic part of every component's restore: open the set,
 * hand the component its object's members, and prove at the end that the
 * whole object was the one the signed manifest names.
 */
#include "restore/restore.h"

#include <stdio.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/set/set_reader.h"
#include "lib/storage/repo_lock.h"

int restore_run(const struct config *cfg, const char *component, const struct restore_options *opts,
		json_t *report, struct drctl_error *err)
{
	const struct component *c = component_find(component);
	struct set_reader set;
	struct object_read obj = { 0 };
	struct restore_ctx ctx;
	struct repo_lock *lock = NULL;
	char purpose[128];
	struct repo_lock_request shared = { .kind = REPO_LOCK_SHARED, .purpose = purpose, .command = purpose };
	int rc = -1;

	if (!c || !c->restore) {
		err_set(err, EXIT_USAGE, component, NULL, "\"%s\" is not a component drctl can restore", component);
		err_hint(err, "components are: %s", component_names());
		return -1;
	}
	/* Shared: no prune removes the set while it is read. */
	snprintf(purpose, sizeof(purpose), "drctl restore %s", component);
	memset(&set, 0, sizeof(set));
	if (repo_lock_take(cfg, &shared, &lock, err) != 0)
		goto done;
	if (set_reader_open(&set, cfg, opts->backup, err) != 0)
		goto done;
	if (set_reader_open_component(&set, component, &obj, err) != 0)
		goto done;
	json_object_set_new(report, "backup", json_string(set.id));
	json_object_set_new(report, "component", json_string(component));
	if (opts->target)
		json_object_set_new(report, "target", json_string(opts->target));
	log_info("restoring %s from backup set %s", component, set.id);
	ctx = (struct restore_ctx){ .cfg = cfg, .backup_id = set.id, .manifest = set.manifest,
				    .section = obj.section, .archive = obj.archive, .opts = opts,
				    .report = report };
	if (c->restore(&ctx, err) != 0)
		goto done;
	rc = set_reader_finish_component(&set, &obj, err);
done:
	set_reader_abandon_component(&obj);
	set_reader_close(&set);
	repo_lock_release(lock);
	if (rc != 0)
		err_prefix(err, "restore of %s", component);
	return rc;
}
