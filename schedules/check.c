/*
 * check: the newest complete set of each component, and its age (check.h).
 */
#include "schedules/check.h"

#include <stdio.h>
#include <string.h>

#include "components/component.h"
#include "lib/set/keys.h"
#include "lib/set/retention.h"
#include "lib/storage/repo.h"

static int check_add(struct check_result *res, const char *name, struct drctl_error *err)
{
	const struct component *c = component_find(name);

	if (!c) {
		err_set(err, EXIT_USAGE, name, NULL, "unknown component \"%s\"", name);
		err_hint(err, "components are: %s", component_names());
		return -1;
	}
	for (size_t i = 0; i < res->n; i++)
		if (!strcmp(res->components[i].name, c->name))
			return 0;
	if (res->n >= CHECK_COMPONENTS_MAX)
		return err_set(err, EXIT_USAGE, name, NULL, "at most %d components can be checked at once",
			       CHECK_COMPONENTS_MAX);
	res->components[res->n++].name = c->name;
	return 0;
}

/* The named components, else every configured one. */
static int check_plan(struct check_result *res, const struct config *cfg, const char *const *names, size_t n_names,
		      struct drctl_error *err)
{
	size_t n;
	const struct component *const *all;

	for (size_t i = 0; i < n_names; i++)
		if (check_add(res, names[i], err) != 0)
			return -1;
	if (n_names > 0)
		return 0;
	all = component_all(&n);
	for (size_t i = 0; i < n; i++)
		if (all[i]->configured && all[i]->configured(cfg) && check_add(res, all[i]->name, err) != 0)
			return -1;
	if (res->n == 0)
		return err_set(err, EXIT_USAGE, "configuration",
			       "configure at least one of [files] paths, [postgres], [redis], [vault], or name one with --component",
			       "nothing to check: no component is configured");
	return 0;
}

/* Sets come newest first: the first complete one holding the component. */
static void check_component(struct check_component *c, const struct check_result *res,
			    const struct backup_set_info *sets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		time_t t;
		if (sets[i].state != SET_COMPLETE ||
		    !json_object_get(json_object_get(sets[i].manifest, "components"), c->name) ||
		    retention_id_time(sets[i].id, &t) != 0)
			continue;
		c->found = 1;
		snprintf(c->set, sizeof(c->set), "%s", sets[i].id);
		c->age_seconds = t < res->now ? (long long)(res->now - t) : 0;
		c->fresh = c->age_seconds < res->max_age_seconds;
		return;
	}
}

int check_run(const struct config *cfg, const char *const *names, size_t n_names, const struct duration *max_age,
	      time_t now, struct check_result *res, struct drctl_error *err)
{
	struct minisign_public_key pk;
	struct repo *repo = NULL;
	struct backup_set_info *sets = NULL;
	size_t n = 0;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->now = now;
	res->max_age_seconds = (long long)(now - duration_before(now, max_age));
	if (check_plan(res, cfg, names, n_names, err) != 0 || keys_load_public(cfg, &pk, err) != 0 ||
	    repo_open(&repo, cfg, err) != 0 || backup_set_list(repo, &pk, &sets, &n, err) != 0)
		goto done;
	res->ok = 1;
	for (size_t i = 0; i < res->n; i++) {
		check_component(&res->components[i], res, sets, n);
		res->ok &= res->components[i].fresh;
	}
	rc = 0;
done:
	backup_set_list_free(sets, n);
	repo_close(repo);
	return rc;
}
