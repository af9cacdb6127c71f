/*
 * registry: the table of everything drctl backs up.  Each row names one
 * component's functions (components/<name>/): whether it is configured,
 * capture, restore and deep check.  Adding a component is adding a folder
 * and a row here; the backup, restore and verify runners, the drill and the
 * scenarios find components only through this table.
 */
#include <stdio.h>
#include <string.h>

#include "components/component.h"
#include "components/files/files.h"
#include "components/postgres/postgres.h"
#include "components/redis/redis.h"
#include "components/vault/vault.h"

static const struct component files_component = {
	.name = "files",
	.summary = "configured paths: certificates, configuration",
	.configured = files_configured,
	.capture = files_capture,
	.restore = files_restore,
};

static const struct component postgres_component = {
	.name = "postgres",
	.summary = "PostgreSQL databases (pg_dump custom format) and cluster globals",
	.configured = postgres_configured,
	.capture = postgres_capture,
	.restore = postgres_restore,
	.restore_option_table = postgres_restore_option_table,
	.restore_options_size = sizeof(struct postgres_restore_options),
	.check_member = postgres_check_member,
	.check_finish = postgres_check_finish,
};

static const struct component vault_component = {
	.name = "vault",
	.summary = "HashiCorp Vault raft snapshot and KV v2 exports",
	.configured = vault_configured,
	.capture = vault_capture,
	.restore = vault_restore,
	.restore_option_table = vault_restore_option_table,
	.restore_options_size = sizeof(struct vault_restore_options),
	.check_member = vault_check_member,
	.check_finish = vault_check_finish,
};

static const struct component redis_component = {
	.name = "redis",
	.summary = "Redis RDB taken over the replication protocol",
	.configured = redis_configured,
	.capture = redis_capture,
	.restore = redis_restore,
	.restore_option_table = redis_restore_option_table,
	.restore_options_size = sizeof(struct redis_restore_options),
	.check_member = redis_check_member,
	.check_finish = redis_check_finish,
};

static const struct component *const all_components[] = {
	&files_component,
	&postgres_component,
	&vault_component,
	&redis_component,
};

const struct component *const *component_all(size_t *n)
{
	*n = sizeof(all_components) / sizeof(all_components[0]);
	return all_components;
}

const struct component *component_find(const char *name)
{
	size_t n;
	const struct component *const *all = component_all(&n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

const char *component_names(void)
{
	static char names[256];
	if (!names[0]) {
		size_t n, used = 0;
		const struct component *const *all = component_all(&n);
		for (size_t i = 0; i < n && used < sizeof(names); i++)
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
						 all[i]->name);
	}
	return names;
}
