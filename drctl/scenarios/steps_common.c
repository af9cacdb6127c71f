/*
 * steps_common: the pieces several scenarios' steps share (steps_common.h).
 */
#include "drctl/scenarios/steps_common.h"

#include <pthread.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/pg.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/set/set_reader.h"
#include "lib/storage/repo.h"

void *steps_context_new(struct run *r, size_t size, struct drctl_error *err)
{
	void *c = calloc(1, size);

	if (!c) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	run_set_context(r, c);
	return c;
}

int steps_open(struct run *r, struct drctl_error *err)
{
	return steps_context_new(r, sizeof(struct steps_context), err) ? 0 : -1;
}

void steps_close(struct run *r)
{
	struct steps_context *c = steps_of(r);

	json_decref(c->manifest);
	agents_close(c->agents);
	PQfinish(c->control);
	free(c);
	run_set_context(r, NULL);
}

struct steps_context *steps_of(struct run *r)
{
	return run_context(r);
}

/* --- the backup set ---------------------------------------------------------- */

int steps_record_backup_id(struct run *r, struct drctl_error *err)
{
	struct set_reader set;
	int rc;

	if (run_fact(r, "backup_id"))
		return 0;
	if (set_reader_open(&set, run_config(r), run_option(r, "backup") ?: "latest", err) != 0)
		return -1;
	rc = run_set_fact(r, "backup_id", json_string(set.id), err);
	set_reader_close(&set);
	return rc;
}

int steps_check_identities(struct run *r, struct drctl_error *err)
{
	struct set_reader set;
	int rc;

	if (set_reader_open(&set, run_config(r), run_fact_string(r, "backup_id"), err) != 0)
		return -1;
	rc = set_reader_load_identities(&set, err);
	set_reader_close(&set);
	return rc;
}

json_t *steps_manifest(struct run *r, json_t **cache, struct drctl_error *err)
{
	/* Steps that run together (STEP_TOGETHER) may both ask first. */
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	struct minisign_public_key pk;
	struct repo *repo = NULL;
	char id[BACKUP_SET_ID_MAX];
	const char *want = run_fact_string(r, "backup_id");
	json_t *m;

	pthread_mutex_lock(&once);
	if ((m = *cache)) {
		pthread_mutex_unlock(&once);
		return m;
	}
	if (keys_load_public(run_config(r), &pk, err) == 0 && repo_open(&repo, run_config(r), err) == 0) {
		if (!want && backup_set_resolve(repo, &pk, run_option(r, "backup") ?: "latest", id, err) == 0)
			want = id;
		if (want)
			backup_set_load_manifest(repo, &pk, want, cache, err);
	}
	repo_close(repo);
	m = *cache;
	pthread_mutex_unlock(&once);
	return m;
}

/* --- the agents -------------------------------------------------------------- */

struct agents *steps_agents(struct run *r, struct agents **slot, struct drctl_error *err)
{
	if (!*slot && agents_open(slot, run_config(r), err) != 0)
		return NULL;
	return *slot;
}

int steps_plan_agents(struct agents *a, json_t *touches, const char *before, const char *after,
		      struct drctl_error *err)
{
	json_t *list, *ag;
	size_t i;

	if (agents_list(a, &list, err) != 0)
		return -1;
	json_array_foreach(list, i, ag) {
		char name[256];
		agents_name(ag, name, sizeof(name));
		json_array_append_new(touches, json_sprintf("%s: %s%lld%s", name, before,
							   (long long)json_integer_value(json_object_get(ag, "replicas")), after));
	}
	if (json_array_size(list) == 0)
		json_array_append_new(touches, json_sprintf("no agent workload found (%s)", a->description));
	json_decref(list);
	return 0;
}

json_t *steps_agents_at_zero(json_t *list)
{
	json_t *out = json_array(), *one;
	size_t i;

	json_array_foreach(list, i, one) {
		json_t *t = json_deep_copy(one);
		json_object_set_new(t, "replicas", json_integer(0));
		json_array_append_new(out, t);
	}
	return out;
}

/* --- the end ----------------------------------------------------------------- */

int steps_health(struct run *r, const struct health_options *o, struct drctl_error *err)
{
	json_t *results = NULL, *one;
	size_t i;
	int rc = health_check_all(run_config(r), o, &results, err);

	json_array_foreach(results, i, one)
		run_note(r, "health %s %s: %s (%s)", json_string_value(json_object_get(one, "check")),
			 json_string_value(json_object_get(one, "target")),
			 json_is_true(json_object_get(one, "ok")) ? "ok" : "FAILED",
			 json_string_value(json_object_get(one, "detail")));
	json_decref(results);
	return rc;
}

void steps_derived_name(struct run *r, const char *db, const char *what, char *out, size_t cap)
{
	char stamp[32];
	size_t room;

	/* the run id starts with its UTC time: 20261201T031500Z */
	snprintf(stamp, sizeof(stamp), "%.16s", run_id(r));
	for (char *p = stamp; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	room = PG_NAME_MAX - strlen(what) - strlen(stamp) - 2;
	snprintf(out, cap, "%.*s_%s_%s", (int)room, db, what, stamp);
}
