/*
 * config_repository: the named repositories of the configuration,
 * [repository.NAME] sections with the keys of [repository] (config.h).
 * The file's parser (config.c) hands each of their lines here; the keys
 * are checked against [repository]'s rows then, and stored into a
 * configuration of their own when a command chooses the repository
 * (config_for_repository).
 */
#include "lib/core/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/config_private.h"

int config_repo_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CONFIG_REPO_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != n)
		return 0;
	return strcmp(name, "default") != 0; /* that is [repository] itself */
}

/* key = value under [repository.NAME]: a [repository] key, checked now. */
int config_parse_named(struct config *cfg, const char *section, const char *key, char *value, int lineno,
		       const char *origin, struct drctl_error *err)
{
	const char *name = section + 11, *problem;
	int idx = config_key_index("repository", key);
	struct config_named *grown;

	if (idx < 0)
		return config_unknown(origin, cfg->file, "repository", key, err);
	if (*value == '"' && (problem = config_unquote(value)))
		return err_set(err, EXIT_USAGE, cfg->file, "close the quote with \", and write \\\" for a quote inside",
			       "%s%s of \"%s\" in [%s]", origin, problem, key, section);
	for (size_t i = 0; i < cfg->n_named; i++)
		if (!strcmp(cfg->named[i].name, name) && cfg->named[i].idx == (size_t)idx)
			return err_set(err, EXIT_USAGE, cfg->file, "keep one of the two lines",
				       "%sduplicate key \"%s\" in [%s] (first set on line %d)", origin, key, section,
				       cfg->named[i].line);
	if (config_check_value(&config_keys[idx], value, origin, cfg->file, err) != 0)
		return -1;
	if (!(grown = realloc(cfg->named, (cfg->n_named + 1) * sizeof(*grown))))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading [%s]", section);
	cfg->named = grown;
	grown += cfg->n_named;
	memset(grown, 0, sizeof(*grown));
	snprintf(grown->name, sizeof(grown->name), "%s", name);
	grown->idx = (size_t)idx;
	grown->line = lineno;
	if (!(grown->raw = strdup(value)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading [%s]", section);
	cfg->n_named++;
	return 0;
}

/* --- named repositories ------------------------------------------------------------------ */

static int config_has_repository(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_named; i++)
		if (!strcmp(cfg->named[i].name, name))
			return 1;
	return 0;
}

/* "default, offsite, ..." for hints. */
static void config_repository_names(const struct config *cfg, char *out, size_t cap)
{
	size_t used = (size_t)snprintf(out, cap, "default");

	for (size_t i = 0; i < cfg->n_named && used < cap; i++) {
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(cfg->named[j].name, cfg->named[i].name);
		if (!seen)
			used += (size_t)snprintf(out + used, cap - used, ", %s", cfg->named[i].name);
	}
}

int config_for_repository(const struct config *cfg, const char *name, struct config **out, struct drctl_error *err)
{
	int is_default = !name || !strcmp(name, "default");
	struct config *c;
	char origin[PATH_MAX + 32], names[512];

	*out = NULL;
	if (!is_default && !config_has_repository(cfg, name)) {
		config_repository_names(cfg, names, sizeof(names));
		err_set(err, EXIT_USAGE, name, NULL, "%s has no repository \"%.100s\" (no [repository.%.100s] section)",
			cfg->file[0] ? cfg->file : "the configuration", name, name);
		err_hint(err, "the repositories there: %s; add a [repository.%.100s] section with the keys of [repository]",
			 names, name);
		return -1;
	}
	if (!(c = config_alloc(err)))
		return -1;
	memcpy(c->file, cfg->file, sizeof(c->file));
	memcpy(c->dir, cfg->dir, sizeof(c->dir));
	/* Every value again through config_store, which resolves paths against
	 * the same folders: a faithful copy. */
	for (size_t i = 0; i < config_key_count; i++) {
		int named_repo = !is_default && !strcmp(config_keys[i].section, "repository");
		for (int l = LAYER_FILE; l < LAYER_COUNT; l++) {
			const struct config_value *v = &cfg->values[i][l];
			/* A named repository is its section alone: neither [repository]
			 * nor DRCTL_REPOSITORY_* nor a flag reaches into it. */
			if (!v->raw || named_repo)
				continue;
			if (config_store(c, i, (enum config_layer)l, v->raw, v->line, "", cfg->file, err) != 0)
				goto fail;
		}
	}
	for (size_t i = 0; !is_default && i < cfg->n_named; i++) {
		const struct config_named *n = &cfg->named[i];
		if (strcmp(n->name, name) != 0)
			continue;
		snprintf(origin, sizeof(origin), "%s:%d: ", cfg->file, n->line);
		if (config_store(c, n->idx, LAYER_FILE, n->raw, n->line, origin, cfg->file, err) != 0)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	config_free(c);
	return -1;
}
